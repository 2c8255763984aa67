/*
 * axon-promqltest: runs Prometheus' PromQL test scripts (the language of
 * promql/testdata/ files in Prometheus 2.42) against axon's evaluator.
 *
 *     axon-promqltest [--verbose] FILE...
 *
 * Each file starts with an empty in-memory tsdb (a head without a WAL
 * over an empty block directory).  `load <step>` appends series
 * descriptions, `clear` starts afresh, and every `eval`, `eval_ordered`
 * and `eval_fail` runs as Prometheus' own runner does: the instant query,
 * then the same expression as a range query from t-1m to t+1m by 1m
 * (compared at t), then -- unless the expression uses a function whose
 * value depends on the evaluation time -- the expression with `@ t` set
 * on every selector and subquery (printed and parsed again) at the times
 * -10t, 0, t/5, t and 10t, each also in range mode.
 *
 * A failure prints `file:line: expected ... got ...`; the last line is
 * `N passed, M failed` (and the skipped count with reasons).  Exit
 * status 0 when nothing failed.
 *
 *     axon-promqltest --remote-write URL --offset MS FILE
 *
 * instead sends the samples of every `load` in FILE to a remote-write
 * receiver (Prometheus, axon-tsdb), shifted by MS milliseconds and in
 * time order across series (so a receiver's head window never sees a
 * sample older than one already sent), then exits: the side-by-side
 * tests feed the same data to Prometheus and axon this way.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ax_buf.h"
#include "ax_hmap.h"
#include "ax_labels.h"
#include "ax_promql.h"
#include "ax_promql_lex.h"
#include "ax_rw.h"
#include "ax_units.h"
#include "tsdb/db.h"
#include "tsdb/fsutil.h"
#include "tsdb/head.h"
#include "tsdb/promql.h"

/* Cases skipped, with the reason (none today: the list documents how a
 * case would be skipped: "file:line" and why). */
static const struct {
	const char *where;
	const char *why;
} skips[] = {
    {NULL, NULL},
};

typedef struct store {
	char dir[64];
	tsdb_head_t *h;
	tsdb_db_t *db;
} store_t;

static int verbose;
/* --remote-write: loads are collected here instead of stored */
static const char *rw_url;
static int64_t rw_offset;
typedef struct rw_sample {
	uint32_t series;
	int64_t t;
	double v;
} rw_sample_t;
static ax_labels_t **rw_series;
static size_t rw_nseries;
static rw_sample_t *rw_samples;
static size_t rw_n, rw_cap;
static int n_pass, n_fail, n_skip;

static int store_open(store_t *s)
{
	tsdb_head_opts_t o;
	ax_err_t e;

	memset(&o, 0, sizeof(o));
	/* a range so wide that no load is ever out of bounds */
	o.chunk_range_ms = 100LL * 365 * 24 * 3600 * 1000;
	snprintf(s->dir, sizeof(s->dir), "/tmp/axpromqltestXXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	if (tsdb_head_new(&o, &s->h, &e) != 0 ||
	    tsdb_db_open(s->dir, s->h, &s->db, &e) != 0) {
		fprintf(stderr, "promqltest: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static void store_close(store_t *s)
{
	if (s->db)
		tsdb_db_close(s->db);
	if (s->h)
		tsdb_head_free(s->h);
	s->db = NULL;
	s->h = NULL;
	if (s->dir[0])
		tsdb_fs_rm_rf(s->dir);
	s->dir[0] = '\0';
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A float as the test language writes it (no hex): optional sign,
 * digits, fraction, exponent, or Inf/NaN.  Returns the length or 0. */
static size_t scan_float(const char *s, double *out)
{
	size_t i = 0, d = 0;
	char tmp[128];

	if (s[i] == '+' || s[i] == '-')
		i++;
	if (strncasecmp(s + i, "inf", 3) == 0 ||
	    strncasecmp(s + i, "nan", 3) == 0) {
		int nan = tolower((unsigned char)s[i]) == 'n';

		*out = nan ? NAN : (s[0] == '-' ? -INFINITY : INFINITY);
		return i + 3;
	}
	while (isdigit((unsigned char)s[i])) {
		i++;
		d++;
	}
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i])) {
			i++;
			d++;
		}
	}
	if (d == 0)
		return 0;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;

		if (s[j] == '+' || s[j] == '-')
			j++;
		if (isdigit((unsigned char)s[j])) {
			while (isdigit((unsigned char)s[j]))
				j++;
			i = j;
		}
	}
	if (i >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, i);
	tmp[i] = '\0';
	*out = strtod(tmp, NULL);
	return i;
}

