#!/usr/bin/env bash
# make bench: the same synthetic fleet scraped by Debian's Prometheus 2.42
# and by axon (axon-scraper + axon-tsdb), one after the other in this run,
# with the same scrape configuration, warm-up excluded.  Prints the table,
# writes build/bench/results.json and build/bench/benchmarks.md, which
# becomes the "make bench" section of docs/benchmarks.md.
#
# Then axon-alert-router against Debian's Alertmanager 0.25: alerts
# ingested per second, and a burst of ALERTS alerts in GROUPS_N groups to
# the last group's webhook notification (tests/bench/alertbench.py).
#
# Then scrape capacity: CAP_TARGETS x CAP_SERIES at CAP_INTERVAL through
# both systems, the fleet timing every scrape it serves (missed and late
# scrapes, see tests/bench/fleet.c).
#
# Sizes (environment): TARGETS (100) x SERIES (1000) per target, INTERVAL
# (5s), WARMUP (15 s), MEASURE (20 s: four scrapes of every target),
# AGENT_MEASURE (20 s), QUERY_RUNS (10 per query), ALERTS (10000),
# GROUPS_N (1000), CAP_TARGETS (5000) x CAP_SERIES (200) at CAP_INTERVAL
# (15 s), measured over CAP_MEASURE (30 s).  The whole run: about 5
# minutes (each phase prints its start time).
set -euo pipefail
TARGETS=${TARGETS:-100}
SERIES=${SERIES:-1000}
INTERVAL=${INTERVAL:-5}
# a shorter warm-up flatters axon: Prometheus' CPU per sample in its first
# 20 s is twice its steady state (4.95 against 2.3-2.6 CPU-s per million)
WARMUP=${WARMUP:-15}
MEASURE=${MEASURE:-20}
AGENT_MEASURE=${AGENT_MEASURE:-20}
QUERY_RUNS=${QUERY_RUNS:-10}
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus not installed (make deps)"
echo "bench: fleet of $TARGETS targets x $SERIES series, interval ${INTERVAL}s, warm-up ${WARMUP}s, measured ${MEASURE}s"
start fleet "$T/ax-bench-fleet" "$TARGETS" "$SERIES" 42 "$TMP/targets"
for i in $(seq 100); do [ -f "$TMP/targets" ] && break; sleep 0.1; done
[ -f "$TMP/targets" ] || fail "the fleet did not start"
{
	printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets:\n' "$INTERVAL" "$((INTERVAL - 1))"
	sed 's/^/          - /' "$TMP/targets"
} >"$TMP/scrape.yml"

# the PromQL issue's canonical dashboard queries (its latency target is
# stated over them), on the fleet's metric names; the 1 h range query at
# 15 s step is added below
QUERIES=(
	'sum by (job) (rate(node_cpu_seconds_total[5m]))'
	'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'
	'topk(10, rate(node_cpu_seconds_total[5m]))'
	'sum by (mode) (rate(node_cpu_seconds_total{mode=~"user|sys.*|io.*"}[5m]))'
	'count(up == 1)'
)

