# Topology-aware inhibition, with the real axon-discoverer's dependency
# graph (services registered through its Consul API with
# Meta.depends_on):
#   - auth with 30 dependent services (10 direct, 20 through those, and a
#     cycle among two of them): the route groups by alertname and service;
#     the root ServiceDown on auth plus 30 HighErrorRate symptoms give
#     exactly one PagerDuty trigger, naming auth and listing exactly the 30
#     dependents; the API shows each symptom inhibited by the root;
#   - the root resolves while the symptoms still fire for a while: they
#     stay inhibited through the hold-down and never page; exactly one
#     resolve follows;
#   - a chain a -> b -> c -> d with d down pages only d;
#   - the discoverer killed and the alert router restarted: the saved
#     graph keeps working;
#   - the control: the same storm with topology inhibition switched off
#     gives 31 triggers.
. "$(dirname "$0")/lib.sh"

DIR=$TOP/tests/integration/alert-router
SINK="python3 $DIR/sink.py"
dport=$(freeport); cport=$(freeport); pport=$(freeport)
cat >"$TMP/d.yml" <<YML
axon_discoverer:
  control_listen: tcp://127.0.0.1:$cport
  publish_listen: tcp://127.0.0.1:$pport
  publish_interval: 1s
YML
D=http://127.0.0.1:$dport
start disc "$BIN/axon-discoverer" --config.file="$TMP/d.yml" --web.listen-address="127.0.0.1:$dport" \
	--storage.path="$TMP/reg"
wait_http "$D/-/ready"
reg() { # name depends_on
	curl -fsS -X PUT "$D/v1/agent/service/register" \
		--data-binary "{\"Name\":\"$1\",\"ID\":\"$1-1\",\"Port\":1,\"Meta\":{\"depends_on\":\"$2\"}}" >/dev/null ||
		fail "register $1"
}
reg auth ""
DEPS=()
for i in $(seq -w 1 10); do reg "svc$i" auth; DEPS+=("svc$i"); done
for i in $(seq 11 28); do reg "svc$i" "svc$(printf %02d $(( (i - 11) % 10 + 1 )))"; DEPS+=("svc$i"); done
reg svc29 "auth, svc30"   # svc29 <-> svc30: a cycle below auth
reg svc30 svc29
DEPS+=(svc29 svc30)
reg other ""
reg d ""; reg c d; reg b c; reg a b

