/*
 * ar_api: Alertmanager API v2 handlers (api.h).
 */
#include "alert-router/api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-router/cluster.h"
#include "alert-router/dispatch.h"
#include "alert-router/inhibit.h"
#include "alert-router/topo.h"
#include "ax_amatch.h"
#include "ax_tmpl.h"
#include "ax_log.h"
#include "ax_regex.h"
#include "ax_units.h"

#define MAX_FILTERS 64

ar_cfgref_t *ar_cfgref_ref(ar_cfgref_t *r)
{
	if (r)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

void ar_cfgref_unref(ar_cfgref_t *r)
{
	if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ar_config_free(r->cfg);
	ax_tmpl_free(r->tmpl);
	free(r);
}

/* ---- small helpers ---- */

static void resp_msg(ax_http_resp_t *resp, int status, const char *msg)
{
	cJSON *j = cJSON_CreateString(msg);

	ax_http_resp_json(resp, status, j);
	cJSON_Delete(j);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char t[48];

	ax_time_format(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, k, t);
}

static cJSON *labels_json(const ax_labels_t *ls)
{
	cJSON *o = cJSON_CreateObject();
	uint32_t i;

	for (i = 0; o && ls && i < ls->n; i++)
		cJSON_AddStringToObject(o, ls->l[i].name, ls->l[i].value);
	return o;
}

/* A bool query parameter ("true"/"false"), default def; -1 if bad. */
static int bool_param(ax_http_req_t *req, const char *name, int def)
{
	const char *v = ax_http_param(req, name);

	if (v == NULL || *v == '\0')
		return def;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

/* Alertmanager's matchFilterLabels over a label set (alerts) or the
 * name -> value map of a silence's matchers. */
typedef const char *(*lookup_fn)(const void *src, const char *name);

static int filters_match(
    const ax_amatchers_t *f, lookup_fn get, const void *src)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		const ax_amatcher_t *m = &f->v[i];
		const char *v = get(src, m->name);
		int neg = m->type == AX_AM_NE || m->type == AX_AM_NRE;

		if (m->value[0] == '\0' && (neg ? v != NULL : v == NULL))
			continue;
		if (!ax_amatcher_matches(m, v ? v : ""))
			return 0;
	}
	return 1;
}

static const char *labels_lookup(const void *src, const char *name)
{
	return ax_labels_get(src, name);
}

static const char *silence_lookup(const void *src, const char *name)
{
	const ar_silence_t *s = src;
	const char *v = NULL;
	size_t i;

	for (i = 0; i < s->matchers.n; i++)
		if (strcmp(s->matchers.v[i].name, name) == 0)
			v = s->matchers.v[i].value; /* the last one wins */
	return v;
}

/* filter=<matcher> parameters, each one matcher as amtool sends them. */
static int parse_filters(
    ax_http_req_t *req, ax_amatchers_t *out, ax_http_resp_t *resp)
{
	const char *f[MAX_FILTERS];
	size_t n = ax_http_params(req, "filter", f, MAX_FILTERS), i;
	ax_err_t err = {0};

	for (i = 0; i < n; i++)
		if (ax_amatcher_parse(out, f[i], &err) != 0) {
			resp_msg(
			    resp, err.code == AX_ENOMEM ? 500 : 400, err.msg);
			ax_amatchers_free(out);
			return -1;
		}
	return 0;
}

/* ---- the view of alerts a read takes ---- */

typedef struct view {
	ar_core_t *core;
	ar_alert_t **alerts;
	size_t n;
	ar_inhibit_snap_t inhibit;
	int64_t now;
} view_t;

static int view_open(view_t *v, ar_core_t *core)
{
	memset(v, 0, sizeof(*v));
	v->core = core;
	v->now = ax_now_ms();
	if (ar_store_list(&core->store, &v->alerts, &v->n) != 0)
		return AX_ENOMEM;
	{
		ar_graph_t *g = ar_topo_graph(core->topo);
		int rv = ar_inhibit_snap_build(
		    &v->inhibit, core->cfg, v->alerts, v->n, v->now, g);

		ar_graph_unref(g);
		if (rv != 0) {
			ar_store_list_free(v->alerts, v->n);
			return AX_ENOMEM;
		}
	}
	return 0;
}

static void view_close(view_t *v)
{
	ar_inhibit_snap_fini(&v->inhibit);
	ar_store_list_free(v->alerts, v->n);
}

typedef struct status {
	char **silenced;
	size_t nsil;
	uint64_t inhibited_by;
	int inhibited;
} status_t;

static int status_of(view_t *v, const ar_alert_t *a, status_t *st)
{
	int rv;

	memset(st, 0, sizeof(*st));
	rv = ar_silences_mutes(
	    &v->core->silences, a->labels, v->now, &st->silenced, &st->nsil);
	if (rv < 0)
		return rv;
	st->inhibited =
	    ar_inhibit_check(&v->inhibit, a->labels, &st->inhibited_by);
	return 0;
}

