/*
 * ar_topo: the service dependency graph, from axon-discoverer, for
 * topology-aware inhibition.
 *
 * The graph arrives on the discoverer's PUB socket (topic "deps") on
 * every change and periodically, and is asked for on its control socket
 * (REQ/REP) at start and every 10 s, so a missed message costs at most
 * that.  Every new graph is written to <dir>/deps.pb (the packed
 * axon.v1.DependencyGraph, temporary file + rename) and read back at
 * start: while the discoverer is unreachable the last graph stays in use,
 * also across a restart of the alert router.
 *
 * A graph is immutable and reference counted; ar_topo_graph hands out a
 * reference to the current one.  Reachability walks each node at most
 * once, so cycles are harmless.
 *
 * Threads: the subscriber callback and the poller install graphs under
 * the mutex; readers take references.
 */
#ifndef AR_TOPO_H
#define AR_TOPO_H

#include <pthread.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_hmap.h"
#include "ax_metrics.h"

typedef struct ar_graph {
	int refs;
	uint64_t generation;
	size_t n;
	char **name;   /* service names */
	size_t **deps; /* per service: indexes of its direct dependencies */
	size_t *ndeps;
	ax_hmap_t idx; /* name -> index + 1 */
} ar_graph_t;

/* The index of service name, or -1. */
long ar_graph_find(const ar_graph_t *g, const char *name);
ar_graph_t *ar_graph_ref(ar_graph_t *g);
void ar_graph_unref(ar_graph_t *g);
/* Build from a packed axon.v1.DependencyGraph.  OUT: *out. */
int ar_graph_unpack(
    const uint8_t *data, size_t len, ar_graph_t **out, ax_err_t *err);

/*
 * Walk the services `from` depends on, transitively (from itself
 * excluded), calling visit(arg, index) for each until it returns
 * non-zero; returns that value, or 0.  Allocates per call (a visited
 * set), AX_ENOMEM.
 */
int ar_graph_walk(const ar_graph_t *g, size_t from,
    int (*visit)(void *arg, size_t idx), void *arg);

typedef struct ar_topo ar_topo_t;

/* Load <dir>/deps.pb if there is one and start following the
 * discoverer.  OUT: *out. */
int ar_topo_start(const char *dir, const char *control, const char *publish,
    ax_metrics_t *metrics, ar_topo_t **out, ax_err_t *err);
void ar_topo_stop(ar_topo_t *t);
/* A reference to the current graph, or NULL before the first one. */
ar_graph_t *ar_topo_graph(ar_topo_t *t);

#endif
