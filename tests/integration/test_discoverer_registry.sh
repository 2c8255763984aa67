# axon-discoverer's Consul-compatible registry:
# - a real Consul client (Debian's python3-consul) registers, lists, reads
#   health and blocks on an index against axon-discoverer;
# - the target sets carry the labels Prometheus' consul_sd_configs derives
#   from the same /v1/health/service answers (computed here with its
#   rules, independently of the discoverer's code);
# - bad registrations get 400 with the reason;
# - HTTP, TCP and TTL checks; a service critical for longer than
#   DeregisterCriticalServiceAfter goes away;
# - kill -9 right after registrations are answered 200: all are back after
#   a restart;
# - the dependency graph (Meta.depends_on), its cycle, /metrics export.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import consul' 2>/dev/null || fail "python3-consul not installed (make deps)"
dport=$(freeport); cport=$(freeport); pport=$(freeport); live=$(freeport)
cat >"$TMP/d.yml" <<EOC
axon_discoverer:
  control_listen: tcp://127.0.0.1:$cport
  publish_listen: tcp://127.0.0.1:$pport
  datacenter: dc7
  node_name: node-a
  node_meta: {rack: r1}
EOC
D="http://127.0.0.1:$dport"
start_disc() {
	start disc "$BIN/axon-discoverer" --config.file="$TMP/d.yml" \
		--web.listen-address="127.0.0.1:$dport" --storage.path="$TMP/reg"
	wait_http "$D/-/ready"
}
start_disc
start live "$PEER" http-file "127.0.0.1:$live" "$TMP/d.yml"
wait_http "http://127.0.0.1:$live/"

# ---- a real Consul client ----
out=$($PY - "$dport" "$live" <<'EOF'
import sys, consul, threading, time
port, live = int(sys.argv[1]), sys.argv[2]
c = consul.Consul(host="127.0.0.1", port=port)
assert c.agent.self()["Config"]["Datacenter"] == "dc7"
c.agent.service.register("web", service_id="web-1", address="10.1.0.1", port=8080,
    tags=["prod", "v2"], check=consul.Check.http("http://127.0.0.1:%s/" % live, "1s"))
c.agent.service.register("web", service_id="web-2", port=8081, tags=["canary"],
    check=consul.Check.tcp("127.0.0.1", int(live), "1s"))
c.agent.service.register("db", service_id="db-1", port=5432, check=consul.Check.ttl("30s"))
idx, svcs = c.catalog.services()
assert svcs == {"web": ["prod", "v2", "canary"], "db": []} or sorted(svcs) == ["db", "web"], svcs
assert sorted(svcs["web"]) == ["canary", "prod", "v2"], svcs
_, nodes = c.health.service("web", tag="prod")
assert [n["Service"]["ID"] for n in nodes] == ["web-1"], nodes
# TTL: critical until passed
_, nodes = c.health.service("db", passing=True)
assert nodes == [], nodes
c.agent.check.ttl_pass("service:db-1", notes="ok")
_, nodes = c.health.service("db", passing=True)
assert len(nodes) == 1 and nodes[0]["Checks"][1]["Output"] == "ok", nodes
# blocking query: once the checks settle, an index blocks until the wait
# ends (same index) or until something changes (a higher index)
for _ in range(100):
    idx, nodes = c.health.service("web", passing=True)
    if len(nodes) == 2:
        break
    time.sleep(0.1)
assert len(nodes) == 2, nodes
t0 = time.time()
idx2, _ = c.health.service("web", index=idx, wait="1s")
assert idx2 == idx and time.time() - t0 >= 0.9, (idx, idx2, time.time() - t0)
res = {}
def watch():
    t0 = time.time()
    res["idx"], res["nodes"] = c.health.service("web", index=idx, wait="20s")
    res["dt"] = time.time() - t0
th = threading.Thread(target=watch); th.start()
time.sleep(1.0)
c.agent.service.register("web", service_id="web-3", port=8082)
th.join(25)
assert not th.is_alive(), "blocking query did not return"
assert int(res["idx"]) > int(idx), (idx, res["idx"])
assert len(res["nodes"]) == 3, res["nodes"]
assert 0.8 < res["dt"] < 15, res["dt"]
c.agent.service.deregister("web-3")
print("ok")
EOF
) || fail "python3-consul against axon-discoverer: $out"
[ "$out" = ok ] || fail "python3-consul: $out"
pass "python3-consul registers, lists, filters by tag and passing, passes a TTL check and blocks on an index"

curl -fsS -X PUT "$D/v1/agent/service/register" --data-binary \
	'{"Name":"db","ID":"db-2","Port":5433,"Meta":{"team-name":"core","tier":"data"}}' >/dev/null ||
	fail "register db-2"

