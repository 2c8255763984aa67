/*
 * Unit tests: Prometheus-format blocks written from a head and read back
 * (index v2, chunks, meta.json), matcher selection on a block, corruption
 * detection.
 */
#include "ax_test.h"
#include "ax_log.h"
#include "tsdb/block.h"
#include "tsdb/block_read.h"

#include <fcntl.h>
#include <unistd.h>

static char dir[64];
static char ulid[27];

static void build(void)
{
	tsdb_head_opts_t o;

	memset(&o, 0, sizeof(o));
	tsdb_head_t *h;
	ax_labels_t *ls[4];
	tsdb_sample_in_t s[4];
	tsdb_append_result_t r;
	tsdb_block_stats_t st;
	int i, k;

	strcpy(dir, "/tmp/axblkXXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tsdb_head_new(&o, &h, NULL), 0);
	assert_int_equal(ax_labels_from_strings(&ls[0], NULL, "__name__", "up",
	                     "job", "a", "instance", "1", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(&ls[1], NULL, "__name__", "up",
	                     "job", "b", "instance", "1", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(&ls[2], NULL, "__name__", "rq",
	                     "job", "a", "code", "200", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(&ls[3], NULL, "__name__", "rq",
	                     "job", "a", "code", "500", NULL),
	    0);
	for (k = 0; k < 500; k++) {
		for (i = 0; i < 4; i++) {
			s[i].series = (uint32_t)i;
			s[i].t = 1000000 + (int64_t)k * 15000;
			s[i].v = i * 100 + k;
		}
		assert_int_equal(
		    tsdb_head_append(
		        h, (const ax_labels_t *const *)ls, 4, s, 4, &r, NULL),
		    0);
	}
	assert_int_equal(tsdb_block_write_head(
	                     h, dir, 0, 1000000 + 500 * 15000, ulid, &st, NULL),
	    0);
	assert_int_equal(st.series, 4);
	assert_int_equal(st.samples, 2000);
	for (i = 0; i < 4; i++)
		ax_labels_free(ls[i]);
	tsdb_head_free(h);
}

static void test_roundtrip(void **st)
{
	char bdir[128];
	tsdb_block_t *b;
	tsdb_plist_t ids = {0};
	ax_selector_t *sel;
	ax_labels_t *ls;
	tsdb_chunk_meta_t *m;
	size_t nm, i, n;
	const char **v;
	int total = 0;

	(void)st;
	build();
	snprintf(bdir, sizeof(bdir), "%s/%s", dir, ulid);
	assert_int_equal(tsdb_block_open(bdir, &b, NULL), 0);
	assert_string_equal(tsdb_block_ulid(b), ulid);
	assert_int_equal(tsdb_block_num_samples(b), 2000);
	assert_int_equal(
	    ax_selector_parse("{job=\"a\",code!=\"500\"}", &sel, NULL), 0);
	assert_int_equal(
	    tsdb_block_select(b, sel->matchers, sel->n_matchers, &ids, NULL),
	    0);
	assert_int_equal(ids.n, 2);
	ax_selector_free(sel);
	for (i = 0; i < ids.n; i++) {
		size_t c;

		assert_int_equal(
		    tsdb_block_series(b, ids.v[i], &ls, &m, &nm, NULL), 0);
		assert_string_equal(ax_labels_get(ls, "job"), "a");
		for (c = 0; c < nm; c++) {
			const uint8_t *d;
			size_t dl;
			tsdb_xor_it_t it;

			assert_int_equal(
			    tsdb_block_chunk(b, m[c].ref, &d, &dl, NULL), 0);
			tsdb_xor_it_init(&it, d, dl);
			while (tsdb_xor_it_next(&it) == 1) {
				int64_t t;
				double val;

				tsdb_xor_it_at(&it, &t, &val);
				assert_true(t >= m[c].mint && t <= m[c].maxt);
				total++;
			}
		}
		free(m);
		ax_labels_free(ls);
	}
	assert_int_equal(total, 1000);
	assert_int_equal(tsdb_block_label_names(b, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "__name__");
	assert_string_equal(v[1], "code");
	free(v);
	assert_int_equal(tsdb_block_label_values(b, "job", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1], "b");
	free(v);
	tsdb_plist_fini(&ids);
	tsdb_block_close(b);
}

static void test_corruption_detected(void **st)
{
	char p[160], bdir[128];
	tsdb_block_t *b;
	ax_err_t e;
	int fd;
	off_t sz;
	uint8_t x;

	(void)st;
	snprintf(bdir, sizeof(bdir), "%s/%s", dir, ulid);
	snprintf(p, sizeof(p), "%s/index", bdir);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	sz = lseek(fd, 0, SEEK_END);
	assert_int_equal(pread(fd, &x, 1, sz - 30), 1);
	x ^= 0xff;
	assert_int_equal(pwrite(fd, &x, 1, sz - 30), 1); /* inside the TOC */
	close(fd);
	assert_int_not_equal(tsdb_block_open(bdir, &b, &e), 0);
	assert_str_contains(e.msg, "checksum mismatch");
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_corruption_detected),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
