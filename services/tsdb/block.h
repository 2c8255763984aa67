/*
 * block: writing Prometheus TSDB blocks (format as of Prometheus 2.42), so
 * promtool, Prometheus, Thanos and Cortex-style tools read them.
 *
 * A block is a directory named by a ULID holding:
 *
 *   meta.json   {"ulid", "minTime", "maxTime" (exclusive), "stats":
 *               {"numSamples", "numSeries", "numChunks"}, "compaction":
 *               {"level", "sources"}, "version": 1}
 *   chunks/000001 ...  chunk segments (at most 512 MiB each):
 *               magic 0x85BD40DD <BE32>, version 1 <1b>, 3 padding bytes,
 *               then per chunk: len(data) <uvarint>, encoding <1b>,
 *               data, CRC-32C(encoding, data) <BE32>.  A chunk's reference
 *               is segment_index << 32 | offset (segment index 0-based).
 *   index       index format v2: magic 0xBAAAD700 <BE32>, version 2 <1b>;
 *               symbol table (sorted strings); series, each aligned to 16
 *               bytes (series id = offset / 16), sorted by labels, with
 *               symbol refs and delta-encoded chunk metas; one label index
 *               per name; postings lists (4-byte aligned) for the all-series
 *               key ("", "") and every label pair; label offset table;
 *               postings offset table; TOC of six BE64 offsets + CRC.
 *               Every section: len <BE32>, content, CRC-32C(content).
 *   tombstones  magic 0x0130BA30 <BE32>, version 1 <1b>, entries
 *               (series ref uvarint, mint varint, maxt varint), CRC-32C of
 *               the entries <BE32>.
 *
 * The block is written to "<ulid>.tmp-for-creation" and renamed into place
 * after every file is synced, so a crash never leaves a half block.
 */
#ifndef TSDB_BLOCK_H
#define TSDB_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "tsdb/head.h"

typedef struct tsdb_block_series {
	const ax_labels_t *ls;
	const tsdb_chunk_t *chunks; /* ascending, within [mint, maxt) */
	size_t n_chunks;
} tsdb_block_series_t;

typedef struct tsdb_block_stats {
	uint64_t samples, series, chunks;
} tsdb_block_stats_t;

/* A new ULID for a block created now (26 characters + NUL). */
void tsdb_ulid_new(char out[27]);

/*
 * Write series (sorted by labels, see ax_labels_cmp) as a block covering
 * [mint, maxt) under parent_dir.  OUT: ulid (the directory name), stats.
 */
int tsdb_block_write(const char *parent_dir, int64_t mint, int64_t maxt,
    const tsdb_block_series_t *series, size_t n, char ulid[27],
    tsdb_block_stats_t *stats, ax_err_t *err);
/* The same for a compaction: meta.json gets `level` and the source ULIDs. */
int tsdb_block_write_compacted(const char *parent_dir, int64_t mint,
    int64_t maxt, const tsdb_block_series_t *series, size_t n, int level,
    char (*sources)[27], size_t n_sources, char ulid[27],
    tsdb_block_stats_t *stats, ax_err_t *err);

/*
 * Re-encode XOR chunk b keeping only the samples in [mint, maxt) that del
 * (may be NULL) does not delete.  OUT: out->b (malloc'd, caller frees),
 * out->len, out->mint, out->maxt; out->b NULL and len 0 when nothing is
 * left.  Returns 0, AX_ENOMEM, or <0 for a corrupt chunk.
 */
int tsdb_chunk_reencode(const uint8_t *b, size_t len, int64_t mint,
    int64_t maxt, const tsdb_ivs_t *del, tsdb_chunk_t *out);

/*
 * Persist everything the head holds in [mint, maxt) as one block under
 * parent_dir (e.g. a snapshot).  Chunks are copied under the series locks;
 * the open head chunk is included.
 */
int tsdb_block_write_head(tsdb_head_t *h, const char *parent_dir, int64_t mint,
    int64_t maxt, char ulid[27], tsdb_block_stats_t *stats, ax_err_t *err);

#endif
