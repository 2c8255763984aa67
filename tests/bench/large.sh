#!/usr/bin/env bash
# make bench-large: about 1M active series in Debian's Prometheus 2.42 and
# in axon-tsdb, one after the other in this run, each filled by
# remote-writing LARGE_SAMPLES samples of synthetic history per series
# (tests/bench/backfill.c) rather than by waiting for scrapes.  Measures,
# for both: remote-write ingest CPU and rate, memory per series ((RSS with
# N series - RSS with none) / N), WAL bytes per sample, query latency over
# the whole history (after checking both answer with the same label sets),
# and the restart time after kill -9 (WAL replay of N series x
# LARGE_SAMPLES samples).  Writes build/bench/results-large.json and the
# "make bench-large" section of docs/benchmarks.md.  About 10 minutes on
# the 2-core machine, within 24 GiB (one system at a time).
#
# Sizes (environment): LARGE_SERIES (1000000), LARGE_SAMPLES (120) at
# LARGE_STEP (15 s), LARGE_QUERY_RUNS (5), LARGE_CONC (4 requests in
# flight).
set -euo pipefail
LARGE_SERIES=${LARGE_SERIES:-1000000}
LARGE_SAMPLES=${LARGE_SAMPLES:-120}
LARGE_STEP=${LARGE_STEP:-15}
LARGE_QUERY_RUNS=${LARGE_QUERY_RUNS:-5}
LARGE_CONC=${LARGE_CONC:-4}
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
END_MS=$(($(date +%s) * 1000))
END_S=$((END_MS / 1000))
START_S=$((END_S - (LARGE_SAMPLES - 1) * LARGE_STEP))
echo "bench-large: $LARGE_SERIES series x $LARGE_SAMPLES samples (${LARGE_STEP}s apart), backfilled by remote write"

QUERIES=(
	'sum(rate(node_cpu_seconds_total[1m]))'
	'sum by (mode) (rate(node_cpu_seconds_total[1m]))'
	'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))'
	'sum by (device) (node_filesystem_avail_bytes)'
	'count by (job) (node_filesystem_avail_bytes{mountpoint="/mnt/v1"})'
)

start_sys() { # SYSTEM PORT: starts it on its data dir; PID in SYS_PID
	if [ "$1" = prometheus ]; then
		printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prom.yml"
		start sys prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/data-$1" \
			--web.listen-address="127.0.0.1:$2" --web.enable-remote-write-receiver
	else
		printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$(freeport)" >"$TMP/tsdb.yml"
		start sys "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/data-$1" \
			--web.listen-address="127.0.0.1:$2"
	fi
}

run_large() { # SYSTEM: fills L_<SYSTEM>_*
	local sys=$1 port base rss0 c0 c1 out series samples_m
	port=$(freeport)
	base="http://127.0.0.1:$port"
	start_sys "$sys" "$port"
	wait_http "$base/-/ready"
	sleep 3
	rss0=$(kb VmRSS "$sys_PID")
	c0=$(cpu_s "$sys_PID")
	out=$("$T/ax-bench-backfill" "$base/api/v1/write" "$LARGE_SERIES" "$LARGE_SAMPLES" "$LARGE_STEP" "$END_MS" "$LARGE_CONC") ||
		fail "$sys: the backfill failed (log: $(tail -3 "$TMP/sys.log"))"
	c1=$(cpu_s "$sys_PID")
	echo "  $sys: $out"
	if [ "$sys" = prometheus ]; then
		series=$(metric "$base" prometheus_tsdb_head_series)
	else
		series=$(metric "$base" axon_tsdb_head_series)
	fi
	[ "$series" -ge "$LARGE_SERIES" ] || fail "$sys holds $series series, not $LARGE_SERIES"
	samples_m=$(awk -v n="$LARGE_SERIES" -v k="$LARGE_SAMPLES" 'BEGIN { print n * k / 1e6 }')
	printf -v "L_${sys}_cpu" '%s' "$(awk -v a="$c0" -v b="$c1" -v m="$samples_m" 'BEGIN { printf "%.4f", (b - a) / m }')"
	printf -v "L_${sys}_rate" '%s' "$(echo "$out" | awk '{ print $6 }')"
	printf -v "L_${sys}_series" '%s' "$series"
	sleep 5 # let a collector settle before reading RSS
	printf -v "L_${sys}_rss" '%s' "$(kb VmRSS "$sys_PID" | awk -v r0="$rss0" -v n="$series" '{ printf "%.0f", ($1 - r0) * 1024 / n }')"
	printf -v "L_${sys}_wal" '%s' "$(awk -v b="$(dub "$TMP/data-$sys/wal")" -v m="$samples_m" 'BEGIN { printf "%.3f", b / (m * 1e6) }')"
	# query latency over the whole history
	: >"$TMP/lat.$sys"
	local q r
	for q in "${QUERIES[@]}" "range:sum(rate(node_cpu_seconds_total[1m]))"; do
		for r in $(seq "$LARGE_QUERY_RUNS"); do
			if [ "${q#range:}" != "$q" ]; then
				curl -fsS -o "$TMP/qout" -w '%{time_total}\n' -G "$base/api/v1/query_range" \
					--data-urlencode "query=${q#range:}" --data-urlencode "start=$START_S" \
					--data-urlencode "end=$END_S" --data-urlencode "step=$LARGE_STEP" >>"$TMP/lat.$sys"
			else
				curl -fsS -o "$TMP/qout" -w '%{time_total}\n' -G "$base/api/v1/query" \
					--data-urlencode "query=$q" --data-urlencode "time=$END_S" >>"$TMP/lat.$sys"
			fi
		done
		jq -c '[.data.result[].metric] | sort' "$TMP/qout" >>"$TMP/shape.$sys"
	done
	printf -v "L_${sys}_p50" '%s' "$(awk -v v="$(pct 50 "$TMP/lat.$sys")" 'BEGIN { printf "%.2f", v * 1000 }')"
	printf -v "L_${sys}_p99" '%s' "$(awk -v v="$(pct 99 "$TMP/lat.$sys")" 'BEGIN { printf "%.2f", v * 1000 }')"
	printf -v "L_${sys}_hwm" '%s' "$(kb VmHWM "$sys_PID")"
	# restart after kill -9: WAL replay of everything
	local t0 t1
	kill -KILL "$sys_PID"
	wait "$sys_PID" 2>/dev/null || true
	t0=$(date +%s%N)
	start_sys "$sys" "$port"
	wait_http "$base/-/ready"
	t1=$(date +%s%N)
	printf -v "L_${sys}_restart" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	if [ "$sys" = prometheus ]; then
		series=$(metric "$base" prometheus_tsdb_head_series)
	else
		series=$(metric "$base" axon_tsdb_head_series)
	fi
	[ "$series" -ge "$LARGE_SERIES" ] || fail "$sys holds $series series after the restart, not $LARGE_SERIES"
	kill -TERM "$sys_PID"
	wait "$sys_PID" 2>/dev/null || true
	rm -rf "$TMP/data-$sys"
}

