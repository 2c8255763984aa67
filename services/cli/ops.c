/*
 * cli/ops: axon targets, alerts, silence, rules and status (see ops.h).
 */
#include "cli/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_amatch.h"
#include "ax_units.h"
#include "cli/client.h"

static int usage(const char *text)
{
	fprintf(stderr, "usage: axon %s\n", text);
	return 2;
}

/* The labels of an alert or target but its name label, as {a="b"}. */
static void labels_but(ax_buf_t *b, const cJSON *labels, const char *skip)
{
	cJSON *copy = cJSON_Duplicate(labels, 1);

	if (copy == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, skip);
	cli_labels_str(b, copy);
	cJSON_Delete(copy);
}

int cli_targets(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	cJSON *all, *ans;
	cli_table_t t;
	size_t i, answered = 0;
	int rv = 0;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("targets", &err);
	if (argc != 1) {
		cli_fini(&c);
		return usage("targets [-o json]");
	}
	all = cJSON_CreateArray();
	cli_table_init(&t, 6);
	cli_table_row(&t, (const char *[]){"JOB", "INSTANCE", "HEALTH",
	                      "LAST SCRAPE", "DURATION", "ERROR"});
	for (i = 0; i < c.n_urls[CLI_SCRAPER]; i++) {
		const cJSON *el, *act;
		long st;

		if (cli_call(&c, CLI_SCRAPER, i, "GET", "/api/v1/targets", NULL,
		        NULL, &ans, &st, &err) != 0) {
			fprintf(stderr, "axon targets: %s\n", err.msg);
			continue;
		}
		answered++;
		act = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(ans, "data"),
		    "activeTargets");
		cJSON_ArrayForEach(el, act)
		{
			const cJSON *ls =
			    cJSON_GetObjectItemCaseSensitive(el, "labels");
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(
			    el, "lastScrapeDuration");
			char age[64], dur[32];

			cli_age(cli_jstr(el, "lastScrape"), age, sizeof(age));
			snprintf(dur, sizeof(dur), "%.3fs",
			    cJSON_IsNumber(d) ? d->valuedouble : 0.0);
			cli_table_row(&t,
			    (const char *[]){cli_jstr(ls, "job"),
			        cli_jstr(ls, "instance"),
			        cli_jstr(el, "health"), age, dur,
			        cli_jstr(el, "lastError")});
			if (all)
				cJSON_AddItemToArray(all, cJSON_Duplicate(el, 1));
		}
		cJSON_Delete(ans);
	}
	if (answered == 0)
		rv = 1;
	else if (c.json)
		cli_print_json(all);
	else
		cli_table_print(&t, stdout);
	cJSON_Delete(all);
	cli_table_fini(&t);
	cli_fini(&c);
	return rv;
}

/* The alert whose fingerprint is fp, or NULL. */
static const cJSON *by_fp(const cJSON *alerts, const char *fp)
{
	const cJSON *a;

	cJSON_ArrayForEach(a,
	    alerts) if (strcmp(cli_jstr(a, "fingerprint"), fp) == 0) return a;
	return NULL;
}

/* How many alerts name fp in status.inhibitedBy. */
static int inhibits(const cJSON *alerts, const char *fp)
{
	const cJSON *a, *f;
	int n = 0;

	cJSON_ArrayForEach(a, alerts)
	{
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(a, "status"), "inhibitedBy");

		cJSON_ArrayForEach(f, by) if (cJSON_IsString(f) &&
		    strcmp(f->valuestring, fp) == 0) n++;
	}
	return n;
}

