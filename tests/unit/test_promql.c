/*
 * Unit tests: ax_promql lexer, selector parser and printer.
 */
#include "ax_test.h"
#include "ax_promql.h"
#include "ax_promql_lex.h"

static void roundtrip(const char *in, const char *want)
{
	ax_selector_t *s;
	ax_buf_t b = AX_BUF_INIT;
	ax_err_t e;

	if (ax_selector_parse(in, &s, &e) != 0)
		fail_msg("%s: %s", in, e.msg);
	ax_selector_format(s, &b);
	if (strcmp(b.p, want) != 0)
		fail_msg("%s printed as %s, want %s", in, b.p, want);
	ax_buf_fini(&b);
	ax_selector_free(s);
}

static void test_print_canonical(void **st)
{
	(void)st;
	roundtrip("up", "up");
	roundtrip("up{}", "up");
	roundtrip("http_requests_total{job=\"api\", code=~\"5..\"}",
	    "http_requests_total{code=~\"5..\",job=\"api\"}");
	roundtrip("{__name__=~\"node_.*\", instance!=\"a\"}",
	    "{__name__=~\"node_.*\",instance!=\"a\"}");
	roundtrip("x{a!~'b\\n',}", "x{a!~\"b\\n\"}");
	roundtrip("x[5m]", "x[5m]");
	roundtrip("x[90m]", "x[1h30m]");
	roundtrip("x offset 5m", "x offset 5m");
	roundtrip("x offset -1h", "x offset -1h");
	roundtrip("x[1m] offset 1d @ 100", "x[1m] @ 100.000 offset 1d");
	roundtrip("x @ 1.5e3", "x @ 1500.000");
	roundtrip("x @ start()", "x @ start()");
	roundtrip("x @ end() offset 1m", "x @ end() offset 1m");
	roundtrip(
	    "level:rate5m{job=`raw\\d`}", "level:rate5m{job=\"raw\\\\d\"}");
	roundtrip("sum", "sum"); /* keywords are valid metric names */
	roundtrip("x{by=\"1\",on=\"2\"}", "x{by=\"1\",on=\"2\"}");
	roundtrip("x # comment", "x");
}

static void test_matchers(void **st)
{
	ax_selector_t *s;

	(void)st;
	assert_int_equal(
	    ax_selector_parse(
	        "m{a=\"1\",b!=\"2\",c=~\"x|y\",d!~\"z.*\"}", &s, NULL),
	    0);
	assert_string_equal(s->name, "m");
	assert_int_equal(s->n_matchers, 5);
	assert_int_equal(s->matchers[0]->type, AX_MATCH_EQUAL);
	assert_string_equal(s->matchers[0]->name, "__name__");
	assert_true(ax_matcher_matches(s->matchers[1], "1"));
	assert_false(ax_matcher_matches(s->matchers[1], "2"));
	assert_true(
	    ax_matcher_matches(s->matchers[2], NULL)); /* absent != "2" */
	assert_true(ax_matcher_matches(s->matchers[3], "y"));
	assert_false(ax_matcher_matches(s->matchers[3], "xy"));
	assert_false(ax_matcher_matches(s->matchers[4], "zoo"));
	assert_true(ax_matcher_matches(s->matchers[4], "az"));
	assert_true(ax_matcher_matches_empty(s->matchers[4]));
	ax_selector_free(s);
}

static void expect_error(const char *in, const char *want)
{
	ax_selector_t *s = NULL;
	ax_err_t e;

	if (ax_selector_parse(in, &s, &e) == 0) {
		ax_selector_free(s);
		fail_msg("%s should not parse", in);
	}
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", in, e.msg, want);
}

