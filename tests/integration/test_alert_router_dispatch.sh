# Dispatch parity with Alertmanager 0.25: axon-alert-router and Debian's
# Alertmanager get the same alerts over the same config (short
# group_wait/group_interval/repeat_interval), each notifying its own
# webhook sink; the notifications must be the same, in the same order
# (group keys, status, alerts, their start and end times, group and common
# labels; send_resolved honoured; inhibited and silenced alerts left out).
# Then, axon only: the notification log holds repeat_interval across
# kill -9; a receiver answering 500 is retried until it takes the
# notification, one answering 400 is not retried.
. "$(dirname "$0")/lib.sh"

command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
SINK="python3 $DIR/sink.py"
NC="python3 $DIR/notifycmp.py"

config() { # file sink-port repeat
	cat >"$1" <<YML
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: $3
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      repeat_interval: 1h
    - matchers: ['alertname="Z"']
      repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:$2/team
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:$2/pager
        send_resolved: false
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
YML
}

axsink=$(freeport); amsink=$(freeport)
start axsink $SINK "$axsink" "$TMP/ax.out"
start amsink $SINK "$amsink" "$TMP/am.out"
# repeat_interval 5s for group X, not a multiple of group_interval (2s), so
# that both sides repeat at the same tick
config "$TMP/ax.yml" "$axsink" 5s
config "$TMP/am.yml" "$amsink" 5s
axport=$(freeport); amport=$(freeport)
AX=http://127.0.0.1:$axport; AM=http://127.0.0.1:$amport
start ar "$BIN/axon-alert-router" --config.file="$TMP/ax.yml" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ard"
start am prometheus-alertmanager --config.file="$TMP/am.yml" --web.listen-address="127.0.0.1:$amport" \
	--storage.path="$TMP/amd" --cluster.listen-address=
wait_http "$AX/-/ready"
wait_http "$AM/-/ready"

