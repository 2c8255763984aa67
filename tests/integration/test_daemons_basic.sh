# Every daemon starts from its example config with only --config.file and
# --web.listen-address, answers /-/healthy and /-/ready, serves /metrics
# that Debian's promtool accepts with no warnings, and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool not installed (make deps)"
for d in $DAEMONS; do
	port=$(freeport)
	start "$d" "$BIN/axon-$d" --config.file="$TOP/deploy/config/$d.yml" \
		--web.listen-address="127.0.0.1:$port"
	pid_var="${d//-/_}_PID"
	pid=${!pid_var}
	base="http://127.0.0.1:$port"
	wait_http "$base/-/healthy"
	[ "$(curl -fsS "$base/-/healthy")" = "axon-$d is Healthy." ] || fail "$d healthy body"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/-/ready")" = 200 ] || fail "$d not ready"
	curl -fsS "$base/metrics" >"$TMP/$d.metrics"
	grep -q "^axon_build_info{.*component=\"$d\"} 1$" "$TMP/$d.metrics" || fail "$d build info"
	grep -q '^process_resident_memory_bytes ' "$TMP/$d.metrics" || fail "$d process metrics"
	grep -q '^axon_config_last_reload_successful 1$' "$TMP/$d.metrics" || fail "$d reload metric"
	out=$(promtool check metrics <"$TMP/$d.metrics" 2>&1) || fail "$d: promtool check metrics failed: $out"
	[ -z "$out" ] || fail "$d: promtool warnings: $out"
	curl -fsS "$base/api/v1/status/buildinfo" | grep -q '"status":"success"' || fail "$d buildinfo"
	curl -fsS "$base/api/v1/status/flags" | grep -q '"config.file":' || fail "$d flags"
	# gzip when asked
	curl -fsS -H 'Accept-Encoding: gzip' -o "$TMP/$d.gz" "$base/metrics"
	gzip -t "$TMP/$d.gz" || fail "$d: /metrics not gzip when asked"
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$WAIT_RC" = 0 ] || fail "$d exited with $WAIT_RC on SIGTERM"
	grep -q 'msg="received signal, exiting gracefully" signal=SIGTERM' "$TMP/$d.log" || fail "$d: no shutdown log"
	pass "$d: healthy, ready, promtool-clean /metrics, exit 0 on SIGTERM"
done

# the CLI exists
"$BIN/axon" --help | grep -q 'usage: axon' || fail "axon --help"
"$BIN/axon" --version | grep -q "axon, version" || fail "axon --version"
if "$BIN/axon" nosuchcommand 2>/dev/null; then fail "unknown command must fail"; fi
for d in $DAEMONS; do
	"$BIN/axon-$d" --help | grep -q -- '--config.file' || fail "$d --help"
	"$BIN/axon-$d" --version | grep -q "axon-$d, version" || fail "$d --version"
	if "$BIN/axon-$d" --no-such-flag 2>"$TMP/flag.err"; then fail "$d accepted a bad flag"; fi
	grep -q "unknown long flag '--no-such-flag'" "$TMP/flag.err" || fail "$d bad flag message"
done
pass "CLI and flag handling"
