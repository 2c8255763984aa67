/*
 * Unit tests: ax_expo, the text 0.0.4 and OpenMetrics parsers -- what an
 * entry holds (names, labels, escapes, values, timestamps, exemplars,
 * metadata), leniency of the text path, strictness of the OpenMetrics
 * path, error positions, and reuse of a parser across bodies.
 */
#include "ax_test.h"
#include "ax_expo.h"

#include <math.h>

static void lab(const ax_expo_t *x, size_t i, const char *name,
    const char *value)
{
	ax_buf_t b = AX_BUF_INIT;

	assert_true(i < x->n_labels);
	assert_int_equal(x->labels[i].name.n, strlen(name));
	assert_memory_equal(x->labels[i].name.p, name, strlen(name));
	ax_expo_unescape(&x->labels[i].value, &b);
	ax_buf_putc(&b, '\0');
	assert_string_equal(b.p, value);
	ax_buf_fini(&b);
}

static void name_is(const ax_expo_t *x, const char *name)
{
	assert_int_equal(x->name.n, strlen(name));
	assert_memory_equal(x->name.p, name, strlen(name));
}

static void test_text(void **st)
{
	const char *body =
	    "# HELP http_requests_total The total \\\\ of requests.\\n2\n"
	    "# TYPE http_requests_total counter\n"
	    "# a free comment\n"
	    "\n"
	    "http_requests_total{method=\"post\",code=\"200\"} 1027 "
	    "1395066363000\n"
	    "  msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
	    "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
	    "metric_without_labels 12.47\n"
	    "spaced { a = \"1\" , } -Inf\t-5\n"
	    "hex 0x1p-2\n"
	    "nan NaN\n";
	ax_expo_t x;
	ax_buf_t b = AX_BUF_INIT;

	(void)st;
	ax_expo_init(&x, body, strlen(body), 0);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_HELP);
	name_is(&x, "http_requests_total");
	ax_expo_unescape(&x.text, &b);
	ax_buf_putc(&b, '\0');
	assert_string_equal(b.p, "The total \\ of requests.\n2");
	assert_int_equal(ax_expo_next(&x), AX_EXPO_TYPE);
	assert_int_equal(x.type, AX_MT_COUNTER);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	name_is(&x, "http_requests_total");
	assert_int_equal(x.n_labels, 2);
	lab(&x, 0, "method", "post");
	lab(&x, 1, "code", "200");
	assert_true(x.value == 1027);
	assert_true(x.has_ts);
	assert_true(x.ts_ms == 1395066363000LL);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	lab(&x, 0, "path", "C:\\DIR\\FILE.TXT");
	lab(&x, 1, "error", "Cannot find file:\n\"FILE.TXT\"");
	assert_true(x.value == 1.458255915e9);
	assert_false(x.has_ts);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_int_equal(x.n_labels, 0);
	assert_true(x.value == 12.47);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	name_is(&x, "spaced");
	lab(&x, 0, "a", "1");
	assert_true(isinf(x.value) && x.value < 0);
	assert_true(x.ts_ms == -5);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_true(x.value == 0.25);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_true(isnan(x.value));
	assert_int_equal(ax_expo_next(&x), AX_EXPO_END);
	ax_expo_fini(&x);
	ax_buf_fini(&b);
}

