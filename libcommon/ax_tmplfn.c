/*
 * ax_tmplfn: the functions Prometheus and Alertmanager add to Go's
 * text/template (ax_tmplfn.h).
 */
#include "ax_tmplfn.h"

#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "ax_regex.h"
#include "ax_units.h"

/* ---- helpers ---- */

int ax_tmplfn_want_str(const ax_tval_t *v, ax_err_t *err)
{
	if (v->kind != AX_TV_STRING)
		return ax_err_set(err, AX_EINVAL,
		    "wrong type for value; expected string; got %s",
		    v->cls && v->cls->type_name  ? v->cls->type_name
		        : v->kind == AX_TV_INT   ? "int"
		        : v->kind == AX_TV_FLOAT ? "float64"
		        : v->kind == AX_TV_BOOL  ? "bool"
		                                 : "interface {}");
	return 0;
}

int ax_tmplfn_ret(
    ax_tmpl_exec_t *x, ax_buf_t *b, ax_tval_t **out, ax_err_t *err)
{
	if (!ax_buf_ok(b)) {
		ax_buf_fini(b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	*out = ax_tv_strn(ax_tmpl_arena(x), b->p ? b->p : "", b->len);
	ax_buf_fini(b);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static locale_t the_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void locale_init(void)
{
	the_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* C.UTF-8 for Unicode case mapping ((locale_t)0 if unavailable: ASCII). */
static locale_t utf8_locale(void)
{
	pthread_once(&locale_once, locale_init);
	return the_locale;
}

/* Decode one UTF-8 code point at s (n bytes left); its length in *len. */
static wint_t utf8_dec(const char *s, size_t n, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80 || n < 2) {
		*len = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0) {
		*len = 2;
		return (wint_t)((u[0] & 0x1f) << 6 | (u[1] & 0x3f));
	}
	if ((u[0] & 0xf0) == 0xe0 && n >= 3) {
		*len = 3;
		return (wint_t)((u[0] & 0x0f) << 12 | (u[1] & 0x3f) << 6 |
		    (u[2] & 0x3f));
	}
	if ((u[0] & 0xf8) == 0xf0 && n >= 4) {
		*len = 4;
		return (wint_t)((u[0] & 0x07) << 18 | (u[1] & 0x3f) << 12 |
		    (u[2] & 0x3f) << 6 | (u[3] & 0x3f));
	}
	*len = 1;
	return u[0];
}

static void utf8_enc(ax_buf_t *b, wint_t c)
{
	if (c < 0x80)
		ax_buf_putc(b, (char)c);
	else if (c < 0x800) {
		ax_buf_putc(b, (char)(0xc0 | (c >> 6)));
		ax_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		ax_buf_putc(b, (char)(0xe0 | (c >> 12)));
		ax_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		ax_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		ax_buf_putc(b, (char)(0xf0 | (c >> 18)));
		ax_buf_putc(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		ax_buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		ax_buf_putc(b, (char)(0x80 | (c & 0x3f)));
	}
}

/* mode: 'U' upper, 'L' lower, 'T' title (first letter of each word up,
 * the rest down, as golang.org/x/text's cases.Title), 'N' title without
 * lowering the rest (cases.Title with cases.NoLower). */
static void map_case(const char *s, size_t n, int mode, ax_buf_t *b)
{
	locale_t loc = utf8_locale();
	size_t i = 0, len;
	int in_word = 0;

	while (i < n) {
		wint_t c = utf8_dec(s + i, n - i, &len);
		wint_t m = c;
		int alpha =
		    loc ? iswalpha_l(c, loc) : (c < 0x80 && iswalpha(c));
		int digit = c >= '0' && c <= '9';

		if (mode == 'U')
			m = loc ? towupper_l(c, loc) : (wint_t)towupper(c);
		else if (mode == 'L')
			m = loc ? towlower_l(c, loc) : (wint_t)towlower(c);
		else {
			if (!in_word && alpha)
				m = loc ? towupper_l(c, loc)
				        : (wint_t)towupper(c);
			else if (in_word && mode == 'T')
				m = loc ? towlower_l(c, loc)
				        : (wint_t)towlower(c);
			/* a word starts at a letter; digits, apostrophes and
			 * underscores continue one ("3Rd", "O'neil") */
			in_word = alpha ||
			    (in_word && (digit || c == '\'' || c == '_'));
		}
		if (m == c)
			ax_buf_append(b, s + i, len);
		else
			utf8_enc(b, m);
		i += len;
	}
}

/* ---- functions ---- */

static int f_case(
    ax_tmpl_exec_t *x, ax_tval_t **a, ax_tval_t **out, ax_err_t *err, int mode)
{
	ax_buf_t b = AX_BUF_INIT;
	int rv;

	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	map_case(a[0]->u.s.p, a[0]->u.s.n, mode, &b);
	return ax_tmplfn_ret(x, &b, out, err);
}

int ax_tmplfn_upper(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'U');
}

int ax_tmplfn_lower(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'L');
}

int ax_tmplfn_title(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'T');
}

int ax_tmplfn_title_nolower(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'N');
}