int cli_alerts(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	cJSON *routed = NULL, *ruled = NULL, *out = NULL;
	const cJSON *a, *rules_alerts = NULL;
	cli_table_t t;
	ax_buf_t lb = AX_BUF_INIT, note = AX_BUF_INIT;
	long st;
	int rv = 0, have_router, have_ruler;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("alerts", &err);
	if (argc != 1) {
		cli_fini(&c);
		return usage("alerts [-o json]");
	}
	have_router = cli_call(&c, CLI_ALERT_ROUTER, 0, "GET", "/api/v2/alerts",
	                  NULL, NULL, &routed, &st, &err) == 0;
	if (!have_router)
		fprintf(stderr, "axon alerts: %s\n", err.msg);
	have_ruler = cli_call(&c, CLI_RULER, 0, "GET", "/api/v1/alerts", NULL,
	                 NULL, &ruled, &st, &err) == 0;
	if (!have_ruler)
		fprintf(stderr, "axon alerts: %s (pending alerts not shown)\n",
		    err.msg);
	if (!have_router && !have_ruler) {
		rv = 1;
		goto out;
	}
	rules_alerts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ruled, "data"), "alerts");
	if (c.json) {
		out = cJSON_CreateObject();
		if (out && routed)
			cJSON_AddItemToObject(
			    out, "routed", cJSON_Duplicate(routed, 1));
		if (out && rules_alerts)
			cJSON_AddItemToObject(
			    out, "rules", cJSON_Duplicate(rules_alerts, 1));
		cli_print_json(out);
		goto out;
	}
	cli_table_init(&t, 5);
	cli_table_row(&t,
	    (const char *[]){"ALERT", "LABELS", "STATE", "SINCE", "NOTE"});
	cJSON_ArrayForEach(a, routed)
	{
		const cJSON *ls = cJSON_GetObjectItemCaseSensitive(a, "labels");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "status");
		const cJSON *inh =
		    cJSON_GetObjectItemCaseSensitive(s, "inhibitedBy");
		const cJSON *sil = cJSON_GetObjectItemCaseSensitive(s, "silencedBy");
		const char *state = cli_jstr(s, "state");
		char since[64];
		int n;

		ax_buf_reset(&lb);
		ax_buf_reset(&note);
		labels_but(&lb, ls, "alertname");
		cli_age(cli_jstr(a, "startsAt"), since, sizeof(since));
		if (cJSON_GetArraySize(inh) > 0) {
			const cJSON *cause =
			    by_fp(routed, cJSON_GetArrayItem(inh, 0)->valuestring
			            ? cJSON_GetArrayItem(inh, 0)->valuestring
			            : "");

			ax_buf_puts(&note, "inhibited; root cause: ");
			if (cause) {
				const cJSON *cl = cJSON_GetObjectItemCaseSensitive(
				    cause, "labels");

				ax_buf_puts(&note, cli_jstr(cl, "alertname"));
				labels_but(&note, cl, "alertname");
			} else
				ax_buf_puts(&note,
				    cJSON_GetArrayItem(inh, 0)->valuestring);
		} else if (cJSON_GetArraySize(sil) > 0) {
			ax_buf_puts(&note, "silenced by ");
			ax_buf_puts(&note, cJSON_GetArrayItem(sil, 0)->valuestring);
		}
		if ((n = inhibits(routed, cli_jstr(a, "fingerprint"))) > 0)
			ax_buf_printf(&note, "%sroot cause of %d inhibited alert%s",
			    note.len ? "; " : "", n, n == 1 ? "" : "s");
		cli_table_row(&t,
		    (const char *[]){cli_jstr(ls, "alertname"),
		        ax_buf_ok(&lb) ? lb.p : "",
		        strcmp(state, "active") == 0 ? "firing" : state, since,
		        ax_buf_ok(&note) && note.p ? note.p : ""});
	}
	cJSON_ArrayForEach(a, rules_alerts)
	{
		const cJSON *ls = cJSON_GetObjectItemCaseSensitive(a, "labels");
		const char *state = cli_jstr(a, "state");
		char since[64];

		/* firing ones are the router's to show, unless it is away */
		if (strcmp(state, "pending") != 0 &&
		    (have_router || strcmp(state, "firing") != 0))
			continue;
		ax_buf_reset(&lb);
		labels_but(&lb, ls, "alertname");
		cli_age(cli_jstr(a, "activeAt"), since, sizeof(since));
		cli_table_row(&t,
		    (const char *[]){cli_jstr(ls, "alertname"),
		        ax_buf_ok(&lb) ? lb.p : "", state, since,
		        strcmp(state, "firing") == 0 ? "router unreachable"
		                                     : "in its for: period"});
	}
	cli_table_print(&t, stdout);
	if (t.nrows == 1)
		printf("(no alerts)\n");
	cli_table_fini(&t);
