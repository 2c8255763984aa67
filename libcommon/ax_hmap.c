/*
 * ax_hmap: string-keyed open-addressing hash map (see ax_hmap.h).
 */
#include "ax_hmap.h"
#include "ax_err.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static char tomb_marker;
#define TOMB (&tomb_marker)

uint64_t ax_hash_bytes(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void ax_hmap_init(ax_hmap_t *m)
{
	memset(m, 0, sizeof(*m));
}

void ax_hmap_fini(ax_hmap_t *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->e[i].key && m->e[i].key != TOMB)
			free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static ax_hmap_ent_t *find(
    const ax_hmap_t *m, const void *key, size_t klen, uint64_t h)
{
	size_t i, mask;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		ax_hmap_ent_t *e = &m->e[i];

		if (e->key == NULL)
			return NULL;
		if (e->key != TOMB && e->hash == h && e->klen == klen &&
		    (klen == 0 || memcmp(e->key, key, klen) == 0))
			return e;
	}
}

void *ax_hmap_get(const ax_hmap_t *m, const void *key, size_t klen)
{
	ax_hmap_ent_t *e = find(m, key, klen, ax_hash_bytes(key, klen));

	return e ? e->val : NULL;
}

static int rehash(ax_hmap_t *m, size_t ncap)
{
	ax_hmap_ent_t *old = m->e, *ne;
	size_t oc = m->cap, i;

	ne = calloc(ncap, sizeof(*ne));
	if (ne == NULL)
		return AX_ENOMEM;
	for (i = 0; i < oc; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == TOMB)
			continue;
		for (j = old[i].hash & (ncap - 1); ne[j].key;
		     j = (j + 1) & (ncap - 1))
			;
		ne[j] = old[i];
	}
	free(old);
	m->e = ne;
	m->cap = ncap;
	m->tombs = 0;
	return 0;
}

int ax_hmap_put(
    ax_hmap_t *m, const void *key, size_t klen, void *val, void **old)
{
	uint64_t h = ax_hash_bytes(key, klen);
	ax_hmap_ent_t *e = find(m, key, klen, h);
	size_t i, mask;
	char *k;

	if (e) {
		if (old)
			*old = e->val;
		e->val = val;
		return 0;
	}
	if ((m->n + m->tombs + 1) * 4 > m->cap * 3) {
		size_t nc = m->cap ? m->cap : 16;

		while ((m->n + 1) * 2 > nc)
			nc *= 2;
		if (rehash(m, nc) != 0)
			return AX_ENOMEM;
	}
	k = malloc(klen + 1);
	if (k == NULL)
		return AX_ENOMEM;
	if (klen > 0)
		memcpy(k, key, klen);
	k[klen] = '\0';
	mask = m->cap - 1;
	for (i = h & mask; m->e[i].key && m->e[i].key != TOMB;
	     i = (i + 1) & mask)
		;
	if (m->e[i].key == TOMB)
		m->tombs--;
	m->e[i].key = k;
	m->e[i].klen = klen;
	m->e[i].hash = h;
	m->e[i].val = val;
	m->n++;
	if (old)
		*old = NULL;
	return 0;
}

void *ax_hmap_del(ax_hmap_t *m, const void *key, size_t klen)
{
	ax_hmap_ent_t *e = find(m, key, klen, ax_hash_bytes(key, klen));
	void *v;

	if (e == NULL)
		return NULL;
	v = e->val;
	free(e->key);
	e->key = TOMB;
	e->val = NULL;
	m->n--;
	m->tombs++;
	return v;
}

ax_hmap_ent_t *ax_hmap_next(const ax_hmap_t *m, size_t *pos)
{
	while (*pos < m->cap) {
		ax_hmap_ent_t *e = &m->e[(*pos)++];

		if (e->key && e->key != TOMB)
			return e;
	}
	return NULL;
}

/* ---- ax_u64map ---- */

static size_t slot_of(uint64_t k, size_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & mask;
}

void ax_u64map_init(ax_u64map_t *m)
{
	memset(m, 0, sizeof(*m));
}

void ax_u64map_fini(ax_u64map_t *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void *ax_u64map_get(const ax_u64map_t *m, uint64_t k)
{
	size_t i, mask;

	if (m->cap == 0 || k == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = slot_of(k, mask); m->k[i]; i = (i + 1) & mask)
		if (m->k[i] == k)
			return m->v[i];
	return NULL;
}

static int u64_grow(ax_u64map_t *m, size_t nc)
{
	uint64_t *nk = calloc(nc, sizeof(*nk)), *ok = m->k;
	void **nv = calloc(nc, sizeof(*nv)), **ov = m->v;
	size_t i, oc = m->cap;

	if (nk == NULL || nv == NULL) {
		free(nk);
		free(nv);
		return AX_ENOMEM;
	}
	for (i = 0; i < oc; i++) {
		size_t j;

		if (ok[i] == 0)
			continue;
		for (j = slot_of(ok[i], nc - 1); nk[j]; j = (j + 1) & (nc - 1))
			;
		nk[j] = ok[i];
		nv[j] = ov[i];
	}
	free(ok);
	free(ov);
	m->k = nk;
	m->v = nv;
	m->cap = nc;
	return 0;
}

int ax_u64map_put(ax_u64map_t *m, uint64_t k, void *v)
{
	size_t i, mask;

	if (k == 0)
		return AX_EINVAL;
	if ((m->n + 1) * 4 > m->cap * 3 &&
	    u64_grow(m, m->cap ? m->cap * 2 : 64) != 0)
		return AX_ENOMEM;
	mask = m->cap - 1;
	for (i = slot_of(k, mask); m->k[i]; i = (i + 1) & mask)
		if (m->k[i] == k) {
			m->v[i] = v;
			return 0;
		}
	m->k[i] = k;
	m->v[i] = v;
	m->n++;
	return 0;
}

void *ax_u64map_del(ax_u64map_t *m, uint64_t k)
{
	size_t i, j, mask;
	void *v;

	if (m->cap == 0 || k == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = slot_of(k, mask); m->k[i] != k; i = (i + 1) & mask)
		if (m->k[i] == 0)
			return NULL;
	v = m->v[i];
	/* shift the cluster after i back over the hole */
	for (j = (i + 1) & mask; m->k[j]; j = (j + 1) & mask) {
		size_t home = slot_of(m->k[j], mask);

		/* keep j if its home lies cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->k[i] = m->k[j];
		m->v[i] = m->v[j];
		i = j;
	}
	m->k[i] = 0;
	m->v[i] = NULL;
	m->n--;
	return v;
}

void *ax_u64map_next(const ax_u64map_t *m, size_t *pos, uint64_t *k)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->k[*pos]) {
			if (k)
				*k = m->k[*pos];
			return m->v[(*pos)++];
		}
	return NULL;
}
