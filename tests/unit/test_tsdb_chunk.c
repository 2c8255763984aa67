/*
 * Unit tests: tsdb XOR chunks (Prometheus encoding) and CRC-32C.
 */
#include "ax_test.h"
#include "ax_crc32c.h"
#include "ax_err.h"
#include "tsdb/chunk_xor.h"

#include <math.h>

static uint64_t f2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static void roundtrip(const int64_t *ts, const double *vs, int n)
{
	tsdb_xor_app_t a;
	tsdb_xor_it_t it;
	int i, rv;

	assert_int_equal(tsdb_xor_init(&a), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(tsdb_xor_append(&a, ts[i], vs[i]), 0);
	assert_int_equal(tsdb_xor_num_samples(a.b, a.len), n);
	tsdb_xor_it_init(&it, a.b, a.len);
	for (i = 0; i < n; i++) {
		int64_t t;
		double v;

		assert_int_equal(tsdb_xor_it_next(&it), 1);
		tsdb_xor_it_at(&it, &t, &v);
		if (t != ts[i] || f2u(v) != f2u(vs[i]))
			fail_msg("sample %d: got (%lld, %g) want (%lld, %g)", i,
			    (long long)t, v, (long long)ts[i], vs[i]);
	}
	rv = tsdb_xor_it_next(&it);
	assert_int_equal(rv, 0);
	tsdb_xor_fini(&a);
}

static void test_regular_scrape(void **st)
{
	int64_t ts[120];
	double vs[120];
	int i;

	(void)st;
	for (i = 0; i < 120; i++) {
		ts[i] = 1700000000000LL + i * 15000 + (i % 7 == 3 ? 3 : 0);
		vs[i] = 1000 + i * 2.5;
	}
	roundtrip(ts, vs, 120);
}

static void test_extremes(void **st)
{
	uint64_t stale_bits = 0x7ff0000000000002ULL;
	double stale;
	int64_t ts[] = {-5, 0, 1, 100000, 100001, 1LL << 40, (1LL << 40) + 1,
	    (1LL << 40) + 70000, (1LL << 40) + 600000, INT64_MAX / 4};
	double vs[10];

	(void)st;
	memcpy(&stale, &stale_bits, 8);
	vs[0] = 0;
	vs[1] = -0.0;
	vs[2] = NAN;
	vs[3] = stale;
	vs[4] = INFINITY;
	vs[5] = -INFINITY;
	vs[6] = 1e-300;
	vs[7] = 1.7976931348623157e308;
	vs[8] = 42;
	vs[9] = 42;
	roundtrip(ts, vs, 10);
	roundtrip(ts, vs, 1);
	roundtrip(ts, vs, 2);
}

/* Each delta-of-delta width boundary of Prometheus' encoding. */
static void test_dod_boundaries(void **st)
{
	int64_t dods[] = {0, 1, -1, 8192, -8191, 8193, -8192, 65536, -65535,
	    65537, -65536, 524288, -524287, 524289, -524288, 1LL << 33};
	int64_t ts[20];
	double vs[20];
	int i, n = 0;

	(void)st;
	ts[0] = 1000000000;
	ts[1] =
	    ts[0] + 10000000; /* big first delta so dods stay positive deltas */
	vs[0] = vs[1] = 1;
	n = 2;
	for (i = 0; i < 16; i++, n++) {
		ts[n] = ts[n - 1] + (ts[n - 1] - ts[n - 2]) + dods[i];
		vs[n] = (double)i;
	}
	roundtrip(ts, vs, n);
}

/* Bytes computed by hand from the format for t = 1000, 2000, 3000 and
 * v = 1, 1, 2 (first: varint(1000) = d0 0f, then 64 value bits; second:
 * uvarint(1000) = e8 07, value '0'; third: dod '0', value delta
 * 1.0^2.0 = 0x7ff0000000000000 -> '11' + lead 1 (5b) + width 11 (6b) +
 * 11 bits 0x7ff: 0 0 11 00001 001011 11111111111 -> 30 97 ff c0). */
static void test_known_bytes(void **st)
{
	tsdb_xor_app_t a;
	const uint8_t want[] = {0x00, 0x03, 0xd0, 0x0f, 0x3f, 0xf0, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0xe8, 0x07, 0x30, 0x97, 0xff, 0xc0};

	(void)st;
	assert_int_equal(tsdb_xor_init(&a), 0);
	assert_int_equal(tsdb_xor_append(&a, 1000, 1), 0);
	assert_int_equal(tsdb_xor_append(&a, 2000, 1), 0);
	assert_int_equal(tsdb_xor_append(&a, 3000, 2), 0);
	if (a.len != sizeof(want) || memcmp(a.b, want, a.len) != 0) {
		size_t i;

		for (i = 0; i < a.len; i++)
			print_error("%02x ", a.b[i]);
		fail_msg("bytes differ (len %zu)", a.len);
	}
	tsdb_xor_fini(&a);
}

/* Prometheus' bstream always appends a byte in writeByte, so a chunk whose
 * last write was a byte-aligned whole byte ends in an empty byte:
 * t=1 (varint 02), v=1.0 (8 aligned bytes) -> 2 + 1 + 8 + 1 bytes. */
static void test_trailing_empty_byte(void **st)
{
	tsdb_xor_app_t a;
	const uint8_t want[] = {0x00, 0x01, 0x02, 0x3f, 0xf0, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00};

	(void)st;
	assert_int_equal(tsdb_xor_init(&a), 0);
	assert_int_equal(tsdb_xor_append(&a, 1, 1.0), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.b, want, sizeof(want));
	tsdb_xor_fini(&a);
}

static void test_resume_and_seek(void **st)
{
	tsdb_xor_app_t a, b;
	tsdb_xor_it_t it;
	int64_t t;
	double v;
	int i;

	(void)st;
	assert_int_equal(tsdb_xor_init(&a), 0);
	for (i = 0; i < 50; i++)
		assert_int_equal(tsdb_xor_append(&a, i * 1000, i * 1.5), 0);
	assert_int_equal(tsdb_xor_resume(&b, a.b, a.len), 0);
	for (i = 50; i < 100; i++) {
		assert_int_equal(tsdb_xor_append(&a, i * 1000, i * 1.5), 0);
		assert_int_equal(tsdb_xor_append(&b, i * 1000, i * 1.5), 0);
	}
	/* the resumed chunk holds the same samples */
	{
		tsdb_xor_it_t x, y;
		int k = 0;

		tsdb_xor_it_init(&x, a.b, a.len);
		tsdb_xor_it_init(&y, b.b, b.len);
		while (tsdb_xor_it_next(&x) == 1) {
			int64_t t1, t2;
			double v1, v2;

			assert_int_equal(tsdb_xor_it_next(&y), 1);
			tsdb_xor_it_at(&x, &t1, &v1);
			tsdb_xor_it_at(&y, &t2, &v2);
			assert_int_equal(t1, t2);
			assert_true(v1 == v2);
			k++;
		}
		assert_int_equal(k, 100);
		assert_int_equal(tsdb_xor_it_next(&y), 0);
	}
	tsdb_xor_it_init(&it, b.b, b.len);
	assert_int_equal(tsdb_xor_it_seek(&it, 42500), 1);
	tsdb_xor_it_at(&it, &t, &v);
	assert_int_equal(t, 43000);
	assert_true(v == 43 * 1.5);
	assert_int_equal(tsdb_xor_it_seek(&it, 1000000), 0);
	/* truncated bytes: an error, not a crash */
	tsdb_xor_it_init(&it, b.b, b.len / 2);
	while ((i = tsdb_xor_it_next(&it)) == 1)
		;
	assert_int_equal(i, AX_EPROTO);
	tsdb_xor_fini(&a);
	tsdb_xor_fini(&b);
}

static void test_crc32c(void **st)
{
	char buf[1000];
	size_t i;
	uint32_t whole, parts;

	(void)st;
	/* RFC 3720 test vector: 32 bytes of zeros -> 0x8a9136aa */
	memset(buf, 0, 32);
	assert_int_equal(ax_crc32c(0, buf, 32), 0x8a9136aa);
	assert_int_equal(ax_crc32c(0, "123456789", 9), 0xe3069283);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	whole = ax_crc32c(0, buf, sizeof(buf));
	parts = ax_crc32c(ax_crc32c(0, buf, 333), buf + 333, sizeof(buf) - 333);
	assert_int_equal(whole, parts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regular_scrape),
	    cmocka_unit_test(test_extremes),
	    cmocka_unit_test(test_dod_boundaries),
	    cmocka_unit_test(test_known_bytes),
	    cmocka_unit_test(test_trailing_empty_byte),
	    cmocka_unit_test(test_resume_and_seek),
	    cmocka_unit_test(test_crc32c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
