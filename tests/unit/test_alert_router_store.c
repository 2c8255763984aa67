/*
 * Unit tests: the alert router's alert store (fingerprints as
 * Alertmanager computes them, merge rules, GC) and silences (set, update
 * in place or replace, expire, validation, persistence, damaged
 * snapshot, GC), the notification log, and the merges that replicate
 * both between HA replicas.
 */
#include "ax_test.h"
#include "alert-router/nflog.h"
#include "alert-router/silence.h"
#include "alert-router/store.h"

#include <dirent.h>
#include <unistd.h>

static ax_labels_t *L(
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	ax_labels_t *ls;
	ax_err_t err;

	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, k1, v1, k2, v2, (char *)NULL), 0);
	return ls;
}

static void test_fingerprint(void **state)
{
	ax_labels_t *ls;
	ax_err_t err;

	(void)state;
	/* Value from Alertmanager 0.25 for the same label set. */
	assert_int_equal(
	    ax_labels_from_strings(&ls, &err, "alertname", "Test", "service",
	        "auth", "severity", "critical", (char *)NULL),
	    0);
	assert_true(ar_fingerprint(ls) == 0x6cbe21889ddc2329ULL);
	ax_labels_free(ls);
}

static void test_merge(void **state)
{
	ar_store_t s;
	ar_alert_t *a, *b, *got;

	(void)state;
	ar_store_init(&s);
	/* explicit end 5000, updated at 100 */
	a = ar_alert_new(L("a", "1", NULL, NULL), NULL, NULL, 50, 5000, 100, 0);
	assert_int_equal(ar_store_put(&s, a, NULL), 0);
	/* younger update with a timeout end 3000 and a later start: the
	 * earlier start and the explicit later end are kept */
	b = ar_alert_new(L("a", "1", NULL, NULL), NULL, strdup("http://g"), 80,
	    3000, 200, 1);
	assert_int_equal(ar_store_put(&s, b, &got), 0);
	assert_int_equal(got->starts_ms, 50);
	assert_int_equal(got->ends_ms, 5000);
	assert_int_equal(got->updated_ms, 200);
	assert_string_equal(got->generator_url, "http://g");
	ar_alert_unref(got);
	ar_alert_unref(a);
	ar_alert_unref(b);
	/* a younger explicit resolve (end 250 < now 300) wins */
	a = ar_alert_new(L("a", "1", NULL, NULL), NULL, NULL, 80, 250, 300, 0);
	assert_int_equal(ar_store_put(&s, a, &got), 0);
	assert_int_equal(got->ends_ms, 250);
	assert_true(ar_alert_resolved(got, 300));
	ar_alert_unref(got);
	ar_alert_unref(a);
	/* a firing alert (explicit end 9000) resolved by a sender in the
	 * very millisecond it arrives (end 400 = updated 400): resolved, as
	 * Alertmanager's !EndsAt.After(now) says; a ruler that evaluates and
	 * sends within a millisecond hits this */
	a = ar_alert_new(L("c", "1", NULL, NULL), NULL, NULL, 80, 9000, 350, 0);
	assert_int_equal(ar_store_put(&s, a, NULL), 0);
	ar_alert_unref(a);
	a = ar_alert_new(L("c", "1", NULL, NULL), NULL, NULL, 80, 400, 400, 0);
	assert_int_equal(ar_store_put(&s, a, &got), 0);
	assert_int_equal(got->ends_ms, 400);
	assert_true(ar_alert_resolved(got, 400));
	ar_alert_unref(got);
	ar_alert_unref(a);
	/* an older update arriving late does not win */
	a = ar_alert_new(L("a", "1", NULL, NULL), NULL, NULL, 80, 9000, 150, 0);
	assert_int_equal(ar_store_put(&s, a, &got), 0);
	assert_int_equal(got->updated_ms, 300);
	ar_alert_unref(got);
	ar_alert_unref(a);
	b = ar_alert_new(L("b", "1", NULL, NULL), NULL, NULL, 0, 100000, 10, 1);
	assert_int_equal(ar_store_put(&s, b, NULL), 0);
	ar_alert_unref(b);
	assert_int_equal(ar_store_count(&s), 3);
	/* a ended at 250, c at 400 */
	assert_int_equal(ar_store_gc(&s, 1000), 2);
	assert_int_equal(ar_store_count(&s), 1);
	ar_store_fini(&s);
}

