/*
 * promql: the PromQL evaluator (see promql.h).
 */
#include "tsdb/promql.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ax_buf.h"
#include "ax_hmap.h"
#include "ax_promql_lex.h"
#include "ax_regex.h"
#include "ax_units.h"

#define STALE_BITS 0x7ff0000000000002ULL
#define MSG_DUP "vector cannot contain metrics with the same labelset"

typedef struct pq_rng {
	int64_t start, end, step;
	size_t n;
} pq_rng_t;

typedef struct pq_val {
	ax_pq_type_t type; /* SCALAR, VECTOR, MATRIX or STRING */
	tsdb_pq_series_t *s;
	size_t n, cap;
	char *str;
} pq_val_t;

typedef struct pq_ctx {
	tsdb_db_t *db;
	tsdb_pq_opts_t o;
	int64_t q_start, q_end; /* start() and end() */
	int64_t deadline;       /* ax_mono_ms() clock; 0: none */
	int64_t held;           /* points held by live values */
	unsigned tick;
	ax_err_t *err;
	ax_buf_t kb; /* label-key scratch */
	tsdb_pq_point_t *buf; /* window scratch */
	size_t buf_cap;
} pq_ctx_t;

/* A sample of a value at one step: series index and value. */
typedef struct pq_smp {
	uint32_t si;
	double v;
} pq_smp_t;

static int eval(pq_ctx_t *c, const ax_pq_node_t *n, const pq_rng_t *r,
    pq_val_t *out);

void tsdb_pq_opts_default(tsdb_pq_opts_t *o)
{
	o->lookback_ms = 5 * 60 * 1000;
	o->max_samples = 50000000;
	o->timeout_ms = 2 * 60 * 1000;
	o->default_step_ms = 60 * 1000;
}

static int is_stale(double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	return u == STALE_BITS;
}

static int oom(pq_ctx_t *c)
{
	return ax_err_set(c->err, AX_ENOMEM, "out of memory");
}

/* Called in every loop: every 4096 calls, look at the clock. */
static int tick(pq_ctx_t *c)
{
	if ((++c->tick & 4095) != 0 || c->deadline == 0)
		return 0;
	if (ax_mono_ms() > c->deadline)
		return ax_err_set(
		    c->err, AX_ETIMEDOUT, "query timed out in query execution");
	return 0;
}

static const ax_pq_node_t *unparen(const ax_pq_node_t *n)
{
	while (n->kind == AX_PQ_PAREN)
		n = n->a;
	return n;
}

static size_t step_index(const pq_rng_t *r, int64_t t)
{
	return (size_t)((t - r->start) / r->step);
}

/* ---- values ---- */

static void val_fini(pq_ctx_t *c, pq_val_t *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		c->held -= (int64_t)v->s[i].n;
		ax_labels_free(v->s[i].ls);
		free(v->s[i].pts);
	}
	free(v->s);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

/* Append a series (takes ls; on failure frees it). */
static int val_add(pq_ctx_t *c, pq_val_t *v, ax_labels_t *ls, size_t *idx)
{
	if (ls == NULL)
		return oom(c);
	if (v->n == v->cap &&
	    ax_grow((void **)&v->s, &v->cap, v->n + 1, sizeof(*v->s)) != 0) {
		ax_labels_free(ls);
		return oom(c);
	}
	memset(&v->s[v->n], 0, sizeof(v->s[0]));
	v->s[v->n].ls = ls;
	*idx = v->n++;
	return 0;
}

static int push(pq_ctx_t *c, tsdb_pq_series_t *s, int64_t t, double v)
{
	if (s->n == s->cap &&
	    ax_grow((void **)&s->pts, &s->cap, s->n + 1, sizeof(*s->pts)) != 0)
		return oom(c);
	if (s->n > 0 && t <= s->pts[s->n - 1].t)
		s->unsorted = 1;
	s->pts[s->n].t = t;
	s->pts[s->n].v = v;
	s->n++;
	if (++c->held > c->o.max_samples && c->o.max_samples > 0)
		return ax_err_set(c->err, AX_ELIMIT,
		    "query processing would load too many samples into memory "
		    "in query execution");
	return 0;
}

static int pt_cmp(const void *a, const void *b)
{
	int64_t x = ((const tsdb_pq_point_t *)a)->t;
	int64_t y = ((const tsdb_pq_point_t *)b)->t;

	return x < y ? -1 : x > y;
}

/* Sort series appended out of order; two points of one series at one
 * time mean two output elements had the same label set. */
static int val_finish(pq_ctx_t *c, pq_val_t *v)
{
	size_t i, j;

	for (i = 0; i < v->n; i++) {
		tsdb_pq_series_t *s = &v->s[i];

		if (!s->unsorted)
			continue;
		qsort(s->pts, s->n, sizeof(*s->pts), pt_cmp);
		for (j = 1; j < s->n; j++)
			if (s->pts[j].t == s->pts[j - 1].t)
				return ax_err_set(c->err, AX_EINVAL, MSG_DUP);
		s->unsorted = 0;
	}
	return 0;
}

/* Remove the series without points. */
static void val_drop_empty(pq_val_t *v)
{
	size_t i, w = 0;

	for (i = 0; i < v->n; i++) {
		if (v->s[i].n == 0) {
			ax_labels_free(v->s[i].ls);
			free(v->s[i].pts);
		} else {
			v->s[w++] = v->s[i];
		}
	}
	v->n = w;
}

static ax_labels_t *empty_labels(void)
{
	ax_labels_t *ls = NULL;

	ax_labels_new(NULL, 0, &ls, NULL);
	return ls;
}

static ax_labels_t *drop_name(const ax_labels_t *ls)
{
	ax_labels_builder_t b;
	ax_labels_t *out = NULL;

	ax_labels_builder_init(&b, ls);
	ax_labels_builder_del(&b, AX_METRIC_NAME);
	ax_labels_builder_build(&b, &out, NULL);
	ax_labels_builder_fini(&b);
	return out;
}

/* The label set as a byte key in c->kb. */
static void labels_key(pq_ctx_t *c, const ax_labels_t *ls)
{
	uint32_t i;

	ax_buf_reset(&c->kb);
	for (i = 0; i < ls->n; i++) {
		ax_buf_append(&c->kb, ls->l[i].name, strlen(ls->l[i].name) + 1);
		ax_buf_append(
		    &c->kb, ls->l[i].value, strlen(ls->l[i].value) + 1);
	}
}

/* An output value whose series are found by label set: by the label
 * set's 64-bit hash (computed when it was made), the labels compared on a
 * hit; a set whose hash another set already holds goes by its bytes. */
typedef struct pq_out {
	pq_val_t *v;
	ax_u64map_t by_hash; /* hash | 1 -> index + 1 */
	ax_hmap_t collided;  /* labels_key -> index + 1 */
} pq_out_t;

static void out_init(pq_out_t *o, pq_val_t *v)
{
	o->v = v;
	ax_u64map_init(&o->by_hash);
	ax_hmap_init(&o->collided);
}

static void out_fini(pq_out_t *o)
{
	ax_u64map_fini(&o->by_hash);
	ax_hmap_fini(&o->collided);
}

/* The series for ls (taken), created on first use. */
static int out_series(pq_ctx_t *c, pq_out_t *o, ax_labels_t *ls, size_t *idx)
{
	void *hit;
	int rv;

	uint64_t h;

	if (ls == NULL)
		return oom(c);
	h = ls->hash | 1;
	hit = ax_u64map_get(&o->by_hash, h);
	if (hit == NULL) {
		if ((rv = val_add(c, o->v, ls, idx)) != 0)
			return rv;
		if (ax_u64map_put(&o->by_hash, h, (void *)(uintptr_t)(*idx + 1)) !=
		    0)
			return oom(c);
		return 0;
	}
	if (ax_labels_equal(o->v->s[(size_t)(uintptr_t)hit - 1].ls, ls)) {
		ax_labels_free(ls);
		*idx = (size_t)(uintptr_t)hit - 1;
		return 0;
	}
	/* another label set with the same hash: by bytes */
	labels_key(c, ls);
	if (c->kb.oom) {
		ax_labels_free(ls);
		return oom(c);
	}
	hit = ax_hmap_get(&o->collided, c->kb.p, c->kb.len);
	if (hit != NULL) {
		ax_labels_free(ls);
		*idx = (size_t)(uintptr_t)hit - 1;
		return 0;
	}
	if ((rv = val_add(c, o->v, ls, idx)) != 0)
		return rv;
	labels_key(c, o->v->s[*idx].ls);
	if (c->kb.oom || ax_hmap_put(&o->collided, c->kb.p, c->kb.len,
	                     (void *)(uintptr_t)(*idx + 1), NULL) != 0)
		return oom(c);
	return 0;
}

/* A scalar: one label-less series, a point at every step. */
static int scalar_new(pq_ctx_t *c, pq_val_t *v)
{
	size_t idx;

	memset(v, 0, sizeof(*v));
	v->type = AX_PQ_TSCALAR;
	return val_add(c, v, empty_labels(), &idx);
}