# ---- health as the checks see it ----
ok=0
for i in $(seq 50); do
	h=$(curl -fsS "$D/v1/health/service/web" | jq -c '[.[] | .Checks[1].Status] | unique')
	[ "$h" = '["passing"]' ] && { ok=1; break; }
	sleep 0.1
done
[ "$ok" = 1 ] || fail "HTTP and TCP checks not passing: $(curl -fsS "$D/v1/health/service/web")"
curl -fsS "$D/v1/health/service/web" | jq -e '[.[].Checks[1].Output] | (.[0] | startswith("HTTP GET")) and (.[1] | startswith("TCP connect"))' >/dev/null ||
	fail "check output: $(curl -fsS "$D/v1/health/service/web")"
pass "HTTP and TCP checks run by the discoverer pass against a live target"

# ---- labels as Prometheus' consul_sd derives them ----
# Prometheus 2.42 discovery/consul: __address__ is Service.Address (else
# Node.Address) joined with the port; tags wrapped in the separator;
# node meta, service meta and node tagged addresses as sanitized labels.
expect=$(for s in web db; do curl -fsS "$D/v1/health/service/$s"; done | jq -s -c '
  def san: gsub("[^a-zA-Z0-9_]"; "_");
  [ .[][] | {
    "__address__": ((if .Service.Address != "" then .Service.Address else .Node.Address end) + ":" + (.Service.Port|tostring)),
    "__meta_consul_address": .Node.Address,
    "__meta_consul_dc": .Node.Datacenter,
    "__meta_consul_health": ([.Checks[].Status] | if any(. == "critical") then "critical" elif any(. == "maintenance") then "maintenance" elif any(. == "warning") then "warning" else "passing" end),
    "__meta_consul_node": .Node.Node,
    "__meta_consul_service": .Service.Service,
    "__meta_consul_service_address": .Service.Address,
    "__meta_consul_service_id": .Service.ID,
    "__meta_consul_service_port": (.Service.Port|tostring),
    "__meta_consul_tags": ("," + (.Service.Tags | join(",")) + ",") }
    + ((.Node.Meta // {}) | with_entries(.key = "__meta_consul_metadata_" + (.key|san)))
    + ((.Service.Meta // {}) | with_entries(.key = "__meta_consul_service_metadata_" + (.key|san)))
    + ((.Node.TaggedAddresses // {}) | with_entries(.key = "__meta_consul_tagged_address_" + (.key|san)))
  ] | sort_by(.__meta_consul_service_id)' | jq -S -c .)
got=$(curl -fsS "$D/api/v1/targetsets" | jq -S -c '[.data.sets[] | select(.name == "registry") | .groups[].targets[]] | sort_by(.__meta_consul_service_id)')
[ "$(echo "$expect" | jq length)" = 4 ] || fail "expected 4 instances: $expect"
[ "$got" = "$expect" ] || fail "target labels differ from consul_sd's:\n got $got\nwant $expect"
echo "$got" | jq -e '.[] | select(.__meta_consul_service_id == "web-1") | .__address__ == "10.1.0.1:8080" and .__meta_consul_tags == ",prod,v2," and .__meta_consul_metadata_rack == "r1"' >/dev/null ||
	fail "web-1 labels: $got"
echo "$got" | jq -e '.[] | select(.__meta_consul_service_id == "db-2") | .__meta_consul_service_metadata_team_name == "core"' >/dev/null ||
	fail "db-2 labels: $got"
pass "published targets carry the __meta_consul_* labels consul_sd_configs derives"

# ---- bad registrations ----
reg() { curl -sS -o "$TMP/body" -w '%{http_code}' -X PUT "$D/v1/agent/service/register" --data-binary "$1"; }
expect_400() {
	local code
	code=$(reg "$1")
	[ "$code" = 400 ] || fail "registration $1: want 400, got $code: $(cat "$TMP/body")"
	grep -q "$2" "$TMP/body" || fail "registration $1: message $(cat "$TMP/body") lacks '$2'"
}
expect_400 '{"ID":"x","Port":1}' 'Missing service name'
expect_400 '{"Name":"x","Port":70000}' 'Invalid Port'
expect_400 '{"Name":"x","Port":"80"}' 'Invalid Port'
expect_400 '{"Name":"x",' 'invalid JSON at byte'
expect_400 '[1,2]' 'want a JSON object'
expect_400 '{"Name":"x","Check":{"HTTP":"http://a/","Interval":"nope"}}' 'Interval'
expect_400 '{"Name":"x","Check":{"HTTP":"http://a/"}}' 'Interval must be > 0'
expect_400 '{"Name":"x","Check":{"Args":["/bin/true"],"Interval":"1s"}}' 'not supported'
expect_400 '{"Name":"x","Meta":{"bad key":"v"}}' 'Invalid service Meta'
head -c 700000 /dev/zero | tr '\0' 'a' | sed 's/^/{"Name":"big","Tags":["/; s/$/"]}/' >"$TMP/big.json"
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -X PUT "$D/v1/agent/service/register" --data-binary @"$TMP/big.json")
[ "$code" = 400 ] && grep -q 'too large' "$TMP/body" || fail "oversized body: $code $(cat "$TMP/body")"
[ "$(curl -fsS "$D/v1/catalog/services" | jq -c 'keys')" = '["db","web"]' ] || fail "a bad registration changed the registry"
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -X PUT "$D/v1/agent/service/deregister/nope")
[ "$code" = 404 ] || fail "deregistering an unknown ID: $code"
for path in v1/health/service/web v1/catalog/service/web v1/catalog/services; do
	code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -G "$D/$path" --data-urlencode 'filter=Service.Port == 1')
	[ "$code" = 400 ] && grep -q 'filter expressions are not supported' "$TMP/body" ||
		fail "$path with a filter expression: $code $(cat "$TMP/body")"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' "$D/v1/catalog/services?dc=elsewhere")
[ "$code" = 500 ] || fail "another datacenter: $code"
pass "bad registrations get 400 with the reason, nothing changes"

# ---- critical services go after DeregisterCriticalServiceAfter ----
dead=$(freeport)
[ "$(reg "{\"Name\":\"gone\",\"Port\":$dead,\"Check\":{\"TCP\":\"127.0.0.1:$dead\",\"Interval\":\"200ms\",\"Timeout\":\"100ms\",\"DeregisterCriticalServiceAfter\":\"1s\"}}")" = 200 ] || fail "register gone"
curl -fsS "$D/v1/health/service/gone" | jq -e 'length == 1' >/dev/null || fail "gone not registered"
ok=0
for i in $(seq 60); do
	sleep 0.1
	[ "$(curl -fsS "$D/v1/health/service/gone" | jq length)" = 0 ] && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "critical service not deregistered: $(curl -fsS "$D/v1/health/service/gone")"
[ "$(metric_value "$D/metrics" axon_discoverer_critical_deregistrations_total)" = 1 ] || fail "reap not counted"
pass "a service critical for longer than DeregisterCriticalServiceAfter is deregistered"

# ---- dependencies ----
[ "$(reg '{"Name":"cart","ID":"cart-1","Port":1,"Meta":{"depends_on":"auth, db"}}')" = 200 ] || fail "cart"
[ "$(reg '{"Name":"auth","ID":"auth-1","Port":2,"Meta":{"depends_on":"cart"}}')" = 200 ] || fail "auth"
ok=0
for i in $(seq 30); do
	g=$(curl -fsS "$D/api/v1/dependencies")
	echo "$g" | jq -e '.data.cycles == [["auth","cart"]]' >/dev/null && { ok=1; break; }
	sleep 0.1
done
[ "$ok" = 1 ] || fail "dependency graph: $g"
echo "$g" | jq -e '.data.services[] | select(.service == "cart") | .dependsOn == ["auth","db"] and .dependents == ["auth"]' >/dev/null || fail "cart deps: $g"
m=$(curl -fsS "$D/metrics")
echo "$m" | grep -q '^axon_service_dependency{service="cart",depends_on="db"} 1$' || fail "edge not exported"
echo "$m" | grep -q '^axon_service_dependency_cycle{services="auth -> cart"} 1$' || fail "cycle not exported"
pass "dependency graph served and exported; the auth <-> cart cycle is reported"

# ---- kill -9 right after the answers ----
for i in $(seq 1 40); do
	[ "$(reg "{\"Name\":\"bulk\",\"ID\":\"bulk-$i\",\"Port\":$((10000 + i))}")" = 200 ] || fail "bulk-$i"
done
kill -KILL "$disc_PID"
wait "$disc_PID" 2>/dev/null || true
start_disc
n=$(curl -fsS "$D/v1/catalog/service/bulk" | jq length)
[ "$n" = 40 ] || fail "after kill -9: $n of 40 registrations back"
curl -fsS "$D/v1/catalog/services" | jq -e 'keys == ["auth","bulk","cart","db","web"]' >/dev/null ||
	fail "services after restart: $(curl -fsS "$D/v1/catalog/services")"
[ "$(curl -fsS "$D/v1/catalog/service/web" | jq length)" = 2 ] || fail "web instances after restart"
pass "kill -9 right after 40 registrations: all 40 (and the earlier ones) are back"
