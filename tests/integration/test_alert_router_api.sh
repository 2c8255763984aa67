# Alertmanager API v2 parity: axon-alert-router and Debian's Alertmanager
# 0.25 get the same alerts and silences over the same config; their
# answers (fingerprints, receivers, suppression state, inhibiting alerts,
# groups) must agree.  Then amtool drives axon-alert-router (alert add,
# alert query, silence add/query/expire), bad input gets 400 with a
# reason, silences survive kill -9, and Prometheus 2.42 delivers a firing
# alert that is routed.
. "$(dirname "$0")/lib.sh"

for b in amtool prometheus-alertmanager prometheus; do
	command -v "$b" >/dev/null || fail "$b not installed (make deps)"
done
DIR=$TOP/tests/integration/alert-router
CMP="python3 $DIR/apicmp.py"
CFG=$DIR/api.yml

axport=$(freeport)
AX=http://127.0.0.1:$axport
start ar "$BIN/axon-alert-router" --config.file="$CFG" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ar" --web.max-request-bytes=1MiB
amport=$(freeport)
AM=http://127.0.0.1:$amport
start am prometheus-alertmanager --config.file="$CFG" --web.listen-address="127.0.0.1:$amport" \
	--storage.path="$TMP/am" --cluster.listen-address=
wait_http "$AX/-/ready"
wait_http "$AM/-/ready"

post() { # base path file -> prints the status code
	curl -s -o "$TMP/post.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary @"$3" "$1$2"
}

$CMP alerts >"$TMP/alerts.json"
[ "$(post "$AX" /api/v2/alerts "$TMP/alerts.json")" = 200 ] || fail "axon POST alerts: $(cat "$TMP/post.out")"
[ "$(post "$AM" /api/v2/alerts "$TMP/alerts.json")" = 200 ] || fail "alertmanager POST alerts: $(cat "$TMP/post.out")"

# Alertmanager's inhibitor and dispatcher see new alerts asynchronously:
# compare until they agree (or 10 s).
same() { # query normaliser label
	local i
	for i in $(seq 50); do
		curl -fsS "$AX$1" >"$TMP/ax.json"
		curl -fsS "$AM$1" >"$TMP/am.json"
		$CMP "$2" "$TMP/ax.json" >"$TMP/ax.norm"
		$CMP "$2" "$TMP/am.json" >"$TMP/am.norm"
		cmp -s "$TMP/ax.norm" "$TMP/am.norm" && return 0
		sleep 0.2
	done
	diff -u "$TMP/am.norm" "$TMP/ax.norm" || true
	fail "$3: axon and Alertmanager disagree on $1"
}
same /api/v2/alerts norm-alerts "all alerts"
grep -q '"inhibitedBy": \[' "$TMP/ax.norm" || fail "no alert shown"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/ax.json")
[ "$n" = 12 ] || fail "expected 12 unresolved alerts, axon shows $n"
python3 - "$TMP/ax.norm" <<'PY' || fail "inhibition cases"
import json, sys
al = json.load(open(sys.argv[1]))
by = {json.dumps(a["labels"], sort_keys=True): a for a in al}
def get(**l): return by[json.dumps(l, sort_keys=True)]
crit = get(alertname="ServiceDown", service="auth", severity="critical")
warn = get(alertname="ServiceDown", service="auth", severity="warning")
assert warn["inhibitedBy"] == [crit["fingerprint"]], warn
assert get(alertname="ServiceDown", service="cart", severity="warning")["state"] == "active"
# NodeDown matches both sides of rule 2: neither NodeDown inhibits the other
assert get(alertname="NodeDown", instance="n1")["state"] == "active"
assert get(alertname="NodeHighLoad", instance="n1")["state"] == "suppressed"
assert get(alertname="NodeHighLoad", instance="n2")["state"] == "active"
PY
for q in '?active=false' '?inhibited=false' '?filter=service%3D%22auth%22' \
	'?filter=severity%3D~%22crit.%2A%22&filter=team%21%3D%22db%22' '?receiver=stor.%2A' \
	'?filter=team%3D%22%22' '?filter=team%21~%22%22'; do
	same "/api/v2/alerts$q" norm-alerts "filtered alerts"
