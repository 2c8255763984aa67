# High availability: two axon-alert-router replicas peered over nng get
# the same alerts (as from two rulers) and notify the same webhook sink.
# Each group must be notified exactly once (firing, then resolved); a
# silence made on one replica appears on the other, and so does its
# expiry; after either replica is killed (-9) and restarted, groups are
# still notified once, and what changed while it was down reaches it by
# the full-state exchange; with a replica dead, its peer still notifies
# (a duplicate at worst, never a missed page).
. "$(dirname "$0")/lib.sh"

DIR=$TOP/tests/integration/alert-router
SINK="python3 $DIR/sink.py"

sinkp=$(freeport)
start sink $SINK "$sinkp" "$TMP/sink.out"
cat >"$TMP/ha.yml" <<YML
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:$sinkp/team
        send_resolved: true
YML
wa=$(freeport); wb=$(freeport); ca=$(freeport); cb=$(freeport)
A=http://127.0.0.1:$wa; B=http://127.0.0.1:$wb
CLUSTER="--cluster.peer-timeout=3s --cluster.gossip-interval=100ms --cluster.probe-interval=200ms
	--cluster.pushpull-interval=2s --cluster.settle-timeout=10s"
start_a() { # name
	# shellcheck disable=SC2086
	start "$1" "$BIN/axon-alert-router" --config.file="$TMP/ha.yml" --web.listen-address="127.0.0.1:$wa" \
		--storage.path="$TMP/a" --cluster.listen-address="127.0.0.1:$ca" --cluster.peer="127.0.0.1:$cb" $CLUSTER
}
start_b() {
	# shellcheck disable=SC2086
	start "$1" "$BIN/axon-alert-router" --config.file="$TMP/ha.yml" --web.listen-address="127.0.0.1:$wb" \
		--storage.path="$TMP/b" --cluster.listen-address="tcp://127.0.0.1:$cb" --cluster.peer="127.0.0.1:$ca" $CLUSTER
}
# until both replicas are settled and see 2 members
wait_cluster() {
	local i u ok
	for i in $(seq 80); do
		ok=1
		for u in "$@"; do
			curl -fsS "$u/api/v2/status" 2>/dev/null | python3 -c '
import json,sys; c=json.load(sys.stdin)["cluster"]
sys.exit(0 if c["status"]=="ready" and len(c["peers"])==2 else 1)' || ok=0
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.25
	done
	for u in "$@"; do curl -sS "$u/api/v2/status" | head -c 600; echo; done
	fail "the cluster did not form"
}
ts() { python3 -c 'import datetime,sys; t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$1"; }
post() { # body url...
	local body=$1 u code
	shift
	for u in "$@"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "$u/api/v2/alerts")
		[ "$code" = 200 ] || fail "POST to $u: $code"
	done
}
# notifications delivered for group alertname=$1 with status $2
count() {
	python3 - "$TMP/sink.out" "$1" "$2" <<'PY'
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for l in lines:
    r = json.loads(l)
    b = r.get("body") or {}
    if not r["failed"] and b.get("groupLabels", {}).get("alertname") == sys.argv[2] and b.get("status") == sys.argv[3]:
        n += 1
print(n)
PY
}
# wait up to $3 s for group $1 to have a $2 notification, then $4 s more;
# exactly one must have arrived
expect_one() {
	local i n
	for i in $(seq $(($3 * 4))); do
		[ "$(count "$1" "$2")" -ge 1 ] && break
		sleep 0.25
	done
	sleep "$4"
	n=$(count "$1" "$2")
	[ "$n" = 1 ] || { cat "$TMP/sink.out"; fail "group $1: $n $2 notifications, want exactly 1"; }
}
silence_state() { # url id
	curl -fsS "$1/api/v2/silence/$2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["state"])' 2>/dev/null || echo missing
}
wait_silence() { # url id state
	local i
	for i in $(seq 40); do
		[ "$(silence_state "$1" "$2")" = "$3" ] && return 0
		sleep 0.25
	done
	fail "silence $2 on $1: $(silence_state "$1" "$2"), want $3"
}
new_silence() { # url alertname
	curl -fsS -X POST -H 'Content-Type: application/json' "$1/api/v2/silences" -d "{\"matchers\":[{\"name\":\"alertname\",\"value\":\"$2\",\"isRegex\":false}],\"startsAt\":\"$(ts 0)\",\"endsAt\":\"$(ts 3600)\",\"createdBy\":\"ha-test\",\"comment\":\"c\"}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["silenceID"])'
}