sink=$(freeport)
start sink $SINK "$sink" "$TMP/pages.jsonl"
arport=$(freeport)
AR=http://127.0.0.1:$arport
router_cfg() { # enabled
	cat >"$TMP/ar.yml" <<YML
route:
  receiver: pd
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: demo
        url: http://127.0.0.1:$sink/v2/enqueue
axon_alert_router:
  discoverer: tcp://127.0.0.1:$cport
  discoverer_publish: tcp://127.0.0.1:$pport
  topology_inhibition:
    enabled: $1
    cause_matchers: ['alertname="ServiceDown"']
    symptom_matchers: ['severity=~"warning|critical"']
    hold_down: 4s
YML
}
start_router() { # name storage
	start "$1" "$BIN/axon-alert-router" --config.file="$TMP/ar.yml" --web.listen-address="127.0.0.1:$arport" \
		--storage.path="$2"
	wait_http "$AR/-/ready"
}
wait_graph() {
	local i
	for i in $(seq 100); do
		[ "$(metric_value "$AR/metrics" axon_alert_router_dependency_graph_services 2>/dev/null || echo 0)" -ge 36 ] && return 0
		sleep 0.1
	done
	fail "the alert router did not get the dependency graph"
}
ts() { python3 -c 'import datetime,sys; t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$1"; }
post() { curl -fsS -o /dev/null -X POST -d "$1" "$AR/api/v2/alerts" || fail "POST alerts"; }
storm() { # wave ends-at: ServiceDown on auth + HighErrorRate on the 30
	local body="[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"wave\":\"$1\"},\"startsAt\":\"$S0\",\"endsAt\":\"$2\"}"
	for s in "${DEPS[@]}"; do
		body+=",{\"labels\":{\"alertname\":\"HighErrorRate\",\"service\":\"$s\",\"severity\":\"warning\",\"wave\":\"$1\"},\"startsAt\":\"$S0\",\"endsAt\":\"$2\"}"
	done
	post "$body]"
}
events() { # action -> count of PagerDuty events of that action
	python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if not r["failed"] and r["body"]["event_action"] == sys.argv[2]:
        n += 1
print(n)' "$TMP/pages.jsonl" "$1" 2>/dev/null || echo 0
}

router_cfg true
start_router ar "$TMP/ar"
wait_graph
S0=$(ts -1)
t0=$(date +%s.%N)
storm 1 "$(ts 3600)"
for i in $(seq 40); do [ "$(events trigger)" -ge 1 ] && break; sleep 0.1; done
tpage=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$(date +%s.%N)" "$t0")
sleep 3 # nothing else may come
[ "$(events trigger)" = 1 ] || fail "expected exactly 1 trigger, got $(events trigger)"
python3 - "$TMP/pages.jsonl" "${DEPS[*]}" <<'PY' || fail "the page does not name the root and its suppressed dependents"
import json, sys
page = [json.loads(l)["body"] for l in open(sys.argv[1])][0]
want = sorted(sys.argv[2].split())
p = page["payload"]
assert "ServiceDown auth" in p["summary"], p["summary"]
assert "30 alerts from 30 dependent services suppressed" in p["summary"], p["summary"]
got = p["custom_details"]["suppressed_services"].split(", ")
assert got == want, (got, want)
assert p["custom_details"]["suppressed_alerts"] == "30"
PY
curl -fsS "$AR/api/v2/alerts?filter=alertname%3D%22HighErrorRate%22" >"$TMP/sym.json"
rootfp=$(curl -fsS "$AR/api/v2/alerts?filter=alertname%3D%22ServiceDown%22" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert len(a)==1 and a[0]["status"]["state"]=="active", a; print(a[0]["fingerprint"])')
python3 - "$TMP/sym.json" "$rootfp" <<'PY' || fail "API: symptoms not shown inhibited by the root"
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 30, len(a)
for x in a:
    assert x["status"]["state"] == "suppressed" and x["status"]["inhibitedBy"] == [sys.argv[2]], x["status"]
PY
pass "auth down + 30 dependents: 1 trigger naming auth and the 30 suppressed services (time to page ${tpage}s); the API shows the inhibition"

# the root heals; its symptoms lag 2 s behind (within the 4 s hold-down)
post "[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"wave\":\"1\"},\"startsAt\":\"$S0\",\"endsAt\":\"$(ts 0)\"}]"
sleep 2
storm 1 "$(ts 0)" # everything resolved now
post "[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"wave\":\"1\"},\"startsAt\":\"$S0\",\"endsAt\":\"$(ts -2)\"}]"
sleep 6
[ "$(events trigger)" = 1 ] || fail "symptoms paged after the root healed ($(events trigger) triggers)"
[ "$(events resolve)" = 1 ] || fail "expected exactly 1 resolve, got $(events resolve)"
pass "after the heal the symptoms stay inhibited through the hold-down; exactly 1 resolve"

# a -> b -> c -> d, d down: only d pages
before=$(events trigger)
post "[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"d\",\"severity\":\"critical\"},\"startsAt\":\"$(ts -1)\",\"endsAt\":\"$(ts 3600)\"},
{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"a\",\"severity\":\"warning\"},\"startsAt\":\"$(ts -1)\",\"endsAt\":\"$(ts 3600)\"},
{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"b\",\"severity\":\"critical\"},\"startsAt\":\"$(ts -1)\",\"endsAt\":\"$(ts 3600)\"},
{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"c\",\"severity\":\"warning\"},\"startsAt\":\"$(ts -1)\",\"endsAt\":\"$(ts 3600)\"},
{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"other\",\"severity\":\"warning\"},\"startsAt\":\"$(ts -1)\",\"endsAt\":\"$(ts 3600)\"}]"
sleep 4
python3 - "$TMP/pages.jsonl" "$before" <<'PY' || fail "chain: not only d (and the unrelated service) paged"
import json, sys
pages = [json.loads(l)["body"] for l in open(sys.argv[1])][int(sys.argv[2]):]
trig = sorted(p["payload"]["summary"].split(";")[0] for p in pages if p["event_action"] == "trigger")
assert trig == ["[FIRING:1] HighLatency other (warning)", "[FIRING:1] ServiceDown d (critical)"], trig
d = [p for p in pages if "ServiceDown d" in p["payload"]["summary"]][0]
assert d["payload"]["custom_details"]["suppressed_services"] == "a, b, c", d["payload"]["custom_details"]
PY
pass "a -> b -> c -> d with d down pages only d (an unrelated service still pages)"

# the discoverer goes away and the alert router restarts: the saved graph
kill -9 "$disc_PID"
kill "$ar_PID"
wait_exit "$ar_PID" 10
start_router ar2 "$TMP/ar"
[ "$(metric_value "$AR/metrics" axon_alert_router_dependency_graph_services)" -ge 36 ] ||
	fail "the saved graph was not loaded"
before=$(events trigger)
S0=$(ts -1)
storm 2 "$(ts 3600)"
sleep 4
[ "$(( $(events trigger) - before ))" = 1 ] || fail "without the discoverer: $(( $(events trigger) - before )) triggers, want 1"
pass "with the discoverer down, the saved graph keeps inhibiting after a restart"

# the control: topology inhibition off
kill "$ar2_PID"
wait_exit "$ar2_PID" 10
router_cfg false
start_router ar3 "$TMP/ar3"
before=$(events trigger)
S0=$(ts -1)
storm 3 "$(ts 3600)"
for i in $(seq 60); do [ "$(( $(events trigger) - before ))" -ge 31 ] && break; sleep 0.1; done
sleep 2
n=$(( $(events trigger) - before ))
[ "$n" = 31 ] || fail "control: $n triggers, want 31"
pass "control: with topology inhibition off, 1 root + 30 symptoms give 31 triggers (reduction 31 -> 1)"
