/*
 * ar_dispatch: aggregation groups, timers and the notification pipeline
 * (dispatch.h).
 */
#include "alert-router/dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert-router/api.h"
#include "alert-router/cluster.h"
#include "alert-router/email.h"
#include "alert-router/inhibit.h"
#include "alert-router/notify.h"
#include "alert-router/topo.h"
#include "ax_hmap.h"
#include "ax_rw.h"
#include "ax_log.h"
#include "ax_units.h"

#define GC_EVERY_MS 30000
#define SYNC_EVERY_MS 1000

typedef struct ar_group {
	int refs;
	char *key;
	ax_labels_t *labels;
	char *receiver;
	int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
	ax_cfg_strings_t mute, active; /* interval names (copies) */
	ax_u64map_t alerts;            /* fp -> ar_alert_t* */
	int64_t next_ms;
	int has_flushed;
	int flushing;    /* queued or being flushed */
	int held;        /* due, waiting for its turn in the cluster */
	int64_t hold_ms; /* ... until then */
	/* the alerts as they were when it became due (held groups) */
	ar_alert_t **held_snap;
	size_t held_n;
	int64_t held_tick;
	int dead; /* dropped from the map */
} ar_group_t;

struct ar_dispatch {
	ar_core_t *core;
	ar_nflog_t *nflog;
	pthread_mutex_t mu;
	pthread_cond_t timer_cv;
	pthread_cond_t work_cv;
	ax_hmap_t groups; /* key -> group */
	ar_group_t **queue;
	size_t qhead, qlen, qcap;
	pthread_t timer;
	pthread_t *workers;
	int nworkers, started_workers, timer_started;
	int stopping;
	int kick; /* something changed since the timer last looked */
	ax_metric_t *groups_gauge;
	/* per integration kind (integ_kind_t) */
	ax_metric_t *sent_total[4], *failed_total[4];
};

/* ---- groups ---- */

/* References to g's alerts (lock held).  NULL when out of memory. */
static ar_alert_t **take_snapshot(ar_group_t *g, size_t *n)
{
	ar_alert_t **snap =
	    malloc((g->alerts.n ? g->alerts.n : 1) * sizeof(*snap));
	ar_alert_t *a;
	size_t pos = 0;
	uint64_t k;

	*n = 0;
	if (snap)
		while ((a = ax_u64map_next(&g->alerts, &pos, &k)) != NULL)
			snap[(*n)++] = ar_alert_ref(a);
	return snap;
}

static void drop_snapshot(ar_group_t *g)
{
	size_t i;

	for (i = 0; g->held_snap && i < g->held_n; i++)
		ar_alert_unref(g->held_snap[i]);
	free(g->held_snap);
	g->held_snap = NULL;
	g->held_n = 0;
}

static void group_unref(ar_group_t *g)
{
	size_t pos = 0;
	uint64_t k;
	ar_alert_t *a;

	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	drop_snapshot(g);
	while ((a = ax_u64map_next(&g->alerts, &pos, &k)) != NULL)
		ar_alert_unref(a);
	ax_u64map_fini(&g->alerts);
	ax_cfg_strings_free(&g->mute);
	ax_cfg_strings_free(&g->active);
	ax_labels_free(g->labels);
	free(g->receiver);
	free(g->key);
	free(g);
}

/* Go's strconv.Quote for the label values of a group key. */
static void go_quote(ax_buf_t *b, const char *s)
{
	ax_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			ax_buf_putc(b, '\\');
			ax_buf_putc(b, (char)c);
		} else if (c == '\n')
			ax_buf_puts(b, "\\n");
		else if (c == '\t')
			ax_buf_puts(b, "\\t");
		else if (c == '\r')
			ax_buf_puts(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			ax_buf_printf(b, "\\x%02x", c);
		else
			ax_buf_putc(b, (char)c);
	}
	ax_buf_putc(b, '"');
}

