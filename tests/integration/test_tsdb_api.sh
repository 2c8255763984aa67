# The metadata API answers as Prometheus 2.42 does: the same samples are
# remote-written into both, then /api/v1/labels, /api/v1/label/<name>/values,
# /api/v1/series (match[], start, end), /api/v1/status/tsdb and the error
# answers for bad requests are compared field by field with Prometheus'
# own responses.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
command -v jq >/dev/null || fail "jq not installed (make deps)"

pport=$(freeport)
aport=$(freeport)
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/p.yml"
printf 'global:\n  scrape_interval: 1h\n' >"$TMP/a.yml"
start prom prometheus --config.file="$TMP/p.yml" --storage.tsdb.path="$TMP/p" \
	--web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/a.yml" --storage.tsdb.path="$TMP/a" \
	--web.listen-address="127.0.0.1:$aport"
P="http://127.0.0.1:$pport"
A="http://127.0.0.1:$aport"
wait_http "$P/-/ready" 60
wait_http "$A/-/ready" 30

start_ms=$(( ($(date +%s) - 600) * 1000 ))
for u in "$P" "$A"; do
	"$PEER" rw-send "$u/api/v1/write" 12 20 "$start_ms" 15000 http_requests_total >"$TMP/s1.out" ||
		fail "rw-send to $u: $(cat "$TMP/s1.out")"
	"$PEER" rw-send "$u/api/v1/write" 5 20 "$start_ms" 15000 node_load1 >"$TMP/s2.out" ||
		fail "rw-send to $u: $(cat "$TMP/s2.out")"
	"$PEER" rw-send "$u/api/v1/write" 3 10 "$((start_ms + 300000))" 15000 late_metric >"$TMP/s3.out" ||
		fail "rw-send to $u: $(cat "$TMP/s3.out")"
done

# same( PATH [curl args...] ): the JSON bodies agree once sorted
same() {
	local path=$1
	shift
	curl -sS -G "$P$path" "$@" | jq -S . >"$TMP/p.json"
	curl -sS -G "$A$path" "$@" | jq -S . >"$TMP/a.json"
	diff "$TMP/p.json" "$TMP/a.json" >"$TMP/d.txt" ||
		fail "$path $* differs from Prometheus: $(head -20 "$TMP/d.txt")"
}
# code PATH [curl args...]: the HTTP status and errorType agree
code() {
	local path=$1 pc ac pe ae
	shift
	pc=$(curl -sS -o "$TMP/p.json" -w '%{http_code}' -G "$P$path" "$@")
	ac=$(curl -sS -o "$TMP/a.json" -w '%{http_code}' -G "$A$path" "$@")
	[ "$pc" = "$ac" ] || fail "$path $*: Prometheus answers $pc, axon $ac ($(cat "$TMP/a.json"))"
	pe=$(jq -r '.status + "/" + (.errorType // "")' "$TMP/p.json")
	ae=$(jq -r '.status + "/" + (.errorType // "")' "$TMP/a.json")
	[ "$pe" = "$ae" ] || fail "$path $*: Prometheus says $pe, axon $ae"
}

same /api/v1/labels
same /api/v1/labels --data-urlencode 'match[]=node_load1'
same /api/v1/label/__name__/values
same /api/v1/label/idx/values
same /api/v1/label/idx/values --data-urlencode 'match[]={__name__=~"node.*|late.*"}'
same /api/v1/label/nosuchlabel/values
pass "labels and label values equal Prometheus'"

same /api/v1/series --data-urlencode 'match[]=http_requests_total'
same /api/v1/series --data-urlencode 'match[]={idx=~"1|3"}' --data-urlencode 'match[]=node_load1{idx!="0"}'
same /api/v1/series --data-urlencode 'match[]={__name__=~".+"}' \
	--data-urlencode "start=$((start_ms / 1000))" --data-urlencode "end=$((start_ms / 1000 + 100))"
same /api/v1/series --data-urlencode 'match[]=nosuchmetric'
pass "series (several match[], start/end) equal Prometheus'"

# top-10 lists: the same counts in the same order; among equal counts the
# order (and, at the cut, the choice) is arbitrary in Prometheus too
norm='def top: (if length > 0 then (map(.value) | min) else 0 end) as $m |
	{values: map(.value), above_cut: (map(select(.value > $m) | .name) | sort)};
	.data | del(.memoryInBytesByLabelName) |
	.seriesCountByMetricName |= top | .labelValueCountByLabelName |= top |
	.seriesCountByLabelValuePair |= top'
curl -fsS "$P/api/v1/status/tsdb" | jq -S "$norm" >"$TMP/p.json"
curl -fsS "$A/api/v1/status/tsdb" | jq -S "$norm" >"$TMP/a.json"
diff "$TMP/p.json" "$TMP/a.json" >"$TMP/d.txt" || fail "status/tsdb differs: $(head -30 "$TMP/d.txt")"
pk=$(curl -fsS "$P/api/v1/status/tsdb" | jq -c '[.data | keys[]], [.data.headStats | keys[]], [.data.memoryInBytesByLabelName[].name] | sort')
ak=$(curl -fsS "$A/api/v1/status/tsdb" | jq -c '[.data | keys[]], [.data.headStats | keys[]], [.data.memoryInBytesByLabelName[].name] | sort')
[ "$pk" = "$ak" ] || fail "status/tsdb shape: Prometheus $pk, axon $ak"
pass "status/tsdb: head stats and top-10 cardinality lists equal Prometheus'"

code /api/v1/series
code /api/v1/series --data-urlencode 'match[]={idx=~"("}'
code /api/v1/series --data-urlencode 'match[]={__name__!=""}'
code /api/v1/series --data-urlencode 'match[]=up' --data-urlencode 'start=yesterday'
code /api/v1/labels --data-urlencode 'match[]=up{'
code /api/v1/label/__name__/values --data-urlencode 'end=x'
pass "bad requests: same status codes and error types as Prometheus"

same /api/v1/metadata --data-urlencode 'metric=nosuchmetric'
same /api/v1/metadata --data-urlencode 'limit=0'
code /api/v1/metadata --data-urlencode 'limit=ten'
pass "metadata: empty answers and the bad limit error match Prometheus"
