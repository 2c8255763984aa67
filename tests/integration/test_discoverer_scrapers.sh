# Scraper assignment by axon-discoverer:
# - 24 targets registered in the discoverer, three scrapers with
#   axon_sd_configs share them with no overlap (rendezvous hashing), as
#   /api/v1/assignments and each scraper's /api/v1/targets show;
# - the targets count the requests they get: none is scraped twice in an
#   interval;
# - kill -9 one scraper: within 3 heartbeat intervals + 1 scrape interval
#   its targets are scraped by the others;
# - kill -9 the discoverer: the scrapers keep scraping their last
#   assignment; restarted, it has every registration back and the
#   scrapers converge again;
# - another replica takes a share of the targets, only from the others'.
. "$(dirname "$0")/lib.sh"
N=24
HB_MS=500
IV_MS=1000
dport=$(freeport); cport=$(freeport); pport=$(freeport); sink=$(freeport)
cat >"$TMP/d.yml" <<EOC
axon_discoverer:
  control_listen: tcp://127.0.0.1:$cport
  publish_listen: tcp://127.0.0.1:$pport
  heartbeat_interval: ${HB_MS}ms
EOC
D="http://127.0.0.1:$dport"
start_disc() {
	start disc "$BIN/axon-discoverer" --config.file="$TMP/d.yml" \
		--web.listen-address="127.0.0.1:$dport" --storage.path="$TMP/reg"
	wait_http "$D/-/ready"
}
start_disc
: >"$TMP/hits"
start targets "$PEER" count-targets "$N" "$TMP/ports" "$TMP/hits"
for i in $(seq 50); do [ -f "$TMP/ports" ] && [ "$(wc -l <"$TMP/ports")" = "$N" ] && break; sleep 0.1; done
[ "$(wc -l <"$TMP/ports")" = "$N" ] || fail "targets did not start"
for p in $(cat "$TMP/ports"); do
	curl -fsS -X PUT "$D/v1/agent/service/register" \
		--data-binary "{\"Name\":\"app\",\"ID\":\"app-$p\",\"Address\":\"127.0.0.1\",\"Port\":$p,\"Tags\":[\"metrics\"]}" ||
		fail "register $p"
done
start sink "$PEER" http-file "127.0.0.1:$sink" "$TMP/d.yml"

declare -A SPORT
start_scraper() { # ID
	local id=$1 port
	port=${SPORT[$id]:-$(freeport)}
	SPORT[$id]=$port
	cat >"$TMP/$id.yml" <<EOC
global:
  scrape_interval: ${IV_MS}ms
  scrape_timeout: 500ms
scrape_configs:
  - job_name: app
    axon_sd_configs:
      - services: [app]
        tags: [metrics]
remote_write:
  - url: http://127.0.0.1:$sink/api/v1/write
axon_scraper:
  sender_id: $id
  discoverer: tcp://127.0.0.1:$cport
  discoverer_publish: tcp://127.0.0.1:$pport
EOC
	start "$id" "$BIN/axon-scraper" --config.file="$TMP/$id.yml" --web.listen-address="127.0.0.1:$port"
	wait_http "http://127.0.0.1:$port/-/ready"
}
active() { # ID -> sorted ports it scrapes
	curl -fsS "http://127.0.0.1:${SPORT[$1]}/api/v1/targets" |
		jq -r '.data.activeTargets[].discoveredLabels.__address__' | sed 's/.*://' | sort -n
}
# converged IDS...: every target active on exactly one of the scrapers
converged() {
	local all="" id
	for id in "$@"; do all="$all $(active "$id" | tr '\n' ' ')"; done
	[ "$(echo $all | tr ' ' '\n' | grep -c .)" = "$N" ] &&
		[ "$(echo $all | tr ' ' '\n' | sort -u | grep -c .)" = "$N" ]
}
wait_converged() {
	local i
	for i in $(seq 100); do
		converged "$@" && return 0
		sleep 0.1
	done
	for id in "$@"; do echo "$id: $(active "$id" | tr '\n' ' ')"; done
	fail "scrapers $* did not converge to $N targets with no overlap"
}
start_scraper s1
start_scraper s2
start_scraper s3
wait_converged s1 s2 s3
a=$(curl -fsS "$D/api/v1/assignments")
echo "$a" | jq -e '[.data.scrapers[].id] == ["s1","s2","s3"]' >/dev/null || fail "assignments: $a"
for id in s1 s2 s3; do
	want=$(echo "$a" | jq -r --arg id "$id" '.data.targets[] | select(.scraper == $id) | .address' | sed 's/.*://' | sort -n | tr '\n' ' ')
	got=$(active "$id" | tr '\n' ' ')
	[ "$want" = "$got" ] || fail "$id scrapes [$got], the discoverer assigns [$want]"
	[ -n "$got" ] || fail "$id has no targets"
