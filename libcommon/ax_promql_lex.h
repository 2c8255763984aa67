/*
 * ax_promql_lex: the PromQL lexer (Prometheus 2.42 token set).
 *
 * Produces one token at a time from an input string; tokens point into
 * the input (no copies), with byte offsets for error positions.  String
 * tokens keep their quotes: ax_pq_unquote() decodes them.  Numbers
 * include hex, exponents, Inf and NaN; a number followed by a duration
 * unit is a DURATION token ("5m", "1h30m").  Inside braces, keywords lex
 * as identifiers (label names may be "by", "on", ...).
 */
#ifndef AX_PROMQL_LEX_H
#define AX_PROMQL_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"

typedef enum {
	AX_TOK_EOF = 0,
	AX_TOK_ERROR,
	AX_TOK_IDENT,        /* label name or function name */
	AX_TOK_METRIC_IDENT, /* identifier with a colon */
	AX_TOK_NUMBER,
	AX_TOK_DURATION,
	AX_TOK_STRING,
	/* punctuation */
	AX_TOK_LBRACE,
	AX_TOK_RBRACE,
	AX_TOK_LPAREN,
	AX_TOK_RPAREN,
	AX_TOK_LBRACKET,
	AX_TOK_RBRACKET,
	AX_TOK_COMMA,
	AX_TOK_COLON,
	AX_TOK_AT,
	/* operators */
	AX_TOK_ASSIGN, /* = (matchers only) */
	AX_TOK_EQLC,   /* == */
	AX_TOK_NEQ,    /* != */
	AX_TOK_EQL_REGEX,
	AX_TOK_NEQ_REGEX, /* =~ !~ */
	AX_TOK_LSS,
	AX_TOK_LTE,
	AX_TOK_GTR,
	AX_TOK_GTE,
	AX_TOK_ADD,
	AX_TOK_SUB,
	AX_TOK_MUL,
	AX_TOK_DIV,
	AX_TOK_MOD,
	AX_TOK_POW,
	/* keywords */
	AX_TOK_AND,
	AX_TOK_OR,
	AX_TOK_UNLESS,
	AX_TOK_ATAN2,
	AX_TOK_SUM,
	AX_TOK_AVG,
	AX_TOK_COUNT,
	AX_TOK_MIN,
	AX_TOK_MAX,
	AX_TOK_GROUP,
	AX_TOK_STDDEV,
	AX_TOK_STDVAR,
	AX_TOK_TOPK,
	AX_TOK_BOTTOMK,
	AX_TOK_COUNT_VALUES,
	AX_TOK_QUANTILE,
	AX_TOK_OFFSET,
	AX_TOK_BY,
	AX_TOK_WITHOUT,
	AX_TOK_ON,
	AX_TOK_IGNORING,
	AX_TOK_GROUP_LEFT,
	AX_TOK_GROUP_RIGHT,
	AX_TOK_BOOL,
	AX_TOK_START,
	AX_TOK_END,
	AX_TOK__COUNT
} ax_tok_type_t;

typedef struct ax_tok {
	ax_tok_type_t type;
	size_t pos; /* byte offset in the input */
	size_t len;
	const char *text; /* points into the input */
} ax_tok_t;

typedef struct ax_lexer {
	const char *in;
	size_t len;
	size_t pos;
	int brace_depth;   /* inside {...} */
	int bracket_depth; /* inside [...] */
	int paren_depth;   /* inside (...) */
	char errmsg[256];
} ax_lexer_t;

void ax_lex_init(ax_lexer_t *lx, const char *input, size_t len);
/* Next token.  On AX_TOK_ERROR, lx->errmsg says why. */
ax_tok_t ax_lex_next(ax_lexer_t *lx);
/* A readable name for a token type ("identifier", "\"{\"", ...). */
const char *ax_tok_name(ax_tok_type_t t);
/* Is t a keyword (an identifier-like word)? */
int ax_tok_is_keyword(ax_tok_type_t t);
int ax_tok_is_aggregator(ax_tok_type_t t);

/* Decode a quoted string token (", ' or `) with Go escapes.  OUT: *out,
 * malloc'd, owned by the caller.  AX_EPARSE with err on bad escapes. */
int ax_pq_unquote(const char *s, size_t len, char **out, ax_err_t *err);

/* Format "line:col" of byte offset pos in input (1-based). */
void ax_pq_pos(const char *input, size_t pos, char *out, size_t cap);

#endif
