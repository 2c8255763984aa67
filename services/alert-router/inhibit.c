/*
 * ar_inhibit: inhibit rules (inhibit.h).
 */
#include "alert-router/inhibit.h"

#include <stdlib.h>
#include <string.h>

/* Index the cause alerts per service (firing, or resolved within the
 * hold-down); the lowest fingerprint wins among several. */
static int build_causes(
    ar_inhibit_snap_t *s, ar_alert_t *const *v, size_t n, int64_t now)
{
	const ar_topo_cfg_t *tc = s->topo;
	size_t i;

	s->cause_of =
	    calloc(s->graph->n ? s->graph->n : 1, sizeof(*s->cause_of));
	if (s->cause_of == NULL)
		return AX_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *svc =
		    ax_labels_get(v[i]->labels, tc->service_label);
		long si;

		if (svc == NULL ||
		    !ax_amatchers_match(&tc->cause, v[i]->labels))
			continue;
		if (ar_alert_resolved(v[i], now) &&
		    v[i]->ends_ms + tc->hold_down_ms <= now)
			continue;
		if ((si = ar_graph_find(s->graph, svc)) < 0)
			continue;
		if (s->cause_of[si] == NULL || v[i]->fp < s->cause_of[si]->fp)
			s->cause_of[si] = v[i];
	}
	return 0;
}

int ar_inhibit_snap_build(ar_inhibit_snap_t *s, const ar_config_t *cfg,
    ar_alert_t *const *v, size_t n, int64_t now, ar_graph_t *graph)
{
	const ar_inhibit_cfg_t *rules = cfg->inhibit_rules.items;
	size_t r, i;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->nrules = cfg->inhibit_rules.n;
	if (cfg->axon.topology.enabled && graph) {
		s->topo = &cfg->axon.topology;
		s->graph = ar_graph_ref(graph);
		if (build_causes(s, v, n, now) != 0) {
			ar_inhibit_snap_fini(s);
			return AX_ENOMEM;
		}
	}
	if (s->nrules == 0)
		return 0;
	s->src = calloc(s->nrules, sizeof(*s->src));
	s->nsrc = calloc(s->nrules, sizeof(*s->nsrc));
	if (s->src == NULL || s->nsrc == NULL) {
		ar_inhibit_snap_fini(s);
		return AX_ENOMEM;
	}
	for (r = 0; r < s->nrules; r++) {
		s->src[r] = malloc((n ? n : 1) * sizeof(**s->src));
		if (s->src[r] == NULL) {
			ar_inhibit_snap_fini(s);
			return AX_ENOMEM;
		}
		for (i = 0; i < n; i++)
			if (!ar_alert_resolved(v[i], now) &&
			    ax_amatchers_match(&rules[r].source, v[i]->labels))
				s->src[r][s->nsrc[r]++] = v[i];
	}
	return 0;
}

void ar_inhibit_snap_fini(ar_inhibit_snap_t *s)
{
	size_t r;

	for (r = 0; s->src && r < s->nrules; r++)
		free(s->src[r]);
	free(s->src);
	free(s->nsrc);
	free(s->cause_of);
	ar_graph_unref(s->graph);
	memset(s, 0, sizeof(*s));
}

static int same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

typedef struct walk_ctx {
	const ar_inhibit_snap_t *s;
	const ar_alert_t *found;
} walk_ctx_t;

static int visit(void *arg, size_t idx)
{
	walk_ctx_t *w = arg;

	if (w->s->cause_of[idx] == NULL)
		return 0;
	w->found = w->s->cause_of[idx];
	return 1;
}

int ar_inhibit_topo_check(
    const ar_inhibit_snap_t *s, const ax_labels_t *ls, const ar_alert_t **cause)
{
	walk_ctx_t w = {s, NULL};
	const char *svc;
	long si;

	if (s->topo == NULL || s->graph == NULL)
		return 0;
	svc = ax_labels_get(ls, s->topo->service_label);
	if (svc == NULL || (si = ar_graph_find(s->graph, svc)) < 0)
		return 0;
	/* a service's own cause alerts always page */
	if (ax_amatchers_match(&s->topo->cause, ls) ||
	    !ax_amatchers_match(&s->topo->symptom, ls))
		return 0;
	if (ar_graph_walk(s->graph, (size_t)si, visit, &w) != 1)
		return 0;
	*cause = w.found;
	return 1;
}

static int rules_check(
    const ar_inhibit_snap_t *s, const ax_labels_t *ls, uint64_t *by)
{
	const ar_inhibit_cfg_t *rules;
	size_t r, i, e;

	if (s->nrules == 0)
		return 0;
	rules = s->cfg->inhibit_rules.items;
	for (r = 0; r < s->nrules; r++) {
		const ar_inhibit_cfg_t *rule = &rules[r];
		int two_sided;

		if (!ax_amatchers_match(&rule->target, ls))
			continue;
		two_sided = ax_amatchers_match(&rule->source, ls);
		for (i = 0; i < s->nsrc[r]; i++) {
			const ar_alert_t *a = s->src[r][i];

			for (e = 0; e < rule->equal.n; e++)
				if (!same(ax_labels_get(
				              a->labels, rule->equal.v[e]),
				        ax_labels_get(ls, rule->equal.v[e])))
					break;
			if (e < rule->equal.n)
				continue;
			if (two_sided &&
			    ax_amatchers_match(&rule->target, a->labels))
				continue;
			*by = a->fp;
			return 1;
		}
	}
	return 0;
}

int ar_inhibit_check(
    const ar_inhibit_snap_t *s, const ax_labels_t *ls, uint64_t *by)
{
	const ar_alert_t *cause;

	if (rules_check(s, ls, by))
		return 1;
	if (ar_inhibit_topo_check(s, ls, &cause)) {
		*by = cause->fp;
		return 1;
	}
	return 0;
}
