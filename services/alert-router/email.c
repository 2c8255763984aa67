/*
 * ar_email: e-mail notifications over SMTP (email.h).
 */
#include "alert-router/email.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alert-router/tmpl.h"
#include "ax_rw.h"
#include "ax_units.h"

static const char hexu[] = "0123456789ABCDEF";

/* ---- encodings ---- */

void ar_email_qencode(const char *s, ax_buf_t *out)
{
	/* "=?utf-8?q?" + at most 63 + "?=": 75, the RFC 2047 limit */
	const size_t max_content = 63;
	size_t i, cur = 0, rl, k;
	const unsigned char *u = (const unsigned char *)s;
	int plain = 1;

	for (i = 0; u[i]; i++)
		if ((u[i] < ' ' || u[i] > '~') && u[i] != '\t')
			plain = 0;
	if (plain) {
		ax_buf_puts(out, s);
		return;
	}
	ax_buf_puts(out, "=?utf-8?q?");
	for (i = 0; u[i]; i += rl) {
		size_t enc;

		if (u[i] >= ' ' && u[i] <= '~' && u[i] != '=' && u[i] != '?' &&
		    u[i] != '_') {
			rl = 1;
			enc = 1;
		} else {
			/* a whole UTF-8 sequence stays in one word */
			rl = 1;
			if (u[i] >= 0xc0)
				while (rl < 4 && (u[i + rl] & 0xc0) == 0x80)
					rl++;
			enc = 3 * rl;
		}
		if (cur + enc > max_content) {
			ax_buf_puts(out, "?= =?utf-8?q?");
			cur = 0;
		}
		for (k = 0; k < rl; k++) {
			unsigned char b = u[i + k];

			if (b == ' ')
				ax_buf_putc(out, '_');
			else if (b >= '!' && b <= '~' && b != '=' && b != '?' &&
			    b != '_')
				ax_buf_putc(out, (char)b);
			else {
				ax_buf_putc(out, '=');
				ax_buf_putc(out, hexu[b >> 4]);
				ax_buf_putc(out, hexu[b & 15]);
			}
		}
		cur += enc;
	}
	ax_buf_puts(out, "?=");
}

/* Quoted-printable writer state: the current line's length. */
typedef struct qp {
	ax_buf_t *out;
	char line[80];
	size_t i;
	int cr;
} qp_t;

static void qp_flush(qp_t *q)
{
	ax_buf_append(q->out, q->line, q->i);
	q->i = 0;
}

static void qp_crlf(qp_t *q)
{
	q->line[q->i++] = '\r';
	q->line[q->i++] = '\n';
	qp_flush(q);
}

static void qp_soft(qp_t *q)
{
	q->line[q->i++] = '=';
	qp_crlf(q);
}

static void qp_encode(qp_t *q, unsigned char b)
{
	if (75 - q->i < 3)
		qp_soft(q);
	q->line[q->i++] = '=';
	q->line[q->i++] = hexu[b >> 4];
	q->line[q->i++] = hexu[b & 15];
}

/* A trailing space or tab before a line end is encoded. */
static void qp_last(qp_t *q)
{
	char b;

	if (q->i == 0)
		return;
	b = q->line[q->i - 1];
	if (b == ' ' || b == '\t') {
		q->i--;
		qp_encode(q, (unsigned char)b);
	}
}

static void qp_literal(qp_t *q, unsigned char b)
{
	if (b == '\n' || b == '\r') {
		if (q->cr && b == '\n') {
			q->cr = 0;
			return;
		}
		q->cr = b == '\r';
		qp_last(q);
		qp_crlf(q);
		return;
	}
	if (q->i == 75)
		qp_soft(q);
	q->line[q->i++] = (char)b;
	q->cr = 0;
}

void ar_email_qp(const char *s, size_t n, ax_buf_t *out)
{
	qp_t q = {out, {0}, 0, 0};
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if ((b >= '!' && b <= '~' && b != '=') || b == ' ' ||
		    b == '\t' || b == '\n' || b == '\r')
			qp_literal(&q, b);
		else
			qp_encode(&q, b);
	}
	qp_last(&q);
	qp_flush(&q);
}

