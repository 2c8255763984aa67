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

static int read_file(const char *p, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(p, "rb");
	long n;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = malloc((size_t)n + 1);
	*len = fread(*buf, 1, (size_t)n, f);
	fclose(f);
	return 0;
}

static void write_file(const char *p, const uint8_t *b, size_t len)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* Walk everything a query could touch; errors are fine, crashes (and,
 * under ASan, reads out of bounds) are not.  Returns samples seen. */
static int walk(tsdb_block_t *b)
{
	tsdb_plist_t ids = {0};
	ax_selector_t *sel;
	const char **names, **vals;
	size_t nn, nv, i, j;
	int total = 0;

	if (tsdb_block_label_names(b, &names, &nn) == 0) {
		for (i = 0; i < nn; i++)
			if (tsdb_block_label_values(b, names[i], &vals, &nv) ==
			    0)
				free(vals);
		free(names);
	}
	assert_int_equal(
	    ax_selector_parse("{__name__=~\".+\"}", &sel, NULL), 0);
	if (tsdb_block_select(b, sel->matchers, sel->n_matchers, &ids, NULL) ==
	    0) {
		for (i = 0; i < ids.n; i++) {
			ax_labels_t *ls;
			tsdb_chunk_meta_t *m;
			size_t nm;

			if (tsdb_block_series(
			        b, ids.v[i], &ls, &m, &nm, NULL) != 0)
				continue;
			for (j = 0; j < nm; j++) {
				const uint8_t *d;
				size_t dl;
				tsdb_xor_it_t it;

				if (tsdb_block_chunk(
				        b, m[j].ref, &d, &dl, NULL) != 0)
					continue;
				tsdb_xor_it_init(&it, d, dl);
				while (tsdb_xor_it_next(&it) == 1)
					total++;
			}
			free(m);
			ax_labels_free(ls);
		}
	}
	tsdb_plist_fini(&ids);
	ax_selector_free(sel);
	return total;
}

/* Random byte flips and truncations of index, chunks and meta.json: the
 * reader refuses the block or reads it within bounds, never crashes. */
static void test_fuzzed_files_never_crash(void **st)
{
	static const char *const files[] = {
	    "index", "chunks/000001", "meta.json"};
	char bdir[128], p[3][200];
	uint8_t *orig[3], *mut;
	size_t len[3];
	unsigned seed = 12345;
	int i, k, opened = 0, refused = 0;
	tsdb_block_t *b;

	(void)st;
	snprintf(bdir, sizeof(bdir), "%s/%s", dir, ulid);
	for (i = 0; i < 3; i++) {
		snprintf(p[i], sizeof(p[i]), "%s/%s", bdir, files[i]);
		assert_int_equal(read_file(p[i], &orig[i], &len[i]), 0);
		assert_true(len[i] > 0);
	}
	for (k = 0; k < 600; k++) {
		int f = k % 10 < 6 ? 0 : (k % 10 < 9 ? 1 : 2);
		size_t n = len[f], flips, q;
		ax_err_t e;

		mut = malloc(n);
		assert_non_null(mut);
		memcpy(mut, orig[f], n);
		seed = seed * 1103515245u + 12345u;
		if (seed % 8 == 0) {
			n = (seed >> 8) % n; /* truncated */
		} else {
			flips = 1 + (seed >> 8) % 4;
			for (q = 0; q < flips; q++) {
				seed = seed * 1103515245u + 12345u;
				mut[(seed >> 4) % n] ^=
				    (uint8_t)(1u << ((seed >> 1) % 8));
			}
		}
		write_file(p[f], mut, n);
		free(mut);
		e.msg[0] = '\0';
		if (tsdb_block_open(bdir, &b, &e) == 0) {
			opened++;
			(void)walk(b);
			tsdb_block_close(b);
		} else {
			refused++;
			assert_true(e.msg[0] != '\0'); /* says why */
		}
		write_file(p[f], orig[f], len[f]);
	}
	/* both outcomes happen: the test exercises the readers */
	assert_true(opened > 0);
	assert_true(refused > 0);
	/* and the restored block reads whole again */
	assert_int_equal(tsdb_block_open(bdir, &b, NULL), 0);
	assert_int_equal(walk(b), 2000);
	tsdb_block_close(b);
	for (i = 0; i < 3; i++)
		free(orig[i]);
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
	    cmocka_unit_test(test_fuzzed_files_never_crash),
	    cmocka_unit_test(test_corruption_detected),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
