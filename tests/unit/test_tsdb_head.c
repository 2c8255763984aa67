/*
 * Unit tests: tsdb head (append rules, chunk cutting, select with
 * Prometheus' matcher rules, label APIs) and WAL replay into a new head.
 */
#include "ax_test.h"
#include "ax_log.h"
#include "ax_units.h"
#include "tsdb/head.h"
#include "tsdb/record.h"
#include "tsdb/wal.h"

#include <math.h>
#include <unistd.h>

static ax_labels_t *L(const char *name, const char *job, const char *inst)
{
	ax_labels_t *ls;

	assert_int_equal(ax_labels_from_strings(&ls, NULL, "__name__", name,
	                     "job", job, "instance", inst, NULL),
	    0);
	return ls;
}

typedef struct sum_ctx {
	int n;
	int64_t first_t, last_t;
	double sum;
} sum_ctx_t;

static int sum_fn(void *arg, int64_t t, double v)
{
	sum_ctx_t *c = arg;

	if (c->n == 0)
		c->first_t = t;
	c->last_t = t;
	c->n++;
	c->sum += v;
	return 0;
}

static tsdb_head_t *new_head(void)
{
	tsdb_head_opts_t o;

	memset(&o, 0, sizeof(o));
	tsdb_head_t *h;

	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	return h;
}

static void test_append_rules(void **st)
{
	tsdb_head_t *h = new_head();
	ax_labels_t *a = L("up", "node", "a:1");
	const ax_labels_t *ser[2] = {a, a};
	tsdb_sample_in_t s[] = {
	    {0, 1000, 1},
	    {0, 2000, 1},
	    {1, 3000, 0}, /* idx 1 = same series */
	    {0, 2500, 5}, /* out of order */
	    {0, 3000, 0}, /* exact duplicate: ignored */
	    {0, 3000, 7}, /* same ts, other value */
	    {0, 4000, NAN},
	};
	tsdb_append_result_t r;
	sum_ctx_t c = {0};
	tsdb_plist_t refs = {0};
	ax_matcher_t *m;

	(void)st;
	assert_int_equal(tsdb_head_append(h, ser, 2, s, 7, &r, NULL), 0);
	assert_int_equal(r.accepted, 4);
	assert_int_equal(r.out_of_order, 1);
	assert_int_equal(r.duplicates_ignored, 1);
	assert_int_equal(r.duplicate_timestamp, 1);
	assert_string_equal(r.first_error, "out of order sample");
	/* a resend of the whole batch changes nothing */
	assert_int_equal(tsdb_head_append(h, ser, 2, s, 3, &r, NULL), 0);
	assert_int_equal(r.accepted, 0);
	assert_int_equal(r.out_of_order, 3); /* all before 4000 */
	assert_int_equal(
	    ax_matcher_new(AX_MATCH_EQUAL, "job", "node", &m, NULL), 0);
	assert_int_equal(tsdb_head_select(h, &m, 1, 0, 10000, &refs, NULL), 0);
	assert_int_equal(refs.n, 1);
	assert_int_equal(
	    tsdb_head_series_samples(
	        tsdb_head_series(h, refs.v[0]), 0, 3500, sum_fn, &c),
	    0);
	assert_int_equal(c.n, 3);
	assert_true(c.sum == 2);
	/* out-of-range query window */
	assert_int_equal(
	    tsdb_head_select(h, &m, 1, 5000, 6000, &refs, NULL), 0);
	assert_int_equal(refs.n, 0);
	tsdb_plist_fini(&refs);
	ax_matcher_free(m);
	ax_labels_free(a);
	tsdb_head_free(h);
}

static void test_invalid_and_bounds(void **st)
{
	tsdb_head_t *h = new_head();
	ax_labels_t *bad, *ok = L("x", "j", "i"), *empty;
	const ax_labels_t *ser[3];
	tsdb_sample_in_t s[] = {{0, 10, 1}, {1, 10 * 3600 * 1000LL, 1},
	    {2, 5, 5}, {1, 3600 * 1000LL, 2}};
	tsdb_append_result_t r;

	(void)st;
	assert_int_equal(ax_labels_from_strings(&bad, NULL, "__name__", "x",
	                     "bad-name", "v", NULL),
	    0);
	assert_int_equal(ax_labels_new(NULL, 0, &empty, NULL), 0);
	ser[0] = bad;
	ser[1] = ok;
	ser[2] = empty;
	assert_int_equal(tsdb_head_append(h, ser, 3, s, 3, &r, NULL), 0);
	assert_int_equal(r.invalid, 2); /* the samples of the 2 bad series */
	assert_int_equal(r.accepted, 1);
	/* the next batch may not reach back more than half a block range */
	assert_int_equal(tsdb_head_append(h, ser, 3, s + 3, 1, &r, NULL), 0);
	assert_int_equal(r.out_of_bounds, 1);
	assert_int_equal(r.accepted, 0);
	ax_labels_free(bad);
	ax_labels_free(ok);
	ax_labels_free(empty);
	tsdb_head_free(h);
}

