# The auth-outage story, end to end: `axon up` starts the whole stack
# (discoverer, tsdb, alert router, two scrapers, ruler) and the demo fleet
# from the shipped configs (deploy/config, ports rewritten to free ones);
# the fleet registers with the discoverer, the two scrapers share its
# targets, the ruler evaluates the shipped RED rules and SLOs, and the
# alert router pages the demo's PagerDuty sink.
#
# Story: `axon demo break auth`.  Within scrape interval + evaluation
# interval + group_wait + 5 s exactly one page (a PagerDuty Events v2
# trigger) names auth as the root cause and lists the suppressed
# downstream services; the API shows every downstream HighErrorRate alert
# inhibited by auth's ServiceDown; `axon demo heal auth` brings exactly
# one resolve.  Control: the same with topology inhibition switched off
# pages once per affected service.  Also: a daemon killed with SIGKILL is
# restarted by `axon up`, and SIGTERM stops everything it started.
. "$(dirname "$0")/lib.sh"

A=$BIN/axon

# cfg_dur FILE KEY: a duration in a config, in seconds ("15s" -> 15)
cfg_dur() {
	local v
	v=$(sed -n "s/^ *$2: *\([0-9]*\)s *\(#.*\)*$/\1/p" "$1" | head -1)
	[ -n "$v" ] || fail "no $2 in $1"
	echo "$v"
}

# triggers|resolves FILE [ALERTNAMES-REGEX]: count of page events
events() {
	python3 - "$1" "$2" "${3:-.}" <<'PY'
import json, re, sys
path, action, names = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
try:
    for line in open(path):
        e = json.loads(line)
        if e["event_action"] != action:
            continue
        s = e.get("payload", {}).get("summary", "")
        if action == "trigger" and not re.search(names, s):
            continue
        n += 1
except FileNotFoundError:
    pass
print(n)
PY
}

now() { date +%s.%N; }

