# The axon CLI against a running stack: a fixture scraped by axon-scraper
# into axon-tsdb, axon-ruler with a firing and a pending alert delivered
# to axon-alert-router, and an inhibited pair posted to the router.
# query (table, JSON equal to the API's, scalar, parse error), query-range
# (the chart fits the terminal and has a legend), series, labels, targets,
# alerts (firing, pending, inhibited with its root cause, silenced),
# silence add/ls/expire, rules, status (an unreachable daemon named, exit
# 1), and the URL sources: flag, environment, config file (a typo in it
# is an error with file:line:col).
. "$(dirname "$0")/lib.sh"

AXON=$BIN/axon
fport=$(freeport); tport=$(freeport); iport=$(freeport); qport=$(freeport)
sport=$(freeport); rport=$(freeport); aport=$(freeport); ingport=$(freeport)
T="http://127.0.0.1:$tport"; S="http://127.0.0.1:$sport"
R="http://127.0.0.1:$rport"; A="http://127.0.0.1:$aport"

printf 'cli_demo{path="/a"} 3\ncli_demo{path="/b"} 7\n' >"$TMP/fixture.prom"
start fix "$PEER" http-file "127.0.0.1:$fport" "$TMP/fixture.prom" "text/plain; version=0.0.4"
cat >"$TMP/tsdb.yml" <<EOC
axon_tsdb:
  ingest_listen: tcp://127.0.0.1:$iport
  query_listen: tcp://127.0.0.1:$qport
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
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
cat >"$TMP/router.yml" <<EOC
route:
  receiver: none
  group_by: [alertname]
receivers:
  - name: none
inhibit_rules:
  - source_matchers: ['alertname="CauseDown"']
    target_matchers: ['alertname="SymptomSlow"']
    equal: [cluster]
axon_alert_router:
  ingest_listen: tcp://127.0.0.1:$ingport
EOC
start router "$BIN/axon-alert-router" --config.file="$TMP/router.yml" --web.listen-address="127.0.0.1:$aport" \
	--storage.path="$TMP/ar"
cat >"$TMP/rules.yml" <<'EOC'
groups:
  - name: cli
    interval: 500ms
    rules:
      - record: job:cli_demo:sum
        expr: sum by (job) (cli_demo)
      - alert: CliFiring
        expr: cli_demo > 5
      - alert: CliPending
        expr: cli_demo > 1
        for: 1h
EOC
cat >"$TMP/ruler.yml" <<EOC
global:
  evaluation_interval: 500ms
