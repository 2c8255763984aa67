# axon-tsdb and Debian's Prometheus 2.42 share data formats and protocols:
#  1. our XOR chunks are byte-identical to the head chunks Prometheus cut
#     for the same samples (same encoding, same cut points);
#  2. axon-tsdb opens a Prometheus data directory (its WAL) and serves the
#     same series and latest samples;
#  3. Prometheus remote-writes its own scrapes into axon-tsdb, and
#     axon's /api/v1/series equals Prometheus' for that job;
#  4. Prometheus opens a copy of an axon data directory and counts exactly
#     the samples we wrote;
#  5. axon reads a block Prometheus wrote (a snapshot): the same series,
#     and every sample equal to what promtool dumps from it.
. "$(dirname "$0")/lib.sh"
TOOL=$TOP/build/tests/ax-tsdbtool
command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"

series_of() { # URL selector -> sorted label sets, one per line
	curl -fsS -G "$1/api/v1/series" --data-urlencode "match[]=$2" |
		sed 's/^{"status":"success","data":\[//; s/\]}$//' |
		sed 's/},{/}\n{/g' | sort
}

# ---- 1 + 2: Prometheus receives, axon reads its directory ----
pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p1.yml"
start prom1 prometheus --config.file="$TMP/p1.yml" --storage.tsdb.path="$TMP/p1" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver
P1="http://127.0.0.1:$pport"
wait_http "$P1/-/ready" 60
start_ms=$(( ($(date +%s) - 320) * 1000 ))
"$PEER" rw-send "$P1/api/v1/write" 7 300 "$start_ms" 1000 >"$TMP/send1.out" || fail "rw-send to Prometheus: $(cat "$TMP/send1.out")"
series_of "$P1" test_rw_series >"$TMP/p1.series"
[ "$(wc -l <"$TMP/p1.series")" = 7 ] || fail "Prometheus has $(wc -l <"$TMP/p1.series") series"
curl -fsS -G "$P1/federate" --data-urlencode 'match[]=test_rw_series' | grep -v '^#' | sort >"$TMP/p1.fed"
kill -TERM "$prom1_PID"
wait_exit "$prom1_PID" 30
"$TOOL" chunks-head "$TMP/p1" | sort >"$TMP/prom.chunks"
"$TOOL" wal-chunks "$TMP/p1/wal" | sort >"$TMP/axon.chunks"
n=$(wc -l <"$TMP/prom.chunks")
# 300 samples a series give two full (mmapped) chunks, or one when a 2h
# boundary falls in the range and the first chunk is stretched to it
[ "$n" -ge 7 ] || fail "expected at least 7 Prometheus head chunks, got $n"
diff "$TMP/prom.chunks" "$TMP/axon.chunks" >"$TMP/chunks.diff" || fail "chunks differ: $(head "$TMP/chunks.diff")"
pass "$n XOR chunks byte-identical to Prometheus' (encoding and cut points)"

cp -r "$TMP/p1" "$TMP/a1"
rm -f "$TMP/a1/lock"
aport=$(freeport)
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/a1.yml"
start axon1 "$BIN/axon-tsdb" --config.file="$TMP/a1.yml" --storage.tsdb.path="$TMP/a1" \
	--web.listen-address="127.0.0.1:$aport" --query.lookback-delta=1h
A1="http://127.0.0.1:$aport"
wait_http "$A1/-/ready" 30
series_of "$A1" test_rw_series >"$TMP/a1.series"
diff "$TMP/p1.series" "$TMP/a1.series" || fail "series differ after opening Prometheus' directory"
curl -fsS -G "$A1/federate" --data-urlencode 'match[]=test_rw_series' | grep -v '^#' | sort >"$TMP/a1.fed"
# Prometheus federates with the current time's lookback; compare values and timestamps
diff "$TMP/p1.fed" "$TMP/a1.fed" || fail "latest samples differ"
# every sample is there once: Prometheus' mmapped chunks (chunks_head)
# are loaded and the WAL samples they cover are not appended twice
ls "$TMP/a1/chunks_head" | grep -q '^00000' || fail "Prometheus wrote no chunks_head files"
q=$(curl -fsS -G "$A1/api/v1/query" --data-urlencode 'query=count_over_time(test_rw_series[1h])' --data-urlencode "time=$(( (start_ms + 299000) / 1000 ))")
[ "$(echo "$q" | jq '[.data.result[] | select(.value[1] == "300")] | length')" = 7 ] || fail "sample counts after loading Prometheus' chunks_head: $q"
pass "axon-tsdb serves a Prometheus data directory (WAL and chunks_head): same series, same latest samples, 300 samples each"

# ---- 4: Prometheus opens an axon directory ----
"$PEER" rw-send "$A1/api/v1/write" 4 250 "$((start_ms + 400000))" 2000 >"$TMP/send2.out" || fail "rw-send to axon: $(cat "$TMP/send2.out")"
kill -TERM "$axon1_PID"
wait_exit "$axon1_PID" 10
[ "$WAIT_RC" = 0 ] || fail "axon-tsdb exit $WAIT_RC"
cp -r "$TMP/a1" "$TMP/p2"
rm -f "$TMP/p2/lock" "$TMP/p2/ingest.sock"
pport=$(freeport)
start prom2 prometheus --config.file="$TMP/p1.yml" --storage.tsdb.path="$TMP/p2" \
	--web.listen-address="127.0.0.1:$pport"
