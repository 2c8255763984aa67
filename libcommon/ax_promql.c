/*
 * ax_promql: selector parsing and printing (see ax_promql.h).
 */
#include "ax_promql.h"
#include "ax_labels.h"
#include "ax_promql_lex.h"
#include "ax_units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ax_match_type_str(ax_match_type_t t)
{
	switch (t) {
	case AX_MATCH_EQUAL: return "=";
	case AX_MATCH_NOT_EQUAL: return "!=";
	case AX_MATCH_REGEX: return "=~";
	case AX_MATCH_NOT_REGEX: return "!~";
	}
	return "?";
}

int ax_matcher_new(ax_match_type_t type, const char *name, const char *value,
    ax_matcher_t **out, ax_err_t *err)
{
	ax_matcher_t *m = calloc(1, sizeof(*m));
	int rv;

	if (m == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	m->type = type;
	m->name = strdup(name);
	m->value = strdup(value);
	if (m->name == NULL || m->value == NULL) {
		ax_matcher_free(m);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (type == AX_MATCH_REGEX || type == AX_MATCH_NOT_REGEX) {
		if ((rv = ax_regex_compile(value, &m->re, err)) != 0) {
			ax_matcher_free(m);
			return rv;
		}
	}
	*out = m;
	return 0;
}

void ax_matcher_free(ax_matcher_t *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->value);
	ax_regex_free(m->re);
	free(m);
}

int ax_matcher_matches(const ax_matcher_t *m, const char *v)
{
	size_t n;

	if (v == NULL)
		v = "";
	n = strlen(v);
	switch (m->type) {
	case AX_MATCH_EQUAL: return strcmp(m->value, v) == 0;
	case AX_MATCH_NOT_EQUAL: return strcmp(m->value, v) != 0;
	case AX_MATCH_REGEX: return ax_regex_match(m->re, v, n) == 1;
	case AX_MATCH_NOT_REGEX: return ax_regex_match(m->re, v, n) == 0;
	}
	return 0;
}

int ax_matcher_matches_empty(const ax_matcher_t *m)
{
	return ax_matcher_matches(m, "");
}

void ax_pq_quote(ax_buf_t *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	ax_buf_putc(b, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"': ax_buf_puts(b, "\\\""); break;
		case '\\': ax_buf_puts(b, "\\\\"); break;
		case '\a': ax_buf_puts(b, "\\a"); break;
		case '\b': ax_buf_puts(b, "\\b"); break;
		case '\f': ax_buf_puts(b, "\\f"); break;
		case '\n': ax_buf_puts(b, "\\n"); break;
		case '\r': ax_buf_puts(b, "\\r"); break;
		case '\t': ax_buf_puts(b, "\\t"); break;
		case '\v': ax_buf_puts(b, "\\v"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				ax_buf_printf(b, "\\x%02x", *p);
			else
				ax_buf_putc(b, (char)*p);
		}
	}
	ax_buf_putc(b, '"');
}

void ax_matcher_format(const ax_matcher_t *m, ax_buf_t *b)
{
	ax_buf_puts(b, m->name);
	ax_buf_puts(b, ax_match_type_str(m->type));
	ax_pq_quote(b, m->value);
}

/* ---- parser ---- */

typedef struct parser {
	ax_lexer_t lx;
	const char *in;
	ax_tok_t tok; /* current token */
	ax_err_t *err;
	int failed;
} parser_t;

