/*
 * cli/client: daemon URLs, HTTP calls and tables for `axon` (see
 * client.h).
 */
#include "cli/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ax_config.h"
#include "ax_units.h"

static const char *const g_names[CLI_N_DAEMONS] = {"axon-tsdb", "axon-scraper",
    "axon-ruler", "axon-alert-router", "axon-discoverer", "axon-demo"};
static const char *const g_flags[CLI_N_DAEMONS] = {"--tsdb.url",
    "--scraper.url", "--ruler.url", "--alert-router.url", "--discoverer.url",
    "--demo.url"};
static const char *const g_env[CLI_N_DAEMONS] = {"AXON_TSDB_URL",
    "AXON_SCRAPER_URL", "AXON_RULER_URL", "AXON_ALERT_ROUTER_URL",
    "AXON_DISCOVERER_URL", "AXON_DEMO_URL"};
static const char *const g_default[CLI_N_DAEMONS] = {"http://127.0.0.1:9090",
    "http://127.0.0.1:9091,http://127.0.0.1:9095", "http://127.0.0.1:9094",
    "http://127.0.0.1:9093", "http://127.0.0.1:9092", "http://127.0.0.1:9400"};

const char *cli_daemon_name(cli_daemon_t d)
{
	return g_names[d];
}

const char *cli_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The CLI config file. */
typedef struct file_cfg {
	char *url[CLI_N_DAEMONS];
	ax_cfg_strings_t scrapers;
} file_cfg_t;

