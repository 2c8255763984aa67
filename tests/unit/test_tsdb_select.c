/*
 * Unit tests: tsdb_db_select, the query-side series set: matching across
 * blocks and head, merging by label set, deduplicating samples that two
 * sources both hold, skipping tombstoned ranges, and seeking.
 */
#include "ax_test.h"
#include "tsdb/block.h"
#include "tsdb/db.h"

#include <unistd.h>

#define H (3600 * 1000LL)

typedef struct fixture {
	char dir[32];
	tsdb_head_t *h;
	tsdb_db_t *db;
} fixture_t;

/* Series m{i="0"}: a sample a minute for 3h with value = minute index.
 * m{i="1"}: only in the third hour (head only).  other{}: a decoy. */
static void fixture_make(fixture_t *f)
{
	tsdb_head_opts_t o;
	ax_labels_t *ls[3];
	tsdb_sample_in_t s[3];
	tsdb_append_result_t r;
	tsdb_block_stats_t bs;
	char ulid[27];
	int i, k;

	snprintf(f->dir, sizeof(f->dir), "/tmp/axselXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	memset(&o, 0, sizeof(o));
	o.chunk_range_ms = H;
	assert_int_equal(tsdb_head_new(&o, &f->h, NULL), 0);
	assert_int_equal(ax_labels_from_strings(
	                     &ls[0], NULL, "__name__", "m", "i", "0", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(
	                     &ls[1], NULL, "__name__", "m", "i", "1", NULL),
	    0);
	assert_int_equal(
	    ax_labels_from_strings(&ls[2], NULL, "__name__", "other", NULL), 0);
	for (k = 0; k < 180; k++) {
		int m = 0;

		for (i = 0; i < 3; i++) {
			if (i == 1 && k < 120)
				continue;
			s[m].series = (uint32_t)i;
			s[m].t = (int64_t)k * 60000;
			s[m].v = k;
			m++;
		}
		assert_int_equal(
		    tsdb_head_append(f->h, (const ax_labels_t *const *)ls, 3, s,
		        (size_t)m, &r, NULL),
		    0);
	}
	/* blocks for the first two hours; the head still holds them too,
	 * as it does between a block write and the head truncation */
	for (k = 0; k < 2; k++)
		assert_int_equal(tsdb_block_write_head(f->h, f->dir, k * H,
		                     (k + 1) * H, ulid, &bs, NULL),
		    0);
	assert_int_equal(tsdb_db_open(f->dir, f->h, &f->db, NULL), 0);
	for (i = 0; i < 3; i++)
		ax_labels_free(ls[i]);
}

static void fixture_free(fixture_t *f)
{
	char cmd[64];

	tsdb_db_close(f->db);
	tsdb_head_free(f->h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

static tsdb_series_set_t *select_expr(
    fixture_t *f, const char *expr, int64_t mint, int64_t maxt)
{
	ax_selector_t *sel;
	tsdb_series_set_t *set;

	assert_int_equal(ax_selector_parse(expr, &sel, NULL), 0);
	assert_int_equal(tsdb_db_select(f->db, sel->matchers, sel->n_matchers,
	                     mint, maxt, &set, NULL),
	    0);
	ax_selector_free(sel);
	return set;
}

static void test_merge_and_dedup(void **st)
{
	fixture_t f;
	tsdb_series_set_t *set;
	tsdb_sample_it_t it;
	int64_t prev;
	int n, rc;

	(void)st;
	fixture_make(&f);
	set = select_expr(&f, "m", 0, 3 * H);
	assert_int_equal(tsdb_series_set_len(set), 2);
	assert_string_equal(
	    ax_labels_get(tsdb_series_set_labels(set, 0), "i"), "0");
	assert_string_equal(
	    ax_labels_get(tsdb_series_set_labels(set, 1), "i"), "1");
	/* series 0: blocks and head overlap for 2h; each minute once */
	tsdb_series_set_iter(set, 0, &it);
	n = 0;
	prev = -1;
	while ((rc = tsdb_sample_it_next(&it)) == 1) {
		assert_true(it.t > prev);
		assert_int_equal(it.t, (int64_t)n * 60000);
		assert_true(it.v == n);
		prev = it.t;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 180);
	/* series 1 lives only in the head */
	tsdb_series_set_iter(set, 1, &it);
	n = 0;
	while (tsdb_sample_it_next(&it) == 1)
		n++;
	assert_int_equal(n, 60);
	tsdb_series_set_free(set);

	/* the time range bounds both the series and the samples */
	set = select_expr(&f, "m", 0, H - 1);
	assert_int_equal(tsdb_series_set_len(set), 1);
	tsdb_series_set_iter(set, 0, &it);
	n = 0;
	while (tsdb_sample_it_next(&it) == 1) {
		assert_true(it.t <= H - 1);
		n++;
	}
	assert_int_equal(n, 60);
	tsdb_series_set_free(set);

	/* regex and negative matchers go through the same path */
	set = select_expr(&f, "{__name__=~\"m|other\",i!=\"1\"}", 0, 3 * H);
	assert_int_equal(tsdb_series_set_len(set), 2);
	assert_string_equal(
	    ax_labels_get(tsdb_series_set_labels(set, 0), "__name__"), "m");
	assert_string_equal(
	    ax_labels_get(tsdb_series_set_labels(set, 1), "__name__"), "other");
	tsdb_series_set_free(set);
	fixture_free(&f);
}

static void test_seek(void **st)
{
	fixture_t f;
	tsdb_series_set_t *set;
	tsdb_sample_it_t it;

	(void)st;
	fixture_make(&f);
	set = select_expr(&f, "m{i=\"0\"}", 0, 3 * H);
	assert_int_equal(tsdb_series_set_len(set), 1);
	tsdb_series_set_iter(set, 0, &it);
	/* between samples: lands on the next one */
	assert_int_equal(tsdb_sample_it_seek(&it, 90 * 60000 + 1), 1);
	assert_int_equal(it.t, 91 * 60000);
	assert_true(it.v == 91);
	/* seeking backwards does not move */
	assert_int_equal(tsdb_sample_it_seek(&it, 0), 1);
	assert_int_equal(it.t, 91 * 60000);
	/* across the block/head boundary, then next continues in order */
	assert_int_equal(tsdb_sample_it_seek(&it, 2 * H), 1);
	assert_int_equal(it.t, 2 * H);
	assert_int_equal(tsdb_sample_it_next(&it), 1);
	assert_int_equal(it.t, 2 * H + 60000);
	/* past the end */
	assert_int_equal(tsdb_sample_it_seek(&it, 3 * H), 0);
	tsdb_series_set_free(set);
	fixture_free(&f);
}

static void test_tombstones_skipped(void **st)
{
	fixture_t f;
	tsdb_series_set_t *set;
	tsdb_sample_it_t it;
	ax_selector_t *sel;
	size_t touched;
	int n;

	(void)st;
	fixture_make(&f);
	/* delete minutes 30..149 inclusive: spans block 1, block 2, head */
	assert_int_equal(ax_selector_parse("m{i=\"0\"}", &sel, NULL), 0);
	assert_int_equal(tsdb_db_delete(f.db, &sel, 1, 30 * 60000, 149 * 60000,
	                     &touched, NULL),
	    0);
	assert_true(touched >= 1);
	ax_selector_free(sel);
	set = select_expr(&f, "m{i=\"0\"}", 0, 3 * H);
	assert_int_equal(tsdb_series_set_len(set), 1);
	tsdb_series_set_iter(set, 0, &it);
	n = 0;
	while (tsdb_sample_it_next(&it) == 1) {
		assert_true(it.t < 30 * 60000 || it.t > 149 * 60000);
		n++;
	}
	assert_int_equal(n, 180 - 120);
	/* a seek into the deleted range lands after it */
	tsdb_series_set_iter(set, 0, &it);
	assert_int_equal(tsdb_sample_it_seek(&it, 40 * 60000), 1);
	assert_int_equal(it.t, 150 * 60000);
	tsdb_series_set_free(set);
	/* the other series is untouched */
	set = select_expr(&f, "other", 0, 3 * H);
	tsdb_series_set_iter(set, 0, &it);
	n = 0;
	while (tsdb_sample_it_next(&it) == 1)
		n++;
	assert_int_equal(n, 180);
	tsdb_series_set_free(set);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_and_dedup),
	    cmocka_unit_test(test_seek),
	    cmocka_unit_test(test_tombstones_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
