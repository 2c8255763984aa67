# One address for Grafana and promtool: axon-tsdb relays /api/v1/targets
# from its scrapers (merged, unreachable ones named in warnings) and
# /api/v1/rules and /api/v1/alerts from its ruler.  The peers are stand-ins
# serving real Prometheus 2.42 API answers from ../shared/api-samples.
. "$(dirname "$0")/lib.sh"
S=$AX_SHARED/api-samples
[ -f "$S/prom-targets.json" ] || fail "missing $S/prom-targets.json"

p1=$(freeport)
p2=$(freeport)
p3=$(freeport)
dead=$(freeport)
start s1 "$PEER" http-file "127.0.0.1:$p1" "$S/prom-targets.json"
start s2 "$PEER" http-file "127.0.0.1:$p2" "$S/prom-targets.json"
start ruler "$PEER" http-file "127.0.0.1:$p3" "$S/prom-rules.json"
wait_http "http://127.0.0.1:$p1/x"
wait_http "http://127.0.0.1:$p2/x"
wait_http "http://127.0.0.1:$p3/x"
want=$(grep -o '"scrapeUrl"' "$S/prom-targets.json" | wc -l)
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  scrapers: [http://127.0.0.1:$p1, http://127.0.0.1:$p2/, http://127.0.0.1:$dead]
  ruler: http://127.0.0.1:$p3
EOC
port=$(freeport)
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$port"
base="http://127.0.0.1:$port"
wait_http "$base/-/ready"
curl -fsS "$base/api/v1/targets?state=active" >"$TMP/targets.json" || fail "targets relay"
got=$(grep -o '"scrapeUrl"' "$TMP/targets.json" | wc -l)
[ "$got" = $((2 * want)) ] || fail "merged $got targets, want $((2 * want))"
grep -q "\"warnings\":\[\"axon-scraper at http://127.0.0.1:$dead unreachable" "$TMP/targets.json" || fail "no warning for the dead scraper: $(head -c 300 "$TMP/targets.json")"
grep -q '"droppedTargets":\[\]' "$TMP/targets.json" || fail "droppedTargets missing"
pass "targets merged from two scrapers, the unreachable one named"

curl -fsS "$base/api/v1/rules" >"$TMP/rules.json" || fail "rules relay"
cmp -s "$TMP/rules.json" "$S/prom-rules.json" || fail "rules not relayed unchanged"
pass "rules relayed from the ruler"

kill -KILL "$ruler_PID"
sleep 0.2
code=$(curl -s -o "$TMP/alerts.json" -w '%{http_code}' "$base/api/v1/alerts")
[ "$code" = 503 ] && grep -q 'axon-ruler at http://127.0.0.1:.* unreachable' "$TMP/alerts.json" || fail "ruler down: $code $(cat "$TMP/alerts.json")"
pass "an unreachable ruler is named (503 unavailable)"