int ax_tmplfn_match(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_regex_t *re;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0 ||
	    (rv = ax_tmplfn_want_str(a[1], err)) != 0)
		return rv;
	if ((rv = ax_regex_compile_search(a[0]->u.s.p, &re, err)) != 0)
		return rv;
	rv = ax_regex_match(re, a[1]->u.s.p, a[1]->u.s.n);
	ax_regex_free(re);
	if (rv < 0)
		return ax_err_set(err, rv, "regex match failed");
	*out = ax_tv_bool(ax_tmpl_arena(x), rv == 1);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

int ax_tmplfn_safe_html(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	/* a template.HTML: html/template prints it as it is */
	if ((*out = ax_tv_strn(ax_tmpl_arena(x), a[0]->u.s.p, a[0]->u.s.n)) ==
	    NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	(*out)->cls = &ax_tclass_safe_html;
	return 0;
}

int ax_tmplfn_re_replace_all(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	ax_regex_t *re;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0 ||
	    (rv = ax_tmplfn_want_str(a[1], err)) != 0 ||
	    (rv = ax_tmplfn_want_str(a[2], err)) != 0)
		return rv;
	if ((rv = ax_regex_compile_search(a[0]->u.s.p, &re, err)) != 0)
		return rv;
	rv =
	    ax_regex_replace_all(re, a[2]->u.s.p, a[2]->u.s.n, a[1]->u.s.p, &b);
	ax_regex_free(re);
	if (rv != 0) {
		ax_buf_fini(&b);
		return ax_err_set(err, rv, "regex replace failed");
	}
	return ax_tmplfn_ret(x, &b, out, err);
}

/* ---- time values (Go's time.Time, in UTC) ---- */

typedef struct tvtime {
	int64_t ms;
	int zero;
} tvtime_t;

