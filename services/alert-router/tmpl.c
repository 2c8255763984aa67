/*
 * ar_tmpl: Alertmanager's notification templates (tmpl.h).
 */
#include "alert-router/tmpl.h"

#include <ctype.h>
#include <glob.h>
#include <pthread.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "ax_regex.h"
#include "ax_units.h"

/* ---- the built-in templates ----
 * Alertmanager defines these names in its default template file; the
 * output they produce is part of its notification format, so they are
 * written here to give the same text. */
static const char builtin_templates[] =
    "{{ define \"__alertmanager\" }}Alertmanager{{ end }}"
    "{{ define \"__alertmanagerURL\" }}{{ .ExternalURL }}/#/alerts?"
    "receiver={{ .Receiver | urlquery }}{{ end }}"
    "{{ define \"__subject\" }}[{{ .Status | toUpper }}"
    "{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] "
    "{{ .GroupLabels.SortedPairs.Values | join \" \" }} "
    "{{ if gt (len .CommonLabels) (len .GroupLabels) }}("
    "{{ with .CommonLabels.Remove .GroupLabels.Names }}"
    "{{ .Values | join \" \" }}{{ end }}){{ end }}{{ end }}"
    "{{ define \"__description\" }}{{ end }}"
    "{{ define \"__text_alert_list\" }}{{ range . }}Labels:\n"
    "{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Annotations:\n"
    "{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Source: {{ .GeneratorURL }}\n{{ end }}{{ end }}"
    "{{ define \"pagerduty.default.description\" }}"
    "{{ template \"__subject\" . }}{{ end }}"
    "{{ define \"pagerduty.default.client\" }}"
    "{{ template \"__alertmanager\" . }}{{ end }}"
    "{{ define \"pagerduty.default.clientURL\" }}"
    "{{ template \"__alertmanagerURL\" . }}{{ end }}"
    "{{ define \"pagerduty.default.instances\" }}"
    "{{ template \"__text_alert_list\" . }}{{ end }}"
    "{{ define \"slack.default.title\" }}{{ template \"__subject\" . }}{{ end "
    "}}"
    "{{ define \"slack.default.username\" }}"
    "{{ template \"__alertmanager\" . }}{{ end }}"
    "{{ define \"slack.default.fallback\" }}"
    "{{ template \"slack.default.title\" . }} | "
    "{{ template \"slack.default.titlelink\" . }}{{ end }}"
    "{{ define \"slack.default.callbackid\" }}{{ end }}"
    "{{ define \"slack.default.pretext\" }}{{ end }}"
    "{{ define \"slack.default.titlelink\" }}"
    "{{ template \"__alertmanagerURL\" . }}{{ end }}"
    "{{ define \"slack.default.iconemoji\" }}{{ end }}"
    "{{ define \"slack.default.iconurl\" }}{{ end }}"
    "{{ define \"slack.default.text\" }}{{ end }}"
    "{{ define \"slack.default.footer\" }}{{ end }}"
    "{{ define \"email.default.subject\" }}"
    "{{ template \"__subject\" . }}{{ end }}"
    /* Axon's own HTML body (Alertmanager's is a long inlined-CSS page;
     * Debian's Alertmanager ships without it): the subject, a link to
     * the alert list, then each firing and resolved alert's labels,
     * annotations and source. */
    "{{ define \"email.default.html\" }}<!DOCTYPE html>\n"
    "<html><head><meta charset=\"UTF-8\">"
    "<title>{{ template \"__subject\" . }}</title></head>\n"
    "<body style=\"font-family: sans-serif; font-size: 14px; color: #222;\">\n"
    "<h2 style=\"color: {{ if eq .Status \"firing\" }}#b3261e{{ else }}"
    "#1e7b34{{ end }};\">{{ template \"__subject\" . }}</h2>\n"
    "<p><a href=\"{{ template \"__alertmanagerURL\" . }}\">"
    "View in {{ template \"__alertmanager\" . }}</a></p>\n"
    "{{ if .Alerts.Firing }}<h3>[{{ .Alerts.Firing | len }}] Firing</h3>\n"
    "{{ range .Alerts.Firing }}{{ template \"axon.email.alert\" . }}"
    "{{ end }}{{ end }}"
    "{{ if .Alerts.Resolved }}<h3>[{{ .Alerts.Resolved | len }}] "
    "Resolved</h3>\n{{ range .Alerts.Resolved }}"
    "{{ template \"axon.email.alert\" . }}{{ end }}{{ end }}"
    "</body></html>\n{{ end }}"
    "{{ define \"axon.email.alert\" }}"
    "<table style=\"border-collapse: collapse; margin-bottom: 12px;\">\n"
    "{{ range .Labels.SortedPairs }}<tr><td style=\"padding: 2px 8px;"
    " color: #555;\">{{ .Name }}</td><td style=\"padding: 2px 8px;\">"
    "{{ .Value }}</td></tr>\n{{ end }}"
    "{{ range .Annotations.SortedPairs }}<tr><td style=\"padding: 2px 8px;"
    " color: #555;\">{{ .Name }}</td><td style=\"padding: 2px 8px;\">"
    "{{ .Value }}</td></tr>\n{{ end }}"
    "{{ if .GeneratorURL }}<tr><td colspan=\"2\" style=\"padding: 2px "
    "8px;\"><a href=\"{{ .GeneratorURL }}\">Source</a></td></tr>\n"
    "{{ end }}</table>\n{{ end }}";

