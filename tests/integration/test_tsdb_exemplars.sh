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
curl -fsS -G "$base/api/v1/query_exemplars" --data-urlencode 'query=sum(rate(ex_series[5m]))' \
	--data-urlencode "start=$(( ts / 1000 - 10 ))" --data-urlencode "end=$(( ts / 1000 + 10 ))" >"$TMP/ax_ex.json" ||
	fail "axon query_exemplars"
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

# /api/v1/query_exemplars answers as Prometheus' does (selectors found
# inside the expression, series labels, exemplar labels, values, times)
norm='.data | map({s: .seriesLabels, e: (.exemplars | sort_by(.timestamp))}) | sort_by(.s.i)'
echo "$q" | jq -S "$norm" >"$TMP/p_ex.norm" || fail "Prometheus exemplar JSON: $q"
jq -S "$norm" "$TMP/ax_ex.json" >"$TMP/ax_ex.norm" || fail "axon exemplar JSON: $(cat "$TMP/ax_ex.json")"
[ "$(jq length "$TMP/ax_ex.norm")" = 5 ] || fail "axon returned $(jq length "$TMP/ax_ex.norm") series: $(cat "$TMP/ax_ex.json")"
diff "$TMP/p_ex.norm" "$TMP/ax_ex.norm" >"$TMP/ex.diff" || fail "query_exemplars differs: $(head -20 "$TMP/ex.diff")"
pass "/api/v1/query_exemplars equals Prometheus' answer on the same data"
