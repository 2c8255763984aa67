/*
 * cli/query: axon query, query-range (with a terminal chart), series and
 * labels (see query.h).
 */
#include "cli/query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ax_units.h"
#include "cli/client.h"

#define MAX_DRAWN 10

static const char g_marks[] = "*+ox#@%&=~";

/* Value of flag --name=V or --name V at argv[*i]; NULL if argv[*i] is not
 * that flag. */
static const char *flag_val(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* The value of a [t, "v"] pair as the API writes it. */
static const char *pair_val(const cJSON *pair)
{
	const cJSON *v = cJSON_GetArrayItem(pair, 1);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double pair_time(const cJSON *pair)
{
	const cJSON *t = cJSON_GetArrayItem(pair, 0);

	return cJSON_IsNumber(t) ? t->valuedouble : NAN;
}

static int usage(const char *cmd, const char *text)
{
	fprintf(stderr, "usage: axon %s\n", text);
	(void)cmd;
	return 2;
}

/* Append "&name=SECS" for time argument t (NULL: nothing).  0, or
 * AX_EINVAL with err. */
static int time_param(ax_buf_t *path, const char *name, const char *t,
    ax_err_t *err)
{
	double secs;

	if (t == NULL)
		return 0;
	if (cli_parse_time(t, &secs, err) != 0)
		return AX_EINVAL;
	ax_buf_printf(path, "&%s=%.3f", name, secs);
	return 0;
}

/*
 * GET path on the tsdb.  OUT: *ans (the caller deletes it), *data its
 * "data" (borrowed from *ans).  With -o json the data is printed here
 * and *printed set.  Errors are printed; nonzero then.
 */
static int tsdb_data(cli_t *c, const char *cmd, ax_buf_t *path, cJSON **ans,
    const cJSON **data, int *printed)
{
	ax_err_t err = {0};
	long st;

	*printed = 0;
	if (!ax_buf_ok(path)) {
		fprintf(stderr, "axon %s: out of memory\n", cmd);
		return 1;
	}
	if (cli_call(c, CLI_TSDB, 0, "GET", path->p, NULL, NULL, ans, &st,
	        &err) != 0)
		return cli_fail(cmd, &err);
	*data = cJSON_GetObjectItemCaseSensitive(*ans, "data");
	if (c->json) {
		cli_print_json(*data);
		*printed = 1;
	}
	return 0;
}

int cli_query(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	const char *expr = NULL, *v, *tm = NULL;
	ax_buf_t path = AX_BUF_INIT, line = AX_BUF_INIT;
	cJSON *ans = NULL;
	const cJSON *data, *type, *res, *el;
	cli_table_t t;
	int i, rv = 0, printed;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("query", &err);
	for (i = 1; i < argc; i++) {
		if ((v = flag_val(argc, argv, &i, "--time")) != NULL)
			tm = v;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return usage("query", "query EXPR [--time T] [-o json]");
		else if (expr == NULL)
			expr = argv[i];
		else
			return usage("query", "query EXPR [--time T] [-o json]");
	}
	if (expr == NULL) {
		cli_fini(&c);
		return usage("query", "query EXPR [--time T] [-o json]");
	}
	ax_buf_puts(&path, "/api/v1/query?query=");
	cli_urlencode(&path, expr);
	if (time_param(&path, "time", tm, &err) != 0) {
		rv = cli_fail("query", &err);
		goto out;
	}
	if ((rv = tsdb_data(&c, "query", &path, &ans, &data, &printed)) != 0 ||
	    printed)
		goto out;
	type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
	res = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (!cJSON_IsString(type)) {
		fprintf(stderr, "axon query: no resultType in the answer\n");
		rv = 1;
		goto out;
	}
	if (strcmp(type->valuestring, "scalar") == 0 ||
	    strcmp(type->valuestring, "string") == 0) {
		printf("%s\n", pair_val(res));
		goto out;
	}
	cli_table_init(&t, 2);
	cli_table_row(&t, (const char *[]){"SERIES", "VALUE"});
	cJSON_ArrayForEach(el, res)
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(el, "metric");
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(el, "value");
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(el, "values");
		const cJSON *p;

		ax_buf_reset(&line);
		cli_labels_str(&line, m);
		if (val) {
			cli_table_row(&t, (const char *[]){line.p, pair_val(val)});
			continue;
		}
		/* a range vector: every sample, "value @time" */
		cJSON_ArrayForEach(p, vals)
		{
			char cell[128];

			snprintf(cell, sizeof(cell), "%s @%.3f", pair_val(p),
			    pair_time(p));
			cli_table_row(&t, (const char *[]){line.p, cell});
			ax_buf_reset(&line);
		}
	}
	cli_table_print(&t, stdout);
	if (t.nrows == 1)
		printf("(empty result)\n");
	cli_table_fini(&t);
out:
	cJSON_Delete(ans);
	ax_buf_fini(&path);
	ax_buf_fini(&line);
	cli_fini(&c);
	return rv;
}

static size_t term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (cols && atoi(cols) > 20)
		return (size_t)atoi(cols);
	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

static void fmt_clock(double secs, char *buf, size_t n)
{
	time_t t = (time_t)secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_chart(ax_buf_t *b, size_t width, size_t height, size_t n,
    const size_t *np, double *const *t, double *const *v,
    const char *const *names)
{
	double tmin = INFINITY, tmax = -INFINITY, vmin = INFINITY,
	       vmax = -INFINITY;
	char lab[3][32], tl[40], tr[40], *grid;
	size_t i, k, r, lw = 0, w;

	for (i = 0; i < n; i++)
		for (k = 0; k < np[i]; k++) {
			if (t[i][k] < tmin)
				tmin = t[i][k];
			if (t[i][k] > tmax)
				tmax = t[i][k];
			if (!isfinite(v[i][k]))
				continue;
			if (v[i][k] < vmin)
				vmin = v[i][k];
			if (v[i][k] > vmax)
				vmax = v[i][k];
		}
	if (!isfinite(vmin)) {
		ax_buf_puts(b, "(no finite values to draw)\n");
		return;
	}
	if (vmax == vmin) {
		double pad = vmin == 0 ? 1 : fabs(vmin) * 0.1;

		vmin -= pad;
		vmax += pad;
	}
	snprintf(lab[0], sizeof(lab[0]), "%.6g", vmax);
	snprintf(lab[1], sizeof(lab[1]), "%.6g", (vmax + vmin) / 2);
	snprintf(lab[2], sizeof(lab[2]), "%.6g", vmin);
	for (i = 0; i < 3; i++)
		if (strlen(lab[i]) > lw)
			lw = strlen(lab[i]);
	w = width > lw + 12 ? width - lw - 3 : 10;
	if (height < 3)
		height = 3;
	if ((grid = malloc(w * height)) == NULL) {
		ax_buf_puts(b, "(out of memory)\n");
		return;
	}
	memset(grid, ' ', w * height);
	for (i = 0; i < n; i++)
		for (k = 0; k < np[i]; k++) {
			size_t col, row;

			if (!isfinite(v[i][k]))
				continue;
			col = tmax > tmin ? (size_t)lround((t[i][k] - tmin) /
			                        (tmax - tmin) * (double)(w - 1))
			                  : 0;
			row = (size_t)lround((vmax - v[i][k]) / (vmax - vmin) *
			    (double)(height - 1));
			grid[row * w + col] = g_marks[i % (sizeof(g_marks) - 1)];
		}
	for (r = 0; r < height; r++) {
		const char *l = r == 0 ? lab[0]
		    : r == height - 1  ? lab[2]
		    : r == height / 2  ? lab[1]
		                       : "";

		ax_buf_printf(b, "%*s |", (int)lw, l);
		ax_buf_append(b, grid + r * w, w);
		ax_buf_putc(b, '\n');
	}
	ax_buf_printf(b, "%*s +", (int)lw, "");
	for (k = 0; k < w; k++)
		ax_buf_putc(b, '-');
	ax_buf_putc(b, '\n');
	fmt_clock(tmin, tl, sizeof(tl));
	fmt_clock(tmax, tr, sizeof(tr));
	ax_buf_printf(b, "%*s  %s", (int)lw, "", tl);
	if (w > strlen(tl) + strlen(tr))
		ax_buf_printf(b, "%*s", (int)(w - strlen(tl)), tr);
	ax_buf_putc(b, '\n');
	for (i = 0; i < n; i++)
		ax_buf_printf(b, "  %c %s\n", g_marks[i % (sizeof(g_marks) - 1)],
		    names[i]);
	free(grid);
}

int cli_query_range(int argc, char **argv)
{
	static const char *const u =
	    "query-range EXPR [--start T] [--end T] [--step D] [-o json]";
	cli_t c;
	ax_err_t err = {0};
	const char *expr = NULL, *v, *ts = NULL, *te = NULL, *tstep = NULL;
	ax_buf_t path = AX_BUF_INIT, chart = AX_BUF_INIT;
	cJSON *ans = NULL;
	const cJSON *data, *res, *el;
	double start, end, *tv[MAX_DRAWN] = {0}, *vv[MAX_DRAWN] = {0};
	size_t np[MAX_DRAWN] = {0}, n = 0, total = 0, i;
	char *names[MAX_DRAWN] = {0}, num[128];
	int64_t step_ms = 0;
	int a, rv = 0, printed;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("query-range", &err);
	for (a = 1; a < argc; a++) {
		if ((v = flag_val(argc, argv, &a, "--start")) != NULL)
			ts = v;
		else if ((v = flag_val(argc, argv, &a, "--end")) != NULL)
			te = v;
		else if ((v = flag_val(argc, argv, &a, "--step")) != NULL)
			tstep = v;
		else if (argv[a][0] == '-' && argv[a][1] == '-')
			return usage("query-range", u);
		else if (expr == NULL)
			expr = argv[a];
		else
			return usage("query-range", u);
	}
	if (expr == NULL) {
		cli_fini(&c);
		return usage("query-range", u);
	}
	if (cli_parse_time(te ? te : "now", &end, &err) != 0 ||
	    cli_parse_time(ts ? ts : "now-1h", &start, &err) != 0 ||
	    (tstep && ax_api_duration_parse(tstep, &step_ms, &err) != 0)) {
		cli_fini(&c);
		return cli_fail("query-range", &err);
	}
	if (ts && !te && start > end)
		end = start + 3600;
	if (!ts && te)
		start = end - 3600;
	if (step_ms <= 0) {
		/* about one point per column */
		step_ms = (int64_t)((end - start) * 1000.0 / 120.0);
		if (step_ms < 1000)
			step_ms = 1000;
	}
	ax_buf_puts(&path, "/api/v1/query_range?query=");
	cli_urlencode(&path, expr);
	snprintf(num, sizeof(num), "&start=%.3f&end=%.3f&step=%.3f", start,
	    end, (double)step_ms / 1000.0);
	ax_buf_puts(&path, num);
	if ((rv = tsdb_data(&c, "query-range", &path, &ans, &data, &printed)) != 0 ||
	    printed)
		goto out;
	res = cJSON_GetObjectItemCaseSensitive(data, "result");
	cJSON_ArrayForEach(el, res)
	{
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(el, "values");
		const cJSON *p;
		ax_buf_t nm = AX_BUF_INIT;
		size_t k = 0, cnt = (size_t)cJSON_GetArraySize(vals);

		total++;
		if (n == MAX_DRAWN)
			continue;
		tv[n] = malloc((cnt ? cnt : 1) * sizeof(double));
		vv[n] = malloc((cnt ? cnt : 1) * sizeof(double));
		cli_labels_str(&nm, cJSON_GetObjectItemCaseSensitive(el, "metric"));
		names[n] = ax_buf_ok(&nm) ? nm.p : NULL;
		if (tv[n] == NULL || vv[n] == NULL || names[n] == NULL) {
			fprintf(stderr, "axon query-range: out of memory\n");
			ax_buf_fini(&nm);
			names[n] = NULL;
			n++;
			rv = 1;
			goto out;
		}
		cJSON_ArrayForEach(p, vals)
		{
			tv[n][k] = pair_time(p);
			vv[n][k] = strtod(pair_val(p), NULL);
			k++;
		}
		np[n++] = k;
	}
	if (total == 0) {
		printf("(empty result)\n");
		goto out;
	}
	cli_chart(&chart, term_width(), 15, n, np, tv, vv,
	    (const char *const *)names);
	if (!ax_buf_ok(&chart)) {
		fprintf(stderr, "axon query-range: out of memory\n");
		rv = 1;
		goto out;
	}
	fwrite(chart.p, 1, chart.len, stdout);
	if (total > n)
		printf("  (%zu more series not drawn; -o json has them all)\n",
		    total - n);
out:
	for (i = 0; i < n; i++) {
		free(tv[i]);
		free(vv[i]);
		free(names[i]);
	}
	cJSON_Delete(ans);
	ax_buf_fini(&path);
	ax_buf_fini(&chart);
	cli_fini(&c);
	return rv;
}

int cli_series(int argc, char **argv)
{
	static const char *const u =
	    "series MATCHER... [--start T] [--end T] [-o json]";
	cli_t c;
	ax_err_t err = {0};
	const char *v, *ts = NULL, *te = NULL;
	ax_buf_t path = AX_BUF_INIT, line = AX_BUF_INIT;
	cJSON *ans = NULL;
	const cJSON *data, *el;
	int a, rv = 0, nm = 0, printed;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("series", &err);
	ax_buf_puts(&path, "/api/v1/series?");
	for (a = 1; a < argc; a++) {
		if ((v = flag_val(argc, argv, &a, "--start")) != NULL)
			ts = v;
		else if ((v = flag_val(argc, argv, &a, "--end")) != NULL)
			te = v;
		else if (argv[a][0] == '-' && argv[a][1] == '-') {
			cli_fini(&c);
			ax_buf_fini(&path);
			return usage("series", u);
		} else {
			ax_buf_puts(&path, nm++ ? "&match%5B%5D=" : "match%5B%5D=");
			cli_urlencode(&path, argv[a]);
		}
	}
	if (nm == 0) {
		cli_fini(&c);
		ax_buf_fini(&path);
		return usage("series", u);
	}
	if (time_param(&path, "start", ts, &err) != 0 ||
	    time_param(&path, "end", te, &err) != 0) {
		rv = cli_fail("series", &err);
		goto out;
	}
	if ((rv = tsdb_data(&c, "series", &path, &ans, &data, &printed)) != 0 ||
	    printed)
		goto out;
	cJSON_ArrayForEach(el, data)
	{
		ax_buf_reset(&line);
		cli_labels_str(&line, el);
		if (ax_buf_ok(&line))
			printf("%s\n", line.p);
	}
out:
	cJSON_Delete(ans);
	ax_buf_fini(&path);
	ax_buf_fini(&line);
	cli_fini(&c);
	return rv;
}

int cli_labels(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	ax_buf_t path = AX_BUF_INIT;
	cJSON *ans = NULL;
	const cJSON *data, *el;
	int rv = 0, printed;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("labels", &err);
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		cli_fini(&c);
		return usage("labels", "labels [NAME] [-o json]");
	}
	if (argc == 2) {
		ax_buf_puts(&path, "/api/v1/label/");
		cli_urlencode(&path, argv[1]);
		ax_buf_puts(&path, "/values");
	} else
		ax_buf_puts(&path, "/api/v1/labels");
	if ((rv = tsdb_data(&c, "labels", &path, &ans, &data, &printed)) != 0 ||
	    printed)
		goto out;
	cJSON_ArrayForEach(el, data) if (cJSON_IsString(el))
	    printf("%s\n", el->valuestring);
out:
	cJSON_Delete(ans);
	ax_buf_fini(&path);
	cli_fini(&c);
	return rv;
}