/* ---- addresses ---- */

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Is s[0..n) an addr-spec (local@domain, no spaces outside quotes)? */
static int addr_spec_ok(const char *s, size_t n, ax_err_t *err)
{
	size_t i, at = 0, ats = 0;
	int q = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '@') {
			at = i;
			ats++;
		} else if (!q &&
		    (isspace((unsigned char)s[i]) ||
		        strchr("<>(),;:\\[]", s[i])))
			return ax_err_set(err, AX_EINVAL,
			    "mail: invalid character in addr-spec \"%.*s\"",
			    (int)n, s);
	}
	if (ats == 0)
		return ax_err_set(err, AX_EINVAL,
		    "mail: missing @ in addr-spec \"%.*s\"", (int)n, s);
	if (ats > 1 || at == 0 || at + 1 == n)
		return ax_err_set(err, AX_EINVAL,
		    "mail: invalid addr-spec \"%.*s\"", (int)n, s);
	return 0;
}

int ar_email_addresses(const char *s, char ***out, size_t *n, ax_err_t *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = s;

	*out = NULL;
	*n = 0;
	for (;;) {
		const char *start, *end, *lt = NULL, *gt = NULL, *a, *b;
		int q = 0, ang = 0;

		while (isspace((unsigned char)*p))
			p++;
		start = p;
		for (end = p; *end; end++) {
			if (*end == '"')
				q = !q;
			else if (!q && *end == '<') {
				ang = 1;
				lt = end;
			} else if (!q && *end == '>') {
				ang = 0;
				gt = end;
			} else if (!q && !ang && *end == ',')
				break;
		}
		a = start;
		b = end;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b) {
			free_list(v, cnt);
			return ax_err_set(err, AX_EINVAL, "mail: no address");
		}
		if (q || ang || (lt && !gt) || (gt && !lt) || (lt && gt < lt)) {
			free_list(v, cnt);
			return ax_err_set(err, AX_EINVAL,
			    "mail: unclosed quote or angle-addr in \"%.*s\"",
			    (int)(b - a), a);
		}
		if (lt) {
			const char *t = gt + 1;

			while (t < b && isspace((unsigned char)*t))
				t++;
			if (t != b) {
				free_list(v, cnt);
				return ax_err_set(err, AX_EINVAL,
				    "mail: expected single address in "
				    "\"%.*s\"",
				    (int)(b - a), a);
			}
			a = lt + 1;
			b = gt;
		}
		if (addr_spec_ok(a, (size_t)(b - a), err) != 0) {
			free_list(v, cnt);
			return err->code;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 4;
			char **nv = realloc(v, nc * sizeof(*nv));

			if (nv == NULL) {
				free_list(v, cnt);
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			}
			v = nv;
			cap = nc;
		}
		if ((v[cnt] = strndup(a, (size_t)(b - a))) == NULL) {
			free_list(v, cnt);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		cnt++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- the message ---- */

void ar_email_msg_fini(ar_email_msg_t *m)
{
	ax_buf_fini(&m->data);
	free(m->from);
	free_list(m->rcpt, m->nrcpt);
	memset(m, 0, sizeof(*m));
}

typedef struct hdr {
	char name[256];
	const char *tmpl;
} hdr_t;

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const hdr_t *)a)->name, ((const hdr_t *)b)->name);
}

static const char *or_global(const char *v, const char *g)
{
	return v && *v ? v : g;
}

static int render(const struct ax_tmpl *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err, const char *what)
{
	char msg[AX_ERR_MSG_MAX];
	int rv;

	if (text == NULL || *text == '\0')
		return 0;
	rv = ar_tmpl_render((ax_tmpl_t *)t, text, data, a, out, err);
	if (rv != 0) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		ax_err_set(
		    err, AX_EINVAL, "execute %s template: %s", what, msg);
	}
	return rv;
}