/* Parse `name{l="v", ...}` at *p; OUT: *ls (caller frees). */
static int parse_series_id(const char **pp, ax_labels_t **ls, char *why,
    size_t why_cap)
{
	const char *p = *pp;
	ax_label_t pairs[64];
	char *strs[130];
	size_t np = 0, ns = 0, i;
	int rv = -1;
	ax_err_t e;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '{') {
		const char *st = p;

		while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
			p++;
		if (p == st) {
			snprintf(why, why_cap, "expected a series identifier");
			return -1;
		}
		strs[ns] = strndup(st, (size_t)(p - st));
		pairs[np].name = AX_METRIC_NAME;
		pairs[np++].value = strs[ns++];
	}
	if (*p == '{') {
		p++;
		for (;;) {
			const char *st;
			char q, *val = NULL;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '}') {
				p++;
				break;
			}
			st = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			if (p == st || np >= 63) {
				snprintf(why, why_cap, "bad label name");
				goto out;
			}
			strs[ns] = strndup(st, (size_t)(p - st));
			pairs[np].name = strs[ns++];
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '=') {
				snprintf(why, why_cap, "expected '='");
				goto out;
			}
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			q = *p;
			if (q != '"' && q != '\'' && q != '`') {
				snprintf(why, why_cap, "expected a quoted value");
				goto out;
			}
			st = p++;
			while (*p && *p != q) {
				if (*p == '\\' && q != '`' && p[1])
					p++;
				p++;
			}
			if (*p != q) {
				snprintf(why, why_cap, "unterminated string");
				goto out;
			}
			p++;
			if (ax_pq_unquote(st, (size_t)(p - st), &val, &e) != 0) {
				snprintf(why, why_cap, "%s", e.msg);
				goto out;
			}
			strs[ns++] = val;
			pairs[np++].value = val;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ',')
				p++;
			else if (*p != '}') {
				snprintf(why, why_cap, "expected ',' or '}'");
				goto out;
			}
		}
	}
	/* {__name__="x"} is the same as x: a later __name__ wins */
	for (i = 0; i + 1 < np; i++) {
		size_t j;

		for (j = i + 1; j < np; j++)
			if (strcmp(pairs[i].name, pairs[j].name) == 0)
				pairs[i].value = "";
	}
	if (ax_labels_new(pairs, np, ls, &e) != 0) {
		snprintf(why, why_cap, "%s", e.msg);
		goto out;
	}
	*pp = p;
	rv = 0;
out:
	for (i = 0; i < ns; i++)
		free(strs[i]);
	return rv;
}

typedef struct vals {
	double *v;
	uint8_t *omit; /* 1: no sample in this slot */
	size_t n, cap;
} vals_t;

static int vals_push(vals_t *vs, double v, int omit)
{
	if (vs->n == vs->cap) {
		size_t nc = vs->cap ? vs->cap * 2 : 64;
		double *nv = realloc(vs->v, nc * sizeof(*nv));
		uint8_t *no;

		if (nv == NULL)
			return -1;
		vs->v = nv;
		if ((no = realloc(vs->omit, nc)) == NULL)
			return -1;
		vs->omit = no;
		vs->cap = nc;
	}
	vs->v[vs->n] = v;
	vs->omit[vs->n] = (uint8_t)omit;
	vs->n++;
	return 0;
}

static double stale_nan(void)
{
	uint64_t u = 0x7ff0000000000002ULL;
	double d;

	memcpy(&d, &u, 8);
	return d;
}

