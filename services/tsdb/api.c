/*
 * api: axon-tsdb's Prometheus-compatible HTTP API for series metadata:
 * /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values,
 * /api/v1/metadata, /api/v1/status/tsdb and /federate, plus the
 * remote-write receiver route.  Response JSON has the shape of Prometheus
 * 2.42's: {"status":"success","data":...} or
 * {"status":"error","errorType":"bad_data","error":"..."} with 400.
 */
#include "tsdb/block.h"
#include "tsdb/compact.h"
#include "tsdb/ingest.h"
#include "tsdb/qapi.h"
#include "tsdb/relay.h"
#include "tsdb/tsdb.h"
#include "ax_log.h"
#include "ax_units.h"

#include <errno.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MATCH 64

typedef struct selectors {
	ax_selector_t *sel[MAX_MATCH];
	size_t n;
} selectors_t;

static void sel_free(selectors_t *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		ax_selector_free(s->sel[i]);
	s->n = 0;
}

/* Parse match[] parameters; 400 on error. */
static int parse_matches(
    ax_http_req_t *req, ax_http_resp_t *resp, selectors_t *out, int required)
{
	const char *m[MAX_MATCH];
	size_t n = ax_http_params(req, "match[]", m, MAX_MATCH), i;
	ax_err_t e;

	out->n = 0;
	if (n == 0 && required) {
		ax_http_resp_error(
		    resp, 400, "bad_data", "no match[] parameter provided");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ax_selector_parse(m[i], &out->sel[i], &e) != 0) {
			sel_free(out);
			ax_http_resp_error(resp, 400, "bad_data", "%s", e.msg);
			return -1;
		}
		out->n = i + 1;
		if (out->sel[i]->range_ms > 0 || out->sel[i]->offset_ms != 0 ||
		    out->sel[i]->at_kind != AX_AT_NONE) {
			sel_free(out);
			ax_http_resp_error(resp, 400, "bad_data",
			    "invalid parameter \"match[]\": a series selector "
			    "may not have a range, offset or @ modifier: %s",
			    m[i]);
			return -1;
		}
	}
	return 0;
}

static int parse_range(
    ax_http_req_t *req, ax_http_resp_t *resp, int64_t *start, int64_t *end)
{
	const char *s = ax_http_param(req, "start"),
	           *e = ax_http_param(req, "end");
	ax_err_t err;

	*start = INT64_MIN;
	*end = INT64_MAX;
	if (s && *s && ax_time_parse(s, start, &err) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"start\": %s", err.msg);
		return -1;
	}
	if (e && *e && ax_time_parse(e, end, &err) != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"end\": %s", err.msg);
		return -1;
	}
	if (*end < *start) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid parameter \"end\": end timestamp must not be "
		    "before start time");
		return -1;
	}
	return 0;
}

static int cmp_series(const void *a, const void *b)
{
	return ax_labels_cmp(
	    (*(tsdb_series_t *const *)a)->ls, (*(tsdb_series_t *const *)b)->ls);
}

/* The selected series sorted by labels.  OUT: malloc'd array. */
static tsdb_series_t **sorted_series(tsdb_t *t, const tsdb_plist_t *refs)
{
	tsdb_series_t **ss = malloc((refs->n ? refs->n : 1) * sizeof(*ss));
	size_t i;

	if (ss == NULL)
		return NULL;
	for (i = 0; i < refs->n; i++)
		ss[i] = tsdb_head_series(t->head, refs->v[i]);
	qsort(ss, refs->n, sizeof(*ss), cmp_series);
	return ss;
}

/* Union of the refs selected by every selector. */
static int select_all(tsdb_t *t, selectors_t *s, int64_t start, int64_t end,
    tsdb_plist_t *out, ax_http_resp_t *resp)
{
	tsdb_plist_t one = {0}, tmp = {0};
	size_t i;
	ax_err_t e;

	out->n = 0;
	for (i = 0; i < s->n; i++) {
		if (tsdb_head_select(t->head, s->sel[i]->matchers,
		        s->sel[i]->n_matchers, start, end, &one, &e) != 0) {
			ax_http_resp_error(resp, 422, "execution", "%s", e.msg);
			tsdb_plist_fini(&one);
			tsdb_plist_fini(&tmp);
			return -1;
		}
		if (tsdb_plist_union(out, &one, &tmp) != 0) {
			ax_http_resp_error(
			    resp, 503, "internal", "out of memory");
			tsdb_plist_fini(&one);
			tsdb_plist_fini(&tmp);
			return -1;
		}
		{
			tsdb_plist_t sw = *out;

			*out = tmp;
			tmp = sw;
		}
	}
	tsdb_plist_fini(&one);
	tsdb_plist_fini(&tmp);
	return 0;
}


