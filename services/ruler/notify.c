/*
 * rl_notify: alert delivery (notify.h).
 */
#include "ruler/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_buf.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/alerts.pb-c.h"

#define QUEUE_MAX 10000
#define BATCH_MAX 64

typedef struct qalert {
	ax_labels_t *labels;
	rl_kv_t ann;
	int64_t starts_ms, ends_ms;
	char *url;
} qalert_t;

/* A destination: an alert router (cli) or an Alertmanager (url). */
typedef struct dest {
	char *name;
	ax_msg_client_t *cli;
	char *url;
	const rl_am_t *am; /* its settings (in n->cfg_am) */
	ax_metric_t *sent, *errors;
} dest_t;

struct rl_notify {
	pthread_mutex_t mu;  /* the queue, external labels, relabeling */
	pthread_mutex_t dmu; /* the destinations (held while sending) */
	pthread_cond_t cv;
	pthread_t thr;
	int started, stopping;
	qalert_t *q;
	size_t qhead, qlen;
	dest_t *dests;
	size_t ndests;
	rl_am_t *ams; /* copies of the settings the dests point to */
	size_t nams;
	ax_labels_t *external;
	ax_relabels_t relabel;
	ax_metrics_t *metrics;
	ax_mfam_t *f_sent, *f_errors;
	ax_metric_t *dropped, *queue_len;
	uint64_t batch_id;
};

static void qalert_free(qalert_t *a)
{
	ax_labels_free(a->labels);
	rl_kv_free(&a->ann);
	free(a->url);
	memset(a, 0, sizeof(*a));
}

/* ---- destinations ---- */