/* ---- helpers ---- */

static int want_str(ax_tval_t *v, ax_err_t *err)
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

static int ret(ax_tmpl_exec_t *x, ax_buf_t *b, ax_tval_t **out, ax_err_t *err)
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
 * the rest down, as golang.org/x/text's cases.Title). */
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
			else if (in_word)
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

static const ax_tclass_t strlist_class = {"[]string", NULL, NULL};

static int f_case(
    ax_tmpl_exec_t *x, ax_tval_t **a, ax_tval_t **out, ax_err_t *err, int mode)
{
	ax_buf_t b = AX_BUF_INIT;
	int rv;

	if ((rv = want_str(a[0], err)) != 0)
		return rv;
	map_case(a[0]->u.s.p, a[0]->u.s.n, mode, &b);
	return ret(x, &b, out, err);
}

static int f_upper(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'U');
}

static int f_lower(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'L');
}

static int f_title(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_case(x, a, out, err, 'T');
}

static int f_join(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	size_t i;
	int rv;

	(void)n;
	if ((rv = want_str(a[0], err)) != 0)
		return rv;
	if (a[1]->kind != AX_TV_LIST)
		return ax_err_set(err, AX_EINVAL,
		    "wrong type for value; expected []string; got %s",
		    a[1]->kind == AX_TV_STRING ? "string" : "interface {}");
	for (i = 0; i < a[1]->u.list.n; i++) {
		if (a[1]->u.list.v[i]->kind != AX_TV_STRING)
			return ax_err_set(err, AX_EINVAL,
			    "wrong type for value; expected []string");
		if (i)
			ax_buf_append(&b, a[0]->u.s.p, a[0]->u.s.n);
		ax_buf_append(
		    &b, a[1]->u.list.v[i]->u.s.p, a[1]->u.list.v[i]->u.s.n);
	}
	return ret(x, &b, out, err);
}