static void h_series(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	selectors_t s;
	ax_labels_t **ls;
	size_t n, i;
	int64_t start, end;
	ax_err_t e;

	if (parse_matches(req, resp, &s, 1) != 0)
		return;
	if (parse_range(req, resp, &start, &end) != 0) {
		sel_free(&s);
		return;
	}
	if (tsdb_db_series(t->db, s.sel, s.n, start, end, &ls, &n, &e) != 0) {
		sel_free(&s);
		ax_http_resp_error(resp, 422, "execution", "%s", e.msg);
		return;
	}
	sel_free(&s);
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":[");
	for (i = 0; i < n; i++) {
		if (i)
			ax_buf_putc(&resp->body, ',');
		ax_labels_put_json(ls[i], &resp->body);
	}
	ax_buf_puts(&resp->body, "]}");
	tsdb_db_free_series(ls, n);
}

static void put_str_array(ax_buf_t *b, char **v, size_t n)
{
	size_t i;

	ax_buf_puts(b, "{\"status\":\"success\",\"data\":[");
	for (i = 0; i < n; i++) {
		if (i)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, v[i]);
	}
	ax_buf_puts(b, "]}");
}

static void label_lists(
    tsdb_t *t, ax_http_req_t *req, ax_http_resp_t *resp, const char *name)
{
	selectors_t s;
	char **v;
	size_t n;
	ax_err_t e;
	int64_t start, end;

	if (parse_matches(req, resp, &s, 0) != 0)
		return;
	if (parse_range(req, resp, &start, &end) != 0) {
		sel_free(&s);
		return;
	}
	if (tsdb_db_labels(t->db, name, s.sel, s.n, start, end, &v, &n, &e) !=
	    0) {
		sel_free(&s);
		ax_http_resp_error(resp, 422, "execution", "%s", e.msg);
		return;
	}
	sel_free(&s);
	put_str_array(&resp->body, v, n);
	tsdb_strv_free(v, n);
}

static void h_labels(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	label_lists(arg, req, resp, NULL);
}

static void h_label_values(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	const char *path = ax_http_path(req);
	const char *name = path + strlen("/api/v1/label/");
	const char *slash = strchr(name, '/');
	char nm[256];

	if (slash == NULL || strcmp(slash, "/values") != 0 ||
	    (size_t)(slash - name) >= sizeof(nm)) {
		ax_http_resp_text(resp, 404, "404 page not found\n");
		return;
	}
	memcpy(nm, name, (size_t)(slash - name));
	nm[slash - name] = '\0';
	if (!ax_label_name_valid(nm, strlen(nm))) {
		ax_http_resp_error(
		    resp, 400, "bad_data", "invalid label name: \"%s\"", nm);
		return;
	}
	label_lists(arg, req, resp, nm);
}

/* ---- metadata ---- */

