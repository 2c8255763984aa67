/*
 * Unit tests: the alert router's config loader and routing tree --
 * defaults and inheritance down the tree, route keys, matching with
 * continue, and errors that name file:line:col.
 */
#include "ax_test.h"
#include "alert-router/config.h"
#include "alert-router/route.h"

#include <unistd.h>

static char path[64];

static int load(const char *text, ar_config_t **out, ax_err_t *err)
{
	int fd, rv;

	snprintf(path, sizeof(path), "/tmp/ar-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rv = ar_config_load(path, 1, out, err);
	unlink(path);
	return rv;
}

static const char *tree_text = "route:\n"
                               "  receiver: root\n"
                               "  group_by: [alertname]\n"
                               "  group_wait: 10s\n"
                               "  routes:\n"
                               "  - matchers: ['team=\"a\"']\n"
                               "    continue: true\n"
                               "    repeat_interval: 1h\n"
                               "    routes:\n"
                               "    - match: {severity: critical}\n"
                               "      receiver: a-page\n"
                               "      group_by: ['...']\n"
                               "  - match_re: {team: 'a|b'}\n"
                               "    receiver: ab\n"
                               "    group_by: [cluster]\n"
                               "receivers:\n"
                               "- name: root\n"
                               "- name: a-page\n"
                               "- name: ab\n";

static void test_inheritance(void **state)
{
	ar_config_t *c;
	ar_route_t *root;
	const ar_route_t *a, *ap, *ab;
	ax_err_t err = {0};

	(void)state;
	if (load(tree_text, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c->global.resolve_timeout_ms, 5 * 60 * 1000);
	assert_string_equal(
	    c->global.pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
	assert_string_equal(c->global.smtp_hello, "localhost");
	assert_int_equal(ar_route_build(c, &root, &err), 0);
	assert_int_equal(root->group_wait_ms, 10000);
	assert_int_equal(root->group_interval_ms, 5 * 60 * 1000);
	assert_int_equal(root->repeat_interval_ms, 4 * 3600 * 1000);
	assert_string_equal(root->key, "{}");
	assert_int_equal(root->nkids, 2);
	a = &root->kids[0];
	ap = &a->kids[0];
	ab = &root->kids[1];
	assert_string_equal(a->receiver, "root"); /* inherited */
	assert_int_equal(a->group_wait_ms, 10000);
	assert_int_equal(a->repeat_interval_ms, 3600 * 1000);
	assert_int_equal(a->group_by->n, 1);
	assert_string_equal(a->group_by->v[0], "alertname");
	assert_string_equal(a->key, "{}/{team=\"a\"}");
	assert_string_equal(ap->receiver, "a-page");
	assert_true(ap->group_by_all);
	assert_int_equal(ap->repeat_interval_ms, 3600 * 1000);
	assert_string_equal(ap->key, "{}/{team=\"a\"}/{severity=\"critical\"}");
	assert_false(ab->group_by_all);
	assert_string_equal(ab->group_by->v[0], "cluster");
	assert_string_equal(ab->key, "{}/{team=~\"^(?:a|b)$\"}");
	ar_route_free(root);
	ar_config_free(c);
}

static const char *match_receivers(ar_route_t *root, const char *k1,
    const char *v1, const char *k2, const char *v2)
{
	static char out[256];
	ar_route_vec_t v = {0};
	ax_labels_t *ls;
	ax_err_t err = {0};
	size_t i;

	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, k1, v1, k2, v2, (char *)NULL), 0);
	assert_int_equal(ar_route_match(root, ls, &v), 0);
	out[0] = '\0';
	for (i = 0; i < v.n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, v.v[i]->receiver);
	}
	ar_route_vec_fini(&v);
	ax_labels_free(ls);
	return out;
}

static void test_match(void **state)
{
	ar_config_t *c;
	ar_route_t *root;
	ax_err_t err = {0};

	(void)state;
	assert_int_equal(load(tree_text, &c, &err), 0);
	assert_int_equal(ar_route_build(c, &root, &err), 0);
	/* team=a matches the first child (continue) and then ab. */
	assert_string_equal(
	    match_receivers(root, "team", "a", "x", "y"), "root,ab");
	assert_string_equal(
	    match_receivers(root, "team", "a", "severity", "critical"),
	    "a-page,ab");
	assert_string_equal(match_receivers(root, "team", "b", "x", "y"), "ab");
	assert_string_equal(
	    match_receivers(root, "team", "ab", "x", "y"), "root");
	ar_route_free(root);
	ar_config_free(c);
}

