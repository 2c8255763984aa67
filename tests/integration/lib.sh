# Shared helpers for the integration tests (sourced by test_*.sh).
#
# Every test runs in its own temporary directory, starts real binaries from
# build/bin on 127.0.0.1 with free ports, and kills what it started by PID
# on exit (trap), whatever happens.
set -euo pipefail

TOP=${AX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=$TOP/build/bin
PEER=$TOP/build/tests/ax-testpeer
TMP=$(mktemp -d /tmp/axon-it.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	done
	sleep 0.3
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	if [ "${AX_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

log() { echo "--- $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
pass() { echo "ok: $*"; }

freeport() { "$PEER" freeport; }

# start NAME CMD... : run CMD in the background in $TMP, output to
# $TMP/NAME.log; the PID goes to PIDS and to the variable NAME_PID.
start() {
	local name=$1
	shift
	(cd "$TMP" && exec "$@") >"$TMP/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	printf -v "${name//-/_}_PID" '%s' "$pid"
}

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
	local url=$1 secs=${2:-15} i
	for ((i = 0; i < secs * 10; i++)); do
		if curl -fsS -o /dev/null "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "$url did not answer 200 within ${secs}s"
}

# wait_exit PID SECONDS: wait for PID (a child of this shell) to exit and
# set WAIT_RC to its exit code, or to "timeout".
wait_exit() {
	local pid=$1 secs=${2:-10} i
	WAIT_RC=timeout
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			WAIT_RC=0
			wait "$pid" 2>/dev/null || WAIT_RC=$?
			return 0
		fi
		sleep 0.1
	done
}

# metric_value URL NAME: value of an unlabelled sample in a /metrics body.
metric_value() {
	curl -fsS "$1" | awk -v n="$2" '$1 == n { print $2 }'
}

DAEMONS="discoverer scraper tsdb ruler alert-router"