static void expect_err(const char *body, int om, const char *want)
{
	ax_expo_t x;
	int e;

	ax_expo_init(&x, body, strlen(body), om);
	while ((e = ax_expo_next(&x)) > 0)
		;
	if (e != AX_EXPO_ERROR)
		fail_msg("%s: accepted", body);
	if (strstr(x.err, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", body, x.err, want);
	ax_expo_fini(&x);
}

static void test_text_errors(void **st)
{
	(void)st;
	expect_err("a 1\nb{x=\"1\",x=\"2\"} 1\n", 0,
	    "2:9: duplicate label name \"x\"");
	expect_err("a abc\n", 0, "1:3: invalid value \"abc\"");
	expect_err("a 1 1.5\n", 0, "1:5: invalid timestamp \"1.5\"");
	expect_err("a 1 2 3\n", 0, "1:7: unexpected text after the timestamp");
	expect_err("a{x=\"\\q\"} 1\n", 0, "invalid escape sequence");
	expect_err("# TYPE a meh\n", 0, "1:10: invalid metric type \"meh\"");
	expect_err("a{x=\"1} 1\n", 0, "unterminated label value");
	expect_err("0a 1\n", 0, "1:1: invalid metric name");
}

static void test_openmetrics(void **st)
{
	const char *body =
	    "# TYPE rpc_duration_seconds summary\n"
	    "# UNIT rpc_duration_seconds seconds\n"
	    "# HELP rpc_duration_seconds RPC latency.\n"
	    "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
	    "rpc_duration_seconds_sum 1.7560473e+07\n"
	    "rpc_duration_seconds_count 2693\n"
	    "# TYPE req counter\n"
	    "req_total{a=\"x\"} 7 1520879607.789 # {trace_id=\"abc\"} 0.67 "
	    "1520879607.5\n"
	    "req_created{a=\"x\"} 1520430000.123 1520879607.789\n"
	    "# TYPE foo histogram\n"
	    "foo_bucket{le=\"0.1\"} 8.0 # {} 0.054\n"
	    "foo_bucket{le=\"+Inf\"} 17.0\n"
	    "foo_count 17\n"
	    "foo_sum 324789.3\n"
	    "# TYPE sset stateset\n"
	    "sset{sset=\"a\"} 1\n"
	    "sset{sset=\"b\"} 0\n"
	    "# EOF\n";
	ax_expo_t x;
	int i;

	(void)st;
	ax_expo_init(&x, body, strlen(body), 1);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_TYPE);
	assert_int_equal(x.type, AX_MT_SUMMARY);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_UNIT);
	assert_int_equal(x.text.n, 7);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_HELP);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_int_equal(x.type, AX_MT_SUMMARY);
	lab(&x, 0, "quantile", "0.5");
	for (i = 0; i < 2; i++)
		assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_true(x.value == 2693);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_TYPE);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	name_is(&x, "req_total");
	assert_true(x.has_ts);
	assert_true(x.ts_ms == 1520879607789LL);
	assert_true(x.has_ex);
	assert_int_equal(x.n_ex_labels, 1);
	assert_true(x.ex_value == 0.67);
	assert_true(x.ex_has_ts && x.ex_ts_ms == 1520879607500LL);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_false(x.has_ex);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_TYPE);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_true(x.has_ex);
	assert_int_equal(x.n_ex_labels, 0);
	assert_false(x.ex_has_ts);
	for (i = 0; i < 3; i++)
		assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_TYPE);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_int_equal(x.type, AX_MT_STATESET);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_SAMPLE);
	assert_int_equal(ax_expo_next(&x), AX_EXPO_END);
	/* the same parser on the next body keeps working (tables reused) */
	ax_expo_reset(&x, body, strlen(body), 1);
	while ((i = ax_expo_next(&x)) > 0)
		;
	assert_int_equal(i, AX_EXPO_END);
	ax_expo_fini(&x);
}

static void test_openmetrics_errors(void **st)
{
	(void)st;
	expect_err("a 1\n", 1, "2:1: missing # EOF at the end");
	expect_err("a 1\n\n# EOF\n", 1, "2:1: blank line");
	expect_err("# EOF\na 1\n", 1, "2:1: text after # EOF");
	expect_err("a  1\n# EOF\n", 1, "1:3: invalid value \"\"");
	expect_err("a{a=\"1\"}1\n# EOF\n", 1, "expected a space before");
	expect_err("# TYPE a counter\na_total 1\n# TYPE b gauge\na_total 2\n"
	           "# EOF\n",
	    1, "5:1: clashing name: a_total");
	expect_err("# TYPE a histogram\na_bucket{le=\"1\"} 1\n"
	           "a_bucket{le=\"+Inf\"} 1\n# EOF\n",
	    1, "2:1: invalid le label");
	expect_err("# TYPE a histogram\na_bucket{le=\"1.0\"} 2\n"
	           "a_bucket{le=\"+Inf\"} 1\n# EOF\n",
	    1, "3:1: bucket values out of order");
	expect_err("# TYPE a gauge\na 1 # {x=\"y\"} 1\n# EOF\n", 1,
	    "only histogram and gaugehistogram buckets and counters can have "
	    "exemplars");
	expect_err("a 1 1.5\na 1 1\n# EOF\n", 1,
	    "2:1: timestamps went backwards within a group");
	expect_err("a \xff\n# EOF\n", 1, "not valid UTF-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_errors),
	    cmocka_unit_test(test_openmetrics),
	    cmocka_unit_test(test_openmetrics_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