static void test_errors(void **st)
{
	(void)st;
	expect_error("{}",
	    "1:1: parse error: vector selector must contain at least one "
	    "non-empty matcher");
	expect_error("{a=\"\"}",
	    "vector selector must contain at least one non-empty matcher");
	expect_error("{a=~\".*\"}", "at least one non-empty matcher");
	expect_error("x{a=\"b\"",
	    "1:8: parse error: unexpected end of input inside braces");
	expect_error("x{a=b}",
	    "1:5: parse error: unexpected identifier \"b\" in label matching, "
	    "expected string");
	expect_error("x{a:b=\"1\"}", "unexpected character in label name");
	expect_error("x{a=~\"(\"}", "error parsing regexp");
	expect_error("x{a=~\"(?=a)\"}", "invalid or unsupported Perl syntax");
	expect_error("x{__name__=\"y\"}",
	    "metric name must not be set twice: \"x\" or \"y\"");
	expect_error("x[5]", "expected duration");
	expect_error("x[5m", "1:5: parse error: unclosed left bracket");
	expect_error(
	    "x offset 5m offset 1m", "offset may not be set multiple times");
	expect_error(
	    "x @ 1 @ 2", "@ <timestamp> may not be set multiple times");
	expect_error("x @ Inf", "timestamp out of bounds for @ modifier");
	expect_error("x{a=\"\\q\"}", "invalid escape sequence");
	expect_error("x{a=\"b\n\"}", "unterminated quoted string");
	expect_error("x y",
	    "1:3: parse error: unexpected identifier \"y\" after selector");
	expect_error("x\n  y", "2:3: parse error");
	expect_error("5", "expected metric name");
	expect_error("x $", "unexpected character: '$'");
}

static void test_lexer_tokens(void **st)
{
	const char *in =
	    "sum by (job) (rate(x[5m])) >= bool 0x1F + 1.5e3 - Inf and on(a) "
	    "group_left NaN ^ 2 != 3 =~ !~ @ start() :";
	ax_tok_type_t want[] = {AX_TOK_SUM, AX_TOK_BY, AX_TOK_LPAREN,
	    AX_TOK_IDENT, AX_TOK_RPAREN, AX_TOK_LPAREN, AX_TOK_IDENT,
	    AX_TOK_LPAREN, AX_TOK_IDENT, AX_TOK_LBRACKET, AX_TOK_DURATION,
	    AX_TOK_RBRACKET, AX_TOK_RPAREN, AX_TOK_RPAREN, AX_TOK_GTE,
	    AX_TOK_BOOL, AX_TOK_NUMBER, AX_TOK_ADD, AX_TOK_NUMBER, AX_TOK_SUB,
	    AX_TOK_NUMBER, AX_TOK_AND, AX_TOK_ON, AX_TOK_LPAREN, AX_TOK_IDENT,
	    AX_TOK_RPAREN, AX_TOK_GROUP_LEFT, AX_TOK_NUMBER, AX_TOK_POW,
	    AX_TOK_NUMBER, AX_TOK_NEQ, AX_TOK_NUMBER, AX_TOK_EQL_REGEX,
	    AX_TOK_NEQ_REGEX, AX_TOK_AT, AX_TOK_START, AX_TOK_LPAREN,
	    AX_TOK_RPAREN, AX_TOK_COLON, AX_TOK_EOF};
	ax_lexer_t lx;
	size_t i;

	(void)st;
	ax_lex_init(&lx, in, strlen(in));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ax_tok_t t = ax_lex_next(&lx);

		if (t.type != want[i])
			fail_msg("token %zu: got %s (%.*s), want %s", i,
			    ax_tok_name(t.type), (int)t.len, t.text,
			    ax_tok_name(want[i]));
	}
}

static void test_unquote(void **st)
{
	char *s;

	(void)st;
	assert_int_equal(
	    ax_pq_unquote("\"a\\tb\\u00e9\\x41\\101\\\\\"", 22, &s, NULL), 0);
	assert_string_equal(s,
	    "a\tb\xc3\xa9"
	    "AA\\");
	free(s);
	assert_int_equal(ax_pq_unquote("'it\\'s'", 7, &s, NULL), 0);
	assert_string_equal(s, "it's");
	free(s);
	assert_int_equal(ax_pq_unquote("`a\\n`", 5, &s, NULL), 0);
	assert_string_equal(s, "a\\n");
	free(s);
	assert_int_not_equal(
	    ax_pq_unquote("\"\\'\"", 4, &s, NULL), 0); /* \' in "" */
	assert_int_not_equal(ax_pq_unquote("\"\\ud800\"", 8, &s, NULL), 0);
}

