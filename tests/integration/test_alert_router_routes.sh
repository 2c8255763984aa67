# Routing parity with Alertmanager 0.25's amtool:
#   - `axon check config` accepts and rejects the same alertmanager.yml
#     files as `amtool check-config` (tests/integration/alert-router/check);
#   - `axon routes show` prints the same tree as `amtool config routes show`;
#   - for a table of label sets over several configs, `axon routes test`
#     (plain and --tree) prints exactly what `amtool config routes test`
#     prints, and bad label arguments fail in both;
#   - axon-alert-router starts with the shipped example and refuses a bad
#     config with file:line:col.
. "$(dirname "$0")/lib.sh"

command -v amtool >/dev/null || fail "amtool not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
AXON=$BIN/axon

# The example config ends with Axon's own section (topology inhibition),
# which amtool does not know: amtool gets the file without it.
"$AXON" check config "$TOP/deploy/config/alert-router.yml" >/dev/null || fail "the example config is rejected"
sed '/^axon_alert_router:/,$d' "$TOP/deploy/config/alert-router.yml" >"$TMP/example.yml"
grep -q '^route:' "$TMP/example.yml" && ! grep -q '^axon_alert_router:' "$TMP/example.yml" || fail "example.yml"

# 1. check-config verdicts
n=0
for f in "$DIR"/check/*.yml "$DIR"/routes-*.yml "$TMP/example.yml"; do
	a=0; amtool check-config "$f" >/dev/null 2>&1 || a=$?
	b=0; "$AXON" check config "$f" >"$TMP/check.out" 2>&1 || b=$?
	[ "$a" = "$b" ] || fail "check config $(basename "$f"): amtool exit $a, axon exit $b: $(cat "$TMP/check.out")"
	case $(basename "$f") in
	bad-*) [ "$b" = 1 ] || fail "$(basename "$f") accepted"
		grep -q "FAILED: .*$(basename "$f"):[0-9]*:[0-9]*: \|FAILED: .*: no routes provided" "$TMP/check.out" ||
			fail "$(basename "$f"): message lacks file:line:col: $(cat "$TMP/check.out")" ;;
	*) [ "$b" = 0 ] || fail "$(basename "$f") rejected: $(cat "$TMP/check.out")" ;;
	esac
	n=$((n + 1))
done
pass "check config: $n files, same verdict as amtool check-config"

# 2. routes show
for f in "$DIR"/routes-*.yml "$TMP/example.yml"; do
	amtool config routes show --config.file="$f" >"$TMP/am.show" 2>/dev/null
	"$AXON" routes show --config.file="$f" >"$TMP/ax.show"
	diff -u "$TMP/am.show" "$TMP/ax.show" || fail "routes show differs for $(basename "$f")"
done
pass "routes show: same trees as amtool"

# 3. routes test over label sets
total=0
compare() { # config label-args...
	local f=$1 a b ra=0 rb=0
	shift
	a=$(amtool config routes test --config.file="$f" "$@" 2>/dev/null) || ra=$?
	b=$("$AXON" routes test --config.file="$f" "$@" 2>/dev/null) || rb=$?
	[ "$a" = "$b" ] && [ "$ra" = "$rb" ] ||
		fail "routes test $(basename "$f") $*: amtool [$a] ($ra), axon [$b] ($rb)"
	total=$((total + 1))
}
compare_tree() {
	local f=$1
	shift
	amtool config routes test --tree --config.file="$f" "$@" >"$TMP/am.tree" 2>/dev/null || true
	"$AXON" routes test --tree --config.file="$f" "$@" >"$TMP/ax.tree" 2>/dev/null || true
	diff -u "$TMP/am.tree" "$TMP/ax.tree" || fail "routes test --tree $(basename "$f") $* differs"
}

f=$DIR/routes-docs.yml
for svc in mysql cassandra mysqlx foo1 foo2 baz files database other none; do
	for sev in critical warning none; do
		for who in team=frontend owner=team-X owner=team-Y none; do
			args=()
			[ "$svc" = none ] || args+=("service=$svc")
			[ "$sev" = none ] || args+=("severity=$sev")
			[ "$who" = none ] || args+=("$who")
			compare "$f" ${args[@]+"${args[@]}"}
		done
	done
done
compare_tree "$f" service=database owner=team-X severity=critical
compare_tree "$f" service=foo1 severity=critical

f=$DIR/routes-continue.yml
for team in alpha alfa beta ceta gamma none; do
	for env in prod staging dev none; do
		for sev in critical page warning info none; do
			args=()
			[ "$team" = none ] || args+=("team=$team")
			[ "$env" = none ] || args+=("env=$env")
			[ "$sev" = none ] || args+=("severity=$sev")
			compare "$f" ${args[@]+"${args[@]}"}
		done
	done
done
compare_tree "$f" team=alpha env=dev severity=critical
compare_tree "$f" team=alfa severity=page
compare_tree "$f" team=beta env=prod severity=critical

f=$DIR/routes-syntax.yml
compare "$f" service=a,b zone=eu-west
compare "$f" 'service="a,b"' zone=eu-
compare "$f" service=a zone=eu-west
compare "$f" service=api 'path=/v1/"x"'
compare "$f" 'service="api"' 'path="/v1/\"x\""'
compare "$f" service=api zone=us-east
compare "$f" service=api zone=eu-west
compare "$f" 'service=api,zone!~"us-.*"'
compare "$f" service=db zone=us-east instance=db-12
compare "$f" service=db zone=us-east instance=db-x
compare "$f" service=db zone=us-west instance=db-12
compare "$f" instance=db-12
compare "$f" instance=db-12 service=db
compare "$f" 'msg="multi\nline"'
compare "$f" 'msg=multi\nline'
compare "$f" uni=größe
compare "$f" uni=grosse
compare "$f" ' service = api ' 'zone = "eu"'
compare "$f" service=db service=api zone=ap-south
compare "$f"
compare "$f" 'service=~api'
compare "$f" 'service="unterminated'
compare "$f" '1bad=label'
compare "$f" service
compare_tree "$f" service=db zone=us-east instance=db-12
pass "routes test: $total label sets, same receivers and exit codes as amtool"

out=$("$AXON" routes test --config.file="$DIR/routes-docs.yml" --verify.receivers=team-X-pager service=foo1 severity=critical) ||
	fail "--verify.receivers with the right answer failed"
rc=0
"$AXON" routes test --config.file="$DIR/routes-docs.yml" --verify.receivers=nobody service=foo1 >"$TMP/v.out" || rc=$?
[ "$rc" = 1 ] && grep -q 'WARNING: Expected receivers did not match' "$TMP/v.out" || fail "--verify.receivers mismatch not reported ($rc)"
pass "routes test --verify.receivers"

# 4. the daemon loads the example and refuses a bad file with file:line:col
port=$(freeport)
start ar "$BIN/axon-alert-router" --config.file="$TOP/deploy/config/alert-router.yml" \
	--web.listen-address="127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready"
rc=0
timeout 10 "$BIN/axon-alert-router" --config.file="$DIR/check/bad-undefined-child-receiver.yml" \
	--web.listen-address=127.0.0.1:0 >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "alert-router started with a bad config ($rc)"
grep -q 'bad-undefined-child-receiver.yml:4:5: route.routes\[0\]: undefined receiver \\"nope\\" used in route' "$TMP/bad.log" ||
	fail "bad config message: $(cat "$TMP/bad.log")"
pass "axon-alert-router loads the example, refuses a bad file with file:line:col"
