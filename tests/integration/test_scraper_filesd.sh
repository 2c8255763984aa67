# file_sd_configs: targets from JSON and YAML files (globs), labelled as
# Prometheus 2.42 labels them (__meta_filepath, group labels); a changed
# file adds and removes targets while the others keep being scraped; a
# removed target's series end with staleness markers; an unreadable file
# keeps its last targets.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed"
here=$(cd "$(dirname "$0")" && pwd)
aport=$(freeport); bport=$(freeport); tport=$(freeport); iport=$(freeport)
sport=$(freeport); pport=$(freeport)
cp "$here/scraper/fixture.prom" "$TMP/fixture.prom"
start fa "$PEER" http-file "127.0.0.1:$aport" "$TMP/fixture.prom"
start fb "$PEER" http-file "127.0.0.1:$bport" "$TMP/fixture.prom"
mkdir -p "$TMP/sd"
printf '[{"targets": ["127.0.0.1:%s"], "labels": {"team": "a", "tier": "web"}}]\n' "$aport" >"$TMP/sd/a.json"
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {team: b}\n' "$bport" >"$TMP/sd/b.yml"
printf 'global:\n  scrape_interval: 15s\naxon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$iport" >"$TMP/tsdb.yml"
start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$tport"
T="http://127.0.0.1:$tport"
wait_http "$T/-/ready"
cat >"$TMP/scrape.yml" <<EOC
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: files
    file_sd_configs:
      - files: ['$TMP/sd/*.json', '$TMP/sd/*.yml']
        refresh_interval: 1m
EOC
{ cat "$TMP/scrape.yml"; printf 'axon_scraper:\n  tsdb: tcp://127.0.0.1:%s\n' "$iport"; } >"$TMP/axon.yml"
start scraper "$BIN/axon-scraper" --config.file="$TMP/axon.yml" --web.listen-address="127.0.0.1:$sport"
start prom prometheus --config.file="$TMP/scrape.yml" --storage.tsdb.path="$TMP/prom" --web.listen-address="127.0.0.1:$pport"
S="http://127.0.0.1:$sport"
wait_http "$S/-/ready"
wait_http "http://127.0.0.1:$pport/-/ready" 60

targets() { # URL -> sorted discovered+final labels of the active targets
	curl -fsS "$1/api/v1/targets" | jq -c '[.data.activeTargets[] | {d: .discoveredLabels, l: .labels}] | sort_by(.l.instance)'
}
ok=0
for i in $(seq 40); do
	sleep 0.25
	a=$(targets "$S"); p=$(targets "http://127.0.0.1:$pport")
	[ "$(echo "$a" | jq length)" = 2 ] && [ "$a" = "$p" ] && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "targets differ from Prometheus': axon $a, prometheus $p"
echo "$a" | jq -e '.[] | select(.l.team == "a") | .d.__meta_filepath | endswith("a.json")' >/dev/null || fail "no __meta_filepath: $a"
pass "file_sd targets labelled as Prometheus labels them (JSON and YAML, globs)"

# B moves to another file: only its discovered labels change
# (__meta_filepath), so it stays the same target, scraped on without a gap
# or staleness marker, as in Prometheus; the API shows the new file
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {team: b}\n' "$bport" >"$TMP/sd/b2.yml"
printf -- '[]\n' >"$TMP/sd/b.yml"
moved() {
	curl -fsS "$S/api/v1/targets" | jq -e '.data.activeTargets[] | select(.labels.team == "b") | .discoveredLabels.__meta_filepath | endswith("b2.yml")' >/dev/null
}
for i in $(seq 100); do
	moved && break
	sleep 0.1
done
moved || fail "B's discovered labels not updated: $(curl -fsS "$S/api/v1/targets")"
sleep 1.5
# a restarted scrape loop would start from an empty cache: every series
# of its first scrape counts as added
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=max_over_time(scrape_series_added{instance=\"127.0.0.1:$bport\"}[2500ms])")
echo "$q" | jq -e '.data.result[0].value[1] == "0"' >/dev/null || fail "B was restarted when only its discovered labels changed: $q"
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=up{instance=\"127.0.0.1:$bport\"}")
echo "$q" | jq -e '.data.result[0].value[1] == "1"' >/dev/null || fail "B not scraped: $q"
rm "$TMP/sd/b2.yml"
printf -- '- targets: ["127.0.0.1:%s"]\n  labels: {team: b}\n' "$bport" >"$TMP/sd/b.yml"
pass "a target whose discovered labels change is kept: no gap, no staleness"

# B leaves its file, C... (A's file broken): B's series end, A goes on
printf -- '[]\n' >"$TMP/sd/b.yml"
printf '[{"targets": [' >"$TMP/sd/a.json"
ok=0
for i in $(seq 40); do
	sleep 0.25
	n=$(curl -fsS "$S/api/v1/targets" | jq '.data.activeTargets | length')
	[ "$n" = 1 ] && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "target B not removed: $(curl -fsS "$S/api/v1/targets")"
curl -fsS "$S/api/v1/targets" | jq -e '.data.activeTargets[0].labels.team == "a"' >/dev/null || fail "A's last good targets not kept"
grep -q 'cannot read a file_sd file' "$TMP/scraper.log" || fail "the broken file was not reported"
sleep 1.5
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=up{instance=\"127.0.0.1:$bport\"}")
echo "$q" | jq -e '.data.result | length == 0' >/dev/null || fail "B's series not stale: $q"
q=$(curl -fsS -G "$T/api/v1/query" --data-urlencode "query=up{instance=\"127.0.0.1:$aport\"}")
echo "$q" | jq -e '.data.result[0].value[1] == "1"' >/dev/null || fail "A not scraped any more: $q"
pass "a changed file removes its target (series marked stale); a broken file keeps its last targets"
