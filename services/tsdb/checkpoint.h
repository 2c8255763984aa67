/*
 * checkpoint: WAL checkpoints in Prometheus' format (tsdb/wlog), so the WAL
 * stays bounded and both Prometheus and axon replay each other's.
 *
 * A checkpoint is a directory wal/checkpoint.NNNNNNNN (the index of the
 * last segment it covers) that holds an ordinary WAL (segments of records)
 * with what is still needed from the previous checkpoint and segments
 * first..NNNNNNNN: Series records of series still alive, Samples with
 * t >= mint, Tombstones of live series reaching mint, Exemplars with
 * t >= mint, Metadata of live series.  It is written as
 * checkpoint.NNNNNNNN.tmp and renamed when complete; afterwards the
 * covered segments and older checkpoints are deleted.  Replay reads the
 * newest checkpoint, then the segments after it.
 */
#ifndef TSDB_CHECKPOINT_H
#define TSDB_CHECKPOINT_H

#include <stdint.h>

#include "ax_err.h"

/* Index of the newest complete checkpoint in wal_dir, or -1.  OUT: path
 * (its directory) when found. */
int tsdb_checkpoint_last(const char *wal_dir, char *path, size_t cap);

/*
 * Write checkpoint.<to> from the last checkpoint (if any) and segments
 * from..to; keep(arg, ref) says whether a series is still alive.
 */
int tsdb_checkpoint_write(const char *wal_dir, int from, int to,
    int (*keep)(void *arg, uint64_t ref), void *arg, int64_t mint, int compress,
    ax_err_t *err);

/* Delete segments with index < before, and checkpoints older than the
 * newest one. */
void tsdb_wal_delete_before(const char *wal_dir, int before);

#endif
