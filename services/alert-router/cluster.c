/*
 * ar_cluster: replication and positions between alert-router replicas
 * (cluster.h).
 */
#include "alert-router/cluster.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/cluster.pb-c.h"

#define MAX_PEERS 32
#define MAX_PENDING 4096 /* queued changes per peer before a full exchange */
#define CALL_TIMEOUT_MS 2000
#define DEAD_PROBES 5
#define MAX_MSG_BYTES (64u << 20)

typedef struct peer {
	struct ar_cluster *c;
	char *id;
	int configured;
	ax_msg_client_t *cli;
	pthread_t thr;
	int started;
	int64_t last_ok_ms;   /* it answered us or called us */
	int64_t last_sent_ms; /* our last exchange attempt */
	int64_t next_full_ms;
	int synced;    /* a full-state exchange succeeded */
	int need_full; /* the next exchange carries everything */
	int down_logged;
	ar_silence_t **sils;
	size_t nsil;
	char **keys;
	ar_nflog_entry_t **ents;
	size_t nent;
} peer_t;

struct ar_cluster {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *self;
	ar_cluster_opts_t o;
	ar_silences_t *sil;
	ar_nflog_t *nflog;
	ax_msg_server_t *srv;
	peer_t *peers[MAX_PEERS];
	size_t npeers;
	int stopping;
	int64_t start_ms;
	int settled;
	ax_metric_t *m_members, *m_position, *m_ok, *m_failed, *m_recv;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pending changes ---- */

static void pending_clear(peer_t *p)
{
	size_t i;

	for (i = 0; i < p->nsil; i++)
		ar_silence_unref(p->sils[i]);
	for (i = 0; i < p->nent; i++) {
		free(p->keys[i]);
		ar_nflog_entry_free(p->ents[i]);
	}
	free(p->sils);
	free(p->keys);
	free(p->ents);
	p->sils = NULL;
	p->keys = NULL;
	p->ents = NULL;
	p->nsil = p->nent = 0;
}

/* Room for one more change; on overflow or no memory, forget the queue
 * and make the next exchange a full one (lock held). */
static int pending_room(peer_t *p, int sil)
{
	size_t n = sil ? p->nsil : p->nent;

	if (n >= MAX_PENDING) {
		pending_clear(p);
		p->need_full = 1;
		return 0;
	}
	if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		size_t cap = n ? n * 2 : 1;

		if (sil) {
			ar_silence_t **v = realloc(p->sils, cap * sizeof(*v));

			if (v == NULL)
				goto oom;
			p->sils = v;
		} else {
			char **k = realloc(p->keys, cap * sizeof(*k));

			if (k == NULL)
				goto oom;
			p->keys = k;
			ar_nflog_entry_t **e =
			    realloc(p->ents, cap * sizeof(*e));
			if (e == NULL)
				goto oom;
			p->ents = e;
		}
	}
	return 1;
oom:
	pending_clear(p);
	p->need_full = 1;
	return 0;
}