static ar_group_t *group_new(
    const ar_route_t *r, ax_labels_t *labels, char *key, int64_t now)
{
	ar_group_t *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		ax_labels_free(labels);
		free(key);
		return NULL;
	}
	g->refs = 1;
	g->key = key;
	g->labels = labels;
	ax_u64map_init(&g->alerts);
	g->receiver = strdup(r->receiver ? r->receiver : "");
	g->group_wait_ms = r->group_wait_ms;
	g->group_interval_ms = r->group_interval_ms;
	g->repeat_interval_ms = r->repeat_interval_ms;
	g->next_ms = now + r->group_wait_ms;
	if (g->receiver == NULL ||
	    ax_cfg_strings_copy(&g->mute, &r->cfg->mute_time_intervals) != 0 ||
	    ax_cfg_strings_copy(&g->active, &r->cfg->active_time_intervals) !=
	        0) {
		group_unref(g);
		return NULL;
	}
	return g;
}

static uint64_t fp_key(uint64_t fp)
{
	return fp ? fp : 0x9e3779b97f4a7c15ULL;
}

/* ---- feeding ---- */

static int insert_locked(
    ar_dispatch_t *d, const ar_route_t *root, ar_alert_t *a)
{
	ar_route_vec_t routes = {0};
	int64_t now = ax_now_ms();
	size_t i;
	int rv = 0;

	if ((rv = ar_route_match(root, a->labels, &routes)) != 0)
		return rv;
	for (i = 0; i < routes.n && rv == 0; i++) {
		const ar_route_t *r = routes.v[i];
		ax_labels_t *gl = ar_route_group_labels(r, a->labels);
		ax_buf_t key = AX_BUF_INIT;
		ar_group_t *g;
		ar_alert_t *old = NULL;
		uint32_t k;

		if (gl == NULL) {
			rv = AX_ENOMEM;
			break;
		}
		ax_buf_puts(&key, r->key);
		ax_buf_puts(&key, ":{");
		for (k = 0; k < gl->n; k++) {
			ax_buf_printf(
			    &key, "%s%s=", k ? ", " : "", gl->l[k].name);
			go_quote(&key, gl->l[k].value);
		}
		ax_buf_putc(&key, '}');
		if (!ax_buf_ok(&key)) {
			ax_buf_fini(&key);
			ax_labels_free(gl);
			rv = AX_ENOMEM;
			break;
		}
		g = ax_hmap_get(&d->groups, key.p, key.len);
		if (g == NULL) {
			char *ks = ax_buf_take(&key, NULL);

			g = group_new(r, gl, ks, now);
			if (g == NULL ||
			    ax_hmap_put(&d->groups, g->key, strlen(g->key), g,
			        NULL) != 0) {
				group_unref(g);
				rv = AX_ENOMEM;
				break;
			}
			ax_gauge_add(d->groups_gauge, 1);
		} else {
			ax_labels_free(gl);
			ax_buf_fini(&key);
		}
		old = ax_u64map_get(&g->alerts, fp_key(a->fp));
		if (ax_u64map_put(&g->alerts, fp_key(a->fp), ar_alert_ref(a)) !=
		    0) {
			ar_alert_unref(a);
			rv = AX_ENOMEM;
		} else
			ar_alert_unref(old);
		/* An alert older than group_wait flushes a new group at once.
		 */
		if (!g->has_flushed && a->starts_ms + g->group_wait_ms < now &&
		    g->next_ms > now)
			g->next_ms = now;
		d->kick = 1;
		pthread_cond_signal(&d->timer_cv);
	}
	ar_route_vec_fini(&routes);
	return rv;
}

/* Lock once around the inserts: the timer cannot flush a group between
 * two alerts of one batch. */
int ar_dispatch_alerts(
    ar_dispatch_t *d, const ar_route_t *root, ar_alert_t **v, size_t n)
{
	size_t i;
	int rv = 0;

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < n && rv == 0; i++)
		if (v[i])
			rv = insert_locked(d, root, v[i]);
	pthread_mutex_unlock(&d->mu);
	return rv;
}

int ar_dispatch_alert(ar_dispatch_t *d, const ar_route_t *root, ar_alert_t *a)
{
	return ar_dispatch_alerts(d, root, &a, 1);
}

