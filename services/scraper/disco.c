/*
 * disco: axon-scraper's link to axon-discoverer (see disco.h).
 */
#include "scraper/disco.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_hrw.h"
#include "ax_labels.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/targets.pb-c.h"

#define FIRST_INTERVAL_MS 1000

typedef struct rtarget {
	char *set;           /* "registry" or a delegated job's name */
	ax_labels_t *labels; /* group and target labels but __address__ */
	char *address, *service, *tags; /* service, tags: registry only */
} rtarget_t;

typedef struct dsd {
	char *job, *kind, *yaml;
} dsd_t;

struct scraper_disco {
	char *id, *http_url;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, poke;
	pthread_t thread;
	ax_msg_client_t *cli;
	ax_msg_sub_t *sub;
	void (*on_change)(void *);
	void *arg;
	/* under mu */
	char **members; /* NULL: no assignment yet (own everything) */
	size_t n_members;
	uint64_t assign_version;
	uint64_t generation;
	int have_sets;
	rtarget_t *rt;
	size_t n_rt;
	int64_t interval_ms;
	int connected;
	pthread_mutex_t dsd_mu; /* the next three (never under mu) */
	dsd_t *dsd;             /* sections to delegate */
	size_t n_dsd;
	int dsd_dirty;
	unsigned beats;
	ax_metric_t *m_hb_fail, *m_members, *m_assign, *m_snap;
};

static void dsd_free(dsd_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].job);
		free(v[i].kind);
		free(v[i].yaml);
	}
	free(v);
}

static void rt_free(rtarget_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ax_labels_free(v[i].labels);
		free(v[i].set);
		free(v[i].address);
		free(v[i].service);
		free(v[i].tags);
	}
	free(v);
}

/* Replace the targets with those of u (locked).  1 on success. */
static int apply_update(scraper_disco_t *d, const Axon__V1__TargetSetUpdate *u)
{
	rtarget_t *v = NULL;
	size_t n = 0, cap = 0, i, k, m;

	for (i = 0; i < u->n_sets; i++) {
		const Axon__V1__TargetSet *s = u->sets[i];
		int reg = strcmp(s->job, "registry") == 0;

		for (k = 0; k < s->n_groups; k++) {
			const Axon__V1__TargetGroup *g = s->groups[k];

			for (m = 0; m < g->n_targets; m++) {
				const Axon__V1__LabelSet *ls = g->targets[m];
				ax_labels_builder_t b;
				rtarget_t *t;
				size_t q;
				const char *addr;

				if (ax_grow((void **)&v, &cap, n + 1,
				        sizeof(*v)) != 0) {
					rt_free(v, n);
					return 0;
				}
				t = &v[n];
				memset(t, 0, sizeof(*t));
				ax_labels_builder_init(&b, NULL);
				for (q = 0; q < g->n_labels; q++)
					ax_labels_builder_set(&b,
					    g->labels[q]->name,
					    g->labels[q]->value);
				for (q = 0; q < ls->n_labels; q++)
					ax_labels_builder_set(&b,
					    ls->labels[q]->name,
					    ls->labels[q]->value);
				ax_labels_builder_build(&b, &t->labels, NULL);
				ax_labels_builder_fini(&b);
				addr = t->labels
				    ? ax_labels_get(t->labels, "__address__")
				    : NULL;
				if (addr == NULL) {
					ax_labels_free(t->labels);
					continue;
				}
				t->set = strdup(s->job);
				t->address = strdup(addr);
				if (reg) {
					const char *sv = ax_labels_get(
					    t->labels, "__meta_consul_service");
					const char *tg = ax_labels_get(
					    t->labels, "__meta_consul_tags");

					t->service = strdup(sv ? sv : "");
					t->tags = strdup(tg ? tg : "");
				}
				{
					/* __address__ travels as the target */
					ax_labels_builder_t r;
					ax_labels_t *rest = NULL;

					ax_labels_builder_init(&r, t->labels);
					ax_labels_builder_del(
					    &r, "__address__");
					ax_labels_builder_build(
					    &r, &rest, NULL);
					ax_labels_builder_fini(&r);
					ax_labels_free(t->labels);
					t->labels = rest;
				}
				if (t->set == NULL || t->address == NULL ||
				    t->labels == NULL ||
				    (reg &&
				        (t->service == NULL ||
				            t->tags == NULL))) {
					ax_labels_free(t->labels);
					free(t->set);
					free(t->address);
					free(t->service);
					free(t->tags);
					continue;
				}
				n++;
			}
		}
	}
	rt_free(d->rt, d->n_rt);
	d->rt = v;
	d->n_rt = n;
	d->have_sets = 1;
	return 1;
}

