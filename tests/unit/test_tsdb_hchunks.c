/*
 * Unit tests: chunks_head (hchunks) -- the file layout, reopening and
 * iterating, damage handling, truncation keeping files contiguous, and
 * the head using it: completed chunks are mapped, a restart loads them
 * and replays only what they do not cover, with no sample lost or
 * doubled.
 */
#include "ax_test.h"
#include "tsdb/fsutil.h"
#include "tsdb/hchunks.h"
#include "tsdb/head.h"
#include "tsdb/record.h"
#include "tsdb/chunk_xor.h"
#include "tsdb/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct seen {
	size_t n;
	uint64_t refs[64];
	int64_t mint[64], maxt[64];
	size_t len[64];
	uint8_t first[64];
} seen_t;

static int collect(void *arg, uint64_t ref, int64_t mint, int64_t maxt,
    const uint8_t *data, size_t len)
{
	seen_t *s = arg;

	if (s->n < 64) {
		s->refs[s->n] = ref;
		s->mint[s->n] = mint;
		s->maxt[s->n] = maxt;
		s->len[s->n] = len;
		s->first[s->n] = data[0];
		s->n++;
	}
	return 0;
}

static void test_files(void **st)
{
	char dir[] = "/tmp/axhcXXXXXX", p[128];
	tsdb_hchunks_t *hc;
	const uint8_t *d;
	uint8_t data[40];
	seen_t s;
	int corrupt, fd, i;
	struct stat sb;
	uint8_t hdr[8];

	(void)st;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 40; i++)
		data[i] = (uint8_t)(i + 1);
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tsdb_hchunks_write(hc, (uint64_t)i + 1, i * 100,
		                     i * 100 + 50, data, 20 + (size_t)i, &d, NULL),
		    0);
		assert_memory_equal(d, data, 20 + (size_t)i);
	}
	tsdb_hchunks_close(hc);
	/* the layout: header magic, version, padding; 3 chunks of
	 * 25 + 1 + len + 4 bytes */
	snprintf(p, sizeof(p), "%s/chunks_head/000001", dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 8 + 3 * 30 + 20 + 21 + 22);
	fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, hdr, 8), 8);
	close(fd);
	assert_int_equal(hdr[0], 0x01);
	assert_int_equal(hdr[1], 0x30);
	assert_int_equal(hdr[2], 0xBC);
	assert_int_equal(hdr[3], 0x91);
	assert_int_equal(hdr[4], 1);
	/* reopen: the chunks come back; a new file is started for writes */
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tsdb_hchunks_iterate(hc, collect, &s, &corrupt, NULL), 0);
	assert_int_equal(corrupt, 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.refs[2], 3);
	assert_int_equal(s.mint[2], 200);
	assert_int_equal(s.maxt[2], 250);
	assert_int_equal(s.len[2], 22);
	assert_int_equal(s.first[1], 1);
	assert_int_equal(
	    tsdb_hchunks_write(hc, 9, 1000, 1100, data, 10, &d, NULL), 0);
	snprintf(p, sizeof(p), "%s/chunks_head/000002", dir);
	assert_int_equal(stat(p, &sb), 0);
	/* truncation keeps the file being written and any file with a
	 * chunk ending at or after mint */
	assert_int_equal(tsdb_hchunks_truncate(hc, 250), 0);
	assert_int_equal(tsdb_hchunks_truncate(hc, 251), 1);
	snprintf(p, sizeof(p), "%s/chunks_head/000001", dir);
	assert_int_not_equal(stat(p, &sb), 0);
	assert_int_equal(tsdb_hchunks_truncate(hc, 5000), 0);
	tsdb_hchunks_close(hc);
	tsdb_fs_rm_rf(dir);
}

static void test_damage(void **st)
{
	char dir[] = "/tmp/axhcXXXXXX", p[128];
	tsdb_hchunks_t *hc;
	const uint8_t *d;
	uint8_t data[16] = {0};
	seen_t s;
	int corrupt, fd, i;
	struct stat sb;

	(void)st;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(tsdb_hchunks_write(hc, 1, i * 10, i * 10 + 5,
		                     data, sizeof(data), &d, NULL),
		    0);
	tsdb_hchunks_close(hc);
	/* a second file after it */
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	assert_int_equal(
	    tsdb_hchunks_write(hc, 1, 100, 105, data, sizeof(data), &d, NULL),
	    0);
	tsdb_hchunks_close(hc);
	/* flip a byte in the third chunk of the first file */
	snprintf(p, sizeof(p), "%s/chunks_head/000001", dir);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 8 + 2 * 46 + 30), 1);
	close(fd);
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tsdb_hchunks_iterate(hc, collect, &s, &corrupt, NULL), 0);
	assert_int_equal(s.n, 2); /* the chunks before the damage */
	tsdb_hchunks_close(hc);
	/* the file was cut at the damage, the later file removed */
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 8 + 2 * 46);
	snprintf(p, sizeof(p), "%s/chunks_head/000002", dir);
	assert_int_not_equal(stat(p, &sb), 0);
	/* a torn tail (half a chunk) is cut the same way */
	snprintf(p, sizeof(p), "%s/chunks_head/000001", dir);
	fd = open(p, O_RDWR | O_APPEND);
	assert_int_equal(write(fd, "\0\0\0\0\0\0\0\1\0\0", 10), 10);
	close(fd);
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tsdb_hchunks_iterate(hc, collect, &s, &corrupt, NULL), 0);
	assert_int_equal(s.n, 2);
	tsdb_hchunks_close(hc);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 8 + 2 * 46);
	tsdb_fs_rm_rf(dir);
}