static int f_match(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_regex_t *re;
	int rv;

	(void)n;
	if ((rv = want_str(a[0], err)) != 0 || (rv = want_str(a[1], err)) != 0)
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

static int f_safe(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int rv;

	(void)n;
	if ((rv = want_str(a[0], err)) != 0)
		return rv;
	/* a template.HTML: html/template prints it as it is */
	if ((*out = ax_tv_strn(ax_tmpl_arena(x), a[0]->u.s.p, a[0]->u.s.n)) ==
	    NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	(*out)->cls = &ax_tclass_safe_html;
	return 0;
}

static int f_rerepl(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	ax_regex_t *re;
	int rv;

	(void)n;
	if ((rv = want_str(a[0], err)) != 0 ||
	    (rv = want_str(a[1], err)) != 0 || (rv = want_str(a[2], err)) != 0)
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
	return ret(x, &b, out, err);
}

static int f_strslice(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *l = ax_tv_list(ax_tmpl_arena(x), n);
	size_t i;
	int rv;

	if (l == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	l->cls = &strlist_class;
	for (i = 0; i < n; i++) {
		if ((rv = want_str(a[i], err)) != 0)
			return rv;
		l->u.list.v[i] = a[i];
	}
	*out = l;
	return 0;
}

const ax_tmpl_func_t ar_tmpl_funcs[] = {
    {"toUpper", f_upper, 1, 1, "s"},
    {"toLower", f_lower, 1, 1, "s"},
    {"title", f_title, 1, 1, "s"},
    {"join", f_join, 2, 2, "sL"},
    {"match", f_match, 2, 2, "ss"},
    {"safeHtml", f_safe, 1, 1, "s"},
    {"reReplaceAll", f_rerepl, 3, 3, "sss"},
    {"stringSlice", f_strslice, 0, -1, "s*"},
    {NULL, NULL, 0, 0, NULL},
};

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
		return ret(x, &b, out, err);
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

static ax_tval_t *tv_time(ax_arena_t *a, int64_t ms, int zero)
{
	tvtime_t *t = ax_arena_alloc(a, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ms = ms;
	t->zero = zero;
	return ax_tv_obj(a, &time_class, t);
}

/* ---- KV, Pairs, Alerts, Alert, Data ---- */

static const ax_tclass_t kv_class, pairs_class, alerts_class, alert_class,
    data_class, pair_class;

typedef struct pair {
	ax_tval_t *name, *value;
} pair_t;

static int pair_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	pair_t *p = self->u.obj;

	(void)x;
	(void)args;
	(void)err;
	if (nargs)
		return AX_ENOENT;
	if (strcmp(name, "Name") == 0)
		*out = p->name;
	else if (strcmp(name, "Value") == 0)
		*out = p->value;
	else
		return AX_ENOENT;
	return 0;
}

static void pair_str(ax_tval_t *self, ax_buf_t *out)
{
	pair_t *p = self->u.obj;

	ax_buf_putc(out, '{');
	ax_tv_print(p->name, out);
	ax_buf_putc(out, ' ');
	ax_tv_print(p->value, out);
	ax_buf_putc(out, '}');
}

static const ax_tclass_t pair_class = {"template.Pair", pair_get, pair_str};

/* names/values of a KV map or Pairs list as a []string */
static ax_tval_t *column(ax_arena_t *a, ax_tval_t *src, int values)
{
	size_t n = src->kind == AX_TV_MAP ? src->u.map.n : src->u.list.n, i;
	ax_tval_t *l = ax_tv_list(a, n);

	if (l)
		l->cls = &strlist_class;

	for (i = 0; l && i < n; i++) {
		if (src->kind == AX_TV_MAP)
			l->u.list.v[i] = values ? src->u.map.v[i]
			                        : ax_tv_str(a, src->u.map.k[i]);
		else {
			pair_t *p = src->u.list.v[i]->u.obj;

			l->u.list.v[i] = values ? p->value : p->name;
		}
		if (l->u.list.v[i] == NULL)
			return NULL;
	}
	return l;
}

static int pairs_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	(void)args;
	if (nargs)
		return AX_ENOENT;
	if (strcmp(name, "Names") == 0)
		*out = column(ax_tmpl_arena(x), self, 0);
	else if (strcmp(name, "Values") == 0)
		*out = column(ax_tmpl_arena(x), self, 1);
	else
		return AX_ENOENT;
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static const ax_tclass_t pairs_class = {"template.Pairs", pairs_get, NULL};

static int kv_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	ax_arena_t *a = ax_tmpl_arena(x);
	size_t i, k;

	if (strcmp(name, "SortedPairs") == 0 && nargs == 0) {
		ax_tval_t *l = ax_tv_list(a, self->u.map.n);

		if (l == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		l->cls = &pairs_class;
		for (i = 0; i < self->u.map.n; i++) {
			pair_t *p = ax_arena_alloc(a, sizeof(*p));

			if (p == NULL ||
			    (p->name = ax_tv_str(a, self->u.map.k[i])) ==
			        NULL ||
			    (l->u.list.v[i] = ax_tv_obj(a, &pair_class, p)) ==
			        NULL)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			p->value = self->u.map.v[i];
		}
		*out = l;
		return 0;
	}
	if ((strcmp(name, "Names") == 0 || strcmp(name, "Values") == 0) &&
	    nargs == 0) {
		*out = column(a, self, name[0] == 'V');
		return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (strcmp(name, "Remove") == 0) {
		ax_tval_t *m;

		if (nargs != 1 || args[0]->kind != AX_TV_LIST)
			return ax_err_set(err, AX_EINVAL,
			    "wrong type for value; expected []string");
		m = ax_tv_map(a, self->u.map.n, 1);
		if (m == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		m->cls = &kv_class;
		for (i = 0; i < self->u.map.n; i++) {
			for (k = 0; k < args[0]->u.list.n; k++) {
				ax_tval_t *r = args[0]->u.list.v[k];

				if (r->kind == AX_TV_STRING &&
				    strcmp(r->u.s.p, self->u.map.k[i]) == 0)
					break;
			}
			if (k == args[0]->u.list.n &&
			    ax_tv_map_set(
			        a, m, self->u.map.k[i], self->u.map.v[i]))
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
		}
		*out = m;
		return 0;
	}
	return AX_ENOENT;
}

static const ax_tclass_t kv_class = {"template.KV", kv_get, NULL};

static int alerts_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	ax_arena_t *a = ax_tmpl_arena(x);
	int firing;
	size_t i, n = 0;
	ax_tval_t *l;

	(void)args;
	if (nargs)
		return AX_ENOENT;
	if (strcmp(name, "Firing") == 0)
		firing = 1;
	else if (strcmp(name, "Resolved") == 0)
		firing = 0;
	else
		return AX_ENOENT;
	l = ax_tv_list(a, self->u.list.n);
	if (l == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	l->cls = &alerts_class;
	for (i = 0; i < self->u.list.n; i++) {
		ax_tval_t *st = ((ax_tval_t **)self->u.list.v[i]->u.obj)[0];

		if ((strcmp(st->u.s.p, "firing") == 0) == firing)
			l->u.list.v[n++] = self->u.list.v[i];
	}
	l->u.list.n = n;
	*out = l;
	return 0;
}

static const ax_tclass_t alerts_class = {"template.Alerts", alerts_get, NULL};

/* Structs are arrays of field values in Go's declaration order. */
static const char *const alert_fields[] = {"Status", "Labels", "Annotations",
    "StartsAt", "EndsAt", "GeneratorURL", "Fingerprint", NULL};
static const char *const data_fields[] = {"Receiver", "Status", "Alerts",
    "GroupLabels", "CommonLabels", "CommonAnnotations", "ExternalURL", NULL};

static int struct_get(const char *const *fields, ax_tval_t *self,
    const char *name, size_t nargs, ax_tval_t **out)
{
	ax_tval_t **v = self->u.obj;
	size_t i;

	if (nargs)
		return AX_ENOENT;
	for (i = 0; fields[i]; i++)
		if (strcmp(fields[i], name) == 0) {
			*out = v[i];
			return 0;
		}
	return AX_ENOENT;
}

static void struct_str(const char *const *fields, ax_tval_t *self, ax_buf_t *o)
{
	ax_tval_t **v = self->u.obj;
	size_t i;

	ax_buf_putc(o, '{');
	for (i = 0; fields[i]; i++) {
		if (i)
			ax_buf_putc(o, ' ');
		ax_tv_print(v[i], o);
	}
	ax_buf_putc(o, '}');
}

static int alert_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	(void)x;
	(void)args;
	(void)err;
	return struct_get(alert_fields, self, name, nargs, out);
}

static void alert_str(ax_tval_t *self, ax_buf_t *o)
{
	struct_str(alert_fields, self, o);
}

static const ax_tclass_t alert_class = {"template.Alert", alert_get, alert_str};

static int data_get(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err)
{
	(void)x;
	(void)args;
	(void)err;
	return struct_get(data_fields, self, name, nargs, out);
}

static void data_str(ax_tval_t *self, ax_buf_t *o)
{
	struct_str(data_fields, self, o);
}

static const ax_tclass_t data_class = {"template.Data", data_get, data_str};

static ax_tval_t *kv_labels(ax_arena_t *a, const ax_labels_t *ls)
{
	ax_tval_t *m = ax_tv_map(a, ls ? ls->n : 0, 1);
	uint32_t i;

	if (m == NULL)
		return NULL;
	m->cls = &kv_class;
	for (i = 0; ls && i < ls->n; i++) {
		ax_tval_t *v = ax_tv_str(a, ls->l[i].value);

		if (v == NULL || ax_tv_map_set(a, m, ls->l[i].name, v) != 0)
			return NULL;
	}
	return m;
}

static ax_tval_t *kv_json(ax_arena_t *a, const cJSON *o)
{
	const cJSON *e;
	ax_tval_t *m = ax_tv_map(a, (size_t)cJSON_GetArraySize(o), 1);

	if (m == NULL)
		return NULL;
	m->cls = &kv_class;
	cJSON_ArrayForEach(e, o)
	{
		ax_tval_t *v =
		    ax_tv_str(a, cJSON_IsString(e) ? e->valuestring : "");

		if (v == NULL || ax_tv_map_set(a, m, e->string, v) != 0)
			return NULL;
	}
	return m;
}

/* Labels (or annotations) every alert has with the same value. */
static ax_tval_t *kv_common(ax_arena_t *a, ax_tval_t **kvs, size_t n)
{
	ax_tval_t *m = ax_tv_map(a, n ? kvs[0]->u.map.n : 0, 1);
	size_t i, k;

	if (m == NULL)
		return NULL;
	m->cls = &kv_class;
	for (i = 0; n && i < kvs[0]->u.map.n; i++) {
		const char *key = kvs[0]->u.map.k[i];
		ax_tval_t *v = kvs[0]->u.map.v[i];

		for (k = 1; k < n; k++) {
			ax_tval_t *o = ax_tv_map_get(kvs[k], key);

			if (o == NULL || strcmp(o->u.s.p, v->u.s.p) != 0)
				break;
		}
		if (k == n && ax_tv_map_set(a, m, key, v) != 0)
			return NULL;
	}
	return m;
}

static ax_tval_t *make_data(ax_arena_t *a, const char *receiver,
    ax_tval_t *alerts, ax_tval_t *group, const char *ext, ax_tval_t *common,
    ax_tval_t *common_ann)
{
	ax_tval_t **f = ax_arena_alloc(a, 7 * sizeof(*f));
	size_t i;
	int firing = 0;

	if (f == NULL || alerts == NULL || group == NULL || common == NULL ||
	    common_ann == NULL)
		return NULL;
	for (i = 0; i < alerts->u.list.n; i++) {
		ax_tval_t *st = ((ax_tval_t **)alerts->u.list.v[i]->u.obj)[0];

		firing |= strcmp(st->u.s.p, "firing") == 0;
	}
	f[0] = ax_tv_str(a, receiver);
	f[1] = ax_tv_str(a, firing ? "firing" : "resolved");
	f[2] = alerts;
	f[3] = group;
	f[4] = common;
	f[5] = common_ann;
	f[6] = ax_tv_str(a, ext ? ext : "");
	for (i = 0; i < 7; i++)
		if (f[i] == NULL)
			return NULL;
	return ax_tv_obj(a, &data_class, f);
}

ax_tval_t *ar_tmpl_data(ax_arena_t *a, const ar_notice_t *nt)
{
	ax_tval_t *alerts = ax_tv_list(a, nt->n), **labels, **anns;
	size_t i;

	labels = ax_arena_alloc(a, (nt->n ? nt->n : 1) * sizeof(*labels));
	anns = ax_arena_alloc(a, (nt->n ? nt->n : 1) * sizeof(*anns));
	if (alerts == NULL || labels == NULL || anns == NULL)
		return NULL;
	alerts->cls = &alerts_class;
	for (i = 0; i < nt->n; i++) {
		const ar_alert_t *al = nt->alerts[i];
		ax_tval_t **f = ax_arena_alloc(a, 7 * sizeof(*f));
		char fp[24];
		size_t k;

		if (f == NULL)
			return NULL;
		snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)al->fp);
		f[0] = ax_tv_str(a, nt->resolved[i] ? "resolved" : "firing");
		f[1] = labels[i] = kv_labels(a, al->labels);
		f[2] = anns[i] = kv_labels(a, al->annotations);
		f[3] = tv_time(a, al->starts_ms, al->starts_ms == 0);
		f[4] = tv_time(a, nt->resolved[i] ? al->ends_ms : 0,
		    !nt->resolved[i] || al->ends_ms == 0);
		f[5] = ax_tv_str(a, al->generator_url ? al->generator_url : "");
		f[6] = ax_tv_str(a, fp);
		for (k = 0; k < 7; k++)
			if (f[k] == NULL)
				return NULL;
		if ((alerts->u.list.v[i] = ax_tv_obj(a, &alert_class, f)) ==
		    NULL)
			return NULL;
	}
	return make_data(a, nt->receiver, alerts,
	    kv_labels(a, nt->group_labels), nt->external_url,
	    kv_common(a, labels, nt->n), kv_common(a, anns, nt->n));
}

static int json_time(const cJSON *o, const char *k, ax_arena_t *a,
    ax_tval_t **out, ax_err_t *err)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, k);
	int64_t ms = 0;
	ax_err_t e;

	if (cJSON_IsString(t) && ax_time_parse(t->valuestring, &ms, &e) != 0)
		return ax_err_set(err, AX_EINVAL, "%s: %s", k, e.msg);
	*out = tv_time(a, ms, t == NULL || ms <= AX_TIME_GO_ZERO_MS);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(s) ? s->valuestring : "";
}