static void on_targets(
    void *arg, const char *topic, const uint8_t *data, size_t len)
{
	scraper_disco_t *d = arg;
	Axon__V1__TargetSetUpdate *u;
	ax_err_t err;
	int changed = 0;
	void (*fn)(void *);
	void *fa;

	if (strcmp(topic, "assign") == 0) {
		Axon__V1__Assignment *a;

		if (ax_msg_unpack(&axon__v1__assignment__descriptor, data, len,
		        64u << 20, (ProtobufCMessage **)&a, &err) != 0)
			return;
		pthread_mutex_lock(&d->mu);
		if (a->version != d->assign_version) {
			d->poke = 1; /* heartbeat now: the reply has it */
			pthread_cond_signal(&d->cv);
		}
		pthread_mutex_unlock(&d->mu);
		protobuf_c_message_free_unpacked(&a->base, NULL);
		return;
	}
	if (strcmp(topic, "targets") != 0)
		return;
	if (ax_msg_unpack(&axon__v1__target_set_update__descriptor, data, len,
	        64u << 20, (ProtobufCMessage **)&u, &err) != 0) {
		ax_log_warn("bad target-set update from the discoverer", "err",
		    err.msg);
		return;
	}
	pthread_mutex_lock(&d->mu);
	if (u->full && (u->generation != d->generation || !d->have_sets)) {
		changed = apply_update(d, u);
		if (changed)
			d->generation = u->generation;
	}
	fn = d->on_change;
	fa = d->arg;
	pthread_mutex_unlock(&d->mu);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	if (changed && fn)
		fn(fa);
}

/* Ask for the full snapshot.  1 when anything changed. */
static int fetch_snapshot(scraper_disco_t *d)
{
	Axon__V1__ControlRequest rq = AXON__V1__CONTROL_REQUEST__INIT;
	Axon__V1__ControlReply *rp;
	ax_err_t err;
	int changed = 0;

	rq.version = 1;
	rq.body_case = AXON__V1__CONTROL_REQUEST__BODY_SNAPSHOT;
	rq.snapshot = 1;
	if (ax_msg_call(d->cli, &rq.base, &axon__v1__control_reply__descriptor,
	        (ProtobufCMessage **)&rp, &err) != 0)
		return 0;
	ax_counter_inc(d->m_snap);
	pthread_mutex_lock(&d->mu);
	if (rp->body_case == AXON__V1__CONTROL_REPLY__BODY_SNAPSHOT &&
	    apply_update(d, rp->snapshot)) {
		d->generation = rp->snapshot->generation;
		changed = 1;
	}
	pthread_mutex_unlock(&d->mu);
	protobuf_c_message_free_unpacked(&rp->base, NULL);
	return changed;
}