static void on_silence(void *arg, ar_silence_t *s)
{
	ar_cluster_t *c = arg;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->npeers; i++) {
		peer_t *p = c->peers[i];

		if (pending_room(p, 1))
			p->sils[p->nsil++] = ar_silence_ref(s);
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_log(void *arg, const char *key, const ar_nflog_entry_t *e)
{
	ar_cluster_t *c = arg;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->npeers; i++) {
		peer_t *p = c->peers[i];
		char *k;
		ar_nflog_entry_t *ce;

		if (!pending_room(p, 0))
			continue;
		k = strdup(key);
		ce = ar_nflog_entry_new(
		    e->ts_ms, e->firing, e->nfiring, e->resolved, e->nresolved);
		if (k == NULL || ce == NULL) {
			free(k);
			ar_nflog_entry_free(ce);
			p->need_full = 1;
			continue;
		}
		p->keys[p->nent] = k;
		p->ents[p->nent++] = ce;
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---- conversion to and from the wire ---- */

/* Protobuf views of silences and entries; everything one message
 * points to, freed together. */
typedef struct wire {
	Axon__V1__Silence *sil, **silp;
	Axon__V1__Matcher *m, **mp;
	Axon__V1__NotificationEntry *ent, **entp;
	char **strs; /* split keys */
	size_t nsil, nent, nstr;
} wire_t;

static void wire_fini(wire_t *w)
{
	size_t i;

	for (i = 0; i < w->nstr; i++)
		free(w->strs[i]);
	free(w->strs);
	free(w->sil);
	free(w->silp);
	free(w->m);
	free(w->mp);
	free(w->ent);
	free(w->entp);
}

static int wire_build(wire_t *w, ar_silence_t *const *sils, size_t nsil,
    char *const *keys, ar_nflog_entry_t *const *ents, size_t nent)
{
	size_t nm = 0, i, k, mi = 0;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < nsil; i++)
		nm += sils[i]->matchers.n;
	w->sil = calloc(nsil + 1, sizeof(*w->sil));
	w->silp = calloc(nsil + 1, sizeof(*w->silp));
	w->m = calloc(nm + 1, sizeof(*w->m));
	w->mp = calloc(nm + 1, sizeof(*w->mp));
	w->ent = calloc(nent + 1, sizeof(*w->ent));
	w->entp = calloc(nent + 1, sizeof(*w->entp));
	w->strs = calloc(nent + 1, sizeof(*w->strs));
	if (!w->sil || !w->silp || !w->m || !w->mp || !w->ent || !w->entp ||
	    !w->strs)
		return AX_ENOMEM;
	for (i = 0; i < nsil; i++) {
		const ar_silence_t *s = sils[i];
		Axon__V1__Silence *ps = &w->sil[i];

		axon__v1__silence__init(ps);
		ps->id = (char *)s->id;
		ps->starts_at_ms = s->starts_ms;
		ps->ends_at_ms = s->ends_ms;
		ps->updated_at_ms = s->updated_ms;
		ps->created_by = s->created_by ? s->created_by : "";
		ps->comment = s->comment ? s->comment : "";
		ps->matchers = &w->mp[mi];
		ps->n_matchers = s->matchers.n;
		for (k = 0; k < s->matchers.n; k++, mi++) {
			axon__v1__matcher__init(&w->m[mi]);
			w->m[mi].type =
			    (Axon__V1__Matcher__Type)s->matchers.v[k].type;
			w->m[mi].name = s->matchers.v[k].name;
			w->m[mi].value = s->matchers.v[k].value;
			w->mp[mi] = &w->m[mi];
		}
		w->silp[i] = ps;
	}
	w->nsil = nsil;
	for (i = 0; i < nent; i++) {
		/* key: "<group key>\x1f<receiver>\x1f<kind>/<index>" */
		Axon__V1__NotificationEntry *pe = &w->ent[i];
		char *s = strdup(keys[i]), *r, *in, *slash;

		if (s == NULL)
			return AX_ENOMEM;
		w->strs[w->nstr++] = s;
		axon__v1__notification_entry__init(pe);
		r = strchr(s, '\x1f');
		in = r ? strchr(r + 1, '\x1f') : NULL;
		slash = in ? strrchr(in + 1, '/') : NULL;
		if (slash == NULL)
			continue; /* not ours: never written so */
		*r = *in = *slash = '\0';
		pe->group_key = s;
		pe->receiver = r + 1;
		pe->integration = in + 1;
		pe->integration_index = (uint32_t)strtoul(slash + 1, NULL, 10);
		pe->sent_at_ms = ents[i]->ts_ms;
		pe->firing_alerts = ents[i]->firing;
		pe->n_firing_alerts = ents[i]->nfiring;
		pe->resolved_alerts = ents[i]->resolved;
		pe->n_resolved_alerts = ents[i]->nresolved;
		w->entp[w->nent++] = pe;
	}
	return 0;
}

/* Merge what a peer sent.  Bad silences are skipped with a log line. */
static void merge_in(ar_cluster_t *c, Axon__V1__Silence **ps, size_t nps,
    Axon__V1__NotificationEntry **pe, size_t npe)
{
	ar_silence_t **v = calloc(nps + 1, sizeof(*v));
	size_t n = 0, i, k;
	int64_t now = ax_now_ms();
	ax_err_t err;

	for (i = 0; v && i < nps; i++) {
		const Axon__V1__Silence *p = ps[i];
		ar_silence_t *s;

		if (p->id == NULL || strlen(p->id) >= sizeof(s->id) ||
		    p->n_matchers == 0)
			continue;
		if ((s = ar_silence_new()) == NULL)
			break;
		snprintf(s->id, sizeof(s->id), "%s", p->id);
		s->starts_ms = p->starts_at_ms;
		s->ends_ms = p->ends_at_ms;
		s->updated_ms = p->updated_at_ms;
		s->created_by = strdup(p->created_by ? p->created_by : "");
		s->comment = strdup(p->comment ? p->comment : "");
		for (k = 0; k < p->n_matchers && s->created_by && s->comment;
		     k++) {
			const Axon__V1__Matcher *m = p->matchers[k];

			if ((unsigned)m->type > 3 ||
			    ax_amatchers_add(&s->matchers,
			        (ax_amatch_type_t)m->type,
			        m->name ? m->name : "",
			        m->value ? m->value : "", &err) != 0)
				break;
		}
		if (s->created_by == NULL || s->comment == NULL ||
		    k < p->n_matchers) {
			ax_log_warn("cluster: skipping a peer's silence", "id",
			    p->id, "err", "bad matcher or out of memory");
			ar_silence_unref(s);
			continue;
		}
		v[n++] = s;
	}
	if (n > 0 && ar_silences_merge(c->sil, v, n, now, &err) < 0)
		ax_log_error("cluster: cannot merge silences", "err", err.msg);
	for (i = 0; i < n; i++)
		ar_silence_unref(v[i]);
	free(v);
	for (i = 0; i < npe; i++) {
		const Axon__V1__NotificationEntry *p = pe[i];
		char key[8192];
		ar_nflog_entry_t e;

		if (!p->group_key || !p->receiver || !p->integration)
			continue;
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s/%u", p->group_key,
		    p->receiver, p->integration, p->integration_index);
		e.ts_ms = p->sent_at_ms;
		e.firing = p->firing_alerts;
		e.nfiring = p->n_firing_alerts;
		e.resolved = p->resolved_alerts;
		e.nresolved = p->n_resolved_alerts;
		if (ar_nflog_merge(c->nflog, key, &e, now) < 0)
			ax_log_error("cluster: cannot merge a notification "
			             "log entry",
			    "group", p->group_key);
	}
}

