/*
 * rwout: remote_write out by tailing the WAL (see rwout.h).
 */
#include "tsdb/rwout.h"
#include "ax_log.h"
#include "ax_units.h"
#include "tsdb/checkpoint.h"
#include "tsdb/record.h"
#include "tsdb/wal.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tsdb_rwout {
	char *wal_dir;
	ax_rw_sender_t **senders;
	size_t n;
	ax_labels_t *external;
	int64_t start_ms;
	int64_t poll_ms;
	/* the WAL's end when the forwarder started: records before it are
	 * history (their series are registered, their samples not sent) */
	int live_seg;
	uint64_t live_pos;
	tsdb_wal_tail_t *tail;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	tsdb_rec_sample_t *buf;
	size_t cap;
	ax_metric_t *m_dropped;
};

static int on_series(void *arg, uint64_t ref, const ax_labels_t *ls)
{
	tsdb_rwout_t *o = arg;
	ax_labels_t *withext = NULL;
	size_t i;

	if (o->external && o->external->n) {
		ax_labels_builder_t b;
		uint32_t k;

		ax_labels_builder_init(&b, ls);
		for (k = 0; k < o->external->n; k++)
			if (ax_labels_get(ls, o->external->l[k].name) == NULL)
				ax_labels_builder_set(&b,
				    o->external->l[k].name,
				    o->external->l[k].value);
		if (ax_labels_builder_build(&b, &withext, NULL) != 0)
			withext = NULL;
		ax_labels_builder_fini(&b);
	}
	for (i = 0; i < o->n; i++)
		ax_rw_store_series(o->senders[i], ref, withext ? withext : ls);
	ax_labels_free(withext);
	return 0;
}

static int stopping(tsdb_rwout_t *o)
{
	int s;

	pthread_mutex_lock(&o->mu);
	s = o->stop;
	pthread_mutex_unlock(&o->mu);
	return s;
}

static int on_record(void *arg, const uint8_t *rec, size_t len)
{
	tsdb_rwout_t *o = arg;
	size_t n, i, k;
	ax_err_t e;

	switch (tsdb_rec_type(rec, len)) {
	case TSDB_REC_SERIES:
		return tsdb_rec_decode_series(rec, len, on_series, o, &e) ==
		        AX_ENOMEM
		    ? AX_ENOMEM
		    : 0;
	case TSDB_REC_SAMPLES:
		if (tsdb_rec_decode_samples(
		        rec, len, &o->buf, &o->cap, &n, &e) != 0)
			return 0;
		if (o->tail == NULL ||
		    tsdb_wal_tail_segment(o->tail) < o->live_seg ||
		    (tsdb_wal_tail_segment(o->tail) == o->live_seg &&
		        tsdb_wal_tail_pos(o->tail) <= o->live_pos))
			return 0; /* history is not forwarded */
		for (i = 0; i < n; i++) {
			for (k = 0; k < o->n; k++) {
				/* backpressure: wait while the queue is full */
				while (ax_rw_append(o->senders[k],
				           o->buf[i].ref, o->buf[i].t,
				           o->buf[i].v, 500) == AX_EFULL) {
					if (stopping(o)) {
						ax_counter_inc(o->m_dropped);
						return AX_ECLOSED;
					}
				}
			}
		}
		return 0;
	default: return 0;
	}
}

static void *run(void *arg)
{
	tsdb_rwout_t *o = arg;
	tsdb_wal_tail_t *tail = NULL;
	tsdb_wal_replay_stats_t st;
	char cp[4200];
	int last, *segs = NULL;
	size_t nseg = 0;
	ax_err_t e;

	/* where the WAL ends now: everything after it is forwarded */
	if (tsdb_wal_segments(o->wal_dir, &segs, &nseg, &e) == 0 && nseg > 0) {
		char p[4200];
		struct stat sb;

		o->live_seg = segs[nseg - 1];
		snprintf(p, sizeof(p), "%s/%08d", o->wal_dir, o->live_seg);
		o->live_pos = stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	} else {
		o->live_seg = -1;
	}
	free(segs);
	segs = NULL;
	/* series known so far: the newest checkpoint, then every segment */
	last = tsdb_checkpoint_last(o->wal_dir, cp, sizeof(cp));
	if (last >= 0)
		tsdb_wal_replay(cp, 0, 0, on_record, o, &st, &e);
	if (tsdb_wal_segments(o->wal_dir, &segs, &nseg, &e) != 0)
		nseg = 0;
	if (tsdb_wal_tail_open(o->wal_dir,
	        nseg ? (segs[0] > last ? segs[0] : last + 1) : last + 1, &tail,
	        &e) != 0) {
		ax_log_error("remote write: cannot tail the WAL", "err", e.msg);
		free(segs);
		return NULL;
	}
	free(segs);
	o->tail = tail;
	while (!stopping(o)) {
		int got = tsdb_wal_tail_read(tail, on_record, o, &e);
		struct timespec dl;

		if (got < 0 && got != AX_ECLOSED)
			ax_log_error("remote write: reading the WAL failed",
			    "err", e.msg);
		if (got != 0)
			continue;
		pthread_mutex_lock(&o->mu);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += (o->poll_ms % 1000) * 1000000;
		dl.tv_sec += o->poll_ms / 1000 + dl.tv_nsec / 1000000000;
		dl.tv_nsec %= 1000000000;
		if (!o->stop)
			pthread_cond_timedwait(&o->cv, &o->mu, &dl);
		pthread_mutex_unlock(&o->mu);
	}
	tsdb_wal_tail_close(tail);
	return NULL;
}

int tsdb_rwout_start(const char *wal_dir, const ax_rw_config_t *cfgs, size_t n,
    const ax_labels_t *external, ax_metrics_t *reg, int64_t poll_ms,
    tsdb_rwout_t **out, ax_err_t *err)
{
	tsdb_rwout_t *o = calloc(1, sizeof(*o));
	size_t i;
	int rv;

	if (o == NULL || (o->wal_dir = strdup(wal_dir)) == NULL ||
	    (o->senders = calloc(n ? n : 1, sizeof(*o->senders))) == NULL) {
		if (o)
			free(o->wal_dir);
		free(o);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	o->start_ms = ax_now_ms();
	o->poll_ms = poll_ms > 0 ? poll_ms : 100;
	o->external = external ? ax_labels_dup(external) : NULL;
	o->m_dropped = ax_metrics_counter(reg,
	    "axon_tsdb_remote_write_forward_dropped_total",
	    "Samples not forwarded because the forwarder stopped while queues "
	    "were full.");
	for (i = 0; i < n; i++) {
		if ((rv = ax_rw_sender_new(
		         &cfgs[i], reg, &o->senders[i], err)) != 0) {
			tsdb_rwout_stop(o, 0);
			return rv;
		}
		o->n = i + 1;
	}
	if (pthread_create(&o->th, NULL, run, o) != 0) {
		tsdb_rwout_stop(o, 0);
		return ax_err_set(
		    err, AX_EIO, "cannot start the remote-write forwarder");
	}
	o->started = 1;
	*out = o;
	return 0;
}

void tsdb_rwout_stop(tsdb_rwout_t *o, int64_t flush_ms)
{
	size_t i;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->stop = 1;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (o->started)
		pthread_join(o->th, NULL);
	for (i = 0; i < o->n; i++)
		ax_rw_sender_stop_free(o->senders[i], flush_ms);
	free(o->senders);
	free(o->buf);
	ax_labels_free(o->external);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o->wal_dir);
	free(o);
}
