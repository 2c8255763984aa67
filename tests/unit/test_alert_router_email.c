/*
 * Unit tests: the alert router's e-mail encodings (RFC 2047 Q-encoding
 * and quoted-printable as Go's mime and quotedprintable packages write
 * them), address lists, the message layout, and the HTML escaping of the
 * template engine's html mode.
 */
#include "ax_test.h"
#include "alert-router/email.h"
#include "alert-router/tmpl.h"

static void test_qencode(void **state)
{
	ax_buf_t b = AX_BUF_INIT;

	(void)state;
	ar_email_qencode("[FIRING:2] Disk full (db-1)", &b);
	assert_string_equal(b.p, "[FIRING:2] Disk full (db-1)");
	b.len = 0;
	ar_email_qencode("caf\xc3\xa9 = ok? a_b", &b);
	assert_string_equal(b.p, "=?utf-8?q?caf=C3=A9_=3D_ok=3F_a=5Fb?=");
	/* words at most 75 characters; a rune is never split */
	b.len = 0;
	ar_email_qencode("\xc3\x9c"
	                 "123456789012345678901234567890123456789012345678901"
	                 "234567890\xc3\xa9xyz",
	    &b);
	assert_string_equal(b.p,
	    "=?utf-8?q?=C3=9C12345678901234567890123456789012345678901234567"
	    "8901234567?= =?utf-8?q?890=C3=A9xyz?=");
	ax_buf_fini(&b);
}

static void test_qp(void **state)
{
	ax_buf_t b = AX_BUF_INIT;
	char line[200];

	(void)state;
	ar_email_qp("a=b \xc3\xa9\nend \n", 12, &b);
	assert_string_equal(b.p, "a=3Db =C3=A9\r\nend=20\r\n");
	/* lines are cut at 76 characters with a soft break */
	b.len = 0;
	memset(line, 'x', 100);
	ar_email_qp(line, 100, &b);
	assert_int_equal(strchr(b.p, '\r') - b.p, 76);
	assert_int_equal(b.p[75], '=');
	assert_int_equal(b.len, 100 + 3);
	ax_buf_fini(&b);
}

static void test_addresses(void **state)
{
	char **v;
	size_t n;
	ax_err_t err;

	(void)state;
	assert_int_equal(
	    ar_email_addresses(
	        "a@b.org, \"Ops, Team\" <ops@x.org>,Name <n@y>", &v, &n, &err),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a@b.org");
	assert_string_equal(v[1], "ops@x.org");
	assert_string_equal(v[2], "n@y");
	while (n > 0)
		free(v[--n]);
	free(v);
	assert_int_equal(ar_email_addresses("nobody", &v, &n, &err), AX_EINVAL);
	assert_str_contains(err.msg, "missing @");
	assert_int_equal(ar_email_addresses("a@b, ", &v, &n, &err), AX_EINVAL);
	assert_str_contains(err.msg, "no address");
	assert_int_equal(ar_email_addresses("X <a@b", &v, &n, &err), AX_EINVAL);
	assert_int_equal(ar_email_addresses("a b@c", &v, &n, &err), AX_EINVAL);
}

static void test_message(void **state)
{
	ax_tmpl_t *t;
	ar_email_cfg_t c;
	ar_global_t g;
	ar_email_msg_t m;
	ar_notice_t nt;
	ar_alert_t *a = calloc(1, sizeof(*a));
	ar_alert_t *v[1] = {a};
	int resolved[1] = {0};
	ax_labels_t *ls;
	ax_err_t err;
	char *hk[1] = {"x-team"}, *hv[1] = {"{{ .CommonLabels.team }}"};

	(void)state;
	assert_int_equal(ar_tmpl_load(NULL, 0, ".", &t, &err), 0);
	assert_int_equal(ax_labels_from_strings(&ls, &err, "alertname", "A",
	                     "team", "<db>", (char *)NULL),
	    0);
	a->refs = 1;
	a->labels = ls;
	a->starts_ms = 1000;
	memset(&nt, 0, sizeof(nt));
	nt.receiver = "r";
	nt.group_key = "{}:{}";
	nt.group_labels = ls;
	nt.alerts = v;
	nt.resolved = resolved;
	nt.n = 1;
	nt.external_url = "http://x";
	nt.now_ms = 2000;
	memset(&c, 0, sizeof(c));
	memset(&g, 0, sizeof(g));
	c.require_tls = -1;
	c.to = "a@b, C <c@d>";
	c.headers.k = hk;
	c.headers.v = hv;
	c.headers.n = 1;
	c.text = "team {{ .CommonLabels.team }}";
	c.html = "<p>{{ .CommonLabels.team }}</p>";
	g.smtp_from = "Me <me@x>";
	assert_int_equal(ar_email_build(&nt, &c, &g, t, &m, &err), 0);
	assert_string_equal(m.from, "me@x");
	assert_int_equal(m.nrcpt, 2);
	assert_string_equal(m.rcpt[1], "c@d");
	/* sorted headers, To/From/Subject added */
	assert_non_null(strstr(m.data.p,
	    "From: Me <me@x>\r\nSubject: "
	    "[FIRING:1] A <db> \r\nTo: a@b, C "
	    "<c@d>\r\nX-Team: <db>\r\n"));
	assert_non_null(strstr(m.data.p, "\r\nMIME-Version: 1.0\r\n\r\n--"));
	assert_non_null(strstr(m.data.p,
	    "text/plain; charset=UTF-8\r\n\r\n"
	    "team <db>\r\n--"));
	/* html/template escaping in the HTML part */
	assert_non_null(strstr(m.data.p, "<p>&lt;db&gt;</p>"));
	ar_email_msg_fini(&m);
	/* no from address anywhere */
	g.smtp_from = "";
	assert_int_equal(ar_email_build(&nt, &c, &g, t, &m, &err), AX_EINVAL);
	assert_str_contains(err.msg, "'from'");
	ax_labels_free(ls);
	free(a);
	ax_tmpl_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qencode),
	    cmocka_unit_test(test_qp),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
