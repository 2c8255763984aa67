# The disk stage of the delivery buffer: with a small memory bound and
# axon_scraper.buffer_dir, a tsdb outage spills the newer samples to disk;
# when the tsdb is back they drain in order and every scrape across the
# outage is stored, nothing dropped.
. "$(dirname "$0")/lib.sh"
fport=$(freeport); tport=$(freeport); iport=$(freeport); sport=$(freeport)
{
	echo "# TYPE spill_series gauge"
	for i in $(seq 0 499); do echo "spill_series{i=\"$i\"} $i"; done
} >"$TMP/body.prom"
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/body.prom" "text/plain; version=0.0.4"
printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$iport" >"$TMP/tsdb.yml"
start_tsdb() {
	start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$tport"
	wait_http "http://127.0.0.1:$tport/-/ready"
}
start_tsdb
T="http://127.0.0.1:$tport"
mkdir -p "$TMP/buf"
cat >"$TMP/scraper.yml" <<EOC
global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
axon_scraper:
  tsdb: tcp://127.0.0.1:$iport
  buffer_samples: 2000
  buffer_dir: $TMP/buf
  buffer_disk_bytes: 64MB
scrape_configs:
  - job_name: spill
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
S="http://127.0.0.1:$sport"
wait_http "$S/-/ready"
sleep 2
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
t_down=$(date +%s)
sleep 4
spilled=$(metric_value "$S/metrics" axon_ship_samples_spilled_total)
on_disk=$(metric_value "$S/metrics" axon_ship_samples_on_disk)
[ "${spilled%.*}" -gt 5000 ] || fail "only $spilled samples went to disk during the outage"
ls "$TMP/buf"/ship-*.spill >/dev/null || fail "no spill file"
start_tsdb
t_up=$(date +%s)
for i in $(seq 100); do
	[ "$(metric_value "$S/metrics" axon_ship_samples_on_disk)" = 0 ] && break
	sleep 0.1
done
[ "$(metric_value "$S/metrics" axon_ship_samples_on_disk)" = 0 ] || fail "the disk stage did not drain"
sleep 1
t_now=$(date +%s)
for s in 'up{job="spill"}' 'spill_series{i="499"}'; do
	q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=$s[30s]" --data-urlencode "time=$t_now")
	gaps=$(echo "$q" | jq '[.data.result[0].values | . as $v | range(1; length) | ($v[.][0] - $v[. - 1][0])] | map(select(. > 0.35)) | length')
	first=$(echo "$q" | jq '.data.result[0].values[0][0] | floor')
	last=$(echo "$q" | jq '.data.result[0].values[-1][0] | floor')
	[ "$gaps" = 0 ] && [ "$first" -lt "$t_down" ] && [ "$last" -ge "$t_up" ] ||
		fail "$s across the outage ($t_down..$t_up): $gaps gaps"
done
[ "$(metric_value "$S/metrics" axon_ship_samples_dropped_total)" = 0 ] || fail "samples dropped"
pass "a tsdb outage spills $spilled samples ($on_disk on disk at once) past the 2000-sample memory bound; they drain in order, no gap, none dropped"
