/*
 * Unit tests: Prometheus' template functions (ax_tmplfn), with the values
 * Prometheus 2.42's templates produce for the same input.
 */
#include "ax_test.h"
#include "ax_tmplfn.h"

/* A data source of three samples: up{job="c"} 1, up{job="a"} 2,
 * up{job="b"} 3, whatever the query. */
static int fake_query(
    void *arg, const char *q, ax_arena_t *a, ax_tval_t **out, ax_err_t *err)
{
	static const char *const jobs[] = {"c", "a", "b"};
	size_t i;

	(void)arg;
	if (strcmp(q, "fail") == 0)
		return ax_err_set(err, AX_EINVAL, "query failed");
	*out = ax_tmplfn_result(a, strcmp(q, "none") == 0 ? 0 : 3);
	for (i = 0; *out && i < (*out)->u.list.n; i++) {
		ax_labels_t *ls;

		assert_int_equal(ax_labels_from_strings(&ls, err, "__name__",
		                     "up", "job", jobs[i], (char *)NULL),
		    0);
		(*out)->u.list.v[i] = ax_tmplfn_sample(a, ls, NULL, i + 1.0);
		ax_labels_free(ls);
	}
	return 0;
}

/* Render text with Prometheus' functions; returns the output (static) or
 * "ERR: <message>". */
static const char *render(const char *text)
{
	static char out[1024];
	ax_tmpl_t *t = ax_tmpl_new(ax_tmplfn_prometheus, NULL);
	ax_arena_t *a = ax_arena_new();
	ax_buf_t b = AX_BUF_INIT;
	ax_tmplfn_prom_t ctx = {
	    "http://prom.example:9090/sub/path", fake_query, NULL};
	ax_err_t err;

	assert_non_null(t);
	assert_non_null(a);
	if (ax_tmpl_parse(t, "t", text, &err) != 0 ||
	    ax_tmpl_exec(t, "t", NULL, a, &ctx, &b, &err) != 0)
		snprintf(out, sizeof(out), "ERR: %s", err.msg);
	else
		snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
	ax_buf_fini(&b);
	ax_arena_free(a);
	ax_tmpl_free(t);
	return out;
}

static void test_humanize(void **state)
{
	(void)state;
	assert_string_equal(render("{{ humanize 0 }}"), "0");
	assert_string_equal(render("{{ humanize 1 }}"), "1");
	assert_string_equal(render("{{ humanize 1234567.0 }}"), "1.235M");
	assert_string_equal(render("{{ humanize 12345.678 }}"), "12.35k");
	assert_string_equal(render("{{ humanize 0.001234 }}"), "1.234m");
	assert_string_equal(render("{{ humanize \"2048\" }}"), "2.048k");
	assert_string_equal(render("{{ humanize \"NaN\" }}"), "NaN");
	assert_string_equal(render("{{ humanize \"+Inf\" }}"), "+Inf");
	assert_str_contains(render("{{ humanize \"abc\" }}"),
	    "strconv.ParseFloat: parsing \"abc\": invalid syntax");
	assert_string_equal(render("{{ humanize1024 1024 }}"), "1ki");
	assert_string_equal(render("{{ humanize1024 1048576 }}"), "1Mi");
	assert_string_equal(render("{{ humanize1024 1000 }}"), "1000");
	assert_string_equal(render("{{ humanize1024 0.5 }}"), "0.5");
	assert_string_equal(
	    render("{{ humanizePercentage 0.1234 }}"), "12.34%");
	assert_string_equal(render("{{ humanizePercentage 1 }}"), "100%");
}

static void test_durations_times(void **state)
{
	(void)state;
	assert_string_equal(render("{{ humanizeDuration 0 }}"), "0s");
	assert_string_equal(render("{{ humanizeDuration 1 }}"), "1s");
	assert_string_equal(render("{{ humanizeDuration 1.5 }}"), "1.5s");
	assert_string_equal(render("{{ humanizeDuration 60 }}"), "1m 0s");
	assert_string_equal(render("{{ humanizeDuration 3600 }}"), "1h 0m 0s");
	assert_string_equal(
	    render("{{ humanizeDuration 90061 }}"), "1d 1h 1m 1s");
	assert_string_equal(render("{{ humanizeDuration -1 }}"), "-1s");
	assert_string_equal(render("{{ humanizeDuration 0.1 }}"), "100ms");
	assert_string_equal(render("{{ humanizeDuration 0.0001 }}"), "100us");
	assert_string_equal(render("{{ humanizeTimestamp 1435065584.128 }}"),
	    "2015-06-23 13:19:44.128 +0000 UTC");
	assert_string_equal(
	    render("{{ (toTime 1435065584).Unix }}"), "1435065584");
	assert_string_equal(render("{{ parseDuration \"1h\" }}"), "3600");
	assert_str_contains(
	    render("{{ parseDuration \"1x\" }}"), "not a valid duration");
}

static void test_strings_urls(void **state)
{
	(void)state;
	assert_string_equal(render("{{ title \"aBc dEF\" }}"), "ABc DEF");
	assert_string_equal(render("{{ toUpper \"ab\" }}"), "AB");
	assert_string_equal(
	    render("{{ reReplaceAll \"(a)b\" \"x$1\" \"abab\" }}"), "xaxa");
	assert_string_equal(
	    render("{{ if match \"b+\" \"abbc\" }}yes{{ end }}"), "yes");
	assert_string_equal(render("{{ graphLink \"rate(x[5m])\" }}"),
	    "/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=0");
	assert_string_equal(
	    render("{{ tableLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=1");
	assert_string_equal(
	    render("{{ stripPort \"localhost:9090\" }}"), "localhost");
	assert_string_equal(render("{{ stripPort \"[::1]:9090\" }}"), "::1");
	assert_string_equal(render("{{ stripPort \"foo\" }}"), "foo");
	assert_string_equal(
	    render("{{ stripDomain \"foo.example.com:9090\" }}"), "foo:9090");
	assert_string_equal(
	    render("{{ stripDomain \"foo.example.com\" }}"), "foo");
	assert_string_equal(render("{{ stripDomain \"192.168.1.1:9090\" }}"),
	    "192.168.1.1:9090");
	assert_string_equal(
	    render("{{ externalURL }}"), "http://prom.example:9090/sub/path");
	assert_string_equal(render("{{ pathPrefix }}"), "/sub/path");
	assert_string_equal(render("{{ (args 1 \"a\").arg1 }}"), "a");
}

static void test_query(void **state)
{
	(void)state;
	assert_string_equal(render("{{ query \"up\" | first | value }}"), "1");
	assert_string_equal(
	    render("{{ with query \"up\" }}{{ . | first | label \"job\" }}"
	           "{{ end }}"),
	    "c");
	assert_string_equal(
	    render("{{ range query \"up\" | sortByLabel \"job\" }}"
	           "{{ .Labels.job }}={{ .Value }} {{ end }}"),
	    "a=2 b=3 c=1 ");
	assert_str_contains(render("{{ query \"none\" | first }}"),
	    "first() called on vector with no elements");
	assert_str_contains(render("{{ query \"fail\" }}"), "query failed");
	assert_str_contains(
	    render("{{ value \"x\" }}"), "expected *template.sample");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_humanize),
	    cmocka_unit_test(test_durations_times),
	    cmocka_unit_test(test_strings_urls),
	    cmocka_unit_test(test_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
