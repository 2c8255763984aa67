/*
 * Unit tests: ax_sd -- dns_sd_configs and consul_sd_configs decoding with
 * Prometheus 2.42's defaults and checks (file:line:col), a section's text
 * handed over with ax_cfg_node_text decoding to the same values, and the
 * file_sd file reader.
 */
#include "ax_test.h"
#include "ax_sd.h"

#include <fcntl.h>
#include <unistd.h>

typedef struct holder {
	ax_cfg_list_t dns, consul;
} holder_t;

static const ax_cfg_field_t fields[] = {
    {.name = "dns_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(holder_t, dns),
        .decode = ax_sd_decode_dns,
        .free_fn = ax_sd_free_dns},
    {.name = "consul_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(holder_t, consul),
        .decode = ax_sd_decode_consul,
        .free_fn = ax_sd_free_consul},
    {0},
};

static int load(const char *yaml, holder_t *h, ax_err_t *e)
{
	ax_cfg_t c;
	int rv;

	memset(h, 0, sizeof(*h));
	if ((rv = ax_cfg_load_string(&c, "sd.yml", yaml, strlen(yaml), e)) != 0)
		return rv;
	c.quiet = 1;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", fields, h, e);
	ax_cfg_fini(&c);
	if (rv != 0)
		ax_cfg_free_fields(fields, h);
	return rv;
}

