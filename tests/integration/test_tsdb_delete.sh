# Deletion with tombstones (behind --web.enable-admin-api): delete_series
# writes WAL tombstones for the head and tombstones files for blocks;
# reads, restarts, promtool and clean_tombstones all agree on what is gone.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed"

port=$(freeport)
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/tsdb.yml"
run_tsdb() {
	start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$port" --web.enable-admin-api \
		--storage.tsdb.compaction-check-interval="${CHECK:-200ms}"
	wait_http "http://127.0.0.1:$port/-/ready" 30
}
base="http://127.0.0.1:$port"
count_series() { # selector start end
	curl -fsS -G "$base/api/v1/series" --data-urlencode "match[]=$1" \
		--data-urlencode "start=$2" --data-urlencode "end=$3" | { grep -o '"idx":"[0-9]*"' || true; } | wc -l
}
# ingest with compaction held off (a compaction racing the backfill would
# make the lagging sender's samples out of bounds), then compact
CHECK=1h run_tsdb
start_ms=$(( ($(date +%s) / 3600 - 6) * 3600 * 1000 ))
"$PEER" rw-send "$base/api/v1/write" 4 300 "$start_ms" 60000 >"$TMP/send.out" || fail "rw-send: $(cat "$TMP/send.out")"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
run_tsdb
for i in $(seq 50); do
	[ "$(metric_value "$base/metrics" axon_tsdb_blocks_loaded)" -ge 1 ] 2>/dev/null && break
	sleep 0.2
done
[ "$(metric_value "$base/metrics" axon_tsdb_blocks_loaded)" -ge 1 ] || fail "no block"
s0=$((start_ms / 1000))
s2h=$(( (start_ms + 7200000) / 1000 ))
send=$(( (start_ms + 299 * 60000) / 1000 ))
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -G "$base/api/v1/admin/tsdb/delete_series" --data-urlencode 'match[]=test_rw_series{idx="1"}')
[ "$code" = 204 ] || fail "delete_series answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -G "$base/api/v1/admin/tsdb/delete_series" \
	--data-urlencode 'match[]=test_rw_series{idx="2"}' --data-urlencode "start=$s0" --data-urlencode "end=$((s2h - 1))")
[ "$code" = 204 ] || fail "delete_series with a range answered $code"
check_reads() {
	[ "$(count_series 'test_rw_series' "$s0" "$send")" = 3 ] || fail "$1: want 3 series over the whole range"
	[ "$(count_series 'test_rw_series{idx="1"}' "$s0" "$send")" = 0 ] || fail "$1: idx=1 still visible"
	[ "$(count_series 'test_rw_series{idx="2"}' "$s0" "$((s0 + 1800))")" = 0 ] || fail "$1: idx=2 visible in its deleted first half hour"
	[ "$(count_series 'test_rw_series{idx="2"}' "$s2h" "$send")" = 1 ] || fail "$1: idx=2 missing after its deleted range"
}
check_reads "after delete"
pass "deleted series and ranges disappear from reads (head and blocks)"

kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
for i in 0 2 3; do
	for j in $(seq 0 299); do
		t=$((start_ms + j * 60000))
		[ "$i" = 2 ] && [ "$t" -lt $((s2h * 1000)) ] && continue
		echo "{__name__=\"test_rw_series\", idx=\"$i\"} $((i * 1000 + j)) $t"
	done
done | sort >"$TMP/want.txt"
promtool tsdb dump "$TMP/data" 2>"$TMP/dump.err" | sort >"$TMP/dump.txt" || fail "promtool dump: $(cat "$TMP/dump.err")"
diff "$TMP/want.txt" "$TMP/dump.txt" >"$TMP/d.diff" || fail "promtool dump after delete differs: $(head -3 "$TMP/d.diff")"
pass "promtool honours our tombstones (blocks and WAL)"

run_tsdb
check_reads "after restart"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v1/admin/tsdb/clean_tombstones")
[ "$code" = 204 ] || fail "clean_tombstones answered $code"
check_reads "after clean_tombstones"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
for b in "$TMP"/data/*/tombstones; do
	[ "$(stat -c %s "$b")" = 9 ] || fail "a block still has tombstones after cleaning: $b"
done
promtool tsdb dump "$TMP/data" 2>/dev/null | sort >"$TMP/dump2.txt"
diff "$TMP/want.txt" "$TMP/dump2.txt" >/dev/null || fail "dump after clean_tombstones differs"
pass "tombstones survive a restart; clean_tombstones rewrites blocks without the deleted data"
