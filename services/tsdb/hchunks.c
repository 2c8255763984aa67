/*
 * hchunks: head chunks on disk in Prometheus' chunks_head format (see
 * hchunks.h).
 */
#include "tsdb/hchunks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ax_crc32c.h"
#include "ax_log.h"
#include "tsdb/fsutil.h"

#define HDR_LEN 8
/* ref + mint + maxt + encoding + the longest uvarint */
#define CHUNK_PREFIX_MAX (8 + 8 + 8 + 1 + 10)
#define ENC_XOR 1

typedef struct hfile {
	uint32_t seq;
	int fd;
	uint8_t *map; /* TSDB_HCHUNKS_MAX_FILE bytes reserved */
	size_t size;  /* valid bytes */
	int64_t maxt; /* over its chunks; INT64_MIN when none */
} hfile_t;

struct tsdb_hchunks {
	char dir[PATH_MAX];
	pthread_mutex_t mu;
	hfile_t *f;
	size_t n, cap;
	size_t n_loaded; /* files present at open (iterate walks these) */
	int writing;     /* f[n-1] is the file being written */
	uint64_t written, write_errors;
};

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void file_path(const tsdb_hchunks_t *hc, uint32_t seq, char *out,
    size_t cap)
{
	snprintf(out, cap, "%s/%06u", hc->dir, seq);
}

static void file_close(hfile_t *f)
{
	if (f->map)
		munmap(f->map, TSDB_HCHUNKS_MAX_FILE);
	if (f->fd >= 0)
		close(f->fd);
	f->map = NULL;
	f->fd = -1;
}

/* Remove files i.. from disk and the list. */
static void drop_from(tsdb_hchunks_t *hc, size_t i)
{
	char p[PATH_MAX + 16];

	while (hc->n > i) {
		hfile_t *f = &hc->f[--hc->n];

		file_close(f);
		file_path(hc, f->seq, p, sizeof(p));
		unlink(p);
	}
	if (hc->n_loaded > hc->n)
		hc->n_loaded = hc->n;
}

/* Parse the chunk at off of f: 1 with the fields, 0 at the clean end, -1
 * when damaged. */
