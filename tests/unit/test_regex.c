/*
 * Unit tests: ax_regex, Prometheus (RE2) regex semantics on PCRE2.
 */
#include "ax_test.h"
#include "ax_regex.h"

static int m(const char *re, const char *s)
{
	ax_regex_t *r;
	ax_err_t e;
	int rv;

	if (ax_regex_compile(re, &r, &e) != 0)
		fail_msg("compile %s: %s", re, e.msg);
	rv = ax_regex_match(r, s, strlen(s));
	ax_regex_free(r);
	return rv;
}

static void test_fully_anchored(void **st)
{
	(void)st;
	assert_int_equal(m("foo", "foo"), 1);
	assert_int_equal(m("foo", "foobar"), 0);
	assert_int_equal(m("foo", "xfoo"), 0);
	assert_int_equal(m("a|b", "a"), 1);
	assert_int_equal(m("a|b", "ab"), 0); /* ^(?:a|b)$, not ^a|b$ */
	assert_int_equal(m(".*", ""), 1);
	assert_int_equal(m("", ""), 1);
	assert_int_equal(m("", "x"), 0);
	assert_int_equal(m("pro.*", "production"), 1);
	assert_int_equal(m(".*ry", "canary"), 1);
	assert_int_equal(m("(?i:PRO).*", "production"), 1);
	assert_int_equal(m(".*?(?i:PRO).*", "production"), 1);
}

static void test_newlines(void **st)
{
	(void)st;
	/* In Prometheus 2.42 '.' does not match a newline */
	assert_int_equal(m("a.b", "a\nb"), 0);
	assert_int_equal(m(".*", "a\nb"), 0);
	assert_int_equal(m("(?s:.*)", "a\nb"), 1);
	/* $ must not match before a trailing newline (RE2 semantics) */
	assert_int_equal(m("abc", "abc\n"), 0);
	assert_int_equal(m("abc$", "abc\n"), 0);
	assert_int_equal(m("abc\\n", "abc\n"), 1);
}

static void expect_reject(const char *re, const char *why)
{
	ax_regex_t *r = NULL;
	ax_err_t e;

	if (ax_regex_compile(re, &r, &e) == 0) {
		ax_regex_free(r);
		fail_msg("%s should be rejected", re);
	}
	assert_str_contains(e.msg, "error parsing regexp");
	assert_str_contains(e.msg, why);
}

static void test_non_re2_rejected(void **st)
{
	(void)st;
	expect_reject("foo(?=bar)", "lookahead");
	expect_reject("foo(?!bar)", "lookahead");
	expect_reject("(?<=a)b", "lookbehind");
	expect_reject("(?<!a)b", "lookbehind");
	expect_reject("(a)\\1", "backreference");
	expect_reject("(?>a+)b", "atomic");
	expect_reject("a++", "nested repetition");
	expect_reject("a*+", "nested repetition");
	expect_reject("(?<name>a)", "group syntax");
	expect_reject("a\\Z", "escape");
	expect_reject("a{1001}", "repeat count");
	expect_reject("(?x) a", "group syntax");
	expect_reject("a(b", "missing closing parenthesis");
	expect_reject("[a", "missing terminating ]");
}

static void test_re2_accepted(void **st)
{
	(void)st;
	assert_int_equal(m("(?P<x>a+)b", "aab"), 1);
	assert_int_equal(m("[[:alpha:]]+", "abc"), 1);
	assert_int_equal(m("\\d{3}", "123"), 1);
	assert_int_equal(m("\\pL+", "h\xc3\xa9"), 1);
	assert_int_equal(m("[^]a]+", "bcd"), 1);
	assert_int_equal(m("a{2,1000}", "aa"), 1);
	assert_int_equal(m("\\Qa.b\\E", "a.b"), 1);
	assert_int_equal(m("\\Qa.b\\E", "axb"), 0);
	assert_int_equal(m("(?i)ABC", "abc"), 1);
	assert_int_equal(m("a+?", "aaa"), 1);
	assert_int_equal(m("[a\\]]+", "a]a"), 1);
}

static void test_invalid_utf8_subject(void **st)
{
	(void)st;
	assert_int_equal(m(".*", "\xff\xfe"), 0);
	assert_int_equal(m("a.*", "a\xc3\xa9"), 1);
}

static void test_match_limit_is_an_error(void **st)
{
	ax_regex_t *r;
	char subj[64];
	int rv;

	(void)st;
	memset(subj, 'x', 40);
	subj[40] = '\0';
	assert_int_equal(ax_regex_compile("(x+x+)+[yz]", &r, NULL), 0);
	rv = ax_regex_match(r, subj, 40);
	assert_int_equal(rv, AX_ELIMIT);
	ax_regex_free(r);
}

static void test_expand(void **st)
{
	ax_regex_t *r;
	ax_buf_t b = AX_BUF_INIT;

	(void)st;
	assert_int_equal(
	    ax_regex_compile("(?P<host>[^:]+):(\\d+)", &r, NULL), 0);
	assert_int_equal(ax_regex_expand(r, "node1:9100", 10, "$1", &b), 1);
	assert_string_equal(b.p, "node1");
	ax_buf_reset(&b);
	assert_int_equal(
	    ax_regex_expand(r, "node1:9100", 10, "${1}x-$2-${host}-$$", &b), 1);
	assert_string_equal(b.p, "node1x-9100-node1-$");
	ax_buf_reset(&b);
	/* $1x names group "1x", which does not exist: empty (Go semantics) */
	assert_int_equal(
	    ax_regex_expand(r, "node1:9100", 10, "$1x|$9|${nope}", &b), 1);
	assert_string_equal(b.p, "||");
	ax_buf_reset(&b);
	assert_int_equal(ax_regex_expand(r, "nocolon", 7, "$1", &b), 0);
	ax_buf_fini(&b);
	ax_regex_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fully_anchored),
	    cmocka_unit_test(test_newlines),
	    cmocka_unit_test(test_non_re2_rejected),
	    cmocka_unit_test(test_re2_accepted),
	    cmocka_unit_test(test_invalid_utf8_subject),
	    cmocka_unit_test(test_match_limit_is_an_error),
	    cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
