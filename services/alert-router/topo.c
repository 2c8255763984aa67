/*
 * ar_topo: the dependency graph from axon-discoverer (topo.h).
 */
#include "alert-router/topo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/deps.pb-c.h"
#include "axon/v1/targets.pb-c.h"

#define POLL_MS 10000
#define GRAPH_FILE "deps.pb"

struct ar_topo {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ar_graph_t *g;
	uint8_t *packed; /* the installed graph as received */
	size_t packed_len;
	char *dir;
	ax_msg_client_t *cli;
	ax_msg_sub_t *sub;
	pthread_t poller;
	int poller_started, stopping;
	ax_metric_t *m_gen, *m_services, *m_updates;
};

/* ---- graphs ---- */

long ar_graph_find(const ar_graph_t *g, const char *name)
{
	void *v;

	if (g == NULL || name == NULL)
		return -1;
	v = ax_hmap_get(&g->idx, name, strlen(name));
	return v ? (long)((uintptr_t)v - 1) : -1;
}

ar_graph_t *ar_graph_ref(ar_graph_t *g)
{
	if (g)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
	return g;
}

void ar_graph_unref(ar_graph_t *g)
{
	size_t i;

	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < g->n; i++) {
		free(g->name[i]);
		free(g->deps[i]);
	}
	free(g->name);
	free(g->deps);
	free(g->ndeps);
	ax_hmap_fini(&g->idx);
	free(g);
}

/* Index of name, adding it when new.  -1 on allocation failure. */
static long intern(ar_graph_t *g, const char *name, size_t cap)
{
	long i = ar_graph_find(g, name);

	if (i >= 0)
		return i;
	if (g->n >= cap)
		return -1;
	if ((g->name[g->n] = strdup(name)) == NULL ||
	    ax_hmap_put(&g->idx, g->name[g->n], strlen(name),
	        (void *)(uintptr_t)(g->n + 1), NULL) != 0)
		return -1;
	return (long)g->n++;
}

int ar_graph_unpack(
    const uint8_t *data, size_t len, ar_graph_t **out, ax_err_t *err)
{
	Axon__V1__DependencyGraph *m =
	    axon__v1__dependency_graph__unpack(NULL, len, data);
	ar_graph_t *g;
	size_t i, k, cap = 0;

	if (m == NULL)
		return ax_err_set(
		    err, AX_EPROTO, "not a DependencyGraph message");
	for (i = 0; i < m->n_services; i++)
		cap += 1 + m->services[i]->n_depends_on;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto oom;
	g->refs = 1;
	g->generation = m->generation;
	ax_hmap_init(&g->idx);
	g->name = calloc(cap + 1, sizeof(char *));
	g->deps = calloc(cap + 1, sizeof(size_t *));
	g->ndeps = calloc(cap + 1, sizeof(size_t));
	if (g->name == NULL || g->deps == NULL || g->ndeps == NULL)
		goto oom;
	for (i = 0; i < m->n_services; i++) {
		const Axon__V1__ServiceDependencies *s = m->services[i];
		long si = intern(g, s->service, cap);

		if (si < 0)
			goto oom;
		for (k = 0; k < s->n_depends_on; k++) {
			long di = intern(g, s->depends_on[k], cap);
			size_t *nd;

			if (di < 0)
				goto oom;
			nd = realloc(
			    g->deps[si], (g->ndeps[si] + 1) * sizeof(size_t));
			if (nd == NULL)
				goto oom;
			g->deps[si] = nd;
			g->deps[si][g->ndeps[si]++] = (size_t)di;
		}
	}
	axon__v1__dependency_graph__free_unpacked(m, NULL);
	*out = g;
	return 0;
oom:
	ar_graph_unref(g);
	axon__v1__dependency_graph__free_unpacked(m, NULL);
	return ax_err_set(err, AX_ENOMEM, "out of memory");
}

int ar_graph_walk(const ar_graph_t *g, size_t from,
    int (*visit)(void *arg, size_t idx), void *arg)
{
	unsigned char *seen;
	size_t *queue, head = 0, tail = 0, i;
	int rv = 0;

	if (from >= g->n)
		return 0;
	seen = calloc(g->n, 1);
	queue = malloc(g->n * sizeof(size_t));
	if (seen == NULL || queue == NULL) {
		free(seen);
		free(queue);
		return AX_ENOMEM;
	}
	seen[from] = 1;
	queue[tail++] = from;
	while (head < tail && rv == 0) {
		size_t cur = queue[head++];

		for (i = 0; i < g->ndeps[cur] && rv == 0; i++) {
			size_t d = g->deps[cur][i];

			if (seen[d])
				continue;
			seen[d] = 1;
			queue[tail++] = d;
			rv = visit(arg, d);
		}
	}
	free(seen);
	free(queue);
	return rv;
}

/* ---- following the discoverer ---- */

static void persist(ar_topo_t *t)
{
	char path[4096], tmp[4096];
	int fd, ok;

	if (t->dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", t->dir, GRAPH_FILE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", t->dir, GRAPH_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ok = fd >= 0 &&
	    write(fd, t->packed, t->packed_len) == (ssize_t)t->packed_len &&
	    fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) != 0) {
		ax_log_warn("cannot save the dependency graph", "file", path,
		    "err", strerror(errno));
		unlink(tmp);
	}
}

