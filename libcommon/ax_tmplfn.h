/*
 * ax_tmplfn: the functions Prometheus and Alertmanager add to Go's
 * text/template (ax_tmpl), for the ruler's rule templates and the alert
 * router's notification templates.
 *
 * Shared string functions (as both define them): toUpper, toLower, title
 * (Alertmanager: golang.org/x/text cases.Title, the rest of a word
 * lowered; Prometheus: the same with cases.NoLower), match (an unanchored
 * RE2 search), reReplaceAll (pattern, replacement with $1 references,
 * text), safeHtml (a template.HTML value, printed unescaped by the HTML
 * mode of ax_tmpl).
 *
 * Prometheus 2.42's set (ax_tmplfn_prometheus): the above plus humanize,
 * humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp
 * (numbers, or strings parsed as Go's strconv.ParseFloat; results as Go's
 * %.4g with SI or binary prefixes), toTime, args (a map arg0, arg1, ...),
 * graphLink and tableLink (/graph?g0.expr=...&g0.tab=0|1), stripPort,
 * stripDomain, externalURL, pathPrefix, parseDuration (seconds), and the
 * query functions: query (through the data source of the execution's
 * ax_tmplfn_prom_t), first, label, value, strvalue, sortByLabel.  Query
 * results are lists of samples with .Labels (a string map; "__value__" for
 * string results) and .Value.
 *
 * Times (toTime, and Alertmanager's alert times) are Go time.Time values
 * in UTC: printed as time.Time.String does, with .Format (Go layouts),
 * .Unix, .UnixMilli, .IsZero, .UTC, .Local.
 *
 * Ownership: values live in the execution's arena.
 */
#ifndef AX_TMPLFN_H
#define AX_TMPLFN_H

#include "ax_buf.h"
#include "ax_labels.h"
#include "ax_tmpl.h"

/* The user pointer of ax_tmpl_exec for Prometheus' functions (may be NULL:
 * externalURL is "" and query an error). */
typedef struct ax_tmplfn_prom {
	const char *external_url;
	/* Run q at the evaluation time; OUT: *out, a list made with
	 * ax_tmplfn_result of ax_tmplfn_sample values, in arena a. */
	int (*query)(void *arg, const char *q, ax_arena_t *a, ax_tval_t **out,
	    ax_err_t *err);
	void *query_arg;
} ax_tmplfn_prom_t;

typedef struct ax_tmplfn_sample {
	ax_tval_t *labels; /* string map */
	ax_tval_t *value;  /* float */
} ax_tmplfn_sample_t;

/* A sample (labels copied; strval, when not NULL, becomes the __value__
 * label) and a query result list of n NIL slots to fill.  NULL when out of
 * memory. */
ax_tval_t *ax_tmplfn_sample(
    ax_arena_t *a, const ax_labels_t *ls, const char *strval, double v);
ax_tval_t *ax_tmplfn_result(ax_arena_t *a, size_t n);

/* A Go time.Time value (ms since the epoch; zero: Go's zero time). */
ax_tval_t *ax_tmplfn_time(ax_arena_t *a, int64_t ms, int zero);

/* Helpers for function implementations: check that v is a string
 * (AX_EINVAL "wrong type for value; expected string; got T"), and return
 * the buffer b as a string value (b is released). */
int ax_tmplfn_want_str(const ax_tval_t *v, ax_err_t *err);
int ax_tmplfn_ret(
    ax_tmpl_exec_t *x, ax_buf_t *b, ax_tval_t **out, ax_err_t *err);

/* The shared functions, for hosts' tables. */
int ax_tmplfn_upper(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_lower(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_title(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_title_nolower(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_match(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_safe_html(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);
int ax_tmplfn_re_replace_all(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err);

/* Prometheus 2.42's function set (NULL-name terminated). */
extern const ax_tmpl_func_t ax_tmplfn_prometheus[];

#endif
