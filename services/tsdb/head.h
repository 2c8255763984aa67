/*
 * head: the in-memory head block of the tsdb.
 *
 * Series are found by label-set hash (xxHash64, collisions resolved by
 * comparing label sets) and by ref (the WAL series id).  Each series holds
 * its completed XOR chunks and an open head chunk; chunks are cut as
 * Prometheus 2.42 cuts them (at the end of the current chunk range, at a
 * predicted time once 30 samples are in, and at 240 samples), so chunk
 * boundaries match Prometheus'.  An inverted index (postings.h) maps label
 * pairs to refs.
 *
 * Appending (tsdb_head_append) is all-or-nothing per batch with respect to
 * the WAL: samples are checked (out of order, same timestamp with another
 * value, out of bounds), the accepted ones and any new series are written
 * to the WAL, and only then applied to memory.  An exact duplicate (same
 * timestamp, same value bits) is accepted silently, so a resent batch is
 * harmless.  Appends are serialised by one mutex; readers take the index
 * read lock and a per-series lock.
 */
#ifndef TSDB_HEAD_H
#define TSDB_HEAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "ax_promql.h"
#include "tsdb/chunk_xor.h"
#include "tsdb/exemplars.h"
#include "tsdb/hchunks.h"
#include "tsdb/postings.h"
#include "tsdb/tombstones.h"
#include "tsdb/wal.h"

typedef struct tsdb_chunk {
	int64_t mint, maxt;
	uint8_t *b; /* heap, or in a chunks_head mapping when mapped */
	size_t len;
	int mapped;
} tsdb_chunk_t;

typedef struct tsdb_series {
	uint64_t ref;
	ax_labels_t *ls;
	pthread_mutex_t mu;
	tsdb_chunk_t *chunks; /* completed chunks, ascending */
	size_t n_chunks, cap_chunks;
	tsdb_xor_app_t app; /* open head chunk (app.n == 0: none) */
	int64_t app_mint, app_maxt;
	int64_t next_at;
	int64_t max_t; /* INT64_MIN: no sample yet */
	uint64_t last_bits;
	int last_lazy;  /* last_bits is the last chunk's last value, read
	                   from it on first need (chunks_head at replay) */
	int logged;     /* its Series record is in the WAL */
	tsdb_ivs_t del; /* deleted intervals (tombstones) */
	/* batch scratch, under the append mutex */
	int64_t pend_t;
	uint64_t pend_bits;
	int pend;
	struct tsdb_series *hnext;
} tsdb_series_t;

typedef struct tsdb_head_opts {
	int64_t chunk_range_ms; /* block range: 2h */
	int64_t max_series;     /* 0: unlimited (and below) */
	int64_t max_series_per_metric;
	int64_t max_labels; /* per series */
	int64_t max_name_len;
	int64_t max_value_len;
	int64_t max_exemplars; /* 0: exemplars are not stored */
	/* Samples stamped more than this ahead of the wall clock are invalid
	 * (0: no future limit).  Whatever the setting, timestamps outside
	 * years 1..9999 are invalid: nanoseconds or seconds sent as
	 * milliseconds would otherwise drag the head's time window away. */
	int64_t max_future_ms;
} tsdb_head_opts_t;

typedef struct tsdb_head tsdb_head_t;

/* A sample to append: series index into the batch's label sets. */
typedef struct tsdb_sample_in {
	uint32_t series;
	int64_t t;
	double v;
} tsdb_sample_in_t;

/* An exemplar to append, attached to a series of the batch. */
typedef struct tsdb_exemplar_in {
	uint32_t series;
	int64_t t;
	double v;
	const ax_labels_t *ls;
} tsdb_exemplar_in_t;

typedef struct tsdb_append_result {
	uint64_t exemplars_accepted;
	uint64_t exemplars_rejected; /* bad labels, too long, out of order */
	uint64_t accepted;
	uint64_t duplicates_ignored; /* exact resends */
	uint64_t out_of_order;
	uint64_t duplicate_timestamp;
	uint64_t out_of_bounds;
	uint64_t invalid; /* bad labels, or an absurd timestamp */
	uint64_t limit;   /* samples of new series refused by a limit */
	char first_error[256];
} tsdb_append_result_t;

typedef struct tsdb_head_stats {
	uint64_t series;
	uint64_t chunks;
	int64_t mint, maxt; /* INT64_MAX/INT64_MIN when empty */
	uint64_t label_pairs;
} tsdb_head_stats_t;

int tsdb_head_new(const tsdb_head_opts_t *o, tsdb_head_t **out, ax_err_t *err);
void tsdb_head_free(tsdb_head_t *h);

/* Replay a WAL directory into an empty head (before writing starts).
 * Torn tails are cut (wal.h).  Native-histogram records are refused with
 * an error naming them. */
