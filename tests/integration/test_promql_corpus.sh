# Prometheus' own PromQL test scripts (../shared/promql-tests) through
# axon-promqltest: every eval of every file must pass, with the range-mode
# and @-modifier variants, and the runner must count every eval statement
# in the files (so a silently skipped block fails here).
. "$(dirname "$0")/lib.sh"
dir="$AX_SHARED/promql-tests"
ls "$dir"/*.test >/dev/null 2>&1 || fail "no PromQL test files in $dir"
"$BIN/axon-promqltest" "$dir"/*.test >"$TMP/out.txt" 2>&1
rc=$?
tail -5 "$TMP/out.txt"
want=$(cat "$dir"/*.test | grep -ciE '^[[:space:]]*eval(_fail|_ordered)?[[:space:]]')
last=$(tail -1 "$TMP/out.txt")
[ "$rc" -eq 0 ] || fail "runner failed (rc=$rc): $(grep -v '^[0-9]* passed' "$TMP/out.txt" | head -20)"
skipped=$(sed -n 's/^\([0-9]*\) skipped.*/\1/p' "$TMP/out.txt")
passed=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p')
[ -n "$passed" ] || fail "unexpected summary: $last"
[ $((passed + ${skipped:-0})) -eq "$want" ] || fail "ran $passed (+${skipped:-0} skipped) of $want eval statements"
pass "shared PromQL corpus: $passed of $want evals pass (instant, range mode and @ variants)"

# the runner reports a wrong expectation as file:line with what it got
cat >"$TMP/bad.test" <<'T'
load 5m
	m{a="1"} 1 2 3

eval instant at 10m m
	m{a="1"} 4

eval instant at 10m sum(m)
	{} 3

eval_fail instant at 10m m
T
"$BIN/axon-promqltest" "$TMP/bad.test" >"$TMP/bad.out" 2>&1 && fail "a wrong expectation passed: $(cat "$TMP/bad.out")"
grep -q "bad.test:4: expected 4 for m{a=\"1\"}, got 3" "$TMP/bad.out" || fail "failure report: $(cat "$TMP/bad.out")"
grep -q "bad.test:10: expected an error" "$TMP/bad.out" || fail "eval_fail report: $(cat "$TMP/bad.out")"
grep -qx "1 passed, 2 failed" "$TMP/bad.out" || fail "summary: $(tail -1 "$TMP/bad.out")"
pass "failures are reported as file:line with expected and got"
