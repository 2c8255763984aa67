/*
 * rl_slo: SLOs as Prometheus rules (slo.h).
 */
#include "ruler/slo.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_config.h"
#include "ax_labels.h"
#include "ax_promql.h"
#include "ax_units.h"

typedef struct sli {
	char *error_ratio, *errors, *good, *total;
} sli_t;

typedef struct slo {
	char *name, *service;
	double objective;
	int64_t window_ms;
	sli_t sli;
	ax_labels_t *labels, *annotations, *page_labels, *ticket_labels;
} slo_t;

typedef struct slo_file {
	ax_cfg_list_t slos; /* slo_t */
} slo_file_t;

#define WINDOW_VAR "{{.window}}"

static const ax_cfg_field_t sli_fields[] = {
    {.name = "error_ratio",
        .type = AX_CFG_STRING,
        .offset = offsetof(sli_t, error_ratio)},
    {.name = "errors",
        .type = AX_CFG_STRING,
        .offset = offsetof(sli_t, errors)},
    {.name = "good", .type = AX_CFG_STRING, .offset = offsetof(sli_t, good)},
    {.name = "total", .type = AX_CFG_STRING, .offset = offsetof(sli_t, total)},
    {0},
};

static const ax_cfg_field_t slo_fields[] = {
    {.name = "name", .type = AX_CFG_STRING, .offset = offsetof(slo_t, name)},
    {.name = "service",
        .type = AX_CFG_STRING,
        .offset = offsetof(slo_t, service),
        .flags = AX_CFG_REQUIRED | AX_CFG_NONEMPTY},
    {.name = "objective",
        .type = AX_CFG_FLOAT,
        .offset = offsetof(slo_t, objective),
        .flags = AX_CFG_REQUIRED},
    {.name = "window",
        .type = AX_CFG_DURATION,
        .offset = offsetof(slo_t, window_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "sli",
        .type = AX_CFG_SECTION,
        .offset = offsetof(slo_t, sli),
        .fields = sli_fields,
        .flags = AX_CFG_REQUIRED},
    {.name = "labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(slo_t, labels)},
    {.name = "annotations",
        .type = AX_CFG_LABELS,
        .offset = offsetof(slo_t, annotations)},
    {.name = "page_labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(slo_t, page_labels)},
    {.name = "ticket_labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(slo_t, ticket_labels)},
    {0},
};

static void slo_init(void *p)
{
	slo_t *s = p;

	memset(s, 0, sizeof(*s));
	s->window_ms = 30LL * 24 * 3600 * 1000;
}

static int name_ok(const char *s)
{
	size_t i;

	if (s == NULL ||
	    !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
	        (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || s[i] == '-' ||
		        (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* Replace every {{.window}} in expr with w.  NULL when out of memory. */
static char *with_window(const char *expr, const char *w)
{
	ax_buf_t b = AX_BUF_INIT;
	const char *p = expr, *q;
	char *out;

	while ((q = strstr(p, WINDOW_VAR)) != NULL) {
		ax_buf_append(&b, p, (size_t)(q - p));
		ax_buf_puts(&b, w);
		p = q + strlen(WINDOW_VAR);
	}
	ax_buf_puts(&b, p);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return NULL;
	}
	out = strdup(b.p ? b.p : "");
	ax_buf_fini(&b);
	return out;
}

/* The error ratio expression for window w (malloc'd), or NULL. */
static char *ratio_expr(const slo_t *s, const char *w)
{
	char *a = NULL, *b = NULL, *out = NULL;
	ax_buf_t r = AX_BUF_INIT;

	if (s->sli.error_ratio)
		return with_window(s->sli.error_ratio, w);
	if ((b = with_window(s->sli.total, w)) == NULL)
		return NULL;
	if (s->sli.errors && (a = with_window(s->sli.errors, w)) != NULL)
		ax_buf_printf(&r, "(%s)\n/\n(%s)", a, b);
	else if (s->sli.good && (a = with_window(s->sli.good, w)) != NULL)
		ax_buf_printf(&r, "1 - (\n  (%s)\n  /\n  (%s)\n)", a, b);
	if (a && ax_buf_ok(&r))
		out = strdup(r.p);
	free(a);
	free(b);
	ax_buf_fini(&r);
	return out;
}

static int check_expr(ax_cfg_t *c, yaml_node_t *n, const char *path,
    const slo_t *s, ax_err_t *err)
{
	char *e = ratio_expr(s, "5m");
	ax_pq_node_t *ast = NULL;
	ax_err_t pe;
	int rv = 0;

	if (e == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (ax_pq_parse(e, &ast, &pe) != 0)
		rv = ax_cfg_errorf(c, n, path, err,
		    "sli: the error ratio does not parse (with %s as 5m): %s",
		    WINDOW_VAR, pe.msg);
	else if (ax_pq_type(ast) != AX_PQ_TVECTOR &&
	    ax_pq_type(ast) != AX_PQ_TSCALAR)
		rv = ax_cfg_errorf(c, n, path, err,
		    "sli: the error ratio must be an instant vector or a "
		    "scalar, not a %s",
		    ax_pq_type_name(ax_pq_type(ast)));
	ax_pq_free(ast);
	free(e);
	return rv;
}

static int decode_slo(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	slo_t *s = dst;
	int rv;
	int forms;

	if ((rv = ax_cfg_decode(c, n, path, slo_fields, s, err)) != 0)
		return rv;
	if (s->name == NULL && (s->name = strdup(s->service)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (!name_ok(s->name))
		return ax_cfg_errorf(c, n, path, err,
		    "name \"%s\": want [a-zA-Z_][a-zA-Z0-9_-]* (name the SLO "
		    "when the service name is not one)",
		    s->name);
	if (!(s->objective > 0 && s->objective < 100))
		return ax_cfg_errorf(c, n, path, err,
		    "objective %g: want a percentage between 0 and 100, "
		    "e.g. 99.9",
		    s->objective);
	forms = (s->sli.error_ratio != NULL) +
	    (s->sli.errors != NULL && s->sli.total != NULL) +
	    (s->sli.good != NULL && s->sli.total != NULL);
	if (forms != 1 || (s->sli.errors && s->sli.good) ||
	    (s->sli.error_ratio &&
	        (s->sli.errors || s->sli.good || s->sli.total)) ||
	    (s->sli.total && !s->sli.errors && !s->sli.good))
		return ax_cfg_errorf(c, n, path, err,
		    "sli: give error_ratio, or errors and total, or good and "
		    "total");
	return check_expr(c, n, path, s, err);
}

static void slo_free(void *p)
{
	ax_cfg_free_fields(slo_fields, p);
}

static const ax_cfg_field_t file_fields[] = {
    {.name = "slos",
        .type = AX_CFG_LIST,
        .offset = offsetof(slo_file_t, slos),
        .elem_size = sizeof(slo_t),
        .elem_init = slo_init,
        .decode = decode_slo,
        .free_fn = slo_free},
    {0},
};

/* ---- rendering ---- */

static void put_labels(ax_buf_t *b, const char *indent, const slo_t *s,
    const ax_labels_t *extra, const ax_labels_t *more)
{
	const ax_labels_t *sets[2] = {extra, more};
	size_t i, k;

	ax_buf_printf(b, "%slabels:\n%s  slo: ", indent, indent);
	ax_buf_put_json_str(b, s->name);
	ax_buf_printf(b, "\n%s  service: ", indent);
	ax_buf_put_json_str(b, s->service);
	ax_buf_putc(b, '\n');
	for (k = 0; k < 2; k++)
		for (i = 0; sets[k] && i < sets[k]->n; i++) {
			const char *nm = sets[k]->l[i].name;

			if (strcmp(nm, "slo") == 0 ||
			    strcmp(nm, "service") == 0)
				continue;
			/* a later set overrides an earlier one */
			if (k == 0 && more && ax_labels_get(more, nm))
				continue;
			ax_buf_printf(b, "%s  %s: ", indent, nm);
			ax_buf_put_json_str(b, sets[k]->l[i].value);
			ax_buf_putc(b, '\n');
		}
}

/* A one-line expression as a quoted string, a longer one as a literal
 * block, as people write them. */
static void put_expr(ax_buf_t *b, const char *expr)
{
	const char *p = expr, *nl;

	if (strchr(expr, '\n') == NULL) {
		ax_buf_puts(b, "        expr: ");
		ax_buf_put_json_str(b, expr);
		ax_buf_putc(b, '\n');
		return;
	}
	ax_buf_puts(b, "        expr: |-\n");
	for (;;) {
		nl = strchr(p, '\n');
		ax_buf_puts(b, "          ");
		ax_buf_append(b, p, nl ? (size_t)(nl - p) : strlen(p));
		ax_buf_putc(b, '\n');
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* "0.001" for 99.9: 12 significant digits hide the binary noise. */
static void fmt_num(double v, char *out, size_t cap)
{
	snprintf(out, cap, "%.12g", v);
}

static int render_one(const slo_t *s, ax_buf_t *b)
{
	static const struct {
		const char *w;
		int64_t ms;
	} wins[] = {{"5m", 300000}, {"30m", 1800000}, {"1h", 3600000},
	    {"2h", 7200000}, {"6h", 21600000}, {"1d", 86400000},
	    {"3d", 259200000}};
	/* {factor, long window, short window}, page then ticket */
	static const struct {
		const char *factor, *lw, *sw;
	} burn[2][2] = {{{"14.4", "1h", "5m"}, {"6", "6h", "30m"}},
	    {{"3", "1d", "2h"}, {"1", "3d", "6h"}}};
	static const char *const sev[2] = {"page", "ticket"};
	char budget[64], obj[64], win[32], sel[512];
	size_t i, k;
	int have_window = 0;

	fmt_num(1.0 - s->objective / 100.0, budget, sizeof(budget));
	fmt_num(s->objective / 100.0, obj, sizeof(obj));
	ax_duration_format(s->window_ms, win, sizeof(win));
	snprintf(sel, sizeof(sel), "{slo=\"%s\"}", s->name);
	ax_buf_printf(b, "  - name: \"slo:%s\"\n    rules:\n", s->name);
	for (i = 0; i <= sizeof(wins) / sizeof(wins[0]); i++) {
		const char *w =
		    i < sizeof(wins) / sizeof(wins[0]) ? wins[i].w : win;
		char *e;

		if (i < sizeof(wins) / sizeof(wins[0]) &&
		    wins[i].ms == s->window_ms)
			have_window = 1;
		if (i == sizeof(wins) / sizeof(wins[0]) && have_window)
			break;
		if ((e = ratio_expr(s, w)) == NULL)
			return AX_ENOMEM;
		ax_buf_printf(
		    b, "      - record: slo:sli_error:ratio_rate%s\n", w);
		put_expr(b, e);
		put_labels(b, "        ", s, NULL, NULL);
		free(e);
	}
	ax_buf_puts(b, "      - record: slo:objective:ratio\n");
	ax_buf_printf(b, "        expr: vector(%s)\n", obj);
	put_labels(b, "        ", s, NULL, NULL);
	ax_buf_puts(b, "      - record: slo:error_budget:ratio\n");
	ax_buf_printf(b, "        expr: vector(%s)\n", budget);
	put_labels(b, "        ", s, NULL, NULL);
	ax_buf_puts(b, "      - record: slo:error_budget_remaining:ratio\n");
	{
		char e[1024];

		snprintf(e, sizeof(e),
		    "1 - (slo:sli_error:ratio_rate%s%s / %s)", win, sel,
		    budget);
		put_expr(b, e);
	}
	ax_buf_puts(b, "        labels:\n          slo: ");
	ax_buf_put_json_str(b, s->name);
	ax_buf_puts(b, "\n          service: ");
	ax_buf_put_json_str(b, s->service);
	ax_buf_putc(b, '\n');
	for (k = 0; k < 2; k++) {
		ax_buf_t e = AX_BUF_INIT, lb = AX_BUF_INIT;
		ax_labels_t *sevl = NULL;
		ax_err_t err;
		const ax_labels_t *user =
		    k == 0 ? s->page_labels : s->ticket_labels;

		for (i = 0; i < 2; i++)
			ax_buf_printf(&e,
			    "%s(\n  slo:sli_error:ratio_rate%s%s > (%s * %s)\n"
			    "and\n  slo:sli_error:ratio_rate%s%s > (%s * "
			    "%s)\n)",
			    i ? "\nor\n" : "", burn[k][i].lw, sel,
			    burn[k][i].factor, budget, burn[k][i].sw, sel,
			    burn[k][i].factor, budget);
		ax_buf_puts(b, "      - alert: ErrorBudgetBurn\n");
		put_expr(b, ax_buf_ok(&e) ? e.p : "");
		if (user == NULL &&
		    ax_labels_from_strings(
		        &sevl, &err, "severity", sev[k], (char *)NULL) != 0) {
			ax_buf_fini(&e);
			return AX_ENOMEM;
		}
		put_labels(b, "        ", s, s->labels, user ? user : sevl);
		ax_labels_free(sevl);
		ax_buf_puts(b, "        annotations:\n");
		if (s->annotations == NULL ||
		    !ax_labels_get(s->annotations, "summary")) {
			ax_buf_printf(&lb,
			    "SLO %s of %s is burning its error budget %s",
			    s->name, s->service,
			    k == 0 ? "fast (page)" : "steadily (ticket)");
			ax_buf_puts(b, "          summary: ");
			ax_buf_put_json_str(b, lb.p ? lb.p : "");
			ax_buf_putc(b, '\n');
		}
		if (s->annotations == NULL ||
		    !ax_labels_get(s->annotations, "description")) {
			lb.len = 0;
			ax_buf_printf(&lb,
			    "The error ratio is {{ $value | humanizePercentage "
			    "}}, against an error budget of %g%% (objective "
			    "%g%% over %s).",
			    100 - s->objective, s->objective, win);
			ax_buf_puts(b, "          description: ");
			ax_buf_put_json_str(b, lb.p ? lb.p : "");
			ax_buf_putc(b, '\n');
		}
		for (i = 0; s->annotations && i < s->annotations->n; i++) {
			ax_buf_printf(
			    b, "          %s: ", s->annotations->l[i].name);
			ax_buf_put_json_str(b, s->annotations->l[i].value);
			ax_buf_putc(b, '\n');
		}
		ax_buf_fini(&e);
		ax_buf_fini(&lb);
	}
	return 0;
}

int rl_slo_render_file(const char *path, ax_buf_t *out, ax_err_t *err)
{
	ax_cfg_t c;
	slo_file_t f = {0};
	const slo_t *v;
	size_t i, j;
	int rv;

	if ((rv = ax_cfg_load_file(&c, path, err)) != 0)
		return rv;
	c.quiet = 1;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", file_fields, &f, err);
	v = f.slos.items;
	for (i = 0; rv == 0 && i < f.slos.n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(v[i].name, v[j].name) == 0) {
				rv = ax_err_set(err, AX_ECONFIG,
				    "%s: slos: two SLOs named \"%s\" (name "
				    "them apart)",
				    path, v[i].name);
				break;
			}
	if (rv == 0 && f.slos.n == 0)
		rv = ax_err_set(err, AX_ECONFIG, "%s: no slos", path);
	if (rv == 0) {
		ax_buf_printf(out,
		    "# Generated by `axon slo render %s`; render again "
		    "rather than edit.\n# SLO rules: multi-window, "
		    "multi-burn-rate alerts (Google SRE workbook).\n"
		    "groups:\n",
		    path);
		for (i = 0; rv == 0 && i < f.slos.n; i++)
			rv = render_one(&v[i], out);
		if (rv == 0 && !ax_buf_ok(out))
			rv = AX_ENOMEM;
		if (rv == AX_ENOMEM)
			ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ax_cfg_free_fields(file_fields, &f);
	ax_cfg_fini(&c);
	return rv;
}