typedef struct sum_ctx {
	size_t n;
	double sum;
	int64_t last_t;
} sum_ctx_t;

static int sum_fn(void *arg, int64_t t, double v)
{
	sum_ctx_t *c = arg;

	c->n++;
	c->sum += v;
	c->last_t = t;
	return 0;
}

static void test_head_restart(void **st)
{
	char dir[] = "/tmp/axhcXXXXXX", wal[64];
	tsdb_wal_opts_t wo = {0, 1, TSDB_WAL_FSYNC_NEVER};
	tsdb_head_opts_t ho;
	tsdb_wal_t *w;
	tsdb_hchunks_t *hc;
	tsdb_head_t *h;
	ax_labels_t *ls;
	tsdb_sample_in_t smp;
	tsdb_append_result_t r;
	tsdb_wal_replay_stats_t rs;
	tsdb_head_stats_t hs;
	tsdb_hchunks_stats_t cs;
	tsdb_plist_t refs = {0};
	ax_selector_t *sel;
	sum_ctx_t c = {0};
	uint64_t n;
	int i, round;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(wal, sizeof(wal), "%s/wal", dir);
	memset(&ho, 0, sizeof(ho));
	ho.chunk_range_ms = 2 * 3600 * 1000;
	assert_int_equal(ax_labels_from_strings(&ls, NULL, "__name__", "m",
	                     "j", "a", NULL),
	    0);
	for (round = 0; round < 3; round++) {
		assert_int_equal(tsdb_head_new(&ho, &h, NULL), 0);
		assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
		tsdb_head_set_hchunks(h, hc);
		assert_int_equal(tsdb_head_replay(h, wal, &rs, &n, NULL), 0);
		if (round > 0) {
			/* everything mapped came back; the WAL added only the
			 * samples after the last mapped chunk */
			tsdb_head_stats(h, &hs);
			assert_true(hs.chunks >= 2);
			assert_true(n < (uint64_t)round * 300);
		}
		assert_int_equal(tsdb_wal_open(wal, &wo, &w, NULL), 0);
		tsdb_head_set_wal(h, w);
		if (round > 0) {
			/* the newest sample, resent after the restart, is an
			 * exact duplicate; an older one is out of order */
			smp.series = 0;
			smp.t = ((int64_t)round * 300 - 1) * 1000;
			smp.v = round * 300 - 1;
			assert_int_equal(tsdb_head_append(h,
			                     (const ax_labels_t *const *)&ls, 1,
			                     &smp, 1, &r, NULL),
			    0);
			assert_int_equal(r.duplicates_ignored, 1);
			smp.t -= 200000;
			assert_int_equal(tsdb_head_append(h,
			                     (const ax_labels_t *const *)&ls, 1,
			                     &smp, 1, &r, NULL),
			    0);
			assert_int_equal(r.out_of_order, 1);
		}
		/* 300 more samples a round, one a second */
		for (i = 0; i < 300; i++) {
			smp.series = 0;
			smp.t = ((int64_t)round * 300 + i) * 1000;
			smp.v = round * 300 + i;
			assert_int_equal(tsdb_head_append(h,
			                     (const ax_labels_t *const *)&ls, 1,
			                     &smp, 1, &r, NULL),
			    0);
			assert_int_equal(r.accepted, 1);
		}
		tsdb_hchunks_stats(hc, &cs);
		assert_true(cs.chunks_written >= 2);
		tsdb_wal_close(w);
		tsdb_head_free(h);
		tsdb_hchunks_close(hc);
	}
	/* the last start: every sample exactly once */
	assert_int_equal(tsdb_head_new(&ho, &h, NULL), 0);
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	tsdb_head_set_hchunks(h, hc);
	assert_int_equal(tsdb_head_replay(h, wal, &rs, &n, NULL), 0);
	assert_int_equal(ax_selector_parse("m", &sel, NULL), 0);
	assert_int_equal(tsdb_head_select(h, sel->matchers, sel->n_matchers,
	                     INT64_MIN, INT64_MAX, &refs, NULL),
	    0);
	assert_int_equal(refs.n, 1);
	assert_int_equal(tsdb_head_series_samples(tsdb_head_series(h, refs.v[0]),
	                     INT64_MIN, INT64_MAX, sum_fn, &c),
	    0);
	assert_int_equal(c.n, 900);
	assert_true(c.sum == 899.0 * 900 / 2);
	assert_int_equal(c.last_t, 899000);
	/* truncation drops the files whose chunks all fell out */
	tsdb_head_truncate(h, 600000);
	tsdb_hchunks_stats(hc, &cs);
	assert_true(cs.files >= 1);
	c = (sum_ctx_t){0};
	assert_int_equal(tsdb_head_series_samples(tsdb_head_series(h, refs.v[0]),
	                     INT64_MIN, INT64_MAX, sum_fn, &c),
	    0);
	assert_int_equal(c.last_t, 899000);
	assert_true(c.n >= 300 && c.n < 900);
	tsdb_plist_fini(&refs);
	ax_selector_free(sel);
	tsdb_head_free(h);
	tsdb_hchunks_close(hc);
	ax_labels_free(ls);
	tsdb_fs_rm_rf(dir);
}