static void status_fini(status_t *st)
{
	size_t i;

	for (i = 0; i < st->nsil; i++)
		free(st->silenced[i]);
	free(st->silenced);
}

static cJSON *alert_json(
    const ar_alert_t *a, const ar_route_vec_t *routes, const status_t *st)
{
	cJSON *o = cJSON_CreateObject(), *arr, *s;
	char fp[24];
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "annotations", labels_json(a->annotations));
	add_time(o, "endsAt", a->ends_ms);
	snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)a->fp);
	cJSON_AddStringToObject(o, "fingerprint", fp);
	arr = cJSON_AddArrayToObject(o, "receivers");
	for (i = 0; arr && routes && i < routes->n; i++) {
		cJSON *r = cJSON_CreateObject();

		if (r == NULL)
			break;
		cJSON_AddStringToObject(r, "name", routes->v[i]->receiver);
		cJSON_AddItemToArray(arr, r);
	}
	add_time(o, "startsAt", a->starts_ms);
	s = cJSON_AddObjectToObject(o, "status");
	if (s) {
		cJSON *ib = cJSON_AddArrayToObject(s, "inhibitedBy");
		cJSON *sb = cJSON_AddArrayToObject(s, "silencedBy");

		if (ib && st->inhibited) {
			snprintf(fp, sizeof(fp), "%016llx",
			    (unsigned long long)st->inhibited_by);
			cJSON_AddItemToArray(ib, cJSON_CreateString(fp));
		}
		for (i = 0; sb && i < st->nsil; i++)
			cJSON_AddItemToArray(
			    sb, cJSON_CreateString(st->silenced[i]));
		cJSON_AddStringToObject(s, "state",
		    st->inhibited || st->nsil ? "suppressed" : "active");
	}
	add_time(o, "updatedAt", a->updated_ms);
	if (a->generator_url)
		cJSON_AddStringToObject(o, "generatorURL", a->generator_url);
	cJSON_AddItemToObject(o, "labels", labels_json(a->labels));
	return o;
}

typedef struct filter {
	int active, silenced, inhibited, unprocessed;
	ax_amatchers_t matchers;
	ax_regex_t *receiver;
} filter_t;

static int filter_parse(ax_http_req_t *req, filter_t *f, ax_http_resp_t *resp)
{
	const char *rcv = ax_http_param(req, "receiver");
	ax_err_t err = {0};

	memset(f, 0, sizeof(*f));
	f->active = bool_param(req, "active", 1);
	f->silenced = bool_param(req, "silenced", 1);
	f->inhibited = bool_param(req, "inhibited", 1);
	f->unprocessed = bool_param(req, "unprocessed", 1);
	if (f->active < 0 || f->silenced < 0 || f->inhibited < 0 ||
	    f->unprocessed < 0) {
		resp_msg(resp, 400,
		    "active, silenced, inhibited and unprocessed take true or "
		    "false");
		return -1;
	}
	if (parse_filters(req, &f->matchers, resp) != 0)
		return -1;
	if (rcv && *rcv && ax_regex_compile(rcv, &f->receiver, &err) != 0) {
		char msg[AX_ERR_MSG_MAX + 64];

		snprintf(msg, sizeof(msg), "failed to parse receiver param: %s",
		    err.msg);
		resp_msg(resp, 400, msg);
		ax_amatchers_free(&f->matchers);
		return -1;
	}
	return 0;
}

static void filter_fini(filter_t *f)
{
	ax_amatchers_free(&f->matchers);
	ax_regex_free(f->receiver);
}

/* Does the alert pass the filter?  Fills routes and st. */
static int alert_passes(view_t *v, const filter_t *f, const ar_alert_t *a,
    ar_route_vec_t *routes, status_t *st)
{
	size_t i;
	int ok = 0;

	if (ar_alert_resolved(a, v->now))
		return 0;
	if (!filters_match(&f->matchers, labels_lookup, a->labels))
		return 0;
	if (f->receiver) {
		for (i = 0; i < routes->n && !ok; i++)
			ok = ax_regex_match(f->receiver, routes->v[i]->receiver,
			         strlen(routes->v[i]->receiver)) == 1;
		if (!ok)
			return 0;
	}
	if (status_of(v, a, st) != 0)
		return -1;
	if (!f->active && !st->inhibited && st->nsil == 0)
		return 0;
	if (!f->silenced && st->nsil > 0)
		return 0;
	if (!f->inhibited && st->inhibited)
		return 0;
	return 1;
}

static int cmp_fp(const void *a, const void *b)
{
	const ar_alert_t *x = *(ar_alert_t *const *)a;
	const ar_alert_t *y = *(ar_alert_t *const *)b;

	return x->fp < y->fp ? -1 : x->fp > y->fp;
}