# run SYSTEM: measures one system; fills R_<SYSTEM>_* variables
run_system() {
	local sys=$1 base pids c0 c1 s0 s1 series
	phase "$sys: scraping the fleet"
	if [ "$sys" = prometheus ]; then
		local pp
		pp=$(freeport)
		base="http://127.0.0.1:$pp"
		start prom prometheus --config.file="$TMP/scrape.yml" --storage.tsdb.path="$TMP/prom" \
			--web.listen-address="127.0.0.1:$pp" --web.enable-admin-api
		pids="$prom_PID"
		wait_http "$base/-/ready"
		SAMPLES_METRIC=prometheus_tsdb_head_samples_appended_total
		SERIES_METRIC=prometheus_tsdb_head_series
		DATA=$TMP/prom
	else
		local tp ip sp
		tp=$(freeport); ip=$(freeport); sp=$(freeport)
		base="http://127.0.0.1:$tp"
		printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$ip" >"$TMP/tsdb.yml"
		{ cat "$TMP/scrape.yml"; printf 'axon_scraper:\n  tsdb: tcp://127.0.0.1:%s\n' "$ip"; } >"$TMP/axon.yml"
		start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/axon" \
			--web.listen-address="127.0.0.1:$tp" --web.enable-admin-api
		wait_http "$base/-/ready"
		start scraper "$BIN/axon-scraper" --config.file="$TMP/axon.yml" --web.listen-address="127.0.0.1:$sp"
		pids="$tsdb_PID $scraper_PID"
		wait_http "http://127.0.0.1:$sp/-/ready"
		SAMPLES_METRIC=axon_tsdb_head_samples_appended_total
		SERIES_METRIC=axon_tsdb_head_series
		DATA=$TMP/axon
	fi
	sleep "$WARMUP"
	c0=$(cpu_s $pids); s0=$(metric "$base" "$SAMPLES_METRIC")
	sleep "$MEASURE"
	c1=$(cpu_s $pids); s1=$(metric "$base" "$SAMPLES_METRIC")
	series=$(metric "$base" "$SERIES_METRIC")
	local samples
	samples=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", b - a }')
	[ "$samples" -gt 0 ] || fail "$sys ingested nothing"
	printf -v "R_${sys}_cpu" '%s' "$(awk -v a="$c0" -v b="$c1" -v n="$samples" 'BEGIN { printf "%.4f", (b - a) / (n / 1e6) }')"
	printf -v "R_${sys}_hwm" '%s' "$(kb VmHWM $pids)"
	printf -v "R_${sys}_rss" '%s' "$(kb VmRSS $pids)"
	printf -v "R_${sys}_series" '%s' "$series"
	printf -v "R_${sys}_rate" '%s' "$(awk -v n="$samples" -v s="$MEASURE" 'BEGIN { printf "%.0f", n / s }')"
	# WAL bytes per sample (everything appended so far)
	local total
	total=$(metric "$base" "$SAMPLES_METRIC")
	printf -v "R_${sys}_wal" '%s' "$(awk -v b="$(dub "$DATA/wal")" -v n="$total" 'BEGIN { printf "%.3f", b / n }')"
	# a block cut: a snapshot writes the head as a block
	curl -fsS -X POST "$base/api/v1/admin/tsdb/snapshot" >"$TMP/snap.json"
	local snap
	snap=$(jq -r '.data.name' "$TMP/snap.json")
	printf -v "R_${sys}_block" '%s' "$(awk -v b="$(dub "$DATA/snapshots/$snap")" -v n="$total" 'BEGIN { printf "%.3f", b / n }')"
	# query latency, the same list for both
	: >"$TMP/lat.$sys"
	local q r now
	now=$(date +%s)
	for q in "${QUERIES[@]}" "range:sum by (job) (rate(node_cpu_seconds_total[5m]))"; do
		for r in $(seq "$QUERY_RUNS"); do
			if [ "${q#range:}" != "$q" ]; then
				curl -fsS -o "$TMP/qout" -w '%{time_total}\n' -G "$base/api/v1/query_range" \
					--data-urlencode "query=${q#range:}" --data-urlencode "start=$((now - 3600))" \
					--data-urlencode "end=$now" --data-urlencode step=15 >>"$TMP/lat.$sys"
			else
				curl -fsS -o "$TMP/qout" -w '%{time_total}\n' -G "$base/api/v1/query" \
					--data-urlencode "query=$q" --data-urlencode "time=$now" >>"$TMP/lat.$sys"
			fi
		done
		# (which ten topk picks depends on when each system sampled
		# the fleet: its count is compared)
		case $q in
		topk*) jq -c '.data.result | length' "$TMP/qout" >>"$TMP/shape.$sys" ;;
		*) jq -c '[.data.result[].metric] | sort' "$TMP/qout" >>"$TMP/shape.$sys" ;;
		esac
	done
	printf -v "R_${sys}_p50" '%s' "$(awk -v v="$(pct 50 "$TMP/lat.$sys")" 'BEGIN { printf "%.2f", v * 1000 }')"
	printf -v "R_${sys}_p99" '%s' "$(awk -v v="$(pct 99 "$TMP/lat.$sys")" 'BEGIN { printf "%.2f", v * 1000 }')"
	# restart after kill -9 (WAL replay), the storage process only
	local victim t0 t1
	if [ "$sys" = prometheus ]; then victim=$prom_PID; else victim=$tsdb_PID; kill -TERM "$scraper_PID"; fi
	kill -KILL "$victim"
	wait "$victim" 2>/dev/null || true
	t0=$(date +%s%N)
	if [ "$sys" = prometheus ]; then
		start prom prometheus --config.file="$TMP/scrape.yml" --storage.tsdb.path="$TMP/prom" \
			--web.listen-address="${base#http://}" --web.enable-admin-api
		victim=$prom_PID
	else
		start tsdb "$BIN/axon-tsdb" --config.file="$TMP/tsdb.yml" --storage.tsdb.path="$TMP/axon" \
			--web.listen-address="${base#http://}"
		victim=$tsdb_PID
	fi
	wait_http "$base/-/ready"
	t1=$(date +%s%N)
	printf -v "R_${sys}_restart" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	kill -TERM "$victim" 2>/dev/null || true
	[ "$sys" = prometheus ] || kill -TERM "$scraper_PID" 2>/dev/null || true
	sleep 1
}

