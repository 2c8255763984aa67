/*
 * ax_promql_lex: PromQL tokens (see ax_promql_lex.h).
 */
#include "ax_promql_lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *word;
	ax_tok_type_t type;
} keywords[] = {
    {"and", AX_TOK_AND},
    {"or", AX_TOK_OR},
    {"unless", AX_TOK_UNLESS},
    {"atan2", AX_TOK_ATAN2},
    {"sum", AX_TOK_SUM},
    {"avg", AX_TOK_AVG},
    {"count", AX_TOK_COUNT},
    {"min", AX_TOK_MIN},
    {"max", AX_TOK_MAX},
    {"group", AX_TOK_GROUP},
    {"stddev", AX_TOK_STDDEV},
    {"stdvar", AX_TOK_STDVAR},
    {"topk", AX_TOK_TOPK},
    {"bottomk", AX_TOK_BOTTOMK},
    {"count_values", AX_TOK_COUNT_VALUES},
    {"quantile", AX_TOK_QUANTILE},
    {"offset", AX_TOK_OFFSET},
    {"by", AX_TOK_BY},
    {"without", AX_TOK_WITHOUT},
    {"on", AX_TOK_ON},
    {"ignoring", AX_TOK_IGNORING},
    {"group_left", AX_TOK_GROUP_LEFT},
    {"group_right", AX_TOK_GROUP_RIGHT},
    {"bool", AX_TOK_BOOL},
    {"start", AX_TOK_START},
    {"end", AX_TOK_END},
};

void ax_lex_init(ax_lexer_t *lx, const char *input, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->in = input;
	lx->len = len;
}

int ax_tok_is_keyword(ax_tok_type_t t)
{
	return t >= AX_TOK_AND && t < AX_TOK__COUNT;
}

int ax_tok_is_aggregator(ax_tok_type_t t)
{
	return t >= AX_TOK_SUM && t <= AX_TOK_QUANTILE;
}

const char *ax_tok_name(ax_tok_type_t t)
{
	static const char *names[AX_TOK__COUNT] = {
	    [AX_TOK_EOF] = "end of input",
	    [AX_TOK_ERROR] = "error",
	    [AX_TOK_IDENT] = "identifier",
	    [AX_TOK_METRIC_IDENT] = "metric identifier",
	    [AX_TOK_NUMBER] = "number",
	    [AX_TOK_DURATION] = "duration",
	    [AX_TOK_STRING] = "string",
	    [AX_TOK_LBRACE] = "\"{\"",
	    [AX_TOK_RBRACE] = "\"}\"",
	    [AX_TOK_LPAREN] = "\"(\"",
	    [AX_TOK_RPAREN] = "\")\"",
	    [AX_TOK_LBRACKET] = "\"[\"",
	    [AX_TOK_RBRACKET] = "\"]\"",
	    [AX_TOK_COMMA] = "\",\"",
	    [AX_TOK_COLON] = "\":\"",
	    [AX_TOK_AT] = "\"@\"",
	    [AX_TOK_ASSIGN] = "\"=\"",
	    [AX_TOK_EQLC] = "\"==\"",
	    [AX_TOK_NEQ] = "\"!=\"",
	    [AX_TOK_EQL_REGEX] = "\"=~\"",
	    [AX_TOK_NEQ_REGEX] = "\"!~\"",
	    [AX_TOK_LSS] = "\"<\"",
	    [AX_TOK_LTE] = "\"<=\"",
	    [AX_TOK_GTR] = "\">\"",
	    [AX_TOK_GTE] = "\">=\"",
	    [AX_TOK_ADD] = "\"+\"",
	    [AX_TOK_SUB] = "\"-\"",
	    [AX_TOK_MUL] = "\"*\"",
	    [AX_TOK_DIV] = "\"/\"",
	    [AX_TOK_MOD] = "\"%\"",
	    [AX_TOK_POW] = "\"^\"",
	};
	size_t i;

	if (t < AX_TOK__COUNT && names[t])
		return names[t];
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].type == t)
			return keywords[i].word;
	return "token";
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static ax_tok_t mk(ax_lexer_t *lx, ax_tok_type_t t, size_t start)
{
	ax_tok_t k;

	k.type = t;
	k.pos = start;
	k.len = lx->pos - start;
	k.text = lx->in + start;
	return k;
}

static ax_tok_t err_tok(
    ax_lexer_t *lx, size_t start, const char *fmt, const char *arg)
{
	snprintf(lx->errmsg, sizeof(lx->errmsg), fmt, arg);
	return mk(lx, AX_TOK_ERROR, start);
}

/* Duration units, as model.ParseDuration: y w d h m s ms */
static int scan_duration(const char *s, size_t n, size_t *used)
{
	size_t i = 0;
	int any = 0;

	while (i < n && is_digit(s[i])) {
		while (i < n && is_digit(s[i]))
			i++;
		if (i + 1 < n && s[i] == 'm' && s[i + 1] == 's')
			i += 2;
		else if (i < n && strchr("ywdhms", s[i]) && s[i] != '\0')
			i++;
		else
			return 0;
		any = 1;
	}
	*used = i;
	return any;
}