/* ---- alerts ---- */

static void get_alerts(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	filter_t f;
	view_t v;
	cJSON *arr;
	size_t i;

	if (filter_parse(req, &f, resp) != 0)
		return;
	pthread_rwlock_rdlock(&core->mu);
	if (view_open(&v, core) != 0) {
		pthread_rwlock_unlock(&core->mu);
		filter_fini(&f);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	qsort(v.alerts, v.n, sizeof(*v.alerts), cmp_fp);
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < v.n; i++) {
		ar_route_vec_t routes = {0};
		status_t st = {0};
		int pass;

		if (ar_route_match(core->root, v.alerts[i]->labels, &routes) !=
		    0)
			pass = -1;
		else
			pass = alert_passes(&v, &f, v.alerts[i], &routes, &st);
		if (pass > 0)
			cJSON_AddItemToArray(
			    arr, alert_json(v.alerts[i], &routes, &st));
		status_fini(&st);
		ar_route_vec_fini(&routes);
		if (pass < 0) {
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	view_close(&v);
	pthread_rwlock_unlock(&core->mu);
	filter_fini(&f);
	if (arr == NULL) {
		resp_msg(resp, 500, "out of memory");
		return;
	}
	ax_http_resp_json(resp, 200, arr);
	cJSON_Delete(arr);
}

/* A time field of a posted object: absent or Go's zero time is 0. */
static int body_time(const cJSON *o, const char *k, int64_t *ms, char *msg,
    size_t cap, const char *where)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, k);
	ax_err_t err;

	*ms = 0;
	if (t == NULL || cJSON_IsNull(t))
		return 0;
	if (!cJSON_IsString(t) || strpbrk(t->valuestring, "Tt") == NULL ||
	    ax_time_parse(t->valuestring, ms, &err) != 0) {
		snprintf(msg, cap, "%s%s in body must be of type date-time: %s",
		    where, k,
		    cJSON_IsString(t) ? t->valuestring : "not a string");
		return -1;
	}
	if (*ms <= AX_TIME_GO_ZERO_MS)
		*ms = 0;
	return 0;
}

/* A map of strings into a label set (empty values dropped). */
static int body_labels(const cJSON *o, const char *k, int required,
    ax_labels_t **out, char *msg, size_t cap, const char *where)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k), *e;
	ax_label_t *pairs;
	size_t n = 0;
	ax_err_t err;
	int rv;

	*out = NULL;
	if (m == NULL || cJSON_IsNull(m)) {
		if (!required)
			return 0;
		snprintf(msg, cap, "%s%s in body is required", where, k);
		return -1;
	}
	if (!cJSON_IsObject(m)) {
		snprintf(
		    msg, cap, "%s%s in body must be of type object", where, k);
		return -1;
	}
	pairs = calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*pairs));
	if (pairs == NULL) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(e, m)
	{
		size_t j;

		if (!cJSON_IsString(e)) {
			snprintf(msg, cap,
			    "%s%s.%s in body must be of type string", where, k,
			    e->string);
			free(pairs);
			return -1;
		}
		for (j = 0; j < n; j++)
			if (strcmp(pairs[j].name, e->string) == 0)
				break;
		pairs[j].name = e->string;
		pairs[j].value = e->valuestring;
		if (j == n)
			n++;
	}
	rv = ax_labels_new(pairs, n, out, &err);
	free(pairs);
	if (rv != 0) {
		snprintf(msg, cap, "%s%s: %s", where, k, err.msg);
		return -1;
	}
	return 0;
}

static int labels_valid(const ax_labels_t *ls, char *msg, size_t cap)
{
	uint32_t i;

	for (i = 0; ls && i < ls->n; i++) {
		if (!ax_label_name_valid(
		        ls->l[i].name, strlen(ls->l[i].name))) {
			snprintf(
			    msg, cap, "invalid name \"%s\"", ls->l[i].name);
			return 0;
		}
		if (!ax_utf8_valid(ls->l[i].value, strlen(ls->l[i].value))) {
			snprintf(
			    msg, cap, "invalid value \"%s\"", ls->l[i].value);
			return 0;
		}
	}
	return 1;
}

/* Hand stored alerts to the dispatcher, after the whole batch is in the
 * store: a group flushing at once (its alert older than group_wait) then
 * already sees, for inhibition and for what a cause suppresses, every
 * alert that came with it. */
static int dispatch_all(ar_core_t *core, ar_alert_t **v, size_t n)
{
	int rv;

	if (core->dispatch == NULL)
		return 0;
	pthread_rwlock_rdlock(&core->mu);
	rv = ar_dispatch_alerts(core->dispatch, core->root, v, n);
	pthread_rwlock_unlock(&core->mu);
	return rv;
}

