# SLO rules: `axon slo render` turns SLOs in the three SLI forms (errors
# and total, good and total, an error ratio) into a rule file that
# Debian's promtool 2.42 accepts (`check rules`) and evaluates as meant
# (`test rules`): a 5 % error rate against a 0.1 % budget pages and
# tickets, 5 % slow requests against a 1 % budget ticket only, a healthy
# service raises nothing, the budget series hold the right values.  Bad
# SLO files are refused with file:line and the reason.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool not installed (make deps)"
DIR=$TOP/tests/integration/ruler/slo
"$BIN/axon" slo render "$DIR/slos.yml" >"$TMP/rendered.yml" || fail "axon slo render failed"
out=$(promtool check rules "$TMP/rendered.yml" 2>&1) || fail "promtool rejects the rendered rules: $out"
echo "$out" | grep -q "SUCCESS: 38 rules found" || fail "unexpected rule count: $out"
out=$("$BIN/axon" check rules "$TMP/rendered.yml" 2>&1) || fail "axon check rules rejects them: $out"
pass "rendered SLO rules pass promtool check rules (38 rules: 3 SLOs)"

cp "$DIR/promtool-test.yml" "$TMP/"
out=$(cd "$TMP" && promtool test rules promtool-test.yml 2>&1) || { echo "$out"; fail "promtool test rules"; }
pass "promtool test rules: pages, tickets and budget series as the workbook says"

for f in bad-objective bad-sli bad-expr bad-field; do
	rc=0; out=$("$BIN/axon" slo render "$DIR/$f.yml" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "$f: exit $rc, want 1"
	echo "$out" | grep -q "$DIR/$f.yml:[0-9]*:[0-9]*: " || fail "$f: no file:line:col in: $out"
done
rc=0; "$BIN/axon" slo render >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "usage error: exit $rc, want 2"
pass "bad SLO files: exit 1 with file:line:col and the reason"

# the same SLOs evaluated live by axon-ruler (axon_ruler.slo_files)
tport=$(freeport); iport=$(freeport); qport=$(freeport); rport=$(freeport)
printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n  query_listen: tcp://127.0.0.1:%s\n' "$iport" "$qport" >"$TMP/tsdb.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
cp "$DIR/slos.yml" "$TMP/slos.yml"
cat >"$TMP/ruler.yml" <<EOC
global:
  evaluation_interval: 1s
axon_ruler:
  tsdb_query: tcp://127.0.0.1:$qport
  tsdb_ingest: tcp://127.0.0.1:$iport
  slo_files: [slos.yml]
EOC
start ruler "$BIN/axon-ruler" --config.file="$TMP/ruler.yml" --web.listen-address="127.0.0.1:$rport"
wait_http "http://127.0.0.1:$rport/-/ready"
for i in $(seq 40); do
	r=$(curl -fsS "http://127.0.0.1:$rport/api/v1/rules")
	echo "$r" | jq -e '(.data.groups | length) == 3 and ([.data.groups[].rules[] | .health] | all(. == "ok")) and ([.data.groups[].rules[]] | length) == 38' >/dev/null && break
	sleep 0.25
done
echo "$r" | jq -e '(.data.groups | length) == 3 and ([.data.groups[].rules[] | .health] | all(. == "ok"))' >/dev/null ||
	fail "the ruler does not evaluate the SLO rules: $r"
# (written through the tsdb's ingest: it shows a moment after evaluation)
for i in $(seq 40); do
	q=$(curl -fsS -G "http://127.0.0.1:$tport/api/v1/query" --data-urlencode 'query=slo:error_budget:ratio{slo="search-latency"}')
	echo "$q" | jq -e '.data.result[0].value[1] == "0.01"' >/dev/null && break
	sleep 0.25
done
echo "$q" | jq -e '.data.result[0].value[1] == "0.01"' >/dev/null || fail "budget series not written: $q"
pass "axon-ruler evaluates the SLO rules of axon_ruler.slo_files (38 rules healthy, series written)"