done
curl -fsS "$D/metrics" | grep -q '^axon_discoverer_scrapers 3$' || fail "scrapers metric"
pass "three scrapers share $N registry targets with no overlap, as /api/v1/assignments says"

# no target is scraped twice within an interval
no_double() { # FROM_MS
	awk -v from="$1" -v lim=$((IV_MS * 6 / 10)) '$2 >= from {
		if (($1 in last) && $2 - last[$1] < lim) { printf "port %s hit %d ms apart\n", $1, $2 - last[$1]; bad = 1 }
		last[$1] = $2 } END { exit bad }' "$TMP/hits"
}
sleep 3
no_double 0 || fail "a target was scraped twice within an interval"
pass "no target scraped twice within an interval"

# ---- kill -9 one scraper ----
victim=$(active s2 | tr '\n' ' ')
t_kill=$(date +%s%3N)
kill -KILL "$s2_PID"
wait "$s2_PID" 2>/dev/null || true
deadline=$((3 * HB_MS + IV_MS))
sleep $(((deadline + 1500) / 1000))
worst=0
for p in $victim; do
	first=$(awk -v p="$p" -v t="$t_kill" '$1 == p && $2 > t { print $2; exit }' "$TMP/hits")
	[ -n "$first" ] || fail "target $p of the killed scraper not scraped since"
	late=$((first - t_kill))
	# 300 ms of slack for the discoverer's 100 ms tick and the round trips
	[ "$late" -le $((deadline + 300)) ] ||
		fail "target $p taken over after $late ms (want <= $deadline + 300)"
	[ "$late" -gt "$worst" ] && worst=$late
done
echo "takeover: slowest first scrape ${worst} ms after the kill (bound ${deadline} ms)"
wait_converged s1 s3
no_double "$t_kill" || fail "a target was scraped twice within an interval after the takeover"
pass "kill -9 of a scraper: its targets scraped by the others within 3 heartbeats + 1 interval, none twice"

# ---- the discoverer goes away ----
before1=$(active s1 | tr '\n' ' '); before3=$(active s3 | tr '\n' ' ')
kill -KILL "$disc_PID"
wait "$disc_PID" 2>/dev/null || true
t_down=$(date +%s%3N)
sleep 3
[ "$(active s1 | tr '\n' ' ')" = "$before1" ] && [ "$(active s3 | tr '\n' ' ')" = "$before3" ] ||
	fail "scrapers changed their targets while the discoverer was down"
for p in $(cat "$TMP/ports"); do
	n=$(awk -v p="$p" -v t="$((t_down + 1000))" '$1 == p && $2 > t' "$TMP/hits" | wc -l)
	[ "$n" -ge 1 ] || fail "target $p not scraped while the discoverer was down"
done
start_disc
[ "$(curl -fsS "$D/v1/catalog/service/app" | jq length)" = "$N" ] || fail "registrations lost over the restart"
for i in $(seq 50); do
	curl -fsS "$D/api/v1/assignments" | jq -e '[.data.scrapers[].id] == ["s1","s3"]' >/dev/null && break
	sleep 0.1
done
curl -fsS "$D/api/v1/assignments" | jq -e '[.data.scrapers[].id] == ["s1","s3"]' >/dev/null || fail "scrapers did not come back"
wait_converged s1 s3
pass "discoverer down: scrapers keep their last assignment; back: registrations and assignment restored"

# ---- a fourth replica ----
start_scraper s4
wait_converged s1 s3 s4
n4=$(active s4 | wc -l)
# three members: about a third each (8 of 24); rendezvous hashing over
# random ports spreads it, so only a share strictly between none and all
# is required, the real check being that it only took from the others
[ "$n4" -ge 1 ] && [ "$n4" -lt "$N" ] || fail "the new replica took $n4 of $N targets"
after1=$(active s1 | tr '\n' ' '); after3=$(active s3 | tr '\n' ' ')
for p in $after1; do case " $before1 " in *" $p "*) ;; *) fail "s1 gained $p when s4 joined" ;; esac; done
for p in $after3; do case " $before3 " in *" $p "*) ;; *) fail "s3 gained $p when s4 joined" ;; esac; done
pass "a fourth replica takes $n4 of $N targets, only from the others' shares"