/* ---- whole expressions ---- */

static void expr_roundtrip(const char *in, const char *want)
{
	ax_pq_node_t *n = NULL, *again = NULL;
	ax_buf_t b = AX_BUF_INIT, b2 = AX_BUF_INIT;
	ax_err_t e;

	if (ax_pq_parse(in, &n, &e) != 0)
		fail_msg("%s: %s", in, e.msg);
	ax_pq_format(n, &b);
	if (strcmp(b.p, want) != 0)
		fail_msg("%s printed as %s, want %s", in, b.p, want);
	/* the printed form parses to the same tree */
	if (ax_pq_parse(b.p, &again, &e) != 0)
		fail_msg("%s: printed %s does not parse: %s", in, b.p, e.msg);
	ax_pq_format(again, &b2);
	if (strcmp(b.p, b2.p) != 0)
		fail_msg("%s: reprinted as %s", b.p, b2.p);
	ax_buf_fini(&b);
	ax_buf_fini(&b2);
	ax_pq_free(n);
	ax_pq_free(again);
}

static void test_expr_print(void **st)
{
	(void)st;
	expr_roundtrip("1+2*3", "1 + 2 * 3");
	expr_roundtrip("sum by(job)(rate(x[5m]))", "sum by (job) (rate(x[5m]))");
	expr_roundtrip("sum(rate(x[5m])) without(a,b)",
	    "sum without (a, b) (rate(x[5m]))");
	expr_roundtrip("topk(3,x)", "topk(3, x)");
	expr_roundtrip("count_values('v', x)", "count_values(\"v\", x)");
	expr_roundtrip("a+on(b)group_left(c)d", "a + on (b) group_left (c) d");
	expr_roundtrip("a / ignoring(x) group_right b",
	    "a / ignoring (x) group_right () b");
	expr_roundtrip("a > bool 1", "a > bool 1");
	expr_roundtrip("rate(x[5m])[30m:1m] offset 1m @ 100",
	    "rate(x[5m])[30m:1m] @ 100.000 offset 1m");
	expr_roundtrip("x[5m:]", "x[5m:]");
	expr_roundtrip("-x", "-x");
	expr_roundtrip("- -1", "1");
	expr_roundtrip("1e6 + 0x10 + Inf - NaN", "1e+06 + 16 + +Inf - NaN");
	expr_roundtrip("(a or b) and c unless d", "(a or b) and c unless d");
	expr_roundtrip("label_join(x, \"d\", \",\", \"a\", \"b\")",
	    "label_join(x, \"d\", \",\", \"a\", \"b\")");
	expr_roundtrip("x atan2 y", "x atan2 y");
	expr_roundtrip("sum", "sum");
	expr_roundtrip("x @ end()", "x @ end()");
}

/* The tree's shape, parenthesised, to check precedence. */
static void shape(const ax_pq_node_t *n, ax_buf_t *b)
{
	switch (n->kind) {
	case AX_PQ_BINARY:
		ax_buf_putc(b, '(');
		shape(n->a, b);
		ax_buf_printf(b, " %s ", ax_pq_op_str(n->op));
		shape(n->b, b);
		ax_buf_putc(b, ')');
		return;
	case AX_PQ_UNARY:
		ax_buf_printf(b, "(%s", ax_pq_op_str(n->op));
		shape(n->a, b);
		ax_buf_putc(b, ')');
		return;
	default: ax_pq_format(n, b); return;
	}
}

static void expect_shape(const char *in, const char *want)
{
	ax_pq_node_t *n = NULL;
	ax_buf_t b = AX_BUF_INIT;
	ax_err_t e;

	if (ax_pq_parse(in, &n, &e) != 0)
		fail_msg("%s: %s", in, e.msg);
	shape(n, &b);
	if (strcmp(b.p, want) != 0)
		fail_msg("%s parsed as %s, want %s", in, b.p, want);
	ax_buf_fini(&b);
	ax_pq_free(n);
}

