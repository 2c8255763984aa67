/*
 * ax_ship: the sender side of the axon.v1 sample-ingestion contract
 * (proto/axon/v1/samples.proto, docs/proto.md): scrapers and the ruler
 * ship samples to axon-tsdb over nng REQ/REP.
 *
 * Series labels are stored once by ref (ax_ship_store_series); samples
 * are queued as (ref, ts, value) and a sender thread ships them in order,
 * in batches of at most max_batch samples.  A stored series' SeriesDef
 * rides with the batch holding the first sample queued after it was
 * stored (queueing a sample looks nothing up); a receiver that does not
 * know a ref (UNKNOWN_REFS, or RESET_SESSION after its restart) gets the
 * batch again with the defs it listed.  Acks: ACCEPTED
 * (permanent per-sample rejections are counted, never retried); RETRY and
 * no answer keep the batch and retry the same batch_id with backoff (the
 * receiver deduplicates a resend); UNKNOWN_REFS and RESET_SESSION resend
 * with definitions; INVALID drops the batch, counted and logged.
 *
 * While the tsdb is down the queue holds up to buffer_samples samples in
 * memory; past that, with a spill_dir, the newer ones go to a file there
 * (24 bytes a sample: ref, timestamp, value) up to spill_bytes, and come
 * back into memory in order as the queue drains.  Past both bounds the
 * newest are dropped, counted (axon_ship_samples_dropped_total) and
 * logged once per episode, never silently.  The file outlives tsdb
 * outages, not the process: a restarted sender starts it empty (its
 * series refs died with the old process).  Thread safety: every call may come from any thread.
 */
#ifndef AX_SHIP_H
#define AX_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "ax_metrics.h"

typedef struct ax_ship_opts {
	const char *addr;      /* nng address of the tsdb's ingest socket */
	const char *sender_id; /* stable identity, e.g. "scraper-0" */
	size_t max_batch;      /* samples per batch (default 2000) */
	size_t buffer_samples; /* queue bound (default 1000000) */
	int64_t flush_ms;      /* ship at least this often (default 200) */
	int64_t timeout_ms;    /* per attempt (default 5000) */
	const char *spill_dir; /* disk stage past the memory bound (NULL:
	                          none): <spill_dir>/ship-<sender>.spill */
	int64_t spill_bytes;   /* its bound (default 1 GiB) */
} ax_ship_opts_t;

typedef struct ax_ship ax_ship_t;

typedef struct ax_ship_stats {
	uint64_t accepted;  /* samples the tsdb stored */
	uint64_t rejected;  /* refused for good (out of order, ...) */
	uint64_t dropped;   /* past the buffer bound, or in INVALID batches */
	uint64_t retries;   /* batch resends */
	uint64_t pending;   /* queued now */
} ax_ship_stats_t;

/* Start a sender (metrics registered in reg, which may be NULL).
 * OUT: *out, released by ax_ship_stop_free. */
int ax_ship_new(const ax_ship_opts_t *o, ax_metrics_t *reg, ax_ship_t **out,
    ax_err_t *err);
/* Stop: ship what is queued for at most flush_ms, then free. */
void ax_ship_stop_free(ax_ship_t *s, int64_t flush_ms);
/* Labels of series ref (copied; sorted, __name__ included). */
int ax_ship_store_series(ax_ship_t *s, uint64_t ref, const ax_labels_t *ls);
/* Forget series ref once its queued samples are shipped. */
void ax_ship_drop_series(ax_ship_t *s, uint64_t ref);
/* Queue a sample (never blocks).  Past the memory bound it goes to the
 * disk stage; past that it is dropped (AX_EFULL, counted). */
int ax_ship_append(ax_ship_t *s, uint64_t ref, int64_t ts, double v);
typedef struct ax_ship_sample {
	uint64_t ref;
	int64_t t; /* ms */
	double v;
} ax_ship_sample_t;
/* Queue n samples in order under one lock (v is copied); as
 * ax_ship_append for each. */
int ax_ship_append_many(ax_ship_t *s, const ax_ship_sample_t *v, size_t n);
void ax_ship_stats(ax_ship_t *s, ax_ship_stats_t *out);
/* Queue an exemplar of series ref (labels copied, ts in ms): it rides with
 * the batch that carries the sample queued last before it, so append the
 * sample first.  At most 10000 wait; more are dropped and counted
 * (axon_ship_exemplars_dropped_total). */
int ax_ship_exemplar(
    ax_ship_t *s, uint64_t ref, const ax_labels_t *ls, double v, int64_t ts);
/* Queue a metric family's metadata (type as axon.v1.MetricMetadata.Type;
 * strings copied); it rides with the next batch.  At most 10000 wait;
 * more are dropped until the queue drains. */
int ax_ship_metadata(ax_ship_t *s, const char *family, int type,
    const char *help, const char *unit);

#endif