static void test_dns(void **state)
{
	holder_t h;
	ax_err_t e;
	const ax_dnssd_t *d;

	(void)state;
	assert_int_equal(load("dns_sd_configs:\n"
	                      "  - names: [a.example, b.example]\n"
	                      "  - names: [c.example]\n"
	                      "    type: a\n"
	                      "    port: 80\n"
	                      "    refresh_interval: 5s\n",
	                     &h, &e),
	    0);
	assert_int_equal(h.dns.n, 2);
	d = h.dns.items;
	assert_string_equal(d[0].type, "SRV");
	assert_int_equal(d[0].refresh_ms, 30000);
	assert_int_equal(d[0].names.n, 2);
	assert_string_equal(d[1].type, "A");
	assert_int_equal(d[1].port, 80);
	assert_int_equal(d[1].refresh_ms, 5000);
	ax_cfg_free_fields(fields, &h);
	assert_int_not_equal(load("dns_sd_configs:\n  - type: SRV\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "sd.yml:2:5: dns_sd_configs[0]: DNS-SD "
	                              "config must contain at least one SRV "
	                              "record name"));
	assert_int_not_equal(
	    load("dns_sd_configs:\n  - names: [x]\n    type: AAAA\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "a port is required"));
	assert_int_not_equal(
	    load("dns_sd_configs:\n  - names: [x]\n    type: TXT\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "invalid DNS-SD records type TXT"));
	assert_int_not_equal(
	    load("dns_sd_configs:\n  - names: [x]\n    nmes: [y]\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "sd.yml:3:5"));
}

static void test_consul(void **state)
{
	holder_t h;
	ax_err_t e;
	const ax_consulsd_t *c;

	(void)state;
	assert_int_equal(load("consul_sd_configs:\n"
	                      "  - services: [web]\n"
	                      "    tags: [prod]\n"
	                      "    node_meta: {rack: r1}\n"
	                      "  - server: consul:8500\n"
	                      "    allow_stale: false\n"
	                      "    tag_separator: ';'\n"
	                      "    tls_config: {insecure_skip_verify: true}\n",
	                     &h, &e),
	    0);
	c = h.consul.items;
	assert_string_equal(c[0].server, "localhost:8500");
	assert_string_equal(c[0].scheme, "http");
	assert_string_equal(c[0].tag_separator, ",");
	assert_int_equal(c[0].allow_stale, 1);
	assert_int_equal(c[0].refresh_ms, 30000);
	assert_string_equal(c[0].services.v[0], "web");
	assert_string_equal(ax_labels_get(c[0].node_meta, "rack"), "r1");
	assert_string_equal(c[1].server, "consul:8500");
	assert_int_equal(c[1].allow_stale, 0);
	assert_string_equal(c[1].tag_separator, ";");
	assert_int_equal(c[1].tls.insecure_skip_verify, 1);
	ax_cfg_free_fields(fields, &h);
	assert_int_not_equal(
	    load("consul_sd_configs:\n  - server: ' '\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "requires a server address"));
	assert_int_not_equal(
	    load("consul_sd_configs:\n  - scheme: ftp\n", &h, &e), 0);
	assert_non_null(strstr(e.msg, "scheme must be http or https"));
}

/* The text of a nested block section decodes to the same values. */
static void test_node_text(void **state)
{
	static const char yml[] = "scrape_configs:\n"
	                          "  - job_name: a\n"
	                          "    dns_sd_configs:\n"
	                          "      - names: [x.example]\n"
	                          "        type: A\n"
	                          "        port: 9100\n"
	                          "    other: 1\n";
	ax_cfg_t c;
	ax_err_t e;
	yaml_node_t *root, *jobs, *job, *sec = NULL;
	yaml_node_pair_t *p;
	char *text;
	ax_cfg_list_t l = {NULL, 0};
	const ax_dnssd_t *d;

	(void)state;
	assert_int_equal(ax_cfg_load_string(&c, "t.yml", yml, strlen(yml), &e), 0);
	root = ax_cfg_root(&c);
	jobs = yaml_document_get_node(
	    &c.doc, root->data.mapping.pairs.start->value);
	job = yaml_document_get_node(&c.doc, *jobs->data.sequence.items.start);
	for (p = job->data.mapping.pairs.start; p < job->data.mapping.pairs.top;
	     p++)
		if (strcmp(ax_cfg_scalar(yaml_document_get_node(&c.doc, p->key)),
		        "dns_sd_configs") == 0)
			sec = yaml_document_get_node(&c.doc, p->value);
	assert_non_null(sec);
	assert_int_equal(ax_cfg_node_text(&c, sec, &text), 0);
	ax_cfg_fini(&c);
	assert_null(strstr(text, "other"));
	assert_int_equal(ax_sd_decode_text("t", text, ax_sd_decode_dns, &l, &e), 0);
	assert_int_equal(l.n, 1);
	d = l.items;
	assert_string_equal(d->names.v[0], "x.example");
	assert_string_equal(d->type, "A");
	assert_int_equal(d->port, 9100);
	ax_sd_free_dns(&l);
	free(text);
}

static void test_file(void **state)
{
	char path[] = "/tmp/ax-sd-XXXXXX";
	int fd = mkstemp(path);
	static const char body[] =
	    "[{\"targets\": [\"a:1\", \"b:2\"], \"labels\": {\"env\": \"x\"}},"
	    " {\"targets\": [\"c:3\"]}]";
	ax_tgroup_t *g;
	size_t n;
	ax_err_t e;
	ax_filesd_t f;
	char *pat = path;
	uint64_t s1, s2;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	assert_int_equal(ax_tgroups_read_file(path, &g, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].targets.n, 2);
	assert_string_equal(ax_labels_get(g[0].labels, "env"), "x");
	assert_string_equal(g[1].targets.v[0], "c:3");
	ax_tgroups_free(g, n);
	f.files.v = &pat;
	f.files.n = 1;
	f.refresh_ms = 1000;
	s1 = ax_filesd_sig(&f, 1);
	assert_int_equal(s1, ax_filesd_sig(&f, 1));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[{\"targets\": 1}]", 16), 16);
	close(fd);
	s2 = ax_filesd_sig(&f, 1);
	assert_true(s1 != s2);
	assert_int_not_equal(ax_tgroups_read_file(path, &g, &n, &e), 0);
	assert_non_null(strstr(e.msg, ":1:14: [0].targets"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_consul),
	    cmocka_unit_test(test_node_text),
	    cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
