/*
 * Unit tests: ax_u64map -- random puts, replaces and deletes checked
 * against a plain array after every step batch, including the backward
 * shift of deletions across the table's wrap-around, and iteration.
 */
#include "ax_test.h"
#include "ax_err.h"
#include "ax_hmap.h"

#define N_KEYS 5000

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_random(void **state)
{
	ax_u64map_t m;
	static intptr_t ref[N_KEYS + 1]; /* 0: absent */
	uint64_t seed = 88172645463325252ULL, k;
	size_t i, n = 0, pos = 0, seen = 0;
	void *v;

	(void)state;
	ax_u64map_init(&m);
	assert_null(ax_u64map_get(&m, 7));
	assert_int_equal(ax_u64map_put(&m, 0, &m), AX_EINVAL);
	for (i = 0; i < 200000; i++) {
		uint64_t key = rnd(&seed) % N_KEYS + 1;
		int op = (int)(rnd(&seed) % 3);

		if (op < 2) {
			intptr_t val = (intptr_t)(rnd(&seed) % 1000000 + 1);

			assert_int_equal(ax_u64map_put(&m, key, (void *)val), 0);
			n += ref[key] == 0;
			ref[key] = val;
		} else {
			void *d = ax_u64map_del(&m, key);

			assert_ptr_equal(d, (void *)ref[key]);
			n -= ref[key] != 0;
			ref[key] = 0;
		}
		if (i % 1000 == 0) {
			for (k = 1; k <= N_KEYS; k++)
				assert_ptr_equal(
				    ax_u64map_get(&m, k), (void *)ref[k]);
			assert_int_equal(m.n, n);
		}
	}
	while ((v = ax_u64map_next(&m, &pos, &k)) != NULL) {
		assert_ptr_equal(v, (void *)ref[k]);
		seen++;
	}
	assert_int_equal(seen, n);
	ax_u64map_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
