# Rule evaluation parity with Prometheus 2.42: the same fixture is scraped
# by Prometheus and by axon-scraper (into axon-tsdb), and the same rule
# file runs in Prometheus and in axon-ruler.  The recorded series, the
# ALERTS series, /api/v1/alerts (labels, annotations with templates,
# functions and query, state, value) and /api/v1/rules (groups, rules,
# queries as Prometheus prints them, types, health, durations, labels,
# annotations) must be the same; the mixin-style rule files of
# test_ruler_check load and evaluate in both alike.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
fport=$(freeport); tport=$(freeport); iport=$(freeport); qport=$(freeport)
sport=$(freeport); rport=$(freeport); pport=$(freeport)
T="http://127.0.0.1:$tport"; R="http://127.0.0.1:$rport"; P="http://127.0.0.1:$pport"

cat >"$TMP/fixture.prom" <<'EOF'
http_requests_total{code="200",path="/a"} 100
http_requests_total{code="200",path="/b"} 50
http_requests_total{code="500",path="/a"} 7
temp{room="lab"} 30
temp{room="office"} 19.5
temp{room="server"} 41.25
queue_depth 40
EOF
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/fixture.prom" "text/plain; version=0.0.4"
cat >"$TMP/rules.yml" <<'EOF'
groups:
  - name: parity
    interval: 1s
    rules:
      - record: code:http_requests_total:sum
        expr: sum by (code) (http_requests_total)
      - record: room:temp:max
        expr: max by (room) (temp)
        labels:
          source: rule
      - record: job:error_ratio
        expr: sum(http_requests_total{code=~"5.."}) / sum(http_requests_total)
      - alert: HotRoom
        expr: temp > 20
        for: 2s
        labels:
          severity: warning
          room_upper: '{{ $labels.room | toUpper }}'
        annotations:
          summary: '{{ $labels.room }} is at {{ $value | humanize }} degrees'
          total: '{{ with query "sum(temp)" }}{{ . | first | value | printf "%.2f" }}{{ end }}'
          link: '{{ graphLink "temp > 20" }} {{ externalURL }}'
      - alert: Errors
        expr: sum(http_requests_total{code="500"}) > 5
        labels:
          severity: page
          team: '{{ if gt $value 6.0 }}web{{ else }}none{{ end }}'
        annotations:
          ratio: '{{ with query "job:error_ratio" }}{{ . | first | value | humanizePercentage }}{{ end }}'
      - alert: DeepQueue
        expr: queue_depth > 100
        for: 1m
EOF
cat >"$TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml, node-mixin.yml, k8s-mixin.yml]
scrape_configs:
  - job_name: parity
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOF
# and the mixin-style files of the check test: they load and evaluate (no
# data for them here), printed and reported as Prometheus does
# (its 30s group interval dropped, so that every rule evaluates in time)
grep -v '^    interval: 30s$' "$TOP/tests/integration/ruler/check/good-node-mixin.yml" >"$TMP/node-mixin.yml"
cp "$TOP/tests/integration/ruler/check/good-k8s-mixin.yml" "$TMP/k8s-mixin.yml"
start prom prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$pport" --web.external-url=http://rules.example
cat >"$TMP/tsdb.yml" <<EOF
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$iport
  query_listen: tcp://127.0.0.1:$qport
EOF
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
wait_http "$T/-/ready"
cat >"$TMP/scraper.yml" <<EOF
global:
  scrape_interval: 1s
axon_scraper:
  tsdb: tcp://127.0.0.1:$iport
  sender_id: scraper-test
scrape_configs:
  - job_name: parity
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOF
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
cat >"$TMP/ruler.yml" <<EOF
global:
  evaluation_interval: 1s
rule_files: [rules.yml, node-mixin.yml, k8s-mixin.yml]
axon_ruler:
  tsdb_query: tcp://127.0.0.1:$qport
  tsdb_ingest: tcp://127.0.0.1:$iport
EOF
start ruler "$BIN/axon-ruler" --config.file="$TMP/ruler.yml" --web.listen-address="127.0.0.1:$rport" \
	--web.external-url=http://rules.example
wait_http "$R/-/ready"
wait_http "$P/-/ready" 30

# both settle: the HotRoom alerts (for: 2s) fire on both sides
firing() { curl -fsS "$1/api/v1/alerts" | jq '[.data.alerts[] | select(.state == "firing")] | length'; }
for i in $(seq 80); do
	[ "$(firing "$P")" = 3 ] && [ "$(firing "$R")" = 3 ] && break
	sleep 0.25
done
[ "$(firing "$P")" = 3 ] || fail "Prometheus: $(curl -fsS "$P/api/v1/alerts")"
[ "$(firing "$R")" = 3 ] || fail "axon-ruler: $(curl -fsS "$R/api/v1/alerts")"
sleep 2

norm_alerts='[.data.alerts[] | {labels, annotations, state, value}] | sort_by(.labels | tostring)'
curl -fsS "$P/api/v1/alerts" | jq -S "$norm_alerts" >"$TMP/p.alerts"
curl -fsS "$R/api/v1/alerts" | jq -S "$norm_alerts" >"$TMP/a.alerts"
diff "$TMP/p.alerts" "$TMP/a.alerts" || fail "/api/v1/alerts differ from Prometheus' (< Prometheus, > axon)"

norm_rules='[.data.groups[] | {name, file: (.file | split("/") | last), interval, limit,
	rules: [.rules[] | {name, query, type, health, labels, annotations, duration, state,
		alerts: ((.alerts // []) | map({labels, annotations, state, value}) | sort_by(.labels | tostring))}]}]'
curl -fsS "$P/api/v1/rules" | jq -S "$norm_rules" >"$TMP/p.rules"
curl -fsS "$R/api/v1/rules" | jq -S "$norm_rules" >"$TMP/a.rules"
diff "$TMP/p.rules" "$TMP/a.rules" || fail "/api/v1/rules differ from Prometheus' (< Prometheus, > axon)"
[ "$(jq '[.[].rules[]] | length' "$TMP/a.rules")" -ge 15 ] || fail "the mixin rules are missing: $(cat "$TMP/a.rules")"
jq -e '[.[].rules[] | .health] | all(. == "ok")' "$TMP/a.rules" >/dev/null || fail "rules not evaluated or unhealthy: $(cat "$TMP/a.rules")"
pass "/api/v1/alerts and /api/v1/rules equal Prometheus 2.42's ($(jq length "$TMP/a.alerts") alerts; $(jq '[.[].rules[]] | length' "$TMP/a.rules") rules incl. node_exporter and kubernetes mixin style ones)"

series() { # base expr
	curl -fsS -G "$1/api/v1/query" --data-urlencode "query=$2" | jq -S '[.data.result[] | {metric, v: .value[1]}] | sort_by(.metric | tostring)'
}
for e in 'code:http_requests_total:sum' 'room:temp:max' 'job:error_ratio' 'ALERTS' 'count by (alertname) (ALERTS_FOR_STATE)'; do
	series "$P" "$e" >"$TMP/p.s"
	series "$T" "$e" >"$TMP/a.s"
	[ "$(jq length "$TMP/p.s")" -gt 0 ] || fail "$e: Prometheus has nothing"
	diff "$TMP/p.s" "$TMP/a.s" || fail "$e differs from Prometheus' (< Prometheus, > axon)"
done
pass "recorded series, ALERTS and ALERTS_FOR_STATE equal Prometheus 2.42's"
