# Debian's promtool reads what axon-tsdb writes: the Prometheus-format block
# of a snapshot (tsdb list, analyze, dump) and the live data directory
# (dump replays our WAL), and dumps exactly the samples the generator sent.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (make deps)"

port=$(freeport)
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/tsdb.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$port" --web.enable-admin-api
base="http://127.0.0.1:$port"
wait_http "$base/-/ready"
start_ms=$(( ($(date +%s) - 4000) * 1000 ))
"$PEER" rw-send "$base/api/v1/write" 3 300 "$start_ms" 10000 >"$TMP/send.out" || fail "rw-send: $(cat "$TMP/send.out")"
# what the generator sent, in promtool's dump format
for i in 0 1 2; do
	for j in $(seq 0 299); do
		echo "{__name__=\"test_rw_series\", idx=\"$i\"} $((i * 1000 + j)) $((start_ms + j * 10000))"
	done
done | sort >"$TMP/want.txt"

resp=$(curl -fsS -X POST "$base/api/v1/admin/tsdb/snapshot")
name=$(echo "$resp" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
[ -n "$name" ] || fail "snapshot answer: $resp"
snap="$TMP/data/snapshots/$name"
promtool tsdb list "$snap" >"$TMP/list.txt" 2>&1 || fail "promtool tsdb list: $(cat "$TMP/list.txt")"
awk 'NR == 2 { print $5, $6, $7 }' "$TMP/list.txt" | grep -qx '900 [0-9]* 3' || fail "promtool list: $(cat "$TMP/list.txt")"
promtool tsdb analyze "$snap" >"$TMP/analyze.txt" 2>&1 || fail "promtool tsdb analyze: $(cat "$TMP/analyze.txt")"
grep -q '^Series: 3$' "$TMP/analyze.txt" || fail "analyze: $(head -5 "$TMP/analyze.txt")"
promtool tsdb dump "$snap" 2>"$TMP/dump.err" | sort >"$TMP/dump.txt" || fail "promtool tsdb dump: $(cat "$TMP/dump.err")"
diff "$TMP/want.txt" "$TMP/dump.txt" >"$TMP/dump.diff" || fail "snapshot dump differs: $(head "$TMP/dump.diff")"
pass "promtool list/analyze/dump read the snapshot block: all 900 samples exact"

kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
promtool tsdb dump "$TMP/data" 2>"$TMP/dump2.err" | sort >"$TMP/dump2.txt" || fail "promtool tsdb dump data dir: $(cat "$TMP/dump2.err")"
diff "$TMP/want.txt" "$TMP/dump2.txt" >"$TMP/dump2.diff" || fail "data dir dump differs: $(head "$TMP/dump2.diff")"
pass "promtool dumps the live data directory (our WAL): all 900 samples exact"

# the admin API is off by default
port=$(freeport)
start tsdb2 "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data2" \
	--web.listen-address="127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready"
code=$(curl -s -o "$TMP/off.txt" -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/admin/tsdb/snapshot")
[ "$code" = 503 ] && grep -q 'admin APIs disabled' "$TMP/off.txt" || fail "snapshot without --web.enable-admin-api: $code $(cat "$TMP/off.txt")"
pass "admin API off by default"

# Prometheus 2.42 serves the snapshot block as it is
command -v prometheus >/dev/null || fail "prometheus not installed"
cp -r "$snap" "$TMP/psnap"
pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/psnap" \
	--web.listen-address="127.0.0.1:$pport"
wait_http "http://127.0.0.1:$pport/-/ready" 60
t_end=$(( (start_ms + 299 * 10000) / 1000 ))
q=$(curl -fsS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=sum(count_over_time(test_rw_series[2h]))' --data-urlencode "time=$t_end")
echo "$q" | grep -q '"value":\[[0-9.]*,"900"\]' || fail "Prometheus on the snapshot: $q"
pass "Prometheus 2.42 opens the snapshot block: 900 samples"
