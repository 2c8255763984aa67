# Notification templates: the Go text/template engine (libcommon ax_tmpl)
# with Alertmanager's data and functions renders exactly what Debian's
# amtool 0.25 (`template render`, Go's own text/template) renders, for
# every case in alert-router/tmpl-cases.txt -- output, exit status and
# error messages -- over the data in alert-router/tmpl-data.json.
. "$(dirname "$0")/lib.sh"

command -v amtool >/dev/null || fail "amtool not installed (make deps)"
DIR=$TOP/tests/integration/alert-router
python3 "$DIR/tmplcmp.py" amtool "$BIN/axon" "$DIR/tmpl-cases.txt" "$DIR/tmpl-data.json" >"$TMP/cmp.out" 2>&1 ||
	{ cat "$TMP/cmp.out"; fail "template rendering differs from amtool's"; }
pass "$(tail -1 "$TMP/cmp.out") from amtool template render"

# a template file given by glob joins the set and can use the built-ins
cat >"$TMP/my.tmpl" <<'TMPL'
{{ define "my.title" }}{{ template "__subject" . }} -- {{ len .Alerts }} alert(s){{ end }}
TMPL
out=$("$BIN/axon" template render --template.glob="$TMP/*.tmpl" --template.data="$DIR/tmpl-data.json" \
	--template.text='{{ template "my.title" . }}')
[ "$out" = "[FIRING:2] HighLatency x (node critical) -- 3 alert(s)" ] || fail "template from a file: $out"
rc=0
"$BIN/axon" template render --template.glob="$TMP/*.tmpl" --template.text='{{ template "my.title" . }' >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'unexpected "}" in' "$TMP/err" || fail "bad template not refused: $rc $(cat "$TMP/err")"
pass "template files by glob, with the built-in __subject"