static const cJSON *jobj(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);
	static cJSON empty = {.type = cJSON_Object};

	return cJSON_IsObject(m) ? m : &empty;
}

int ar_tmpl_data_json(
    ax_arena_t *a, const cJSON *j, ax_tval_t **out, ax_err_t *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "alerts"), *e;
	ax_tval_t *alerts;
	size_t i = 0;
	int rv;

	if (!cJSON_IsObject(j))
		return ax_err_set(
		    err, AX_EINVAL, "the data must be a JSON object");
	alerts = ax_tv_list(a, (size_t)cJSON_GetArraySize(arr));
	if (alerts == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	alerts->cls = &alerts_class;
	cJSON_ArrayForEach(e, arr)
	{
		ax_tval_t **f = ax_arena_alloc(a, 7 * sizeof(*f));

		if (f == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		f[0] = ax_tv_str(a, jstr(e, "status"));
		f[1] = kv_json(a, jobj(e, "labels"));
		f[2] = kv_json(a, jobj(e, "annotations"));
		if ((rv = json_time(e, "startsAt", a, &f[3], err)) != 0 ||
		    (rv = json_time(e, "endsAt", a, &f[4], err)) != 0)
			return rv;
		f[5] = ax_tv_str(a, jstr(e, "generatorURL"));
		f[6] = ax_tv_str(a, jstr(e, "fingerprint"));
		if (f[0] == NULL || f[1] == NULL || f[2] == NULL ||
		    f[5] == NULL || f[6] == NULL ||
		    (alerts->u.list.v[i++] = ax_tv_obj(a, &alert_class, f)) ==
		        NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	{
		ax_tval_t **f = ax_arena_alloc(a, 7 * sizeof(*f));

		if (f == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		f[0] = ax_tv_str(a, jstr(j, "receiver"));
		f[1] = ax_tv_str(a, jstr(j, "status"));
		f[2] = alerts;
		f[3] = kv_json(a, jobj(j, "groupLabels"));
		f[4] = kv_json(a, jobj(j, "commonLabels"));
		f[5] = kv_json(a, jobj(j, "commonAnnotations"));
		f[6] = ax_tv_str(a, jstr(j, "externalURL"));
		for (i = 0; i < 7; i++)
			if (f[i] == NULL)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
		*out = ax_tv_obj(a, &data_class, f);
	}
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

/* ---- loading and rendering ---- */

static char *slurp(const char *path, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	char tmp[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		ax_err_set(err, AX_EIO, "%s: cannot open", path);
		return NULL;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(&b, tmp, n);
	fclose(f);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		ax_err_set(err, AX_ENOMEM, "out of memory");
		return NULL;
	}
	ax_buf_putc(&b, '\0');
	return ax_buf_take(&b, NULL);
}

int ar_tmpl_load(const char *const *globs, size_t n, const char *base_dir,
    ax_tmpl_t **out, ax_err_t *err)
{
	ax_tmpl_t *t = ax_tmpl_new(ar_tmpl_funcs, NULL);
	size_t i, k;
	int rv;

	if (t == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = ax_tmpl_parse(t, "__builtin", builtin_templates, err)) != 0) {
		ax_tmpl_free(t);
		return rv;
	}
	for (i = 0; i < n; i++) {
		char pat[4096];
		glob_t g;
		int gr;

		if (globs[i][0] == '/' || base_dir == NULL)
			snprintf(pat, sizeof(pat), "%s", globs[i]);
		else
			snprintf(pat, sizeof(pat), "%s/%s", base_dir, globs[i]);
		gr = glob(pat, 0, NULL, &g);
		if (gr == GLOB_NOMATCH)
			continue;
		if (gr != 0) {
			ax_tmpl_free(t);
			return ax_err_set(
			    err, AX_EIO, "%s: cannot expand", pat);
		}
		for (k = 0; k < g.gl_pathc; k++) {
			char *text = slurp(g.gl_pathv[k], err);
			const char *base = strrchr(g.gl_pathv[k], '/');

			if (text == NULL)
				rv = err->code;
			else
				rv = ax_tmpl_parse(t,
				    base ? base + 1 : g.gl_pathv[k], text, err);
			free(text);
			if (rv != 0) {
				globfree(&g);
				ax_tmpl_free(t);
				return rv;
			}
		}
		globfree(&g);
	}
	*out = t;
	return 0;
}

static int render(ax_tmpl_t *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err, int html)
{
	ax_tmpl_t *c = ax_tmpl_child(t);
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	rv = ax_tmpl_parse(c, "", text, err);
	if (rv == 0)
		rv = html ? ax_tmpl_exec_html(c, "", data, a, NULL, out, err)
		          : ax_tmpl_exec(c, "", data, a, NULL, out, err);
	ax_tmpl_free(c);
	return rv;
}

int ar_tmpl_render(ax_tmpl_t *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err)
{
	return render(t, text, data, a, out, err, 0);
}

int ar_tmpl_render_html(ax_tmpl_t *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err)
{
	return render(t, text, data, a, out, err, 1);
}
