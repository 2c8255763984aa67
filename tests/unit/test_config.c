/*
 * Unit tests: ax_config (strict YAML decoding and file:line:col errors),
 * the shared prometheus.yml top level (ax_promyml) and the remote_write
 * section decoder.
 */
#include "ax_test.h"
#include "ax_config.h"
#include "ax_log.h"
#include "ax_promyml.h"
#include "ax_rw.h"

#include <unistd.h>

typedef struct item {
	char *name;
	int64_t weight;
} item_t;

typedef struct sample_cfg {
	char *title;
	int enabled;
	int64_t count;
	double ratio;
	int64_t interval_ms;
	int64_t limit_bytes;
	ax_regex_t *re;
	ax_labels_t *labels;
	ax_cfg_strings_t tags;
	struct {
		char *addr;
		int64_t timeout_ms;
	} peer;
	ax_cfg_list_t items;
} sample_cfg_t;

static const ax_cfg_field_t peer_fields[] = {
    {.name = "addr",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED,
        .offset =
            offsetof(sample_cfg_t, peer.addr) - offsetof(sample_cfg_t, peer)},
    {.name = "timeout",
        .type = AX_CFG_DURATION,
        .offset = offsetof(sample_cfg_t, peer.timeout_ms) -
            offsetof(sample_cfg_t, peer)},
    {0},
};

static const ax_cfg_field_t item_fields[] = {
    {.name = "name",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED | AX_CFG_NONEMPTY,
        .offset = offsetof(item_t, name)},
    {.name = "weight", .type = AX_CFG_INT, .offset = offsetof(item_t, weight)},
    {0},
};

