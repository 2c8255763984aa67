/*
 * compact: leveled compaction of persistent blocks, as Prometheus plans it.
 *
 * Block ranges grow by 3x from the head's block range (2h, 6h, 18h, 54h,
 * ...), the largest at most a tenth of the retention time (31 days at
 * most).  For each range above the first, blocks are grouped by aligned
 * windows [k*R, (k+1)*R); a window holding two or more blocks whose span
 * is complete (its newest block ends at the window end, or a newer block
 * exists beyond it) is merged into one block of the next level.  The
 * newest block is never planned (it may still grow into its window).  The
 * merged block is written and opened before its sources are deleted, so a
 * crash leaves either the sources or the result (duplicates from both are
 * merged away on read).
 */
#ifndef TSDB_COMPACT_H
#define TSDB_COMPACT_H

#include <stdint.h>

#include "ax_err.h"
#include "tsdb/db.h"

/* Run one planning round; returns the number of merges done (>= 0) or a
 * negative AX_E* code. */
int tsdb_compact_blocks(
    tsdb_db_t *db, int64_t base_range_ms, int64_t retention_ms, ax_err_t *err);

/* Rewrite every block that has tombstones without the deleted data
 * (POST /api/v1/admin/tsdb/clean_tombstones).  OUT: *n_rewritten. */
int tsdb_clean_tombstones(tsdb_db_t *db, size_t *n_rewritten, ax_err_t *err);

#endif