/* Drop all groups (lock held); in-flight flushes keep their references. */
static void drop_groups(ar_dispatch_t *d)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	while ((e = ax_hmap_next(&d->groups, &pos)) != NULL) {
		ar_group_t *g = e->val;

		g->dead = 1;
		group_unref(g);
	}
	ax_hmap_fini(&d->groups);
	ax_hmap_init(&d->groups);
	ax_gauge_set(d->groups_gauge, 0);
}

int ar_dispatch_rebuild(ar_dispatch_t *d, const ar_route_t *root)
{
	ar_alert_t **v;
	size_t n, i;
	int rv = 0;

	pthread_mutex_lock(&d->mu);
	drop_groups(d);
	pthread_mutex_unlock(&d->mu);
	if (ar_store_list(&d->core->store, &v, &n) != 0)
		return AX_ENOMEM;
	for (i = 0; i < n && rv == 0; i++)
		rv = ar_dispatch_alert(d, root, v[i]);
	ar_store_list_free(v, n);
	return rv;
}

size_t ar_dispatch_groups(ar_dispatch_t *d)
{
	size_t n;

	pthread_mutex_lock(&d->mu);
	n = d->groups.n;
	pthread_mutex_unlock(&d->mu);
	return n;
}

/* ---- the pipeline ---- */

typedef struct flush_set {
	ar_alert_t **v; /* kept alerts, notification order */
	int *resolved;
	size_t n;
	uint64_t *firing_h, *resolved_h;
	size_t nf, nr;
	/* topology inhibition: what the group's cause alerts suppress */
	size_t sup_alerts;
	char **sup_svc;
	size_t n_sup_svc;
} flush_set_t;

static void flush_set_fini(flush_set_t *fs)
{
	size_t i;

	for (i = 0; i < fs->n_sup_svc; i++)
		free(fs->sup_svc[i]);
	free(fs->sup_svc);
	free(fs->v);
	free(fs->resolved);
	free(fs->firing_h);
	free(fs->resolved_h);
}

/* Alertmanager's DedupStage.needsUpdate. */
static int needs_update(const ar_nflog_entry_t *e, const flush_set_t *fs,
    int send_resolved, int64_t repeat_ms, int64_t now)
{
	if (e == NULL)
		return fs->nf > 0;
	if (!ar_nflog_subset(e->firing, e->nfiring, fs->firing_h, fs->nf))
		return 1;
	if (fs->nf == 0)
		return e->nfiring > 0;
	if (send_resolved &&
	    !ar_nflog_subset(e->resolved, e->nresolved, fs->resolved_h, fs->nr))
		return 1;
	return e->ts_ms < now - repeat_ms;
}

/* Notify one webhook integration; 0 when done (sent or nothing to do). */
typedef enum { IK_WEBHOOK, IK_PAGERDUTY, IK_EMAIL, IK_SLACK } integ_kind_t;
static const char *const integ_names[] = {
    "webhook", "pagerduty", "email", "slack"};

/* One integration of a receiver. */
typedef struct integ {
	integ_kind_t kind;
	size_t idx;
	int send_resolved;
	const ar_http_cfg_t *http; /* NULL for email */
	const ar_webhook_cfg_t *webhook;
	const ar_pagerduty_cfg_t *pagerduty;
	const ar_email_cfg_t *email;
	const ar_slack_cfg_t *slack;
} integ_t;

/* Slack's URL: api_url, api_url_file, else the global ones.  OUT: *url
 * (malloc'd). */
static int slack_url(
    const ar_slack_cfg_t *s, const ar_global_t *g, char **url, ax_err_t *err)
{
	const char *u = s->api_url, *f = s->api_url_file;

	if (u == NULL && f == NULL) {
		u = g->slack_api_url;
		f = g->slack_api_url_file;
	}
	if (u)
		*url = strdup(u);
	else if (f)
		*url = ax_rw_read_secret_file(f, err);
	else
		return ax_err_set(err, AX_ECONFIG, "no api_url for slack");
	if (*url == NULL)
		return err->code ? err->code
		                 : ax_err_set(err, AX_ENOMEM, "out of memory");
	return 0;
}

