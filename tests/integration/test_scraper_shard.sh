# Static sharding (--shard=i/N): three replicas split nine targets with no
# overlap and no gap, by the hashmod of each target's address; and the
# scraper's configuration errors name file:line:col or the job, with
# Prometheus' checks.
. "$(dirname "$0")/lib.sh"
rport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/recv.yml"
cat >"$TMP/s.yml" <<EOC
global:
  scrape_interval: 1h
scrape_configs:
  - job_name: many
    static_configs:
      - targets: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4',
                  '127.0.0.1:5', '127.0.0.1:6', '127.0.0.1:7', '127.0.0.1:8',
                  '127.0.0.1:9']
remote_write:
  - url: http://127.0.0.1:$rport/api/v1/write
EOC
all=""
for i in 0 1 2; do
	p=$(freeport)
	start "s$i" "$BIN/axon-scraper" --config.file="$TMP/s.yml" --web.listen-address="127.0.0.1:$p" --shard="$i/3"
	wait_http "http://127.0.0.1:$p/-/ready"
	mine=$(curl -fsS "http://127.0.0.1:$p/api/v1/targets" | jq -r '.data.activeTargets[].labels.instance')
	all="$all $mine"
done
n=$(echo $all | tr ' ' '\n' | sort | uniq | wc -l)
d=$(echo $all | tr ' ' '\n' | sort | uniq -d | wc -l)
[ "$n" = 9 ] && [ "$d" = 0 ] || fail "shards cover $n distinct targets, $d duplicates: $all"
pass "three replicas share nine targets: each exactly once"

bad() { # yaml-file expected-substring
	rc=0
	timeout 10 "$BIN/axon-scraper" --config.file="$1" --web.listen-address=127.0.0.1:0 >"$TMP/out" 2>&1 || rc=$?
	[ "$rc" != 0 ] && grep -q -- "$2" "$TMP/out" || fail "$(basename "$1"): want \"$2\", got rc=$rc: $(cat "$TMP/out")"
}
printf 'scrape_configs:\n  - job_name: a\n    scrape_intervall: 1s\n' >"$TMP/b1.yml"
bad "$TMP/b1.yml" "b1.yml:3:5: scrape_configs\[0\].scrape_intervall"
printf 'scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [x:1]}]\n  - job_name: a\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b2.yml"
bad "$TMP/b2.yml" 'found multiple scrape configs with job name'
printf 'scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b3.yml"
bad "$TMP/b3.yml" 'scrape timeout greater than scrape interval for scrape config with job name'
printf 'scrape_configs:\n  - job_name: a\n    consul_sd_configs: [{server: "x:8500"}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b4.yml"
bad "$TMP/b4.yml" 'consul_sd_configs need axon-discoverer'
printf 'scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [x], type: A}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b5.yml"
bad "$TMP/b5.yml" "b5.yml:3:22: scrape_configs\[0\].dns_sd_configs\[0\]: a port is required"
printf 'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: node}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b6.yml"
bad "$TMP/b6.yml" 'b6.yml:3:29: scrape_configs.0..kubernetes_sd_configs.0.: role ..node.. is not supported'
printf 'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: pod, selectors: [{role: service, label: a=b}]}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b8.yml"
bad "$TMP/b8.yml" "pod role supports only pod selectors"
printf 'scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: [{role: pod}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b9.yml"
bad "$TMP/b9.yml" "kubernetes_sd_configs need axon-discoverer"
printf 'scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [x.txt]}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b7.yml"
bad "$TMP/b7.yml" "is not valid for file discovery"
printf 'scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [x:1]}]\n' >"$TMP/b5.yml"
bad "$TMP/b5.yml" "need somewhere to send samples"
printf 'scrape_configs:\n  - job_name: a\n    metric_relabel_configs: [{action: hashmod, target_label: x}]\nremote_write: [{url: "http://x/"}]\n' >"$TMP/b6.yml"
bad "$TMP/b6.yml" "requires non-zero modulus"
printf 'global: {scrape_interval: 1m}\nremote_write: [{url: "http://x/"}]\n' >"$TMP/ok.yml"
rc=0
"$BIN/axon-scraper" --config.file="$TMP/ok.yml" --web.listen-address=127.0.0.1:0 --shard=3/3 >"$TMP/out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'want i/N with 0 <= i < N' "$TMP/out" || fail "bad --shard: rc=$rc $(cat "$TMP/out")"
pass "configuration errors: unknown fields with file:line:col, duplicate jobs, timeouts, refused discovery, no destination, bad rules, bad --shard"
