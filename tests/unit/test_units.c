/*
 * Unit tests: ax_units (Prometheus durations and sizes) and number
 * formatting in ax_buf.
 */
#include "ax_test.h"
#include "ax_buf.h"
#include "ax_units.h"

#include <math.h>

static void test_durations_valid(void **st)
{
	static const struct {
		const char *in;
		int64_t ms;
	} ok[] = {
	    {"0", 0},
	    {"0s", 0},
	    {"5s", 5000},
	    {"1m", 60000},
	    {"1h30m", 5400000},
	    {"1d", 86400000},
	    {"1w", 604800000},
	    {"1y", 31536000000LL},
	    {"100ms", 100},
	    {"1m30s500ms", 90500},
	    {"2h0m", 7200000},
	    {"1y2w3d4h5m6s7ms",
	        31536000000LL + 2 * 604800000LL + 3 * 86400000LL +
	            4 * 3600000LL + 5 * 60000 + 6000 + 7},
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;

		if (ax_duration_parse(ok[i].in, &ms, NULL) != 0)
			fail_msg("\"%s\" should parse", ok[i].in);
		if (ms != ok[i].ms)
			fail_msg("\"%s\": got %lld want %lld", ok[i].in,
			    (long long)ms, (long long)ok[i].ms);
	}
}

static void test_durations_invalid(void **st)
{
	static const char *bad[] = {"", "5", "1.5h", "-1s", "1m1h", "1h1h",
	    "5x", "h", "1 h", "1ms1s", "s5", "99999999999999999999y", "1e3s",
	    "1H"};
	size_t i;
	ax_err_t e;

	(void)st;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;

		if (ax_duration_parse(bad[i], &ms, &e) == 0)
			fail_msg("\"%s\" should be rejected", bad[i]);
		assert_int_equal(ms, 42); /* untouched on error */
	}
	ax_duration_parse("5x", NULL, &e);
	assert_str_contains(e.msg, "not a valid duration string: \"5x\"");
}

static void test_duration_format(void **st)
{
	static const struct {
		int64_t ms;
		const char *out;
	} cases[] = {
	    {0, "0s"},
	    {5000, "5s"},
	    {5400000, "1h30m"},
	    {86400000, "1d"},
	    {604800000, "1w"},
	    {90 * 86400000LL, "90d"},
	    {100, "100ms"},
	    {31536000000LL, "1y"},
	    {-60000, "-1m"},
	    {8 * 86400000LL, "8d"},
	};
	size_t i;
	char buf[64];

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_duration_format(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
	}
}

static void test_sizes(void **st)
{
	int64_t b;
	ax_err_t e;

	(void)st;
	assert_int_equal(ax_size_parse("0", &b, NULL), 0);
	assert_int_equal(b, 0);
	assert_int_equal(ax_size_parse("512MB", &b, NULL), 0);
	assert_int_equal(b, 512LL << 20);
	assert_int_equal(ax_size_parse("1GiB", &b, NULL), 0);
	assert_int_equal(b, 1LL << 30);
	assert_int_equal(ax_size_parse("1GB512MB", &b, NULL), 0);
	assert_int_equal(b, (1LL << 30) + (512LL << 20));
	assert_int_equal(ax_size_parse("1.5KB", &b, NULL), 0);
	assert_int_equal(b, 1536);
	assert_int_equal(ax_size_parse("100B", &b, NULL), 0);
	assert_int_equal(b, 100);
	assert_int_not_equal(ax_size_parse("12", &b, &e), 0);
	assert_int_not_equal(ax_size_parse("1XB", &b, &e), 0);
	assert_int_not_equal(ax_size_parse("", &b, &e), 0);
	assert_int_not_equal(ax_size_parse("MB", &b, &e), 0);
}

