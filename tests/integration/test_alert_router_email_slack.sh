# E-mail and Slack parity with Alertmanager 0.25: axon-alert-router and
# Debian's Alertmanager get the same alerts over the same config, each
# sending e-mail to its own SMTP sink (smtpsink.py, AUTH required) and
# Slack posts to its own webhook sink.  The messages must be the same:
# envelope, recipients from an address list, SMTP AUTH, Subject/To/From and
# custom headers (RFC 2047 encoding byte for byte), the text part and the
# HTML part (html/template's escaping of action output), and the Slack
# bodies (defaults, fields with short, actions with confirm, send_resolved,
# a second config taking the global api_url; both the global http_config).  Then, axon only: a
# require_tls receiver against a server without STARTTLS fails, says why,
# and is counted.
. "$(dirname "$0")/lib.sh"

command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
MC="python3 $DIR/mailcmp.py"

config() { # file smtp-port slack-port
	cat >"$1" <<YML
global:
  smtp_smarthost: 127.0.0.1:$2
  smtp_from: 'Axon Alerts <alerts@example.org>'
  smtp_hello: axon.test
  smtp_auth_username: mailer
  smtp_auth_password: s3cret
  smtp_require_tls: false
  slack_api_url: http://127.0.0.1:$3/global
  http_config:
    basic_auth: {username: hook, password: pw}
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['team="chat"']
      receiver: chat
    - matchers: ['tls="required"']
      receiver: mailtls
receivers:
  - name: mail
    email_configs:
      - to: 'oncall@example.org, "Ops, Team" <ops@example.org>'
        send_resolved: true
        headers:
          x-team: 'team {{ .CommonLabels.team }}'
        text: '{{ template "__subject" . }}{{ range .Alerts }} / {{ .Labels.instance }}: {{ .Annotations.summary }}{{ end }}'
        html: '<h1>{{ .Status }}</h1><p title="{{ .CommonLabels.alertname }}">{{ .CommonAnnotations.summary }}</p>{{ range .Alerts }}<b>{{ .Labels.instance }}</b> {{ .Annotations.summary }} {{ "<i>ok</i>" | safeHtml }}{{ end }}'
      - to: 'second@example.org'
        from: 'other@example.org'
        headers:
          Subject: 'Ünïcödé {{ .Status }} — {{ .GroupLabels.alertname }} with a subject long enough to need two encoded words'
        text: 'plain {{ .Alerts | len }} = ok'
        html: ''
  - name: chat
    slack_configs:
      - channel: '#ops'
        send_resolved: true
        api_url: http://127.0.0.1:$3/first
        title: '{{ .Status | toUpper }} {{ .GroupLabels.alertname }}'
        text: '{{ range .Alerts }}*{{ .Labels.instance }}* {{ .Annotations.summary }}\n{{ end }}'
        short_fields: true
        fields:
          - title: Severity
            value: '{{ .CommonLabels.severity }}'
          - title: Count
            value: '{{ .Alerts | len }}'
            short: false
        actions:
          - type: button
            text: Runbook
            url: 'http://runbooks.example/{{ .GroupLabels.alertname }}'
            style: primary
            confirm:
              text: Sure?
              ok_text: 'Yes'
        link_names: true
        mrkdwn_in: [text]
      - {}
  - name: mailtls
    email_configs:
      - to: tls@example.org
        require_tls: true
        text: tls
YML
}

axsmtp=$(freeport); amsmtp=$(freeport); axslack=$(freeport); amslack=$(freeport)
start axsmtp python3 "$DIR/smtpsink.py" "$axsmtp" "$TMP/ax.mail" mailer:s3cret
start amsmtp python3 "$DIR/smtpsink.py" "$amsmtp" "$TMP/am.mail" mailer:s3cret
start axslack python3 "$DIR/sink.py" "$axslack" "$TMP/ax.slack"
start amslack python3 "$DIR/sink.py" "$amslack" "$TMP/am.slack"
config "$TMP/ax.yml" "$axsmtp" "$axslack"
config "$TMP/am.yml" "$amsmtp" "$amslack"
out=$("$BIN/axon" check config "$TMP/ax.yml" 2>&1) || fail "axon check config: $out"
axport=$(freeport); amport=$(freeport)
AX=http://127.0.0.1:$axport; AM=http://127.0.0.1:$amport
start ar "$BIN/axon-alert-router" --config.file="$TMP/ax.yml" --web.listen-address="127.0.0.1:$axport" \
	--storage.path="$TMP/ard" --web.external-url=http://alerts.example
start am prometheus-alertmanager --config.file="$TMP/am.yml" --web.listen-address="127.0.0.1:$amport" \
	--storage.path="$TMP/amd" --cluster.listen-address= --web.external-url=http://alerts.example
wait_http "$AX/-/ready"
wait_http "$AM/-/ready"