/* Notify one integration; 0 when done (sent or nothing to do). */
static int notify_one(ar_dispatch_t *d, const ar_group_t *g,
    const ar_cfgref_t *cref, const integ_t *in, const flush_set_t *fs,
    int64_t tick, int64_t deadline)
{
	char nkey[8192];
	ar_nflog_entry_t *e = NULL;
	ar_notice_t nt;
	ar_alert_t **sv = fs->v;
	int *sres = fs->resolved;
	size_t sn = fs->n, i;
	ax_buf_t body = AX_BUF_INIT;
	ax_err_t err = {0};
	const char *url = NULL;
	char *owned_url = NULL;
	int rv, need, retry_403 = 0;

	snprintf(nkey, sizeof(nkey), "%s\x1f%s\x1f%s/%zu", g->key, g->receiver,
	    integ_names[in->kind], in->idx);
	rv = ar_nflog_get(d->nflog, nkey, &e);
	if (rv == AX_ENOMEM)
		return rv;
	need =
	    needs_update(e, fs, in->send_resolved, g->repeat_interval_ms, tick);
	ar_nflog_entry_free(e);
	if (!need)
		return 0;
	if (!in->send_resolved) {
		/* Only the firing alerts go out; with none, nothing is sent
		 * but the log still records the state. */
		sv = malloc((fs->n ? fs->n : 1) * sizeof(*sv));
		sres = calloc(fs->n ? fs->n : 1, sizeof(*sres));
		if (sv == NULL || sres == NULL) {
			free(sv);
			free(sres);
			return AX_ENOMEM;
		}
		for (i = 0, sn = 0; i < fs->n; i++)
			if (!fs->resolved[i])
				sv[sn++] = fs->v[i];
	}
	rv = 0;
	if (sn > 0) {
		nt.receiver = g->receiver;
		nt.group_key = g->key;
		nt.group_labels = g->labels;
		nt.alerts = sv;
		nt.resolved = sres;
		nt.n = sn;
		nt.external_url = d->core->external_url;
		nt.now_ms = tick;
		nt.suppressed_alerts = fs->sup_alerts;
		nt.suppressed_services = fs->sup_svc;
		nt.n_suppressed_services = fs->n_sup_svc;
		if (in->kind == IK_EMAIL) {
			ar_email_msg_t m;

			rv = ar_email_build(&nt, in->email, &cref->cfg->global,
			    cref->tmpl, &m, &err);
			if (rv == 0) {
				rv = ar_email_send_retry(in->email,
				    &cref->cfg->global, &m, deadline,
				    &d->stopping, &err);
				ar_email_msg_fini(&m);
			}
			goto sent;
		}
		if (in->kind == IK_SLACK) {
			rv = slack_url(
			    in->slack, &cref->cfg->global, &owned_url, &err);
			if (rv == 0)
				rv = ar_slack_body(
				    &nt, in->slack, cref->tmpl, &body, &err);
			url = owned_url;
		} else if (in->webhook) {
			url = in->webhook->url;
			rv = ar_webhook_body(&nt, in->webhook, &body);
		} else {
			const ar_pagerduty_cfg_t *pd = in->pagerduty;
			int v1 = pd->service_key || pd->service_key_file;

			rv = ar_pagerduty_body(
			    &nt, pd, cref->tmpl, &body, &url, &err);
			if (pd->url == NULL && !v1)
				url = cref->cfg->global.pagerduty_url;
			retry_403 = v1;
		}
		if (rv == 0)
			rv = ar_http_post_retry(in->http, url, body.p, body.len,
			    deadline, &d->stopping, retry_403, &err);
		ax_buf_fini(&body);
		free(owned_url);
	sent:
		ax_counter_inc(d->sent_total[in->kind]);
		if (rv != 0) {
			ax_counter_inc(d->failed_total[in->kind]);
			ax_log_error("notify failed", "receiver", g->receiver,
			    "integration", integ_names[in->kind], "group",
			    g->key, "err", err.msg);
		}
	}
	if (sv != fs->v) {
		free(sv);
		free(sres);
	}
	if (rv == 0 &&
	    ar_nflog_log(d->nflog, nkey, ax_now_ms(), fs->firing_h, fs->nf,
	        fs->resolved_h, fs->nr, &err) != 0)
		ax_log_error(
		    "cannot write the notification log", "err", err.msg);
	return rv;
}

