# --web.config.file protects a daemon's HTTP endpoints with basic auth
# (bcrypt hashes, as Prometheus' web config) and bearer tokens; /-/healthy
# stays open for probes.
. "$(dirname "$0")/lib.sh"

hash=$("$PEER" bcrypt 'pa55word')
cat >"$TMP/web.yml" <<EOW
basic_auth_users:
  admin: '$hash'
bearer_tokens:
  - sekret-token
EOW
port=$(freeport)
start disc "$BIN/axon-discoverer" --config.file="$TOP/deploy/config/discoverer.yml" \
	--web.listen-address="127.0.0.1:$port" --web.config.file="$TMP/web.yml"
base="http://127.0.0.1:$port"
wait_http "$base/-/healthy"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")" = 401 ] || fail "no auth must be 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "$base/metrics")" = 401 ] || fail "bad password must be 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u admin:pa55word "$base/metrics")" = 200 ] || fail "good password must be 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sekret-token' "$base/metrics")" = 200 ] || fail "token must be 200"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$base/metrics")" = 401 ] || fail "bad token must be 401"
pass "basic auth and bearer tokens"

printf 'basic_auth_users:\n  admin: plaintext\n' >"$TMP/bad.yml"
rc=0
(cd "$TMP" && timeout 10 "$BIN/axon-discoverer" --config.file="$TOP/deploy/config/discoverer.yml" \
	--web.listen-address=127.0.0.1:0 --web.config.file="$TMP/bad.yml") >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "plaintext password accepted"
grep -q 'bad.yml:2:10: basic_auth_users: password of user \\"admin\\" must be a bcrypt hash' "$TMP/bad.log" || { cat "$TMP/bad.log"; fail "web config error message"; }
pass "web config errors"