static char dir[64];

static void rm_dir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/silences.json", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/silences.json.tmp", dir);
	unlink(p);
	rmdir(dir);
}

static ar_silence_t *sil(const char *matchers, int64_t start, int64_t end)
{
	ar_silence_t *s = ar_silence_new();
	ax_err_t err;

	assert_non_null(s);
	assert_int_equal(ax_amatchers_parse(&s->matchers, matchers, &err), 0);
	s->starts_ms = start;
	s->ends_ms = end;
	s->created_by = strdup("me");
	s->comment = strdup("c");
	return s;
}

static void test_silences(void **state)
{
	ar_silences_t ss;
	ar_silence_t *in, *got, **v;
	ax_labels_t *ls = L("svc", "api", "env", "prod");
	char id[40], id2[40], **ids = NULL;
	size_t n = 0, i;
	ax_err_t err = {0};

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ar-sil-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
	/* a new silence starting in the past starts now */
	in = sil("svc=\"api\"", 10, 100000);
	assert_int_equal(ar_silences_set(&ss, in, 1000, id, &err), 0);
	got = ar_silences_get(&ss, id);
	assert_int_equal(got->starts_ms, 1000);
	assert_int_equal(ar_silence_state(got, 1000), AR_SIL_ACTIVE);
	ar_silence_unref(got);
	assert_int_equal(ar_silences_mutes(&ss, ls, 2000, &ids, &n), 1);
	assert_string_equal(ids[0], id);
	free(ids[0]);
	free(ids);
	/* same matchers, same start, later end: updated in place */
	snprintf(in->id, sizeof(in->id), "%s", id);
	in->starts_ms = 1000;
	in->ends_ms = 200000;
	assert_int_equal(ar_silences_set(&ss, in, 2000, id2, &err), 0);
	assert_string_equal(id, id2);
	ar_silence_unref(in);
	/* new matchers: the old one is expired, a new id replaces it */
	in = sil("svc=\"web\"", 1000, 200000);
	snprintf(in->id, sizeof(in->id), "%s", id);
	assert_int_equal(ar_silences_set(&ss, in, 3000, id2, &err), 0);
	assert_string_not_equal(id, id2);
	got = ar_silences_get(&ss, id);
	assert_int_equal(ar_silence_state(got, 3000), AR_SIL_EXPIRED);
	ar_silence_unref(got);
	ar_silence_unref(in);
	/* errors */
	in = sil("svc=\"x\"", 1000, 2000);
	snprintf(in->id, sizeof(in->id), "nope");
	assert_int_equal(ar_silences_set(&ss, in, 3000, id, &err), AX_ENOENT);
	ar_silence_unref(in);
	in = sil("svc=~\".*\"", 1000, 5000);
	assert_int_equal(ar_silences_set(&ss, in, 3000, id, &err), AX_EINVAL);
	assert_str_contains(err.msg, "must not match the empty string");
	ar_silence_unref(in);
	assert_int_equal(
	    ar_silences_expire(&ss, "nope", 3000, &err), AX_ENOENT);
	/* a pending silence expires by starting and ending now */
	in = sil("svc=\"later\"", 50000, 60000);
	assert_int_equal(ar_silences_set(&ss, in, 4000, id, &err), 0);
	ar_silence_unref(in);
	assert_int_equal(ar_silences_expire(&ss, id, 5000, &err), 0);
	got = ar_silences_get(&ss, id);
	assert_int_equal(got->starts_ms, 5000);
	assert_int_equal(got->ends_ms, 5000);
	ar_silence_unref(got);
	assert_int_equal(ar_silences_expire(&ss, id, 6000, &err), AX_EINVAL);
	ar_silences_close(&ss);

	/* persisted: all three come back */
	assert_int_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
	assert_int_equal(ar_silences_list(&ss, &v, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i]->matchers.n, 1);
	ar_silences_list_free(v, n);
	/* retention 1000: the two expired by 5000 go at 7000 */
	assert_int_equal(ar_silences_gc(&ss, 7000), 2);
	ar_silences_close(&ss);
	assert_int_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
	assert_int_equal(ar_silences_list(&ss, &v, &n), 0);
	assert_int_equal(n, 1);
	ar_silences_list_free(v, n);
	ar_silences_close(&ss);

	/* a damaged snapshot is an error naming the file */
	{
		char p[128];
		FILE *f;

		snprintf(p, sizeof(p), "%s/silences.json", dir);
		f = fopen(p, "w");
		fputs("{\"silences\":[{\"id\":", f);
		fclose(f);
		assert_int_not_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
		assert_str_contains(err.msg, p);
		assert_str_contains(err.msg, "damaged");
	}
	rm_dir();
	ax_labels_free(ls);
}

