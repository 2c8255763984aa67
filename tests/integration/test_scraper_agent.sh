# axon-scraper in agent mode against the real thing: the same scrape
# configuration runs in axon-scraper (remote-writing into a Prometheus
# 2.42 receiver) and in Prometheus 2.42 itself, over Debian's
# node_exporter, pushgateway, Alertmanager and Prometheus itself, a
# fixture body with escapes, clashing
# target labels and a histogram, and a dead target.  The series stored
# (names and label sets) must be equal, relabel_configs and
# metric_relabel_configs included; up is 0 for the dead target with the
# reason in /api/v1/targets; a target that goes away gets staleness
# markers.
. "$(dirname "$0")/lib.sh"
for b in prometheus prometheus-node-exporter prometheus-pushgateway prometheus-alertmanager; do
	command -v $b >/dev/null || fail "$b not installed (make deps)"
done
here=$(cd "$(dirname "$0")" && pwd)

nport=$(freeport); gport=$(freeport); fport=$(freeport); amport=$(freeport); amcport=$(freeport)
aport=$(freeport); pport=$(freeport); sport=$(freeport)
start node prometheus-node-exporter --web.listen-address="127.0.0.1:$nport" \
	--collector.disable-defaults --collector.cpu --collector.meminfo --collector.loadavg
start pgw prometheus-pushgateway --web.listen-address="127.0.0.1:$gport"
printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$TMP/am.yml"
start am prometheus-alertmanager --config.file="$TMP/am.yml" --storage.path="$TMP/am" \
	--web.listen-address="127.0.0.1:$amport" --cluster.listen-address="127.0.0.1:$amcport"
cp "$here/scraper/fixture.prom" "$TMP/fixture.prom"
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/fixture.prom"
wait_http "http://127.0.0.1:$nport/metrics"
wait_http "http://127.0.0.1:$gport/metrics"
wait_http "http://127.0.0.1:$fport/metrics"
wait_http "http://127.0.0.1:$amport/-/ready" 30
printf 'pushed_metric{job="x",instance="y",kind="a"} 3\n' |
	curl -fsS --data-binary @- "http://127.0.0.1:$gport/metrics/job/pushjob/instance/pinst" || fail "push"

cat >"$TMP/scrape.yml" <<EOC
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$nport']
        labels: {team: infra}
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):.*'
        target_label: host
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'node_cpu_guest_seconds_total'
        action: drop
  - job_name: pushgw
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$gport']
  - job_name: pushgw-exported
    static_configs:
      - targets: ['127.0.0.1:$gport']
  - job_name: alertmanager
    static_configs:
      - targets: ['127.0.0.1:$amport']
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$pport']
    metric_relabel_configs:
      # the scrapes of this test and its queries add handler series in
      # between the two scrapers' scrapes; the families stay comparable
      - source_labels: [__name__]
        regex: 'prometheus_http_(requests_total|request_duration_seconds.*|response_size_bytes.*)'
        action: drop
  - job_name: fixture
    static_configs:
      - targets: ['127.0.0.1:$fport']
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'fixture_dropme'
        action: drop
  - job_name: dead
    scrape_timeout: 500ms
    static_configs:
      - targets: ['127.0.0.1:1']
  - job_name: dropped
    static_configs:
      - targets: ['127.0.0.1:2']
    relabel_configs:
      - action: drop
        source_labels: [__address__]
        regex: '.*:2'