static const ax_cfg_field_t fields[] = {
    {.name = "title",
        .type = AX_CFG_STRING,
        .offset = offsetof(sample_cfg_t, title)},
    {.name = "enabled",
        .type = AX_CFG_BOOL,
        .offset = offsetof(sample_cfg_t, enabled)},
    {.name = "count",
        .type = AX_CFG_INT,
        .offset = offsetof(sample_cfg_t, count)},
    {.name = "ratio",
        .type = AX_CFG_FLOAT,
        .offset = offsetof(sample_cfg_t, ratio)},
    {.name = "interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(sample_cfg_t, interval_ms)},
    {.name = "limit",
        .type = AX_CFG_SIZE,
        .offset = offsetof(sample_cfg_t, limit_bytes)},
    {.name = "regex",
        .type = AX_CFG_REGEX,
        .offset = offsetof(sample_cfg_t, re)},
    {.name = "labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(sample_cfg_t, labels)},
    {.name = "tags",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(sample_cfg_t, tags)},
    {.name = "peer",
        .type = AX_CFG_SECTION,
        .offset = offsetof(sample_cfg_t, peer),
        .fields = peer_fields},
    {.name = "items",
        .type = AX_CFG_LIST,
        .offset = offsetof(sample_cfg_t, items),
        .fields = item_fields,
        .elem_size = sizeof(item_t)},
    {.name = "rule_files", .type = AX_CFG_SKIP, .owner = "axon-ruler"},
    {0},
};

/* Decode text; returns rv and leaves the message in e. */
static int decode(const char *text, sample_cfg_t *out, ax_err_t *e)
{
	ax_cfg_t c;
	int rv;

	memset(out, 0, sizeof(*out));
	out->interval_ms = 1000;
	ax_err_clear(e);
	rv = ax_cfg_load_string(&c, "test.yml", text, strlen(text), e);
	if (rv != 0)
		return rv;
	c.quiet = 1;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", fields, out, e);
	ax_cfg_fini(&c);
	return rv;
}

static void test_decode_all_types(void **st)
{
	sample_cfg_t c;
	ax_err_t e;
	const char *y = "title: hello\n"
	                "enabled: yes\n"
	                "count: 42\n"
	                "ratio: 0.25\n"
	                "interval: 1m30s\n"
	                "limit: 1MB\n"
	                "regex: 'foo.*'\n"
	                "labels: {dc: eu1, team: sre}\n"
	                "tags: [a, b]\n"
	                "peer:\n"
	                "  addr: tcp://127.0.0.1:1\n"
	                "items:\n"
	                "  - name: x\n"
	                "    weight: 3\n"
	                "  - &it {name: y, weight: 4}\n"
	                "rule_files: [whatever]\n";

	(void)st;
	assert_int_equal(decode(y, &c, &e), 0);
	assert_string_equal(c.title, "hello");
	assert_int_equal(c.enabled, 1);
	assert_int_equal(c.count, 42);
	assert_true(c.ratio == 0.25);
	assert_int_equal(c.interval_ms, 90000);
	assert_int_equal(c.limit_bytes, 1 << 20);
	assert_int_equal(ax_regex_match(c.re, "foobar", 6), 1);
	assert_int_equal(ax_regex_match(c.re, "xfoo", 4), 0);
	assert_string_equal(ax_labels_get(c.labels, "dc"), "eu1");
	assert_int_equal(c.tags.n, 2);
	assert_string_equal(c.tags.v[1], "b");
	assert_string_equal(c.peer.addr, "tcp://127.0.0.1:1");
	assert_int_equal(c.items.n, 2);
	assert_string_equal(((item_t *)c.items.items)[1].name, "y");
	assert_int_equal(((item_t *)c.items.items)[1].weight, 4);
	ax_cfg_free_fields(fields, &c);
	assert_null(c.title);
	assert_null(c.items.items);
}

static void test_defaults_kept(void **st)
{
	sample_cfg_t c;
	ax_err_t e;

	(void)st;
	assert_int_equal(decode("title: t\ninterval:\n", &c, &e), 0);
	assert_int_equal(c.interval_ms, 1000); /* null keeps the default */
	ax_cfg_free_fields(fields, &c);
	assert_int_equal(decode("", &c, &e), 0); /* empty document */
	assert_int_equal(c.interval_ms, 1000);
	ax_cfg_free_fields(fields, &c);
}

static void expect_err(const char *yaml, const char *want)
{
	sample_cfg_t c;
	ax_err_t e;

	if (decode(yaml, &c, &e) == 0) {
		ax_cfg_free_fields(fields, &c);
		fail_msg(
		    "expected an error containing \"%s\" for:\n%s", want, yaml);
	}
	if (strstr(e.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", e.msg, want);
	ax_cfg_free_fields(fields, &c);
}

static void test_errors_have_positions(void **st)
{
	(void)st;
	expect_err(
	    "title: a\nbogus: 1\n", "test.yml:2:1: bogus: unknown field");
	expect_err("peer:\n  addr: x\n  nope: 2\n",
	    "test.yml:3:3: peer.nope: unknown field");
	expect_err("interval: 5x\n",
	    "test.yml:1:11: interval: not a valid duration string: \"5x\"");
	expect_err("interval: 0s\n",
	    "test.yml:1:11: interval: must be greater than 0");
	expect_err(
	    "regex: 'a(b'\n", "test.yml:1:8: regex: error parsing regexp");
	expect_err("regex: '(?=x)'\n",
	    "test.yml:1:8: regex: error parsing regexp: invalid or unsupported "
	    "Perl syntax");
	expect_err("count: many\n",
	    "test.yml:1:8: count: cannot unmarshal \"many\" into an integer");
	expect_err("count: -1\n", "test.yml:1:8: count: must not be negative");
	expect_err("enabled: maybe\n",
	    "test.yml:1:10: enabled: cannot unmarshal \"maybe\" into bool");
	expect_err("title: [a]\n",
	    "test.yml:1:8: title: cannot unmarshal !!seq into string");
	expect_err("limit: 10XB\n", "test.yml:1:8: limit: not a valid size");
	expect_err("labels: {1bad: x}\n",
	    "test.yml:1:10: labels: \"1bad\" is not a valid label name");
	expect_err("peer: {}\n",
	    "test.yml:1:7: peer: missing required field \"addr\"");
	expect_err("items:\n  - weight: 1\n",
	    "test.yml:2:5: items[0]: missing required field \"name\"");
	expect_err("items:\n  - name: ''\n",
	    "test.yml:2:11: items[0].name: must not be empty");
	expect_err("title: a\ntitle: b\n",
	    "test.yml:2:1: mapping key \"title\" already defined at line 1");
	expect_err("title: [a\n", "test.yml:2:1: yaml:");
	expect_err("- a\n- b\n",
	    "test.yml:1:1: cannot unmarshal !!seq into a section");
	expect_err("tags: a\n",
	    "test.yml:1:7: tags: cannot unmarshal !!str into a list of "
	    "strings");
}

static void test_load_file_missing(void **st)
{
	ax_cfg_t c;
	ax_err_t e;

	(void)st;
	assert_int_equal(
	    ax_cfg_load_file(&c, "/nonexistent/x.yml", &e), AX_ECONFIG);
	assert_str_contains(e.msg, "/nonexistent/x.yml: cannot open");
}

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/axcfgXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_promyml_sections(void **st)
{
	ax_prom_global_t g;
	ax_err_t e;
	char *p;

	(void)st;
	/* foreign sections skipped, global decoded */
	p = write_tmp(
	    "global:\n  scrape_interval: 15s\n  external_labels: {dc: x}\n"
	    "rule_files: [r.yml]\nalerting: {alertmanagers: []}\n"
	    "scrape_configs:\n  - job_name: a\n");
	ax_prom_global_init(&g);
	assert_int_equal(
	    ax_promyml_load(p, AX_YML_PROMETHEUS, "tsdb", NULL, &g, &g, 1, &e),
	    0);
	assert_int_equal(g.scrape_interval_ms, 15000);
	assert_int_equal(g.scrape_timeout_ms, 10000);
	assert_int_equal(g.evaluation_interval_ms, 60000);
	assert_string_equal(ax_labels_get(g.external_labels, "dc"), "x");
	ax_cfg_free_fields(ax_prom_global_fields, &g);
	/* the same file refused by the daemon that owns scrape_configs but
	 * does not implement them in this version */
	ax_prom_global_init(&g);
	assert_int_not_equal(ax_promyml_load(p, AX_YML_PROMETHEUS, "scraper",
	                         NULL, &g, &g, 1, &e),
	    0);
	assert_str_contains(
	    e.msg, ":7:3: scrape_configs: not supported by this version");
	unlink(p);
	/* unknown top-level key */
	p = write_tmp("global: {}\nscrape_config: []\n");
	ax_prom_global_init(&g);
	assert_int_not_equal(
	    ax_promyml_load(p, AX_YML_PROMETHEUS, "tsdb", NULL, &g, &g, 1, &e),
	    0);
	assert_str_contains(e.msg, ":2:1: scrape_config: unknown field");
	unlink(p);
	/* an unset scrape_timeout is at most the interval, as Prometheus */
	p = write_tmp("global:\n  scrape_interval: 1s\n");
	ax_prom_global_init(&g);
	assert_int_equal(
	    ax_promyml_load(p, AX_YML_PROMETHEUS, "tsdb", NULL, &g, &g, 1, &e),
	    0);
	assert_int_equal(g.scrape_timeout_ms, 1000);
	ax_cfg_free_fields(ax_prom_global_fields, &g);
	unlink(p);
	/* cross-field check */
	p = write_tmp(
	    "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n");
	ax_prom_global_init(&g);
	assert_int_not_equal(
	    ax_promyml_load(p, AX_YML_PROMETHEUS, "tsdb", NULL, &g, &g, 1, &e),
	    0);
	assert_str_contains(e.msg,
	    "global scrape timeout (10s) greater than scrape interval (5s)");
	unlink(p);
	/* alertmanager.yml family */
	p = write_tmp("route:\n  receiver: x\n");
	assert_int_not_equal(ax_promyml_load(p, AX_YML_ALERTMANAGER,
	                         "alert-router", NULL, &g, NULL, 1, &e),
	    0);
	assert_str_contains(
	    e.msg, ":2:3: route: not supported by this version");
	unlink(p);
}

static void test_remote_write_section(void **st)
{
	typedef struct {
		ax_cfg_list_t rw;
	} top_t;
	const ax_cfg_field_t top_fields[] = {
	    {.name = "remote_write",
	        .type = AX_CFG_LIST,
	        .offset = 0,
	        .fields = ax_rw_fields,
	        .elem_size = sizeof(ax_rw_config_t),
	        .elem_init = ax_rw_config_init},
	    {0},
	};
	const char *y = "remote_write:\n"
	                "  - url: http://127.0.0.1:9/api/v1/write\n"
	                "    name: r1\n"
	                "    remote_timeout: 10s\n"
	                "    headers: {X-Scope-OrgID: team1}\n"
	                "    basic_auth: {username: u, password: p}\n"
	                "    queue_config: {max_shards: 4, min_shards: 2, "
	                "batch_send_deadline: 1s}\n"
	                "    metadata_config: {send: false}\n";
	ax_cfg_t c;
	top_t t;
	ax_err_t e;
	ax_rw_config_t *r;

	(void)st;
	memset(&t, 0, sizeof(t));
	assert_int_equal(ax_cfg_load_string(&c, "p.yml", y, strlen(y), &e), 0);
	assert_int_equal(
	    ax_cfg_decode(&c, ax_cfg_root(&c), "", top_fields, &t, &e), 0);
	ax_cfg_fini(&c);
	assert_int_equal(t.rw.n, 1);
	r = t.rw.items;
	assert_string_equal(r->name, "r1");
	assert_int_equal(r->remote_timeout_ms, 10000);
	assert_int_equal(r->queue_config.max_shards, 4);
	assert_int_equal(r->queue_config.min_shards, 2);
	assert_int_equal(r->queue_config.capacity, 2500); /* default kept */
	assert_int_equal(r->queue_config.batch_send_deadline_ms, 1000);
	assert_int_equal(r->metadata_send, 0);
	assert_string_equal(
	    ax_labels_get(r->headers, "X-Scope-OrgID"), "team1");
	assert_int_equal(
	    ax_rw_config_check(r, "p.yml", "remote_write[0]", &e), 0);
	ax_cfg_free_fields(top_fields, &t);

	y = "remote_write:\n  - url: http://x/\n    write_relabel_configs:\n   "
	    "   - action: drop\n        source_labels: [job]\n";
	memset(&t, 0, sizeof(t));
	assert_int_equal(ax_cfg_load_string(&c, "p.yml", y, strlen(y), &e), 0);
	assert_int_equal(
	    ax_cfg_decode(&c, ax_cfg_root(&c), "", top_fields, &t, &e), 0);
	r = (ax_rw_config_t *)t.rw.items;
	assert_int_equal(r->write_relabel.n, 1);
	assert_int_equal(r->write_relabel.v[0].action, AX_RL_DROP);
	ax_cfg_fini(&c);
	ax_cfg_free_fields(top_fields, &t);

	y = "remote_write:\n  - url: http://x/\n    write_relabel_configs:\n   "
	    "   - action: replace\n";
	memset(&t, 0, sizeof(t));
	assert_int_equal(ax_cfg_load_string(&c, "p.yml", y, strlen(y), &e), 0);
	assert_int_not_equal(
	    ax_cfg_decode(&c, ax_cfg_root(&c), "", top_fields, &t, &e), 0);
	assert_str_contains(e.msg,
	    "p.yml:4:9: remote_write[0].write_relabel_configs[0]: relabel "
	    "configuration for replace action requires 'target_label' value");
	ax_cfg_fini(&c);
	ax_cfg_free_fields(top_fields, &t);

	y = "remote_write:\n  - url: http://x/\n    headers: {Authorization: "
	    "x}\n";
	memset(&t, 0, sizeof(t));
	assert_int_equal(ax_cfg_load_string(&c, "p.yml", y, strlen(y), &e), 0);
	assert_int_not_equal(
	    ax_cfg_decode(&c, ax_cfg_root(&c), "", top_fields, &t, &e), 0);
	assert_str_contains(e.msg, "reserved header");
	ax_cfg_fini(&c);
	ax_cfg_free_fields(top_fields, &t);

	y = "remote_write:\n  - name: nourl\n";
	memset(&t, 0, sizeof(t));
	assert_int_equal(ax_cfg_load_string(&c, "p.yml", y, strlen(y), &e), 0);
	assert_int_not_equal(
	    ax_cfg_decode(&c, ax_cfg_root(&c), "", top_fields, &t, &e), 0);
	assert_str_contains(e.msg,
	    "p.yml:2:5: remote_write[0]: missing required field \"url\"");
	ax_cfg_fini(&c);
	ax_cfg_free_fields(top_fields, &t);
}

static void test_nng_addr(void **st)
{
	(void)st;
	assert_int_equal(
	    ax_cfg_check_nng_addr("tcp://127.0.0.1:9301", NULL), 0);
	assert_int_equal(ax_cfg_check_nng_addr("ipc:///tmp/x.sock", NULL), 0);
	assert_int_equal(ax_cfg_check_nng_addr("inproc://a", NULL), 0);
	assert_int_not_equal(ax_cfg_check_nng_addr("tcp://host", NULL), 0);
	assert_int_not_equal(ax_cfg_check_nng_addr("tcp://h:99999", NULL), 0);
	assert_int_not_equal(ax_cfg_check_nng_addr("http://h:1", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_all_types),
	    cmocka_unit_test(test_defaults_kept),
	    cmocka_unit_test(test_errors_have_positions),
	    cmocka_unit_test(test_load_file_missing),
	    cmocka_unit_test(test_promyml_sections),
	    cmocka_unit_test(test_remote_write_section),
	    cmocka_unit_test(test_nng_addr),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