static void test_nflog(void **state)
{
	ar_nflog_t l;
	ar_nflog_entry_t *e = NULL;
	uint64_t f[] = {30, 10, 20}, r[] = {5}, q[] = {10, 30};
	ax_err_t err = {0};
	char p[128];
	FILE *fp;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ar-nfl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ar_nflog_open(&l, dir, 100000, &err), 0);
	assert_int_equal(
	    ar_nflog_get(&l, "g\x1fr\x1fwebhook/0", &e), AX_ENOENT);
	assert_int_equal(
	    ar_nflog_log(&l, "g\x1fr\x1fwebhook/0", 1000, f, 3, r, 1, &err), 0);
	assert_int_equal(ar_nflog_log(&l, "g2", 2000, f, 1, NULL, 0, &err), 0);
	ar_nflog_close(&l);
	/* a torn record at the end (a crash mid-write) is cut */
	snprintf(p, sizeof(p), "%s/nflog", dir);
	fp = fopen(p, "a");
	fputs("{\"k\":\"g3\",\"t\":1", fp);
	fclose(fp);
	assert_int_equal(ar_nflog_open(&l, dir, 100000, &err), 0);
	assert_int_equal(ar_nflog_get(&l, "g\x1fr\x1fwebhook/0", &e), 0);
	assert_int_equal(e->ts_ms, 1000);
	assert_int_equal(e->nfiring, 3);
	assert_true(ar_nflog_subset(e->firing, e->nfiring, q, 2));
	assert_false(ar_nflog_subset(e->resolved, e->nresolved, q, 2));
	ar_nflog_entry_free(e);
	assert_int_equal(ar_nflog_get(&l, "g3", &e), AX_ENOENT);
	ar_nflog_close(&l);
	/* damage before the end is an error naming file and line */
	fp = fopen(p, "a");
	fputs("garbage\n{\"k\":\"g4\",\"t\":1,\"f\":[],\"r\":[]}\n", fp);
	fclose(fp);
	assert_int_not_equal(ar_nflog_open(&l, dir, 100000, &err), 0);
	assert_str_contains(err.msg, ":3: damaged notification log record");
	unlink(p);
	rmdir(dir);
}

/* Replication: hooks see local changes only; merges are last-writer-wins
 * on updated_ms / ts_ms, skip what is past retention, and persist. */
static int hook_calls;
static void count_sil(void *arg, ar_silence_t *s)
{
	(void)arg;
	(void)s;
	hook_calls++;
}
static void count_log(void *arg, const char *key, const ar_nflog_entry_t *e)
{
	(void)arg;
	(void)key;
	(void)e;
	hook_calls++;
}

