/*
 * ax_ship: SampleBatch sender (see ax_ship.h).
 */
#include "ax_ship.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_hmap.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/samples.pb-c.h"

typedef struct sent {
	uint64_t ref;
	ax_labels_t *ls;
	uint64_t release_seq; /* dropped: freed once the head passes it */
	int dropped;
} sent_t;

typedef ax_ship_sample_t qs_t;

/* A SeriesDef to send: with the batch that holds queue sequence seq (the
 * first sample queued after ax_ship_store_series), or an earlier one. */
typedef struct qdef {
	uint64_t ref, seq;
} qdef_t;

#define MAX_META 10000
#define META_PER_BATCH 1000
#define MAX_EX 10000
#define EX_PER_BATCH 500

/* An exemplar waiting for the batch that carries its sample (seq). */
typedef struct qex {
	uint64_t ref, seq;
	ax_labels_t *ls;
	double v;
	int64_t t;
} qex_t;

typedef struct meta {
	char *family, *help, *unit;
	int type;
} meta_t;

struct ax_ship {
	ax_ship_opts_t o;
	char *addr, *sender_id;
	ax_msg_client_t *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started, stopping;
	int64_t flush_deadline;
	ax_u64map_t series; /* ref -> sent_t */
	size_t n_dropped_series;
	qdef_t *defs; /* FIFO in seq order: defs[def_head..n_defs) */
	size_t def_head, n_defs, cap_defs;
	uint64_t *urgent; /* refs the receiver asked to define again */
	size_t n_urgent, cap_urgent;
	qs_t *q;
	size_t cap, head, n;
	uint64_t head_seq;
	int overflowing;
	int spill_fd;        /* -1: no disk stage */
	char *spill_path;
	uint64_t spill_n;    /* samples on disk, after the memory queue's */
	off_t spill_rd;      /* read offset of the oldest */
	off_t spill_wr;      /* append offset */
	uint64_t session, batch_id;
	meta_t *meta;
	size_t n_meta, cap_meta;
	qex_t *ex;
	size_t n_ex, cap_ex;
	ax_ship_stats_t st;
	ax_metric_t *m_acc, *m_rej, *m_drop, *m_retry, *m_ex_drop, *m_spill;
};

static double g_pending(void *arg)
{
	ax_ship_t *s = arg;
	double n;

	pthread_mutex_lock(&s->mu);
	n = (double)(s->n + s->spill_n);
	pthread_mutex_unlock(&s->mu);
	return n;
}

