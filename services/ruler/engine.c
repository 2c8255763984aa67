/*
 * rl_engine: rule group evaluation (engine.h).
 */
#include "ruler/engine.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_hmap.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_ship.h"
#include "ax_tmpl.h"
#include "ax_tmplfn.h"
#include "ax_units.h"
#include "axon/v1/query.pb-c.h"

#define STALE_BITS 0x7ff0000000000002ULL
#define RESOLVED_RETENTION_MS (15 * 60 * 1000)

enum { ST_INACTIVE, ST_PENDING, ST_FIRING };
enum { H_UNKNOWN, H_OK, H_ERR };

typedef struct alert {
	ax_labels_t *labels;
	rl_kv_t ann;
	double value;
	int state;
	int64_t active_at, fired_at, resolved_at, last_sent_at, valid_until;
	int64_t keep_since;
} alert_t;

typedef struct rule {
	char *name;
	int alerting;
	char *expr;     /* as written */
	char *expr_fmt; /* Prometheus' String() of it */
	char *gen_url;  /* <external URL>/graph?g0.expr=<expr_fmt>&g0.tab=1 */
	int64_t for_ms, keep_ms;
	rl_kv_t labels, annotations;
	ax_u64map_t active; /* label hash -> alert_t* */
	int health;
	char *last_error;
	int64_t last_eval_ms;
	double eval_secs;
	int restored;
} rule_t;

typedef struct group {
	struct rl_engine *e;
	char *name, *file;
	int64_t interval_ms, limit;
	rule_t *rules;
	size_t n;
	pthread_t thr;
	int started, stop;
	int should_restore;
	ax_u64map_t prev; /* series written at the last eval: hash -> ref */
	int64_t last_eval_ms;
	double eval_secs;
} group_t;

struct rl_engine {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	group_t **groups;
	size_t ngroups;
	rl_notify_t *notify;
	ax_msg_client_t *q;
	ax_ship_t *ship;
	char *external_url;
	ax_labels_t *external;
	rl_engine_opts_t o;
	int64_t global_interval_ms;
	uint64_t next_ref;
	ax_metric_t *m_evals, *m_fails, *m_missed, *m_skipped, *m_iters;
	ax_metric_t *m_duration;
};

/* ---- small helpers ---- */

static double stale_nan(void)
{
	uint64_t u = STALE_BITS;
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void alert_free(alert_t *a)
{
	if (a == NULL)
		return;
	ax_labels_free(a->labels);
	rl_kv_free(&a->ann);
	free(a);
}

static void rule_fini(rule_t *r)
{
	size_t pos = 0;
	uint64_t k;
	alert_t *a;

	free(r->name);
	free(r->expr);
	free(r->expr_fmt);
	free(r->gen_url);
	rl_kv_free(&r->labels);
	rl_kv_free(&r->annotations);
	while ((a = ax_u64map_next(&r->active, &pos, &k)) != NULL)
		alert_free(a);
	ax_u64map_fini(&r->active);
	free(r->last_error);
}

static void group_free(group_t *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		rule_fini(&g->rules[i]);
	free(g->rules);
	free(g->name);
	free(g->file);
	ax_u64map_fini(&g->prev);
	free(g);
}

static void set_error(rule_t *r, const char *msg)
{
	free(r->last_error);
	r->last_error = msg ? strdup(msg) : NULL;
	r->health = msg ? H_ERR : H_OK;
}

/* ---- queries ---- */

typedef struct samp {
	ax_labels_t *ls;
	double v;
} samp_t;

static void samps_free(samp_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ax_labels_free(s[i].ls);
	free(s);
}

/* Run expr at ts.  0 with *out and *n (a vector, scalars as one sample
 * without labels); AX_EUNAVAIL when the tsdb cannot answer (down, not
 * ready): the caller skips; other errors with the reason. */
static int query(rl_engine_t *e, const char *expr, int64_t ts, samp_t **out,
    size_t *n, ax_err_t *err)
{
	Axon__V1__QueryRequest rq = AXON__V1__QUERY_REQUEST__INIT;
	Axon__V1__QueryResponse *rs = NULL;
	samp_t *v = NULL;
	size_t i, k;
	int rv;

	*out = NULL;
	*n = 0;
	/* no connection: the tsdb is down, skip rather than wait for the
	 * query timeout (a connection comes up within the reconnect time,
	 * so give a fresh start a moment) */
	if (!ax_msg_client_connected(e->q)) {
		struct timespec w = {0, 200 * 1000000L};

		nanosleep(&w, NULL);
		if (!ax_msg_client_connected(e->q))
			return ax_err_set(
			    err, AX_EUNAVAIL, "no connection to the tsdb");
	}
	rq.version = 1;
	rq.expr = (char *)expr;
	rq.time_ms = ts;
	rq.timeout_ms = e->o.query_timeout_ms;
	rv = ax_msg_call(e->q, &rq.base, &axon__v1__query_response__descriptor,
	    (ProtobufCMessage **)&rs, err);
	if (rv != 0) {
		if (rv != AX_ENOMEM)
			rv = AX_EUNAVAIL;
		return rv;
	}
	switch (rs->status) {
	case AXON__V1__QUERY_RESPONSE__STATUS__OK: break;
	case AXON__V1__QUERY_RESPONSE__STATUS__UNAVAILABLE:
	case AXON__V1__QUERY_RESPONSE__STATUS__CANCELED:
		rv = ax_err_set(err, AX_EUNAVAIL, "tsdb not ready: %s",
		    rs->error ? rs->error : "");
		goto out;
	default:
		rv = ax_err_set(err, AX_EINVAL, "%s",
		    rs->error ? rs->error : "query failed");
		goto out;
	}
	if (rs->result_type == AXON__V1__QUERY_RESPONSE__RESULT_TYPE__SCALAR) {
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    ax_labels_new(NULL, 0, &v[0].ls, err) != 0) {
			free(v);
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			goto out;
		}
		v[0].v = rs->scalar;
		*out = v;
		*n = 1;
		goto out;
	}
	if (rs->result_type != AXON__V1__QUERY_RESPONSE__RESULT_TYPE__VECTOR) {
		rv = ax_err_set(
		    err, AX_EINVAL, "rule result is not a vector or scalar");
		goto out;
	}
	if ((v = calloc(rs->n_series + 1, sizeof(*v))) == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rs->n_series; i++) {
		const Axon__V1__Series *s = rs->series[i];
		ax_label_t *pairs = calloc(s->n_labels + 1, sizeof(*pairs));

		if (pairs == NULL) {
			samps_free(v, *n);
			v = NULL;
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			goto out;
		}
		for (k = 0; k < s->n_labels; k++) {
			pairs[k].name = s->labels[k]->name;
			pairs[k].value = s->labels[k]->value;
		}
		rv = ax_labels_new(pairs, s->n_labels, &v[i].ls, err);
		free(pairs);
		if (rv != 0) {
			samps_free(v, i);
			v = NULL;
			goto out;
		}
		if (s->n_points > 0)
			v[i].v = s->points[s->n_points - 1]->value;
		(*n)++;
	}
	*out = v;
out:
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return rv;
}