# agent mode: scrape and remote-write only, into a sink that stores nothing
run_agent() {
	local sys=$1 pids base c0 c1 s0 s1 metric_name
	phase "$sys: agent mode"
	if [ "$sys" = prometheus ]; then
		local pp
		pp=$(freeport)
		base="http://127.0.0.1:$pp"
		start agentp prometheus --enable-feature=agent --config.file="$TMP/agent.yml" \
			--storage.agent.path="$TMP/agentdata" --web.listen-address="127.0.0.1:$pp"
		pids=$agentp_PID
		metric_name=prometheus_remote_storage_samples_total
	else
		local sp
		sp=$(freeport)
		base="http://127.0.0.1:$sp"
		start agenta "$BIN/axon-scraper" --config.file="$TMP/agent.yml" --web.listen-address="127.0.0.1:$sp"
		pids=$agenta_PID
		metric_name=axon_remote_storage_samples_total
	fi
	wait_http "$base/-/ready"
	sleep "$WARMUP"
	c0=$(cpu_s $pids); s0=$(metric "$base" "$metric_name")
	sleep "$AGENT_MEASURE"
	c1=$(cpu_s $pids); s1=$(metric "$base" "$metric_name")
	local sent
	sent=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", b - a }')
	[ "$sent" -gt 0 ] || fail "$sys (agent mode) sent nothing"
	printf -v "R_${sys}_agent" '%s' "$(awk -v a="$c0" -v b="$c1" -v n="$sent" 'BEGIN { printf "%.4f", (b - a) / (n / 1e6) }')"
	kill -TERM $pids 2>/dev/null || true
	sleep 1
}