ar_alert_t *ar_api_alert_new(ax_labels_t *labels, ax_labels_t *ann, char *url,
    int64_t starts, int64_t ends, int64_t now, int64_t resolve_timeout)
{
	int timeout = 0;

	if (starts == 0)
		starts = ends ? ends : now;
	if (ends == 0) {
		timeout = 1;
		ends = now + resolve_timeout;
	}
	return ar_alert_new(labels, ann, url, starts, ends, now, timeout);
}

size_t ar_api_ingest(ar_core_t *core, ar_alert_t **alerts, size_t n,
    int64_t now, ax_buf_t *errs, size_t *nerr, int *internal)
{
	ar_alert_t **stored = calloc(n ? n : 1, sizeof(*stored));
	size_t k, accepted = 0;
	char msg[1024];

	if (stored == NULL) {
		ax_buf_printf(errs, "out of memory");
		*nerr += n;
		*internal = 1;
		return 0;
	}
	/* Validate and store the valid ones (Alertmanager's best effort). */
	for (k = 0; k < n; k++) {
		ar_alert_t *a = alerts[k];
		char why[1100];

		if (a->ends_ms > now)
			ax_counter_inc(core->received_firing);
		else
			ax_counter_inc(core->received_resolved);
		if (a->ends_ms < a->starts_ms)
			snprintf(why, sizeof(why),
			    "start time must be before end time");
		else if (!labels_valid(a->labels, msg, sizeof(msg)))
			snprintf(
			    why, sizeof(why), "invalid label set: %s", msg);
		else if (a->labels == NULL || a->labels->n == 0)
			snprintf(why, sizeof(why),
			    "at least one label pair required");
		else if (!labels_valid(a->annotations, msg, sizeof(msg)))
			snprintf(
			    why, sizeof(why), "invalid annotations: %s", msg);
		else if (ar_store_put(&core->store, a, &stored[k]) != 0) {
			snprintf(why, sizeof(why), "out of memory");
			*internal = 1;
		} else {
			accepted++;
			continue;
		}
		ax_counter_inc(core->invalid);
		ax_buf_printf(
		    errs, "%salerts[%zu]: %s", *nerr ? "; " : "", k, why);
		(*nerr)++;
	}
	if (dispatch_all(core, stored, n) != 0) {
		ax_buf_printf(errs, "%sout of memory while grouping alerts",
		    *nerr ? "; " : "");
		*internal = 1;
	}
	for (k = 0; k < n; k++)
		ar_alert_unref(stored[k]);
	free(stored);
	return accepted;
}

