/*
 * hchunks: the head's completed chunks on disk, in Prometheus 2.42's
 * `chunks_head` format, memory-mapped so they live in the page cache
 * rather than on the heap, and loaded at start so WAL replay only has to
 * rebuild the open chunks.
 *
 * Directory <data>/chunks_head/, files named by a 6-digit sequence
 * ("000001"), each at most 128 MiB:
 *
 *   file   := magic 0x0130BC91 <4b BE> | version 1 <1b> | padding 0 <3b>
 *             | chunk*
 *   chunk  := series ref <8b BE> | mint <8b BE> | maxt <8b BE>
 *             | encoding <1b> (1 = XOR) | len <uvarint> | data <len>
 *             | CRC-32C <4b BE> of everything from series ref to data
 *
 * The series ref is the head/WAL series ref.  Every start begins a new
 * file after the last one (as Prometheus does); files stay contiguous in
 * sequence because only the oldest are deleted, once every chunk in them
 * ends before the head's new minimum time.  A corrupt or torn chunk ends
 * loading: that file is cut there and later files are deleted (the WAL
 * still holds those samples).  The WAL stays the source of truth, so a
 * chunk that cannot be written (disk full) simply stays on the heap.
 *
 * Thread safety: writes come from the head's appender (serialised by the
 * head); truncation runs under the db write lock, so no reader holds a
 * pointer into a file it unmaps.
 */
#ifndef TSDB_HCHUNKS_H
#define TSDB_HCHUNKS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"

#define TSDB_HCHUNKS_MAGIC 0x0130BC91u
#define TSDB_HCHUNKS_MAX_FILE (128u << 20)

typedef struct tsdb_hchunks tsdb_hchunks_t;

/* Open (creating) dir/chunks_head and map the files there.  OUT: *out. */
int tsdb_hchunks_open(const char *data_dir, tsdb_hchunks_t **out, ax_err_t *err);
/* Sync and unmap everything. */
void tsdb_hchunks_close(tsdb_hchunks_t *hc);

/* Called for every valid chunk of the existing files, in file order;
 * data points into the mapping (valid until the file is truncated away).
 * Return non-zero to stop with that error. */
typedef int (*tsdb_hchunk_fn)(void *arg, uint64_t ref, int64_t mint,
    int64_t maxt, const uint8_t *data, size_t len);
/* Walk the chunks loaded at open.  OUT: *corrupt set when loading stopped
 * at a damaged chunk (the damage is repaired as described above). */
int tsdb_hchunks_iterate(tsdb_hchunks_t *hc, tsdb_hchunk_fn fn, void *arg,
    int *corrupt, ax_err_t *err);

/*
 * Append a completed XOR chunk of series ref.  OUT: *data, the mapped
 * copy (valid until truncation removes its file).  Returns AX_EIO (with
 * err) when it could not be written; the caller keeps its own copy.
 */
int tsdb_hchunks_write(tsdb_hchunks_t *hc, uint64_t ref, int64_t mint,
    int64_t maxt, const uint8_t *b, size_t len, const uint8_t **data,
    ax_err_t *err);

/* Delete the oldest files whose chunks all end before mint (never the
 * file being written).  Returns how many were deleted. */
size_t tsdb_hchunks_truncate(tsdb_hchunks_t *hc, int64_t mint);

typedef struct tsdb_hchunks_stats {
	size_t files;
	uint64_t bytes;
	uint64_t chunks_written;
	uint64_t write_errors;
} tsdb_hchunks_stats_t;
void tsdb_hchunks_stats(tsdb_hchunks_t *hc, tsdb_hchunks_stats_t *st);

#endif
