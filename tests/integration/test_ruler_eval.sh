# axon-ruler end to end: a fixture scraped by axon-scraper into axon-tsdb;
# axon-ruler evaluates a recording rule (written back to the tsdb) and an
# alerting rule, and sends its alerts both to axon-alert-router over nng
# and to Debian's Alertmanager 0.25 over HTTP.  The alert walks pending ->
# firing -> resolved on schedule (ALERTS series, /api/v1/alerts,
# /api/v1/rules in Prometheus' shape, relayed by the tsdb too), both
# receivers notify firing and
# resolved with the external label; a ruler killed while the alert is
# pending keeps its `for` clock (restored from ALERTS_FOR_STATE) instead
# of starting over; an alert router restart is healed by the resends; with
# the tsdb down, iterations are skipped and the firing alert stays firing.
. "$(dirname "$0")/lib.sh"

command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
NC="python3 $DIR/notifycmp.py"
fport=$(freeport); tport=$(freeport); iport=$(freeport); qport=$(freeport)
sport=$(freeport); rport=$(freeport); aport=$(freeport); ingport=$(freeport)
amport=$(freeport); s1=$(freeport); s2=$(freeport)
T="http://127.0.0.1:$tport"; R="http://127.0.0.1:$rport"

# the fixture server reads its file once: a new value is a new server
fixn=0
set_value() {
	echo "demo_value $1" >"$TMP/fixture.prom"
	if [ "$fixn" -gt 0 ]; then
		eval "kill \$fix${fixn}_PID"
		eval "wait_exit \$fix${fixn}_PID 5"
	fi
	fixn=$((fixn + 1))
	start "fix$fixn" "$PEER" http-file "127.0.0.1:$fport" "$TMP/fixture.prom" "text/plain; version=0.0.4"
}
set_value 1
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$iport
  query_listen: tcp://127.0.0.1:$qport
  ruler: http://127.0.0.1:$rport
EOC
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
wait_http "$T/-/ready"
cat >"$TMP/scraper.yml" <<EOC
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
axon_scraper:
  tsdb: tcp://127.0.0.1:$iport
  sender_id: scraper-test
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"

# receivers: axon-alert-router (nng ingestion) and Alertmanager, each with a sink
start sink1 python3 "$DIR/sink.py" "$s1" "$TMP/router.out"
start sink2 python3 "$DIR/sink.py" "$s2" "$TMP/am.out"
for f in router am; do
	p=$s1; [ "$f" = am ] && p=$s2
	cat >"$TMP/$f.yml" <<EOC
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:$p/hook"}]
EOC
done
printf 'axon_alert_router:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$ingport" >>"$TMP/router.yml"
start router "$BIN/axon-alert-router" --config.file="$TMP/router.yml" --web.listen-address="127.0.0.1:$aport" \
	--storage.path="$TMP/ar"
start am prometheus-alertmanager --config.file="$TMP/am.yml" --web.listen-address="127.0.0.1:$amport" \
	--storage.path="$TMP/amd" --cluster.listen-address=
wait_http "http://127.0.0.1:$aport/-/ready"
wait_http "http://127.0.0.1:$amport/-/ready" 30

cat >"$TMP/rules.yml" <<'EOC'
groups:
  - name: demo
    interval: 1s
    rules:
      - record: job:demo_value:sum
        expr: sum by (job) (demo_value)
      - alert: DemoHigh
        expr: demo_value > 5
        for: 8s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.job }} is at {{ $value }} ({{ 1234567 | humanize }})'
