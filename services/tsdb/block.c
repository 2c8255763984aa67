/*
 * block: Prometheus TSDB block writer (layout in block.h).
 */
#include "tsdb/fsutil.h"
#include "tsdb/block.h"
#include "ax_buf.h"
#include "ax_crc32c.h"
#include "ax_hmap.h"
#include "ax_log.h"
#include "ax_units.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNKS_MAGIC 0x85BD40DDu
#define INDEX_MAGIC 0xBAAAD700u
#define TOMBSTONES_MAGIC 0x0130BA30u
#define SEGMENT_MAX (512u * 1024 * 1024)

/* ---- small encoders ---- */

static void put_be32_at(ax_buf_t *b, size_t at, uint32_t v)
{
	b->p[at] = (char)(v >> 24);
	b->p[at + 1] = (char)(v >> 16);
	b->p[at + 2] = (char)(v >> 8);
	b->p[at + 3] = (char)v;
}

static void pad(ax_buf_t *b, size_t align)
{
	while (b->len % align)
		ax_buf_putc(b, 0);
}

/* Start a "len <4b> ... CRC" section; returns the offset of len. */
static size_t section_begin(ax_buf_t *b)
{
	size_t at = b->len;

	ax_buf_put_be32(b, 0);
	return at;
}

static void section_end(ax_buf_t *b, size_t at)
{
	size_t len = b->len - at - 4;

	put_be32_at(b, at, (uint32_t)len);
	ax_buf_put_be32(b, ax_crc32c(0, b->p + at + 4, len));
}

/* ---- ULID ---- */