run_system prometheus
run_system axon
sink=$(freeport)
start sink "$T/ax-testpeer" rw-sink "127.0.0.1:$sink"
{ cat "$TMP/scrape.yml"; printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n' "$sink"; } >"$TMP/agent.yml"
run_agent prometheus
run_agent axon
if ! cmp -s "$TMP/shape.prometheus" "$TMP/shape.axon"; then
	echo "bench: warning: the query results differ in shape (label sets) between the systems:" >&2
	diff "$TMP/shape.prometheus" "$TMP/shape.axon" | head -6 | cut -c1-200 >&2 || true
fi

# scrape capacity: CAP_TARGETS x CAP_SERIES at CAP_INTERVAL; the fleet
# counts missed and late scrapes (the same accounting for both systems)
CAP_TARGETS=${CAP_TARGETS:-5000}
CAP_SERIES=${CAP_SERIES:-200}
CAP_INTERVAL=${CAP_INTERVAL:-15}
CAP_MEASURE=${CAP_MEASURE:-30}
start capfleet "$T/ax-bench-fleet" "$CAP_TARGETS" "$CAP_SERIES" 7 "$TMP/cap-targets" "$CAP_INTERVAL"
for i in $(seq 300); do [ -f "$TMP/cap-targets" ] && break; sleep 0.1; done
[ -f "$TMP/cap-targets" ] || fail "the capacity fleet did not start"
CAPF="http://$(head -1 "$TMP/cap-targets")/fleet"
{
	printf 'global:\n  scrape_interval: %ss\n  scrape_timeout: %ss\nscrape_configs:\n  - job_name: capacity\n    static_configs:\n      - targets:\n' "$CAP_INTERVAL" "$((CAP_INTERVAL * 2 / 3))"
	sed 's/^/          - /' "$TMP/cap-targets"
} >"$TMP/cap.yml"
capstat() { curl -fsS "$CAPF/stats" | awk -v k="$1" '$1 == k { print $2 }'; }
run_capacity() { # SYSTEM: fills C_<SYSTEM>_{bad,cores,scrapes,expected,conns}
	local sys=$1 pids base c0 c1 i
	phase "$sys: scrape capacity"
	if [ "$sys" = prometheus ]; then
		local pp
		pp=$(freeport)
		base="http://127.0.0.1:$pp"
		start capp prometheus --config.file="$TMP/cap.yml" --storage.tsdb.path="$TMP/cap-prom" \
			--web.listen-address="127.0.0.1:$pp"
		pids=$capp_PID
	else
		local tp ip sp
		tp=$(freeport); ip=$(freeport); sp=$(freeport)
		base="http://127.0.0.1:$tp"
		printf 'axon_tsdb:\n  ingest_listen: tcp://127.0.0.1:%s\n' "$ip" >"$TMP/cap-tsdb.yml"
		{ cat "$TMP/cap.yml"; printf 'axon_scraper:\n  tsdb: tcp://127.0.0.1:%s\n' "$ip"; } >"$TMP/cap-axon.yml"
		start capt "$BIN/axon-tsdb" --config.file="$TMP/cap-tsdb.yml" --storage.tsdb.path="$TMP/cap-axon" \
			--web.listen-address="127.0.0.1:$tp"
		wait_http "$base/-/ready"
		start caps "$BIN/axon-scraper" --config.file="$TMP/cap-axon.yml" --web.listen-address="127.0.0.1:$sp"
		pids="$capt_PID $caps_PID"
	fi
	wait_http "$base/-/ready"
	# warm-up: every target scraped once (its series created), then a
	# few seconds
	curl -fsS -o /dev/null "$CAPF/reset"
	for i in $(seq $((CAP_INTERVAL * 8))); do
		[ "$(capstat targets)" -ge "$CAP_TARGETS" ] && break
		sleep 0.5
	done
	sleep 2
	curl -fsS -o /dev/null "$CAPF/reset"
	c0=$(cpu_s $pids)
	sleep "$CAP_MEASURE"
	c1=$(cpu_s $pids)
	curl -fsS "$CAPF/stats" >"$TMP/capstats.$sys"
	local v
	for v in scrapes expected late missed conns max_gap_ms; do
		printf -v "C_${sys}_$v" '%s' "$(awk -v k="$v" '$1 == k { print $2 }' "$TMP/capstats.$sys")"
	done
	printf -v "C_${sys}_bad" '%s' "$(awk '$1 == "late" || $1 == "missed" { s += $2 } END { print s + 0 }' "$TMP/capstats.$sys")"
	printf -v "C_${sys}_cores" '%s' "$(awk -v a="$c0" -v b="$c1" -v s="$CAP_MEASURE" 'BEGIN { printf "%.3f", (b - a) / s }')"
	printf -v "C_${sys}_hwm" '%s' "$(kb VmHWM $pids)"
	kill -TERM $pids 2>/dev/null || true
	for i in $pids; do wait "$i" 2>/dev/null || true; done
	rm -rf "$TMP/cap-prom" "$TMP/cap-axon"
}
echo "bench: scrape capacity, $CAP_TARGETS targets x $CAP_SERIES series at ${CAP_INTERVAL}s"
run_capacity prometheus
run_capacity axon
kill -TERM "$capfleet_PID" 2>/dev/null || true

# the parser on the real exporter bodies
phase "parser"
R=$TOP/../shared/exposition-samples/real
bodies=()
for f in alertmanager blackbox blackbox_probe_fail blackbox_probe_http blackbox_probe_tcp node_exporter prometheus prometheus_federate pushgateway python_client; do
	[ -f "$R/$f.txt" ] && bodies+=("$R/$f.txt")
done
parse=$("$T/ax-bench-parse" --seconds 3 "${bodies[@]}" | tail -1)
P_MBS=$(echo "$parse" | awk '{ print $1 }')
P_SPS=$(echo "$parse" | awk '{ print $3 }')

# the alert router against Alertmanager 0.25: ingest rate, and a burst of
# ALERTS alerts in GROUPS groups to the last group's notification
ALERTS=${ALERTS:-10000}
GROUPS_N=${GROUPS_N:-1000}
run_alerts() { # SYSTEM
	local sys=$1 port sink base
	phase "$sys: alerts"
	port=$(freeport); sink=$(freeport)
	base="http://127.0.0.1:$port"
	cat >"$TMP/am-ingest.yml" <<YML
route:
  receiver: none
  group_by: [alertname, g]
  group_wait: 1h
receivers:
  - name: none
YML
	cat >"$TMP/am-burst.yml" <<YML
route:
  receiver: hook
  group_by: [alertname, g]
  group_wait: 0s
  group_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:$sink/hook"}]
YML
	for phase in ingest burst; do
		if [ "$sys" = alertmanager ]; then
			start "am_$phase" prometheus-alertmanager --config.file="$TMP/am-$phase.yml" \
				--web.listen-address="127.0.0.1:$port" --storage.path="$TMP/am-$phase" --cluster.listen-address=
		else
			start "am_$phase" "$BIN/axon-alert-router" --config.file="$TMP/am-$phase.yml" \
				--web.listen-address="127.0.0.1:$port" --storage.path="$TMP/ar-$phase"
		fi
		wait_http "$base/-/ready"
		if [ "$phase" = ingest ]; then
			printf -v "A_${sys}_ingest" '%s' "$(python3 "$TOP/tests/bench/alertbench.py" ingest "$base" "$ALERTS" 100)"
		else
			printf -v "A_${sys}_burst" '%s' "$(python3 "$TOP/tests/bench/alertbench.py" burst "$base" "$sink" "$GROUPS_N" $((ALERTS / GROUPS_N)))"
		fi
		local pv="am_${phase}_PID"
		kill "${!pv}" 2>/dev/null || true
		wait "${!pv}" 2>/dev/null || true
	done
}
run_alerts alertmanager
run_alerts axon

per_series() { awk -v k="$1" -v n="$2" 'BEGIN { printf "%.0f", k * 1024 / n }'; }
{
	row "CPU per million ingested samples (scrape+storage processes)" "CPU-seconds" "$R_axon_cpu" "$R_prometheus_cpu" lower
	row "peak RSS (all processes)" "KiB" "$R_axon_hwm" "$R_prometheus_hwm" lower
	row "RSS per active series" "bytes" "$(per_series "$R_axon_rss" "$R_axon_series")" "$(per_series "$R_prometheus_rss" "$R_prometheus_series")" lower
	row "WAL bytes per sample" "bytes" "$R_axon_wal" "$R_prometheus_wal" lower
	row "block bytes per sample (snapshot of the head)" "bytes" "$R_axon_block" "$R_prometheus_block" lower
	row "query latency p50 (the PromQL issue's canonical queries: sum by rate, histogram_quantile, topk, regex selector; + 1 h range at 15 s)" "ms" "$R_axon_p50" "$R_prometheus_p50" lower
	row "query latency p99" "ms" "$R_axon_p99" "$R_prometheus_p99" lower
	row "restart after kill -9 until ready (WAL replay)" "s" "$R_axon_restart" "$R_prometheus_restart" lower
	row "agent mode: CPU per million samples remote-written (vs --enable-feature=agent)" "CPU-seconds" "$R_axon_agent" "$R_prometheus_agent" lower
	row "parser throughput, real exporter bodies, one core" "MB/s" "$P_MBS" null higher
	row "parser throughput, samples" "samples/s" "$P_SPS" null higher
	row "scrape capacity: $CAP_TARGETS targets x $CAP_SERIES series at ${CAP_INTERVAL}s, missed or late scrapes in ${CAP_MEASURE}s (target: 0)" "scrapes" "$C_axon_bad" "$C_prometheus_bad" lower
	row "scrape capacity: CPU used (scrape+storage processes)" "cores" "$C_axon_cores" "$C_prometheus_cores" lower
	row "scrape capacity: peak RSS (scrape+storage processes)" "KiB" "$C_axon_hwm" "$C_prometheus_hwm" lower
	row "alert router: alerts ingested per second (POST /api/v2/alerts, batches of 100; reference: Alertmanager 0.25)" "alerts/s" "$A_axon_ingest" "$A_alertmanager_ingest" higher alertmanager-0.25
	row "alert router: burst of $ALERTS alerts in $GROUPS_N groups to the last notification (group_wait 0s; reference: Alertmanager 0.25)" "s" "$A_axon_burst" "$A_alertmanager_burst" lower alertmanager-0.25
} | jq -s '{figures: .}' >"$OUT/results.json"

rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo "## \`make bench\` (about 100k active series)"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit: $rev; the run took ${SECONDS}s"
	echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "- workload: $TARGETS targets x $SERIES series (node_exporter-shaped, ax-bench-fleet), scrape interval ${INTERVAL}s, warm-up ${WARMUP}s, measured ${MEASURE}s; active series: axon $R_axon_series, Prometheus $R_prometheus_series; ingest rate: axon $R_axon_rate, Prometheus $R_prometheus_rate samples/s"
	echo "- reference: Debian's Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }'), measured in the same run"
	echo
	echo "| figure | unit | axon | Prometheus 2.42 | ratio (axon / reference) | better |"
	echo "|---|---|---|---|---|---|"
	jq -r '.figures[] | "| \(.name) | \(.unit) | \(.axon) | \(.reference // "—") | \(.ratio // "—") | \(.better) |"' "$OUT/results.json"
	echo
	echo "The two alert-router rows compare with Debian's Alertmanager $(prometheus-alertmanager --version 2>&1 | awk 'NR == 1 { print $3 }') (reference column), same machine, same run."
	echo
	echo "Scrape capacity, as the fleet counted the scrapes it served in the ${CAP_MEASURE}s window (late: more than 10% of an interval after the previous scrape; missed: a whole interval without one):"
	echo
	echo "| system | scrapes | expected | late | missed | longest gap (ms) | new TCP connections |"
	echo "|---|---|---|---|---|---|---|"
	echo "| axon | $C_axon_scrapes | $C_axon_expected | $C_axon_late | $C_axon_missed | $C_axon_max_gap_ms | $C_axon_conns |"
	echo "| Prometheus | $C_prometheus_scrapes | $C_prometheus_expected | $C_prometheus_late | $C_prometheus_missed | $C_prometheus_max_gap_ms | $C_prometheus_conns |"
} >"$OUT/benchmarks.md"
echo
column -t -s '|' <<<"$(jq -r '.figures[] | "\(.name)|\(.unit)|\(.axon)|\(.reference // "-")|\(.ratio // "-")|\(.better)"' "$OUT/results.json")"
echo
docs_section small "$OUT/benchmarks.md"
phase "done"
echo "bench: results in $OUT/results.json and $OUT/benchmarks.md (docs/benchmarks.md)"
