/*
 * rl_rules: Prometheus rule files, read and checked as Prometheus 2.42
 * (rulefmt) and `promtool check rules` do.
 *
 * Layout (YAML):
 *   groups:
 *     - name: <string, unique in the file, not empty>
 *       interval: <duration; default the global evaluation_interval>
 *       limit: <int; 0 no limit>
 *       rules:
 *         - record: <metric name>          # or
 *           alert: <alert name>
 *           expr: <PromQL>
 *           for: <duration>                # alerting rules only
 *           keep_firing_for: <duration>    # alerting rules only
 *           labels: {<name>: <template>}
 *           annotations: {<name>: <template>}   # alerting rules only
 * Unknown fields and wrong types are errors (as yaml's strict decoding,
 * which stops there: nothing else is checked); otherwise every problem is
 * reported: a group without a name or repeated, a rule with both or neither
 * of record and alert, no expr or one that does not parse, for,
 * keep_firing_for or annotations on a recording rule, an invalid recording
 * rule name, invalid label or annotation names (and __name__ as a label),
 * label values that are not UTF-8, and label or annotation templates of
 * alerting rules that do not parse with Prometheus' function set (each
 * prefixed with {{$labels := .Labels}}{{$externalLabels :=
 * .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}},
 * named __alert_<name>).  Each error is one line
 *   <file>:<line>:<col>: group "<g>", rule <i>, "<name>": <why>
 * (the position where one is known).
 *
 * Ownership: a ruleset owns its groups, rules and everything in them.
 */
#ifndef RL_RULES_H
#define RL_RULES_H

#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_labels.h"
#include "ax_promql.h"

/* Annotations in file order (values may be empty, unlike labels). */
typedef struct rl_kv {
	char **k, **v;
	size_t n;
} rl_kv_t;

/* Free (kv is left empty); deep-copy (OUT: d, to be freed with
 * rl_kv_free also on AX_ENOMEM). */
void rl_kv_free(rl_kv_t *kv);
int rl_kv_copy(rl_kv_t *d, const rl_kv_t *s);

typedef struct rl_rule {
	char *record; /* recording rule: the metric it writes */
	char *alert;  /* alerting rule: the alert's name */
	char *expr;
	ax_pq_node_t *ast;
	int64_t for_ms, keep_firing_for_ms;
	rl_kv_t labels; /* templates for alerting rules */
	rl_kv_t annotations;
	int line;
} rl_rule_t;

typedef struct rl_group {
	char *name;
	char *file;
	int64_t interval_ms; /* 0: the global evaluation_interval */
	int64_t limit;
	rl_rule_t *rules;
	size_t n;
	int line;
} rl_group_t;

/* What Prometheus puts before every label and annotation template of an
 * alerting rule. */
#define RL_TMPL_DEFS                                                           \
	"{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"         \
	"{{$externalURL := .ExternalURL}}{{$value := .Value}}"

typedef struct rl_ruleset {
	rl_group_t *groups;
	size_t n;
} rl_ruleset_t;

/* Read path and append its groups to rs.  Problems are appended to errs,
 * one per line; returns AX_ECONFIG when there were any (rs then holds
 * nothing from this file), AX_ENOMEM, or 0. */
int rl_rules_load_file(rl_ruleset_t *rs, const char *path, ax_buf_t *errs);
/* The same for a rule file's text (name is used as its file name). */
int rl_rules_load_text(rl_ruleset_t *rs, const char *name, const char *text,
    size_t len, ax_buf_t *errs);
void rl_ruleset_free(rl_ruleset_t *rs);
/* Number of rules in all groups. */
size_t rl_ruleset_count(const rl_ruleset_t *rs);

/* promtool's duplicate check: recording rules with the same name and
 * labels.  Appends "Metric: ..." blocks to out; returns how many. */
size_t rl_rules_duplicates(const rl_ruleset_t *rs, ax_buf_t *out);

#endif
