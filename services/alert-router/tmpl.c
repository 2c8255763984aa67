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
#include "ax_tmplfn.h"
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

/* ---- functions: the shared ones are libcommon's (ax_tmplfn) ---- */

static const ax_tclass_t strlist_class = {"[]string", NULL, NULL};

static int f_join(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	size_t i;
	int rv;

	(void)n;
	if ((rv = ax_tmplfn_want_str(a[0], err)) != 0)
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
	return ax_tmplfn_ret(x, &b, out, err);
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
		if ((rv = ax_tmplfn_want_str(a[i], err)) != 0)
			return rv;
		l->u.list.v[i] = a[i];
	}
	*out = l;
	return 0;
}

const ax_tmpl_func_t ar_tmpl_funcs[] = {
    {"toUpper", ax_tmplfn_upper, 1, 1, "s"},
    {"toLower", ax_tmplfn_lower, 1, 1, "s"},
    {"title", ax_tmplfn_title, 1, 1, "s"},
    {"join", f_join, 2, 2, "sL"},
    {"match", ax_tmplfn_match, 2, 2, "ss"},
    {"safeHtml", ax_tmplfn_safe_html, 1, 1, "s"},
    {"reReplaceAll", ax_tmplfn_re_replace_all, 3, 3, "sss"},
    {"stringSlice", f_strslice, 0, -1, "s*"},
    {NULL, NULL, 0, 0, NULL},
};

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
		f[3] = ax_tmplfn_time(a, al->starts_ms, al->starts_ms == 0);
		f[4] = ax_tmplfn_time(a, nt->resolved[i] ? al->ends_ms : 0,
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
	*out = ax_tmplfn_time(a, ms, t == NULL || ms <= AX_TIME_GO_ZERO_MS);
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