static int scalar_const(pq_ctx_t *c, const pq_rng_t *r, double x, pq_val_t *v)
{
	size_t k;
	int rv;

	if ((rv = scalar_new(c, v)) != 0)
		return rv;
	for (k = 0; k < r->n; k++)
		if ((rv = push(c, &v->s[0], r->start + (int64_t)k * r->step,
		         x)) != 0)
			return rv;
	return 0;
}

/* The samples of v at time ts, advancing the per-series cursors pos. */
static size_t gather(const pq_val_t *v, size_t *pos, int64_t ts, pq_smp_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < v->n; i++) {
		const tsdb_pq_series_t *s = &v->s[i];

		while (pos[i] < s->n && s->pts[pos[i]].t < ts)
			pos[i]++;
		if (pos[i] < s->n && s->pts[pos[i]].t == ts) {
			out[n].si = (uint32_t)i;
			out[n].v = s->pts[pos[i]].v;
			n++;
		}
	}
	return n;
}

/* ---- selectors ---- */

static int64_t ref_time(pq_ctx_t *c, ax_at_kind_t kind, int64_t at,
    int64_t offset, int64_t ts)
{
	switch (kind) {
	case AX_AT_TIMESTAMP: ts = at; break;
	case AX_AT_START: ts = c->q_start; break;
	case AX_AT_END: ts = c->q_end; break;
	case AX_AT_NONE: break;
	}
	return ts - offset;
}

/* An instant vector selector; ts_mode: the value is the sample's
 * timestamp in seconds and the name is dropped (timestamp()). */
static int eval_vsel(pq_ctx_t *c, const ax_selector_t *s, const pq_rng_t *r,
    int ts_mode, pq_val_t *out)
{
	int64_t lb = c->o.lookback_ms;
	int64_t r0 = ref_time(c, s->at_kind, s->at_ms, s->offset_ms, r->start);
	int64_t r1 = ref_time(c, s->at_kind, s->at_ms, s->offset_ms, r->end);
	tsdb_series_set_t *set = NULL;
	pq_out_t o;
	size_t i, k, n;
	int rv;

	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	if ((rv = tsdb_db_select(c->db, s->matchers, s->n_matchers, r0 - lb,
	         r1, &set, c->err)) != 0)
		return rv;
	out_init(&o, out);
	n = tsdb_series_set_len(set);
	for (i = 0; i < n && rv == 0; i++) {
		tsdb_sample_it_t it;
		int have = 0, have_prev = 0, st;
		int64_t pt = 0;
		double pv = 0;
		size_t idx = SIZE_MAX;

		tsdb_series_set_iter(set, i, &it);
		if ((st = tsdb_sample_it_next(&it)) < 0)
			goto corrupt;
		have = st;
		for (k = 0; k < r->n && rv == 0; k++) {
			int64_t ts = r->start + (int64_t)k * r->step;
			int64_t ref = ref_time(
			    c, s->at_kind, s->at_ms, s->offset_ms, ts);

			if ((rv = tick(c)) != 0)
				break;
			if (have && it.t < ref - lb) {
				if ((st = tsdb_sample_it_seek(&it, ref - lb)) < 0)
					goto corrupt;
				have = st;
				have_prev = 0;
			}
			while (have && it.t <= ref) {
				pt = it.t;
				pv = it.v;
				have_prev = 1;
				if ((st = tsdb_sample_it_next(&it)) < 0)
					goto corrupt;
				have = st;
			}
			if (!have_prev || pt < ref - lb || is_stale(pv))
				continue;
			if (idx == SIZE_MAX) {
				const ax_labels_t *ls =
				    tsdb_series_set_labels(set, i);

				if (ts_mode)
					rv = out_series(c, &o, drop_name(ls), &idx);
				else
					rv = val_add(c, out, ax_labels_dup(ls), &idx);
				if (rv != 0)
					break;
			}
			rv = push(c, &out->s[idx], ts,
			    ts_mode ? (double)pt / 1000.0 : pv);
		}
	}
	out_fini(&o);
	tsdb_series_set_free(set);
	if (rv == 0)
		rv = val_finish(c, out);
	return rv;
corrupt:
	out_fini(&o);
	tsdb_series_set_free(set);
	return ax_err_set(c->err, AX_EIO, "corrupt chunk in series %s",
	    "selected by the query");
}

/* Read one series' samples in [mint, maxt] without staleness markers into
 * c->buf.  Returns the count or a negative error. */
static long read_series(pq_ctx_t *c, tsdb_series_set_t *set, size_t i,
    int64_t mint, int64_t maxt)
{
	tsdb_sample_it_t it;
	size_t n = 0;
	int st;

	tsdb_series_set_iter(set, i, &it);
	st = tsdb_sample_it_seek(&it, mint);
	while (st > 0 && it.t <= maxt) {
		if (!is_stale(it.v)) {
			if (n == c->buf_cap &&
			    ax_grow((void **)&c->buf, &c->buf_cap, n + 1,
			        sizeof(*c->buf)) != 0)
				return oom(c);
			c->buf[n].t = it.t;
			c->buf[n].v = it.v;
			n++;
		}
		st = tsdb_sample_it_next(&it);
	}
	if (st < 0)
		return ax_err_set(c->err, AX_EIO, "corrupt chunk");
	if (c->o.max_samples > 0 && c->held + (int64_t)n > c->o.max_samples)
		return ax_err_set(c->err, AX_ELIMIT,
		    "query processing would load too many samples into memory "
		    "in query execution");
	return (long)n;
}

/* A range selector as a query result (instant queries only). */
static int eval_msel(pq_ctx_t *c, const ax_selector_t *s, const pq_rng_t *r,
    pq_val_t *out)
{
	int64_t ref = ref_time(c, s->at_kind, s->at_ms, s->offset_ms, r->start);
	tsdb_series_set_t *set = NULL;
	size_t i, j, n, idx;
	int rv;

	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TMATRIX;
	if ((rv = tsdb_db_select(c->db, s->matchers, s->n_matchers,
	         ref - s->range_ms, ref, &set, c->err)) != 0)
		return rv;
	n = tsdb_series_set_len(set);
	for (i = 0; i < n && rv == 0; i++) {
		long m = read_series(c, set, i, ref - s->range_ms, ref);

		if (m < 0) {
			rv = (int)m;
			break;
		}
		if (m == 0)
			continue;
		if ((rv = val_add(c, out,
		         ax_labels_dup(tsdb_series_set_labels(set, i)), &idx)) !=
		    0)
			break;
		for (j = 0; j < (size_t)m && rv == 0; j++)
			rv = push(c, &out->s[idx], c->buf[j].t, c->buf[j].v);
	}
	tsdb_series_set_free(set);
	return rv;
}

/* A subquery: the inner expression over its own aligned steps. */
static int eval_subquery(
    pq_ctx_t *c, const ax_pq_node_t *q, const pq_rng_t *r, pq_val_t *out)
{
	int64_t step = q->step_ms > 0 ? q->step_ms : c->o.default_step_ms;
	int64_t s0 = ref_time(c, q->at_kind, q->at_ms, q->offset_ms, r->start);
	int64_t e0 = ref_time(c, q->at_kind, q->at_ms, q->offset_ms, r->end);
	pq_rng_t in;
	int rv;

	in.step = step;
	in.start = step * ((s0 - q->range_ms) / step);
	if (in.start < s0 - q->range_ms)
		in.start += step;
	in.end = e0;
	if (in.end < in.start) {
		memset(out, 0, sizeof(*out));
		out->type = AX_PQ_TMATRIX;
		return 0;
	}
	in.n = (size_t)((in.end - in.start) / step) + 1;
	if ((rv = eval(c, q->a, &in, out)) != 0)
		return rv;
	out->type = AX_PQ_TMATRIX;
	return 0;
}

/* ---- range-vector functions ---- */

/* Labels for absent() and absent_over_time(): the equality matchers of a
 * selector argument, less any label also matched otherwise. */
static ax_labels_t *absent_labels(const ax_pq_node_t *arg)
{
	const ax_selector_t *s;
	ax_label_t pairs[64];
	size_t i, j, n = 0;
	ax_labels_t *ls = NULL;
	const char *drop[64];
	size_t nd = 0;

	arg = unparen(arg);
	if (arg->kind != AX_PQ_SELECTOR)
		return empty_labels();
	s = arg->sel;
	for (i = 0; i < s->n_matchers && n < 64 && nd < 64; i++) {
		const ax_matcher_t *m = s->matchers[i];
		int has = 0;

		if (strcmp(m->name, AX_METRIC_NAME) == 0)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(pairs[j].name, m->name) == 0)
				has = 1;
		if (m->type == AX_MATCH_EQUAL && !has) {
			pairs[n].name = m->name;
			pairs[n].value = m->value;
			n++;
		} else {
			drop[nd++] = m->name;
		}
	}
	for (i = 0; i < nd; i++)
		for (j = 0; j < n; j++)
			if (strcmp(pairs[j].name, drop[i]) == 0)
				pairs[j].value = "";
	ax_labels_new(pairs, n, &ls, NULL);
	return ls;
}

