# PagerDuty Events API parity: axon-alert-router and Debian's Alertmanager
# 0.25, same config and alerts, each sending to its own local sink: the
# Events API v2 bodies (routing_key, dedup_key, event_action, payload
# summary, source, severity, class/component/group, custom_details,
# images, links, client, client_url) must be identical, with the default
# templates and with templated fields, for the trigger and for the
# resolve.  (v1 service keys always go to PagerDuty's fixed v1 endpoint in
# both, which no test here can reach.)
. "$(dirname "$0")/lib.sh"

command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
SINK="python3 $DIR/sink.py"

config() { # file sink-port
	cat >"$1" <<YML
route:
  receiver: pd
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: key-default
        url: http://127.0.0.1:$2/v2/default
      - routing_key: '{{ .CommonLabels.service }}-key'
        url: http://127.0.0.1:$2/v2/custom
        description: '{{ .CommonLabels.service }} is down; {{ .Alerts.Firing | len }} firing'
        severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}'
        class: '{{ .GroupLabels.alertname }}'
        component: web
        group: '{{ .CommonLabels.team }}'
        source: 'axon-test'
        details:
          count: '{{ len .Alerts }}'
          first: '{{ (index .Alerts 0).Labels.instance }}'
        images:
          - src: 'http://img/{{ .CommonLabels.service }}.png'
            alt: graph
            href: 'http://g'
          - src: ''
            alt: dropped
        links:
          - href: '{{ (index .Alerts 0).GeneratorURL }}'
            text: source
YML
}

axsink=$(freeport); amsink=$(freeport)
start axsink $SINK "$axsink" "$TMP/ax.out"
start amsink $SINK "$amsink" "$TMP/am.out"
config "$TMP/ax.yml" "$axsink"
config "$TMP/am.yml" "$amsink"
axport=$(freeport); amport=$(freeport)
AX=http://127.0.0.1:$axport; AM=http://127.0.0.1:$amport
start ar "$BIN/axon-alert-router" --config.file="$TMP/ax.yml" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ard" --web.external-url=http://am.example:9093
start am prometheus-alertmanager --config.file="$TMP/am.yml" --web.listen-address="127.0.0.1:$amport" \
	--storage.path="$TMP/amd" --cluster.listen-address= --web.external-url=http://am.example:9093
wait_http "$AX/-/ready"
wait_http "$AM/-/ready"

ts() { python3 -c 'import datetime,sys; t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$1"; }
both() {
	for u in "$AX" "$AM"; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$1" "$u/api/v2/alerts")" = 200 ] ||
			fail "POST to $u"
	done
}
count() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if not json.loads(l)["failed"]))' "$1" 2>/dev/null || echo 0; }
converge() { # n what
	local i
	for i in $(seq 60); do
		[ "$(count "$TMP/ax.out")" -ge "$1" ] && [ "$(count "$TMP/am.out")" -ge "$1" ] && break
		sleep 0.25
	done
	sleep 0.5
	for f in ax am; do
		python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
recs = [r for r in recs if not r["failed"]]
for r in sorted(recs, key=lambda r: r["path"]):
    print(r["path"], json.dumps(r["body"], sort_keys=True))' "$TMP/$f.out" >"$TMP/$f.norm"
	done
	if ! cmp -s "$TMP/ax.norm" "$TMP/am.norm"; then
		diff <(tr ',' '\n' <"$TMP/am.norm") <(tr ',' '\n' <"$TMP/ax.norm") | head -40
		fail "$2: PagerDuty bodies differ from Alertmanager's"
	fi
	[ "$(wc -l <"$TMP/ax.norm")" = "$1" ] || fail "$2: $(wc -l <"$TMP/ax.norm") events, want $1"
}

s0=$(ts -1); far=$(ts 3600)
both "[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"team\":\"id\",\"instance\":\"auth-1\"},\"annotations\":{\"summary\":\"auth-1 down\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\",\"generatorURL\":\"http://prom/graph?g0\"},
{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"team\":\"id\",\"instance\":\"auth-2\"},\"startsAt\":\"$s0\",\"endsAt\":\"$far\"}]"
converge 2 "trigger"
grep -q '"event_action": "trigger"' "$TMP/ax.norm" || fail "no trigger"
grep -q '"summary": "\[FIRING:2\] ServiceDown auth (critical id)"' "$TMP/ax.norm" || fail "default summary: $(cat "$TMP/ax.norm")"
end=$(ts 0)
both "[{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"team\":\"id\",\"instance\":\"auth-1\"},\"annotations\":{\"summary\":\"auth-1 down\"},\"startsAt\":\"$s0\",\"endsAt\":\"$end\",\"generatorURL\":\"http://prom/graph?g0\"},
{\"labels\":{\"alertname\":\"ServiceDown\",\"service\":\"auth\",\"severity\":\"critical\",\"team\":\"id\",\"instance\":\"auth-2\"},\"startsAt\":\"$s0\",\"endsAt\":\"$end\"}]"
converge 4 "resolve"
[ "$(grep -c '"event_action": "resolve"' "$TMP/ax.norm")" = 2 ] || fail "no v2 resolves"
pass "PagerDuty v2 events identical to Alertmanager 0.25's (trigger and resolve, default and templated fields)"