static int perr(parser_t *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(parser_t *p, size_t pos, const char *fmt, ...)
{
	char where[32], msg[512];
	va_list ap;

	if (p->failed)
		return AX_EPARSE;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ax_pq_pos(p->in, pos, where, sizeof(where));
	return ax_err_set(p->err, AX_EPARSE, "%s: parse error: %s", where, msg);
}

static int advance(parser_t *p)
{
	p->tok = ax_lex_next(&p->lx);
	if (p->tok.type == AX_TOK_ERROR)
		return perr(p, p->tok.pos, "%s", p->lx.errmsg);
	return 0;
}

static void tok_desc(const ax_tok_t *t, char *out, size_t cap)
{
	if (t->type == AX_TOK_EOF)
		snprintf(out, cap, "end of input");
	else if (t->type == AX_TOK_IDENT || t->type == AX_TOK_METRIC_IDENT ||
	    t->type == AX_TOK_NUMBER || t->type == AX_TOK_DURATION ||
	    t->type == AX_TOK_STRING || ax_tok_is_keyword(t->type))
		snprintf(out, cap, "%s \"%.*s\"",
		    ax_tok_is_keyword(t->type) ? "keyword"
		                               : ax_tok_name(t->type),
		    (int)(t->len > 40 ? 40 : t->len), t->text);
	else
		snprintf(out, cap, "%s", ax_tok_name(t->type));
}

static int unexpected(parser_t *p, const char *context, const char *expected)
{
	char d[96];

	/* Prometheus' wording for the common cases */
	if (p->tok.type == AX_TOK_EOF) {
		if (p->lx.brace_depth > 0)
			return perr(p, p->tok.pos,
			    "unexpected end of input inside braces");
		if (p->lx.bracket_depth > 0)
			return perr(p, p->tok.pos, "unclosed left bracket");
		if (p->lx.paren_depth > 0)
			return perr(p, p->tok.pos, "unclosed left parenthesis");
	}
	if (p->lx.brace_depth > 0 &&
	    (p->tok.type == AX_TOK_NUMBER || p->tok.type == AX_TOK_DURATION))
		return perr(p, p->tok.pos,
		    "unexpected character inside braces: '%c'", p->tok.text[0]);
	if (p->tok.type == AX_TOK_RPAREN)
		return perr(p, p->tok.pos, "unexpected right parenthesis ')'");
	if (p->tok.type == AX_TOK_COLON)
		return perr(p, p->tok.pos, "unexpected colon ':'");

	tok_desc(&p->tok, d, sizeof(d));
	if (expected)
		return perr(p, p->tok.pos, "unexpected %s%s%s, expected %s", d,
		    context ? " " : "", context ? context : "", expected);
	return perr(p, p->tok.pos, "unexpected %s%s%s", d, context ? " " : "",
	    context ? context : "");
}

static int add_matcher(ax_selector_t *s, ax_matcher_t *m)
{
	ax_matcher_t **nm =
	    realloc(s->matchers, (s->n_matchers + 1) * sizeof(*nm));

	if (nm == NULL)
		return AX_ENOMEM;
	s->matchers = nm;
	nm[s->n_matchers++] = m;
	return 0;
}

static int parse_duration_tok(parser_t *p, int64_t *ms)
{
	char tmp[64];
	ax_err_t e;

	if (p->tok.len >= sizeof(tmp))
		return perr(p, p->tok.pos, "duration too long");
	memcpy(tmp, p->tok.text, p->tok.len);
	tmp[p->tok.len] = '\0';
	if (ax_duration_parse(tmp, ms, &e) != 0)
		return perr(p, p->tok.pos, "%s", e.msg);
	return 0;
}

static int parse_matchers(parser_t *p, ax_selector_t *s)
{
	int rv;

	/* current token is '{' */
	if ((rv = advance(p)) != 0)
		return rv;
	while (p->tok.type != AX_TOK_RBRACE) {
		ax_tok_t name = p->tok, op;
		ax_match_type_t mt;
		char *lname, *val = NULL;
		ax_matcher_t *m;
		ax_err_t e;

		if (name.type != AX_TOK_IDENT)
			return unexpected(
			    p, "in label matching", "label matching operator");
		if ((rv = advance(p)) != 0)
			return rv;
		op = p->tok;
		switch (op.type) {
		case AX_TOK_ASSIGN: mt = AX_MATCH_EQUAL; break;
		case AX_TOK_NEQ: mt = AX_MATCH_NOT_EQUAL; break;
		case AX_TOK_EQL_REGEX: mt = AX_MATCH_REGEX; break;
		case AX_TOK_NEQ_REGEX: mt = AX_MATCH_NOT_REGEX; break;
		default:
			return unexpected(
			    p, "in label matching", "label matching operator");
		}
		if ((rv = advance(p)) != 0)
			return rv;
		if (p->tok.type != AX_TOK_STRING)
			return unexpected(p, "in label matching", "string");
		if (ax_pq_unquote(p->tok.text, p->tok.len, &val, &e) != 0)
			return perr(p, p->tok.pos, "%s", e.msg);
		lname = strndup(name.text, name.len);
		if (lname == NULL) {
			free(val);
			return ax_err_set(p->err, AX_ENOMEM, "out of memory");
		}
		rv = ax_matcher_new(mt, lname, val, &m, &e);
		free(lname);
		free(val);
		if (rv != 0)
			return perr(p, p->tok.pos, "%s", e.msg);
		if (add_matcher(s, m) != 0) {
			ax_matcher_free(m);
			return ax_err_set(p->err, AX_ENOMEM, "out of memory");
		}
		if ((rv = advance(p)) != 0)
			return rv;
		if (p->tok.type == AX_TOK_COMMA) {
			if ((rv = advance(p)) != 0)
				return rv;
			continue;
		}
		if (p->tok.type != AX_TOK_RBRACE)
			return unexpected(
			    p, "in label matching", "\",\" or \"}\"");
	}
	return advance(p);
}

static int parse_at(parser_t *p, ax_at_kind_t *kind, int64_t *at_ms)
{
	int neg = 0, rv;
	size_t at_pos = p->tok.pos;

	if (*kind != AX_AT_NONE)
		return perr(
		    p, at_pos, "@ <timestamp> may not be set multiple times");
	if ((rv = advance(p)) != 0)
		return rv;
	if (p->tok.type == AX_TOK_START || p->tok.type == AX_TOK_END) {
		*kind = p->tok.type == AX_TOK_START ? AX_AT_START : AX_AT_END;
		if ((rv = advance(p)) != 0)
			return rv;
		if (p->tok.type != AX_TOK_LPAREN)
			return unexpected(p, "in @", "\"(\"");
		if ((rv = advance(p)) != 0)
			return rv;
		if (p->tok.type != AX_TOK_RPAREN)
			return unexpected(p, "in @", "\")\"");
		return advance(p);
	}
	if (p->tok.type == AX_TOK_SUB || p->tok.type == AX_TOK_ADD) {
		neg = p->tok.type == AX_TOK_SUB;
		if ((rv = advance(p)) != 0)
			return rv;
	}
	if (p->tok.type != AX_TOK_NUMBER)
		return unexpected(p, "in @", "timestamp");
	{
		char tmp[64];
		double f;

		snprintf(
		    tmp, sizeof(tmp), "%.*s", (int)p->tok.len, p->tok.text);
		f = strtod(tmp, NULL);
		if (neg)
			f = -f;
		if (!isfinite(f) || fabs(f) > 9.2e15)
			return perr(p, p->tok.pos,
			    "timestamp out of bounds for @ modifier: %s", tmp);
		*kind = AX_AT_TIMESTAMP;
		*at_ms = (int64_t)llround(f * 1000.0);
	}
	return advance(p);
}

static int parse_offset(parser_t *p, int64_t *offset_ms)
{
	int neg = 0, rv;
	size_t pos = p->tok.pos;

	if (*offset_ms != 0)
		return perr(p, pos, "offset may not be set multiple times");
	if ((rv = advance(p)) != 0)
		return rv;
	if (p->tok.type == AX_TOK_SUB) {
		neg = 1;
		if ((rv = advance(p)) != 0)
			return rv;
	}
	if (p->tok.type != AX_TOK_DURATION)
		return unexpected(p, "in offset", "duration");
	if ((rv = parse_duration_tok(p, offset_ms)) != 0)
		return rv;
	if (neg)
		*offset_ms = -*offset_ms;
	return advance(p);
}

static int is_name_tok(ax_tok_type_t t)
{
	return t == AX_TOK_IDENT || t == AX_TOK_METRIC_IDENT ||
	    ax_tok_is_keyword(t);
}

/* Parse a metric name and/or {matchers} at the current token into s and
 * apply Prometheus' selector checks. */
static int parse_selector_body(parser_t *p, ax_selector_t *s)
{
	int rv;
	size_t i;

	s->pos = p->tok.pos;
	if (is_name_tok(p->tok.type)) {
		ax_matcher_t *m;
		ax_err_t e;

		s->name = strndup(p->tok.text, p->tok.len);
		if (s->name == NULL ||
		    ax_matcher_new(
		        AX_MATCH_EQUAL, AX_METRIC_NAME, s->name, &m, &e) != 0)
			return ax_err_set(p->err, AX_ENOMEM, "out of memory");
		if (add_matcher(s, m) != 0) {
			ax_matcher_free(m);
			return ax_err_set(p->err, AX_ENOMEM, "out of memory");
		}
		if ((rv = advance(p)) != 0)
			return rv;
	}
	if (p->tok.type == AX_TOK_LBRACE) {
		if ((rv = parse_matchers(p, s)) != 0)
			return rv;
	} else if (s->name == NULL) {
		return unexpected(p, NULL, "metric name or \"{\"");
	}
	s->end = p->tok.pos;
	if (s->name) {
		for (i = 1; i < s->n_matchers; i++) {
			if (strcmp(s->matchers[i]->name, AX_METRIC_NAME) == 0)
				return perr(p, s->pos,
				    "metric name must not be set twice: \"%s\" "
				    "or \"%s\"",
				    s->name, s->matchers[i]->value);
		}
	}
	for (i = 0; i < s->n_matchers; i++)
		if (!ax_matcher_matches_empty(s->matchers[i]))
			break;
	if (i == s->n_matchers)
		return perr(p, s->pos,
		    "vector selector must contain at least one non-empty "
		    "matcher");
	return 0;
}

int ax_selector_parse(const char *input, ax_selector_t **out, ax_err_t *err)
{
	parser_t p;
	ax_selector_t *s;
	int rv;

	memset(&p, 0, sizeof(p));
	p.in = input;
	p.err = err;
	ax_lex_init(&p.lx, input, strlen(input));
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = advance(&p)) != 0)
		goto fail;
	s->pos = p.tok.pos;
	if ((rv = parse_selector_body(&p, s)) != 0)
		goto fail;
	if (p.tok.type == AX_TOK_LBRACKET) {
		if ((rv = advance(&p)) != 0)
			goto fail;
		if (p.tok.type != AX_TOK_DURATION) {
			rv = unexpected(&p, "in range selector", "duration");
			goto fail;
		}
		if ((rv = parse_duration_tok(&p, &s->range_ms)) != 0)
			goto fail;
		if (s->range_ms <= 0) {
			rv =
			    perr(&p, p.tok.pos, "range must be greater than 0");
			goto fail;
		}
		if ((rv = advance(&p)) != 0)
			goto fail;
		if (p.tok.type != AX_TOK_RBRACKET) {
			rv = unexpected(&p, "in range selector", "\"]\"");
			goto fail;
		}
		if ((rv = advance(&p)) != 0)
			goto fail;
	}
	for (;;) {
		if (p.tok.type == AX_TOK_OFFSET)
			rv = parse_offset(&p, &s->offset_ms);
		else if (p.tok.type == AX_TOK_AT)
			rv = parse_at(&p, &s->at_kind, &s->at_ms);
		else
			break;
		if (rv != 0)
			goto fail;
	}
	if (p.tok.type != AX_TOK_EOF) {
		rv = unexpected(&p, "after selector", "end of input");
		goto fail;
	}
	s->end = p.tok.pos;
	*out = s;
	return 0;
