/*
 * wal: Prometheus-format write-ahead log (see wal.h for the layout).
 */
#include "tsdb/wal.h"
#include "ax_buf.h"
#include "ax_crc32c.h"
#include "ax_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	REC_PAGE_TERM = 0,
	REC_FULL = 1,
	REC_FIRST = 2,
	REC_MIDDLE = 3,
	REC_LAST = 4,
	SNAPPY_MASK = 1 << 3,
};

struct tsdb_wal {
	char *dir;
	tsdb_wal_opts_t o;
	int fd;
	int seg;          /* active segment index */
	size_t seg_bytes; /* bytes written to the active segment */
	uint8_t page[TSDB_WAL_PAGE_SIZE];
	size_t alloc;   /* bytes used in page */
	size_t flushed; /* bytes of page already written */
	ax_buf_t zbuf;  /* compression scratch */
};

static void seg_path(const char *dir, int idx, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%08d", dir, idx);
}

uint64_t tsdb_wal_dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t total = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char p[4200];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += tsdb_wal_dir_bytes(p);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

int tsdb_wal_segments(const char *dir, int **idx, size_t *n, ax_err_t *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int *v = NULL;
	size_t cnt = 0, cap = 0, i, j;

	if (d == NULL) {
		if (errno == ENOENT) {
			*idx = NULL;
			*n = 0;
			return 0;
		}
		return ax_err_set(
		    err, AX_EIO, "open WAL dir %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		char *end;
		long k;

		if (strlen(e->d_name) != 8)
			continue;
		k = strtol(e->d_name, &end, 10);
		if (*end != '\0' || k < 0)
			continue;
		if (cnt == cap) {
			int *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[cnt++] = (int)k;
	}
	closedir(d);
	for (i = 1; i < cnt; i++) /* insertion sort: few segments */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*idx = v;
	*n = cnt;
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int err_from_errno(ax_err_t *err, const char *what, const char *path)
{
	int e = errno;

	return ax_err_set(err,
	    (e == ENOSPC || e == EDQUOT) ? AX_EAGAIN : AX_EIO, "%s %s: %s",
	    what, path, strerror(e));
}

static int open_segment(tsdb_wal_t *w, int idx, ax_err_t *err)
{
	char p[4096];

	seg_path(w->dir, idx, p, sizeof(p));
	w->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return err_from_errno(err, "create WAL segment", p);
	w->seg = idx;
	w->seg_bytes = 0;
	w->alloc = w->flushed = 0;
	memset(w->page, 0, sizeof(w->page));
	return 0;
}

int tsdb_wal_open(const char *dir, const tsdb_wal_opts_t *opts,
    tsdb_wal_t **out, ax_err_t *err)
{
	tsdb_wal_t *w;
	int *segs;
	size_t n;
	int rv;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return ax_err_set(
		    err, AX_EIO, "create WAL dir %s: %s", dir, strerror(errno));
	if ((rv = tsdb_wal_segments(dir, &segs, &n, err)) != 0)
		return rv;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->dir = strdup(dir)) == NULL) {
		free(w);
		free(segs);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	w->o = *opts;
	if (w->o.segment_size < 2 * TSDB_WAL_PAGE_SIZE)
		w->o.segment_size = TSDB_WAL_DEFAULT_SEGMENT_SIZE;
	w->o.segment_size -= w->o.segment_size % TSDB_WAL_PAGE_SIZE;
	rv = open_segment(w, n ? segs[n - 1] + 1 : 0, err);
	free(segs);
	if (rv != 0) {
		free(w->dir);
		free(w);
		return rv;
	}
	*out = w;
	return 0;
}

/* Write out page bytes [flushed, alloc); with full, the whole page
 * (zero-padded) and start a new one. */
static int flush_page(tsdb_wal_t *w, int full)
{
	size_t end = full ? TSDB_WAL_PAGE_SIZE : w->alloc;

	if (end > w->flushed) {
		if (write_all(w->fd, w->page + w->flushed, end - w->flushed) !=
		    0)
			return -1;
		w->seg_bytes += end - w->flushed;
		w->flushed = end;
	}
	if (full) {
		memset(w->page, 0, sizeof(w->page));
		w->alloc = w->flushed = 0;
	}
	return 0;
}

static int close_segment(tsdb_wal_t *w, ax_err_t *err)
{
	if (w->alloc > 0 && flush_page(w, 1) != 0)
		return err_from_errno(err, "write WAL segment", w->dir);
	if (w->o.fsync != TSDB_WAL_FSYNC_NEVER && fsync(w->fd) != 0)
		return err_from_errno(err, "fsync WAL segment", w->dir);
	close(w->fd);
	w->fd = -1;
	return 0;
}

int tsdb_wal_next_segment(tsdb_wal_t *w, ax_err_t *err)
{
	int rv;

	if ((rv = close_segment(w, err)) != 0)
		return rv;
	return open_segment(w, w->seg + 1, err);
}

int tsdb_wal_current_segment(const tsdb_wal_t *w)
{
	return w->seg;
}

static size_t free_in_segment(const tsdb_wal_t *w)
{
	size_t pages_done = w->seg_bytes / TSDB_WAL_PAGE_SIZE;
	size_t pages_total = w->o.segment_size / TSDB_WAL_PAGE_SIZE;
	size_t left = TSDB_WAL_PAGE_SIZE - w->alloc;

	left = left > TSDB_WAL_HEADER_SIZE ? left - TSDB_WAL_HEADER_SIZE : 0;
	if (pages_total > pages_done + 1)
		left += (TSDB_WAL_PAGE_SIZE - TSDB_WAL_HEADER_SIZE) *
		    (pages_total - pages_done - 1);
	return left;
}

/* Lay one record into pages; returns -1 on a write error. */
static int log_one(tsdb_wal_t *w, const uint8_t *rec, size_t len, int comp)
{
	size_t i;

	for (i = 0; i == 0 || len > 0; i++) {
		size_t room =
		    TSDB_WAL_PAGE_SIZE - w->alloc - TSDB_WAL_HEADER_SIZE;
		size_t l = len < room ? len : room;
		uint8_t *h = w->page + w->alloc, typ;
		uint32_t crc;

		if (i == 0 && l == len)
			typ = REC_FULL;
		else if (l == len)
			typ = REC_LAST;
		else if (i == 0)
			typ = REC_FIRST;
		else
			typ = REC_MIDDLE;
		if (comp)
			typ |= SNAPPY_MASK;
		crc = ax_crc32c(0, rec, l);
		h[0] = typ;
		h[1] = (uint8_t)(l >> 8);
		h[2] = (uint8_t)l;
		h[3] = (uint8_t)(crc >> 24);
		h[4] = (uint8_t)(crc >> 16);
		h[5] = (uint8_t)(crc >> 8);
		h[6] = (uint8_t)crc;
		memcpy(h + TSDB_WAL_HEADER_SIZE, rec, l);
		w->alloc += l + TSDB_WAL_HEADER_SIZE;
		if (TSDB_WAL_PAGE_SIZE - w->alloc < TSDB_WAL_HEADER_SIZE &&
		    flush_page(w, 1) != 0)
			return -1;
		rec += l;
		len -= l;
	}
	return 0;
}

int tsdb_wal_log(tsdb_wal_t *w, const uint8_t *const *recs, const size_t *lens,
    size_t n, ax_err_t *err)
{
	size_t i, total = 0, seg_before, alloc_before;
	int rv;

	for (i = 0; i < n; i++)
		total += lens[i] +
		    TSDB_WAL_HEADER_SIZE *
		        (1 +
		            lens[i] /
		                (TSDB_WAL_PAGE_SIZE - TSDB_WAL_HEADER_SIZE));
	/* Rotate first so that a batch never straddles two segments. */
	if (total > free_in_segment(w) && (w->seg_bytes > 0 || w->alloc > 0) &&
	    (rv = tsdb_wal_next_segment(w, err)) != 0)
		return rv;
	seg_before = w->seg_bytes;
	alloc_before = w->alloc;
	for (i = 0; i < n; i++) {
		const uint8_t *rec = recs[i];
		size_t len = lens[i];
		int comp = 0;

		if (w->o.compress && len > 0) {
			size_t clen = snappy_max_compressed_length(len);

			ax_buf_reset(&w->zbuf);
			if (ax_buf_reserve(&w->zbuf, clen) == 0 &&
			    snappy_compress((const char *)rec, len, w->zbuf.p,
			        &clen) == SNAPPY_OK &&
			    clen < len) {
				rec = (const uint8_t *)w->zbuf.p;
				len = clen;
				comp = 1;
			}
		}
		if (log_one(w, rec, len, comp) != 0)
			goto undo;
	}
	if (flush_page(w, 0) != 0)
		goto undo;
	if (w->o.fsync == TSDB_WAL_FSYNC_ALWAYS && fdatasync(w->fd) != 0)
		goto undo;
	return 0;
undo:
	rv = err_from_errno(err, "write WAL segment", w->dir);
	/* Put the segment and the page back as they were before the batch:
	 * what was on disk before is intact, the page is re-read from it. */
	if (ftruncate(w->fd,
	        (off_t)(seg_before - (seg_before % TSDB_WAL_PAGE_SIZE) +
	            alloc_before)) != 0 ||
	    lseek(w->fd,
	        (off_t)(seg_before - (seg_before % TSDB_WAL_PAGE_SIZE) +
	            alloc_before),
	        SEEK_SET) < 0) {
		ax_log_error("cannot undo a failed WAL write; the segment may "
		             "hold a torn record that replay will cut",
		    "dir", w->dir, "err", strerror(errno));
	}
	{
		size_t page_start =
		    seg_before - (seg_before % TSDB_WAL_PAGE_SIZE);
		ssize_t got;

		memset(w->page, 0, sizeof(w->page));
		got = alloc_before
		    ? pread(w->fd, w->page, alloc_before, (off_t)page_start)
		    : 0;
		if (got != (ssize_t)alloc_before) {
			/* cannot restore the page: continue in a fresh segment
			 */
			ax_err_t e2;

			close(w->fd);
			w->fd = -1;
			if (open_segment(w, w->seg + 1, &e2) != 0)
				ax_log_error("cannot open a new WAL segment",
				    "err", e2.msg);
			return rv;
		}
		w->alloc = w->flushed = alloc_before;
		w->seg_bytes = page_start + alloc_before;
	}
	return rv;
}

int tsdb_wal_sync(tsdb_wal_t *w, ax_err_t *err)
{
	if (w->fd >= 0 && fdatasync(w->fd) != 0)
		return err_from_errno(err, "fsync WAL segment", w->dir);
	return 0;
}

void tsdb_wal_close(tsdb_wal_t *w)
{
	ax_err_t e;

	if (w == NULL)
		return;
	if (w->fd >= 0) {
		flush_page(w, 0);
		if (w->o.fsync != TSDB_WAL_FSYNC_NEVER)
			fsync(w->fd);
		close(w->fd);
	}
	(void)e;
	ax_buf_fini(&w->zbuf);
	free(w->dir);
	free(w);
}

/* ---- replay ---- */

typedef struct reader {
	const uint8_t *b; /* whole segment */
	size_t len;
	size_t pos;
	ax_buf_t rec; /* record being assembled (stored form) */
	const uint8_t *rp; /* the record read (stored form): into the
	                      segment for a one-fragment record, else rec */
	size_t rlen;
	int rec_comp;
	int in_rec;
	size_t rec_start; /* offset of the record's first fragment */
} reader_t;

/* Read the next record.  1: record at r->rp, r->rlen; 0: clean end; -1:
 * corrupt (r->rec_start is the offset to truncate at). */
static int next_record(reader_t *r, const char **why)
{
	ax_buf_reset(&r->rec);
	r->in_rec = 0;
	for (;;) {
		size_t page_left =
		    TSDB_WAL_PAGE_SIZE - (r->pos % TSDB_WAL_PAGE_SIZE);
		uint8_t typ, base;
		size_t flen;
		uint32_t crc;

		if (r->pos >= r->len) {
			if (r->in_rec) {
				*why = "truncated record at end of segment";
				return -1;
			}
			return 0;
		}
		if (page_left < TSDB_WAL_HEADER_SIZE) {
			r->pos += page_left;
			continue;
		}
		typ = r->b[r->pos];
		if (typ == REC_PAGE_TERM) {
			/* rest of the page must be zero padding */
			size_t k, end = r->pos + page_left;

			if (end > r->len)
				end = r->len;
			for (k = r->pos; k < end; k++)
				if (r->b[k] != 0) {
					if (!r->in_rec)
						r->rec_start = r->pos;
					*why = "non-zero bytes in page padding";
					return -1;
				}
			r->pos = end;
			continue;
		}
		if (!r->in_rec)
			r->rec_start = r->pos;
		if (r->pos + TSDB_WAL_HEADER_SIZE > r->len) {
			*why = "truncated fragment header";
			return -1;
		}
		base = typ & ~SNAPPY_MASK;
		flen = ((size_t)r->b[r->pos + 1] << 8) | r->b[r->pos + 2];
		crc = ((uint32_t)r->b[r->pos + 3] << 24) |
		    ((uint32_t)r->b[r->pos + 4] << 16) |
		    ((uint32_t)r->b[r->pos + 5] << 8) | r->b[r->pos + 6];
		if (base < REC_FULL || base > REC_LAST || (typ & ~0x0f)) {
			*why = "invalid fragment type";
			return -1;
		}
		if (flen + TSDB_WAL_HEADER_SIZE > page_left ||
		    r->pos + TSDB_WAL_HEADER_SIZE + flen > r->len) {
			*why = "fragment exceeds page or segment";
			return -1;
		}
		if (ax_crc32c(0, r->b + r->pos + TSDB_WAL_HEADER_SIZE, flen) !=
		    crc) {
			*why = "checksum mismatch";
			return -1;
		}
		if ((base == REC_FULL || base == REC_FIRST) == r->in_rec) {
			*why = r->in_rec
			    ? "new record before the last one ended"
			    : "continuation fragment without a first fragment";
			return -1;
		}
		r->rec_comp = (typ & SNAPPY_MASK) != 0;
		if (base == REC_FULL) { /* read in place, no copy */
			r->rp = r->b + r->pos + TSDB_WAL_HEADER_SIZE;
			r->rlen = flen;
			r->pos += TSDB_WAL_HEADER_SIZE + flen;
			return 1;
		}
		ax_buf_append(
		    &r->rec, r->b + r->pos + TSDB_WAL_HEADER_SIZE, flen);
		if (!ax_buf_ok(&r->rec)) {
			*why = "out of memory";
			return -1;
		}
		r->pos += TSDB_WAL_HEADER_SIZE + flen;
		if (base == REC_LAST) {
			r->rp = (const uint8_t *)r->rec.p;
			r->rlen = r->rec.len;
			return 1;
		}
		r->in_rec = 1;
	}
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *b;
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (b == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = b;
	*len = got;
	return 0;
}

static int replay_impl(const char *dir, int from_segment, int to_segment,
    int repair, tsdb_wal_rec_fn fn, void *arg, tsdb_wal_replay_stats_t *st,
    ax_err_t *err);

int tsdb_wal_replay(const char *dir, int from_segment, int repair,
    tsdb_wal_rec_fn fn, void *arg, tsdb_wal_replay_stats_t *st, ax_err_t *err)
{
	return replay_impl(
	    dir, from_segment, INT32_MAX, repair, fn, arg, st, err);
}

int tsdb_wal_replay_range(const char *dir, int from, int to, tsdb_wal_rec_fn fn,
    void *arg, tsdb_wal_replay_stats_t *st, ax_err_t *err)
{
	return replay_impl(dir, from, to, 0, fn, arg, st, err);
}

static int replay_impl(const char *dir, int from_segment, int to_segment,
    int repair, tsdb_wal_rec_fn fn, void *arg, tsdb_wal_replay_stats_t *st,
    ax_err_t *err)
{
	int *segs;
	size_t n, i;
	int rv;
	ax_buf_t dec = AX_BUF_INIT;
	reader_t r;

	memset(st, 0, sizeof(*st));
	st->first_segment = st->last_segment = -1;
	if ((rv = tsdb_wal_segments(dir, &segs, &n, err)) != 0)
		return rv;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		char path[4096];
		uint8_t *b;
		size_t len;
		const char *why = NULL;
		int k;

		if (segs[i] < from_segment || segs[i] > to_segment)
			continue;
		if (st->last_segment >= 0 && segs[i] != st->last_segment + 1) {
			rv = ax_err_set(err, AX_EPROTO,
			    "WAL segments not sequential: %08d after %08d",
			    segs[i], st->last_segment);
			break;
		}
		seg_path(dir, segs[i], path, sizeof(path));
		if (read_file(path, &b, &len) != 0) {
			rv = ax_err_set(
			    err, AX_EIO, "read %s: %s", path, strerror(errno));
			break;
		}
		if (st->first_segment < 0)
			st->first_segment = segs[i];
		st->last_segment = segs[i];
		st->segments++;
		r.b = b;
		r.len = len;
		r.pos = 0;
		while ((k = next_record(&r, &why)) == 1) {
			const uint8_t *rec = r.rp;
			size_t rlen = r.rlen;

			if (r.rec_comp) {
				size_t ulen;

				ax_buf_reset(&dec);
				if (snappy_uncompressed_length(
				        (const char *)rec, rlen, &ulen) !=
				        SNAPPY_OK ||
				    ulen > (1u << 30) ||
				    ax_buf_reserve(&dec, ulen) != 0 ||
				    snappy_uncompress((const char *)rec, rlen,
				        dec.p, &ulen) != SNAPPY_OK) {
					why = "snappy decoding failed";
					k = -1;
					break;
				}
				rec = (const uint8_t *)dec.p;
				rlen = ulen;
			}
			st->records++;
			if ((rv = fn(arg, rec, rlen)) != 0) {
				if (err != NULL && rv != AX_ENOMEM) {
					char m[sizeof(err->msg)];

					snprintf(m, sizeof(m),
					    "%s (WAL %s, record at offset %zu)",
					    err->msg, path, r.rec_start);
					snprintf(err->msg, sizeof(err->msg),
					    "%s", m);
				}
				free(b);
				goto out;
			}
		}
		free(b);
		if (k < 0) {
			char off[32];

			st->corruptions++;
			snprintf(off, sizeof(off), "%zu", r.rec_start);
			ax_log_warn("WAL corruption: replay stops at the last "
			            "complete record",
			    "segment", path, "offset", off, "reason", why,
			    "repair", repair ? "truncate" : "no");
			if (repair) {
				size_t j;

				st->truncated_bytes += len - r.rec_start;
				if (truncate(path, (off_t)r.rec_start) != 0) {
					rv = ax_err_set(err, AX_EIO,
					    "truncate %s: %s", path,
					    strerror(errno));
					goto out;
				}
				for (j = i + 1; j < n; j++) {
					struct stat sb;

					seg_path(
					    dir, segs[j], path, sizeof(path));
					if (stat(path, &sb) == 0)
						st->truncated_bytes +=
						    (uint64_t)sb.st_size;
					unlink(path);
				}
			}
			break;
		}
	}
out:
	ax_buf_fini(&r.rec);
	ax_buf_fini(&dec);
	free(segs);
	return rv;
}

/* ---- tailing ---- */

struct tsdb_wal_tail {
	char *dir;
	int seg;
	int fd;
	uint64_t pos; /* file offset after the last complete record */
	ax_buf_t buf; /* bytes from the page holding pos to EOF */
	ax_buf_t dec;
	reader_t r;
};

static int tail_open_seg(tsdb_wal_tail_t *t, int seg)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%08d", t->dir, seg);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = open(p, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0)
		return -1;
	t->seg = seg;
	t->pos = 0;
	return 0;
}

int tsdb_wal_tail_open(
    const char *dir, int seg, tsdb_wal_tail_t **out, ax_err_t *err)
{
	tsdb_wal_tail_t *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->dir = strdup(dir)) == NULL) {
		free(t);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	t->fd = -1;
	t->seg = seg;
	tail_open_seg(t, seg); /* may not exist yet: retried on read */
	*out = t;
	return 0;
}

