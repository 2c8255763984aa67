/*
 * db: the tsdb as a whole — the head plus the persistent blocks in the data
 * directory — for the read paths (series, label names and values) and for
 * managing blocks (loading at start, adding after a head compaction,
 * dropping by retention).
 *
 * Blocks are kept sorted by min time behind a read-write lock: readers
 * hold it for a whole request, so a block is never closed under them.
 * Results are merged across head and blocks, deduplicated by label set and
 * sorted as Prometheus sorts them.
 */
#ifndef TSDB_DB_H
#define TSDB_DB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_promql.h"
#include "tsdb/block_read.h"
#include "tsdb/chunk_xor.h"
#include "tsdb/head.h"
#include "tsdb/tombstones.h"

typedef struct tsdb_db tsdb_db_t;

/* Open the blocks found in dir (subdirectories with a meta.json; leftover
 * "*.tmp-for-creation" directories of an interrupted write are removed).
 * A block that does not open is skipped with an error logged.  OUT: *out. */
int tsdb_db_open(
    const char *dir, tsdb_head_t *head, tsdb_db_t **out, ax_err_t *err);
void tsdb_db_close(tsdb_db_t *db);

/* Add the block written under dir/<ulid>. */
int tsdb_db_add_block(tsdb_db_t *db, const char *ulid, ax_err_t *err);
/* Delete blocks whose max time is at or before mint (retention); returns
 * how many were deleted. */
size_t tsdb_db_drop_blocks_before(tsdb_db_t *db, int64_t mint);
/* Size retention as Prometheus 2.42 does it: starting from head_bytes (the
 * WAL on disk), add the blocks newest first; the block that takes the sum
 * over max_bytes and every older one are deleted.  Returns how many. */
size_t tsdb_db_drop_blocks_over_size(
    tsdb_db_t *db, uint64_t max_bytes, uint64_t head_bytes);

/* Hold the read lock while using head series pointers outside the db
 * functions (federation, snapshots): head truncation takes the write lock
 * before it frees series. */
void tsdb_db_rlock(tsdb_db_t *db);
void tsdb_db_runlock(tsdb_db_t *db);
/* Truncate the head below mint under the write lock (see head.h). */
size_t tsdb_db_truncate_head(tsdb_db_t *db, int64_t mint);
/* The newest block's max time, or INT64_MIN without blocks. */
int64_t tsdb_db_blocks_maxt(tsdb_db_t *db);

/* A snapshot of the open blocks, sorted by min time (borrowed pointers,
 * valid while the read lock is held).  OUT: *out (free the array). */
int tsdb_db_blocks(tsdb_db_t *db, tsdb_block_t ***out, size_t *n);
/* Replace blocks `old` (by ULID) with the block dir/<ulid>, deleting the
 * old ones. */
int tsdb_db_replace_blocks(tsdb_db_t *db, char (*old)[27], size_t n_old,
    const char *ulid, ax_err_t *err);
const char *tsdb_db_dir(tsdb_db_t *db);

/* Delete [mint, maxt] of the series matching any selector, in the head
 * (WAL tombstones) and in every block (tombstones files).  OUT: number of
 * series touched (a series counts once per block and for the head). */
int tsdb_db_delete(tsdb_db_t *db, ax_selector_t *const *sel, size_t n_sel,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err);

/*
 * The select interface for queries: the series matching ms with samples in
 * [mint, maxt], across blocks and head, merged by label set, in no
 * particular order (the blocks' series, then the head's; PromQL sorts what
 * it must, as Prometheus' engine selects unsorted), each with a sample
 * iterator that walks its chunks in time order
 * (duplicates from overlapping sources dropped, tombstoned samples
 * skipped) and can seek.  A set holds the db read lock until it is freed:
 * keep it short-lived (one query).
 */
typedef struct tsdb_series_set tsdb_series_set_t;

typedef struct tsdb_chunk_ref {
	const uint8_t *b;
	size_t len;
	int64_t mint, maxt;
	const tsdb_ivs_t *del; /* may be NULL */
} tsdb_chunk_ref_t;

typedef struct tsdb_sample_it {
	const tsdb_chunk_ref_t *chunks;
	size_t n, i;
	int64_t mint, maxt;
	tsdb_xor_it_t it;
	int in_chunk;
	int64_t last_t; /* last emitted timestamp */
	int64_t t;
	double v;
} tsdb_sample_it_t;

int tsdb_db_select(tsdb_db_t *db, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, tsdb_series_set_t **out, ax_err_t *err);
size_t tsdb_series_set_len(const tsdb_series_set_t *s);
const ax_labels_t *tsdb_series_set_labels(const tsdb_series_set_t *s, size_t i);
/* Start iterating series i (the iterator borrows from the set). */
void tsdb_series_set_iter(
    const tsdb_series_set_t *s, size_t i, tsdb_sample_it_t *it);
void tsdb_series_set_free(tsdb_series_set_t *s);
/* 1: a sample (tsdb_sample_it_t.t/.v); 0: the end; <0: corrupt chunk. */
int tsdb_sample_it_next(tsdb_sample_it_t *it);
/* Advance to the first sample with t >= ts; same returns. */
int tsdb_sample_it_seek(tsdb_sample_it_t *it, int64_t ts);

typedef struct tsdb_db_stats {
	size_t n_blocks;
	uint64_t block_bytes;
	uint64_t block_samples;
	int64_t mint, maxt; /* over blocks; INT64_MAX/INT64_MIN when none */
} tsdb_db_stats_t;
void tsdb_db_stats(tsdb_db_t *db, tsdb_db_stats_t *st);

/*
 * Label sets of the series matching any of the selectors with samples in
 * [mint, maxt], across blocks and head, distinct and sorted.  OUT: *out, an
 * array of label sets the caller frees (tsdb_db_free_series).
 */
int tsdb_db_series(tsdb_db_t *db, ax_selector_t *const *sel, size_t n_sel,
    int64_t mint, int64_t maxt, ax_labels_t ***out, size_t *n, ax_err_t *err);
void tsdb_db_free_series(ax_labels_t **v, size_t n);

/* Label names, or values of name (name != NULL), of the series matching
 * any selector (all series when n_sel is 0) in [mint, maxt].  Sorted,
 * distinct.  OUT: *out (tsdb_strv_free). */
int tsdb_db_labels(tsdb_db_t *db, const char *name, ax_selector_t *const *sel,
    size_t n_sel, int64_t mint, int64_t maxt, char ***out, size_t *n,
    ax_err_t *err);

#endif