static void go_layout(const tvtime_t *t, const char *lay, ax_buf_t *b)
{
	static const char *const mon[] = {"January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December"};
	static const char *const day[] = {"Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday"};
	time_t sec;
	struct tm tm;
	int frac;
	int64_t ms = t->zero ? AX_TIME_GO_ZERO_MS : t->ms;
	const char *p = lay;

	sec = (time_t)(ms / 1000 - (ms % 1000 < 0));
	frac = (int)(ms - (int64_t)sec * 1000);
	gmtime_r(&sec, &tm);
	while (*p) {
#define TAKE(s) (strncmp(p, s, strlen(s)) == 0 ? (p += strlen(s), 1) : 0)
		if (TAKE("January"))
			ax_buf_puts(b, mon[tm.tm_mon]);
		else if (TAKE("Jan"))
			ax_buf_printf(b, "%.3s", mon[tm.tm_mon]);
		else if (TAKE("Monday"))
			ax_buf_puts(b, day[tm.tm_wday]);
		else if (TAKE("Mon"))
			ax_buf_printf(b, "%.3s", day[tm.tm_wday]);
		else if (TAKE("MST"))
			ax_buf_puts(b, "UTC");
		else if (TAKE("2006"))
			ax_buf_printf(b, "%04d", tm.tm_year + 1900);
		else if (TAKE("002"))
			ax_buf_printf(b, "%03d", tm.tm_yday + 1);
		else if (TAKE("01"))
			ax_buf_printf(b, "%02d", tm.tm_mon + 1);
		else if (TAKE("02"))
			ax_buf_printf(b, "%02d", tm.tm_mday);
		else if (TAKE("03"))
			ax_buf_printf(
			    b, "%02d", tm.tm_hour % 12 ? tm.tm_hour % 12 : 12);
		else if (TAKE("04"))
			ax_buf_printf(b, "%02d", tm.tm_min);
		else if (TAKE("05"))
			ax_buf_printf(b, "%02d", tm.tm_sec);
		else if (TAKE("06"))
			ax_buf_printf(b, "%02d", tm.tm_year % 100);
		else if (TAKE("15"))
			ax_buf_printf(b, "%02d", tm.tm_hour);
		else if (TAKE("_2"))
			ax_buf_printf(b, "%2d", tm.tm_mday);
		else if (TAKE("Z07:00") || TAKE("Z0700") || TAKE("Z07"))
			ax_buf_putc(b, 'Z');
		else if (TAKE("-07:00"))
			ax_buf_puts(b, "+00:00");
		else if (TAKE("-0700"))
			ax_buf_puts(b, "+0000");
		else if (TAKE("-07"))
			ax_buf_puts(b, "+00");
		else if (TAKE("PM"))
			ax_buf_puts(b, tm.tm_hour >= 12 ? "PM" : "AM");
		else if (TAKE("pm"))
			ax_buf_puts(b, tm.tm_hour >= 12 ? "pm" : "am");
		else if ((p[0] == '.' || p[0] == ',') &&
		    (p[1] == '0' || p[1] == '9')) {
			char dig = p[1], sep = p[0];
			int k = 1,
			    digits[9] = {frac / 100, frac / 10 % 10, frac % 10,
			        0, 0, 0, 0, 0, 0};

			while (p[k] == dig)
				k++;
			if (isdigit((unsigned char)p[k])) {
				ax_buf_putc(b, *p++); /* not a fraction */
				continue;
			}
			{
				int nd = k - 1, last = nd, i;

				if (dig == '9') /* trailing zeros dropped */
					while (
					    last > 0 && digits[last - 1] == 0)
						last--;
				if (last > 0)
					ax_buf_putc(b, sep);
				for (i = 0; i < last; i++)
					ax_buf_putc(b, (char)('0' + digits[i]));
				if (dig == '0' && last == 0 && nd > 0) {
					ax_buf_putc(b, sep);
					for (i = 0; i < nd; i++)
						ax_buf_putc(b, '0');
				}
			}
			p += k;
		} else if (TAKE("1"))
			ax_buf_printf(b, "%d", tm.tm_mon + 1);
		else if (TAKE("2"))
			ax_buf_printf(b, "%d", tm.tm_mday);
		else if (TAKE("3"))
			ax_buf_printf(
			    b, "%d", tm.tm_hour % 12 ? tm.tm_hour % 12 : 12);
		else if (TAKE("4"))
			ax_buf_printf(b, "%d", tm.tm_min);
		else if (TAKE("5"))
			ax_buf_printf(b, "%d", tm.tm_sec);
		else
			ax_buf_putc(b, *p++);
#undef TAKE
	}
}

static void time_str(ax_tval_t *self, ax_buf_t *out)
{
	go_layout(self->u.obj, "2006-01-02 15:04:05.999999999 -0700 MST", out);
}

