#!/bin/sh
# `make run`: start the local Axon stack from the example configs, data
# under ./data, and stop everything on Ctrl-C.  Grows into `axon up` (with
# supervision and the demo fleet) with the end-to-end work; today it
# starts every daemon that exists and prints where each one listens.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/bin
mkdir -p "$top/data/logs"
pids=""
stop() {
	trap - INT TERM EXIT
	echo "stopping..."
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	echo "stopped."
}
trap stop INT TERM EXIT
start() { # name port
	"$bin/axon-$1" --config.file="$top/deploy/config/$1.yml" \
		--web.listen-address="127.0.0.1:$2" >"$top/data/logs/$1.log" 2>&1 &
	pids="$pids $!"
	printf '  %-18s http://127.0.0.1:%s  (log: data/logs/%s.log)\n' "axon-$1" "$2" "$1"
}
echo "Axon local stack:"
start discoverer 9092
start tsdb 9090
start scraper 9091
start ruler 9094
start alert-router 9093
sleep 1
for port in 9092 9090 9091 9094 9093; do
	if ! curl -fsS "http://127.0.0.1:$port/-/healthy" >/dev/null 2>&1; then
		echo "a daemon on port $port did not come up; see data/logs/"
		exit 1
	fi
done
echo "All daemons healthy.  Try: curl -s http://127.0.0.1:9090/metrics | head"
echo "Ctrl-C stops the stack."
if [ "${AX_RUN_ONCE:-0}" = 1 ]; then
	exit 0
fi
while :; do sleep 3600; done