ts() { python3 -c 'import datetime,sys; t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$1"; }
both() { # JSON body
	local code
	for u in "$AX" "$AM"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$1" "$u/api/v2/alerts")
		[ "$code" = 200 ] || fail "POST to $u: $code"
	done
}
# wait until both sinks have n notifications, then compare them all
converge() { # n what
	local i
	for i in $(seq 60); do
		[ "$($NC count "$TMP/ax.out")" -ge "$1" ] && [ "$($NC count "$TMP/am.out")" -ge "$1" ] && break
		sleep 0.25
	done
	sleep 0.5 # nothing more may arrive
	$NC norm "$TMP/ax.out" >"$TMP/ax.norm"
	$NC norm "$TMP/am.out" >"$TMP/am.norm"
	if ! cmp -s "$TMP/ax.norm" "$TMP/am.norm"; then
		diff <(tr ',' '\n' <"$TMP/am.norm") <(tr ',' '\n' <"$TMP/ax.norm") | head -40
		fail "$2: notifications differ from Alertmanager's"
	fi
	[ "$(wc -l <"$TMP/ax.norm")" = "$1" ] || fail "$2: $(wc -l <"$TMP/ax.norm") notifications, want $1"
}

s0=$(ts -1); far=$(ts 3600)
# 1: group X (2 alerts), a page, a critical that inhibits a warning.  The
# critical goes first, on its own: Alertmanager's inhibitor learns of new
# alerts asynchronously, and a warning arriving in the same batch may be
# flushed before it knows the critical.
both "[{\"labels\":{\"alertname\":\"Z\",\"severity\":\"critical\",\"job\":\"j\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]"
sleep 0.5
both "[{\"labels\":{\"alertname\":\"X\",\"instance\":\"i1\"},\"annotations\":{\"summary\":\"x one\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"},
{\"labels\":{\"alertname\":\"X\",\"instance\":\"i2\"},\"annotations\":{\"summary\":\"x two\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\",\"generatorURL\":\"http://g/x\"},
{\"labels\":{\"alertname\":\"P\",\"severity\":\"page\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"},
{\"labels\":{\"alertname\":\"Z\",\"severity\":\"warning\",\"job\":\"j\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]"
converge 3 "first notifications"
grep -q '"severity": "warning"' "$TMP/ax.norm" && fail "an inhibited alert was notified"
# 2: a third X alert joins at the next group_interval
both "[{\"labels\":{\"alertname\":\"X\",\"instance\":\"i3\"},\"startsAt\":\"$(ts 0)\",\"endsAt\":\"$far\"}]"
converge 4 "an alert joining a group"
# 3: i1 resolves; the page resolves (send_resolved false: nothing sent)
both "[{\"labels\":{\"alertname\":\"X\",\"instance\":\"i1\"},\"annotations\":{\"summary\":\"x one\"},\"startsAt\":\"$s0\",\"endsAt\":\"$(ts 0)\"},
{\"labels\":{\"alertname\":\"P\",\"severity\":\"page\"},\"startsAt\":\"$s0\",\"endsAt\":\"$(ts 0)\"}]"
converge 5 "a resolved alert"
grep 'alertname=\\"X\\"' "$TMP/ax.norm" | tail -1 | grep -q '"status": "resolved"' ||
	fail "resolved alert not in the last notification of group X"
# 4: a silence on X/i3; then repeat_interval passes: X repeats without i3
sil="{\"matchers\":[{\"name\":\"instance\",\"value\":\"i3\",\"isRegex\":false}],\"startsAt\":\"$(ts 0)\",\"endsAt\":\"$far\",\"createdBy\":\"t\",\"comment\":\"c\"}"
for u in "$AX" "$AM"; do
	curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$sil" "$u/api/v2/silences" || fail "silence on $u"
done
converge 6 "repeat after repeat_interval, silenced alert left out"
pass "notifications identical to Alertmanager 0.25's: grouping, group_interval, send_resolved, inhibition, silences, repeat_interval"

# 5: the notification log across kill -9 (axon only)
before=$($NC count "$TMP/ax.out")
kill -9 "$ar_PID"
wait_exit "$ar_PID" 5
# A longer repeat_interval from here on (the groups' keys are unchanged),
# so that no repeat is due in the window checked below.
config "$TMP/ax.yml" "$axsink" 12s
start ar2 "$BIN/axon-alert-router" --config.file="$TMP/ax.yml" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ard"
wait_http "$AX/-/ready"
# the senders re-send what fires: X/i2, X/i3 (silenced), Z critical
# (group X was notified last less than 5 s before the kill)
curl -fsS -o /dev/null -X POST -d "[{\"labels\":{\"alertname\":\"X\",\"instance\":\"i2\"},\"annotations\":{\"summary\":\"x two\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\",\"generatorURL\":\"http://g/x\"},
{\"labels\":{\"alertname\":\"X\",\"instance\":\"i3\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"},
{\"labels\":{\"alertname\":\"Z\",\"severity\":\"critical\",\"job\":\"j\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]" "$AX/api/v2/alerts"
sleep 3.5
after=$($NC count "$TMP/ax.out")
[ "$after" = "$before" ] || fail "notified again right after a restart ($before -> $after): the notification log was lost"
for i in $(seq 80); do
	[ "$($NC count "$TMP/ax.out")" -gt "$before" ] && break
	sleep 0.25
done
[ "$($NC count "$TMP/ax.out")" -gt "$before" ] || fail "no repeat after repeat_interval following the restart"
pass "repeat_interval holds across kill -9 (notification log)"

# 6: retries: 500 twice then 200 -> delivered; 400 -> one attempt per flush
r500=$(freeport); r400=$(freeport)
start s500 $SINK "$r500" "$TMP/r500.out" 2 500
start s400 $SINK "$r400" "$TMP/r400.out" 1000 400
cat >"$TMP/retry.yml" <<YML
route:
  receiver: flaky
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="Bad"']
      receiver: bad
receivers:
  - name: flaky
    webhook_configs: [{url: "http://127.0.0.1:$r500/x"}]
  - name: bad
    webhook_configs: [{url: "http://127.0.0.1:$r400/x"}]
YML
rport=$(freeport)
start ar3 "$BIN/axon-alert-router" --config.file="$TMP/retry.yml" --web.listen-address="127.0.0.1:$rport" \
	--storage.path="$TMP/ar3"
wait_http "http://127.0.0.1:$rport/-/ready"
curl -fsS -o /dev/null -X POST -d '[{"labels":{"alertname":"Flaky"}},{"labels":{"alertname":"Bad"}}]' "http://127.0.0.1:$rport/api/v2/alerts"
for i in $(seq 40); do
	[ "$($NC count "$TMP/r500.out")" -ge 1 ] && break
	sleep 0.25
done
[ "$($NC count "$TMP/r500.out")" = 1 ] || fail "a receiver answering 500 twice did not get the notification"
[ "$(wc -l <"$TMP/r500.out")" = 3 ] || fail "expected 2 failed attempts and 1 delivery, got $(wc -l <"$TMP/r500.out") requests"
[ "$(wc -l <"$TMP/r400.out")" = 1 ] || fail "a 400 was retried ($(wc -l <"$TMP/r400.out") requests)"
curl -fsS "http://127.0.0.1:$rport/metrics" | grep -q '^alertmanager_notifications_failed_total{integration="webhook"} 1$' ||
	fail "failed notifications not counted"
pass "5xx retried until delivered, 4xx not retried, failures counted"