# stack MODE: start the stack in $TMP/MODE with topology inhibition on|off
stack() {
	local mode=$1 d=$TMP/$1 p
	mkdir -p "$d"
	cp -r "$TOP/deploy/config" "$d/config"
	declare -gA P=()
	for p in tsdb s1 s2 disc ar ruler demo pager; do P[$p]=$(freeport); done
	sed -i -e "s/127\.0\.0\.1:9090/127.0.0.1:${P[tsdb]}/g" \
		-e "s/127\.0\.0\.1:9091/127.0.0.1:${P[s1]}/g" \
		-e "s/127\.0\.0\.1:9095/127.0.0.1:${P[s2]}/g" \
		-e "s/127\.0\.0\.1:9092/127.0.0.1:${P[disc]}/g" \
		-e "s/127\.0\.0\.1:9093/127.0.0.1:${P[ar]}/g" \
		-e "s/127\.0\.0\.1:9094/127.0.0.1:${P[ruler]}/g" \
		-e "s/127\.0\.0\.1:9400/127.0.0.1:${P[demo]}/g" \
		-e "s/127\.0\.0\.1:9099/127.0.0.1:${P[pager]}/g" "$d"/config/*.yml
	if [ "$mode" = off ]; then
		sed -i 's/^\(    enabled:\) true/\1 false/' "$d/config/alert-router.yml"
		grep -q 'enabled: false' "$d/config/alert-router.yml" || fail "could not switch topology inhibition off"
	fi
	export AXON_TSDB_URL=http://127.0.0.1:${P[tsdb]}
	export AXON_SCRAPER_URL=http://127.0.0.1:${P[s1]},http://127.0.0.1:${P[s2]}
	export AXON_DISCOVERER_URL=http://127.0.0.1:${P[disc]}
	export AXON_ALERT_ROUTER_URL=http://127.0.0.1:${P[ar]}
	export AXON_RULER_URL=http://127.0.0.1:${P[ruler]}
	export AXON_DEMO_URL=http://127.0.0.1:${P[demo]}
	export HOME=$TMP # no personal CLI config
	PAGES=$d/data/pages.jsonl
	UPLOG=$TMP/up_$mode.log
	start "up_$mode" env -C "$d" "$A" up --config.dir=config
	UP=$!
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q 'The stack is up' "$UPLOG" && break
		kill -0 "$UP" 2>/dev/null || { cat "$UPLOG"; fail "axon up exited"; }
		sleep 0.1
	done
	grep -q 'The stack is up' "$UPLOG" || { cat "$UPLOG"; fail "the stack did not come up in 60 s"; }
	[ "$(grep -c '^  axon-' "$UPLOG")" = 7 ] || { cat "$UPLOG"; fail "axon up did not start 7 processes"; }
	# the fleet registered, both scrapers share its targets, all up
	for ((i = 0; i < 120; i++)); do
		"$A" targets -o json >"$TMP/targets.json" 2>/dev/null || true
		if python3 - "$TMP/targets.json" "${P[s1]}" "${P[s2]}" <<'PY'; then break; fi
import json, sys
t = [x for x in json.load(open(sys.argv[1])) if x["labels"].get("job") == "services"]
up = [x for x in t if x["health"] == "up"]
sys.exit(0 if len(t) == 51 and len(up) == 51 else 1)
PY
		sleep 0.5
	done
	[ "$i" -lt 120 ] || { cat "$TMP/targets.json"; fail "the 51 demo services were not all scraped and up within 60 s"; }
	local n1 n2
	n1=$(curl -fsS "http://127.0.0.1:${P[s1]}/api/v1/targets" | jq '[.data.activeTargets[] | select(.labels.job == "services")] | length')
	n2=$(curl -fsS "http://127.0.0.1:${P[s2]}/api/v1/targets" | jq '[.data.activeTargets[] | select(.labels.job == "services")] | length')
	[ $((n1 + n2)) = 51 ] && [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "the two scrapers do not share the 51 targets ($n1 + $n2)"
	# the error-ratio rule has data for every service
	for ((i = 0; i < 120; i++)); do
		n=$("$A" query -o json 'count(sum by (service) (rate(http_requests_total{job="services"}[30s])))' 2>/dev/null | jq -r '.result[0].value[1] // 0' || echo 0)
		[ "$n" = 51 ] && break
		sleep 0.5
	done
	[ "$n" = 51 ] || fail "rates for $n of 51 services after 60 s"
	# the README's first query, as a new user types it
	"$A" query 'sum by (service) (rate(http_requests_total[1m]))' >"$TMP/q.txt"
	[ "$(grep -c '^{service="[a-z0-9-]*"}  *[0-9.e+-]*$' "$TMP/q.txt")" = 51 ] ||
		{ cat "$TMP/q.txt"; fail "axon query: not one rate per service"; }
	[ "$(events "$PAGES" trigger)" = 0 ] || { cat "$PAGES"; fail "pages before the outage"; }
	pass "[$mode] axon up: 7 processes, 51 services registered, shared by 2 scrapers ($n1 + $n2), all up"
	# who depends on auth, by the fleet's own graph
	"$A" demo ls -o json >"$TMP/fleet.json"
	AFFECTED=$(python3 - "$TMP/fleet.json" <<'PY'
import json, sys
svcs = {s["name"]: s for s in json.load(open(sys.argv[1]))}
seen, frontier = set(), ["auth"]
while frontier:
    for d in svcs[frontier.pop()]["dependents"]:
        if d not in seen:
            seen.add(d); frontier.append(d)
print(" ".join(sorted(seen)))
PY
)
	NDEP=$(wc -w <<<"$AFFECTED")
	[ "$NDEP" -ge 15 ] || fail "only $NDEP services depend on auth"
	# a demo service's exposition: promtool-clean text, valid OpenMetrics
	# with trace_id exemplars
	local sp
	sp=$(jq -r '.[] | select(.name == "cart") | .port' "$TMP/fleet.json")
	curl -fsS "http://127.0.0.1:$sp/metrics" >"$TMP/cart.prom"
	out=$(promtool check metrics <"$TMP/cart.prom" 2>&1) && [ -z "$out" ] || fail "promtool on cart's /metrics: $out"
	curl -fsS -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$sp/metrics" >"$TMP/cart.om"
	"$A" check metrics --openmetrics "$TMP/cart.om" >/dev/null || fail "cart's OpenMetrics: $("$A" check metrics --openmetrics "$TMP/cart.om" 2>&1)"
	grep -q '_bucket{.*} [0-9]* # {trace_id="[0-9a-f]\{32\}"} ' "$TMP/cart.om" || fail "no trace_id exemplars"
}

unstack() {
	local mode=$1 pids
	pids=$(sed -n 's/^  axon-[a-z0-9-]* *http[^ ]* *pid \([0-9]*\) .*/\1/p' "$UPLOG")
	kill -TERM "$UP"
	wait_exit "$UP" 90
	[ "$WAIT_RC" = 0 ] || { tail -20 "$UPLOG"; fail "[$mode] axon up did not stop cleanly ($WAIT_RC)"; }
	for p in $pids; do
		! kill -0 "$p" 2>/dev/null || fail "[$mode] pid $p outlived axon up"
	done
	for p in /proc/[0-9]*; do # restarted ones too: nothing runs in the dir
		[ "$(readlink "$p/cwd" 2>/dev/null)" != "$TMP/$mode" ] || fail "[$mode] ${p#/proc/} outlived axon up"
	done
	grep -q '^axon up: stopped$' "$UPLOG" || fail "[$mode] no clean stop"
	# the alerting path first, the discoverer last
	order=$(grep '^axon up: stopped axon-' "$UPLOG" | awk '{print $4}' | tr '\n' ' ')
	[ "$order" = "axon-ruler axon-alert-router axon-demo axon-scraper-1 axon-scraper-2 axon-tsdb axon-discoverer " ] ||
		fail "[$mode] shutdown out of order: $order"
	pass "[$mode] SIGTERM stopped every process: ruler and alert router first, discoverer last"
}

