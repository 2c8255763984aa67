/*
 * ar_inhibit: inhibit rules evaluated as Alertmanager 0.25 evaluates them.
 *
 * An alert matching a rule's target matchers is inhibited when some
 * firing (not resolved) alert matches the rule's source matchers and has
 * the same values for every `equal` label (absent counts as ""); when the
 * target alert itself also matches the source matchers, sources that also
 * match the target matchers are skipped, so an alert never inhibits
 * itself and two alerts of one kind never inhibit each other.  The first
 * rule, and its first source, that inhibit are reported.
 *
 * A snapshot indexes the sources of every rule once for a set of alerts,
 * so checking N alerts costs N x (rules x sources), not N^2 matches.
 *
 * Topology (Axon's own, axon_alert_router.topology_inhibition): with a
 * dependency graph, an alert that matches the symptom matchers and not
 * the cause matchers, whose service label names a service that depends,
 * directly or transitively, on a service with a cause alert, is inhibited
 * by that cause alert.  A cause alert counts while it fires and for
 * hold_down after it resolved (symptoms computed over [5m] windows do not
 * page after the heal).  A service's own cause alerts are never inhibited
 * this way.  Rules are checked first.
 *
 * Ownership: a snapshot borrows the config and the alerts it was built
 * from (the caller keeps references to both while it is in use) and holds
 * a reference to the graph.
 */
#ifndef AR_INHIBIT_H
#define AR_INHIBIT_H

#include "alert-router/config.h"
#include "alert-router/store.h"
#include "alert-router/topo.h"

typedef struct ar_inhibit_snap {
	const ar_config_t *cfg;
	const ar_alert_t ***src; /* per rule: its source alerts */
	size_t *nsrc;
	size_t nrules;
	/* topology: the config (NULL: off), the graph, and per graph node
	 * its cause alert */
	const ar_topo_cfg_t *topo;
	ar_graph_t *graph;
	const ar_alert_t **cause_of;
} ar_inhibit_snap_t;

/* Index the firing sources among v[0..n) at now; graph (borrowed, may
 * be NULL) enables topology inhibition when the config has it.
 * AX_ENOMEM. */
int ar_inhibit_snap_build(ar_inhibit_snap_t *s, const ar_config_t *cfg,
    ar_alert_t *const *v, size_t n, int64_t now_ms, ar_graph_t *graph);
void ar_inhibit_snap_fini(ar_inhibit_snap_t *s);
/* Is an alert with labels ls inhibited?  1 with the inhibiting alert's
 * fingerprint in *by, or 0. */
int ar_inhibit_check(
    const ar_inhibit_snap_t *s, const ax_labels_t *ls, uint64_t *by);
/* The topology part alone: 1 with the cause alert in *cause. */
int ar_inhibit_topo_check(const ar_inhibit_snap_t *s, const ax_labels_t *ls,
    const ar_alert_t **cause);

#endif