fail:
	ax_selector_free(s);
	return rv ? rv : AX_EPARSE;
}

void ax_selector_free(ax_selector_t *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_matchers; i++)
		ax_matcher_free(s->matchers[i]);
	free(s->matchers);
	free(s->name);
	free(s);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ax_selector_format(const ax_selector_t *s, ax_buf_t *b)
{
	char **strs;
	size_t i, n = 0;
	char d[64];

	strs = calloc(s->n_matchers ? s->n_matchers : 1, sizeof(*strs));
	if (strs == NULL) {
		b->oom = 1;
		return;
	}
	for (i = 0; i < s->n_matchers; i++) {
		const ax_matcher_t *m = s->matchers[i];
		ax_buf_t mb = AX_BUF_INIT;

		if (s->name && m->type == AX_MATCH_EQUAL &&
		    strcmp(m->name, AX_METRIC_NAME) == 0 &&
		    strcmp(m->value, s->name) == 0)
			continue;
		ax_matcher_format(m, &mb);
		strs[n++] = ax_buf_take(&mb, NULL);
	}
	qsort(strs, n, sizeof(*strs), str_cmp);
	if (s->name)
		ax_buf_puts(b, s->name);
	if (n > 0) {
		ax_buf_putc(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				ax_buf_putc(b, ',');
			if (strs[i])
				ax_buf_puts(b, strs[i]);
			else
				b->oom = 1;
		}
		ax_buf_putc(b, '}');
	}
	for (i = 0; i < n; i++)
		free(strs[i]);
	free(strs);
	if (s->range_ms > 0) {
		ax_duration_format(s->range_ms, d, sizeof(d));
		ax_buf_printf(b, "[%s]", d);
	}
	if (s->at_kind == AX_AT_TIMESTAMP)
		ax_buf_printf(b, " @ %.3f", (double)s->at_ms / 1000.0);
	else if (s->at_kind == AX_AT_START)
		ax_buf_puts(b, " @ start()");
	else if (s->at_kind == AX_AT_END)
		ax_buf_puts(b, " @ end()");
	if (s->offset_ms > 0) {
		ax_duration_format(s->offset_ms, d, sizeof(d));
		ax_buf_printf(b, " offset %s", d);
	} else if (s->offset_ms < 0) {
		ax_duration_format(-s->offset_ms, d, sizeof(d));
		ax_buf_printf(b, " offset -%s", d);
	}
}

/* ---- the function set of Prometheus 2.42 ---- */