/* For restore: the last raw sample of the series selected by sel within
 * range_ms before ts.  1 with *t and *v when found, 0 not, <0 error. */
static int last_sample(rl_engine_t *e, const char *sel, int64_t ts,
    int64_t range_ms, int64_t *t, double *v, ax_err_t *err)
{
	Axon__V1__QueryRequest rq = AXON__V1__QUERY_REQUEST__INIT;
	Axon__V1__QueryResponse *rs = NULL;
	char expr[8192];
	int rv, found = 0;

	if (!ax_msg_client_connected(e->q))
		return AX_EUNAVAIL;
	snprintf(
	    expr, sizeof(expr), "%s[%llds]", sel, (long long)(range_ms / 1000));
	rq.version = 1;
	rq.expr = expr;
	rq.time_ms = ts;
	rq.timeout_ms = e->o.query_timeout_ms;
	rv = ax_msg_call(e->q, &rq.base, &axon__v1__query_response__descriptor,
	    (ProtobufCMessage **)&rs, err);
	if (rv != 0)
		return AX_EUNAVAIL;
	if (rs->status == AXON__V1__QUERY_RESPONSE__STATUS__OK &&
	    rs->n_series > 0 && rs->series[0]->n_points > 0) {
		const Axon__V1__Series *s = rs->series[0];

		*t = s->points[s->n_points - 1]->ts_ms;
		*v = s->points[s->n_points - 1]->value;
		found = 1;
	} else if (rs->status != AXON__V1__QUERY_RESPONSE__STATUS__OK)
		found = ax_err_set(
		    err, AX_EINVAL, "%s", rs->error ? rs->error : "");
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return found;
}

/* ---- templates ---- */

typedef struct qctx {
	rl_engine_t *e;
	int64_t ts;
} qctx_t;

