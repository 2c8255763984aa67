/*
 * Unit tests: tsdb WAL (Prometheus format: pages, fragments, CRC, snappy,
 * segments, torn-tail repair, undo of failed writes) and WAL records.
 */
#include "ax_test.h"
#include "ax_crc32c.h"
#include "ax_log.h"
#include "tsdb/record.h"
#include "tsdb/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/axwalXXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

typedef struct collected {
	size_t n;
	size_t lens[4096];
	uint8_t first[4096];
	uint32_t crc[4096];
} collected_t;

static int collect(void *arg, const uint8_t *rec, size_t len)
{
	collected_t *c = arg;

	if (c->n < 4096) {
		c->lens[c->n] = len;
		c->first[c->n] = len ? rec[0] : 0;
		c->crc[c->n] = ax_crc32c(0, rec, len);
	}
	c->n++;
	return 0;
}

/* Records of varied sizes: empty, tiny, page-spanning, multi-page,
 * compressible and not. */
static uint8_t *make_rec(size_t i, size_t *len)
{
	static const size_t sizes[] = {
	    0, 1, 100, 32761, 32762, 40000, 100000, 7};
	size_t n = sizes[i % 8] + i, k;
	uint8_t *r = malloc(n ? n : 1);
	uint32_t x = (uint32_t)i * 2654435761u;

	for (k = 0; k < n; k++) {
		if (i % 3 == 0) {
			r[k] = (uint8_t)(k % 7); /* compressible */
		} else {
			x = x * 1103515245u + 12345u;
			r[k] = (uint8_t)(x >> 16);
		}
	}
	if (n)
		r[0] = (uint8_t)(i & 0xff);
	*len = n;
	return r;
}

static void write_and_check(int compress, size_t seg_size)
{
	tsdb_wal_opts_t o = {seg_size, compress, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	collected_t *c = calloc(1, sizeof(*c));
	tsdb_wal_replay_stats_t st;
	size_t i, len;
	int nrec = 60;

	mkdir_tmp();
	assert_int_equal(tsdb_wal_open(dir, &o, &w, NULL), 0);
	for (i = 0; i < (size_t)nrec; i += 2) {
		size_t l2[2];
		uint8_t *r2[2];

		r2[0] = make_rec(i, &l2[0]);
		r2[1] = make_rec(i + 1, &l2[1]);
		assert_int_equal(
		    tsdb_wal_log(w, (const uint8_t *const *)r2, l2, 2, NULL),
		    0);
		free(r2[0]);
		free(r2[1]);
	}
	tsdb_wal_close(w);
	assert_int_equal(tsdb_wal_replay(dir, 0, 1, collect, c, &st, NULL), 0);
	assert_int_equal(c->n, (size_t)nrec);
	assert_int_equal(st.corruptions, 0);
	if (seg_size < 200000)
		assert_true(st.segments > 1);
	for (i = 0; i < (size_t)nrec; i++) {
		uint8_t *r = make_rec(i, &len);

		assert_int_equal(c->lens[i], len);
		assert_int_equal(c->crc[i], ax_crc32c(0, r, len));
		free(r);
	}
	free(c);
	rm_tmp();
}

static void test_roundtrip_plain(void **st)
{
	(void)st;
	write_and_check(0, TSDB_WAL_DEFAULT_SEGMENT_SIZE);
}

static void test_roundtrip_snappy_small_segments(void **st)
{
	(void)st;
	write_and_check(1, 4 * TSDB_WAL_PAGE_SIZE);
}

static void test_layout_on_disk(void **st)
{
	tsdb_wal_opts_t o = {0, 0, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	const uint8_t rec[] = {1, 2, 3, 4, 5};
	const uint8_t *recs[1] = {rec};
	size_t lens[1] = {5};
	uint8_t buf[64];
	char path[300];
	int fd;
	uint32_t crc;

	(void)st;
	mkdir_tmp();
	assert_int_equal(tsdb_wal_open(dir, &o, &w, NULL), 0);
	assert_int_equal(tsdb_wal_log(w, recs, lens, 1, NULL), 0);
	/* after log() returns the bytes are in the file (write(2)) */
	snprintf(path, sizeof(path), "%s/00000000", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);
	close(fd);
	crc = ax_crc32c(0, rec, 5);
	assert_int_equal(buf[0], 1); /* full record */
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 5);
	assert_int_equal(((uint32_t)buf[3] << 24 | (uint32_t)buf[4] << 16 |
	                     (uint32_t)buf[5] << 8 | buf[6]),
	    crc);
	assert_memory_equal(buf + 7, rec, 5);
	/* next segment pads the page */
	assert_int_equal(tsdb_wal_next_segment(w, NULL), 0);
	tsdb_wal_close(w);
	{
		struct stat sb;

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, TSDB_WAL_PAGE_SIZE);
	}
	/* reopening starts a fresh segment after the last */
	assert_int_equal(tsdb_wal_open(dir, &o, &w, NULL), 0);
	assert_int_equal(tsdb_wal_current_segment(w), 2);
	tsdb_wal_close(w);
	rm_tmp();
}