#define S AX_PQ_TSCALAR
#define V AX_PQ_TVECTOR
#define M AX_PQ_TMATRIX
#define T AX_PQ_TSTRING
static const ax_pq_func_t funcs[] = {
    {"abs", {V}, 1, 0, V},
    {"absent", {V}, 1, 0, V},
    {"absent_over_time", {M}, 1, 0, V},
    {"acos", {V}, 1, 0, V},
    {"acosh", {V}, 1, 0, V},
    {"asin", {V}, 1, 0, V},
    {"asinh", {V}, 1, 0, V},
    {"atan", {V}, 1, 0, V},
    {"atanh", {V}, 1, 0, V},
    {"avg_over_time", {M}, 1, 0, V},
    {"ceil", {V}, 1, 0, V},
    {"changes", {M}, 1, 0, V},
    {"clamp", {V, S, S}, 3, 0, V},
    {"clamp_max", {V, S}, 2, 0, V},
    {"clamp_min", {V, S}, 2, 0, V},
    {"cos", {V}, 1, 0, V},
    {"cosh", {V}, 1, 0, V},
    {"count_over_time", {M}, 1, 0, V},
    {"days_in_month", {V}, 1, 1, V},
    {"day_of_month", {V}, 1, 1, V},
    {"day_of_week", {V}, 1, 1, V},
    {"day_of_year", {V}, 1, 1, V},
    {"deg", {V}, 1, 0, V},
    {"delta", {M}, 1, 0, V},
    {"deriv", {M}, 1, 0, V},
    {"exp", {V}, 1, 0, V},
    {"floor", {V}, 1, 0, V},
    {"histogram_count", {V}, 1, 0, V},
    {"histogram_sum", {V}, 1, 0, V},
    {"histogram_fraction", {S, S, V}, 3, 0, V},
    {"histogram_quantile", {S, V}, 2, 0, V},
    {"holt_winters", {M, S, S}, 3, 0, V},
    {"hour", {V}, 1, 1, V},
    {"idelta", {M}, 1, 0, V},
    {"increase", {M}, 1, 0, V},
    {"irate", {M}, 1, 0, V},
    {"label_replace", {V, T, T, T, T}, 5, 0, V},
    {"label_join", {V, T, T, T}, 4, -1, V},
    {"last_over_time", {M}, 1, 0, V},
    {"ln", {V}, 1, 0, V},
    {"log10", {V}, 1, 0, V},
    {"log2", {V}, 1, 0, V},
    {"max_over_time", {M}, 1, 0, V},
    {"min_over_time", {M}, 1, 0, V},
    {"minute", {V}, 1, 1, V},
    {"month", {V}, 1, 1, V},
    {"pi", {0}, 0, 0, S},
    {"predict_linear", {M, S}, 2, 0, V},
    {"present_over_time", {M}, 1, 0, V},
    {"quantile_over_time", {S, M}, 2, 0, V},
    {"rad", {V}, 1, 0, V},
    {"rate", {M}, 1, 0, V},
    {"resets", {M}, 1, 0, V},
    {"round", {V, S}, 2, 1, V},
    {"scalar", {V}, 1, 0, S},
    {"sgn", {V}, 1, 0, V},
    {"sin", {V}, 1, 0, V},
    {"sinh", {V}, 1, 0, V},
    {"sort", {V}, 1, 0, V},
    {"sort_desc", {V}, 1, 0, V},
    {"sqrt", {V}, 1, 0, V},
    {"stddev_over_time", {M}, 1, 0, V},
    {"stdvar_over_time", {M}, 1, 0, V},
    {"sum_over_time", {M}, 1, 0, V},
    {"tan", {V}, 1, 0, V},
    {"tanh", {V}, 1, 0, V},
    {"time", {0}, 0, 0, S},
    {"timestamp", {V}, 1, 0, V},
    {"vector", {S}, 1, 0, V},
    {"year", {V}, 1, 1, V},
};
#undef S
#undef V
#undef M
#undef T

const ax_pq_func_t *ax_pq_func_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}

const char *ax_pq_type_name(ax_pq_type_t t)
{
	switch (t) {
	case AX_PQ_TSCALAR: return "scalar";
	case AX_PQ_TVECTOR: return "instant vector";
	case AX_PQ_TMATRIX: return "range vector";
	case AX_PQ_TSTRING: return "string";
	case AX_PQ_TNONE: break;
	}
	return "none";
}

ax_pq_type_t ax_pq_type(const ax_pq_node_t *n)
{
	switch (n->kind) {
	case AX_PQ_NUMBER: return AX_PQ_TSCALAR;
	case AX_PQ_STRING: return AX_PQ_TSTRING;
	case AX_PQ_SELECTOR:
		return n->sel->range_ms > 0 ? AX_PQ_TMATRIX : AX_PQ_TVECTOR;
	case AX_PQ_SUBQUERY: return AX_PQ_TMATRIX;
	case AX_PQ_CALL: return n->func->ret;
	case AX_PQ_AGGREGATE: return AX_PQ_TVECTOR;
	case AX_PQ_BINARY:
		return ax_pq_type(n->a) == AX_PQ_TSCALAR &&
		        ax_pq_type(n->b) == AX_PQ_TSCALAR
		    ? AX_PQ_TSCALAR
		    : AX_PQ_TVECTOR;
	case AX_PQ_UNARY:
	case AX_PQ_PAREN: return ax_pq_type(n->a);
	}
	return AX_PQ_TNONE;
}

const char *ax_pq_op_str(int op)
{
	switch ((ax_tok_type_t)op) {
	case AX_TOK_EQLC: return "==";
	case AX_TOK_NEQ: return "!=";
	case AX_TOK_LSS: return "<";
	case AX_TOK_LTE: return "<=";
	case AX_TOK_GTR: return ">";
	case AX_TOK_GTE: return ">=";
	case AX_TOK_ADD: return "+";
	case AX_TOK_SUB: return "-";
	case AX_TOK_MUL: return "*";
	case AX_TOK_DIV: return "/";
	case AX_TOK_MOD: return "%";
	case AX_TOK_POW: return "^";
	default: return ax_tok_name((ax_tok_type_t)op);
	}
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ax_pq_free(ax_pq_node_t *n)
{
	size_t i;

	if (n == NULL)
		return;
	free(n->str);
	ax_selector_free(n->sel);
	ax_pq_free(n->a);
	ax_pq_free(n->b);
	ax_pq_free(n->param);
	for (i = 0; i < n->n_args; i++)
		ax_pq_free(n->args[i]);
	free(n->args);
	free_strv(n->labels, n->n_labels);
	free_strv(n->include, n->n_include);
	free(n);
}

/* ---- expression parser: precedence climbing ---- */

static ax_pq_node_t *node_new(parser_t *p, ax_pq_kind_t kind, size_t pos)
{
	ax_pq_node_t *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		ax_err_set(p->err, AX_ENOMEM, "out of memory");
		p->failed = 1;
		return NULL;
	}
	n->kind = kind;
	n->pos = pos;
	n->end = pos;
	return n;
}

static int oom(parser_t *p)
{
	if (!p->failed) {
		p->failed = 1;
		ax_err_set(p->err, AX_ENOMEM, "out of memory");
	}
	return AX_ENOMEM;
}

/* Binary operator precedence (0: not a binary operator). */
static int bin_prec(ax_tok_type_t t)
{
	switch (t) {
	case AX_TOK_OR: return 1;
	case AX_TOK_AND:
	case AX_TOK_UNLESS: return 2;
	case AX_TOK_EQLC:
	case AX_TOK_NEQ:
	case AX_TOK_LSS:
	case AX_TOK_LTE:
	case AX_TOK_GTR:
	case AX_TOK_GTE: return 3;
	case AX_TOK_ADD:
	case AX_TOK_SUB: return 4;
	case AX_TOK_MUL:
	case AX_TOK_DIV:
	case AX_TOK_MOD:
	case AX_TOK_ATAN2: return 5;
	case AX_TOK_POW: return 6;
	default: return 0;
	}
}

static int is_comparison(int op)
{
	return bin_prec((ax_tok_type_t)op) == 3;
}

static int is_set_op(int op)
{
	return op == AX_TOK_AND || op == AX_TOK_OR || op == AX_TOK_UNLESS;
}

static int parse_expr(parser_t *p, int min_prec, ax_pq_node_t **out);