/* ---- members ---- */

static void *peer_main(void *arg);

/* Find or add peer id (lock held).  NULL for ourselves, a full table or
 * a bad address. */
static peer_t *peer_get(ar_cluster_t *c, const char *id, int configured)
{
	ax_msg_opts_t mo = {0};
	ax_err_t err;
	peer_t *p;
	size_t i;

	if (id == NULL || *id == '\0' || strcmp(id, c->self) == 0)
		return NULL;
	for (i = 0; i < c->npeers; i++)
		if (strcmp(c->peers[i]->id, id) == 0)
			return c->peers[i];
	if (c->npeers == MAX_PEERS || c->stopping)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->id = strdup(id)) == NULL) {
		if (p)
			free(p);
		return NULL;
	}
	p->c = c;
	p->configured = configured;
	p->need_full = 1;
	mo.timeout_ms = CALL_TIMEOUT_MS;
	mo.retries = 0;
	mo.max_msg_bytes = MAX_MSG_BYTES;
	mo.reconnect_max_ms = 1000;
	if (ax_msg_client_open(id, &mo, &p->cli, &err) != 0) {
		ax_log_warn(
		    "cluster: cannot dial a peer", "peer", id, "err", err.msg);
		free(p->id);
		free(p);
		return NULL;
	}
	if (pthread_create(&p->thr, NULL, peer_main, p) != 0) {
		ax_msg_client_close(p->cli);
		free(p->id);
		free(p);
		return NULL;
	}
	p->started = 1;
	c->peers[c->npeers++] = p;
	if (!configured)
		ax_log_info("cluster: peer joined", "peer", id);
	return p;
}

