# Head compaction, WAL checkpoints and retention: five hours of backfilled
# samples make axon-tsdb cut its head into Prometheus-format blocks, write
# a WAL checkpoint and drop old segments.  Every sample stays readable:
# through our API after a restart, through promtool, and through
# Prometheus 2.42 opened on a copy of the directory.  Then a short
# retention deletes the old blocks.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed"

port=$(freeport)
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/tsdb.yml"
run_tsdb() {
	start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$port" --storage.tsdb.wal-segment-size=64KB \
		--storage.tsdb.compaction-check-interval="${CHECK:-200ms}" "$@"
	wait_http "http://127.0.0.1:$port/-/ready" 30
}
# ingest with compaction held off (a compaction racing the backfill would
# make a lagging sender shard's samples out of bounds), then compact
CHECK=1h run_tsdb
base="http://127.0.0.1:$port"
# five hours from an odd hour, 7-9 h ago: the 2h-aligned head compaction
# then always cuts two blocks (from an even hour it would cut one)
start_ms=$(( (($(date +%s) / 7200 - 4) * 7200 + 3600) * 1000 ))
"$PEER" rw-send "$base/api/v1/write" 100 300 "$start_ms" 60000 >"$TMP/send.out" || fail "rw-send: $(cat "$TMP/send.out")"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
run_tsdb
for i in $(seq 50); do
	[ "$(metric_value "$base/metrics" axon_tsdb_blocks_loaded)" -ge 2 ] 2>/dev/null && break
	sleep 0.2
done
blocks=$(metric_value "$base/metrics" axon_tsdb_blocks_loaded)
[ "$blocks" -ge 2 ] || fail "expected at least 2 blocks after compaction, got $blocks"
[ "$(metric_value "$base/metrics" axon_tsdb_checkpoints_total)" -ge 1 ] || fail "no WAL checkpoint written"
ls -d "$TMP"/data/wal/checkpoint.* >/dev/null || fail "no checkpoint directory"
n=$(curl -fsS -G "$base/api/v1/series" --data-urlencode 'match[]=test_rw_series' | grep -o '"idx":"[0-9]*"' | wc -l)
[ "$n" = 100 ] || fail "series after compaction: $n"
pass "head compacted into $blocks blocks, WAL checkpointed"

kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
for i in $(seq 0 99); do
	for j in $(seq 0 299); do
		echo "{__name__=\"test_rw_series\", idx=\"$i\"} $((i * 1000 + j)) $((start_ms + j * 60000))"
	done
done | sort >"$TMP/want.txt"
promtool tsdb dump "$TMP/data" 2>"$TMP/dump.err" | sort >"$TMP/dump.txt" || fail "promtool dump: $(cat "$TMP/dump.err")"
diff "$TMP/want.txt" "$TMP/dump.txt" >"$TMP/dump.diff" || fail "promtool dump differs: $(head -3 "$TMP/dump.diff")"
pass "promtool dumps blocks + checkpoint + WAL: all 30000 samples exact"

run_tsdb
n=$(curl -fsS -G "$base/api/v1/series" --data-urlencode 'match[]=test_rw_series' --data-urlencode "start=$((start_ms / 1000))" --data-urlencode "end=$(( (start_ms + 3600000) / 1000 ))" | grep -o '"idx":"[0-9]*"' | wc -l)
[ "$n" = 100 ] || fail "series of the first hour (in blocks) after restart: $n"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
pass "after a restart the blocks serve the old hours"

cp -r "$TMP/data" "$TMP/pcopy"
rm -f "$TMP/pcopy/lock"
pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/pcopy" \
	--web.listen-address="127.0.0.1:$pport" --storage.tsdb.retention.time=10y
wait_http "http://127.0.0.1:$pport/-/ready" 60
t_end=$(( (start_ms + 299 * 60000) / 1000 ))
q=$(curl -fsS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=sum(count_over_time(test_rw_series[6h]))' --data-urlencode "time=$t_end")
echo "$q" | grep -q '"value":\[[0-9.]*,"30000"\]' || fail "Prometheus counts: $q"
kill -TERM "$prom_PID"
wait_exit "$prom_PID" 30
pass "Prometheus 2.42 opens the compacted directory: 30000 samples"

# size retention: a limit just above the WAL plus the newest block keeps
# that block and deletes every older one
kill_wait() { kill -TERM "$tsdb_PID"; wait_exit "$tsdb_PID" 10; }
blocks_before=$(ls -d "$TMP"/data/01* | wc -l)
newest=$(ls -d "$TMP"/data/01* | sort | tail -1)
fbytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
newest_bytes=$(fbytes "$newest")
wal_bytes=$(fbytes "$TMP/data/wal")
cp -r "$TMP/data" "$TMP/data-keep"
run_tsdb --storage.tsdb.retention.size="$((newest_bytes + wal_bytes + 4096))B"
for i in $(seq 50); do
	[ "$(metric_value "$base/metrics" axon_tsdb_size_retentions_total)" -ge 1 ] 2>/dev/null && break
	sleep 0.2
done
n=$(metric_value "$base/metrics" axon_tsdb_size_retentions_total)
[ "$n" = "$((blocks_before - 1))" ] || fail "size retention deleted $n of $blocks_before blocks, want $((blocks_before - 1))"
[ -d "$newest" ] || fail "size retention deleted the newest block"
[ "$(ls -d "$TMP"/data/01* | wc -l)" = 1 ] || fail "older blocks left on disk: $(ls "$TMP/data")"
kill_wait
rm -rf "$TMP/data"
mv "$TMP/data-keep" "$TMP/data"
pass "size retention keeps the newest block under the limit and deletes $n older"

# retention: keep 2h behind the newest sample -> the oldest block goes
run_tsdb --storage.tsdb.retention.time=2h
for i in $(seq 50); do
	[ "$(metric_value "$base/metrics" axon_tsdb_time_retentions_total)" -ge 1 ] 2>/dev/null && break
	sleep 0.2
done
[ "$(metric_value "$base/metrics" axon_tsdb_time_retentions_total)" -ge 1 ] || fail "no block deleted by retention"
n=$(curl -fsS -G "$base/api/v1/series" --data-urlencode 'match[]=test_rw_series' --data-urlencode "start=$((start_ms / 1000))" --data-urlencode "end=$(( (start_ms + 1800000) / 1000 ))" | { grep -o '"idx":"[0-9]*"' || true; } | wc -l)
[ "$n" = 0 ] || fail "the first half hour should be gone, $n series left"
pass "time retention deletes expired blocks"