/* "(" label, label, ... ")" with the current token at "(". */
static int parse_label_list(
    parser_t *p, const char *ctx, char ***out, size_t *n)
{
	int rv;

	if (p->tok.type != AX_TOK_LPAREN)
		return unexpected(p, ctx, "\"(\"");
	if ((rv = advance(p)) != 0)
		return rv;
	while (p->tok.type != AX_TOK_RPAREN) {
		char **nv;

		if (p->tok.type != AX_TOK_IDENT && !ax_tok_is_keyword(p->tok.type))
			return unexpected(p, ctx, "label");
		nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (nv == NULL)
			return oom(p);
		*out = nv;
		if ((nv[*n] = strndup(p->tok.text, p->tok.len)) == NULL)
			return oom(p);
		(*n)++;
		if ((rv = advance(p)) != 0)
			return rv;
		if (p->tok.type == AX_TOK_COMMA) {
			if ((rv = advance(p)) != 0)
				return rv;
		} else if (p->tok.type != AX_TOK_RPAREN) {
			return unexpected(p, ctx, "\",\" or \")\"");
		}
	}
	return advance(p);
}

/* "(" expr, expr, ... ")" with the current token at "(". */
static int parse_args(parser_t *p, const char *ctx, ax_pq_node_t ***out,
    size_t *n, size_t *end)
{
	int rv;

	if ((rv = advance(p)) != 0)
		return rv;
	while (p->tok.type != AX_TOK_RPAREN) {
		ax_pq_node_t *a = NULL, **nv;

		if ((rv = parse_expr(p, 1, &a)) != 0)
			return rv;
		nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (nv == NULL) {
			ax_pq_free(a);
			return oom(p);
		}
		*out = nv;
		nv[(*n)++] = a;
		if (p->tok.type == AX_TOK_COMMA) {
			if ((rv = advance(p)) != 0)
				return rv;
		} else if (p->tok.type != AX_TOK_RPAREN) {
			return unexpected(p, ctx, "\",\" or \")\"");
		}
	}
	*end = p->tok.pos + 1;
	return advance(p);
}

static int parse_aggregate(parser_t *p, ax_pq_node_t **out)
{
	ax_pq_node_t *n = node_new(p, AX_PQ_AGGREGATE, p->tok.pos);
	ax_pq_node_t **args = NULL;
	size_t n_args = 0, i;
	int rv, grouped = 0, want;

	if (n == NULL)
		return AX_ENOMEM;
	*out = n;
	n->op = p->tok.type;
	if ((rv = advance(p)) != 0)
		return rv;
	if (p->tok.type == AX_TOK_BY || p->tok.type == AX_TOK_WITHOUT) {
		n->without = p->tok.type == AX_TOK_WITHOUT;
		grouped = 1;
		if ((rv = advance(p)) != 0)
			return rv;
		if ((rv = parse_label_list(p, "in grouping opts", &n->labels,
		         &n->n_labels)) != 0)
			return rv;
	}
	if (p->tok.type != AX_TOK_LPAREN)
		return unexpected(p, "in aggregation", "\"(\"");
	rv = parse_args(p, "in aggregation", &args, &n_args, &n->end);
	if (rv == 0 && !grouped &&
	    (p->tok.type == AX_TOK_BY || p->tok.type == AX_TOK_WITHOUT)) {
		n->without = p->tok.type == AX_TOK_WITHOUT;
		if ((rv = advance(p)) == 0)
			rv = parse_label_list(
			    p, "in grouping opts", &n->labels, &n->n_labels);
		n->end = p->tok.pos;
	}
	want = n->op == AX_TOK_TOPK || n->op == AX_TOK_BOTTOMK ||
	        n->op == AX_TOK_QUANTILE || n->op == AX_TOK_COUNT_VALUES
	    ? 2
	    : 1;
	if (rv == 0 && n_args != (size_t)want)
		rv = perr(p, n->pos,
		    "wrong number of arguments for aggregate expression "
		    "provided, expected %d, got %zu",
		    want, n_args);
	if (rv == 0) {
		if (want == 2) {
			n->param = args[0];
			n->a = args[1];
		} else {
			n->a = args[0];
		}
		free(args);
		return 0;
	}
	for (i = 0; i < n_args; i++)
		ax_pq_free(args[i]);
	free(args);
	return rv;
}

static int parse_call(parser_t *p, ax_pq_node_t **out)
{
	ax_pq_node_t *n = node_new(p, AX_PQ_CALL, p->tok.pos);
	char name[64];
	int rv;

	if (n == NULL)
		return AX_ENOMEM;
	*out = n;
	snprintf(name, sizeof(name), "%.*s", (int)p->tok.len, p->tok.text);
	n->func = ax_pq_func_lookup(name);
	if (n->func == NULL)
		return perr(p, p->tok.pos, "unknown function with name \"%s\"",
		    name);
	if ((rv = advance(p)) != 0)
		return rv;
	return parse_args(p, "in function call", &n->args, &n->n_args,
	    &n->end);
}

static int parse_number(parser_t *p, double *v)
{
	char tmp[128], *end;

	if (p->tok.len >= sizeof(tmp))
		return perr(p, p->tok.pos, "number too long");
	memcpy(tmp, p->tok.text, p->tok.len);
	tmp[p->tok.len] = '\0';
	if (strcasecmp(tmp, "inf") == 0) {
		*v = INFINITY;
		return 0;
	}
	if (strcasecmp(tmp, "nan") == 0) {
		*v = NAN;
		return 0;
	}
	*v = strtod(tmp, &end);
	if (*end != '\0')
		return perr(p, p->tok.pos, "bad number syntax: \"%s\"", tmp);
	return 0;
}