static int time_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	tvtime_t *t = self->u.obj;
	ax_arena_t *a = ax_tmpl_arena(x);
	ax_buf_t b = AX_BUF_INIT;

	if (strcmp(name, "Format") == 0) {
		if (nargs != 1 || args[0]->kind != AX_TV_STRING)
			return ax_err_set(err, AX_EINVAL,
			    "wrong number of args for Format: want 1 got %zu",
			    nargs);
		go_layout(t, args[0]->u.s.p, &b);
		return ax_tmplfn_ret(x, &b, out, err);
	}
	if (nargs != 0)
		return AX_ENOENT;
	if (strcmp(name, "Unix") == 0)
		*out = ax_tv_int(
		    a, t->zero ? AX_TIME_GO_ZERO_MS / 1000 : t->ms / 1000);
	else if (strcmp(name, "UnixMilli") == 0)
		*out = ax_tv_int(a, t->zero ? AX_TIME_GO_ZERO_MS : t->ms);
	else if (strcmp(name, "IsZero") == 0)
		*out = ax_tv_bool(a, t->zero);
	else if (strcmp(name, "UTC") == 0 || strcmp(name, "Local") == 0)
		*out = self;
	else
		return AX_ENOENT;
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static const ax_tclass_t time_class = {"time.Time", time_get, time_str};