P2="http://127.0.0.1:$pport"
wait_http "$P2/-/ready" 60
t_end=$(( (start_ms + 400000 + 249 * 2000) / 1000 ))
q=$(curl -fsS "$P2/api/v1/query" --data-urlencode 'query=count_over_time(test_rw_series[2h])' --data-urlencode "time=$t_end")
# idx 0..3 got 300 samples from the first run plus 250 now; 4..6 only 300
for i in 0 1 2 3; do
	echo "$q" | grep -q "\"idx\":\"$i\"},\"value\":\[[0-9.]*,\"550\"\]" || fail "idx=$i: want 550 samples in Prometheus, got: $q"
done
for i in 4 5 6; do
	echo "$q" | grep -q "\"idx\":\"$i\"},\"value\":\[[0-9.]*,\"300\"\]" || fail "idx=$i: want 300 samples, got: $q"
done
kill -TERM "$prom2_PID"
wait_exit "$prom2_PID" 30
# it used the chunks_head files axon wrote instead of discarding them
grep -q 'Loading on-disk chunks failed' "$TMP/prom2.log" && fail "Prometheus refused our chunks_head: $(grep 'on-disk chunks' "$TMP/prom2.log")"
grep -q 'On-disk memory mappable chunks replay completed' "$TMP/prom2.log" || fail "Prometheus did not load chunks_head: $(tail -5 "$TMP/prom2.log")"
[ "$(ls "$TMP/a1/chunks_head" | wc -l)" -ge 2 ] || fail "axon started no chunks_head file of its own"
pass "Prometheus 2.42 opens an axon data directory (WAL and the chunks_head axon wrote) and counts every sample"

# ---- 3: Prometheus remote-writes its own scrapes into axon-tsdb ----
aport=$(freeport)
pport=$(freeport)
start axon2 "$BIN/axon-tsdb" --config.file="$TMP/a1.yml" --storage.tsdb.path="$TMP/a2" \
	--web.listen-address="127.0.0.1:$aport"
A2="http://127.0.0.1:$aport"
wait_http "$A2/-/ready" 30
cat >"$TMP/p3.yml" <<EOP
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:$pport']
remote_write:
  - url: $A2/api/v1/write
    queue_config:
      batch_send_deadline: 500ms
      max_samples_per_send: 2000
EOP
start prom3 prometheus --config.file="$TMP/p3.yml" --storage.tsdb.path="$TMP/p3" \
	--web.listen-address="127.0.0.1:$pport"
P3="http://127.0.0.1:$pport"
wait_http "$P3/-/ready" 60
ok=0
for i in $(seq 60); do
	sleep 1
	series_of "$P3" '{job="self"}' >"$TMP/p3.series"
	series_of "$A2" '{job="self"}' >"$TMP/a2.series"
	n=$(wc -l <"$TMP/p3.series")
	if [ "$n" -gt 100 ] && diff -q "$TMP/p3.series" "$TMP/a2.series" >/dev/null; then
		ok=1
		break
	fi
done
[ "$ok" = 1 ] || fail "series differ: $(diff "$TMP/p3.series" "$TMP/a2.series" | head -5)"
grep -q '__name__":"up"' "$TMP/a2.series" || fail "no up series in axon"
bad=$(curl -fsS "$A2/metrics" | awk '$1 ~ /^axon_tsdb_remote_write_requests_total\{code="(400|503)"\}/ { s += $2 } END { print s + 0 }')
[ "$bad" = 0 ] || fail "$bad remote-write requests refused"
pass "Prometheus 2.42 remote-writes into axon-tsdb: /api/v1/series equal ($n series)"

# ---- 5: axon reads a Prometheus-written block ----
pport=$(freeport)
start prom4 prometheus --config.file="$TMP/p1.yml" --storage.tsdb.path="$TMP/p4" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver --web.enable-admin-api
P4="http://127.0.0.1:$pport"
wait_http "$P4/-/ready" 60
"$PEER" rw-send "$P4/api/v1/write" 9 200 "$start_ms" 1500 >"$TMP/send4.out" || fail "rw-send: $(cat "$TMP/send4.out")"
snap=$(curl -fsS -X POST "$P4/api/v1/admin/tsdb/snapshot" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
kill -TERM "$prom4_PID"
wait_exit "$prom4_PID" 30
blk=$(ls -d "$TMP/p4/snapshots/$snap"/*/ | head -1)
[ -f "$blk/index" ] || fail "no block in the Prometheus snapshot"
"$TOOL" block-dump "$blk" | sort >"$TMP/ours.dump" || fail "block-dump failed"
mkdir -p "$TMP/p4/snapshots/$snap/wal"
promtool tsdb dump "$TMP/p4/snapshots/$snap" 2>/dev/null | sort >"$TMP/prom.dump"
[ "$(wc -l <"$TMP/prom.dump")" = 1800 ] || fail "promtool dumped $(wc -l <"$TMP/prom.dump") samples"
diff "$TMP/prom.dump" "$TMP/ours.dump" >"$TMP/dump5.diff" || fail "block read differs: $(head -3 "$TMP/dump5.diff")"
mkdir -p "$TMP/a5"
cp -r "$blk" "$TMP/a5/"
aport=$(freeport)
start axon5 "$BIN/axon-tsdb" --config.file="$TMP/a1.yml" --storage.tsdb.path="$TMP/a5" \
	--web.listen-address="127.0.0.1:$aport"
wait_http "http://127.0.0.1:$aport/-/ready" 30
[ "$(series_of "http://127.0.0.1:$aport" test_rw_series | wc -l)" = 9 ] || fail "axon does not serve the Prometheus block's series"
pass "axon reads a Prometheus-written block: 9 series, all 1800 samples equal to promtool's dump"