/* Scalar argument values at each step (NAN where absent). */
static int scalar_arg(
    pq_ctx_t *c, const ax_pq_node_t *n, const pq_rng_t *r, pq_val_t *v)
{
	return eval(c, n, r, v);
}

static double scalar_at(const pq_val_t *v, const pq_rng_t *r, int64_t ts)
{
	size_t k = step_index(r, ts);

	if (v->n == 0 || k >= v->s[0].n)
		return NAN;
	return v->s[0].pts[k].v;
}

/* Slide the window over one series' samples p[0..n) for every step. */
static int window_series(pq_ctx_t *c, tsdb_pqw_t id, const pq_rng_t *r,
    const tsdb_pq_point_t *p, size_t n, int64_t range, ax_at_kind_t kind,
    int64_t at, int64_t offset, pq_val_t *args, size_t n_args,
    pq_out_t *o, const ax_labels_t *ls, uint8_t *present)
{
	size_t lo = 0, hi = 0, k, idx = SIZE_MAX;
	int rv;

	for (k = 0; k < r->n; k++) {
		int64_t ts = r->start + (int64_t)k * r->step;
		int64_t ref = ref_time(c, kind, at, offset, ts);
		tsdb_pq_win_t w;
		double val;
		size_t a;

		if ((rv = tick(c)) != 0)
			return rv;
		while (hi < n && p[hi].t <= ref)
			hi++;
		while (lo < hi && p[lo].t < ref - range)
			lo++;
		if (lo >= hi)
			continue;
		if (present) {
			present[k] = 1;
			continue;
		}
		w.p = p + lo;
		w.n = hi - lo;
		w.range_ms = range;
		w.ref = ref;
		w.ts = ts;
		w.arg[0] = w.arg[1] = NAN;
		for (a = 0; a < n_args && a < 2; a++)
			w.arg[a] = scalar_at(&args[a], r, ts);
		rv = tsdb_pqfn_window(id, &w, &val, c->err);
		if (rv < 0)
			return rv;
		if (rv == 0)
			continue;
		if (idx == SIZE_MAX &&
		    (rv = out_series(c, o,
		         id == TSDB_PQW_LAST ? ax_labels_dup(ls) : drop_name(ls),
		         &idx)) != 0)
			return rv;
		if ((rv = push(c, &o->v->s[idx], ts, val)) != 0)
			return rv;
	}
	return 0;
}

static int eval_window_call(pq_ctx_t *c, const ax_pq_node_t *call,
    tsdb_pqw_t id, const pq_rng_t *r, pq_val_t *out)
{
	size_t mi = id == TSDB_PQW_QUANTILE ? 1 : 0, i, k, na = 0;
	const ax_pq_node_t *m = unparen(call->args[mi]);
	pq_val_t args[2];
	uint8_t *present = NULL;
	pq_out_t o;
	int rv = 0;

	memset(args, 0, sizeof(args));
	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	for (i = 0; i < call->n_args && rv == 0; i++) {
		if (i == mi)
			continue;
		rv = scalar_arg(c, call->args[i], r, &args[na++]);
	}
	if (rv != 0)
		goto done;
	if (id == TSDB_PQW_ABSENT &&
	    (present = calloc(r->n ? r->n : 1, 1)) == NULL) {
		rv = oom(c);
		goto done;
	}
	out_init(&o, out);
	if (m->kind == AX_PQ_SELECTOR) {
		const ax_selector_t *s = m->sel;
		int64_t r0 = ref_time(
		    c, s->at_kind, s->at_ms, s->offset_ms, r->start);
		int64_t r1 =
		    ref_time(c, s->at_kind, s->at_ms, s->offset_ms, r->end);
		tsdb_series_set_t *set = NULL;

		rv = tsdb_db_select(c->db, s->matchers, s->n_matchers,
		    r0 - s->range_ms, r1, &set, c->err);
		for (i = 0; rv == 0 && i < tsdb_series_set_len(set); i++) {
			long n = read_series(c, set, i, r0 - s->range_ms, r1);

			if (n < 0) {
				rv = (int)n;
				break;
			}
			rv = window_series(c, id, r, c->buf, (size_t)n,
			    s->range_ms, s->at_kind, s->at_ms, s->offset_ms,
			    args, na, &o, tsdb_series_set_labels(set, i),
			    present);
		}
		tsdb_series_set_free(set);
	} else {
		pq_val_t sub;

		if ((rv = eval_subquery(c, m, r, &sub)) == 0) {
			for (i = 0; rv == 0 && i < sub.n; i++)
				rv = window_series(c, id, r, sub.s[i].pts,
				    sub.s[i].n, m->range_ms, m->at_kind,
				    m->at_ms, m->offset_ms, args, na, &o,
				    sub.s[i].ls, present);
		}
		val_fini(c, &sub);
	}
	out_fini(&o);
	if (rv == 0 && present) {
		size_t idx = SIZE_MAX;

		for (k = 0; k < r->n && rv == 0; k++) {
			if (present[k])
				continue;
			if (idx == SIZE_MAX &&
			    (rv = val_add(c, out, absent_labels(m), &idx)) != 0)
				break;
			rv = push(c, &out->s[idx],
			    r->start + (int64_t)k * r->step, 1);
		}
	}
	if (rv == 0)
		rv = val_finish(c, out);
done:
	free(present);
	for (i = 0; i < 2; i++)
		val_fini(c, &args[i]);
	return rv;
}

/* ---- other functions ---- */

static const char *string_arg(const ax_pq_node_t *n)
{
	n = unparen(n);
	return n->kind == AX_PQ_STRING ? n->str : "";
}

/* Apply f to every point of an instant-vector argument, dropping the
 * metric name; scalar arguments follow (round, clamp*). */
static int eval_elem_call(pq_ctx_t *c, const ax_pq_node_t *call, int id,
    const pq_rng_t *r, pq_val_t *out)
{
	pq_val_t in, args[2];
	pq_out_t o;
	size_t i, j, na = 0;
	int rv;

	memset(args, 0, sizeof(args));
	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	if (call->n_args == 0) {
		/* date functions of the evaluation time */
		size_t idx, k;
		double a[2] = {0, 0};

		if ((rv = val_add(c, out, empty_labels(), &idx)) != 0)
			return rv;
		for (k = 0; k < r->n; k++) {
			int64_t ts = r->start + (int64_t)k * r->step;
			double v;

			tsdb_pqfn_elem(id, (double)(ts / 1000), a, &v);
			if ((rv = push(c, &out->s[idx], ts, v)) != 0)
				return rv;
		}
		return 0;
	}
	if ((rv = eval(c, call->args[0], r, &in)) != 0)
		return rv;
	for (i = 1; i < call->n_args && i < 3 && rv == 0; i++)
		rv = scalar_arg(c, call->args[i], r, &args[na++]);
	out_init(&o, out);
	for (i = 0; i < in.n && rv == 0; i++) {
		size_t idx = SIZE_MAX;

		for (j = 0; j < in.s[i].n && rv == 0; j++) {
			int64_t ts = in.s[i].pts[j].t;
			double a[2], v;

			a[0] = na > 0 ? scalar_at(&args[0], r, ts) : 1;
			a[1] = na > 1 ? scalar_at(&args[1], r, ts) : 0;
			if (!tsdb_pqfn_elem(id, in.s[i].pts[j].v, a, &v))
				continue;
			if (idx == SIZE_MAX &&
			    (rv = out_series(
			         c, &o, drop_name(in.s[i].ls), &idx)) != 0)
				break;
			rv = push(c, &out->s[idx], ts, v);
		}
	}
	out_fini(&o);
	val_fini(c, &in);
	for (i = 0; i < 2; i++)
		val_fini(c, &args[i]);
	return rv ? rv : val_finish(c, out);
}

/* Relabel every series of the argument (label_replace, label_join);
 * values are kept. */