/* Expand the value items of a series description. */
static int parse_values(const char *p, vals_t *vs, char *why, size_t cap)
{
	for (;;) {
		double a, b = 0;
		size_t l;
		long k = -1;
		int sign = 0;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '_') {
			p++;
			if (*p == 'x') {
				k = strtol(p + 1, &end, 10);
				p = end;
			} else {
				k = 1;
			}
			while (k-- > 0)
				if (vals_push(vs, 0, 1) != 0)
					return -1;
			continue;
		}
		if (strncmp(p, "stale", 5) == 0) {
			p += 5;
			if (vals_push(vs, stale_nan(), 0) != 0)
				return -1;
			continue;
		}
		if ((l = scan_float(p, &a)) == 0) {
			snprintf(why, cap, "bad value item at \"%.20s\"", p);
			return -1;
		}
		p += l;
		if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			p++;
			if ((l = scan_float(p, &b)) == 0) {
				snprintf(why, cap, "bad increment at \"%.20s\"",
				    p);
				return -1;
			}
			p += l;
			b *= sign;
			if (*p != 'x') {
				snprintf(why, cap, "expected 'x' at \"%.20s\"",
				    p);
				return -1;
			}
		}
		if (*p == 'x') {
			k = strtol(p + 1, &end, 10);
			if (end == p + 1) {
				snprintf(why, cap, "bad repeat count");
				return -1;
			}
			p = end;
			if (vals_push(vs, a, 0) != 0)
				return -1;
			while (k-- > 0) {
				if (sign)
					a += b;
				if (vals_push(vs, a, 0) != 0)
					return -1;
			}
			continue;
		}
		if (vals_push(vs, a, 0) != 0)
			return -1;
	}
}

/* ---- loading ---- */

typedef struct pending {
	ax_labels_t *ls;
	vals_t vs;
} pending_t;

static int rw_collect(int64_t step, pending_t *pend, size_t np)
{
	size_t i, j;

	for (i = 0; i < np; i++) {
		ax_labels_t **ns =
		    realloc(rw_series, (rw_nseries + 1) * sizeof(*ns));

		if (ns == NULL)
			return -1;
		rw_series = ns;
		if ((ns[rw_nseries] = ax_labels_dup(pend[i].ls)) == NULL)
			return -1;
		for (j = 0; j < pend[i].vs.n; j++) {
			if (pend[i].vs.omit[j])
				continue;
			if (rw_n == rw_cap &&
			    ax_grow((void **)&rw_samples, &rw_cap, rw_n + 1,
			        sizeof(*rw_samples)) != 0)
				return -1;
			rw_samples[rw_n].series = (uint32_t)rw_nseries;
			rw_samples[rw_n].t = (int64_t)j * step + rw_offset;
			rw_samples[rw_n].v = pend[i].vs.v[j];
			rw_n++;
		}
		rw_nseries++;
	}
	return 0;
}

static int rw_sample_cmp(const void *a, const void *b)
{
	const rw_sample_t *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->series < y->series ? -1 : x->series > y->series;
}

/* Send what rw_collect gathered, in time order; 0 when all arrived. */
static int rw_send_all(void)
{
	ax_rw_config_t cfg;
	ax_rw_sender_t *snd;
	ax_rw_stats_t st;
	ax_err_t e;
	size_t i;
	int64_t deadline;

	ax_rw_config_init(&cfg);
	cfg.url = (char *)rw_url;
	cfg.queue_config.min_shards = 1; /* one shard keeps time order */
	cfg.queue_config.max_shards = 1;
	cfg.queue_config.batch_send_deadline_ms = 50;
	cfg.queue_config.max_samples_per_send = 500;
	cfg.queue_config.capacity = 10000;
	if (ax_rw_sender_new(&cfg, NULL, &snd, &e) != 0) {
		fprintf(stderr, "promqltest: %s\n", e.msg);
		return -1;
	}
	for (i = 0; i < rw_nseries; i++)
		if (ax_rw_store_series(snd, i, rw_series[i]) != 0)
			return -1;
	if (rw_n > 1)
		qsort(rw_samples, rw_n, sizeof(*rw_samples), rw_sample_cmp);
	for (i = 0; i < rw_n; i++)
		if (ax_rw_append(snd, rw_samples[i].series, rw_samples[i].t,
		        rw_samples[i].v, 30000) != 0) {
			fprintf(stderr, "promqltest: remote-write queue full\n");
			return -1;
		}
	deadline = ax_now_ms() + 60000;
	do {
		ax_rw_stats(snd, &st);
		if (st.sent + st.failed + st.dropped >= rw_n)
			break;
		usleep(20000);
	} while (ax_now_ms() < deadline);
	ax_rw_sender_stop_free(snd, 1000);
	printf("sent=%llu failed=%llu dropped=%llu of %zu samples, %zu "
	       "series\n",
	    (unsigned long long)st.sent, (unsigned long long)st.failed,
	    (unsigned long long)st.dropped, rw_n, rw_nseries);
	return st.sent == rw_n ? 0 : -1;
}

