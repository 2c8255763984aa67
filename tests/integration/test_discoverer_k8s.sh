# kubernetes_sd_configs in axon-discoverer against a Kubernetes API
# fixture (v1 PodList, EndpointsList, ServiceList and watch streams with
# ADDED/MODIFIED/DELETED/BOOKMARK, and a 410 ERROR after which the client
# lists again):
# - role pod: one group per pod, a target per container port (init
#   containers too), Prometheus 2.42's __meta_kubernetes_* labels; no
#   targets for a pod without an IP; namespaces filter;
# - role endpoints: endpoint targets with the service's and the pods'
#   labels, not-ready addresses, and the pods' uncovered container ports;
# - bearer token sent; watch changes applied; relist after 410;
# - a scraper delegating a job's kubernetes_sd_configs.
. "$(dirname "$0")/lib.sh"
kport=$(freeport); dport=$(freeport); cport=$(freeport); pport=$(freeport)
sport=$(freeport); sink=$(freeport)
K=$TMP/k8s
mkdir -p "$K"
echo "s3cret" >"$K/token"
cp "$K/token" "$TMP/tokenfile"
cat >"$K/pods.json" <<'EOF'
{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"100"},"items":[
 {"metadata":{"name":"web-1","namespace":"shop","uid":"u-1","resourceVersion":"90",
   "labels":{"app":"web","app.kubernetes.io/name":"web"},
   "annotations":{"prometheus.io/scrape":"true"},
   "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-abc","uid":"rs","controller":true}]},
  "spec":{"nodeName":"node-1",
   "containers":[{"name":"app","image":"nginx:1","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"admin","containerPort":9090,"protocol":"TCP"}]},
                 {"name":"sidecar","image":"envoy:2"}],
   "initContainers":[{"name":"init","image":"busybox:1"}]},
  "status":{"phase":"Running","podIP":"10.1.0.5","hostIP":"192.168.0.1",
   "conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}]}},
 {"metadata":{"name":"pending-1","namespace":"shop","uid":"u-2","resourceVersion":"91"},
  "spec":{"containers":[{"name":"app","image":"nginx:1"}]},
  "status":{"phase":"Pending"}},
 {"metadata":{"name":"db-1","namespace":"data","uid":"u-3","resourceVersion":"92"},
  "spec":{"containers":[{"name":"pg","image":"postgres:15","ports":[{"containerPort":5432}]}]},
  "status":{"phase":"Running","podIP":"10.2.0.7","hostIP":"192.168.0.2"}}]}
