/*
 * ax_hmap: an open-addressing hash map from byte-string keys to pointers.
 * Keys are copied into the map; values are the caller's.  Not
 * thread-safe: callers lock.  Lookups allocate nothing.
 */
#ifndef AX_HMAP_H
#define AX_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ax_hmap_ent {
	char *key; /* NULL: empty; AX_HMAP_TOMB: deleted */
	size_t klen;
	uint64_t hash;
	void *val;
} ax_hmap_ent_t;

typedef struct ax_hmap {
	ax_hmap_ent_t *e;
	size_t cap; /* power of two, or 0 */
	size_t n;
	size_t tombs;
} ax_hmap_t;

void ax_hmap_init(ax_hmap_t *m);
/* Free the keys and the table (not the values). */
void ax_hmap_fini(ax_hmap_t *m);
/* The value for key, or NULL. */
void *ax_hmap_get(const ax_hmap_t *m, const void *key, size_t klen);
/* Insert or replace.  OUT: *old gets the previous value (or NULL) when
 * old is non-NULL.  Returns 0 or AX_ENOMEM. */
int ax_hmap_put(
    ax_hmap_t *m, const void *key, size_t klen, void *val, void **old);
/* Remove key; returns its value or NULL. */
void *ax_hmap_del(ax_hmap_t *m, const void *key, size_t klen);
/* Iterate: start with *pos = 0; returns the next entry or NULL. */
ax_hmap_ent_t *ax_hmap_next(const ax_hmap_t *m, size_t *pos);

uint64_t ax_hash_bytes(const void *p, size_t n);

/*
 * ax_u64map: an open-addressing map from non-zero 64-bit keys (series
 * refs) to pointers, keys kept inline so a lookup touches one cache line
 * and allocates nothing; deletion shifts back (no tombstones).  Not
 * thread-safe: callers lock.
 */
typedef struct ax_u64map {
	uint64_t *k; /* 0: empty */
	void **v;
	size_t cap; /* power of two, or 0 */
	size_t n;
} ax_u64map_t;

void ax_u64map_init(ax_u64map_t *m);
void ax_u64map_fini(ax_u64map_t *m); /* not the values */
void *ax_u64map_get(const ax_u64map_t *m, uint64_t k);
/* Insert or replace; k must not be 0.  0 or AX_ENOMEM. */
int ax_u64map_put(ax_u64map_t *m, uint64_t k, void *v);
/* Remove k; returns its value or NULL. */
void *ax_u64map_del(ax_u64map_t *m, uint64_t k);
/* Iterate (no changes meanwhile): start with *pos = 0; returns the next
 * value (its key in *k) or NULL at the end. */
void *ax_u64map_next(const ax_u64map_t *m, size_t *pos, uint64_t *k);

#endif
