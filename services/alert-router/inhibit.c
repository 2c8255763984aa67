/*
 * ar_inhibit: inhibit rules (inhibit.h).
 */
#include "alert-router/inhibit.h"

#include <stdlib.h>
#include <string.h>

int ar_inhibit_snap_build(ar_inhibit_snap_t *s, const ar_config_t *cfg,
    ar_alert_t *const *v, size_t n, int64_t now)
{
	const ar_inhibit_cfg_t *rules = cfg->inhibit_rules.items;
	size_t r, i;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->nrules = cfg->inhibit_rules.n;
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
	memset(s, 0, sizeof(*s));
}

static int same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int ar_inhibit_check(
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