# ---------------------------------------------------------------- the story
stack on
C=$TMP/on/config
SI=$(sed -n '/job_name: services/,/job_name/p' "$C/scraper.yml" | sed -n 's/^ *scrape_interval: *\([0-9]*\)s.*/\1/p')
EI=$(cfg_dur "$C/ruler.yml" evaluation_interval)
GW=$(cfg_dur "$C/alert-router.yml" group_wait)
GI=$(cfg_dur "$C/alert-router.yml" group_interval)
BUDGET=$((SI + EI + GW + 5))
log "budget: scrape $SI s + evaluation $EI s + group_wait $GW s + 5 s = $BUDGET s"

t0=$(now)
"$A" demo break auth | tee "$TMP/break.out"
grep -q "^auth is down.  $NDEP services depend on it" "$TMP/break.out" || fail "axon demo break: $(cat "$TMP/break.out")"
tpage=""
while python3 -c "import sys; sys.exit(0 if $(now) - $t0 < $BUDGET + 10 else 1)"; do
	if [ "$(events "$PAGES" trigger)" -ge 1 ]; then
		tpage=$(python3 -c "print(round($(now) - $t0, 1))")
		break
	fi
	sleep 0.2
done
[ -n "$tpage" ] || fail "no page within $((BUDGET + 10)) s of the break"
python3 -c "import sys; sys.exit(0 if $tpage <= $BUDGET else 1)" || fail "the page took ${tpage}s, over the ${BUDGET}s budget"
# every affected service alerting, all but auth inhibited by auth's root
for ((i = 0; i < 100; i++)); do
	curl -fsS "$AXON_ALERT_ROUTER_URL/api/v2/alerts" >"$TMP/alerts.json"
	if python3 - "$TMP/alerts.json" "$AFFECTED" <<'PY'; then break; fi
import json, sys
al = json.load(open(sys.argv[1]))
want = set(sys.argv[2].split())
sym = {a["labels"]["service"] for a in al if a["labels"]["alertname"] == "HighErrorRate"}
sys.exit(0 if want <= sym else 1)
PY
	sleep 0.3
done
python3 - "$TMP/alerts.json" "$AFFECTED" <<'PY' || fail "API: the downstream alerts are not inhibited by auth"
import json, sys
al = json.load(open(sys.argv[1]))
want = set(sys.argv[2].split())
root = [a for a in al if a["labels"]["alertname"] == "ServiceDown"]
assert len(root) == 1 and root[0]["labels"]["service"] == "auth", [a["labels"] for a in root]
assert root[0]["status"]["state"] == "active", root[0]["status"]
fp = root[0]["fingerprint"]
sym = [a for a in al if a["labels"]["alertname"] == "HighErrorRate"]
svc = {a["labels"]["service"] for a in sym}
assert svc == want, ("symptoms", sorted(svc ^ want))
for a in sym:
    assert a["status"]["state"] == "suppressed" and fp in a["status"]["inhibitedBy"], a
others = [a for a in al if a["labels"].get("service") in want and a["status"]["state"] != "suppressed"]
assert not others, others
print(f"alerts raised: {len(al)} ({len(sym)} HighErrorRate, 1 ServiceDown, {len(al) - len(sym) - 1} other)")
PY
pass "API: auth's ServiceDown active, the $NDEP downstream HighErrorRate alerts inhibited by it"
sleep $((GW + 5)) # late symptoms would have paged by now
[ "$(events "$PAGES" trigger)" = 1 ] || { cat "$PAGES"; fail "$(events "$PAGES" trigger) pages, want 1"; }
python3 - "$PAGES" "$AFFECTED" <<'PY' || fail "the page does not name auth as the root cause with the suppressed services"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p = ev[0]["payload"]
want = sorted(sys.argv[2].split())
assert p["summary"].startswith("[FIRING:1] ServiceDown auth"), p["summary"]
cd = p["custom_details"]
got = sorted(s.strip() for s in cd["suppressed_services"].split(","))
assert got == want, ("suppressed", got, want)
assert f"{len(want)} dependent services suppressed" in p["summary"], p["summary"]
print("page:", p["summary"][:160], "...")
PY
NALERTS=$(jq length "$TMP/alerts.json")
pass "1 page names auth as the root cause and lists the $NDEP suppressed services (time to page ${tpage}s, budget ${BUDGET}s)"