ts() { python3 -c 'import datetime,sys; t=datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(t.microsecond//1000))' "$1"; }
both() {
	local code u
	for u in "$AX" "$AM"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$1" "$u/api/v2/alerts")
		[ "$code" = 200 ] || fail "POST to $u: $code"
	done
}
converge() { # mails slacks what
	local i
	for i in $(seq 60); do
		[ "$($MC count "$TMP/ax.mail")" -ge "$1" ] && [ "$($MC count "$TMP/am.mail")" -ge "$1" ] &&
			[ "$($MC count "$TMP/ax.slack")" -ge "$2" ] && [ "$($MC count "$TMP/am.slack")" -ge "$2" ] && break
		sleep 0.25
	done
	sleep 0.5
	$MC mail "$TMP/ax.mail" >"$TMP/ax.mnorm"
	$MC mail "$TMP/am.mail" >"$TMP/am.mnorm"
	$MC slack "$TMP/ax.slack" >"$TMP/ax.snorm"
	$MC slack "$TMP/am.slack" >"$TMP/am.snorm"
	if ! cmp -s "$TMP/ax.mnorm" "$TMP/am.mnorm"; then
		diff <(tr ',' '\n' <"$TMP/am.mnorm") <(tr ',' '\n' <"$TMP/ax.mnorm") | head -40
		fail "$3: e-mails differ from Alertmanager's"
	fi
	if ! cmp -s "$TMP/ax.snorm" "$TMP/am.snorm"; then
		diff <(tr ',' '\n' <"$TMP/am.snorm") <(tr ',' '\n' <"$TMP/ax.snorm") | head -40
		fail "$3: Slack posts differ from Alertmanager's"
	fi
	[ "$(wc -l <"$TMP/ax.mnorm")" = "$1" ] || fail "$3: $(wc -l <"$TMP/ax.mnorm") e-mails, want $1"
	[ "$(wc -l <"$TMP/ax.snorm")" = "$2" ] || fail "$3: $(wc -l <"$TMP/ax.snorm") Slack posts, want $2"
	$MC check "$TMP/ax.mail" || fail "$3: message headers"
}

s0=$(ts -1); far=$(ts 3600)
mail1="{\"labels\":{\"alertname\":\"DiskFull\",\"team\":\"storage\",\"instance\":\"db-1\"},\"annotations\":{\"summary\":\"<script>x & y</script> 'q' \\\"dq\\\" 1+1 = 2\"},\"startsAt\":\"$s0\",\"endsAt\":\"END\"}"
mail2="{\"labels\":{\"alertname\":\"DiskFull\",\"team\":\"storage\",\"instance\":\"db-2\"},\"annotations\":{\"summary\":\"90% full on /var — ünïcode\"},\"startsAt\":\"$s0\",\"endsAt\":\"END\"}"
chat="{\"labels\":{\"alertname\":\"QueueSlow\",\"team\":\"chat\",\"severity\":\"warning\",\"instance\":\"mq-1\"},\"annotations\":{\"summary\":\"lag > 5m\"},\"startsAt\":\"$s0\",\"endsAt\":\"END\"}"
both "[${mail1//END/$far},${mail2//END/$far},${chat//END/$far}]"
converge 2 2 "firing"
grep -q '"auth": "PLAIN mailer"' "$TMP/ax.mail" || fail "axon did not authenticate (PLAIN)"
grep -q '"helo": "axon.test"' "$TMP/ax.mail" || fail "axon did not say EHLO with smtp_hello"
for f in "$TMP/ax.slack" "$TMP/am.slack"; do
	python3 -c 'import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if recs and all(r["auth"]=="Basic aG9vazpwdw==" for r in recs) else 1)' "$f" ||
		fail "$f: Slack posts without global.http_config basic auth"
done
pass "firing: e-mails (envelope, AUTH, headers, text and HTML parts) and Slack posts (global http_config) equal Alertmanager's"

end=$(ts 0)
both "[${mail1//END/$end},${mail2//END/$end},${chat//END/$end}]"
converge 3 3 "resolved"
pass "resolved: send_resolved honoured per integration, same messages as Alertmanager's"

# axon only: STARTTLS required but not offered
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
	-d "[{\"labels\":{\"alertname\":\"Tls\",\"tls\":\"required\"}}]" "$AX/api/v2/alerts"
for i in $(seq 40); do
	v=$(curl -fsS "$AX/metrics" | awk '$1 == "alertmanager_notifications_failed_total{integration=\"email\"}" { print $2 }')
	# the counter and the log line are written one after the other
	[ "${v:-0}" != 0 ] && grep -q "STARTTLS" "$TMP/ar.log" && break
	sleep 0.25
done
[ "${v:-0}" != 0 ] || fail "a require_tls e-mail to a server without STARTTLS was not counted as failed"
grep -q "STARTTLS" "$TMP/ar.log" || fail "the failure does not say STARTTLS is missing"
pass "require_tls against a server without STARTTLS fails, says why, is counted"