EOF
cat >"$K/endpoints.json" <<'EOF'
{"kind":"EndpointsList","apiVersion":"v1","metadata":{"resourceVersion":"200"},"items":[
 {"metadata":{"name":"web","namespace":"shop","labels":{"svc":"web"},"resourceVersion":"190"},
  "subsets":[{"addresses":[{"ip":"10.1.0.5","nodeName":"node-1","targetRef":{"kind":"Pod","name":"web-1","namespace":"shop"}}],
              "notReadyAddresses":[{"ip":"10.1.0.9","hostname":"web-9"}],
              "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]}]}
EOF
cat >"$K/services.json" <<'EOF'
{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"300"},"items":[
 {"metadata":{"name":"web","namespace":"shop","labels":{"tier":"front"},"annotations":{"a.b/c":"d"},"resourceVersion":"290"},
  "spec":{"clusterIP":"10.96.0.10","ports":[{"name":"http","port":80}]}}]}
EOF
: >"$K/pods.watch"
start k8s "$PEER" k8s-api "127.0.0.1:$kport" "$K"
cat >"$TMP/d.yml" <<EOC
axon_discoverer:
  control_listen: tcp://127.0.0.1:$cport
  publish_listen: tcp://127.0.0.1:$pport
  target_sets:
    - name: kpods
      kubernetes_sd_configs:
        - api_server: http://127.0.0.1:$kport
          role: pod
          bearer_token_file: $TMP/tokenfile
          namespaces: {names: [shop]}
    - name: keps
      kubernetes_sd_configs:
        - api_server: http://127.0.0.1:$kport
          role: endpoints
          bearer_token_file: $TMP/tokenfile
EOC
D="http://127.0.0.1:$dport"
start disc "$BIN/axon-discoverer" --config.file="$TMP/d.yml" --web.listen-address="127.0.0.1:$dport" --storage.path="$TMP/reg"
wait_http "$D/-/ready"
group() { # SET SOURCE -> targets with the group labels merged in
	curl -fsS "$D/api/v1/targetsets" | jq -S -c --arg n "$1" --arg s "$2" \
		'[.data.sets[] | select(.name == $n) | .groups[] | select(.source == $s) | .labels as $g | .targets[] | $g + .] | sort_by(.__address__, .__meta_kubernetes_pod_container_name)'
}
sources() { curl -fsS "$D/api/v1/targetsets" | jq -c --arg n "$1" '[.data.sets[] | select(.name == $n) | .groups[].source] | sort'; }
until_eq() { # WANT COMMAND...
	local want=$1 i got=""
	shift
	for i in $(seq 80); do
		got=$("$@" 2>/dev/null || true)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "want $want, got $got"
}
until_eq '["pod/shop/pending-1","pod/shop/web-1"]' sources kpods

POD='"__meta_kubernetes_namespace":"shop","__meta_kubernetes_pod_annotation_prometheus_io_scrape":"true","__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape":"true","__meta_kubernetes_pod_controller_kind":"ReplicaSet","__meta_kubernetes_pod_controller_name":"web-abc","__meta_kubernetes_pod_host_ip":"192.168.0.1","__meta_kubernetes_pod_ip":"10.1.0.5","__meta_kubernetes_pod_label_app":"web","__meta_kubernetes_pod_label_app_kubernetes_io_name":"web","__meta_kubernetes_pod_labelpresent_app":"true","__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name":"true","__meta_kubernetes_pod_name":"web-1","__meta_kubernetes_pod_node_name":"node-1","__meta_kubernetes_pod_phase":"Running","__meta_kubernetes_pod_ready":"true","__meta_kubernetes_pod_uid":"u-1"'
want=$(echo "[
 {\"__address__\":\"10.1.0.5\",$POD,\"__meta_kubernetes_pod_container_image\":\"busybox:1\",\"__meta_kubernetes_pod_container_init\":\"true\",\"__meta_kubernetes_pod_container_name\":\"init\"},
 {\"__address__\":\"10.1.0.5\",$POD,\"__meta_kubernetes_pod_container_image\":\"envoy:2\",\"__meta_kubernetes_pod_container_init\":\"false\",\"__meta_kubernetes_pod_container_name\":\"sidecar\"},
 {\"__address__\":\"10.1.0.5:8080\",$POD,\"__meta_kubernetes_pod_container_image\":\"nginx:1\",\"__meta_kubernetes_pod_container_init\":\"false\",\"__meta_kubernetes_pod_container_name\":\"app\",\"__meta_kubernetes_pod_container_port_name\":\"http\",\"__meta_kubernetes_pod_container_port_number\":\"8080\",\"__meta_kubernetes_pod_container_port_protocol\":\"TCP\"},
 {\"__address__\":\"10.1.0.5:9090\",$POD,\"__meta_kubernetes_pod_container_image\":\"nginx:1\",\"__meta_kubernetes_pod_container_init\":\"false\",\"__meta_kubernetes_pod_container_name\":\"app\",\"__meta_kubernetes_pod_container_port_name\":\"admin\",\"__meta_kubernetes_pod_container_port_number\":\"9090\",\"__meta_kubernetes_pod_container_port_protocol\":\"TCP\"}
]" | jq -S -c 'sort_by(.__address__, .__meta_kubernetes_pod_container_name)')
got=$(group kpods pod/shop/web-1)
[ "$got" = "$want" ] || fail "pod role labels:\n got $got\nwant $want"
[ "$(group kpods pod/shop/pending-1)" = '[]' ] || fail "a pod without an IP has targets"
grep -q '^/api/v1/namespaces/shop/pods?.* Bearer s3cret$' "$K/requests.log" || fail "no namespaced list with the token: $(cat "$K/requests.log")"
pass "role pod: a target per container port and per portless container, Prometheus' labels, namespace filter, bearer token"

# endpoints role (all namespaces)
until_eq '["endpoints/shop/web"]' sources keps
EP='"__meta_kubernetes_endpoints_label_svc":"web","__meta_kubernetes_endpoints_labelpresent_svc":"true","__meta_kubernetes_endpoints_name":"web","__meta_kubernetes_namespace":"shop","__meta_kubernetes_service_annotation_a_b_c":"d","__meta_kubernetes_service_annotationpresent_a_b_c":"true","__meta_kubernetes_service_label_tier":"front","__meta_kubernetes_service_labelpresent_tier":"true","__meta_kubernetes_service_name":"web"'
PODL=$(echo "$POD" | sed 's/"__meta_kubernetes_namespace":"shop",//')
want=$(echo "[
 {\"__address__\":\"10.1.0.5:8080\",$EP,$PODL,\"__meta_kubernetes_endpoint_address_target_kind\":\"Pod\",\"__meta_kubernetes_endpoint_address_target_name\":\"web-1\",\"__meta_kubernetes_endpoint_node_name\":\"node-1\",\"__meta_kubernetes_endpoint_port_name\":\"http\",\"__meta_kubernetes_endpoint_port_protocol\":\"TCP\",\"__meta_kubernetes_endpoint_ready\":\"true\",\"__meta_kubernetes_pod_container_image\":\"nginx:1\",\"__meta_kubernetes_pod_container_name\":\"app\",\"__meta_kubernetes_pod_container_port_name\":\"http\",\"__meta_kubernetes_pod_container_port_number\":\"8080\",\"__meta_kubernetes_pod_container_port_protocol\":\"TCP\"},
 {\"__address__\":\"10.1.0.5:9090\",$EP,$PODL,\"__meta_kubernetes_pod_container_image\":\"nginx:1\",\"__meta_kubernetes_pod_container_name\":\"app\",\"__meta_kubernetes_pod_container_port_name\":\"admin\",\"__meta_kubernetes_pod_container_port_number\":\"9090\",\"__meta_kubernetes_pod_container_port_protocol\":\"TCP\"},
 {\"__address__\":\"10.1.0.9:8080\",$EP,\"__meta_kubernetes_endpoint_hostname\":\"web-9\",\"__meta_kubernetes_endpoint_port_name\":\"http\",\"__meta_kubernetes_endpoint_port_protocol\":\"TCP\",\"__meta_kubernetes_endpoint_ready\":\"false\"}
]" | jq -S -c 'sort_by(.__address__, .__meta_kubernetes_pod_container_name)')
until_eq "$want" group keps endpoints/shop/web
pass "role endpoints: ready and not-ready addresses, service and pod labels, uncovered container ports"

# watch events: a label change, a new pod, a deletion, a bookmark
web2='{"metadata":{"name":"web-2","namespace":"shop","uid":"u-4","resourceVersion":"102"},"spec":{"containers":[{"name":"app","image":"nginx:2","ports":[{"containerPort":8080}]}]},"status":{"phase":"Running","podIP":"10.1.0.6"}}'
{
	echo "101 $(jq -c '.items[0] | .metadata.labels.version = "v2" | .metadata.resourceVersion = "101" | {type: "MODIFIED", object: .}' "$K/pods.json")"
	echo "102 {\"type\":\"ADDED\",\"object\":$web2}"
	echo "103 $(jq -c '.items[1] | .metadata.resourceVersion = "103" | {type: "DELETED", object: .}' "$K/pods.json")"
	echo '104 {"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"104"}}}'
	echo "105 $(jq -c '.items[2] | .metadata.resourceVersion = "105" | {type: "MODIFIED", object: .}' "$K/pods.json")"
} >>"$K/pods.watch"
until_eq '["pod/shop/web-1","pod/shop/web-2"]' sources kpods
group kpods pod/shop/web-1 | jq -e 'all(.[]; .__meta_kubernetes_pod_label_version == "v2")' >/dev/null || fail "MODIFIED not applied: $(group kpods pod/shop/web-1)"
[ "$(group kpods pod/shop/web-2 | jq -c '[.[].__address__]')" = '["10.1.0.6:8080"]' ] || fail "ADDED pod: $(group kpods pod/shop/web-2)"
pass "watch: MODIFIED, ADDED, DELETED applied; BOOKMARK and other namespaces' events pass"

# 410: the server compacted past what the client has; it lists again
cat >"$K/pods.json" <<EOF
{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"500"},"items":[$web2]}
EOF
echo 400 >"$K/pods.minrv"
until_eq '["pod/shop/web-2"]' sources kpods
n=$(grep '^/api/v1/namespaces/shop/pods' "$K/requests.log" | grep -vc 'watch=true' || true)
[ "$n" -ge 2 ] || fail "no second list after 410: $(cat "$K/requests.log")"
grep -q 'namespaces/shop/pods?.*watch=true.*resourceVersion=500' "$K/requests.log" || fail "no watch from the new list's version"
pass "an ERROR 410 event makes the client list again and watch from the new version"

# ---- a scraper delegating kubernetes_sd_configs ----
start sink "$PEER" http-file "127.0.0.1:$sink" "$TMP/d.yml"
cat >"$TMP/s.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 500ms
scrape_configs:
  - job_name: kpod
    kubernetes_sd_configs:
      - api_server: http://127.0.0.1:$kport
        role: pod
        bearer_token_file: $TMP/tokenfile
        namespaces: {names: [shop]}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
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
kt() { curl -fsS "$S/api/v1/targets" | jq -c '[.data.activeTargets[] | select(.scrapePool == "kpod") | [.labels.pod, .discoveredLabels.__address__]]'; }
until_eq '[["web-2","10.1.0.6:8080"]]' kt
pass "a scraper's kubernetes_sd_configs job runs on the discoverer and gets its pod targets"
