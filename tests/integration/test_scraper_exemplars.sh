# OpenMetrics exemplars travel from a scraped body to axon-tsdb with their
# samples (SampleBatch exemplars): query_exemplars answers them with the
# series' final labels, the exemplar's labels, value and timestamp (the
# body's, or the scrape's when the body gives none).
. "$(dirname "$0")/lib.sh"
fport=$(freeport); tport=$(freeport); iport=$(freeport); sport=$(freeport)
cat >"$TMP/om.txt" <<'EOB'
# TYPE req counter
req_total{path="/a"} 12 # {trace_id="abc123"} 1.0 1700000000.123
req_total{path="/b"} 3
# TYPE lat histogram
lat_bucket{le="0.1"} 5 # {trace_id="t-1",span_id="s\"1"} 0.05
lat_bucket{le="+Inf"} 7
lat_count 7
lat_sum 1.2
# EOF
EOB
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/om.txt" "application/openmetrics-text; version=1.0.0; charset=utf-8"
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
scrape_configs:
  - job_name: om
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
wait_http "http://127.0.0.1:$sport/-/ready"
ex() { curl -fsS -G "$T/api/v1/query_exemplars" --data-urlencode "query=$1" --data-urlencode start=1699999999 --data-urlencode "end=$(($(date +%s) + 60))"; }
ok=0
for i in $(seq 40); do
	sleep 0.25
	a=$(ex req_total); b=$(ex lat_bucket)
	if [ "$(echo "$a" | jq '.data | length')" = 1 ] && [ "$(echo "$b" | jq '.data | length')" = 1 ]; then ok=1; break; fi
done
[ "$ok" = 1 ] || fail "exemplars not in the tsdb: $a $b"
echo "$a" | jq -e '.data[0].seriesLabels == {"__name__":"req_total","instance":"127.0.0.1:'"$fport"'","job":"om","path":"/a"} and
	.data[0].exemplars[0].labels == {"trace_id":"abc123"} and .data[0].exemplars[0].value == "1" and
	.data[0].exemplars[0].timestamp == 1700000000.123' >/dev/null || fail "req_total exemplar: $a"
now=$(date +%s)
echo "$b" | jq -e --argjson now "$now" '.data[0].seriesLabels.le == "0.1" and
	.data[0].exemplars[0].labels == {"span_id":"s\"1","trace_id":"t-1"} and .data[0].exemplars[0].value == "0.05" and
	(.data[0].exemplars[0].timestamp > $now - 30)' >/dev/null || fail "lat_bucket exemplar: $b"
pass "exemplars scraped from OpenMetrics reach axon-tsdb with their series (body and scrape timestamps, escaped labels)"

# agent mode: remote_write with send_exemplars into Prometheus 2.42 (its
# exemplar storage on) stores the same exemplars
command -v prometheus >/dev/null || fail "prometheus not installed"
pport=$(freeport); aport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prom.yml"
start prom prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver --enable-feature=exemplar-storage
P="http://127.0.0.1:$pport"
wait_http "$P/-/ready" 60
cat >"$TMP/agent.yml" <<EOC
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: om
    static_configs:
      - targets: ['127.0.0.1:$fport']
remote_write:
  - url: $P/api/v1/write
    send_exemplars: true
    queue_config: {batch_send_deadline: 200ms}
EOC
start agent "$BIN/axon-scraper" --config.file="$TMP/agent.yml" --web.listen-address="127.0.0.1:$aport"
wait_http "http://127.0.0.1:$aport/-/ready"
pex() { curl -fsS -G "$P/api/v1/query_exemplars" --data-urlencode "query=$1" --data-urlencode start=1699999999 --data-urlencode "end=$(($(date +%s) + 60))"; }
ok=0
for i in $(seq 60); do
	sleep 0.25
	a=$(pex req_total); b=$(pex lat_bucket)
	if [ "$(echo "$a" | jq '.data | length')" = 1 ] && [ "$(echo "$b" | jq '.data | length')" = 1 ]; then ok=1; break; fi
done
[ "$ok" = 1 ] || fail "exemplars not in Prometheus: $a $b $(grep -i exemplar "$TMP/prom.log" | tail -3)"
echo "$a" | jq -e '.data[0].seriesLabels.path == "/a" and .data[0].exemplars[0].labels == {"trace_id":"abc123"} and
	.data[0].exemplars[0].timestamp == 1700000000.123' >/dev/null || fail "req_total exemplar in Prometheus: $a"
echo "$b" | jq -e '.data[0].exemplars[0].labels == {"span_id":"s\"1","trace_id":"t-1"}' >/dev/null || fail "lat_bucket exemplar in Prometheus: $b"
pass "agent mode: remote_write send_exemplars delivers them to Prometheus 2.42's exemplar storage"
