/*
 * Unit tests: ax_relabel -- every action with Prometheus' semantics, rule
 * order, the hashmod sum (MD5 low 64 bits, checked against an independent
 * MD5), and configuration errors with file:line:col.
 */
#include "ax_test.h"
#include "ax_relabel.h"

/* Decode `relabel_configs:` from yaml into r. */
static int load(const char *yaml, ax_relabels_t *r, ax_err_t *e)
{
	static const ax_cfg_field_t fields[] = {
	    {.name = "relabel_configs",
	        .type = AX_CFG_CUSTOM,
	        .offset = 0,
	        .decode = ax_relabel_decode,
	        .free_fn = ax_relabel_free},
	    {0},
	};
	ax_cfg_t c;
	int rv;

	memset(&c, 0, sizeof(c));
	memset(r, 0, sizeof(*r));
	c.quiet = 1;
	if ((rv = ax_cfg_load_string(&c, "r.yml", yaml, strlen(yaml), e)) != 0)
		return rv;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", fields, r, e);
	ax_cfg_fini(&c);
	return rv;
}

/* Apply the rules to "k=v,k=v" and compare with want ("" when dropped). */
static void check(const char *yaml, const char *in, const char *want)
{
	ax_relabels_t r;
	ax_label_t pairs[16];
	char buf[512], *save = NULL, *tok;
	ax_labels_t *ls, *out = NULL;
	ax_buf_t b = AX_BUF_INIT;
	size_t n = 0;
	ax_err_t e;
	int rv;

	if (load(yaml, &r, &e) != 0)
		fail_msg("%s: %s", yaml, e.msg);
	snprintf(buf, sizeof(buf), "%s", in);
	for (tok = strtok_r(buf, ",", &save); tok && n < 16;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		*eq = '\0';
		pairs[n].name = tok;
		pairs[n].value = eq + 1;
		n++;
	}
	assert_int_equal(ax_labels_new(pairs, n, &ls, NULL), 0);
	rv = ax_relabel_process(&r, ls, &out, &e);
	assert_true(rv >= 0);
	if (rv == 1) {
		uint32_t i;

		for (i = 0; i < out->n; i++)
			ax_buf_printf(&b, "%s%s=%s", i ? "," : "",
			    out->l[i].name, out->l[i].value);
	}
	ax_buf_putc(&b, '\0');
	if (strcmp(b.p, want) != 0)
		fail_msg("%s\non %s gave \"%s\", want \"%s\"", yaml, in, b.p,
		    want);
	ax_buf_fini(&b);
	ax_labels_free(ls);
	ax_labels_free(out);
	ax_relabel_free(&r);
}

static void test_actions(void **st)
{
	(void)st;
	/* replace with the defaults: regex (.*), replacement $1 */
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n",
	    "a=x", "a=x,b=x");
	check("relabel_configs:\n- source_labels: [a, c]\n  separator: '-'\n"
	      "  regex: '(.*)-(.*)'\n  replacement: '${2}_$1'\n"
	      "  target_label: d\n",
	    "a=1,c=2", "a=1,c=2,d=2_1");
	/* no match: nothing changes */
	check("relabel_configs:\n- source_labels: [a]\n  regex: 'y'\n"
	      "  target_label: b\n  replacement: z\n",
	    "a=x,b=old", "a=x,b=old");
	/* an empty result deletes the target */
	check("relabel_configs:\n- source_labels: [missing]\n"
	      "  target_label: b\n",
	    "a=x,b=old", "a=x");
	/* the target from the match; an invalid one deletes the raw name */
	check("relabel_configs:\n- source_labels: [a]\n  regex: '(.*)'\n"
	      "  target_label: 'l_${1}'\n  replacement: v\n",
	    "a=x", "a=x,l_x=v");
	check("relabel_configs:\n- source_labels: [a]\n  regex: '(.*)'\n"
	      "  target_label: '$1'\n  replacement: v\n",
	    "$1=q,a=1x", "a=1x");
	/* keep and drop, fully anchored */
	check("relabel_configs:\n- source_labels: [job]\n  regex: 'node'\n"
	      "  action: keep\n",
	    "job=node_exporter", "");
	check("relabel_configs:\n- source_labels: [job]\n  regex: 'node.*'\n"
	      "  action: keep\n",
	    "job=node_exporter", "job=node_exporter");
	check("relabel_configs:\n- source_labels: [job]\n  regex: 'node.*'\n"
	      "  action: Drop\n",
	    "job=node_exporter", "");
	/* hashmod: MD5 low 64 bits big-endian, modulo */
	check("relabel_configs:\n- source_labels: [a]\n  modulus: 10\n"
	      "  target_label: h\n  action: hashmod\n",
	    "a=abc", "a=abc,h=8");
	check("relabel_configs:\n- source_labels: [a, b]\n  modulus: 1000\n"
	      "  target_label: h\n  action: hashmod\n",
	    "a=foo,b=bar", "a=foo,b=bar,h=750");
	check("relabel_configs:\n- source_labels: [__address__]\n"
	      "  modulus: 3\n  target_label: shard\n  action: hashmod\n",
	    "__address__=10.0.0.1:9100", "__address__=10.0.0.1:9100,shard=2");
	/* labelmap, labeldrop, labelkeep */
	check("relabel_configs:\n- regex: '__meta_k_(.+)'\n"
	      "  action: labelmap\n",
	    "__meta_k_app=web,__meta_k_ns=prod,a=1",
	    "__meta_k_app=web,__meta_k_ns=prod,a=1,app=web,ns=prod");
	check("relabel_configs:\n- regex: '__meta_.*'\n  action: labeldrop\n",
	    "__meta_x=1,a=2", "a=2");
	check("relabel_configs:\n- regex: 'a|b'\n  action: labelkeep\n",
	    "a=1,b=2,c=3", "a=1,b=2");
	/* case, equality */
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "  action: lowercase\n",
	    "a=MiXeD", "a=MiXeD,b=mixed");
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "  action: uppercase\n",
	    "a=MiXeD", "a=MiXeD,b=MIXED");
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "  action: keepequal\n",
	    "a=1,b=1", "a=1,b=1");
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "  action: keepequal\n",
	    "a=1,b=2", "");
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "  action: dropequal\n",
	    "a=1,b=1", "");
	/* rules see what earlier rules made; dropping every label drops */
	check("relabel_configs:\n- source_labels: [a]\n  target_label: b\n"
	      "- source_labels: [b]\n  target_label: c\n  replacement: 'c$1'\n",
	    "a=1", "a=1,b=1,c=c1");
	check("relabel_configs:\n- regex: '.*'\n  action: labeldrop\n", "a=1",
	    "");
}

