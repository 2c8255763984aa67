# A target whose body changes between scrapes, as axon-tsdb stores it:
# a series gone from the middle of the body ends with one staleness
# marker; series added before and after the others start; the same
# series twice keeps its first sample; a reordered body marks nothing
# stale; a body that fails to parse halfway marks every series of the
# last good scrape stale once (as Prometheus), and they come back after.
# (The scraper matches an unchanged body against the last one in order
# and falls back to its series map from the first difference.)
. "$(dirname "$0")/lib.sh"
fport=$(freeport); tport=$(freeport); iport=$(freeport); sport=$(freeport)
body() { # the lines given, made the target's body at once
	printf '%s\n' "$@" >"$TMP/body.new"
	mv "$TMP/body.new" "$TMP/body.prom"
}
body 's{i="1"} 1' 's{i="2"} 2' 's{i="3"} 3' 's{i="4"} 4' 's{i="5"} 5'
start fix "$PEER" http-live "127.0.0.1:$fport" "$TMP/body.prom" "text/plain; version=0.0.4"
printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$iport" >"$TMP/tsdb.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport" --web.enable-admin-api
T="http://127.0.0.1:$tport"
wait_http "$T/-/ready"
cat >"$TMP/scraper.yml" <<EOC
global:
  scrape_interval: 300ms
  scrape_timeout: 250ms
axon_scraper:
  tsdb: tcp://127.0.0.1:$iport
scrape_configs:
  - job_name: churn
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/scraper.yml" --web.listen-address="127.0.0.1:$sport"
wait_http "http://127.0.0.1:$sport/-/ready"
S="http://127.0.0.1:$sport"
# scrapes: the scraper's own count of scrapes of the target
scrapes() { curl -fsS "$S/metrics" | awk '$1 == "axon_scraper_scrapes_total" { print $2 }'; }
# phase N: let at least N more scrapes see the current body
phase() {
	local want=$(( $(scrapes) + $1 )) i
	for i in $(seq 100); do
		[ "$(scrapes)" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "the scraper stopped scraping: $(tail -3 "$TMP/scraper.log")"
}
phase 4
# i=3 leaves the middle, i=0 comes first, i=6 last, i=2 twice
body 's{i="0"} 0' 's{i="1"} 1' 's{i="2"} 2' 's{i="2"} 99' 's{i="4"} 4' 's{i="5"} 5' 's{i="6"} 6'
phase 4
# the same series in another order
body 's{i="6"} 6' 's{i="5"} 5' 's{i="4"} 4' 's{i="2"} 2' 's{i="1"} 1' 's{i="0"} 0'
phase 4
# unparseable halfway, after a difference
body 's{i="6"} 6' 's{i="4"} 4' 's{i="5"} 5' 's{i="1"} 1' 'this is not { a sample' 's{i="0"} 0'
phase 3
body 's{i="6"} 6' 's{i="5"} 5' 's{i="4"} 4' 's{i="2"} 2' 's{i="1"} 1' 's{i="0"} 0'
phase 4
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode 'query=count(s)')
echo "$q" | jq -e '.data.result[0].value[1] == "6"' >/dev/null || fail "want 6 live series at the end: $q"

snap=$(curl -fsS -X POST "$T/api/v1/admin/tsdb/snapshot" | jq -r '.data.name')
[ -n "$snap" ] && [ "$snap" != null ] || fail "no snapshot"
: >"$TMP/dump"
for m in "$TMP/data/snapshots/$snap"/*/meta.json; do
	"$TOP/build/tests/ax-tsdbtool" block-dump "$(dirname "$m")" >>"$TMP/dump"
done
# a series' samples in time order as runs: V for values, S for each
# staleness marker
shape() {
	grep -F "{__name__=\"s\", i=\"$1\", " "$TMP/dump" | awk '{ print $NF, $(NF - 1) }' | sort -n |
		awk '{ printf "%s%s", (NR > 1 ? " " : ""), ($2 == "NaN" ? "S" : "v") }' | sed -E 's/v( v)*/V/g'
}
grep -q 's' "$TMP/dump" || fail "the dump holds no sample of s: $(head -3 "$TMP/dump")"
[ "$(shape 3)" = "V S" ] || fail "i=3 (gone from the middle) want values then one marker, got: $(shape 3)"
[ "$(shape 1)" = "V S V" ] || fail "i=1 want values, one marker (the failed scrape), values; got: $(shape 1)"
[ "$(shape 2)" = "V S V" ] || fail "i=2 (not in the failed body) want V S V, got: $(shape 2)"
[ "$(shape 0)" = "V S V" ] || fail "i=0 (added first) want V S V, got: $(shape 0)"
[ "$(shape 6)" = "V S V" ] || fail "i=6 (added last) want V S V, got: $(shape 6)"
grep -F 'i="2"' "$TMP/dump" | grep -q ' 99 ' && fail "the second sample of i=2 in one body was stored"
n0=$(grep -cF '{__name__="s", i="0"' "$TMP/dump")
n1=$(grep -cF '{__name__="s", i="1"' "$TMP/dump")
[ "$n1" -gt "$n0" ] || fail "i=1 ($n1 samples) should predate i=0 ($n0)"
pass "a changing body: removals marked stale once, additions, duplicates, reorders and a failed parse as Prometheus"
