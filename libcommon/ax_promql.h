/*
 * ax_promql: the PromQL abstract syntax tree, parser and printer shared by
 * the tsdb (match[] selectors, /federate, evaluation), the ruler (rule
 * checking) and the CLI.  Evaluation lives in the tsdb.
 *
 * Two entry points: ax_selector_parse() for a bare series selector
 *
 *     metric_name{label="v", other=~"re.*"}[5m] offset -1h @ 1700000000
 *
 * (match[] parameters, delete requests), and ax_pq_parse() for the whole
 * PromQL grammar of Prometheus 2.42: literals, selectors, subqueries,
 * offset and @ (start()/end()), unary and binary operators with
 * Prometheus' precedence (or < and/unless < comparisons < +- < * / % atan2
 * < ^, ^ right-associative, unary +- binding like *), bool, vector
 * matching (on/ignoring, group_left/group_right), aggregations with
 * by/without before or after the argument, and the 2.42 function set with
 * its argument types.  The parsed tree is type-checked as Prometheus'
 * checkAST does.  Errors are reported as Prometheus does:
 * "1:14: parse error: unexpected ...".
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

/* ---- expressions ---- */

typedef enum {
	AX_PQ_NUMBER,
	AX_PQ_STRING,
	AX_PQ_SELECTOR, /* vector, or matrix when sel->range_ms > 0 */
	AX_PQ_SUBQUERY,
	AX_PQ_CALL,
	AX_PQ_AGGREGATE,
	AX_PQ_BINARY,
	AX_PQ_UNARY,
	AX_PQ_PAREN,
} ax_pq_kind_t;

typedef enum {
	AX_PQ_TNONE = 0,
	AX_PQ_TSCALAR,
	AX_PQ_TVECTOR,
	AX_PQ_TMATRIX,
	AX_PQ_TSTRING,
} ax_pq_type_t;

/* Vector matching cardinality. */
typedef enum {
	AX_PQ_ONE_TO_ONE = 0,
	AX_PQ_MANY_TO_ONE, /* group_left */
	AX_PQ_ONE_TO_MANY, /* group_right */
	AX_PQ_MANY_TO_MANY, /* and, or, unless */
} ax_pq_card_t;

/* A function of the 2.42 set: argument types, and how many may be left
 * out or repeated (variadic 0: exactly n_args; 1: the last may be left
 * out; -1: the last repeats any number of times). */
typedef struct ax_pq_func {
	const char *name;
	ax_pq_type_t args[5];
	int n_args;
	int variadic;
	ax_pq_type_t ret;
} ax_pq_func_t;

/* Look up a function by name; NULL when unknown. */
const ax_pq_func_t *ax_pq_func_lookup(const char *name);

typedef struct ax_pq_node ax_pq_node_t;
struct ax_pq_node {
	ax_pq_kind_t kind;
	size_t pos, end; /* byte span in the input */
	double num;      /* NUMBER */
	char *str;       /* STRING (decoded) */
	ax_selector_t *sel; /* SELECTOR */
	/* PAREN, UNARY, SUBQUERY, AGGREGATE: the operand; BINARY: lhs/rhs */
	ax_pq_node_t *a, *b;
	ax_pq_node_t *param; /* AGGREGATE: topk/bottomk/quantile/count_values */
	int op; /* ax_tok_type_t: UNARY ADD/SUB, BINARY operator, AGGREGATE */
	size_t op_pos; /* BINARY: where the operator is */
	/* SUBQUERY */
	int64_t range_ms, step_ms, offset_ms; /* step 0: the default */
	ax_at_kind_t at_kind;
	int64_t at_ms;
	/* CALL */
	const ax_pq_func_t *func;
	ax_pq_node_t **args;
	size_t n_args;
	/* AGGREGATE grouping (by/without) or BINARY matching labels
	 * (on/ignoring) */
	char **labels;
	size_t n_labels;
	int without; /* AGGREGATE: without (else by) */
	/* BINARY */
	int return_bool;
	int matching; /* both sides are vectors: card/on/labels apply */
	ax_pq_card_t card;
	int on;         /* on (else ignoring) */
	char **include; /* group_left/group_right labels */
	size_t n_include;
};

/*
 * Parse and type-check a PromQL expression.  OUT: *out owned by the caller
 * (ax_pq_free).  AX_EPARSE with "line:col: parse error: ..." in err.
 */
int ax_pq_parse(const char *input, ax_pq_node_t **out, ax_err_t *err);
void ax_pq_free(ax_pq_node_t *n);
/* The node's value type. */
ax_pq_type_t ax_pq_type(const ax_pq_node_t *n);
/* "scalar", "instant vector", "range vector", "string" */
const char *ax_pq_type_name(ax_pq_type_t t);
/* Print in Prometheus' canonical form (the String() of the AST). */
void ax_pq_format(const ax_pq_node_t *n, ax_buf_t *b);
/* An operator's text ("+", "and", "sum", ...), for a token type. */
const char *ax_pq_op_str(int op);

#endif