t1=$(now)
"$A" demo heal auth >/dev/null
for ((i = 0; i < (SI + EI + GI + 20) * 5; i++)); do
	[ "$(events "$PAGES" resolve)" -ge 1 ] && break
	sleep 0.2
done
[ "$(events "$PAGES" resolve)" -ge 1 ] || fail "no resolve within $((SI + EI + GI + 20)) s of the heal"
tres=$(python3 -c "print(round($(now) - $t1, 1))")
sleep $((GI + 5)) # symptoms resolving after the heal stay quiet
[ "$(events "$PAGES" resolve)" = 1 ] && [ "$(events "$PAGES" trigger)" = 1 ] ||
	{ cat "$PAGES"; fail "after the heal: $(events "$PAGES" trigger) triggers, $(events "$PAGES" resolve) resolves; want 1 and 1"; }
python3 - "$PAGES" <<'PY' || fail "the resolve is not for the page"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[1]["event_action"] == "resolve" and ev[1]["dedup_key"] == ev[0]["dedup_key"], ev[1]
PY
pass "heal: exactly 1 resolve (${tres}s after the heal), no other page"
"$A" alerts >"$TMP/alerts.txt" || true
unstack on
[ "$(events "$PAGES" trigger)" = 1 ] || { cat "$PAGES"; fail "the teardown paged"; }

# ------------------------------------------------------------- the control
stack off
t0=$(now)
"$A" demo break auth >/dev/null
want=$((NDEP + 1))
for ((i = 0; i < (BUDGET + 30) * 5; i++)); do
	[ "$(events "$PAGES" trigger '\] (ServiceDown|HighErrorRate) ')" -ge "$want" ] && break
	sleep 0.2
done
sleep $((GW + 5))
python3 - "$PAGES" "$AFFECTED" <<'PY' || { cat "$PAGES"; fail "control: not one page per affected service"; }
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["event_action"] == "trigger"]
want = set(sys.argv[2].split()) | {"auth"}
per = {}
for e in ev:
    m = re.match(r"\[FIRING:\d+\] (ServiceDown|HighErrorRate) (\S+)", e["payload"]["summary"])
    if m:
        per.setdefault(m.group(2), []).append(m.group(1))
assert set(per) == want, ("services paged", sorted(set(per) ^ want))
assert all(len(v) == 1 for v in per.values()), per
assert per["auth"] == ["ServiceDown"], per["auth"]
assert not any("suppressed" in e["payload"]["summary"] for e in ev)
print(f"control pages: {len(ev)} ({len(per)} services, {len(ev) - len(per)} other pages)")
PY
NCTRL=$(events "$PAGES" trigger)
pass "control (topology inhibition off): one page per affected service, $NCTRL pages"

# supervision: a daemon killed with SIGKILL comes back
# kill_restarted NAME: SIGKILL axon-NAME (its pid from axon up's table) and
# wait until axon up says it restarted it after 1 s
kill_restarted() {
	local pid i
	pid=$(sed -n "s/^  axon-$1 *http[^ ]* *pid \([0-9]*\) .*/\1/p" "$UPLOG")
	kill -KILL "$pid"
	for ((i = 0; i < 100; i++)); do
		grep -q "restarted axon-$1" "$UPLOG" && break
		sleep 0.1
	done
	grep -q "axon-$1 exited (killed by signal 9); restarting in 1 s" "$UPLOG" &&
		grep -q "restarted axon-$1" "$UPLOG" || { tail "$UPLOG"; fail "the killed $1 was not restarted"; }
}
kill_restarted ruler
wait_http "$AXON_RULER_URL/-/ready" 30
pass "supervision: the ruler killed with SIGKILL was restarted within 1 s"
# the demo fleet killed: restarted, its services back on their registered
# ports (where the scrapers look)
"$A" demo ls -o json | jq -c '[.[] | [.name, .port]]' >"$TMP/ports.before"
kill_restarted demo
wait_http "$AXON_DEMO_URL/-/ready" 30
"$A" demo ls -o json | jq -c '[.[] | [.name, .port]]' >"$TMP/ports.after"
cmp -s "$TMP/ports.before" "$TMP/ports.after" || fail "the restarted demo moved its services: $(diff "$TMP/ports.before" "$TMP/ports.after" | head -5)"
pass "supervision: the demo killed with SIGKILL came back, every service on its registered port"
unstack off

echo "story: alerts raised $NALERTS; pages sent 1 (control: $NCTRL); reduction $NCTRL -> 1; time to page ${tpage}s (budget ${BUDGET}s)"
