#!/bin/sh
# Test runner for `make test`: unit tests (cmocka binaries) and integration
# tests (tests/integration/test_*.sh), each under a hard timeout.  Prints
# one line per test binary/script and ends with "total: N passed, M failed";
# exits non-zero when anything failed.
#   tests/run.sh all|unit|integration [name-filter]
set -u
mode=${1:-all}
filter=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
unit_dir=${AX_UNIT_DIR:-$top/build/tests}
unit_timeout=${AX_UNIT_TIMEOUT:-300}
integ_timeout=${AX_INTEG_TIMEOUT:-600}
logdir=$top/build/test-logs
export AX_SHARED=${AX_SHARED:-$(cd "$top/.." && pwd)/shared}
mkdir -p "$logdir"
passed=0
failed=0
failures=""

run_unit() {
	for bin in "$unit_dir"/test_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		case "$name" in *"$filter"*) ;; *) continue ;; esac
		log="$logdir/$name.log"
		timeout "$unit_timeout" "$bin" >"$log" 2>&1
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 # crashed or timed out
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			echo "FAIL unit $name ($p passed, $f failed, rc=$rc) -- log: $log"
			sed -n '/\[  FAILED  \]\|\[  ERROR   \]\|error:\|ERROR\|runtime error\|Sanitizer/p' "$log" | head -20
			failures="$failures $name"
		else
			echo "ok   unit $name ($p passed)"
		fi
	done
}

run_integration() {
	for t in "$top"/tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		case "$name" in *"$filter"*) ;; *) continue ;; esac
		log="$logdir/$name.log"
		start=$(date +%s)
		AX_TOP="$top" timeout -k 10 "$integ_timeout" bash "$t" >"$log" 2>&1
		rc=$?
		secs=$(( $(date +%s) - start ))
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
			echo "ok   integration $name (${secs}s)"
		else
			failed=$((failed + 1))
			failures="$failures $name"
			echo "FAIL integration $name (rc=$rc, ${secs}s) -- log: $log"
			tail -25 "$log" | sed 's/^/    /'
		fi
	done
}

case "$mode" in
unit) run_unit ;;
integration) run_integration ;;
all) run_unit; run_integration ;;
*) echo "usage: $0 all|unit|integration [filter]"; exit 2 ;;
esac
if [ "$failed" -ne 0 ]; then
	echo "failed:$failures"
fi
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