EOC
{ printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n'; cat "$TMP/scrape.yml"; } >"$TMP/prom.yml"
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/recv.yml"
{ printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n'; cat "$TMP/scrape.yml"
  printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n    queue_config:\n      batch_send_deadline: 100ms\n' "$aport"; } >"$TMP/axon.yml"

start recv prometheus --config.file="$TMP/recv.yml" --storage.tsdb.path="$TMP/recv" \
	--web.listen-address="127.0.0.1:$aport" --web.enable-remote-write-receiver
start prom prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$pport"
wait_http "http://127.0.0.1:$aport/-/ready" 60
wait_http "http://127.0.0.1:$pport/-/ready" 60
start scraper "$BIN/axon-scraper" --config.file="$TMP/axon.yml" --web.listen-address="127.0.0.1:$sport"
S="http://127.0.0.1:$sport"
wait_http "$S/-/ready"

series() { # URL -> sorted label sets of every job's series
	curl -fsS -G "$1/api/v1/series" --data-urlencode 'match[]={job=~".+"}' |
		jq -c '.data[] | to_entries | sort_by(.key) | from_entries' | sort
}
ok=0
for i in $(seq 30); do
	sleep 1
	series "http://127.0.0.1:$pport" >"$TMP/prom.series"
	series "http://127.0.0.1:$aport" >"$TMP/axon.series"
	if [ "$(wc -l <"$TMP/prom.series")" -gt 50 ] && diff -q "$TMP/prom.series" "$TMP/axon.series" >/dev/null; then
		ok=1
		break
	fi
done
[ "$ok" = 1 ] || fail "series differ (< Prometheus, > axon): $(diff "$TMP/prom.series" "$TMP/axon.series" | head -20)"
n=$(wc -l <"$TMP/axon.series")
grep -q '"exported_job":"pushjob"' "$TMP/axon.series" || fail "no exported_job from the pushgateway"
grep -q '"__name__":"fixture_temp","exported_instance":"exposed-instance","exported_job":"exposed"' "$TMP/axon.series" || fail "exported_ labels of the fixture"
grep -q 'fixture_dropme\|node_cpu_guest_seconds_total' "$TMP/axon.series" && fail "metric_relabel_configs did not drop"
grep -q '"host":"127.0.0.1"' "$TMP/axon.series" || fail "relabel_configs did not add host"
pass "the same $n series as Prometheus 2.42 scraping with the same configuration"

# values: the fixture's, escapes and special values intact
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=fixture_requests_total{path="line\nbreak"}')
echo "$q" | jq -e '.data.result[0].value[1] == "1"' >/dev/null || fail "escaped label value: $q"
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=fixture_inf')
echo "$q" | jq -e '.data.result[0].value[1] == "+Inf"' >/dev/null || fail "+Inf: $q"
pass "label escapes and special values arrive intact"

# the dead target: up 0 and the reason; the dropped one listed
t=$(curl -fsS "$S/api/v1/targets")
echo "$t" | jq -e '.data.activeTargets[] | select(.labels.job == "dead") | .health == "down" and (.lastError | length > 0)' >/dev/null || fail "dead target: $t"
echo "$t" | jq -e '.data.droppedTargets | length == 1' >/dev/null || fail "dropped targets: $t"
echo "$t" | jq -e '[.data.activeTargets[] | select(.health == "up")] | length == 6' >/dev/null || fail "healthy targets: $t"
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=up{job="dead"}')
echo "$q" | jq -e '.data.result[0].value[1] == "0"' >/dev/null || fail "up for the dead target: $q"
for m in scrape_samples_scraped scrape_samples_post_metric_relabeling; do
	a=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode "query=$m{job=\"fixture\"}" | jq -r '.data.result[0].value[1]')
	p=$(curl -fsS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$m{job=\"fixture\"}" | jq -r '.data.result[0].value[1]')
	[ -n "$a" ] && [ "$a" = "$p" ] || fail "$m: axon $a, Prometheus $p"
done
pass "up, lastError and the report series as Prometheus"

# a target going away: its series end with staleness markers
kill -TERM "$fix_PID"
sleep 3
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=fixture_temp')
echo "$q" | jq -e '.data.result | length == 0' >/dev/null || fail "fixture series not stale after the target died: $q"
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=up{job="fixture"}')
echo "$q" | jq -e '.data.result[0].value[1] == "0"' >/dev/null || fail "up after the target died: $q"
pass "a dead target's series are marked stale at once (no 5 minute tail)"

# a reload that drops the dead job: the other targets go on, unmarked
sed -i '/job_name: dead/,/127.0.0.1:1/d' "$TMP/axon.yml"
curl -fsS -X POST "$S/-/reload" >/dev/null || fail "reload: $(tail -3 "$TMP/scraper.log")"
t=$(curl -fsS "$S/api/v1/targets")
echo "$t" | jq -e '[.data.activeTargets[] | select(.labels.job == "dead")] | length == 0' >/dev/null || fail "dead job still there after reload: $t"
sleep 2
q=$(curl -fsS -G "http://127.0.0.1:$aport/api/v1/query" --data-urlencode 'query=up{job="node"}')
echo "$q" | jq -e '.data.result[0].value[1] == "1"' >/dev/null || fail "node job after reload: $q"
pass "a reload swaps the targets; the kept ones keep being scraped"

# the receiver goes away for good: once the queue is full, samples are
# dropped and counted, and the scrape loop never stalls on the full queue
kill -TERM "$recv_PID"
wait_exit "$recv_PID" 30 || true
drop_url='axon_remote_storage_samples_dropped_total{remote_name="",url="http://127.0.0.1:'$aport'/api/v1/write"}'
d=
for i in $(seq 40); do
	d=$(metric_value "$S/metrics" "$drop_url")
	[ -n "$d" ] && [ "${d%.*}" -gt 0 ] && break
	sleep 0.5
done
[ -n "$d" ] && [ "${d%.*}" -gt 0 ] || fail "no samples counted as dropped with the receiver gone: $(grep -c . "$TMP/scraper.log") log lines"
grep -q 'the queue is full' "$TMP/scraper.log" || fail "the overflow was not logged"
last() { curl -fsS "$S/api/v1/targets" | jq -r '.data.activeTargets[] | select(.labels.job == "node") | .lastScrape'; }
l0=$(last)
sleep 3
l1=$(last)
t=$(curl -fsS "$S/api/v1/targets")
[ "$l0" != "$l1" ] || fail "the node target was not scraped for 3 s while the queue overflowed: $l0"
echo "$t" | jq -e '[.data.activeTargets[] | select(.health == "up")] | length == 5' >/dev/null || fail "targets while the queue overflowed: $t"
d2=$(metric_value "$S/metrics" "$drop_url")
[ "${d2%.*}" -gt "${d%.*}" ] || fail "drops stopped being counted: $d then $d2"
pass "with the receiver gone the scrapes go on; ${d2%.*} samples dropped, counted and logged"
