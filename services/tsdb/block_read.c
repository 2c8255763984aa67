/*
 * block_read: mmapped Prometheus block reader (see block_read.h).
 */
#include "tsdb/block_read.h"
#include "ax_crc32c.h"
#include "ax_hmap.h"
#include "tsdb/chunk_xor.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bname {
	char **values;  /* sorted */
	uint64_t *offs; /* postings offsets */
	size_t n, cap;
} bname_t;

struct tsdb_block {
	char *dir;
	char ulid[27];
	int64_t mint, maxt;
	uint64_t samples, series, chunks;
	int level;
	uint64_t size;
	const uint8_t *ix;
	size_t ix_len;
	const uint8_t **seg;
	size_t *seg_len;
	size_t n_seg;
	char **sym;
	size_t n_sym;
	ax_hmap_t names; /* name -> bname_t* */
	uint64_t all_off;
	int has_all;
	tsdb_tombs_t tombs;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

typedef struct rd {
	const uint8_t *p, *end;
	int bad;
} rd_t;

static uint64_t uv(rd_t *r)
{
	uint64_t v = 0;
	int s = 0;

	while (r->p < r->end && s < 64) {
		uint8_t c = *r->p++;

		v |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return v;
		s += 7;
	}
	r->bad = 1;
	return 0;
}

static int64_t sv(rd_t *r)
{
	uint64_t u = uv(r);
	int64_t v = (int64_t)(u >> 1);

	return (u & 1) ? ~v : v;
}

static char *uvstr(rd_t *r)
{
	uint64_t n = uv(r);
	char *s;

	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return NULL;
	}
	s = malloc(n + 1);
	if (s == NULL) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

static const uint8_t *map_file(const char *path, size_t *len, ax_err_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *m;

	if (fd < 0) {
		ax_err_set(err, AX_EIO, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		ax_err_set(err, AX_EPROTO, "%s: empty or unreadable", path);
		return NULL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		ax_err_set(err, AX_EIO, "mmap %s: %s", path, strerror(errno));
		return NULL;
	}
	*len = (size_t)st.st_size;
	return m;
}

/* A "len <4b> content CRC <4b>" section at off: content bounds. */
static int section(const tsdb_block_t *b, uint64_t off, rd_t *r, ax_err_t *err,
    const char *what)
{
	uint32_t len;

	if (off + 4 > b->ix_len)
		return ax_err_set(
		    err, AX_EPROTO, "%s/index: %s out of bounds", b->dir, what);
	len = rd32(b->ix + off);
	if (off + 4 + len + 4 > b->ix_len)
		return ax_err_set(err, AX_EPROTO,
		    "%s/index: %s length out of bounds", b->dir, what);
	if (ax_crc32c(0, b->ix + off + 4, len) != rd32(b->ix + off + 4 + len))
		return ax_err_set(err, AX_EPROTO,
		    "%s/index: %s checksum mismatch", b->dir, what);
	r->p = b->ix + off + 4;
	r->end = r->p + len;
	r->bad = 0;
	return 0;
}

static int read_meta(tsdb_block_t *b, ax_err_t *err)
{
	char path[4200];
	FILE *f;
	char buf[65536];
	size_t n;
	cJSON *j, *x, *st, *cp;

	snprintf(path, sizeof(path), "%s/meta.json", b->dir);
	f = fopen(path, "r");
	if (f == NULL)
		return ax_err_set(
		    err, AX_EIO, "open %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	j = cJSON_Parse(buf);
	if (j == NULL)
		return ax_err_set(err, AX_EPROTO, "%s: invalid JSON", path);
	x = cJSON_GetObjectItem(j, "ulid");
	st = cJSON_GetObjectItem(j, "stats");
	cp = cJSON_GetObjectItem(j, "compaction");
	if (!cJSON_IsString(x) || strlen(x->valuestring) != 26 ||
	    !cJSON_IsNumber(cJSON_GetObjectItem(j, "minTime")) ||
	    !cJSON_IsNumber(cJSON_GetObjectItem(j, "maxTime")) ||
	    cJSON_GetObjectItem(j, "version") == NULL ||
	    cJSON_GetObjectItem(j, "version")->valueint != 1) {
		cJSON_Delete(j);
		return ax_err_set(
		    err, AX_EPROTO, "%s: not a version 1 block meta", path);
	}
	memcpy(b->ulid, x->valuestring, 27);
	b->mint = (int64_t)cJSON_GetObjectItem(j, "minTime")->valuedouble;
	b->maxt = (int64_t)cJSON_GetObjectItem(j, "maxTime")->valuedouble;
	if (st) {
		cJSON *v;

		if ((v = cJSON_GetObjectItem(st, "numSamples")))
			b->samples = (uint64_t)v->valuedouble;
		if ((v = cJSON_GetObjectItem(st, "numSeries")))
			b->series = (uint64_t)v->valuedouble;
		if ((v = cJSON_GetObjectItem(st, "numChunks")))
			b->chunks = (uint64_t)v->valuedouble;
	}
	b->level = cp && cJSON_GetObjectItem(cp, "level")
	    ? cJSON_GetObjectItem(cp, "level")->valueint
	    : 1;
	cJSON_Delete(j);
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int open_chunks(tsdb_block_t *b, ax_err_t *err)
{
	char path[4200];
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rv = 0;

	snprintf(path, sizeof(path), "%s/chunks", b->dir);
	d = opendir(path);
	if (d == NULL)
		return ax_err_set(
		    err, AX_EIO, "open %s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 8;
			nn = realloc(names, cap * sizeof(*nn));
			if (nn == NULL) {
				rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (rv == 0 && n)
		qsort(names, n, sizeof(*names), seg_cmp);
	if (rv == 0) {
		b->seg = calloc(n ? n : 1, sizeof(*b->seg));
		b->seg_len = calloc(n ? n : 1, sizeof(*b->seg_len));
		if (!b->seg || !b->seg_len)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; rv == 0 && i < n; i++) {
		char fp[8400];

		snprintf(fp, sizeof(fp), "%s/%s", path, names[i]);
		b->seg[i] = map_file(fp, &b->seg_len[i], err);
		if (b->seg[i] == NULL) {
			rv = AX_EIO;
			break;
		}
		b->n_seg = i + 1;
		b->size += b->seg_len[i];
		if (b->seg_len[i] < 8 || rd32(b->seg[i]) != 0x85BD40DDu)
			rv = ax_err_set(
			    err, AX_EPROTO, "%s: not a chunk segment", fp);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rv;
}

static int add_value(tsdb_block_t *b, char *name, char *value, uint64_t off)
{
	bname_t *bn = ax_hmap_get(&b->names, name, strlen(name));

	if (bn == NULL) {
		bn = calloc(1, sizeof(*bn));
		if (bn == NULL ||
		    ax_hmap_put(&b->names, name, strlen(name), bn, NULL)) {
			free(bn);
			return AX_ENOMEM;
		}
	}
	if (bn->n == bn->cap) {
		size_t nc = bn->cap ? bn->cap * 2 : 4;
		char **nv = realloc(bn->values, nc * sizeof(*nv));
		uint64_t *no;

		if (nv == NULL)
			return AX_ENOMEM;
		bn->values = nv;
		no = realloc(bn->offs, nc * sizeof(*no));
		if (no == NULL)
			return AX_ENOMEM;
		bn->offs = no;
		bn->cap = nc;
	}
	bn->values[bn->n] = value;
	bn->offs[bn->n++] = off;
	return 0;
}

int tsdb_block_open(const char *dir, tsdb_block_t **out, ax_err_t *err)
{
	tsdb_block_t *b = calloc(1, sizeof(*b));
	char path[4200];
	uint64_t toc[6];
	rd_t r;
	uint32_t i, n;
	int rv;

	if (b == NULL || (b->dir = strdup(dir)) == NULL) {
		free(b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ax_hmap_init(&b->names);
	tsdb_tombs_init(&b->tombs);
	if ((rv = read_meta(b, err)) != 0 || (rv = open_chunks(b, err)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/tombstones", dir);
	if ((rv = tsdb_tombs_read(&b->tombs, path, err)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/index", dir);
	b->ix = map_file(path, &b->ix_len, err);
	if (b->ix == NULL) {
		rv = AX_EIO;
		goto fail;
	}
	b->size += b->ix_len;
	if (b->ix_len < 5 + 52 || rd32(b->ix) != 0xBAAAD700u || b->ix[4] != 2) {
		rv = ax_err_set(err, AX_EPROTO, "%s: not an index v2", path);
		goto fail;
	}
	for (i = 0; i < 6; i++)
		toc[i] = rd64(b->ix + b->ix_len - 52 + 8 * i);
	if (ax_crc32c(0, b->ix + b->ix_len - 52, 48) !=
	    rd32(b->ix + b->ix_len - 4)) {
		rv = ax_err_set(
		    err, AX_EPROTO, "%s: TOC checksum mismatch", path);
		goto fail;
	}
	/* symbols */
	if ((rv = section(b, toc[0], &r, err, "symbol table")) != 0)
		goto fail;
	if (r.end - r.p < 4) {
		rv = ax_err_set(err, AX_EPROTO, "%s: short symbol table", path);
		goto fail;
	}
	n = rd32(r.p);
	r.p += 4;
	if (n > (uint32_t)(r.end - r.p)) {
		rv = ax_err_set(err, AX_EPROTO, "%s: bad symbol count", path);
		goto fail;
	}
	b->sym = calloc(n ? n : 1, sizeof(*b->sym));
	if (b->sym == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		b->sym[i] = uvstr(&r);
		if (b->sym[i] == NULL) {
			rv = ax_err_set(
			    err, AX_EPROTO, "%s: bad symbol %u", path, i);
			goto fail;
		}
		b->n_sym = i + 1;
	}
	/* postings offset table */
	if (toc[5] != 0) {
		if ((rv = section(
		         b, toc[5], &r, err, "postings offset table")) != 0)
			goto fail;
		n = r.end - r.p >= 4 ? rd32(r.p) : 0;
		r.p += 4;
		for (i = 0; i < n; i++) {
			char *nm, *vl;
			uint64_t off;

			if (uv(&r) != 2) {
				r.bad = 1;
				break;
			}
			nm = uvstr(&r);
			vl = uvstr(&r);
			off = uv(&r);
			if (r.bad || nm == NULL || vl == NULL) {
				free(nm);
				free(vl);
				r.bad = 1;
				break;
			}
			if (nm[0] == '\0' && vl[0] == '\0') {
				b->all_off = off;
				b->has_all = 1;
				free(nm);
				free(vl);
				continue;
			}
			if (add_value(b, nm, vl, off) != 0) {
				free(nm);
				free(vl);
				goto oom;
			}
			free(nm);
		}
		if (r.bad) {
			rv = ax_err_set(err, AX_EPROTO,
			    "%s: bad postings offset table", path);
			goto fail;
		}
	}
	*out = b;
	return 0;
oom:
	rv = ax_err_set(err, AX_ENOMEM, "out of memory");
fail:
	tsdb_block_close(b);
	return rv;
}

void tsdb_block_close(tsdb_block_t *b)
{
	size_t i, pos = 0;
	ax_hmap_ent_t *e;

	if (b == NULL)
		return;
	if (b->ix)
		munmap((void *)b->ix, b->ix_len);
	for (i = 0; i < b->n_seg; i++)
		munmap((void *)b->seg[i], b->seg_len[i]);
	free(b->seg);
	free(b->seg_len);
	for (i = 0; i < b->n_sym; i++)
		free(b->sym[i]);
	free(b->sym);
	while ((e = ax_hmap_next(&b->names, &pos)) != NULL) {
		bname_t *bn = e->val;

		for (i = 0; i < bn->n; i++)
			free(bn->values[i]);
		free(bn->values);
		free(bn->offs);
		free(bn);
	}
	ax_hmap_fini(&b->names);
	tsdb_tombs_fini(&b->tombs);
	free(b->dir);
	free(b);
}

const tsdb_tombs_t *tsdb_block_tombstones(const tsdb_block_t *b)
{
	return &b->tombs;
}

int tsdb_block_delete(tsdb_block_t *b, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err)
{
	tsdb_plist_t ids = {0};
	char path[4200];
	size_t i, hit = 0;
	int rv;

	*n_series = 0;
	if (tsdb_block_mint(b) > maxt || tsdb_block_maxt(b) <= mint)
		return 0;
	if ((rv = tsdb_block_select(b, ms, n, &ids, err)) != 0)
		return rv;
	for (i = 0; i < ids.n && rv == 0; i++) {
		ax_labels_t *ls;
		tsdb_chunk_meta_t *m;
		size_t nm, k;
		int overlap = 0;

		if ((rv = tsdb_block_series(b, ids.v[i], &ls, &m, &nm, err)) !=
		    0)
			break;
		for (k = 0; k < nm; k++)
			overlap |= m[k].mint <= maxt && m[k].maxt >= mint;
		free(m);
		ax_labels_free(ls);
		if (!overlap)
			continue;
		if (tsdb_tombs_add(&b->tombs, ids.v[i], mint, maxt) != 0)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		hit++;
	}
	tsdb_plist_fini(&ids);
	if (rv == 0 && hit > 0) {
		snprintf(path, sizeof(path), "%s/tombstones", b->dir);
		rv = tsdb_tombs_write(&b->tombs, path, err);
	}
	*n_series = hit;
	return rv;
}

const char *tsdb_block_ulid(const tsdb_block_t *b)
{
	return b->ulid;
}
const char *tsdb_block_dir(const tsdb_block_t *b)
{
	return b->dir;
}
int64_t tsdb_block_mint(const tsdb_block_t *b)
{
	return b->mint;
}
int64_t tsdb_block_maxt(const tsdb_block_t *b)
{
	return b->maxt;
}
uint64_t tsdb_block_num_samples(const tsdb_block_t *b)
{
	return b->samples;
}
uint64_t tsdb_block_num_series(const tsdb_block_t *b)
{
	return b->series;
}
int tsdb_block_level(const tsdb_block_t *b)
{
	return b->level;
}
uint64_t tsdb_block_size_bytes(const tsdb_block_t *b)
{
	static const char *const small[] = {"meta.json", "tombstones"};
	uint64_t total = b->size;
	size_t i;

	/* the two small files change (deletion, compaction level): stat */
	for (i = 0; i < 2; i++) {
		char path[4200];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", b->dir, small[i]);
		if (stat(path, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	return total;
}

static int read_postings(tsdb_block_t *b, uint64_t off, tsdb_plist_t *out)
{
	rd_t r;
	uint32_t n, i;
	ax_err_t e;

	out->n = 0;
	if (section(b, off, &r, &e, "postings") != 0 || r.end - r.p < 4)
		return AX_EPROTO;
	n = rd32(r.p);
	if ((size_t)(r.end - r.p) < 4 + (size_t)n * 4)
		return AX_EPROTO;
	for (i = 0; i < n; i++)
		if (tsdb_plist_add(out, rd32(r.p + 4 + 4 * i)) != 0)
			return AX_ENOMEM;
	return 0;
}

static int b_each_value(void *ctx, const char *name,
    int (*fn)(void *arg, const char *value, size_t len), void *arg)
{
	tsdb_block_t *b = ctx;
	bname_t *bn = ax_hmap_get(&b->names, name, strlen(name));
	size_t i;

	for (i = 0; bn && i < bn->n; i++)
		if (fn(arg, bn->values[i], strlen(bn->values[i])) != 0)
			return 1;
	return 0;
}

static int b_postings(
    void *ctx, const char *name, const char *value, tsdb_plist_t *out)
{
	tsdb_block_t *b = ctx;
	bname_t *bn = ax_hmap_get(&b->names, name, strlen(name));
	size_t lo = 0, hi = bn ? bn->n : 0;

	out->n = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(bn->values[mid], value);

		if (c == 0)
			return read_postings(b, bn->offs[mid], out) == AX_ENOMEM
			    ? AX_ENOMEM
			    : 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int b_all(void *ctx, tsdb_plist_t *out)
{
	tsdb_block_t *b = ctx;

	out->n = 0;
	if (!b->has_all)
		return 0;
	return read_postings(b, b->all_off, out) == AX_ENOMEM ? AX_ENOMEM : 0;
}

int tsdb_block_select(tsdb_block_t *b, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err)
{
	tsdb_ix_src_t src = {b, b_each_value, b_postings, b_all};

	return tsdb_select(&src, ms, n, out, err);
}

int tsdb_block_series(tsdb_block_t *b, uint64_t id, ax_labels_t **ls,
    tsdb_chunk_meta_t **metas, size_t *n_metas, ax_err_t *err)
{
	uint64_t off = id * 16, len, nl, nc, i;
	rd_t r;
	ax_label_t *pairs;
	tsdb_chunk_meta_t *m;
	const uint8_t *start;
	int rv;

	if (off >= b->ix_len)
		return ax_err_set(err, AX_EPROTO,
		    "%s: series %llu out of bounds", b->dir,
		    (unsigned long long)id);
	r.p = b->ix + off;
	r.end = b->ix + b->ix_len;
	r.bad = 0;
	len = uv(&r);
	if (r.bad || len + 4 > (uint64_t)(r.end - r.p))
		return ax_err_set(err, AX_EPROTO, "%s: series %llu truncated",
		    b->dir, (unsigned long long)id);
	start = r.p;
	if (ax_crc32c(0, start, len) != rd32(start + len))
		return ax_err_set(err, AX_EPROTO,
		    "%s: series %llu checksum mismatch", b->dir,
		    (unsigned long long)id);
	r.end = start + len;
	nl = uv(&r);
	if (r.bad || nl > len)
		return ax_err_set(err, AX_EPROTO, "%s: bad series %llu", b->dir,
		    (unsigned long long)id);
	pairs = malloc((nl ? nl : 1) * sizeof(*pairs));
	if (pairs == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < nl; i++) {
		uint64_t ni = uv(&r), vi = uv(&r);

		if (r.bad || ni >= b->n_sym || vi >= b->n_sym) {
			free(pairs);
			return ax_err_set(err, AX_EPROTO,
			    "%s: bad symbol ref in series %llu", b->dir,
			    (unsigned long long)id);
		}
		pairs[i].name = b->sym[ni];
		pairs[i].value = b->sym[vi];
	}
	rv = ax_labels_new(pairs, nl, ls, err);
	free(pairs);
	if (rv != 0)
		return rv;
	nc = uv(&r);
	if (r.bad || nc > len) {
		ax_labels_free(*ls);
		return ax_err_set(
		    err, AX_EPROTO, "%s: bad chunk count", b->dir);
	}
	m = malloc((nc ? nc : 1) * sizeof(*m));
	if (m == NULL) {
		ax_labels_free(*ls);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < nc; i++) {
		if (i == 0) {
			m[0].mint = sv(&r);
			m[0].maxt = m[0].mint + (int64_t)uv(&r);
			m[0].ref = uv(&r);
		} else {
			m[i].mint = m[i - 1].maxt + (int64_t)uv(&r);
			m[i].maxt = m[i].mint + (int64_t)uv(&r);
			m[i].ref = (uint64_t)((int64_t)m[i - 1].ref + sv(&r));
		}
	}
	if (r.bad) {
		free(m);
		ax_labels_free(*ls);
		return ax_err_set(
		    err, AX_EPROTO, "%s: bad chunk metas", b->dir);
	}
	*metas = m;
	*n_metas = nc;
	return 0;
}

int tsdb_block_chunk(tsdb_block_t *b, uint64_t ref, const uint8_t **data,
    size_t *len, ax_err_t *err)
{
	uint64_t seg = ref >> 32, off = ref & 0xffffffffu, dl;
	rd_t r;

	if (seg >= b->n_seg || off >= b->seg_len[seg])
		return ax_err_set(err, AX_EPROTO,
		    "%s: chunk ref %llx out of bounds", b->dir,
		    (unsigned long long)ref);
	r.p = b->seg[seg] + off;
	r.end = b->seg[seg] + b->seg_len[seg];
	r.bad = 0;
	dl = uv(&r);
	if (r.bad || dl + 1 + 4 > (uint64_t)(r.end - r.p))
		return ax_err_set(err, AX_EPROTO, "%s: chunk %llx truncated",
		    b->dir, (unsigned long long)ref);
	if (r.p[0] != TSDB_ENC_XOR)
		return ax_err_set(err, AX_EPROTO,
		    "%s: chunk %llx has encoding %d (only XOR float chunks are "
		    "supported)",
		    b->dir, (unsigned long long)ref, r.p[0]);
	if (ax_crc32c(0, r.p, dl + 1) != rd32(r.p + 1 + dl))
		return ax_err_set(err, AX_EPROTO,
		    "%s: chunk %llx checksum mismatch", b->dir,
		    (unsigned long long)ref);
	*data = r.p + 1;
	*len = dl;
	return 0;
}

static int cstr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int tsdb_block_label_names(tsdb_block_t *b, const char ***out, size_t *n)
{
	const char **v = malloc((b->names.n ? b->names.n : 1) * sizeof(*v));
	size_t pos = 0, k = 0;
	ax_hmap_ent_t *e;

	if (v == NULL)
		return AX_ENOMEM;
	while ((e = ax_hmap_next(&b->names, &pos)) != NULL)
		v[k++] = e->key;
	qsort(v, k, sizeof(*v), cstr_cmp);
	*out = v;
	*n = k;
	return 0;
}

int tsdb_block_label_values(
    tsdb_block_t *b, const char *name, const char ***out, size_t *n)
{
	bname_t *bn = ax_hmap_get(&b->names, name, strlen(name));
	const char **v = malloc(((bn && bn->n) ? bn->n : 1) * sizeof(*v));
	size_t i;

	if (v == NULL)
		return AX_ENOMEM;
	for (i = 0; bn && i < bn->n; i++)
		v[i] = bn->values[i];
	*out = v;
	*n = bn ? bn->n : 0;
	return 0;
}