static int do_load(store_t *st, int64_t step, pending_t *pend, size_t np,
    const char *file, int line)
{
	ax_labels_t **ls = calloc(np + 1, sizeof(*ls));
	tsdb_sample_in_t *smp = NULL;
	size_t i, j, n = 0, total = 0;
	tsdb_append_result_t res;
	ax_err_t e;
	int rv = 0;

	for (i = 0; i < np; i++)
		total += pend[i].vs.n;
	smp = calloc(total + 1, sizeof(*smp));
	if (ls == NULL || smp == NULL) {
		free(ls);
		free(smp);
		return -1;
	}
	for (i = 0; i < np; i++) {
		ls[i] = pend[i].ls;
		for (j = 0; j < pend[i].vs.n; j++) {
			if (pend[i].vs.omit[j])
				continue;
			smp[n].series = (uint32_t)i;
			smp[n].t = (int64_t)j * step;
			smp[n].v = pend[i].vs.v[j];
			n++;
		}
	}
	memset(&res, 0, sizeof(res));
	if (tsdb_head_append(st->h, (const ax_labels_t *const *)ls, np, smp, n,
	        &res, &e) != 0) {
		printf("%s:%d: load failed: %s\n", file, line, e.msg);
		rv = -1;
	} else if (res.accepted + res.duplicates_ignored != n) {
		printf("%s:%d: load: %llu of %zu samples refused (%s)\n", file,
		    line,
		    (unsigned long long)(n - res.accepted -
		        res.duplicates_ignored),
		    n, res.first_error);
		rv = -1;
	}
	free(ls);
	free(smp);
	return rv;
}

/* ---- expectations and checking ---- */

typedef struct expect {
	int is_scalar;
	double scalar;
	ax_labels_t **ls;
	double *v;
	size_t n;
} expect_t;

static void expect_fini(expect_t *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		ax_labels_free(x->ls[i]);
	free(x->ls);
	free(x->v);
	memset(x, 0, sizeof(*x));
}

static int almost_equal(double a, double b)
{
	const double min_normal = 2.2250738585072014e-308, eps = 1e-6;
	double diff;

	if (isnan(a) && isnan(b))
		return 1;
	if (a == b)
		return 1;
	diff = fabs(a - b);
	if (a == 0 || b == 0 || diff < min_normal)
		return diff < eps * min_normal;
	return diff / (fabs(a) + fabs(b)) < eps;
}

static void fmt_labels(const ax_labels_t *ls, char *out, size_t cap)
{
	ax_buf_t b = AX_BUF_INIT;

	ax_labels_format(ls, &b);
	snprintf(out, cap, "%s", b.p ? b.p : "{}");
	ax_buf_fini(&b);
}

/* Compare a vector (labels + values, in order) with the expectation. */
static int compare_vec(const expect_t *x, ax_labels_t *const *ls,
    const double *v, size_t n, int ordered, char *why, size_t cap)
{
	size_t i, j;
	uint8_t *seen;
	char a[512];

	if (x->is_scalar) {
		snprintf(why, cap, "expected scalar %g, got a vector of %zu",
		    x->scalar, n);
		return -1;
	}
	seen = calloc(x->n + 1, 1);
	if (seen == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < x->n; j++)
			if (ax_labels_equal(ls[i], x->ls[j]))
				break;
		fmt_labels(ls[i], a, sizeof(a));
		if (j == x->n) {
			snprintf(why, cap, "unexpected metric %s %g in result",
			    a, v[i]);
			free(seen);
			return -1;
		}
		if (ordered && j != i) {
			snprintf(why, cap,
			    "expected metric %s at position %zu but was at %zu",
			    a, j + 1, i + 1);
			free(seen);
			return -1;
		}
		if (!almost_equal(x->v[j], v[i])) {
			snprintf(why, cap, "expected %g for %s, got %.17g",
			    x->v[j], a, v[i]);
			free(seen);
			return -1;
		}
		seen[j] = 1;
	}
	for (j = 0; j < x->n; j++) {
		if (!seen[j]) {
			fmt_labels(x->ls[j], a, sizeof(a));
			snprintf(why, cap,
			    "expected metric %s with %g, got none (%zu "
			    "elements)",
			    a, x->v[j], n);
			free(seen);
			return -1;
		}
	}
	free(seen);
	return 0;
}