static double g_spilled(void *arg)
{
	ax_ship_t *s = arg;
	double n;

	pthread_mutex_lock(&s->mu);
	n = (double)s->spill_n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Write one sample to the disk stage (mu held).  0, or -1 when full or
 * the write failed. */
static int spill(ax_ship_t *s, uint64_t ref, int64_t ts, double v)
{
	uint8_t rec[24];

	if (s->spill_fd < 0 ||
	    (int64_t)((s->spill_n + 1) * sizeof(rec)) > s->o.spill_bytes)
		return -1;
	memcpy(rec, &ref, 8);
	memcpy(rec + 8, &ts, 8);
	memcpy(rec + 16, &v, 8);
	if (pwrite(s->spill_fd, rec, sizeof(rec), s->spill_wr) !=
	    (ssize_t)sizeof(rec))
		return -1;
	s->spill_wr += sizeof(rec);
	s->spill_n++;
	ax_counter_inc(s->m_spill);
	return 0;
}

/* Move samples back from the disk stage while the memory queue has room
 * (mu held); an emptied file starts over. */
static void unspill(ax_ship_t *s)
{
	uint8_t buf[24 * 256];

	while (s->spill_n > 0 && s->n < s->cap) {
		size_t want = s->cap - s->n, k, got;
		ssize_t r;

		if (want > s->spill_n)
			want = (size_t)s->spill_n;
		if (want > 256)
			want = 256;
		r = pread(s->spill_fd, buf, want * 24, s->spill_rd);
		if (r <= 0) {
			ax_log_error("cannot read the ship spill file; its "
			             "samples are dropped",
			    "file", s->spill_path);
			s->st.dropped += s->spill_n;
			ax_counter_add(s->m_drop, (double)s->spill_n);
			s->spill_n = 0;
			break;
		}
		got = (size_t)r / 24;
		for (k = 0; k < got; k++) {
			uint64_t ref;
			int64_t ts;
			double v;

			memcpy(&ref, buf + 24 * k, 8);
			memcpy(&ts, buf + 24 * k + 8, 8);
			memcpy(&v, buf + 24 * k + 16, 8);
			s->q[(s->head + s->n) % s->cap] = (qs_t){ref, ts, v};
			s->n++;
		}
		s->spill_rd += (off_t)(got * 24);
		s->spill_n -= got;
	}
	if (s->spill_fd >= 0 && s->spill_n == 0 && s->spill_wr > 0) {
		if (ftruncate(s->spill_fd, 0) != 0)
			ax_log_warn("cannot empty the ship spill file", "file",
			    s->spill_path);
		s->spill_rd = s->spill_wr = 0;
	}
}

int ax_ship_store_series(ax_ship_t *s, uint64_t ref, const ax_labels_t *ls)
{
	sent_t *e;
	ax_labels_t *c = ax_labels_dup(ls);

	if (c == NULL)
		return AX_ENOMEM;
	pthread_mutex_lock(&s->mu);
	e = ax_u64map_get(&s->series, ref);
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    ax_u64map_put(&s->series, ref, e) != 0) {
			pthread_mutex_unlock(&s->mu);
			free(e);
			ax_labels_free(c);
			return AX_ENOMEM;
		}
		e->ref = ref;
	} else {
		if (e->dropped)
			s->n_dropped_series--;
		ax_labels_free(e->ls);
	}
	e->ls = c;
	e->dropped = 0;
	/* its def rides with the batch of its first sample queued from now */
	if (s->def_head > 0 && s->def_head * 2 >= s->n_defs) {
		memmove(s->defs, s->defs + s->def_head,
		    (s->n_defs - s->def_head) * sizeof(*s->defs));
		s->n_defs -= s->def_head;
		s->def_head = 0;
	}
	if (ax_grow((void **)&s->defs, &s->cap_defs, s->n_defs + 1,
	        sizeof(*s->defs)) != 0) {
		/* the receiver will ask for it (UNKNOWN_REFS) */
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->defs[s->n_defs++] =
	    (qdef_t){ref, s->head_seq + s->n + s->spill_n};
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void ax_ship_drop_series(ax_ship_t *s, uint64_t ref)
{
	sent_t *e;

	pthread_mutex_lock(&s->mu);
	e = ax_u64map_get(&s->series, ref);
	if (e && !e->dropped) {
		e->dropped = 1;
		/* no sample of it is queued after this one */
		e->release_seq = s->head_seq + s->n + s->spill_n;
		s->n_dropped_series++;
	}
	pthread_mutex_unlock(&s->mu);
}

/* Queue one sample (mu held): memory, else the disk stage, else
 * dropped (counted, logged once per episode).  0 or AX_EFULL. */
static int append_one(ax_ship_t *s, const qs_t *x)
{
	if (s->spill_n == 0 && s->n < s->cap) {
		s->q[(s->head + s->n) % s->cap] = *x;
		s->n++;
		return 0;
	}
	/* memory is full (or older samples wait on disk): to the disk
	 * stage, in order */
	if (spill(s, x->ref, x->t, x->v) == 0)
		return 0;
	s->st.dropped++;
	ax_counter_add(s->m_drop, 1);
	if (!s->overflowing)
		ax_log_warn("the sample buffer for the tsdb is full; "
		            "samples are dropped until it drains",
		    "addr", s->addr);
	s->overflowing = 1;
	return AX_EFULL;
}

int ax_ship_append(ax_ship_t *s, uint64_t ref, int64_t ts, double v)
{
	qs_t x = {ref, ts, v};

	return ax_ship_append_many(s, &x, 1);
}

int ax_ship_append_many(ax_ship_t *s, const ax_ship_sample_t *v, size_t n)
{
	size_t i = 0;
	int rv = 0;

	pthread_mutex_lock(&s->mu);
	if (s->spill_n == 0) {
		/* the common case: copied into the ring in at most two runs */
		size_t room = s->cap - s->n, k = n < room ? n : room;

		while (i < k) {
			size_t at = (s->head + s->n) % s->cap;
			size_t run = s->cap - at < k - i ? s->cap - at : k - i;

			memcpy(&s->q[at], v + i, run * sizeof(*v));
			s->n += run;
			i += run;
		}
	}
	for (; i < n; i++)
		if (append_one(s, &v[i]) != 0)
			rv = AX_EFULL;
	if (s->n >= s->o.max_batch)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return rv;
}

int ax_ship_metadata(ax_ship_t *s, const char *family, int type,
    const char *help, const char *unit)
{
	meta_t m;

	m.family = strdup(family ? family : "");
	m.help = strdup(help ? help : "");
	m.unit = strdup(unit ? unit : "");
	m.type = type;
	if (!m.family || !m.help || !m.unit)
		goto fail;
	pthread_mutex_lock(&s->mu);
	if (s->n_meta >= MAX_META ||
	    (s->n_meta == s->cap_meta &&
	        ax_grow((void **)&s->meta, &s->cap_meta, s->n_meta + 1,
	            sizeof(*s->meta)) != 0)) {
		pthread_mutex_unlock(&s->mu);
		goto fail;
	}
	s->meta[s->n_meta++] = m;
	pthread_mutex_unlock(&s->mu);
	return 0;
fail:
	free(m.family);
	free(m.help);
	free(m.unit);
	return AX_EFULL;
}

int ax_ship_exemplar(
    ax_ship_t *s, uint64_t ref, const ax_labels_t *ls, double v, int64_t ts)
{
	qex_t x;

	if ((x.ls = ax_labels_dup(ls)) == NULL)
		return AX_ENOMEM;
	x.ref = ref;
	x.v = v;
	x.t = ts;
	pthread_mutex_lock(&s->mu);
	/* rides with the batch of the sample queued last for it */
	x.seq = s->head_seq + (s->n + s->spill_n ? s->n + s->spill_n - 1 : 0);
	if (s->n_ex >= MAX_EX ||
	    ax_grow((void **)&s->ex, &s->cap_ex, s->n_ex + 1, sizeof(*s->ex)) !=
	        0) {
		pthread_mutex_unlock(&s->mu);
		ax_counter_inc(s->m_ex_drop);
		ax_labels_free(x.ls);
		return AX_EFULL;
	}
	s->ex[s->n_ex++] = x;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void meta_free(meta_t *m)
{
	free(m->family);
	free(m->help);
	free(m->unit);
}

/* Remove dropped series whose samples have all been shipped (mu held). */
static void reap(ax_ship_t *s)
{
	size_t pos = 0, n = 0, i;
	sent_t *e, **gone;

	if (s->n_dropped_series == 0)
		return;
	/* collect first: deleting shifts entries under the walk */
	if ((gone = malloc(s->n_dropped_series * sizeof(*gone))) == NULL)
		return;
	while ((e = ax_u64map_next(&s->series, &pos, NULL)) != NULL &&
	    n < s->n_dropped_series)
		if (e->dropped && e->release_seq <= s->head_seq)
			gone[n++] = e;
	for (i = 0; i < n; i++) {
		ax_u64map_del(&s->series, gone[i]->ref);
		ax_labels_free(gone[i]->ls);
		free(gone[i]);
		s->n_dropped_series--;
	}
	free(gone);
}

/* One batch of the queue's head, built into the arrays given; mu held.
 * Returns the sample count; *defs the SeriesDefs needed. */
typedef struct batch {
	Axon__V1__SampleBatch b;
	uint64_t *refs;
	int64_t *ts;
	double *vs;
	Axon__V1__SeriesDef *defs, **defp;
	Axon__V1__Label *lab, **labp;
	size_t n, n_sent, n_defs, cap_defs, cap_defp, n_lab, cap_lab;
	size_t n_qdefs; /* taken from the front of the def queue */
	uint64_t first_seq;
	Axon__V1__MetricMetadata md[META_PER_BATCH], *mdp[META_PER_BATCH];
	size_t n_md;
	Axon__V1__Exemplar exm[EX_PER_BATCH], *exp[EX_PER_BATCH];
	Axon__V1__Label *exl, **exlp;
	size_t n_exm, n_exl, cap_exl;
} batch_t;

/* The exemplars whose samples this batch carries (or carried before). */
static int batch_exemplars(ax_ship_t *s, batch_t *bt)
{
	uint64_t end = bt->first_seq + bt->n;
	size_t i, k, nl = 0;

	bt->n_exm = 0;
	for (i = 0; i < s->n_ex && bt->n_exm < EX_PER_BATCH; i++)
		if (s->ex[i].seq < end) {
			nl += s->ex[i].ls->n;
			bt->n_exm++;
		}
	if (nl > bt->cap_exl) {
		Axon__V1__Label *l = realloc(bt->exl, nl * sizeof(*l));
		Axon__V1__Label **lp;

		if (l == NULL)
			return AX_ENOMEM;
		bt->exl = l;
		if ((lp = realloc(bt->exlp, nl * sizeof(*lp))) == NULL)
			return AX_ENOMEM;
		bt->exlp = lp;
		bt->cap_exl = nl;
	}
	bt->n_exm = 0;
	bt->n_exl = 0;
	for (i = 0; i < s->n_ex && bt->n_exm < EX_PER_BATCH; i++) {
		Axon__V1__Exemplar *x = &bt->exm[bt->n_exm];

		if (s->ex[i].seq >= end)
			continue;
		axon__v1__exemplar__init(x);
		x->ref = s->ex[i].ref;
		x->value = s->ex[i].v;
		x->ts_ms = s->ex[i].t;
		x->has_ts = 1;
		x->labels = bt->exlp + bt->n_exl;
		x->n_labels = s->ex[i].ls->n;
		for (k = 0; k < s->ex[i].ls->n; k++) {
			axon__v1__label__init(&bt->exl[bt->n_exl]);
			bt->exl[bt->n_exl].name = (char *)s->ex[i].ls->l[k].name;
			bt->exl[bt->n_exl].value = (char *)s->ex[i].ls->l[k].value;
			bt->exlp[bt->n_exl] = &bt->exl[bt->n_exl];
			bt->n_exl++;
		}
		bt->exp[bt->n_exm++] = x;
	}
	bt->b.exemplars = bt->exp;
	bt->b.n_exemplars = bt->n_exm;
	return 0;
}

/* Forget the exemplars a delivered batch carried (mu held). */
static void exemplars_delivered(ax_ship_t *s, const batch_t *bt)
{
	uint64_t end = bt->first_seq + bt->n;
	size_t i, k = 0, taken = 0;

	for (i = 0; i < s->n_ex; i++) {
		if (s->ex[i].seq < end && taken < bt->n_exm) {
			ax_labels_free(s->ex[i].ls);
			taken++;
			continue;
		}
		s->ex[k++] = s->ex[i];
	}
	s->n_ex = k;
}

/* Add the SeriesDef of ref to the batch (mu held); a ref no longer
 * known is skipped.  0 or AX_ENOMEM. */
static int batch_def(ax_ship_t *s, batch_t *bt, uint64_t ref)
{
	sent_t *e = ax_u64map_get(&s->series, ref);
	size_t k;

	if (e == NULL || e->ls == NULL)
		return 0;
	if (ax_grow((void **)&bt->defs, &bt->cap_defs, bt->n_defs + 1,
	        sizeof(*bt->defs)) != 0)
		return AX_ENOMEM;
	if (bt->n_lab + e->ls->n > bt->cap_lab) {
		size_t nc = (bt->n_lab + e->ls->n) * 2;
		Axon__V1__Label *nl = realloc(bt->lab, nc * sizeof(*nl));
		Axon__V1__Label **np;

		if (nl == NULL)
			return AX_ENOMEM;
		bt->lab = nl;
		np = realloc(bt->labp, nc * sizeof(*np));
		if (np == NULL)
			return AX_ENOMEM;
		bt->labp = np;
		bt->cap_lab = nc;
	}
	axon__v1__series_def__init(&bt->defs[bt->n_defs]);
	bt->defs[bt->n_defs].ref = ref;
	bt->defs[bt->n_defs].n_labels = e->ls->n;
	/* label pointers are fixed up after all are placed */
	bt->defs[bt->n_defs].labels =
	    (Axon__V1__Label **)(uintptr_t)(bt->n_lab + 1);
	for (k = 0; k < e->ls->n; k++) {
		axon__v1__label__init(&bt->lab[bt->n_lab]);
		bt->lab[bt->n_lab].name = (char *)e->ls->l[k].name;
		bt->lab[bt->n_lab].value = (char *)e->ls->l[k].value;
		bt->n_lab++;
	}
	bt->n_defs++;
	return 0;
}

/* Build the batch at the queue's head (mu held): at most max_batch
 * samples, or exactly the n of the last build when it is sent again (the
 * receiver answers a resend of an applied batch with the same ack, so the
 * same samples must be meant).  Defs: the refs the receiver asked for,
 * then those queued for samples in the batch. */
static int batch_build(ax_ship_t *s, batch_t *bt, int resend)
{
	size_t i;
	uint64_t end;

	bt->n = s->n < s->o.max_batch ? s->n : s->o.max_batch;
	if (resend && bt->n_sent > 0 && bt->n_sent <= s->n)
		bt->n = bt->n_sent;
	bt->first_seq = s->head_seq;
	end = bt->first_seq + bt->n;
	bt->n_defs = 0;
	bt->n_lab = 0;
	bt->n_qdefs = 0;
	for (i = 0; i < bt->n; i++) {
		const qs_t *q = &s->q[(s->head + i) % s->cap];

		bt->refs[i] = q->ref;
		bt->ts[i] = q->t;
		bt->vs[i] = q->v;
	}
	for (i = 0; i < s->n_urgent; i++)
		if (batch_def(s, bt, s->urgent[i]) != 0)
			return AX_ENOMEM;
	while (s->def_head + bt->n_qdefs < s->n_defs &&
	    s->defs[s->def_head + bt->n_qdefs].seq < end) {
		if (batch_def(s, bt, s->defs[s->def_head + bt->n_qdefs].ref) !=
		    0)
			return AX_ENOMEM;
		bt->n_qdefs++;
	}
	if (ax_grow((void **)&bt->defp, &bt->cap_defp, bt->n_defs + 1,
	        sizeof(*bt->defp)) != 0)
		return AX_ENOMEM;
	for (i = 0; i < bt->n_defs; i++)
		bt->defp[i] = &bt->defs[i];
	for (i = 0; i < bt->n_lab; i++)
		bt->labp[i] = &bt->lab[i];
	for (i = 0; i < bt->n_defs; i++)
		bt->defs[i].labels =
		    bt->labp + ((uintptr_t)bt->defs[i].labels - 1);
	bt->n_md = s->n_meta < META_PER_BATCH ? s->n_meta : META_PER_BATCH;
	for (i = 0; i < bt->n_md; i++) {
		axon__v1__metric_metadata__init(&bt->md[i]);
		bt->md[i].metric_family = s->meta[i].family;
		bt->md[i].type = (Axon__V1__MetricMetadata__Type)s->meta[i].type;
		bt->md[i].help = s->meta[i].help;
		bt->md[i].unit = s->meta[i].unit;
		bt->mdp[i] = &bt->md[i];
	}
	axon__v1__sample_batch__init(&bt->b);
	bt->b.metadata = bt->mdp;
	bt->b.n_metadata = bt->n_md;
	bt->b.version = 1;
	bt->b.sender_id = s->sender_id;
	bt->b.session_id = s->session;
	bt->b.batch_id = s->batch_id;
	bt->b.series = bt->defp;
	bt->b.n_series = bt->n_defs;
	bt->b.refs = bt->refs;
	bt->b.n_refs = bt->n;
	bt->b.ts_ms = bt->ts;
	bt->b.n_ts_ms = bt->n;
	bt->b.values = bt->vs;
	bt->b.n_values = bt->n;
	return batch_exemplars(s, bt);
}

static void wait_ms(ax_ship_t *s, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Drop the batch at the head (mu held): counted, logged with why. */
static void drop_batch(ax_ship_t *s, batch_t *bt, const char *why)
{
	size_t pop = bt->n > s->n ? s->n : bt->n;

	ax_log_error("the tsdb refused a sample batch as invalid; its samples "
	             "are dropped",
	    "addr", s->addr, "err", why);
	s->head = (s->head + pop) % s->cap;
	s->n -= pop;
	s->head_seq += pop;
	unspill(s);
	s->st.dropped += pop;
	ax_counter_add(s->m_drop, (double)pop);
	exemplars_delivered(s, bt);
	s->def_head += bt->n_qdefs;
	s->n_urgent = 0;
}

/* The receiver does not know some refs of the batch (UNKNOWN_REFS, or a
 * new session): they go with the next build (mu held).  A session reset
 * that lists none means every ref of the batch.  0, or -1 when none of
 * them can be defined (the batch would be refused forever). */
static int ask_defs(
    ax_ship_t *s, const batch_t *bt, const Axon__V1__SampleBatchAck *ack)
{
	const uint64_t *r = ack->unknown_refs;
	size_t n = ack->n_unknown_refs, i, known = 0;

	if (n == 0) {
		r = bt->refs;
		n = bt->n;
	}
	s->n_urgent = 0;
	if (ax_grow((void **)&s->urgent, &s->cap_urgent, n,
	        sizeof(*s->urgent)) != 0)
		return 0; /* out of memory: the resend asks again */
	for (i = 0; i < n; i++) {
		const sent_t *e = ax_u64map_get(&s->series, r[i]);

		if (e != NULL && e->ls != NULL)
			known++;
		s->urgent[s->n_urgent++] = r[i];
	}
	return known > 0 || n == 0 ? 0 : -1;
}

static void *ship_main(void *arg)
{
	ax_ship_t *s = arg;
	batch_t bt;
	int64_t backoff = 20;
	int resend = 0;
	size_t i;

	memset(&bt, 0, sizeof(bt));
	bt.refs = calloc(s->o.max_batch, sizeof(*bt.refs));
	bt.ts = calloc(s->o.max_batch, sizeof(*bt.ts));
	bt.vs = calloc(s->o.max_batch, sizeof(*bt.vs));
	if (!bt.refs || !bt.ts || !bt.vs) {
		ax_log_error("ship: out of memory; samples for the tsdb are not "
		             "shipped",
		    "addr", s->addr);
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	for (;;) {
		Axon__V1__SampleBatchAck *ack = NULL;
		ax_err_t err;
		int rv;

		if (s->stopping &&
		    (s->n == 0 || ax_mono_ms() >= s->flush_deadline))
			break;
		if (!resend) {
			if (s->n < s->o.max_batch && !s->stopping) {
				wait_ms(s, s->o.flush_ms);
				if (s->n == 0)
					continue;
			}
			if (s->n == 0)
				continue;
			s->batch_id++;
		}
		if (batch_build(s, &bt, resend) != 0) {
			wait_ms(s, 100);
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		rv = ax_msg_call(s->c, &bt.b.base,
		    &axon__v1__sample_batch_ack__descriptor,
		    (ProtobufCMessage **)&ack, &err);
		pthread_mutex_lock(&s->mu);
		if (rv != 0) {
			/* no answer: the same batch again, after a pause */
			resend = 1;
			if (bt.n_sent == 0)
				bt.n_sent = bt.n;
			s->st.retries++;
			ax_counter_add(s->m_retry, 1);
			wait_ms(s, backoff);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
			continue;
		}
		switch (ack->status) {
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED: {
			uint64_t rej = ack->out_of_order +
			    ack->duplicate_timestamp + ack->out_of_bounds +
			    ack->limit + ack->invalid;
			size_t pop = bt.first_seq + bt.n > s->head_seq
			    ? (size_t)(bt.first_seq + bt.n - s->head_seq)
			    : 0;

			s->session = ack->session_id;
			/* the defs it carried are known to the receiver */
			s->def_head += bt.n_qdefs;
			s->n_urgent = 0;
			if (pop > s->n)
				pop = s->n;
			s->head = (s->head + pop) % s->cap;
			s->n -= pop;
			s->head_seq += pop;
			unspill(s);
			exemplars_delivered(s, &bt);
			/* the metadata it carried is delivered */
			for (i = 0; i < bt.n_md && i < s->n_meta; i++)
				meta_free(&s->meta[i]);
			if (bt.n_md > 0 && bt.n_md <= s->n_meta) {
				memmove(s->meta, s->meta + bt.n_md,
				    (s->n_meta - bt.n_md) * sizeof(*s->meta));
				s->n_meta -= bt.n_md;
			}
			s->st.accepted += ack->accepted;
			s->st.rejected += rej;
			ax_counter_add(s->m_acc, (double)ack->accepted);
			ax_counter_add(s->m_rej, (double)rej);
			if (s->overflowing && s->n < s->cap / 2)
				s->overflowing = 0;
			reap(s);
			resend = 0;
			backoff = 20;
			break;
		}
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__UNKNOWN_REFS:
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__RESET_SESSION:
			/* (a new receiver session knows none of our refs) */
			s->session = ack->session_id;
			if (ask_defs(s, &bt, ack) == 0) {
				resend = 1;
				break;
			}
			drop_batch(s, &bt,
			    "the tsdb asks for series this sender never "
			    "defined; the batch is dropped");
			resend = 0;
			break;
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY:
			resend = 1;
			s->st.retries++;
			ax_counter_add(s->m_retry, 1);
			wait_ms(s, ack->retry_after_ms > 0
			        ? (int64_t)ack->retry_after_ms
			        : backoff);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
			break;
		default:
			drop_batch(s, &bt,
			    ack->message ? ack->message : "invalid batch");
			resend = 0;
			break;
		}
		if (!resend)
			bt.n_sent = 0;
		else if (bt.n_sent == 0)
			bt.n_sent = bt.n;
		protobuf_c_message_free_unpacked(&ack->base, NULL);
	}
	pthread_mutex_unlock(&s->mu);
out:
	free(bt.refs);
	free(bt.ts);
	free(bt.vs);
	free(bt.defs);
	free(bt.defp);
	free(bt.lab);
	free(bt.labp);
	free(bt.exl);
	free(bt.exlp);
	return NULL;
}

int ax_ship_new(const ax_ship_opts_t *o, ax_metrics_t *reg, ax_ship_t **out,
    ax_err_t *err)
{
	ax_ship_t *s = calloc(1, sizeof(*s));
	ax_msg_opts_t mo;
	int rv;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s->o = *o;
	if (s->o.max_batch == 0)
		s->o.max_batch = 2000;
	if (s->o.buffer_samples == 0)
		s->o.buffer_samples = 1000000;
	if (s->o.buffer_samples < s->o.max_batch)
		s->o.buffer_samples = s->o.max_batch;
	if (s->o.flush_ms <= 0)
		s->o.flush_ms = 200;
	if (s->o.timeout_ms <= 0)
		s->o.timeout_ms = 5000;
	s->addr = strdup(o->addr ? o->addr : "");
	s->sender_id = strdup(o->sender_id ? o->sender_id : "axon");
	s->cap = s->o.buffer_samples;
	s->q = calloc(s->cap, sizeof(*s->q));
	s->spill_fd = -1;
	if (s->o.spill_bytes <= 0)
		s->o.spill_bytes = (int64_t)1 << 30;
	if (o->spill_dir && *o->spill_dir) {
		char name[256];
		size_t i;

		snprintf(name, sizeof(name), "ship-%s.spill", s->sender_id ? s->sender_id : "axon");
		for (i = 0; name[i]; i++)
			if (name[i] == '/')
				name[i] = '_';
		if (asprintf(&s->spill_path, "%s/%s", o->spill_dir, name) < 0)
			s->spill_path = NULL;
		if (s->spill_path == NULL ||
		    (s->spill_fd = open(s->spill_path,
		         O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
			int e = errno;

			ax_ship_stop_free(s, 0);
			return ax_err_set(err, AX_EIO,
			    "cannot open the spill file in %s: %s", o->spill_dir,
			    strerror(e));
		}
	}
	ax_u64map_init(&s->series);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (!s->addr || !s->sender_id || !s->q) {
		ax_ship_stop_free(s, 0);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	memset(&mo, 0, sizeof(mo));
	mo.timeout_ms = s->o.timeout_ms;
	mo.retries = 0;
	mo.reconnect_min_ms = 50;
	mo.reconnect_max_ms = 2000;
	if ((rv = ax_msg_client_open(s->addr, &mo, &s->c, err)) != 0) {
		ax_ship_stop_free(s, 0);
		return rv;
	}
	s->m_acc = ax_metrics_counter(reg, "axon_ship_samples_accepted_total",
	    "Samples the tsdb acknowledged as stored.");
	s->m_rej = ax_metrics_counter(reg, "axon_ship_samples_rejected_total",
	    "Samples the tsdb refused for good (out of order, duplicate "
	    "timestamp, out of bounds, limits, invalid).");
	s->m_drop = ax_metrics_counter(reg, "axon_ship_samples_dropped_total",
	    "Samples dropped before reaching the tsdb: the buffer was full, "
	    "or the batch was refused as invalid.");
	s->m_retry = ax_metrics_counter(reg, "axon_ship_batch_retries_total",
	    "Sample batches sent again (no answer, or RETRY).");
	s->m_ex_drop = ax_metrics_counter(reg,
	    "axon_ship_exemplars_dropped_total",
	    "Exemplars dropped because 10000 were already waiting.");
	s->m_spill = ax_metrics_counter(reg,
	    "axon_ship_samples_spilled_total",
	    "Samples written to the disk stage past the memory bound.");
	if (reg)
		ax_metrics_gauge_fn(reg, "axon_ship_samples_on_disk",
		    "Samples waiting in the disk stage.", g_spilled, s);
	if (reg)
		ax_metrics_gauge_fn(reg, "axon_ship_samples_pending",
		    "Samples queued for the tsdb.", g_pending, s);
	if (pthread_create(&s->thread, NULL, ship_main, s) != 0) {
		ax_ship_stop_free(s, 0);
		return ax_err_set(err, AX_EINTERNAL, "cannot start the sender");
	}
	s->started = 1;
	*out = s;
	return 0;
}

void ax_ship_stop_free(ax_ship_t *s, int64_t flush_ms)
{
	size_t pos = 0;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		s->flush_deadline = ax_mono_ms() + flush_ms;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	if (s->c)
		ax_msg_client_close(s->c);
	{
		sent_t *e;

		while ((e = ax_u64map_next(&s->series, &pos, NULL)) != NULL) {
			ax_labels_free(e->ls);
			free(e);
		}
	}
	ax_u64map_fini(&s->series);
	{
		size_t i;

		for (i = 0; i < s->n_meta; i++)
			meta_free(&s->meta[i]);
		free(s->meta);
		for (i = 0; i < s->n_ex; i++)
			ax_labels_free(s->ex[i].ls);
		free(s->ex);
	}
	free(s->q);
	free(s->defs);
	free(s->urgent);
	if (s->spill_fd >= 0) {
		close(s->spill_fd);
		unlink(s->spill_path); /* its refs die with this process */
	}
	free(s->spill_path);
	free(s->addr);
	free(s->sender_id);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void ax_ship_stats(ax_ship_t *s, ax_ship_stats_t *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	out->pending = s->n;
	pthread_mutex_unlock(&s->mu);
}