void tsdb_wal_tail_close(tsdb_wal_tail_t *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	ax_buf_fini(&t->buf);
	ax_buf_fini(&t->dec);
	ax_buf_fini(&t->r.rec);
	free(t->dir);
	free(t);
}

int tsdb_wal_tail_segment(const tsdb_wal_tail_t *t)
{
	return t->seg;
}

uint64_t tsdb_wal_tail_pos(const tsdb_wal_tail_t *t)
{
	return t->pos;
}

static int next_exists(tsdb_wal_tail_t *t)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%08d", t->dir, t->seg + 1);
	return stat(p, &st) == 0;
}

int tsdb_wal_tail_read(
    tsdb_wal_tail_t *t, tsdb_wal_rec_fn fn, void *arg, ax_err_t *err)
{
	int delivered = 0;

	for (;;) {
		uint64_t base;
		struct stat st;
		const char *why = NULL;
		int k, more;

		if (t->fd < 0 && tail_open_seg(t, t->seg) != 0) {
			/* the segment may have been removed by a checkpoint:
			 * skip ahead to the oldest one there is */
			int *segs;
			size_t n, i;

			if (tsdb_wal_segments(t->dir, &segs, &n, err) != 0)
				return AX_EIO;
			for (i = 0; i < n && segs[i] <= t->seg; i++)
				;
			if (i < n && tail_open_seg(t, segs[i]) == 0) {
				free(segs);
				continue;
			}
			free(segs);
			return delivered;
		}
		if (fstat(t->fd, &st) != 0)
			return ax_err_set(err, AX_EIO, "stat WAL segment: %s",
			    strerror(errno));
		more = next_exists(t);
		if ((uint64_t)st.st_size <= t->pos) {
			if (more && tail_open_seg(t, t->seg + 1) == 0)
				continue;
			return delivered;
		}
		base = t->pos - t->pos % TSDB_WAL_PAGE_SIZE;
		ax_buf_reset(&t->buf);
		if (ax_buf_reserve(&t->buf, (size_t)st.st_size - base) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		{
			ssize_t got = pread(t->fd, t->buf.p,
			    (size_t)st.st_size - base, (off_t)base);

			if (got < 0)
				return ax_err_set(err, AX_EIO,
				    "read WAL segment: %s", strerror(errno));
			t->buf.len = (size_t)got;
		}
		t->r.b = (const uint8_t *)t->buf.p;
		t->r.len = t->buf.len;
		t->r.pos = t->pos - base;
		while ((k = next_record(&t->r, &why)) == 1) {
			const uint8_t *rec = t->r.rp;
			size_t rlen = t->r.rlen;
			int rv;

			if (t->r.rec_comp) {
				size_t ulen;

				ax_buf_reset(&t->dec);
				if (snappy_uncompressed_length(
				        (const char *)rec, rlen, &ulen) !=
				        SNAPPY_OK ||
				    ulen > (1u << 30) ||
				    ax_buf_reserve(&t->dec, ulen) != 0 ||
				    snappy_uncompress((const char *)rec, rlen,
				        t->dec.p, &ulen) != SNAPPY_OK) {
					k = -1;
					why = "snappy decoding failed";
					break;
				}
				rec = (const uint8_t *)t->dec.p;
				rlen = ulen;
			}
			t->pos = base + t->r.pos;
			delivered++;
			if ((rv = fn(arg, rec, rlen)) != 0)
				return rv;
		}
		if (k == 0)
			t->pos = base + t->r.pos; /* clean end of what exists */
		if (k < 0 && !more)
			return delivered; /* a record still being written */
		if (k < 0) {
			ax_log_warn("WAL tail: corrupt record in a completed "
			            "segment; moving on",
			    "dir", t->dir, "reason", why);
		}
		if (!more)
			return delivered;
		if (tail_open_seg(t, t->seg + 1) != 0)
			return delivered;
	}
}