static void post_alerts(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	cJSON *body = NULL;
	const cJSON *o;
	ax_err_t err = {0};
	ar_alert_t **alerts;
	ax_buf_t errs = AX_BUF_INIT;
	char msg[1024], where[64];
	int64_t now = ax_now_ms(), resolve_timeout;
	size_t n, i = 0, k, nerr = 0;

	if (ax_http_body_json(req, &body, &err) != 0) {
		resp_msg(resp, 400, err.msg);
		return;
	}
	if (!cJSON_IsArray(body)) {
		cJSON_Delete(body);
		resp_msg(resp, 400,
		    "the body must be a JSON list of alerts (PostableAlerts)");
		return;
	}
	n = (size_t)cJSON_GetArraySize(body);
	alerts = calloc(n ? n : 1, sizeof(*alerts));
	if (alerts == NULL) {
		cJSON_Delete(body);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	pthread_rwlock_rdlock(&core->mu);
	resolve_timeout = core->cfg->global.resolve_timeout_ms;
	pthread_rwlock_unlock(&core->mu);
	/* Decode everything first: a malformed element fails the request. */
	cJSON_ArrayForEach(o, body)
	{
		ax_labels_t *labels = NULL, *ann = NULL;
		const cJSON *gu;
		int64_t starts, ends;
		char *url = NULL;

		snprintf(where, sizeof(where), "alerts[%zu].", i);
		if (!cJSON_IsObject(o)) {
			snprintf(msg, sizeof(msg),
			    "alerts[%zu] must be an object", i);
			goto bad;
		}
		if (body_labels(o, "labels", 1, &labels, msg, sizeof(msg),
		        where) != 0 ||
		    body_labels(o, "annotations", 0, &ann, msg, sizeof(msg),
		        where) != 0 ||
		    body_time(
		        o, "startsAt", &starts, msg, sizeof(msg), where) != 0 ||
		    body_time(o, "endsAt", &ends, msg, sizeof(msg), where) !=
		        0) {
			ax_labels_free(labels);
			ax_labels_free(ann);
			goto bad;
		}
		gu = cJSON_GetObjectItemCaseSensitive(o, "generatorURL");
		if (gu && !cJSON_IsNull(gu) && !cJSON_IsString(gu)) {
			ax_labels_free(labels);
			ax_labels_free(ann);
			snprintf(msg, sizeof(msg),
			    "%sgeneratorURL in body must be of type string",
			    where);
			goto bad;
		}
		if (cJSON_IsString(gu) && *gu->valuestring &&
		    (url = strdup(gu->valuestring)) == NULL) {
			ax_labels_free(labels);
			ax_labels_free(ann);
			snprintf(msg, sizeof(msg), "out of memory");
			goto bad;
		}
		alerts[i] = ar_api_alert_new(
		    labels, ann, url, starts, ends, now, resolve_timeout);
		if (alerts[i] == NULL) {
			snprintf(msg, sizeof(msg), "out of memory");
			goto bad;
		}
		i++;
	}
	cJSON_Delete(body);
	{
		int internal = 0;

		ar_api_ingest(core, alerts, n, now, &errs, &nerr, &internal);
		if (internal && nerr == 0)
			nerr = 1; /* grouping failed: say so */
	}
	for (k = 0; k < n; k++)
		ar_alert_unref(alerts[k]);
	free(alerts);
	if (nerr) {
		resp_msg(
		    resp, 400, ax_buf_ok(&errs) ? errs.p : "invalid alerts");
		ax_buf_fini(&errs);
		return;
	}
	ax_buf_fini(&errs);
	ax_http_resp_text(resp, 200, "");
	return;
bad:
	cJSON_Delete(body);
	for (k = 0; k < i; k++)
		ar_alert_unref(alerts[k]);
	free(alerts);
	resp_msg(resp, 400, msg);
}

/* ---- groups ---- */

typedef struct gent {
	const ar_route_t *route;
	ax_labels_t *glabels; /* owned */
	ar_alert_t *alert;    /* borrowed from the view */
	size_t ai;            /* index into the view */
} gent_t;

static int cmp_gent(const void *x, const void *y)
{
	const gent_t *a = x, *b = y;
	int c = ar_labels_before(a->glabels, b->glabels);

	if (c == 0)
		c = strcmp(a->route->receiver, b->route->receiver);
	if (c == 0)
		c = strcmp(a->route->key, b->route->key);
	if (c == 0 && a->route != b->route)
		c = a->route < b->route ? -1 : 1;
	if (c == 0)
		c = a->alert->fp < b->alert->fp ? -1
		                                : a->alert->fp > b->alert->fp;
	return c;
}

static void get_groups(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	gent_t *ents = NULL;
	size_t nent = 0, cap = 0, i, j;
	filter_t f;
	view_t v;
	cJSON *arr = NULL, *grp = NULL, *galerts = NULL;
	ax_regex_t *rcv;
	int oom = 0;

	if (filter_parse(req, &f, resp) != 0)
		return;
	f.unprocessed = 1;
	rcv = f.receiver;
	f.receiver = NULL;
	pthread_rwlock_rdlock(&core->mu);
	if (view_open(&v, core) != 0) {
		pthread_rwlock_unlock(&core->mu);
		filter_fini(&f);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	for (i = 0; i < v.n && !oom; i++) {
		ar_route_vec_t routes = {0};
		status_t st = {0};
		int pass = -1;

		if (ar_route_match(core->root, v.alerts[i]->labels, &routes) ==
		    0)
			pass = alert_passes(&v, &f, v.alerts[i], &routes, &st);
		status_fini(&st);
		if (pass < 0)
			oom = 1;
		for (j = 0; pass > 0 && j < routes.n && !oom; j++) {
			const char *rn = routes.v[j]->receiver;

			/* Here the receiver filter picks groups (routes). */
			if (rcv && ax_regex_match(rcv, rn, strlen(rn)) != 1)
				continue;
			if (nent == cap) {
				size_t nc = cap ? cap * 2 : 64;
				gent_t *ne = realloc(ents, nc * sizeof(*ne));

				if (ne == NULL) {
					oom = 1;
					break;
				}
				ents = ne;
				cap = nc;
			}
			ents[nent].route = routes.v[j];
			ents[nent].alert = v.alerts[i];
			ents[nent].ai = i;
			ents[nent].glabels = ar_route_group_labels(
			    routes.v[j], v.alerts[i]->labels);
			if (ents[nent].glabels == NULL)
				oom = 1;
			else
				nent++;
		}
		ar_route_vec_fini(&routes);
	}
	if (!oom) {
		qsort(ents, nent, sizeof(*ents), cmp_gent);
		arr = cJSON_CreateArray();
		oom = arr == NULL;
	}
	for (i = 0; i < nent && !oom; i++) {
		ar_route_vec_t routes = {0};
		status_t st = {0};

		if (i == 0 || ents[i].route != ents[i - 1].route ||
		    !ax_labels_equal(ents[i].glabels, ents[i - 1].glabels)) {
			cJSON *r;

			grp = cJSON_CreateObject();
			if (grp == NULL) {
				oom = 1;
				break;
			}
			cJSON_AddItemToArray(arr, grp);
			galerts = cJSON_AddArrayToObject(grp, "alerts");
			cJSON_AddItemToObject(
			    grp, "labels", labels_json(ents[i].glabels));
			r = cJSON_AddObjectToObject(grp, "receiver");
			if (r)
				cJSON_AddStringToObject(
				    r, "name", ents[i].route->receiver);
		}
		if (ar_route_match(
		        core->root, ents[i].alert->labels, &routes) != 0 ||
		    status_of(&v, ents[i].alert, &st) != 0)
			oom = 1;
		else if (galerts)
			cJSON_AddItemToArray(
			    galerts, alert_json(ents[i].alert, &routes, &st));
		status_fini(&st);
		ar_route_vec_fini(&routes);
	}
	for (i = 0; i < nent; i++)
		ax_labels_free(ents[i].glabels);
	free(ents);
	view_close(&v);
	pthread_rwlock_unlock(&core->mu);
	filter_fini(&f);
	ax_regex_free(rcv);
	if (oom) {
		cJSON_Delete(arr);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	ax_http_resp_json(resp, 200, arr);
	cJSON_Delete(arr);
}

/* ---- silences ---- */

static cJSON *silence_json(const ar_silence_t *s, int64_t now)
{
	cJSON *o = cJSON_CreateObject(), *ms, *st;
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", s->id);
	st = cJSON_AddObjectToObject(o, "status");
	if (st)
		cJSON_AddStringToObject(
		    st, "state", ar_sil_state_name(ar_silence_state(s, now)));
	add_time(o, "updatedAt", s->updated_ms);
	cJSON_AddStringToObject(o, "comment", s->comment);
	cJSON_AddStringToObject(o, "createdBy", s->created_by);
	add_time(o, "endsAt", s->ends_ms);
	ms = cJSON_AddArrayToObject(o, "matchers");
	for (i = 0; ms && i < s->matchers.n; i++) {
		const ax_amatcher_t *m = &s->matchers.v[i];
		cJSON *j = cJSON_CreateObject();

		if (j == NULL)
			break;
		cJSON_AddItemToArray(ms, j);
		cJSON_AddBoolToObject(
		    j, "isEqual", m->type == AX_AM_EQ || m->type == AX_AM_RE);
		cJSON_AddBoolToObject(
		    j, "isRegex", m->type == AX_AM_RE || m->type == AX_AM_NRE);
		cJSON_AddStringToObject(j, "name", m->name);
		cJSON_AddStringToObject(j, "value", m->value);
	}
	add_time(o, "startsAt", s->starts_ms);
	return o;
}

static int64_t sort_now;

/* Alertmanager's order: active (soonest end first), pending (soonest
 * start first), expired (latest end first). */
static int cmp_sil(const void *x, const void *y)
{
	const ar_silence_t *a = *(ar_silence_t *const *)x;
	const ar_silence_t *b = *(ar_silence_t *const *)y;
	ar_sil_state_t sa = ar_silence_state(a, sort_now);
	ar_sil_state_t sb = ar_silence_state(b, sort_now);
	static const int rank[] = {1, 0, 2}; /* pending, active, expired */

	if (sa != sb)
		return rank[sa] - rank[sb];
	if (sa == AR_SIL_EXPIRED)
		return a->ends_ms > b->ends_ms ? -1 : a->ends_ms < b->ends_ms;
	if (sa == AR_SIL_PENDING)
		return a->starts_ms < b->starts_ms
		    ? -1
		    : a->starts_ms > b->starts_ms;
	return a->ends_ms < b->ends_ms ? -1 : a->ends_ms > b->ends_ms;
}

static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static void get_silences(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	ax_amatchers_t filt = {0};
	ar_silence_t **v;
	size_t n, i;
	int64_t now = ax_now_ms();
	cJSON *arr;

	if (parse_filters(req, &filt, resp) != 0)
		return;
	if (ar_silences_list(&core->silences, &v, &n) != 0) {
		ax_amatchers_free(&filt);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&sort_mu);
	sort_now = now;
	qsort(v, n, sizeof(*v), cmp_sil);
	pthread_mutex_unlock(&sort_mu);
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++)
		if (filters_match(&filt, silence_lookup, v[i]))
			cJSON_AddItemToArray(arr, silence_json(v[i], now));
	ar_silences_list_free(v, n);
	ax_amatchers_free(&filt);
	if (arr == NULL) {
		resp_msg(resp, 500, "out of memory");
		return;
	}
	ax_http_resp_json(resp, 200, arr);
	cJSON_Delete(arr);
}

static const char *body_str(
    const cJSON *o, const char *k, int required, char *msg, size_t cap)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);

	if (s == NULL || cJSON_IsNull(s)) {
		if (required)
			snprintf(msg, cap, "%s in body is required", k);
		return required ? NULL : "";
	}
	if (!cJSON_IsString(s)) {
		snprintf(msg, cap, "%s in body must be of type string", k);
		return NULL;
	}
	return s->valuestring;
}