static void test_absurd_timestamps(void **st)
{
	tsdb_head_opts_t o;
	tsdb_head_t *h;
	ax_labels_t *a = L("x", "j", "i");
	const ax_labels_t *ser[1] = {a};
	int64_t now = ax_now_ms();
	tsdb_sample_in_t s[] = {
	    {0, now - 1000, 1},
	    {0, now * 1000000, 2},       /* nanoseconds taken as ms */
	    {0, now + 3600 * 1000LL, 3}, /* an hour ahead */
	    {0, -70000000000000LL, 4},   /* before year 1 */
	    {0, now + 60 * 1000LL, 5},   /* within the tolerance */
	};
	tsdb_append_result_t r;
	sum_ctx_t c = {0};
	tsdb_plist_t refs = {0};
	ax_matcher_t *m;

	(void)st;
	memset(&o, 0, sizeof(o));
	o.max_future_ms = 10 * 60 * 1000;
	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	assert_int_equal(tsdb_head_append(h, ser, 1, s, 5, &r, NULL), 0);
	assert_int_equal(r.accepted, 2);
	assert_int_equal(r.invalid, 3);
	assert_non_null(strstr(r.first_error, "out of range"));
	/* the head's window did not move: live samples still go in */
	s[0].t = now + 2 * 60 * 1000LL;
	assert_int_equal(tsdb_head_append(h, ser, 1, s, 1, &r, NULL), 0);
	assert_int_equal(r.accepted, 1);
	assert_int_equal(
	    ax_matcher_new(AX_MATCH_EQUAL, "job", "j", &m, NULL), 0);
	assert_int_equal(
	    tsdb_head_select(h, &m, 1, INT64_MIN, INT64_MAX, &refs, NULL), 0);
	assert_int_equal(refs.n, 1);
	assert_int_equal(
	    tsdb_head_series_samples(tsdb_head_series(h, refs.v[0]), INT64_MIN,
	        INT64_MAX, sum_fn, &c),
	    0);
	assert_int_equal(c.n, 3);
	assert_true(c.sum == 1 + 5 + 1);
	tsdb_plist_fini(&refs);
	ax_matcher_free(m);
	tsdb_head_free(h);
	/* without a future limit, year 9999 is still the end */
	o.max_future_ms = 0;
	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	s[0].t = now + 3600 * 1000LL;
	s[1].t = 253402300800000LL;
	assert_int_equal(tsdb_head_append(h, ser, 1, s, 2, &r, NULL), 0);
	assert_int_equal(r.accepted, 1);
	assert_int_equal(r.invalid, 1);
	tsdb_head_free(h);
	ax_labels_free(a);
}

static void test_chunks_cut_like_prometheus(void **st)
{
	tsdb_head_t *h = new_head();
	ax_labels_t *a = L("c", "j", "i");
	const ax_labels_t *ser[1] = {a};
	tsdb_sample_in_t s[1];
	tsdb_append_result_t r;
	tsdb_series_t *se;
	int i;

	(void)st;
	/* 15 s interval from the start of a 2 h range: Prometheus cuts
	 * chunks of 120 samples (30 minutes) */
	for (i = 0; i < 480; i++) {
		s[0].series = 0;
		s[0].t = 7200000LL * 1000 + (int64_t)i * 15000;
		s[0].v = i;
		assert_int_equal(
		    tsdb_head_append(h, ser, 1, s, 1, &r, NULL), 0);
		assert_int_equal(r.accepted, 1);
	}
	se = tsdb_head_series(h, 1);
	assert_non_null(se);
	assert_int_equal(se->n_chunks, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    tsdb_xor_num_samples(se->chunks[i].b, se->chunks[i].len),
		    120);
	assert_int_equal(se->app.n, 120);
	/* a new 2 h range always starts a new chunk */
	s[0].t = 7200000LL * 1001 + 5;
	assert_int_equal(tsdb_head_append(h, ser, 1, s, 1, &r, NULL), 0);
	assert_int_equal(se->n_chunks, 4);
	ax_labels_free(a);
	tsdb_head_free(h);
}