out:
	cJSON_Delete(routed);
	cJSON_Delete(ruled);
	cJSON_Delete(out);
	ax_buf_fini(&lb);
	ax_buf_fini(&note);
	cli_fini(&c);
	return rv;
}

static const char *const silence_usage =
    "silence add --comment=C [--author=A] [--duration=D | --end=T] "
    "[--start=T] MATCHER...\n"
    "       axon silence ls [--expired] [-o json]\n"
    "       axon silence expire ID...";

static int silence_add(cli_t *c, int argc, char **argv)
{
	const char *comment = NULL, *author = getenv("USER"), *dur = "1h";
	const char *start = NULL, *end = NULL;
	ax_amatchers_t ms = {0};
	ax_err_t err = {0};
	cJSON *req = NULL, *arr, *ans = NULL;
	char *body = NULL, ts[64];
	double s_secs, e_secs;
	int64_t dms;
	long st;
	int i, rv = 0;
	size_t k;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--comment=", 10) == 0)
			comment = a + 10;
		else if (strncmp(a, "--author=", 9) == 0)
			author = a + 9;
		else if (strncmp(a, "--duration=", 11) == 0)
			dur = a + 11;
		else if (strncmp(a, "--start=", 8) == 0)
			start = a + 8;
		else if (strncmp(a, "--end=", 6) == 0)
			end = a + 6;
		else if (a[0] == '-' && a[1] == '-') {
			ax_amatchers_free(&ms);
			return usage(silence_usage);
		} else if (ax_amatcher_parse(&ms, a, &err) != 0) {
			ax_amatchers_free(&ms);
			return cli_fail("silence add", &err);
		}
	}
	if (ms.n == 0 || comment == NULL || *comment == '\0') {
		fprintf(stderr, "axon silence add: %s\n",
		    ms.n == 0 ? "at least one matcher is needed"
		              : "a --comment is needed (it tells the next "
		                "person why)");
		ax_amatchers_free(&ms);
		return 2;
	}
	if (cli_parse_time(start ? start : "now", &s_secs, &err) != 0 ||
	    (end ? cli_parse_time(end, &e_secs, &err)
	         : ax_duration_parse(dur, &dms, &err)) != 0) {
		ax_amatchers_free(&ms);
		return cli_fail("silence add", &err);
	}
	if (!end)
		e_secs = s_secs + (double)dms / 1000.0;
	req = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(req, "matchers");
	for (k = 0; arr && k < ms.n; k++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "name", ms.v[k].name);
		cJSON_AddStringToObject(m, "value", ms.v[k].value);
		cJSON_AddBoolToObject(m, "isRegex",
		    ms.v[k].type == AX_AM_RE || ms.v[k].type == AX_AM_NRE);
		cJSON_AddBoolToObject(m, "isEqual",
		    ms.v[k].type == AX_AM_EQ || ms.v[k].type == AX_AM_RE);
		cJSON_AddItemToArray(arr, m);
	}
	ax_time_format((int64_t)(s_secs * 1000), ts, sizeof(ts));
	cJSON_AddStringToObject(req, "startsAt", ts);
	ax_time_format((int64_t)(e_secs * 1000), ts, sizeof(ts));
	cJSON_AddStringToObject(req, "endsAt", ts);
	cJSON_AddStringToObject(
	    req, "createdBy", author && *author ? author : "axon");
	cJSON_AddStringToObject(req, "comment", comment);
	ax_amatchers_free(&ms);
	if ((body = cJSON_PrintUnformatted(req)) == NULL) {
		cJSON_Delete(req);
		fprintf(stderr, "axon silence add: out of memory\n");
		return 1;
	}
	if (cli_call(c, CLI_ALERT_ROUTER, 0, "POST", "/api/v2/silences", body,
	        "application/json", &ans, &st, &err) != 0)
		rv = cli_fail("silence add", &err);
	else if (c->json)
		cli_print_json(ans);
	else
		printf("%s\n", cli_jstr(ans, "silenceID"));
	free(body);
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return rv;
}

