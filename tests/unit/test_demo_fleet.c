/*
 * Unit tests: axon-demo's config (demo/config.h), traffic model and
 * exposition (demo/fleet.h) and PagerDuty sink (demo/pager.h).
 */
#include "ax_test.h"
#include "demo/config.h"
#include "demo/fleet.h"
#include "demo/pager.h"

#include <math.h>
#include <unistd.h>

static char path[64];

static void write_file(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/demo-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load(const char *text, demo_cfg_t **out, ax_err_t *err)
{
	void *c = NULL;
	int rv;

	write_file(text);
	memset(err, 0, sizeof(*err));
	rv = demo_config_load(NULL, path, &c, err);
	unlink(path);
	*out = c;
	return rv;
}

static void test_config(void **state)
{
	demo_cfg_t *c;
	ax_err_t err;
	const demo_svc_cfg_t *s;

	(void)state;
	assert_int_equal(load("services:\n"
	                      "  - {name: db}\n"
	                      "  - {name: api, rps: 10, latency: 50ms, "
	                      "error_ratio: 0.01, depends_on: [db]}\n",
	                     &c, &err),
	    0);
	assert_int_equal(c->services.n, 2);
	s = c->services.items;
	assert_true(s[0].rps == 50 && s[0].latency_ms == 20 &&
	    s[0].error_ratio == 0.001);
	assert_true(s[1].rps == 10 && s[1].latency_ms == 50);
	assert_string_equal(c->discoverer_url, "http://127.0.0.1:9092");
	assert_string_equal(c->pager.listen, "127.0.0.1:9099");
	assert_string_equal(c->pager.file, "data/pages.jsonl");
	assert_int_equal(c->register_interval_ms, 30000);
	assert_int_equal(demo_config_find(c, "api"), 1);
	assert_int_equal(demo_config_find(c, "nope"), -1);
	demo_config_free(c);

	/* what is wrong, and where */
	assert_int_not_equal(
	    load("services:\n  - {name: api, depends_on: [db]}\n", &c, &err),
	    0);
	assert_str_contains(
	    err.msg, "services[0].depends_on[0]: no service \"db\"");
	assert_int_not_equal(
	    load("services:\n  - {name: a}\n  - {name: a}\n", &c, &err), 0);
	assert_str_contains(err.msg, "services[1].name: \"a\" is listed twice");
	assert_int_not_equal(
	    load("services:\n  - {name: a, error_ratio: 2}\n", &c, &err), 0);
	assert_str_contains(err.msg, "error_ratio: 2 is not in [0, 1]");
	assert_int_not_equal(
	    load("services:\n  - {name: Bad_Name}\n", &c, &err), 0);
	assert_str_contains(err.msg, "is not a service name");
	assert_int_not_equal(
	    load("services:\n  - {name: a, depends_on: [a]}\n", &c, &err), 0);
	assert_str_contains(err.msg, "depends on itself");
	assert_int_not_equal(
	    load("services:\n  - {name: a, rsp: 3}\n", &c, &err), 0);
	assert_str_contains(err.msg, ":2:");
	assert_str_contains(err.msg, "rsp");
	assert_int_not_equal(load("pager: {}\n", &c, &err), 0);
	assert_str_contains(err.msg, "services");
}

/* The value of the sample line starting with prefix in an exposition. */
static double value_of(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	assert_non_null(p);
	return strtod(p + strlen(prefix), NULL);
}

static void render(demo_fleet_t *f, size_t i, int om, ax_buf_t *b)
{
	ax_buf_reset(b);
	assert_int_equal(demo_fleet_render(f, i, om, b), 0);
	ax_buf_putc(b, 0);
}

static void test_fleet(void **state)
{
	demo_cfg_t *c;
	demo_fleet_t *f;
	ax_err_t err;
	ax_buf_t b = AX_BUF_INIT;
	double t = 1000, ok0, e503, e503b, count;
	const char *c503 = "http_requests_total{method=\"GET\",code=\"503\"} ";
	const char *c200 = "http_requests_total{method=\"GET\",code=\"200\"} ";
	int ports[5] = {1, 2, 3, 4, 5};

	(void)state;
	/* auth <- cart <- ui, and a cycle x <-> y beside them */
	assert_int_equal(load("services:\n"
	                      "  - {name: auth, rps: 100, error_ratio: 0}\n"
	                      "  - {name: cart, rps: 100, error_ratio: 0, "
	                      "depends_on: [auth]}\n"
	                      "  - {name: ui, rps: 100, error_ratio: 0, "
	                      "depends_on: [cart]}\n"
	                      "  - {name: x, depends_on: [y]}\n"
	                      "  - {name: y, depends_on: [x]}\n",
	                     &c, &err),
	    0);
	assert_int_equal(demo_fleet_new(c, t, 42, &f, &err), 0);
	assert_int_equal(demo_fleet_count(f), 5);
	assert_string_equal(demo_fleet_name(f, 2), "ui");
	demo_fleet_tick(f, t += 10);
	render(f, 2, 0, &b);
	ok0 = value_of(b.p, c200);
	assert_true(ok0 > 700 && ok0 < 1300); /* ~100/s for 10 s */
	assert_true(value_of(b.p, c503) == 0);
	/* text format: no exemplars, no EOF */
	assert_null(strstr(b.p, "trace_id"));
	assert_null(strstr(b.p, "# EOF"));

	/* auth down: ui fails through cart, transitively; the cycle
	 * neither hangs nor fails */
	assert_int_equal(demo_fleet_set_down(f, 0, 1), 0);
	assert_int_equal(demo_fleet_is_down(f, 0), 1);
	demo_fleet_tick(f, t += 10);
	render(f, 2, 1, &b);
	e503 = value_of(b.p, c503);
	assert_true(e503 > 700);
	assert_true(value_of(b.p, c200) - ok0 < 1);
	/* OpenMetrics: canonical le, trace_id exemplars, counts agree */
	assert_non_null(strstr(b.p, "# TYPE http_requests counter\n"));
	assert_non_null(strstr(b.p, "le=\"1.0\"}"));
	assert_non_null(strstr(b.p, "le=\"+Inf\"} "));
	assert_non_null(strstr(b.p, " # {trace_id=\""));
	assert_non_null(strstr(b.p, "# EOF\n"));
	count = value_of(
	    b.p, "http_request_duration_seconds_count{method=\"GET\"} ");
	assert_true(fabs(count - (value_of(b.p, c200) + e503)) <= 3);
	ax_buf_reset(&b);
	assert_int_equal(demo_fleet_json(f, ports, &b), 0);
	ax_buf_putc(&b, 0);
	assert_non_null(
	    strstr(b.p, "{\"name\":\"auth\",\"port\":1,\"state\":\"down\""));
	assert_non_null(strstr(b.p, "\"dependents\":[\"cart\"]"));
	render(f, 3, 0, &b);
	assert_true(value_of(b.p, c503) == 0); /* x: its cycle is healthy */

	/* healed: the errors stop growing */
	demo_fleet_set_down(f, 0, 0);
	demo_fleet_tick(f, t += 10);
	render(f, 2, 0, &b);
	e503b = value_of(b.p, c503);
	assert_true(e503b - e503 < 1);
	assert_true(value_of(b.p, c200) > ok0 + 700);
	/* a clock jump backwards counts nothing */
	demo_fleet_tick(f, t - 100);
	render(f, 2, 0, &b);
	assert_true(value_of(b.p, c503) == e503b);
	demo_fleet_free(f);
	demo_config_free(c);
	ax_buf_fini(&b);
}

static void test_pager(void **state)
{
	demo_pager_t *p;
	ax_err_t err = {0};
	ax_buf_t r = AX_BUF_INIT;
	char out[64], line[4096];
	FILE *f, *echo = tmpfile();
	unsigned long tr, ack, res;
	static const char *const bad[] = {
	    "not json",
	    "{\"event_action\":\"trigger\"}",
	    "{\"routing_key\":\"k\",\"event_action\":\"page\"}",
	    "{\"routing_key\":\"k\",\"event_action\":\"resolve\"}",
	    "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":"
	    "{\"summary\":\"s\",\"source\":\"x\",\"severity\":\"huge\"}}",
	    "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":"
	    "{\"source\":\"x\",\"severity\":\"error\"}}",
	};
	const char *good =
	    "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"dedup_key\":"
	    "\"abc\",\"payload\":{\"summary\":\"auth is "
	    "down\",\"source\":\"am\","
	    "\"severity\":\"critical\"}}";
	const char *resolve = "{\"routing_key\":\"k\",\"event_action\":"
	                      "\"resolve\",\"dedup_key\":\"abc\"}";
	size_t i;

	(void)state;
	snprintf(out, sizeof(out), "/tmp/demo-pages-%d.jsonl", (int)getpid());
	unlink(out);
	assert_non_null(echo);
	assert_int_equal(demo_pager_open(out, echo, &p, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ax_buf_reset(&r);
		assert_int_equal(
		    demo_pager_event(p, bad[i], strlen(bad[i]), &r), 400);
		ax_buf_putc(&r, 0);
		assert_str_contains(r.p, "\"status\":\"invalid event\"");
	}
	ax_buf_reset(&r);
	assert_int_equal(demo_pager_event(p, good, strlen(good), &r), 202);
	ax_buf_putc(&r, 0);
	assert_str_contains(r.p, "\"dedup_key\":\"abc\"");
	ax_buf_reset(&r);
	assert_int_equal(
	    demo_pager_event(p, resolve, strlen(resolve), &r), 202);
	demo_pager_counts(p, &tr, &ack, &res);
	assert_true(tr == 1 && ack == 0 && res == 1);
	demo_pager_free(p);
	/* one JSON line per accepted event, nothing for the bad ones */
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_str_contains(line, "\"summary\":\"auth is down\"");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_str_contains(line, "\"event_action\":\"resolve\"");
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	/* and one printed line each */
	rewind(echo);
	assert_non_null(fgets(line, sizeof(line), echo));
	assert_str_contains(line, "PAGE trigger");
	assert_str_contains(line, "auth is down");
	fclose(echo);
	unlink(out);
	ax_buf_fini(&r);
	/* an unwritable file is an error that names it */
	assert_int_not_equal(
	    demo_pager_open("/nonexistent/dir/p.jsonl", NULL, &p, &err), 0);
	assert_str_contains(err.msg, "/nonexistent/dir/p.jsonl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_fleet),
	    cmocka_unit_test(test_pager),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
