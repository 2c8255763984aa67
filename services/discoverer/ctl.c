/*
 * ctl: target-set publication, scraper membership and the dependency
 * graph (see ctl.h).
 */
#include "discoverer/ctl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_hrw.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/deps.pb-c.h"
#include "discoverer/sd.h"
#include "axon/v1/targets.pb-c.h"

#define TICK_MS 100
#define MISSED_BEATS 3

/* ---- a bump allocator for one view ---- */

typedef struct blk {
	struct blk *next;
	size_t used, cap;
	char data[];
} blk_t;

typedef struct pool {
	blk_t *head;
	int oom;
} pool_t;

static void *palloc(pool_t *p, size_t n)
{
	blk_t *b = p->head;

	n = (n + 15) & ~(size_t)15;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		if ((b = malloc(sizeof(*b) + cap)) == NULL) {
			p->oom = 1;
			return NULL;
		}
		b->next = p->head;
		b->used = 0;
		b->cap = cap;
		p->head = b;
	}
	b->used += n;
	memset(b->data + b->used - n, 0, n);
	return b->data + b->used - n;
}

static char *pstr(pool_t *p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = palloc(p, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static void pool_free(pool_t *p)
{
	while (p->head) {
		blk_t *b = p->head;

		p->head = b->next;
		free(b);
	}
	p->oom = 0;
}

/* ---- the published view ---- */

typedef struct inst {
	const char *set; /* "registry" or a target set's name */
	const char *service, *address;
	const char **labels; /* k, v pairs, NULL-ended */
	const char **deps;   /* NULL-ended */
} inst_t;

/* A group of a discovery target set, as visited. */
typedef struct sgroup {
	const char *set;
	Axon__V1__TargetGroup *g;
} sgroup_t;

typedef struct view {
	pool_t pool;
	inst_t *inst;
	size_t n_inst, cap_inst;
	sgroup_t *sg;
	size_t n_sg, cap_sg;
	Axon__V1__TargetSet set;    /* the registry */
	Axon__V1__TargetSet **sets; /* the registry, then the others by name */
	size_t n_sets;
	uint8_t *packed_set; /* all sets (version 0), for comparison */
	size_t packed_set_len;
	Axon__V1__DependencyGraph graph;
	uint8_t *packed_graph; /* generation 0, for comparison */
	size_t packed_graph_len;
} view_t;

typedef struct member {
	char *id, *url;
	int64_t last_seen; /* ax_mono_ms */
	int64_t joined_ms; /* wall clock */
} member_t;

struct disc_ctl {
	disc_reg_t *reg;
	disc_sd_t *sd;                  /* discovery target sets (NULL: none) */
	const char *const *config_sets; /* names the config defines */
	struct deleg *deleg;            /* delegated (job, kind) sections */
	size_t n_deleg, cap_deleg;
	disc_ctl_opts_t opts;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int dirty, stop;
	pthread_t thread;
	view_t *view;
	uint64_t generation, deps_generation;
	member_t *members;
	size_t n_members, cap_members;
	uint64_t assign_version;
	ax_msg_server_t *srv;
	ax_msg_pub_t *pub;
	int64_t last_publish;
	ax_metric_t *m_pub, *m_hb, *m_lost, *m_snap, *m_gen;
	ax_metrics_t *metrics;
};

static void view_free(view_t *v)
{
	if (v == NULL)
		return;
	free(v->inst);
	free(v->sg);
	free(v->packed_set);
	free(v->packed_graph);
	pool_free(&v->pool);
	free(v);
}

static void on_visit(void *arg, const char *service, const char *const *labels,
    const char *const *deps)
{
	view_t *v = arg;
	inst_t *in;
	size_t n = 0, i;

	if (ax_grow((void **)&v->inst, &v->cap_inst, v->n_inst + 1,
	        sizeof(*v->inst)) != 0) {
		v->pool.oom = 1;
		return;
	}
	in = &v->inst[v->n_inst++];
	memset(in, 0, sizeof(*in));
	in->set = "registry";
	in->service = pstr(&v->pool, service);
	while (labels[n])
		n++;
	in->labels = palloc(&v->pool, (n + 1) * sizeof(char *));
	for (i = 0; in->labels && i < n; i++)
		in->labels[i] = pstr(&v->pool, labels[i]);
	/* sorted by name, as a label set (insertion sort of pairs) */
	for (i = 2; in->labels && i + 1 < n; i += 2) {
		size_t k = i;

		while (k >= 2 && strcmp(in->labels[k - 2], in->labels[k]) > 0) {
			const char *a = in->labels[k], *b = in->labels[k + 1];

			in->labels[k] = in->labels[k - 2];
			in->labels[k + 1] = in->labels[k - 1];
			in->labels[k - 2] = a;
			in->labels[k - 1] = b;
			k -= 2;
		}
	}
	in->address = "";
	for (i = 0; in->labels && i + 1 < n; i += 2)
		if (strcmp(in->labels[i], "__address__") == 0)
			in->address = in->labels[i + 1];
	for (n = 0; deps && deps[n]; n++)
		;
	in->deps = palloc(&v->pool, (n + 1) * sizeof(char *));
	for (i = 0; in->deps && i < n; i++)
		in->deps[i] = pstr(&v->pool, deps[i]);
}

static int inst_cmp(const void *a, const void *b)
{
	const inst_t *x = a, *y = b;
	int xr = strcmp(x->set, "registry") == 0;
	int yr = strcmp(y->set, "registry") == 0, c;

	if (xr != yr)
		return yr - xr; /* the registry first */
	if ((c = strcmp(x->set, y->set)) != 0)
		return c;
	c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->address, y->address);
}

static const char *lookup(
    const ax_labels_t *a, const ax_labels_t *b, const char *name)
{
	const char *v = b ? ax_labels_get(b, name) : NULL;

	if (v == NULL && a)
		v = ax_labels_get(a, name);
	return v;
}

static Axon__V1__LabelSet *pool_labelset(pool_t *p, const ax_labels_t *ls)
{
	Axon__V1__LabelSet *o = palloc(p, sizeof(*o));
	size_t i, n = ls ? ls->n : 0;

	if (o == NULL)
		return NULL;
	axon__v1__label_set__init(o);
	o->labels = palloc(p, (n + 1) * sizeof(*o->labels));
	if (o->labels == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		Axon__V1__Label *l = palloc(p, sizeof(*l));

		if (l == NULL)
			return NULL;
		axon__v1__label__init(l);
		l->name = pstr(p, ls->l[i].name);
		l->value = pstr(p, ls->l[i].value);
		o->labels[o->n_labels++] = l;
	}
	return o;
}

/* A group of a discovery target set: copied into the view; its targets
 * also become instances (address, service, dependencies). */
static void on_sd_visit(void *arg, const char *set, const char *source,
    const ax_labels_t *labels, ax_labels_t *const *targets, size_t n)
{
	view_t *v = arg;
	pool_t *p = &v->pool;
	Axon__V1__TargetGroup *g = palloc(p, sizeof(*g));
	Axon__V1__LabelSet *gl;
	size_t i;

	if (g == NULL ||
	    ax_grow((void **)&v->sg, &v->cap_sg, v->n_sg + 1, sizeof(*v->sg)) !=
	        0) {
		p->oom = 1;
		return;
	}
	axon__v1__target_group__init(g);
	g->source = pstr(p, source);
	if ((gl = pool_labelset(p, labels)) == NULL) {
		p->oom = 1;
		return;
	}
	g->labels = gl->labels;
	g->n_labels = gl->n_labels;
	g->targets = palloc(p, (n + 1) * sizeof(*g->targets));
	if (g->targets == NULL) {
		p->oom = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		const char *svc = lookup(labels, targets[i], "__axon_service");
		const char *deps =
		    lookup(labels, targets[i], "__axon_depends_on");
		const char *addr = lookup(labels, targets[i], "__address__");
		inst_t *in;
		size_t nd = 0, k;
		char *d, *save = NULL, *tok;

		if ((g->targets[g->n_targets] = pool_labelset(p, targets[i])) ==
		    NULL) {
			p->oom = 1;
			return;
		}
		g->n_targets++;
		if (svc == NULL)
			svc = lookup(labels, targets[i], "service");
		if (ax_grow((void **)&v->inst, &v->cap_inst, v->n_inst + 1,
		        sizeof(*v->inst)) != 0) {
			p->oom = 1;
			return;
		}
		in = &v->inst[v->n_inst++];
		memset(in, 0, sizeof(*in));
		in->set = pstr(p, set);
		in->service = pstr(p, svc ? svc : set);
		in->address = pstr(p, addr ? addr : "");
		d = pstr(p, deps ? deps : "");
		for (k = 0; d && d[k]; k++)
			nd += d[k] == ',';
		in->deps = palloc(p, (nd + 2) * sizeof(char *));
		if (!in->set || !in->service || !in->address || !d ||
		    !in->deps) {
			p->oom = 1;
			return;
		}
		nd = 0;
		for (tok = strtok_r(d, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			char *e = tok + strlen(tok);

			while (*tok == ' ' || *tok == '\t')
				tok++;
			while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			if (*tok)
				in->deps[nd++] = tok;
		}
	}
	v->sg[v->n_sg].set = pstr(p, set);
	v->sg[v->n_sg].g = g;
	v->n_sg++;
}

static int sg_cmp(const void *a, const void *b)
{
	const sgroup_t *x = a, *y = b;
	int c = strcmp(x->set, y->set);

	return c ? c : strcmp(x->g->source, y->g->source);
}

/* The discovery target sets, after the registry's, and the packed bytes
 * of all of them for change detection. */
static int build_sd_sets(view_t *v)
{
	pool_t *p = &v->pool;
	size_t i, ns = 1;
	ax_buf_t all = AX_BUF_INIT;

	if (v->n_sg > 1)
		qsort(v->sg, v->n_sg, sizeof(*v->sg), sg_cmp);
	for (i = 0; i < v->n_sg; i++)
		if (i == 0 || strcmp(v->sg[i].set, v->sg[i - 1].set) != 0)
			ns++;
	v->sets = palloc(p, (ns + 1) * sizeof(*v->sets));
	if (v->sets == NULL)
		return -1;
	v->sets[0] = &v->set;
	v->n_sets = 1;
	for (i = 0; i < v->n_sg;) {
		size_t j = i;
		Axon__V1__TargetSet *ts = palloc(p, sizeof(*ts));

		if (ts == NULL)
			return -1;
		axon__v1__target_set__init(ts);
		ts->job = (char *)v->sg[i].set;
		while (j < v->n_sg && strcmp(v->sg[j].set, v->sg[i].set) == 0)
			j++;
		ts->groups = palloc(p, (j - i) * sizeof(*ts->groups));
		if (ts->groups == NULL)
			return -1;
		for (; i < j; i++)
			ts->groups[ts->n_groups++] = v->sg[i].g;
		v->sets[v->n_sets++] = ts;
	}
	for (i = 0; i < v->n_sets; i++) {
		size_t n =
		    protobuf_c_message_get_packed_size(&v->sets[i]->base);

		if (ax_buf_reserve(&all, n) != 0) {
			ax_buf_fini(&all);
			return -1;
		}
		protobuf_c_message_pack(
		    &v->sets[i]->base, (uint8_t *)all.p + all.len);
		all.len += n;
	}
	free(v->packed_set);
	v->packed_set = (uint8_t *)ax_buf_take(&all, &v->packed_set_len);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Build the "registry" target set of v's instances. */
static int build_set(view_t *v)
{
	pool_t *p = &v->pool;
	size_t i, k, ng = 0;
	Axon__V1__TargetGroup **groups;

	axon__v1__target_set__init(&v->set);
	v->set.job = "registry";
	groups = palloc(p, (v->n_inst + 1) * sizeof(*groups));
	if (groups == NULL)
		return -1;
	for (i = 0; i < v->n_inst && strcmp(v->inst[i].set, "registry") == 0;) {
		size_t j = i, nt = 0;
		Axon__V1__TargetGroup *g = palloc(p, sizeof(*g));
		char *src;

		while (j < v->n_inst &&
		    strcmp(v->inst[j].set, "registry") == 0 &&
		    strcmp(v->inst[j].service, v->inst[i].service) == 0)
			j++;
		if (g == NULL)
			return -1;
		axon__v1__target_group__init(g);
		src = palloc(p, strlen(v->inst[i].service) + 10);
		if (src == NULL)
			return -1;
		sprintf(src, "registry:%s", v->inst[i].service);
		g->source = src;
		g->targets = palloc(p, (j - i) * sizeof(*g->targets));
		if (g->targets == NULL)
			return -1;
		for (k = i; k < j; k++) {
			Axon__V1__LabelSet *ls = palloc(p, sizeof(*ls));
			size_t nl = 0, m;

			if (ls == NULL)
				return -1;
			axon__v1__label_set__init(ls);
			while (v->inst[k].labels[nl])
				nl++;
			nl /= 2;
			ls->labels = palloc(p, nl * sizeof(*ls->labels) + 1);
			if (ls->labels == NULL)
				return -1;
			for (m = 0; m < nl; m++) {
				Axon__V1__Label *l = palloc(p, sizeof(*l));

				if (l == NULL)
					return -1;
				axon__v1__label__init(l);
				l->name = (char *)v->inst[k].labels[2 * m];
				l->value = (char *)v->inst[k].labels[2 * m + 1];
				ls->labels[ls->n_labels++] = l;
			}
			g->targets[nt++] = ls;
		}
		g->n_targets = nt;
		groups[ng++] = g;
		i = j;
	}
	v->set.groups = groups;
	v->set.n_groups = ng;
	return 0;
}

/* ---- the dependency graph ---- */

typedef struct dg {
	const char **name; /* nodes: services and what they name */
	size_t n;
	size_t **adj; /* adjacency, per node, sorted, (size_t)-1 ended */
} dg_t;

static long dg_find(const dg_t *g, const char *s)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->name[i], s) == 0)
			return (long)i;
	return -1;
}