done
same /api/v2/alerts/groups norm-groups "alert groups"
same '/api/v2/alerts/groups?inhibited=false&receiver=db' norm-groups "filtered groups"
pass "API v2 alerts and groups agree with Alertmanager 0.25 (12 alerts, 7 filters)"

# silences: the same silence on both, then the same suppression
sil='{"matchers":[{"name":"service","value":"cart","isRegex":false,"isEqual":true},{"name":"severity","value":"warn.*","isRegex":true}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"test","comment":"cart maintenance"}'
echo "$sil" >"$TMP/sil.json"
[ "$(post "$AX" /api/v2/silences "$TMP/sil.json")" = 200 ] || fail "axon POST silence: $(cat "$TMP/post.out")"
axsid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["silenceID"])' "$TMP/post.out")
[ "$(post "$AM" /api/v2/silences "$TMP/sil.json")" = 200 ] || fail "alertmanager POST silence"
same /api/v2/alerts norm-alerts "alerts under a silence"
grep -q '"silenced": 1' "$TMP/ax.norm" || fail "silence muted nothing"
same '/api/v2/alerts?silenced=false' norm-alerts "alerts without the silenced"
curl -fsS "$AX/api/v2/silence/$axsid" | grep -q '"state":"active"' || fail "GET silence/{id}"
pass "silences suppress the same alerts as Alertmanager's"

# amtool against axon-alert-router
U=--alertmanager.url=$AX
amtool "$U" alert add alertname=AmtoolAlert service=web severity=page --annotation=summary="added by amtool" 2>/dev/null
amtool "$U" alert query alertname=AmtoolAlert 2>/dev/null >"$TMP/q.out"
grep -q 'AmtoolAlert .* added by amtool *active' "$TMP/q.out" || fail "amtool alert query: $(cat "$TMP/q.out")"
id=$(amtool "$U" silence add alertname=AmtoolAlert -c "amtool silence" -d 1h 2>/dev/null)
[ -n "$id" ] || fail "amtool silence add printed no id"
amtool "$U" silence query alertname=AmtoolAlert 2>/dev/null | grep -q "^$id .*alertname=\"AmtoolAlert\".*amtool silence" ||
	fail "amtool silence query"
amtool "$U" alert query -s alertname=AmtoolAlert 2>/dev/null | grep -q 'AmtoolAlert .*suppressed' || fail "alert not suppressed"
amtool "$U" silence expire "$id" 2>/dev/null || fail "amtool silence expire"
amtool "$U" silence query 2>/dev/null | grep -q "^$id" && fail "expired silence still listed as active"
amtool "$U" silence query --expired 2>/dev/null | grep -q "^$id" || fail "expired silence not listed with --expired"
amtool "$U" alert query alertname=AmtoolAlert 2>/dev/null | grep -q 'AmtoolAlert .*active' || fail "alert not active after expire"
rc=0; amtool "$U" silence expire "$id" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "expiring an expired silence succeeded"
amtool "$U" cluster show 2>/dev/null | grep -q 'Cluster Status: *disabled' || fail "amtool cluster show"
pass "amtool alert add/query, silence add/query/expire, cluster show"

# bad input: 400 with a reason
bad() { # path body want
	printf '%s' "$2" >"$TMP/bad.json"
	code=$(post "$AX" "$1" "$TMP/bad.json")
	[ "$code" = 400 ] || fail "POST $1 $2: status $code, want 400"
	grep -q -- "$3" "$TMP/post.out" || fail "POST $1 $2: answer lacks '$3': $(cat "$TMP/post.out")"
}
bad /api/v2/alerts '[{"labels":{"a":"b"}' 'invalid JSON at byte'
bad /api/v2/alerts '{"labels":{"a":"b"}}' 'must be a JSON list'
bad /api/v2/alerts '[{"annotations":{}}]' 'alerts\[0\].labels in body is required'
bad /api/v2/alerts '[{"labels":{"a":1}}]' 'must be of type string'
bad /api/v2/alerts '[{"labels":{"a":"b"},"startsAt":"yesterday"}]' 'must be of type date-time'
bad /api/v2/alerts '[{"labels":{"x":"ok"}},{"labels":{"a":"b"},"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"}]' \
	'alerts\[1\]: start time must be before end time'
