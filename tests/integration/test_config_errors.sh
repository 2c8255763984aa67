# A config with an error makes each daemon exit non-zero with a
# file:line:col message; a reload with a bad config keeps the old one and
# sets axon_config_last_reload_successful to 0; a good reload restores it.
. "$(dirname "$0")/lib.sh"

expect_start_error() { # daemon file want
	local d=$1 f=$2 want=$3 rc=0
	(cd "$TMP" && timeout 10 "$BIN/axon-$d" --config.file="$f" \
		--web.listen-address=127.0.0.1:0) >"$TMP/err.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "$d started with bad config $f"
	[ "$rc" != 124 ] || fail "$d hung on bad config $f"
	grep -qF -- "$want" "$TMP/err.log" || { cat "$TMP/err.log"; fail "$d: message lacks: $want"; }
}

printf 'global:\n  scrape_interval: 15s\n  bad: [\n' >"$TMP/badyaml.yml"
printf 'global:\n  scrape_interval: 15s\nglobl: {}\n' >"$TMP/unknown.yml"
printf 'global:\n  scrape_interval: 1h5x\n' >"$TMP/baddur.yml"
printf 'global:\n  external_labels:\n    1dc: x\n' >"$TMP/badlabel.yml"
printf 'global:\n  scrape_interval: 15s\n  scrape_interval: 20s\n' >"$TMP/dup.yml"
for d in discoverer scraper tsdb ruler; do
	expect_start_error "$d" "$TMP/badyaml.yml" "badyaml.yml:4:1: yaml:"
	expect_start_error "$d" "$TMP/unknown.yml" "unknown.yml:3:1: globl: unknown field"
	expect_start_error "$d" "$TMP/baddur.yml" 'baddur.yml:2:20: global.scrape_interval: not a valid duration string: \"1h5x\"'
	expect_start_error "$d" "$TMP/badlabel.yml" 'badlabel.yml:3:5: global.external_labels: \"1dc\" is not a valid label name'
	expect_start_error "$d" "$TMP/dup.yml" 'dup.yml:3:3: mapping key \"scrape_interval\" already defined at line 2'
	expect_start_error "$d" "$TMP/missing.yml" "missing.yml: cannot open"
done
printf 'receivers: []\nbogus: 1\n' >"$TMP/am.yml"
expect_start_error alert-router "$TMP/am.yml" "am.yml:2:1: bogus: unknown field"
printf 'route: [\n' >"$TMP/am2.yml"
expect_start_error alert-router "$TMP/am2.yml" "am2.yml:2:1: yaml:"
pass "bad configs rejected with file:line:col at start"

# reload keeps the old config
cfg=$TMP/tsdb.yml
printf 'global:\n  scrape_interval: 15s\n' >"$cfg"
port=$(freeport)
start tsdb "$BIN/axon-tsdb" --config.file="$cfg" --web.listen-address="127.0.0.1:$port" --storage.tsdb.path="$TMP/d1"
base="http://127.0.0.1:$port"
wait_http "$base/-/healthy"
printf 'global:\n  scrape_interval: 15s\n  scrape_timeout: 5m\n' >"$cfg"
kill -HUP "$tsdb_PID"
for i in $(seq 50); do
	[ "$(metric_value "$base/metrics" axon_config_last_reload_successful)" = 0 ] && break
	sleep 0.1
done
[ "$(metric_value "$base/metrics" axon_config_last_reload_successful)" = 0 ] || fail "SIGHUP with bad config: metric not 0"
grep -q 'error reloading config; the previous config stays in force' "$TMP/tsdb.log" || fail "no reload error log"
grep -q 'global scrape timeout (5m) greater than scrape interval (15s)' "$TMP/tsdb.log" || fail "reload error lacks reason"
curl -fsS "$base/-/healthy" >/dev/null || fail "daemon died after bad reload"
printf 'global:\n  scrape_interval: 15s\n  nope: 1\n' >"$cfg"
code=$(curl -s -o "$TMP/reload.out" -w '%{http_code}' -X POST "$base/-/reload")
[ "$code" = 500 ] || fail "POST /-/reload with bad config answered $code"
grep -q 'tsdb.yml:3:3: global.nope: unknown field' "$TMP/reload.out" || fail "reload answer lacks file:line:col"
printf 'global:\n  scrape_interval: 30s\n' >"$cfg"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/-/reload")
[ "$code" = 200 ] || fail "good reload answered $code"
[ "$(metric_value "$base/metrics" axon_config_last_reload_successful)" = 1 ] || fail "metric not back to 1"
[ "$(metric_value "$base/metrics" axon_config_reload_failures_total)" = 2 ] || fail "reload failures not counted"
pass "reload: bad config rejected and old kept, good config applied"

# lifecycle API can be switched off
port=$(freeport)
start tsdb2 "$BIN/axon-tsdb" --config.file="$cfg" --web.listen-address="127.0.0.1:$port" --storage.tsdb.path="$TMP/d2" --web.enable-lifecycle=false
wait_http "http://127.0.0.1:$port/-/healthy"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/reload")" = 403 ] || fail "lifecycle off"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/quit")" = 403 ] || fail "quit while lifecycle off"
pass "lifecycle API switch"

# /-/quit stops the daemon with exit 0
port=$(freeport)
start tsdb3 "$BIN/axon-tsdb" --config.file="$cfg" --web.listen-address="127.0.0.1:$port" --storage.tsdb.path="$TMP/d3"
wait_http "http://127.0.0.1:$port/-/healthy"
curl -fsS -X POST "http://127.0.0.1:$port/-/quit" >/dev/null
wait_exit "$tsdb3_PID" 10
[ "$WAIT_RC" = 0 ] || fail "/-/quit did not exit 0 ($WAIT_RC)"
pass "/-/quit"