static int parse_primary(parser_t *p, ax_pq_node_t **out)
{
	ax_tok_type_t t = p->tok.type;
	ax_pq_node_t *n;
	int rv;

	if (t == AX_TOK_NUMBER) {
		if ((n = node_new(p, AX_PQ_NUMBER, p->tok.pos)) == NULL)
			return AX_ENOMEM;
		*out = n;
		n->end = p->tok.pos + p->tok.len;
		if ((rv = parse_number(p, &n->num)) != 0)
			return rv;
		return advance(p);
	}
	if (t == AX_TOK_STRING) {
		ax_err_t e;

		if ((n = node_new(p, AX_PQ_STRING, p->tok.pos)) == NULL)
			return AX_ENOMEM;
		*out = n;
		n->end = p->tok.pos + p->tok.len;
		if (ax_pq_unquote(p->tok.text, p->tok.len, &n->str, &e) != 0)
			return perr(p, p->tok.pos, "%s", e.msg);
		return advance(p);
	}
	if (t == AX_TOK_LPAREN) {
		if ((n = node_new(p, AX_PQ_PAREN, p->tok.pos)) == NULL)
			return AX_ENOMEM;
		*out = n;
		if ((rv = advance(p)) != 0)
			return rv;
		if ((rv = parse_expr(p, 1, &n->a)) != 0)
			return rv;
		if (p->tok.type != AX_TOK_RPAREN)
			return unexpected(p, "in paren expression", "\")\"");
		n->end = p->tok.pos + 1;
		return advance(p);
	}
	if (ax_tok_is_aggregator(t) || t == AX_TOK_IDENT) {
		ax_lexer_t save = p->lx;
		ax_tok_t next = ax_lex_next(&save);

		if (t == AX_TOK_IDENT && next.type == AX_TOK_LPAREN)
			return parse_call(p, out);
		if (ax_tok_is_aggregator(t) &&
		    (next.type == AX_TOK_LPAREN || next.type == AX_TOK_BY ||
		        next.type == AX_TOK_WITHOUT))
			return parse_aggregate(p, out);
	}
	if (t == AX_TOK_LBRACE || is_name_tok(t)) {
		if ((n = node_new(p, AX_PQ_SELECTOR, p->tok.pos)) == NULL)
			return AX_ENOMEM;
		*out = n;
		if ((n->sel = calloc(1, sizeof(*n->sel))) == NULL)
			return oom(p);
		if ((rv = parse_selector_body(p, n->sel)) != 0)
			return rv;
		n->end = n->sel->end;
		return 0;
	}
	if (t == AX_TOK_EOF)
		return unexpected(p, NULL, NULL);
	return unexpected(p, NULL, NULL);
}

/* Range selectors, subqueries, offset and @ after a primary. */
static int parse_postfix(parser_t *p, ax_pq_node_t **np)
{
	int rv;

	for (;;) {
		ax_pq_node_t *n = *np;
		ax_tok_type_t t = p->tok.type;

		if (t == AX_TOK_LBRACKET) {
			int64_t range = 0, step = 0;
			int subq = 0;
			size_t bpos = p->tok.pos;

			if ((rv = advance(p)) != 0)
				return rv;
			if (p->tok.type == AX_TOK_NUMBER)
				return perr(p, p->tok.pos,
				    "missing unit character in duration");
			if (p->tok.type != AX_TOK_DURATION)
				return unexpected(
				    p, "in subquery or range selector", "duration");
			if ((rv = parse_duration_tok(p, &range)) != 0)
				return rv;
			if ((rv = advance(p)) != 0)
				return rv;
			if (p->tok.type == AX_TOK_COLON) {
				subq = 1;
				if ((rv = advance(p)) != 0)
					return rv;
				if (p->tok.type == AX_TOK_NUMBER)
					return perr(p, p->tok.pos,
					    "missing unit character in duration");
				if (p->tok.type == AX_TOK_DURATION) {
					if ((rv = parse_duration_tok(p, &step)) !=
					    0)
						return rv;
					if ((rv = advance(p)) != 0)
						return rv;
				}
			}
			if (p->tok.type != AX_TOK_RBRACKET)
				return unexpected(p,
				    subq ? "in subquery selector"
				         : "in range selector",
				    subq ? "\"]\"" : "\":\" or \"]\"");
			if (range <= 0)
				return perr(
				    p, bpos, "range must be greater than 0");
			if (!subq) {
				if (n->kind != AX_PQ_SELECTOR)
					return perr(p, bpos,
					    "ranges only allowed for vector "
					    "selectors");
				if (n->sel->range_ms > 0)
					return perr(p, bpos,
					    "unexpected \"[\" after range "
					    "selector");
				if (n->sel->offset_ms != 0 ||
				    n->sel->at_kind != AX_AT_NONE)
					return perr(p, n->pos,
					    "no offset modifiers allowed before "
					    "range");
				n->sel->range_ms = range;
				n->end = p->tok.pos + 1;
			} else {
				ax_pq_node_t *q;

				if (step < 0)
					return perr(
					    p, bpos, "step must be positive");
				if ((q = node_new(p, AX_PQ_SUBQUERY, n->pos)) ==
				    NULL)
					return AX_ENOMEM;
				q->a = n;
				q->range_ms = range;
				q->step_ms = step;
				q->end = p->tok.pos + 1;
				*np = q;
			}
			if ((rv = advance(p)) != 0)
				return rv;
			continue;
		}
		if (t == AX_TOK_OFFSET || t == AX_TOK_AT) {
			int64_t *off;
			ax_at_kind_t *kind;
			int64_t *at;

			if (n->kind == AX_PQ_SELECTOR) {
				off = &n->sel->offset_ms;
				kind = &n->sel->at_kind;
				at = &n->sel->at_ms;
			} else if (n->kind == AX_PQ_SUBQUERY) {
				off = &n->offset_ms;
				kind = &n->at_kind;
				at = &n->at_ms;
			} else {
				return perr(p, p->tok.pos,
				    "%s modifier must be preceded by an instant "
				    "vector selector or range vector selector "
				    "or a subquery",
				    t == AX_TOK_OFFSET ? "offset" : "@");
			}
			rv = t == AX_TOK_OFFSET ? parse_offset(p, off)
			                        : parse_at(p, kind, at);
			if (rv != 0)
				return rv;
			n->end = p->lx.pos;
			continue;
		}
		return 0;
	}
}

/* A unary expression or a primary with its postfix modifiers. */
static int parse_unary(parser_t *p, ax_pq_node_t **out)
{
	int rv;

	if (p->tok.type == AX_TOK_ADD || p->tok.type == AX_TOK_SUB) {
		ax_pq_node_t *n = node_new(p, AX_PQ_UNARY, p->tok.pos), *e;

		if (n == NULL)
			return AX_ENOMEM;
		*out = n;
		n->op = p->tok.type;
		if ((rv = advance(p)) != 0)
			return rv;
		/* unary +/- binds like *: only ^ binds tighter */
		if ((rv = parse_expr(p, bin_prec(AX_TOK_POW), &n->a)) != 0)
			return rv;
		e = n->a;
		n->end = e->end;
		if (e->kind == AX_PQ_NUMBER) {
			/* folded into the literal, as Prometheus does */
			if (n->op == AX_TOK_SUB)
				e->num = -e->num;
			e->pos = n->pos;
			n->a = NULL;
			free(n);
			*out = e;
		}
		return 0;
	}
	if ((rv = parse_primary(p, out)) != 0)
		return rv;
	return parse_postfix(p, out);
}