typedef struct tarjan {
	const dg_t *g;
	long *index, *low;
	char *on;
	size_t *stack, sp, next;
	long *comp; /* component id per node */
	size_t n_comp;
} tarjan_t;

static void strongconnect(tarjan_t *t, size_t v)
{
	size_t k;

	t->index[v] = t->low[v] = (long)t->next++;
	t->stack[t->sp++] = v;
	t->on[v] = 1;
	for (k = 0; t->g->adj[v][k] != (size_t)-1; k++) {
		size_t w = t->g->adj[v][k];

		if (t->index[w] < 0) {
			strongconnect(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->on[w] && t->index[w] < t->low[v])
			t->low[v] = t->index[w];
	}
	if (t->low[v] == t->index[v]) {
		size_t w;

		do {
			w = t->stack[--t->sp];
			t->on[w] = 0;
			t->comp[w] = (long)t->n_comp;
		} while (w != v);
		t->n_comp++;
	}
}

static int has_edge(const dg_t *g, size_t a, size_t b)
{
	size_t k;

	for (k = 0; g->adj[a][k] != (size_t)-1; k++)
		if (g->adj[a][k] == b)
			return 1;
	return 0;
}

/* Build the graph of v into v->graph (pool memory). */
static int build_graph(view_t *v)
{
	pool_t *p = &v->pool;
	dg_t g;
	size_t i, k, ns = 0, cap;
	tarjan_t t;
	Axon__V1__ServiceDependencies **sd;
	Axon__V1__Cycle **cycles;
	size_t n_cycles = 0;

	memset(&g, 0, sizeof(g));
	cap = 1;
	for (i = 0; i < v->n_inst; i++)
		for (cap++, k = 0; v->inst[i].deps[k]; k++)
			cap++;
	g.name = palloc(p, cap * sizeof(char *));
	if (g.name == NULL)
		return -1;
	for (i = 0; i < v->n_inst; i++)
		if (dg_find(&g, v->inst[i].service) < 0)
			g.name[g.n++] = v->inst[i].service;
	ns = g.n; /* registered services come first */
	for (i = 0; i < v->n_inst; i++)
		for (k = 0; v->inst[i].deps[k]; k++)
			if (dg_find(&g, v->inst[i].deps[k]) < 0)
				g.name[g.n++] = v->inst[i].deps[k];
	g.adj = palloc(p, (g.n + 1) * sizeof(size_t *));
	if (g.adj == NULL)
		return -1;
	for (i = 0; i < g.n; i++) {
		size_t m = 0, j;

		g.adj[i] = palloc(p, (cap + 1) * sizeof(size_t));
		if (g.adj[i] == NULL)
			return -1;
		for (j = 0; j < v->n_inst; j++) {
			if (strcmp(v->inst[j].service, g.name[i]) != 0)
				continue;
			for (k = 0; v->inst[j].deps[k]; k++) {
				size_t to =
				    (size_t)dg_find(&g, v->inst[j].deps[k]);
				size_t q;
				int dup = 0;

				for (q = 0; q < m && !dup; q++)
					dup = g.adj[i][q] == to;
				if (!dup)
					g.adj[i][m++] = to;
			}
		}
		g.adj[i][m] = (size_t)-1;
	}
	/* the services and their sorted dependencies */
	axon__v1__dependency_graph__init(&v->graph);
	v->graph.version = 1;
	sd = palloc(p, (ns + 1) * sizeof(*sd));
	if (sd == NULL)
		return -1;
	for (i = 0; i < ns; i++) {
		size_t m = 0;

		sd[i] = palloc(p, sizeof(**sd));
		if (sd[i] == NULL)
			return -1;
		axon__v1__service_dependencies__init(sd[i]);
		sd[i]->service = (char *)g.name[i];
		while (g.adj[i][m] != (size_t)-1)
			m++;
		sd[i]->depends_on = palloc(p, (m + 1) * sizeof(char *));
		if (sd[i]->depends_on == NULL)
			return -1;
		for (k = 0; k < m; k++)
			sd[i]->depends_on[k] = (char *)g.name[g.adj[i][k]];
		sd[i]->n_depends_on = m;
		if (m > 1)
			qsort(sd[i]->depends_on, m, sizeof(char *), str_cmp);
	}
	/* sort services by name */
	for (i = 1; i < ns; i++)
		for (k = i;
		     k > 0 && strcmp(sd[k - 1]->service, sd[k]->service) > 0;
		     k--) {
			Axon__V1__ServiceDependencies *x = sd[k];

			sd[k] = sd[k - 1];
			sd[k - 1] = x;
		}
	v->graph.services = sd;
	v->graph.n_services = ns;
	/* cycles */
	memset(&t, 0, sizeof(t));
	t.g = &g;
	t.index = palloc(p, (g.n + 1) * sizeof(long));
	t.low = palloc(p, (g.n + 1) * sizeof(long));
	t.on = palloc(p, g.n + 1);
	t.stack = palloc(p, (g.n + 1) * sizeof(size_t));
	t.comp = palloc(p, (g.n + 1) * sizeof(long));
	cycles = palloc(p, (g.n + 1) * sizeof(*cycles));
	if (!t.index || !t.low || !t.on || !t.stack || !t.comp || !cycles)
		return -1;
	for (i = 0; i < g.n; i++)
		t.index[i] = -1;
	for (i = 0; i < g.n; i++)
		if (t.index[i] < 0)
			strongconnect(&t, i);
	for (k = 0; k < t.n_comp; k++) {
		size_t members = 0, start = (size_t)-1, j;
		size_t *prev, *queue, qh = 0, qt = 0, last = (size_t)-1;
		Axon__V1__Cycle *cy;
		char **path;
		size_t plen = 0, x;

		for (j = 0; j < g.n; j++)
			if (t.comp[j] == (long)k) {
				members++;
				if (start == (size_t)-1 ||
				    strcmp(g.name[j], g.name[start]) < 0)
					start = j;
			}
		if (members == 1 && !has_edge(&g, start, start))
			continue;
		/* the shortest way from start back to start inside the
		 * component */
		prev = palloc(p, (g.n + 1) * sizeof(size_t));
		queue = palloc(p, (g.n + 1) * sizeof(size_t));
		path = palloc(p, (g.n + 1) * sizeof(char *));
		cy = palloc(p, sizeof(*cy));
		if (!prev || !queue || !path || !cy)
			return -1;
		for (j = 0; j < g.n; j++)
			prev[j] = (size_t)-1;
		queue[qt++] = start;
		prev[start] = start;
		while (qh < qt && last == (size_t)-1) {
			size_t u = queue[qh++];

			if (has_edge(&g, u, start)) {
				last = u;
				break;
			}
			for (j = 0; g.adj[u][j] != (size_t)-1; j++) {
				size_t w = g.adj[u][j];

				if (t.comp[w] == (long)k &&
				    prev[w] == (size_t)-1) {
					prev[w] = u;
					queue[qt++] = w;
				}
			}
		}
		if (last == (size_t)-1)
			continue;
		for (x = last; x != start; x = prev[x])
			path[plen++] = (char *)g.name[x];
		path[plen++] = (char *)g.name[start];
		for (j = 0; j < plen / 2; j++) {
			char *s = path[j];

			path[j] = path[plen - 1 - j];
			path[plen - 1 - j] = s;
		}
		axon__v1__cycle__init(cy);
		cy->services = path;
		cy->n_services = plen;
		cycles[n_cycles++] = cy;
	}
	v->graph.cycles = cycles;
	v->graph.n_cycles = n_cycles;
	v->packed_graph_len =
	    protobuf_c_message_get_packed_size(&v->graph.base);
	if ((v->packed_graph = malloc(v->packed_graph_len + 1)) == NULL)
		return -1;
	protobuf_c_message_pack(&v->graph.base, v->packed_graph);
	return 0;
}

static view_t *build_view(disc_reg_t *r, disc_sd_t *sd)
{
	view_t *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	disc_reg_visit(r, on_visit, v);
	if (sd)
		disc_sd_visit(sd, on_sd_visit, v);
	if (v->pool.oom) {
		view_free(v);
		return NULL;
	}
	if (v->n_inst > 1)
		qsort(v->inst, v->n_inst, sizeof(*v->inst), inst_cmp);
	if (build_set(v) != 0 || build_sd_sets(v) != 0 || build_graph(v) != 0 ||
	    v->pool.oom) {
		view_free(v);
		return NULL;
	}
	return v;
}

/* ---- publishing ---- */

static void publish_locked(disc_ctl_t *c)
{
	Axon__V1__TargetSetUpdate u = AXON__V1__TARGET_SET_UPDATE__INIT;
	ax_err_t err;
	size_t i;

	if (c->view == NULL)
		return;
	for (i = 0; i < c->view->n_sets; i++)
		c->view->sets[i]->version = c->generation;
	u.version = 1;
	u.generation = c->generation;
	u.full = 1;
	u.sets = c->view->sets;
	u.n_sets = c->view->n_sets;
	if (ax_msg_publish(c->pub, "targets", &u.base, &err) != 0)
		ax_log_warn("cannot publish target sets", "err", err.msg);
	c->view->graph.generation = c->deps_generation;
	if (ax_msg_publish(c->pub, "deps", &c->view->graph.base, &err) != 0)
		ax_log_warn(
		    "cannot publish the dependency graph", "err", err.msg);
	c->view->graph.generation = 0;
	ax_counter_inc(c->m_pub);
	c->last_publish = ax_mono_ms();
}

/* Rebuild from the registry; publish when anything changed (locked). */
static void refresh_locked(disc_ctl_t *c)
{
	view_t *nv, *old = c->view;
	int set_changed, graph_changed;

	pthread_mutex_unlock(&c->mu);
	nv = build_view(c->reg, c->sd);
	pthread_mutex_lock(&c->mu);
	if (nv == NULL) {
		ax_log_error("out of memory building the target sets");
		c->dirty = 1;
		return;
	}
	old = c->view;
	set_changed = old == NULL ||
	    old->packed_set_len != nv->packed_set_len ||
	    memcmp(old->packed_set, nv->packed_set, nv->packed_set_len) != 0;
	graph_changed = old == NULL ||
	    old->packed_graph_len != nv->packed_graph_len ||
	    memcmp(old->packed_graph, nv->packed_graph, nv->packed_graph_len) !=
	        0;
	if (!set_changed && !graph_changed) {
		view_free(nv);
		return;
	}
	if (set_changed)
		c->generation++;
	if (graph_changed)
		c->deps_generation++;
	c->view = nv;
	view_free(old);
	ax_gauge_set(c->m_gen, (double)c->generation);
	publish_locked(c);
}

/* The live scrapers' ids in member order (strings borrowed), NULL-ended.
 * OUT: malloc'd array, NULL when out of memory (mu held). */
static char **member_ids(const disc_ctl_t *c)
{
	char **ids = calloc(c->n_members + 1, sizeof(char *));
	size_t i;

	for (i = 0; ids && i < c->n_members; i++)
		ids[i] = c->members[i].id;
	return ids;
}

/* The member index owning instance i by rendezvous hashing, -1 when there
 * are no members (mu held). */
static long owner_of(const disc_ctl_t *c, char *const *ids, size_t i)
{
	const char *a = c->view->inst[i].address;

	return ax_hrw_owner((const char *const *)ids, c->n_members,
	    ax_hrw_key(a, strlen(a)));
}

/* Tell the scrapers the member set changed (topic "assign").  Only a
 * nudge: each answers with a heartbeat, whose reply carries the
 * assignment; a lost nudge costs one heartbeat interval. */
static void publish_assign_locked(disc_ctl_t *c)
{
	Axon__V1__Assignment a = AXON__V1__ASSIGNMENT__INIT;
	char **ids = member_ids(c);
	ax_err_t err;

	if (ids == NULL)
		return;
	a.version = c->assign_version;
	a.members = ids;
	a.n_members = c->n_members;
	if (ax_msg_publish(c->pub, "assign", &a.base, &err) != 0)
		ax_log_warn("cannot publish the assignment", "err", err.msg);
	free(ids);
}

static void reap_locked(disc_ctl_t *c, int64_t now)
{
	size_t i = 0, before = c->n_members;

	while (i < c->n_members) {
		member_t *m = &c->members[i];

		if (now - m->last_seen <= MISSED_BEATS * c->opts.heartbeat_ms) {
			i++;
			continue;
		}
		ax_log_warn("scraper missed 3 heartbeats; its targets go to "
		            "the others",
		    "scraper", m->id);
		free(m->id);
		free(m->url);
		memmove(m, m + 1, (c->n_members - i - 1) * sizeof(*m));
		c->n_members--;
		c->assign_version++;
		ax_counter_inc(c->m_lost);
	}
	if (c->n_members != before)
		publish_assign_locked(c);
}

static void *ctl_main(void *arg)
{
	disc_ctl_t *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec ts;
		int64_t now;

		if (c->dirty && c->reg) {
			c->dirty = 0;
			refresh_locked(c);
		}
		now = ax_mono_ms();
		reap_locked(c, now);
		if (now - c->last_publish >= c->opts.publish_ms)
			publish_locked(c);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!(c->dirty && c->reg) && !c->stop)
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void disc_ctl_set_sd(
    disc_ctl_t *c, disc_sd_t *sd, const char *const *config_sets)
{
	pthread_mutex_lock(&c->mu);
	c->sd = sd;
	c->config_sets = config_sets;
	c->dirty = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void disc_ctl_set_registry(disc_ctl_t *c, disc_reg_t *r)
{
	pthread_mutex_lock(&c->mu);
	c->reg = r;
	c->dirty = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void disc_ctl_changed(void *ctl)
{
	disc_ctl_t *c = ctl;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->dirty = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---- delegated service discovery ---- */

typedef struct deleg {
	char *job, *kind, *owner;
} deleg_t;

static int is_config_set(const disc_ctl_t *c, const char *name)
{
	size_t i;

	for (i = 0; c->config_sets && c->config_sets[i]; i++)
		if (strcmp(c->config_sets[i], name) == 0)
			return 1;
	return strcmp(name, "registry") == 0;
}

/* Apply a scraper's DelegatedSDs (not under c->mu: providers start and
 * stop here and report changes).  msg gets the first error. */
static void delegate(
    disc_ctl_t *c, const Axon__V1__DelegatedSDs *d, char *msg, size_t cap)
{
	size_t i, k;
	ax_err_t err;

	if (c->sd == NULL) {
		snprintf(msg, cap, "this discoverer runs no providers");
		return;
	}
	for (i = 0; i < d->n_configs; i++) {
		const Axon__V1__DelegatedSD *x = d->configs[i];
		int found = 0;

		if (is_config_set(c, x->job)) {
			if (!msg[0])
				snprintf(msg, cap,
				    "job \"%s\": the discoverer's own target "
				    "set "
				    "has that name; rename the job",
				    x->job);
			continue;
		}
		if (disc_sd_set(c->sd, x->job, NULL, x->kind, x->config_yaml,
		        &err) != 0) {
			if (!msg[0])
				snprintf(msg, cap, "job \"%s\" %s: %s", x->job,
				    x->kind, err.msg);
			continue;
		}
		pthread_mutex_lock(&c->mu);
		for (k = 0; k < c->n_deleg && !found; k++)
			if (strcmp(c->deleg[k].job, x->job) == 0 &&
			    strcmp(c->deleg[k].kind, x->kind) == 0) {
				char *o = strdup(d->scraper_id);

				if (o) {
					free(c->deleg[k].owner);
					c->deleg[k].owner = o;
				}
				found = 1;
			}
		if (!found)
			ax_log_info("running delegated discovery", "job",
			    x->job, "kind", x->kind, "scraper", d->scraper_id);
		if (!found &&
		    ax_grow((void **)&c->deleg, &c->cap_deleg, c->n_deleg + 1,
		        sizeof(*c->deleg)) == 0) {
			deleg_t *e = &c->deleg[c->n_deleg];

			e->job = strdup(x->job);
			e->kind = strdup(x->kind);
			e->owner = strdup(d->scraper_id);
			if (e->job && e->kind && e->owner)
				c->n_deleg++;
			else {
				free(e->job);
				free(e->kind);
				free(e->owner);
			}
		}
		pthread_mutex_unlock(&c->mu);
	}
	/* what this scraper delegated before and no longer does */
	for (;;) {
		char *job = NULL, *kind = NULL;

		pthread_mutex_lock(&c->mu);
		for (k = 0; k < c->n_deleg && job == NULL; k++) {
			int still = 0;

			if (strcmp(c->deleg[k].owner, d->scraper_id) != 0)
				continue;
			for (i = 0; i < d->n_configs && !still; i++)
				still = strcmp(d->configs[i]->job,
				            c->deleg[k].job) == 0 &&
				    strcmp(d->configs[i]->kind,
				        c->deleg[k].kind) == 0;
			if (still)
				continue;
			job = c->deleg[k].job;
			kind = c->deleg[k].kind;
			free(c->deleg[k].owner);
			memmove(&c->deleg[k], &c->deleg[k + 1],
			    (c->n_deleg - k - 1) * sizeof(*c->deleg));
			c->n_deleg--;
		}
		pthread_mutex_unlock(&c->mu);
		if (job == NULL)
			break;
		ax_log_info("delegated discovery no longer wanted", "job", job,
		    "kind", kind);
		disc_sd_remove_kind(c->sd, job, kind);
		free(job);
		free(kind);
	}
}

/* ---- the control socket ---- */

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const member_t *)a)->id, ((const member_t *)b)->id);
}