run_large prometheus
run_large axon
cmp -s "$TMP/shape.prometheus" "$TMP/shape.axon" ||
	fail "the query results differ in shape (label sets): $(diff "$TMP/shape.prometheus" "$TMP/shape.axon" | head -4 | cut -c1-200)"

{
	row "remote-write ingest: CPU per million samples (storage process)" "CPU-seconds" "$L_axon_cpu" "$L_prometheus_cpu" lower
	row "remote-write ingest rate ($LARGE_CONC requests in flight)" "samples/s" "$L_axon_rate" "$L_prometheus_rate" higher
	row "memory per active series ((RSS with N series - RSS with none) / N)" "bytes" "$L_axon_rss" "$L_prometheus_rss" lower
	row "peak RSS (backfill and queries)" "KiB" "$L_axon_hwm" "$L_prometheus_hwm" lower
	row "WAL bytes per sample" "bytes" "$L_axon_wal" "$L_prometheus_wal" lower
	row "query latency p50 (5 instant queries + ${LARGE_SAMPLES}-step range)" "ms" "$L_axon_p50" "$L_prometheus_p50" lower
	row "query latency p99" "ms" "$L_axon_p99" "$L_prometheus_p99" lower
	row "restart after kill -9 until ready (WAL replay, $LARGE_SERIES series x $LARGE_SAMPLES samples)" "s" "$L_axon_restart" "$L_prometheus_restart" lower
} | jq -s '{figures: .}' >"$OUT/results-large.json"

rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo "## \`make bench-large\` (about 1M active series)"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit: $rev"
	echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "- workload: $LARGE_SERIES series (node_exporter-shaped, 1,000 per instance) x $LARGE_SAMPLES samples ${LARGE_STEP}s apart, remote-written by ax-bench-backfill; head series: axon $L_axon_series, Prometheus $L_prometheus_series"
	echo "- reference: Debian's Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') with --web.enable-remote-write-receiver, measured in the same run"
	echo
	echo "| figure | unit | axon | Prometheus 2.42 | ratio (axon / reference) | better |"
	echo "|---|---|---|---|---|---|"
	jq -r '.figures[] | "| \(.name) | \(.unit) | \(.axon) | \(.reference // "—") | \(.ratio // "—") | \(.better) |"' "$OUT/results-large.json"
} >"$OUT/benchmarks-large.md"
echo
column -t -s '|' <<<"$(jq -r '.figures[] | "\(.name)|\(.unit)|\(.axon)|\(.reference // "-")|\(.ratio // "-")|\(.better)"' "$OUT/results-large.json")"
docs_section large "$OUT/benchmarks-large.md"
echo "bench-large: results in $OUT/results-large.json and docs/benchmarks.md"
