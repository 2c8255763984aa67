/*
 * exemplars: the bounded exemplar store of the head, as Prometheus'
 * circular exemplar storage: a ring of at most `capacity` exemplars (the
 * oldest overwritten first), chained per series so a series' exemplars are
 * found without scanning the ring.  Per series, an exemplar older than the
 * newest stored one is refused (out of order) and an exact repeat (same
 * labels, timestamp and value) is ignored, so resent batches are harmless.
 * Exemplar label sets may hold at most 128 UTF-8 characters of names and
 * values together (the OpenMetrics limit Prometheus enforces).
 * Thread-safe (one mutex).
 */
#ifndef TSDB_EXEMPLARS_H
#define TSDB_EXEMPLARS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"

typedef struct tsdb_exemplars tsdb_exemplars_t;

#define TSDB_EXEMPLAR_MAX_RUNES 128

/* OUT: *out; capacity 0 stores nothing (every add is a no-op). */
int tsdb_exemplars_new(size_t capacity, tsdb_exemplars_t **out, ax_err_t *err);
void tsdb_exemplars_free(tsdb_exemplars_t *x);

/* Would (ref, ls, t, v) be accepted?  0 yes, 1 exact duplicate (ignore),
 * AX_EINVAL bad labels, AX_ERANGE-like AX_ELIMIT for out of order. */
int tsdb_exemplars_check(tsdb_exemplars_t *x, uint64_t ref,
    const ax_labels_t *ls, int64_t t, double v, ax_err_t *err);
/* Add (ls is copied). */
int tsdb_exemplars_add(tsdb_exemplars_t *x, uint64_t ref, const ax_labels_t *ls,
    int64_t t, double v);

typedef int (*tsdb_exemplar_fn)(
    void *arg, const ax_labels_t *ls, int64_t t, double v);
/* Exemplars of series ref with t in [mint, maxt], oldest first. */
int tsdb_exemplars_select(tsdb_exemplars_t *x, uint64_t ref, int64_t mint,
    int64_t maxt, tsdb_exemplar_fn fn, void *arg);
size_t tsdb_exemplars_count(tsdb_exemplars_t *x);

#endif
