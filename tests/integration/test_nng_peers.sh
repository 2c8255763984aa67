# Two processes talk request/reply over nng on loopback TCP, the requester
# started first (background dialing with reconnect), then across a peer
# restart.
. "$(dirname "$0")/lib.sh"

port=$(freeport)
addr="tcp://127.0.0.1:$port"
("$PEER" req "$addr" hello >"$TMP/req1.out" 2>&1) &
req=$!
sleep 0.3
start rep "$PEER" rep "$addr"
wait "$req" || fail "request before the peer started did not complete: $(cat "$TMP/req1.out")"
[ "$(cat "$TMP/req1.out")" = olleh ] || fail "bad reply: $(cat "$TMP/req1.out")"
kill -KILL "$rep_PID"
sleep 0.2
start rep2 "$PEER" rep "$addr"
sleep 0.2
out=$("$PEER" req "$addr" world) || fail "request after restart failed"
[ "$out" = dlrow ] || fail "bad reply after restart: $out"
pass "nng req/rep across processes and a peer restart"
