/*
 * ax_expo: text 0.0.4 and OpenMetrics 1.0 parsers (see ax_expo.h).
 */
#include "ax_expo.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ax_hmap.h"
#include "ax_labels.h"

static const char *const type_names[] = {
    [AX_MT_UNKNOWN] = "unknown",
    [AX_MT_COUNTER] = "counter",
    [AX_MT_GAUGE] = "gauge",
    [AX_MT_HISTOGRAM] = "histogram",
    [AX_MT_GAUGEHISTOGRAM] = "gaugehistogram",
    [AX_MT_SUMMARY] = "summary",
    [AX_MT_INFO] = "info",
    [AX_MT_STATESET] = "stateset",
};

const char *ax_mtype_name(ax_mtype_t t)
{
	return t <= AX_MT_STATESET ? type_names[t] : "unknown";
}

/* ---- a set of 64-bit hashes (0 never stored: mapped to 1) ---- */

static void set_clear(ax_u64set_t *s)
{
	if (s->v)
		memset(s->v, 0, s->cap * sizeof(*s->v));
	s->n = 0;
}

/* 1 when h was already present, 0 when added, -1 out of memory. */
static int set_add(ax_u64set_t *s, uint64_t h)
{
	size_t i, mask;

	if (h == 0)
		h = 1;
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64, j;
		uint64_t *nv = calloc(nc, sizeof(*nv));

		if (nv == NULL)
			return -1;
		for (j = 0; j < s->cap; j++) {
			size_t k;

			if (s->v[j] == 0)
				continue;
			for (k = s->v[j] & (nc - 1); nv[k]; k = (k + 1) & (nc - 1))
				;
			nv[k] = s->v[j];
		}
		free(s->v);
		s->v = nv;
		s->cap = nc;
	}
	mask = s->cap - 1;
	for (i = h & mask; s->v[i]; i = (i + 1) & mask)
		if (s->v[i] == h)
			return 1;
	s->v[i] = h;
	s->n++;
	return 0;
}

static int set_has(const ax_u64set_t *s, uint64_t h)
{
	size_t i, mask;

	if (h == 0)
		h = 1;
	if (s->cap == 0)
		return 0;
	mask = s->cap - 1;
	for (i = h & mask; s->v[i]; i = (i + 1) & mask)
		if (s->v[i] == h)
			return 1;
	return 0;
}

/* ---- setup ---- */

void ax_expo_reset(ax_expo_t *x, const char *buf, size_t len, int om)
{
	ax_u64set_t names = x->seen_names, groups = x->seen_groups;

	memset(x, 0, offsetof(ax_expo_t, seen_names));
	x->seen_names = names;
	x->seen_groups = groups;
	set_clear(&x->seen_names);
	set_clear(&x->seen_groups);
	x->group_set = 0;
	x->h_active = 0;
	x->buf = buf;
	x->len = len;
	x->om = om;
	x->line = 0;
}

void ax_expo_init(ax_expo_t *x, const char *buf, size_t len, int om)
{
	memset(x, 0, sizeof(*x));
	ax_expo_reset(x, buf, len, om);
}

void ax_expo_fini(ax_expo_t *x)
{
	free(x->seen_names.v);
	free(x->seen_groups.v);
	memset(&x->seen_names, 0, sizeof(x->seen_names));
	memset(&x->seen_groups, 0, sizeof(x->seen_groups));
}

static int fail(ax_expo_t *x, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ax_expo_t *x, const char *at, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	size_t col = 1;

	if (at != NULL && at >= x->buf + x->line_at)
		col = (size_t)(at - (x->buf + x->line_at)) + 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, sizeof(x->err), "%zu:%zu: %s", x->line, col, msg);
	return AX_EXPO_ERROR;
}

static int is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static int is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_label_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_label_char(int c)
{
	return is_label_start(c) || (c >= '0' && c <= '9');
}

static int str_eq(ax_expo_str_t s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Is s exactly a + suffix? */
static int is_fam_suffix(ax_expo_str_t s, ax_expo_str_t a, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.n == a.n + n && memcmp(s.p, a.p, a.n) == 0 &&
	    memcmp(s.p + a.n, suffix, n) == 0;
}

/* ---- numbers ---- */

/* A decimal float (no hex): [sign] digits [. digits] [e [sign] digits],
 * or .digits; with allow_words, also inf/infinity/nan in any case.  The
 * whole of s[0..n) must match.  Returns 1 with *v set. */
static int parse_decimal(const char *s, size_t n, int allow_words, double *v)
{
	char tmp[128];
	size_t i = 0, d = 0;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	if (allow_words) {
		size_t rest = n - i;

		if ((rest == 3 && (strncasecmp(s + i, "inf", 3) == 0 ||
		                      strncasecmp(s + i, "nan", 3) == 0)) ||
		    (rest == 8 && strncasecmp(s + i, "infinity", 8) == 0)) {
			if (tolower((unsigned char)s[i]) == 'n')
				*v = NAN;
			else
				*v = s[0] == '-' ? -INFINITY : INFINITY;
			return 1;
		}
	}
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		d++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			d++;
		}
	}
	if (d == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			e++;
		}
		if (e == 0)
			return 0;
	}
	if (i != n)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	return 1;
}