static int parse_chunk(const hfile_t *f, size_t off, uint64_t *ref,
    int64_t *mint, int64_t *maxt, const uint8_t **data, size_t *len,
    size_t *next)
{
	const uint8_t *p = f->map + off;
	size_t avail = f->size - off, i = 25, shift = 0;
	uint64_t l = 0;

	if (avail == 0)
		return 0;
	if (avail < 25 + 1 + 4)
		return -1;
	if ((p[24] & 0x7f) != ENC_XOR)
		return -1;
	for (;; i++) {
		if (i >= avail || shift > 63)
			return -1;
		l |= (uint64_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if (!(p[i] & 0x80))
			break;
	}
	i++;
	if (l > avail || i + l + 4 > avail)
		return -1;
	if (ax_crc32c(0, p, i + l) != get_be32(p + i + l))
		return -1;
	*ref = get_be64(p);
	*mint = (int64_t)get_be64(p + 8);
	*maxt = (int64_t)get_be64(p + 16);
	*data = p + i;
	*len = (size_t)l;
	*next = off + i + l + 4;
	return 1;
}

static int seq_cmp(const void *a, const void *b)
{
	uint32_t x = ((const hfile_t *)a)->seq, y = ((const hfile_t *)b)->seq;

	return x < y ? -1 : x > y;
}

static int map_file(hfile_t *f)
{
	void *m = mmap(NULL, TSDB_HCHUNKS_MAX_FILE, PROT_READ, MAP_SHARED,
	    f->fd, 0);

	if (m == MAP_FAILED)
		return -1;
	f->map = m;
	return 0;
}

int tsdb_hchunks_open(const char *data_dir, tsdb_hchunks_t **out, ax_err_t *err)
{
	tsdb_hchunks_t *hc = calloc(1, sizeof(*hc));
	DIR *d;
	struct dirent *de;
	size_t i;

	if (hc == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_init(&hc->mu, NULL);
	snprintf(hc->dir, sizeof(hc->dir), "%s/chunks_head", data_dir);
	if (mkdir(hc->dir, 0777) != 0 && errno != EEXIST) {
		ax_err_set(err, AX_EIO, "create %s: %s", hc->dir, strerror(errno));
		tsdb_hchunks_close(hc);
		return AX_EIO;
	}
	if ((d = opendir(hc->dir)) == NULL) {
		ax_err_set(err, AX_EIO, "open %s: %s", hc->dir, strerror(errno));
		tsdb_hchunks_close(hc);
		return AX_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long seq = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end != '\0' ||
		    seq == 0 || seq > UINT32_MAX)
			continue;
		if (hc->n == hc->cap) {
			size_t nc = hc->cap ? hc->cap * 2 : 8;
			hfile_t *nf = realloc(hc->f, nc * sizeof(*nf));

			if (nf == NULL) {
				closedir(d);
				tsdb_hchunks_close(hc);
				return ax_err_set(err, AX_ENOMEM, "out of memory");
			}
			hc->f = nf;
			hc->cap = nc;
		}
		memset(&hc->f[hc->n], 0, sizeof(hc->f[0]));
		hc->f[hc->n].seq = (uint32_t)seq;
		hc->f[hc->n].fd = -1;
		hc->f[hc->n].maxt = INT64_MIN;
		hc->n++;
	}
	closedir(d);
	if (hc->n > 1)
		qsort(hc->f, hc->n, sizeof(*hc->f), seq_cmp);
	/* open, check and scan each file; damage ends the list */
	for (i = 0; i < hc->n; i++) {
		hfile_t *f = &hc->f[i];
		char p[PATH_MAX + 16];
		struct stat st;
		size_t off;
		int r = 1;

		file_path(hc, f->seq, p, sizeof(p));
		if (i > 0 && f->seq != hc->f[i - 1].seq + 1) {
			ax_log_warn("chunks_head: files not in sequence; the WAL "
			            "rebuilds the later ones",
			    "file", p);
			drop_from(hc, i);
			break;
		}
		f->fd = open(p, O_RDWR | O_CLOEXEC);
		if (f->fd < 0 || fstat(f->fd, &st) != 0 ||
		    (size_t)st.st_size > TSDB_HCHUNKS_MAX_FILE ||
		    map_file(f) != 0) {
			ax_log_warn("chunks_head: cannot open a file; the WAL "
			            "rebuilds it",
			    "file", p, "err", strerror(errno));
			drop_from(hc, i);
			break;
		}
		f->size = (size_t)st.st_size;
		if (f->size < HDR_LEN || get_be32(f->map) != TSDB_HCHUNKS_MAGIC ||
		    f->map[4] != 1) {
			if (f->size > 0)
				ax_log_warn("chunks_head: bad file header; the "
				            "WAL rebuilds it",
				    "file", p);
			drop_from(hc, i);
			break;
		}
		for (off = HDR_LEN; r == 1;) {
			uint64_t ref;
			int64_t mint, maxt;
			const uint8_t *data;
			size_t len, next;

			r = parse_chunk(
			    f, off, &ref, &mint, &maxt, &data, &len, &next);
			if (r == 1) {
				if (maxt > f->maxt)
					f->maxt = maxt;
				off = next;
			}
		}
		if (r < 0) {
			ax_log_warn("chunks_head: damaged chunk; the file is cut "
			            "there and the WAL rebuilds the rest",
			    "file", p);
			if (ftruncate(f->fd, (off_t)off) == 0)
				f->size = off;
			drop_from(hc, i + 1);
			hc->n_loaded = hc->n;
			break;
		}
	}
	hc->n_loaded = hc->n;
	*out = hc;
	return 0;
}

void tsdb_hchunks_close(tsdb_hchunks_t *hc)
{
	size_t i;

	if (hc == NULL)
		return;
	for (i = 0; i < hc->n; i++) {
		if (hc->writing && i == hc->n - 1 && hc->f[i].fd >= 0)
			fdatasync(hc->f[i].fd);
		file_close(&hc->f[i]);
	}
	free(hc->f);
	pthread_mutex_destroy(&hc->mu);
	free(hc);
}

int tsdb_hchunks_iterate(tsdb_hchunks_t *hc, tsdb_hchunk_fn fn, void *arg,
    int *corrupt, ax_err_t *err)
{
	size_t i;
	int rv = 0;

	(void)err;
	*corrupt = 0;
	for (i = 0; i < hc->n_loaded && rv == 0; i++) {
		hfile_t *f = &hc->f[i];
		size_t off = HDR_LEN;

		for (;;) {
			uint64_t ref;
			int64_t mint, maxt;
			const uint8_t *data;
			size_t len, next;
			int r = parse_chunk(
			    f, off, &ref, &mint, &maxt, &data, &len, &next);

			if (r <= 0) {
				if (r < 0)
					*corrupt = 1;
				break;
			}
			if ((rv = fn(arg, ref, mint, maxt, data, len)) != 0)
				break;
			off = next;
		}
	}
	return rv;
}

/* Start a new file after the last one (mu held). */
static int cut_file(tsdb_hchunks_t *hc, ax_err_t *err)
{
	hfile_t f;
	char p[PATH_MAX + 16];
	uint8_t hdr[HDR_LEN] = {0x01, 0x30, 0xBC, 0x91, 1, 0, 0, 0};

	memset(&f, 0, sizeof(f));
	f.seq = hc->n ? hc->f[hc->n - 1].seq + 1 : 1;
	f.maxt = INT64_MIN;
	if (hc->writing && hc->n > 0)
		fdatasync(hc->f[hc->n - 1].fd);
	if (hc->n == hc->cap) {
		size_t nc = hc->cap ? hc->cap * 2 : 8;
		hfile_t *nf = realloc(hc->f, nc * sizeof(*nf));

		if (nf == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		hc->f = nf;
		hc->cap = nc;
	}
	file_path(hc, f.seq, p, sizeof(p));
	f.fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (f.fd < 0)
		return ax_err_set(err, AX_EIO, "create %s: %s", p, strerror(errno));
	if (pwrite(f.fd, hdr, HDR_LEN, 0) != HDR_LEN || map_file(&f) != 0) {
		int e = errno;

		close(f.fd);
		unlink(p);
		return ax_err_set(err, AX_EIO, "write %s: %s", p, strerror(e));
	}
	f.size = HDR_LEN;
	hc->f[hc->n++] = f;
	hc->writing = 1;
	tsdb_fs_sync_dir(hc->dir);
	return 0;
}

int tsdb_hchunks_write(tsdb_hchunks_t *hc, uint64_t ref, int64_t mint,
    int64_t maxt, const uint8_t *b, size_t len, const uint8_t **data,
    ax_err_t *err)
{
	uint8_t pre[CHUNK_PREFIX_MAX], crc[4];
	size_t np = 25, need;
	uint64_t l = len;
	uint32_t c;
	struct iovec iov[3];
	hfile_t *f;
	ssize_t w;
	int rv;

	put_be64(pre, ref);
	put_be64(pre + 8, (uint64_t)mint);
	put_be64(pre + 16, (uint64_t)maxt);
	pre[24] = ENC_XOR;
	do {
		pre[np++] = (uint8_t)(l | (l >= 0x80 ? 0x80 : 0));
		l >>= 7;
	} while (l > 0);
	c = ax_crc32c(ax_crc32c(0, pre, np), b, len);
	crc[0] = (uint8_t)(c >> 24);
	crc[1] = (uint8_t)(c >> 16);
	crc[2] = (uint8_t)(c >> 8);
	crc[3] = (uint8_t)c;
	need = np + len + 4;
	pthread_mutex_lock(&hc->mu);
	if (!hc->writing ||
	    hc->f[hc->n - 1].size + need > TSDB_HCHUNKS_MAX_FILE) {
		if ((rv = cut_file(hc, err)) != 0) {
			hc->write_errors++;
			pthread_mutex_unlock(&hc->mu);
			return rv;
		}
	}
	f = &hc->f[hc->n - 1];
	iov[0].iov_base = pre;
	iov[0].iov_len = np;
	iov[1].iov_base = (void *)b;
	iov[1].iov_len = len;
	iov[2].iov_base = crc;
	iov[2].iov_len = 4;
	w = pwritev(f->fd, iov, 3, (off_t)f->size);
	if (w != (ssize_t)need) {
		int e = w < 0 ? errno : ENOSPC;

		/* never leave half a chunk behind */
		if (ftruncate(f->fd, (off_t)f->size) != 0)
			ax_log_warn("chunks_head: cannot cut a partial write",
			    "err", strerror(errno));
		hc->write_errors++;
		pthread_mutex_unlock(&hc->mu);
		return ax_err_set(err, AX_EIO, "chunks_head write: %s",
		    strerror(e));
	}
	*data = f->map + f->size + np;
	f->size += need;
	if (maxt > f->maxt)
		f->maxt = maxt;
	hc->written++;
	pthread_mutex_unlock(&hc->mu);
	return 0;
}

size_t tsdb_hchunks_truncate(tsdb_hchunks_t *hc, int64_t mint)
{
	size_t k = 0, i, keep_last;
	char p[PATH_MAX + 16];

	if (hc == NULL)
		return 0;
	pthread_mutex_lock(&hc->mu);
	keep_last = hc->writing ? 1 : 0;
	while (k + keep_last < hc->n && hc->f[k].maxt < mint)
		k++;
	for (i = 0; i < k; i++) {
		file_close(&hc->f[i]);
		file_path(hc, hc->f[i].seq, p, sizeof(p));
		unlink(p);
	}
	if (k > 0) {
		memmove(hc->f, hc->f + k, (hc->n - k) * sizeof(*hc->f));
		hc->n -= k;
		hc->n_loaded = hc->n_loaded > k ? hc->n_loaded - k : 0;
		tsdb_fs_sync_dir(hc->dir);
	}
	pthread_mutex_unlock(&hc->mu);
	return k;
}

void tsdb_hchunks_stats(tsdb_hchunks_t *hc, tsdb_hchunks_stats_t *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	if (hc == NULL)
		return;
	pthread_mutex_lock(&hc->mu);
	st->files = hc->n;
	for (i = 0; i < hc->n; i++)
		st->bytes += hc->f[i].size;
	st->chunks_written = hc->written;
	st->write_errors = hc->write_errors;
	pthread_mutex_unlock(&hc->mu);
}
