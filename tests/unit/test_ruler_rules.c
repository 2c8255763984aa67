/*
 * Unit tests: the ruler's rule-file loader (ruler/rules.h): what a valid
 * file yields, errors collected with positions, nothing kept from a bad
 * file, duplicate recording rules.
 */
#include "ax_test.h"
#include "ruler/rules.h"

#include <unistd.h>

static char path[64];

static void write_file(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/rl-rules-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_valid(void **state)
{
	rl_ruleset_t rs = {0};
	ax_buf_t errs = AX_BUF_INIT;
	const rl_rule_t *r;

	(void)state;
	write_file("groups:\n"
	           "  - name: g1\n"
	           "    interval: 30s\n"
	           "    limit: 10\n"
	           "    rules:\n"
	           "      - record: job:up:sum\n"
	           "        expr: sum by (job) (up)\n"
	           "        labels: {team: a}\n"
	           "      - alert: Down\n"
	           "        expr: up == 0\n"
	           "        for: 5m\n"
	           "        keep_firing_for: 1m\n"
	           "        labels: {severity: page}\n"
	           "        annotations:\n"
	           "          summary: '{{ $labels.job }} down'\n"
	           "          empty: ''\n"
	           "  - name: g2\n");
	assert_int_equal(rl_rules_load_file(&rs, path, &errs), 0);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.groups[0].name, "g1");
	assert_string_equal(rs.groups[0].file, path);
	assert_int_equal(rs.groups[0].interval_ms, 30000);
	assert_int_equal(rs.groups[0].limit, 10);
	assert_int_equal(rs.groups[0].n, 2);
	assert_int_equal(rs.groups[1].n, 0);
	r = &rs.groups[0].rules[0];
	assert_string_equal(r->record, "job:up:sum");
	assert_non_null(r->ast);
	assert_string_equal(r->labels.v[0], "a");
	r = &rs.groups[0].rules[1];
	assert_string_equal(r->alert, "Down");
	assert_int_equal(r->for_ms, 300000);
	assert_int_equal(r->keep_firing_for_ms, 60000);
	assert_int_equal(r->annotations.n, 2);
	assert_string_equal(r->annotations.v[1], "");
	assert_int_equal(r->line, 9);
	assert_int_equal(rl_ruleset_count(&rs), 2);
	rl_ruleset_free(&rs);
	ax_buf_fini(&errs);
	unlink(path);
}

static void test_errors(void **state)
{
	rl_ruleset_t rs = {0};
	ax_buf_t errs = AX_BUF_INIT, dups = AX_BUF_INIT;

	(void)state;
	write_file("groups:\n"
	           "  - name: g\n"
	           "    rules:\n"
	           "      - record: a-b\n"
	           "        expr: up\n"
	           "        for: 1m\n"
	           "      - alert: A\n"
	           "        expr: 'sum(up'\n"
	           "        annotations: {d: '{{ nope }}'}\n"
	           "  - name: g\n");
	assert_int_equal(rl_rules_load_file(&rs, path, &errs), AX_ECONFIG);
	assert_int_equal(rs.n, 0);
	assert_str_contains(errs.p,
	    ":4:17: group \"g\", rule 1, \"a-b\": "
	    "invalid field 'for' in recording rule");
	assert_str_contains(errs.p, "invalid recording rule name: a-b");
	assert_str_contains(errs.p,
	    ":8:15: group \"g\", rule 2, \"A\": could "
	    "not parse expression");
	assert_str_contains(errs.p, "function \"nope\" not defined");
	assert_str_contains(errs.p, ":10:11: groupname: \"g\" is repeated");
	ax_buf_fini(&errs);
	unlink(path);
	/* strict decoding stops before validation */
	write_file("groups:\n  - name: g\n    rules:\n      - recrod: x\n");
	assert_int_equal(rl_rules_load_file(&rs, path, &errs), AX_ECONFIG);
	assert_str_contains(
	    errs.p, ":4:9: field recrod not found in type rulefmt.RuleNode");
	assert_null(strstr(errs.p, "must be set"));
	ax_buf_fini(&errs);
	unlink(path);
	/* duplicates */
	write_file("groups:\n  - name: g\n    rules:\n"
	           "      - {record: x, expr: up, labels: {a: b}}\n"
	           "      - {record: x, expr: up, labels: {a: b}}\n"
	           "      - {record: x, expr: up, labels: {a: c}}\n");
	assert_int_equal(rl_rules_load_file(&rs, path, &errs), 0);
	assert_int_equal(rl_rules_duplicates(&rs, &dups), 1);
	assert_str_contains(dups.p, "Metric: x\nLabel(s):\n\ta: b\n");
	rl_ruleset_free(&rs);
	ax_buf_fini(&errs);
	ax_buf_fini(&dups);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
