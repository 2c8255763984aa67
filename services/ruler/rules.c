/*
 * rl_rules: Prometheus rule files (rules.h).
 */
#include "ruler/rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_config.h"
#include "ax_tmpl.h"
#include "ax_tmplfn.h"
#include "ax_units.h"

/* ---- freeing ---- */

void rl_kv_free(rl_kv_t *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->k[i]);
		free(kv->v[i]);
	}
	free(kv->k);
	free(kv->v);
	memset(kv, 0, sizeof(*kv));
}

int rl_kv_copy(rl_kv_t *d, const rl_kv_t *s)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->k = calloc(s->n + 1, sizeof(char *));
	d->v = calloc(s->n + 1, sizeof(char *));
	if (d->k == NULL || d->v == NULL)
		return AX_ENOMEM;
	for (i = 0; i < s->n; i++) {
		d->k[i] = strdup(s->k[i]);
		d->v[i] = strdup(s->v[i]);
		d->n++;
		if (d->k[i] == NULL || d->v[i] == NULL)
			return AX_ENOMEM;
	}
	return 0;
}

static void rule_free(rl_rule_t *r)
{
	free(r->record);
	free(r->alert);
	free(r->expr);
	ax_pq_free(r->ast);
	rl_kv_free(&r->labels);
	rl_kv_free(&r->annotations);
}

static void group_free(rl_group_t *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		rule_free(&g->rules[i]);
	free(g->rules);
	free(g->name);
	free(g->file);
}

void rl_ruleset_free(rl_ruleset_t *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		group_free(&rs->groups[i]);
	free(rs->groups);
	memset(rs, 0, sizeof(*rs));
}

size_t rl_ruleset_count(const rl_ruleset_t *rs)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++)
		n += rs->groups[i].n;
	return n;
}

/* ---- reading ---- */

typedef struct rd {
	ax_cfg_t cfg;
	const char *file;
	ax_buf_t *errs;
	int nerr;
	int strict_failed; /* a decoding error: stop before validating */
	int oom;
	ax_tmpl_t *tmpl; /* for template checks */
} rd_t;

static void errf(rd_t *r, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(rd_t *r, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		ax_buf_printf(r->errs, "%s:%zu:%zu: %s\n", r->file,
		    n->start_mark.line + 1, n->start_mark.column + 1, msg);
	else
		ax_buf_printf(r->errs, "%s: %s\n", r->file, msg);
	r->nerr++;
}

static yaml_node_t *node(rd_t *r, int idx)
{
	return yaml_document_get_node(&r->cfg.doc, idx);
}

static const char *tag_of(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "!!map";
	case YAML_SEQUENCE_NODE: return "!!seq";
	default: return "!!str";
	}
}

/* A strict-decoding (type) error, as yaml.v3 words it. */
static void type_err(rd_t *r, const yaml_node_t *n, const char *into)
{
	const char *s = ax_cfg_scalar((yaml_node_t *)n);

	if (s)
		errf(r, n, "cannot unmarshal %s `%s` into %s", tag_of(n), s,
		    into);
	else
		errf(r, n, "cannot unmarshal %s into %s", tag_of(n), into);
	r->strict_failed = 1;
}

static char *dup_scalar(rd_t *r, const yaml_node_t *n, const char *into)
{
	const char *s;
	char *d;

	if (ax_cfg_is_null((yaml_node_t *)n))
		s = "";
	else if ((s = ax_cfg_scalar((yaml_node_t *)n)) == NULL) {
		type_err(r, n, into);
		return NULL;
	}
	if ((d = strdup(s)) == NULL)
		r->oom = 1;
	return d;
}

static int64_t get_duration(rd_t *r, const yaml_node_t *n)
{
	const char *s = ax_cfg_scalar((yaml_node_t *)n);
	int64_t ms = 0;
	ax_err_t e;

	if (ax_cfg_is_null((yaml_node_t *)n))
		return 0;
	if (s == NULL) {
		type_err(r, n, "model.Duration");
		return 0;
	}
	if (ax_duration_parse(s, &ms, &e) != 0) {
		errf(r, n, "%s", e.msg);
		r->strict_failed = 1;
	}
	return ms;
}

