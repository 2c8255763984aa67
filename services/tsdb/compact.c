/*
 * compact: leveled block compaction (see compact.h).
 */
#include "tsdb/compact.h"
#include "ax_log.h"
#include "tsdb/block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	ax_labels_t *ls;
	tsdb_block_t *b;
	uint64_t id;
} entry_t;

static int entry_cmp(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;
	int c = ax_labels_cmp(x->ls, y->ls);

	if (c)
		return c;
	return tsdb_block_mint(x->b) < tsdb_block_mint(y->b)
	    ? -1
	    : tsdb_block_mint(x->b) > tsdb_block_mint(y->b);
}

static int chunk_cmp(const void *a, const void *b)
{
	const tsdb_chunk_t *x = a, *y = b;

	return x->mint < y->mint ? -1 : x->mint > y->mint;
}

/* Re-encode chunk d without the samples del deletes.  The new bytes are
 * remembered in *owned to be freed after the write. */
static int filter_chunk(const uint8_t *d, size_t dl, const tsdb_ivs_t *del,
    tsdb_chunk_t *out, uint8_t ***owned, size_t *n_owned)
{
	uint8_t **no;
	int r = tsdb_chunk_reencode(d, dl, INT64_MIN, INT64_MAX, del, out);

	if (r != 0 || out->len == 0)
		return r;
	no = realloc(*owned, (*n_owned + 1) * sizeof(*no));
	if (no == NULL) {
		free(out->b);
		return AX_ENOMEM;
	}
	*owned = no;
	no[(*n_owned)++] = out->b;
	return 0;
}