void tsdb_meta_put(tsdb_t *t, const char *family, const char *type,
    const char *help, const char *unit)
{
	tsdb_meta_t *m, *old = NULL;

	pthread_mutex_lock(&t->meta_mu);
	m = ax_hmap_get(&t->meta, family, strlen(family));
	if (m && strcmp(m->type, type) == 0 &&
	    strcmp(m->help, help ? help : "") == 0 &&
	    strcmp(m->unit, unit ? unit : "") == 0) {
		pthread_mutex_unlock(&t->meta_mu);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		pthread_mutex_unlock(&t->meta_mu);
		return;
	}
	snprintf(m->type, sizeof(m->type), "%s", type);
	m->help = strdup(help ? help : "");
	m->unit = strdup(unit ? unit : "");
	if (m->help == NULL || m->unit == NULL ||
	    ax_hmap_put(&t->meta, family, strlen(family), m, (void **)&old) !=
	        0) {
		free(m->help);
		free(m->unit);
		free(m);
		pthread_mutex_unlock(&t->meta_mu);
		return;
	}
	if (old) {
		free(old->help);
		free(old->unit);
		free(old);
	}
	pthread_mutex_unlock(&t->meta_mu);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void h_metadata(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	const char *metric = ax_http_param(req, "metric");
	const char *lim = ax_http_param(req, "limit");
	long limit = -1;
	const char **keys;
	ax_hmap_ent_t *e;
	size_t pos = 0, n = 0, i, shown = 0;

	if (lim && *lim) {
		char *end;

		errno = 0;
		limit = strtol(lim, &end, 10);
		if (*end != '\0' || errno != 0) {
			ax_http_resp_error(
			    resp, 400, "bad_data", "limit must be a number");
			return;
		}
	}
	pthread_mutex_lock(&t->meta_mu);
	keys = malloc((t->meta.n ? t->meta.n : 1) * sizeof(*keys));
	if (keys == NULL) {
		pthread_mutex_unlock(&t->meta_mu);
		ax_http_resp_error(resp, 503, "internal", "out of memory");
		return;
	}
	while ((e = ax_hmap_next(&t->meta, &pos)) != NULL)
		if (metric == NULL || *metric == '\0' ||
		    strcmp(metric, e->key) == 0)
			keys[n++] = e->key;
	qsort(keys, n, sizeof(*keys), strp_cmp);
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":{");
	for (i = 0; i < n && (limit < 0 || (long)shown < limit); i++) {
		tsdb_meta_t *m =
		    ax_hmap_get(&t->meta, keys[i], strlen(keys[i]));

		if (shown++)
			ax_buf_putc(&resp->body, ',');
		ax_buf_put_json_str(&resp->body, keys[i]);
		ax_buf_puts(&resp->body, ":[{\"type\":");
		ax_buf_put_json_str(&resp->body, m->type);
		ax_buf_puts(&resp->body, ",\"help\":");
		ax_buf_put_json_str(&resp->body, m->help);
		ax_buf_puts(&resp->body, ",\"unit\":");
		ax_buf_put_json_str(&resp->body, m->unit);
		ax_buf_puts(&resp->body, "}]");
	}
	ax_buf_puts(&resp->body, "}}");
	pthread_mutex_unlock(&t->meta_mu);
	free(keys);
}

/* ---- status/tsdb ---- */

typedef struct stat_ent {
	const char *name;
	uint64_t value;
} stat_ent_t;