static ax_tok_t lex_number(ax_lexer_t *lx, size_t start)
{
	const char *s = lx->in + start;
	size_t n = lx->len - start, i = 0, dused = 0;

	/* duration first: digits followed by a unit */
	if (scan_duration(s, n, &dused) && dused > 0 &&
	    (dused == n ||
	        !(is_alpha(s[dused]) || is_digit(s[dused]) ||
	            s[dused] == '.'))) {
		lx->pos = start + dused;
		return mk(lx, AX_TOK_DURATION, start);
	}
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		i = 2;
		while (i < n && strchr("0123456789abcdefABCDEF", s[i]) && s[i])
			i++;
	} else {
		while (i < n && is_digit(s[i]))
			i++;
		if (i < n && s[i] == '.') {
			i++;
			while (i < n && is_digit(s[i]))
				i++;
		}
		if (i < n && (s[i] == 'e' || s[i] == 'E')) {
			size_t j = i + 1;

			if (j < n && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < n && is_digit(s[j])) {
				i = j;
				while (i < n && is_digit(s[i]))
					i++;
			}
		}
	}
	if (i < n && (is_alpha(s[i]) || is_digit(s[i]))) {
		char bad[64];
		size_t bl = i + 1 < sizeof(bad) ? i + 1 : sizeof(bad) - 1;

		memcpy(bad, s, bl);
		bad[bl] = '\0';
		lx->pos = start + i + 1;
		return err_tok(
		    lx, start, "bad number or duration syntax: \"%s\"", bad);
	}
	lx->pos = start + i;
	return mk(lx, AX_TOK_NUMBER, start);
}

static ax_tok_t lex_string(ax_lexer_t *lx, size_t start, char q)
{
	size_t i = start + 1;

	while (i < lx->len) {
		char c = lx->in[i];

		if (q != '`' && c == '\\') {
			i += 2;
			continue;
		}
		if (q != '`' && c == '\n') {
			lx->pos = i;
			return err_tok(
			    lx, start, "unterminated quoted string%s", "");
		}
		if (c == q) {
			lx->pos = i + 1;
			return mk(lx, AX_TOK_STRING, start);
		}
		i++;
	}
	lx->pos = lx->len;
	return err_tok(lx, start,
	    q == '`' ? "unterminated raw string%s"
	             : "unterminated quoted string%s",
	    "");
}