static void check_error(const char *text, const char *want)
{
	ar_config_t *c = NULL;
	ax_err_t err = {0};

	assert_int_not_equal(load(text, &c, &err), 0);
	assert_null(c);
	assert_str_contains(err.msg, path);
	assert_str_contains(err.msg, want);
}

static void test_errors(void **state)
{
	(void)state;
	check_error(
	    "route:\n  receiver: r\n  bogus: 1\nreceivers:\n- name: r\n",
	    ":3:3: route.bogus: unknown field");
	check_error("route:\n  receiver: r\n  routes:\n  - receiver: x\n"
	            "receivers:\n- name: r\n",
	    ":4:5: route.routes[0]: undefined receiver \"x\" used in route");
	check_error("route:\n  receiver: r\n  group_by: [a, a]\n"
	            "receivers:\n- name: r\n",
	    ":3:13: route.group_by: duplicated label \"a\" in group_by");
	check_error("route:\n  receiver: r\n  routes:\n"
	            "  - matchers: ['a=\"b']\nreceivers:\n- name: r\n",
	    ":4:16: route.routes[0].matchers[0]: matcher value contains "
	    "unescaped double quote");
	check_error("route:\n  receiver: r\n  matchers: [a=b]\n"
	            "receivers:\n- name: r\n",
	    "root route must not have any matchers");
	check_error("route:\n  receiver: r\nreceivers:\n- name: r\n- name: r\n",
	    ":5:3: receivers: notification config name \"r\" is not unique");
	check_error("route:\n  receiver: r\nreceivers:\n- name: r\n"
	            "  opsgenie_configs: [{api_key: x}]\n",
	    "not supported by axon-alert-router");
	check_error("route:\n  receiver: r\nreceivers:\n- name: r\n"
	            "  pagerduty_configs: [{severity: x}]\n",
	    "missing service or routing key in PagerDuty config");
	check_error("time_intervals:\n- name: t\n  time_intervals:\n"
	            "  - times: [{start_time: '10:00', end_time: '09:00'}]\n"
	            "route:\n  receiver: r\nreceivers:\n- name: r\n",
	    "start time cannot be equal or greater than end time");
	check_error("receivers:\n- name: r\n", "no routes provided");
	check_error("route:\n  receiver: r\n  group_interval: 0s\n"
	            "receivers:\n- name: r\n",
	    "group_interval cannot be zero");
}

static void test_time_intervals(void **state)
{
	ar_config_t *c;
	const ar_time_interval_t *t;
	const ar_time_spec_t *s;
	ax_err_t err = {0};

	(void)state;
	if (load("time_intervals:\n- name: biz\n  time_intervals:\n"
	         "  - times: [{start_time: '09:00', end_time: '24:00'}]\n"
	         "    weekdays: ['Monday:friday']\n"
	         "    days_of_month: ['-3:-1']\n"
	         "    months: ['may', '7:9']\n"
	         "    years: ['2025:2027']\n"
	         "    location: Europe/Berlin\n"
	         "route:\n  receiver: r\n  routes:\n"
	         "  - active_time_intervals: [biz]\n"
	         "receivers:\n- name: r\n",
	        &c, &err) != 0)
		fail_msg("%s", err.msg);
	t = ar_config_time_interval(c, "biz");
	assert_non_null(t);
	assert_int_equal(t->specs.n, 1);
	s = t->specs.items;
	assert_int_equal(s->times.v[0].lo, 9 * 60);
	assert_int_equal(s->times.v[0].hi, 24 * 60);
	assert_int_equal(s->weekdays.v[0].lo, 1);
	assert_int_equal(s->weekdays.v[0].hi, 5);
	assert_int_equal(s->days_of_month.v[0].lo, -3);
	assert_int_equal(s->months.n, 2);
	assert_int_equal(s->months.v[0].lo, 5);
	assert_int_equal(s->months.v[1].hi, 9);
	assert_int_equal(s->years.v[0].hi, 2027);
	assert_string_equal(s->location, "Europe/Berlin");
	/* 2026-07-29 (a Wednesday, 3 days before the end of July) 08:30 UTC
	 * is 10:30 in Berlin (CEST): inside; 06:30 UTC is 08:30: outside. */
	assert_true(ar_time_interval_contains(t, 1785313800000LL));
	assert_false(ar_time_interval_contains(t, 1785306600000LL));
	/* the 27th is 5 days before the end: outside days_of_month -3:-1 */
	assert_false(ar_time_interval_contains(t, 1785141000000LL));
	ar_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inheritance),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_time_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