bad /api/v2/alerts '[{"labels":{"1bad":"b"}}]' 'invalid label set: invalid name'
bad /api/v2/alerts '[{"labels":{}}]' 'at least one label pair required'
curl -fsS "$AX/api/v2/alerts?filter=x%3D%22ok%22" | grep -q '"x":"ok"' || fail "the valid alert of a partly bad batch was not kept"
bad /api/v2/silences '{"matchers":[{"name":"a","value":"(","isRegex":true}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"t","comment":"c"}' 'invalid label matcher 0'
bad /api/v2/silences '{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"t","comment":"c"}' 'start time must be before end time'
bad /api/v2/silences '{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-01-02T00:00:00Z","createdBy":"t","comment":"c"}' "end time can't be in the past"
bad /api/v2/silences '{"matchers":[{"name":"a","value":".*","isRegex":true}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-02T00:00:00Z","createdBy":"t","comment":"c"}' 'must not match the empty string'
bad /api/v2/silences '{"matchers":[],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-02T00:00:00Z","createdBy":"t","comment":"c"}' 'at least 1 items'
bad /api/v2/silences '{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-02T00:00:00Z","comment":"c"}' 'createdBy in body is required'
code=$(curl -s -o "$TMP/get.out" -w '%{http_code}' "$AX/api/v2/alerts?filter=a~b")
[ "$code" = 400 ] && grep -q 'bad matcher format: a~b' "$TMP/get.out" || fail "bad filter: $code $(cat "$TMP/get.out")"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
[ "$(post "$AX" /api/v2/alerts "$TMP/big.json")" = 400 ] || fail "oversized body not refused with 400"
code=$(curl -s -o /dev/null -w '%{http_code}' "$AX/api/v2/silence/00000000-0000-4000-8000-000000000000")
[ "$code" = 404 ] || fail "unknown silence: $code"
pass "bad API input gets 400 with the reason; unknown silence 404"

# silences survive kill -9
kill -9 "$ar_PID"
wait_exit "$ar_PID" 5
start ar2 "$BIN/axon-alert-router" --config.file="$CFG" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ar"
wait_http "$AX/-/ready"
curl -fsS "$AX/api/v2/silences" >"$TMP/sils.json"
python3 - "$TMP/sils.json" "$axsid" "$id" <<'PY' || fail "silences after kill -9: $(cat "$TMP/sils.json")"
import json, sys
st = {s["id"]: s["status"]["state"] for s in json.load(open(sys.argv[1]))}
assert st.get(sys.argv[2]) == "active", st
assert st.get(sys.argv[3]) == "expired", st
PY
pass "silences survive kill -9"

# Prometheus 2.42 sends a firing alert; it is routed
cat >"$TMP/rules.yml" <<'YML'
groups:
  - name: axon
    interval: 1s
    rules:
      - alert: PromFiring
        expr: vector(1)
        labels: {severity: critical, service: auth}
        annotations: {summary: "from prometheus"}
YML
pport=$(freeport)
cat >"$TMP/prom.yml" <<YML
global:
  evaluation_interval: 1s
rule_files: ["$TMP/rules.yml"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:$axport"]
YML
start prom prometheus --config.file="$TMP/prom.yml" --web.listen-address="127.0.0.1:$pport" \
	--storage.tsdb.path="$TMP/prom" --rules.alert.resend-delay=1s
for i in $(seq 100); do
	curl -fsS "$AX/api/v2/alerts?filter=alertname%3D%22PromFiring%22" >"$TMP/prom.json" 2>/dev/null || true
	grep -q PromFiring "$TMP/prom.json" && break
	sleep 0.2
done
python3 - "$TMP/prom.json" <<'PY' || fail "alert from Prometheus: $(cat "$TMP/prom.json")"
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 1, a
a = a[0]
assert a["labels"] == {"alertname": "PromFiring", "severity": "critical", "service": "auth"}, a["labels"]
assert [r["name"] for r in a["receivers"]] == ["pager"], a["receivers"]
assert a["annotations"]["summary"] == "from prometheus"
assert a["generatorURL"].startswith("http"), a
PY
pass "Prometheus 2.42 delivers an alert; routed to pager"