static int eval_relabel(pq_ctx_t *c, const ax_pq_node_t *call,
    const pq_rng_t *r, pq_val_t *out)
{
	int join = strcmp(call->func->name, "label_join") == 0;
	const char *dst = string_arg(call->args[1]);
	ax_regex_t *re = NULL;
	pq_val_t in;
	pq_out_t o;
	ax_buf_t val = AX_BUF_INIT;
	size_t i, j;
	int rv;

	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	if (!ax_label_name_valid(dst, strlen(dst)))
		return ax_err_set(c->err, AX_EINVAL,
		    "invalid destination label name in %s(): %s",
		    call->func->name, dst);
	if (join) {
		for (i = 3; i < call->n_args; i++) {
			const char *src = string_arg(call->args[i]);

			if (!ax_label_name_valid(src, strlen(src)))
				return ax_err_set(c->err, AX_EINVAL,
				    "invalid source label name in "
				    "label_join(): %s",
				    src);
		}
	} else {
		ax_err_t e;

		if (ax_regex_compile(string_arg(call->args[4]), &re, &e) != 0)
			return ax_err_set(c->err, AX_EINVAL,
			    "invalid regular expression in label_replace(): "
			    "%s",
			    e.msg);
	}
	if ((rv = eval(c, call->args[0], r, &in)) != 0) {
		ax_regex_free(re);
		return rv;
	}
	out_init(&o, out);
	for (i = 0; i < in.n && rv == 0; i++) {
		const ax_labels_t *ls = in.s[i].ls;
		ax_labels_builder_t b;
		ax_labels_t *nls = NULL;
		size_t idx;
		int m = 1;

		ax_buf_reset(&val);
		if (join) {
			const char *sep = string_arg(call->args[2]);

			for (j = 3; j < call->n_args; j++) {
				const char *v =
				    ax_labels_get(ls, string_arg(call->args[j]));

				if (j > 3)
					ax_buf_puts(&val, sep);
				ax_buf_puts(&val, v ? v : "");
			}
		} else {
			const char *src =
			    ax_labels_get(ls, string_arg(call->args[3]));

			if (src == NULL)
				src = "";
			m = ax_regex_expand(re, src, strlen(src),
			    string_arg(call->args[2]), &val);
			if (m < 0) {
				rv = ax_err_set(c->err, AX_ELIMIT,
				    "label_replace(): regular expression "
				    "match limit reached");
				break;
			}
		}
		ax_buf_putc(&val, '\0');
		if (val.oom) {
			rv = oom(c);
			break;
		}
		ax_labels_builder_init(&b, ls);
		if (m == 1)
			ax_labels_builder_set(&b, dst, val.p);
		ax_labels_builder_build(&b, &nls, NULL);
		ax_labels_builder_fini(&b);
		if ((rv = out_series(c, &o, nls, &idx)) != 0)
			break;
		for (j = 0; j < in.s[i].n && rv == 0; j++)
			rv = push(c, &out->s[idx], in.s[i].pts[j].t,
			    in.s[i].pts[j].v);
	}
	out_fini(&o);
	ax_buf_fini(&val);
	ax_regex_free(re);
	val_fini(c, &in);
	return rv ? rv : val_finish(c, out);
}

/* Go's sort.Sort over vectorByValueHeap reversed, for one step:
 * insertion sort (stable, as Go's for short inputs), NaN last. */
static int sort_less(double a, double b, int desc)
{
	if (isnan(b))
		return !isnan(a);
	if (isnan(a))
		return 0;
	return desc ? a > b : a < b;
}

static void sort_series(pq_val_t *v, int desc)
{
	size_t i, j;

	for (i = 1; i < v->n; i++) {
		tsdb_pq_series_t tmp = v->s[i];

		for (j = i; j > 0 && tmp.n > 0 && v->s[j - 1].n > 0 &&
		     sort_less(tmp.pts[0].v, v->s[j - 1].pts[0].v, desc);
		     j--)
			v->s[j] = v->s[j - 1];
		v->s[j] = tmp;
	}
}

static int parse_le(const char *s, double *out)
{
	char *end;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t' || *s == '\n')
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

static int eval_histogram_quantile(
    pq_ctx_t *c, const ax_pq_node_t *call, const pq_rng_t *r, pq_val_t *out)
{
	pq_val_t phi, in;
	pq_out_t o;
	ax_hmap_t groups;
	size_t *gid = NULL, *gout = NULL, *pos = NULL, *cnt = NULL, ng = 0,
	       i, k;
	double *le = NULL;
	pq_smp_t *smp = NULL;
	tsdb_pq_bucket_t *bk = NULL;
	size_t *boff = NULL;
	int rv;

	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	if ((rv = scalar_arg(c, call->args[0], r, &phi)) != 0)
		return rv;
	if ((rv = eval(c, call->args[1], r, &in)) != 0) {
		val_fini(c, &phi);
		return rv;
	}
	ax_hmap_init(&groups);
	out_init(&o, out);
	gid = calloc(in.n + 1, sizeof(*gid));
	le = calloc(in.n + 1, sizeof(*le));
	pos = calloc(in.n + 1, sizeof(*pos));
	smp = calloc(in.n + 1, sizeof(*smp));
	gout = calloc(in.n + 1, sizeof(*gout));
	cnt = calloc(in.n + 2, sizeof(*cnt));
	boff = calloc(in.n + 2, sizeof(*boff));
	bk = calloc(in.n + 1, sizeof(*bk));
	if (!gid || !le || !pos || !smp || !gout || !cnt || !boff || !bk) {
		rv = oom(c);
		goto done;
	}
	/* group by the labels without le (the name included); the output
	 * drops the name too */
	for (i = 0; i < in.n && rv == 0; i++) {
		ax_labels_builder_t b;
		ax_labels_t *key = NULL;
		void *hit;

		if (parse_le(ax_labels_get(in.s[i].ls, "le"), &le[i]) != 0) {
			gid[i] = SIZE_MAX;
			continue;
		}
		ax_labels_builder_init(&b, in.s[i].ls);
		ax_labels_builder_del(&b, "le");
		ax_labels_builder_build(&b, &key, NULL);
		ax_labels_builder_fini(&b);
		if (key == NULL) {
			rv = oom(c);
			break;
		}
		labels_key(c, key);
		hit = ax_hmap_get(&groups, c->kb.p, c->kb.len);
		if (hit) {
			gid[i] = (size_t)(uintptr_t)hit - 1;
			ax_labels_free(key);
			continue;
		}
		gid[i] = ng;
		if (ax_hmap_put(&groups, c->kb.p, c->kb.len,
		        (void *)(uintptr_t)(ng + 1), NULL) != 0) {
			ax_labels_free(key);
			rv = oom(c);
			break;
		}
		rv = out_series(c, &o, drop_name(key), &gout[ng]);
		ax_labels_free(key);
		ng++;
	}
	for (k = 0; k < r->n && rv == 0; k++) {
		int64_t ts = r->start + (int64_t)k * r->step;
		size_t n = gather(&in, pos, ts, smp), g;
		double q = scalar_at(&phi, r, ts);

		if ((rv = tick(c)) != 0)
			break;
		memset(cnt, 0, (ng + 1) * sizeof(*cnt));
		for (i = 0; i < n; i++)
			if (gid[smp[i].si] != SIZE_MAX)
				cnt[gid[smp[i].si]]++;
		boff[0] = 0;
		for (g = 0; g < ng; g++)
			boff[g + 1] = boff[g] + cnt[g];
		memset(cnt, 0, (ng + 1) * sizeof(*cnt));
		for (i = 0; i < n; i++) {
			size_t gg = gid[smp[i].si];

			if (gg == SIZE_MAX)
				continue;
			bk[boff[gg] + cnt[gg]].upper = le[smp[i].si];
			bk[boff[gg] + cnt[gg]].count = smp[i].v;
			cnt[gg]++;
		}
		for (g = 0; g < ng && rv == 0; g++) {
			if (cnt[g] == 0)
				continue;
			rv = push(c, &out->s[gout[g]], ts,
			    tsdb_pqfn_bucket_quantile(q, bk + boff[g], cnt[g]));
		}
	}
done:
	free(gid);
	free(le);
	free(pos);
	free(smp);
	free(gout);
	free(cnt);
	free(boff);
	free(bk);
	ax_hmap_fini(&groups);
	out_fini(&o);
	val_fini(c, &in);
	val_fini(c, &phi);
	if (rv == 0) {
		val_drop_empty(out); /* groups that never had a bucket */
		rv = val_finish(c, out);
	}
	return rv;
}

static int eval_call(
    pq_ctx_t *c, const ax_pq_node_t *call, const pq_rng_t *r, pq_val_t *out)
{
	const char *name = call->func->name;
	tsdb_pqw_t wid = tsdb_pqfn_window_id(name);
	int eid = tsdb_pqfn_elem_id(name);
	pq_val_t in;
	size_t i, k, idx;
	int rv;

	if (wid != TSDB_PQW_NONE)
		return eval_window_call(c, call, wid, r, out);
	if (eid >= 0)
		return eval_elem_call(c, call, eid, r, out);
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "time") == 0 || strcmp(name, "pi") == 0) {
		if ((rv = scalar_new(c, out)) != 0)
			return rv;
		for (k = 0; k < r->n; k++) {
			int64_t ts = r->start + (int64_t)k * r->step;

			if ((rv = push(c, &out->s[0], ts,
			         name[0] == 'p' ? M_PI : (double)ts / 1000)) != 0)
				return rv;
		}
		return 0;
	}
	if (strcmp(name, "vector") == 0) {
		if ((rv = eval(c, call->args[0], r, out)) != 0)
			return rv;
		out->type = AX_PQ_TVECTOR;
		return 0;
	}
	if (strcmp(name, "label_replace") == 0 ||
	    strcmp(name, "label_join") == 0)
		return eval_relabel(c, call, r, out);
	if (strcmp(name, "histogram_quantile") == 0)
		return eval_histogram_quantile(c, call, r, out);
	if (strcmp(name, "timestamp") == 0) {
		const ax_pq_node_t *a = unparen(call->args[0]);
		pq_out_t o;

		if (a->kind == AX_PQ_SELECTOR)
			return eval_vsel(c, a->sel, r, 1, out);
		if ((rv = eval(c, a, r, &in)) != 0)
			return rv;
		out->type = AX_PQ_TVECTOR;
		out_init(&o, out);
		for (i = 0; i < in.n && rv == 0; i++) {
			if ((rv = out_series(c, &o, drop_name(in.s[i].ls),
			         &idx)) != 0)
				break;
			for (k = 0; k < in.s[i].n && rv == 0; k++)
				rv = push(c, &out->s[idx], in.s[i].pts[k].t,
				    (double)in.s[i].pts[k].t / 1000);
		}
		out_fini(&o);
		val_fini(c, &in);
		return rv ? rv : val_finish(c, out);
	}
	if ((rv = eval(c, call->args[0], r, &in)) != 0)
		return rv;
	if (strcmp(name, "sort") == 0 || strcmp(name, "sort_desc") == 0) {
		if (r->n == 1)
			sort_series(&in, name[4] == '_');
		*out = in;
		return 0;
	}
	if (strcmp(name, "scalar") == 0 || strcmp(name, "absent") == 0) {
		int scalar = name[0] == 's';
		size_t *pos = calloc(in.n + 1, sizeof(*pos));
		pq_smp_t *smp = calloc(in.n + 1, sizeof(*smp));

		idx = SIZE_MAX;
		if (pos == NULL || smp == NULL) {
			rv = oom(c);
		} else if (scalar) {
			rv = scalar_new(c, out);
		} else {
			out->type = AX_PQ_TVECTOR;
		}
		for (k = 0; k < r->n && rv == 0; k++) {
			int64_t ts = r->start + (int64_t)k * r->step;
			size_t n = gather(&in, pos, ts, smp);

			if (scalar) {
				rv = push(c, &out->s[0], ts,
				    n == 1 ? smp[0].v : NAN);
				continue;
			}
			if (n > 0)
				continue;
			if (idx == SIZE_MAX &&
			    (rv = val_add(c, out, absent_labels(call->args[0]),
			         &idx)) != 0)
				break;
			rv = push(c, &out->s[idx], ts, 1);
		}
		free(pos);
		free(smp);
		val_fini(c, &in);
		return rv;
	}
	/* histogram_count, histogram_sum, histogram_fraction: native
	 * histograms only, which this tsdb refuses at ingestion */
	val_fini(c, &in);
	out->type = AX_PQ_TVECTOR;
	return 0;
}

