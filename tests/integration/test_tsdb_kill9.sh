# Durability: a loader streams SampleBatches to axon-tsdb over nng while
# the tsdb is killed with SIGKILL at random moments, 20 times, and
# restarted on the same data directory.  Every acknowledged batch must be
# there afterwards: checked by our WAL replay and, independently, by
# Prometheus 2.42 opening a copy of the directory.
. "$(dirname "$0")/lib.sh"
TOOL=$TOP/build/tests/ax-tsdbtool
SERIES=50
KILLS=${AX_KILLS:-20}

port=$(freeport)
nport=$(freeport)
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$nport
EOC
run_tsdb() {
	start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$port" --storage.tsdb.wal-segment-size=256KB \
		--storage.tsdb.max-future=0 # the loader steps 1 s a batch, far ahead of the clock
	wait_http "http://127.0.0.1:$port/-/ready" 30
}
run_tsdb
start_ms=$(( ($(date +%s) - 3600) * 1000 ))
start loader "$PEER" batch-load "tcp://127.0.0.1:$nport" "$SERIES" "$TMP/acked.txt" "$start_ms"
for i in $(seq "$KILLS"); do
	sleep "0.$(( (RANDOM % 5) + 2 ))"
	kill -KILL "$tsdb_PID"
	wait "$tsdb_PID" 2>/dev/null || true
	run_tsdb
done
sleep 0.5
kill -TERM "$loader_PID"
wait_exit "$loader_PID" 10
[ "$WAIT_RC" = 0 ] || fail "loader exited with $WAIT_RC: $(cat "$TMP/loader.log")"
acked=$(wc -l <"$TMP/acked.txt")
[ "$acked" -ge 50 ] || fail "only $acked batches acknowledged"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
corrupt=$(grep -c 'WAL corruption' "$TMP"/tsdb.log || true)
read -r series samples lo hi <<<"$("$TOOL" wal-count "$TMP/data/wal")"
[ "$series" = "$SERIES" ] || fail "WAL has $series series, want $SERIES"
[ "$lo" -ge "$acked" ] || fail "LOSS: a series has $lo samples but $acked batches were acknowledged"
[ "$hi" -le $((acked + 1)) ] || fail "a series has $hi samples, more than sent ($acked acked)"
pass "$KILLS kill -9: $acked acknowledged batches x $SERIES series, all present (min $lo per series; torn tails cut: $corrupt)"

# independent check with Prometheus on a copy of the directory
command -v prometheus >/dev/null || fail "prometheus not installed"
cp -r "$TMP/data" "$TMP/pcopy"
rm -f "$TMP/pcopy/lock"
pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/pcopy" \
	--web.listen-address="127.0.0.1:$pport"
wait_http "http://127.0.0.1:$pport/-/ready" 60
t_end=$(( (start_ms + (hi - 1) * 1000) / 1000 ))
q=$(curl -fsS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=min(count_over_time(load_series[1d]))' --data-urlencode "time=$t_end")
pmin=$(echo "$q" | sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
[ -n "$pmin" ] && [ "$pmin" -ge "$acked" ] || fail "Prometheus counts $pmin samples for some series, $acked acknowledged: $q"
pass "Prometheus 2.42 confirms: min samples per series $pmin >= $acked acknowledged"