static char *dupz(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void dests_free(rl_notify_t *n)
{
	size_t i;

	for (i = 0; i < n->ndests; i++) {
		ax_msg_client_close(n->dests[i].cli);
		free(n->dests[i].name);
		free(n->dests[i].url);
	}
	free(n->dests);
	n->dests = NULL;
	n->ndests = 0;
	for (i = 0; i < n->nams; i++) {
		free(n->ams[i].scheme);
		free(n->ams[i].path_prefix);
		free(n->ams[i].basic_auth.username);
		free(n->ams[i].basic_auth.password);
		free(n->ams[i].basic_auth.password_file);
		free(n->ams[i].authorization.type);
		free(n->ams[i].authorization.credentials);
		free(n->ams[i].authorization.credentials_file);
		free(n->ams[i].bearer_token);
		free(n->ams[i].bearer_token_file);
		free(n->ams[i].tls_config.ca_file);
		free(n->ams[i].tls_config.cert_file);
		free(n->ams[i].tls_config.key_file);
		free(n->ams[i].tls_config.server_name);
	}
	free(n->ams);
	n->ams = NULL;
	n->nams = 0;
}

/* Copy the HTTP settings of an alertmanagers entry (no targets). */
static int am_copy(rl_am_t *d, const rl_am_t *s)
{
	memset(d, 0, sizeof(*d));
	d->timeout_ms = s->timeout_ms;
	d->follow_redirects = s->follow_redirects;
	d->enable_http2 = s->enable_http2;
	d->tls_config.insecure_skip_verify = s->tls_config.insecure_skip_verify;
#define CP(f)                                                                  \
	if (s->f && (d->f = strdup(s->f)) == NULL)                             \
		return AX_ENOMEM;
	CP(scheme);
	CP(path_prefix);
	CP(basic_auth.username);
	CP(basic_auth.password);
	CP(basic_auth.password_file);
	CP(authorization.type);
	CP(authorization.credentials);
	CP(authorization.credentials_file);
	CP(bearer_token);
	CP(bearer_token_file);
	CP(tls_config.ca_file);
	CP(tls_config.cert_file);
	CP(tls_config.key_file);
	CP(tls_config.server_name);
#undef CP
	return 0;
}

static int add_dest(rl_notify_t *n, const char *name, ax_msg_client_t *cli,
    const char *url, const rl_am_t *am)
{
	dest_t *d = realloc(n->dests, (n->ndests + 1) * sizeof(*d));
	const char *lv[1] = {name};

	if (d == NULL)
		return AX_ENOMEM;
	n->dests = d;
	d = &n->dests[n->ndests];
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	d->url = dupz(url);
	d->cli = cli;
	d->am = am;
	d->sent = n->f_sent ? ax_mfam_with(n->f_sent, lv) : NULL;
	d->errors = n->f_errors ? ax_mfam_with(n->f_errors, lv) : NULL;
	n->ndests++;
	return d->name && (url == NULL || d->url) ? 0 : AX_ENOMEM;
}

static int build_dests(rl_notify_t *n, const rl_config_t *cfg, ax_err_t *err)
{
	const rl_am_t *ams = cfg->alerting.alertmanagers.items;
	size_t i, k, t, total = 0;
	int rv;

	for (i = 0; i < cfg->alerting.alertmanagers.n; i++)
		total++;
	if ((n->ams = calloc(total + 1, sizeof(*n->ams))) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < cfg->alert_routers.n; i++) {
		ax_msg_opts_t mo = {0};
		ax_msg_client_t *cli;

		mo.timeout_ms = 10000;
		mo.retries = 0;
		if ((rv = ax_msg_client_open(
		         cfg->alert_routers.v[i], &mo, &cli, err)) != 0)
			return rv;
		if (add_dest(n, cfg->alert_routers.v[i], cli, NULL, NULL) !=
		    0) {
			ax_msg_client_close(cli);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	for (i = 0; i < cfg->alerting.alertmanagers.n; i++) {
		const rl_static_t *st = ams[i].static_configs.items;

		if (am_copy(&n->ams[n->nams], &ams[i]) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		n->nams++;
		for (k = 0; k < ams[i].static_configs.n; k++)
			for (t = 0; t < st[k].targets.n; t++) {
				char url[2048];
				const char *pp = ams[i].path_prefix
				    ? ams[i].path_prefix
				    : "";
				size_t pl = strlen(pp);

				snprintf(url, sizeof(url),
				    "%s://%s%.*s/api/v2/alerts",
				    ams[i].scheme ? ams[i].scheme : "http",
				    st[k].targets.v[t],
				    (int)(pl && pp[pl - 1] == '/' ? pl - 1
				                                  : pl),
				    pp);
				if (add_dest(n, url, NULL, url,
				        &n->ams[n->nams - 1]) != 0)
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
			}
	}
	return 0;
}

/* ---- sending ---- */

static void time_json(ax_buf_t *b, const char *key, int64_t ms)
{
	char t[64];

	ax_time_format(ms, t, sizeof(t));
	ax_buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

static void am_body(const qalert_t *v, size_t n, ax_buf_t *b)
{
	size_t i, k;

	ax_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		ax_buf_puts(b, i ? ",{\"labels\":{" : "{\"labels\":{");
		for (k = 0; k < v[i].labels->n; k++) {
			if (k)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, v[i].labels->l[k].name);
			ax_buf_putc(b, ':');
			ax_buf_put_json_str(b, v[i].labels->l[k].value);
		}
		ax_buf_puts(b, "},\"annotations\":{");
		for (k = 0; k < v[i].ann.n; k++) {
			if (k)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, v[i].ann.k[k]);
			ax_buf_putc(b, ':');
			ax_buf_put_json_str(b, v[i].ann.v[k]);
		}
		ax_buf_putc(b, '}');
		time_json(b, "startsAt", v[i].starts_ms);
		if (v[i].ends_ms)
			time_json(b, "endsAt", v[i].ends_ms);
		ax_buf_puts(b, ",\"generatorURL\":");
		ax_buf_put_json_str(b, v[i].url ? v[i].url : "");
		ax_buf_putc(b, '}');
	}
	ax_buf_putc(b, ']');
}

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

static int send_am(
    CURL *c, const dest_t *d, const char *body, size_t len, ax_err_t *err)
{
	const rl_am_t *a = d->am;
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode cc;
	int rv = 0;

	curl_easy_reset(c);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: axon-ruler/" AX_VERSION);
	if ((rv = ax_rw_auth_apply(c, &a->basic_auth, &a->authorization,
	         a->bearer_token, a->bearer_token_file, &h, err)) != 0) {
		curl_slist_free_all(h);
		return rv;
	}
	curl_easy_setopt(c, CURLOPT_URL, d->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(
	    c, CURLOPT_FOLLOWLOCATION, a->follow_redirects ? 1L : 0L);
	if (!a->enable_http2)
		curl_easy_setopt(
		    c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	ax_rw_tls_apply(c, &a->tls_config);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		rv = ax_err_set(err, AX_EUNAVAIL, "%s", curl_easy_strerror(cc));
	else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status / 100 != 2)
			rv = ax_err_set(err, AX_EPROTO, "HTTP %ld", status);
	}
	curl_slist_free_all(h);
	return rv;
}

static int send_router(rl_notify_t *n, const dest_t *d, const qalert_t *v,
    size_t cnt, ax_err_t *err)
{
	Axon__V1__AlertBatch b = AXON__V1__ALERT_BATCH__INIT;
	Axon__V1__AlertBatchAck *ack = NULL;
	Axon__V1__Alert *al = calloc(cnt + 1, sizeof(*al));
	Axon__V1__Alert **alp = calloc(cnt + 1, sizeof(*alp));
	Axon__V1__Label *lb;
	Axon__V1__Label **lbp;
	size_t i, k, nl = 0, li = 0;
	int rv;

	for (i = 0; i < cnt; i++)
		nl += v[i].labels->n + v[i].ann.n;
	lb = calloc(nl + 1, sizeof(*lb));
	lbp = calloc(nl + 1, sizeof(*lbp));
	if (!al || !alp || !lb || !lbp) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		axon__v1__alert__init(&al[i]);
		al[i].labels = &lbp[li];
		al[i].n_labels = v[i].labels->n;
		for (k = 0; k < v[i].labels->n; k++, li++) {
			axon__v1__label__init(&lb[li]);
			lb[li].name = (char *)v[i].labels->l[k].name;
			lb[li].value = (char *)v[i].labels->l[k].value;
			lbp[li] = &lb[li];
		}
		al[i].annotations = &lbp[li];
		al[i].n_annotations = v[i].ann.n;
		for (k = 0; k < v[i].ann.n; k++, li++) {
			axon__v1__label__init(&lb[li]);
			lb[li].name = v[i].ann.k[k];
			lb[li].value = v[i].ann.v[k];
			lbp[li] = &lb[li];
		}
		al[i].starts_at_ms = v[i].starts_ms;
		al[i].ends_at_ms = v[i].ends_ms;
		al[i].generator_url = v[i].url ? v[i].url : "";
		alp[i] = &al[i];
	}
	b.version = 1;
	b.sender_id = "axon-ruler";
	b.batch_id = ++n->batch_id;
	b.alerts = alp;
	b.n_alerts = cnt;
	rv =
	    ax_msg_call(d->cli, &b.base, &axon__v1__alert_batch_ack__descriptor,
	        (ProtobufCMessage **)&ack, err);
	if (rv == 0) {
		if (ack->invalid > 0)
			ax_log_warn("the alert router refused alerts", "router",
			    d->name, "err", ack->message);
		if (ack->retry)
			rv = ax_err_set(err, AX_EAGAIN,
			    "the router asks to "
			    "retry: %s",
			    ack->message);
		protobuf_c_message_free_unpacked(&ack->base, NULL);
	}
out:
	free(al);
	free(alp);
	free(lb);
	free(lbp);
	return rv;
}

static void *sender_main(void *arg)
{
	rl_notify_t *n = arg;
	CURL *c = curl_easy_init();

	pthread_mutex_lock(&n->mu);
	for (;;) {
		qalert_t batch[BATCH_MAX];
		size_t cnt = 0, i;
		ax_buf_t body = AX_BUF_INIT;

		while (n->qlen == 0 && !n->stopping)
			pthread_cond_wait(&n->cv, &n->mu);
		if (n->qlen == 0 && n->stopping)
			break;
		while (n->qlen > 0 && cnt < BATCH_MAX) {
			batch[cnt++] = n->q[n->qhead];
			memset(&n->q[n->qhead], 0, sizeof(qalert_t));
			n->qhead = (n->qhead + 1) % QUEUE_MAX;
			n->qlen--;
		}
		ax_gauge_set(n->queue_len, (double)n->qlen);
		/* senders of alerts never wait for a slow destination; a
		 * reload waits for the batch in flight (dmu) */
		pthread_mutex_unlock(&n->mu);
		pthread_mutex_lock(&n->dmu);
		am_body(batch, cnt, &body);
		for (i = 0; i < n->ndests; i++) {
			dest_t *d = &n->dests[i];
			ax_err_t err = {0};
			int rv = d->cli ? send_router(n, d, batch, cnt, &err)
			    : c         ? send_am(c, d, body.p ? body.p : "[]",
			                      body.len, &err)
			                : AX_ENOMEM;

			ax_counter_add(d->sent, (double)cnt);
			if (rv != 0) {
				ax_counter_add(d->errors, (double)cnt);
				char nb[32];

				snprintf(nb, sizeof(nb), "%zu", cnt);
				ax_log_warn("sending alerts failed (they are "
				            "sent again at the next resend)",
				    "to", d->name, "count", nb, "err", err.msg);
			}
		}
		pthread_mutex_unlock(&n->dmu);
		ax_buf_fini(&body);
		for (i = 0; i < cnt; i++)
			qalert_free(&batch[i]);
		pthread_mutex_lock(&n->mu);
	}
	pthread_mutex_unlock(&n->mu);
	curl_easy_cleanup(c);
	return NULL;
}

/* ---- API ---- */

static int take_cfg(rl_notify_t *n, const rl_config_t *cfg, ax_err_t *err)
{
	int rv;

	ax_labels_free(n->external);
	n->external = NULL;
	ax_relabel_free(&n->relabel);
	memset(&n->relabel, 0, sizeof(n->relabel));
	if (cfg->global.external_labels &&
	    (n->external = ax_labels_dup(cfg->global.external_labels)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = ax_relabel_dup(&cfg->alerting.relabel, &n->relabel, err)) !=
	    0)
		return rv;
	return build_dests(n, cfg, err);
}

int rl_notify_start(const rl_config_t *cfg, ax_metrics_t *metrics,
    rl_notify_t **out, ax_err_t *err)
{
	rl_notify_t *n = calloc(1, sizeof(*n));
	static const char *const lbl[] = {"alertmanager"};
	int rv;

	if (n == NULL || (n->q = calloc(QUEUE_MAX, sizeof(qalert_t))) == NULL) {
		free(n);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_mutex_init(&n->dmu, NULL);
	pthread_cond_init(&n->cv, NULL);
	n->metrics = metrics;
	n->f_sent = ax_metrics_family(metrics, AX_METRIC_COUNTER,
	    "prometheus_notifications_sent_total",
	    "Total number of alerts sent.", 1, lbl, NULL, 0);
	n->f_errors = ax_metrics_family(metrics, AX_METRIC_COUNTER,
	    "prometheus_notifications_errors_total",
	    "Total number of errors sending alert notifications.", 1, lbl, NULL,
	    0);
	n->dropped = ax_metrics_counter(metrics,
	    "prometheus_notifications_dropped_total",
	    "Total number of alerts dropped due to errors when sending to "
	    "Alertmanager or a full queue.");
	n->queue_len =
	    ax_metrics_gauge(metrics, "prometheus_notifications_queue_length",
	        "The number of alert notifications in the queue.");
	if ((rv = take_cfg(n, cfg, err)) != 0) {
		rl_notify_stop(n);
		return rv;
	}
	if (pthread_create(&n->thr, NULL, sender_main, n) != 0) {
		rl_notify_stop(n);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	n->started = 1;
	*out = n;
	return 0;
}

int rl_notify_reload(rl_notify_t *n, const rl_config_t *cfg, ax_err_t *err)
{
	int rv;

	pthread_mutex_lock(&n->dmu);
	pthread_mutex_lock(&n->mu);
	dests_free(n);
	rv = take_cfg(n, cfg, err);
	pthread_mutex_unlock(&n->mu);
	pthread_mutex_unlock(&n->dmu);
	return rv;
}

void rl_notify_send(rl_notify_t *n, const rl_out_alert_t *a, size_t count)
{
	size_t i, k;

	pthread_mutex_lock(&n->mu);
	for (i = 0; i < count; i++) {
		ax_labels_t *ls = NULL, *rl = NULL;
		qalert_t *q;
		ax_err_t err;

		/* external labels, unless the alert has them */
		if (n->external && n->external->n > 0) {
			ax_label_t *pairs = calloc(
			    a[i].labels->n + n->external->n, sizeof(*pairs));
			size_t np = 0;

			if (pairs == NULL)
				continue;
			for (k = 0; k < a[i].labels->n; k++)
				pairs[np++] = a[i].labels->l[k];
			for (k = 0; k < n->external->n; k++)
				if (!ax_labels_get(
				        a[i].labels, n->external->l[k].name))
					pairs[np++] = n->external->l[k];
			ax_labels_new(pairs, np, &ls, &err);
			free(pairs);
		} else
			ls = ax_labels_dup(a[i].labels);
		if (ls == NULL)
			continue;
		if (n->relabel.n > 0) {
			int r = ax_relabel_process(&n->relabel, ls, &rl, &err);

			ax_labels_free(ls);
			if (r <= 0)
				continue; /* dropped by alert_relabel_configs */
			ls = rl;
		}
		if (n->qlen == QUEUE_MAX) {
			/* full: the oldest goes */
			qalert_free(&n->q[n->qhead]);
			n->qhead = (n->qhead + 1) % QUEUE_MAX;
			n->qlen--;
			ax_counter_inc(n->dropped);
		}
		q = &n->q[(n->qhead + n->qlen) % QUEUE_MAX];
		memset(q, 0, sizeof(*q));
		q->labels = ls;
		q->starts_ms = a[i].starts_ms;
		q->ends_ms = a[i].ends_ms;
		q->url = dupz(a[i].generator_url);
		if (rl_kv_copy(&q->ann, a[i].annotations) != 0)
			rl_kv_free(&q->ann); /* sent without annotations */
		n->qlen++;
	}
	ax_gauge_set(n->queue_len, (double)n->qlen);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

void rl_notify_stop(rl_notify_t *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->stopping = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	if (n->started)
		pthread_join(n->thr, NULL);
	while (n->qlen > 0) {
		qalert_free(&n->q[n->qhead]);
		n->qhead = (n->qhead + 1) % QUEUE_MAX;
		n->qlen--;
	}
	dests_free(n);
	ax_labels_free(n->external);
	ax_relabel_free(&n->relabel);
	free(n->q);
	pthread_mutex_destroy(&n->mu);
	pthread_mutex_destroy(&n->dmu);
	pthread_cond_destroy(&n->cv);
	free(n);
}