static int compare_result(const expect_t *x, const tsdb_pq_result_t *r,
    int ordered, char *why, size_t cap)
{
	ax_labels_t **ls;
	double *v;
	size_t i;
	int rv;

	switch (r->type) {
	case AX_PQ_TSCALAR:
		if (!x->is_scalar) {
			snprintf(why, cap, "expected a vector, got scalar %g",
			    r->scalar);
			return -1;
		}
		if (!almost_equal(x->scalar, r->scalar)) {
			snprintf(why, cap, "expected scalar %g, got %.17g",
			    x->scalar, r->scalar);
			return -1;
		}
		return 0;
	case AX_PQ_TVECTOR:
		ls = calloc(r->n + 1, sizeof(*ls));
		v = calloc(r->n + 1, sizeof(*v));
		if (ls == NULL || v == NULL) {
			free(ls);
			free(v);
			return -1;
		}
		for (i = 0; i < r->n; i++) {
			ls[i] = r->s[i].ls;
			v[i] = r->s[i].pts[0].v;
		}
		rv = compare_vec(x, ls, v, r->n, ordered, why, cap);
		free(ls);
		free(v);
		return rv;
	default:
		snprintf(why, cap, "unexpected %s result",
		    ax_pq_type_name(r->type));
		return -1;
	}
}

/* The range-mode check: t-1m..t+1m by 1m, the points at t. */
static int check_range(store_t *st, const tsdb_pq_opts_t *o,
    const ax_pq_node_t *expr, int64_t t, const expect_t *x, int ordered,
    int was_scalar, char *why, size_t cap)
{
	tsdb_pq_result_t r;
	ax_err_t e;
	ax_labels_t **ls;
	double *v;
	size_t i, j, n = 0;
	int rv;

	if (tsdb_pq_eval(st->db, o, expr, 0, t - 60000, t + 60000, 60000, &r,
	        &e) != 0) {
		snprintf(why, cap, "range mode: error: %s", e.msg);
		return -1;
	}
	if (ordered) {
		tsdb_pq_result_fini(&r);
		return 0;
	}
	ls = calloc(r.n + 1, sizeof(*ls));
	v = calloc(r.n + 1, sizeof(*v));
	if (ls == NULL || v == NULL) {
		free(ls);
		free(v);
		tsdb_pq_result_fini(&r);
		return -1;
	}
	for (i = 0; i < r.n; i++)
		for (j = 0; j < r.s[i].n; j++)
			if (r.s[i].pts[j].t == t) {
				ls[n] = r.s[i].ls;
				v[n++] = r.s[i].pts[j].v;
				break;
			}
	if (was_scalar) {
		rv = 0;
		if (n < 1 || !almost_equal(x->scalar, v[0])) {
			snprintf(why, cap,
			    "range mode: expected scalar %g, got %g", x->scalar,
			    n ? v[0] : NAN);
			rv = -1;
		}
	} else {
		rv = compare_vec(x, ls, v, n, 0, why, cap);
		if (rv != 0) {
			char tmp[1024];

			snprintf(tmp, sizeof(tmp), "range mode: %s", why);
			snprintf(why, cap, "%s", tmp);
		}
	}
	free(ls);
	free(v);
	tsdb_pq_result_fini(&r);
	return rv;
}

/* One evaluation (instant + range mode). */
static int run_one(store_t *st, const tsdb_pq_opts_t *o,
    const ax_pq_node_t *expr, int64_t t, const expect_t *x, int fail,
    int ordered, char *why, size_t cap)
{
	tsdb_pq_result_t r;
	ax_err_t e;
	int rv, was_scalar;

	rv = tsdb_pq_eval(st->db, o, expr, 1, t, t, 0, &r, &e);
	if (rv != 0) {
		if (fail)
			return 0;
		snprintf(why, cap, "error: %s", e.msg);
		return -1;
	}
	if (fail) {
		snprintf(why, cap, "expected an error, got a %s result",
		    ax_pq_type_name(r.type));
		tsdb_pq_result_fini(&r);
		return -1;
	}
	rv = compare_result(x, &r, ordered, why, cap);
	was_scalar = r.type == AX_PQ_TSCALAR;
	tsdb_pq_result_fini(&r);
	if (rv != 0)
		return rv;
	return check_range(st, o, expr, t, x, ordered, was_scalar, why, cap);
}

