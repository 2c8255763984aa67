/*
 * ax_metrics: counters, gauges and histograms with labels, rendered in
 * the Prometheus text exposition format 0.0.4 at /metrics.
 *
 * A registry holds families (name, help, type, label names); a family
 * holds children, one per label-value tuple, created on first use by
 * ax_mfam_with() and never freed before the registry.  Updating a child
 * is lock-free (atomic compare-and-swap on the value's bits), so hot
 * paths keep a child pointer and call ax_counter_add() freely.  Creating
 * a child and rendering take the family's mutex.
 *
 * Names follow Prometheus' conventions so `promtool check metrics` accepts
 * the output with no warnings: counters end in _total, base units,
 * snake_case, a HELP line for every family.
 */
#ifndef AX_METRICS_H
#define AX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"

typedef struct ax_metrics ax_metrics_t;
typedef struct ax_mfam ax_mfam_t;
typedef struct ax_metric ax_metric_t;

typedef enum {
	AX_METRIC_COUNTER,
	AX_METRIC_GAUGE,
	AX_METRIC_HISTOGRAM,
} ax_metric_type_t;

/* OUT: a new registry (NULL on allocation failure); caller frees it.
 * Every function below accepts a NULL registry or family and then returns
 * NULL, and updates on a NULL child do nothing: code can run without
 * metrics (tests, tools). */
ax_metrics_t *ax_metrics_new(void);
void ax_metrics_free(ax_metrics_t *r);

/*
 * Register a family.  name, help and label names are copied.  Registering
 * the same name twice returns the existing family if type and labels
 * agree, NULL otherwise (or on allocation failure).  The family belongs to
 * the registry.  `buckets` (upper bounds, ascending, without +Inf) is for
 * histograms only.
 */
ax_mfam_t *ax_metrics_family(ax_metrics_t *r, ax_metric_type_t type,
    const char *name, const char *help, size_t n_labels,
    const char *const *label_names, const double *buckets, size_t n_buckets);

/* The child for these label values (n_labels of them), created on first
 * use.  Returns NULL on allocation failure.  Owned by the family. */
ax_metric_t *ax_mfam_with(ax_mfam_t *f, const char *const *values);

/* Shorthands for families without labels: register and return the only
 * child. */
ax_metric_t *ax_metrics_counter(
    ax_metrics_t *r, const char *name, const char *help);
ax_metric_t *ax_metrics_gauge(
    ax_metrics_t *r, const char *name, const char *help);
ax_metric_t *ax_metrics_histogram(ax_metrics_t *r, const char *name,
    const char *help, const double *buckets, size_t n_buckets);

/* A gauge computed at render time by fn(arg).  NULL on failure. */
ax_mfam_t *ax_metrics_gauge_fn(ax_metrics_t *r, const char *name,
    const char *help, double (*fn)(void *arg), void *arg);

void ax_counter_add(ax_metric_t *m, double v); /* v >= 0 */
void ax_counter_inc(ax_metric_t *m);
void ax_gauge_set(ax_metric_t *m, double v);
void ax_gauge_add(ax_metric_t *m, double v);
void ax_histogram_observe(ax_metric_t *m, double v);
double ax_metric_value(const ax_metric_t *m); /* counter or gauge */
uint64_t ax_histogram_count(const ax_metric_t *m);

/* Render the whole registry in text format 0.0.4, families sorted by
 * name, children by label values. */
void ax_metrics_render(ax_metrics_t *r, ax_buf_t *out);

/*
 * A collector for families whose children come and go (one child per
 * service, per scraper): fn appends whole families in text format 0.0.4
 * (HELP, TYPE, samples) after the registered ones, at every render.  fn
 * runs on the rendering thread and must not call back into r.  One
 * collector per registry; fn NULL removes it.  arg is borrowed.
 */
void ax_metrics_set_collector(
    ax_metrics_t *r, void (*fn)(void *arg, ax_buf_t *out), void *arg);

/* Register process_* metrics (cpu, memory, fds, start time) from /proc. */
int ax_metrics_register_process(ax_metrics_t *r);

/* Default latency buckets (seconds), as Prometheus' DefBuckets. */
extern const double ax_metrics_default_buckets[];
extern const size_t ax_metrics_n_default_buckets;

#endif