static int stat_cmp(const void *a, const void *b)
{
	const stat_ent_t *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void put_top(ax_buf_t *b, const char *key, stat_ent_t *v, size_t n)
{
	size_t i;

	qsort(v, n, sizeof(*v), stat_cmp);
	ax_buf_printf(b, ",\"%s\":[", key);
	for (i = 0; i < n && i < 10; i++) {
		if (i)
			ax_buf_putc(b, ',');
		ax_buf_puts(b, "{\"name\":");
		ax_buf_put_json_str(b, v[i].name);
		ax_buf_printf(
		    b, ",\"value\":%llu}", (unsigned long long)v[i].value);
	}
	ax_buf_putc(b, ']');
}

static void h_status_tsdb(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	tsdb_head_stats_t st;
	const tsdb_index_t *ix;
	const char **names = NULL, **vals = NULL;
	size_t nn = 0, nv, i, j, n_pairs = 0, cap_pairs = 0;
	stat_ent_t *by_metric = NULL, *by_name = NULL, *mem = NULL,
	           *pairs = NULL;
	char **pair_names = NULL;
	size_t n_metric = 0;

	(void)req;
	tsdb_head_stats(t->head, &st);
	ax_buf_printf(&resp->body,
	    "{\"status\":\"success\",\"data\":{\"headStats\":{\"numSeries\":%"
	    "llu,"
	    "\"numLabelPairs\":%llu,\"chunkCount\":%llu,\"minTime\":%lld,"
	    "\"maxTime\":%lld}",
	    (unsigned long long)st.series, (unsigned long long)st.label_pairs,
	    (unsigned long long)st.chunks,
	    (long long)(st.series ? st.mint : INT64_MAX),
	    (long long)(st.series ? st.maxt : INT64_MIN));
	tsdb_head_rlock(t->head);
	ix = tsdb_head_index(t->head);
	if (tsdb_index_label_names(ix, &names, &nn) != 0)
		goto oom;
	by_name = calloc(nn ? nn : 1, sizeof(*by_name));
	mem = calloc(nn ? nn : 1, sizeof(*mem));
	if (by_name == NULL || mem == NULL)
		goto oom;
	for (i = 0; i < nn; i++) {
		if (tsdb_index_label_values(ix, names[i], &vals, &nv) != 0)
			goto oom;
		by_name[i].name = names[i];
		by_name[i].value = nv;
		mem[i].name = names[i];
		for (j = 0; j < nv; j++) {
			const tsdb_plist_t *p =
			    tsdb_index_postings(ix, names[i], vals[j]);
			uint64_t cnt = p ? p->n : 0;
			char *pn;

			mem[i].value += strlen(vals[j]) * cnt;
			if (strcmp(names[i], "__name__") == 0) {
				stat_ent_t *nb = realloc(
				    by_metric, (n_metric + 1) * sizeof(*nb));

				if (nb == NULL) {
					free(vals);
					goto oom;
				}
				by_metric = nb;
				by_metric[n_metric].name = vals[j];
				by_metric[n_metric++].value = cnt;
			}
			if (n_pairs == cap_pairs) {
				size_t nc = cap_pairs ? cap_pairs * 2 : 256;
				stat_ent_t *np =
				    realloc(pairs, nc * sizeof(*np));
				char **npn =
				    realloc(pair_names, nc * sizeof(*npn));

				if (np)
					pairs = np;
				if (npn)
					pair_names = npn;
				if (np == NULL || npn == NULL) {
					free(vals);
					goto oom;
				}
				cap_pairs = nc;
			}
			pn = malloc(strlen(names[i]) + strlen(vals[j]) + 2);
			if (pn == NULL) {
				free(vals);
				goto oom;
			}
			sprintf(pn, "%s=%s", names[i], vals[j]);
			pair_names[n_pairs] = pn;
			pairs[n_pairs].name = pn;
			pairs[n_pairs++].value = cnt;
		}
		free(vals);
	}
	put_top(&resp->body, "seriesCountByMetricName", by_metric, n_metric);
	put_top(&resp->body, "labelValueCountByLabelName", by_name, nn);
	put_top(&resp->body, "memoryInBytesByLabelName", mem, nn);
	put_top(&resp->body, "seriesCountByLabelValuePair", pairs, n_pairs);
	ax_buf_puts(&resp->body, "}}");
	goto out;
oom:
	ax_http_resp_error(resp, 503, "internal", "out of memory");
out:
	tsdb_head_runlock(t->head);
	for (i = 0; i < n_pairs; i++)
		free(pair_names[i]);
	free(pair_names);
	free(pairs);
	free(names);
	free(by_name);
	free(mem);
	free(by_metric);
}

/* ---- /federate ---- */

typedef struct last_ctx {
	int64_t t;
	double v;
	int have;
} last_ctx_t;

static int last_fn(void *arg, int64_t t, double v)
{
	last_ctx_t *c = arg;

	c->t = t;
	c->v = v;
	c->have = 1;
	return 0;
}

static int is_stale(double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	return u == 0x7ff0000000000002ULL;
}

static void put_label(ax_buf_t *b, const char *n, const char *v, int *first)
{
	if (!*first)
		ax_buf_putc(b, ',');
	*first = 0;
	ax_buf_printf(b, "%s=\"", n);
	ax_buf_put_escaped(b, v, strlen(v), 1);
	ax_buf_putc(b, '"');
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const ax_label_t *)a)->name, ((const ax_label_t *)b)->name);
}