static void test_merges(void **state)
{
	ar_silences_t ss;
	ar_nflog_t l;
	ar_silence_t *a, *b, *old, *dup[2], *got;
	ar_nflog_entry_t *e, *in;
	char id[40], **keys;
	ar_nflog_entry_t **ents;
	uint64_t f[] = {1, 2};
	size_t n;
	ax_err_t err = {0};

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ar-mrg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
	ss.on_change = count_sil;
	hook_calls = 0;
	a = sil("svc=\"api\"", 1000, 100000);
	assert_int_equal(ar_silences_set(&ss, a, 1000, id, &err), 0);
	assert_int_equal(hook_calls, 1);
	/* a peer's newer version of it wins; an older one does not */
	b = sil("svc=\"api\"", 1000, 50000);
	snprintf(b->id, sizeof(b->id), "%s", id);
	b->updated_ms = 5000;
	old = sil("svc=\"api\"", 1000, 70000);
	snprintf(old->id, sizeof(old->id), "%s", id);
	old->updated_ms = 10;
	dup[0] = b;
	dup[1] = old;
	assert_int_equal(ar_silences_merge(&ss, dup, 2, 6000, &err), 1);
	assert_int_equal(hook_calls, 1); /* merges are not re-gossiped */
	got = ar_silences_get(&ss, id);
	assert_int_equal(got->ends_ms, 50000);
	ar_silence_unref(got);
	/* the same one twice in a batch, and a new id */
	snprintf(a->id, sizeof(a->id), "peer-1");
	a->updated_ms = 7000;
	dup[0] = a;
	dup[1] = a;
	assert_int_equal(ar_silences_merge(&ss, dup, 2, 8000, &err), 1);
	assert_int_equal(ar_silences_merge(&ss, dup, 1, 8000, &err), 0);
	/* ended longer than retention ago: not taken */
	old->ends_ms = 100;
	snprintf(old->id, sizeof(old->id), "peer-2");
	assert_int_equal(ar_silences_merge(&ss, &old, 1, 8000, &err), 0);
	ar_silence_unref(a);
	ar_silence_unref(b);
	ar_silence_unref(old);
	ar_silences_close(&ss);
	assert_int_equal(ar_silences_open(&ss, dir, 1000, &err), 0);
	got = ar_silences_get(&ss, "peer-1");
	assert_non_null(got);
	assert_int_equal(got->updated_ms, 7000);
	ar_silence_unref(got);
	got = ar_silences_get(&ss, id);
	assert_int_equal(got->ends_ms, 50000);
	ar_silence_unref(got);
	ar_silences_close(&ss);

	assert_int_equal(ar_nflog_open(&l, dir, 100000, &err), 0);
	l.on_log = count_log;
	hook_calls = 0;
	assert_int_equal(ar_nflog_log(&l, "k", 5000, f, 2, NULL, 0, &err), 0);
	assert_int_equal(hook_calls, 1);
	in = ar_nflog_entry_new(4000, f, 1, NULL, 0);
	assert_int_equal(ar_nflog_merge(&l, "k", in, 6000), 0); /* older */
	in->ts_ms = 9000;
	assert_int_equal(ar_nflog_merge(&l, "k", in, 9500), 1);
	assert_int_equal(ar_nflog_merge(&l, "k2", in, 9500), 1);
	assert_int_equal(ar_nflog_merge(&l, "k3", in, 500000), 0); /* expired */
	assert_int_equal(hook_calls, 1);
	ar_nflog_entry_free(in);
	ar_nflog_close(&l);
	assert_int_equal(ar_nflog_open(&l, dir, 100000, &err), 0);
	assert_int_equal(ar_nflog_get(&l, "k", &e), 0);
	assert_int_equal(e->ts_ms, 9000);
	assert_int_equal(e->nfiring, 1);
	ar_nflog_entry_free(e);
	assert_int_equal(ar_nflog_snapshot(&l, 9500, &keys, &ents, &n), 0);
	assert_int_equal(n, 2);
	ar_nflog_snapshot_free(keys, ents, n);
	ar_nflog_close(&l);
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/nflog", dir);
		unlink(p);
	}
	rm_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_silences),
	    cmocka_unit_test(test_nflog),
	    cmocka_unit_test(test_merges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
