# PromQL side by side with the real thing: the same data (promql/
# fixture.load: counter resets, staleness markers, gaps, NaN/Inf, classic
# histograms) is remote-written into Prometheus 2.42 and axon-tsdb, then
# every query of promql/queries.txt runs through both HTTP APIs as instant
# queries at four times and as a range query, and the answers must agree
# (same series, values within 1e-9 relative, errors alike).  Debian's
# promtool must query axon-tsdb unchanged, and the query API's errors must
# carry Prometheus' codes.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
command -v promtool >/dev/null || fail "promtool not installed (make deps)"
here=$(cd "$(dirname "$0")" && pwd)

aport=$(freeport)
pport=$(freeport)
qport=$(freeport)
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/t.yml"
printf 'global:\n  scrape_interval: 15s\naxon_tsdb:\n  query_listen: tcp://127.0.0.1:%s\n' "$qport" >"$TMP/a.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/a.yml" --storage.tsdb.path="$TMP/adata" \
	--web.listen-address="127.0.0.1:$aport"
start prom prometheus --config.file="$TMP/t.yml" --storage.tsdb.path="$TMP/pdata" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver
A="http://127.0.0.1:$aport"
P="http://127.0.0.1:$pport"
wait_http "$A/-/ready"
wait_http "$P/-/ready" 60

# the data starts two hours ago on a minute boundary and spans 90 minutes
now=$(date +%s)
base=$(( (now - 7200) / 60 * 60 ))
for url in "$A/api/v1/write" "$P/api/v1/write"; do
	"$BIN/axon-promqltest" --remote-write "$url" --offset $((base * 1000)) "$here/promql/fixture.load" \
		>"$TMP/send.out" 2>&1 || fail "remote write to $url: $(cat "$TMP/send.out")"
done
log "$(cat "$TMP/send.out")"

times="$((base + 1200)),$((base + 2707)),$((base + 4500)),$((base + 5390))"
"$PEER" promql-compare "$P" "$A" "$here/promql/queries.txt" "$times" \
	$((base + 300)) $((base + 5700)) 60 >"$TMP/cmp.out" 2>&1
rc=$?
cat "$TMP/cmp.out"
[ "$rc" -eq 0 ] || fail "axon and Prometheus disagree (see above)"
nq=$(sed -n 's/^\([0-9]*\) queries.*/\1/p' "$TMP/cmp.out")
[ "${nq:-0}" -ge 80 ] || fail "only ${nq:-0} queries compared"
pass "$(tail -1 "$TMP/cmp.out")"

# a second range with a different step and alignment
"$PEER" promql-compare "$P" "$A" "$here/promql/queries.txt" "$((base + 3333))" \
	$((base + 17)) $((base + 5417)) 45 >"$TMP/cmp2.out" 2>&1 || { cat "$TMP/cmp2.out"; fail "second range differs"; }
pass "second range: $(tail -1 "$TMP/cmp2.out")"

# promtool queries axon-tsdb unchanged
promtool query instant "$A" 'sum by (job) (http_requests_total)' --time=$((base + 1200)) >"$TMP/pt.txt" 2>&1 || fail "promtool query instant: $(cat "$TMP/pt.txt")"
promtool query instant "$P" 'sum by (job) (http_requests_total)' --time=$((base + 1200)) >"$TMP/pt_p.txt" 2>&1 || fail "promtool vs prometheus: $(cat "$TMP/pt_p.txt")"
diff "$TMP/pt_p.txt" "$TMP/pt.txt" >/dev/null || fail "promtool instant output differs: $(cat "$TMP/pt.txt") vs $(cat "$TMP/pt_p.txt")"
promtool query range "$A" 'rate(http_requests_total{code="200"}[5m])' --start=$((base + 600)) --end=$((base + 1200)) --step=1m >"$TMP/pr.txt" 2>&1 || fail "promtool query range: $(cat "$TMP/pr.txt")"
promtool query range "$P" 'rate(http_requests_total{code="200"}[5m])' --start=$((base + 600)) --end=$((base + 1200)) --step=1m >"$TMP/pr_p.txt" 2>&1
diff "$TMP/pr_p.txt" "$TMP/pr.txt" >/dev/null || fail "promtool range output differs: $(head -5 "$TMP/pr.txt") vs $(head -5 "$TMP/pr_p.txt")"
grep -q 'instance="a"' "$TMP/pr.txt" || fail "promtool range: $(head -3 "$TMP/pr.txt")"
pass "promtool query instant and range print the same for axon-tsdb as for Prometheus"