static int parse_expr(parser_t *p, int min_prec, ax_pq_node_t **out)
{
	ax_pq_node_t *lhs = NULL;
	int rv;

	if ((rv = parse_unary(p, &lhs)) != 0) {
		*out = lhs;
		return rv;
	}
	for (;;) {
		ax_tok_type_t op = p->tok.type;
		int prec = bin_prec(op);
		ax_pq_node_t *n;

		if (prec == 0 || prec < min_prec)
			break;
		if ((n = node_new(p, AX_PQ_BINARY, lhs->pos)) == NULL) {
			*out = lhs;
			return AX_ENOMEM;
		}
		n->op = op;
		n->op_pos = p->tok.pos;
		n->a = lhs;
		lhs = n;
		if ((rv = advance(p)) != 0)
			break;
		if (p->tok.type == AX_TOK_BOOL) {
			n->return_bool = 1;
			if ((rv = advance(p)) != 0)
				break;
		}
		if (p->tok.type == AX_TOK_ON || p->tok.type == AX_TOK_IGNORING) {
			n->on = p->tok.type == AX_TOK_ON;
			n->matching = 2; /* labels given */
			if ((rv = advance(p)) != 0)
				break;
			if ((rv = parse_label_list(p, "in grouping opts",
			         &n->labels, &n->n_labels)) != 0)
				break;
			if (p->tok.type == AX_TOK_GROUP_LEFT ||
			    p->tok.type == AX_TOK_GROUP_RIGHT) {
				n->card = p->tok.type == AX_TOK_GROUP_LEFT
				    ? AX_PQ_MANY_TO_ONE
				    : AX_PQ_ONE_TO_MANY;
				if ((rv = advance(p)) != 0)
					break;
				if (p->tok.type == AX_TOK_LPAREN &&
				    (rv = parse_label_list(p, "in grouping opts",
				         &n->include, &n->n_include)) != 0)
					break;
			}
		} else if (p->tok.type == AX_TOK_GROUP_LEFT ||
		    p->tok.type == AX_TOK_GROUP_RIGHT) {
			rv = unexpected(p, "in binary expression",
			    "\"on\" or \"ignoring\"");
			break;
		}
		if ((rv = parse_expr(p, op == AX_TOK_POW ? prec : prec + 1,
		         &n->b)) != 0)
			break;
		n->end = n->b->end;
	}
	*out = lhs;
	return rv;
}

/* ---- type checks (Prometheus' checkAST) ---- */

static int expect_type(parser_t *p, const ax_pq_node_t *n, ax_pq_type_t want,
    const char *ctx)
{
	ax_pq_type_t got = ax_pq_type(n);

	if (got != want)
		return perr(p, n->pos, "expected type %s in %s, got %s",
		    ax_pq_type_name(want), ctx, ax_pq_type_name(got));
	return 0;
}

static int check(parser_t *p, ax_pq_node_t *n)
{
	int rv;
	size_t i, j;

	switch (n->kind) {
	case AX_PQ_NUMBER:
	case AX_PQ_STRING:
	case AX_PQ_SELECTOR: return 0;
	case AX_PQ_PAREN: return check(p, n->a);
	case AX_PQ_SUBQUERY:
		if ((rv = check(p, n->a)) != 0)
			return rv;
		if (ax_pq_type(n->a) != AX_PQ_TVECTOR)
			return perr(p, n->pos,
			    "subquery is only allowed on instant vector, got %s "
			    "instead",
			    ax_pq_type_name(ax_pq_type(n->a)));
		return 0;
	case AX_PQ_UNARY: {
		ax_pq_type_t t;

		if ((rv = check(p, n->a)) != 0)
			return rv;
		t = ax_pq_type(n->a);
		if (t != AX_PQ_TSCALAR && t != AX_PQ_TVECTOR)
			return perr(p, n->pos,
			    "unary expression only allowed on expressions of "
			    "type scalar or instant vector, got \"%s\"",
			    ax_pq_type_name(t));
		return 0;
	}
	case AX_PQ_AGGREGATE: {
		char ctx[64];

		if ((rv = check(p, n->a)) != 0)
			return rv;
		if (n->param && (rv = check(p, n->param)) != 0)
			return rv;
		snprintf(ctx, sizeof(ctx), "aggregation expression");
		if ((rv = expect_type(p, n->a, AX_PQ_TVECTOR, ctx)) != 0)
			return rv;
		if (n->param)
			return expect_type(p, n->param,
			    n->op == AX_TOK_COUNT_VALUES ? AX_PQ_TSTRING
			                                 : AX_PQ_TSCALAR,
			    "aggregation parameter");
		return 0;
	}
	case AX_PQ_CALL: {
		const ax_pq_func_t *f = n->func;
		int nargs = f->n_args;
		char ctx[96];

		for (i = 0; i < n->n_args; i++)
			if ((rv = check(p, n->args[i])) != 0)
				return rv;
		if (f->variadic == 0) {
			if ((size_t)nargs != n->n_args)
				return perr(p, n->pos,
				    "expected %d argument(s) in call to \"%s\", "
				    "got %zu",
				    nargs, f->name, n->n_args);
		} else {
			int na = nargs - 1;

			if ((size_t)na > n->n_args)
				return perr(p, n->pos,
				    "expected at least %d argument(s) in call "
				    "to \"%s\", got %zu",
				    na, f->name, n->n_args);
			if (f->variadic > 0 &&
			    (size_t)(na + f->variadic) < n->n_args)
				return perr(p, n->pos,
				    "expected at most %d argument(s) in call to "
				    "\"%s\", got %zu",
				    na + f->variadic, f->name, n->n_args);
		}
		snprintf(ctx, sizeof(ctx), "call to function \"%s\"", f->name);
		for (i = 0; i < n->n_args; i++) {
			size_t k = i;

			if (k >= (size_t)nargs) {
				if (f->variadic != -1)
					break;
				k = (size_t)nargs - 1;
			}
			if ((rv = expect_type(p, n->args[i], f->args[k], ctx)) !=
			    0)
				return rv;
		}
		return 0;
	}
	case AX_PQ_BINARY: {
		ax_pq_type_t lt, rt;

		if ((rv = check(p, n->a)) != 0 || (rv = check(p, n->b)) != 0)
			return rv;
		lt = ax_pq_type(n->a);
		rt = ax_pq_type(n->b);
		if (n->return_bool && !is_comparison(n->op))
			return perr(p, n->op_pos,
			    "bool modifier can only be used on comparison "
			    "operators");
		if (is_comparison(n->op) && !n->return_bool &&
		    lt == AX_PQ_TSCALAR && rt == AX_PQ_TSCALAR)
			return perr(p, n->op_pos,
			    "comparisons between scalars must use BOOL "
			    "modifier");
		if (is_set_op(n->op) && n->card == AX_PQ_ONE_TO_ONE)
			n->card = AX_PQ_MANY_TO_MANY;
		if (n->on)
			for (i = 0; i < n->n_labels; i++)
				for (j = 0; j < n->n_include; j++)
					if (strcmp(n->labels[i],
					        n->include[j]) == 0)
						return perr(p, n->pos,
						    "label \"%s\" must not "
						    "occur in ON and GROUP "
						    "clause at once",
						    n->labels[i]);
		if (lt != AX_PQ_TSCALAR && lt != AX_PQ_TVECTOR)
			return perr(p, n->a->pos,
			    "binary expression must contain only scalar and "
			    "instant vector types");
		if (rt != AX_PQ_TSCALAR && rt != AX_PQ_TVECTOR)
			return perr(p, n->b->pos,
			    "binary expression must contain only scalar and "
			    "instant vector types");
		if (lt != AX_PQ_TVECTOR || rt != AX_PQ_TVECTOR) {
			if (n->n_labels > 0)
				return perr(p, n->pos,
				    "vector matching only allowed between "
				    "instant vectors");
			n->matching = 0;
		} else {
			n->matching = 1;
			if (is_set_op(n->op)) {
				if (n->card == AX_PQ_ONE_TO_MANY ||
				    n->card == AX_PQ_MANY_TO_ONE)
					return perr(p, n->pos,
					    "no grouping allowed for \"%s\" "
					    "operation",
					    ax_pq_op_str(n->op));
			}
		}
		if ((lt == AX_PQ_TSCALAR || rt == AX_PQ_TSCALAR) &&
		    is_set_op(n->op))
			return perr(p, n->pos,
			    "set operator \"%s\" not allowed in binary scalar "
			    "expression",
			    ax_pq_op_str(n->op));
		return 0;
	}
	}
	return 0;
}