static int tmpl_query(
    void *arg, const char *q, ax_arena_t *a, ax_tval_t **out, ax_err_t *err)
{
	qctx_t *c = arg;
	samp_t *v;
	size_t n, i;
	int rv = query(c->e, q, c->ts, &v, &n, err);

	if (rv != 0)
		return rv == AX_EUNAVAIL
		    ? ax_err_set(
		          err, AX_EINVAL, "query: the tsdb is not reachable")
		    : rv;
	*out = ax_tmplfn_result(a, n);
	for (i = 0; *out && i < n; i++)
		if (((*out)->u.list.v[i] =
		            ax_tmplfn_sample(a, v[i].ls, NULL, v[i].v)) == NULL)
			*out = NULL;
	samps_free(v, n);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static ax_tval_t *str_map(ax_arena_t *a, const ax_labels_t *ls)
{
	ax_tval_t *m = ax_tv_map(a, ls ? ls->n + 1 : 1, 1);
	size_t i;

	for (i = 0; m && ls && i < ls->n; i++) {
		ax_tval_t *v = ax_tv_str(a, ls->l[i].value);

		if (v == NULL || ax_tv_map_set(a, m, ls->l[i].name, v) != 0)
			return NULL;
	}
	return m;
}

/* Expand text as Prometheus' template expander (malloc'd result; an
 * error becomes "<error expanding template: ...>"). */
static char *expand(rl_engine_t *e, const char *alert, const char *text,
    ax_tval_t *data, ax_arena_t *a, int64_t ts)
{
	ax_tmpl_t *t;
	ax_buf_t b = AX_BUF_INIT, src = AX_BUF_INIT;
	char name[1024];
	qctx_t qc = {e, ts};
	ax_tmplfn_prom_t ctx = {e->external_url, tmpl_query, &qc};
	ax_err_t err;
	char *out;

	if (strstr(text, "{{") == NULL)
		return strdup(text);
	if ((t = ax_tmpl_new(ax_tmplfn_prometheus, NULL)) == NULL)
		return NULL;
	snprintf(name, sizeof(name), "__alert_%s", alert);
	ax_buf_puts(&src, RL_TMPL_DEFS);
	ax_buf_puts(&src, text);
	if (!ax_buf_ok(&src) || ax_tmpl_parse(t, name, src.p, &err) != 0 ||
	    ax_tmpl_exec(t, name, data, a, &ctx, &b, &err) != 0) {
		ax_buf_fini(&b);
		ax_buf_printf(&b, "<error expanding template: %s>", err.msg);
		ax_log_warn("expanding an alert template failed", "alert",
		    alert, "err", err.msg);
	}
	out = ax_buf_ok(&b) ? strdup(b.p ? b.p : "") : NULL;
	ax_buf_fini(&b);
	ax_buf_fini(&src);
	ax_tmpl_free(t);
	return out;
}

/* ---- writing samples ---- */

/* Write ls=v at ts under the group's series bookkeeping (cur). */
static void write_sample(
    group_t *g, ax_u64map_t *cur, const ax_labels_t *ls, int64_t ts, double v)
{
	rl_engine_t *e = g->e;
	uint64_t h = ax_labels_hash(ls) | 1; /* keys must be non-zero */
	uintptr_t ref = (uintptr_t)ax_u64map_get(&g->prev, h);

	if (ref == 0)
		ref = (uintptr_t)ax_u64map_get(cur, h);
	if (ref == 0) {
		ref = (uintptr_t)__atomic_add_fetch(
		    &e->next_ref, 1, __ATOMIC_RELAXED);
		if (ax_ship_store_series(e->ship, ref, ls) != 0)
			return;
	}
	ax_u64map_put(cur, h, (void *)ref);
	ax_ship_append(e->ship, ref, ts, v);
}

/* Staleness markers for series of the last evaluation not written now;
 * cur becomes prev. */
static void finish_series(group_t *g, ax_u64map_t *cur, int64_t ts)
{
	size_t pos = 0;
	uint64_t h;
	void *ref;

	while ((ref = ax_u64map_next(&g->prev, &pos, &h)) != NULL)
		if (ax_u64map_get(cur, h) == NULL) {
			ax_ship_append(
			    g->e->ship, (uintptr_t)ref, ts, stale_nan());
			ax_ship_drop_series(g->e->ship, (uintptr_t)ref);
		}
	ax_u64map_fini(&g->prev);
	g->prev = *cur;
	ax_u64map_init(cur);
}

/* ---- recording rules ---- */

static int eval_recording(
    group_t *g, rule_t *r, int64_t ts, ax_u64map_t *cur, ax_err_t *err)
{
	samp_t *v;
	size_t n, i, k;
	ax_labels_t **out;
	int rv = query(g->e, r->expr_fmt, ts, &v, &n, err);

	if (rv != 0)
		return rv;
	if ((out = calloc(n + 1, sizeof(*out))) == NULL) {
		samps_free(v, n);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n && rv == 0; i++) {
		ax_labels_builder_t b;

		ax_labels_builder_init(&b, v[i].ls);
		ax_labels_builder_set(&b, AX_METRIC_NAME, r->name);
		for (k = 0; k < r->labels.n; k++)
			ax_labels_builder_set(
			    &b, r->labels.k[k], r->labels.v[k]);
		rv = ax_labels_builder_build(&b, &out[i], err);
		ax_labels_builder_fini(&b);
		for (k = 0; rv == 0 && k < i; k++)
			if (ax_labels_equal(out[k], out[i]))
				rv = ax_err_set(err, AX_EINVAL,
				    "vector contains metrics with the same "
				    "labelset after applying rule labels");
	}
	if (rv == 0 && g->limit > 0 && (int64_t)n > g->limit)
		rv = ax_err_set(err, AX_EINVAL,
		    "exceeded limit of %lld with %zu series",
		    (long long)g->limit, n);
	for (i = 0; rv == 0 && i < n; i++)
		write_sample(g, cur, out[i], ts, v[i].v);
	for (i = 0; i < n; i++)
		ax_labels_free(out[i]);
	free(out);
	samps_free(v, n);
	return rv;
}

/* ---- alerting rules ---- */

static ax_labels_t *with_name(
    const ax_labels_t *ls, const char *name, const char *state)
{
	ax_labels_builder_t b;
	ax_labels_t *out = NULL;
	ax_err_t err;

	ax_labels_builder_init(&b, ls);
	ax_labels_builder_set(&b, AX_METRIC_NAME, name);
	if (state)
		ax_labels_builder_set(&b, "alertstate", state);
	ax_labels_builder_build(&b, &out, &err);
	ax_labels_builder_fini(&b);
	return out;
}

/* A new alert from a sample: labels and annotations expanded. */
static alert_t *make_alert(
    group_t *g, const rule_t *r, const samp_t *s, int64_t ts)
{
	rl_engine_t *e = g->e;
	ax_arena_t *a = ax_arena_new();
	ax_tval_t *data = a ? ax_tv_map(a, 4, 0) : NULL;
	ax_labels_builder_t b;
	char **lv = calloc(r->labels.n + 1, sizeof(char *));
	alert_t *al = calloc(1, sizeof(*al));
	size_t k;
	ax_err_t err;

	if (data == NULL || lv == NULL || al == NULL ||
	    ax_tv_map_set(a, data, "Labels", str_map(a, s->ls)) != 0 ||
	    ax_tv_map_set(a, data, "ExternalLabels", str_map(a, e->external)) !=
	        0 ||
	    ax_tv_map_set(a, data, "ExternalURL",
	        ax_tv_str(a, e->external_url ? e->external_url : "")) != 0 ||
	    ax_tv_map_set(a, data, "Value", ax_tv_float(a, s->v)) != 0)
		goto fail;
	ax_labels_builder_init(&b, s->ls);
	ax_labels_builder_del(&b, AX_METRIC_NAME);
	for (k = 0; k < r->labels.n; k++) {
		lv[k] = expand(e, r->name, r->labels.v[k], data, a, ts);
		if (lv[k] == NULL) {
			ax_labels_builder_fini(&b);
			goto fail;
		}
		ax_labels_builder_set(&b, r->labels.k[k], lv[k]);
	}
	ax_labels_builder_set(&b, "alertname", r->name);
	if (ax_labels_builder_build(&b, &al->labels, &err) != 0) {
		ax_labels_builder_fini(&b);
		goto fail;
	}
	ax_labels_builder_fini(&b);
	al->ann.k = calloc(r->annotations.n + 1, sizeof(char *));
	al->ann.v = calloc(r->annotations.n + 1, sizeof(char *));
	if (al->ann.k == NULL || al->ann.v == NULL)
		goto fail;
	for (k = 0; k < r->annotations.n; k++) {
		al->ann.k[k] = strdup(r->annotations.k[k]);
		al->ann.v[k] =
		    expand(e, r->name, r->annotations.v[k], data, a, ts);
		al->ann.n++;
		if (al->ann.k[k] == NULL || al->ann.v[k] == NULL)
			goto fail;
	}
	al->value = s->v;
	for (k = 0; k < r->labels.n; k++)
		free(lv[k]);
	free(lv);
	ax_arena_free(a);
	return al;
fail:
	for (k = 0; lv && k < r->labels.n; k++)
		free(lv[k]);
	free(lv);
	alert_free(al);
	ax_arena_free(a);
	return NULL;
}

/* Prometheus' AlertingRule.Eval over the query result. */
static int eval_alerting(
    group_t *g, rule_t *r, int64_t ts, ax_u64map_t *cur, ax_err_t *err)
{
	rl_engine_t *e = g->e;
	samp_t *v;
	size_t n, i, pos = 0, nactive = 0;
	alert_t **fresh;
	ax_u64map_t seen;
	uint64_t h;
	alert_t *a;
	int rv = query(e, r->expr_fmt, ts, &v, &n, err);

	if (rv != 0)
		return rv;
	/* expansions run queries: no lock held */
	if ((fresh = calloc(n + 1, sizeof(*fresh))) == NULL) {
		samps_free(v, n);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		if ((fresh[i] = make_alert(g, r, &v[i], ts)) == NULL)
			ax_log_error("cannot build an alert (out of memory)",
			    "alert", r->name);
	samps_free(v, n);
	ax_u64map_init(&seen);
	pthread_mutex_lock(&e->mu);
	for (i = 0; i < n; i++) {
		if (fresh[i] == NULL)
			continue;
		h = ax_labels_hash(fresh[i]->labels) | 1;
		if (ax_u64map_get(&seen, h)) {
			rv = ax_err_set(err, AX_EINVAL,
			    "vector contains metrics with the same labelset "
			    "after applying alert labels");
			break;
		}
		ax_u64map_put(&seen, h, (void *)1);
		a = ax_u64map_get(&r->active, h);
		if (a && a->state != ST_INACTIVE) {
			a->value = fresh[i]->value;
			rl_kv_free(&a->ann);
			a->ann = fresh[i]->ann;
			memset(&fresh[i]->ann, 0, sizeof(fresh[i]->ann));
			continue;
		}
		if (a) { /* a resolved one comes back: a new alert */
			ax_u64map_del(&r->active, h);
			alert_free(a);
		}
		fresh[i]->state = ST_PENDING;
		fresh[i]->active_at = ts;
		if (ax_u64map_put(&r->active, h, fresh[i]) == 0)
			fresh[i] = NULL; /* kept */
	}
	for (i = 0; i < n; i++)
		alert_free(fresh[i]);
	free(fresh);
	if (rv != 0) {
		pthread_mutex_unlock(&e->mu);
		ax_u64map_fini(&seen);
		return rv;
	}
	/* alerts not in the result */
	{
		uint64_t *gone = NULL;
		size_t ngone = 0;

		while ((a = ax_u64map_next(&r->active, &pos, &h)) != NULL) {
			if (!ax_u64map_get(&seen, h)) {
				int keep = 0;

				if (a->state == ST_FIRING && r->keep_ms > 0) {
					if (a->keep_since == 0)
						a->keep_since = ts;
					if (ts - a->keep_since < r->keep_ms)
						keep = 1;
				}
				if (!keep) {
					if (a->state == ST_PENDING ||
					    (a->resolved_at != 0 &&
					        ts - a->resolved_at >
					            RESOLVED_RETENTION_MS)) {
						uint64_t *ng = realloc(gone,
						    (ngone + 1) * sizeof(*ng));

						if (ng) {
							gone = ng;
							gone[ngone++] = h;
						}
					}
					if (a->state != ST_INACTIVE) {
						a->state = ST_INACTIVE;
						a->resolved_at = ts;
					}
					continue;
				}
			} else
				a->keep_since = 0;
			nactive++;
			if (a->state == ST_PENDING &&
			    ts - a->active_at >= r->for_ms) {
				a->state = ST_FIRING;
				a->fired_at = ts;
			}
		}
		for (i = 0; i < ngone; i++)
			alert_free(ax_u64map_del(&r->active, gone[i]));
		free(gone);
	}
	ax_u64map_fini(&seen);
	if (g->limit > 0 && (int64_t)nactive > g->limit) {
		pos = 0;
		while ((a = ax_u64map_next(&r->active, &pos, &h)) != NULL)
			alert_free(a);
		ax_u64map_fini(&r->active);
		ax_u64map_init(&r->active);
		pthread_mutex_unlock(&e->mu);
		return ax_err_set(err, AX_EINVAL,
		    "exceeded limit of %lld with %zu alerts",
		    (long long)g->limit, nactive);
	}
	/* ALERTS and ALERTS_FOR_STATE, once restored */
	if (r->restored) {
		pos = 0;
		while ((a = ax_u64map_next(&r->active, &pos, &h)) != NULL) {
			ax_labels_t *s1, *s2;

			if (a->state == ST_INACTIVE)
				continue;
			s1 = with_name(a->labels, "ALERTS",
			    a->state == ST_FIRING ? "firing" : "pending");
			s2 = with_name(a->labels, "ALERTS_FOR_STATE", NULL);
			if (s1)
				write_sample(g, cur, s1, ts, 1);
			if (s2)
				write_sample(g, cur, s2, ts,
				    (double)(a->active_at / 1000));
			ax_labels_free(s1);
			ax_labels_free(s2);
		}
	}
	pthread_mutex_unlock(&e->mu);
	return 0;
}

/* Prometheus' sendAlerts: what fired or resolved since the last send,
 * and everything active again every resend_delay. */
static void send_alerts(group_t *g, rule_t *r, int64_t ts)
{
	rl_engine_t *e = g->e;
	rl_out_alert_t *out = NULL;
	size_t pos = 0, n = 0, cap = 0;
	uint64_t h;
	alert_t *a;
	int64_t delta = e->o.resend_delay_ms > g->interval_ms
	    ? e->o.resend_delay_ms
	    : g->interval_ms;

	pthread_mutex_lock(&e->mu);
	while ((a = ax_u64map_next(&r->active, &pos, &h)) != NULL) {
		if (a->state == ST_PENDING)
			continue;
		if (!(a->resolved_at > a->last_sent_at ||
		        a->last_sent_at + e->o.resend_delay_ms < ts))
			continue;
		a->last_sent_at = ts;
		a->valid_until = ts + 4 * delta;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			rl_out_alert_t *no = realloc(out, nc * sizeof(*no));

			if (no == NULL)
				break;
			out = no;
			cap = nc;
		}
		out[n].labels = a->labels;
		out[n].annotations = &a->ann;
		out[n].starts_ms = a->fired_at;
		out[n].ends_ms =
		    a->resolved_at ? a->resolved_at : a->valid_until;
		out[n].generator_url = r->gen_url;
		n++;
	}
	/* rl_notify_send copies; the alerts stay locked meanwhile */
	if (n > 0)
		rl_notify_send(e->notify, out, n);
	pthread_mutex_unlock(&e->mu);
	free(out);
}

/* ---- restoring `for` state ---- */

static void restore(group_t *g, int64_t ts)
{
	rl_engine_t *e = g->e;
	size_t i;

	for (i = 0; i < g->n; i++) {
		rule_t *r = &g->rules[i];
		alert_t **list = NULL;
		size_t n = 0, pos = 0, k;
		uint64_t h;
		alert_t *a;

		if (!r->alerting || r->restored)
			continue;
		if (r->for_ms < e->o.for_grace_ms) {
			r->restored = 1;
			continue;
		}
		pthread_mutex_lock(&e->mu);
		list = calloc(r->active.n + 1, sizeof(*list));
		while (
		    list && (a = ax_u64map_next(&r->active, &pos, &h)) != NULL)
			if (a->state != ST_INACTIVE)
				list[n++] = a;
		pthread_mutex_unlock(&e->mu);
		for (k = 0; k < n; k++) {
			ax_labels_t *fs = with_name(
			    list[k]->labels, "ALERTS_FOR_STATE", NULL);
			ax_buf_t sel = AX_BUF_INIT;
			int64_t t = 0, active;
			double v = 0;
			ax_err_t err;
			int found;

			if (fs == NULL)
				continue;
			ax_labels_format(fs, &sel);
			found = ax_buf_ok(&sel)
			    ? last_sample(e, sel.p, ts,
			          e->o.outage_tolerance_ms, &t, &v, &err)
			    : 0;
			if (found == 1) {
				/* a staleness marker right after it means
				 * the alert had ended: only a series still
				 * present one interval on counts */
				samp_t *sv = NULL;
				size_t sn = 0;

				if (query(e, sel.p, t + g->interval_ms, &sv,
				        &sn, &err) != 0 ||
				    sn == 0)
					found = 0;
				samps_free(sv, sn);
			}
			ax_buf_fini(&sel);
			ax_labels_free(fs);
			if (found != 1 || isnan(v))
				continue;
			{
				int64_t down = t / 1000 * 1000;
				int64_t restored = (int64_t)v * 1000;
				int64_t remaining =
				    r->for_ms - (down - restored);

				if (remaining <= 0)
					active = restored;
				else if (remaining < e->o.for_grace_ms)
					active =
					    ts - r->for_ms + e->o.for_grace_ms;
				else
					active = restored + (ts - down);
			}
			pthread_mutex_lock(&e->mu);
			list[k]->active_at = active;
			pthread_mutex_unlock(&e->mu);
			{
				char at[64];

				ax_time_format(active, at, sizeof(at));
				ax_log_info(
				    "restored the for state of an alert",
				    "alert", r->name, "active_at", at);
			}
		}
		free(list);
		r->restored = 1;
	}
}

/* ---- the group loop ---- */

/* Prometheus' Group.EvalTimestamp: the slot of now, offset by the hash of
 * name and file. */
static int64_t eval_ts(const group_t *g, int64_t now_ms)
{
	ax_labels_t *ls = NULL;
	ax_err_t err;
	uint64_t h = 0;
	int64_t iv = g->interval_ms * 1000000LL, now = now_ms * 1000000LL;
	int64_t offset, adj, base;

	if (ax_labels_from_strings(&ls, &err, "name", g->name, "file", g->file,
	        (char *)NULL) == 0) {
		h = ax_labels_hash(ls);
		ax_labels_free(ls);
	}
	offset = (int64_t)(h % (uint64_t)iv);
	adj = now - offset;
	base = adj - (adj % iv);
	return (base + offset) / 1000000LL;
}

static void iterate(group_t *g, int64_t ts)
{
	rl_engine_t *e = g->e;
	ax_u64map_t cur;
	int64_t t0 = mono_ms();
	size_t i;
	int skipped = 0;

	ax_u64map_init(&cur);
	for (i = 0; i < g->n && !skipped; i++) {
		rule_t *r = &g->rules[i];
		int64_t r0 = mono_ms();
		ax_err_t err = {0};
		int rv;

		ax_counter_inc(e->m_evals);
		rv = r->alerting ? eval_alerting(g, r, ts, &cur, &err)
		                 : eval_recording(g, r, ts, &cur, &err);
		pthread_mutex_lock(&e->mu);
		r->last_eval_ms = ax_now_ms();
		r->eval_secs = (double)(mono_ms() - r0) / 1000.0;
		if (rv == AX_EUNAVAIL)
			skipped = 1;
		else if (rv != 0) {
			set_error(r, err.msg);
			ax_counter_inc(e->m_fails);
			ax_log_warn("evaluating a rule failed", "group",
			    g->name, "rule", r->name, "err", err.msg);
		} else
			set_error(r, NULL);
		pthread_mutex_unlock(&e->mu);
		if (rv == 0 && r->alerting)
			send_alerts(g, r, ts);
	}
	if (skipped) {
		/* the tsdb cannot answer: state frozen, nothing written, but
		 * what is active keeps being sent */
		ax_counter_inc(e->m_skipped);
		ax_log_warn("rule group iteration skipped: the tsdb is not "
		            "reachable or not ready",
		    "group", g->name);
		for (i = 0; i < g->n; i++)
			if (g->rules[i].alerting)
				send_alerts(g, &g->rules[i], ts);
		ax_u64map_fini(&cur);
		return;
	}
	finish_series(g, &cur, ts);
	ax_u64map_fini(&cur);
	if (g->should_restore) {
		restore(g, ts);
		g->should_restore = 0;
	}
	pthread_mutex_lock(&e->mu);
	g->last_eval_ms = ax_now_ms();
	g->eval_secs = (double)(mono_ms() - t0) / 1000.0;
	pthread_mutex_unlock(&e->mu);
	ax_counter_inc(e->m_iters);
	ax_histogram_observe(e->m_duration, g->eval_secs);
}

static void *group_main(void *arg)
{
	group_t *g = arg;
	rl_engine_t *e = g->e;
	int64_t next = eval_ts(g, ax_now_ms()) + g->interval_ms;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		int64_t now = ax_now_ms();
		struct timespec ts;

		if (g->stop)
			break;
		if (now < next) {
			ts.tv_sec = next / 1000;
			ts.tv_nsec = (next % 1000) * 1000000L;
			pthread_cond_timedwait(&e->cv, &e->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&e->mu);
		iterate(g, next);
		pthread_mutex_lock(&e->mu);
		now = ax_now_ms();
		next += g->interval_ms;
		if (now >= next) {
			int64_t missed = (now - next) / g->interval_ms + 1;

			ax_counter_add(e->m_missed, (double)missed);
			next += missed * g->interval_ms;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ---- building groups ---- */

static group_t *group_new(rl_engine_t *e, const rl_group_t *src)
{
	group_t *g = calloc(1, sizeof(*g));
	size_t i;

	if (g == NULL)
		return NULL;
	g->e = e;
	ax_u64map_init(&g->prev);
	g->name = strdup(src->name);
	g->file = strdup(src->file);
	g->interval_ms =
	    src->interval_ms > 0 ? src->interval_ms : e->global_interval_ms;
	g->limit = src->limit;
	g->should_restore = 1;
	g->rules = calloc(src->n + 1, sizeof(*g->rules));
	if (g->name == NULL || g->file == NULL || g->rules == NULL) {
		group_free(g);
		return NULL;
	}
	for (i = 0; i < src->n; i++) {
		const rl_rule_t *s = &src->rules[i];
		rule_t *r = &g->rules[i];
		ax_buf_t f = AX_BUF_INIT;

		g->n++;
		ax_u64map_init(&r->active);
		r->alerting = s->alert != NULL && *s->alert;
		r->name = strdup(r->alerting ? s->alert : s->record);
		r->expr = strdup(s->expr);
		ax_pq_format(s->ast, &f);
		r->expr_fmt = ax_buf_ok(&f) ? strdup(f.p ? f.p : "") : NULL;
		/* the generatorURL of its alerts, once */
		f.len = 0;
		ax_buf_puts(&f, e->external_url ? e->external_url : "");
		ax_buf_puts(&f, "/graph?g0.expr=");
		if (r->expr_fmt)
			ax_tmpl_query_escape(
			    r->expr_fmt, strlen(r->expr_fmt), &f);
		ax_buf_puts(&f, "&g0.tab=1");
		r->gen_url = ax_buf_ok(&f) ? strdup(f.p) : NULL;
		ax_buf_fini(&f);
		r->for_ms = s->for_ms;
		r->keep_ms = s->keep_firing_for_ms;
		if (r->name == NULL || r->expr == NULL || r->expr_fmt == NULL ||
		    r->gen_url == NULL ||
		    rl_kv_copy(&r->labels, &s->labels) != 0 ||
		    rl_kv_copy(&r->annotations, &s->annotations) != 0) {
			group_free(g);
			return NULL;
		}
	}
	return g;
}

/* Carry state over from old to g where group and rule stay the same. */
static void copy_state(group_t *g, group_t *old)
{
	size_t i, k;

	if (old == NULL || strcmp(g->name, old->name) != 0 ||
	    strcmp(g->file, old->file) != 0 ||
	    g->interval_ms != old->interval_ms)
		return;
	g->should_restore = old->should_restore;
	ax_u64map_fini(&g->prev);
	g->prev = old->prev;
	ax_u64map_init(&old->prev);
	for (i = 0; i < g->n; i++)
		for (k = 0; k < old->n; k++) {
			rule_t *r = &g->rules[i], *o = &old->rules[k];

			if (o->name == NULL || strcmp(r->name, o->name) != 0 ||
			    strcmp(r->expr_fmt, o->expr_fmt) != 0 ||
			    r->alerting != o->alerting)
				continue;
			ax_u64map_fini(&r->active);
			r->active = o->active;
			ax_u64map_init(&o->active);
			r->restored = o->restored;
			r->health = o->health;
			r->last_eval_ms = o->last_eval_ms;
			free(o->name);
			o->name = NULL; /* taken */
			break;
		}
}

/* initial: the first load at start, whose groups restore their `for`
 * state; groups new in a reload start restored, as in Prometheus. */
static int build(rl_engine_t *e, const rl_config_t *cfg, group_t **old,
    size_t nold, int initial, ax_err_t *err)
{
	size_t i, k;

	e->global_interval_ms = cfg->global.evaluation_interval_ms;
	e->groups = calloc(cfg->rules.n + 1, sizeof(*e->groups));
	if (e->groups == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < cfg->rules.n; i++) {
		group_t *g = group_new(e, &cfg->rules.groups[i]);

		if (g == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		if (!initial) {
			g->should_restore = 0;
			for (k = 0; k < g->n; k++)
				g->rules[k].restored = 1;
		}
		for (k = 0; k < nold; k++)
			if (old[k] && strcmp(old[k]->name, g->name) == 0 &&
			    strcmp(old[k]->file, g->file) == 0) {
				copy_state(g, old[k]);
				break;
			}
		e->groups[e->ngroups++] = g;
	}
	for (i = 0; i < e->ngroups; i++) {
		if (pthread_create(&e->groups[i]->thr, NULL, group_main,
		        e->groups[i]) != 0)
			return ax_err_set(
			    err, AX_EINTERNAL, "cannot start a thread");
		e->groups[i]->started = 1;
	}
	return 0;
}

static void stop_groups(rl_engine_t *e, group_t **v, size_t n)
{
	size_t i;

	pthread_mutex_lock(&e->mu);
	for (i = 0; i < n; i++)
		v[i]->stop = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	for (i = 0; i < n; i++)
		if (v[i]->started) {
			pthread_join(v[i]->thr, NULL);
			v[i]->started = 0;
		}
}

int rl_engine_start(const rl_config_t *cfg, const rl_engine_opts_t *o,
    rl_notify_t *notify, ax_metrics_t *metrics, rl_engine_t **out,
    ax_err_t *err)
{
	rl_engine_t *e = calloc(1, sizeof(*e));
	ax_msg_opts_t mo = {0};
	ax_ship_opts_t so = {0};
	static const double buckets[] = {0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60};
	int rv;

	if (e == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_init(&e->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_REALTIME);
		pthread_cond_init(&e->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	e->o = *o;
	e->notify = notify;
	e->external_url = strdup(o->external_url ? o->external_url : "");
	if (cfg->global.external_labels)
		e->external = ax_labels_dup(cfg->global.external_labels);
	e->m_evals =
	    ax_metrics_counter(metrics, "prometheus_rule_evaluations_total",
	        "The total number of rule evaluations.");
	e->m_fails = ax_metrics_counter(metrics,
	    "prometheus_rule_evaluation_failures_total",
	    "The total number of rule evaluation failures.");
	e->m_missed = ax_metrics_counter(metrics,
	    "prometheus_rule_group_iterations_missed_total",
	    "The total number of rule group evaluations missed due to slow "
	    "rule group evaluation.");
	e->m_iters = ax_metrics_counter(metrics,
	    "prometheus_rule_group_iterations_total",
	    "The total number of scheduled rule group evaluations.");
	e->m_skipped = ax_metrics_counter(metrics,
	    "axon_ruler_iterations_skipped_total",
	    "Rule group iterations skipped because the tsdb was not reachable "
	    "or not ready (alert states frozen).");
	e->m_duration = ax_metrics_histogram(metrics,
	    "prometheus_rule_group_duration_seconds",
	    "The duration of rule group evaluations.", buckets, 8);
	mo.timeout_ms = o->query_timeout_ms + 5000;
	mo.retries = 0;
	so.addr = cfg->axon.tsdb_ingest;
	so.sender_id = "axon-ruler";
	if (e->external_url == NULL) {
		rl_engine_stop(e);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (cfg->rules.n > 0) {
		if ((rv = ax_msg_client_open(
		         cfg->axon.tsdb_query, &mo, &e->q, err)) != 0 ||
		    (rv = ax_ship_new(&so, metrics, &e->ship, err)) != 0) {
			rl_engine_stop(e);
			return rv;
		}
	}
	if ((rv = build(e, cfg, NULL, 0, 1, err)) != 0) {
		rl_engine_stop(e);
		return rv;
	}
	*out = e;
	return 0;
}

int rl_engine_reload(rl_engine_t *e, const rl_config_t *cfg, ax_err_t *err)
{
	group_t **old = e->groups;
	size_t nold = e->ngroups, i;
	int rv;

	if (e->q == NULL && cfg->rules.n > 0)
		return ax_err_set(err, AX_ECONFIG,
		    "rules were added to a ruler started without any: "
		    "restart it to connect to the tsdb");
	stop_groups(e, old, nold);
	pthread_mutex_lock(&e->mu);
	e->groups = NULL;
	e->ngroups = 0;
	ax_labels_free(e->external);
	e->external = cfg->global.external_labels
	    ? ax_labels_dup(cfg->global.external_labels)
	    : NULL;
	pthread_mutex_unlock(&e->mu);
	rv = build(e, cfg, old, nold, 0, err);
	for (i = 0; i < nold; i++)
		group_free(old[i]);
	free(old);
	return rv;
}

void rl_engine_stop(rl_engine_t *e)
{
	size_t i;

	if (e == NULL)
		return;
	stop_groups(e, e->groups, e->ngroups);
	for (i = 0; i < e->ngroups; i++)
		group_free(e->groups[i]);
	free(e->groups);
	if (e->ship)
		ax_ship_stop_free(e->ship, 2000);
	ax_msg_client_close(e->q);
	free(e->external_url);
	ax_labels_free(e->external);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

/* ---- API ---- */

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char t[64];

	if (ms == 0)
		snprintf(t, sizeof(t), "0001-01-01T00:00:00Z");
	else
		ax_time_format(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, k, t);
}

/* Go's strconv.FormatFloat(v, 'e', -1, 64). */
static void fmt_e(double v, char *out, size_t cap)
{
	int p;

	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (p = 0; p < 17; p++) {
		snprintf(out, cap, "%.*e", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static cJSON *kv_json(const rl_kv_t *kv)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && i < kv->n; i++)
		cJSON_AddStringToObject(o, kv->k[i], kv->v[i]);
	return o;
}

static cJSON *labels_json(const ax_labels_t *ls)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && ls && i < ls->n; i++)
		cJSON_AddStringToObject(o, ls->l[i].name, ls->l[i].value);
	return o;
}

static cJSON *alert_json(const alert_t *a)
{
	cJSON *o = cJSON_CreateObject();
	char v[64];

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "labels", labels_json(a->labels));
	cJSON_AddItemToObject(o, "annotations", kv_json(&a->ann));
	cJSON_AddStringToObject(
	    o, "state", a->state == ST_FIRING ? "firing" : "pending");
	add_time(o, "activeAt", a->active_at);
	if (a->keep_since)
		add_time(o, "keepFiringSince", a->keep_since);
	fmt_e(a->value, v, sizeof(v));
	cJSON_AddStringToObject(o, "value", v);
	return o;
}

static const char *health_name(int h)
{
	return h == H_OK ? "ok" : h == H_ERR ? "err" : "unknown";
}

static int cmp_group(const void *a, const void *b)
{
	const group_t *x = *(group_t *const *)a, *y = *(group_t *const *)b;
	int r = strcmp(x->file, y->file);

	return r ? r : strcmp(x->name, y->name);
}

int rl_engine_rules_json(rl_engine_t *e, const char *type, cJSON *data)
{
	cJSON *groups = cJSON_AddArrayToObject(data, "groups");
	group_t **sorted;
	size_t i, k;

	if (groups == NULL)
		return AX_ENOMEM;
	pthread_mutex_lock(&e->mu);
	/* as Prometheus lists them: by file, then name */
	if ((sorted = malloc((e->ngroups + 1) * sizeof(*sorted))) == NULL) {
		pthread_mutex_unlock(&e->mu);
		return AX_ENOMEM;
	}
	memcpy(sorted, e->groups, e->ngroups * sizeof(*sorted));
	qsort(sorted, e->ngroups, sizeof(*sorted), cmp_group);
	for (i = 0; i < e->ngroups; i++) {
		group_t *g = sorted[i];
		cJSON *go = cJSON_CreateObject(), *rules;

		if (go == NULL)
			break;
		cJSON_AddStringToObject(go, "name", g->name);
		cJSON_AddStringToObject(go, "file", g->file);
		rules = cJSON_AddArrayToObject(go, "rules");
		for (k = 0; rules && k < g->n; k++) {
			rule_t *r = &g->rules[k];
			cJSON *ro;

			if (type && *type &&
			    strcmp(type, r->alerting ? "alert" : "record") != 0)
				continue;
			if ((ro = cJSON_CreateObject()) == NULL)
				break;
			if (r->alerting) {
				cJSON *alerts = NULL;
				size_t pos = 0;
				uint64_t h;
				alert_t *a;
				int st = ST_INACTIVE;

				while ((a = ax_u64map_next(
				            &r->active, &pos, &h)) != NULL)
					if (a->state > st)
						st = a->state;
				cJSON_AddStringToObject(ro, "state",
				    st == ST_FIRING        ? "firing"
				        : st == ST_PENDING ? "pending"
				                           : "inactive");
				cJSON_AddStringToObject(ro, "name", r->name);
				cJSON_AddStringToObject(
				    ro, "query", r->expr_fmt);
				cJSON_AddNumberToObject(
				    ro, "duration", (double)r->for_ms / 1000);
				cJSON_AddNumberToObject(ro, "keepFiringFor",
				    (double)r->keep_ms / 1000);
				cJSON_AddItemToObject(
				    ro, "labels", kv_json(&r->labels));
				cJSON_AddItemToObject(ro, "annotations",
				    kv_json(&r->annotations));
				alerts = cJSON_AddArrayToObject(ro, "alerts");
				pos = 0;
				while (alerts &&
				    (a = ax_u64map_next(
				         &r->active, &pos, &h)) != NULL)
					if (a->state != ST_INACTIVE)
						cJSON_AddItemToArray(
						    alerts, alert_json(a));
			} else {
				cJSON_AddStringToObject(ro, "name", r->name);
				cJSON_AddStringToObject(
				    ro, "query", r->expr_fmt);
				/* Prometheus: null for a recording rule without
				 * labels ({} for an alerting rule) */
				if (r->labels.n > 0)
					cJSON_AddItemToObject(
					    ro, "labels", kv_json(&r->labels));
				else
					cJSON_AddNullToObject(ro, "labels");
			}
			cJSON_AddStringToObject(
			    ro, "health", health_name(r->health));
			if (r->last_error)
				cJSON_AddStringToObject(
				    ro, "lastError", r->last_error);
			cJSON_AddNumberToObject(
			    ro, "evaluationTime", r->eval_secs);
			add_time(ro, "lastEvaluation", r->last_eval_ms);
			cJSON_AddStringToObject(
			    ro, "type", r->alerting ? "alerting" : "recording");
			cJSON_AddItemToArray(rules, ro);
		}
		cJSON_AddNumberToObject(
		    go, "interval", (double)g->interval_ms / 1000);
		cJSON_AddNumberToObject(go, "limit", (double)g->limit);
		cJSON_AddNumberToObject(go, "evaluationTime", g->eval_secs);
		add_time(go, "lastEvaluation", g->last_eval_ms);
		cJSON_AddItemToArray(groups, go);
	}
	pthread_mutex_unlock(&e->mu);
	free(sorted);
	return 0;
}

int rl_engine_alerts_json(rl_engine_t *e, cJSON *data)
{
	cJSON *alerts = cJSON_AddArrayToObject(data, "alerts");
	size_t i, k;

	if (alerts == NULL)
		return AX_ENOMEM;
	pthread_mutex_lock(&e->mu);
	for (i = 0; i < e->ngroups; i++)
		for (k = 0; k < e->groups[i]->n; k++) {
			rule_t *r = &e->groups[i]->rules[k];
			size_t pos = 0;
			uint64_t h;
			alert_t *a;

			while (
			    (a = ax_u64map_next(&r->active, &pos, &h)) != NULL)
				if (a->state != ST_INACTIVE)
					cJSON_AddItemToArray(
					    alerts, alert_json(a));
		}
	pthread_mutex_unlock(&e->mu);
	return 0;
}
