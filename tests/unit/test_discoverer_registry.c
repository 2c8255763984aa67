/*
 * Unit tests: the discoverer's registry -- validation of registrations,
 * replacement keeping check state, persistence (a reopened registry has
 * every answered registration and deregistration; a torn tail of the log
 * is cut, a damaged snapshot is an error naming the file), TTL expiry,
 * DeregisterCriticalServiceAfter, the visit labels, and ax_hrw's
 * rendezvous properties.
 */
#include "ax_test.h"
#include "ax_hrw.h"
#include "ax_units.h"
#include "discoverer/registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const disc_node_t node = {"n1", "127.0.0.1", "dc1", NULL};

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/ax-disc.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void rmdir_all(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static int reg(disc_reg_t *r, const char *json, ax_err_t *e)
{
	return disc_reg_register(r, json, strlen(json), e);
}

static void test_validation(void **state)
{
	char *dir = tmpdir();
	disc_reg_t *r;
	ax_err_t e;
	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"{}", "Missing service name"},
	    {"{\"Name\":\"\"}", "Missing service name"},
	    {"{\"Name\":\"a\",\"Port\":-1}", "Invalid Port"},
	    {"{\"Name\":\"a\",\"Port\":1.5}", "Invalid Port"},
	    {"{\"Name\":\"a\",\"Tags\":[1]}", "Tags"},
	    {"{\"Name\":\"a\",\"Meta\":{\"k\":1}}", "Meta"},
	    {"{\"Name\":\"a\",\"Meta\":{\"consul-x\":\"v\"}}", "reserved"},
	    {"{\"Name\":\"a\",\"Check\":{\"TTL\":\"10s\",\"HTTP\":\"http://x/"
	     "\","
	     "\"Interval\":\"1s\"}}",
	        "only one of"},
	    {"{\"Name\":\"a\",\"Check\":{\"HTTP\":\"ftp://x/\",\"Interval\":"
	     "\"1s\"}}",
	        "http://"},
	    {"{\"Name\":\"a\",\"Check\":{\"TCP\":\"nohost\",\"Interval\":"
	     "\"1s\"}}",
	        "host:port"},
	    {"{\"Name\":\"a\",\"Check\":{\"TTL\":\"10x\"}}", "TTL"},
	    {"{\"Name\":\"a\",\"Checks\":[{\"TTL\":\"1s\",\"CheckID\":\"c\"},"
	     "{\"TTL\":\"1s\",\"CheckID\":\"c\"}]}",
	        "duplicate check ID"},
	    {"{\"Name\":\"a/b\"}", "Invalid service name"},
	    {"{\"Name\":", "invalid JSON at byte"},
	};
	size_t i;

	(void)state;
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(reg(r, bad[i].json, &e), AX_EINVAL);
		if (strstr(e.msg, bad[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json,
			    e.msg, bad[i].want);
	}
	assert_int_equal(disc_reg_count(r), 0);
	assert_int_equal(reg(r, "{\"name\":\"lower\",\"port\":80}", &e), 0);
	assert_int_equal(disc_reg_count(r), 1);
	disc_reg_close(r);
	rmdir_all(dir);
	free(dir);
}

typedef struct seen {
	char buf[8192];
	size_t n;
} seen_t;

static void collect(void *arg, const char *service, const char *const *labels,
    const char *const *deps)
{
	seen_t *s = arg;
	size_t i;
	int w;

	w = snprintf(s->buf + strlen(s->buf), sizeof(s->buf) - strlen(s->buf),
	    "%s:", service);
	(void)w;
	for (i = 0; labels[i]; i += 2)
		if (strcmp(labels[i], "__address__") == 0 ||
		    strcmp(labels[i], "__meta_consul_health") == 0 ||
		    strcmp(labels[i], "__meta_consul_tags") == 0 ||
		    strncmp(labels[i], "__meta_consul_service_metadata", 30) ==
		        0)
			snprintf(s->buf + strlen(s->buf),
			    sizeof(s->buf) - strlen(s->buf), "%s=%s,",
			    labels[i], labels[i + 1]);
	for (i = 0; deps[i]; i++)
		snprintf(s->buf + strlen(s->buf),
		    sizeof(s->buf) - strlen(s->buf), "dep=%s,", deps[i]);
	snprintf(s->buf + strlen(s->buf), sizeof(s->buf) - strlen(s->buf), ";");
	s->n++;
}

