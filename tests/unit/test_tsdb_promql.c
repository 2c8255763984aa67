/*
 * Unit tests: the PromQL evaluator's limits and result shapes, the
 * function kernels' edge cases, and the query API's number formatting.
 * (The semantics are covered by the shared corpus through
 * axon-promqltest and by the side-by-side test against Prometheus.)
 */
#include "ax_test.h"
#include "tsdb/db.h"
#include "tsdb/head.h"
#include "tsdb/fsutil.h"
#include "tsdb/promql.h"
#include "tsdb/promql_fn.h"
#include "tsdb/qapi.h"
#include "ax_units.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

typedef struct fixture {
	char dir[32];
	tsdb_head_t *h;
	tsdb_db_t *db;
} fixture_t;

/* m{i="0".."9"}: a sample every 10 s for 2 h, value = i + k. */
static void fixture_make(fixture_t *f)
{
	tsdb_head_opts_t o;
	ax_labels_t *ls[10];
	tsdb_sample_in_t s[10];
	tsdb_append_result_t r;
	int i, k;

	snprintf(f->dir, sizeof(f->dir), "/tmp/axpqXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	memset(&o, 0, sizeof(o));
	o.chunk_range_ms = 2 * 3600 * 1000;
	assert_int_equal(tsdb_head_new(&o, &f->h, NULL), 0);
	for (i = 0; i < 10; i++) {
		char v[8];

		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(ax_labels_from_strings(&ls[i], NULL,
		                     "__name__", "m", "i", v, NULL),
		    0);
	}
	for (k = 0; k < 720; k++) {
		for (i = 0; i < 10; i++) {
			s[i].series = (uint32_t)i;
			s[i].t = (int64_t)k * 10000;
			s[i].v = i + k;
		}
		assert_int_equal(tsdb_head_append(f->h,
		                     (const ax_labels_t *const *)ls, 10, s, 10,
		                     &r, NULL),
		    0);
	}
	assert_int_equal(tsdb_db_open(f->dir, f->h, &f->db, NULL), 0);
	for (i = 0; i < 10; i++)
		ax_labels_free(ls[i]);
}

static void fixture_free(fixture_t *f)
{
	tsdb_db_close(f->db);
	tsdb_head_free(f->h);
	tsdb_fs_rm_rf(f->dir);
}

static int run(fixture_t *f, const tsdb_pq_opts_t *o, const char *q,
    int instant, int64_t start, int64_t end, int64_t step,
    tsdb_pq_result_t *r, ax_err_t *e)
{
	ax_pq_node_t *n;
	int rv;

	if (ax_pq_parse(q, &n, e) != 0)
		fail_msg("%s: %s", q, e->msg);
	rv = tsdb_pq_eval(f->db, o, n, instant, start, end, step, r, e);
	ax_pq_free(n);
	return rv;
}

static void test_results(void **st)
{
	fixture_t f;
	tsdb_pq_opts_t o;
	tsdb_pq_result_t r;
	ax_err_t e;
	size_t i;

	(void)st;
	fixture_make(&f);
	tsdb_pq_opts_default(&o);
	/* instant vector, summed: sum(i + 359) at t = 3590 s */
	assert_int_equal(run(&f, &o, "sum(m)", 1, 3590000, 0, 0, &r, &e), 0);
	assert_int_equal(r.type, AX_PQ_TVECTOR);
	assert_int_equal(r.n, 1);
	assert_true(r.s[0].pts[0].v == 45 + 10 * 359);
	tsdb_pq_result_fini(&r);
	/* range query: a matrix sorted by labels, one point a step */
	assert_int_equal(
	    run(&f, &o, "m * 2", 0, 600000, 1200000, 60000, &r, &e), 0);
	assert_int_equal(r.type, AX_PQ_TMATRIX);
	assert_int_equal(r.n, 10);
	for (i = 0; i < r.n; i++) {
		assert_int_equal(r.s[i].n, 11);
		assert_null(ax_labels_get(r.s[i].ls, "__name__"));
		assert_true(r.s[i].pts[0].v == 2.0 * ((double)i + 60));
	}
	tsdb_pq_result_fini(&r);
	/* a scalar over a range: one label-less series */
	assert_int_equal(run(&f, &o, "time()", 0, 0, 120000, 60000, &r, &e), 0);
	assert_int_equal(r.type, AX_PQ_TMATRIX);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.s[0].ls->n, 0);
	assert_true(r.s[0].pts[2].v == 120);
	tsdb_pq_result_fini(&r);
	/* a range selector in an instant query: the raw samples */
	assert_int_equal(
	    run(&f, &o, "m{i=\"3\"}[1m]", 1, 600000, 0, 0, &r, &e), 0);
	assert_int_equal(r.type, AX_PQ_TMATRIX);
	assert_int_equal(r.s[0].n, 7); /* 540 s .. 600 s inclusive */
	tsdb_pq_result_fini(&r);
	/* a range selector in a range query is refused */
	assert_int_equal(
	    run(&f, &o, "m[1m]", 0, 0, 60000, 60000, &r, &e), AX_EINVAL);
	assert_non_null(strstr(e.msg, "invalid expression type \"range "
	                              "vector\" for range query"));
	/* lookback: nothing after the last sample + 5 m */
	assert_int_equal(run(&f, &o, "m", 1, 7190000 + 300001, 0, 0, &r, &e), 0);
	assert_int_equal(r.n, 0);
	tsdb_pq_result_fini(&r);
	assert_int_equal(run(&f, &o, "m", 1, 7190000 + 300000, 0, 0, &r, &e), 0);
	assert_int_equal(r.n, 10);
	tsdb_pq_result_fini(&r);
	fixture_free(&f);
}

