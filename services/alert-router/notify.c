/*
 * ar_notify: notifications (notify.h).
 */
#include "alert-router/notify.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "alert-router/tmpl.h"
#include "ax_rw.h"
#include "ax_units.h"

/* ---- order ---- */

static int cmp_alert(const void *x, const void *y)
{
	const ar_alert_t *a = *(ar_alert_t *const *)x;
	const ar_alert_t *b = *(ar_alert_t *const *)y;
	static const char *const keys[] = {"job", "instance"};
	size_t k;

	for (k = 0; k < 2; k++) {
		const char *av = ax_labels_get(a->labels, keys[k]);
		const char *bv = ax_labels_get(b->labels, keys[k]);
		int c;

		if (!av && !bv)
			continue;
		if (!av)
			return 1;
		if (!bv)
			return -1;
		if ((c = strcmp(av, bv)) != 0)
			return c;
	}
	return ar_labels_before(a->labels, b->labels);
}

void ar_notify_sort(ar_alert_t **v, size_t n)
{
	/* insertion sort keeps equal elements in place (sort.Stable) */
	size_t i, j;

	if (n > 64) {
		/* fingerprints are unique per group, so no two alerts compare
		 * equal and qsort's instability cannot show */
		qsort(v, n, sizeof(*v), cmp_alert);
		return;
	}
	for (i = 1; i < n; i++) {
		ar_alert_t *x = v[i];

		for (j = i; j > 0 && cmp_alert(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* ---- webhook body ---- */

/* Go's time.Time JSON: RFC 3339 with a fraction without trailing zeros. */
static void put_time(ax_buf_t *b, int64_t ms)
{
	char t[48];
	size_t len;

	if (ms == 0) {
		ax_buf_puts(b, "\"0001-01-01T00:00:00Z\"");
		return;
	}
	ax_time_format(ms, t, sizeof(t)); /* ...SS.mmmZ */
	len = strlen(t);
	if (len > 5 && t[len - 5] == '.') {
		size_t end = len - 1; /* the Z */

		while (end > len - 4 && t[end - 1] == '0')
			end--;
		if (end == len - 4)
			end--; /* no digits left: drop the dot */
		t[end] = 'Z';
		t[end + 1] = '\0';
	}
	ax_buf_printf(b, "\"%s\"", t);
}

/* Labels (or annotations) every alert has with the same value. */
static void put_common(ax_buf_t *b, ar_alert_t **v, size_t n, int ann)
{
	const ax_labels_t *first;
	uint32_t i;
	size_t k;
	int any = 0;

	ax_buf_putc(b, '{');
	first = n ? (ann ? v[0]->annotations : v[0]->labels) : NULL;
	for (i = 0; first && i < first->n; i++) {
		const char *name = first->l[i].name;
		const char *val = first->l[i].value;

		for (k = 1; k < n; k++) {
			const char *o = ax_labels_get(
			    ann ? v[k]->annotations : v[k]->labels, name);

			if (o == NULL || strcmp(o, val) != 0)
				break;
		}
		if (k < n)
			continue;
		if (any++)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, name);
		ax_buf_putc(b, ':');
		ax_buf_put_json_str(b, val);
	}
	ax_buf_putc(b, '}');
}

int ar_webhook_body(
    const ar_notice_t *nt, const ar_webhook_cfg_t *w, ax_buf_t *b)
{
	size_t i, n = nt->n, firing = 0;

	for (i = 0; i < nt->n; i++)
		firing += !nt->resolved[i];
	if (w->max_alerts > 0 && (size_t)w->max_alerts < n)
		n = (size_t)w->max_alerts;
	ax_buf_puts(b, "{\"receiver\":");
	ax_buf_put_json_str(b, nt->receiver);
	ax_buf_printf(b, ",\"status\":\"%s\",\"alerts\":[",
	    firing ? "firing" : "resolved");
	for (i = 0; i < n; i++) {
		const ar_alert_t *a = nt->alerts[i];

		ax_buf_printf(b,
		    "%s{\"status\":\"%s\",\"labels\":", i ? "," : "",
		    nt->resolved[i] ? "resolved" : "firing");
		ax_labels_put_json(a->labels, b);
		ax_buf_puts(b, ",\"annotations\":");
		ax_labels_put_json(a->annotations, b);
		ax_buf_puts(b, ",\"startsAt\":");
		put_time(b, a->starts_ms);
		ax_buf_puts(b, ",\"endsAt\":");
		put_time(b, nt->resolved[i] ? a->ends_ms : 0);
		ax_buf_puts(b, ",\"generatorURL\":");
		ax_buf_put_json_str(
		    b, a->generator_url ? a->generator_url : "");
		ax_buf_printf(b, ",\"fingerprint\":\"%016llx\"}",
		    (unsigned long long)a->fp);
	}
	ax_buf_puts(b, "],\"groupLabels\":");
	ax_labels_put_json(nt->group_labels, b);
	ax_buf_puts(b, ",\"commonLabels\":");
	put_common(b, nt->alerts, nt->n, 0);
	ax_buf_puts(b, ",\"commonAnnotations\":");
	put_common(b, nt->alerts, nt->n, 1);
	ax_buf_puts(b, ",\"externalURL\":");
	ax_buf_put_json_str(b, nt->external_url ? nt->external_url : "");
	ax_buf_puts(b, ",\"version\":\"4\",\"groupKey\":");
	ax_buf_put_json_str(b, nt->group_key);
	ax_buf_printf(b, ",\"truncatedAlerts\":%zu", nt->n - n);
	if (nt->suppressed_alerts > 0) {
		ax_buf_printf(b,
		    ",\"axonSuppressed\":{\"alerts\":%zu,\"services\":[",
		    nt->suppressed_alerts);
		for (i = 0; i < nt->n_suppressed_services; i++) {
			if (i)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, nt->suppressed_services[i]);
		}
		ax_buf_puts(b, "]}");
	}
	ax_buf_putc(b, '}');
	return ax_buf_ok(b) ? 0 : AX_ENOMEM;
}

/* ---- HTTP ---- */

static size_t collect(char *p, size_t sz, size_t n, void *arg)
{
	ax_buf_t *b = arg;

	if (b->len < 1024)
		ax_buf_append(b, p, sz * n);
	return sz * n;
}

int ar_notify_abort_cb(
    void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const int *stop = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return stop && __atomic_load_n(stop, __ATOMIC_RELAXED);
}

/* One easy handle per sending thread, reset between sends: its
 * connection cache keeps connections to a receiver alive from one
 * notification to the next.  Freed when the thread exits. */
static pthread_key_t curl_key;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_key_free(void *p)
{
	curl_easy_cleanup(p);
}

static void curl_key_init(void)
{
	pthread_key_create(&curl_key, curl_key_free);
}

void *ar_notify_thread_curl(void)
{
	CURL *c;

	pthread_once(&curl_once, curl_key_init);
	c = pthread_getspecific(curl_key);
	if (c) {
		curl_easy_reset(c);
		return c;
	}
	if ((c = curl_easy_init()) != NULL &&
	    pthread_setspecific(curl_key, c) != 0) {
		curl_easy_cleanup(c);
		c = NULL;
	}
	return c;
}

static int post_once(const ar_http_cfg_t *h, const char *url, const char *body,
    size_t len, long timeout_ms, const int *stop, ax_buf_t *resp, ax_err_t *err)
{
	CURL *c = ar_notify_thread_curl();
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURLcode cc;

	if (c == NULL)
		return AX_ENOMEM;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(
	    hdrs, "User-Agent: axon-alert-router/" AX_VERSION);
	if (ax_rw_auth_apply(c, &h->basic_auth, &h->authorization,
	        h->bearer_token, h->bearer_token_file, &hdrs, err) != 0)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    c, CURLOPT_FOLLOWLOCATION, h->follow_redirects ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ar_notify_abort_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
	if (h->proxy_url)
		curl_easy_setopt(c, CURLOPT_PROXY, h->proxy_url);
	if (!h->enable_http2)
		curl_easy_setopt(
		    c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	ax_rw_tls_apply(c, &h->tls_config);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		ax_err_set(
		    err, AX_EUNAVAIL, "%s: %s", url, curl_easy_strerror(cc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
	curl_slist_free_all(hdrs);
	return (int)status;
}

int ar_http_post_retry(const ar_http_cfg_t *h, const char *url,
    const char *body, size_t len, int64_t deadline_ms, const int *stop,
    int retry_403, ax_err_t *err)
{
	int64_t backoff = 500, now;
	unsigned seed = (unsigned)ax_mono_ms();

	for (;;) {
		ax_buf_t resp = AX_BUF_INIT;
		long left;
		int st;

		now = ax_now_ms();
		left = (long)(deadline_ms - now);
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			return ax_err_set(
			    err, AX_ECLOSED, "%s: shutting down", url);
		if (left <= 0)
			return err->code ? err->code
			                 : ax_err_set(err, AX_ETIMEDOUT,
			                       "%s: no time left to send", url);
		st = post_once(h, url, body, len, left < 30000 ? left : 30000,
		    stop, &resp, err);
		if (st >= 200 && st < 300) {
			ax_buf_fini(&resp);
			err->code = 0;
			return 0;
		}
		if (st == AX_ENOMEM) {
			ax_buf_fini(&resp);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		if (st > 0) {
			ax_err_set(err,
			    st >= 500 || st == 429 || (st == 403 && retry_403)
			        ? AX_EAGAIN
			        : AX_EPROTO,
			    "%s: HTTP %d: %.200s", url, st,
			    resp.p && ax_buf_ok(&resp) ? resp.p : "");
			if (err->code == AX_EPROTO) {
				ax_buf_fini(&resp);
				return AX_EPROTO; /* 4xx: the same body fails
				                     again */
			}
		}
		ax_buf_fini(&resp);
		if (err->code == AX_ECONFIG)
			return AX_ECONFIG; /* an unreadable secret file */
		switch (ar_notify_backoff(&backoff, &seed, deadline_ms, stop)) {
		case 1: return err->code;
		case -1:
			return ax_err_set(
			    err, AX_ECLOSED, "%s: shutting down", url);
		}
	}
}

int ar_notify_backoff(
    int64_t *backoff, unsigned *seed, int64_t deadline_ms, const int *stop)
{
	/* jitter in [0.5, 1.5) x */
	int64_t wait =
	    *backoff / 2 + (int64_t)(rand_r(seed) % (unsigned)(*backoff + 1));
	struct timespec ts;

	if (ax_now_ms() + wait >= deadline_ms)
		return 1;
	for (; wait > 0; wait -= 100) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			return -1;
		ts.tv_sec = 0;
		ts.tv_nsec = (wait < 100 ? wait : 100) * 1000000L;
		nanosleep(&ts, NULL);
	}
	*backoff = *backoff * 2 > 30000 ? 30000 : *backoff * 2;
	return 0;
}

/* ---- PagerDuty ---- */

#define PD_V1_URL                                                              \
	"https://events.pagerduty.com/generic/2010-04-15/create_event.json"

typedef struct pd_ctx {
	const ax_tmpl_t *tmpl;
	ax_tval_t *data;
	ax_arena_t *arena;
} pd_ctx_t;

/* Render one config field; "" stays "". */
static int pd_field(
    const pd_ctx_t *tc, const char *text, ax_buf_t *out, ax_err_t *err)
{
	if (text == NULL || *text == '\0')
		return 0;
	return ar_tmpl_render(
	    (ax_tmpl_t *)tc->tmpl, text, tc->data, tc->arena, out, err);
}

/* Append ,"key":"rendered" (unless empty and not keep_empty). */
static int pd_put(const pd_ctx_t *tc, ax_buf_t *b, const char *key,
    const char *text, int keep_empty, ax_err_t *err)
{
	ax_buf_t v = AX_BUF_INIT;
	int rv = pd_field(tc, text, &v, err);

	if (rv == 0 && (v.len > 0 || keep_empty)) {
		ax_buf_printf(b, ",\"%s\":", key);
		ax_buf_put_json_str(b, v.p ? v.p : "");
	}
	ax_buf_fini(&v);
	return rv;
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)s, strlen(s), d);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* At most n runes; when cut, the last one is an ellipsis. */
static void truncate_runes(ax_buf_t *b, size_t n)
{
	size_t i, r = 0, total = 0;

	for (i = 0; i < b->len; i++)
		total += ((unsigned char)b->p[i] & 0xc0) != 0x80;
	if (total <= n)
		return;
	for (i = 0; i < b->len; i++)
		if (((unsigned char)b->p[i] & 0xc0) != 0x80 && r++ == n - 1)
			break;
	b->len = i;
	b->p[i] = '\0';
	ax_buf_puts(b, "\xe2\x80\xa6");
}

static const char *const pd_default_details[][2] = {
    {"firing", "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}"},
    {"num_firing", "{{ .Alerts.Firing | len }}"},
    {"num_resolved", "{{ .Alerts.Resolved | len }}"},
    {"resolved",
        "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}"},
};

/* custom_details: the config's details plus Alertmanager's defaults
 * (firing, resolved, num_firing, num_resolved) where not overridden. */
/* "a, b, c" */
static void join_services(const ar_notice_t *nt, ax_buf_t *b)
{
	size_t i;

	for (i = 0; i < nt->n_suppressed_services; i++) {
		if (i)
			ax_buf_puts(b, ", ");
		ax_buf_puts(b, nt->suppressed_services[i]);
	}
}

static int pd_details(const pd_ctx_t *tc, const ar_notice_t *nt,
    const ar_pagerduty_cfg_t *c, ax_buf_t *b, ax_err_t *err)
{
	size_t i, k, n = c->details.n + 4, out = 0;
	int rv = 0;

	ax_buf_putc(b, '{');
	if (nt->suppressed_alerts > 0) {
		ax_buf_printf(b,
		    "\"suppressed_alerts\":\"%zu\",\"suppressed_services\":\"",
		    nt->suppressed_alerts);
		join_services(nt, b);
		ax_buf_putc(b, '"');
		out++;
	}
	for (i = 0; i < n && rv == 0; i++) {
		const char *key, *v;
		ax_buf_t r = AX_BUF_INIT;

		if (i < c->details.n) {
			key = c->details.k[i];
			v = c->details.v[i];
		} else {
			key = pd_default_details[i - c->details.n][0];
			v = pd_default_details[i - c->details.n][1];
			for (k = 0; k < c->details.n; k++)
				if (strcmp(c->details.k[k], key) == 0)
					break;
			if (k < c->details.n)
				continue;
		}
		rv = pd_field(tc, v, &r, err);
		if (rv == 0) {
			if (out++)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, key);
			ax_buf_putc(b, ':');
			ax_buf_put_json_str(b, r.p ? r.p : "");
		} else {
			char msg[AX_ERR_MSG_MAX];

			snprintf(msg, sizeof(msg), "%s", err->msg);
			ax_err_set(err, AX_EINVAL,
			    "\"%s\": failed to template \"%s\": %s", key, v,
			    msg);
		}
		ax_buf_fini(&r);
	}
	ax_buf_putc(b, '}');
	return rv;
}

static int pd_images_links(
    const pd_ctx_t *tc, const ar_pagerduty_cfg_t *c, ax_buf_t *b, ax_err_t *err)
{
	const ar_pd_image_t *im = c->images.items;
	const ar_pd_link_t *ln = c->links.items;
	size_t i;
	int rv = 0, any = 0;

	for (i = 0; i < c->images.n && rv == 0; i++) {
		ax_buf_t src = AX_BUF_INIT, alt = AX_BUF_INIT,
		         href = AX_BUF_INIT;

		rv = pd_field(tc, im[i].src, &src, err);
		if (rv == 0)
			rv = pd_field(tc, im[i].alt, &alt, err);
		if (rv == 0)
			rv = pd_field(tc, im[i].href, &href, err);
		if (rv == 0 && src.len > 0) {
			ax_buf_puts(
			    b, any++ ? ",{\"src\":" : ",\"images\":[{\"src\":");
			ax_buf_put_json_str(b, src.p);
			ax_buf_puts(b, ",\"alt\":");
			ax_buf_put_json_str(b, alt.p ? alt.p : "");
			ax_buf_puts(b, ",\"href\":");
			ax_buf_put_json_str(b, href.p ? href.p : "");
			ax_buf_putc(b, '}');
		}
		ax_buf_fini(&src);
		ax_buf_fini(&alt);
		ax_buf_fini(&href);
	}
	if (any)
		ax_buf_putc(b, ']');
	any = 0;
	for (i = 0; i < c->links.n && rv == 0; i++) {
		ax_buf_t href = AX_BUF_INIT, text = AX_BUF_INIT;

		rv = pd_field(tc, ln[i].href, &href, err);
		if (rv == 0)
			rv = pd_field(tc, ln[i].text, &text, err);
		if (rv == 0 && href.len > 0) {
			ax_buf_puts(b,
			    any++ ? ",{\"href\":" : ",\"links\":[{\"href\":");
			ax_buf_put_json_str(b, href.p);
			ax_buf_puts(b, ",\"text\":");
			ax_buf_put_json_str(b, text.p ? text.p : "");
			ax_buf_putc(b, '}');
		}
		ax_buf_fini(&href);
		ax_buf_fini(&text);
	}
	if (any)
		ax_buf_putc(b, ']');
	return rv;
}

int ar_pagerduty_body(const ar_notice_t *nt, const ar_pagerduty_cfg_t *c,
    const struct ax_tmpl *tmpl, ax_buf_t *b, const char **url, ax_err_t *err)
{
	pd_ctx_t tc;
	ax_buf_t key = AX_BUF_INIT, summary = AX_BUF_INIT;
	char dedup[65], *secret = NULL;
	size_t i, firing = 0;
	int v1 = c->service_key || c->service_key_file, rv;
	const char *rk = v1 ? c->service_key : c->routing_key;
	const char *rkf = v1 ? c->service_key_file : c->routing_key_file;
	const char *description = c->description
	    ? c->description
	    : "{{ template \"pagerduty.default.description\" .}}";
	const char *client = c->client
	    ? c->client
	    : "{{ template \"pagerduty.default.client\" . }}";
	const char *client_url = c->client_url
	    ? c->client_url
	    : "{{ template \"pagerduty.default.clientURL\" . }}";

	for (i = 0; i < nt->n; i++)
		firing += !nt->resolved[i];
	tc.tmpl = tmpl;
	if ((tc.arena = ax_arena_new()) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((tc.data = ar_tmpl_data(tc.arena, nt)) == NULL) {
		ax_arena_free(tc.arena);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (rkf && (secret = ax_rw_read_secret_file(rkf, err)) == NULL) {
		ax_arena_free(tc.arena);
		return err->code;
	}
	sha256_hex(nt->group_key, dedup);
	rv = pd_field(&tc, secret ? secret : rk, &key, err);
	if (rv == 0 && key.len == 0)
		rv = ax_err_set(err, AX_ECONFIG, "%s cannot be empty",
		    v1 ? "service key" : "routing key");
	if (rv == 0) {
		ax_buf_printf(
		    b, "{\"%s\":", v1 ? "service_key" : "routing_key");
		ax_buf_put_json_str(b, key.p);
		ax_buf_printf(b, ",\"%s\":\"%s\",\"%s\":\"%s\"",
		    v1 ? "incident_key" : "dedup_key", dedup,
		    v1 ? "event_type" : "event_action",
		    firing ? "trigger" : "resolve");
		rv = pd_field(&tc, description, &summary, err);
	}
	/* topology inhibition: the page says what it stands for */
	if (rv == 0 && nt->suppressed_alerts > 0 && c->description == NULL) {
		ax_buf_printf(&summary,
		    "; %zu alert%s from %zu dependent service%s suppressed: ",
		    nt->suppressed_alerts,
		    nt->suppressed_alerts == 1 ? "" : "s",
		    nt->n_suppressed_services,
		    nt->n_suppressed_services == 1 ? "" : "s");
		join_services(nt, &summary);
	}
	if (rv == 0)
		truncate_runes(&summary, 1024);
	if (rv == 0 && v1) {
		ax_buf_puts(b, ",\"description\":");
		ax_buf_put_json_str(b, summary.p ? summary.p : "");
		ax_buf_puts(b, ",\"details\":");
		rv = pd_details(&tc, nt, c, b, err);
	} else if (rv == 0) {
		/* Alertmanager 0.25 sends the payload with resolves too */
		ax_buf_puts(b, ",\"payload\":{\"summary\":");
		ax_buf_put_json_str(b, summary.p ? summary.p : "");
		rv = pd_put(
		    &tc, b, "source", c->source ? c->source : client, 1, err);
		if (rv == 0)
			rv = pd_put(&tc, b, "severity",
			    c->severity ? c->severity : "error", 1, err);
		if (rv == 0)
			rv = pd_put(&tc, b, "class", c->class_, 0, err);
		if (rv == 0)
			rv = pd_put(&tc, b, "component", c->component, 0, err);
		if (rv == 0)
			rv = pd_put(&tc, b, "group", c->group, 0, err);
		if (rv == 0) {
			ax_buf_puts(b, ",\"custom_details\":");
			rv = pd_details(&tc, nt, c, b, err);
		}
		ax_buf_putc(b, '}');
	}
	if (rv == 0)
		rv = pd_put(&tc, b, "client", client, 0, err);
	if (rv == 0)
		rv = pd_put(&tc, b, "client_url", client_url, 0, err);
	if (rv == 0 && !v1)
		rv = pd_images_links(&tc, c, b, err);
	ax_buf_putc(b, '}');
	ax_buf_fini(&key);
	ax_buf_fini(&summary);
	free(secret);
	ax_arena_free(tc.arena);
	if (rv == 0 && !ax_buf_ok(b))
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	/* v1 always goes to PagerDuty's v1 endpoint, as in Alertmanager
	 * (`url` is the v2 endpoint) */
	if (rv == 0)
		*url = v1 ? PD_V1_URL : c->url;
	return rv;
}

/* ---- Slack ---- */

typedef struct sl_ctx {
	pd_ctx_t tc;
	ax_err_t *err;
	int rv;
} sl_ctx_t;

/* Render text into o[key]; optional ones (Go's omitempty) are left out
 * when empty. */
static void sl_put(
    sl_ctx_t *s, cJSON *o, const char *key, const char *text, int optional)
{
	ax_buf_t v = AX_BUF_INIT;

	if (s->rv != 0)
		return;
	s->rv = pd_field(&s->tc, text, &v, s->err);
	if (s->rv == 0 && !ax_buf_ok(&v))
		s->rv = ax_err_set(s->err, AX_ENOMEM, "out of memory");
	if (s->rv == 0 && (v.len > 0 || !optional) &&
	    cJSON_AddStringToObject(o, key, v.p ? v.p : "") == NULL)
		s->rv = ax_err_set(s->err, AX_ENOMEM, "out of memory");
	ax_buf_fini(&v);
}

#define SL_DEF(field, name)                                                    \
	((field) ? (field) : "{{ template \"slack.default." name "\" . }}")

int ar_slack_body(const ar_notice_t *nt, const ar_slack_cfg_t *c,
    const struct ax_tmpl *tmpl, ax_buf_t *b, ax_err_t *err)
{
	static const char *const mrkdwn_default[] = {
	    "fallback", "pretext", "text"};
	const ar_slack_field_t *f = c->fields.items;
	const ar_slack_action_t *ac = c->actions.items;
	sl_ctx_t s = {{0}, err, 0};
	cJSON *req = cJSON_CreateObject(), *atts, *att, *arr;
	ax_buf_t title = AX_BUF_INIT;
	char *text;
	size_t i;

	s.tc.tmpl = tmpl;
	if (req == NULL || (s.tc.arena = ax_arena_new()) == NULL ||
	    (s.tc.data = ar_tmpl_data(s.tc.arena, nt)) == NULL) {
		cJSON_Delete(req);
		ax_arena_free(s.tc.arena);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	sl_put(&s, req, "channel", c->channel, 1);
	sl_put(&s, req, "username", SL_DEF(c->username, "username"), 1);
	sl_put(&s, req, "icon_emoji", SL_DEF(c->icon_emoji, "iconemoji"), 1);
	sl_put(&s, req, "icon_url", SL_DEF(c->icon_url, "iconurl"), 1);
	if (c->link_names)
		cJSON_AddTrueToObject(req, "link_names");
	atts = cJSON_AddArrayToObject(req, "attachments");
	att = cJSON_CreateObject();
	if (atts == NULL || att == NULL || !cJSON_AddItemToArray(atts, att)) {
		cJSON_Delete(att);
		s.rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	/* Alertmanager truncates the title to 1024 runes */
	if (s.rv == 0)
		s.rv = pd_field(&s.tc, SL_DEF(c->title, "title"), &title, err);
	if (s.rv == 0 && title.len > 0) {
		truncate_runes(&title, 1024);
		cJSON_AddStringToObject(att, "title", title.p);
	}
	sl_put(&s, att, "title_link", SL_DEF(c->title_link, "titlelink"), 1);
	sl_put(&s, att, "pretext", SL_DEF(c->pretext, "pretext"), 1);
	sl_put(&s, att, "text", SL_DEF(c->text, "text"), 0);
	sl_put(&s, att, "fallback", SL_DEF(c->fallback, "fallback"), 0);
	sl_put(&s, att, "callback_id", SL_DEF(c->callback_id, "callbackid"), 0);
	if (s.rv == 0 && (c->fields.n > 0 || nt->suppressed_alerts > 0) &&
	    (arr = cJSON_AddArrayToObject(att, "fields")) != NULL) {
		for (i = 0; i < c->fields.n && s.rv == 0; i++) {
			cJSON *fo = cJSON_CreateObject();

			if (fo == NULL || !cJSON_AddItemToArray(arr, fo)) {
				cJSON_Delete(fo);
				s.rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
				break;
			}
			sl_put(&s, fo, "title", f[i].title, 1);
			sl_put(&s, fo, "value", f[i].value, 1);
			cJSON_AddBoolToObject(fo, "short",
			    f[i].short_ >= 0 ? f[i].short_ : c->short_fields);
		}
		/* topology inhibition: what the cause suppresses */
		if (s.rv == 0 && nt->suppressed_alerts > 0) {
			cJSON *fo = cJSON_CreateObject();
			ax_buf_t v = AX_BUF_INIT;

			ax_buf_printf(&v,
			    "%zu alert%s from %zu dependent service%s: ",
			    nt->suppressed_alerts,
			    nt->suppressed_alerts == 1 ? "" : "s",
			    nt->n_suppressed_services,
			    nt->n_suppressed_services == 1 ? "" : "s");
			join_services(nt, &v);
			if (fo && cJSON_AddItemToArray(arr, fo)) {
				cJSON_AddStringToObject(
				    fo, "title", "Suppressed");
				cJSON_AddStringToObject(
				    fo, "value", v.p ? v.p : "");
				cJSON_AddFalseToObject(fo, "short");
			} else
				cJSON_Delete(fo);
			ax_buf_fini(&v);
		}
	}
	/* an action's confirm is not sent, as Alertmanager 0.25 */
	if (s.rv == 0 && c->actions.n > 0 &&
	    (arr = cJSON_AddArrayToObject(att, "actions")) != NULL)
		for (i = 0; i < c->actions.n && s.rv == 0; i++) {
			cJSON *ao = cJSON_CreateObject();

			if (ao == NULL || !cJSON_AddItemToArray(arr, ao)) {
				cJSON_Delete(ao);
				s.rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
				break;
			}
			sl_put(&s, ao, "type", ac[i].type, 1);
			sl_put(&s, ao, "text", ac[i].text, 1);
			sl_put(&s, ao, "url", ac[i].url, 1);
			sl_put(&s, ao, "style", ac[i].style, 1);
			sl_put(&s, ao, "name", ac[i].name, 1);
			sl_put(&s, ao, "value", ac[i].value, 1);
		}
	sl_put(&s, att, "image_url", c->image_url, 1);
	sl_put(&s, att, "thumb_url", c->thumb_url, 1);
	sl_put(&s, att, "footer", SL_DEF(c->footer, "footer"), 0);
	sl_put(&s, att, "color",
	    c->color ? c->color
	             : "{{ if eq .Status \"firing\" }}danger{{ else }}good"
	               "{{ end }}",
	    1);
	if (s.rv == 0 &&
	    (arr = cJSON_AddArrayToObject(att, "mrkdwn_in")) != NULL) {
		size_t n = c->mrkdwn_in.n ? c->mrkdwn_in.n : 3;

		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(arr,
			    cJSON_CreateString(c->mrkdwn_in.n
			            ? c->mrkdwn_in.v[i]
			            : mrkdwn_default[i]));
	}
	if (s.rv == 0) {
		if ((text = cJSON_PrintUnformatted(req)) == NULL)
			s.rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		else {
			ax_buf_puts(b, text);
			free(text);
			if (!ax_buf_ok(b))
				s.rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	cJSON_Delete(req);
	ax_buf_fini(&title);
	ax_arena_free(s.tc.arena);
	return s.rv;
}