/* An integration's http_config, or the global one when it has none. */
static const ar_http_cfg_t *http_of(
    const ar_http_cfg_t *h, const ar_cfgref_t *cref)
{
	return h->set ? h : &cref->cfg->global.http_config;
}

static int muted_by_time(
    const ar_config_t *cfg, const ar_group_t *g, int64_t now)
{
	size_t i;
	int active = g->active.n == 0;

	for (i = 0; i < g->mute.n; i++) {
		const ar_time_interval_t *t =
		    ar_config_time_interval(cfg, g->mute.v[i]);

		if (t && ar_time_interval_contains(t, now))
			return 1;
	}
	for (i = 0; i < g->active.n && !active; i++) {
		const ar_time_interval_t *t =
		    ar_config_time_interval(cfg, g->active.v[i]);

		active = t && ar_time_interval_contains(t, now);
	}
	return !active;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the firing cause alerts among fs suppress: the alerts of all[]
 * they inhibit by topology, counted, and their services. */
static int suppressed(const ar_inhibit_snap_t *inh, flush_set_t *fs,
    ar_alert_t **all, size_t nall, int64_t tick)
{
	size_t i, k;

	for (i = 0; i < nall; i++) {
		const ar_alert_t *cause;
		const char *svc;
		char **nv;

		if (ar_alert_resolved(all[i], tick) ||
		    !ar_inhibit_topo_check(inh, all[i]->labels, &cause))
			continue;
		for (k = 0; k < fs->n; k++)
			if (fs->v[k] == cause && !fs->resolved[k])
				break;
		if (k == fs->n)
			continue; /* suppressed by a cause of another group */
		fs->sup_alerts++;
		svc = ax_labels_get(all[i]->labels, inh->topo->service_label);
		for (k = 0; k < fs->n_sup_svc; k++)
			if (strcmp(fs->sup_svc[k], svc) == 0)
				break;
		if (k < fs->n_sup_svc)
			continue;
		nv = realloc(fs->sup_svc, (fs->n_sup_svc + 1) * sizeof(*nv));
		if (nv == NULL)
			return AX_ENOMEM;
		fs->sup_svc = nv;
		if ((nv[fs->n_sup_svc] = strdup(svc)) == NULL)
			return AX_ENOMEM;
		fs->n_sup_svc++;
	}
	if (fs->n_sup_svc > 1)
		qsort(fs->sup_svc, fs->n_sup_svc, sizeof(char *), cmp_str);
	return 0;
}

/* Flush g with its alerts snap[0..n) at tick.  1 when every integration
 * succeeded (or had nothing to do). */
static int flush(
    ar_dispatch_t *d, ar_group_t *g, ar_alert_t **snap, size_t n, int64_t tick)
{
	ar_core_t *core = d->core;
	ar_cfgref_t *cref;
	const ar_receiver_t *rcv;
	ar_alert_t **all = NULL;
	size_t nall = 0, i;
	ar_inhibit_snap_t inh;
	flush_set_t fs = {0};
	int ok = 1;
	int64_t deadline = tick + g->group_interval_ms;

	pthread_rwlock_rdlock(&core->mu);
	cref = ar_cfgref_ref(core->cfgref);
	pthread_rwlock_unlock(&core->mu);
	rcv = ar_config_receiver(cref->cfg, g->receiver);
	if (rcv == NULL || muted_by_time(cref->cfg, g, tick)) {
		ar_cfgref_unref(cref);
		return 1;
	}
	ar_notify_sort(snap, n);
	fs.v = malloc((n ? n : 1) * sizeof(*fs.v));
	fs.resolved = calloc(n ? n : 1, sizeof(*fs.resolved));
	fs.firing_h = malloc((n ? n : 1) * sizeof(uint64_t));
	fs.resolved_h = malloc((n ? n : 1) * sizeof(uint64_t));
	if (fs.v == NULL || fs.resolved == NULL || fs.firing_h == NULL ||
	    fs.resolved_h == NULL)
		goto oom;
	/* every stored alert is needed only to find inhibiting ones */
	if ((cref->cfg->inhibit_rules.n > 0 ||
	        (cref->cfg->axon.topology.enabled && core->topo)) &&
	    ar_store_list(&core->store, &all, &nall) != 0)
		goto oom;
	{
		ar_graph_t *gr = ar_topo_graph(core->topo);
		int rv =
		    ar_inhibit_snap_build(&inh, cref->cfg, all, nall, tick, gr);

		ar_graph_unref(gr);
		if (rv != 0)
			goto oom;
	}
	for (i = 0; i < n; i++) {
		char **ids = NULL;
		size_t nids = 0, k;
		uint64_t by;
		int sil;

		if (ar_inhibit_check(&inh, snap[i]->labels, &by))
			continue;
		sil = ar_silences_mutes(
		    &core->silences, snap[i]->labels, tick, &ids, &nids);
		for (k = 0; k < nids; k++)
			free(ids[k]);
		free(ids);
		if (sil != 0)
			continue; /* silenced (or out of memory: not sent) */
		fs.v[fs.n] = snap[i];
		fs.resolved[fs.n] =
		    snap[i]->ends_ms != 0 && snap[i]->ends_ms <= tick;
		if (fs.resolved[fs.n])
			fs.resolved_h[fs.nr++] =
			    ax_labels_hash(snap[i]->labels);
		else
			fs.firing_h[fs.nf++] = ax_labels_hash(snap[i]->labels);
		fs.n++;
	}
	if (inh.topo && suppressed(&inh, &fs, all, nall, tick) != 0) {
		ar_inhibit_snap_fini(&inh);
		goto oom;
	}
	ar_inhibit_snap_fini(&inh);
	{
		const ar_webhook_cfg_t *w = rcv->webhook.items;
		const ar_pagerduty_cfg_t *pd = rcv->pagerduty.items;
		const ar_email_cfg_t *em = rcv->email.items;
		const ar_slack_cfg_t *sl = rcv->slack.items;
		size_t nw = rcv->webhook.n, np = rcv->pagerduty.n,
		       ne = rcv->email.n, ns = rcv->slack.n;

		for (i = 0; i < nw + np + ne + ns &&
		     !__atomic_load_n(&d->stopping, __ATOMIC_RELAXED);
		     i++) {
			integ_t in = {0};

			if (i < nw) {
				in.kind = IK_WEBHOOK;
				in.idx = i;
				in.webhook = &w[i];
				in.send_resolved = w[i].send_resolved;
				in.http = http_of(&w[i].http_config, cref);
			} else if (i < nw + np) {
				in.kind = IK_PAGERDUTY;
				in.idx = i - nw;
				in.pagerduty = &pd[in.idx];
				in.send_resolved = pd[in.idx].send_resolved;
				in.http =
				    http_of(&pd[in.idx].http_config, cref);
			} else if (i < nw + np + ne) {
				in.kind = IK_EMAIL;
				in.idx = i - nw - np;
				in.email = &em[in.idx];
				in.send_resolved = em[in.idx].send_resolved;
			} else {
				in.kind = IK_SLACK;
				in.idx = i - nw - np - ne;
				in.slack = &sl[in.idx];
				in.send_resolved = sl[in.idx].send_resolved;
				in.http =
				    http_of(&sl[in.idx].http_config, cref);
			}
			if (notify_one(d, g, cref, &in, &fs, tick, deadline) !=
			    0)
				ok = 0;
		}
	}
	ar_store_list_free(all, nall);
	flush_set_fini(&fs);
	ar_cfgref_unref(cref);
	return ok;
oom:
	ar_store_list_free(all, nall);
	flush_set_fini(&fs);
	ar_cfgref_unref(cref);
	ax_log_error("flush skipped: out of memory", "group", g->key);
	return 0;
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	ar_dispatch_t *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		ar_group_t *g;
		ar_alert_t **snap;
		size_t n = 0, i;
		int64_t tick;
		int ok;

		while (d->qlen == 0 && !d->stopping)
			pthread_cond_wait(&d->work_cv, &d->mu);
		if (d->stopping)
			break;
		g = d->queue[d->qhead];
		d->qhead = (d->qhead + 1) % d->qcap;
		d->qlen--;
		if (g->held_snap) {
			/* as Alertmanager: the alerts of the flush are those
			 * of when it was due, before the cluster wait */
			snap = g->held_snap;
			n = g->held_n;
			tick = g->held_tick;
			g->held_snap = NULL;
		} else {
			tick = ax_now_ms();
			snap = take_snapshot(g, &n);
		}
		pthread_mutex_unlock(&d->mu);
		ok = snap ? flush(d, g, snap, n, tick) : 0;
		pthread_mutex_lock(&d->mu);
		/* Resolved alerts that were notified leave the group, unless
		 * they were updated meanwhile. */
		for (i = 0; ok && i < n; i++)
			if (snap[i]->ends_ms != 0 && snap[i]->ends_ms <= tick &&
			    ax_u64map_get(&g->alerts, fp_key(snap[i]->fp)) ==
			        snap[i]) {
				ax_u64map_del(&g->alerts, fp_key(snap[i]->fp));
				ar_alert_unref(snap[i]);
			}
		for (i = 0; i < n; i++)
			ar_alert_unref(snap[i]);
		free(snap);
		g->flushing = 0;
		d->kick = 1;
		pthread_cond_signal(&d->timer_cv);
		group_unref(g);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static int enqueue(ar_dispatch_t *d, ar_group_t *g)
{
	if (d->qlen == d->qcap) {
		size_t cap = d->qcap ? d->qcap * 2 : 64, i;
		ar_group_t **nq = malloc(cap * sizeof(*nq));

		if (nq == NULL)
			return AX_ENOMEM;
		for (i = 0; i < d->qlen; i++)
			nq[i] = d->queue[(d->qhead + i) % d->qcap];
		free(d->queue);
		d->queue = nq;
		d->qcap = cap;
		d->qhead = 0;
	}
	d->queue[(d->qhead + d->qlen) % d->qcap] = g;
	d->qlen++;
	return 0;
}

/* Drop empty groups that are not being flushed (lock held). */
static void gc_groups(ar_dispatch_t *d)
{
	size_t pos = 0, n = 0, i;
	ax_hmap_ent_t *e;
	ar_group_t **dead =
	    malloc((d->groups.n ? d->groups.n : 1) * sizeof(*dead));

	if (dead == NULL)
		return;
	while ((e = ax_hmap_next(&d->groups, &pos)) != NULL) {
		ar_group_t *g = e->val;

		if (g->alerts.n == 0 && !g->flushing && !g->held)
			dead[n++] = g;
	}
	for (i = 0; i < n; i++) {
		ax_hmap_del(&d->groups, dead[i]->key, strlen(dead[i]->key));
		dead[i]->dead = 1;
		group_unref(dead[i]);
	}
	ax_gauge_set(d->groups_gauge, (double)d->groups.n);
	free(dead);
}

/* Hand g to the workers (lock held). */
static void start_flush(ar_dispatch_t *d, ar_group_t *g)
{
	g->flushing = 1;
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
	if (enqueue(d, g) != 0) {
		g->flushing = 0;
		group_unref(g);
	} else
		pthread_cond_signal(&d->work_cv);
}

static void *timer_main(void *arg)
{
	ar_dispatch_t *d = arg;
	int64_t last_gc = ax_now_ms(), last_sync = last_gc;

	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		int64_t now = ax_now_ms(), wake = now + SYNC_EVERY_MS;
		size_t pos = 0;
		ax_hmap_ent_t *e;
		struct timespec ts;
		/* HA: nothing goes out before the cluster settled; then the
		 * replica at position i waits i x peer_timeout (cluster.h) */
		int ready = ar_cluster_ready(d->core->cluster);
		int64_t hold = ar_cluster_wait_ms(d->core->cluster);

		while ((e = ax_hmap_next(&d->groups, &pos)) != NULL) {
			ar_group_t *g = e->val;

			if (g->flushing)
				continue;
			if (g->held) {
				if (g->hold_ms <= now) {
					g->held = 0;
					start_flush(d, g);
				} else if (g->hold_ms < wake)
					wake = g->hold_ms;
				continue;
			}
			if (g->next_ms <= now && g->alerts.n > 0) {
				if (!ready) {
					if (now + 100 < wake)
						wake = now + 100;
					continue;
				}
				g->has_flushed = 1;
				g->next_ms = now + g->group_interval_ms;
				if (hold > 0) {
					drop_snapshot(g);
					g->held_snap =
					    take_snapshot(g, &g->held_n);
					g->held_tick = now;
					g->held = 1;
					g->hold_ms = now + hold;
					if (g->hold_ms < wake)
						wake = g->hold_ms;
					continue;
				}
				start_flush(d, g);
			}
			if (g->next_ms < wake)
				wake = g->next_ms;
		}
		if (now - last_gc >= GC_EVERY_MS) {
			gc_groups(d);
			last_gc = now;
		}
		if (now - last_sync >= SYNC_EVERY_MS) {
			pthread_mutex_unlock(&d->mu);
			ar_nflog_sync(d->nflog, now);
			pthread_mutex_lock(&d->mu);
			last_sync = now;
		}
		/* a change while the lock was let go (nflog sync) would have
		 * signalled nobody: look again instead of sleeping */
		if (d->kick) {
			d->kick = 0;
			continue;
		}
		if (wake <= now)
			wake = now + 1;
		ts.tv_sec = wake / 1000;
		ts.tv_nsec = (wake % 1000) * 1000000L;
		pthread_cond_timedwait(&d->timer_cv, &d->mu, &ts);
		d->kick = 0;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int ar_dispatch_start(ar_core_t *core, ar_nflog_t *nflog, ax_metrics_t *metrics,
    int workers, ar_dispatch_t **out, ax_err_t *err)
{
	ar_dispatch_t *d = calloc(1, sizeof(*d));
	static const char *const lbl[] = {"integration"};
	ax_mfam_t *sent, *failed;
	int i, missing = 0;

	if (d == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	d->core = core;
	d->nflog = nflog;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->work_cv, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_REALTIME);
		pthread_cond_init(&d->timer_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	ax_hmap_init(&d->groups);
	sent = ax_metrics_family(metrics, AX_METRIC_COUNTER,
	    "alertmanager_notifications_total",
	    "The total number of attempted notifications.", 1, lbl, NULL, 0);
	failed = ax_metrics_family(metrics, AX_METRIC_COUNTER,
	    "alertmanager_notifications_failed_total",
	    "The total number of failed notifications.", 1, lbl, NULL, 0);
	for (i = 0; i < 4; i++) {
		const char *const v[] = {integ_names[i]};

		d->sent_total[i] = sent ? ax_mfam_with(sent, v) : NULL;
		d->failed_total[i] = failed ? ax_mfam_with(failed, v) : NULL;
		missing |=
		    d->sent_total[i] == NULL || d->failed_total[i] == NULL;
	}
	d->groups_gauge = ax_metrics_gauge(metrics,
	    "alertmanager_dispatcher_aggregation_groups",
	    "Number of active aggregation groups");
	d->workers = calloc((size_t)workers, sizeof(pthread_t));
	if (missing || d->groups_gauge == NULL || d->workers == NULL) {
		ar_dispatch_stop(d);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	d->nworkers = workers;
	for (i = 0; i < workers; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0) {
			ar_dispatch_stop(d);
			return ax_err_set(
			    err, AX_EINTERNAL, "cannot start a thread");
		}
		d->started_workers++;
	}
	if (pthread_create(&d->timer, NULL, timer_main, d) != 0) {
		ar_dispatch_stop(d);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	d->timer_started = 1;
	*out = d;
	return 0;
}

void ar_dispatch_stop(ar_dispatch_t *d)
{
	int i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	__atomic_store_n(&d->stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&d->work_cv);
	pthread_cond_broadcast(&d->timer_cv);
	pthread_mutex_unlock(&d->mu);
	if (d->timer_started)
		pthread_join(d->timer, NULL);
	for (i = 0; i < d->started_workers; i++)
		pthread_join(d->workers[i], NULL);
	while (d->qlen > 0) {
		group_unref(d->queue[d->qhead]);
		d->qhead = (d->qhead + 1) % d->qcap;
		d->qlen--;
	}
	drop_groups(d);
	ax_hmap_fini(&d->groups);
	free(d->queue);
	free(d->workers);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->work_cv);
	pthread_cond_destroy(&d->timer_cv);
	free(d);
}
