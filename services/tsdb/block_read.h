/*
 * block_read: reading Prometheus TSDB blocks (ours and Prometheus') —
 * meta.json, index v2 and chunk segments, all mmapped read-only (layout in
 * block.h).
 *
 * Opening parses the TOC, the symbol table and the postings offset table
 * into memory (name -> sorted values -> postings offset) and checks their
 * CRCs; series entries, postings lists and chunks are read from the map on
 * demand, each bounds-checked: a corrupt block gives an error, never a
 * read out of the map.  A block is immutable; it may be shared between
 * threads without locks once opened.
 */
#ifndef TSDB_BLOCK_READ_H
#define TSDB_BLOCK_READ_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "tsdb/postings.h"
#include "tsdb/tombstones.h"

typedef struct tsdb_block tsdb_block_t;

typedef struct tsdb_chunk_meta {
	int64_t mint, maxt;
	uint64_t ref;
} tsdb_chunk_meta_t;

/* Open the block in dir.  OUT: *out, owned by the caller. */
int tsdb_block_open(const char *dir, tsdb_block_t **out, ax_err_t *err);
void tsdb_block_close(tsdb_block_t *b);

const char *tsdb_block_ulid(const tsdb_block_t *b);
const char *tsdb_block_dir(const tsdb_block_t *b);
int64_t tsdb_block_mint(const tsdb_block_t *b);
int64_t tsdb_block_maxt(const tsdb_block_t *b); /* exclusive */
uint64_t tsdb_block_num_samples(const tsdb_block_t *b);
uint64_t tsdb_block_num_series(const tsdb_block_t *b);
int tsdb_block_level(const tsdb_block_t *b);
/* Bytes of chunks, index, meta.json and tombstones, as Prometheus counts. */
uint64_t tsdb_block_size_bytes(const tsdb_block_t *b);

/* Series ids matching the matchers.  OUT: *out (ascending ids). */
int tsdb_block_select(tsdb_block_t *b, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err);
/* A series' labels (caller frees) and chunk metas (caller frees). */
int tsdb_block_series(tsdb_block_t *b, uint64_t id, ax_labels_t **ls,
    tsdb_chunk_meta_t **metas, size_t *n_metas, ax_err_t *err);
/* A chunk's XOR bytes (borrowed from the map). */
int tsdb_block_chunk(tsdb_block_t *b, uint64_t ref, const uint8_t **data,
    size_t *len, ax_err_t *err);
/* The block's tombstones (borrowed; change only under the db write lock). */
const tsdb_tombs_t *tsdb_block_tombstones(const tsdb_block_t *b);
/* Delete [mint, maxt] of the series matching ms: tombstones are added and
 * the tombstones file rewritten.  OUT: *n_series affected. */
int tsdb_block_delete(tsdb_block_t *b, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err);

/* Sorted label names / values (borrowed strings; caller frees the array). */
int tsdb_block_label_names(tsdb_block_t *b, const char ***out, size_t *n);
int tsdb_block_label_values(
    tsdb_block_t *b, const char *name, const char ***out, size_t *n);

#endif