static int decode_silence(
    const cJSON *o, ar_silence_t *s, char *msg, size_t cap)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "matchers"), *m;
	const char *id, *cb, *cm;
	ax_err_t err = {0};
	size_t i = 0;

	if (!cJSON_IsObject(o)) {
		snprintf(msg, cap,
		    "the body must be a JSON object (PostableSilence)");
		return -1;
	}
	if ((id = body_str(o, "id", 0, msg, cap)) == NULL ||
	    (cb = body_str(o, "createdBy", 1, msg, cap)) == NULL ||
	    (cm = body_str(o, "comment", 1, msg, cap)) == NULL)
		return -1;
	if (strlen(id) >= sizeof(s->id)) {
		snprintf(msg, cap, "id in body is not a silence id");
		return -1;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->created_by = strdup(cb);
	s->comment = strdup(cm);
	if (s->created_by == NULL || s->comment == NULL) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	if (body_time(o, "startsAt", &s->starts_ms, msg, cap, "") != 0 ||
	    body_time(o, "endsAt", &s->ends_ms, msg, cap, "") != 0)
		return -1;
	if (s->starts_ms == 0 || s->ends_ms == 0) {
		snprintf(msg, cap, "%s in body is required",
		    s->starts_ms == 0 ? "startsAt" : "endsAt");
		return -1;
	}
	if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) == 0) {
		snprintf(msg, cap,
		    ms == NULL
		        ? "matchers in body is required"
		        : "matchers in body should have at least 1 items");
		return -1;
	}
	cJSON_ArrayForEach(m, ms)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "value");
		const cJSON *re =
		    cJSON_GetObjectItemCaseSensitive(m, "isRegex");
		const cJSON *eq =
		    cJSON_GetObjectItemCaseSensitive(m, "isEqual");
		int is_re, is_eq;

		if (!cJSON_IsString(n) || !cJSON_IsString(v) ||
		    !cJSON_IsBool(re) || (eq && !cJSON_IsBool(eq))) {
			snprintf(msg, cap,
			    "matchers.%zu: name and value (strings) and "
			    "isRegex "
			    "(bool) are required; isEqual is a bool",
			    i);
			return -1;
		}
		is_re = cJSON_IsTrue(re);
		is_eq = eq == NULL || cJSON_IsTrue(eq);
		if (ax_amatchers_add(&s->matchers,
		        is_re ? (is_eq ? AX_AM_RE : AX_AM_NRE)
		              : (is_eq ? AX_AM_EQ : AX_AM_NE),
		        n->valuestring, v->valuestring, &err) != 0) {
			snprintf(msg, cap, "invalid label matcher %zu: %s", i,
			    err.msg);
			return -1;
		}
		i++;
	}
	return 0;
}

