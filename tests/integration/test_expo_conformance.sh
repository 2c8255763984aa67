# The exposition parsers against their reference inputs, through
# `axon check metrics`:
#  - every OpenMetrics conformance case of ../shared/openmetrics-tests
#    (valid ones accepted, invalid ones rejected) with --openmetrics;
#  - every real exporter body of ../shared/exposition-samples parses (as
#    OpenMetrics when its headers say so), and Prometheus' own parser test
#    bodies and fuzz seeds parse as text;
#  - errors name file:line:col and the reason; exit codes 0/1/2.
. "$(dirname "$0")/lib.sh"
om="$AX_SHARED/openmetrics-tests"
ex="$AX_SHARED/exposition-samples"
[ -d "$om" ] && [ -d "$ex" ] || fail "shared test inputs missing"
pass_n=0
bad=""
for d in "$om"/*/; do
	d=${d%/}
	case_name=$(basename "$d")
	want=$(jq -r .shouldParse "$d/test.json")
	rc=0
	"$BIN/axon" check metrics --openmetrics "$d/metrics" >"$TMP/out" 2>&1 || rc=$?
	if { [ "$want" = true ] && [ "$rc" = 0 ]; } || { [ "$want" = false ] && [ "$rc" = 1 ]; }; then
		pass_n=$((pass_n + 1))
	else
		bad="$bad $case_name(want=$want,rc=$rc:$(head -c 200 "$TMP/out"))"
	fi
done
total=$(ls -d "$om"/*/ | wc -l)
[ -z "$bad" ] || fail "OpenMetrics cases failing:$bad"
[ "$pass_n" -eq "$total" ] && [ "$total" -ge 100 ] || fail "$pass_n of $total cases"
pass "OpenMetrics conformance: $pass_n of $total cases"

n=0
for f in "$ex"/real/*.txt "$ex"/*.txt "$ex"/*.prom "$ex"/fuzz-ParseMetric-corpus/*; do
	case "$f" in
	*.headers.txt) continue ;;
	# not exposition bodies: blackbox's probe debug page (logs, then
	# metrics, then the module; Prometheus cannot scrape it either) and
	# the notes on content negotiation
	*/blackbox_probe_debug.txt | */om-negotiation.txt) continue ;;
	esac
	h="${f%.txt}.headers.txt"
	flag=""
	[ -f "$h" ] && grep -qi 'application/openmetrics-text' "$h" && flag=--openmetrics
	"$BIN/axon" check metrics $flag "$f" >"$TMP/out" 2>&1 || fail "$f does not parse: $(cat "$TMP/out")"
	n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n bodies found"
pass "$n real and upstream bodies parse"

# errors: file:line:col and the reason; a body without # EOF; usage
printf 'a 1\nb{x="1" 2\n' >"$TMP/bad.txt"
rc=0
"$BIN/axon" check metrics "$TMP/bad.txt" >"$TMP/out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -qx "$TMP/bad.txt:2:9: expected ',' or '}' after a label" "$TMP/out" || fail "text error: $(cat "$TMP/out")"
rc=0
printf '# TYPE a counter\na_total 1\n' | "$BIN/axon" check metrics --openmetrics - >"$TMP/out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q '^<stdin>:3:1: missing # EOF at the end$' "$TMP/out" || fail "missing EOF: $(cat "$TMP/out")"
rc=0
printf '# TYPE a counter\na_total -1\n# EOF\n' | "$BIN/axon" check metrics --openmetrics >"$TMP/out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q '^<stdin>:2:1: counter-like samples cannot be negative$' "$TMP/out" || fail "negative counter: $(cat "$TMP/out")"
rc=0
"$BIN/axon" check metrics --frobnicate >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "unknown flag must exit 2"
rc=0
"$BIN/axon" check metrics "$TMP/nonexistent" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "missing file must exit 2"
pass "errors: file:line:col with the reason; exit 0/1/2"
