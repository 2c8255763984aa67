/*
 * Unit tests: the dependency graph (unpacking, transitive walks through
 * cycles) and topology inhibition (symptoms of dependents inhibited by
 * the cause alert; own causes never; the hold-down after a heal).
 */
#include "ax_test.h"
#include "alert-router/config.h"
#include "alert-router/inhibit.h"
#include "alert-router/topo.h"
#include "axon/v1/deps.pb-c.h"

#include <unistd.h>

/* a -> b -> c -> a (cycle), c -> d; e alone */
static ar_graph_t *graph(void)
{
	Axon__V1__DependencyGraph m = AXON__V1__DEPENDENCY_GRAPH__INIT;
	Axon__V1__ServiceDependencies s[5] = {
	    AXON__V1__SERVICE_DEPENDENCIES__INIT,
	    AXON__V1__SERVICE_DEPENDENCIES__INIT,
	    AXON__V1__SERVICE_DEPENDENCIES__INIT,
	    AXON__V1__SERVICE_DEPENDENCIES__INIT,
	    AXON__V1__SERVICE_DEPENDENCIES__INIT};
	Axon__V1__ServiceDependencies *sp[5];
	char *da[] = {"b"}, *db[] = {"c"}, *dc[] = {"a", "d"};
	uint8_t buf[512];
	size_t len;
	ar_graph_t *g;
	ax_err_t err;
	int i;

	s[0].service = "a", s[0].depends_on = da, s[0].n_depends_on = 1;
	s[1].service = "b", s[1].depends_on = db, s[1].n_depends_on = 1;
	s[2].service = "c", s[2].depends_on = dc, s[2].n_depends_on = 2;
	s[3].service = "d";
	s[4].service = "e";
	for (i = 0; i < 5; i++)
		sp[i] = &s[i];
	m.generation = 7;
	m.services = sp;
	m.n_services = 5;
	len = axon__v1__dependency_graph__pack(&m, buf);
	assert_int_equal(ar_graph_unpack(buf, len, &g, &err), 0);
	return g;
}

static int collect(void *arg, size_t idx)
{
	unsigned *mask = arg;

	*mask |= 1u << idx;
	return 0;
}

static void test_walk(void **state)
{
	ar_graph_t *g = graph();
	unsigned mask = 0;
	long a = ar_graph_find(g, "a"), d = ar_graph_find(g, "d");

	(void)state;
	assert_int_equal(g->n, 5);
	assert_int_equal(g->generation, 7);
	assert_true(a >= 0 && d >= 0);
	assert_int_equal(ar_graph_find(g, "zz"), -1);
	assert_int_equal(ar_graph_walk(g, (size_t)a, collect, &mask), 0);
	/* a reaches b, c and d; itself only through the cycle, which does not
	 * count (nor loop): each node is visited once */
	assert_int_equal(mask,
	    (1u << ar_graph_find(g, "b")) | (1u << ar_graph_find(g, "c")) |
	        (1u << (size_t)d));
	mask = 0;
	assert_int_equal(ar_graph_walk(g, (size_t)d, collect, &mask), 0);
	assert_int_equal(mask, 0);
	ar_graph_unref(g);
}

static ar_alert_t *alert(
    const char *name, const char *svc, const char *sev, int64_t ends)
{
	ax_labels_t *ls;
	ax_err_t err;

	assert_int_equal(ax_labels_from_strings(&ls, &err, "alertname", name,
	                     "service", svc, "severity", sev, (char *)NULL),
	    0);
	return ar_alert_new(ls, NULL, NULL, 1000, ends, 1000, 0);
}

static void test_inhibit(void **state)
{
	const char *text =
	    "route:\n  receiver: r\nreceivers:\n- name: r\n"
	    "axon_alert_router:\n  discoverer: tcp://127.0.0.1:1\n"
	    "  discoverer_publish: tcp://127.0.0.1:2\n"
	    "  topology_inhibition:\n"
	    "    cause_matchers: ['alertname=\"Down\"']\n"
	    "    hold_down: 10s\n";
	char path[] = "/tmp/ar-topo-XXXXXX";
	int fd = mkstemp(path);
	ar_config_t *c;
	ar_graph_t *g = graph();
	ar_alert_t *v[4];
	ar_inhibit_snap_t snap;
	uint64_t by;
	ax_err_t err = {0};
	size_t i;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (ar_config_load(path, 1, &c, &err) != 0)
		fail_msg("%s", err.msg);
	unlink(path);
	assert_true(c->axon.topology.enabled);
	v[0] = alert("Down", "d", "critical", 100000); /* the cause */
	v[1] = alert("Slow", "a", "warning", 100000);  /* a symptom */
	v[2] = alert("Down", "b", "critical", 100000); /* b's own cause */
	v[3] = alert("Slow", "e", "warning", 100000);  /* unrelated */
	assert_int_equal(ar_inhibit_snap_build(&snap, c, v, 4, 5000, g), 0);
	assert_true(ar_inhibit_check(&snap, v[1]->labels, &by));
	/* a's walk meets b's cause (depth 1) before d's */
	assert_true(by == v[2]->fp);
	assert_false(ar_inhibit_check(&snap, v[2]->labels, &by));
	assert_false(ar_inhibit_check(&snap, v[0]->labels, &by));
	assert_false(ar_inhibit_check(&snap, v[3]->labels, &by));
	ar_inhibit_snap_fini(&snap);
	/* the causes healed at 100 s: inhibiting until 110 s, not after */
	assert_int_equal(ar_inhibit_snap_build(&snap, c, v, 4, 105000, g), 0);
	assert_true(ar_inhibit_check(&snap, v[1]->labels, &by));
	ar_inhibit_snap_fini(&snap);
	assert_int_equal(ar_inhibit_snap_build(&snap, c, v, 4, 111000, g), 0);
	assert_false(ar_inhibit_check(&snap, v[1]->labels, &by));
	ar_inhibit_snap_fini(&snap);
	/* without a graph: nothing */
	assert_int_equal(ar_inhibit_snap_build(&snap, c, v, 4, 5000, NULL), 0);
	assert_false(ar_inhibit_check(&snap, v[1]->labels, &by));
	ar_inhibit_snap_fini(&snap);
	for (i = 0; i < 4; i++)
		ar_alert_unref(v[i]);
	ar_graph_unref(g);
	ar_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_inhibit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
