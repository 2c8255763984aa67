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

static int parse_at(parser_t *p, ax_selector_t *s)
{
	int neg = 0, rv;
	size_t at_pos = p->tok.pos;

	if (s->at_kind != AX_AT_NONE)
		return perr(
		    p, at_pos, "@ <timestamp> may not be set multiple times");
	if ((rv = advance(p)) != 0)
		return rv;
	if (p->tok.type == AX_TOK_START || p->tok.type == AX_TOK_END) {
		s->at_kind =
		    p->tok.type == AX_TOK_START ? AX_AT_START : AX_AT_END;
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
		s->at_kind = AX_AT_TIMESTAMP;
		s->at_ms = (int64_t)llround(f * 1000.0);
	}
	return advance(p);
}

static int parse_offset(parser_t *p, ax_selector_t *s, int *seen)
{
	int neg = 0, rv;
	size_t pos = p->tok.pos;

	if (*seen)
		return perr(p, pos, "offset may not be set multiple times");
	*seen = 1;
	if ((rv = advance(p)) != 0)
		return rv;
	if (p->tok.type == AX_TOK_SUB) {
		neg = 1;
		if ((rv = advance(p)) != 0)
			return rv;
	}
	if (p->tok.type != AX_TOK_DURATION)
		return unexpected(p, "in offset", "duration");
	if ((rv = parse_duration_tok(p, &s->offset_ms)) != 0)
		return rv;
	if (neg)
		s->offset_ms = -s->offset_ms;
	return advance(p);
}

static int is_name_tok(ax_tok_type_t t)
{
	return t == AX_TOK_IDENT || t == AX_TOK_METRIC_IDENT ||
	    ax_tok_is_keyword(t);
}

int ax_selector_parse(const char *input, ax_selector_t **out, ax_err_t *err)
{
	parser_t p;
	ax_selector_t *s;
	int rv, offset_seen = 0;
	size_t i;

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
	if (is_name_tok(p.tok.type)) {
		ax_matcher_t *m;
		ax_err_t e;

		s->name = strndup(p.tok.text, p.tok.len);
		if (s->name == NULL ||
		    ax_matcher_new(
		        AX_MATCH_EQUAL, AX_METRIC_NAME, s->name, &m, &e) != 0) {
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			goto fail;
		}
		if (add_matcher(s, m) != 0) {
			ax_matcher_free(m);
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rv = advance(&p)) != 0)
			goto fail;
	}
	if (p.tok.type == AX_TOK_LBRACE) {
		if ((rv = parse_matchers(&p, s)) != 0)
			goto fail;
	} else if (s->name == NULL) {
		rv = unexpected(&p, NULL, "metric name or \"{\"");
		goto fail;
	}
	/* Prometheus' checks on the selector */
	if (s->name) {
		for (i = 1; i < s->n_matchers; i++) {
			if (strcmp(s->matchers[i]->name, AX_METRIC_NAME) == 0) {
				rv = perr(&p, s->pos,
				    "metric name must not be set twice: \"%s\" "
				    "or \"%s\"",
				    s->name, s->matchers[i]->value);
				goto fail;
			}
		}
	}
	for (i = 0; i < s->n_matchers; i++)
		if (!ax_matcher_matches_empty(s->matchers[i]))
			break;
	if (i == s->n_matchers) {
		rv = perr(&p, s->pos,
		    "vector selector must contain at least one non-empty "
		    "matcher");
		goto fail;
	}
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
			rv = parse_offset(&p, s, &offset_seen);
		else if (p.tok.type == AX_TOK_AT)
			rv = parse_at(&p, s);
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
