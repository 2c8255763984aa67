/*
 * Unit tests: leveled block compaction (planning by aligned windows,
 * merging series and chunks, replacing the sources).
 */
#include "ax_test.h"
#include "ax_log.h"
#include "tsdb/block.h"
#include "tsdb/compact.h"
#include "tsdb/db.h"

#include <unistd.h>

#define H (3600 * 1000LL)

static void test_merge_three_hours(void **st)
{
	char dir[] = "/tmp/axcmpXXXXXX", cmd[64], ulid[27];
	tsdb_head_opts_t o;
	tsdb_head_t *h;
	tsdb_db_t *db;
	ax_labels_t *ls[3];
	tsdb_sample_in_t s[3];
	tsdb_append_result_t r;
	tsdb_block_stats_t bs;
	tsdb_db_stats_t ds;
	ax_labels_t **out;
	ax_selector_t *sel;
	size_t n;
	int i, k;

	(void)st;
	assert_non_null(mkdtemp(dir));
	memset(&o, 0, sizeof(o));
	o.chunk_range_ms = H;
	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	for (i = 0; i < 3; i++) {
		char v[8];

		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(ax_labels_from_strings(&ls[i], NULL,
		                     "__name__", "m", "i", v, NULL),
		    0);
	}
	/* 4 hours, one sample a minute; series 2 only in the second hour */
	for (k = 0; k < 240; k++) {
		int m = 0;

		for (i = 0; i < 3; i++) {
			if (i == 2 && (k < 60 || k >= 120))
				continue;
			s[m].series = (uint32_t)i;
			s[m].t = (int64_t)k * 60000;
			s[m].v = k;
			m++;
		}
		assert_int_equal(
		    tsdb_head_append(h, (const ax_labels_t *const *)ls, 3, s,
		        (size_t)m, &r, NULL),
		    0);
	}
	for (k = 0; k < 4; k++)
		assert_int_equal(tsdb_block_write_head(h, dir, k * H,
		                     (k + 1) * H, ulid, &bs, NULL),
		    0);
	assert_int_equal(tsdb_db_open(dir, h, &db, NULL), 0);
	tsdb_db_stats(db, &ds);
	assert_int_equal(ds.n_blocks, 4);
	assert_int_equal(ds.block_samples, 540);
	/* 1h base: the 3h window [0, 3h) is complete */
	assert_int_equal(tsdb_compact_blocks(db, H, 0, NULL), 1);
	tsdb_db_stats(db, &ds);
	assert_int_equal(ds.n_blocks, 2);
	assert_int_equal(ds.block_samples, 540);
	assert_int_equal(ds.mint, 0);
	/* the merged block answers for the whole window */
	assert_int_equal(ax_selector_parse("m", &sel, NULL), 0);
	assert_int_equal(
	    tsdb_db_series(db, &sel, 1, 0, 3 * H - 1, &out, &n, NULL), 0);
	assert_int_equal(n, 3);
	tsdb_db_free_series(out, n);
	ax_selector_free(sel);
	/* nothing more to do */
	assert_int_equal(tsdb_compact_blocks(db, H, 0, NULL), 0);
	tsdb_db_close(db);
	/* the result survives a reopen, sources are gone */
	assert_int_equal(tsdb_db_open(dir, h, &db, NULL), 0);
	tsdb_db_stats(db, &ds);
	assert_int_equal(ds.n_blocks, 2);
	assert_int_equal(ds.block_samples, 540);
	tsdb_db_close(db);
	for (i = 0; i < 3; i++)
		ax_labels_free(ls[i]);
	tsdb_head_free(h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_three_hours),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