/* One heartbeat.  1 when ownership or targets changed. */
static int heartbeat(scraper_disco_t *d)
{
	Axon__V1__ControlRequest rq = AXON__V1__CONTROL_REQUEST__INIT;
	Axon__V1__Heartbeat hb = AXON__V1__HEARTBEAT__INIT;
	Axon__V1__ControlReply *rp;
	ax_err_t err;
	int changed = 0, need_snap = 0;

	pthread_mutex_lock(&d->mu);
	hb.version = 1;
	hb.scraper_id = d->id;
	hb.assignment_version = d->members ? d->assign_version : 0;
	hb.ts_ms = ax_now_ms();
	hb.http_url = d->http_url;
	pthread_mutex_unlock(&d->mu);
	rq.version = 1;
	rq.body_case = AXON__V1__CONTROL_REQUEST__BODY_HEARTBEAT;
	rq.heartbeat = &hb;
	if (ax_msg_call(d->cli, &rq.base, &axon__v1__control_reply__descriptor,
	        (ProtobufCMessage **)&rp, &err) != 0) {
		ax_counter_inc(d->m_hb_fail);
		pthread_mutex_lock(&d->mu);
		if (d->connected)
			ax_log_warn("discoverer unreachable; scraping the last "
			            "assignment",
			    "err", err.msg);
		d->connected = 0;
		pthread_mutex_unlock(&d->mu);
		return 0;
	}
	if (rp->error[0]) {
		ax_log_warn(
		    "the discoverer refused a heartbeat", "err", rp->error);
		protobuf_c_message_free_unpacked(&rp->base, NULL);
		return 0;
	}
	pthread_mutex_lock(&d->mu);
	if (!d->connected)
		ax_log_info("connected to the discoverer");
	d->connected = 1;
	if (rp->body_case == AXON__V1__CONTROL_REPLY__BODY_HEARTBEAT) {
		const Axon__V1__HeartbeatReply *hr = rp->heartbeat;

		if (hr->heartbeat_interval_ms > 0)
			d->interval_ms = hr->heartbeat_interval_ms;
		if (hr->assignment) {
			char **nm = calloc(
			    hr->assignment->n_members + 1, sizeof(char *));
			size_t i, ok = nm != NULL;

			for (i = 0; ok && i < hr->assignment->n_members; i++)
				ok = (nm[i] = strdup(
				          hr->assignment->members[i])) != NULL;
			if (ok) {
				for (i = 0; d->members && d->members[i]; i++)
					free(d->members[i]);
				free(d->members);
				d->members = nm;
				d->n_members = hr->assignment->n_members;
				d->assign_version = hr->assignment->version;
				ax_gauge_set(
				    d->m_members, (double)d->n_members);
				ax_counter_inc(d->m_assign);
				changed = 1;
			} else if (nm) {
				for (i = 0; nm[i]; i++)
					free(nm[i]);
				free(nm);
			}
		}
		need_snap = hr->generation != d->generation || !d->have_sets;
	}
	pthread_mutex_unlock(&d->mu);
	protobuf_c_message_free_unpacked(&rp->base, NULL);
	if (need_snap)
		changed |= fetch_snapshot(d);
	return changed;
}