static void test_select_matchers(void **st)
{
	tsdb_head_t *h = new_head();
	ax_labels_t *ls[4];
	tsdb_sample_in_t s[4];
	tsdb_append_result_t r;
	tsdb_plist_t refs = {0};
	ax_selector_t *sel;
	char **v;
	size_t n, i;
	static const struct {
		const char *sel;
		size_t want;
	} cases[] = {
	    {"up", 3},
	    {"up{job=\"api\"}", 2},
	    {"up{job!=\"api\"}", 1},
	    {"{job=~\"a.*\"}", 3},
	    {"up{zone=\"\"}", 2},
	    {"up{zone!=\"\"}", 1},
	    {"{__name__=~\"up|down\",instance!~\"1\"}", 2},
	    {"nope", 0},
	    {"up{job=~\"api|db\",instance=\"2\"}", 1},
	    {"{zone=~\".+\"}", 1},
	};

	(void)st;
	ls[0] = L("up", "api", "1");
	ls[1] = L("up", "api", "2");
	ls[2] = L("up", "db", "1");
	assert_int_equal(ax_labels_from_strings(&ls[3], NULL, "__name__",
	                     "down", "job", "api", "instance", "3", NULL),
	    0);
	ax_labels_free(ls[2]);
	assert_int_equal(ax_labels_from_strings(&ls[2], NULL, "__name__", "up",
	                     "job", "db", "instance", "1", "zone", "eu", NULL),
	    0);
	for (i = 0; i < 4; i++) {
		s[i].series = (uint32_t)i;
		s[i].t = 1000;
		s[i].v = 1;
	}
	assert_int_equal(tsdb_head_append(h, (const ax_labels_t *const *)ls, 4,
	                     s, 4, &r, NULL),
	    0);
	assert_int_equal(r.accepted, 4);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    ax_selector_parse(cases[i].sel, &sel, NULL), 0);
		assert_int_equal(
		    tsdb_head_select(h, sel->matchers, sel->n_matchers,
		        INT64_MIN, INT64_MAX, &refs, NULL),
		    0);
		if (refs.n != cases[i].want)
			fail_msg("%s: %zu series, want %zu", cases[i].sel,
			    refs.n, cases[i].want);
		ax_selector_free(sel);
	}
	tsdb_plist_fini(&refs);
	assert_int_equal(tsdb_head_label_names(h, NULL, 0, &v, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "__name__");
	assert_string_equal(v[3], "zone");
	tsdb_strv_free(v, n);
	assert_int_equal(
	    tsdb_head_label_values(h, "job", NULL, 0, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "api");
	tsdb_strv_free(v, n);
	assert_int_equal(ax_selector_parse("down", &sel, NULL), 0);
	assert_int_equal(tsdb_head_label_values(h, "instance", sel->matchers,
	                     sel->n_matchers, &v, &n, NULL),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "3");
	tsdb_strv_free(v, n);
	ax_selector_free(sel);
	for (i = 0; i < 4; i++)
		ax_labels_free(ls[i]);
	tsdb_head_free(h);
}

static void test_wal_replay(void **st)
{
	char dir[] = "/tmp/axheadXXXXXX", cmd[64];
	tsdb_wal_opts_t wo = {0, 1, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	tsdb_head_t *h = new_head(), *h2 = new_head();
	ax_labels_t *a = L("m", "j", "a"), *b = L("m", "j", "b");
	const ax_labels_t *ser[2] = {a, b};
	tsdb_sample_in_t s[2];
	tsdb_append_result_t r;
	tsdb_wal_replay_stats_t rs;
	tsdb_plist_t refs = {0};
	ax_selector_t *sel;
	uint64_t n;
	sum_ctx_t c = {0};
	int i;

	(void)st;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsdb_wal_open(dir, &wo, &w, NULL), 0);
	tsdb_head_set_wal(h, w);
	for (i = 0; i < 300; i++) {
		s[0].series = 0;
		s[0].t = i * 1000;
		s[0].v = i;
		s[1].series = 1;
		s[1].t = i * 1000;
		s[1].v = -i;
		assert_int_equal(
		    tsdb_head_append(h, ser, 2, s, 2, &r, NULL), 0);
		assert_int_equal(r.accepted, 2);
	}
	tsdb_wal_close(w);
	tsdb_head_free(h);
	assert_int_equal(tsdb_head_replay(h2, dir, &rs, &n, NULL), 0);
	assert_int_equal(n, 600);
	assert_int_equal(rs.corruptions, 0);
	assert_int_equal(ax_selector_parse("m{instance=\"a\"}", &sel, NULL), 0);
	assert_int_equal(tsdb_head_select(h2, sel->matchers, sel->n_matchers,
	                     INT64_MIN, INT64_MAX, &refs, NULL),
	    0);
	assert_int_equal(refs.n, 1);
	assert_int_equal(
	    tsdb_head_series_samples(tsdb_head_series(h2, refs.v[0]), INT64_MIN,
	        INT64_MAX, sum_fn, &c),
	    0);
	assert_int_equal(c.n, 300);
	assert_true(c.sum == 299 * 300 / 2);
	assert_int_equal(c.last_t, 299000);
	/* appending after replay continues the series (no duplicate refs) */
	s[0].t = 300000;
	assert_int_equal(tsdb_head_append(h2, ser, 1, s, 1, &r, NULL), 0);
	assert_int_equal(r.accepted, 1);
	assert_int_equal(tsdb_head_select(h2, sel->matchers, sel->n_matchers,
	                     INT64_MIN, INT64_MAX, &refs, NULL),
	    0);
	assert_int_equal(refs.n, 1);
	tsdb_plist_fini(&refs);
	ax_selector_free(sel);
	ax_labels_free(a);
	ax_labels_free(b);
	tsdb_head_free(h2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* One append holding three scrapes (each a timestamp shared by its
 * samples) writes a Series record and a Samples record per scrape, as
 * Prometheus writes one per commit; samples that each carry their own
 * time stay in one record.  Replay gets every sample back. */
static void test_wal_samples_per_scrape(void **st)
{
	char dir[] = "/tmp/axheadXXXXXX", cmd[64], name[16];
	tsdb_wal_opts_t wo = {0, 1, TSDB_WAL_FSYNC_NEVER};
	tsdb_wal_t *w;
	tsdb_head_t *h = new_head(), *h2 = new_head();
	ax_labels_t *ls[30];
	const ax_labels_t *ser[30];
	tsdb_sample_in_t s[30];
	tsdb_append_result_t r;
	tsdb_wal_replay_stats_t rs;
	uint64_t n;
	int i;

	(void)st;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsdb_wal_open(dir, &wo, &w, NULL), 0);
	tsdb_head_set_wal(h, w);
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "i%d", i);
		ls[i] = L("m", "j", name);
		ser[i] = ls[i];
		s[i].series = (size_t)i;
		s[i].t = 1000 * (i / 10 + 1); /* three scrapes of 10 */
		s[i].v = i;
	}
	assert_int_equal(tsdb_head_append(h, ser, 30, s, 30, &r, NULL), 0);
	assert_int_equal(r.accepted, 30);
	/* then 30 samples with a time each: one record */
	for (i = 0; i < 30; i++) {
		s[i].series = 0;
		s[i].t = 10000 + i;
	}
	assert_int_equal(tsdb_head_append(h, ser, 1, s, 30, &r, NULL), 0);
	assert_int_equal(r.accepted, 30);
	tsdb_wal_close(w);
	tsdb_head_free(h);
	assert_int_equal(tsdb_head_replay(h2, dir, &rs, &n, NULL), 0);
	assert_int_equal(n, 60);
	/* series, 3 x samples; then samples */
	assert_int_equal(rs.records, 5);
	for (i = 0; i < 30; i++)
		ax_labels_free(ls[i]);
	tsdb_head_free(h2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Records that pass the WAL's CRC but carry damaged payloads (a bug or a
 * bad disk in the writer): replay decodes them bounded, reports an error
 * or skips, and never crashes (ASan checks the reads). */
static void test_replay_damaged_records(void **st)
{
	ax_labels_t *a = L("m", "j", "a"), *b = L("m", "j", "b"), *ex;
	unsigned seed = 777;
	int k, ok = 0, failed = 0;

	(void)st;
	assert_int_equal(
	    ax_labels_from_strings(&ex, NULL, "trace_id", "abc", NULL), 0);
	for (k = 0; k < 300; k++) {
		char dir[] = "/tmp/axfzXXXXXX", cmd[64];
		tsdb_wal_opts_t wo = {0, k % 2, TSDB_WAL_FSYNC_NEVER};
		tsdb_head_opts_t o;
		tsdb_wal_t *w;
		tsdb_head_t *h;
		ax_buf_t rec[5];
		tsdb_rec_sample_t smp[3] = {
		    {1, 1000, 1}, {2, 1000, 2}, {1, 2000, 3}};
		tsdb_rec_tombstone_t tb = {2, 0, 500};
		tsdb_rec_exemplar_t xe = {1, 1000, 9, NULL};
		tsdb_rec_metadata_t md = {1, 1, "seconds", "Help text."};
		const uint8_t *rp[5];
		size_t rl[5], victim, flips, q;
		tsdb_wal_replay_stats_t rs;
		uint64_t n;
		int i;

		xe.ls = ex;
		for (i = 0; i < 5; i++)
			ax_buf_init(&rec[i]);
		tsdb_rec_series_begin(&rec[0]);
		tsdb_rec_series_add(&rec[0], 1, a);
		tsdb_rec_series_add(&rec[0], 2, b);
		tsdb_rec_samples(&rec[1], smp, 3);
		tsdb_rec_tombstones(&rec[2], &tb, 1);
		tsdb_rec_exemplars(&rec[3], &xe, 1);
		tsdb_rec_metadata(&rec[4], &md, 1);
		seed = seed * 1103515245u + 12345u;
		victim = (seed >> 8) % 5;
		for (i = 0; i < 5; i++) {
			assert_true(ax_buf_ok(&rec[i]));
			rp[i] = (const uint8_t *)rec[i].p;
			rl[i] = rec[i].len;
		}
		if ((seed >> 4) % 4 == 0) {
			rl[victim] = (seed >> 12) % rl[victim]; /* cut short */
		} else {
			flips = 1 + (seed >> 12) % 3;
			for (q = 0; q < flips; q++) {
				uint8_t *p = (uint8_t *)rec[victim].p;

				seed = seed * 1103515245u + 12345u;
				p[(seed >> 4) % rl[victim]] ^=
				    (uint8_t)(1u << ((seed >> 1) % 8));
			}
		}
		assert_non_null(mkdtemp(dir));
		assert_int_equal(tsdb_wal_open(dir, &wo, &w, NULL), 0);
		for (i = 0; i < 5; i++)
			if (rl[i] > 0)
				assert_int_equal(
				    tsdb_wal_log(w, &rp[i], &rl[i], 1, NULL),
				    0);
		tsdb_wal_close(w);
		memset(&o, 0, sizeof(o));
		o.max_exemplars = 16;
		assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
		{
			ax_err_t e;

			e.msg[0] = '\0';
			if (tsdb_head_replay(h, dir, &rs, &n, &e) == 0) {
				ok++;
				assert_true(n <= 3);
			} else {
				failed++;
				/* names the place */
				assert_non_null(
				    strstr(e.msg, "record at offset"));
			}
		}
		tsdb_head_free(h);
		for (i = 0; i < 5; i++)
			ax_buf_fini(&rec[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_true(ok > 0);
	assert_true(failed > 0);
	ax_labels_free(ex);
	ax_labels_free(a);
	ax_labels_free(b);
}

static void test_limits(void **st)
{
	tsdb_head_opts_t o;
	tsdb_head_t *h;
	ax_labels_t *a, *b, *c, *d;
	const ax_labels_t *ser[4];
	tsdb_sample_in_t s[4] = {{0, 1, 1}, {1, 1, 1}, {2, 1, 1}, {3, 1, 1}};
	tsdb_append_result_t r;

	(void)st;
	memset(&o, 0, sizeof(o));
	o.max_series_per_metric = 2;
	o.max_value_len = 10;
	o.max_labels = 3;
	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	a = L("m", "j", "1");
	b = L("m", "j", "2");
	c = L("m", "j", "3");                 /* third series of m */
	d = L("other", "j", "0123456789abc"); /* value too long */
	ser[0] = a;
	ser[1] = b;
	ser[2] = c;
	ser[3] = d;
	assert_int_equal(tsdb_head_append(h, ser, 4, s, 4, &r, NULL), 0);
	assert_int_equal(r.accepted, 2);
	assert_int_equal(r.limit, 2);
	assert_str_contains(r.first_error, "max-series-per-metric");
	ax_labels_free(a);
	ax_labels_free(b);
	ax_labels_free(c);
	ax_labels_free(d);
	tsdb_head_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_rules),
	    cmocka_unit_test(test_invalid_and_bounds),
	    cmocka_unit_test(test_absurd_timestamps),
	    cmocka_unit_test(test_chunks_cut_like_prometheus),
	    cmocka_unit_test(test_select_matchers),
	    cmocka_unit_test(test_wal_replay),
	    cmocka_unit_test(test_wal_samples_per_scrape),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_replay_damaged_records),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
