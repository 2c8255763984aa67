# Shared by the bench scripts (run.sh, large.sh): process control, /proc
# readings, result rows, and the docs/benchmarks.md section writer.
# Sourced; sets TOP BIN T OUT TMP and an EXIT trap that kills what was
# started (by PID) and removes TMP.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$TOP/build/bin
T=$TOP/build/tests
OUT=$TOP/build/bench
TMP=$(mktemp -d /tmp/axon-bench.XXXXXX)
PIDS=()
mkdir -p "$OUT"
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "bench: $*" >&2; exit 1; }
phase() { echo "bench: [${SECONDS}s] $*"; }
freeport() { "$T/ax-testpeer" freeport; }
start() { # NAME CMD... -> PID in NAME_PID
	local name=$1
	shift
	(cd "$TMP" && exec "$@") >"$TMP/$name.log" 2>&1 &
	PIDS+=("$!")
	printf -v "${name}_PID" '%s' "$!"
}
wait_http() {
	local i
	for i in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
	fail "$1 not ready"
}
cpu_s() { # PID... -> user+system CPU seconds, summed
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
kb() { # FIELD PID... -> sum of a /proc/PID/status field in kB
	local f=$1 p t=0
	shift
	for p in "$@"; do t=$((t + $(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/status"))); done
	echo "$t"
}
metric() { # BASE NAME -> the sum of the family's samples
	curl -fsS "$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2; f = 1 } END { if (f) printf "%.0f", s }'
}
dub() { du -sb "$1" 2>/dev/null | awk '{ print $1 }'; }
pct() { # P FILE -> the P-th percentile of the numbers in FILE
	sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'
}

row() { # NAME UNIT AXON REF BETTER [REFERENCE-SYSTEM]
	jq -n --arg n "$1" --arg u "$2" --argjson a "$3" --argjson r "$4" --arg b "$5" --arg rs "${6:-prometheus-2.42}" \
		'{name: $n, unit: $u, axon: $a, reference: $r, reference_system: (if $r == null then null else $rs end),
		  ratio: (if $r == null or $r == 0 then null else ($a / $r * 1000 | round / 1000) end), better: $b}'
}
# docs_section NAME FILE: replace the part of docs/benchmarks.md between
# "<!-- bench:NAME -->" and "<!-- /bench:NAME -->" with FILE (appended
# when the markers are not there yet); the other part is left as it was.
docs_section() {
	local doc=$TOP/docs/benchmarks.md
	[ -f "$doc" ] || printf '# Benchmarks\n\nProduced by `make bench` and `make bench-large` (tests/bench/); do not edit by hand.\n' >"$doc"
	if grep -q "^<!-- bench:$1 -->\$" "$doc"; then
		awk -v n="$1" -v f="$2" '
			$0 == "<!-- bench:" n " -->" { print; while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == "<!-- /bench:" n " -->" { skip = 0 }
			!skip { print }' "$doc" >"$doc.tmp"
	else
		{ cat "$doc"; echo; echo "<!-- bench:$1 -->"; cat "$2"; echo "<!-- /bench:$1 -->"; } >"$doc.tmp"
	fi
	mv "$doc.tmp" "$doc"
}
