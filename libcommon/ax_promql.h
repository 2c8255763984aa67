/*
 * ax_promql: the PromQL abstract syntax tree, parser and printer shared by
 * the tsdb (match[] selectors, /federate, evaluation), the ruler (rule
 * checking) and the CLI.  Evaluation lives in the tsdb.
 *
 * This module parses series selectors -- the part of the grammar every
 * daemon needs today:
 *
 *     metric_name{label="v", other=~"re.*"}[5m] offset -1h @ 1700000000
 *
 * with all four matcher types, range selectors, offset (negative too) and
 * the @ modifier with a timestamp, start() or end().  Errors are reported
 * as Prometheus does: "1:14: parse error: unexpected ...".
 *
 * Matchers follow Prometheus' rules: a regex matcher is fully anchored
 * RE2 syntax (ax_regex); a selector must contain at least one matcher that
 * does not match the empty string ("vector selector must contain at least
 * one non-empty matcher").
 */
#ifndef AX_PROMQL_H
#define AX_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_regex.h"

typedef enum {
	AX_MATCH_EQUAL,     /* = */
	AX_MATCH_NOT_EQUAL, /* != */
	AX_MATCH_REGEX,     /* =~ */
	AX_MATCH_NOT_REGEX, /* !~ */
} ax_match_type_t;

typedef struct ax_matcher {
	ax_match_type_t type;
	char *name;
	char *value;
	ax_regex_t *re; /* REGEX and NOT_REGEX only */
} ax_matcher_t;

/*
 * Build a matcher (copies name and value; compiles the regex).
 * OUT: *out owned by the caller (ax_matcher_free).
 */
int ax_matcher_new(ax_match_type_t type, const char *name, const char *value,
    ax_matcher_t **out, ax_err_t *err);
void ax_matcher_free(ax_matcher_t *m);
/* Does the label value v (NULL or "" when absent) satisfy m?  1 or 0;
 * a regex that hits its match limit counts as no match. */
int ax_matcher_matches(const ax_matcher_t *m, const char *v);
/* Does m match the empty string (i.e. an absent label)? */
int ax_matcher_matches_empty(const ax_matcher_t *m);
/* Append `name="value"` (with op) to b. */
void ax_matcher_format(const ax_matcher_t *m, ax_buf_t *b);
/* "=", "!=", "=~", "!~" */
const char *ax_match_type_str(ax_match_type_t t);

typedef enum {
	AX_AT_NONE = 0,
	AX_AT_TIMESTAMP,
	AX_AT_START,
	AX_AT_END,
} ax_at_kind_t;

/* A parsed selector. */
typedef struct ax_selector {
	char *name; /* metric name given before the braces, or NULL */
	ax_matcher_t **matchers; /* includes __name__="name" when name is set */
	size_t n_matchers;
	int64_t range_ms;  /* > 0 for a range (matrix) selector */
	int64_t offset_ms; /* may be negative */
	ax_at_kind_t at_kind;
	int64_t at_ms;   /* AX_AT_TIMESTAMP */
	size_t pos, end; /* byte span in the input */
} ax_selector_t;

/*
 * Parse a series selector (vector or range, with offset and @).  OUT: *out
 * owned by the caller (ax_selector_free).  AX_EPARSE with a
 * "line:col: parse error: ..." message.
 */
int ax_selector_parse(const char *input, ax_selector_t **out, ax_err_t *err);
void ax_selector_free(ax_selector_t *s);
/* Print in Prometheus' canonical form (the String() of the AST node). */
void ax_selector_format(const ax_selector_t *s, ax_buf_t *b);

/* Append a string quoted as Go's strconv.Quote does. */
void ax_pq_quote(ax_buf_t *b, const char *s);

#endif
