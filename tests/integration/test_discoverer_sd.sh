# axon-discoverer's own providers and delegated discovery:
# - a target set from static_configs, file_sd_configs (JSON, globs,
#   reloaded on change), dns_sd_configs (SRV and A, against a DNS server
#   on loopback) and consul_sd_configs (against a second discoverer's
#   Consul API), labelled as Prometheus 2.42 labels them;
# - __axon_depends_on on static and file targets feeds the dependency
#   graph;
# - a scraper delegates a job's dns_sd_configs and consul_sd_configs to
#   the discoverer and scrapes what they find.
. "$(dirname "$0")/lib.sh"
dns=$(freeport); up=$(freeport); dport=$(freeport); cport=$(freeport)
pport=$(freeport); uc=$(freeport); upp=$(freeport); tgt=$(freeport)
sport=$(freeport); sink=$(freeport)
cp "$(dirname "$0")/scraper/fixture.prom" "$TMP/fixture.prom"
start target "$PEER" http-file "127.0.0.1:$tgt" "$TMP/fixture.prom"
start sink "$PEER" http-file "127.0.0.1:$sink" "$TMP/fixture.prom"
cat >"$TMP/zone" <<EOZ
_web._tcp.example.test. SRV 0 0 8080 web1.example.test.
web1.example.test. A 10.0.0.11
api.example.test. A 127.0.0.1
empty.example.test. MX 10 mx.example.test.
EOZ
start dns "$PEER" dns-server "127.0.0.1:$dns" "$TMP/zone"

# the upstream "Consul": another discoverer with services registered
printf 'axon_discoverer:\n  control_listen: tcp://127.0.0.1:%s\n  publish_listen: tcp://127.0.0.1:%s\n  datacenter: east\n' "$uc" "$upp" >"$TMP/up.yml"
start up "$BIN/axon-discoverer" --config.file="$TMP/up.yml" --web.listen-address="127.0.0.1:$up" --storage.path="$TMP/upreg"
U="http://127.0.0.1:$up"
wait_http "$U/-/ready"
for i in 1 2; do
	curl -fsS -X PUT "$U/v1/agent/service/register" --data-binary \
		"{\"Name\":\"pay\",\"ID\":\"pay-$i\",\"Address\":\"10.9.0.$i\",\"Port\":$((7000 + i)),\"Tags\":[\"prod\"],\"Meta\":{\"team\":\"money\"}}"
done
curl -fsS -X PUT "$U/v1/agent/service/register" --data-binary '{"Name":"other","Port":1}'

mkdir -p "$TMP/sd"
printf '[{"targets": ["10.1.1.1:9100"], "labels": {"__axon_service": "cache", "__axon_depends_on": "db"}}]\n' >"$TMP/sd/a.json"
cat >"$TMP/d.yml" <<EOC
axon_discoverer:
  control_listen: tcp://127.0.0.1:$cport
  publish_listen: tcp://127.0.0.1:$pport
  dns_servers: ["127.0.0.1:$dns"]
  target_sets:
    - name: infra
      static_configs:
        - targets: ["10.0.0.1:5432"]
          labels: {__axon_service: db, __axon_depends_on: "storage, dns"}
      file_sd_configs:
        - files: ["$TMP/sd/*.json"]
      dns_sd_configs:
        - names: [_web._tcp.example.test]
          refresh_interval: 1s
        - names: [api.example.test, nx.example.test]
          type: A
          port: 9000
          refresh_interval: 1s
      consul_sd_configs:
        - server: 127.0.0.1:$up
          services: [pay]
          refresh_interval: 1s
EOC
D="http://127.0.0.1:$dport"
start disc "$BIN/axon-discoverer" --config.file="$TMP/d.yml" --web.listen-address="127.0.0.1:$dport" --storage.path="$TMP/reg"
wait_http "$D/-/ready"

sets() { curl -fsS "$D/api/v1/targetsets"; }
# group SOURCE -> its targets, each with the group labels merged in
group() {
	sets | jq -S -c --arg s "$1" '[.data.sets[] | select(.name == "infra") | .groups[] | select(.source == $s) | .labels as $g | .targets[] | $g + .]'
}
wait_for() { # DESCRIPTION COMMAND...
	local what=$1 i
	shift
	for i in $(seq 60); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "$what: $(sets)"
}
has_groups() { [ "$(sets | jq '[.data.sets[] | select(.name == "infra") | .groups[]] | length')" -ge 6 ]; }
wait_for "infra set incomplete" has_groups

[ "$(group infra:static:0)" = '[{"__address__":"10.0.0.1:5432","__axon_depends_on":"storage, dns","__axon_service":"db"}]' ] ||
	fail "static group: $(group infra:static:0)"
[ "$(group "$TMP/sd/a.json:0")" = "[{\"__address__\":\"10.1.1.1:9100\",\"__axon_depends_on\":\"db\",\"__axon_service\":\"cache\",\"__meta_filepath\":\"$TMP/sd/a.json\"}]" ] ||
	fail "file group: $(group "$TMP/sd/a.json:0")"
[ "$(group _web._tcp.example.test)" = '[{"__address__":"web1.example.test:8080","__meta_dns_name":"_web._tcp.example.test","__meta_dns_srv_record_port":"8080","__meta_dns_srv_record_target":"web1.example.test."}]' ] ||
	fail "SRV group: $(group _web._tcp.example.test)"