static void test_expr_precedence(void **st)
{
	(void)st;
	expect_shape("1 + 2 * 3 ^ 2", "(1 + (2 * (3 ^ 2)))");
	expect_shape("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"); /* right-associative */
	expect_shape("8 / 4 / 2", "((8 / 4) / 2)");
	expect_shape("-x ^ 2", "(-(x ^ 2))");
	expect_shape("-x * 2", "((-x) * 2)");
	expect_shape("a or b and c", "(a or (b and c))");
	expect_shape("a unless b or c", "((a unless b) or c)");
	expect_shape("a == b + c", "(a == (b + c))");
	expect_shape("a atan2 b + c", "((a atan2 b) + c)");
	expect_shape("a + b offset 5m", "(a + b offset 5m)");
	expect_shape("a > bool b * 2", "(a > (b * 2))");
}

static void expect_expr_error(const char *in, const char *want)
{
	ax_pq_node_t *n = NULL;
	ax_err_t e;

	if (ax_pq_parse(in, &n, &e) == 0) {
		ax_pq_free(n);
		fail_msg("%s should not parse", in);
	}
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", in, e.msg, want);
}

static void test_expr_errors(void **st)
{
	(void)st;
	expect_expr_error("sum(up", "1:7: parse error: unclosed left parenthesis");
	expect_expr_error("1 < 2",
	    "1:3: parse error: comparisons between scalars must use BOOL "
	    "modifier");
	expect_expr_error("x and 1",
	    "set operator \"and\" not allowed in binary scalar expression");
	expect_expr_error("rate(x)",
	    "1:6: parse error: expected type range vector in call to function "
	    "\"rate\", got instant vector");
	expect_expr_error("sum(x, y)",
	    "wrong number of arguments for aggregate expression provided, "
	    "expected 1, got 2");
	expect_expr_error("topk(x)", "expected 2, got 1");
	expect_expr_error("round(x, 1, 2)",
	    "expected at most 2 argument(s) in call to \"round\", got 3");
	expect_expr_error("label_join(x)",
	    "expected at least 3 argument(s) in call to \"label_join\", got 1");
	expect_expr_error("time(1)", "expected 0 argument(s) in call to \"time\"");
	expect_expr_error("nope(x)", "unknown function with name \"nope\"");
	expect_expr_error("(x)[5m]", "1:4: parse error: ranges only allowed");
	expect_expr_error("x[5m][5m]", "unexpected \"[\" after range selector");
	expect_expr_error("x[5m:1m][5m:1m]", "subquery is only allowed on "
	                                     "instant vector, got range vector");
	expect_expr_error("sum(x) offset 5m", "offset modifier must be preceded");
	expect_expr_error("x + bool y", "bool modifier can only be used on "
	                                "comparison operators");
	expect_expr_error("x and on (a) group_left y",
	    "no grouping allowed for \"and\" operation");
	expect_expr_error("x + on (a) group_left (a) y",
	    "label \"a\" must not occur in ON and GROUP clause at once");
	expect_expr_error("1 + on (a) x", "vector matching only allowed between "
	                                  "instant vectors");
	expect_expr_error("x[5m] + 1", "binary expression must contain only "
	                               "scalar and instant vector types");
	expect_expr_error("-x[5m]", "unary expression only allowed on");
	expect_expr_error("count_values(1, x)",
	    "expected type string in aggregation parameter, got scalar");
	expect_expr_error("", "no expression found in input");
	expect_expr_error("foo bar", "1:5: parse error: unexpected identifier");
	expect_expr_error("x{a=1}", "unexpected character inside braces: '1'");
	expect_expr_error("x[5m:1m:1m]", "unexpected colon ':'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_print_canonical),
	    cmocka_unit_test(test_matchers),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_expr_print),
	    cmocka_unit_test(test_expr_precedence),
	    cmocka_unit_test(test_expr_errors),
	    cmocka_unit_test(test_lexer_tokens),
	    cmocka_unit_test(test_unquote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
