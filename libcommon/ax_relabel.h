/*
 * ax_relabel: Prometheus relabeling (relabel_configs,
 * metric_relabel_configs, write_relabel_configs, alert_relabel_configs),
 * with Prometheus 2.42's semantics and configuration checks.
 *
 * A rule list is applied in order to a label set; each rule sees what the
 * previous ones made.  Actions: replace, keep, drop, hashmod, labelmap,
 * labeldrop, labelkeep, lowercase, uppercase, keepequal, dropequal.
 * Defaults as Prometheus: separator ";", regex "(.*)" (fully anchored
 * RE2 via ax_regex), replacement "$1", action replace.  hashmod is the
 * low 64 bits (big-endian) of the MD5 of the joined source values, modulo
 * `modulus`, as Prometheus computes it, so targets shard alike.
 *
 * Configuration errors are Prometheus' wording with file:line:col, e.g.
 * "relabel configuration for replace action requires 'target_label'
 * value".
 */
#ifndef AX_RELABEL_H
#define AX_RELABEL_H

#include <stddef.h>
#include <stdint.h>

#include "ax_config.h"
#include "ax_err.h"
#include "ax_labels.h"
#include "ax_regex.h"

typedef enum {
	AX_RL_REPLACE = 0,
	AX_RL_KEEP,
	AX_RL_DROP,
	AX_RL_HASHMOD,
	AX_RL_LABELMAP,
	AX_RL_LABELDROP,
	AX_RL_LABELKEEP,
	AX_RL_LOWERCASE,
	AX_RL_UPPERCASE,
	AX_RL_KEEPEQUAL,
	AX_RL_DROPEQUAL,
} ax_relabel_action_t;

typedef struct ax_relabel {
	char **source; /* source_labels */
	size_t n_source;
	char *separator;
	char *target; /* target_label ("" when unset) */
	ax_regex_t *regex;
	uint64_t modulus;
	char *replacement;
	ax_relabel_action_t action;
} ax_relabel_t;

/* A rule list; all owned. */
typedef struct ax_relabels {
	ax_relabel_t *v;
	size_t n;
} ax_relabels_t;

/* Config decoder for a list of relabel rules (an AX_CFG_CUSTOM field
 * whose destination is an ax_relabels_t); checks each rule as
 * Prometheus' UnmarshalYAML does. */
int ax_relabel_decode(ax_cfg_t *c, yaml_node_t *node, const char *path,
    void *dst, ax_err_t *err);
/* The free_fn for such a field (dst is an ax_relabels_t *). */
void ax_relabel_free(void *dst);
/* Deep copy.  OUT: *out (ax_relabel_free). */
int ax_relabel_dup(const ax_relabels_t *in, ax_relabels_t *out, ax_err_t *err);

/*
 * Apply the rules to in (borrowed).  Returns 1 with *out the resulting
 * label set (owned by the caller; an empty result counts as dropped and
 * returns 0), 0 when the series is dropped (*out NULL), or a negative
 * AX_E* code (out of memory, a regex hitting its match limit).
 */
int ax_relabel_process(const ax_relabels_t *r, const ax_labels_t *in,
    ax_labels_t **out, ax_err_t *err);

/* MD5 of n bytes (RFC 1321), for hashmod. */
void ax_md5(const void *data, size_t n, uint8_t out[16]);

#endif