/* A series whose newest sample is in a mapped chunk and nowhere in the
 * WAL: its last value is read from the chunk when a sample for the same
 * timestamp arrives (exact duplicate ignored, another value refused). */
static void test_last_value_from_chunk(void **st)
{
	char dir[] = "/tmp/axhcXXXXXX", wal[64], cmd[96];
	tsdb_wal_opts_t wo = {0, 1, TSDB_WAL_FSYNC_NEVER};
	tsdb_head_opts_t ho;
	tsdb_wal_t *w;
	tsdb_hchunks_t *hc;
	tsdb_head_t *h;
	tsdb_xor_app_t a;
	const uint8_t *mapped;
	ax_labels_t *ls;
	ax_buf_t rec = AX_BUF_INIT;
	const uint8_t *recs[1];
	size_t lens[1];
	tsdb_sample_in_t smp;
	tsdb_append_result_t r;
	tsdb_wal_replay_stats_t rs;
	uint64_t n;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(wal, sizeof(wal), "%s/wal", dir);
	/* chunks_head: ref 7 holds (1 s, 1.5) (2 s, 2.5) (3 s, 3.5) */
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	assert_int_equal(tsdb_xor_init(&a), 0);
	assert_int_equal(tsdb_xor_append(&a, 1000, 1.5), 0);
	assert_int_equal(tsdb_xor_append(&a, 2000, 2.5), 0);
	assert_int_equal(tsdb_xor_append(&a, 3000, 3.5), 0);
	assert_int_equal(
	    tsdb_hchunks_write(hc, 7, 1000, 3000, a.b, a.len, &mapped, NULL),
	    0);
	tsdb_xor_fini(&a);
	tsdb_hchunks_close(hc); /* a restart */
	/* the WAL: only its series record (Prometheus' layout) */
	ax_buf_putc(&rec, TSDB_REC_SERIES);
	ax_buf_put_be64(&rec, 7);
	ax_buf_put_uvarint(&rec, 2);
	ax_buf_put_uvstr(&rec, "__name__");
	ax_buf_put_uvstr(&rec, "m");
	ax_buf_put_uvstr(&rec, "j");
	ax_buf_put_uvstr(&rec, "a");
	assert_int_equal(tsdb_wal_open(wal, &wo, &w, NULL), 0);
	recs[0] = (const uint8_t *)rec.p;
	lens[0] = rec.len;
	assert_int_equal(tsdb_wal_log(w, recs, lens, 1, NULL), 0);
	tsdb_wal_close(w);
	ax_buf_fini(&rec);

	memset(&ho, 0, sizeof(ho));
	ho.chunk_range_ms = 2 * 3600 * 1000;
	assert_int_equal(tsdb_head_new(&ho, &h, NULL), 0);
	assert_int_equal(tsdb_hchunks_open(dir, &hc, NULL), 0);
	tsdb_head_set_hchunks(h, hc);
	assert_int_equal(tsdb_head_replay(h, wal, &rs, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    ax_labels_from_strings(&ls, NULL, "__name__", "m", "j", "a", NULL),
	    0);
	smp.series = 0;
	smp.t = 3000;
	smp.v = 3.5;
	assert_int_equal(tsdb_head_append(h, (const ax_labels_t *const *)&ls, 1,
	                     &smp, 1, &r, NULL),
	    0);
	if (r.duplicates_ignored != 1)
		fail_msg("accepted %zu ooo %zu bounds %zu dupts %zu",
		    (size_t)r.accepted, (size_t)r.out_of_order,
		    (size_t)r.out_of_bounds, (size_t)r.duplicate_timestamp);
	smp.v = 9;
	assert_int_equal(tsdb_head_append(h, (const ax_labels_t *const *)&ls, 1,
	                     &smp, 1, &r, NULL),
	    0);
	assert_int_equal(r.duplicate_timestamp, 1);
	smp.t = 4000;
	assert_int_equal(tsdb_head_append(h, (const ax_labels_t *const *)&ls, 1,
	                     &smp, 1, &r, NULL),
	    0);
	assert_int_equal(r.accepted, 1);
	ax_labels_free(ls);
	tsdb_head_free(h);
	tsdb_hchunks_close(hc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_head_restart),
	    cmocka_unit_test(test_last_value_from_chunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