static void test_persist(void **state)
{
	char *dir = tmpdir(), path[512];
	disc_reg_t *r;
	seen_t s;
	ax_err_t e;
	int fd, i;
	struct stat st;

	(void)state;
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	assert_int_equal(reg(r,
	                     "{\"Name\":\"web\",\"ID\":\"w1\",\"Port\":80,"
	                     "\"Tags\":[\"a\"],\"Meta\":{\"depends_on\":\"db, "
	                     "auth,db\",\"team-x\":\"t\"}}",
	                     &e),
	    0);
	assert_int_equal(reg(r,
	                     "{\"Name\":\"db\",\"Port\":5432,\"Address\":"
	                     "\"::1\"}",
	                     &e),
	    0);
	assert_int_equal(reg(r, "{\"Name\":\"gone\",\"Port\":1}", &e), 0);
	assert_int_equal(disc_reg_deregister(r, "gone", &e), 0);
	assert_int_equal(disc_reg_deregister(r, "gone", &e), AX_ENOENT);
	disc_reg_close(r);

	/* a torn append at the end of the log is cut, the rest stays */
	snprintf(path, sizeof(path), "%s/registry.log", dir);
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	assert_int_equal(reg(r, "{\"Name\":\"late\",\"Port\":2}", &e), 0);
	disc_reg_close(r);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 20);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, st.st_size - 3), 0);
	close(fd);
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	memset(&s, 0, sizeof(s));
	disc_reg_visit(r, collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.buf,
	    "db:__address__=[::1]:5432,__meta_consul_health=passing,"
	    "__meta_consul_tags=,,,;"
	    "web:__address__=127.0.0.1:80,__meta_consul_health=passing,"
	    "__meta_consul_tags=,a,,"
	    "__meta_consul_service_metadata_depends_on=db, auth,db,"
	    "__meta_consul_service_metadata_team_x=t,dep=db,dep=auth,;");
	/* many changes: compaction keeps everything */
	for (i = 0; i < 1100; i++) {
		char j[128];

		snprintf(j, sizeof(j),
		    "{\"Name\":\"bulk\",\"ID\":\"b%d\",\"Port\":%d}", i % 50,
		    i);
		assert_int_equal(reg(r, j, &e), 0);
	}
	disc_reg_close(r);
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	assert_int_equal(disc_reg_count(r), 52);
	disc_reg_close(r);

	/* a damaged snapshot is an error naming it */
	snprintf(path, sizeof(path), "%s/registry.snap", dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 20), 1);
	close(fd);
	assert_int_not_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	assert_non_null(strstr(e.msg, "registry.snap"));
	rmdir_all(dir);
	free(dir);
}