/* Merge blocks bs[0..n) into one block under dir. */
static int merge(
    tsdb_db_t *db, tsdb_block_t **bs, size_t n, char ulid[27], ax_err_t *err)
{
	entry_t *ents = NULL;
	size_t n_ents = 0, cap = 0, i, j;
	tsdb_block_series_t *out = NULL;
	tsdb_chunk_t *chunks = NULL;
	size_t n_out = 0, n_chunks = 0, cap_chunks = 0;
	int64_t mint = INT64_MAX, maxt = INT64_MIN;
	tsdb_block_stats_t st;
	int rv = 0, level = 1;
	uint8_t **owned = NULL;
	size_t n_owned = 0;
	char(*src)[27] = malloc(n * sizeof(*src));

	if (src == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < n && rv == 0; i++) {
		tsdb_plist_t ids = {0};

		memcpy(src[i], tsdb_block_ulid(bs[i]), 27);
		if (tsdb_block_level(bs[i]) + 1 > level)
			level = tsdb_block_level(bs[i]) + 1;
		if (tsdb_block_mint(bs[i]) < mint)
			mint = tsdb_block_mint(bs[i]);
		if (tsdb_block_maxt(bs[i]) > maxt)
			maxt = tsdb_block_maxt(bs[i]);
		/* no matchers: every series (the all-postings list) */
		if ((rv = tsdb_block_select(bs[i], NULL, 0, &ids, err)) != 0)
			break;
		for (j = 0; j < ids.n; j++) {
			tsdb_chunk_meta_t *m;
			size_t nm;

			if (n_ents == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				entry_t *ne = realloc(ents, nc * sizeof(*ne));

				if (ne == NULL) {
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
					break;
				}
				ents = ne;
				cap = nc;
			}
			if ((rv = tsdb_block_series(bs[i], ids.v[j],
			         &ents[n_ents].ls, &m, &nm, err)) != 0)
				break;
			free(m);
			ents[n_ents].b = bs[i];
			ents[n_ents].id = ids.v[j];
			n_ents++;
		}
		tsdb_plist_fini(&ids);
	}
	if (rv != 0)
		goto out;
	qsort(ents, n_ents, sizeof(*ents), entry_cmp);
	out = calloc(n_ents ? n_ents : 1, sizeof(*out));
	if (out == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	/* first pass: count chunks to size one array (pointers stay valid) */
	for (i = 0; i < n_ents; i++) {
		ax_labels_t *ls;
		tsdb_chunk_meta_t *m;
		size_t nm;

		if ((rv = tsdb_block_series(
		         ents[i].b, ents[i].id, &ls, &m, &nm, err)) != 0)
			goto out;
		ax_labels_free(ls);
		free(m);
		cap_chunks += nm;
	}
	chunks = calloc(cap_chunks ? cap_chunks : 1, sizeof(*chunks));
	if (chunks == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n_ents;) {
		size_t k = i, first = n_chunks, c;

		while (k < n_ents && ax_labels_equal(ents[k].ls, ents[i].ls))
			k++;
		for (j = i; j < k; j++) {
			ax_labels_t *ls;
			tsdb_chunk_meta_t *m;
			size_t nm;

			if ((rv = tsdb_block_series(ents[j].b, ents[j].id, &ls,
			         &m, &nm, err)) != 0)
				goto out;
			ax_labels_free(ls);
			for (c = 0; c < nm; c++) {
				const uint8_t *d;
				size_t dl;

				const tsdb_ivs_t *del = tsdb_tombs_get(
				    tsdb_block_tombstones(ents[j].b),
				    ents[j].id);

				if (del &&
				    tsdb_ivs_covers(del, m[c].mint, m[c].maxt))
					continue; /* wholly deleted */
				if ((rv = tsdb_block_chunk(ents[j].b, m[c].ref,
				         &d, &dl, err)) != 0) {
					free(m);
					goto out;
				}
				if (del &&
				    tsdb_ivs_overlaps(
				        del, m[c].mint, m[c].maxt)) {
					/* partly deleted: re-encode what
					 * remains */
					if ((rv = filter_chunk(d, dl, del,
					         &chunks[n_chunks], &owned,
					         &n_owned)) != 0) {
						free(m);
						rv = ax_err_set(err, rv,
						    "re-encoding a chunk "
						    "failed");
						goto out;
					}
					if (chunks[n_chunks].len == 0)
						continue;
				} else {
					chunks[n_chunks].b =
					    (uint8_t *)d; /* borrowed */
					chunks[n_chunks].len = dl;
					chunks[n_chunks].mint = m[c].mint;
					chunks[n_chunks].maxt = m[c].maxt;
				}
				n_chunks++;
			}
			free(m);
		}
		qsort(chunks + first, n_chunks - first, sizeof(*chunks),
		    chunk_cmp);
		/* identical chunks from overlapping sources: keep one */
		{
			size_t w = first + 1, r;

			for (r = first + 1; r < n_chunks; r++) {
				if (chunks[r].mint == chunks[w - 1].mint &&
				    chunks[r].maxt == chunks[w - 1].maxt &&
				    chunks[r].len == chunks[w - 1].len &&
				    memcmp(chunks[r].b, chunks[w - 1].b,
				        chunks[r].len) == 0)
					continue;
				chunks[w++] = chunks[r];
			}
			if (n_chunks > first)
				n_chunks = w;
		}
		out[n_out].ls = ents[i].ls;
		out[n_out].chunks = chunks + first;
		out[n_out].n_chunks = n_chunks - first;
		n_out++;
		i = k;
	}
	rv = tsdb_block_write_compacted(tsdb_db_dir(db), mint, maxt, out, n_out,
	    level, src, n, ulid, &st, err);
out:
	for (i = 0; i < n_owned; i++)
		free(owned[i]);
	free(owned);
	free(src);
	for (i = 0; i < n_ents; i++)
		ax_labels_free(ents[i].ls);
	free(ents);
	free(out);
	free(chunks);
	return rv;
}

int tsdb_compact_blocks(
    tsdb_db_t *db, int64_t base, int64_t retention_ms, ax_err_t *err)
{
	int64_t ranges[8], limit;
	size_t n_ranges = 0, r;
	int merges = 0;

	limit = retention_ms > 0 ? retention_ms / 10 : 31LL * 24 * 3600 * 1000;
	if (limit > 31LL * 24 * 3600 * 1000)
		limit = 31LL * 24 * 3600 * 1000;
	ranges[n_ranges++] = base;
	while (n_ranges < 8 && ranges[n_ranges - 1] * 3 <= limit) {
		ranges[n_ranges] = ranges[n_ranges - 1] * 3;
		n_ranges++;
	}
	for (r = 1; r < n_ranges; r++) {
		tsdb_block_t **bs;
		size_t n, i;
		int done = 0;

		tsdb_db_rlock(db);
		if (tsdb_db_blocks(db, &bs, &n) != 0) {
			tsdb_db_runlock(db);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		/* never the newest block */
		for (i = 0; n > 1 && i < n - 1 && !done;) {
			int64_t R = ranges[r];
			int64_t w0 = tsdb_block_mint(bs[i]) / R * R,
			        w1 = w0 + R;
			size_t k = i;

			while (k < n - 1 && tsdb_block_mint(bs[k]) >= w0 &&
			    tsdb_block_maxt(bs[k]) <= w1)
				k++;
			if (k - i >= 2 &&
			    (tsdb_block_maxt(bs[k - 1]) == w1 ||
			        tsdb_block_maxt(bs[n - 1]) > w1)) {
				char ulid[27], (*old)[27];
				size_t j;
				int rv;

				old = malloc((k - i) * sizeof(*old));
				if (old == NULL) {
					free(bs);
					tsdb_db_runlock(db);
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
				}
				for (j = i; j < k; j++)
					memcpy(old[j - i],
					    tsdb_block_ulid(bs[j]), 27);
				rv = merge(db, bs + i, k - i, ulid, err);
				tsdb_db_runlock(db);
				free(bs);
				if (rv == 0)
					rv = tsdb_db_replace_blocks(
					    db, old, k - i, ulid, err);
				if (rv == 0) {
					char a[16];

					snprintf(a, sizeof(a), "%zu", k - i);
					ax_log_info("blocks compacted", "ulid",
					    ulid, "sources", a);
					merges++;
				}
				free(old);
				if (rv != 0)
					return rv;
				done = 1;
				break;
			}
			i = k > i ? k : i + 1;
		}
		if (!done) {
			free(bs);
			tsdb_db_runlock(db);
		} else {
			r--; /* plan the same level again */
		}
	}
	return merges;
}

int tsdb_clean_tombstones(tsdb_db_t *db, size_t *n_rewritten, ax_err_t *err)
{
	tsdb_block_t **bs;
	size_t n, i;
	int rv = 0;

	*n_rewritten = 0;
	for (;;) {
		char ulid[27], old[1][27];
		tsdb_block_t *target = NULL;

		tsdb_db_rlock(db);
		if (tsdb_db_blocks(db, &bs, &n) != 0) {
			tsdb_db_runlock(db);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		for (i = 0; i < n && target == NULL; i++)
			if (tsdb_tombs_count(tsdb_block_tombstones(bs[i])) > 0)
				target = bs[i];
		if (target == NULL) {
			free(bs);
			tsdb_db_runlock(db);
			return 0;
		}
		memcpy(old[0], tsdb_block_ulid(target), 27);
		rv = merge(db, &target, 1, ulid, err);
		free(bs);
		tsdb_db_runlock(db);
		if (rv != 0)
			return rv;
		if ((rv = tsdb_db_replace_blocks(db, old, 1, ulid, err)) != 0)
			return rv;
		(*n_rewritten)++;
	}
}