ax_tok_t ax_lex_next(ax_lexer_t *lx)
{
	size_t start;
	char c, d;

again:
	while (lx->pos < lx->len && strchr(" \t\n\r", lx->in[lx->pos]))
		lx->pos++;
	if (lx->pos < lx->len && lx->in[lx->pos] == '#') {
		while (lx->pos < lx->len && lx->in[lx->pos] != '\n')
			lx->pos++;
		goto again;
	}
	start = lx->pos;
	if (lx->pos >= lx->len)
		return mk(lx, AX_TOK_EOF, start);
	c = lx->in[lx->pos];
	d = lx->pos + 1 < lx->len ? lx->in[lx->pos + 1] : '\0';
	lx->pos++;
	switch (c) {
	case '{': lx->brace_depth++; return mk(lx, AX_TOK_LBRACE, start);
	case '}':
		if (lx->brace_depth > 0)
			lx->brace_depth--;
		return mk(lx, AX_TOK_RBRACE, start);
	case '(': lx->paren_depth++; return mk(lx, AX_TOK_LPAREN, start);
	case ')':
		if (lx->paren_depth > 0)
			lx->paren_depth--;
		return mk(lx, AX_TOK_RPAREN, start);
	case '[': lx->bracket_depth++; return mk(lx, AX_TOK_LBRACKET, start);
	case ']':
		if (lx->bracket_depth > 0)
			lx->bracket_depth--;
		return mk(lx, AX_TOK_RBRACKET, start);
	case ',': return mk(lx, AX_TOK_COMMA, start);
	case ':': return mk(lx, AX_TOK_COLON, start);
	case '@': return mk(lx, AX_TOK_AT, start);
	case '+': return mk(lx, AX_TOK_ADD, start);
	case '-': return mk(lx, AX_TOK_SUB, start);
	case '*': return mk(lx, AX_TOK_MUL, start);
	case '/': return mk(lx, AX_TOK_DIV, start);
	case '%': return mk(lx, AX_TOK_MOD, start);
	case '^': return mk(lx, AX_TOK_POW, start);
	case '=':
		if (d == '=') {
			lx->pos++;
			return mk(lx, AX_TOK_EQLC, start);
		}
		if (d == '~') {
			lx->pos++;
			return mk(lx, AX_TOK_EQL_REGEX, start);
		}
		return mk(lx, AX_TOK_ASSIGN, start);
	case '!':
		if (d == '=') {
			lx->pos++;
			return mk(lx, AX_TOK_NEQ, start);
		}
		if (d == '~') {
			lx->pos++;
			return mk(lx, AX_TOK_NEQ_REGEX, start);
		}
		return err_tok(lx, start, "unexpected character after '!': %s",
		    d ? (char[]){'\'', d, '\'', 0} : "end of input");
	case '<':
		if (d == '=') {
			lx->pos++;
			return mk(lx, AX_TOK_LTE, start);
		}
		return mk(lx, AX_TOK_LSS, start);
	case '>':
		if (d == '=') {
			lx->pos++;
			return mk(lx, AX_TOK_GTE, start);
		}
		return mk(lx, AX_TOK_GTR, start);
	case '"':
	case '\'':
	case '`': return lex_string(lx, start, c);
	default: break;
	}
	if (is_digit(c) || (c == '.' && is_digit(d))) {
		if (lx->brace_depth > 0) {
			char ch[2] = {c, '\0'};

			return err_tok(lx, start,
			    "unexpected character inside braces: '%s'", ch);
		}
		return lex_number(lx, start);
	}
	if (is_alpha(c) || c == ':') {
		int colon = c == ':';
		size_t i, wl;

		while (lx->pos < lx->len &&
		    (is_alpha(lx->in[lx->pos]) || is_digit(lx->in[lx->pos]) ||
		        lx->in[lx->pos] == ':')) {
			if (lx->in[lx->pos] == ':')
				colon = 1;
			lx->pos++;
		}
		wl = lx->pos - start;
		if (colon) {
			if (lx->brace_depth > 0)
				return err_tok(lx, start,
				    "unexpected character in label name: '%s'",
				    ":");
			return mk(lx, AX_TOK_METRIC_IDENT, start);
		}
		/* Inf and NaN are numbers, case-insensitively */
		if ((wl == 3 &&
		        (strncasecmp(lx->in + start, "inf", 3) == 0 ||
		            strncasecmp(lx->in + start, "nan", 3) == 0)) &&
		    lx->brace_depth == 0)
			return mk(lx, AX_TOK_NUMBER, start);
		if (lx->brace_depth == 0) {
			for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]);
			     i++)
				if (strlen(keywords[i].word) == wl &&
				    strncasecmp(keywords[i].word,
				        lx->in + start, wl) == 0 &&
				    /* keywords are case-insensitive in PromQL
				     * only for aggregators and operators;
				     * start/end are lowercase */
				    1)
					return mk(lx, keywords[i].type, start);
		}
		return mk(lx, AX_TOK_IDENT, start);
	}
	{
		char ch[8];

		snprintf(ch, sizeof(ch), "%c", c);
		return err_tok(lx, start, "unexpected character: '%s'", ch);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int ax_pq_unquote(const char *s, size_t len, char **out, ax_err_t *err)
{
	char q, *o, *w;
	size_t i;

	if (len < 2 || s[0] != s[len - 1] || !strchr("\"'`", s[0]))
		return ax_err_set(err, AX_EPARSE, "invalid quoted string");
	q = s[0];
	o = malloc(len);
	if (o == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	w = o;
	for (i = 1; i < len - 1; i++) {
		char c = s[i];

		if (q == '`' || c != '\\') {
			*w++ = c;
			continue;
		}
		if (++i >= len - 1)
			goto bad;
		c = s[i];
		switch (c) {
		case 'a': *w++ = '\a'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'v': *w++ = '\v'; break;
		case '\\': *w++ = '\\'; break;
		case '\'':
		case '"':
			if (c != q)
				goto bad;
			*w++ = c;
			break;
		case 'x': {
			int h, l;

			if (i + 2 >= len - 1 + 1 ||
			    (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0)
				goto bad;
			*w++ = (char)(h * 16 + l);
			i += 2;
			break;
		}
		case 'u':
		case 'U': {
			int nd = c == 'u' ? 4 : 8, k;
			uint32_t cp = 0;

			if (i + (size_t)nd >= len - 1 + 1)
				goto bad;
			for (k = 1; k <= nd; k++) {
				int h = hexval(s[i + (size_t)k]);

				if (h < 0)
					goto bad;
				cp = cp * 16 + (uint32_t)h;
			}
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				goto bad;
			w += put_utf8(w, cp);
			i += (size_t)nd;
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				int v = 0, k;

				for (k = 0; k < 3; k++) {
					if (i + (size_t)k >= len - 1 ||
					    s[i + (size_t)k] < '0' ||
					    s[i + (size_t)k] > '7')
						goto bad;
					v = v * 8 + (s[i + (size_t)k] - '0');
				}
				if (v > 255)
					goto bad;
				*w++ = (char)v;
				i += 2;
				break;
			}
			goto bad;
		}
	}
	*w = '\0';
	*out = o;
	return 0;
bad:
	free(o);
	return ax_err_set(err, AX_EPARSE,
	    "invalid escape sequence in string %.*s",
	    (int)(len > 60 ? 60 : len), s);
}

void ax_pq_pos(const char *input, size_t pos, char *out, size_t cap)
{
	size_t i, line = 1, col = 1;

	for (i = 0; i < pos && input[i]; i++) {
		if (input[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(out, cap, "%zu:%zu", line, col);
}
