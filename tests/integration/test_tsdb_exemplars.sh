# Exemplars: stored with their samples, written to the WAL as Prometheus'
# exemplar records, replayed after a restart, and read by Prometheus 2.42
# (--enable-feature=exemplar-storage) from a copy of the data directory.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed"

port=$(freeport)
nport=$(freeport)
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$nport
storage:
  exemplars:
    max_exemplars: 1000
EOC
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$port"
base="http://127.0.0.1:$port"
wait_http "$base/-/ready"
ts=$(( ($(date +%s) - 60) * 1000 ))
"$PEER" batch-exemplars "tcp://127.0.0.1:$nport" 5 "$ts" >"$TMP/ex.out" || fail "batch: $(cat "$TMP/ex.out")"
grep -q 'status=0 accepted=5' "$TMP/ex.out" || fail "ack: $(cat "$TMP/ex.out")"
[ "$(metric_value "$base/metrics" axon_tsdb_exemplars_stored)" = 5 ] || fail "exemplars not stored"
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
start tsdb2 "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$port"
wait_http "$base/-/ready"
[ "$(metric_value "$base/metrics" axon_tsdb_exemplars_stored)" = 5 ] || fail "exemplars not replayed"
kill -TERM "$tsdb2_PID"
wait_exit "$tsdb2_PID" 10
pass "5 exemplars stored and replayed from the WAL"

cp -r "$TMP/data" "$TMP/pcopy"
rm -f "$TMP/pcopy/lock"
pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/pcopy" \
	--web.listen-address="127.0.0.1:$pport" --enable-feature=exemplar-storage
wait_http "http://127.0.0.1:$pport/-/ready" 60
q=$(curl -fsS -G "http://127.0.0.1:$pport/api/v1/query_exemplars" --data-urlencode 'query=ex_series' \
	--data-urlencode "start=$(( ts / 1000 - 10 ))" --data-urlencode "end=$(( ts / 1000 + 10 ))")
for i in 0 1 2 3 4; do
	echo "$q" | grep -q "\"trace_id\":\"trace-$i\"" || fail "Prometheus lacks exemplar trace-$i: $q"
done
pass "Prometheus 2.42 reads our exemplar WAL records"
