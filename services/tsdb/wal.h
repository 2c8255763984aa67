/*
 * wal: the write-ahead log in Prometheus' WAL format (tsdb/wlog), so an
 * axon data directory's wal/ is readable by Prometheus 2.42 and vice
 * versa.
 *
 * On disk: wal/NNNNNNNN segment files (8 decimal digits), each at most
 * segment_size bytes (128 MiB by default), written in 32 KiB pages.  A
 * record is split into fragments that never cross a page; a fragment is
 *
 *     type <1 byte> | length <uint16 BE> | CRC-32C <uint32 BE> | data
 *
 * type: 1 full, 2 first, 3 middle, 4 last; bit 3 (0x08) set when the
 * record is snappy-compressed (block format, whole record compressed
 * before fragmenting, only when that makes it smaller).  Type 0 or less
 * than 7 bytes left in a page means the rest of the page is padding.  A
 * record never crosses a segment boundary; a completed segment is padded to
 * a whole page.  The CRC covers the fragment data as stored.
 *
 * Durability: tsdb_wal_log() returns after write(2), so acknowledged
 * records survive a process kill.  Power loss: fsync policy (below).
 * Faults: a failed write is undone (the segment is truncated back to its
 * size before the batch), so a retried batch never leaves half a record.
 */
#ifndef TSDB_WAL_H
#define TSDB_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"

#define TSDB_WAL_PAGE_SIZE 32768
#define TSDB_WAL_HEADER_SIZE 7
#define TSDB_WAL_DEFAULT_SEGMENT_SIZE (128u * 1024 * 1024)

typedef enum {
	TSDB_WAL_FSYNC_NEVER = 0, /* leave it to the kernel */
	TSDB_WAL_FSYNC_SEGMENT =
	    1, /* when a segment is completed (Prometheus) */
	TSDB_WAL_FSYNC_ALWAYS = 2, /* before every tsdb_wal_log() returns */
} tsdb_wal_fsync_t;

typedef struct tsdb_wal_opts {
	size_t segment_size; /* multiple of the page size */
	int compress;        /* snappy, as Prometheus 2.42's default */
	tsdb_wal_fsync_t fsync;
} tsdb_wal_opts_t;

typedef struct tsdb_wal tsdb_wal_t;

/*
 * Open dir for writing (created if missing); writing starts in a fresh
 * segment after the last existing one, as Prometheus does.  OUT: *out,
 * owned by the caller (tsdb_wal_close).
 */
int tsdb_wal_open(const char *dir, const tsdb_wal_opts_t *opts,
    tsdb_wal_t **out, ax_err_t *err);
/*
 * Append n records as one batch and write them out.  All or nothing: on
 * failure (AX_EAGAIN for disk full, AX_EIO otherwise) nothing of the batch
 * remains in the log.  Not thread-safe: callers serialise.
 */
int tsdb_wal_log(tsdb_wal_t *w, const uint8_t *const *recs, const size_t *lens,
    size_t n, ax_err_t *err);
/* fsync the active segment. */
int tsdb_wal_sync(tsdb_wal_t *w, ax_err_t *err);
/* Close the active segment (padding its last page) and start a new one. */
int tsdb_wal_next_segment(tsdb_wal_t *w, ax_err_t *err);
/* Index of the segment being written. */
int tsdb_wal_current_segment(const tsdb_wal_t *w);
void tsdb_wal_close(tsdb_wal_t *w);

/* Bytes on disk under dir: segments and checkpoints (0 if it is missing).
 * What size-based retention counts for the head, as Prometheus does. */
uint64_t tsdb_wal_dir_bytes(const char *dir);

/* List segment indexes in dir, ascending.  OUT: *idx (malloc'd), *n. */
int tsdb_wal_segments(const char *dir, int **idx, size_t *n, ax_err_t *err);

typedef struct tsdb_wal_replay_stats {
	uint64_t records;
	uint64_t segments;
	uint64_t corruptions;     /* torn or corrupt tails found (and cut) */
	uint64_t truncated_bytes; /* bytes cut away */
	int first_segment, last_segment;
} tsdb_wal_replay_stats_t;

/*
 * Called for each complete record (decompressed).  rec is borrowed for
 * the call.  Return non-zero to abort the replay with that code.
 */
typedef int (*tsdb_wal_rec_fn)(void *arg, const uint8_t *rec, size_t len);

/*
 * Read every record of segments >= from_segment in order.  A torn or
 * corrupt tail (bad CRC, bad fragment sequence, truncated record) ends the
 * replay at the last complete record; with repair set, the segment is
 * truncated there and later segments are removed, logged and counted.
 */
int tsdb_wal_replay(const char *dir, int from_segment, int repair,
    tsdb_wal_rec_fn fn, void *arg, tsdb_wal_replay_stats_t *st, ax_err_t *err);

/*
 * Tailing the WAL while it is written (remote-write forwarding, as
 * Prometheus' WAL watcher): a tail reads the complete records appended to
 * the current segment since the last call and moves on to the next segment
 * once it exists and the current one is read to its end.  A record still
 * being written is left for the next call.
 */
typedef struct tsdb_wal_tail tsdb_wal_tail_t;

/* Start at the beginning of segment seg of dir.  OUT: *out. */
int tsdb_wal_tail_open(
    const char *dir, int seg, tsdb_wal_tail_t **out, ax_err_t *err);
void tsdb_wal_tail_close(tsdb_wal_tail_t *t);
/* Deliver the records available now; returns the number delivered, or a
 * negative AX_E* code (fn's non-zero return aborts with that code). */
int tsdb_wal_tail_read(
    tsdb_wal_tail_t *t, tsdb_wal_rec_fn fn, void *arg, ax_err_t *err);
int tsdb_wal_tail_segment(const tsdb_wal_tail_t *t);
/* Offset in the current segment just after the record being delivered
 * (or the last one delivered). */
uint64_t tsdb_wal_tail_pos(const tsdb_wal_tail_t *t);

/* Replay segments from..to (inclusive) only, without repairing. */
int tsdb_wal_replay_range(const char *dir, int from, int to, tsdb_wal_rec_fn fn,
    void *arg, tsdb_wal_replay_stats_t *st, ax_err_t *err);

#endif