/* ---- aggregation ---- */

/* Is name among the node's by/without/on/ignoring labels? */
static int listed(const ax_pq_node_t *n, const char *name)
{
	size_t j;

	for (j = 0; j < n->n_labels; j++)
		if (strcmp(n->labels[j], name) == 0)
			return 1;
	return 0;
}

/* Does the aggregation's grouping keep label name? (by: when listed;
 * without: when not listed and not the metric name) */
static int group_keeps(const ax_pq_node_t *n, const char *name)
{
	if (n->without)
		return !listed(n, name) && strcmp(name, AX_METRIC_NAME) != 0;
	return listed(n, name);
}

/* Go's container/heap over indices into smp with a less function. */
typedef struct pq_heap {
	size_t *h;
	size_t n;
	const pq_smp_t *smp;
	int rev; /* bottomk: max-heap */
} pq_heap_t;

static int heap_less(const pq_heap_t *hp, size_t i, size_t j)
{
	double a = hp->smp[hp->h[i]].v, b = hp->smp[hp->h[j]].v;

	if (isnan(a))
		return 1;
	return hp->rev ? a > b : a < b;
}

static void heap_swap(pq_heap_t *hp, size_t i, size_t j)
{
	size_t t = hp->h[i];

	hp->h[i] = hp->h[j];
	hp->h[j] = t;
}

static void heap_up(pq_heap_t *hp, size_t j)
{
	while (j > 0) {
		size_t i = (j - 1) / 2;

		if (!heap_less(hp, j, i))
			break;
		heap_swap(hp, i, j);
		j = i;
	}
}

static void heap_down(pq_heap_t *hp, size_t i, size_t n)
{
	for (;;) {
		size_t j1 = 2 * i + 1, j;

		if (j1 >= n)
			break;
		j = j1;
		if (j1 + 1 < n && heap_less(hp, j1 + 1, j1))
			j = j1 + 1;
		if (!heap_less(hp, j, i))
			break;
		heap_swap(hp, i, j);
		i = j;
	}
}

typedef struct agg_group {
	double value, mean;
	double count;
} agg_group_t;