static void h_federate(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	selectors_t s;
	tsdb_plist_t refs = {0};
	tsdb_series_t **ss;
	int64_t now = ax_now_ms();
	const char *last_name = NULL;
	ax_labels_t *ext;
	size_t i;

	if (parse_matches(req, resp, &s, 1) != 0)
		return;
	tsdb_db_rlock(t->db);
	if (select_all(t, &s, now - t->lookback_ms, now, &refs, resp) != 0) {
		tsdb_db_runlock(t->db);
		sel_free(&s);
		tsdb_plist_fini(&refs);
		return;
	}
	sel_free(&s);
	ss = sorted_series(t, &refs);
	if (ss == NULL) {
		tsdb_db_runlock(t->db);
		tsdb_plist_fini(&refs);
		ax_http_resp_error(resp, 503, "internal", "out of memory");
		return;
	}
	pthread_mutex_lock(&t->cfg_mu);
	ext = t->external_labels ? ax_labels_dup(t->external_labels) : NULL;
	pthread_mutex_unlock(&t->cfg_mu);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	for (i = 0; i < refs.n; i++) {
		const ax_labels_t *l = ss[i]->ls;
		const char *name = ax_labels_get(l, "__name__");
		last_ctx_t c = {0, 0, 0};
		uint32_t k;
		int first = 1;

		if (name == NULL)
			continue;
		tsdb_head_series_samples(
		    ss[i], now - t->lookback_ms, now, last_fn, &c);
		if (!c.have || is_stale(c.v))
			continue;
		if (last_name == NULL || strcmp(last_name, name) != 0) {
			ax_buf_printf(&resp->body, "# TYPE %s untyped\n", name);
			last_name = name;
		}
		ax_buf_puts(&resp->body, name);
		ax_buf_putc(&resp->body, '{');
		{
			/* As Prometheus' federation: the series' labels, the
			 * external labels it lacks, and instance="" when there
			 * is no instance label at all; sorted by name. */
			ax_label_t pairs[128];
			size_t np = 0, q;
			int has_inst = ax_labels_get(l, "instance") != NULL;

			for (k = 0; k < l->n && np < 127; k++)
				if (strcmp(l->l[k].name, "__name__") != 0)
					pairs[np++] = l->l[k];
			for (k = 0; ext && k < ext->n && np < 127; k++) {
				if (ax_labels_get(l, ext->l[k].name))
					continue;
				if (strcmp(ext->l[k].name, "instance") == 0)
					has_inst = 1;
				pairs[np++] = ext->l[k];
			}
			if (!has_inst) {
				pairs[np].name = "instance";
				pairs[np++].value = "";
			}
			qsort(pairs, np, sizeof(pairs[0]), label_cmp);
			for (q = 0; q < np; q++)
				put_label(&resp->body, pairs[q].name,
				    pairs[q].value, &first);
		}
		ax_buf_puts(&resp->body, "} ");
		ax_buf_put_double(&resp->body, c.v);
		ax_buf_printf(&resp->body, " %lld\n", (long long)c.t);
	}
	tsdb_db_runlock(t->db);
	ax_labels_free(ext);
	free(ss);
	tsdb_plist_fini(&refs);
}

/* ---- admin: snapshot ---- */

static void h_snapshot(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	const char *skip = ax_http_param(req, "skip_head");
	char name[64], dir[4200], snaps[4200], walp[4300], ulid[27];
	uint8_t rnd[8];
	struct tm tm;
	time_t now = time(NULL);
	tsdb_head_stats_t st;
	tsdb_block_stats_t bst;
	ax_err_t e;

	if (!ax_daemon_flag_bool(t->d, "web.enable-admin-api")) {
		ax_http_resp_error(
		    resp, 503, "unavailable", "admin APIs disabled");
		return;
	}
	if (!t->ready) {
		ax_http_resp_error(
		    resp, 503, "unavailable", "not ready: replaying the WAL");
		return;
	}
	gmtime_r(&now, &tm);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	snprintf(name, sizeof(name),
	    "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x%02x%02x%02x%02x%02x",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7]);
	snprintf(snaps, sizeof(snaps), "%s/snapshots", t->data_dir);
	snprintf(dir, sizeof(dir), "%s/%s", snaps, name);
	/* an empty wal/ lets `promtool tsdb dump` open the snapshot as a DB */
	snprintf(walp, sizeof(walp), "%s/wal", dir);
	if ((mkdir(snaps, 0777) != 0 && errno != EEXIST) ||
	    mkdir(dir, 0777) != 0 || mkdir(walp, 0777) != 0) {
		ax_http_resp_error(resp, 500, "internal",
		    "create snapshot dir %s: %s", dir, strerror(errno));
		return;
	}
	tsdb_head_stats(t->head, &st);
	if (!(skip && strcmp(skip, "true") == 0) && st.series > 0 &&
	    st.maxt != INT64_MIN) {
		int rv;

		tsdb_db_rlock(t->db);
		rv = tsdb_block_write_head(
		    t->head, dir, st.mint, st.maxt + 1, ulid, &bst, &e);
		tsdb_db_runlock(t->db);
		if (rv != 0) {
			ax_http_resp_error(resp, 500, "internal",
			    "create snapshot: %s", e.msg);
			return;
		}
		ax_log_info(
		    "snapshot created", "name", name, "head_block", ulid);
	}
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":{\"name\":");
	ax_buf_put_json_str(&resp->body, name);
	ax_buf_puts(&resp->body, "}}");
}