static int silence_ls(cli_t *c, int argc, char **argv)
{
	ax_err_t err = {0};
	cJSON *ans = NULL;
	const cJSON *s;
	cli_table_t t;
	ax_buf_t mb = AX_BUF_INIT;
	int expired = 0, i;
	long st;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--expired") == 0)
			expired = 1;
		else
			return usage(silence_usage);
	}
	if (cli_call(c, CLI_ALERT_ROUTER, 0, "GET", "/api/v2/silences", NULL,
	        NULL, &ans, &st, &err) != 0)
		return cli_fail("silence ls", &err);
	if (c->json) {
		cli_print_json(ans);
		cJSON_Delete(ans);
		return 0;
	}
	cli_table_init(&t, 6);
	cli_table_row(&t, (const char *[]){"ID", "MATCHERS", "STATE", "ENDS",
	                      "CREATED BY", "COMMENT"});
	cJSON_ArrayForEach(s, ans)
	{
		const char *state = cli_jstr(
		    cJSON_GetObjectItemCaseSensitive(s, "status"), "state");
		const cJSON *m;
		char ends[64];

		if (!expired && strcmp(state, "expired") == 0)
			continue;
		ax_buf_reset(&mb);
		cJSON_ArrayForEach(
		    m, cJSON_GetObjectItemCaseSensitive(s, "matchers"))
		{
			const cJSON *re =
			    cJSON_GetObjectItemCaseSensitive(m, "isRegex");
			const cJSON *eq =
			    cJSON_GetObjectItemCaseSensitive(m, "isEqual");
			int neg = cJSON_IsFalse(eq);

			if (mb.len)
				ax_buf_putc(&mb, ' ');
			ax_buf_printf(&mb, "%s%s\"%s\"", cli_jstr(m, "name"),
			    cJSON_IsTrue(re) ? (neg ? "!~" : "=~")
			                     : (neg ? "!=" : "="),
			    cli_jstr(m, "value"));
		}
		cli_age(cli_jstr(s, "endsAt"), ends, sizeof(ends));
		cli_table_row(&t,
		    (const char *[]){cli_jstr(s, "id"),
		        ax_buf_ok(&mb) && mb.p ? mb.p : "", state, ends,
		        cli_jstr(s, "createdBy"), cli_jstr(s, "comment")});
	}
	cli_table_print(&t, stdout);
	cli_table_fini(&t);
	ax_buf_fini(&mb);
	cJSON_Delete(ans);
	return 0;
}

static int silence_expire(cli_t *c, int argc, char **argv)
{
	ax_err_t err = {0};
	ax_buf_t path = AX_BUF_INIT;
	cJSON *ans = NULL;
	int i, rv = 0;
	long st;

	if (argc < 3)
		return usage(silence_usage);
	for (i = 2; i < argc; i++) {
		ax_buf_reset(&path);
		ax_buf_puts(&path, "/api/v2/silence/");
		cli_urlencode(&path, argv[i]);
		if (!ax_buf_ok(&path) ||
		    cli_call(c, CLI_ALERT_ROUTER, 0, "DELETE", path.p, NULL,
		        NULL, &ans, &st, &err) != 0) {
			fprintf(stderr, "axon silence expire: %s: %s\n", argv[i],
			    ax_buf_ok(&path) ? err.msg : "out of memory");
			rv = 1;
		}
		cJSON_Delete(ans);
		ans = NULL;
	}
	ax_buf_fini(&path);
	return rv;
}