rule_files: [rules.yml]
axon_alert_routers: [tcp://127.0.0.1:$ingport]
axon_ruler:
  tsdb_query: tcp://127.0.0.1:$qport
  tsdb_ingest: tcp://127.0.0.1:$iport
EOC
start ruler "$BIN/axon-ruler" --config.file="$TMP/ruler.yml" --web.listen-address="127.0.0.1:$rport" \
	--rules.alert.resend-delay=1s
wait_http "$S/-/ready"
wait_http "$A/-/ready"
wait_http "$R/-/ready"
export AXON_TSDB_URL=$T AXON_SCRAPER_URL=$S AXON_RULER_URL=$R AXON_ALERT_ROUTER_URL=$A
export AXON_DISCOVERER_URL=http://127.0.0.1:1 HOME=$TMP
unset AXON_CONFIG

# query: a table, and -o json equal to the API's data
for i in $(seq 40); do
	out=$("$AXON" query 'cli_demo' 2>&1) || true
	grep -q 'path="/b"' <<<"$out" && break
	sleep 0.25
done
grep -q '^SERIES  *VALUE$' <<<"$out" || fail "query table header: $out"
grep -q "^cli_demo{instance=\"127.0.0.1:$fport\", job=\"demo\", path=\"/a\"}  *3$" <<<"$out" || fail "query row: $out"
grep -q 'path="/b"}  *7$' <<<"$out" || fail "query row /b: $out"
now=$(date +%s)
"$AXON" query 'cli_demo' --time "$now" -o json | jq -S '.result | sort_by(.metric.path)' >"$TMP/cli.json"
curl -fsS -G "$T/api/v1/query" --data-urlencode 'query=cli_demo' --data-urlencode "time=$now" | jq -S '.data.result | sort_by(.metric.path)' >"$TMP/api.json"
cmp -s "$TMP/cli.json" "$TMP/api.json" || fail "query -o json differs from the API: $(diff "$TMP/cli.json" "$TMP/api.json" | head -5)"
[ "$("$AXON" query '1 + 1')" = 2 ] || fail "scalar: $("$AXON" query '1 + 1')"
rc=0; err=$("$AXON" query 'sum(' 2>&1 >/dev/null) || rc=$?
[ "$rc" = 1 ] && grep -q 'axon-tsdb (HTTP 400).*parse error' <<<"$err" || fail "parse error ($rc): $err"
pass "query: table, JSON as the API's, scalar, parse error named"

# query-range: a chart within COLUMNS, with a legend per series
out=$(COLUMNS=70 "$AXON" query-range 'cli_demo' --start now-20s --end now --step 1s)
grep -q '^  \* cli_demo{.*path="/a"}$' <<<"$out" || fail "chart legend /a: $out"
grep -q '^  + cli_demo{.*path="/b"}$' <<<"$out" || fail "chart legend /b: $out"
[ "$(grep -c ' |' <<<"$out")" = 15 ] || fail "chart rows: $out"
grep ' |' <<<"$out" | grep -q '\*' && grep ' |' <<<"$out" | grep -q '+' || fail "chart marks: $out"
awk 'length > 70 { bad = 1 } END { exit bad }' <<<"$out" || fail "chart wider than COLUMNS=70: $out"
grep -q '^ *7 |' <<<"$out" && grep -q '^ *3 |' <<<"$out" || fail "chart y range 3..7: $out"
n=$("$AXON" query-range 'cli_demo' --start now-20s --end now --step 1s -o json | jq '.result | length')
[ "$n" = 2 ] || fail "query-range -o json: $n series"
pass "query-range draws both series within the terminal width"

out=$("$AXON" series '{job="demo"}' 'cli_demo')
grep -q '^cli_demo{.*path="/a"}$' <<<"$out" && grep -q '^up{' <<<"$out" || fail "series: $out"
"$AXON" labels | grep -qx path || fail "labels: $("$AXON" labels)"
[ "$("$AXON" labels path | tr '\n' ' ')" = "/a /b " ] || fail "label values: $("$AXON" labels path)"
pass "series and labels"

out=$("$AXON" targets)
grep -q "^demo  *127.0.0.1:$fport  *up  *[0-9.a-z]* ago" <<<"$out" || fail "targets: $out"
pass "targets: a health table"

# alerts: firing (via the router), pending (the ruler), an inhibited pair
ends=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
curl -fsS -X POST -H 'Content-Type: application/json' "$A/api/v2/alerts" -d "[
 {\"labels\": {\"alertname\": \"CauseDown\", \"cluster\": \"c1\", \"service\": \"auth\"}, \"endsAt\": \"$ends\"},
 {\"labels\": {\"alertname\": \"SymptomSlow\", \"cluster\": \"c1\", \"service\": \"cart\"}, \"endsAt\": \"$ends\"}]" >/dev/null
for i in $(seq 40); do
	out=$("$AXON" alerts 2>&1) || true
	grep -q '^CliFiring' <<<"$out" && grep -q '^CliPending' <<<"$out" && grep -q 'root cause:' <<<"$out" && break
	sleep 0.25
done
grep -q '^CliFiring .* firing ' <<<"$out" || fail "firing alert: $out"
grep -q '^CliPending .* pending .*in its for: period' <<<"$out" || fail "pending alert: $out"
grep -q '^SymptomSlow .*suppressed .*inhibited; root cause: CauseDown{cluster="c1", service="auth"}' <<<"$out" || fail "inhibited alert: $out"
grep -q '^CauseDown .* firing .*root cause of 1 inhibited alert$' <<<"$out" || fail "cause alert: $out"
"$AXON" alerts -o json | jq -e '(.routed | length) >= 3 and (.rules | length) >= 2' >/dev/null || fail "alerts -o json"
pass "alerts: firing, pending, inhibited with its root cause"

# silences
id=$("$AXON" silence add --comment='maintenance' --author=tester --duration=30m 'alertname=CliFiring')
[[ "$id" =~ ^[0-9a-f-]{36}$ ]] || fail "silence add printed: $id"
out=$("$AXON" silence ls)
grep -q "^$id  *alertname=\"CliFiring\"  *active  *in 29m.* tester  *maintenance$" <<<"$out" || fail "silence ls: $out"
for i in $(seq 20); do
	"$AXON" alerts | grep -q "^CliFiring .*suppressed .*silenced by $id" && break
	sleep 0.25
done
"$AXON" alerts | grep -q "^CliFiring .*suppressed .*silenced by $id" || fail "silenced alert: $("$AXON" alerts)"
rc=0; "$AXON" silence add 'alertname=X' 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'comment' "$TMP/err" || fail "silence without a comment ($rc): $(cat "$TMP/err")"
"$AXON" silence expire "$id" || fail "silence expire"
"$AXON" silence ls | grep -q "$id" && fail "expired silence still listed"
"$AXON" silence ls --expired | grep -q "^$id .* expired " || fail "silence ls --expired: $("$AXON" silence ls --expired)"
rc=0; "$AXON" silence expire nosuchid 2>"$TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'nosuchid' "$TMP/err" || fail "expire of an unknown silence ($rc): $(cat "$TMP/err")"
pass "silence add, ls, expire"

out=$("$AXON" rules)
grep -q '^cli  *job:cli_demo:sum  *record  *ok ' <<<"$out" || fail "rules record: $out"
grep -q '^cli  *CliPending  *alert  *ok  *pending ' <<<"$out" || fail "rules alert: $out"
pass "rules"

# status: every daemon, the unreachable one named and exit 1
rc=0; out=$("$AXON" status) || rc=$?
[ "$rc" = 1 ] || fail "status with the discoverer away exited $rc"
for d in tsdb scraper ruler alert-router; do
	grep -q "^axon-$d  *http://127.0.0.1:[0-9]*  *up  *0\.1\." <<<"$out" || fail "status $d: $out"
done
grep -q '^axon-discoverer  *http://127.0.0.1:1  *unreachable .*axon-discoverer at http://127.0.0.1:1 is unreachable' <<<"$out" || fail "status discoverer: $out"
"$AXON" status --discoverer.url="$T" >/dev/null || fail "status with every URL answering"
pass "status names the unreachable daemon"

# URL sources: flag over environment; the config file; a typo in it
rc=0; err=$("$AXON" query up --tsdb.url=http://127.0.0.1:1 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'axon-tsdb at http://127.0.0.1:1 is unreachable' <<<"$err" || fail "flag over env ($rc): $err"
unset AXON_TSDB_URL
mkdir -p "$TMP/.config/axon"
printf 'tsdb_url: %s\nscraper_urls: [%s]\n' "$T" "$S" >"$TMP/.config/axon/cli.yml"
"$AXON" query 'cli_demo{path="/a"}' | grep -q '  3$' || fail "URL from ~/.config/axon/cli.yml"
printf 'tsdb_url: %s\ntsdb_ur1: x\n' "$T" >"$TMP/bad.yml"
rc=0; err=$("$AXON" query up --config.file="$TMP/bad.yml" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'bad.yml:2:1: .*tsdb_ur1' <<<"$err" || fail "config typo ($rc): $err"
pass "URLs from flags, environment and the config file"
