/*
 * ax_amatch: Alertmanager 0.25 label matchers (see ax_amatch.h).
 *
 * The parser follows Alertmanager's pkg/labels rules: split on commas
 * outside quotes, then each piece is
 *     ws* name ws* op ws* value ws*
 * with the value unquoted and unescaped as described in the header.
 */
#include "ax_amatch.h"

#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
	/* Go's \s: [\t\n\f\r ] */
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int name_first(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static int name_rest(char c)
{
	return name_first(c) || (c >= '0' && c <= '9');
}

const char *ax_amatch_op(ax_amatch_type_t t)
{
	switch (t) {
	case AX_AM_EQ: return "=";
	case AX_AM_NE: return "!=";
	case AX_AM_RE: return "=~";
	case AX_AM_NRE: return "!~";
	}
	return "?";
}

int ax_amatchers_add(ax_amatchers_t *ms, ax_amatch_type_t type,
    const char *name, const char *value, ax_err_t *err)
{
	ax_amatcher_t m = {0}, *nv;
	int rv;

	m.type = type;
	m.name = strdup(name);
	m.value = strdup(value);
	if (m.name == NULL || m.value == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto fail;
	}
	if (type == AX_AM_RE || type == AX_AM_NRE) {
		rv = ax_regex_compile(value, &m.re, err);
		if (rv != 0)
			goto fail;
	}
	nv = realloc(ms->v, (ms->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto fail;
	}
	ms->v = nv;
	ms->v[ms->n++] = m;
	return 0;
fail:
	free(m.name);
	free(m.value);
	ax_regex_free(m.re);
	return rv;
}

int ax_amatcher_parse(ax_amatchers_t *ms, const char *s, ax_err_t *err)
{
	const char *p = s, *name, *raw, *end;
	size_t name_len, raw_len, i;
	ax_amatch_type_t type;
	ax_buf_t val = AX_BUF_INIT;
	char *nm;
	int quoted = 0, rv;

	while (is_ws(*p))
		p++;
	name = p;
	if (!name_first(*p))
		goto bad_format;
	while (name_rest(*p))
		p++;
	name_len = (size_t)(p - name);
	while (is_ws(*p))
		p++;
	if (p[0] == '=' && p[1] == '~')
		type = AX_AM_RE, p += 2;
	else if (p[0] == '=')
		type = AX_AM_EQ, p += 1;
	else if (p[0] == '!' && p[1] == '=')
		type = AX_AM_NE, p += 2;
	else if (p[0] == '!' && p[1] == '~')
		type = AX_AM_NRE, p += 2;
	else
		goto bad_format;
	while (is_ws(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_ws(end[-1]))
		end--;
	raw = p;
	raw_len = (size_t)(end - p);
	if (raw_len > 0 && raw[0] == '"') {
		raw++;
		raw_len--;
		quoted = 1;
	}
	if (!ax_utf8_valid(raw, raw_len))
		return ax_err_set(err, AX_EPARSE,
		    "matcher value not valid UTF-8: %.*s", (int)(end - p), p);
	for (i = 0; i < raw_len; i++) {
		char c = raw[i];

		if (c == '\\') {
			if (i + 1 < raw_len) {
				char n = raw[++i];

				if (n == 'n')
					ax_buf_putc(&val, '\n');
				else if (n == '"' || n == '\\')
					ax_buf_putc(&val, n);
				else {
					ax_buf_putc(&val, '\\');
					ax_buf_putc(&val, n);
				}
			} else
				ax_buf_putc(&val, '\\');
		} else if (c == '"') {
			if (!quoted || i + 1 < raw_len)
				goto bad_quote;
			quoted = 0;
		} else
			ax_buf_putc(&val, c);
	}
	if (quoted)
		goto bad_quote;
	if (!ax_buf_ok(&val) || (nm = strndup(name, name_len)) == NULL) {
		ax_buf_fini(&val);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	rv = ax_amatchers_add(ms, type, nm, val.p ? val.p : "", err);
	free(nm);
	ax_buf_fini(&val);
	return rv;
bad_quote:
	ax_buf_fini(&val);
	return ax_err_set(err, AX_EPARSE,
	    "matcher value contains unescaped double quote: %.*s",
	    (int)(end - p), p);
bad_format:
	return ax_err_set(err, AX_EPARSE, "bad matcher format: %s", s);
}

int ax_amatchers_parse(ax_amatchers_t *ms, const char *s, ax_err_t *err)
{
	size_t len = strlen(s), i, start;
	int in_quotes = 0, escaped = 0, rv = 0;
	char *tok;

	if (len > 0 && s[0] == '{')
		s++, len--;
	if (len > 0 && s[len - 1] == '}')
		len--;
	start = 0;
	for (i = 0; i <= len && rv == 0; i++) {
		int last = i == len;
		char c = last ? ',' : s[i];

		if (!last) {
			if (c == ',') {
				if (in_quotes)
					continue;
			} else if (c == '"') {
				if (!escaped)
					in_quotes = !in_quotes;
				else
					escaped = 0;
				continue;
			} else if (c == '\\') {
				escaped = !escaped;
				continue;
			} else {
				escaped = 0;
				continue;
			}
		}
		tok = strndup(s + start, i - start);
		if (tok == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		if (last) {
			/* The final piece counts only when not blank. */
			const char *q = tok;

			while (is_ws(*q))
				q++;
			if (*q == '\0') {
				free(tok);
				break;
			}
		}
		rv = ax_amatcher_parse(ms, tok, err);
		free(tok);
		start = i + 1;
	}
	return rv;
}

void ax_amatchers_free(ax_amatchers_t *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->n; i++) {
		free(ms->v[i].name);
		free(ms->v[i].value);
		ax_regex_free(ms->v[i].re);
	}
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}

static int cmp_matcher(const void *a, const void *b)
{
	const ax_amatcher_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->value, y->value);
	if (c == 0)
		c = (int)x->type - (int)y->type;
	return c;
}

void ax_amatchers_sort(ax_amatchers_t *ms)
{
	if (ms->n > 1)
		qsort(ms->v, ms->n, sizeof(*ms->v), cmp_matcher);
}

int ax_amatcher_matches(const ax_amatcher_t *m, const char *value)
{
	if (value == NULL)
		value = "";
	switch (m->type) {
	case AX_AM_EQ: return strcmp(value, m->value) == 0;
	case AX_AM_NE: return strcmp(value, m->value) != 0;
	case AX_AM_RE: return ax_regex_match(m->re, value, strlen(value)) == 1;
	case AX_AM_NRE: return ax_regex_match(m->re, value, strlen(value)) != 1;
	}
	return 0;
}

int ax_amatchers_match(const ax_amatchers_t *ms, const ax_labels_t *ls)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (!ax_amatcher_matches(&ms->v[i],
		        ls ? ax_labels_get(ls, ms->v[i].name) : NULL))
			return 0;
	return 1;
}

void ax_amatcher_format(const ax_amatcher_t *m, ax_buf_t *b)
{
	ax_buf_puts(b, m->name);
	ax_buf_puts(b, ax_amatch_op(m->type));
	ax_buf_putc(b, '"');
	ax_buf_put_escaped(b, m->value, strlen(m->value), 1);
	ax_buf_putc(b, '"');
}

void ax_amatchers_format(const ax_amatchers_t *ms, ax_buf_t *b)
{
	size_t i;

	ax_buf_putc(b, '{');
	for (i = 0; i < ms->n; i++) {
		if (i)
			ax_buf_putc(b, ',');
		ax_amatcher_format(&ms->v[i], b);
	}
	ax_buf_putc(b, '}');
}