/* Does the expression call a function whose value depends on the
 * evaluation time (no @ variants then, as upstream)? */
static int uses_unsafe(const ax_pq_node_t *n)
{
	static const char *unsafe[] = {"time", "timestamp", "predict_linear",
	    "minute", "hour", "month", "year", "day_of_month", "day_of_week",
	    "day_of_year", "days_in_month", NULL};
	size_t i;

	if (n == NULL)
		return 0;
	if (n->kind == AX_PQ_CALL) {
		for (i = 0; unsafe[i]; i++)
			if (strcmp(unsafe[i], n->func->name) == 0)
				return 1;
		for (i = 0; i < n->n_args; i++)
			if (uses_unsafe(n->args[i]))
				return 1;
		return 0;
	}
	return uses_unsafe(n->a) || uses_unsafe(n->b) ||
	    uses_unsafe(n->param);
}

/* Set @ t on every selector and subquery without one, not descending
 * into subqueries. */
static void set_at(ax_pq_node_t *n, int64_t t)
{
	size_t i;

	if (n == NULL)
		return;
	switch (n->kind) {
	case AX_PQ_SELECTOR:
		if (n->sel->at_kind == AX_AT_NONE) {
			n->sel->at_kind = AX_AT_TIMESTAMP;
			n->sel->at_ms = t;
		}
		return;
	case AX_PQ_SUBQUERY:
		if (n->at_kind == AX_AT_NONE) {
			n->at_kind = AX_AT_TIMESTAMP;
			n->at_ms = t;
		}
		return;
	case AX_PQ_CALL:
		for (i = 0; i < n->n_args; i++)
			set_at(n->args[i], t);
		return;
	default:
		set_at(n->a, t);
		set_at(n->b, t);
		set_at(n->param, t);
		return;
	}
}

typedef struct evalcmd {
	int fail, ordered;
	int64_t t;
	char *expr;
	int line;
	expect_t x;
} evalcmd_t;

static int skipped(const char *file, int line, const char **why)
{
	char where[512];
	const char *base = strrchr(file, '/');
	size_t i;

	snprintf(where, sizeof(where), "%s:%d", base ? base + 1 : file, line);
	for (i = 0; skips[i].where; i++)
		if (strcmp(skips[i].where, where) == 0) {
			*why = skips[i].why;
			return 1;
		}
	return 0;
}

static void run_eval(store_t *st, const char *file, evalcmd_t *c)
{
	tsdb_pq_opts_t o;
	ax_pq_node_t *expr = NULL, *at = NULL;
	ax_err_t e;
	char why[2048];
	const char *skip_why;
	int rv;

	if (skipped(file, c->line, &skip_why)) {
		n_skip++;
		if (verbose)
			printf("%s:%d: skipped: %s\n", file, c->line, skip_why);
		return;
	}
	tsdb_pq_opts_default(&o);
	o.max_samples = 10000000;
	o.timeout_ms = 100000;
	if (ax_pq_parse(c->expr, &expr, &e) != 0) {
		printf("%s:%d: expected a valid expression, got %s (%s)\n", file,
		    c->line, e.msg, c->expr);
		n_fail++;
		return;
	}
	rv = run_one(st, &o, expr, c->t, &c->x, c->fail, c->ordered, why,
	    sizeof(why));
	if (rv == 0 && !uses_unsafe(expr)) {
		/* the @ variants: print the rewritten tree, parse it again */
		ax_buf_t b = AX_BUF_INIT;
		int64_t times[5];
		size_t nt, i;

		set_at(expr, c->t);
		ax_pq_format(expr, &b);
		if (b.oom || ax_pq_parse(b.p, &at, &e) != 0) {
			snprintf(why, sizeof(why),
			    "@ variant: printed expression %s does not parse: "
			    "%s",
			    b.p ? b.p : "", e.msg);
			rv = -1;
		}
		if (c->t == 0) {
			times[0] = -1000;
			times[1] = 0;
			times[2] = 1000;
			nt = 3;
		} else {
			times[0] = -10 * c->t;
			times[1] = 0;
			times[2] = c->t / 5;
			times[3] = c->t;
			times[4] = 10 * c->t;
			nt = 5;
		}
		for (i = 0; rv == 0 && i < nt; i++) {
			rv = run_one(st, &o, at, times[i], &c->x, c->fail,
			    c->ordered, why, sizeof(why));
			if (rv != 0) {
				char tmp[2048];

				snprintf(tmp, sizeof(tmp),
				    "%s [@ variant %s at %lld ms]", why, b.p,
				    (long long)times[i]);
				snprintf(why, sizeof(why), "%s", tmp);
			}
		}
		ax_buf_fini(&b);
	}
	if (rv == 0) {
		n_pass++;
	} else {
		n_fail++;
		printf("%s:%d: %s (%s)\n", file, c->line, why, c->expr);
	}
	ax_pq_free(expr);
	ax_pq_free(at);
}

