/*
 * qapi: /api/v1/query, /api/v1/query_range, /api/v1/query_exemplars (see
 * qapi.h).
 */
#include "tsdb/qapi.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_buf.h"
#include "ax_log.h"
#include "ax_promql.h"
#include "ax_units.h"
#include "tsdb/exemplars.h"
#include "tsdb/head.h"
#include "tsdb/promql.h"

/* Prometheus refuses range queries with more points than this. */
#define MAX_POINTS 11000

static void put_ts(ax_buf_t *b, int64_t t)
{
	int64_t frac;

	if (t < 0) {
		ax_buf_putc(b, '-');
		t = -t;
	}
	ax_buf_printf(b, "%lld", (long long)(t / 1000));
	frac = t % 1000;
	if (frac != 0)
		ax_buf_printf(b, ".%03lld", (long long)frac);
}

/* The value as jsoniter's workaround writes it: 'e' below 1e-6 and from
 * 1e21 on, else 'f'; NaN, +Inf, -Inf spelled out. */
static void put_value_str(ax_buf_t *b, double v)
{
	char tmp[400];
	double a = fabs(v);

	if (a != 0 && !isnan(v) && (a < 1e-6 || a >= 1e21))
		ax_fmt_double(tmp, sizeof(tmp), v);
	else
		ax_fmt_double_f(tmp, sizeof(tmp), v);
	ax_buf_putc(b, '"');
	ax_buf_puts(b, tmp);
	ax_buf_putc(b, '"');
}

void tsdb_qapi_put_point(ax_buf_t *b, int64_t t, double v)
{
	ax_buf_putc(b, '[');
	put_ts(b, t);
	ax_buf_putc(b, ',');
	put_value_str(b, v);
	ax_buf_putc(b, ']');
}


static void put_result(ax_buf_t *b, const tsdb_pq_result_t *r)
{
	size_t i, j;

	ax_buf_puts(b, "{\"status\":\"success\",\"data\":{\"resultType\":");
	switch (r->type) {
	case AX_PQ_TSCALAR:
		ax_buf_puts(b, "\"scalar\",\"result\":");
		tsdb_qapi_put_point(b, r->t, r->scalar);
		break;
	case AX_PQ_TSTRING:
		ax_buf_puts(b, "\"string\",\"result\":[");
		put_ts(b, r->t);
		ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, r->str ? r->str : "");
		ax_buf_putc(b, ']');
		break;
	case AX_PQ_TVECTOR:
		ax_buf_puts(b, "\"vector\",\"result\":[");
		for (i = 0; i < r->n; i++) {
			if (i)
				ax_buf_putc(b, ',');
			ax_buf_puts(b, "{\"metric\":");
			ax_labels_put_json(r->s[i].ls, b);
			ax_buf_puts(b, ",\"value\":");
			tsdb_qapi_put_point(b, r->t, r->s[i].pts[0].v);
			ax_buf_putc(b, '}');
		}
		ax_buf_putc(b, ']');
		break;
	default:
		ax_buf_puts(b, "\"matrix\",\"result\":[");
		for (i = 0; i < r->n; i++) {
			if (i)
				ax_buf_putc(b, ',');
			ax_buf_puts(b, "{\"metric\":");
			ax_labels_put_json(r->s[i].ls, b);
			ax_buf_puts(b, ",\"values\":[");
			for (j = 0; j < r->s[i].n; j++) {
				if (j)
					ax_buf_putc(b, ',');
				tsdb_qapi_put_point(
				    b, r->s[i].pts[j].t, r->s[i].pts[j].v);
			}
			ax_buf_puts(b, "]}");
		}
		ax_buf_putc(b, ']');
		break;
	}
	ax_buf_puts(b, "}}");
}

static int param_time(ax_http_req_t *req, ax_http_resp_t *resp,
    const char *name, int64_t def, int64_t *out)
{
	const char *s = ax_http_param(req, name);
	ax_err_t e;

	if (s == NULL || *s == '\0') {
		*out = def;
		return 0;
	}
	if (ax_time_parse(s, out, &e) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"%s\": cannot parse \"%s\" to a valid "
		    "timestamp",
		    name, s);
		return -1;
	}
	return 0;
}

static int param_duration(ax_http_req_t *req, ax_http_resp_t *resp,
    const char *name, int64_t *out)
{
	const char *s = ax_http_param(req, name);
	ax_err_t e;

	if (s == NULL || *s == '\0')
		return 1;
	if (ax_api_duration_parse(s, out, &e) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"%s\": cannot parse \"%s\" to a valid "
		    "duration",
		    name, s);
		return -1;
	}
	return 0;
}