static int alive(const ar_cluster_t *c, const peer_t *p, int64_t now)
{
	return p->last_ok_ms != 0 &&
	    now - p->last_ok_ms < DEAD_PROBES * c->o.probe_interval_ms;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lock held. */
static int position_locked(ar_cluster_t *c)
{
	const char *names[MAX_PEERS + 1];
	size_t n = 0, i;
	int64_t now = mono_ms();

	names[n++] = c->self;
	for (i = 0; i < c->npeers; i++)
		if (alive(c, c->peers[i], now))
			names[n++] = c->peers[i]->id;
	qsort(names, n, sizeof(*names), cmp_strp);
	for (i = 0; i < n; i++)
		if (names[i] == c->self)
			break;
	ax_gauge_set(c->m_members, (double)n);
	ax_gauge_set(c->m_position, (double)i);
	return (int)i;
}

/* Member ids for a message (lock held; strings borrowed). */
static char **members_locked(ar_cluster_t *c, size_t *n)
{
	char **v = calloc(c->npeers + 1, sizeof(*v));
	size_t i;

	*n = 0;
	for (i = 0; v && i < c->npeers; i++)
		v[(*n)++] = c->peers[i]->id;
	return v;
}

static void learn_members(ar_cluster_t *c, char **ids, size_t n)
{
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < n; i++)
		peer_get(c, ids[i], 0);
	pthread_mutex_unlock(&c->mu);
}

/* ---- the full state ---- */

typedef struct state {
	ar_silence_t **sils;
	size_t nsil;
	char **keys;
	ar_nflog_entry_t **ents;
	size_t nent;
} state_t;

static int state_take(ar_cluster_t *c, state_t *st)
{
	memset(st, 0, sizeof(*st));
	if (ar_silences_list(c->sil, &st->sils, &st->nsil) != 0)
		return AX_ENOMEM;
	if (ar_nflog_snapshot(
	        c->nflog, ax_now_ms(), &st->keys, &st->ents, &st->nent) != 0) {
		ar_silences_list_free(st->sils, st->nsil);
		return AX_ENOMEM;
	}
	return 0;
}

static void state_free(state_t *st)
{
	ar_silences_list_free(st->sils, st->nsil);
	ar_nflog_snapshot_free(st->keys, st->ents, st->nent);
}

/* ---- our side of an exchange ---- */

static int exchange(ar_cluster_t *c, peer_t *p, int full, state_t *delta)
{
	Axon__V1__Gossip g = AXON__V1__GOSSIP__INIT;
	Axon__V1__GossipAck *ack = NULL;
	state_t st, *send = delta;
	wire_t w;
	char **members;
	size_t nmem;
	ax_err_t err;
	int rv;

	if (full) {
		if (state_take(c, &st) != 0)
			return AX_ENOMEM;
		send = &st;
	}
	pthread_mutex_lock(&c->mu);
	members = members_locked(c, &nmem);
	pthread_mutex_unlock(&c->mu);
	rv = members ? wire_build(&w, send->sils, send->nsil, send->keys,
	                   send->ents, send->nent)
	             : AX_ENOMEM;
	if (rv == 0) {
		g.version = 1;
		g.peer_id = c->self;
		g.silences = w.silp;
		g.n_silences = w.nsil;
		g.entries = w.entp;
		g.n_entries = w.nent;
		g.members = members;
		g.n_members = nmem;
		g.full_state = full;
		/* the member strings are the peers' ids, which live as long
		 * as the cluster */
		rv = ax_msg_call(p->cli, &g.base,
		    &axon__v1__gossip_ack__descriptor,
		    (ProtobufCMessage **)&ack, &err);
	}
	if (members)
		wire_fini(&w);
	free(members);
	if (full)
		state_free(&st);
	if (rv != 0)
		return rv;
	if (ack->error && *ack->error) {
		ax_log_warn("cluster: a peer refused our state", "peer", p->id,
		    "err", ack->error);
		protobuf_c_message_free_unpacked(&ack->base, NULL);
		return AX_EPROTO;
	}
	merge_in(
	    c, ack->silences, ack->n_silences, ack->entries, ack->n_entries);
	learn_members(c, ack->members, ack->n_members);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	return 0;
}

