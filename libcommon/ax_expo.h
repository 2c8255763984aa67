/*
 * ax_expo: pull parsers for the Prometheus text exposition format 0.0.4
 * and OpenMetrics 1.0 text, zero-copy (names, label values and help text
 * point into the body) and allocation-free in the steady state (a parser
 * reset for the next scrape keeps its validation tables).
 *
 * Text 0.0.4 is parsed as leniently as Prometheus 2.42 does: blank lines
 * and comments other than HELP/TYPE are skipped, blanks around tokens are
 * allowed, timestamps are integer milliseconds, values follow Go's
 * ParseFloat (Inf, NaN, exponents).
 *
 * OpenMetrics is strict, as its specification and the reference parser
 * ask: the body ends with "# EOF" (one final newline allowed, nothing
 * after), no blank lines, metadata (HELP, TYPE, UNIT) at most once per
 * family and before its samples, families not interleaved and names not
 * clashing, sample names by type (counter _total/_created, histogram
 * _bucket/_count/_sum/_created, gaugehistogram _bucket/_gcount/_gsum,
 * summary, info _info, stateset), canonical `le` and `quantile` labels,
 * buckets in order with +Inf and a matching count, counter-like samples
 * neither negative nor NaN, stateset values 0/1 and info values 1,
 * timestamps in seconds (floats), never going backwards inside a group,
 * exemplars (` # {labels} value [timestamp]`, at most 128 characters of
 * labels) only on counter _total and histogram _bucket samples, the
 * whole body valid UTF-8.  Errors carry "line:col: reason".
 *
 * Usage: ax_expo_init(); while ((e = ax_expo_next(x)) > 0) { ... }
 * e == AX_EXPO_END at a clean end, AX_EXPO_ERROR with x->err.
 */
#ifndef AX_EXPO_H
#define AX_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"

#define AX_EXPO_MAX_LABELS 128

typedef enum {
	AX_EXPO_ERROR = -1,
	AX_EXPO_END = 0,
	AX_EXPO_SAMPLE,
	AX_EXPO_HELP,
	AX_EXPO_TYPE,
	AX_EXPO_UNIT,
} ax_expo_entry_t;

typedef enum {
	AX_MT_UNKNOWN = 0, /* OpenMetrics unknown / text untyped */
	AX_MT_COUNTER,
	AX_MT_GAUGE,
	AX_MT_HISTOGRAM,
	AX_MT_GAUGEHISTOGRAM,
	AX_MT_SUMMARY,
	AX_MT_INFO,
	AX_MT_STATESET,
} ax_mtype_t;

/* A slice of the body; esc: holds backslash escapes (ax_expo_unescape). */
typedef struct ax_expo_str {
	const char *p;
	size_t n;
	int esc;
} ax_expo_str_t;

typedef struct ax_expo_label {
	ax_expo_str_t name, value;
} ax_expo_label_t;

typedef struct ax_u64set {
	uint64_t *v; /* 0: empty slot */
	size_t cap, n;
} ax_u64set_t;

typedef struct ax_expo {
	const char *buf;
	size_t len, pos;
	int om;
	size_t line;      /* current line, 1-based */
	size_t line_at;   /* offset of its first byte */
	int eof_seen;     /* OpenMetrics: "# EOF" read */
	/* the entry */
	ax_expo_str_t name; /* sample name, or the metadata's family */
	ax_expo_label_t labels[AX_EXPO_MAX_LABELS];
	size_t n_labels;
	double value;
	int has_ts;
	int64_t ts_ms;
	int has_ex; /* OpenMetrics exemplar */
	ax_expo_label_t ex_labels[AX_EXPO_MAX_LABELS];
	size_t n_ex_labels;
	double ex_value;
	int ex_has_ts;
	int64_t ex_ts_ms;
	ax_expo_str_t text; /* HELP text (escaped) or UNIT */
	ax_mtype_t type;    /* TYPE entries; for samples, the family's type */
	/* the error */
	char err[256];
	/* OpenMetrics family state */
	ax_expo_str_t fam;
	ax_mtype_t fam_type;
	int fam_typed, fam_help, fam_unit, fam_samples;
	ax_expo_str_t fam_unit_s;
	ax_u64set_t seen_names, seen_groups;
	uint64_t group;
	int group_set, group_has_ts;
	double group_ts;
	/* histogram checks of the current group */
	int h_active, h_neg_buckets, h_sum, h_gsum, h_neg_gsum, h_count_set;
	double h_bucket, h_value, h_count;
	uint64_t h_group;
	int h_has_ts;
	double h_ts;
} ax_expo_t;

/* Start parsing buf[0..len) (borrowed until the last ax_expo_next). */
void ax_expo_init(ax_expo_t *x, const char *buf, size_t len, int openmetrics);
/* Parse another body with the same parser, keeping its tables. */
void ax_expo_reset(ax_expo_t *x, const char *buf, size_t len, int openmetrics);
void ax_expo_fini(ax_expo_t *x);
/* The next entry (see above). */
int ax_expo_next(ax_expo_t *x);

/* Append s with its escapes resolved (\\, \", \n; others kept). */
void ax_expo_unescape(const ax_expo_str_t *s, ax_buf_t *out);
/* "counter", "gauge", ... ("unknown" for AX_MT_UNKNOWN). */
const char *ax_mtype_name(ax_mtype_t t);

#endif