/* Wait for a query slot until deadline (ax_mono_ms clock). */
int tsdb_qapi_slot_acquire(tsdb_t *t, int64_t deadline)
{
	int ok = 1;

	pthread_mutex_lock(&t->q_mu);
	while (t->q_active >= t->q_max) {
		struct timespec ts;
		int64_t left = deadline - ax_mono_ms();

		if (left <= 0) {
			ok = 0;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->q_cv, &t->q_mu, &ts);
	}
	if (ok)
		t->q_active++;
	pthread_mutex_unlock(&t->q_mu);
	return ok;
}

void tsdb_qapi_slot_release(tsdb_t *t)
{
	pthread_mutex_lock(&t->q_mu);
	t->q_active--;
	pthread_cond_signal(&t->q_cv);
	pthread_mutex_unlock(&t->q_mu);
}

static int ready(tsdb_t *t, ax_http_resp_t *resp)
{
	if (t->ready)
		return 1;
	ax_http_resp_error(resp, 503, "unavailable",
	    "the tsdb is not ready: %s",
	    t->failed ? "WAL replay failed" : "WAL replay in progress");
	return 0;
}

static void run_query(tsdb_t *t, ax_http_req_t *req, ax_http_resp_t *resp,
    int instant)
{
	const char *q = ax_http_param(req, "query");
	tsdb_pq_opts_t o = t->pq_opts;
	tsdb_pq_result_t r;
	ax_pq_node_t *expr = NULL;
	int64_t start, end = 0, step = 0, tmo;
	ax_err_t e;
	int rv;

	if (!ready(t, resp))
		return;
	if (instant) {
		if (param_time(req, resp, "time", ax_now_ms(), &start) != 0)
			return;
	} else {
		const char *s = ax_http_param(req, "start"),
		           *en = ax_http_param(req, "end");

		if (s == NULL || *s == '\0') {
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"start\": cannot parse \"\" to "
			    "a valid timestamp");
			return;
		}
		if (en == NULL || *en == '\0') {
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"end\": cannot parse \"\" to a "
			    "valid timestamp");
			return;
		}
		if (param_time(req, resp, "start", 0, &start) != 0 ||
		    param_time(req, resp, "end", 0, &end) != 0)
			return;
		if (end < start) {
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"end\": end timestamp must not "
			    "be before start time");
			return;
		}
		rv = param_duration(req, resp, "step", &step);
		if (rv < 0)
			return;
		if (rv > 0) {
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"step\": cannot parse \"\" to a "
			    "valid duration");
			return;
		}
		if (step <= 0) {
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"step\": zero or negative query "
			    "resolution step widths are not accepted. Try a "
			    "positive integer");
			return;
		}
		if ((end - start) / step > MAX_POINTS) {
			ax_http_resp_error(resp, 400, "bad_data",
			    "exceeded maximum resolution of 11,000 points per "
			    "timeseries. Try decreasing the query resolution "
			    "(?step=XX)");
			return;
		}
	}
	rv = param_duration(req, resp, "timeout", &tmo);
	if (rv < 0)
		return;
	if (rv == 0 && tmo > 0 && (o.timeout_ms <= 0 || tmo < o.timeout_ms))
		o.timeout_ms = tmo;
	if (q == NULL)
		q = "";
	if (ax_pq_parse(q, &expr, &e) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"query\": %s", e.msg);
		return;
	}
	if (!tsdb_qapi_slot_acquire(t, ax_mono_ms() + (o.timeout_ms > 0 ? o.timeout_ms
	                                                      : 120000))) {
		ax_pq_free(expr);
		ax_http_resp_error(resp, 503, "timeout",
		    "query timed out waiting for a free query slot "
		    "(--query.max-concurrency=%d queries are running)",
		    t->q_max);
		return;
	}
	rv = tsdb_pq_eval(t->db, &o, expr, instant, start, end, step, &r, &e);
	tsdb_qapi_slot_release(t);
	ax_pq_free(expr);
	if (rv == AX_ETIMEDOUT) {
		ax_http_resp_error(resp, 503, "timeout", "%s", e.msg);
		return;
	}
	if (rv == AX_EINVAL && !instant &&
	    strncmp(e.msg, "invalid expression type", 23) == 0) {
		ax_http_resp_error(resp, 400, "bad_data", "%s", e.msg);
		return;
	}
	if (rv == AX_EIO || rv == AX_EINTERNAL) {
		ax_http_resp_error(resp, 500, "internal", "%s", e.msg);
		return;
	}
	if (rv != 0) {
		ax_http_resp_error(resp, 422, "execution", "%s", e.msg);
		return;
	}
	put_result(&resp->body, &r);
	tsdb_pq_result_fini(&r);
	if (resp->body.oom) {
		ax_buf_reset(&resp->body);
		ax_http_resp_error(resp, 500, "internal", "out of memory");
	}
}

static void h_query(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	run_query(arg, req, resp, 1);
}

static void h_query_range(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	run_query(arg, req, resp, 0);
}

/* ---- exemplars ---- */

typedef struct ex_ctx {
	ax_buf_t *b;
	int first;
} ex_ctx_t;