static void *peer_main(void *arg)
{
	peer_t *p = arg;
	ar_cluster_t *c = p->c;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		int64_t now = mono_ms(), wake;
		int full = p->need_full || now >= p->next_full_ms;
		int changes = p->nsil > 0 || p->nent > 0;
		state_t delta = {0};
		struct timespec ts;
		int rv;

		if (!full) {
			wake = p->last_sent_ms +
			    (changes ? c->o.gossip_interval_ms
			             : c->o.probe_interval_ms);
			if (p->next_full_ms < wake)
				wake = p->next_full_ms;
			if (wake > now) {
				ts.tv_sec = wake / 1000;
				ts.tv_nsec = (wake % 1000) * 1000000L;
				pthread_cond_timedwait(&c->cv, &c->mu, &ts);
				continue;
			}
		}
		/* take the queued changes; a full exchange covers them */
		delta.sils = p->sils;
		delta.nsil = p->nsil;
		delta.keys = p->keys;
		delta.ents = p->ents;
		delta.nent = p->nent;
		p->sils = NULL;
		p->keys = NULL;
		p->ents = NULL;
		p->nsil = p->nent = 0;
		p->last_sent_ms = now;
		pthread_mutex_unlock(&c->mu);
		rv = exchange(c, p, full, &delta);
		{
			size_t i;

			for (i = 0; i < delta.nsil; i++)
				ar_silence_unref(delta.sils[i]);
			free(delta.sils);
			ar_nflog_snapshot_free(
			    delta.keys, delta.ents, delta.nent);
		}
		pthread_mutex_lock(&c->mu);
		now = mono_ms();
		if (rv == 0) {
			ax_counter_inc(c->m_ok);
			if (p->last_ok_ms == 0 || p->down_logged)
				ax_log_info(
				    "cluster: peer is up", "peer", p->id);
			p->down_logged = 0;
			p->last_ok_ms = now;
			if (full) {
				p->synced = 1;
				p->need_full = 0;
				p->next_full_ms =
				    now + c->o.pushpull_interval_ms;
			}
		} else {
			ax_counter_inc(c->m_failed);
			p->need_full = 1;
			/* not again at once: a dead peer costs one attempt per
			 * probe interval */
			p->next_full_ms = now + c->o.probe_interval_ms;
			if (!p->down_logged && !alive(c, p, now)) {
				ax_log_warn("cluster: peer is not answering; "
				            "positions move up",
				    "peer", p->id, "err", ax_strerror(rv));
				p->down_logged = 1;
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- their side of an exchange ---- */

static int reply_ack(ax_buf_t *out, Axon__V1__GossipAck *ack)
{
	ax_err_t err;

	return ax_msg_pack_buf(&ack->base, MAX_MSG_BYTES, out, &err) == 0 ? 0
	                                                                  : -1;
}

static int handle(void *arg, const uint8_t *req, size_t len, ax_buf_t *out)
{
	ar_cluster_t *c = arg;
	Axon__V1__GossipAck ack = AXON__V1__GOSSIP_ACK__INIT;
	Axon__V1__Gossip *g = NULL;
	state_t st;
	wire_t w;
	char **members = NULL;
	size_t nmem = 0;
	ax_err_t err;
	int rv, have_state = 0, have_wire = 0;

	ack.peer_id = c->self;
	if (ax_msg_unpack(&axon__v1__gossip__descriptor, req, len,
	        MAX_MSG_BYTES, (ProtobufCMessage **)&g, &err) != 0) {
		ack.error = err.msg;
		return reply_ack(out, &ack);
	}
	if (g->version != 1) {
		ack.error = "Gossip contract version is not 1";
		rv = reply_ack(out, &ack);
		protobuf_c_message_free_unpacked(&g->base, NULL);
		return rv;
	}
	if (g->peer_id && strcmp(g->peer_id, c->self) == 0) {
		ack.error = "a peer has this replica's own name; every replica "
		            "needs its own --cluster.advertise-address";
		rv = reply_ack(out, &ack);
		protobuf_c_message_free_unpacked(&g->base, NULL);
		return rv;
	}
	ax_counter_inc(c->m_recv);
	pthread_mutex_lock(&c->mu);
	{
		peer_t *p = peer_get(c, g->peer_id, 0);

		if (p)
			p->last_ok_ms = mono_ms();
	}
	pthread_mutex_unlock(&c->mu);
	learn_members(c, g->members, g->n_members);
	merge_in(c, g->silences, g->n_silences, g->entries, g->n_entries);
	if (g->full_state) {
		if (state_take(c, &st) != 0) {
			ack.error = "out of memory";
			rv = reply_ack(out, &ack);
			protobuf_c_message_free_unpacked(&g->base, NULL);
			return rv;
		}
		have_state = 1;
		if (wire_build(
		        &w, st.sils, st.nsil, st.keys, st.ents, st.nent) != 0) {
			wire_fini(&w);
			state_free(&st);
			protobuf_c_message_free_unpacked(&g->base, NULL);
			return -1; /* the caller times out and retries */
		}
		have_wire = 1;
		ack.silences = w.silp;
		ack.n_silences = w.nsil;
		ack.entries = w.entp;
		ack.n_entries = w.nent;
	}
	pthread_mutex_lock(&c->mu);
	members = members_locked(c, &nmem);
	pthread_mutex_unlock(&c->mu);
	ack.members = members;
	ack.n_members = nmem;
	rv = reply_ack(out, &ack);
	free(members);
	if (have_wire)
		wire_fini(&w);
	if (have_state)
		state_free(&st);
	protobuf_c_message_free_unpacked(&g->base, NULL);
	return rv;
}

/* ---- life cycle ---- */

int ar_cluster_start(const ar_cluster_opts_t *o, ar_silences_t *sil,
    ar_nflog_t *nflog, ax_metrics_t *metrics, ar_cluster_t **out, ax_err_t *err)
{
	ar_cluster_t *c = calloc(1, sizeof(*c));
	ax_msg_opts_t mo = {0};
	size_t i;
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	c->o = *o;
	if (c->o.peer_timeout_ms <= 0)
		c->o.peer_timeout_ms = 15000;
	if (c->o.gossip_interval_ms <= 0)
		c->o.gossip_interval_ms = 200;
	if (c->o.pushpull_interval_ms <= 0)
		c->o.pushpull_interval_ms = 60000;
	if (c->o.probe_interval_ms <= 0)
		c->o.probe_interval_ms = 1000;
	if (c->o.settle_timeout_ms < 0)
		c->o.settle_timeout_ms = 0;
	c->o.peers = NULL;
	c->o.npeers = 0;
	c->self =
	    strdup(o->advertise && *o->advertise ? o->advertise : o->listen);
	c->sil = sil;
	c->nflog = nflog;
	c->start_ms = mono_ms();
	c->m_members = ax_metrics_gauge(metrics, "alertmanager_cluster_members",
	    "Number of cluster members alive, this replica included.");
	c->m_position = ax_metrics_gauge(metrics, "alertmanager_peer_position",
	    "Position the replica holds in the cluster (it waits position x "
	    "peer_timeout before it notifies).");
	c->m_ok = ax_metrics_counter(metrics,
	    "axon_alert_router_cluster_exchanges_total",
	    "State exchanges with peers that succeeded.");
	c->m_failed = ax_metrics_counter(metrics,
	    "axon_alert_router_cluster_exchanges_failed_total",
	    "State exchanges with peers that failed (timeout, refused).");
	c->m_recv = ax_metrics_counter(metrics,
	    "axon_alert_router_cluster_messages_received_total",
	    "Exchanges peers started with this replica.");
	if (c->self == NULL || !c->m_members || !c->m_position || !c->m_ok ||
	    !c->m_failed || !c->m_recv) {
		ar_cluster_stop(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ax_gauge_set(c->m_members, 1);
	mo.workers = 2;
	mo.max_msg_bytes = MAX_MSG_BYTES;
	if ((rv = ax_msg_server_open(
	         o->listen, &mo, handle, c, &c->srv, err)) != 0) {
		ar_cluster_stop(c);
		return rv;
	}
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < o->npeers; i++) {
		if (strcmp(o->peers[i], c->self) == 0)
			continue; /* a shared peer list names us too */
		if (peer_get(c, o->peers[i], 1) == NULL && !c->stopping) {
			pthread_mutex_unlock(&c->mu);
			ar_cluster_stop(c);
			return ax_err_set(err, AX_ECONFIG,
			    "--cluster.peer=%s: not a dialable nng address "
			    "(want tcp://host:port) or too many peers (at "
			    "most %d)",
			    o->peers[i], MAX_PEERS);
		}
	}
	pthread_mutex_unlock(&c->mu);
	/* Hooks last: from here on, local changes are queued. */
	pthread_mutex_lock(&sil->mu);
	sil->on_change_arg = c;
	sil->on_change = on_silence;
	pthread_mutex_unlock(&sil->mu);
	pthread_mutex_lock(&nflog->mu);
	nflog->on_log_arg = c;
	nflog->on_log = on_log;
	pthread_mutex_unlock(&nflog->mu);
	*out = c;
	return 0;
}

void ar_cluster_stop(ar_cluster_t *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->sil) {
		pthread_mutex_lock(&c->sil->mu);
		if (c->sil->on_change_arg == c)
			c->sil->on_change = NULL;
		pthread_mutex_unlock(&c->sil->mu);
	}
	if (c->nflog) {
		pthread_mutex_lock(&c->nflog->mu);
		if (c->nflog->on_log_arg == c)
			c->nflog->on_log = NULL;
		pthread_mutex_unlock(&c->nflog->mu);
	}
	/* the server first: its handlers add peers */
	ax_msg_server_close(c->srv);
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (i = 0; i < c->npeers; i++) {
		peer_t *p = c->peers[i];

		if (p->started)
			pthread_join(p->thr, NULL);
		ax_msg_client_close(p->cli);
		pending_clear(p);
		free(p->id);
		free(p);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->self);
	free(c);
}

int ar_cluster_position(ar_cluster_t *c)
{
	int pos;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	pos = position_locked(c);
	pthread_mutex_unlock(&c->mu);
	return pos;
}

int64_t ar_cluster_wait_ms(ar_cluster_t *c)
{
	return c ? ar_cluster_position(c) * c->o.peer_timeout_ms : 0;
}

int ar_cluster_ready(ar_cluster_t *c)
{
	size_t i;
	int ready;

	if (c == NULL)
		return 1;
	pthread_mutex_lock(&c->mu);
	ready = c->settled;
	if (!ready) {
		ready = mono_ms() - c->start_ms >= c->o.settle_timeout_ms;
		for (i = 0; !ready && i < c->npeers; i++)
			if (c->peers[i]->configured && !c->peers[i]->synced)
				break;
		if (!ready && i == c->npeers)
			ready = 1;
		if (ready) {
			c->settled = 1;
			ax_log_info("cluster: settled", "name", c->self);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return ready;
}

void ar_cluster_status(ar_cluster_t *c, cJSON *obj)
{
	cJSON *peers = cJSON_AddArrayToObject(obj, "peers");
	const char *names[MAX_PEERS + 1];
	size_t n = 0, i;
	int64_t now;

	if (c == NULL) {
		cJSON_AddStringToObject(obj, "status", "disabled");
		return;
	}
	cJSON_AddStringToObject(obj, "name", c->self);
	cJSON_AddStringToObject(
	    obj, "status", ar_cluster_ready(c) ? "ready" : "settling");
	pthread_mutex_lock(&c->mu);
	now = mono_ms();
	names[n++] = c->self;
	for (i = 0; i < c->npeers; i++)
		if (alive(c, c->peers[i], now))
			names[n++] = c->peers[i]->id;
	qsort(names, n, sizeof(*names), cmp_strp);
	for (i = 0; peers && i < n; i++) {
		cJSON *p = cJSON_CreateObject();
		const char *a = strstr(names[i], "://");

		if (p == NULL)
			break;
		cJSON_AddStringToObject(p, "name", names[i]);
		cJSON_AddStringToObject(p, "address", a ? a + 3 : names[i]);
		cJSON_AddItemToArray(peers, p);
	}
	pthread_mutex_unlock(&c->mu);
}