EOC
cat >"$TMP/ruler.yml" <<EOC
global:
  evaluation_interval: 1s
  external_labels:
    cluster: test
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$amport']
axon_alert_routers: [tcp://127.0.0.1:$ingport]
axon_ruler:
  tsdb_query: tcp://127.0.0.1:$qport
  tsdb_ingest: tcp://127.0.0.1:$iport
EOC
RFLAGS="--rules.alert.resend-delay=2s --rules.alert.for-grace-period=1s --web.external-url=http://ruler.example"
# shellcheck disable=SC2086
start ruler "$BIN/axon-ruler" --config.file="$TMP/ruler.yml" --web.listen-address="127.0.0.1:$rport" $RFLAGS
wait_http "$R/-/ready"

query() { curl -fsS -G "$T/api/v1/query" --data-urlencode "query=$1"; }
wait_query() { # expr jq-condition what [seconds]
	local i n=$((${4:-20} * 4))
	for i in $(seq "$n"); do
		query "$1" | jq -e "$2" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	fail "$3: $(query "$1")"
}
state() { curl -fsS "$R/api/v1/alerts" | jq -r '[.data.alerts[] | select(.labels.alertname == "DemoHigh") | .state] | first // "none"'; }
wait_state() { # state seconds what
	local i
	for i in $(seq $(($2 * 4))); do
		[ "$(state)" = "$1" ] && return 0
		sleep 0.25
	done
	fail "$3: the alert is $(state), want $1; rules: $(curl -fsS "$R/api/v1/rules" | head -c 1500)"
}

wait_query 'job:demo_value:sum{job="demo"}' '.data.result[0].value[1] == "1"' "the recording rule's series in the tsdb"
pass "a recording rule evaluates and its result is written back to the tsdb"

# the value rises: pending at once, firing 8 s later
set_value 10
wait_state pending 10 "the alert did not go pending"
t0=$(date +%s)
wait_query 'ALERTS{alertname="DemoHigh",alertstate="pending"}' '.data.result | length == 1' "ALERTS pending"
wait_state firing 15 "the alert did not fire"
dt=$(($(date +%s) - t0))
[ "$dt" -ge 6 ] || fail "fired after ${dt}s of pending, before its for: 8s"
wait_query 'ALERTS{alertname="DemoHigh",alertstate="firing",severity="page"}' '.data.result | length == 1' "ALERTS firing"
curl -fsS "$R/api/v1/alerts" | jq -e '.data.alerts[0].annotations.summary == "demo is at 10 (1.235M)" and .data.alerts[0].value == "1e+01"' >/dev/null ||
	fail "annotations or value: $(curl -fsS "$R/api/v1/alerts")"
r=$(curl -fsS "$R/api/v1/rules")
echo "$r" | jq -e '.status == "success" and .data.groups[0].name == "demo" and .data.groups[0].interval == 1
	and .data.groups[0].rules[0].type == "recording" and .data.groups[0].rules[0].health == "ok"
	and .data.groups[0].rules[1].type == "alerting" and .data.groups[0].rules[1].state == "firing"
	and .data.groups[0].rules[1].duration == 8 and (.data.groups[0].rules[1].alerts | length) == 1' >/dev/null ||
	fail "/api/v1/rules: $r"
[ "$(curl -fsS "$R/api/v1/rules?type=record" | jq '.data.groups[0].rules | length')" = 1 ] || fail "type=record filter"
# the tsdb relays the ruler's API (one address for Grafana)
curl -fsS "$T/api/v1/alerts" | jq -e '[.data.alerts[] | select(.labels.alertname == "DemoHigh" and .state == "firing")] | length == 1' >/dev/null ||
	fail "the tsdb does not relay the ruler's alerts: $(curl -sS "$T/api/v1/alerts")"
curl -fsS "$T/api/v1/rules" | jq -e '.data.groups[0].rules[1].name == "DemoHigh"' >/dev/null ||
	fail "the tsdb does not relay the ruler's rules: $(curl -sS "$T/api/v1/rules")"
pass "pending -> firing after for (${dt}s); ALERTS series, /api/v1/alerts and /api/v1/rules as Prometheus"

# both receivers notify, with the external label
for f in router am; do
	for i in $(seq 40); do
		grep -q '"status": "firing"' "$TMP/$f.out" 2>/dev/null && break
		sleep 0.25
	done
	python3 - "$TMP/$f.out" <<'PY' || fail "$f: no firing notification with the alert's labels"
import json, sys
for l in open(sys.argv[1]):
    b = json.loads(l)["body"]
    if b["status"] == "firing":
        a = b["alerts"][0]
        assert a["labels"] == {"alertname": "DemoHigh", "instance": a["labels"]["instance"], "job": "demo",
                               "severity": "page", "cluster": "test"}, a["labels"]
        assert a["annotations"]["summary"] == "demo is at 10 (1.235M)"
        assert a["generatorURL"].startswith("http://ruler.example/graph?g0.expr=demo_value+%3E+5"), a["generatorURL"]
        sys.exit(0)
sys.exit(1)
PY
done
pass "axon-alert-router (nng) and Alertmanager 0.25 (HTTP) both receive the firing alert"

# the alert router restarts (alerts live in memory): the ruler's resends
# bring the firing alert back
kill -9 "$router_PID"
wait_exit "$router_PID" 5
start router2 "$BIN/axon-alert-router" --config.file="$TMP/router.yml" --web.listen-address="127.0.0.1:$aport" \
	--storage.path="$TMP/ar"
wait_http "http://127.0.0.1:$aport/-/ready"
for i in $(seq 40); do
	n=$(curl -fsS "http://127.0.0.1:$aport/api/v2/alerts" | jq '[.[] | select(.labels.alertname == "DemoHigh")] | length')
	[ "$n" = 1 ] && break
	sleep 0.25
done
[ "$n" = 1 ] || fail "the restarted alert router did not get the firing alert again"
pass "an alert router outage is survived: the ruler re-sends the firing alert"

# back down: resolved, and both receivers notify the resolution
set_value 1
wait_state none 10 "the alert did not resolve"
for f in router am; do
	for i in $(seq 60); do
		grep -q '"status": "resolved"' "$TMP/$f.out" 2>/dev/null && break
		sleep 0.25
	done
	grep -q '"status": "resolved"' "$TMP/$f.out" || fail "$f: no resolved notification"
done
wait_query 'ALERTS{alertname="DemoHigh"}' '.data.result | length == 0' "ALERTS still present after the resolution"
pass "firing -> resolved: both receivers notify it; ALERTS goes stale"

# restart while pending: the for clock is restored, not reset
set_value 10
wait_state pending 10 "pending again"
sleep 5
wait_query 'ALERTS_FOR_STATE{alertname="DemoHigh"}' '.data.result | length == 1' "ALERTS_FOR_STATE"
kill -9 "$ruler_PID"
wait_exit "$ruler_PID" 5
# shellcheck disable=SC2086
start ruler2 "$BIN/axon-ruler" --config.file="$TMP/ruler.yml" --web.listen-address="127.0.0.1:$rport" $RFLAGS
wait_http "$R/-/ready"
t1=$(date +%s)
wait_state firing 12 "no firing after the restart"
dt=$(($(date +%s) - t1))
[ "$dt" -le 6 ] || fail "fired ${dt}s after the restart: the for clock started over"
grep -q "restored the for state" "$TMP/ruler2.log" || fail "no restore logged"
pass "a ruler killed while the alert was pending fires ${dt}s after its restart (for clock restored)"

# the tsdb goes away: iterations are skipped, the alert stays firing
kill -9 "$tsdb_PID"
wait_exit "$tsdb_PID" 5
for i in $(seq 40); do
	v=$(curl -fsS "$R/metrics" | awk '$1 == "axon_ruler_iterations_skipped_total" { print $2 }')
	[ "${v:-0}" != 0 ] && break
	sleep 0.25
done
[ "${v:-0}" != 0 ] || fail "no skipped iteration counted with the tsdb down"
sleep 3
[ "$(state)" = firing ] || fail "the alert changed state while the tsdb was down: $(state)"
pass "tsdb down: iterations skipped and counted, the alert stays firing"