static int put_exemplar(void *arg, const ax_labels_t *ls, int64_t t, double v)
{
	ex_ctx_t *x = arg;

	if (!x->first)
		ax_buf_putc(x->b, ',');
	x->first = 0;
	ax_buf_puts(x->b, "{\"labels\":");
	ax_labels_put_json(ls, x->b);
	ax_buf_puts(x->b, ",\"value\":");
	put_value_str(x->b, v);
	ax_buf_puts(x->b, ",\"timestamp\":");
	put_ts(x->b, t);
	ax_buf_putc(x->b, '}');
	return 0;
}

/* Collect the selectors of an expression. */
static void collect_selectors(const ax_pq_node_t *n,
    const ax_selector_t **out, size_t *k, size_t max)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->kind == AX_PQ_SELECTOR) {
		if (*k < max)
			out[(*k)++] = n->sel;
		return;
	}
	collect_selectors(n->a, out, k, max);
	collect_selectors(n->b, out, k, max);
	collect_selectors(n->param, out, k, max);
	for (i = 0; i < n->n_args; i++)
		collect_selectors(n->args[i], out, k, max);
}

static int ref_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void h_query_exemplars(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	const char *q = ax_http_param(req, "query");
	tsdb_exemplars_t *ex = tsdb_head_exemplars(t->head);
	const ax_selector_t *sels[64];
	size_t ns = 0, i, j, nrefs = 0;
	uint64_t *refs = NULL;
	ax_pq_node_t *expr = NULL;
	int64_t start, end;
	ax_err_t e;
	int first = 1;

	if (!ready(t, resp))
		return;
	if (param_time(req, resp, "start", INT64_MIN / 2, &start) != 0 ||
	    param_time(req, resp, "end", INT64_MAX / 2, &end) != 0)
		return;
	if (end < start) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"end\": end timestamp must not be "
		    "before start time");
		return;
	}
	if (ax_pq_parse(q ? q : "", &expr, &e) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"query\": %s", e.msg);
		return;
	}
	collect_selectors(expr, sels, &ns, 64);
	/* the head series matching any selector, each once */
	for (i = 0; ex != NULL && i < ns; i++) {
		tsdb_plist_t pl;
		uint64_t *nr;

		memset(&pl, 0, sizeof(pl));
		if (tsdb_head_select(t->head, sels[i]->matchers,
		        sels[i]->n_matchers, start, end, &pl, &e) != 0) {
			free(refs);
			ax_pq_free(expr);
			ax_http_resp_error(resp, 422, "execution", "%s", e.msg);
			return;
		}
		nr = realloc(refs, (nrefs + pl.n + 1) * sizeof(*refs));
		if (nr == NULL) {
			tsdb_plist_fini(&pl);
			free(refs);
			ax_pq_free(expr);
			ax_http_resp_error(resp, 500, "internal", "out of memory");
			return;
		}
		refs = nr;
		for (j = 0; j < pl.n; j++)
			refs[nrefs++] = pl.v[j];
		tsdb_plist_fini(&pl);
	}
	ax_pq_free(expr);
	if (nrefs > 1)
		qsort(refs, nrefs, sizeof(*refs), ref_cmp);
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":[");
	tsdb_head_rlock(t->head);
	for (i = 0; i < nrefs; i++) {
		tsdb_series_t *s;
		ax_buf_t one = AX_BUF_INIT;
		ex_ctx_t x = {&one, 1};

		if (i > 0 && refs[i] == refs[i - 1])
			continue;
		if ((s = tsdb_head_series(t->head, refs[i])) == NULL)
			continue;
		tsdb_exemplars_select(ex, refs[i], start, end, put_exemplar, &x);
		if (!x.first) {
			if (!first)
				ax_buf_putc(&resp->body, ',');
			first = 0;
			ax_buf_puts(&resp->body, "{\"seriesLabels\":");
			ax_labels_put_json(s->ls, &resp->body);
			ax_buf_puts(&resp->body, ",\"exemplars\":[");
			ax_buf_append(&resp->body, one.p, one.len);
			ax_buf_puts(&resp->body, "]}");
		}
		ax_buf_fini(&one);
	}
	tsdb_head_runlock(t->head);
	free(refs);
	ax_buf_puts(&resp->body, "]}");
}

int tsdb_qapi_register(tsdb_t *t, ax_http_server_t *srv)
{
	int rv = 0;

	rv |= ax_http_route(srv, "GET", "/api/v1/query", h_query, t);
	rv |= ax_http_route(srv, "POST", "/api/v1/query", h_query, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/query_range", h_query_range, t);
	rv |=
	    ax_http_route(srv, "POST", "/api/v1/query_range", h_query_range, t);
	rv |= ax_http_route(
	    srv, "GET", "/api/v1/query_exemplars", h_query_exemplars, t);
	rv |= ax_http_route(
	    srv, "POST", "/api/v1/query_exemplars", h_query_exemplars, t);
	return rv;
}