static void test_limits(void **st)
{
	fixture_t f;
	tsdb_pq_opts_t o;
	tsdb_pq_result_t r;
	ax_err_t e;

	(void)st;
	fixture_make(&f);
	tsdb_pq_opts_default(&o);
	o.max_samples = 100;
	assert_int_equal(
	    run(&f, &o, "m", 0, 0, 3600000, 60000, &r, &e), AX_ELIMIT);
	assert_string_equal(e.msg, "query processing would load too many "
	                           "samples into memory in query execution");
	/* the window of a range function counts too */
	assert_int_equal(run(&f, &o, "count_over_time(m[30m])", 1, 3600000, 0,
	                     0, &r, &e),
	    AX_ELIMIT);
	assert_int_equal(run(&f, &o, "sum(m)", 1, 3600000, 0, 0, &r, &e), 0);
	tsdb_pq_result_fini(&r);
	/* a deadline already passed stops a long evaluation */
	tsdb_pq_opts_default(&o);
	o.timeout_ms = 1;
	assert_int_equal(run(&f, &o, "quantile_over_time(0.5, m[2h])", 0, 0,
	                     7200000, 1000, &r, &e),
	    AX_ETIMEDOUT);
	assert_string_equal(e.msg, "query timed out in query execution");
	fixture_free(&f);
}

static void test_runtime_errors(void **st)
{
	fixture_t f;
	tsdb_pq_opts_t o;
	tsdb_pq_result_t r;
	ax_err_t e;

	(void)st;
	fixture_make(&f);
	tsdb_pq_opts_default(&o);
	assert_int_equal(run(&f, &o, "m + on() m", 1, 600000, 0, 0, &r, &e),
	    AX_EINVAL);
	assert_non_null(strstr(e.msg, "many-to-many matching not allowed"));
	assert_int_equal(
	    run(&f, &o, "m{i=\"1\"} + on() group_left m", 1, 600000, 0, 0, &r,
	        &e),
	    AX_EINVAL);
	assert_non_null(strstr(e.msg, "many-to-many matching not allowed"));
	assert_int_equal(
	    run(&f, &o, "label_replace(m, \"i\", \"x\", \"i\", \".*\")", 1,
	        600000, 0, 0, &r, &e),
	    AX_EINVAL);
	assert_string_equal(e.msg, "vector cannot contain metrics with the "
	                           "same labelset");
	assert_int_equal(
	    run(&f, &o, "label_replace(m, \"a\", \"x\", \"i\", \"(\")", 1,
	        600000, 0, 0, &r, &e),
	    AX_EINVAL);
	assert_non_null(strstr(e.msg, "invalid regular expression in "
	                              "label_replace()"));
	assert_int_equal(
	    run(&f, &o, "holt_winters(m[5m], 2, 0.5)", 1, 600000, 0, 0, &r, &e),
	    AX_EINVAL);
	assert_non_null(strstr(e.msg, "invalid smoothing factor"));
	fixture_free(&f);
}