void tsdb_ulid_new(char out[27])
{
	static const char *enc = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint8_t b[16];
	uint64_t ms = (uint64_t)ax_now_ms();
	int i, bit;

	b[0] = (uint8_t)(ms >> 40);
	b[1] = (uint8_t)(ms >> 32);
	b[2] = (uint8_t)(ms >> 24);
	b[3] = (uint8_t)(ms >> 16);
	b[4] = (uint8_t)(ms >> 8);
	b[5] = (uint8_t)ms;
	if (getrandom(b + 6, 10, 0) != 10) {
		uint64_t x =
		    (uint64_t)ax_mono_ms() * 6364136223846793005ULL + 1;

		for (i = 6; i < 16; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (uint8_t)(x >> 56);
		}
	}
	/* 128 bits as 26 base32 digits, the first holding the top 3 bits */
	for (i = 0; i < 26; i++) {
		int v = 0, k;

		for (k = 0; k < 5; k++) {
			bit = i * 5 + k - 2; /* two leading zero bits */
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = enc[v];
	}
	out[26] = '\0';
}

/* ---- files ---- */

static int write_file(const char *path, const void *p, size_t n, ax_err_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *b = p;

	if (fd < 0)
		return ax_err_set(err, errno == ENOSPC ? AX_EAGAIN : AX_EIO,
		    "create %s: %s", path, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			return ax_err_set(err, e == ENOSPC ? AX_EAGAIN : AX_EIO,
			    "write %s: %s", path, strerror(e));
		}
		b += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		int e = errno;

		close(fd);
		return ax_err_set(
		    err, AX_EIO, "fsync %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

/* ---- the writer ---- */

typedef struct sym {
	const char *s;
} sym_t;

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct pair_key {
	const char *name, *value;
	uint32_t *ids;
	size_t n, cap;
} pair_key_t;

static int pair_cmp(const void *a, const void *b)
{
	const pair_key_t *x = *(pair_key_t *const *)a;
	const pair_key_t *y = *(pair_key_t *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static int add_id(pair_key_t *p, uint32_t id)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 8;
		uint32_t *ni = realloc(p->ids, nc * sizeof(*ni));

		if (ni == NULL)
			return AX_ENOMEM;
		p->ids = ni;
		p->cap = nc;
	}
	p->ids[p->n++] = id;
	return 0;
}

static void put_postings(ax_buf_t *ix, const uint32_t *ids, size_t n)
{
	size_t at, i;

	pad(ix, 4);
	at = section_begin(ix);
	ax_buf_put_be32(ix, (uint32_t)n);
	for (i = 0; i < n; i++)
		ax_buf_put_be32(ix, ids[i]);
	section_end(ix, at);
}

int tsdb_block_write(const char *parent_dir, int64_t mint, int64_t maxt,
    const tsdb_block_series_t *series, size_t n, char ulid[27],
    tsdb_block_stats_t *stats, ax_err_t *err)
{
	return tsdb_block_write_compacted(
	    parent_dir, mint, maxt, series, n, 1, NULL, 0, ulid, stats, err);
}

int tsdb_block_write_compacted(const char *parent_dir, int64_t mint,
    int64_t maxt, const tsdb_block_series_t *series, size_t n, int level,
    char (*sources)[27], size_t n_sources, char ulid[27],
    tsdb_block_stats_t *stats, ax_err_t *err)
{
	char tmp[4096], dst[4096], path[4200];
	ax_buf_t ch = AX_BUF_INIT, ix = AX_BUF_INIT, meta = AX_BUF_INIT;
	ax_hmap_t syms, pairs;
	const char **symv = NULL;
	pair_key_t **pv = NULL, all = {"", "", NULL, 0, 0};
	uint64_t **chunk_refs = NULL;
	size_t n_sym = 0, i, j, n_pairs = 0, seg = 0;
	uint64_t toc[6];
	int rv = 0;

	memset(stats, 0, sizeof(*stats));
	ax_hmap_init(&syms);
	ax_hmap_init(&pairs);
	tsdb_ulid_new(ulid);
	snprintf(dst, sizeof(dst), "%s/%s", parent_dir, ulid);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp-for-creation", parent_dir, ulid);
	if (mkdir(parent_dir, 0777) != 0 && errno != EEXIST)
		return ax_err_set(
		    err, AX_EIO, "create %s: %s", parent_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/chunks", tmp);
	if (mkdir(tmp, 0777) != 0 || mkdir(path, 0777) != 0) {
		rv = ax_err_set(err, errno == ENOSPC ? AX_EAGAIN : AX_EIO,
		    "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	chunk_refs = calloc(n ? n : 1, sizeof(*chunk_refs));
	if (chunk_refs == NULL)
		goto oom;

	/* 1. chunks */
	ax_buf_put_be32(&ch, CHUNKS_MAGIC);
	ax_buf_putc(&ch, 1);
	ax_buf_append(&ch, "\0\0\0", 3);
	for (i = 0; i < n; i++) {
		chunk_refs[i] =
		    calloc(series[i].n_chunks ? series[i].n_chunks : 1,
		        sizeof(uint64_t));
		if (chunk_refs[i] == NULL)
			goto oom;
		for (j = 0; j < series[i].n_chunks; j++) {
			const tsdb_chunk_t *c = &series[i].chunks[j];
			size_t start;
			uint8_t enc = TSDB_ENC_XOR;

			if (ch.len + c->len + 20 > SEGMENT_MAX && ch.len > 8) {
				snprintf(path, sizeof(path), "%s/chunks/%06zu",
				    tmp, seg + 1);
				if ((rv = write_file(
				         path, ch.p, ch.len, err)) != 0)
					goto out;
				seg++;
				ax_buf_reset(&ch);
				ax_buf_put_be32(&ch, CHUNKS_MAGIC);
				ax_buf_putc(&ch, 1);
				ax_buf_append(&ch, "\0\0\0", 3);
			}
			chunk_refs[i][j] = ((uint64_t)seg << 32) | ch.len;
			ax_buf_put_uvarint(&ch, c->len);
			start = ch.len;
			ax_buf_append(&ch, &enc, 1);
			ax_buf_append(&ch, c->b, c->len);
			ax_buf_put_be32(
			    &ch, ax_crc32c(0, ch.p + start, c->len + 1));
			stats->chunks++;
			stats->samples += tsdb_xor_num_samples(c->b, c->len);
		}
		stats->series++;
	}
	if (!ax_buf_ok(&ch))
		goto oom;
	snprintf(path, sizeof(path), "%s/chunks/%06zu", tmp, seg + 1);
	if ((rv = write_file(path, ch.p, ch.len, err)) != 0)
		goto out;
	ax_buf_fini(&ch);

	/* 2. symbols */
	for (i = 0; i < n; i++) {
		for (j = 0; j < series[i].ls->n; j++) {
			const char *s2[2] = {
			    series[i].ls->l[j].name, series[i].ls->l[j].value};
			int k;

			for (k = 0; k < 2; k++)
				if (ax_hmap_get(&syms, s2[k], strlen(s2[k])) ==
				        NULL &&
				    ax_hmap_put(&syms, s2[k], strlen(s2[k]),
				        (void *)1, NULL) != 0)
					goto oom;
		}
	}
	symv = malloc((syms.n ? syms.n : 1) * sizeof(*symv));
	if (symv == NULL)
		goto oom;
	{
		size_t pos = 0;
		ax_hmap_ent_t *e;

		while ((e = ax_hmap_next(&syms, &pos)) != NULL)
			symv[n_sym++] = e->key;
	}
	qsort(symv, n_sym, sizeof(*symv), str_cmp);
	for (i = 0; i < n_sym; i++) /* value: index + 1 */
		if (ax_hmap_put(&syms, symv[i], strlen(symv[i]),
		        (void *)(uintptr_t)(i + 1), NULL) != 0)
			goto oom;
	ax_buf_put_be32(&ix, INDEX_MAGIC);
	ax_buf_putc(&ix, 2);
	toc[0] = ix.len;
	{
		size_t at = section_begin(&ix);

		ax_buf_put_be32(&ix, (uint32_t)n_sym);
		for (i = 0; i < n_sym; i++)
			ax_buf_put_uvstr(&ix, symv[i]);
		section_end(&ix, at);
	}

	/* 3. series */
	pad(&ix, 16);
	toc[1] = ix.len;
	{
		ax_buf_t e = AX_BUF_INIT;

		for (i = 0; i < n; i++) {
			const ax_labels_t *ls = series[i].ls;
			uint32_t id;

			pad(&ix, 16);
			id = (uint32_t)(ix.len / 16);
			ax_buf_reset(&e);
			ax_buf_put_uvarint(&e, ls->n);
			for (j = 0; j < ls->n; j++) {
				const char *nm = ls->l[j].name,
				           *vl = ls->l[j].value;
				uintptr_t ni = (uintptr_t)ax_hmap_get(
				    &syms, nm, strlen(nm));
				uintptr_t vi = (uintptr_t)ax_hmap_get(
				    &syms, vl, strlen(vl));
				char key[8192];
				size_t kl = (size_t)snprintf(
				    key, sizeof(key), "%s%c%s", nm, 0, vl);
				pair_key_t *pk;

				ax_buf_put_uvarint(&e, ni - 1);
				ax_buf_put_uvarint(&e, vi - 1);
				if (kl >= sizeof(key)) {
					rv = ax_err_set(err, AX_ETOOBIG,
					    "label pair too long");
					ax_buf_fini(&e);
					goto out;
				}
				pk = ax_hmap_get(&pairs, key, kl);
				if (pk == NULL) {
					pk = calloc(1, sizeof(*pk));
					if (pk == NULL ||
					    ax_hmap_put(&pairs, key, kl, pk,
					        NULL) != 0) {
						free(pk);
						ax_buf_fini(&e);
						goto oom;
					}
					pk->name = nm;
					pk->value = vl;
				}
				if (add_id(pk, id) != 0) {
					ax_buf_fini(&e);
					goto oom;
				}
			}
			if (add_id(&all, id) != 0) {
				ax_buf_fini(&e);
				goto oom;
			}
			ax_buf_put_uvarint(&e, series[i].n_chunks);
			for (j = 0; j < series[i].n_chunks; j++) {
				const tsdb_chunk_t *c = &series[i].chunks[j];

				if (j == 0) {
					ax_buf_put_varint(&e, c->mint);
					ax_buf_put_uvarint(
					    &e, (uint64_t)(c->maxt - c->mint));
					ax_buf_put_uvarint(
					    &e, chunk_refs[i][0]);
				} else {
					ax_buf_put_uvarint(&e,
					    (uint64_t)(c->mint -
					        series[i].chunks[j - 1].maxt));
					ax_buf_put_uvarint(
					    &e, (uint64_t)(c->maxt - c->mint));
					ax_buf_put_varint(&e,
					    (int64_t)(chunk_refs[i][j] -
					        chunk_refs[i][j - 1]));
				}
			}
			if (!ax_buf_ok(&e)) {
				ax_buf_fini(&e);
				goto oom;
			}
			ax_buf_put_uvarint(&ix, e.len);
			ax_buf_append(&ix, e.p, e.len);
			ax_buf_put_be32(&ix, ax_crc32c(0, e.p, e.len));
		}
		ax_buf_fini(&e);
	}

	/* pairs sorted by name, value */
	pv = malloc((pairs.n ? pairs.n : 1) * sizeof(*pv));
	if (pv == NULL)
		goto oom;
	{
		size_t pos = 0;
		ax_hmap_ent_t *e;

		while ((e = ax_hmap_next(&pairs, &pos)) != NULL)
			pv[n_pairs++] = e->val;
	}
	qsort(pv, n_pairs, sizeof(*pv), pair_cmp);

	/* 4. label indices, one per name: offsets remembered for the table */
	pad(&ix, 4);
	toc[2] = ix.len;
	{
		ax_buf_t lot = AX_BUF_INIT;
		uint32_t n_names = 0;
		size_t lot_at;

		lot_at = section_begin(&lot);
		ax_buf_put_be32(&lot, 0); /* #entries, patched below */
		for (i = 0; i < n_pairs;) {
			size_t k = i, at;

			while (k < n_pairs &&
			    strcmp(pv[k]->name, pv[i]->name) == 0)
				k++;
			pad(&ix, 4);
			ax_buf_put_uvarint(&lot, 1);
			ax_buf_put_uvstr(&lot, pv[i]->name);
			ax_buf_put_uvarint(&lot, ix.len);
			n_names++;
			at = section_begin(&ix);
			ax_buf_put_be32(&ix, 1);
			ax_buf_put_be32(&ix, (uint32_t)(k - i));
			for (j = i; j < k; j++)
				ax_buf_put_be32(&ix,
				    (uint32_t)((uintptr_t)ax_hmap_get(&syms,
				                   pv[j]->value,
				                   strlen(pv[j]->value)) -
				        1));
			section_end(&ix, at);
			i = k;
		}
		put_be32_at(&lot, lot_at + 4, n_names);
		section_end(&lot, lot_at);

		/* 5. postings: all series first, then every pair */
		{
			ax_buf_t pot = AX_BUF_INIT;
			size_t pot_at;

			pad(&ix, 4);
			toc[4] = ix.len;
			pot_at = section_begin(&pot);
			ax_buf_put_be32(&pot, (uint32_t)(n_pairs + 1));
			pad(&ix, 4);
			ax_buf_put_uvarint(&pot, 2);
			ax_buf_put_uvstr(&pot, "");
			ax_buf_put_uvstr(&pot, "");
			ax_buf_put_uvarint(&pot, ix.len);
			put_postings(&ix, all.ids, all.n);
			for (i = 0; i < n_pairs; i++) {
				pad(&ix, 4);
				ax_buf_put_uvarint(&pot, 2);
				ax_buf_put_uvstr(&pot, pv[i]->name);
				ax_buf_put_uvstr(&pot, pv[i]->value);
				ax_buf_put_uvarint(&pot, ix.len);
				put_postings(&ix, pv[i]->ids, pv[i]->n);
			}
			section_end(&pot, pot_at);
			/* 6. the two offset tables and the TOC */
			pad(&ix, 4);
			toc[3] = ix.len;
			ax_buf_append(&ix, lot.p, lot.len);
			pad(&ix, 4);
			toc[5] = ix.len;
			ax_buf_append(&ix, pot.p, pot.len);
			ax_buf_fini(&pot);
		}
		ax_buf_fini(&lot);
	}
	{
		size_t at = ix.len;

		for (i = 0; i < 6; i++)
			ax_buf_put_be64(&ix, toc[i]);
		ax_buf_put_be32(&ix, ax_crc32c(0, ix.p + at, 48));
	}
	if (!ax_buf_ok(&ix))
		goto oom;
	snprintf(path, sizeof(path), "%s/index", tmp);
	if ((rv = write_file(path, ix.p, ix.len, err)) != 0)
		goto out;

	/* 7. tombstones (none) and meta.json */
	{
		uint8_t tb[9] = {0x01, 0x30, 0xBA, 0x30, 1, 0, 0, 0, 0};

		snprintf(path, sizeof(path), "%s/tombstones", tmp);
		if ((rv = write_file(path, tb, sizeof(tb), err)) != 0)
			goto out;
	}
	ax_buf_printf(&meta,
	    "{\n\t\"ulid\": \"%s\",\n\t\"minTime\": %lld,\n\t\"maxTime\": "
	    "%lld,\n"
	    "\t\"stats\": {\n\t\t\"numSamples\": %llu,\n\t\t\"numSeries\": "
	    "%llu,\n"
	    "\t\t\"numChunks\": %llu\n\t},\n\t\"compaction\": "
	    "{\n\t\t\"level\": %d,\n"
	    "\t\t\"sources\": [",
	    ulid, (long long)mint, (long long)maxt,
	    (unsigned long long)stats->samples,
	    (unsigned long long)stats->series,
	    (unsigned long long)stats->chunks, level);
	if (n_sources == 0) {
		ax_buf_printf(&meta, "\n\t\t\t\"%s\"", ulid);
	} else {
		for (i = 0; i < n_sources; i++)
			ax_buf_printf(&meta, "%s\n\t\t\t\"%s\"", i ? "," : "",
			    sources[i]);
	}
	ax_buf_puts(&meta, "\n\t\t]");
	if (n_sources > 0) {
		ax_buf_puts(&meta, ",\n\t\t\"parents\": [");
		for (i = 0; i < n_sources; i++)
			ax_buf_printf(&meta,
			    "%s\n\t\t\t{\n\t\t\t\t\"ulid\": \"%s\"\n\t\t\t}",
			    i ? "," : "", sources[i]);
		ax_buf_puts(&meta, "\n\t\t]");
	}
	ax_buf_puts(&meta, "\n\t},\n\t\"version\": 1\n}\n");
	if (!ax_buf_ok(&meta))
		goto oom;
	snprintf(path, sizeof(path), "%s/meta.json", tmp);
	if ((rv = write_file(path, meta.p, meta.len, err)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/chunks", tmp);
	tsdb_fs_sync_dir(path);
	tsdb_fs_sync_dir(tmp);
	if (rename(tmp, dst) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	tsdb_fs_sync_dir(parent_dir);
	goto out;
oom:
	rv = ax_err_set(err, AX_ENOMEM, "out of memory writing block");
out:
	if (rv != 0)
		tsdb_fs_rm_rf(tmp);
	ax_buf_fini(&ch);
	ax_buf_fini(&ix);
	ax_buf_fini(&meta);
	if (chunk_refs) {
		for (i = 0; i < n; i++)
			free(chunk_refs[i]);
		free(chunk_refs);
	}
	{
		size_t pos = 0;
		ax_hmap_ent_t *e;

		while ((e = ax_hmap_next(&pairs, &pos)) != NULL) {
			free(((pair_key_t *)e->val)->ids);
			free(e->val);
		}
	}
	free(all.ids);
	free(pv);
	free(symv);
	ax_hmap_fini(&syms);
	ax_hmap_fini(&pairs);
	return rv;
}

/* ---- from the head ---- */

typedef struct snap_series {
	ax_labels_t *ls;
	tsdb_chunk_t *chunks;
	size_t n;
} snap_series_t;

static int snap_cmp(const void *a, const void *b)
{
	return ax_labels_cmp(
	    ((const snap_series_t *)a)->ls, ((const snap_series_t *)b)->ls);
}

int tsdb_chunk_reencode(const uint8_t *b, size_t len, int64_t mint,
    int64_t maxt, const tsdb_ivs_t *del, tsdb_chunk_t *out)
{
	tsdb_xor_app_t a;
	tsdb_xor_it_t it;
	int r;

	if (tsdb_xor_init(&a) != 0)
		return AX_ENOMEM;
	tsdb_xor_it_init(&it, b, len);
	out->mint = INT64_MAX;
	out->maxt = INT64_MIN;
	while ((r = tsdb_xor_it_next(&it)) == 1) {
		int64_t t;
		double v;

		tsdb_xor_it_at(&it, &t, &v);
		if (t < mint || t >= maxt || (del && tsdb_ivs_deleted(del, t)))
			continue;
		if (tsdb_xor_append(&a, t, v) != 0) {
			tsdb_xor_fini(&a);
			return AX_ENOMEM;
		}
		if (t < out->mint)
			out->mint = t;
		out->maxt = t;
	}
	if (r < 0 || a.n == 0) {
		tsdb_xor_fini(&a);
		out->b = NULL;
		out->len = 0;
		return r < 0 ? r : 0;
	}
	out->b = a.b;
	out->len = a.len;
	return 0;
}

/* Copy chunk bytes, re-encoding when the chunk reaches outside the range. */
static int copy_chunk(const uint8_t *b, size_t len, int64_t cmint,
    int64_t cmaxt, int64_t mint, int64_t maxt, const tsdb_ivs_t *del,
    tsdb_chunk_t *out)
{
	if (cmint >= mint && cmaxt < maxt &&
	    (del == NULL || !tsdb_ivs_overlaps(del, cmint, cmaxt))) {
		out->b = malloc(len);
		if (out->b == NULL)
			return AX_ENOMEM;
		memcpy(out->b, b, len);
		out->len = len;
		out->mint = cmint;
		out->maxt = cmaxt;
		return 0;
	}
	return tsdb_chunk_reencode(b, len, mint, maxt, del, out);
}

int tsdb_block_write_head(tsdb_head_t *h, const char *parent_dir, int64_t mint,
    int64_t maxt, char ulid[27], tsdb_block_stats_t *stats, ax_err_t *err)
{
	tsdb_plist_t refs = {0};
	snap_series_t *ss = NULL;
	tsdb_block_series_t *bs = NULL;
	size_t i, k = 0, j;
	int rv;
	ax_matcher_t *all;

	if ((rv = ax_matcher_new(
	         AX_MATCH_REGEX, "__name__", ".+", &all, err)) != 0)
		return rv;
	rv = tsdb_head_select(h, &all, 1, mint, maxt - 1, &refs, err);
	ax_matcher_free(all);
	if (rv != 0)
		return rv;
	ss = calloc(refs.n ? refs.n : 1, sizeof(*ss));
	if (ss == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < refs.n; i++) {
		tsdb_series_t *s = tsdb_head_series(h, refs.v[i]);
		snap_series_t *o = &ss[k];

		pthread_mutex_lock(&s->mu);
		o->ls = ax_labels_dup(s->ls);
		o->chunks = calloc(s->n_chunks + 1, sizeof(*o->chunks));
		if (o->ls == NULL || o->chunks == NULL) {
			pthread_mutex_unlock(&s->mu);
			ax_labels_free(o->ls);
			free(o->chunks);
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			goto out;
		}
		for (j = 0; j <= s->n_chunks && rv == 0; j++) {
			const uint8_t *b;
			size_t len;
			int64_t cmint, cmaxt;

			if (j < s->n_chunks) {
				b = s->chunks[j].b;
				len = s->chunks[j].len;
				cmint = s->chunks[j].mint;
				cmaxt = s->chunks[j].maxt;
			} else if (s->app.n > 0) {
				b = s->app.b;
				len = s->app.len;
				cmint = s->app_mint;
				cmaxt = s->app_maxt;
			} else {
				break;
			}
			if (cmaxt < mint || cmint >= maxt)
				continue;
			rv = copy_chunk(b, len, cmint, cmaxt, mint, maxt,
			    &s->del, &o->chunks[o->n]);
			if (rv == 0 && o->chunks[o->n].len > 0)
				o->n++;
		}
		pthread_mutex_unlock(&s->mu);
		k++;
		if (rv != 0) {
			rv = ax_err_set(
			    err, rv, "copying chunks for a block failed");
			goto out;
		}
	}
	qsort(ss, k, sizeof(*ss), snap_cmp);
	bs = calloc(k ? k : 1, sizeof(*bs));
	if (bs == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0, j = 0; i < k; i++) {
		if (ss[i].n == 0)
			continue;
		bs[j].ls = ss[i].ls;
		bs[j].chunks = ss[i].chunks;
		bs[j].n_chunks = ss[i].n;
		j++;
	}
	rv = tsdb_block_write(parent_dir, mint, maxt, bs, j, ulid, stats, err);
out:
	for (i = 0; ss && i < k; i++) {
		for (j = 0; j < ss[i].n; j++)
			free(ss[i].chunks[j].b);
		free(ss[i].chunks);
		ax_labels_free(ss[i].ls);
	}
	free(ss);
	free(bs);
	tsdb_plist_fini(&refs);
	return rv;
}