# POST form queries and Prometheus' error codes
body=$(curl -fsS -X POST "$A/api/v1/query" --data-urlencode 'query=sum(up)' --data-urlencode "time=$((base + 1200))")
echo "$body" | grep -q '"resultType":"vector","result":\[{"metric":{},"value":\['"$((base + 1200))"',"3"\]}\]' || fail "POST query: $body"
code=$(curl -s -o "$TMP/e1" -w '%{http_code}' -G "$A/api/v1/query" --data-urlencode 'query=sum(up')
[ "$code" = 400 ] && grep -q '"errorType":"bad_data","error":"invalid parameter \\"query\\": 1:7: parse error: unclosed left parenthesis' "$TMP/e1" || fail "parse error: $code $(cat "$TMP/e1")"
code=$(curl -s -o "$TMP/e2" -w '%{http_code}' -G "$A/api/v1/query" --data-urlencode 'query=http_requests_total + on (job) http_requests_total' --data-urlencode "time=$((base + 1200))")
[ "$code" = 422 ] && grep -q '"errorType":"execution"' "$TMP/e2" || fail "many-to-many: $code $(cat "$TMP/e2")"
code=$(curl -s -o "$TMP/e3" -w '%{http_code}' -G "$A/api/v1/query_range" --data-urlencode 'query=up' --data-urlencode "start=$base" --data-urlencode "end=$((base - 10))" --data-urlencode 'step=15')
[ "$code" = 400 ] && grep -q 'end timestamp must not be before start time' "$TMP/e3" || fail "end before start: $code $(cat "$TMP/e3")"
code=$(curl -s -o "$TMP/e4" -w '%{http_code}' -G "$A/api/v1/query_range" --data-urlencode 'query=up' --data-urlencode "start=$base" --data-urlencode "end=$((base + 86400))" --data-urlencode 'step=1')
[ "$code" = 400 ] && grep -q 'exceeded maximum resolution of 11,000 points' "$TMP/e4" || fail "resolution: $code $(cat "$TMP/e4")"
code=$(curl -s -o "$TMP/e5" -w '%{http_code}' -G "$A/api/v1/query_range" --data-urlencode 'query=up[5m]' --data-urlencode "start=$base" --data-urlencode "end=$((base + 60))" --data-urlencode 'step=15')
[ "$code" = 400 ] && grep -q 'invalid expression type \\"range vector\\" for range query' "$TMP/e5" || fail "range of a matrix: $code $(cat "$TMP/e5")"
pass "POST form queries; errors 400 bad_data, 422 execution as Prometheus"

# the nng query service (for the ruler) answers as the HTTP API does
"$PEER" query "tcp://127.0.0.1:$qport" 'sum by (job) (rate(http_requests_total[5m]))' $(( (base + 1200) * 1000 )) >"$TMP/q1.txt" 2>&1 || fail "query service: $(cat "$TMP/q1.txt")"
head -1 "$TMP/q1.txt" | grep -qx 'status=OK type=VECTOR' || fail "query service: $(cat "$TMP/q1.txt")"
curl -fsS -G "$A/api/v1/query" --data-urlencode 'query=sum by (job) (rate(http_requests_total[5m]))' --data-urlencode "time=$((base + 1200))" >"$TMP/q1.json"
for job in api web; do
	hv=$(jq -r ".data.result[] | select(.metric.job == \"$job\") | .value[1]" "$TMP/q1.json")
	nv=$(sed -n "s/^{job=\"$job\"} [0-9]*:\(.*\)$/\1/p" "$TMP/q1.txt")
	[ -n "$hv" ] && awk -v a="$hv" -v b="$nv" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * (a < 0 ? -a : a)) }' ||
		fail "job $job: HTTP $hv vs nng $nv"
done
"$PEER" query "tcp://127.0.0.1:$qport" 'up' 0 $(( (base + 600) * 1000 )) $(( (base + 900) * 1000 )) 60000 >"$TMP/q2.txt" 2>&1
head -1 "$TMP/q2.txt" | grep -qx 'status=OK type=MATRIX' && [ "$(grep -c '^{__name__="up"' "$TMP/q2.txt")" = 3 ] || fail "range over nng: $(cat "$TMP/q2.txt")"
"$PEER" query "tcp://127.0.0.1:$qport" 'sum(' 0 >"$TMP/q3.txt" 2>&1
grep -q '^status=BAD_DATA .*error=invalid parameter "query": 1:5: parse error' "$TMP/q3.txt" || fail "bad query over nng: $(cat "$TMP/q3.txt")"
"$PEER" query "tcp://127.0.0.1:$qport" 'http_requests_total + on (job) http_requests_total' $(( (base + 1200) * 1000 )) >"$TMP/q4.txt" 2>&1
grep -q '^status=EXECUTION .*many-to-many matching not allowed' "$TMP/q4.txt" || fail "execution error over nng: $(cat "$TMP/q4.txt")"
"$PEER" query "tcp://127.0.0.1:$qport" '2 * 21' 0 >"$TMP/q5.txt" 2>&1
[ "$(sed -n 2p "$TMP/q5.txt")" = 42 ] || fail "scalar over nng: $(cat "$TMP/q5.txt")"
pass "nng query service: vector, matrix, scalar and errors as the HTTP API"

# limits: max samples and timeout, each with a clear error
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
start tsdb2 "$BIN/axon-tsdb" --config.file="$TMP/t.yml" --storage.tsdb.path="$TMP/adata" \
	--web.listen-address="127.0.0.1:$aport" --query.max-samples=100
wait_http "$A/-/ready"
code=$(curl -s -o "$TMP/e6" -w '%{http_code}' -G "$A/api/v1/query_range" --data-urlencode 'query=http_requests_total' --data-urlencode "start=$base" --data-urlencode "end=$((base + 3600))" --data-urlencode 'step=15')
[ "$code" = 422 ] && grep -q 'query processing would load too many samples into memory in query execution' "$TMP/e6" || fail "max samples: $code $(cat "$TMP/e6")"
code=$(curl -s -o "$TMP/e7" -w '%{http_code}' -G "$A/api/v1/query" --data-urlencode 'query=sum(up)' --data-urlencode "time=$((base + 1200))")
[ "$code" = 200 ] || fail "small query under the limit: $code $(cat "$TMP/e7")"
pass "--query.max-samples: 422 with Prometheus' message; small queries still run"