static void test_kernels(void **st)
{
	tsdb_pq_bucket_t b[4] = {
	    {1, 10}, {INFINITY, 10}, {0.5, 5}, {1, 2}}; /* 1 twice */
	double v[5] = {3, NAN, 1, 2, 4};
	tsdb_pq_point_t p[3] = {{0, 10}, {10000, 5}, {20000, 8}};
	tsdb_pq_win_t w;
	double out;

	(void)st;
	/* coalesced (1: 12), monotonic (+Inf: 12), rank 6 in (0.5, 1] */
	assert_true(fabs(tsdb_pqfn_bucket_quantile(0.5, b, 4) -
	                (0.5 + 0.5 * (1.0 / 7))) < 1e-12);
	assert_true(isinf(tsdb_pqfn_bucket_quantile(2, b, 4)));
	assert_true(isnan(tsdb_pqfn_bucket_quantile(NAN, b, 4)));
	/* NaN sorts first, as Go's sort of vectorByValueHeap */
	assert_true(isnan(tsdb_pqfn_quantile(0, v, 5)));
	assert_true(tsdb_pqfn_quantile(1, v, 5) == 4);
	/* a counter reset inside the window: 10 -> 5 -> 8 is +8 */
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.n = 3;
	w.range_ms = 20000;
	w.ref = 20000;
	assert_int_equal(tsdb_pqfn_window(TSDB_PQW_INCREASE, &w, &out, NULL), 1);
	assert_true(fabs(out - 8) < 1e-12);
	assert_int_equal(tsdb_pqfn_window(TSDB_PQW_RESETS, &w, &out, NULL), 1);
	assert_true(out == 1);
	assert_int_equal(tsdb_pqfn_window(TSDB_PQW_IRATE, &w, &out, NULL), 1);
	assert_true(fabs(out - 0.3) < 1e-12);
	w.n = 1; /* one sample: no rate */
	assert_int_equal(tsdb_pqfn_window(TSDB_PQW_RATE, &w, &out, NULL), 0);
}

static void point(int64_t t, double v, const char *want)
{
	ax_buf_t b = AX_BUF_INIT;

	tsdb_qapi_put_point(&b, t, v);
	ax_buf_putc(&b, '\0');
	if (strcmp(b.p, want) != 0)
		fail_msg("point(%lld, %g) = %s, want %s", (long long)t, v, b.p,
		    want);
	ax_buf_fini(&b);
}

static void test_json_points(void **st)
{
	(void)st;
	point(1700000000500, 1, "[1700000000.500,\"1\"]");
	point(1700000000007, 0.25, "[1700000000.007,\"0.25\"]");
	point(1700000000000, 123456789, "[1700000000,\"123456789\"]");
	point(-1500, 2.5, "[-1.500,\"2.5\"]");
	point(1000, NAN, "[1,\"NaN\"]");
	point(1000, -INFINITY, "[1,\"-Inf\"]");
	point(1000, 1e-7, "[1,\"1e-07\"]");
	point(1000, 1e21, "[1,\"1e+21\"]");
	point(1000, 1e20, "[1,\"100000000000000000000\"]");
	point(1000, 0.000001, "[1,\"0.000001\"]");
}

/* --query.max-concurrency: a second query waits for the slot, and gives
 * up at its deadline. */
static void *release_later(void *arg)
{
	usleep(50000);
	tsdb_qapi_slot_release(arg);
	return NULL;
}

static void test_slots(void **st)
{
	tsdb_t t;
	pthread_t th;
	int64_t t0;

	(void)st;
	memset(&t, 0, sizeof(t));
	pthread_mutex_init(&t.q_mu, NULL);
	pthread_cond_init(&t.q_cv, NULL);
	t.q_max = 1;
	assert_int_equal(tsdb_qapi_slot_acquire(&t, ax_mono_ms() + 1000), 1);
	t0 = ax_mono_ms();
	assert_int_equal(tsdb_qapi_slot_acquire(&t, t0 + 100), 0);
	assert_true(ax_mono_ms() - t0 >= 99);
	/* freed by another query: the waiter gets it */
	assert_int_equal(pthread_create(&th, NULL, release_later, &t), 0);
	assert_int_equal(tsdb_qapi_slot_acquire(&t, ax_mono_ms() + 5000), 1);
	pthread_join(th, NULL);
	assert_int_equal(t.q_active, 1);
	tsdb_qapi_slot_release(&t);
	assert_int_equal(t.q_active, 0);
	pthread_mutex_destroy(&t.q_mu);
	pthread_cond_destroy(&t.q_cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_results),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_runtime_errors),
	    cmocka_unit_test(test_kernels),
	    cmocka_unit_test(test_json_points),
	    cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