/* Install a packed graph if it differs from the current one. */
static void install(ar_topo_t *t, const uint8_t *data, size_t len, int save)
{
	ar_graph_t *g, *old;
	uint8_t *copy;
	ax_err_t err;

	pthread_mutex_lock(&t->mu);
	if (t->packed && t->packed_len == len &&
	    memcmp(t->packed, data, len) == 0) {
		pthread_mutex_unlock(&t->mu);
		return;
	}
	pthread_mutex_unlock(&t->mu);
	if (ar_graph_unpack(data, len, &g, &err) != 0) {
		ax_log_warn("ignoring a dependency graph", "err", err.msg);
		return;
	}
	if ((copy = malloc(len ? len : 1)) == NULL) {
		ar_graph_unref(g);
		return;
	}
	memcpy(copy, data, len);
	pthread_mutex_lock(&t->mu);
	old = t->g;
	t->g = g;
	free(t->packed);
	t->packed = copy;
	t->packed_len = len;
	if (save)
		persist(t);
	ax_gauge_set(t->m_gen, (double)g->generation);
	ax_gauge_set(t->m_services, (double)g->n);
	ax_counter_inc(t->m_updates);
	pthread_mutex_unlock(&t->mu);
	ar_graph_unref(old);
	{
		char a[32], b[32];

		ax_log_info("dependency graph updated", "services",
		    ax_log_fmt_int(a, sizeof(a), (long long)g->n), "generation",
		    ax_log_fmt_int(b, sizeof(b), (long long)g->generation));
	}
}

static void on_deps(
    void *arg, const char *topic, const uint8_t *data, size_t len)
{
	if (strcmp(topic, "deps") == 0)
		install(arg, data, len, 1);
}

static void fetch(ar_topo_t *t)
{
	Axon__V1__ControlRequest rq = AXON__V1__CONTROL_REQUEST__INIT;
	Axon__V1__ControlReply *rp;
	ax_err_t err;

	rq.version = 1;
	rq.body_case = AXON__V1__CONTROL_REQUEST__BODY_DEPENDENCY_GRAPH;
	rq.dependency_graph = 1;
	if (ax_msg_call(t->cli, &rq.base, &axon__v1__control_reply__descriptor,
	        (ProtobufCMessage **)&rp, &err) != 0)
		return; /* unreachable: keep the last graph */
	if (rp->body_case == AXON__V1__CONTROL_REPLY__BODY_GRAPH && rp->graph)
		install(t, rp->graph->packed_graph.data,
		    rp->graph->packed_graph.len, 1);
	protobuf_c_message_free_unpacked(&rp->base, NULL);
}

static void *poller_main(void *arg)
{
	ar_topo_t *t = arg;
	struct timespec ts;

	for (;;) {
		fetch(t);
		pthread_mutex_lock(&t->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += POLL_MS / 1000;
		if (!t->stopping)
			pthread_cond_timedwait(&t->cv, &t->mu, &ts);
		if (t->stopping) {
			pthread_mutex_unlock(&t->mu);
			break;
		}
		pthread_mutex_unlock(&t->mu);
	}
	return NULL;
}

static void load_saved(ar_topo_t *t)
{
	char path[4096];
	struct stat st;
	uint8_t *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, GRAPH_FILE);
	if (stat(path, &st) != 0 || st.st_size <= 0 || st.st_size > (64 << 20))
		return;
	if ((f = fopen(path, "rb")) == NULL)
		return;
	buf = malloc((size_t)st.st_size);
	if (buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
		install(t, buf, (size_t)st.st_size, 0);
	free(buf);
	fclose(f);
}

int ar_topo_start(const char *dir, const char *control, const char *publish,
    ax_metrics_t *metrics, ar_topo_t **out, ax_err_t *err)
{
	static const char *const topics[] = {"deps"};
	ar_topo_t *t = calloc(1, sizeof(*t));
	ax_msg_opts_t mo = {0};
	int rv;

	if (t == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->m_gen = ax_metrics_gauge(metrics,
	    "axon_alert_router_dependency_graph_generation",
	    "Generation of the dependency graph in use.");
	t->m_services = ax_metrics_gauge(metrics,
	    "axon_alert_router_dependency_graph_services",
	    "Services in the dependency graph in use.");
	t->m_updates = ax_metrics_counter(metrics,
	    "axon_alert_router_dependency_graph_updates_total",
	    "Dependency graphs received that differed from the one in use.");
	if (t->m_gen == NULL || t->m_services == NULL || t->m_updates == NULL ||
	    (dir && (t->dir = strdup(dir)) == NULL)) {
		ar_topo_stop(t);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (t->dir)
		load_saved(t);
	ax_msg_opts_defaults(&mo);
	mo.timeout_ms = 2000;
	mo.retries = 0;
	if ((rv = ax_msg_client_open(control, &mo, &t->cli, err)) != 0 ||
	    (rv = ax_msg_sub_open(
	         publish, &mo, topics, 1, on_deps, t, &t->sub, err)) != 0) {
		ar_topo_stop(t);
		return rv;
	}
	if (pthread_create(&t->poller, NULL, poller_main, t) != 0) {
		ar_topo_stop(t);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	t->poller_started = 1;
	*out = t;
	return 0;
}

void ar_topo_stop(ar_topo_t *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stopping = 1;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->poller_started)
		pthread_join(t->poller, NULL);
	ax_msg_sub_close(t->sub);
	ax_msg_client_close(t->cli);
	ar_graph_unref(t->g);
	free(t->packed);
	free(t->dir);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

ar_graph_t *ar_topo_graph(ar_topo_t *t)
{
	ar_graph_t *g;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->mu);
	g = ar_graph_ref(t->g);
	pthread_mutex_unlock(&t->mu);
	return g;
}
