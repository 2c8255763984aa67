# The libcommon remote-write sender delivers to Debian's real Prometheus
# 2.42 (--web.enable-remote-write-receiver): every series and sample we
# send is queryable there afterwards.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
port=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prom.yml"
start prom prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom-data" \
	--web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver
base="http://127.0.0.1:$port"
wait_http "$base/-/ready" 60
now_ms=$(($(date +%s) * 1000))
start_ms=$((now_ms - 300000))
"$PEER" rw-send "$base/api/v1/write" 12 25 "$start_ms" 10000 >"$TMP/send.out" || { cat "$TMP/send.out"; fail "rw-send failed"; }
grep -q 'sent=300 failed=0' "$TMP/send.out" || fail "not all samples acknowledged: $(cat "$TMP/send.out")"
n=$(curl -fsS "$base/api/v1/series" --data-urlencode 'match[]=test_rw_series' | grep -o '"idx":"[0-9]*"' | sort -u | wc -l)
[ "$n" = 12 ] || fail "Prometheus has $n series, want 12"
# count of samples per series over the window, and one exact value
t_end=$(( (start_ms + 24 * 10000) / 1000 ))
q=$(curl -fsS "$base/api/v1/query" --data-urlencode "query=count_over_time(test_rw_series{idx=\"7\"}[10m])" --data-urlencode "time=$t_end")
echo "$q" | grep -q '"value":\[[0-9.]*,"25"\]' || fail "want 25 samples for idx=7, got: $q"
q=$(curl -fsS "$base/api/v1/query" --data-urlencode 'query=test_rw_series{idx="3"}' --data-urlencode "time=$t_end")
echo "$q" | grep -q '"value":\[[0-9.]*,"3024"\]' || fail "want value 3024 for idx=3, got: $q"
pass "12 series x 25 samples remote-written into Prometheus 2.42 and read back"