/* Go's ParseFloat for the 0.0 text format: decimal, inf/infinity/nan,
 * and hex floats with a p exponent. */
static int parse_go_float(const char *s, size_t n, double *v)
{
	char tmp[128];
	size_t i = 0;
	char *end;

	if (parse_decimal(s, n, 1, v))
		return 1;
	if (n >= sizeof(tmp))
		return 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
	    memchr(s, 'p', n) != NULL) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		*v = strtod(tmp, &end);
		return *end == '\0';
	}
	return 0;
}

/* Python's repr of a float, then Prometheus client's floatToGoString:
 * the canonical text of `le` and `quantile` values in OpenMetrics. */
static void canonical_float(double d, char *out, size_t cap)
{
	char e[40], digits[40];
	int prec, nd = 0, exp10, neg = d < 0, i, w = 0;
	char *p;

	if (isinf(d)) {
		snprintf(out, cap, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(d)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (d == 0) {
		snprintf(out, cap, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	for (p = e + (neg ? 1 : 0); *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	exp10 = atoi(strchr(e, 'e') + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (exp10 < -4 || exp10 >= 16) {
		/* repr: d.ddde+XX */
		snprintf(out, cap, "%s%c%s%se%c%02d", neg ? "-" : "", digits[0],
		    nd > 1 ? "." : "", nd > 1 ? digits + 1 : "",
		    exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
		return;
	}
	if (neg)
		out[w++] = '-';
	if (exp10 < 0) {
		out[w++] = '0';
		out[w++] = '.';
		for (i = -1; i > exp10; i--)
			out[w++] = '0';
		for (i = 0; i < nd; i++)
			out[w++] = digits[i];
	} else {
		for (i = 0; i <= exp10; i++)
			out[w++] = i < nd ? digits[i] : '0';
		out[w++] = '.';
		if (nd > exp10 + 1)
			for (i = exp10 + 1; i < nd; i++)
				out[w++] = digits[i];
		else
			out[w++] = '0';
	}
	out[w] = '\0';
	/* Go switches to exponents sooner for positive values */
	if (d > 0) {
		char *dot = strchr(out, '.');
		int dp = dot ? (int)(dot - out) : -1;

		if (dp > 6) {
			char m[64];
			int k;

			snprintf(m, sizeof(m), "%c.%.*s%s", out[0], dp - 1, out + 1,
			    dot + 1);
			k = (int)strlen(m);
			while (k > 0 && (m[k - 1] == '0' || m[k - 1] == '.'))
				m[--k] = '\0';
			snprintf(out, cap, "%se+0%d", m, dp - 1);
		}
	}
}

static int uncanonical(const char *s, size_t n, double v)
{
	char c[64];

	canonical_float(v, c, sizeof(c));
	return strlen(c) != n || memcmp(c, s, n) != 0;
}

/* ---- lines ---- */

/* The next line [*b, *e) (no newline); 0 at the end of the body. */
static int next_line(ax_expo_t *x, const char **b, const char **e)
{
	const char *p, *nl;

	if (x->pos >= x->len)
		return 0;
	p = x->buf + x->pos;
	nl = memchr(p, '\n', x->len - x->pos);
	x->line++;
	x->line_at = x->pos;
	*b = p;
	*e = nl ? nl : x->buf + x->len;
	x->pos = nl ? (size_t)(nl - x->buf) + 1 : x->len;
	return 1;
}

/* Label set "{...}" at *pp (pointing at '{'); strict: OpenMetrics rules.
 * Fills out[*n].  Returns 0 or an error. */
static int parse_labels(ax_expo_t *x, const char **pp, const char *e,
    ax_expo_label_t *out, size_t *n, int strict)
{
	const char *p = *pp + 1;
	size_t i;

	*n = 0;
	for (;;) {
		ax_expo_label_t *l;
		const char *st;

		if (!strict)
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
		if (p < e && *p == '}') {
			p++;
			break;
		}
		if (p >= e || !is_label_start((unsigned char)*p))
			return fail(x, p, p >= e ? "unexpected end of line in "
			                           "label set"
			                         : "invalid label name");
		if (*n == AX_EXPO_MAX_LABELS)
			return fail(x, p, "more than %d labels",
			    AX_EXPO_MAX_LABELS);
		l = &out[(*n)++];
		st = p;
		while (p < e && is_label_char((unsigned char)*p))
			p++;
		l->name.p = st;
		l->name.n = (size_t)(p - st);
		l->name.esc = 0;
		if (!strict)
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
		if (p >= e || *p != '=')
			return fail(x, p, "expected '=' after label name");
		p++;
		if (!strict)
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
		if (p >= e || *p != '"')
			return fail(x, p, "expected '\"' to open the label value");
		st = ++p;
		l->value.esc = 0;
		while (p < e && *p != '"') {
			if (*p == '\\') {
				l->value.esc = 1;
				if (++p >= e)
					break;
				if (!strict && *p != '\\' && *p != '"' &&
				    *p != 'n')
					return fail(x, p - 1,
					    "invalid escape sequence '\\%c'", *p);
			}
			p++;
		}
		if (p >= e)
			return fail(x, p, "unterminated label value");
		l->value.p = st;
		l->value.n = (size_t)(p - st);
		p++;
		for (i = 0; i + 1 < *n; i++)
			if (out[i].name.n == l->name.n &&
			    memcmp(out[i].name.p, l->name.p, l->name.n) == 0)
				return fail(x, l->name.p,
				    "duplicate label name \"%.*s\"",
				    (int)l->name.n, l->name.p);
		if (!strict)
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == '}') {
			p++;
			break;
		}
		return fail(x, p, "expected ',' or '}' after a label");
	}
	*pp = p;
	return 0;
}

/* ---- text format 0.0.4 ---- */

static int text_next(ax_expo_t *x)
{
	const char *b, *e, *p, *st;
	int rv;

	while (next_line(x, &b, &e)) {
		p = b;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && e[-1] == '\r')
			e--;
		if (p == e)
			continue;
		if (*p == '#') {
			const char *kw;
			size_t kn;

			p++;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			kw = p;
			while (p < e && *p != ' ' && *p != '\t')
				p++;
			kn = (size_t)(p - kw);
			if (!((kn == 4 && memcmp(kw, "HELP", 4) == 0) ||
			        (kn == 4 && memcmp(kw, "TYPE", 4) == 0)))
				continue; /* a comment */
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			st = p;
			while (p < e && is_name_char((unsigned char)*p))
				p++;
			if (p == st || !is_name_start((unsigned char)*st) ||
			    (p < e && *p != ' ' && *p != '\t'))
				return fail(x, st, "invalid metric name in %.4s",
				    kw);
			x->name.p = st;
			x->name.n = (size_t)(p - st);
			x->name.esc = 0;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (kw[0] == 'H') {
				x->text.p = p;
				x->text.n = (size_t)(e - p);
				x->text.esc = memchr(p, '\\', (size_t)(e - p)) != NULL;
				return AX_EXPO_HELP;
			}
			st = p;
			while (e > st && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			x->text.p = st;
			x->text.n = (size_t)(e - st);
			x->text.esc = 0;
			if (str_eq(x->text, "counter"))
				x->type = AX_MT_COUNTER;
			else if (str_eq(x->text, "gauge"))
				x->type = AX_MT_GAUGE;
			else if (str_eq(x->text, "histogram"))
				x->type = AX_MT_HISTOGRAM;
			else if (str_eq(x->text, "summary"))
				x->type = AX_MT_SUMMARY;
			else if (str_eq(x->text, "untyped"))
				x->type = AX_MT_UNKNOWN;
			else
				return fail(x, st, "invalid metric type \"%.*s\"",
				    (int)x->text.n, x->text.p);
			return AX_EXPO_TYPE;
		}
		/* a sample */
		st = p;
		if (!is_name_start((unsigned char)*p))
			return fail(x, p, "invalid metric name");
		while (p < e && is_name_char((unsigned char)*p))
			p++;
		x->name.p = st;
		x->name.n = (size_t)(p - st);
		x->name.esc = 0;
		x->n_labels = 0;
		x->has_ts = 0;
		x->has_ex = 0;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p == '{') {
			if ((rv = parse_labels(x, &p, e, x->labels, &x->n_labels,
			         0)) != 0)
				return rv;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
		} else if (p == st + x->name.n) {
			return fail(x, p, p >= e ? "missing value"
			                         : "invalid character in metric "
			                           "name");
		}
		st = p;
		while (p < e && *p != ' ' && *p != '\t')
			p++;
		if (p == st)
			return fail(x, p, "missing value");
		if (!parse_go_float(st, (size_t)(p - st), &x->value))
			return fail(x, st, "invalid value \"%.*s\"",
			    (int)(p - st), st);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e) {
			char tmp[32], *end;
			long long t;

			st = p;
			while (p < e && *p != ' ' && *p != '\t')
				p++;
			if ((size_t)(p - st) >= sizeof(tmp))
				return fail(x, st, "invalid timestamp");
			memcpy(tmp, st, (size_t)(p - st));
			tmp[p - st] = '\0';
			t = strtoll(tmp, &end, 10);
			if (*end != '\0' || end == tmp || tmp[0] == ' ' ||
			    tmp[0] == '+')
				return fail(x, st, "invalid timestamp \"%s\"", tmp);
			x->has_ts = 1;
			x->ts_ms = t;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (p < e)
				return fail(x, p, "unexpected text after the "
				                  "timestamp");
		}
		return AX_EXPO_SAMPLE;
	}
	return AX_EXPO_END;
}

/* ---- OpenMetrics ---- */

/* Code points of an escaped string, as the reference parser counts
 * the exemplar's label characters (after unescaping). */
static size_t om_chars(ax_expo_str_t s)
{
	size_t i, n = 0;

	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '\\' && i + 1 < s.n && strchr("\\\"n", s.p[i + 1])) {
			n++;
			i++;
			continue;
		}
		if ((c & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static uint64_t hash_str(ax_expo_str_t s)
{
	return ax_hash_bytes(s.p, s.n);
}

static uint64_t hash_fam_suffix(ax_expo_str_t fam, const char *suffix)
{
	char tmp[512];
	size_t n = strlen(suffix);

	if (fam.n + n > sizeof(tmp))
		return ax_hash_bytes(fam.p, fam.n) ^ ax_hash_bytes(suffix, n);
	memcpy(tmp, fam.p, fam.n);
	memcpy(tmp + fam.n, suffix, n);
	return ax_hash_bytes(tmp, fam.n + n);
}

static const char *const *type_suffixes(ax_mtype_t t)
{
	static const char *const counter[] = {"_total", "_created", NULL};
	static const char *const summary[] = {
	    "", "_count", "_sum", "_created", NULL};
	static const char *const histogram[] = {
	    "_count", "_sum", "_bucket", "_created", NULL};
	static const char *const ghist[] = {"_gcount", "_gsum", "_bucket", NULL};
	static const char *const info[] = {"_info", NULL};
	static const char *const none[] = {"", NULL};

	switch (t) {
	case AX_MT_COUNTER: return counter;
	case AX_MT_SUMMARY: return summary;
	case AX_MT_HISTOGRAM: return histogram;
	case AX_MT_GAUGEHISTOGRAM: return ghist;
	case AX_MT_INFO: return info;
	default: return none;
	}
}

/* The histogram checks of a finished group. */
static int hist_checks(ax_expo_t *x, const char *at)
{
	int nf = (int)x->fam.n;
	const char *f = x->fam.p;

	if (!x->h_active)
		return 0;
	x->h_active = 0;
	if (!(isinf(x->h_bucket) && x->h_bucket > 0))
		return fail(x, at, "+Inf bucket missing: %.*s", nf, f);
	if (x->h_count_set && x->h_value != x->h_count)
		return fail(x, at, "count does not match +Inf value: %.*s", nf,
		    f);
	if (x->h_sum && !x->h_count_set)
		return fail(x, at, "_count must be present if _sum is present: "
		                   "%.*s",
		    nf, f);
	if (x->h_gsum && !x->h_count_set)
		return fail(x, at, "_gcount must be present if _gsum is "
		                   "present: %.*s",
		    nf, f);
	if (!(x->h_sum || x->h_gsum) && x->h_count_set)
		return fail(x, at, "_sum/_gsum must be present if _count is "
		                   "present: %.*s",
		    nf, f);
	if (x->h_neg_buckets && x->h_sum)
		return fail(x, at, "cannot have _sum with negative buckets: %.*s",
		    nf, f);
	if (!x->h_neg_buckets && x->h_neg_gsum)
		return fail(x, at, "cannot have negative _gsum with "
		                   "non-negative buckets: %.*s",
		    nf, f);
	return 0;
}

/* The checks done when a family is complete. */
static int fam_finish(ax_expo_t *x, const char *at)
{
	const char *const *s;
	int rv;

	if (x->fam.p == NULL)
		return 0;
	if (!x->fam_typed && x->fam_type != AX_MT_UNKNOWN)
		x->fam_type = AX_MT_UNKNOWN;
	for (s = type_suffixes(x->fam_type); *s; s++) {
		int r = set_add(&x->seen_names, hash_fam_suffix(x->fam, *s));

		if (r < 0)
			return fail(x, at, "out of memory");
		if (r == 1)
			return fail(x, at, "clashing name: %.*s%s",
			    (int)x->fam.n, x->fam.p, *s);
	}
	if (**type_suffixes(x->fam_type) != '\0') {
		int r = set_add(&x->seen_names, hash_fam_suffix(x->fam, ""));

		if (r < 0)
			return fail(x, at, "out of memory");
		if (r == 1)
			return fail(x, at, "clashing name: %.*s", (int)x->fam.n,
			    x->fam.p);
	}
	if (x->fam_unit && x->fam_unit_s.n > 0) {
		ax_expo_str_t u = x->fam_unit_s;

		if (!(x->fam.n > u.n + 1 &&
		        x->fam.p[x->fam.n - u.n - 1] == '_' &&
		        memcmp(x->fam.p + x->fam.n - u.n, u.p, u.n) == 0))
			return fail(x, at, "unit \"%.*s\" does not match metric "
			                   "name %.*s",
			    (int)u.n, u.p, (int)x->fam.n, x->fam.p);
		if (x->fam_type == AX_MT_INFO || x->fam_type == AX_MT_STATESET)
			return fail(x, at, "units not allowed for %s metric %.*s",
			    ax_mtype_name(x->fam_type), (int)x->fam.n, x->fam.p);
	}
	if ((rv = hist_checks(x, at)) != 0)
		return rv;
	x->fam.p = NULL;
	return 0;
}

static void fam_start(ax_expo_t *x, ax_expo_str_t name)
{
	x->fam = name;
	x->fam_type = AX_MT_UNKNOWN;
	x->fam_typed = x->fam_help = x->fam_unit = x->fam_samples = 0;
	x->fam_unit_s.n = 0;
	set_clear(&x->seen_groups);
	x->group_set = 0;
	x->h_active = 0;
}

static int valid_metric_name(ax_expo_str_t s)
{
	size_t i;

	if (s.n == 0 || !is_name_start((unsigned char)s.p[0]))
		return 0;
	for (i = 1; i < s.n; i++)
		if (!is_name_char((unsigned char)s.p[i]))
			return 0;
	return 1;
}

static int om_metadata(ax_expo_t *x, const char *b, const char *e)
{
	const char *p = b + 2, *kw = p, *np;
	ax_expo_str_t name;
	size_t kn;
	int rv;

	/* "# KEYWORD name text", split on single spaces */
	if (e - b < 2 || b[1] != ' ')
		return fail(x, b, "invalid line");
	while (p < e && *p != ' ')
		p++;
	kn = (size_t)(p - kw);
	if (p >= e)
		return fail(x, b, "invalid line");
	np = ++p;
	while (p < e && *p != ' ')
		p++;
	if (p >= e)
		return fail(x, b, "invalid line: no text after the name");
	name.p = np;
	name.n = (size_t)(p - np);
	name.esc = 0;
	p++;
	if (!valid_metric_name(name))
		return fail(x, np, "invalid metric name \"%.*s\"", (int)name.n,
		    np);
	if (x->fam.p != NULL && x->fam.n == name.n &&
	    memcmp(x->fam.p, name.p, name.n) == 0) {
		if (x->fam_samples)
			return fail(x, b, "metadata after the samples of %.*s",
			    (int)name.n, name.p);
	} else {
		if ((rv = fam_finish(x, b)) != 0)
			return rv;
		fam_start(x, name);
	}
	x->name = name;
	x->text.p = p;
	x->text.n = (size_t)(e - p);
	x->text.esc = memchr(p, '\\', (size_t)(e - p)) != NULL;
	if (kn == 4 && memcmp(kw, "HELP", 4) == 0) {
		if (x->fam_help)
			return fail(x, b, "more than one HELP for %.*s",
			    (int)name.n, name.p);
		x->fam_help = 1;
		return AX_EXPO_HELP;
	}
	if (kn == 4 && memcmp(kw, "TYPE", 4) == 0) {
		ax_mtype_t t;

		if (x->fam_typed)
			return fail(x, b, "more than one TYPE for %.*s",
			    (int)name.n, name.p);
		for (t = AX_MT_UNKNOWN; t <= AX_MT_STATESET; t++)
			if (str_eq(x->text, type_names[t]))
				break;
		if (t > AX_MT_STATESET)
			return fail(x, p, "invalid metric type \"%.*s\"",
			    (int)x->text.n, x->text.p);
		x->fam_typed = 1;
		x->fam_type = t;
		x->type = t;
		return AX_EXPO_TYPE;
	}
	if (kn == 4 && memcmp(kw, "UNIT", 4) == 0) {
		if (x->fam_unit)
			return fail(x, b, "more than one UNIT for %.*s",
			    (int)name.n, name.p);
		x->fam_unit = 1;
		x->fam_unit_s = x->text;
		return AX_EXPO_UNIT;
	}
	return fail(x, kw, "invalid line: unknown keyword \"%.*s\"", (int)kn,
	    kw);
}

/* The OpenMetrics timestamp (seconds): an integer, or a float that is
 * not NaN or infinite. */
static int om_ts(const char *s, size_t n, int64_t *ms)
{
	double v;

	if (!parse_decimal(s, n, 0, &v))
		return 0;
	if (!isfinite(v))
		return 0;
	/* valid, however far off; saturated (the tsdb refuses it) */
	if (fabs(v) > 9.2e15)
		*ms = v > 0 ? INT64_MAX : INT64_MIN;
	else
		*ms = (int64_t)llround(v * 1000.0);
	return 1;
}

static const ax_expo_label_t *find_label(
    const ax_expo_label_t *ls, size_t n, const char *name, size_t nl)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ls[i].name.n == nl && memcmp(ls[i].name.p, name, nl) == 0)
			return &ls[i];
	return NULL;
}

/* The group of a sample: its labels (sorted) less the per-type one. */
static uint64_t om_group(ax_expo_t *x, const char *skip, size_t skip_n)
{
	size_t idx[AX_EXPO_MAX_LABELS], n = 0, i, j;
	uint64_t h = 1469598103934665603ULL;

	if (x->fam_type == AX_MT_INFO)
		return 1;
	for (i = 0; i < x->n_labels; i++) {
		if (skip && x->labels[i].name.n == skip_n &&
		    memcmp(x->labels[i].name.p, skip, skip_n) == 0)
			continue;
		idx[n++] = i;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			const ax_expo_str_t *a = &x->labels[idx[j - 1]].name;
			const ax_expo_str_t *b = &x->labels[idx[j]].name;
			size_t m = a->n < b->n ? a->n : b->n;
			int c = memcmp(a->p, b->p, m);
			size_t t;

			if (c < 0 || (c == 0 && a->n <= b->n))
				break;
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		h = (h ^ hash_str(x->labels[idx[i]].name)) * 1099511628211ULL;
		h = (h ^ hash_str(x->labels[idx[i]].value)) * 1099511628211ULL;
	}
	return h ? h : 2;
}

static int is_integral(double v)
{
	return isfinite(v) && v == floor(v);
}

static int om_sample(ax_expo_t *x, const char *b, const char *e)
{
	const char *p = b, *st;
	ax_expo_str_t sfx;
	const ax_expo_label_t *l;
	const char *const *s;
	int allowed = 0, rv, is_bucket, is_count;
	ax_mtype_t t;
	double tsec = 0;

	st = p;
	while (p < e && *p != ' ' && *p != '{')
		p++;
	x->name.p = st;
	x->name.n = (size_t)(p - st);
	x->name.esc = 0;
	if (!valid_metric_name(x->name))
		return fail(x, st, "invalid metric name \"%.*s\"", (int)x->name.n,
		    st);
	x->n_labels = 0;
	x->has_ts = 0;
	x->has_ex = 0;
	x->ex_has_ts = 0;
	x->n_ex_labels = 0;
	if (p < e && *p == '{') {
		if ((rv = parse_labels(x, &p, e, x->labels, &x->n_labels, 1)) !=
		    0)
			return rv;
	}
	if (p >= e || *p != ' ')
		return fail(x, p, "expected a space before the value");
	st = ++p;
	while (p < e && *p != ' ')
		p++;
	if (!parse_decimal(st, (size_t)(p - st), 1, &x->value))
		return fail(x, st, "invalid value \"%.*s\"", (int)(p - st), st);
	if (p < e) {
		/* " timestamp", " # exemplar" or both */
		p++;
		if (p < e && *p != '#') {
			st = p;
			while (p < e && *p != ' ')
				p++;
			if (!om_ts(st, (size_t)(p - st), &x->ts_ms))
				return fail(x, st, "invalid timestamp \"%.*s\"",
				    (int)(p - st), st);
			x->has_ts = 1;
			tsec = (double)x->ts_ms / 1000.0;
			if (p < e)
				p++;
			else
				goto parsed;
		}
		if (p >= e)
			return fail(x, p, "unexpected end of line");
		/* "# {labels} value [timestamp]" */
		if (e - p < 3 || p[0] != '#' || p[1] != ' ' || p[2] != '{')
			return fail(x, p, "invalid exemplar");
		p += 2;
		if ((rv = parse_labels(x, &p, e, x->ex_labels, &x->n_ex_labels,
		         1)) != 0)
			return rv;
		{
			size_t chars = 0, i;

			for (i = 0; i < x->n_ex_labels; i++)
				chars += om_chars(x->ex_labels[i].name) +
				    om_chars(x->ex_labels[i].value);
			if (chars > 128)
				return fail(x, p, "exemplar labels are too long "
				                  "(%zu characters, at most 128)",
				    chars);
		}
		if (p >= e || *p != ' ')
			return fail(x, p, "expected a space before the exemplar "
			                  "value");
		st = ++p;
		while (p < e && *p != ' ')
			p++;
		if (!parse_decimal(st, (size_t)(p - st), 1, &x->ex_value))
			return fail(x, st, "invalid exemplar value");
		x->has_ex = 1;
		if (p < e) {
			st = ++p;
			while (p < e && *p != ' ')
				p++;
			if (p < e || !om_ts(st, (size_t)(p - st), &x->ex_ts_ms))
				return fail(x, st, "invalid exemplar timestamp");
			x->ex_has_ts = 1;
		}
	}
parsed:
	/* the family: a new one unless the name belongs to the current */
	if (x->fam.p != NULL) {
		for (s = type_suffixes(x->fam_typed ? x->fam_type
		                                    : AX_MT_UNKNOWN);
		     *s; s++)
			if (is_fam_suffix(x->name, x->fam, *s))
				allowed = 1;
	}
	if (!allowed) {
		if ((rv = fam_finish(x, b)) != 0)
			return rv;
		fam_start(x, x->name);
	}
	x->fam_samples = 1;
	t = x->fam_typed ? x->fam_type : AX_MT_UNKNOWN;
	x->type = t;
	sfx.p = x->name.p + x->fam.n;
	sfx.n = x->name.n - x->fam.n;
	sfx.esc = 0;
	is_bucket = str_eq(sfx, "_bucket") &&
	    (t == AX_MT_HISTOGRAM || t == AX_MT_GAUGEHISTOGRAM);
	is_count = (str_eq(sfx, "_count") || str_eq(sfx, "_gcount")) &&
	    (t == AX_MT_HISTOGRAM || t == AX_MT_GAUGEHISTOGRAM ||
	        t == AX_MT_SUMMARY);
	if (t == AX_MT_STATESET &&
	    find_label(x->labels, x->n_labels, x->fam.p, x->fam.n) == NULL)
		return fail(x, b, "stateset sample without its %.*s label",
		    (int)x->fam.n, x->fam.p);
	if (is_bucket) {
		double le;

		l = find_label(x->labels, x->n_labels, "le", 2);
		if (l == NULL || l->value.esc ||
		    !parse_decimal(l->value.p, l->value.n, 1, &le) || isnan(le) ||
		    uncanonical(l->value.p, l->value.n, le))
			return fail(x, b, "invalid le label");
		if (!is_integral(x->value))
			return fail(x, b, "bucket value must be an integer");
	}
	if (is_count && !is_integral(x->value))
		return fail(x, b, "count value must be an integer");
	if (t == AX_MT_SUMMARY && sfx.n == 0) {
		double q;

		l = find_label(x->labels, x->n_labels, "quantile", 8);
		if (l == NULL || l->value.esc ||
		    !parse_decimal(l->value.p, l->value.n, 1, &q) ||
		    !(q >= 0 && q <= 1) ||
		    uncanonical(l->value.p, l->value.n, q))
			return fail(x, b, "invalid quantile label");
	}
	/* grouping and timestamps */
	{
		uint64_t g;

		if (t == AX_MT_SUMMARY && sfx.n == 0)
			g = om_group(x, "quantile", 8);
		else if (t == AX_MT_STATESET)
			g = om_group(x, x->fam.p, x->fam.n);
		else if (is_bucket)
			g = om_group(x, "le", 2);
		else
			g = om_group(x, NULL, 0);
		if (x->group_set && g != x->group && set_has(&x->seen_groups, g))
			return fail(x, b, "invalid metric grouping: samples of "
			                  "one group are not together");
		if (x->group_set && g == x->group) {
			if (x->has_ts != x->group_has_ts)
				return fail(x, b, "mix of timestamp presence "
				                  "within a group");
			if (x->group_has_ts && x->group_ts > tsec &&
			    t != AX_MT_INFO)
				return fail(x, b, "timestamps went backwards "
				                  "within a group");
		}
		x->group = g;
		x->group_set = 1;
		x->group_has_ts = x->has_ts;
		x->group_ts = tsec;
		if (set_add(&x->seen_groups, g) < 0)
			return fail(x, b, "out of memory");
		/* histogram state per group and timestamp */
		if (t == AX_MT_HISTOGRAM || t == AX_MT_GAUGEHISTOGRAM) {
			if (!x->h_active || g != x->h_group ||
			    x->has_ts != x->h_has_ts ||
			    (x->has_ts && tsec != x->h_ts)) {
				if ((rv = hist_checks(x, b)) != 0)
					return rv;
				x->h_active = 1;
				x->h_count_set = x->h_neg_buckets = 0;
				x->h_sum = x->h_gsum = x->h_neg_gsum = 0;
				x->h_bucket = NAN;
				x->h_value = 0;
			}
			x->h_group = g;
			x->h_has_ts = x->has_ts;
			x->h_ts = tsec;
			if (is_bucket) {
				double le;

				l = find_label(x->labels, x->n_labels, "le", 2);
				parse_decimal(l->value.p, l->value.n, 1, &le);
				if (le < 0)
					x->h_neg_buckets = 1;
				if (!isnan(x->h_bucket) && le <= x->h_bucket)
					return fail(x, b, "buckets out of order");
				if (x->value < x->h_value)
					return fail(x, b, "bucket values out of "
					                  "order");
				x->h_bucket = le;
				x->h_value = x->value;
			} else if (is_count) {
				x->h_count = x->value;
				x->h_count_set = 1;
			} else if (str_eq(sfx, "_sum")) {
				x->h_sum = 1;
			} else if (str_eq(sfx, "_gsum")) {
				x->h_gsum = 1;
				if (x->value < 0)
					x->h_neg_gsum = 1;
			}
		}
	}
	if (t == AX_MT_STATESET && x->value != 0 && x->value != 1)
		return fail(x, b, "stateset samples can only have values zero "
		                  "and one");
	if (t == AX_MT_INFO && x->value != 1)
		return fail(x, b, "info samples can only have value one");
	if (t == AX_MT_SUMMARY && sfx.n == 0 && x->value < 0)
		return fail(x, b, "quantile values cannot be negative");
	if (t != AX_MT_UNKNOWN && t != AX_MT_GAUGE &&
	    (str_eq(sfx, "_total") || str_eq(sfx, "_sum") ||
	        str_eq(sfx, "_count") || str_eq(sfx, "_bucket") ||
	        str_eq(sfx, "_gcount") || str_eq(sfx, "_gsum"))) {
		if (isnan(x->value))
			return fail(x, b, "counter-like samples cannot be NaN");
		if (!str_eq(sfx, "_gsum") && x->value < 0)
			return fail(x, b, "counter-like samples cannot be "
			                  "negative");
	}
	if (x->has_ex &&
	    !(((t == AX_MT_HISTOGRAM || t == AX_MT_GAUGEHISTOGRAM) &&
	         str_eq(sfx, "_bucket")) ||
	        (t == AX_MT_COUNTER && str_eq(sfx, "_total"))))
		return fail(x, b, "only histogram and gaugehistogram buckets "
		                  "and counters can have exemplars");
	return AX_EXPO_SAMPLE;
}

static int om_next(ax_expo_t *x)
{
	const char *b, *e;
	int rv;

	if (x->pos == 0 && x->line == 0 && !ax_utf8_valid(x->buf, x->len))
		return fail(x, NULL, "the body is not valid UTF-8");
	while (next_line(x, &b, &e)) {
		if (x->eof_seen)
			return fail(x, b, "text after # EOF");
		if (b == e)
			return fail(x, b, "blank line");
		if ((size_t)(e - b) == 5 && memcmp(b, "# EOF", 5) == 0) {
			x->eof_seen = 1;
			if ((rv = fam_finish(x, b)) != 0)
				return rv;
			continue;
		}
		if (*b == '#')
			return om_metadata(x, b, e);
		return om_sample(x, b, e);
	}
	if (!x->eof_seen) {
		x->line++;
		x->line_at = x->len;
		return fail(x, NULL, "missing # EOF at the end");
	}
	return AX_EXPO_END;
}

int ax_expo_next(ax_expo_t *x)
{
	if (x->err[0] != '\0')
		return AX_EXPO_ERROR;
	return x->om ? om_next(x) : text_next(x);
}

void ax_expo_unescape(const ax_expo_str_t *s, ax_buf_t *out)
{
	size_t i, start = 0;

	if (!s->esc) {
		ax_buf_append(out, s->p, s->n);
		return;
	}
	for (i = 0; i < s->n; i++) {
		char c;

		if (s->p[i] != '\\' || i + 1 >= s->n)
			continue;
		c = s->p[i + 1];
		if (c != '\\' && c != '"' && c != 'n')
			continue;
		ax_buf_append(out, s->p + start, i - start);
		ax_buf_putc(out, c == 'n' ? '\n' : c);
		i++;
		start = i + 1;
	}
	ax_buf_append(out, s->p + start, s->n - start);
}
