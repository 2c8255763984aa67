# Rule-file validation parity with Debian's promtool 2.42: `axon check
# rules` and `promtool check rules` must give the same verdict (exit code)
# on every file of tests/integration/ruler/check (rules in the style of the
# node_exporter and kubernetes mixins, templates using Prometheus' whole
# function set, and files broken in every way rulefmt knows: structure,
# types, unknown fields, durations, YAML syntax, group names, record/alert,
# expressions, names, labels, annotations, templates), the same rule count
# for valid files, every error of ours naming file:line, and the same
# verdict for all files at once.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool not installed (make deps)"
DIR=$TOP/tests/integration/ruler/check
n=0; bad=0
for f in "$DIR"/*.yml; do
	rc=0; promtool check rules "$f" >"$TMP/p.out" 2>&1 || rc=$?
	arc=0; "$BIN/axon" check rules "$f" >"$TMP/a.out" 2>&1 || arc=$?
	n=$((n + 1))
	if [ "$rc" != "$arc" ]; then
		echo "--- $f: promtool $rc, axon $arc"
		cat "$TMP/p.out" "$TMP/a.out"
		bad=$((bad + 1))
		continue
	fi
	case "$(basename "$f")" in
	good-*) [ "$rc" = 0 ] || fail "$f is meant to be valid, promtool says: $(cat "$TMP/p.out")" ;;
	bad-*) [ "$rc" = 1 ] || fail "$f is meant to be invalid, promtool says: $(cat "$TMP/p.out")" ;;
	esac
	if [ "$rc" = 0 ]; then
		# (duplicate recording rules: a lint error, no count)
		p=$(grep -o 'SUCCESS: [0-9]* rules found\|lint error.*' "$TMP/p.out" || true)
		a=$(grep -o 'SUCCESS: [0-9]* rules found\|lint error.*' "$TMP/a.out" || true)
		[ "$p" = "$a" ] || { echo "--- $f: promtool '$p', axon '$a'"; bad=$((bad + 1)); }
	else
		# every error line of ours names the file and a line
		errs=$(sed -n '/FAILED:/,$p' "$TMP/a.out" | grep -v 'FAILED:' | grep -v '^$' || true)
		[ -n "$errs" ] || fail "$f: no error printed"
		if echo "$errs" | grep -qv "^$f:[0-9][0-9]*:"; then
			echo "$errs"
			fail "$f: an error without file:line"
		fi
	fi
done
[ "$bad" = 0 ] || fail "$bad of $n files judged differently from promtool"
[ "$n" -ge 40 ] || fail "only $n files checked"
pass "$n rule files: same verdicts and rule counts as promtool check rules; errors name file:line"

# several files at once: one bad file makes the whole run fail
rc=0; promtool check rules "$DIR"/good-node-mixin.yml "$DIR"/bad-both.yml >/dev/null 2>&1 || rc=$?
arc=0; "$BIN/axon" check rules "$DIR"/good-node-mixin.yml "$DIR"/bad-both.yml >/dev/null 2>&1 || arc=$?
[ "$rc" = 1 ] && [ "$arc" = 1 ] || fail "several files: promtool $rc, axon $arc"
arc=0; "$BIN/axon" check rules "$DIR"/good-node-mixin.yml "$DIR"/good-k8s-mixin.yml >/dev/null || arc=$?
[ "$arc" = 0 ] || fail "two valid files: exit $arc"
# a file that does not exist is invalid, as for promtool
rc=0; promtool check rules "$TMP/nope.yml" >/dev/null 2>&1 || rc=$?
arc=0; "$BIN/axon" check rules "$TMP/nope.yml" >/dev/null 2>&1 || arc=$?
[ "$rc" = "$arc" ] || fail "missing file: promtool $rc, axon $arc"
rc=0; promtool check rules --lint-fatal "$DIR"/good-dup-record.yml >/dev/null 2>&1 || rc=$?
arc=0; "$BIN/axon" check rules --lint-fatal "$DIR"/good-dup-record.yml >/dev/null 2>&1 || arc=$?
[ "$rc" = "$arc" ] || fail "--lint-fatal: promtool $rc, axon $arc"
pass "several files, a missing file and --lint-fatal: promtool's exit codes"