static int heartbeat_locked(disc_ctl_t *c, const Axon__V1__Heartbeat *hb,
    Axon__V1__HeartbeatReply *hr, Axon__V1__Assignment *as, char ***ids)
{
	size_t i;
	member_t *m = NULL;

	for (i = 0; i < c->n_members && m == NULL; i++)
		if (strcmp(c->members[i].id, hb->scraper_id) == 0)
			m = &c->members[i];
	if (m == NULL) {
		char *id = strdup(hb->scraper_id), *url = strdup(hb->http_url);

		if (id == NULL || url == NULL ||
		    ax_grow((void **)&c->members, &c->cap_members,
		        c->n_members + 1, sizeof(*c->members)) != 0) {
			free(id);
			free(url);
			return AX_ENOMEM;
		}
		m = &c->members[c->n_members++];
		m->id = id;
		m->url = url;
		m->joined_ms = ax_now_ms();
		m->last_seen = ax_mono_ms();
		qsort(
		    c->members, c->n_members, sizeof(*c->members), member_cmp);
		c->assign_version++;
		ax_log_info("scraper joined", "scraper", hb->scraper_id, "url",
		    hb->http_url);
		publish_assign_locked(c);
		for (i = 0; i < c->n_members; i++)
			if (strcmp(c->members[i].id, hb->scraper_id) == 0)
				m = &c->members[i];
	} else if (strcmp(m->url, hb->http_url) != 0) {
		char *url = strdup(hb->http_url);

		if (url) {
			free(m->url);
			m->url = url;
		}
	}
	m->last_seen = ax_mono_ms();
	hr->generation = c->generation;
	hr->heartbeat_interval_ms = c->opts.heartbeat_ms;
	if (hb->assignment_version != c->assign_version) {
		if ((*ids = member_ids(c)) == NULL)
			return AX_ENOMEM;
		as->scraper_id = m->id;
		as->version = c->assign_version;
		as->members = *ids;
		as->n_members = c->n_members;
		hr->assignment = as;
	}
	return 0;
}