int ar_email_build(const ar_notice_t *nt, const ar_email_cfg_t *c,
    const ar_global_t *g, const struct ax_tmpl *tmpl, ar_email_msg_t *m,
    ax_err_t *err)
{
	ax_arena_t *a = ax_arena_new();
	ax_tval_t *data = a ? ar_tmpl_data(a, nt) : NULL;
	ax_buf_t v = AX_BUF_INIT, *b = &m->data;
	const char *from = or_global(c->from, g->smtp_from);
	const char *html =
	    c->html ? c->html : "{{ template \"email.default.html\" . }}";
	hdr_t *h = NULL;
	size_t nh = 0, i;
	char **fa = NULL, host[256] = "localhost", bound[61], date[64];
	size_t nfa = 0;
	unsigned char rnd[38];
	int rv = 0, has_msgid = 0;
	time_t now = time(NULL);
	struct tm tm;

	memset(m, 0, sizeof(*m));
	if (data == NULL) {
		ax_arena_free(a);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	/* envelope */
	rv = render(tmpl, from, data, a, &v, err, "'from'");
	if (rv == 0 &&
	    ar_email_addresses(v.p ? v.p : "", &fa, &nfa, err) != 0) {
		char msg[AX_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		rv = ax_err_set(
		    err, AX_EINVAL, "parse 'from' addresses: %s", msg);
	}
	if (rv == 0 && nfa != 1)
		rv = ax_err_set(err, AX_EINVAL,
		    "must be exactly one 'from' address (got: %zu)", nfa);
	if (rv == 0) {
		m->from = fa[0];
		fa[0] = NULL;
	}
	free_list(fa, nfa);
	v.len = 0;
	if (rv == 0)
		rv = render(tmpl, c->to, data, a, &v, err, "'to'");
	if (rv == 0 &&
	    ar_email_addresses(v.p ? v.p : "", &m->rcpt, &m->nrcpt, err) != 0) {
		char msg[AX_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		rv =
		    ax_err_set(err, AX_EINVAL, "parse 'to' addresses: %s", msg);
	}
	/* headers: the configured ones, To/From/Subject when missing */
	if (rv == 0 && (h = calloc(c->headers.n + 3, sizeof(*h))) == NULL)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; rv == 0 && i < c->headers.n; i++) {
		ar_config_canonical_header(
		    c->headers.k[i], h[nh].name, sizeof(h[nh].name));
		h[nh++].tmpl = c->headers.v[i];
		if (strcmp(h[nh - 1].name, "Message-Id") == 0)
			has_msgid = 1;
	}
	if (rv == 0) {
		static const char *const def[][2] = {
		    {"Subject", "{{ template \"email.default.subject\" . }}"},
		    {"To", NULL}, {"From", NULL}};
		size_t k, j;

		for (k = 0; k < 3; k++) {
			for (j = 0; j < nh; j++)
				if (strcmp(h[j].name, def[k][0]) == 0)
					break;
			if (j < nh)
				continue;
			snprintf(
			    h[nh].name, sizeof(h[nh].name), "%s", def[k][0]);
			h[nh++].tmpl = k == 0 ? def[k][1]
			    : k == 1          ? c->to
			                      : from;
		}
		qsort(h, nh, sizeof(*h), cmp_hdr);
	}
	for (i = 0; rv == 0 && i < nh; i++) {
		v.len = 0;
		rv = render(tmpl, h[i].tmpl, data, a, &v, err, h[i].name);
		if (rv == 0) {
			ax_buf_printf(b, "%s: ", h[i].name);
			ar_email_qencode(v.p ? v.p : "", b);
			ax_buf_puts(b, "\r\n");
		}
	}
	free(h);
	if (rv == 0 && nt->suppressed_alerts > 0) {
		size_t k;

		v.len = 0;
		ax_buf_printf(&v, "%zu alerts from %zu dependent services: ",
		    nt->suppressed_alerts, nt->n_suppressed_services);
		for (k = 0; k < nt->n_suppressed_services; k++)
			ax_buf_printf(&v, "%s%s", k ? ", " : "",
			    nt->suppressed_services[k]);
		ax_buf_puts(b, "X-Axon-Suppressed: ");
		ar_email_qencode(v.p ? v.p : "", b);
		ax_buf_puts(b, "\r\n");
	}
	if (rv == 0 && getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rv = ax_err_set(err, AX_EIO, "no randomness for a boundary");
	if (rv == 0) {
		uint64_t r64;

		gethostname(host, sizeof(host) - 1);
		memcpy(&r64, rnd + 30, sizeof(r64));
		if (!has_msgid)
			ax_buf_printf(b, "Message-Id: <%lld.%llu@%s>\r\n",
			    (long long)ax_now_ms() * 1000000LL,
			    (unsigned long long)r64, host);
		for (i = 0; i < 30; i++) {
			bound[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
			bound[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
		}
		bound[60] = '\0';
		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
		ax_buf_printf(b,
		    "Date: %s\r\nContent-Type: multipart/alternative;  "
		    "boundary=%s\r\nMIME-Version: 1.0\r\n\r\n",
		    date, bound);
	}
	/* parts: text first, HTML (the preferred one) last */
	{
		int parts = 0;

		if (rv == 0 && c->text && *c->text) {
			v.len = 0;
			rv = render(tmpl, c->text, data, a, &v, err, "text");
			if (rv == 0) {
				ax_buf_printf(b,
				    "--%s\r\nContent-Transfer-Encoding: "
				    "quoted-printable\r\nContent-Type: "
				    "text/plain; charset=UTF-8\r\n\r\n",
				    bound);
				ar_email_qp(v.p ? v.p : "", v.len, b);
				parts++;
			}
		}
		if (rv == 0 && *html) {
			v.len = 0;
			rv = ar_tmpl_render_html(
			    (ax_tmpl_t *)tmpl, html, data, a, &v, err);
			if (rv != 0) {
				char msg[AX_ERR_MSG_MAX];

				snprintf(msg, sizeof(msg), "%s", err->msg);
				ax_err_set(err, AX_EINVAL,
				    "execute html template: %s", msg);
			} else {
				ax_buf_printf(b,
				    "%s--%s\r\nContent-Transfer-Encoding: "
				    "quoted-printable\r\nContent-Type: "
				    "text/html; charset=UTF-8\r\n\r\n",
				    parts ? "\r\n" : "", bound);
				ar_email_qp(v.p ? v.p : "", v.len, b);
			}
		}
		if (rv == 0)
			ax_buf_printf(b, "\r\n--%s--\r\n", bound);
	}
	ax_buf_fini(&v);
	ax_arena_free(a);
	if (rv == 0 && !ax_buf_ok(b))
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	if (rv != 0)
		ar_email_msg_fini(m);
	return rv;
}

/* ---- SMTP ---- */

typedef struct upload {
	const char *p;
	size_t left;
} upload_t;

static size_t read_cb(char *buf, size_t sz, size_t n, void *arg)
{
	upload_t *u = arg;
	size_t k = sz * n < u->left ? sz * n : u->left;

	memcpy(buf, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

static int send_once(const ar_email_cfg_t *c, const ar_global_t *g,
    const ar_email_msg_t *m, long timeout_ms, const int *stop, ax_err_t *err)
{
	CURL *h = ar_notify_thread_curl();
	struct curl_slist *rcpt = NULL;
	const char *smarthost = or_global(c->smarthost, g->smtp_smarthost);
	const char *hello = or_global(c->hello, g->smtp_hello);
	const char *user = or_global(c->auth_username, g->smtp_auth_username);
	const char *pass = c->auth_password || c->auth_password_file
	    ? c->auth_password
	    : g->smtp_auth_password;
	const char *pass_file = c->auth_password || c->auth_password_file
	    ? c->auth_password_file
	    : g->smtp_auth_password_file;
	const char *secret = or_global(c->auth_secret, g->smtp_auth_secret);
	const char *identity =
	    or_global(c->auth_identity, g->smtp_auth_identity);
	int require_tls =
	    c->require_tls >= 0 ? c->require_tls : g->smtp_require_tls;
	const char *port = smarthost ? strrchr(smarthost, ':') : NULL;
	char url[1024], *pw = NULL;
	upload_t up = {m->data.p, m->data.len};
	long code = 0;
	size_t i;
	CURLcode cc;
	int rv = 0;

	if (h == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (smarthost == NULL || port == NULL)
		return ax_err_set(
		    err, AX_ECONFIG, "no smarthost (host:port) configured");
	snprintf(url, sizeof(url), "%s://%s/%s",
	    strcmp(port + 1, "465") == 0 ? "smtps" : "smtp", smarthost,
	    hello ? hello : "localhost");
	if (pass_file && (pw = ax_rw_read_secret_file(pass_file, err)) == NULL)
		return AX_ECONFIG;
	for (i = 0; i < m->nrcpt; i++) {
		char box[1024];
		struct curl_slist *n;

		snprintf(box, sizeof(box), "<%s>", m->rcpt[i]);
		if ((n = curl_slist_append(rcpt, box)) == NULL) {
			curl_slist_free_all(rcpt);
			free(pw);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		rcpt = n;
	}
	{
		char from[1024];

		snprintf(from, sizeof(from), "<%s>", m->from);
		curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &up);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->data.len);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, ar_notify_abort_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
	if (strcmp(port + 1, "465") != 0)
		curl_easy_setopt(h, CURLOPT_USE_SSL,
		    require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	ax_rw_tls_apply(h, &c->tls_config);
	if (user && *user) {
		const char *p = pw ? pw : pass;

		curl_easy_setopt(h, CURLOPT_USERNAME, user);
		if (p && *p) {
			curl_easy_setopt(h, CURLOPT_PASSWORD, p);
			curl_easy_setopt(
			    h, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN;AUTH=LOGIN");
			if (identity && *identity)
				curl_easy_setopt(
				    h, CURLOPT_SASL_AUTHZID, identity);
		} else if (secret && *secret) {
			curl_easy_setopt(h, CURLOPT_PASSWORD, secret);
			curl_easy_setopt(
			    h, CURLOPT_LOGIN_OPTIONS, "AUTH=CRAM-MD5");
		}
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		rv = ax_err_set(err, AX_EUNAVAIL,
		    "smtp://%s: %s%s (last reply %ld)", smarthost,
		    curl_easy_strerror(cc),
		    cc == CURLE_USE_SSL_FAILED
		        ? "; 'require_tls' is true (default) but the server "
		          "does not offer STARTTLS"
		        : "",
		    code);
	}
	/* the handle keeps pointers to these: detach before freeing */
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	return rv;
}

int ar_email_send_retry(const ar_email_cfg_t *c, const ar_global_t *g,
    const ar_email_msg_t *m, int64_t deadline_ms, const int *stop,
    ax_err_t *err)
{
	int64_t backoff = 500;
	unsigned seed = (unsigned)ax_mono_ms();

	for (;;) {
		int64_t left = deadline_ms - ax_now_ms();
		int rv;

		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			return ax_err_set(err, AX_ECLOSED, "shutting down");
		if (left <= 0)
			return err->code ? err->code
			                 : ax_err_set(err, AX_ETIMEDOUT,
			                       "no time left to send");
		rv = send_once(
		    c, g, m, (long)(left < 30000 ? left : 30000), stop, err);
		if (rv == 0)
			return 0;
		if (rv == AX_ECONFIG || rv == AX_ENOMEM)
			return rv;
		/* as Alertmanager, every SMTP failure is worth retrying */
		switch (ar_notify_backoff(&backoff, &seed, deadline_ms, stop)) {
		case 1: return err->code;
		case -1: return ax_err_set(err, AX_ECLOSED, "shutting down");
		}
	}
}
