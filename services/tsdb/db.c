/*
 * db: head + blocks read paths and block management (see db.h).
 */
#include "tsdb/fsutil.h"
#include "tsdb/db.h"
#include "ax_hmap.h"
#include "ax_log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tsdb_db {
	char *dir;
	tsdb_head_t *head;
	pthread_rwlock_t mu;
	tsdb_block_t **blocks;
	size_t n, cap;
};

static int block_cmp(const void *a, const void *b)
{
	int64_t x = tsdb_block_mint(*(tsdb_block_t *const *)a);
	int64_t y = tsdb_block_mint(*(tsdb_block_t *const *)b);

	return x < y ? -1 : x > y;
}

/* Under the write lock. */
static int insert_block(tsdb_db_t *db, tsdb_block_t *b)
{
	if (db->n == db->cap) {
		size_t nc = db->cap ? db->cap * 2 : 16;
		tsdb_block_t **nb = realloc(db->blocks, nc * sizeof(*nb));

		if (nb == NULL)
			return AX_ENOMEM;
		db->blocks = nb;
		db->cap = nc;
	}
	db->blocks[db->n++] = b;
	qsort(db->blocks, db->n, sizeof(*db->blocks), block_cmp);
	return 0;
}

int tsdb_db_open(
    const char *dir, tsdb_head_t *head, tsdb_db_t **out, ax_err_t *err)
{
	tsdb_db_t *db = calloc(1, sizeof(*db));
	DIR *d;
	struct dirent *e;

	if (db == NULL || (db->dir = strdup(dir)) == NULL) {
		free(db);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	db->head = head;
	pthread_rwlock_init(&db->mu, NULL);
	d = opendir(dir);
	if (d == NULL) {
		tsdb_db_close(db);
		return ax_err_set(
		    err, AX_EIO, "open %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		char p[4200], meta[4300];
		struct stat st;
		tsdb_block_t *b;
		ax_err_t be;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "wal") == 0 ||
		    strcmp(e->d_name, "snapshots") == 0 ||
		    strcmp(e->d_name, "chunks_head") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (strstr(e->d_name, ".tmp-for-creation") ||
		    strstr(e->d_name, ".tmp-for-deletion")) {
			ax_log_info(
			    "removing an interrupted block write", "dir", p);
			tsdb_fs_rm_rf(p);
			continue;
		}
		snprintf(meta, sizeof(meta), "%s/meta.json", p);
		if (stat(meta, &st) != 0)
			continue;
		if (tsdb_block_open(p, &b, &be) != 0) {
			ax_log_error("cannot open block; it is skipped", "dir",
			    p, "err", be.msg);
			continue;
		}
		if (insert_block(db, b) != 0) {
			tsdb_block_close(b);
			closedir(d);
			tsdb_db_close(db);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	closedir(d);
	*out = db;
	return 0;
}

void tsdb_db_close(tsdb_db_t *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->n; i++)
		tsdb_block_close(db->blocks[i]);
	free(db->blocks);
	pthread_rwlock_destroy(&db->mu);
	free(db->dir);
	free(db);
}

int tsdb_db_add_block(tsdb_db_t *db, const char *ulid, ax_err_t *err)
{
	char p[4200];
	tsdb_block_t *b;
	int rv;

	snprintf(p, sizeof(p), "%s/%s", db->dir, ulid);
	if ((rv = tsdb_block_open(p, &b, err)) != 0)
		return rv;
	pthread_rwlock_wrlock(&db->mu);
	rv = insert_block(db, b);
	pthread_rwlock_unlock(&db->mu);
	if (rv != 0) {
		tsdb_block_close(b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	return 0;
}

/* Delete block i (write lock held). */
static void delete_block(tsdb_db_t *db, size_t i)
{
	tsdb_block_t *b = db->blocks[i];
	char p[4200], tmp[4300];

	snprintf(p, sizeof(p), "%s", tsdb_block_dir(b));
	ax_log_info("deleting block", "ulid", tsdb_block_ulid(b));
	tsdb_block_close(b);
	memmove(db->blocks + i, db->blocks + i + 1,
	    (db->n - i - 1) * sizeof(*db->blocks));
	db->n--;
	/* rename first so a crash never leaves a half-deleted block visible */
	snprintf(tmp, sizeof(tmp), "%s.tmp-for-deletion", p);
	if (rename(p, tmp) == 0)
		tsdb_fs_rm_rf(tmp);
	else
		tsdb_fs_rm_rf(p);
}

size_t tsdb_db_drop_blocks_before(tsdb_db_t *db, int64_t mint)
{
	size_t i = 0, n = 0;

	pthread_rwlock_wrlock(&db->mu);
	while (i < db->n) {
		if (tsdb_block_maxt(db->blocks[i]) <= mint) {
			delete_block(db, i);
			n++;
		} else {
			i++;
		}
	}
	pthread_rwlock_unlock(&db->mu);
	return n;
}

size_t tsdb_db_drop_blocks_over_size(
    tsdb_db_t *db, uint64_t max_bytes, uint64_t head_bytes)
{
	size_t i, n, drop = 0;
	uint64_t total = head_bytes;

	pthread_rwlock_wrlock(&db->mu);
	for (i = db->n; i > 0; i--) {
		total += tsdb_block_size_bytes(db->blocks[i - 1]);
		if (total > max_bytes) {
			drop = i; /* blocks [0, i) */
			break;
		}
	}
	for (n = 0; n < drop; n++)
		delete_block(db, 0);
	pthread_rwlock_unlock(&db->mu);
	return drop;
}

int tsdb_db_blocks(tsdb_db_t *db, tsdb_block_t ***out, size_t *n)
{
	tsdb_block_t **v = malloc((db->n ? db->n : 1) * sizeof(*v));

	if (v == NULL)
		return AX_ENOMEM;
	memcpy(v, db->blocks, db->n * sizeof(*v));
	*out = v;
	*n = db->n;
	return 0;
}

const char *tsdb_db_dir(tsdb_db_t *db)
{
	return db->dir;
}

int tsdb_db_replace_blocks(tsdb_db_t *db, char (*old)[27], size_t n_old,
    const char *ulid, ax_err_t *err)
{
	char p[4200];
	tsdb_block_t *nb;
	size_t i, k;
	int rv;

	snprintf(p, sizeof(p), "%s/%s", db->dir, ulid);
	if ((rv = tsdb_block_open(p, &nb, err)) != 0)
		return rv;
	pthread_rwlock_wrlock(&db->mu);
	if (insert_block(db, nb) != 0) {
		pthread_rwlock_unlock(&db->mu);
		tsdb_block_close(nb);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (k = 0; k < n_old; k++)
		for (i = 0; i < db->n; i++)
			if (strcmp(tsdb_block_ulid(db->blocks[i]), old[k]) ==
			    0) {
				delete_block(db, i);
				break;
			}
	pthread_rwlock_unlock(&db->mu);
	return 0;
}

void tsdb_db_rlock(tsdb_db_t *db)
{
	pthread_rwlock_rdlock(&db->mu);
}

void tsdb_db_runlock(tsdb_db_t *db)
{
	pthread_rwlock_unlock(&db->mu);
}

size_t tsdb_db_truncate_head(tsdb_db_t *db, int64_t mint)
{
	size_t n;

	pthread_rwlock_wrlock(&db->mu);
	n = tsdb_head_truncate(db->head, mint);
	pthread_rwlock_unlock(&db->mu);
	return n;
}

int64_t tsdb_db_blocks_maxt(tsdb_db_t *db)
{
	int64_t m = INT64_MIN;
	size_t i;

	pthread_rwlock_rdlock(&db->mu);
	for (i = 0; i < db->n; i++)
		if (tsdb_block_maxt(db->blocks[i]) > m)
			m = tsdb_block_maxt(db->blocks[i]);
	pthread_rwlock_unlock(&db->mu);
	return m;
}

void tsdb_db_stats(tsdb_db_t *db, tsdb_db_stats_t *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->mint = INT64_MAX;
	st->maxt = INT64_MIN;
	pthread_rwlock_rdlock(&db->mu);
	st->n_blocks = db->n;
	for (i = 0; i < db->n; i++) {
		tsdb_block_t *b = db->blocks[i];

		st->block_bytes += tsdb_block_size_bytes(b);
		st->block_samples += tsdb_block_num_samples(b);
		if (tsdb_block_mint(b) < st->mint)
			st->mint = tsdb_block_mint(b);
		if (tsdb_block_maxt(b) > st->maxt)
			st->maxt = tsdb_block_maxt(b);
	}
	pthread_rwlock_unlock(&db->mu);
}

/* ---- merged reads ---- */

typedef struct collect {
	ax_hmap_t seen; /* serialized labels -> ax_labels_t* */
	ax_buf_t key;
} collect_t;

/* ls as a map key in b ("name\xffvalue\xff" per label).  0 or AX_ENOMEM. */
static int labels_key(ax_buf_t *b, const ax_labels_t *ls)
{
	uint32_t i;

	ax_buf_reset(b);
	for (i = 0; i < ls->n; i++) {
		ax_buf_puts(b, ls->l[i].name);
		ax_buf_putc(b, '\xff');
		ax_buf_puts(b, ls->l[i].value);
		ax_buf_putc(b, '\xff');
	}
	return ax_buf_ok(b) ? 0 : AX_ENOMEM;
}

static int add_series(
    collect_t *c, const ax_labels_t *ls, int take, ax_labels_t *owned)
{
	ax_labels_t *copy;

	if (labels_key(&c->key, ls) != 0)
		return AX_ENOMEM;
	if (ax_hmap_get(&c->seen, c->key.p, c->key.len)) {
		if (take)
			ax_labels_free(owned);
		return 0;
	}
	copy = take ? owned : ax_labels_dup(ls);
	if (copy == NULL)
		return AX_ENOMEM;
	if (ax_hmap_put(&c->seen, c->key.p, c->key.len, copy, NULL) != 0) {
		ax_labels_free(copy);
		return AX_ENOMEM;
	}
	return 0;
}

static int block_overlaps(tsdb_block_t *b, int64_t mint, int64_t maxt)
{
	return tsdb_block_mint(b) <= maxt && tsdb_block_maxt(b) > mint;
}

/* Series of block b matching ms with a chunk in [mint, maxt]. */
static int block_series(tsdb_block_t *b, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, collect_t *c, ax_err_t *err)
{
	tsdb_plist_t ids = {0};
	size_t i;
	int rv;

	if ((rv = tsdb_block_select(b, ms, n, &ids, err)) != 0)
		return rv;
	for (i = 0; i < ids.n && rv == 0; i++) {
		ax_labels_t *ls;
		tsdb_chunk_meta_t *m;
		size_t nm, k;
		int hit = 0;

		if ((rv = tsdb_block_series(b, ids.v[i], &ls, &m, &nm, err)) !=
		    0)
			break;
		for (k = 0; k < nm && !hit; k++)
			hit = m[k].mint <= maxt && m[k].maxt >= mint &&
			    !tsdb_ivs_covers(
			        tsdb_tombs_get(
			            tsdb_block_tombstones(b), ids.v[i]),
			        m[k].mint, m[k].maxt);
		free(m);
		if (hit)
			rv = add_series(c, ls, 1, ls) != 0
			    ? ax_err_set(err, AX_ENOMEM, "out of memory")
			    : 0;
		else
			ax_labels_free(ls);
	}
	tsdb_plist_fini(&ids);
	return rv;
}

static int labels_cmp(const void *a, const void *b)
{
	return ax_labels_cmp(
	    *(ax_labels_t *const *)a, *(ax_labels_t *const *)b);
}

static int collect_all(tsdb_db_t *db, ax_selector_t *const *sel, size_t n_sel,
    int64_t mint, int64_t maxt, collect_t *c, ax_err_t *err)
{
	size_t s, i;
	int rv = 0;

	for (s = 0; s < n_sel && rv == 0; s++) {
		tsdb_plist_t refs = {0};

		for (i = 0; i < db->n && rv == 0; i++)
			if (block_overlaps(db->blocks[i], mint, maxt))
				rv = block_series(db->blocks[i],
				    sel[s]->matchers, sel[s]->n_matchers, mint,
				    maxt, c, err);
		if (rv != 0)
			break;
		rv = tsdb_head_select(db->head, sel[s]->matchers,
		    sel[s]->n_matchers, mint, maxt, &refs, err);
		for (i = 0; rv == 0 && i < refs.n; i++)
			if (add_series(c,
			        tsdb_head_series(db->head, refs.v[i])->ls, 0,
			        NULL) != 0)
				rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
		tsdb_plist_fini(&refs);
	}
	return rv;
}

static void collect_fini(collect_t *c)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	while ((e = ax_hmap_next(&c->seen, &pos)) != NULL)
		ax_labels_free(e->val);
	ax_hmap_fini(&c->seen);
	ax_buf_fini(&c->key);
}

int tsdb_db_series(tsdb_db_t *db, ax_selector_t *const *sel, size_t n_sel,
    int64_t mint, int64_t maxt, ax_labels_t ***out, size_t *n, ax_err_t *err)
{
	collect_t c;
	ax_labels_t **v;
	size_t pos = 0, k = 0;
	ax_hmap_ent_t *e;
	int rv;

	memset(&c, 0, sizeof(c));
	ax_hmap_init(&c.seen);
	pthread_rwlock_rdlock(&db->mu);
	rv = collect_all(db, sel, n_sel, mint, maxt, &c, err);
	pthread_rwlock_unlock(&db->mu);
	if (rv != 0) {
		collect_fini(&c);
		return rv;
	}
	v = malloc((c.seen.n ? c.seen.n : 1) * sizeof(*v));
	if (v == NULL) {
		collect_fini(&c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	while ((e = ax_hmap_next(&c.seen, &pos)) != NULL) {
		v[k++] = e->val;
		e->val = NULL;
	}
	ax_hmap_fini(&c.seen);
	ax_buf_fini(&c.key);
	qsort(v, k, sizeof(*v), labels_cmp);
	*out = v;
	*n = k;
	return 0;
}

void tsdb_db_free_series(ax_labels_t **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		ax_labels_free(v[i]);
	free(v);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int put_str(ax_hmap_t *m, const char *s)
{
	if (ax_hmap_get(m, s, strlen(s)))
		return 0;
	return ax_hmap_put(m, s, strlen(s), (void *)1, NULL);
}

int tsdb_db_labels(tsdb_db_t *db, const char *name, ax_selector_t *const *sel,
    size_t n_sel, int64_t mint, int64_t maxt, char ***out, size_t *n,
    ax_err_t *err)
{
	ax_hmap_t set;
	char **v = NULL;
	size_t i, k = 0, pos = 0;
	ax_hmap_ent_t *e;
	int rv = 0;

	ax_hmap_init(&set);
	if (n_sel > 0) {
		ax_labels_t **ls;
		size_t nls;

		if ((rv = tsdb_db_series(
		         db, sel, n_sel, mint, maxt, &ls, &nls, err)) != 0)
			return rv;
		for (i = 0; i < nls && rv == 0; i++) {
			uint32_t j;

			for (j = 0; j < ls[i]->n && rv == 0; j++) {
				if (name == NULL)
					rv = put_str(&set, ls[i]->l[j].name);
				else if (strcmp(ls[i]->l[j].name, name) == 0)
					rv = put_str(&set, ls[i]->l[j].value);
			}
		}
		tsdb_db_free_series(ls, nls);
	} else {
		char **hv;
		size_t hn;

		rv = name
		    ? tsdb_head_label_values(
		          db->head, name, NULL, 0, &hv, &hn, err)
		    : tsdb_head_label_names(db->head, NULL, 0, &hv, &hn, err);
		if (rv != 0)
			return rv;
		for (i = 0; i < hn && rv == 0; i++)
			rv = put_str(&set, hv[i]);
		tsdb_strv_free(hv, hn);
		pthread_rwlock_rdlock(&db->mu);
		for (i = 0; i < db->n && rv == 0; i++) {
			const char **bv = NULL;
			size_t bn = 0, j;

			if (!block_overlaps(db->blocks[i], mint, maxt))
				continue;
			rv = name
			    ? tsdb_block_label_values(
			          db->blocks[i], name, &bv, &bn)
			    : tsdb_block_label_names(db->blocks[i], &bv, &bn);
			for (j = 0; rv == 0 && j < bn; j++)
				rv = put_str(&set, bv[j]);
			free(bv);
		}
		pthread_rwlock_unlock(&db->mu);
	}
	if (rv == 0) {
		v = calloc(set.n ? set.n : 1, sizeof(*v));
		if (v == NULL)
			rv = AX_ENOMEM;
	}
	while (rv == 0 && (e = ax_hmap_next(&set, &pos)) != NULL) {
		if ((v[k] = strdup(e->key)) == NULL)
			rv = AX_ENOMEM;
		else
			k++;
	}
	ax_hmap_fini(&set);
	if (rv != 0) {
		tsdb_strv_free(v, k);
		return ax_err_set(err, rv, "out of memory collecting labels");
	}
	qsort(v, k, sizeof(*v), strp_cmp);
	*out = v;
	*n = k;
	return 0;
}

int tsdb_db_delete(tsdb_db_t *db, ax_selector_t *const *sel, size_t n_sel,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err)
{
	size_t s, i, n;
	int rv = 0;

	*n_series = 0;
	pthread_rwlock_wrlock(&db->mu);
	for (s = 0; s < n_sel && rv == 0; s++) {
		rv = tsdb_head_delete(db->head, sel[s]->matchers,
		    sel[s]->n_matchers, mint, maxt, &n, err);
		*n_series += n;
		for (i = 0; rv == 0 && i < db->n; i++) {
			rv = tsdb_block_delete(db->blocks[i], sel[s]->matchers,
			    sel[s]->n_matchers, mint, maxt, &n, err);
			*n_series += n;
		}
	}
	pthread_rwlock_unlock(&db->mu);
	return rv;
}

/* ---- select with sample iterators ---- */

typedef struct set_series {
	ax_labels_t *ls;
	int borrowed; /* ls is the head series' own (the read lock keeps it) */
	tsdb_chunk_ref_t *chunks;
	size_t n, cap;
} set_series_t;

struct tsdb_series_set {
	tsdb_db_t *db;
	set_series_t *s;
	size_t n, cap;
	ax_hmap_t by_labels; /* serialized labels -> index + 1, kept only
	                        once a second source (block or head)
	                        contributes: one source has no duplicates */
	size_t n_mapped;     /* s[0..n_mapped) are in by_labels */
	uint8_t **owned;     /* copies of open head chunks */
	size_t n_owned;
	ax_buf_t key;
};

static int set_add_chunk(set_series_t *ss, const uint8_t *b, size_t len,
    int64_t mint, int64_t maxt, const tsdb_ivs_t *del)
{
	if (ss->n == ss->cap) {
		size_t nc = ss->cap ? ss->cap * 2 : 4;
		tsdb_chunk_ref_t *np = realloc(ss->chunks, nc * sizeof(*np));

		if (np == NULL)
			return AX_ENOMEM;
		ss->chunks = np;
		ss->cap = nc;
	}
	ss->chunks[ss->n].b = b;
	ss->chunks[ss->n].len = len;
	ss->chunks[ss->n].mint = mint;
	ss->chunks[ss->n].maxt = maxt;
	ss->chunks[ss->n].del = del;
	ss->n++;
	return 0;
}

/* Put s[i] in by_labels (its key in set->key).  0 or AX_ENOMEM. */
static int set_map(tsdb_series_set_t *set, size_t i)
{
	if (labels_key(&set->key, set->s[i].ls) != 0 ||
	    ax_hmap_put(&set->by_labels, set->key.p, set->key.len,
	        (void *)(uintptr_t)(i + 1), NULL) != 0)
		return AX_ENOMEM;
	return 0;
}

/* The series entry for ls (created empty); NULL on OOM.  Takes ls unless
 * borrowed.  dedupe: an earlier source may hold the same series. */
static set_series_t *set_series(
    tsdb_series_set_t *set, ax_labels_t *ls, int borrowed, int dedupe)
{
	uintptr_t idx;

	if (dedupe) {
		for (; set->n_mapped < set->n; set->n_mapped++)
			if (set_map(set, set->n_mapped) != 0)
				goto oom;
		if (labels_key(&set->key, ls) != 0)
			goto oom;
		idx = (uintptr_t)ax_hmap_get(
		    &set->by_labels, set->key.p, set->key.len);
		if (idx) {
			if (!borrowed)
				ax_labels_free(ls);
			return &set->s[idx - 1];
		}
	}
	if (set->n == set->cap) {
		size_t nc = set->cap ? set->cap * 2 : 64;
		set_series_t *np = realloc(set->s, nc * sizeof(*np));

		if (np == NULL)
			goto oom;
		set->s = np;
		set->cap = nc;
	}
	if (dedupe) {
		if (ax_hmap_put(&set->by_labels, set->key.p, set->key.len,
		        (void *)(uintptr_t)(set->n + 1), NULL) != 0)
			goto oom;
		set->n_mapped = set->n + 1;
	}
	memset(&set->s[set->n], 0, sizeof(set->s[0]));
	set->s[set->n].ls = ls;
	set->s[set->n].borrowed = borrowed;
	return &set->s[set->n++];
oom:
	if (!borrowed)
		ax_labels_free(ls);
	return NULL;
}

static int chunk_ref_cmp(const void *a, const void *b)
{
	const tsdb_chunk_ref_t *x = a, *y = b;

	return x->mint < y->mint ? -1 : x->mint > y->mint;
}

int tsdb_db_select(tsdb_db_t *db, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, tsdb_series_set_t **out, ax_err_t *err)
{
	tsdb_series_set_t *set = calloc(1, sizeof(*set));
	tsdb_plist_t refs = {0};
	size_t b, i, k;
	int dedupe = 0;
	int rv = 0;

	if (set == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	set->db = db;
	ax_hmap_init(&set->by_labels);
	pthread_rwlock_rdlock(&db->mu);
	for (b = 0; b < db->n && rv == 0; b++) {
		tsdb_block_t *blk = db->blocks[b];

		if (!block_overlaps(blk, mint, maxt))
			continue;
		if ((rv = tsdb_block_select(blk, ms, n, &refs, err)) != 0)
			break;
		dedupe = set->n > 0;
		for (i = 0; i < refs.n && rv == 0; i++) {
			ax_labels_t *ls;
			tsdb_chunk_meta_t *m;
			size_t nm;
			set_series_t *ss = NULL;
			const tsdb_ivs_t *del = tsdb_tombs_get(
			    tsdb_block_tombstones(blk), refs.v[i]);

			if ((rv = tsdb_block_series(
			         blk, refs.v[i], &ls, &m, &nm, err)) != 0)
				break;
			for (k = 0; k < nm && rv == 0; k++) {
				const uint8_t *d;
				size_t dl;

				if (m[k].maxt < mint || m[k].mint > maxt ||
				    tsdb_ivs_covers(del, m[k].mint, m[k].maxt))
					continue;
				if ((rv = tsdb_block_chunk(
				         blk, m[k].ref, &d, &dl, err)) != 0)
					break;
				if (ss == NULL &&
				    (ss = set_series(set, ls, 0, dedupe)) ==
				        NULL) {
					ls = NULL;
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
					break;
				}
				ls = NULL; /* the set owns it now */
				if (set_add_chunk(ss, d, dl, m[k].mint,
				        m[k].maxt, del) != 0)
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
			}
			ax_labels_free(ls);
			free(m);
		}
	}
	if (rv == 0)
		rv = tsdb_head_select(db->head, ms, n, mint, maxt, &refs, err);
	dedupe = set->n > 0;
	for (i = 0; rv == 0 && i < refs.n; i++) {
		tsdb_series_t *s = tsdb_head_series(db->head, refs.v[i]);
		set_series_t *ss;

		/* the head series' labels live while the set holds the read
		 * lock (series are freed only under the write lock) */
		if (s == NULL ||
		    (ss = set_series(set, s->ls, 1, dedupe)) == NULL) {
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			break;
		}
		pthread_mutex_lock(&s->mu);
		for (k = 0; k <= s->n_chunks && rv == 0; k++) {
			if (k < s->n_chunks) {
				tsdb_chunk_t *c = &s->chunks[k];

				if (c->maxt < mint || c->mint > maxt)
					continue;
				/* completed head chunks are immutable until a
				 * head truncation, which waits for our read
				 * lock */
				if (set_add_chunk(ss, c->b, c->len, c->mint,
				        c->maxt, &s->del) != 0)
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
			} else if (s->app.n > 0 && s->app_maxt >= mint &&
			    s->app_mint <= maxt) {
				/* the open chunk grows: copy it */
				uint8_t *copy = malloc(s->app.len), **no;

				no = realloc(set->owned,
				    (set->n_owned + 1) * sizeof(*no));
				if (copy == NULL || no == NULL) {
					free(copy);
					if (no)
						set->owned = no;
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
					break;
				}
				set->owned = no;
				memcpy(copy, s->app.b, s->app.len);
				no[set->n_owned++] = copy;
				if (set_add_chunk(ss, copy, s->app.len,
				        s->app_mint, s->app_maxt, &s->del) != 0)
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
			}
		}
		pthread_mutex_unlock(&s->mu);
	}
	tsdb_plist_fini(&refs);
	if (rv != 0) {
		tsdb_series_set_free(set);
		return rv;
	}
	for (i = 0; i < set->n; i++)
		if (set->s[i].n > 1)
			qsort(set->s[i].chunks, set->s[i].n,
			    sizeof(tsdb_chunk_ref_t), chunk_ref_cmp);
	*out = set;
	return 0;
}

size_t tsdb_series_set_len(const tsdb_series_set_t *s)
{
	return s->n;
}

const ax_labels_t *tsdb_series_set_labels(const tsdb_series_set_t *s, size_t i)
{
	return s->s[i].ls;
}

void tsdb_series_set_iter(
    const tsdb_series_set_t *s, size_t i, tsdb_sample_it_t *it)
{
	memset(it, 0, sizeof(*it));
	it->chunks = s->s[i].chunks;
	it->n = s->s[i].n;
	it->mint = INT64_MIN;
	it->maxt = INT64_MAX;
	it->last_t = INT64_MIN;
}

void tsdb_series_set_free(tsdb_series_set_t *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		if (!s->s[i].borrowed)
			ax_labels_free(s->s[i].ls);
		free(s->s[i].chunks);
	}
	free(s->s);
	for (i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	ax_hmap_fini(&s->by_labels);
	ax_buf_fini(&s->key);
	pthread_rwlock_unlock(&s->db->mu);
	free(s);
}

int tsdb_sample_it_next(tsdb_sample_it_t *it)
{
	for (;;) {
		int r;

		if (!it->in_chunk) {
			if (it->i >= it->n)
				return 0;
			tsdb_xor_it_init(&it->it, it->chunks[it->i].b,
			    it->chunks[it->i].len);
			it->in_chunk = 1;
		}
		r = tsdb_xor_it_next(&it->it);
		if (r < 0)
			return r;
		if (r == 0) {
			it->in_chunk = 0;
			it->i++;
			continue;
		}
		tsdb_xor_it_at(&it->it, &it->t, &it->v);
		if (it->t <= it->last_t)
			continue; /* overlapping sources: first one wins */
		if (it->chunks[it->i].del && it->chunks[it->i].del->n > 0 &&
		    tsdb_ivs_deleted(it->chunks[it->i].del, it->t))
			continue;
		it->last_t = it->t;
		return 1;
	}
}

int tsdb_sample_it_seek(tsdb_sample_it_t *it, int64_t ts)
{
	int r;

	if (it->last_t != INT64_MIN && it->t >= ts)
		return 1;
	for (;;) {
		/* skip whole chunks that end before ts, the current one too */
		if (it->in_chunk && it->chunks[it->i].maxt < ts) {
			it->in_chunk = 0;
			it->i++;
		}
		while (!it->in_chunk && it->i < it->n &&
		    it->chunks[it->i].maxt < ts)
			it->i++;
		if ((r = tsdb_sample_it_next(it)) != 1)
			return r;
		if (it->t >= ts)
			return 1;
	}
}