static int parse_expect_line(char *ln, expect_t *x, char *why, size_t cap)
{
	double v;
	size_t l;
	const char *p = ln;
	ax_labels_t *ls = NULL;
	void *nl, *nv;

	if (x->n == 0 && !x->is_scalar && (l = scan_float(ln, &v)) > 0 &&
	    ln[l] == '\0') {
		x->is_scalar = 1;
		x->scalar = v;
		return 0;
	}
	if (x->is_scalar)
		return 0; /* only one line is read for a scalar */
	if (parse_series_id(&p, &ls, why, cap) != 0)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((l = scan_float(p, &v)) == 0 || trim((char *)p + l)[0] != '\0') {
		snprintf(why, cap, "expected one value in \"%s\"", ln);
		ax_labels_free(ls);
		return -1;
	}
	nl = realloc(x->ls, (x->n + 1) * sizeof(*x->ls));
	if (nl == NULL) {
		ax_labels_free(ls);
		return -1;
	}
	x->ls = nl;
	nv = realloc(x->v, (x->n + 1) * sizeof(*x->v));
	if (nv == NULL) {
		ax_labels_free(ls);
		return -1;
	}
	x->v = nv;
	x->ls[x->n] = ls;
	x->v[x->n++] = v;
	return 0;
}

static int run_file(const char *file)
{
	FILE *f = fopen(file, "r");
	char **lines = NULL, buf[65536];
	size_t nl = 0, i;
	store_t st;
	int errors = 0;

	if (f == NULL) {
		perror(file);
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char **n2 = realloc(lines, (nl + 1) * sizeof(*lines));

		if (n2 == NULL)
			break;
		lines = n2;
		buf[strcspn(buf, "\n")] = '\0';
		lines[nl++] = strdup(buf);
	}
	fclose(f);
	memset(&st, 0, sizeof(st));
	if (store_open(&st) != 0)
		return -1;
	for (i = 0; i < nl;) {
		char *ln = trim(lines[i]), why[1024];
		int lineno = (int)i + 1;

		i++;
		if (*ln == '\0' || *ln == '#')
			continue;
		if (strcasecmp(ln, "clear") == 0) {
			store_close(&st);
			if (store_open(&st) != 0)
				return -1;
			continue;
		}
		if (strncasecmp(ln, "load ", 5) == 0) {
			int64_t step;
			ax_err_t e;
			pending_t *pend = NULL;
			size_t np = 0, k;
			ax_hmap_t seen;

			if (ax_duration_parse(trim(ln + 5), &step, &e) != 0) {
				printf("%s:%d: bad load step: %s\n", file,
				    lineno, e.msg);
				errors++;
				step = 0;
			}
			ax_hmap_init(&seen);
			while (i < nl) {
				char *b = trim(lines[i]);
				const char *p = b;
				ax_labels_t *ls = NULL;
				ax_buf_t key = AX_BUF_INIT;
				void *hit;
				size_t idx;

				if (*b == '\0' || *b == '#')
					break;
				i++;
				if (parse_series_id(&p, &ls, why, sizeof(why)) !=
				    0) {
					printf("%s:%zu: bad series: %s\n", file,
					    i, why);
					errors++;
					continue;
				}
				ax_labels_format(ls, &key);
				hit = ax_hmap_get(&seen, key.p, key.len);
				if (hit) {
					/* the later line replaces the earlier */
					idx = (size_t)(uintptr_t)hit - 1;
					ax_labels_free(ls);
					pend[idx].vs.n = 0;
				} else {
					pending_t *np2 = realloc(
					    pend, (np + 1) * sizeof(*pend));

					if (np2 == NULL)
						return -1;
					pend = np2;
					idx = np++;
					memset(&pend[idx], 0, sizeof(pend[idx]));
					pend[idx].ls = ls;
					ax_hmap_put(&seen, key.p, key.len,
					    (void *)(uintptr_t)(idx + 1), NULL);
				}
				ax_buf_fini(&key);
				if (parse_values(p, &pend[idx].vs, why,
				        sizeof(why)) != 0) {
					printf("%s:%zu: bad values: %s\n", file,
					    i, why);
					errors++;
				}
			}
			if (step > 0 && rw_url != NULL) {
				if (rw_collect(step, pend, np) != 0)
					errors++;
			} else if (step > 0 &&
			    do_load(&st, step, pend, np, file, lineno) != 0) {
				errors++;
			}
			for (k = 0; k < np; k++) {
				ax_labels_free(pend[k].ls);
				free(pend[k].vs.v);
				free(pend[k].vs.omit);
			}
			free(pend);
			ax_hmap_fini(&seen);
			continue;
		}
		if (strncasecmp(ln, "eval", 4) == 0) {
			evalcmd_t c;
			char *p = ln + 4, *tok;
			ax_err_t e;

			memset(&c, 0, sizeof(c));
			c.line = lineno;
			if (strncasecmp(p, "_fail", 5) == 0) {
				c.fail = 1;
				p += 5;
			} else if (strncasecmp(p, "_ordered", 8) == 0) {
				c.ordered = 1;
				p += 8;
			}
			p = trim(p);
			if (strncasecmp(p, "instant", 7) != 0 ||
			    !isspace((unsigned char)p[7])) {
				printf("%s:%d: unsupported eval: %s\n", file,
				    lineno, ln);
				n_fail++;
				goto skip_body;
			}
			p = trim(p + 7);
			if (strncasecmp(p, "at", 2) != 0 ||
			    !isspace((unsigned char)p[2])) {
				printf("%s:%d: expected \"at\": %s\n", file,
				    lineno, ln);
				n_fail++;
				goto skip_body;
			}
			p = trim(p + 2);
			tok = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
			if (*p)
				*p++ = '\0';
			if (ax_duration_parse(tok, &c.t, &e) != 0) {
				printf("%s:%d: bad time: %s\n", file, lineno,
				    e.msg);
				n_fail++;
				goto skip_body;
			}
			c.expr = trim(p);
			while (i < nl) {
				char *b = trim(lines[i]);

				if (*b == '\0' || *b == '#')
					break;
				i++;
				if (parse_expect_line(b, &c.x, why,
				        sizeof(why)) != 0) {
					printf("%s:%zu: bad expectation: %s\n",
					    file, i, why);
					errors++;
				}
			}
			if (rw_url == NULL)
				run_eval(&st, file, &c);
			expect_fini(&c.x);
			continue;
		skip_body:
			while (i < nl && *trim(lines[i]) != '\0' &&
			    *trim(lines[i]) != '#')
				i++;
			continue;
		}
		printf("%s:%d: unknown command: %s\n", file, lineno, ln);
		errors++;
	}
	store_close(&st);
	for (i = 0; i < nl; i++)
		free(lines[i]);
	free(lines);
	n_fail += errors;
	return 0;
}

int main(int argc, char **argv)
{
	int i, files = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verbose") == 0 ||
		    strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: axon-promqltest [--verbose] FILE...\n"
			       "       axon-promqltest --remote-write URL "
			       "--offset MS FILE...\n");
			return 0;
		}
		if (strcmp(argv[i], "--remote-write") == 0 && i + 1 < argc) {
			rw_url = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) {
			rw_offset = atoll(argv[++i]);
			continue;
		}
		files++;
		if (run_file(argv[i]) != 0)
			n_fail++;
	}
	if (files == 0) {
		fprintf(stderr, "usage: axon-promqltest [--verbose] FILE...\n");
		return 2;
	}
	if (rw_url != NULL) {
		int bad = n_fail > 0 || rw_send_all() != 0;

		for (i = 0; i < (int)rw_nseries; i++)
			ax_labels_free(rw_series[i]);
		free(rw_series);
		free(rw_samples);
		return bad;
	}
	if (n_skip > 0)
		printf("%d skipped (see the skip list in "
		       "services/tsdb/promqltest/main.c)\n",
		    n_skip);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail == 0 ? 0 : 1;
}