ax_tval_t *ax_tmplfn_time(ax_arena_t *a, int64_t ms, int zero)
{
	tvtime_t *t = ax_arena_alloc(a, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ms = ms;
	t->zero = zero;
	return ax_tv_obj(a, &time_class, t);
}

/* ---- Prometheus' functions ---- */

/* Go's convertToFloat: numbers as they are, strings by ParseFloat. */
static int to_float(const ax_tval_t *v, double *out, ax_err_t *err)
{
	char buf[128], *end;

	switch (v->kind) {
	case AX_TV_FLOAT: *out = v->u.f; return 0;
	case AX_TV_INT: *out = (double)v->u.i; return 0;
	case AX_TV_STRING:
		if (v->u.s.n == 0 || v->u.s.n >= sizeof(buf))
			break;
		memcpy(buf, v->u.s.p, v->u.s.n);
		buf[v->u.s.n] = '\0';
		if (isspace((unsigned char)buf[0]))
			break;
		*out = strtod(buf, &end);
		if (*end == '\0')
			return 0;
		break;
	default:
		return ax_err_set(err, AX_EINVAL, "can't convert %s to float",
		    v->cls && v->cls->type_name ? v->cls->type_name
		        : v->kind == AX_TV_BOOL ? "bool"
		                                : "<nil>");
	}
	return ax_err_set(err, AX_EINVAL,
	    "strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
	    (int)(v->u.s.n > 100 ? 100 : v->u.s.n), v->u.s.p);
}

/* Go's fmt.Sprintf("<prefix>%.4g<suffix>", v). */
static int fmt4g(ax_tmpl_exec_t *x, const char *prefix, double v,
    const char *suffix, ax_tval_t **out, ax_err_t *err)
{
	ax_arena_t *a = ax_tmpl_arena(x);
	ax_tval_t *args[1];
	ax_buf_t b = AX_BUF_INIT;

	ax_buf_puts(&b, prefix);
	if ((args[0] = ax_tv_float(a, v)) == NULL ||
	    ax_tmpl_sprintf(a, "%.4g", args, 1, &b) != 0) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ax_buf_puts(&b, suffix);
	return ax_tmplfn_ret(x, &b, out, err);
}

static int f_humanize(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	static const char *const big[] = {
	    "k", "M", "G", "T", "P", "E", "Z", "Y"};
	static const char *const small[] = {
	    "m", "u", "n", "p", "f", "a", "z", "y"};
	const char *pre = "";
	double v;
	size_t i;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	if (v == 0 || isnan(v) || isinf(v))
		return fmt4g(x, "", v, "", out, err);
	if (fabs(v) >= 1) {
		for (i = 0; i < 8 && fabs(v) >= 1000; i++) {
			pre = big[i];
			v /= 1000;
		}
	} else {
		for (i = 0; i < 8 && fabs(v) < 1; i++) {
			pre = small[i];
			v *= 1000;
		}
	}
	return fmt4g(x, "", v, pre, out, err);
}

static int f_humanize1024(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	static const char *const pre[] = {
	    "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
	const char *p = "";
	double v;
	size_t i;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	if (fabs(v) <= 1 || isnan(v) || isinf(v))
		return fmt4g(x, "", v, "", out, err);
	for (i = 0; i < 8 && fabs(v) >= 1024; i++) {
		p = pre[i];
		v /= 1024;
	}
	return fmt4g(x, "", v, p, out, err);
}

static int f_humanize_duration(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	static const char *const small[] = {
	    "m", "u", "n", "p", "f", "a", "z", "y"};
	ax_buf_t b = AX_BUF_INIT;
	const char *pre = "";
	double v;
	size_t i;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	if (isnan(v) || isinf(v))
		return fmt4g(x, "", v, "", out, err);
	if (v == 0) {
		ax_buf_puts(&b, "0s");
		return ax_tmplfn_ret(x, &b, out, err);
	}
	if (fabs(v) >= 1) {
		const char *sign = v < 0 ? "-" : "";
		int64_t d;

		v = fabs(v);
		d = (int64_t)v;
		if (d / 86400 != 0)
			ax_buf_printf(&b, "%s%lldd %lldh %lldm %llds", sign,
			    (long long)(d / 86400), (long long)(d / 3600 % 24),
			    (long long)(d / 60 % 60), (long long)(d % 60));
		else if (d / 3600 % 24 != 0)
			ax_buf_printf(&b, "%s%lldh %lldm %llds", sign,
			    (long long)(d / 3600 % 24),
			    (long long)(d / 60 % 60), (long long)(d % 60));
		else if (d / 60 % 60 != 0)
			ax_buf_printf(&b, "%s%lldm %llds", sign,
			    (long long)(d / 60 % 60), (long long)(d % 60));
		else {
			ax_buf_fini(&b);
			return fmt4g(x, sign, v, "s", out, err);
		}
		return ax_tmplfn_ret(x, &b, out, err);
	}
	for (i = 0; i < 8 && fabs(v) < 1; i++) {
		pre = small[i];
		v *= 1000;
	}
	{
		char suffix[8];

		snprintf(suffix, sizeof(suffix), "%ss", pre);
		return fmt4g(x, "", v, suffix, out, err);
	}
}

static int f_humanize_pct(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	double v;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	return fmt4g(x, "", v * 100, "%", out, err);
}

/* Seconds as a time: model.TimeFromUnixNano keeps milliseconds. */
static int64_t secs_to_ms(double v)
{
	return (int64_t)(v * 1e9) / 1000000;
}

static int f_humanize_ts(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	ax_tval_t *t;
	double v;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	if (isnan(v) || isinf(v))
		return fmt4g(x, "", v, "", out, err);
	if ((t = ax_tmplfn_time(ax_tmpl_arena(x), secs_to_ms(v), 0)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_tv_print(t, &b);
	return ax_tmplfn_ret(x, &b, out, err);
}

static int f_to_time(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	double v;
	int rv;

	(void)n;
	if ((rv = to_float(a[0], &v, err)) != 0)
		return rv;
	if (isnan(v) || isinf(v))
		return ax_err_set(
		    err, AX_EINVAL, "cannot convert %g to Time", v);
	*out = ax_tmplfn_time(ax_tmpl_arena(x), secs_to_ms(v), 0);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_args(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_arena_t *ar = ax_tmpl_arena(x);
	ax_tval_t *m = ax_tv_map(ar, n ? n : 1, 0);
	size_t i;

	if (m == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		char k[32];

		snprintf(k, sizeof(k), "arg%zu", i);
		if (ax_tv_map_set(ar, m, k, a[i]) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

static int graph_link(
    ax_tmpl_exec_t *x, ax_tval_t **a, ax_tval_t **out, ax_err_t *err, int tab)
{
	ax_buf_t b = AX_BUF_INIT;
	int rv;

	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	ax_buf_puts(&b, "/graph?g0.expr=");
	ax_tmpl_query_escape(a[0]->u.s.p, a[0]->u.s.n, &b);
	ax_buf_printf(&b, "&g0.tab=%d", tab);
	return ax_tmplfn_ret(x, &b, out, err);
}

static int f_graph_link(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return graph_link(x, a, out, err, 0);
}

static int f_table_link(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return graph_link(x, a, out, err, 1);
}

/* net.SplitHostPort: "h:p", "[h]:p".  0 on success. */
static int split_host_port(const char *s, size_t n, const char **h, size_t *hn,
    const char **p, size_t *pn)
{
	const char *colon;

	if (n == 0)
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || close + 1 >= s + n || close[1] != ':' ||
		    memchr(close + 2, ':', (size_t)(s + n - close - 2)))
			return -1;
		*h = s + 1;
		*hn = (size_t)(close - s - 1);
		*p = close + 2;
		*pn = (size_t)(s + n - close - 2);
		return 0;
	}
	colon = memchr(s, ':', n);
	if (colon == NULL ||
	    memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
		return -1; /* no port, or too many colons */
	*h = s;
	*hn = (size_t)(colon - s);
	*p = colon + 1;
	*pn = (size_t)(s + n - colon - 1);
	return 0;
}

static int f_strip_port(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	const char *h, *p;
	size_t hn, pn;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	if (split_host_port(a[0]->u.s.p, a[0]->u.s.n, &h, &hn, &p, &pn) != 0) {
		*out = a[0];
		return 0;
	}
	*out = ax_tv_strn(ax_tmpl_arena(x), h, hn);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

/* Does s look like an IP address (net.ParseIP)? */
static int is_ip(const char *s, size_t n)
{
	size_t i, dots = 0, colons = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	if (colons >= 2)
		return 1;
	if (dots != 3 || colons)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] != '.' && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int f_strip_domain(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	const char *h = NULL, *p = NULL, *dot;
	size_t hn = 0, pn = 0;
	ax_buf_t b = AX_BUF_INIT;
	int rv, has_port;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	has_port =
	    split_host_port(a[0]->u.s.p, a[0]->u.s.n, &h, &hn, &p, &pn) == 0;
	if (!has_port) {
		h = a[0]->u.s.p;
		hn = a[0]->u.s.n;
	}
	if (is_ip(h, hn)) {
		*out = a[0];
		return 0;
	}
	dot = memchr(h, '.', hn);
	if (dot)
		hn = (size_t)(dot - h);
	if (has_port && pn > 0) {
		/* net.JoinHostPort brackets a host with a colon */
		int v6 = memchr(h, ':', hn) != NULL;

		ax_buf_printf(&b, "%s%.*s%s:%.*s", v6 ? "[" : "", (int)hn, h,
		    v6 ? "]" : "", (int)pn, p);
	} else
		ax_buf_append(&b, h, hn);
	return ax_tmplfn_ret(x, &b, out, err);
}

static const ax_tmplfn_prom_t *prom_ctx(ax_tmpl_exec_t *x)
{
	return ax_tmpl_user(x);
}

static int f_external_url(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	const ax_tmplfn_prom_t *c = prom_ctx(x);

	(void)a;
	(void)n;
	*out = ax_tv_str(
	    ax_tmpl_arena(x), c && c->external_url ? c->external_url : "");
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_path_prefix(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	const ax_tmplfn_prom_t *c = prom_ctx(x);
	const char *u = c && c->external_url ? c->external_url : "";
	const char *s = strstr(u, "://"), *path = "";

	(void)a;
	(void)n;
	if (s && (s = strchr(s + 3, '/')) != NULL)
		path = s;
	*out = ax_tv_strn(ax_tmpl_arena(x), path, strcspn(path, "?#"));
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_parse_duration(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	char buf[128];
	int64_t ms;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	snprintf(buf, sizeof(buf), "%.*s", (int)a[0]->u.s.n, a[0]->u.s.p);
	if ((rv = ax_duration_parse(buf, &ms, err)) != 0)
		return rv;
	*out = ax_tv_float(ax_tmpl_arena(x), (double)ms / 1000.0);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

/* ---- query results ---- */

static int sample_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	ax_tmplfn_sample_t *s = self->u.obj;

	(void)x;
	(void)args;
	(void)err;
	if (nargs)
		return AX_ENOENT;
	if (strcmp(name, "Labels") == 0)
		*out = s->labels;
	else if (strcmp(name, "Value") == 0)
		*out = s->value;
	else
		return AX_ENOENT;
	return 0;
}

static const ax_tclass_t sample_class = {"*template.sample", sample_get, NULL};
static const ax_tclass_t result_class = {"template.queryResult", NULL, NULL};

ax_tval_t *ax_tmplfn_sample(
    ax_arena_t *a, const ax_labels_t *ls, const char *strval, double v)
{
	ax_tmplfn_sample_t *s = ax_arena_alloc(a, sizeof(*s));
	size_t i, n = ls ? ls->n : 0;

	if (s == NULL || (s->labels = ax_tv_map(a, n + 1, 1)) == NULL ||
	    (s->value = ax_tv_float(a, v)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		ax_tval_t *val = ax_tv_str(a, ls->l[i].value);

		if (val == NULL ||
		    ax_tv_map_set(a, s->labels, ls->l[i].name, val) != 0)
			return NULL;
	}
	if (strval) {
		ax_tval_t *val = ax_tv_str(a, strval);

		if (val == NULL ||
		    ax_tv_map_set(a, s->labels, "__value__", val) != 0)
			return NULL;
	}
	return ax_tv_obj(a, &sample_class, s);
}

ax_tval_t *ax_tmplfn_result(ax_arena_t *a, size_t n)
{
	ax_tval_t *l = ax_tv_list(a, n);

	if (l)
		l->cls = &result_class;
	return l;
}

static int f_query(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	const ax_tmplfn_prom_t *c = prom_ctx(x);
	char *q;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
		return rv;
	if (c == NULL || c->query == NULL)
		return ax_err_set(err, AX_EINVAL,
		    "query is not available here (no data source)");
	if ((q = strndup(a[0]->u.s.p, a[0]->u.s.n)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	rv = c->query(c->query_arg, q, ax_tmpl_arena(x), out, err);
	free(q);
	return rv;
}

static int want_sample(const ax_tval_t *v, ax_err_t *err)
{
	if (v->kind == AX_TV_OBJ && v->cls == &sample_class)
		return 0;
	return ax_err_set(err, AX_EINVAL,
	    "wrong type for value; expected *template.sample; got %s",
	    v->cls && v->cls->type_name   ? v->cls->type_name
	        : v->kind == AX_TV_STRING ? "string"
	        : v->kind == AX_TV_LIST   ? "[]interface {}"
	                                  : "interface {}");
}

static int want_result(const ax_tval_t *v, ax_err_t *err)
{
	if (v->kind == AX_TV_LIST)
		return 0;
	return ax_err_set(err, AX_EINVAL,
	    "wrong type for value; expected template.queryResult; got %s",
	    v->cls && v->cls->type_name   ? v->cls->type_name
	        : v->kind == AX_TV_STRING ? "string"
	                                  : "interface {}");
}

static int f_first(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int rv;

	(void)x;
	(void)n;
	if ((rv = want_result(a[0], err)) != 0)
		return rv;
	if (a[0]->u.list.n == 0)
		return ax_err_set(err, AX_EINVAL,
		    "first() called on vector with no elements");
	*out = a[0]->u.list.v[0];
	return 0;
}

static int f_label(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *v;
	int rv;
	char k[256];

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0 ||
	    (rv = want_sample(a[1], err)) != 0)
		return rv;
	snprintf(k, sizeof(k), "%.*s", (int)a[0]->u.s.n, a[0]->u.s.p);
	v = ax_tv_map_get(((ax_tmplfn_sample_t *)a[1]->u.obj)->labels, k);
	*out = v ? v : ax_tv_str(ax_tmpl_arena(x), "");
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_value(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int rv;

	(void)x;
	(void)n;
	if ((rv = want_sample(a[0], err)) != 0)
		return rv;
	*out = ((ax_tmplfn_sample_t *)a[0]->u.obj)->value;
	return 0;
}

static int f_strvalue(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *v;
	int rv;

	(void)n;
	if ((rv = want_sample(a[0], err)) != 0)
		return rv;
	v = ax_tv_map_get(
	    ((ax_tmplfn_sample_t *)a[0]->u.obj)->labels, "__value__");
	*out = v ? v : ax_tv_str(ax_tmpl_arena(x), "");
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_sort_by_label(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *l;
	size_t i, j, m;
	char k[256];
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0 ||
	    (rv = want_result(a[1], err)) != 0)
		return rv;
	snprintf(k, sizeof(k), "%.*s", (int)a[0]->u.s.n, a[0]->u.s.p);
	m = a[1]->u.list.n;
	if ((l = ax_tmplfn_result(ax_tmpl_arena(x), m)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < m; i++) {
		if ((rv = want_sample(a[1]->u.list.v[i], err)) != 0)
			return rv;
		l->u.list.v[i] = a[1]->u.list.v[i];
	}
	/* a stable insertion sort by the label's value */
	for (i = 1; i < m; i++) {
		ax_tval_t *cur = l->u.list.v[i];
		ax_tval_t *cv = ax_tv_map_get(
		    ((ax_tmplfn_sample_t *)cur->u.obj)->labels, k);

		for (j = i; j > 0; j--) {
			ax_tval_t *pv = ax_tv_map_get(
			    ((ax_tmplfn_sample_t *)l->u.list.v[j - 1]->u.obj)
			        ->labels,
			    k);
			const char *ps = pv ? pv->u.s.p : "";
			const char *cs = cv ? cv->u.s.p : "";

			if (strcmp(ps, cs) <= 0)
				break;
			l->u.list.v[j] = l->u.list.v[j - 1];
		}
		l->u.list.v[j] = cur;
	}
	*out = l;
	return 0;
}

const ax_tmpl_func_t ax_tmplfn_prometheus[] = {
    {"query", f_query, 1, 1, "s"},
    {"first", f_first, 1, 1, NULL},
    {"label", f_label, 2, 2, NULL},
    {"value", f_value, 1, 1, NULL},
    {"strvalue", f_strvalue, 1, 1, NULL},
    {"args", f_args, 0, -1, NULL},
    {"reReplaceAll", ax_tmplfn_re_replace_all, 3, 3, "sss"},
    {"safeHtml", ax_tmplfn_safe_html, 1, 1, "s"},
    {"match", ax_tmplfn_match, 2, 2, "ss"},
    {"title", ax_tmplfn_title_nolower, 1, 1, "s"},
    {"toUpper", ax_tmplfn_upper, 1, 1, "s"},
    {"toLower", ax_tmplfn_lower, 1, 1, "s"},
    {"graphLink", f_graph_link, 1, 1, "s"},
    {"tableLink", f_table_link, 1, 1, "s"},
    {"sortByLabel", f_sort_by_label, 2, 2, NULL},
    {"humanize", f_humanize, 1, 1, NULL},
    {"humanize1024", f_humanize1024, 1, 1, NULL},
    {"humanizeDuration", f_humanize_duration, 1, 1, NULL},
    {"humanizePercentage", f_humanize_pct, 1, 1, NULL},
    {"humanizeTimestamp", f_humanize_ts, 1, 1, NULL},
    {"toTime", f_to_time, 1, 1, NULL},
    {"pathPrefix", f_path_prefix, 0, 0, NULL},
    {"externalURL", f_external_url, 0, 0, NULL},
    {"parseDuration", f_parse_duration, 1, 1, "s"},
    {"stripPort", f_strip_port, 1, 1, "s"},
    {"stripDomain", f_strip_domain, 1, 1, "s"},
    {NULL, NULL, 0, 0, NULL},
};