start_a ra
start_b rb
wait_http "$A/-/ready"
wait_http "$B/-/ready"
wait_cluster "$A" "$B"
out=$(amtool --alertmanager.url="$A" -o extended cluster show 2>&1) || fail "amtool cluster show: $out"
echo "$out" | grep -q 'Cluster Status: *ready' || fail "amtool cluster show: $out"
echo "$out" | grep -q "127.0.0.1:$cb" || fail "amtool cluster show does not list the peer: $out"
pass "two replicas peered (status ready, 2 members, amtool cluster show)"

s0=$(ts -1); far=$(ts 3600)
one="[{\"labels\":{\"alertname\":\"One\",\"i\":\"1\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"},{\"labels\":{\"alertname\":\"One\",\"i\":\"2\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]"
post "$one" "$A" "$B"
# group_wait 1 s; the second replica waits 3 s more, then finds the log
expect_one One firing 8 5
pass "a group posted to both replicas is notified once"

# resolved once, too
end=$(ts 0)
post "[{\"labels\":{\"alertname\":\"One\",\"i\":\"1\"},\"startsAt\":\"$s0\",\"endsAt\":\"$end\"},{\"labels\":{\"alertname\":\"One\",\"i\":\"2\"},\"startsAt\":\"$s0\",\"endsAt\":\"$end\"}]" "$A" "$B"
expect_one One resolved 8 5
pass "its resolution is notified once"

# silences replicate both ways, expiry too
sid=$(new_silence "$A" Muted)
wait_silence "$B" "$sid" active
curl -fsS -o /dev/null -X DELETE "$B/api/v2/silence/$sid" || fail "expire on B"
wait_silence "$A" "$sid" expired
pass "a silence made on one replica and expired on the other is seen by both"

# B is killed and restarted; the rulers re-send what fires
post "[{\"labels\":{\"alertname\":\"Two\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$A" "$B"
expect_one Two firing 8 5
kill -9 "$rb_PID"
wait_exit "$rb_PID" 5
start_b rb2
wait_http "$B/-/ready"
wait_cluster "$A" "$B"
post "[{\"labels\":{\"alertname\":\"Two\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$A" "$B"
sleep 7
[ "$(count Two firing)" = 1 ] || fail "group Two notified again after replica B restarted"
pass "still one notification after replica B restarted"

# A is killed; a silence is made on B meanwhile; A restarts and learns it
kill -9 "$ra_PID"
wait_exit "$ra_PID" 5
sid2=$(new_silence "$B" Quiet)
start_a ra2
wait_http "$A/-/ready"
wait_cluster "$A" "$B"
wait_silence "$A" "$sid2" active
post "[{\"labels\":{\"alertname\":\"Two\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$A" "$B"
post "[{\"labels\":{\"alertname\":\"Three\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$A" "$B"
expect_one Three firing 8 5
[ "$(count Two firing)" = 1 ] || fail "group Two notified again after replica A restarted"
pass "still one notification after replica A restarted; a silence made while it was down reached it"

# with A dead, B alone still notifies
kill -9 "$ra2_PID"
wait_exit "$ra2_PID" 5
post "[{\"labels\":{\"alertname\":\"Four\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$B"
expect_one Four firing 10 2
pass "with its peer dead, a replica still notifies"