static void test_torn_tail_repaired(void **st)
{
	tsdb_wal_opts_t o = {0, 1, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	collected_t *c = calloc(1, sizeof(*c));
	tsdb_wal_replay_stats_t rs;
	char path[300];
	struct stat sb;
	size_t i, len;
	off_t cut;

	(void)st;
	mkdir_tmp();
	assert_int_equal(tsdb_wal_open(dir, &o, &w, NULL), 0);
	for (i = 1; i <= 10; i++) {
		uint8_t *r = make_rec(i, &len);
		const uint8_t *rr[1] = {r};

		assert_int_equal(tsdb_wal_log(w, rr, &len, 1, NULL), 0);
		free(r);
	}
	tsdb_wal_close(w);
	snprintf(path, sizeof(path), "%s/00000000", dir);
	assert_int_equal(stat(path, &sb), 0);
	cut = sb.st_size - 5; /* tear the last record */
	assert_int_equal(truncate(path, cut), 0);
	assert_int_equal(tsdb_wal_replay(dir, 0, 1, collect, c, &rs, NULL), 0);
	assert_int_equal(c->n, 9);
	assert_int_equal(rs.corruptions, 1);
	assert_true(rs.truncated_bytes > 0);
	/* a second replay is clean and gives the same records */
	memset(c, 0, sizeof(*c));
	assert_int_equal(tsdb_wal_replay(dir, 0, 1, collect, c, &rs, NULL), 0);
	assert_int_equal(c->n, 9);
	assert_int_equal(rs.corruptions, 0);
	/* flip a byte in the middle: replay stops before it */
	assert_int_equal(stat(path, &sb), 0);
	{
		int fd = open(path, O_RDWR);
		uint8_t b;

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &b, 1, sb.st_size / 2), 1);
		b ^= 0xff;
		assert_int_equal(pwrite(fd, &b, 1, sb.st_size / 2), 1);
		close(fd);
	}
	memset(c, 0, sizeof(*c));
	assert_int_equal(tsdb_wal_replay(dir, 0, 0, collect, c, &rs, NULL), 0);
	assert_true(c->n < 9);
	assert_int_equal(rs.corruptions, 1);
	free(c);
	rm_tmp();
}