static void test_checks(void **state)
{
	char *dir = tmpdir();
	disc_reg_t *r;
	disc_probe_t *p;
	size_t n;
	ax_err_t e;
	ax_buf_t b = AX_BUF_INIT;
	uint64_t ix;
	int64_t now;

	(void)state;
	assert_int_equal(
	    disc_reg_open(dir, &node, NULL, NULL, NULL, &r, &e), 0);
	assert_int_equal(reg(r,
	                     "{\"Name\":\"t\",\"Checks\":[{\"TTL\":\"1s\","
	                     "\"CheckID\":\"ttl\",\"Status\":\"passing\"},"
	                     "{\"HTTP\":\"http://127.0.0.1:1/\",\"Interval\":"
	                     "\"10s\",\"DeregisterCriticalServiceAfter\":"
	                     "\"2s\"}]}",
	                     &e),
	    0);
	now = ax_mono_ms();
	/* the HTTP check is due at once, handed out once */
	assert_int_equal(disc_reg_tick(r, now, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].check_id, "service:t:2");
	assert_string_equal(p[0].target, "http://127.0.0.1:1/");
	disc_reg_probe_done(r, &p[0], DISC_PASSING, "fine");
	disc_probes_free(p, n);
	assert_int_equal(disc_reg_tick(r, now + 10, &p, &n), 0);
	assert_int_equal(n, 0);
	free(p);
	assert_int_equal(
	    disc_reg_check_ttl(r, "service:t:2", DISC_PASSING, NULL, &e),
	    AX_EINVAL);
	assert_int_equal(
	    disc_reg_check_ttl(r, "nope", DISC_PASSING, NULL, &e), AX_ENOENT);
	/* TTL expires into critical; passing filter drops the instance */
	assert_int_equal(disc_reg_tick(r, now + 1500, &p, &n), 0);
	free(p);
	{
		disc_filter_t f = {NULL, 1, NULL};

		disc_reg_health_service(r, "t", &f, &b, &ix);
		assert_string_equal(b.p, "[]");
		ax_buf_reset(&b);
		f.passing = 0;
		disc_reg_health_service(r, "t", &f, &b, &ix);
		ax_buf_putc(&b, '\0');
		assert_non_null(strstr(b.p, "\"Output\":\"TTL expired\""));
		ax_buf_reset(&b);
	}
	/* the HTTP check fails: deregistered 2 s later, not before */
	{
		disc_probe_t q;
		int64_t t0;

		memset(&q, 0, sizeof(q));
		q.service_id = (char *)"t";
		q.check_id = (char *)"service:t:2";
		disc_reg_probe_done(r, &q, DISC_CRITICAL, "down");
		t0 = ax_mono_ms();
		assert_int_equal(disc_reg_tick(r, t0 + 1000, &p, &n), 0);
		free(p);
		assert_int_equal(disc_reg_count(r), 1);
		assert_int_equal(disc_reg_tick(r, t0 + 2100, &p, &n), 0);
		free(p);
		assert_int_equal(disc_reg_count(r), 0);
	}
	disc_reg_close(r);
	ax_buf_fini(&b);
	rmdir_all(dir);
	free(dir);
}

static void test_hrw(void **state)
{
	const char *m3[] = {"s-a", "s-b", "s-c"};
	const char *m4[] = {"s-a", "s-b", "s-c", "s-d"};
	const char *m2[] = {"s-a", "s-c"};
	size_t count[4] = {0, 0, 0, 0}, moved = 0, i;
	char key[64];

	(void)state;
	assert_int_equal(ax_hrw_owner(m3, 0, 1), -1);
	for (i = 0; i < 3000; i++) {
		uint64_t h;
		long o3, o4, o2;

		snprintf(
		    key, sizeof(key), "10.0.%zu.%zu:9100", i / 250, i % 250);
		h = ax_hrw_key(key, strlen(key));
		o3 = ax_hrw_owner(m3, 3, h);
		o4 = ax_hrw_owner(m4, 4, h);
		o2 = ax_hrw_owner(m2, 2, h);
		count[o3]++;
		/* a newcomer only takes keys; it never shuffles the others */
		if (o4 != o3) {
			assert_int_equal(o4, 3);
			moved++;
		}
		/* removing s-b moves only s-b's keys */
		if (o3 != 1)
			assert_string_equal(m2[o2], m3[o3]);
	}
	/* about 1/4 move to the fourth member; the three share evenly */
	assert_true(moved > 600 && moved < 900);
	for (i = 0; i < 3; i++)
		assert_true(count[i] > 850 && count[i] < 1150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_persist),
	    cmocka_unit_test(test_checks),
	    cmocka_unit_test(test_hrw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
