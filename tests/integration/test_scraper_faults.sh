# Scrape faults: a target that hangs (timeout), answers 500, answers
# garbage, sends a body over body_size_limit, closes mid-body, or exposes a
# million series (sample_limit) gets up=0 with the reason in lastError;
# the healthy target beside them is scraped on time all along, and the
# scraper survives with bounded memory.
. "$(dirname "$0")/lib.sh"
sport=$(freeport); sink=$(freeport)
start faults "$PEER" fault-targets "$TMP/ports"
for i in $(seq 50); do [ -f "$TMP/ports" ] && [ "$(wc -l <"$TMP/ports")" = 7 ] && break; sleep 0.1; done
port() { awk -v m="$1" '$1 == m { print $2 }' "$TMP/ports"; }
start sink "$PEER" http-file "127.0.0.1:$sink" "$TMP/ports"
cat >"$TMP/s.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 800ms
scrape_configs:
  - job_name: faults
    body_size_limit: 1MB
    static_configs:
      - targets: ['127.0.0.1:$(port ok)', '127.0.0.1:$(port hang)', '127.0.0.1:$(port status500)',
                  '127.0.0.1:$(port garbage)', '127.0.0.1:$(port big)', '127.0.0.1:$(port midclose)']
  - job_name: huge
    sample_limit: 1000
    static_configs:
      - targets: ['127.0.0.1:$(port million)']
remote_write:
  - url: http://127.0.0.1:$sink/api/v1/write
EOC
start scraper "$BIN/axon-scraper" --config.file="$TMP/s.yml" --web.listen-address="127.0.0.1:$sport"
S="http://127.0.0.1:$sport"
wait_http "$S/-/ready"
err_of() { # MODE -> health and lastError of that target
	curl -fsS "$S/api/v1/targets" | jq -r --arg a "127.0.0.1:$(port "$1")" \
		'.data.activeTargets[] | select(.labels.instance == $a) | .health + " " + .lastError'
}
want() { # MODE HEALTH SUBSTRING
	local i got=""
	for i in $(seq 60); do
		got=$(err_of "$1")
		case "$got" in "$2"*"$3"*) return 0 ;; esac
		sleep 0.1
	done
	fail "$1: want $2 with \"$3\", got \"$got\""
}
want ok up ""
want hang down "scrape timeout"
want status500 down "server returned HTTP status 500"
want garbage down "1:6: invalid value"
want big down "body size limit exceeded"
want midclose down "Transferred a partial file"
want million down "sample limit exceeded"
pass "each fault is down with its reason: timeout, 500, garbage, body over the limit, closed mid-body, 1M series over sample_limit"

# the healthy target keeps being scraped every interval meanwhile
n0=$(metric_value "$S/metrics" axon_scraper_scrapes_total)
t0=$(curl -fsS "$S/api/v1/targets" | jq -r --arg a "127.0.0.1:$(port ok)" '.data.activeTargets[] | select(.labels.instance == $a) | .lastScrape')
sleep 3.2
t1=$(curl -fsS "$S/api/v1/targets" | jq -r --arg a "127.0.0.1:$(port ok)" '.data.activeTargets[] | select(.labels.instance == $a) | .lastScrape')
[ "$t0" != "$t1" ] || fail "the healthy target was not scraped again"
[ "$(err_of ok)" = "up " ] || fail "the healthy target: $(err_of ok)"
n1=$(metric_value "$S/metrics" axon_scraper_scrapes_total)
# 7 targets, about 3 intervals; the hanging one counts when it times out
awk -v a="$n0" -v b="$n1" 'BEGIN { exit !(b - a >= 14) }' || fail "scrapes went from $n0 to $n1 in 3 s"
kill -0 "$scraper_PID" || fail "the scraper died"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$scraper_PID/status")
[ "$rss" -lt 400000 ] || fail "the scraper uses ${rss} kB of memory"
pass "the healthy target is scraped every interval beside the faulty ones; the scraper lives (RSS ${rss} kB)"