static int eval_aggregate(
    pq_ctx_t *c, const ax_pq_node_t *n, const pq_rng_t *r, pq_val_t *out)
{
	int op = n->op;
	int is_topk = op == AX_TOK_TOPK || op == AX_TOK_BOTTOMK;
	int by_sample = is_topk || op == AX_TOK_QUANTILE;
	const char *cv_label = NULL;
	pq_val_t in, param;
	pq_out_t o;
	ax_hmap_t gmap;
	size_t *gid = NULL, *gout = NULL, *pos = NULL, *order = NULL,
	       *sout = NULL, *cnt = NULL, *boff = NULL, *members = NULL,
	       *heap = NULL, ng = 0, i, k;
	int64_t *stamp = NULL;
	agg_group_t *st = NULL;
	pq_smp_t *smp = NULL;
	double *qv = NULL;
	int rv;

	memset(&param, 0, sizeof(param));
	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	if (op == AX_TOK_COUNT_VALUES) {
		cv_label = string_arg(n->param);
		if (!ax_label_name_valid(cv_label, strlen(cv_label)))
			return ax_err_set(c->err, AX_EINVAL,
			    "invalid label name \"%s\"", cv_label);
	} else if (n->param &&
	    (rv = scalar_arg(c, n->param, r, &param)) != 0) {
		return rv;
	}
	if ((rv = eval(c, n->a, r, &in)) != 0) {
		val_fini(c, &param);
		return rv;
	}
	ax_hmap_init(&gmap);
	out_init(&o, out);
	gid = calloc(in.n + 1, sizeof(*gid));
	gout = calloc(in.n + 1, sizeof(*gout));
	pos = calloc(in.n + 1, sizeof(*pos));
	order = calloc(in.n + 1, sizeof(*order));
	sout = calloc(in.n + 1, sizeof(*sout));
	stamp = calloc(in.n + 1, sizeof(*stamp));
	st = calloc(in.n + 1, sizeof(*st));
	smp = calloc(in.n + 1, sizeof(*smp));
	cnt = calloc(in.n + 2, sizeof(*cnt));
	boff = calloc(in.n + 2, sizeof(*boff));
	members = calloc(in.n + 1, sizeof(*members));
	heap = calloc(in.n + 1, sizeof(*heap));
	qv = calloc(in.n + 1, sizeof(*qv));
	if (!gid || !gout || !pos || !order || !sout || !stamp || !st ||
	    !smp || !cnt || !boff || !members || !heap || !qv) {
		rv = oom(c);
		goto done;
	}
	/* the group of every input series, and its output labels */
	for (i = 0; i < in.n && rv == 0; i++) {
		const ax_labels_t *ls = in.s[i].ls;
		ax_label_t pairs[128];
		size_t np = 0;
		uint32_t l;
		ax_labels_t *gl = NULL;
		void *hit;

		sout[i] = SIZE_MAX;
		for (l = 0; l < ls->n && np < 128; l++)
			if (group_keeps(n, ls->l[l].name))
				pairs[np++] = ls->l[l];
		if (ax_labels_new(pairs, np, &gl, NULL) != 0) {
			rv = oom(c);
			break;
		}
		labels_key(c, gl);
		hit = ax_hmap_get(&gmap, c->kb.p, c->kb.len);
		if (hit) {
			gid[i] = (size_t)(uintptr_t)hit - 1;
			ax_labels_free(gl);
			continue;
		}
		gid[i] = ng;
		gout[ng] = SIZE_MAX;
		if (ax_hmap_put(&gmap, c->kb.p, c->kb.len,
		        (void *)(uintptr_t)(ng + 1), NULL) != 0) {
			ax_labels_free(gl);
			rv = oom(c);
			break;
		}
		if (op == AX_TOK_COUNT_VALUES || is_topk) {
			ax_labels_free(gl); /* labels made per sample */
		} else {
			size_t idx;

			/* created on first output so instant results keep
			 * the order groups appear in */
			if ((rv = out_series(c, &o, gl, &idx)) != 0)
				break;
			gout[ng] = idx;
		}
		ng++;
	}
	for (k = 0; k < r->n && rv == 0; k++) {
		int64_t ts = r->start + (int64_t)k * r->step;
		size_t ns = gather(&in, pos, ts, smp), no = 0, g;
		double pv = param.n ? scalar_at(&param, r, ts) : 0;

		if ((rv = tick(c)) != 0)
			break;
		if (ns == 0)
			continue;
		if (op == AX_TOK_COUNT_VALUES) {
			for (i = 0; i < ns && rv == 0; i++) {
				ax_labels_builder_t b;
				ax_labels_t *gl = NULL, *ls;
				char num[400];
				size_t idx;
				uint32_t l;

				ax_fmt_double_f(num, sizeof(num), smp[i].v);
				ls = in.s[smp[i].si].ls;
				ax_labels_builder_init(&b, NULL);
				for (l = 0; l < ls->n; l++)
					if (group_keeps(n, ls->l[l].name))
						ax_labels_builder_set(&b,
						    ls->l[l].name, ls->l[l].value);
				/* the value label, unless `without` removes it */
				if (!n->without || !listed(n, cv_label))
					ax_labels_builder_set(&b, cv_label, num);
				ax_labels_builder_build(&b, &gl, NULL);
				ax_labels_builder_fini(&b);
				if ((rv = out_series(c, &o, gl, &idx)) != 0)
					break;
				/* counts accumulate in the point itself */
				if (o.v->s[idx].n > 0 &&
				    o.v->s[idx].pts[o.v->s[idx].n - 1].t == ts)
					o.v->s[idx].pts[o.v->s[idx].n - 1].v += 1;
				else
					rv = push(c, &o.v->s[idx], ts, 1);
			}
			continue;
		}
		if (by_sample) {
			/* bucket the samples by group, in input order */
			memset(cnt, 0, (ng + 1) * sizeof(*cnt));
			for (i = 0; i < ns; i++) {
				g = gid[smp[i].si];
				if (stamp[g] != (int64_t)k + 1) {
					stamp[g] = (int64_t)k + 1;
					order[no++] = g;
				}
				cnt[g]++;
			}
			boff[0] = 0;
			for (g = 0; g < ng; g++)
				boff[g + 1] = boff[g] + cnt[g];
			memset(cnt, 0, (ng + 1) * sizeof(*cnt));
			for (i = 0; i < ns; i++) {
				g = gid[smp[i].si];
				members[boff[g] + cnt[g]++] = i;
			}
			for (i = 0; i < no && rv == 0; i++) {
				size_t j, m, kk;

				g = order[i];
				m = cnt[g];
				if (op == AX_TOK_QUANTILE) {
					for (j = 0; j < m; j++)
						qv[j] = smp[members[boff[g] + j]].v;
					if (gout[g] == SIZE_MAX)
						continue;
					rv = push(c, &o.v->s[gout[g]], ts,
					    tsdb_pqfn_quantile(pv, qv, m));
					continue;
				}
				if (!(pv >= -9.2e18 && pv <= 9.2e18)) {
					rv = ax_err_set(c->err, AX_EINVAL,
					    "Scalar value %g overflows int64",
					    pv);
					break;
				}
				if ((int64_t)pv < 1)
					continue;
				kk = (uint64_t)(int64_t)pv > m
				    ? m
				    : (size_t)(int64_t)pv;
				{
					pq_heap_t hp = {heap, 0, smp,
					    op == AX_TOK_BOTTOMK};

					for (j = 0; j < m; j++) {
						size_t si = members[boff[g] + j];
						double v = smp[si].v, top;

						if (hp.n < kk) {
							hp.h[hp.n++] = si;
							heap_up(&hp, hp.n - 1);
							continue;
						}
						top = smp[hp.h[0]].v;
						if (!(hp.rev ? top > v : top < v) &&
						    !isnan(top))
							continue;
						if (kk == 1) {
							hp.h[0] = si;
							continue;
						}
						/* pop, then push */
						heap_swap(&hp, 0, hp.n - 1);
						heap_down(&hp, 0, hp.n - 1);
						hp.n--;
						hp.h[hp.n++] = si;
						heap_up(&hp, hp.n - 1);
					}
					/* sort.Sort(sort.Reverse(heap)):
					 * insertion sort */
					for (j = 1; j < hp.n; j++) {
						size_t t = hp.h[j], jj = j;

						while (jj > 0) {
							double a = smp[t].v;
							double bb =
							    smp[hp.h[jj - 1]].v;
							int less;

							/* reversed less:
							 * less(jj-1, t) */
							if (isnan(bb))
								less = 1;
							else
								less = hp.rev
								    ? bb > a
								    : bb < a;
							if (!less)
								break;
							hp.h[jj] = hp.h[jj - 1];
							jj--;
						}
						hp.h[jj] = t;
					}
					for (j = 0; j < hp.n && rv == 0; j++) {
						size_t si = smp[hp.h[j]].si;

						if (sout[si] == SIZE_MAX &&
						    (rv = out_series(c, &o,
						         ax_labels_dup(
						             in.s[si].ls),
						         &sout[si])) != 0)
							break;
						rv = push(c, &o.v->s[sout[si]],
						    ts, smp[hp.h[j]].v);
					}
				}
			}
			continue;
		}
		for (i = 0; i < ns; i++) {
			double v = smp[i].v;
			agg_group_t *a;

			g = gid[smp[i].si];
			a = &st[g];
			if (stamp[g] != (int64_t)k + 1) {
				stamp[g] = (int64_t)k + 1;
				order[no++] = g;
				a->value = v;
				a->mean = v;
				a->count = 1;
				if (op == AX_TOK_STDDEV || op == AX_TOK_STDVAR)
					a->value = 0;
				else if (op == AX_TOK_GROUP)
					a->value = 1;
				continue;
			}
			switch (op) {
			case AX_TOK_SUM: a->value += v; break;
			case AX_TOK_AVG:
				a->count++;
				if (isinf(a->mean)) {
					if (isinf(v) && (a->mean > 0) == (v > 0))
						break;
					if (!isinf(v) && !isnan(v))
						break;
				}
				a->mean += v / a->count - a->mean / a->count;
				break;
			case AX_TOK_MAX:
				if (a->value < v || isnan(a->value))
					a->value = v;
				break;
			case AX_TOK_MIN:
				if (a->value > v || isnan(a->value))
					a->value = v;
				break;
			case AX_TOK_COUNT: a->count++; break;
			case AX_TOK_STDDEV:
			case AX_TOK_STDVAR: {
				double delta;

				a->count++;
				delta = v - a->mean;
				a->mean += delta / a->count;
				a->value += delta * (v - a->mean);
				break;
			}
			default: break;
			}
		}
		for (i = 0; i < no && rv == 0; i++) {
			agg_group_t *a;
			double v;

			g = order[i];
			a = &st[g];
			switch (op) {
			case AX_TOK_AVG: v = a->mean; break;
			case AX_TOK_COUNT: v = a->count; break;
			case AX_TOK_STDVAR: v = a->value / a->count; break;
			case AX_TOK_STDDEV: v = sqrt(a->value / a->count); break;
			default: v = a->value; break;
			}
			rv = push(c, &o.v->s[gout[g]], ts, v);
		}
	}
done:
	free(gid);
	free(gout);
	free(pos);
	free(order);
	free(sout);
	free(stamp);
	free(st);
	free(smp);
	free(cnt);
	free(boff);
	free(members);
	free(heap);
	free(qv);
	ax_hmap_fini(&gmap);
	out_fini(&o);
	val_fini(c, &in);
	val_fini(c, &param);
	if (rv == 0) {
		val_drop_empty(out);
		rv = val_finish(c, out);
	}
	return rv;
}

/* ---- binary operators ---- */

static int is_cmp(int op)
{
	return op == AX_TOK_EQLC || op == AX_TOK_NEQ || op == AX_TOK_LSS ||
	    op == AX_TOK_LTE || op == AX_TOK_GTR || op == AX_TOK_GTE;
}

/* Arithmetic drops the metric name; comparisons and atan2 keep it (as
 * Prometheus 2.42's shouldDropMetricName). */
static int drops_name(int op)
{
	return op == AX_TOK_ADD || op == AX_TOK_SUB || op == AX_TOK_MUL ||
	    op == AX_TOK_DIV || op == AX_TOK_POW || op == AX_TOK_MOD;
}

/* vectorElemBinop: the value, and whether to keep the element. */
static int binop(int op, double l, double r, double *out)
{
	switch (op) {
	case AX_TOK_ADD: *out = l + r; return 1;
	case AX_TOK_SUB: *out = l - r; return 1;
	case AX_TOK_MUL: *out = l * r; return 1;
	case AX_TOK_DIV: *out = l / r; return 1;
	case AX_TOK_POW: *out = pow(l, r); return 1;
	case AX_TOK_MOD: *out = fmod(l, r); return 1;
	case AX_TOK_ATAN2: *out = atan2(l, r); return 1;
	case AX_TOK_EQLC: *out = l; return l == r;
	case AX_TOK_NEQ: *out = l; return l != r;
	case AX_TOK_LSS: *out = l; return l < r;
	case AX_TOK_LTE: *out = l; return l <= r;
	case AX_TOK_GTR: *out = l; return l > r;
	case AX_TOK_GTE: *out = l; return l >= r;
	}
	*out = NAN;
	return 0;
}

