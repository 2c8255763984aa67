/*
 * Unit tests: ax_amatch -- Alertmanager matcher parsing (quoting, escapes,
 * splitting on commas outside quotes, errors), printing, sorting, and
 * matching with anchored regexes and absent labels.
 */
#include "ax_test.h"
#include "ax_amatch.h"

static char *fmt_all(const ax_amatchers_t *ms)
{
	static char out[1024];
	ax_buf_t b = AX_BUF_INIT;

	ax_amatchers_format(ms, &b);
	assert_true(ax_buf_ok(&b));
	snprintf(out, sizeof(out), "%s", b.p);
	ax_buf_fini(&b);
	return out;
}

static void check_parse(const char *in, const char *want)
{
	ax_amatchers_t ms = {0};
	ax_err_t err = {0};

	if (ax_amatchers_parse(&ms, in, &err) != 0)
		fail_msg("parse %s: %s", in, err.msg);
	assert_string_equal(fmt_all(&ms), want);
	ax_amatchers_free(&ms);
}

static void check_error(const char *in, const char *want)
{
	ax_amatchers_t ms = {0};
	ax_err_t err = {0};

	assert_int_not_equal(ax_amatchers_parse(&ms, in, &err), 0);
	assert_str_contains(err.msg, want);
	ax_amatchers_free(&ms);
}

static void test_parse(void **state)
{
	(void)state;
	check_parse("a=b", "{a=\"b\"}");
	check_parse("{a=\"b\"}", "{a=\"b\"}");
	check_parse(" a = b ", "{a=\"b\"}");
	check_parse(
	    "a=~\"x|y\", b!=\"\", c!~z", "{a=~\"x|y\",b!=\"\",c!~\"z\"}");
	check_parse("a=\"1,2\",b=3", "{a=\"1,2\",b=\"3\"}");
	check_parse("a=\"q\\\"q\"", "{a=\"q\\\"q\"}");
	check_parse("a=\"x\\ny\"", "{a=\"x\\ny\"}");
	check_parse("a=\"back\\\\slash\"", "{a=\"back\\\\slash\"}");
	/* A spurious escape keeps its backslash; a final one is literal. */
	check_parse("a=\"\\d+\"", "{a=\"\\\\d+\"}");
	check_parse("a=x\\", "{a=\"x\\\\\"}");
	check_parse("a==b", "{a=\"=b\"}");
	check_parse("a=", "{a=\"\"}");
	check_parse("a=b,", "{a=\"b\"}");
	check_parse("", "{}");
	check_parse("__name__=~\"up|down\"", "{__name__=~\"up|down\"}");
	check_parse("ns:x=1", "{ns:x=\"1\"}");
	check_error("a~b", "bad matcher format: a~b");
	check_error("1a=b", "bad matcher format");
	check_error(",a=b", "bad matcher format: ");
	check_error("a=\"b", "unescaped double quote");
	check_error("a=b\"c", "unescaped double quote");
	check_error("a=\"b\"c\"", "unescaped double quote");
	check_error("a=~\"(\"", "");
	check_error("a=\"\xff\"", "not valid UTF-8");
}

static void test_match(void **state)
{
	ax_amatchers_t ms = {0};
	ax_labels_t *ls;
	ax_err_t err = {0};

	(void)state;
	assert_int_equal(
	    ax_amatchers_parse(
	        &ms, "svc=~\"foo|bar\",env!=\"dev\",zone!~\"us-.*\"", &err),
	    0);
	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, "svc", "foo", NULL), 0);
	assert_true(ax_amatchers_match(&ms, ls)); /* absent env, zone: "" */
	ax_labels_free(ls);
	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, "svc", "foox", NULL), 0);
	assert_false(ax_amatchers_match(&ms, ls)); /* anchored */
	ax_labels_free(ls);
	assert_int_equal(ax_labels_from_strings(
	                     &ls, &err, "svc", "bar", "zone", "us-east", NULL),
	    0);
	assert_false(ax_amatchers_match(&ms, ls));
	ax_labels_free(ls);
	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, "svc", "bar", "env", "dev", NULL),
	    0);
	assert_false(ax_amatchers_match(&ms, ls));
	ax_labels_free(ls);
	ax_amatchers_free(&ms);

	/* x="" matches an absent label; x!="" needs it present. */
	assert_int_equal(ax_amatchers_parse(&ms, "x=\"\"", &err), 0);
	assert_true(ax_amatchers_match(&ms, NULL));
	ax_amatchers_free(&ms);
	assert_int_equal(ax_amatchers_parse(&ms, "x!=\"\"", &err), 0);
	assert_false(ax_amatchers_match(&ms, NULL));
	ax_amatchers_free(&ms);
}

static void test_sort(void **state)
{
	ax_amatchers_t ms = {0};
	ax_err_t err = {0};

	(void)state;
	assert_int_equal(
	    ax_amatchers_parse(&ms, "b=1,a=~2,a=2,a=1,a!=1", &err), 0);
	ax_amatchers_sort(&ms);
	assert_string_equal(
	    fmt_all(&ms), "{a=\"1\",a!=\"1\",a=\"2\",a=~\"2\",b=\"1\"}");
	ax_amatchers_free(&ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
