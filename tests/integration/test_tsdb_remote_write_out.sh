# remote_write out: axon-tsdb forwards what it stores to a remote-write
# receiver (Debian's Prometheus 2.42 with --web.enable-remote-write-receiver)
# by tailing its WAL, external labels added; it keeps forwarding across WAL
# segments and after a reload.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed"

pport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/p" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver
P="http://127.0.0.1:$pport"
wait_http "$P/-/ready" 60

aport=$(freeport)
cat >"$TMP/tsdb.yml" <<EOC
global:
  external_labels:
    cluster: eu1
remote_write:
  - url: $P/api/v1/write
    name: prom
    queue_config:
      batch_send_deadline: 200ms
      min_backoff: 10ms
      max_backoff: 100ms
EOC
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/a" \
	--web.listen-address="127.0.0.1:$aport" --storage.tsdb.wal-segment-size=64KB
A="http://127.0.0.1:$aport"
wait_http "$A/-/ready" 30
start_ms=$(( ($(date +%s) - 600) * 1000 ))
"$PEER" rw-send "$A/api/v1/write" 200 120 "$start_ms" 1000 >"$TMP/send.out" || fail "rw-send: $(cat "$TMP/send.out")"
t_end=$(( (start_ms + 119000) / 1000 ))
ok=0
for i in $(seq 100); do
	q=$(curl -fsS -G "$P/api/v1/query" --data-urlencode 'query=sum(count_over_time(test_rw_series{cluster="eu1"}[10m]))' --data-urlencode "time=$t_end")
	if echo "$q" | grep -q '"value":\[[0-9.]*,"24000"\]'; then ok=1; break; fi
	sleep 0.1
done
[ "$ok" = 1 ] || fail "Prometheus did not receive the 24000 forwarded samples: $q"
n=$(ls "$TMP/a/wal" | grep -c '^[0-9]')
[ "$n" -ge 2 ] || fail "test wanted several WAL segments, got $n"
pass "24000 samples forwarded across $n WAL segments, external labels added"

# a reload keeps forwarding (new samples arrive afterwards)
curl -fsS -X POST "$A/-/reload" >/dev/null || fail "reload"
"$PEER" rw-send "$A/api/v1/write" 5 10 "$((start_ms + 200000))" 1000 >"$TMP/send2.out" || fail "rw-send 2"
ok=0
for i in $(seq 100); do
	q=$(curl -fsS -G "$P/api/v1/query" --data-urlencode 'query=count_over_time(test_rw_series{cluster="eu1",idx="3"}[10m])' --data-urlencode "time=$(( (start_ms + 209000) / 1000 ))")
	if echo "$q" | grep -q '"value":\[[0-9.]*,"130"\]'; then ok=1; break; fi
	sleep 0.1
done
[ "$ok" = 1 ] || fail "samples after a reload not forwarded: $q"
sent=$(curl -fsS "$A/metrics" | awk '$1 ~ /^axon_remote_storage_samples_total/ { s += $2 } END { print s + 0 }')
[ "$sent" -ge 50 ] || fail "sender metrics: $sent"
pass "forwarding continues after a reload"

# write_relabel_configs: series are relabeled (after the external labels)
# and dropped as Prometheus would before they are sent
cat >"$TMP/tsdb.yml" <<EOC
global:
  external_labels:
    cluster: eu1
remote_write:
  - url: $P/api/v1/write
    name: prom
    queue_config:
      batch_send_deadline: 200ms
      min_backoff: 10ms
      max_backoff: 100ms
    write_relabel_configs:
      - source_labels: [__name__, idx]
        regex: 'relabel_series;[0-4]'
        action: keep
      - source_labels: [cluster, idx]
        separator: '-'
        target_label: shard
      - regex: cluster
        action: labeldrop
EOC
curl -fsS -X POST "$A/-/reload" >/dev/null || fail "reload with write_relabel_configs"
"$PEER" rw-send "$A/api/v1/write" 10 5 "$((start_ms + 300000))" 1000 relabel_series >"$TMP/send3.out" || fail "rw-send 3"
ok=0
for i in $(seq 100); do
	q=$(curl -fsS -G "$P/api/v1/query" --data-urlencode 'query=count by (shard) (count_over_time(relabel_series[10m]))' --data-urlencode "time=$(( (start_ms + 305000) / 1000 ))")
	[ "$(echo "$q" | jq '.data.result | length')" = 5 ] && { ok=1; break; }
	sleep 0.1
done
[ "$ok" = 1 ] || fail "relabeled series not forwarded: $q"
for i in 0 1 2 3 4; do
	echo "$q" | jq -e ".data.result[] | select(.metric.shard == \"eu1-$i\")" >/dev/null || fail "no shard eu1-$i: $q"
done
n=$(curl -fsS -G "$P/api/v1/series" --data-urlencode 'match[]=relabel_series' | jq '.data | length')
[ "$n" = 5 ] || fail "Prometheus has $n relabel_series series, want 5 (idx 5..9 dropped)"
c=$(curl -fsS -G "$P/api/v1/series" --data-urlencode 'match[]=relabel_series{cluster!=""}' | jq '.data | length')
[ "$c" = 0 ] || fail "labeldrop left the cluster label on $c series"
pass "write_relabel_configs: 5 of 10 series kept, shard label made, cluster dropped"

# a bad rule is refused on reload with file:line:col; the old config stays
printf 'remote_write:\n  - url: %s/api/v1/write\n    write_relabel_configs:\n      - action: hashmod\n        target_label: x\n' "$P" >"$TMP/tsdb.yml"
code=$(curl -s -o "$TMP/rl.txt" -w '%{http_code}' -X POST "$A/-/reload")
[ "$code" = 500 ] && grep -q 'tsdb.yml:4:9: remote_write\[0\].write_relabel_configs\[0\]: relabel configuration for hashmod requires non-zero modulus' "$TMP/rl.txt" ||
	fail "bad relabel rule on reload: $code $(cat "$TMP/rl.txt")"
pass "a bad write_relabel rule is refused on reload with file:line:col"
