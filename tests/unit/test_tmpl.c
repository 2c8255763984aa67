/*
 * Unit tests: ax_tmpl, the Go text/template engine -- a handful of
 * renderings whose answers come from Go's text/template, parse errors
 * with Go's wording, child sets, and host functions with typed
 * parameters.  (The broad comparison against Go runs in the integration
 * test test_alert_router_templates, against amtool.)
 */
#include "ax_test.h"
#include "ax_tmpl.h"

static int f_twice(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	(void)err;
	*out = ax_tv_int(ax_tmpl_arena(x), a[0]->u.i * 2);
	return 0;
}

static const ax_tmpl_func_t funcs[] = {
    {"twice", f_twice, 1, 1, "i"},
    {NULL, NULL, 0, 0, NULL},
};

static void render(ax_tmpl_t *t, ax_tval_t *dot, ax_arena_t *a,
    const char *text, const char *want)
{
	ax_tmpl_t *c = ax_tmpl_child(t);
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t err = {0};

	assert_non_null(c);
	if (ax_tmpl_parse(c, "t", text, &err) != 0 ||
	    ax_tmpl_exec(c, "t", dot, a, NULL, &out, &err) != 0)
		fail_msg("%s: %s", text, err.msg);
	assert_string_equal(out.p ? out.p : "", want);
	ax_buf_fini(&out);
	ax_tmpl_free(c);
}

static void test_render(void **state)
{
	ax_tmpl_t *t = ax_tmpl_new(funcs, NULL);
	ax_arena_t *a = ax_arena_new();
	ax_tval_t *m = ax_tv_map(a, 2, 1), *l = ax_tv_list(a, 3);
	ax_err_t err = {0};

	(void)state;
	assert_int_equal(ax_tv_map_set(a, m, "b", ax_tv_str(a, "2")), 0);
	assert_int_equal(ax_tv_map_set(a, m, "a", ax_tv_str(a, "1")), 0);
	l->u.list.v[0] = ax_tv_int(a, 1);
	l->u.list.v[1] = ax_tv_float(a, 2.5);
	l->u.list.v[2] = m;
	assert_int_equal(ax_tmpl_parse(t, "lib",
	                     "{{ define \"x\" }}<{{ . }}>{{ end }}", &err),
	    0);
	render(t, m, a,
	    "{{ .a }}{{ .b }}{{ .c }}|{{ range $k, $v := . }}{{ $k }}{{ $v "
	    "}}{{ end }}",
	    "12|a1b2");
	render(t, l, a,
	    "{{ . }} {{ len . }} {{ index . 1 }} {{ template \"x\" 3 }}",
	    "[1 2.5 map[a:1 b:2]] 3 2.5 <3>");
	render(t, l, a,
	    "{{ printf \"%05.1f|%-3d|%v\" 3.14159 7 1e6 }} {{ twice 21 }}",
	    "003.1|7  |1e+06 42");
	render(t, l, a, "{{- range . }} {{ . }} {{- end -}}  !",
	    " 1 2.5 map[a:1 b:2]!");
	ax_tmpl_free(t);
	ax_arena_free(a);
}

static void check_parse_error(const char *text, const char *want)
{
	ax_tmpl_t *t = ax_tmpl_new(funcs, NULL);
	ax_err_t err = {0};

	assert_int_not_equal(ax_tmpl_parse(t, "f.tmpl", text, &err), 0);
	assert_str_contains(err.msg, want);
	ax_tmpl_free(t);
}

static void test_parse_errors(void **state)
{
	(void)state;
	check_parse_error("ok\n{{ nosuch 1 }}",
	    "template: f.tmpl:2: function \"nosuch\" not defined");
	check_parse_error("{{ $x }}", "undefined variable \"$x\"");
	check_parse_error("{{ if 1 }}", "unexpected EOF");
	check_parse_error("{{ end }}", "unexpected {{end}}");
	check_parse_error("{{ break }}", "{{break}} outside {{range}}");
	check_parse_error("{{ \"x }}", "unterminated quoted string");
	check_parse_error("{{ | 1 }}", "unexpected \"|\" in command");
	check_parse_error("{{ }}", "missing value for command");
}

static void test_exec_errors(void **state)
{
	ax_tmpl_t *t = ax_tmpl_new(funcs, NULL);
	ax_arena_t *a = ax_arena_new();
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t err = {0};

	(void)state;
	assert_int_equal(ax_tmpl_parse(t, "e", "{{ twice \"x\" }}", &err), 0);
	assert_int_not_equal(
	    ax_tmpl_exec(t, "e", NULL, a, NULL, &out, &err), 0);
	assert_string_equal(err.msg,
	    "template: e:1:9: executing \"e\" at <\"x\">: expected integer; "
	    "found \"x\"");
	ax_buf_fini(&out);
	ax_tmpl_free(t);
	ax_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_exec_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