int cli_silence(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	int rv;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("silence", &err);
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		rv = silence_add(&c, argc, argv);
	else if (argc >= 2 && (strcmp(argv[1], "ls") == 0 ||
	                          strcmp(argv[1], "query") == 0))
		rv = silence_ls(&c, argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "expire") == 0)
		rv = silence_expire(&c, argc, argv);
	else
		rv = usage(silence_usage);
	cli_fini(&c);
	return rv;
}

int cli_rules(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	cJSON *ans = NULL;
	const cJSON *g, *r, *data;
	cli_table_t t;
	long st;
	int rv = 0;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("rules", &err);
	if (argc != 1) {
		cli_fini(&c);
		return usage("rules [-o json]");
	}
	if (cli_call(&c, CLI_RULER, 0, "GET", "/api/v1/rules", NULL, NULL, &ans,
	        &st, &err) != 0) {
		cli_fini(&c);
		return cli_fail("rules", &err);
	}
	data = cJSON_GetObjectItemCaseSensitive(ans, "data");
	if (c.json) {
		cli_print_json(data);
		goto out;
	}
	cli_table_init(&t, 7);
	cli_table_row(&t, (const char *[]){"GROUP", "RULE", "TYPE", "HEALTH",
	                      "STATE", "LAST EVAL", "ERROR"});
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(data, "groups"))
	{
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(g, "rules"))
		{
			const char *type = cli_jstr(r, "type");
			char age[64];

			cli_age(
			    cli_jstr(r, "lastEvaluation"), age, sizeof(age));
			cli_table_row(&t,
			    (const char *[]){cli_jstr(g, "name"),
			        cli_jstr(r, "name"),
			        strcmp(type, "alerting") == 0 ? "alert"
			                                      : "record",
			        cli_jstr(r, "health"),
			        strcmp(type, "alerting") == 0
			            ? cli_jstr(r, "state")
			            : "",
			        age, cli_jstr(r, "lastError")});
		}
	}
	cli_table_print(&t, stdout);
	cli_table_fini(&t);
out:
	cJSON_Delete(ans);
	cli_fini(&c);
	return rv;
}

int cli_status(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	cli_table_t t;
	cJSON *all;
	int d, rv = 0;
	size_t i;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("status", &err);
	if (argc != 1) {
		cli_fini(&c);
		return usage("status [-o json]");
	}
	all = cJSON_CreateArray();
	cli_table_init(&t, 5);
	cli_table_row(
	    &t, (const char *[]){"DAEMON", "URL", "STATE", "VERSION", "ERROR"});
	for (d = 0; d < CLI_DEMO; d++) /* the daemons, not the demo */
		for (i = 0; i < c.n_urls[d]; i++) {
			cJSON *ans = NULL, *o = cJSON_CreateObject();
			const cJSON *data;
			long st;
			int ok = cli_call(&c, (cli_daemon_t)d, i, "GET",
			             "/api/v1/status/buildinfo", NULL, NULL,
			             &ans, &st, &err) == 0;

			data = cJSON_GetObjectItemCaseSensitive(ans, "data");
			cli_table_row(&t,
			    (const char *[]){cli_daemon_name((cli_daemon_t)d),
			        c.urls[d][i], ok ? "up" : "unreachable",
			        ok ? cli_jstr(data, "version") : "",
			        ok ? "" : err.msg});
			if (o) {
				cJSON_AddStringToObject(o, "daemon",
				    cli_daemon_name((cli_daemon_t)d));
				cJSON_AddStringToObject(o, "url", c.urls[d][i]);
				cJSON_AddBoolToObject(o, "up", ok);
				if (ok)
					cJSON_AddItemToObject(o, "buildinfo",
					    cJSON_Duplicate(data, 1));
				else
					cJSON_AddStringToObject(
					    o, "error", err.msg);
				cJSON_AddItemToArray(all, o);
			}
			if (!ok)
				rv = 1;
			cJSON_Delete(ans);
		}
	if (c.json)
		cli_print_json(all);
	else
		cli_table_print(&t, stdout);
	cJSON_Delete(all);
	cli_table_fini(&t);
	cli_fini(&c);
	return rv;
}
