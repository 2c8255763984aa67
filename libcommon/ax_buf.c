/*
 * ax_buf: growable byte buffer (see ax_buf.h).
 */
#include "ax_buf.h"
#include "ax_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ax_buf_init(ax_buf_t *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
}

void ax_buf_fini(ax_buf_t *b)
{
	if (b == NULL)
		return;
	free(b->p);
	ax_buf_init(b);
}

void ax_buf_reset(ax_buf_t *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p)
		b->p[0] = '\0';
}

int ax_buf_ok(const ax_buf_t *b)
{
	return !b->oom;
}

int ax_buf_reserve(ax_buf_t *b, size_t n)
{
	size_t need, ncap;
	char *np;

	if (b->oom)
		return AX_ENOMEM;
	if (n > SIZE_MAX - b->len - 1) {
		b->oom = 1;
		return AX_ENOMEM;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	np = realloc(b->p, ncap);
	if (np == NULL) {
		b->oom = 1;
		return AX_ENOMEM;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void ax_buf_append(ax_buf_t *b, const void *data, size_t n)
{
	if (ax_buf_reserve(b, n) != 0)
		return;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ax_buf_puts(ax_buf_t *b, const char *s)
{
	ax_buf_append(b, s, strlen(s));
}

void ax_buf_putc(ax_buf_t *b, char c)
{
	ax_buf_append(b, &c, 1);
}

int ax_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 16;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return AX_ENOMEM;
		nc *= 2;
	}
	if (elem != 0 && nc > SIZE_MAX / elem)
		return AX_ENOMEM;
	np = realloc(*p, nc * elem);
	if (np == NULL)
		return AX_ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

void ax_buf_put_be32(ax_buf_t *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	ax_buf_append(b, x, 4);
}

void ax_buf_put_be64(ax_buf_t *b, uint64_t v)
{
	ax_buf_put_be32(b, (uint32_t)(v >> 32));
	ax_buf_put_be32(b, (uint32_t)v);
}

void ax_buf_put_uvarint(ax_buf_t *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;

	while (v >= 0x80) {
		x[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (uint8_t)v;
	ax_buf_append(b, x, n);
}

void ax_buf_put_varint(ax_buf_t *b, int64_t v)
{
	uint64_t u = (uint64_t)v << 1;

	if (v < 0)
		u = ~u;
	ax_buf_put_uvarint(b, u);
}

void ax_buf_put_uvstr(ax_buf_t *b, const char *s)
{
	size_t n = strlen(s);

	ax_buf_put_uvarint(b, n);
	ax_buf_append(b, s, n);
}

void ax_buf_vprintf(ax_buf_t *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (ax_buf_reserve(b, (size_t)n) != 0)
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void ax_buf_printf(ax_buf_t *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ax_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Go's strconv.FormatFloat(v, fmt, -1, 64) for fmt 'g' or 'f': the
 * shortest digits that round-trip, laid out in exponent form ('g' only,
 * when the decimal exponent is below -4 or at least 6) or as a plain
 * decimal. */
static int fmt_double_go(char *out, size_t cap, double v, char fmt)
{
	char ebuf[40], digits[40], res[400];
	int prec, nd = 0, neg = v < 0, exp10, ri = 0, i;
	char *p, *e;

	if (isnan(v))
		return snprintf(out, cap, "NaN");
	if (isinf(v))
		return snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return snprintf(out, cap, signbit(v) ? "-0" : "0");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(ebuf, sizeof(ebuf), "%.*e", prec - 1, v);
		if (strtod(ebuf, NULL) == v)
			break;
	}
	p = ebuf;
	if (*p == '-')
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	e = strchr(ebuf, 'e');
	exp10 = e ? atoi(e + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (fmt == 'g' && (exp10 < -4 || exp10 >= 6))
		return snprintf(out, cap, "%s%c%s%se%c%02d", neg ? "-" : "",
		    digits[0], nd > 1 ? "." : "", nd > 1 ? digits + 1 : "",
		    exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
	if (neg)
		res[ri++] = '-';
	if (exp10 < 0) {
		res[ri++] = '0';
		res[ri++] = '.';
		for (i = -1; i > exp10; i--)
			res[ri++] = '0';
		for (i = 0; i < nd; i++)
			res[ri++] = digits[i];
	} else {
		for (i = 0; i <= exp10; i++)
			res[ri++] = i < nd ? digits[i] : '0';
		if (nd > exp10 + 1) {
			res[ri++] = '.';
			for (i = exp10 + 1; i < nd; i++)
				res[ri++] = digits[i];
		}
	}
	res[ri] = '\0';
	return snprintf(out, cap, "%s", res);
}

int ax_fmt_double(char *out, size_t cap, double v)
{
	return fmt_double_go(out, cap, v, 'g');
}

int ax_fmt_double_f(char *out, size_t cap, double v)
{
	return fmt_double_go(out, cap, v, 'f');
}

void ax_buf_put_double(ax_buf_t *b, double v)
{
	char tmp[64];
	int n = ax_fmt_double(tmp, sizeof(tmp), v);

	ax_buf_append(b, tmp, (size_t)n);
}

void ax_buf_put_escaped(ax_buf_t *b, const char *s, size_t n, int escape_quote)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		const char *rep = NULL;

		if (s[i] == '\\')
			rep = "\\\\";
		else if (s[i] == '\n')
			rep = "\\n";
		else if (s[i] == '"' && escape_quote)
			rep = "\\\"";
		if (rep) {
			ax_buf_append(b, s + start, i - start);
			ax_buf_puts(b, rep);
			start = i + 1;
		}
	}
	ax_buf_append(b, s + start, n - start);
}

void ax_buf_put_json_str(ax_buf_t *b, const char *s)
{
	ax_buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': ax_buf_puts(b, "\\\""); break;
		case '\\': ax_buf_puts(b, "\\\\"); break;
		case '\n': ax_buf_puts(b, "\\n"); break;
		case '\r': ax_buf_puts(b, "\\r"); break;
		case '\t': ax_buf_puts(b, "\\t"); break;
		default:
			if (c < 0x20)
				ax_buf_printf(b, "\\u%04x", c);
			else
				ax_buf_putc(b, (char)c);
		}
	}
	ax_buf_putc(b, '"');
}

char *ax_buf_take(ax_buf_t *b, size_t *len_out)
{
	char *p;

	if (b->oom) {
		ax_buf_fini(b);
		return NULL;
	}
	if (b->p == NULL && ax_buf_reserve(b, 0) != 0)
		return NULL;
	p = b->p;
	if (len_out)
		*len_out = b->len;
	ax_buf_init(b);
	return p;
}

void ax_buf_put_urlencoded(ax_buf_t *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~')
			ax_buf_putc(b, (char)c);
		else
			ax_buf_printf(b, "%%%02X", c);
	}
}
