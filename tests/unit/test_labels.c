/*
 * Unit tests: ax_labels (sets, validation, hashing, builder, interner).
 */
#include "ax_test.h"
#include "ax_labels.h"

#include <stdlib.h>

static void test_sorted_and_empty_dropped(void **st)
{
	ax_label_t in[] = {{"job", "api"}, {"__name__", "up"}, {"zone", ""},
	    {"instance", "a:1"}};
	ax_labels_t *ls;
	ax_buf_t b = AX_BUF_INIT;

	(void)st;
	assert_int_equal(ax_labels_new(in, 4, &ls, NULL), 0);
	assert_int_equal(ls->n, 3);
	assert_string_equal(ls->l[0].name, "__name__");
	assert_string_equal(ls->l[1].name, "instance");
	assert_string_equal(ls->l[2].name, "job");
	assert_null(ax_labels_get(ls, "zone"));
	assert_string_equal(ax_labels_get(ls, "job"), "api");
	ax_labels_format(ls, &b);
	assert_string_equal(b.p, "up{instance=\"a:1\", job=\"api\"}");
	ax_buf_fini(&b);
	ax_labels_free(ls);
}

static void test_duplicate_rejected(void **st)
{
	ax_label_t in[] = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
	ax_labels_t *ls = NULL;
	ax_err_t e;

	(void)st;
	assert_int_equal(ax_labels_new(in, 3, &ls, &e), AX_EINVAL);
	assert_null(ls);
	assert_str_contains(e.msg, "duplicate label name \"a\"");
}

/* Known value: Prometheus' labels.FromStrings("__name__","up","job","x").Hash()
 * is xxhash64 of "__name__\xffup\xffjob\xffx\xff"; check against a direct
 * computation of that byte string so the separator layout cannot drift. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
static void test_hash_stable(void **st)
{
	ax_labels_t *a, *b, *c;
	const char raw[] = "__name__\xffup\xffjob\xffx\xff";

	(void)st;
	assert_int_equal(ax_labels_from_strings(
	                     &a, NULL, "job", "x", "__name__", "up", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(
	                     &b, NULL, "__name__", "up", "job", "x", NULL),
	    0);
	assert_int_equal(ax_labels_from_strings(
	                     &c, NULL, "__name__", "up", "job", "y", NULL),
	    0);
	assert_true(ax_labels_hash(a) == XXH64(raw, sizeof(raw) - 1, 0));
	assert_true(ax_labels_hash(a) == ax_labels_hash(b));
	assert_true(ax_labels_hash(a) != ax_labels_hash(c));
	assert_true(ax_labels_equal(a, b));
	assert_false(ax_labels_equal(a, c));
	assert_true(ax_labels_cmp(a, c) < 0);
	assert_true(ax_labels_cmp(c, a) > 0);
	ax_labels_free(a);
	ax_labels_free(b);
	ax_labels_free(c);
}

static void test_compare_prefix(void **st)
{
	ax_labels_t *a, *b;

	(void)st;
	assert_int_equal(ax_labels_from_strings(&a, NULL, "a", "1", NULL), 0);
	assert_int_equal(
	    ax_labels_from_strings(&b, NULL, "a", "1", "b", "2", NULL), 0);
	assert_true(ax_labels_cmp(a, b) < 0);
	ax_labels_free(a);
	ax_labels_free(b);
}

static void test_validate(void **st)
{
	ax_labels_t *ls;
	ax_err_t e;

	(void)st;
	assert_int_equal(ax_labels_from_strings(&ls, NULL, "__name__",
	                     "http:req_total", "code", "200", NULL),
	    0);
	assert_int_equal(ax_labels_validate(ls, AX_LABELS_REQUIRE_NAME, &e), 0);
	ax_labels_free(ls);

	assert_int_equal(
	    ax_labels_from_strings(&ls, NULL, "__name__", "1abc", NULL), 0);
	assert_int_equal(ax_labels_validate(ls, 0, &e), AX_EINVAL);
	assert_str_contains(e.msg, "invalid metric name");
	ax_labels_free(ls);

	assert_int_equal(
	    ax_labels_from_strings(&ls, NULL, "a-b", "x", NULL), 0);
	assert_int_equal(ax_labels_validate(ls, 0, &e), AX_EINVAL);
	assert_str_contains(e.msg, "invalid label name \"a-b\"");
	ax_labels_free(ls);

	assert_int_equal(
	    ax_labels_from_strings(&ls, NULL, "__address__", "h:1", NULL), 0);
	assert_int_equal(ax_labels_validate(ls, 0, &e), AX_EINVAL);
	assert_str_contains(e.msg, "reserved");
	assert_int_equal(
	    ax_labels_validate(ls, AX_LABELS_ALLOW_RESERVED, &e), 0);
	ax_labels_free(ls);

	assert_int_equal(
	    ax_labels_from_strings(&ls, NULL, "a", "\xc3\x28", NULL), 0);
	assert_int_equal(ax_labels_validate(ls, 0, &e), AX_EINVAL);
	assert_str_contains(e.msg, "UTF-8");
	ax_labels_free(ls);

	assert_int_equal(ax_labels_from_strings(&ls, NULL, "a", "1", NULL), 0);
	assert_int_equal(
	    ax_labels_validate(ls, AX_LABELS_REQUIRE_NAME, &e), AX_EINVAL);
	ax_labels_free(ls);
}

static void test_utf8(void **st)
{
	(void)st;
	assert_true(
	    ax_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	assert_false(
	    ax_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	assert_false(ax_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(ax_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(ax_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(ax_utf8_valid("\xe2\x82", 2));         /* truncated */
	assert_true(ax_label_name_valid("_a1", 3));
	assert_false(ax_label_name_valid("1a", 2));
	assert_false(ax_label_name_valid("a:b", 3));
	assert_true(ax_metric_name_valid("a:b", 3));
	assert_false(ax_metric_name_valid("", 0));
}

