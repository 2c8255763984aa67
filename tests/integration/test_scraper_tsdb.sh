# axon-scraper shipping to axon-tsdb over nng (the SampleBatch contract):
# scraped series arrive with their labels, `up` and the scrape_* series;
# while the tsdb restarts the scraper buffers, and afterwards every scrape
# is there (no gap in `up`), the new tsdb session picking up the series
# definitions again.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
fport=$(freeport); tport=$(freeport); iport=$(freeport); sport=$(freeport)
cp "$here/scraper/fixture.prom" "$TMP/fixture.prom"
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/fixture.prom"
printf 'global:\n  scrape_interval: 15s\naxon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$iport" >"$TMP/tsdb.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
T="http://127.0.0.1:$tport"
wait_http "$T/-/ready"
cat >"$TMP/scraper.yml" <<EOC
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
axon_scraper:
  tsdb: tcp://127.0.0.1:$iport
  sender_id: scraper-test
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ['127.0.0.1:$fport']
        labels: {env: test}
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
wait_http "http://127.0.0.1:$sport/-/ready"
ok=0
for i in $(seq 40); do
	sleep 0.25
	q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode 'query=up{job="fixture"}')
	if echo "$q" | jq -e '.data.result[0].value[1] == "1"' >/dev/null; then ok=1; break; fi
done
[ "$ok" = 1 ] || fail "no up from the scraper in the tsdb: $q $(tail -3 "$TMP/scraper.log")"
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode 'query=fixture_temp{room="lab"}')
echo "$q" | jq -e '.data.result[0].metric == {"__name__":"fixture_temp","env":"test","exported_instance":"exposed-instance","exported_job":"exposed","instance":"127.0.0.1:'"$fport"'","job":"fixture","room":"lab"} and .data.result[0].value[1] == "21.5"' >/dev/null ||
	fail "fixture_temp in the tsdb: $q"
n=$(curl -fsS -G "$T/api/v1/series" --data-urlencode 'match[]={job="fixture"}' | jq '.data | length')
want=$(( $(grep -vc '^#' "$TMP/fixture.prom") + 5 ))
[ "$n" = "$want" ] || fail "want the fixture's series and 5 report series ($want), got $n"
pass "scraped series reach axon-tsdb over nng with their labels ($n series)"

# the families' HELP and TYPE travel with the samples (/api/v1/metadata)
md=$(curl -fsS -G "$T/api/v1/metadata" --data-urlencode 'metric=fixture_requests_total')
echo "$md" | jq -e '.data.fixture_requests_total[0].type == "counter" and .data.fixture_requests_total[0].help == "Requests with \"quotes\" and \\ backslashes."' >/dev/null ||
	fail "metadata from the scraper: $md"
md=$(curl -fsS -G "$T/api/v1/metadata" --data-urlencode 'metric=fixture_latency')
echo "$md" | jq -e '.data.fixture_latency[0].type == "histogram"' >/dev/null || fail "histogram metadata: $md"
pass "HELP and TYPE reach the tsdb's /api/v1/metadata"

# the tsdb restarts; the scraper keeps scraping and buffering
for i in $(seq 40); do
	n=$(curl -fsS -G "$T/api/v1/query" --data-urlencode 'query=count_over_time(up{job="fixture"}[1m])' | jq -r '.data.result[0].value[1]')
	[ "${n:-0}" -ge 4 ] && break
	sleep 0.25
done
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
t_down=$(date +%s)
sleep 2
start tsdb2 "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
wait_http "$T/-/ready"
t_up=$(date +%s)
sleep 2
t_now=$(date +%s)
# every 500 ms scrape across the outage is stored: no gap over 600 ms
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=up{job=\"fixture\"}[20s]" --data-urlencode "time=$t_now")
gaps=$(echo "$q" | jq '[.data.result[0].values | . as $v | range(1; length) | ($v[.][0] - $v[. - 1][0])] | map(select(. > 0.6)) | length')
cnt=$(echo "$q" | jq '.data.result[0].values | length')
first=$(echo "$q" | jq '.data.result[0].values[0][0] | floor')
last=$(echo "$q" | jq '.data.result[0].values[-1][0] | floor')
[ "$gaps" = 0 ] && [ "$first" -lt "$t_down" ] && [ "$last" -ge "$t_up" ] ||
	fail "up across the restart ($t_down..$t_up): $cnt samples, $gaps gaps: $(echo "$q" | jq -c '[.data.result[0].values[][0]]')"
m=$(curl -fsS "http://127.0.0.1:$sport/metrics")
echo "$m" | grep -q '^axon_ship_samples_dropped_total 0$' || fail "samples dropped: $(echo "$m" | grep axon_ship)"
pass "a tsdb restart loses nothing: $cnt scrapes every 500 ms across the outage, no gap (buffered, then re-defined in the new session)"