/* The matching-label signature of every series of v, as small ids. */
static int signatures(pq_ctx_t *c, const ax_pq_node_t *n, const pq_val_t *v,
    ax_hmap_t *ids, size_t *nid, uint32_t *sig)
{
	size_t i, j;
	uint32_t l;

	for (i = 0; i < v->n; i++) {
		const ax_labels_t *ls = v->s[i].ls;
		void *hit;

		ax_buf_reset(&c->kb);
		if (n->on) {
			for (j = 0; j < n->n_labels; j++) {
				const char *x = ax_labels_get(ls, n->labels[j]);

				ax_buf_append(&c->kb, x ? x : "",
				    strlen(x ? x : "") + 1);
			}
		} else {
			for (l = 0; l < ls->n; l++) {
				/* ignoring(): all labels but those and the name */
				if (strcmp(ls->l[l].name, AX_METRIC_NAME) == 0 ||
				    listed(n, ls->l[l].name))
					continue;
				ax_buf_append(&c->kb, ls->l[l].name,
				    strlen(ls->l[l].name) + 1);
				ax_buf_append(&c->kb, ls->l[l].value,
				    strlen(ls->l[l].value) + 1);
			}
		}
		ax_buf_putc(&c->kb, '\1');
		if (c->kb.oom)
			return oom(c);
		hit = ax_hmap_get(ids, c->kb.p, c->kb.len);
		if (hit == NULL) {
			hit = (void *)(uintptr_t)(++*nid);
			if (ax_hmap_put(ids, c->kb.p, c->kb.len, hit, NULL) != 0)
				return oom(c);
		}
		sig[i] = (uint32_t)((uintptr_t)hit - 1);
	}
	return 0;
}

/* Prometheus' resultMetric for a matched pair. */
static ax_labels_t *result_metric(const ax_pq_node_t *n,
    const ax_labels_t *l, const ax_labels_t *r)
{
	ax_labels_builder_t b;
	ax_labels_t *out = NULL;
	size_t j;
	uint32_t i;

	ax_labels_builder_init(&b, NULL);
	for (i = 0; i < l->n; i++) {
		const char *name = l->l[i].name;

		if (drops_name(n->op) && strcmp(name, AX_METRIC_NAME) == 0)
			continue;
		if (n->card == AX_PQ_ONE_TO_ONE &&
		    (n->on ? !listed(n, name) : listed(n, name)))
			continue;
		ax_labels_builder_set(&b, name, l->l[i].value);
	}
	for (j = 0; j < n->n_include; j++) {
		const char *v = ax_labels_get(r, n->include[j]);

		if (v && *v)
			ax_labels_builder_set(&b, n->include[j], v);
		else
			ax_labels_builder_del(&b, n->include[j]);
	}
	if (n->return_bool)
		ax_labels_builder_del(&b, AX_METRIC_NAME);
	ax_labels_builder_build(&b, &out, NULL);
	ax_labels_builder_fini(&b);
	return out;
}

static int eval_vv(pq_ctx_t *c, const ax_pq_node_t *n, pq_val_t *lv,
    pq_val_t *rv_, const pq_rng_t *r, pq_val_t *out)
{
	int setop = n->op == AX_TOK_AND || n->op == AX_TOK_OR ||
	    n->op == AX_TOK_UNLESS;
	int swap = n->card == AX_PQ_ONE_TO_MANY;
	pq_val_t *L = swap ? rv_ : lv, *R = swap ? lv : rv_;
	ax_hmap_t ids, pairs;
	size_t nid = 0, k, i;
	uint32_t *sl = NULL, *sr = NULL;
	size_t *pl = NULL, *pr = NULL, *lout = NULL, *rout = NULL;
	pq_smp_t *ml = NULL, *mr = NULL;
	int64_t *rstamp = NULL, *mstamp = NULL;
	size_t *rpos = NULL;
	pq_out_t o;
	int rv;

	memset(out, 0, sizeof(*out));
	out->type = AX_PQ_TVECTOR;
	ax_hmap_init(&ids);
	ax_hmap_init(&pairs);
	out_init(&o, out);
	sl = calloc(L->n + 1, sizeof(*sl));
	sr = calloc(R->n + 1, sizeof(*sr));
	pl = calloc(L->n + 1, sizeof(*pl));
	pr = calloc(R->n + 1, sizeof(*pr));
	lout = calloc(L->n + 1, sizeof(*lout));
	rout = calloc(R->n + 1, sizeof(*rout));
	ml = calloc(L->n + 1, sizeof(*ml));
	mr = calloc(R->n + 1, sizeof(*mr));
	rstamp = calloc(L->n + R->n + 1, sizeof(*rstamp));
	mstamp = calloc(L->n + R->n + 1, sizeof(*mstamp));
	rpos = calloc(L->n + R->n + 1, sizeof(*rpos));
	if (!sl || !sr || !pl || !pr || !lout || !rout || !ml || !mr ||
	    !rstamp || !mstamp || !rpos) {
		rv = oom(c);
		goto done;
	}
	if ((rv = signatures(c, n, L, &ids, &nid, sl)) != 0 ||
	    (rv = signatures(c, n, R, &ids, &nid, sr)) != 0)
		goto done;
	for (i = 0; i < L->n; i++)
		lout[i] = SIZE_MAX;
	for (i = 0; i < R->n; i++)
		rout[i] = SIZE_MAX;
	for (k = 0; k < r->n && rv == 0; k++) {
		int64_t ts = r->start + (int64_t)k * r->step;
		int64_t stampv = (int64_t)k + 1;
		size_t nl = gather(L, pl, ts, ml), nr = gather(R, pr, ts, mr);

		if ((rv = tick(c)) != 0)
			break;
		if (setop) {
			/* rstamp: signatures present on the right (and,
			 * unless) or on the left (or) */
			if (n->op == AX_TOK_OR) {
				for (i = 0; i < nl; i++)
					rstamp[sl[ml[i].si]] = stampv;
			} else {
				for (i = 0; i < nr; i++)
					rstamp[sr[mr[i].si]] = stampv;
			}
			for (i = 0; i < nl && rv == 0; i++) {
				uint32_t si = ml[i].si;
				int hit = rstamp[sl[si]] == stampv;

				if (n->op == AX_TOK_AND && !hit)
					continue;
				if (n->op == AX_TOK_UNLESS && hit)
					continue;
				if (lout[si] == SIZE_MAX &&
				    (rv = out_series(c, &o,
				         ax_labels_dup(L->s[si].ls),
				         &lout[si])) != 0)
					break;
				rv = push(c, &out->s[lout[si]], ts, ml[i].v);
			}
			if (n->op != AX_TOK_OR)
				continue;
			for (i = 0; i < nr && rv == 0; i++) {
				uint32_t si = mr[i].si;

				if (rstamp[sr[si]] == stampv)
					continue;
				if (rout[si] == SIZE_MAX &&
				    (rv = out_series(c, &o,
				         ax_labels_dup(R->s[si].ls),
				         &rout[si])) != 0)
					break;
				rv = push(c, &out->s[rout[si]], ts, mr[i].v);
			}
			continue;
		}
		for (i = 0; i < nr && rv == 0; i++) {
			uint32_t sg = sr[mr[i].si];

			if (rstamp[sg] == stampv) {
				ax_buf_t b = AX_BUF_INIT;

				ax_labels_format(R->s[mr[i].si].ls, &b);
				ax_buf_puts(&b, ", ");
				ax_labels_format(R->s[mr[rpos[sg]].si].ls, &b);
				ax_buf_putc(&b, '\0');
				rv = ax_err_set(c->err, AX_EINVAL,
				    "found duplicate series for the match group "
				    "on the %s hand-side of the operation: "
				    "[%s];many-to-many matching not allowed: "
				    "matching labels must be unique on one "
				    "side",
				    swap ? "left" : "right", b.p ? b.p : "");
				ax_buf_fini(&b);
				break;
			}
			rstamp[sg] = stampv;
			rpos[sg] = i;
		}
		for (i = 0; i < nl && rv == 0; i++) {
			uint32_t si = ml[i].si, sg = sl[si], ri;
			double vl, vr, val;
			int keep;
			uint64_t key[2];
			void *hit;
			size_t idx;

			if (rstamp[sg] != stampv)
				continue;
			ri = mr[rpos[sg]].si;
			vl = ml[i].v;
			vr = mr[rpos[sg]].v;
			if (swap) {
				double t = vl;

				vl = vr;
				vr = t;
			}
			keep = binop(n->op, vl, vr, &val);
			if (n->return_bool)
				val = keep ? 1.0 : 0.0;
			else if (!keep)
				continue;
			if (n->card == AX_PQ_ONE_TO_ONE) {
				if (mstamp[sg] == stampv) {
					rv = ax_err_set(c->err, AX_EINVAL,
					    "multiple matches for labels: "
					    "many-to-one matching must be "
					    "explicit (group_left/group_right)");
					break;
				}
				mstamp[sg] = stampv;
			}
			key[0] = si;
			key[1] = ri;
			hit = ax_hmap_get(&pairs, key, sizeof(key));
			if (hit) {
				idx = (size_t)(uintptr_t)hit - 1;
			} else {
				if ((rv = out_series(c, &o,
				         result_metric(n, L->s[si].ls,
				             R->s[ri].ls),
				         &idx)) != 0)
					break;
				if (ax_hmap_put(&pairs, key, sizeof(key),
				        (void *)(uintptr_t)(idx + 1), NULL) != 0) {
					rv = oom(c);
					break;
				}
			}
			if (out->s[idx].n > 0 &&
			    out->s[idx].pts[out->s[idx].n - 1].t == ts) {
				rv = ax_err_set(c->err, AX_EINVAL,
				    n->card == AX_PQ_ONE_TO_ONE
				        ? MSG_DUP
				        : "multiple matches for labels: grouping "
				          "labels must ensure unique matches");
				break;
			}
			rv = push(c, &out->s[idx], ts, val);
		}
	}
done:
	free(sl);
	free(sr);
	free(pl);
	free(pr);
	free(lout);
	free(rout);
	free(ml);
	free(mr);
	free(rstamp);
	free(mstamp);
	free(rpos);
	ax_hmap_fini(&ids);
	ax_hmap_fini(&pairs);
	out_fini(&o);
	return rv ? rv : val_finish(c, out);
}