int ax_pq_parse(const char *input, ax_pq_node_t **out, ax_err_t *err)
{
	parser_t p;
	ax_pq_node_t *n = NULL;
	int rv;

	memset(&p, 0, sizeof(p));
	p.in = input;
	p.err = err;
	ax_lex_init(&p.lx, input, strlen(input));
	if ((rv = advance(&p)) != 0)
		return rv;
	if (p.tok.type == AX_TOK_EOF)
		return perr(&p, 0, "no expression found in input");
	rv = parse_expr(&p, 1, &n);
	if (rv == 0 && p.tok.type != AX_TOK_EOF)
		rv = unexpected(&p, NULL, NULL);
	if (rv == 0)
		rv = check(&p, n);
	if (rv != 0) {
		ax_pq_free(n);
		return p.failed ? rv : AX_EPARSE;
	}
	*out = n;
	return 0;
}

/* ---- printer ---- */

static void put_list(ax_buf_t *b, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			ax_buf_puts(b, ", ");
		ax_buf_puts(b, v[i]);
	}
}

static void put_at_offset(
    ax_buf_t *b, ax_at_kind_t kind, int64_t at_ms, int64_t offset_ms)
{
	char d[64];

	if (kind == AX_AT_TIMESTAMP)
		ax_buf_printf(b, " @ %.3f", (double)at_ms / 1000.0);
	else if (kind == AX_AT_START)
		ax_buf_puts(b, " @ start()");
	else if (kind == AX_AT_END)
		ax_buf_puts(b, " @ end()");
	if (offset_ms > 0) {
		ax_duration_format(offset_ms, d, sizeof(d));
		ax_buf_printf(b, " offset %s", d);
	} else if (offset_ms < 0) {
		ax_duration_format(-offset_ms, d, sizeof(d));
		ax_buf_printf(b, " offset -%s", d);
	}
}

void ax_pq_format(const ax_pq_node_t *n, ax_buf_t *b)
{
	char d[64];
	size_t i;

	switch (n->kind) {
	case AX_PQ_NUMBER:
		ax_fmt_double(d, sizeof(d), n->num);
		ax_buf_puts(b, d);
		return;
	case AX_PQ_STRING: ax_pq_quote(b, n->str); return;
	case AX_PQ_SELECTOR: ax_selector_format(n->sel, b); return;
	case AX_PQ_PAREN:
		ax_buf_putc(b, '(');
		ax_pq_format(n->a, b);
		ax_buf_putc(b, ')');
		return;
	case AX_PQ_UNARY:
		ax_buf_puts(b, n->op == AX_TOK_SUB ? "-" : "+");
		ax_pq_format(n->a, b);
		return;
	case AX_PQ_SUBQUERY:
		ax_pq_format(n->a, b);
		ax_duration_format(n->range_ms, d, sizeof(d));
		ax_buf_printf(b, "[%s:", d);
		if (n->step_ms > 0) {
			ax_duration_format(n->step_ms, d, sizeof(d));
			ax_buf_puts(b, d);
		}
		ax_buf_putc(b, ']');
		put_at_offset(b, n->at_kind, n->at_ms, n->offset_ms);
		return;
	case AX_PQ_CALL:
		ax_buf_printf(b, "%s(", n->func->name);
		for (i = 0; i < n->n_args; i++) {
			if (i)
				ax_buf_puts(b, ", ");
			ax_pq_format(n->args[i], b);
		}
		ax_buf_putc(b, ')');
		return;
	case AX_PQ_AGGREGATE:
		ax_buf_puts(b, ax_pq_op_str(n->op));
		if (n->without || n->n_labels > 0) {
			ax_buf_puts(b, n->without ? " without (" : " by (");
			put_list(b, n->labels, n->n_labels);
			ax_buf_puts(b, ") ");
		}
		ax_buf_putc(b, '(');
		if (n->param) {
			ax_pq_format(n->param, b);
			ax_buf_puts(b, ", ");
		}
		ax_pq_format(n->a, b);
		ax_buf_putc(b, ')');
		return;
	case AX_PQ_BINARY:
		ax_pq_format(n->a, b);
		ax_buf_printf(b, " %s", ax_pq_op_str(n->op));
		if (n->return_bool)
			ax_buf_puts(b, " bool");
		if (n->matching && (n->n_labels > 0 || n->on)) {
			ax_buf_puts(b, n->on ? " on (" : " ignoring (");
			put_list(b, n->labels, n->n_labels);
			ax_buf_putc(b, ')');
			if (n->card == AX_PQ_MANY_TO_ONE ||
			    n->card == AX_PQ_ONE_TO_MANY) {
				ax_buf_puts(b, n->card == AX_PQ_MANY_TO_ONE
				        ? " group_left ("
				        : " group_right (");
				put_list(b, n->include, n->n_include);
				ax_buf_putc(b, ')');
			}
		}
		ax_buf_putc(b, ' ');
		ax_pq_format(n->b, b);
		return;
	}
}