static void post_silences(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	cJSON *body = NULL, *out;
	ar_silence_t *s;
	ax_err_t err = {0};
	char msg[1024], id[40];
	int64_t now = ax_now_ms();
	int rv;

	if (ax_http_body_json(req, &body, &err) != 0) {
		resp_msg(resp, 400, err.msg);
		return;
	}
	if ((s = ar_silence_new()) == NULL) {
		cJSON_Delete(body);
		resp_msg(resp, 500, "out of memory");
		return;
	}
	rv = decode_silence(body, s, msg, sizeof(msg));
	cJSON_Delete(body);
	if (rv != 0) {
		ar_silence_unref(s);
		resp_msg(resp, 400, msg);
		return;
	}
	if (s->starts_ms >= s->ends_ms) {
		ar_silence_unref(s);
		resp_msg(resp, 400,
		    "Failed to create silence: start time must be before end "
		    "time");
		return;
	}
	if (s->ends_ms < now) {
		ar_silence_unref(s);
		resp_msg(resp, 400,
		    "Failed to create silence: end time can't be in the past");
		return;
	}
	rv = ar_silences_set(&core->silences, s, now, id, &err);
	ar_silence_unref(s);
	if (rv == AX_ENOENT) {
		resp_msg(resp, 404, err.msg);
		return;
	}
	if (rv != 0) {
		resp_msg(resp, rv == AX_EINVAL ? 400 : 500, err.msg);
		return;
	}
	out = cJSON_CreateObject();
	if (out)
		cJSON_AddStringToObject(out, "silenceID", id);
	ax_http_resp_json(resp, 200, out);
	cJSON_Delete(out);
}

static const char *silence_id(ax_http_req_t *req)
{
	const char *p = ax_http_path(req);
	const char *pre = "/api/v2/silence/";

	if (strncmp(p, pre, strlen(pre)) != 0)
		return NULL;
	p += strlen(pre);
	return *p && strchr(p, '/') == NULL ? p : NULL;
}