static void expect_cfg_error(const char *yaml, const char *want)
{
	ax_relabels_t r;
	ax_err_t e;

	if (load(yaml, &r, &e) == 0) {
		ax_relabel_free(&r);
		fail_msg("%s: accepted", yaml);
	}
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", yaml, e.msg, want);
}

static void test_config_errors(void **st)
{
	(void)st;
	expect_cfg_error("relabel_configs:\n- source_labels: [a]\n",
	    "r.yml:2:3: relabel_configs[0]: relabel configuration for replace "
	    "action requires 'target_label' value");
	expect_cfg_error("relabel_configs:\n- action: hashmod\n"
	                 "  target_label: x\n",
	    "relabel configuration for hashmod requires non-zero modulus");
	expect_cfg_error("relabel_configs:\n- action: frobnicate\n",
	    "unknown relabel action \"frobnicate\"");
	expect_cfg_error("relabel_configs:\n- action: labeldrop\n"
	                 "  regex: a\n  target_label: x\n",
	    "labeldrop action requires only 'regex', and no other fields");
	expect_cfg_error("relabel_configs:\n- source_labels: [a]\n"
	                 "  target_label: '1x'\n",
	    "\"1x\" is invalid 'target_label' for replace action");
	expect_cfg_error("relabel_configs:\n- source_labels: [a]\n"
	                 "  target_label: 'b$'\n  action: lowercase\n",
	    "is invalid 'target_label' for lowercase action");
	expect_cfg_error("relabel_configs:\n- source_labels: [a]\n"
	                 "  target_label: b\n  regex: x\n  action: keepequal\n",
	    "keepequal action requires only 'source_labels' and `target_label`");
	expect_cfg_error("relabel_configs:\n- source_labels: ['a-b']\n"
	                 "  target_label: b\n",
	    "\"a-b\" is not a valid label name");
	expect_cfg_error("relabel_configs:\n- regex: '('\n  target_label: b\n",
	    "r.yml:2:3:");
	expect_cfg_error("relabel_configs:\n- target_label: b\n  nope: 1\n",
	    "r.yml:3:3: relabel_configs[0].nope: unknown field");
}

static void test_md5(void **st)
{
	uint8_t h[16];
	char hex[33];
	int i;
	static const struct {
		const char *in, *want;
	} v[] = {
	    {"", "d41d8cd98f00b204e9800998ecf8427e"},
	    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
	    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
	    {"12345678901234567890123456789012345678901234567890123456789012"
	     "345678901234567890",
	        "57edf4a22be3c955ac49da2e2107b67a"},
	};
	size_t k;

	(void)st;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		ax_md5(v[k].in, strlen(v[k].in), h);
		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		assert_string_equal(hex, v[k].want);
	}
}

static void test_dup(void **st)
{
	ax_relabels_t r, d;
	ax_labels_t *ls, *out;
	ax_err_t e;

	(void)st;
	assert_int_equal(load("relabel_configs:\n- source_labels: [a]\n"
	                      "  regex: '(x)(.*)'\n  replacement: '$2'\n"
	                      "  target_label: b\n",
	                     &r, &e),
	    0);
	assert_int_equal(ax_relabel_dup(&r, &d, &e), 0);
	ax_relabel_free(&r);
	assert_int_equal(ax_labels_from_strings(&ls, NULL, "a", "xyz", NULL), 0);
	assert_int_equal(ax_relabel_process(&d, ls, &out, &e), 1);
	assert_string_equal(ax_labels_get(out, "b"), "yz");
	ax_labels_free(out);
	ax_labels_free(ls);
	ax_relabel_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_actions),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_md5),
	    cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
