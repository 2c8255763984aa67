/*
 * health: the discoverer's health checker (see health.h).
 */
#include "discoverer/health.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_buf.h"
#include "ax_log.h"
#include "ax_units.h"

#define OUTPUT_MAX 4096
#define TICK_MS 100

typedef struct run {
	struct run *next, *prev; /* in flight */
	disc_probe_t probe;
	CURL *easy;
	struct curl_slist *hdrs;
	ax_buf_t body;
	char url[1024];
	char errbuf[CURL_ERROR_SIZE];
} run_t;

struct disc_health {
	disc_reg_t *reg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	CURLM *multi;
	run_t *runs; /* in flight (checker thread only) */
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	run_t *r = arg;
	size_t len = sz * n;

	if (r->body.len < OUTPUT_MAX)
		ax_buf_append(&r->body, p,
		    r->body.len + len > OUTPUT_MAX ? OUTPUT_MAX - r->body.len
		                                   : len);
	return len;
}

static void probe_fini(disc_probe_t *p)
{
	size_t i;

	free(p->service_id);
	free(p->check_id);
	free(p->target);
	free(p->method);
	for (i = 0; p->headers && p->headers[i]; i++)
		free(p->headers[i]);
	free(p->headers);
}

static void run_free(run_t *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	ax_buf_fini(&r->body);
	probe_fini(&r->probe);
	free(r);
}

static int start_run(disc_health_t *h, run_t *r)
{
	CURL *e = curl_easy_init();
	size_t i;

	if (e == NULL)
		return -1;
	r->easy = e;
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->probe.timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->probe.tcp) {
		snprintf(r->url, sizeof(r->url), "http://%s/", r->probe.target);
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	} else {
		snprintf(r->url, sizeof(r->url), "%s", r->probe.target);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->probe.method);
		if (strcmp(r->probe.method, "HEAD") == 0)
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "Consul Health Check");
		r->hdrs =
		    curl_slist_append(NULL, "Accept: text/plain, text/*, */*");
		for (i = 0; r->probe.headers && r->probe.headers[i]; i++)
			r->hdrs =
			    curl_slist_append(r->hdrs, r->probe.headers[i]);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
		if (r->probe.tls_skip_verify) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
		return -1;
	r->next = h->runs;
	if (h->runs)
		h->runs->prev = r;
	h->runs = r;
	return 0;
}

static void unlink_run(disc_health_t *h, run_t *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		h->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

static void finish_run(disc_health_t *h, run_t *r, CURLcode rc)
{
	ax_buf_t out = AX_BUF_INIT;
	int status;

	if (r->probe.tcp) {
		if (rc == CURLE_OK) {
			status = DISC_PASSING;
			ax_buf_printf(
			    &out, "TCP connect %s: Success", r->probe.target);
		} else {
			status = DISC_CRITICAL;
			ax_buf_printf(&out, "dial tcp %s: %s", r->probe.target,
			    r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		}
	} else if (rc != CURLE_OK) {
		status = DISC_CRITICAL;
		ax_buf_printf(&out, "%s \"%s\": %s", r->probe.method, r->url,
		    r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	} else {
		long code = 0;

		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		status = code >= 200 && code < 300 ? DISC_PASSING
		    : code == 429                  ? DISC_WARNING
		                                   : DISC_CRITICAL;
		ax_buf_printf(&out, "HTTP %s %s: %ld Output: ", r->probe.method,
		    r->url, code);
		ax_buf_append(&out, r->body.p ? r->body.p : "", r->body.len);
	}
	ax_buf_putc(&out, '\0');
	disc_reg_probe_done(
	    h->reg, &r->probe, status, ax_buf_ok(&out) ? out.p : "");
	ax_buf_fini(&out);
	curl_multi_remove_handle(h->multi, r->easy);
	unlink_run(h, r);
	run_free(r);
}

static void *health_main(void *arg)
{
	disc_health_t *h = arg;

	for (;;) {
		disc_probe_t *p;
		size_t n, i;
		int running;
		CURLMsg *m;
		int left;

		pthread_mutex_lock(&h->mu);
		if (h->stop) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		pthread_mutex_unlock(&h->mu);
		disc_reg_tick(h->reg, ax_mono_ms(), &p, &n);
		for (i = 0; i < n; i++) {
			run_t *r = calloc(1, sizeof(*r));

			if (r == NULL) {
				disc_reg_probe_done(h->reg, &p[i],
				    DISC_CRITICAL, "out of memory");
				probe_fini(&p[i]);
				continue;
			}
			r->probe = p[i]; /* the run takes the strings */
			if (start_run(h, r) != 0) {
				disc_reg_probe_done(h->reg, &r->probe,
				    DISC_CRITICAL, "cannot start the check");
				run_free(r);
			}
		}
		free(p); /* the strings moved into the runs */
		curl_multi_perform(h->multi, &running);
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			run_t *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
			if (r)
				finish_run(h, r, m->data.result);
		}
		curl_multi_poll(h->multi, NULL, 0, TICK_MS, NULL);
	}
	return NULL;
}

int disc_health_start(disc_reg_t *r, disc_health_t **out, ax_err_t *err)
{
	disc_health_t *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	h->reg = r;
	pthread_mutex_init(&h->mu, NULL);
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		return ax_err_set(err, AX_EINTERNAL, "cannot start libcurl");
	}
	if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
		curl_multi_cleanup(h->multi);
		free(h);
		return ax_err_set(
		    err, AX_EINTERNAL, "cannot start the health checker");
	}
	*out = h;
	return 0;
}

void disc_health_stop(disc_health_t *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
	pthread_join(h->thread, NULL);
	while (h->runs) {
		run_t *r = h->runs;

		curl_multi_remove_handle(h->multi, r->easy);
		unlink_run(h, r);
		run_free(r);
	}
	curl_multi_cleanup(h->multi);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