static void silence_one(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	const char *id = silence_id(req);
	const char *method = ax_http_method(req);
	ax_err_t err = {0};
	int rv;

	if (id == NULL) {
		resp_msg(resp, 404, "no silence id in the path");
		return;
	}
	if (strcmp(method, "GET") == 0) {
		ar_silence_t *s = ar_silences_get(&core->silences, id);
		cJSON *j;

		if (s == NULL) {
			resp_msg(resp, 404, "silence not found");
			return;
		}
		j = silence_json(s, ax_now_ms());
		ar_silence_unref(s);
		ax_http_resp_json(resp, 200, j);
		cJSON_Delete(j);
		return;
	}
	if (strcmp(method, "DELETE") != 0) {
		resp_msg(resp, 405, "method not allowed (GET or DELETE)");
		return;
	}
	rv = ar_silences_expire(&core->silences, id, ax_now_ms(), &err);
	if (rv == AX_ENOENT)
		resp_msg(resp, 404, err.msg);
	else if (rv != 0)
		resp_msg(resp, 500, err.msg);
	else
		ax_http_resp_text(resp, 200, "");
}

/* ---- status, receivers ---- */

static void get_status(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	cJSON *o = cJSON_CreateObject(), *c, *cfg, *vi;

	(void)req;
	if (o == NULL) {
		resp_msg(resp, 500, "out of memory");
		return;
	}
	/* Without HA, Alertmanager reports status "disabled" with no name
	 * and no peers. */
	c = cJSON_AddObjectToObject(o, "cluster");
	if (c)
		ar_cluster_status(core->cluster, c);
	cfg = cJSON_AddObjectToObject(o, "config");
	pthread_rwlock_rdlock(&core->mu);
	if (cfg)
		cJSON_AddStringToObject(cfg, "original",
		    core->cfg->original ? core->cfg->original : "");
	pthread_rwlock_unlock(&core->mu);
	add_time(o, "uptime", core->start_ms);
	vi = cJSON_AddObjectToObject(o, "versionInfo");
	if (vi) {
		cJSON_AddStringToObject(vi, "branch", "main");
		cJSON_AddStringToObject(vi, "buildDate", "");
		cJSON_AddStringToObject(vi, "buildUser", "");
		cJSON_AddStringToObject(vi, "goVersion", "none (C11)");
		cJSON_AddStringToObject(vi, "revision", AX_REVISION);
		cJSON_AddStringToObject(vi, "version", AX_VERSION);
	}
	ax_http_resp_json(resp, 200, o);
	cJSON_Delete(o);
}

static void get_receivers(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ar_core_t *core = arg;
	const ar_receiver_t *r;
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	(void)req;
	pthread_rwlock_rdlock(&core->mu);
	r = core->cfg->receivers.items;
	for (i = 0; arr && i < core->cfg->receivers.n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			break;
		cJSON_AddStringToObject(o, "name", r[i].name);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_rwlock_unlock(&core->mu);
	ax_http_resp_json(resp, 200, arr);
	cJSON_Delete(arr);
}

int ar_api_register(ar_core_t *core, ax_http_server_t *srv,
    ax_metrics_t *metrics, ax_err_t *err)
{
	static const char *const status_label[] = {"status"};
	static const char *const firing[] = {"firing"};
	static const char *const resolved[] = {"resolved"};
	ax_mfam_t *recv = ax_metrics_family(metrics, AX_METRIC_COUNTER,
	    "alertmanager_alerts_received_total",
	    "The total number of received alerts.", 1, status_label, NULL, 0);

	core->received_firing = recv ? ax_mfam_with(recv, firing) : NULL;
	core->received_resolved = recv ? ax_mfam_with(recv, resolved) : NULL;
	core->invalid =
	    ax_metrics_counter(metrics, "alertmanager_alerts_invalid_total",
	        "The total number of received alerts that were invalid.");
	if (core->received_firing == NULL || core->received_resolved == NULL ||
	    core->invalid == NULL)
		return ax_err_set(err, AX_ENOMEM, "registering metrics");
	if (ax_http_route(srv, "POST", "/api/v2/alerts", post_alerts, core) ||
	    ax_http_route(srv, "GET", "/api/v2/alerts", get_alerts, core) ||
	    ax_http_route(
	        srv, "GET", "/api/v2/alerts/groups", get_groups, core) ||
	    ax_http_route(srv, "GET", "/api/v2/silences", get_silences, core) ||
	    ax_http_route(
	        srv, "POST", "/api/v2/silences", post_silences, core) ||
	    ax_http_route(srv, NULL, "/api/v2/silence/*", silence_one, core) ||
	    ax_http_route(srv, "GET", "/api/v2/status", get_status, core) ||
	    ax_http_route(srv, "GET", "/api/v2/receivers", get_receivers, core))
		return ax_err_set(err, AX_ENOMEM, "registering API routes");
	return 0;
}
