/*
 * promql_fn: the numeric kernels of PromQL's functions, as Prometheus
 * 2.42 computes them (promql/functions.go): range-vector functions over a
 * window of samples (rate/increase/delta extrapolation, irate, idelta,
 * deriv, predict_linear, holt_winters, changes, resets and the
 * *_over_time family), per-element math and date functions, and the
 * quantile helpers shared by quantile(), quantile_over_time() and
 * histogram_quantile() over classic buckets.
 *
 * Nothing here allocates; the evaluator (promql.c) feeds the windows.
 */
#ifndef TSDB_PROMQL_FN_H
#define TSDB_PROMQL_FN_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"

typedef struct tsdb_pq_point {
	int64_t t;
	double v;
} tsdb_pq_point_t;

/* Range-vector functions. */
typedef enum {
	TSDB_PQW_NONE = 0,
	TSDB_PQW_RATE,
	TSDB_PQW_INCREASE,
	TSDB_PQW_DELTA,
	TSDB_PQW_IRATE,
	TSDB_PQW_IDELTA,
	TSDB_PQW_DERIV,
	TSDB_PQW_PREDICT_LINEAR,
	TSDB_PQW_HOLT_WINTERS,
	TSDB_PQW_CHANGES,
	TSDB_PQW_RESETS,
	TSDB_PQW_AVG,
	TSDB_PQW_MIN,
	TSDB_PQW_MAX,
	TSDB_PQW_SUM,
	TSDB_PQW_COUNT,
	TSDB_PQW_QUANTILE,
	TSDB_PQW_STDDEV,
	TSDB_PQW_STDVAR,
	TSDB_PQW_LAST,
	TSDB_PQW_PRESENT,
	TSDB_PQW_ABSENT,
} tsdb_pqw_t;

/* The window of one series at one step. */
typedef struct tsdb_pq_win {
	const tsdb_pq_point_t *p; /* samples in [ref - range, ref], no
	                             staleness markers */
	size_t n;
	int64_t range_ms; /* the selector's (or subquery's) range */
	int64_t ref;      /* the window's end: eval time - offset */
	int64_t ts;       /* the step's eval timestamp */
	double arg[2];    /* scalar arguments at this step */
} tsdb_pq_win_t;

/* Which range-vector function is name (TSDB_PQW_NONE: not one). */
tsdb_pqw_t tsdb_pqfn_window_id(const char *name);
/* Compute: 1 with *out set, 0 for no output at this step, or a negative
 * AX_E* code with err (holt_winters' factors out of range). */
int tsdb_pqfn_window(
    tsdb_pqw_t id, const tsdb_pq_win_t *w, double *out, ax_err_t *err);

/* Per-element functions of instant vectors (abs, ceil, ..., the date
 * functions).  A negative id: not one. */
int tsdb_pqfn_elem_id(const char *name);
/* f(v) with the function's scalar arguments args (round's to_nearest,
 * clamp's bounds); returns 1 to keep the element, 0 to drop it. */
int tsdb_pqfn_elem(int id, double v, const double *args, double *out);

/* quantile() and quantile_over_time(): sorts v in place (NaN first, as
 * Go's sort of vectorByValueHeap). */
double tsdb_pqfn_quantile(double q, double *v, size_t n);

/* A classic histogram bucket. */
typedef struct tsdb_pq_bucket {
	double upper;
	double count;
} tsdb_pq_bucket_t;
/* histogram_quantile over classic buckets (sorts and edits b). */
double tsdb_pqfn_bucket_quantile(double q, tsdb_pq_bucket_t *b, size_t n);

/* Neumaier-compensated summation step, as Prometheus' kahanSumInc. */
double tsdb_pqfn_kahan_inc(double inc, double sum, double *c);

#endif
