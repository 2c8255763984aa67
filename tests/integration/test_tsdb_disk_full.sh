# Disk full: while writes to the WAL fail with ENOSPC (an LD_PRELOAD shim
# stands in for a full disk), ingestion is refused as retriable (nng
# RETRY, remote write 503), nothing is corrupted, and when space is back
# the senders' retries land: every acknowledged batch is in the WAL.
. "$(dirname "$0")/lib.sh"
TOOL=$TOP/build/tests/ax-tsdbtool
SHIM=$TOP/build/tests/ax-enospc.so
[ -f "$SHIM" ] || fail "missing $SHIM"

port=$(freeport)
nport=$(freeport)
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$nport
EOC
export AX_ENOSPC_TRIGGER="$TMP/disk-full"
start tsdb env LD_PRELOAD="$SHIM" "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" \
	--storage.tsdb.path="$TMP/data" --web.listen-address="127.0.0.1:$port"
base="http://127.0.0.1:$port"
wait_http "$base/-/ready"
start_ms=$(( ($(date +%s) - 600) * 1000 ))
# 1 ms a batch: the loader's timestamps stay behind the clock and far
# inside the head's window whatever its speed
start loader "$PEER" batch-load "tcp://127.0.0.1:$nport" 20 "$TMP/acked.txt" "$start_ms" 1
sleep 1
touch "$TMP/disk-full"
sleep 0.3
before=$(wc -l <"$TMP/acked.txt")
sleep 1
during=$(wc -l <"$TMP/acked.txt")
[ "$during" -le $((before + 1)) ] || fail "batches acknowledged while the disk was full ($before -> $during)"
retry=$(curl -fsS "$base/metrics" | awk '$1 == "axon_tsdb_ingest_batches_total{status=\"retry\"}" { print $2 }')
[ "${retry%.*}" -ge 1 ] || fail "no retry answers while the disk was full"
# remote write answers 503 (retriable), not 400; its sample is stamped
# 100 s ahead of the loader's (batch k carries start + k ms), inside the
# head's window both before and after the loader resumes
"$PEER" rw-send "$base/api/v1/write" 1 1 "$((start_ms + during + 100000))" 1000 >"$TMP/rw.out" 2>&1 &
rwpid=$!
sleep 1
code503=$(curl -fsS "$base/metrics" | awk '$1 == "axon_tsdb_remote_write_requests_total{code=\"503\"}" { print $2 }')
[ "${code503%.*}" -ge 1 ] || fail "remote write not answered 503 while the disk was full"
curl -fsS "$base/-/healthy" >/dev/null || fail "tsdb died on a full disk"
rm -f "$TMP/disk-full"
wait "$rwpid" || fail "remote write did not succeed after space came back: $(cat "$TMP/rw.out")"
sleep 1
after=$(wc -l <"$TMP/acked.txt")
[ "$after" -gt "$during" ] || fail "ingestion did not resume ($during -> $after)"
kill -TERM "$loader_PID"
wait_exit "$loader_PID" 10
acked=$(wc -l <"$TMP/acked.txt")
kill -TERM "$tsdb_PID"
wait_exit "$tsdb_PID" 10
read -r series samples lo hi <<<"$("$TOOL" wal-count "$TMP/data/wal" load_series)"
[ "$lo" -ge "$acked" ] || fail "LOSS: $lo samples in a series, $acked batches acknowledged"
! grep -q 'WAL corruption' "$TMP/tsdb.log" || fail "the WAL was corrupted"
pass "disk full: retriable refusals, no corruption, $acked acknowledged batches all present after recovery"