[ "$(group api.example.test)" = '[{"__address__":"127.0.0.1:9000","__meta_dns_name":"api.example.test"}]' ] ||
	fail "A group: $(group api.example.test)"
[ "$(group nx.example.test)" = '[]' ] || fail "NXDOMAIN group: $(group nx.example.test)"
pass "static, file_sd and dns_sd (SRV, A, NXDOMAIN) groups labelled as Prometheus labels them"

# consul_sd: the same labels the upstream's own registry set carries
want=$(curl -fsS "$U/api/v1/targetsets" | jq -S -c '[.data.sets[] | select(.name == "registry") | .groups[] | select(.source == "registry:pay") | .targets[]] | sort_by(.__meta_consul_service_id)')
got=$(group pay | jq -S -c 'sort_by(.__meta_consul_service_id)')
[ "$(echo "$want" | jq length)" = 2 ] || fail "upstream pay: $want"
[ "$got" = "$want" ] || fail "consul_sd labels:\n got $got\nwant $want"
echo "$got" | jq -e '.[0].__meta_consul_dc == "east" and .[0].__meta_consul_service_metadata_team == "money"' >/dev/null || fail "consul_sd dc/meta: $got"
pass "consul_sd_configs against a Consul API: the labels consul_sd derives, service filter applied"

# changes: a new SRV record, a third pay instance, a new file; a broken
# file keeps its targets
echo "_web._tcp.example.test. SRV 0 0 8081 web2.example.test." >>"$TMP/zone"
curl -fsS -X PUT "$U/v1/agent/service/register" --data-binary '{"Name":"pay","ID":"pay-3","Port":7003}'
printf -- '- targets: ["10.2.2.2:9100"]\n  labels: {__axon_service: queue}\n' >"$TMP/sd/b.json"
two_srv() { [ "$(group _web._tcp.example.test | jq length)" = 2 ]; }
three_pay() { [ "$(group pay | jq length)" = 3 ]; }
b_file() { [ "$(group "$TMP/sd/b.json:0" | jq length)" = 1 ]; }
wait_for "second SRV record not seen" two_srv
wait_for "third pay instance not seen" three_pay
wait_for "new file not read" b_file
printf '[{"targets": [' >"$TMP/sd/a.json"
sleep 2.5
[ "$(group "$TMP/sd/a.json:0" | jq length)" = 1 ] || fail "a broken file lost its targets"
pass "DNS, Consul and file changes picked up; a broken file keeps its last targets"

# dependencies from __axon_depends_on
g=$(curl -fsS "$D/api/v1/dependencies")
echo "$g" | jq -e '.data.services[] | select(.service == "db") | .dependsOn == ["dns","storage"]' >/dev/null || fail "db deps: $g"
echo "$g" | jq -e '.data.services[] | select(.service == "cache") | .dependsOn == ["db"]' >/dev/null || fail "cache deps: $g"
curl -fsS "$D/metrics" | grep -q '^axon_service_dependency{service="cache",depends_on="db"} 1$' || fail "cache edge not exported"
pass "__axon_depends_on on static and file targets feeds the dependency graph"

# ---- delegation from a scraper ----
curl -fsS -X PUT "$D/v1/agent/service/register" --data-binary "{\"Name\":\"shop\",\"Address\":\"127.0.0.1\",\"Port\":$tgt,\"Tags\":[\"m\"]}"
cat >"$TMP/s.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 500ms
scrape_configs:
  - job_name: dnsjob
    dns_sd_configs:
      - names: [api.example.test]
        type: A
        port: $tgt
        refresh_interval: 1s
  - job_name: consuljob
    consul_sd_configs:
      - server: 127.0.0.1:$dport
        services: [shop]
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [__meta_consul_service]
        target_label: service
remote_write:
  - url: http://127.0.0.1:$sink/api/v1/write
axon_scraper:
  sender_id: s1
  discoverer: tcp://127.0.0.1:$cport
  discoverer_publish: tcp://127.0.0.1:$pport
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/s.yml" --web.listen-address="127.0.0.1:$sport"
S="http://127.0.0.1:$sport"
wait_http "$S/-/ready"
scraped() {
	curl -fsS "$S/api/v1/targets" | jq -e --arg j "$1" '[.data.activeTargets[] | select(.scrapePool == $j and .health == "up")] | length == 1'
}
ok=0
for i in $(seq 80); do
	scraped dnsjob >/dev/null && scraped consuljob >/dev/null && { ok=1; break; }
	sleep 0.1
done
[ "$ok" = 1 ] || fail "delegated jobs not scraped: $(curl -fsS "$S/api/v1/targets") sets: $(sets | jq -c '[.data.sets[].name]')"
t=$(curl -fsS "$S/api/v1/targets")
echo "$t" | jq -e '.data.activeTargets[] | select(.scrapePool == "dnsjob") | .discoveredLabels.__meta_dns_name == "api.example.test"' >/dev/null || fail "dnsjob labels: $t"
echo "$t" | jq -e '.data.activeTargets[] | select(.scrapePool == "consuljob") | .labels.service == "shop" and .discoveredLabels.__meta_consul_dc == "dc1"' >/dev/null || fail "consuljob labels: $t"
sets | jq -e '[.data.sets[].name] | index("dnsjob") and index("consuljob")' >/dev/null || fail "delegated sets not published"
pass "a scraper's dns_sd_configs and consul_sd_configs run on the discoverer; the scraper scrapes what they find"