static int admin_ok(tsdb_t *t, ax_http_resp_t *resp)
{
	if (!ax_daemon_flag_bool(t->d, "web.enable-admin-api")) {
		ax_http_resp_error(
		    resp, 503, "unavailable", "admin APIs disabled");
		return 0;
	}
	if (!t->ready) {
		ax_http_resp_error(
		    resp, 503, "unavailable", "not ready: replaying the WAL");
		return 0;
	}
	return 1;
}

static void h_delete_series(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	selectors_t s;
	int64_t start, end;
	size_t n;
	ax_err_t e;
	char cnt[32];

	if (!admin_ok(t, resp))
		return;
	if (parse_matches(req, resp, &s, 1) != 0)
		return;
	if (parse_range(req, resp, &start, &end) != 0) {
		sel_free(&s);
		return;
	}
	if (tsdb_db_delete(t->db, s.sel, s.n, start, end, &n, &e) != 0) {
		sel_free(&s);
		ax_http_resp_error(
		    resp, 500, "internal", "delete series: %s", e.msg);
		return;
	}
	sel_free(&s);
	snprintf(cnt, sizeof(cnt), "%zu", n);
	ax_log_info("series deleted (tombstones written)", "series", cnt);
	resp->status = 204;
}

static void h_clean_tombstones(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	size_t n;
	ax_err_t e;

	(void)req;
	if (!admin_ok(t, resp))
		return;
	if (tsdb_clean_tombstones(t->db, &n, &e) != 0) {
		ax_http_resp_error(
		    resp, 500, "internal", "clean tombstones: %s", e.msg);
		return;
	}
	resp->status = 204;
}

int tsdb_api_register(tsdb_t *t, ax_http_server_t *srv)
{
	int rv = 0;

	rv |= ax_http_route(srv, "GET", "/api/v1/series", h_series, t);
	rv |= ax_http_route(srv, "POST", "/api/v1/series", h_series, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/labels", h_labels, t);
	rv |= ax_http_route(srv, "POST", "/api/v1/labels", h_labels, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/label/*", h_label_values, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/metadata", h_metadata, t);
	rv |=
	    ax_http_route(srv, "GET", "/api/v1/status/tsdb", h_status_tsdb, t);
	rv |= ax_http_route(srv, "GET", "/federate", h_federate, t);
	rv |= ax_http_route(
	    srv, "POST", "/api/v1/admin/tsdb/snapshot", h_snapshot, t);
	rv |= ax_http_route(
	    srv, "PUT", "/api/v1/admin/tsdb/snapshot", h_snapshot, t);
	rv |=
	    ax_http_route(srv, "GET", "/api/v1/targets", tsdb_relay_targets, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/rules", tsdb_relay_rules, t);
	rv |= ax_http_route(srv, "GET", "/api/v1/alerts", tsdb_relay_alerts, t);
	rv |= ax_http_route(srv, "POST", "/api/v1/admin/tsdb/delete_series",
	    h_delete_series, t);
	rv |= ax_http_route(
	    srv, "PUT", "/api/v1/admin/tsdb/delete_series", h_delete_series, t);
	rv |= ax_http_route(srv, "POST", "/api/v1/admin/tsdb/clean_tombstones",
	    h_clean_tombstones, t);
	rv |= ax_http_route(srv, "PUT", "/api/v1/admin/tsdb/clean_tombstones",
	    h_clean_tombstones, t);
	rv |= tsdb_qapi_register(t, srv);
	if (ax_daemon_flag_bool(t->d, "web.enable-remote-write-receiver"))
		rv |= ax_http_route(
		    srv, "POST", "/api/v1/write", tsdb_remote_write_handler, t);
	return rv;
}