static int ctl_handle(void *arg, const uint8_t *req, size_t len, ax_buf_t *out)
{
	disc_ctl_t *c = arg;
	Axon__V1__ControlRequest *rq;
	Axon__V1__ControlReply rp = AXON__V1__CONTROL_REPLY__INIT;
	Axon__V1__HeartbeatReply hr = AXON__V1__HEARTBEAT_REPLY__INIT;
	Axon__V1__Assignment as = AXON__V1__ASSIGNMENT__INIT;
	Axon__V1__TargetSetUpdate u = AXON__V1__TARGET_SET_UPDATE__INIT;
	Axon__V1__DependencyGraphRef gr = AXON__V1__DEPENDENCY_GRAPH_REF__INIT;
	char **ids = NULL, msg[256] = "";
	uint8_t *graph = NULL;
	ax_err_t err;

	if (ax_msg_unpack(&axon__v1__control_request__descriptor, req, len,
	        64u << 20, (ProtobufCMessage **)&rq, &err) != 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		rp.error = msg;
		ax_msg_pack_buf(&rp.base, 64u << 20, out, &err);
		return 0;
	}
	if (rq->body_case == AXON__V1__CONTROL_REQUEST__BODY_DELEGATE) {
		delegate(c, rq->delegate, msg, sizeof(msg));
		rp.error = msg;
		ax_msg_pack_buf(&rp.base, 64u << 20, out, &err);
		protobuf_c_message_free_unpacked(&rq->base, NULL);
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	switch (rq->body_case) {
	case AXON__V1__CONTROL_REQUEST__BODY_HEARTBEAT:
		if (rq->heartbeat->scraper_id[0] == '\0') {
			rp.error = "heartbeat without a scraper_id";
			break;
		}
		if (heartbeat_locked(c, rq->heartbeat, &hr, &as, &ids) != 0) {
			rp.error = "out of memory";
			break;
		}
		ax_counter_inc(c->m_hb);
		rp.body_case = AXON__V1__CONTROL_REPLY__BODY_HEARTBEAT;
		rp.heartbeat = &hr;
		break;
	case AXON__V1__CONTROL_REQUEST__BODY_SNAPSHOT:
		u.version = 1;
		u.generation = c->generation;
		u.full = 1;
		if (c->view) {
			size_t i;

			for (i = 0; i < c->view->n_sets; i++)
				c->view->sets[i]->version = c->generation;
			u.sets = c->view->sets;
			u.n_sets = c->view->n_sets;
		}
		ax_counter_inc(c->m_snap);
		rp.body_case = AXON__V1__CONTROL_REPLY__BODY_SNAPSHOT;
		rp.snapshot = &u;
		break;
	case AXON__V1__CONTROL_REQUEST__BODY_DEPENDENCY_GRAPH:
		if (c->view) {
			size_t n;

			c->view->graph.generation = c->deps_generation;
			n = protobuf_c_message_get_packed_size(
			    &c->view->graph.base);
			if ((graph = malloc(n + 1)) != NULL) {
				protobuf_c_message_pack(
				    &c->view->graph.base, graph);
				gr.packed_graph.data = graph;
				gr.packed_graph.len = n;
			}
			c->view->graph.generation = 0;
		}
		rp.body_case = AXON__V1__CONTROL_REPLY__BODY_GRAPH;
		rp.graph = &gr;
		break;
	default: rp.error = "empty control request"; break;
	}
	ax_msg_pack_buf(&rp.base, 64u << 20, out, &err);
	pthread_mutex_unlock(&c->mu);
	free(ids);
	free(graph);
	protobuf_c_message_free_unpacked(&rq->base, NULL);
	return 0;
}

int disc_ctl_start(disc_reg_t *r, const disc_ctl_opts_t *o, ax_metrics_t *m,
    disc_ctl_t **out, ax_err_t *err)
{
	disc_ctl_t *c = calloc(1, sizeof(*c));
	ax_msg_opts_t mo;
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	c->reg = r;
	c->opts = *o;
	c->metrics = m;
	c->dirty = 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->m_pub = ax_metrics_counter(m, "axon_discoverer_publications_total",
	    "Target-set and dependency-graph publications.");
	c->m_hb = ax_metrics_counter(m, "axon_discoverer_heartbeats_total",
	    "Scraper heartbeats answered.");
	c->m_lost = ax_metrics_counter(m, "axon_discoverer_scrapers_lost_total",
	    "Scrapers dropped after missing 3 heartbeats.");
	c->m_snap = ax_metrics_counter(m, "axon_discoverer_snapshots_total",
	    "Full target-set snapshots served on request.");
	c->m_gen = ax_metrics_gauge(m, "axon_discoverer_target_generation",
	    "Generation of the published target sets.");
	memset(&mo, 0, sizeof(mo));
	mo.workers = 4;
	if ((rv = ax_msg_pub_open(o->publish_listen, &mo, &c->pub, err)) != 0 ||
	    (rv = ax_msg_server_open(
	         o->control_listen, &mo, ctl_handle, c, &c->srv, err)) != 0) {
		ax_msg_pub_close(c->pub);
		free(c);
		return rv;
	}
	if (pthread_create(&c->thread, NULL, ctl_main, c) != 0) {
		ax_msg_server_close(c->srv);
		ax_msg_pub_close(c->pub);
		free(c);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	*out = c;
	return 0;
}

void disc_ctl_stop(disc_ctl_t *c)
{
	size_t i;

	if (c == NULL)
		return;
	ax_msg_server_close(c->srv);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	ax_msg_pub_close(c->pub);
	view_free(c->view);
	for (i = 0; i < c->n_members; i++) {
		free(c->members[i].id);
		free(c->members[i].url);
	}
	free(c->members);
	for (i = 0; i < c->n_deleg; i++) {
		free(c->deleg[i].job);
		free(c->deleg[i].kind);
		free(c->deleg[i].owner);
	}
	free(c->deleg);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* ---- JSON views ---- */

static void put_time(ax_buf_t *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char ts[64];

	gmtime_r(&s, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	ax_buf_printf(b, "\"%s.%03dZ\"", ts, (int)(ms % 1000));
}

void disc_ctl_assignments_json(disc_ctl_t *c, ax_buf_t *out)
{
	char **ids;
	size_t i, k, *count;
	int64_t now = ax_mono_ms(), wall = ax_now_ms();

	pthread_mutex_lock(&c->mu);
	ids = member_ids(c);
	count = calloc(c->n_members + 1, sizeof(size_t));
	if (ids == NULL || count == NULL) {
		pthread_mutex_unlock(&c->mu);
		free(ids);
		free(count);
		out->oom = 1;
		return;
	}
	ax_buf_printf(out,
	    "{\"status\":\"success\",\"data\":{\"version\":%llu,"
	    "\"generation\":%llu,\"heartbeatInterval\":\"%lldms\","
	    "\"targets\":[",
	    (unsigned long long)c->assign_version,
	    (unsigned long long)c->generation, (long long)c->opts.heartbeat_ms);
	for (i = 0; c->view && i < c->view->n_inst; i++) {
		const inst_t *in = &c->view->inst[i];
		long o = owner_of(c, ids, i);

		if (i)
			ax_buf_putc(out, ',');
		ax_buf_puts(out, "{\"address\":");
		ax_buf_put_json_str(out, in->address);
		ax_buf_puts(out, ",\"set\":");
		ax_buf_put_json_str(out, in->set);
		ax_buf_puts(out, ",\"service\":");
		ax_buf_put_json_str(out, in->service);
		ax_buf_puts(out, ",\"scraper\":");
		ax_buf_put_json_str(out, o >= 0 ? ids[o] : "");
		ax_buf_putc(out, '}');
		if (o >= 0)
			count[o]++;
	}
	ax_buf_puts(out, "],\"scrapers\":[");
	for (k = 0; k < c->n_members; k++) {
		const member_t *m = &c->members[k];

		if (k)
			ax_buf_putc(out, ',');
		ax_buf_puts(out, "{\"id\":");
		ax_buf_put_json_str(out, m->id);
		ax_buf_puts(out, ",\"url\":");
		ax_buf_put_json_str(out, m->url);
		ax_buf_puts(out, ",\"joined\":");
		put_time(out, m->joined_ms);
		ax_buf_puts(out, ",\"lastHeartbeat\":");
		put_time(out, wall - (now - m->last_seen));
		ax_buf_printf(out, ",\"registryTargets\":%zu}", count[k]);
	}
	ax_buf_puts(out, "]}}");
	pthread_mutex_unlock(&c->mu);
	free(ids);
	free(count);
}

void disc_ctl_dependencies_json(disc_ctl_t *c, ax_buf_t *out)
{
	size_t i, k;

	pthread_mutex_lock(&c->mu);
	ax_buf_printf(out,
	    "{\"status\":\"success\",\"data\":{\"generation\":%llu,"
	    "\"services\":[",
	    (unsigned long long)c->deps_generation);
	for (i = 0; c->view && i < c->view->graph.n_services; i++) {
		const Axon__V1__ServiceDependencies *s =
		    c->view->graph.services[i];
		size_t j, first = 1;

		if (i)
			ax_buf_putc(out, ',');
		ax_buf_puts(out, "{\"service\":");
		ax_buf_put_json_str(out, s->service);
		ax_buf_puts(out, ",\"dependsOn\":[");
		for (k = 0; k < s->n_depends_on; k++) {
			if (k)
				ax_buf_putc(out, ',');
			ax_buf_put_json_str(out, s->depends_on[k]);
		}
		ax_buf_puts(out, "],\"dependents\":[");
		for (j = 0; j < c->view->graph.n_services; j++) {
			const Axon__V1__ServiceDependencies *o =
			    c->view->graph.services[j];

			for (k = 0; k < o->n_depends_on; k++)
				if (strcmp(o->depends_on[k], s->service) == 0) {
					if (!first)
						ax_buf_putc(out, ',');
					first = 0;
					ax_buf_put_json_str(out, o->service);
				}
		}
		ax_buf_puts(out, "]}");
	}
	ax_buf_puts(out, "],\"cycles\":[");
	for (i = 0; c->view && i < c->view->graph.n_cycles; i++) {
		const Axon__V1__Cycle *cy = c->view->graph.cycles[i];

		if (i)
			ax_buf_putc(out, ',');
		ax_buf_putc(out, '[');
		for (k = 0; k < cy->n_services; k++) {
			if (k)
				ax_buf_putc(out, ',');
			ax_buf_put_json_str(out, cy->services[k]);
		}
		ax_buf_putc(out, ']');
	}
	ax_buf_puts(out, "]}}");
	pthread_mutex_unlock(&c->mu);
}

static void put_labels(ax_buf_t *out, Axon__V1__Label *const *l, size_t n)
{
	size_t m;

	ax_buf_putc(out, '{');
	for (m = 0; m < n; m++) {
		if (m)
			ax_buf_putc(out, ',');
		ax_buf_put_json_str(out, l[m]->name);
		ax_buf_putc(out, ':');
		ax_buf_put_json_str(out, l[m]->value);
	}
	ax_buf_putc(out, '}');
}

void disc_ctl_targetsets_json(disc_ctl_t *c, ax_buf_t *out)
{
	size_t s, i, k;

	pthread_mutex_lock(&c->mu);
	ax_buf_printf(out,
	    "{\"status\":\"success\",\"data\":{\"generation\":%llu,"
	    "\"sets\":[",
	    (unsigned long long)c->generation);
	for (s = 0; c->view && s < c->view->n_sets; s++) {
		const Axon__V1__TargetSet *ts = c->view->sets[s];

		if (s)
			ax_buf_putc(out, ',');
		ax_buf_puts(out, "{\"name\":");
		ax_buf_put_json_str(out, ts->job);
		ax_buf_puts(out, ",\"groups\":[");
		for (i = 0; i < ts->n_groups; i++) {
			const Axon__V1__TargetGroup *g = ts->groups[i];

			if (i)
				ax_buf_putc(out, ',');
			ax_buf_puts(out, "{\"source\":");
			ax_buf_put_json_str(out, g->source);
			ax_buf_puts(out, ",\"labels\":");
			put_labels(out, g->labels, g->n_labels);
			ax_buf_puts(out, ",\"targets\":[");
			for (k = 0; k < g->n_targets; k++) {
				if (k)
					ax_buf_putc(out, ',');
				put_labels(out, g->targets[k]->labels,
				    g->targets[k]->n_labels);
			}
			ax_buf_puts(out, "]}");
		}
		ax_buf_puts(out, "]}");
	}
	ax_buf_puts(out, "]}}");
	pthread_mutex_unlock(&c->mu);
}

/* The per-edge and per-scraper families, for /metrics. */
void disc_ctl_collect(void *arg, ax_buf_t *out)
{
	disc_ctl_t *c = arg;
	size_t i, k;

	pthread_mutex_lock(&c->mu);
	ax_buf_puts(out,
	    "# HELP axon_service_dependency A service's declared dependency "
	    "on another (Meta.depends_on), one series per edge.\n"
	    "# TYPE axon_service_dependency gauge\n");
	for (i = 0; c->view && i < c->view->graph.n_services; i++) {
		const Axon__V1__ServiceDependencies *s =
		    c->view->graph.services[i];

		for (k = 0; k < s->n_depends_on; k++) {
			ax_buf_puts(out, "axon_service_dependency{service=\"");
			ax_buf_put_escaped(
			    out, s->service, strlen(s->service), 1);
			ax_buf_puts(out, "\",depends_on=\"");
			ax_buf_put_escaped(
			    out, s->depends_on[k], strlen(s->depends_on[k]), 1);
			ax_buf_puts(out, "\"} 1\n");
		}
	}
	ax_buf_puts(out,
	    "# HELP axon_service_dependency_cycle A dependency cycle, as the "
	    "services along it.\n"
	    "# TYPE axon_service_dependency_cycle gauge\n");
	for (i = 0; c->view && i < c->view->graph.n_cycles; i++) {
		const Axon__V1__Cycle *cy = c->view->graph.cycles[i];

		ax_buf_puts(out, "axon_service_dependency_cycle{services=\"");
		for (k = 0; k < cy->n_services; k++) {
			if (k)
				ax_buf_puts(out, " -> ");
			ax_buf_put_escaped(
			    out, cy->services[k], strlen(cy->services[k]), 1);
		}
		ax_buf_puts(out, "\"} 1\n");
	}
	ax_buf_puts(out,
	    "# HELP axon_discoverer_scrapers Live scrapers (heartbeating).\n"
	    "# TYPE axon_discoverer_scrapers gauge\n");
	ax_buf_printf(out, "axon_discoverer_scrapers %zu\n", c->n_members);
	ax_buf_puts(out,
	    "# HELP axon_discoverer_assigned_targets Registry targets each "
	    "live scraper scrapes.\n"
	    "# TYPE axon_discoverer_assigned_targets gauge\n");
	{
		char **ids = member_ids(c);
		size_t *count = calloc(c->n_members + 1, sizeof(size_t));

		for (i = 0; ids && count && c->view && i < c->view->n_inst;
		     i++) {
			long o = owner_of(c, ids, i);

			if (o >= 0)
				count[o]++;
		}
		for (i = 0; ids && count && i < c->n_members; i++) {
			ax_buf_puts(
			    out, "axon_discoverer_assigned_targets{scraper=\"");
			ax_buf_put_escaped(out, ids[i], strlen(ids[i]), 1);
			ax_buf_printf(out, "\"} %zu\n", count[i]);
		}
		free(ids);
		free(count);
	}
	pthread_mutex_unlock(&c->mu);
}