static const ax_cfg_field_t file_fields[] = {
    {.name = "tsdb_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(file_cfg_t, url[CLI_TSDB])},
    {.name = "scraper_urls",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(file_cfg_t, scrapers)},
    {.name = "ruler_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(file_cfg_t, url[CLI_RULER])},
    {.name = "alert_router_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(file_cfg_t, url[CLI_ALERT_ROUTER])},
    {.name = "discoverer_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(file_cfg_t, url[CLI_DISCOVERER])},
    {.name = "demo_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(file_cfg_t, url[CLI_DEMO])},
    {.name = NULL},
};

/* Set daemon d's URLs from a comma-separated list (trailing slashes
 * dropped). */
static int set_urls(cli_t *c, cli_daemon_t d, const char *list,
    const char *from, ax_err_t *err)
{
	const char *p = list;

	while (c->n_urls[d] > 0)
		free(c->urls[d][--c->n_urls[d]]);
	while (*p) {
		size_t n = strcspn(p, ",");
		char *u;

		while (n > 0 && p[n - 1] == '/')
			n--;
		if (n > 0) {
			if (c->n_urls[d] == CLI_MAX_URLS)
				return ax_err_set(err, AX_EINVAL,
				    "%s: more than %d URLs", from,
				    CLI_MAX_URLS);
			if (strncmp(p, "http://", 7) != 0 &&
			    strncmp(p, "https://", 8) != 0)
				return ax_err_set(err, AX_EINVAL,
				    "%s: %.*s is not an http:// or https:// "
				    "URL",
				    from, (int)n, p);
			if ((u = strndup(p, n)) == NULL)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			c->urls[d][c->n_urls[d]++] = u;
		}
		p += strcspn(p, ",");
		while (*p == ',' || *p == '/')
			p++;
	}
	return 0;
}

static int load_file(cli_t *c, const char *path, int must,
    const int *from_flag, ax_err_t *err)
{
	ax_cfg_t cfg = {0};
	file_cfg_t f;
	struct stat st;
	int rv, d;
	ax_buf_t list = AX_BUF_INIT;
	size_t i;

	if (!must && stat(path, &st) != 0)
		return 0;
	memset(&f, 0, sizeof(f));
	cfg.quiet = 1;
	if ((rv = ax_cfg_load_file(&cfg, path, err)) != 0)
		return rv;
	rv = ax_cfg_decode(&cfg, ax_cfg_root(&cfg), "", file_fields, &f, err);
	for (d = 0; rv == 0 && d < CLI_N_DAEMONS; d++) {
		if (from_flag[d] || getenv(g_env[d]))
			continue;
		ax_buf_reset(&list);
		if (d == CLI_SCRAPER)
			for (i = 0; i < f.scrapers.n; i++) {
				ax_buf_puts(&list, f.scrapers.v[i]);
				ax_buf_putc(&list, ',');
			}
		else if (f.url[d])
			ax_buf_puts(&list, f.url[d]);
		if (list.len > 0)
			rv = set_urls(c, (cli_daemon_t)d, list.p, path, err);
	}
	ax_buf_fini(&list);
	ax_cfg_free_fields(file_fields, &f);
	ax_cfg_fini(&cfg);
	return rv;
}

int cli_init(cli_t *c, int *argc, char **argv, ax_err_t *err)
{
	int from_flag[CLI_N_DAEMONS] = {0}, i, o = 1, d, rv = 0;
	const char *file = NULL;
	char home[4096];

	memset(c, 0, sizeof(*c));
	for (i = 1; i < *argc && rv == 0; i++) {
		const char *a = argv[i], *v = NULL;
		int matched = 0;

		for (d = 0; d < CLI_N_DAEMONS && !matched; d++) {
			size_t n = strlen(g_flags[d]);

			if (strncmp(a, g_flags[d], n) != 0 ||
			    (a[n] != '=' && a[n] != '\0'))
				continue;
			matched = 1;
			v = a[n] == '=' ? a + n + 1
			                : (i + 1 < *argc ? argv[++i] : NULL);
			if (v == NULL)
				rv = ax_err_set(err, AX_EINVAL,
				    "%s needs a value", g_flags[d]);
			else
				rv = set_urls(c, (cli_daemon_t)d, v,
				    g_flags[d], err);
			from_flag[d] = 1;
		}
		if (matched)
			continue;
		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
		    strncmp(a, "--output=", 9) == 0) {
			v = a[1] == 'o' ? (i + 1 < *argc ? argv[++i] : NULL)
			    : a[8] == '='
			    ? a + 9
			    : (i + 1 < *argc ? argv[++i] : NULL);
			if (v && strcmp(v, "json") == 0)
				c->json = 1;
			else if (v && strcmp(v, "table") == 0)
				c->json = 0;
			else
				rv = ax_err_set(err, AX_EINVAL,
				    "-o: want json or table, not %s",
				    v ? v : "nothing");
			continue;
		}
		if (strncmp(a, "--config.file=", 14) == 0) {
			file = a + 14;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		argv[o++] = argv[i];
	}
	*argc = o;
	argv[o] = NULL;
	for (d = 0; d < CLI_N_DAEMONS && rv == 0; d++)
		if (!from_flag[d] && getenv(g_env[d]) && *getenv(g_env[d]))
			rv = set_urls(
			    c, (cli_daemon_t)d, getenv(g_env[d]), g_env[d], err);
	if (rv == 0 && file == NULL)
		file = getenv("AXON_CONFIG");
	if (rv == 0 && file)
		rv = load_file(c, file, 1, from_flag, err);
	else if (rv == 0 && getenv("HOME")) {
		snprintf(home, sizeof(home), "%s/.config/axon/cli.yml",
		    getenv("HOME"));
		rv = load_file(c, home, 0, from_flag, err);
	}
	for (d = 0; d < CLI_N_DAEMONS && rv == 0; d++)
		if (c->n_urls[d] == 0)
			rv = set_urls(c, (cli_daemon_t)d, g_default[d],
			    "default", err);
	if (rv != 0)
		cli_fini(c);
	return rv;
}

void cli_fini(cli_t *c)
{
	int d;

	for (d = 0; d < CLI_N_DAEMONS; d++)
		while (c->n_urls[d] > 0)
			free(c->urls[d][--c->n_urls[d]]);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	ax_buf_t *b = ud;

	ax_buf_append(b, p, sz * n);
	return ax_buf_ok(b) ? sz * n : 0;
}

int cli_call(const cli_t *c, cli_daemon_t d, size_t i, const char *method,
    const char *path, const char *body, const char *ctype, cJSON **out,
    long *status, ax_err_t *err)
{
	CURL *h;
	CURLcode rc;
	ax_buf_t url = AX_BUF_INIT, ans = AX_BUF_INIT;
	struct curl_slist *hdr = NULL;
	char ebuf[CURL_ERROR_SIZE] = "", hbuf[160];
	const cJSON *st, *msg;
	int rv = 0;

	*out = NULL;
	*status = 0;
	if (i >= c->n_urls[d])
		return ax_err_set(err, AX_EINVAL, "no URL for %s", g_names[d]);
	if ((h = curl_easy_init()) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_buf_puts(&url, c->urls[d][i]);
	ax_buf_puts(&url, path);
	if (!ax_buf_ok(&url)) {
		curl_easy_cleanup(h);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "axon-cli/" AX_VERSION);
	if (body) {
		snprintf(hbuf, sizeof(hbuf), "Content-Type: %s",
		    ctype ? ctype : "application/x-www-form-urlencoded");
		hdr = curl_slist_append(hdr, hbuf);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK) {
		rv = ax_err_set(err, AX_EIO, "%s at %s is unreachable: %s",
		    g_names[d], c->urls[d][i],
		    ebuf[0] ? ebuf : curl_easy_strerror(rc));
		goto out;
	}
	if (ans.len == 0 && *status / 100 == 2)
		goto out; /* 200 or 204 with no body */
	*out = cJSON_ParseWithLength(ans.p ? ans.p : "", ans.len);
	if (*out == NULL) {
		rv = ax_err_set(err, AX_EPROTO,
		    "%s at %s answered %s with HTTP %ld and no JSON: %.200s",
		    g_names[d], c->urls[d][i], path, *status,
		    ans.p ? ans.p : "");
		goto out;
	}
	st = cJSON_GetObjectItemCaseSensitive(*out, "status");
	if (*status / 100 != 2 ||
	    (cJSON_IsString(st) && strcmp(st->valuestring, "error") == 0)) {
		msg = cJSON_GetObjectItemCaseSensitive(*out, "error");
		if (msg == NULL)
			msg = cJSON_GetObjectItemCaseSensitive(*out, "message");
		rv = ax_err_set(err, AX_EINVAL, "%s (HTTP %ld): %s",
		    g_names[d], *status,
		    cJSON_IsString(msg) ? msg->valuestring : "error");
		cJSON_Delete(*out);
		*out = NULL;
	}
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	ax_buf_fini(&url);
	ax_buf_fini(&ans);
	return rv;
}

void cli_urlencode(ax_buf_t *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			ax_buf_putc(b, (char)ch);
		} else {
			ax_buf_putc(b, '%');
			ax_buf_putc(b, hex[ch >> 4]);
			ax_buf_putc(b, hex[ch & 15]);
		}
	}
}

int cli_parse_time(const char *s, double *secs, ax_err_t *err)
{
	int64_t ms, now = ax_now_ms();

	if (strcmp(s, "now") == 0) {
		*secs = (double)now / 1000.0;
		return 0;
	}
	if (strncmp(s, "now-", 4) == 0 || s[0] == '-') {
		if (ax_duration_parse(s + (s[0] == '-' ? 1 : 4), &ms, err) != 0)
			return ax_err_set(err, AX_EINVAL,
			    "time %s: not now-DURATION (%s)", s, err->msg);
		*secs = (double)(now - ms) / 1000.0;
		return 0;
	}
	if (ax_time_parse(s, &ms, err) != 0)
		return ax_err_set(err, AX_EINVAL,
		    "time %s: want RFC 3339, Unix seconds, now or now-1h", s);
	*secs = (double)ms / 1000.0;
	return 0;
}

void cli_table_init(cli_table_t *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

int cli_table_row(cli_table_t *t, const char *const *cells)
{
	size_t i, base = t->nrows * t->ncols;

	if (ax_grow((void **)&t->cells, &t->cap, base + t->ncols,
	        sizeof(*t->cells)) != 0)
		return AX_ENOMEM;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
		if (t->cells[base + i] == NULL) {
			while (i > 0)
				free(t->cells[base + --i]);
			return AX_ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

void cli_table_print(const cli_table_t *t, FILE *f)
{
	size_t w[32] = {0}, r, i;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols && i < 32; i++) {
			size_t n = strlen(t->cells[r * t->ncols + i]);

			if (n > w[i])
				w[i] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *cell = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)(i < 32 ? w[i] : 0),
				    cell);
		}
	}
}

void cli_table_fini(cli_table_t *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void cli_labels_str(ax_buf_t *b, const cJSON *metric)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(metric, "__name__");
	const cJSON *l;
	int first = 1;

	if (cJSON_IsString(name))
		ax_buf_puts(b, name->valuestring);
	ax_buf_putc(b, '{');
	cJSON_ArrayForEach(l, metric)
	{
		const char *v;

		if (strcmp(l->string, "__name__") == 0 || !cJSON_IsString(l))
			continue;
		if (!first)
			ax_buf_puts(b, ", ");
		first = 0;
		ax_buf_puts(b, l->string);
		ax_buf_puts(b, "=\"");
		for (v = l->valuestring; *v; v++) {
			if (*v == '"' || *v == '\\')
				ax_buf_putc(b, '\\');
			if (*v == '\n')
				ax_buf_puts(b, "\\n");
			else
				ax_buf_putc(b, *v);
		}
		ax_buf_putc(b, '"');
	}
	ax_buf_putc(b, '}');
}

void cli_age(const char *rfc3339, char *buf, size_t n)
{
	int64_t ms, d;
	ax_err_t e;
	char dur[64];

	if (rfc3339 == NULL || ax_time_parse(rfc3339, &ms, &e) != 0 ||
	    ms <= 0) {
		snprintf(buf, n, "never");
		return;
	}
	d = ax_now_ms() - ms;
	if (d < 0) {
		ax_duration_format(-d, dur, sizeof(dur));
		snprintf(buf, n, "in %s", dur);
		return;
	}
	ax_duration_format(d - d % 1000, dur, sizeof(dur));
	snprintf(buf, n, "%s ago", d < 1000 ? "0s" : dur);
}

void cli_print_json(const cJSON *v)
{
	char *s = cJSON_Print(v);

	if (s) {
		printf("%s\n", s);
		free(s);
	}
}

int cli_fail(const char *cmd, const ax_err_t *err)
{
	fprintf(stderr, "axon %s: %s\n", cmd, err->msg);
	return 1;
}