int tsdb_head_replay(tsdb_head_t *h, const char *wal_dir,
    tsdb_wal_replay_stats_t *st, uint64_t *samples, ax_err_t *err);
/* Attach the WAL appends go to (borrowed). */
void tsdb_head_set_wal(tsdb_head_t *h, tsdb_wal_t *w);
/* Attach the chunks_head store (borrowed; it must outlive the head):
 * completed chunks are written there and read through its mapping, the
 * chunks it holds are loaded by tsdb_head_replay (WAL samples they cover
 * are skipped), and head truncation deletes its old files.  Set it before
 * replaying. */
void tsdb_head_set_hchunks(tsdb_head_t *h, tsdb_hchunks_t *hc);

/*
 * Append a batch: n_series label sets (validated; invalid ones counted and
 * their samples refused) and samples referring to them by index.  Returns
 * 0 with per-reason counts in res, or AX_EAGAIN/AX_EIO when the WAL write
 * failed (nothing applied; retry later).
 */
int tsdb_head_append(tsdb_head_t *h, const ax_labels_t *const *series,
    size_t n_series, const tsdb_sample_in_t *samples, size_t n_samples,
    tsdb_append_result_t *res, ax_err_t *err);
/* The same with exemplars (written to the WAL with the samples). */
int tsdb_head_append_ex(tsdb_head_t *h, const ax_labels_t *const *series,
    size_t n_series, const tsdb_sample_in_t *samples, size_t n_samples,
    const tsdb_exemplar_in_t *ex, size_t n_ex, tsdb_append_result_t *res,
    ax_err_t *err);
/* The same with hints (may be NULL), n_series of them, in and out: the
 * head ref each label set resolved to in an earlier call (0: unknown).  A
 * hint whose series still lives skips the label lookup and validation;
 * the others are resolved and their refs written back (0 when refused),
 * so a sender-side cache (the ingest's per-session refs) makes the steady
 * state free of label work. */
int tsdb_head_append_hinted(tsdb_head_t *h, const ax_labels_t *const *series,
    uint64_t *hints, size_t n_series, const tsdb_sample_in_t *samples,
    size_t n_samples, const tsdb_exemplar_in_t *ex, size_t n_ex,
    tsdb_append_result_t *res, ax_err_t *err);
/* The exemplar store (borrowed); NULL when exemplars are off. */
tsdb_exemplars_t *tsdb_head_exemplars(tsdb_head_t *h);

/* Refs of series matching the matchers that have samples overlapping
 * [mint, maxt].  OUT: *out (caller tsdb_plist_fini). */
int tsdb_head_select(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, tsdb_plist_t *out, ax_err_t *err);
/* Borrow a series by ref (valid for the head's lifetime: series are not
 * removed in this version). */
tsdb_series_t *tsdb_head_series(tsdb_head_t *h, uint64_t ref);
/* Visit samples of a series in [mint, maxt] under its lock. */
typedef int (*tsdb_sample_fn)(void *arg, int64_t t, double v);
int tsdb_head_series_samples(
    tsdb_series_t *s, int64_t mint, int64_t maxt, tsdb_sample_fn fn, void *arg);

/* Label names and values (of series matching ms when n > 0). */
int tsdb_head_label_names(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    char ***out, size_t *n_out, ax_err_t *err);
int tsdb_head_label_values(tsdb_head_t *h, const char *name,
    ax_matcher_t *const *ms, size_t n, char ***out, size_t *n_out,
    ax_err_t *err);
void tsdb_strv_free(char **v, size_t n);

void tsdb_head_stats(tsdb_head_t *h, tsdb_head_stats_t *st);

/* Samples older than t are out of bounds from now on (they belong to
 * persisted blocks); replay skips them too. */
void tsdb_head_set_min_valid(tsdb_head_t *h, int64_t t);
/*
 * Drop what is older than mint (it was compacted into a block): chunks
 * ending before mint, and series left with no samples.  Returns the number
 * of series removed.  Takes the append lock: appends wait.
 */
size_t tsdb_head_truncate(tsdb_head_t *h, int64_t mint);
/*
 * Delete [mint, maxt] of the series matching ms: a Tombstones record goes
 * to the WAL, then the intervals apply to reads.  OUT: *n_series.
 */
int tsdb_head_delete(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err);

/* Is the series ref still in the head?  (For WAL checkpoints.) */
int tsdb_head_has_series(tsdb_head_t *h, uint64_t ref);
/* Read lock for callers walking many series (stats, API). */
void tsdb_head_rlock(tsdb_head_t *h);
void tsdb_head_runlock(tsdb_head_t *h);
const tsdb_index_t *tsdb_head_index(tsdb_head_t *h);

#endif
