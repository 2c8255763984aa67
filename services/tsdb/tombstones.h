/*
 * tombstones: deleted time ranges of series (the admin delete API), as
 * Prometheus keeps them: per series a sorted list of non-overlapping
 * [mint, maxt] intervals (inclusive).  A sample is deleted when an
 * interval contains its timestamp; a chunk is dropped from reads when one
 * interval contains its whole [mint, maxt].
 *
 * A block's tombstones file (Prometheus format): magic 0x0130BA30 <BE32>,
 * version 1 <1b>, then per interval: series id <uvarint>, mint <varint>,
 * maxt <varint>; finally CRC-32C of the entries <BE32>.  It is rewritten
 * whole (tombstones.tmp, then rename).
 */
#ifndef TSDB_TOMBSTONES_H
#define TSDB_TOMBSTONES_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_hmap.h"

typedef struct tsdb_iv {
	int64_t mint, maxt;
} tsdb_iv_t;

typedef struct tsdb_ivs {
	tsdb_iv_t *v;
	size_t n;
} tsdb_ivs_t;

/* Add [mint, maxt], merging with overlapping or adjacent intervals. */
int tsdb_ivs_add(tsdb_ivs_t *s, int64_t mint, int64_t maxt);
void tsdb_ivs_fini(tsdb_ivs_t *s);
/* Is t deleted? */
int tsdb_ivs_deleted(const tsdb_ivs_t *s, int64_t t);
/* Is [mint, maxt] inside one interval? */
int tsdb_ivs_covers(const tsdb_ivs_t *s, int64_t mint, int64_t maxt);
/* Does some interval overlap [mint, maxt]? */
int tsdb_ivs_overlaps(const tsdb_ivs_t *s, int64_t mint, int64_t maxt);
/* Drop what ends before mint. */
void tsdb_ivs_truncate(tsdb_ivs_t *s, int64_t mint);

/* A map series id -> tsdb_ivs_t (the tombstones of one block). */
typedef struct tsdb_tombs {
	ax_hmap_t m;
} tsdb_tombs_t;

void tsdb_tombs_init(tsdb_tombs_t *t);
void tsdb_tombs_fini(tsdb_tombs_t *t);
const tsdb_ivs_t *tsdb_tombs_get(const tsdb_tombs_t *t, uint64_t id);
int tsdb_tombs_add(tsdb_tombs_t *t, uint64_t id, int64_t mint, int64_t maxt);
size_t tsdb_tombs_count(const tsdb_tombs_t *t);
/* Read / write a block's tombstones file (path).  A missing file is an
 * empty set. */
int tsdb_tombs_read(tsdb_tombs_t *t, const char *path, ax_err_t *err);
int tsdb_tombs_write(const tsdb_tombs_t *t, const char *path, ax_err_t *err);

#endif