/* Send the delegated sections (not locked). */
static void send_delegations(scraper_disco_t *d)
{
	Axon__V1__ControlRequest rq = AXON__V1__CONTROL_REQUEST__INIT;
	Axon__V1__DelegatedSDs ds = AXON__V1__DELEGATED_SDS__INIT;
	Axon__V1__DelegatedSD *items = NULL, **ptrs = NULL;
	Axon__V1__ControlReply *rp;
	ax_err_t err;
	size_t i, n;

	pthread_mutex_lock(&d->dsd_mu);
	n = d->n_dsd;
	if (n &&
	    ((items = calloc(n, sizeof(*items))) == NULL ||
	        (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		pthread_mutex_unlock(&d->dsd_mu);
		free(items);
		return;
	}
	for (i = 0; i < n; i++) {
		axon__v1__delegated_sd__init(&items[i]);
		items[i].job = d->dsd[i].job;
		items[i].kind = d->dsd[i].kind;
		items[i].config_yaml = d->dsd[i].yaml;
		ptrs[i] = &items[i];
	}
	ds.scraper_id = d->id;
	ds.configs = ptrs;
	ds.n_configs = n;
	rq.version = 1;
	rq.body_case = AXON__V1__CONTROL_REQUEST__BODY_DELEGATE;
	rq.delegate = &ds;
	if (ax_msg_call(d->cli, &rq.base, &axon__v1__control_reply__descriptor,
	        (ProtobufCMessage **)&rp, &err) != 0)
		ax_log_warn("cannot hand discovery sections to the discoverer; "
		            "retrying with the next heartbeat",
		    "err", err.msg);
	else {
		d->dsd_dirty = 0;
		if (rp->error[0])
			ax_log_error("the discoverer refused a delegated "
			             "discovery section",
			    "err", rp->error);
		protobuf_c_message_free_unpacked(&rp->base, NULL);
	}
	pthread_mutex_unlock(&d->dsd_mu);
	free(items);
	free(ptrs);
}

static void *disco_main(void *arg)
{
	scraper_disco_t *d = arg;

	pthread_mutex_lock(&d->mu);
	while (!d->stop) {
		struct timespec ts;
		int64_t iv;
		int changed;
		void (*fn)(void *);
		void *fa;

		pthread_mutex_unlock(&d->mu);
		{
			int was, now, dirty;

			pthread_mutex_lock(&d->mu);
			was = d->connected;
			pthread_mutex_unlock(&d->mu);
			changed = heartbeat(d);
			pthread_mutex_lock(&d->mu);
			now = d->connected;
			pthread_mutex_unlock(&d->mu);
			/* (re)connected, changed, or every 30 beats: a
			 * restarted discoverer has forgotten them */
			pthread_mutex_lock(&d->dsd_mu);
			dirty = d->dsd_dirty;
			pthread_mutex_unlock(&d->dsd_mu);
			if (now && (!was || dirty || ++d->beats % 30 == 0))
				send_delegations(d);
		}
		pthread_mutex_lock(&d->mu);
		fn = d->on_change;
		fa = d->arg;
		if (changed && fn) {
			pthread_mutex_unlock(&d->mu);
			fn(fa);
			pthread_mutex_lock(&d->mu);
		}
		iv = d->interval_ms;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += iv / 1000;
		ts.tv_nsec += (iv % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!d->stop && !d->poke)
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		d->poke = 0;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int scraper_disco_start(const scraper_disco_opts_t *o, ax_metrics_t *m,
    scraper_disco_t **out, ax_err_t *err)
{
	scraper_disco_t *d = calloc(1, sizeof(*d));
	ax_msg_opts_t mo;
	const char *topics[] = {"targets", "assign"};
	int rv;

	if (d == NULL || (d->id = strdup(o->id)) == NULL ||
	    (d->http_url = strdup(o->http_url ? o->http_url : "")) == NULL) {
		if (d)
			free(d->id);
		free(d);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->dsd_mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->on_change = o->on_change;
	d->arg = o->arg;
	d->interval_ms = FIRST_INTERVAL_MS;
	d->connected = 1; /* so the first failure is logged */
	d->m_hb_fail = ax_metrics_counter(m,
	    "axon_scraper_discoverer_heartbeat_failures_total",
	    "Heartbeats to axon-discoverer that got no answer.");
	d->m_members = ax_metrics_gauge(m, "axon_scraper_assignment_members",
	    "Live scrapers in the assignment in force (0: none received "
	    "yet, every target is scraped here).");
	d->m_assign =
	    ax_metrics_counter(m, "axon_scraper_assignments_received_total",
	        "Assignments (member sets) received from axon-discoverer.");
	d->m_snap =
	    ax_metrics_counter(m, "axon_scraper_discoverer_snapshots_total",
	        "Full target-set snapshots fetched from axon-discoverer.");
	memset(&mo, 0, sizeof(mo));
	mo.timeout_ms = 1000;
	mo.retries = 0;
	mo.reconnect_max_ms = 1000;
	if ((rv = ax_msg_client_open(o->control, &mo, &d->cli, err)) != 0 ||
	    (rv = ax_msg_sub_open(o->publish, &mo, topics, 2, on_targets, d,
	         &d->sub, err)) != 0) {
		ax_msg_client_close(d->cli);
		free(d->id);
		free(d->http_url);
		free(d);
		return rv;
	}
	if (pthread_create(&d->thread, NULL, disco_main, d) != 0) {
		ax_msg_sub_close(d->sub);
		ax_msg_client_close(d->cli);
		free(d->id);
		free(d->http_url);
		free(d);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	*out = d;
	return 0;
}

void scraper_disco_stop(scraper_disco_t *d)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	ax_msg_sub_close(d->sub);
	ax_msg_client_close(d->cli);
	for (i = 0; d->members && d->members[i]; i++)
		free(d->members[i]);
	free(d->members);
	rt_free(d->rt, d->n_rt);
	dsd_free(d->dsd, d->n_dsd);
	free(d->id);
	free(d->http_url);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

int scraper_disco_delegate(scraper_disco_t *d, const scraper_cfg_t *cfg)
{
	const scraper_job_t *jobs = cfg->jobs.items;
	dsd_t *v = calloc(3 * cfg->jobs.n + 1, sizeof(*v)), *old;
	size_t n = 0, i, on;

	if (v == NULL)
		return AX_ENOMEM;
	for (i = 0; i < cfg->jobs.n; i++) {
		const char *y[3] = {jobs[i].dns_sd_yaml, jobs[i].consul_sd_yaml,
		    jobs[i].k8s_sd_yaml};
		const char *k[3] = {
		    "dns_sd_configs", "consul_sd_configs", "kubernetes_sd_configs"};
		int q;

		for (q = 0; q < 3; q++) {
			if (y[q] == NULL)
				continue;
			v[n].job = strdup(jobs[i].job_name);
			v[n].kind = strdup(k[q]);
			v[n].yaml = strdup(y[q]);
			n++;
			if (!v[n - 1].job || !v[n - 1].kind || !v[n - 1].yaml) {
				dsd_free(v, n);
				return AX_ENOMEM;
			}
		}
	}
	pthread_mutex_lock(&d->dsd_mu);
	old = d->dsd;
	on = d->n_dsd;
	d->dsd = v;
	d->n_dsd = n;
	d->dsd_dirty = 1;
	pthread_mutex_unlock(&d->dsd_mu);
	pthread_mutex_lock(&d->mu);
	d->poke = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	dsd_free(old, on);
	return 0;
}

void scraper_disco_set_callback(
    scraper_disco_t *d, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&d->mu);
	d->on_change = fn;
	d->arg = arg;
	pthread_mutex_unlock(&d->mu);
}

int scraper_disco_owns(scraper_disco_t *d, const char *address)
{
	long o;
	int mine;

	if (d == NULL || address == NULL)
		return 1;
	pthread_mutex_lock(&d->mu);
	if (d->members == NULL) {
		pthread_mutex_unlock(&d->mu);
		return 1;
	}
	o = ax_hrw_owner((const char *const *)d->members, d->n_members,
	    ax_hrw_key(address, strlen(address)));
	mine = o >= 0 && strcmp(d->members[o], d->id) == 0;
	pthread_mutex_unlock(&d->mu);
	return mine;
}

static int matches(const rtarget_t *t, const scraper_axonsd_t *f)
{
	size_t i;
	int ok = f->services.n == 0;

	if (strcmp(t->set, "registry") != 0)
		return 0;
	for (i = 0; i < f->services.n && !ok; i++)
		ok = strcmp(f->services.v[i], t->service) == 0;
	for (i = 0; ok && i < f->tags.n; i++) {
		char pat[512];

		snprintf(pat, sizeof(pat), ",%s,", f->tags.v[i]);
		ok = strstr(t->tags, pat) != NULL;
	}
	return ok;
}

static int in_set(const rtarget_t *t, const char *set)
{
	return strcmp(t->set, set) == 0;
}

/* The targets for which keep(t, arg) holds, one group each. */
static int collect(scraper_disco_t *d,
    int (*keep)(const rtarget_t *, const void *), const void *arg,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err);

static int keep_filter(const rtarget_t *t, const void *arg)
{
	return matches(t, arg);
}

static int keep_set(const rtarget_t *t, const void *arg)
{
	return in_set(t, arg);
}

int scraper_disco_groups(scraper_disco_t *d, const scraper_axonsd_t *f,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err)
{
	return collect(d, keep_filter, f, groups, n, err);
}

int scraper_disco_set_groups(scraper_disco_t *d, const char *set,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err)
{
	return collect(d, keep_set, set, groups, n, err);
}

static int collect(scraper_disco_t *d,
    int (*keep)(const rtarget_t *, const void *), const void *f,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err)
{
	ax_tgroup_t *g = NULL;
	size_t ng = 0, i;

	*groups = NULL;
	*n = 0;
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n_rt; i++)
		if (keep(&d->rt[i], f))
			ng++;
	if (ng && (g = calloc(ng, sizeof(*g))) == NULL) {
		pthread_mutex_unlock(&d->mu);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ng = 0;
	for (i = 0; i < d->n_rt; i++) {
		ax_tgroup_t *s;

		if (!keep(&d->rt[i], f))
			continue;
		s = &g[ng++];
		s->targets.v = calloc(1, sizeof(char *));
		if (s->targets.v == NULL ||
		    (s->targets.v[0] = strdup(d->rt[i].address)) == NULL ||
		    (s->labels = ax_labels_dup(d->rt[i].labels)) == NULL) {
			pthread_mutex_unlock(&d->mu);
			ax_tgroups_free(g, ng);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		s->targets.n = 1;
	}
	pthread_mutex_unlock(&d->mu);
	*groups = g;
	*n = ng;
	return 0;
}