static void test_builder_and_dup(void **st)
{
	ax_labels_t *base, *out, *d;
	ax_labels_builder_t b;

	(void)st;
	assert_int_equal(
	    ax_labels_from_strings(&base, NULL, "a", "1", "b", "2", NULL), 0);
	ax_labels_builder_init(&b, base);
	ax_labels_builder_set(&b, "c", "3");
	ax_labels_builder_set(&b, "a", "9");
	ax_labels_builder_del(&b, "b");
	ax_labels_builder_set(&b, "d", "");
	assert_int_equal(ax_labels_builder_build(&b, &out, NULL), 0);
	ax_labels_builder_fini(&b);
	assert_int_equal(out->n, 2);
	assert_string_equal(ax_labels_get(out, "a"), "9");
	assert_string_equal(ax_labels_get(out, "c"), "3");
	d = ax_labels_dup(out);
	assert_non_null(d);
	ax_labels_free(out);
	assert_string_equal(ax_labels_get(d, "c"), "3"); /* independent copy */
	ax_labels_free(d);
	ax_labels_free(base);
}

static void test_interner(void **st)
{
	ax_intern_t *in = ax_intern_new();
	const char *a, *b, *c;
	char name[32];
	const char *many[5000];
	int i;

	(void)st;
	a = ax_intern_get(in, "job", 3);
	b = ax_intern_get(in, "jobx", 3);
	c = ax_intern_get(in, "instance", 8);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_int_equal(ax_intern_count(in), 2);
	ax_intern_release(in, a);
	assert_int_equal(ax_intern_count(in), 2);
	ax_intern_release(in, b);
	assert_int_equal(ax_intern_count(in), 1);
	/* churn: grow and tombstones */
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		many[i] = ax_intern_get(in, name, strlen(name));
		assert_non_null(many[i]);
	}
	for (i = 0; i < 5000; i += 2)
		ax_intern_release(in, many[i]);
	for (i = 1; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "v%d", i);
		assert_ptr_equal(
		    ax_intern_get(in, name, strlen(name)), many[i]);
		ax_intern_release(in, many[i]);
		ax_intern_release(in, many[i]);
	}
	for (i = 0; i < 20000; i++) { /* reuse slots: must not spin */
		snprintf(name, sizeof(name), "w%d", i);
		a = ax_intern_get(in, name, strlen(name));
		ax_intern_release(in, a);
	}
	assert_int_equal(ax_intern_count(in), 1);
	ax_intern_release(in, c);
	assert_int_equal(ax_intern_count(in), 0);
	ax_intern_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_and_empty_dropped),
	    cmocka_unit_test(test_duplicate_rejected),
	    cmocka_unit_test(test_hash_stable),
	    cmocka_unit_test(test_compare_prefix),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_builder_and_dup),
	    cmocka_unit_test(test_interner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