/* A string->string map. */
static void get_kv(rd_t *r, const yaml_node_t *n, rl_kv_t *kv)
{
	yaml_node_pair_t *p;
	size_t cap;

	if (ax_cfg_is_null((yaml_node_t *)n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		type_err(r, n, "map[string]string");
		return;
	}
	cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	kv->k = calloc(cap + 1, sizeof(char *));
	kv->v = calloc(cap + 1, sizeof(char *));
	if (kv->k == NULL || kv->v == NULL) {
		r->oom = 1;
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
		char *ks = dup_scalar(r, k, "string");
		char *vs = dup_scalar(r, v, "string");

		if (ks == NULL || vs == NULL) {
			free(ks);
			free(vs);
			continue;
		}
		kv->k[kv->n] = ks;
		kv->v[kv->n++] = vs;
	}
}

static const char *key_of(rd_t *r, const yaml_node_pair_t *p)
{
	const char *k = ax_cfg_scalar(node(r, p->key));

	return k ? k : "";
}

static void read_rule(rd_t *r, const yaml_node_t *n, rl_rule_t *rule,
    const yaml_node_t **rec_node, const yaml_node_t **alert_node,
    const yaml_node_t **expr_node)
{
	yaml_node_pair_t *p;

	rule->line = (int)n->start_mark.line + 1;
	if (ax_cfg_is_null((yaml_node_t *)n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		type_err(r, n, "rulefmt.RuleNode");
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = key_of(r, p);
		yaml_node_t *v = node(r, p->value);

		if (strcmp(k, "record") == 0) {
			rule->record = dup_scalar(r, v, "string");
			*rec_node = v;
		} else if (strcmp(k, "alert") == 0) {
			rule->alert = dup_scalar(r, v, "string");
			*alert_node = v;
		} else if (strcmp(k, "expr") == 0) {
			rule->expr = dup_scalar(r, v, "string");
			*expr_node = v;
		} else if (strcmp(k, "for") == 0)
			rule->for_ms = get_duration(r, v);
		else if (strcmp(k, "keep_firing_for") == 0)
			rule->keep_firing_for_ms = get_duration(r, v);
		else if (strcmp(k, "labels") == 0)
			get_kv(r, v, &rule->labels);
		else if (strcmp(k, "annotations") == 0)
			get_kv(r, v, &rule->annotations);
		else {
			errf(r, node(r, p->key),
			    "field %s not found in type rulefmt.RuleNode", k);
			r->strict_failed = 1;
		}
	}
}

/* Prometheus' per-rule checks (rulefmt RuleNode.Validate). */
static void validate_rule(rd_t *r, const rl_group_t *g, size_t idx,
    rl_rule_t *rule, const yaml_node_t *rec, const yaml_node_t *alert,
    const yaml_node_t *expr, const yaml_node_t *rn)
{
	const char *name = rule->alert && *rule->alert ? rule->alert
	    : rule->record                             ? rule->record
	                                               : "";
	const yaml_node_t *at = rec ? rec : alert ? alert : rn;
	char pre[1024];
	size_t i;
	ax_err_t e;

	snprintf(pre, sizeof(pre), "group \"%s\", rule %zu, \"%s\"", g->name,
	    idx + 1, name);
	if (rule->record && *rule->record && rule->alert && *rule->alert)
		errf(r, at, "%s: only one of 'record' and 'alert' must be set",
		    pre);
	if ((rule->record == NULL || !*rule->record) &&
	    (rule->alert == NULL || !*rule->alert))
		errf(r, at, "%s: one of 'record' or 'alert' must be set", pre);
	if (rule->expr == NULL || !*rule->expr)
		errf(r, expr ? expr : rn,
		    "%s: field 'expr' must be set in rule", pre);
	else if (ax_pq_parse(rule->expr, &rule->ast, &e) != 0)
		errf(r, expr, "%s: could not parse expression: %s", pre, e.msg);
	if (rule->record && *rule->record) {
		if (rule->annotations.n > 0)
			errf(r, rec,
			    "%s: invalid field 'annotations' in recording rule",
			    pre);
		if (rule->for_ms != 0)
			errf(r, rec,
			    "%s: invalid field 'for' in recording rule", pre);
		if (rule->keep_firing_for_ms != 0)
			errf(r, rec,
			    "%s: invalid field 'keep_firing_for' in recording "
			    "rule",
			    pre);
		if (!ax_metric_name_valid(rule->record, strlen(rule->record)))
			errf(r, rec, "%s: invalid recording rule name: %s", pre,
			    rule->record);
	}
	for (i = 0; i < rule->labels.n; i++) {
		const char *k = rule->labels.k[i], *v = rule->labels.v[i];

		if (!ax_label_name_valid(k, strlen(k)) ||
		    strcmp(k, AX_METRIC_NAME) == 0)
			errf(r, rn, "%s: invalid label name: %s", pre, k);
		if (!ax_utf8_valid(v, strlen(v)))
			errf(r, rn, "%s: invalid label value: %s", pre, v);
	}
	for (i = 0; i < rule->annotations.n; i++) {
		const char *k = rule->annotations.k[i];

		if (!ax_label_name_valid(k, strlen(k)))
			errf(r, rn, "%s: invalid annotation name: %s", pre, k);
	}
	/* templates of alerting rules must parse */
	if (rule->alert && *rule->alert && r->tmpl) {
		rl_kv_t *kvs[2] = {&rule->labels, &rule->annotations};
		static const char *const what[2] = {"label", "annotation"};
		char tname[1024];
		size_t w;

		snprintf(tname, sizeof(tname), "__alert_%s", rule->alert);
		for (w = 0; w < 2; w++)
			for (i = 0; i < kvs[w]->n; i++) {
				ax_tmpl_t *t = ax_tmpl_child(r->tmpl);
				ax_buf_t text = AX_BUF_INIT;

				if (t == NULL) {
					r->oom = 1;
					return;
				}
				ax_buf_puts(&text, RL_TMPL_DEFS);
				ax_buf_puts(&text, kvs[w]->v[i]);
				if (!ax_buf_ok(&text))
					r->oom = 1;
				else if (ax_tmpl_parse(t, tname, text.p, &e) !=
				    0)
					errf(r, rn, "%s: %s \"%s\": %s", pre,
					    what[w], kvs[w]->k[i], e.msg);
				ax_buf_fini(&text);
				ax_tmpl_free(t);
			}
	}
}

static void read_group(rd_t *r, const yaml_node_t *n, rl_group_t *g,
    const yaml_node_t **name_node, const yaml_node_t **rules_node)
{
	yaml_node_pair_t *p;

	g->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		if (!ax_cfg_is_null((yaml_node_t *)n))
			type_err(r, n, "rulefmt.RuleGroup");
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = key_of(r, p);
		yaml_node_t *v = node(r, p->value);

		if (strcmp(k, "name") == 0) {
			free(g->name);
			g->name = dup_scalar(r, v, "string");
			*name_node = v;
		} else if (strcmp(k, "interval") == 0)
			g->interval_ms = get_duration(r, v);
		else if (strcmp(k, "limit") == 0) {
			const char *s = ax_cfg_scalar(v);
			char *end;

			if (ax_cfg_is_null(v))
				continue;
			if (s == NULL) {
				type_err(r, v, "int");
				continue;
			}
			g->limit = strtoll(s, &end, 0);
			if (*s == '\0' || *end != '\0')
				type_err(r, v, "int");
		} else if (strcmp(k, "rules") == 0)
			*rules_node = v;
		else {
			errf(r, node(r, p->key),
			    "field %s not found in type rulefmt.RuleGroup", k);
			r->strict_failed = 1;
		}
	}
}

static int load(rl_ruleset_t *rs, const char *path, const char *text,
    size_t len, ax_buf_t *errs);

int rl_rules_load_file(rl_ruleset_t *rs, const char *path, ax_buf_t *errs)
{
	return load(rs, path, NULL, 0, errs);
}

int rl_rules_load_text(rl_ruleset_t *rs, const char *name, const char *text,
    size_t len, ax_buf_t *errs)
{
	return load(rs, name, text, len, errs);
}

static int load(rl_ruleset_t *rs, const char *path, const char *text,
    size_t len, ax_buf_t *errs)
{
	rd_t r;
	ax_err_t e;
	yaml_node_t *root, *groups = NULL;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	rl_group_t *gs = NULL;
	size_t ng = 0, cap, i, j;
	/* the nodes that errors point at */
	typedef struct rnodes {
		const yaml_node_t *rec, *al, *ex, *rn;
	} rnodes_t;
	typedef struct gnodes {
		const yaml_node_t *name, *rules;
		rnodes_t *r;
	} gnodes_t;
	gnodes_t *gn = NULL;

	memset(&r, 0, sizeof(r));
	r.file = path;
	r.errs = errs;
	if ((text ? ax_cfg_load_string(&r.cfg, path, text, len, &e)
	          : ax_cfg_load_file(&r.cfg, path, &e)) != 0) {
		ax_buf_printf(errs, "%s\n", e.msg);
		return e.code == AX_ENOMEM ? AX_ENOMEM : AX_ECONFIG;
	}
	r.cfg.quiet = 1;
	root = ax_cfg_root(&r.cfg);
	if (root && !ax_cfg_is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			type_err(&r, root, "rulefmt.RuleGroups");
		else
			for (p = root->data.mapping.pairs.start;
			     p < root->data.mapping.pairs.top; p++) {
				const char *k = key_of(&r, p);

				if (strcmp(k, "groups") == 0)
					groups = node(&r, p->value);
				else {
					errf(&r, node(&r, p->key),
					    "field %s not found in type "
					    "rulefmt.RuleGroups",
					    k);
					r.strict_failed = 1;
				}
			}
	}
	if (groups && !ax_cfg_is_null(groups) &&
	    groups->type != YAML_SEQUENCE_NODE) {
		type_err(&r, groups, "[]rulefmt.RuleGroup");
		groups = NULL;
	}
	if (groups && groups->type == YAML_SEQUENCE_NODE) {
		cap = (size_t)(groups->data.sequence.items.top -
		    groups->data.sequence.items.start);
		gs = calloc(cap + 1, sizeof(*gs));
		gn = calloc(cap + 1, sizeof(*gn));
		if (gs == NULL || gn == NULL)
			r.oom = 1;
		for (it = groups->data.sequence.items.start;
		     !r.oom && it < groups->data.sequence.items.top; it++) {
			rl_group_t *g = &gs[ng];
			yaml_node_t *gnode = node(&r, *it);
			yaml_node_t *rules;
			size_t nr;

			gn[ng].name = gnode;
			read_group(&r, gnode, g, &gn[ng].name, &gn[ng].rules);
			if ((g->file = strdup(path)) == NULL)
				r.oom = 1;
			if (g->name == NULL && (g->name = strdup("")) == NULL)
				r.oom = 1;
			ng++;
			rules = (yaml_node_t *)gn[ng - 1].rules;
			if (rules == NULL || ax_cfg_is_null(rules))
				continue;
			if (rules->type != YAML_SEQUENCE_NODE) {
				type_err(&r, rules, "[]rulefmt.RuleNode");
				continue;
			}
			nr = (size_t)(rules->data.sequence.items.top -
			    rules->data.sequence.items.start);
			if ((g->rules = calloc(nr + 1, sizeof(*g->rules))) ==
			        NULL ||
			    (gn[ng - 1].r = calloc(nr + 1, sizeof(rnodes_t))) ==
			        NULL) {
				r.oom = 1;
				break;
			}
			for (j = 0; j < nr; j++) {
				rnodes_t *rn = &gn[ng - 1].r[j];

				rn->rn = node(
				    &r, rules->data.sequence.items.start[j]);
				read_rule(&r, rn->rn, &g->rules[j], &rn->rec,
				    &rn->al, &rn->ex);
				g->n++;
			}
		}
	}
	/* Validation, only when decoding succeeded (as rulefmt.Parse). */
	if (!r.strict_failed && !r.oom) {
		r.tmpl = ax_tmpl_new(ax_tmplfn_prometheus, NULL);
		if (r.tmpl == NULL)
			r.oom = 1;
		for (i = 0; i < ng && !r.oom; i++) {
			rl_group_t *g = &gs[i];

			if (g->name[0] == '\0')
				errf(&r, gn[i].name,
				    "Groupname must not be empty");
			for (j = 0; j < i; j++)
				if (strcmp(gs[j].name, g->name) == 0) {
					errf(&r, gn[i].name,
					    "groupname: \"%s\" is repeated in "
					    "the same file",
					    g->name);
					break;
				}
			for (j = 0; j < g->n; j++) {
				const rnodes_t *rn = &gn[i].r[j];

				validate_rule(&r, g, j, &g->rules[j], rn->rec,
				    rn->al, rn->ex, rn->rn);
			}
		}
		ax_tmpl_free(r.tmpl);
	}
	for (i = 0; gn && i < ng; i++)
		free(gn[i].r);
	free(gn);
	ax_cfg_fini(&r.cfg);
	if (r.oom || r.nerr > 0 || !ax_buf_ok(errs)) {
		for (i = 0; i < ng; i++)
			group_free(&gs[i]);
		free(gs);
		if (r.oom || !ax_buf_ok(errs))
			return AX_ENOMEM;
		return AX_ECONFIG;
	}
	/* append to the set */
	if (ng > 0) {
		rl_group_t *all =
		    realloc(rs->groups, (rs->n + ng) * sizeof(*all));

		if (all == NULL) {
			for (i = 0; i < ng; i++)
				group_free(&gs[i]);
			free(gs);
			return AX_ENOMEM;
		}
		memcpy(all + rs->n, gs, ng * sizeof(*gs));
		rs->groups = all;
		rs->n += ng;
	}
	free(gs);
	return 0;
}

/* ---- duplicates ---- */

static int same_labels(const rl_kv_t *a, const rl_kv_t *b)
{
	size_t i, j;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (strcmp(a->k[i], b->k[j]) == 0 &&
			    strcmp(a->v[i], b->v[j]) == 0)
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

size_t rl_rules_duplicates(const rl_ruleset_t *rs, ax_buf_t *out)
{
	size_t gi, ri, gj, rj, n = 0;

	for (gi = 0; gi < rs->n; gi++)
		for (ri = 0; ri < rs->groups[gi].n; ri++) {
			const rl_rule_t *a = &rs->groups[gi].rules[ri];
			int dup = 0;

			if (a->record == NULL)
				continue;
			/* reported once, at its second occurrence */
			for (gj = 0; gj <= gi && !dup; gj++)
				for (rj = 0; rj < rs->groups[gj].n; rj++) {
					const rl_rule_t *b =
					    &rs->groups[gj].rules[rj];

					if (gj == gi && rj >= ri)
						break;
					if (b->record &&
					    strcmp(a->record, b->record) == 0 &&
					    same_labels(
					        &a->labels, &b->labels)) {
						dup = 1;
						break;
					}
				}
			if (!dup)
				continue;
			n++;
			ax_buf_printf(
			    out, "Metric: %s\nLabel(s):\n", a->record);
			for (rj = 0; rj < a->labels.n; rj++)
				ax_buf_printf(out, "\t%s: %s\n",
				    a->labels.k[rj], a->labels.v[rj]);
		}
	return n;
}
