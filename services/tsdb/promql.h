/*
 * promql: the PromQL evaluator of the tsdb, with Prometheus 2.42's
 * semantics, over the select interface of db.h.
 *
 * An expression is evaluated over a range of steps [start, end] by step
 * (an instant query is one step).  Every node yields a matrix whose
 * series carry one point per step at which they have a value; a scalar is
 * one label-less series with a point at every step.  Selectors walk each
 * series' samples once for the whole range (seekable iterators, a sliding
 * window per step for range functions), so a range query never re-decodes
 * chunks per step.  Binary operators, aggregations and functions work step
 * by step on the argument matrices with label signatures computed once
 * per series.
 *
 * Limits: a query holding more than max_samples points at once, or
 * running past its deadline, stops with AX_ELIMIT / AX_ETIMEDOUT and a
 * message as Prometheus words it.  Run-time errors (many-to-many
 * matching, duplicate output series, bad label_replace arguments) return
 * AX_EINVAL with the message.
 */
#ifndef TSDB_PROMQL_H
#define TSDB_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "ax_promql.h"
#include "tsdb/db.h"
#include "tsdb/promql_fn.h"

typedef struct tsdb_pq_opts {
	int64_t lookback_ms;     /* 5m */
	int64_t max_samples;     /* points held at once; 0: unlimited */
	int64_t timeout_ms;      /* 0: none */
	int64_t default_step_ms; /* subqueries without a step: 1m */
} tsdb_pq_opts_t;

void tsdb_pq_opts_default(tsdb_pq_opts_t *o);

typedef struct tsdb_pq_series {
	ax_labels_t *ls; /* owned */
	tsdb_pq_point_t *pts;
	size_t n, cap;
	int unsorted; /* points were appended out of time order */
} tsdb_pq_series_t;

/* A query result: a scalar or string (value and time), an instant vector
 * (each series one point) or a matrix. */
typedef struct tsdb_pq_result {
	ax_pq_type_t type;
	tsdb_pq_series_t *s;
	size_t n;
	double scalar;
	char *str;
	int64_t t;
} tsdb_pq_result_t;

/*
 * Evaluate expr (type-checked by ax_pq_parse; borrowed) over db.
 * instant: one step at start (a range selector then yields a matrix);
 * else steps start, start+step, ... <= end, with a scalar or
 * instant-vector expression (else AX_EINVAL).  OUT: res, released with
 * tsdb_pq_result_fini.
 */
int tsdb_pq_eval(tsdb_db_t *db, const tsdb_pq_opts_t *o,
    const ax_pq_node_t *expr, int instant, int64_t start, int64_t end,
    int64_t step, tsdb_pq_result_t *res, ax_err_t *err);
void tsdb_pq_result_fini(tsdb_pq_result_t *r);

#endif