static void test_failed_write_is_undone(void **st)
{
	tsdb_wal_opts_t o = {0, 0, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	collected_t *c = calloc(1, sizeof(*c));
	tsdb_wal_replay_stats_t rs;
	struct rlimit old, lim;
	uint8_t *big = calloc(1, 300000);
	const uint8_t *rr[1];
	size_t len;
	ax_err_t e;
	int rv;

	(void)st;
	mkdir_tmp();
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(tsdb_wal_open(dir, &o, &w, NULL), 0);
	len = 1000;
	rr[0] = big;
	assert_int_equal(tsdb_wal_log(w, rr, &len, 1, NULL), 0);
	/* the file may grow to 100 KB: a 300 KB record fails half-written */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 100000;
	setrlimit(RLIMIT_FSIZE, &lim);
	len = 300000;
	rv = tsdb_wal_log(w, rr, &len, 1, &e);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_not_equal(rv, 0);
	/* afterwards the log works and holds no trace of the failed batch */
	len = 2000;
	assert_int_equal(tsdb_wal_log(w, rr, &len, 1, NULL), 0);
	tsdb_wal_close(w);
	assert_int_equal(tsdb_wal_replay(dir, 0, 0, collect, c, &rs, NULL), 0);
	assert_int_equal(rs.corruptions, 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->lens[0], 1000);
	assert_int_equal(c->lens[1], 2000);
	free(c);
	free(big);
	rm_tmp();
}

/* ---- records ---- */

typedef struct series_seen {
	int n;
	uint64_t refs[8];
	char fmt[8][128];
} series_seen_t;

static int on_series(void *arg, uint64_t ref, const ax_labels_t *ls)
{
	series_seen_t *s = arg;
	ax_buf_t b = AX_BUF_INIT;

	ax_labels_format(ls, &b);
	s->refs[s->n] = ref;
	snprintf(s->fmt[s->n], sizeof(s->fmt[0]), "%s", b.p);
	s->n++;
	ax_buf_fini(&b);
	return 0;
}

static int on_meta(void *arg, const tsdb_rec_metadata_t *m)
{
	int *n = arg;

	assert_int_equal(m->ref, 7);
	assert_int_equal(m->type, 1);
	assert_string_equal(m->unit, "seconds");
	assert_string_equal(m->help, "Total CPU.");
	(*n)++;
	return 0;
}

static void test_records(void **st)
{
	ax_buf_t b = AX_BUF_INIT;
	ax_labels_t *a, *c;
	series_seen_t seen = {0};
	tsdb_rec_sample_t s[3] = {{5, 1000, 1.5}, {3, 900, -2}, {5, 2000, NAN}};
	tsdb_rec_sample_t *out = NULL;
	tsdb_rec_tombstone_t ts = {9, -10, 20}, *tout = NULL;
	tsdb_rec_metadata_t m = {7, 1, "seconds", "Total CPU."};
	size_t cap = 0, n, tcap = 0;
	int nm = 0;
	ax_err_t e;

	(void)st;
	assert_int_equal(ax_labels_from_strings(
	                     &a, NULL, "__name__", "up", "job", "x", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(
	                     &c, NULL, "__name__", "up", "job", "y", NULL),
	    0);
	tsdb_rec_series_begin(&b);
	tsdb_rec_series_add(&b, 1, a);
	tsdb_rec_series_add(&b, 1ULL << 40, c);
	assert_int_equal(tsdb_rec_type((uint8_t *)b.p, b.len), TSDB_REC_SERIES);
	assert_int_equal(tsdb_rec_decode_series(
	                     (uint8_t *)b.p, b.len, on_series, &seen, NULL),
	    0);
	assert_int_equal(seen.n, 2);
	assert_true(seen.refs[1] == 1ULL << 40);
	assert_string_equal(seen.fmt[0], "up{job=\"x\"}");
	assert_string_equal(seen.fmt[1], "up{job=\"y\"}");
	/* a cut record is an error, not a crash */
	assert_int_equal(tsdb_rec_decode_series(
	                     (uint8_t *)b.p, b.len - 3, on_series, &seen, &e),
	    AX_EPROTO);

	ax_buf_reset(&b);
	tsdb_rec_samples(&b, s, 3);
	assert_int_equal(tsdb_rec_decode_samples(
	                     (uint8_t *)b.p, b.len, &out, &cap, &n, NULL),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(out[1].ref, 3);
	assert_int_equal(out[1].t, 900);
	assert_true(out[1].v == -2);
	assert_true(isnan(out[2].v));
	assert_int_equal(tsdb_rec_decode_samples(
	                     (uint8_t *)b.p, b.len - 1, &out, &cap, &n, &e),
	    AX_EPROTO);
	ax_buf_reset(&b);
	tsdb_rec_samples(&b, s, 0);
	assert_int_equal(b.len, 1);
	assert_int_equal(tsdb_rec_decode_samples(
	                     (uint8_t *)b.p, b.len, &out, &cap, &n, NULL),
	    0);
	assert_int_equal(n, 0);

	ax_buf_reset(&b);
	tsdb_rec_tombstones(&b, &ts, 1);
	assert_int_equal(tsdb_rec_decode_tombstones(
	                     (uint8_t *)b.p, b.len, &tout, &tcap, &n, NULL),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(tout[0].mint, -10);
	assert_int_equal(tout[0].maxt, 20);

	ax_buf_reset(&b);
	tsdb_rec_metadata(&b, &m, 1);
	assert_int_equal(
	    tsdb_rec_decode_metadata((uint8_t *)b.p, b.len, on_meta, &nm, NULL),
	    0);
	assert_int_equal(nm, 1);

	free(out);
	free(tout);
	ax_buf_fini(&b);
	ax_labels_free(a);
	ax_labels_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_plain),
	    cmocka_unit_test(test_roundtrip_snappy_small_segments),
	    cmocka_unit_test(test_layout_on_disk),
	    cmocka_unit_test(test_torn_tail_repaired),
	    cmocka_unit_test(test_failed_write_is_undone),
	    cmocka_unit_test(test_records),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