static void test_fmt_double(void **st)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0, "0"},
	    {1, "1"},
	    {-2.5, "-2.5"},
	    {0.1, "0.1"},
	    {1e21, "1e+21"},
	    {1e20, "1e+20"},
	    {123456, "123456"},
	    {1e6, "1e+06"},
	    {17518624, "1.7518624e+07"},
	    {123456789, "1.23456789e+08"},
	    {1.5e-5, "1.5e-05"},
	    {0.0001, "0.0001"},
	    {3.14159, "3.14159"},
	    {1795530932.854, "1.795530932854e+09"},
	    {0.005, "0.005"},
	};
	char buf[400];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_fmt_double(buf, sizeof(buf), cases[i].v);
		assert_string_equal(buf, cases[i].s);
	}
	ax_fmt_double_f(buf, sizeof(buf), 1795530932.854);
	assert_string_equal(buf, "1795530932.854");
	ax_fmt_double_f(buf, sizeof(buf), 1e21);
	assert_string_equal(buf, "1000000000000000000000");
	ax_fmt_double_f(buf, sizeof(buf), 1.5e-5);
	assert_string_equal(buf, "0.000015");
	ax_fmt_double_f(buf, sizeof(buf), -1.7976931348623157e308);
	assert_int_equal(strlen(buf), 310);
	ax_fmt_double(buf, sizeof(buf), NAN);
	assert_string_equal(buf, "NaN");
	ax_fmt_double(buf, sizeof(buf), INFINITY);
	assert_string_equal(buf, "+Inf");
	ax_fmt_double(buf, sizeof(buf), -INFINITY);
	assert_string_equal(buf, "-Inf");
}

static void test_buf(void **st)
{
	ax_buf_t b = AX_BUF_INIT;
	char *s;
	size_t n;
	int i;

	(void)st;
	for (i = 0; i < 1000; i++)
		ax_buf_printf(&b, "%d,", i);
	assert_true(ax_buf_ok(&b));
	assert_int_equal(strncmp(b.p, "0,1,2,", 6), 0);
	ax_buf_reset(&b);
	ax_buf_put_escaped(&b, "a\"b\\c\nd", 7, 1);
	assert_string_equal(b.p, "a\\\"b\\\\c\\nd");
	s = ax_buf_take(&b, &n);
	assert_int_equal(n, strlen(s));
	free(s);
	assert_null(b.p);
}

static void test_time_parse(void **st)
{
	int64_t ms;
	ax_err_t e;

	(void)st;
	assert_int_equal(ax_time_parse("1700000000", &ms, NULL), 0);
	assert_true(ms == 1700000000000LL);
	assert_int_equal(ax_time_parse("1700000000.123", &ms, NULL), 0);
	assert_true(ms == 1700000000123LL);
	assert_int_equal(ax_time_parse("-1.5", &ms, NULL), 0);
	assert_true(ms == -1500);
	assert_int_equal(ax_time_parse("2023-11-14T22:13:20Z", &ms, NULL), 0);
	assert_true(ms == 1700000000000LL);
	assert_int_equal(
	    ax_time_parse("2023-11-14T23:13:20.25+01:00", &ms, NULL), 0);
	assert_true(ms == 1700000000250LL);
	assert_int_equal(ax_time_parse("1970-01-01T00:00:00Z", &ms, NULL), 0);
	assert_true(ms == 0);
	assert_int_not_equal(ax_time_parse("yesterday", &ms, &e), 0);
	assert_str_contains(
	    e.msg, "cannot parse \"yesterday\" to a valid timestamp");
	assert_int_not_equal(ax_time_parse("NaN", &ms, &e), 0);
	assert_int_not_equal(ax_time_parse("2023-13-01T00:00:00Z", &ms, &e), 0);
	assert_int_equal(ax_api_duration_parse("15", &ms, NULL), 0);
	assert_true(ms == 15000);
	assert_int_equal(ax_api_duration_parse("1m", &ms, NULL), 0);
	assert_true(ms == 60000);
	assert_int_not_equal(ax_api_duration_parse("1q", &ms, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations_valid),
	    cmocka_unit_test(test_durations_invalid),
	    cmocka_unit_test(test_duration_format),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_fmt_double),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_time_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