static int eval_binary(
    pq_ctx_t *c, const ax_pq_node_t *n, const pq_rng_t *r, pq_val_t *out)
{
	pq_val_t l, rr;
	ax_pq_type_t lt = ax_pq_type(n->a), rt = ax_pq_type(n->b);
	size_t i, j;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = eval(c, n->a, r, &l)) != 0)
		return rv;
	if ((rv = eval(c, n->b, r, &rr)) != 0) {
		val_fini(c, &l);
		return rv;
	}
	if (lt == AX_PQ_TSCALAR && rt == AX_PQ_TSCALAR) {
		rv = scalar_new(c, out);
		for (i = 0; i < l.s[0].n && rv == 0; i++) {
			double v;
			int keep = binop(n->op, l.s[0].pts[i].v,
			    rr.s[0].pts[i].v, &v);

			if (is_cmp(n->op))
				v = keep ? 1 : 0;
			rv = push(c, &out->s[0], l.s[0].pts[i].t, v);
		}
	} else if (lt == AX_PQ_TVECTOR && rt == AX_PQ_TVECTOR) {
		rv = eval_vv(c, n, &l, &rr, r, out);
	} else {
		int swap = lt == AX_PQ_TSCALAR;
		pq_val_t *vec = swap ? &rr : &l, *sc = swap ? &l : &rr;
		int drop = drops_name(n->op) || n->return_bool;
		pq_out_t o;

		out->type = AX_PQ_TVECTOR;
		out_init(&o, out);
		for (i = 0; i < vec->n && rv == 0; i++) {
			size_t idx = SIZE_MAX;

			for (j = 0; j < vec->s[i].n && rv == 0; j++) {
				int64_t ts = vec->s[i].pts[j].t;
				double lv = vec->s[i].pts[j].v, v;
				double sv = scalar_at(sc, r, ts), rv2 = sv;
				int keep;

				if (swap) {
					rv2 = lv;
					lv = sv;
				}
				keep = binop(n->op, lv, rv2, &v);
				if (is_cmp(n->op) && swap)
					v = rv2;
				if (n->return_bool)
					v = keep ? 1 : 0;
				else if (!keep)
					continue;
				if (idx == SIZE_MAX &&
				    (rv = out_series(c, &o,
				         drop ? drop_name(vec->s[i].ls)
				              : ax_labels_dup(vec->s[i].ls),
				         &idx)) != 0)
					break;
				rv = push(c, &out->s[idx], ts, v);
			}
		}
		out_fini(&o);
		if (rv == 0)
			rv = val_finish(c, out);
	}
	val_fini(c, &l);
	val_fini(c, &rr);
	return rv;
}

/* ---- dispatch ---- */

static int eval(
    pq_ctx_t *c, const ax_pq_node_t *n, const pq_rng_t *r, pq_val_t *out)
{
	int rv;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if ((rv = tick(c)) != 0)
		return rv;
	switch (n->kind) {
	case AX_PQ_NUMBER: return scalar_const(c, r, n->num, out);
	case AX_PQ_STRING:
		out->type = AX_PQ_TSTRING;
		if ((out->str = strdup(n->str)) == NULL)
			return oom(c);
		return 0;
	case AX_PQ_PAREN: return eval(c, n->a, r, out);
	case AX_PQ_SELECTOR:
		if (n->sel->range_ms > 0)
			return eval_msel(c, n->sel, r, out);
		return eval_vsel(c, n->sel, r, 0, out);
	case AX_PQ_SUBQUERY: return eval_subquery(c, n, r, out);
	case AX_PQ_CALL: return eval_call(c, n, r, out);
	case AX_PQ_AGGREGATE: return eval_aggregate(c, n, r, out);
	case AX_PQ_BINARY: return eval_binary(c, n, r, out);
	case AX_PQ_UNARY:
		if ((rv = eval(c, n->a, r, out)) != 0)
			return rv;
		if (n->op != AX_TOK_SUB)
			return 0;
		for (i = 0; i < out->n; i++) {
			for (j = 0; j < out->s[i].n; j++)
				out->s[i].pts[j].v = -out->s[i].pts[j].v;
			if (out->type == AX_PQ_TVECTOR) {
				ax_labels_t *ls = drop_name(out->s[i].ls);

				if (ls == NULL)
					return oom(c);
				ax_labels_free(out->s[i].ls);
				out->s[i].ls = ls;
			}
		}
		if (out->type == AX_PQ_TVECTOR) {
			/* names dropped: two series may now be one */
			pq_val_t merged;
			pq_out_t o;

			memset(&merged, 0, sizeof(merged));
			merged.type = AX_PQ_TVECTOR;
			out_init(&o, &merged);
			for (i = 0; i < out->n && rv == 0; i++) {
				size_t idx;

				rv = out_series(c, &o,
				    ax_labels_dup(out->s[i].ls), &idx);
				for (j = 0; j < out->s[i].n && rv == 0; j++)
					rv = push(c, &merged.s[idx],
					    out->s[i].pts[j].t,
					    out->s[i].pts[j].v);
			}
			out_fini(&o);
			val_fini(c, out);
			*out = merged;
			if (rv == 0)
				rv = val_finish(c, out);
		}
		return rv;
	}
	return ax_err_set(c->err, AX_EINTERNAL, "unknown expression node");
}

static int series_cmp(const void *a, const void *b)
{
	return ax_labels_cmp(((const tsdb_pq_series_t *)a)->ls,
	    ((const tsdb_pq_series_t *)b)->ls);
}

int tsdb_pq_eval(tsdb_db_t *db, const tsdb_pq_opts_t *o,
    const ax_pq_node_t *expr, int instant, int64_t start, int64_t end,
    int64_t step, tsdb_pq_result_t *res, ax_err_t *err)
{
	pq_ctx_t c;
	pq_rng_t r;
	pq_val_t v;
	ax_pq_type_t t = ax_pq_type(expr);
	int rv;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.o = *o;
	c.err = err;
	ax_buf_init(&c.kb);
	if (c.o.lookback_ms <= 0)
		c.o.lookback_ms = 5 * 60 * 1000;
	if (c.o.default_step_ms <= 0)
		c.o.default_step_ms = 60 * 1000;
	if (c.o.timeout_ms > 0)
		c.deadline = ax_mono_ms() + c.o.timeout_ms;
	if (instant) {
		end = start;
		step = 1;
	} else {
		if (t != AX_PQ_TSCALAR && t != AX_PQ_TVECTOR)
			return ax_err_set(err, AX_EINVAL,
			    "invalid expression type \"%s\" for range query, "
			    "must be Scalar or instant Vector",
			    ax_pq_type_name(t));
		if (step <= 0 || end < start)
			return ax_err_set(err, AX_EINVAL,
			    "invalid range query: end before start or step "
			    "not positive");
	}
	c.q_start = start;
	c.q_end = end;
	r.start = start;
	r.end = end;
	r.step = step;
	r.n = (size_t)((end - start) / step) + 1;
	rv = eval(&c, expr, &r, &v);
	ax_buf_fini(&c.kb);
	free(c.buf);
	if (rv != 0) {
		val_fini(&c, &v);
		return rv;
	}
	res->t = start;
	res->type = t;
	if (t == AX_PQ_TSTRING) {
		res->str = v.str;
		v.str = NULL;
		val_fini(&c, &v);
		return 0;
	}
	if (t == AX_PQ_TSCALAR && instant) {
		res->scalar = v.n && v.s[0].n ? v.s[0].pts[0].v : NAN;
		val_fini(&c, &v);
		return 0;
	}
	/* drop empty series; a range query's matrix is sorted by labels */
	val_drop_empty(&v);
	if (!instant) {
		res->type = AX_PQ_TMATRIX;
		if (v.n > 1)
			qsort(v.s, v.n, sizeof(*v.s), series_cmp);
	}
	res->s = v.s;
	res->n = v.n;
	return 0;
}

void tsdb_pq_result_fini(tsdb_pq_result_t *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		ax_labels_free(r->s[i].ls);
		free(r->s[i].pts);
	}
	free(r->s);
	free(r->str);
	memset(r, 0, sizeof(*r));
}
