/*
 * ax_promyml: shared top-level config sections (see ax_promyml.h).
 */
#include "ax_promyml.h"
#include "ax_daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct section {
	const char *name;
	const char *owner; /* component that owns it, NULL: nobody */
} section_t;

/* Who owns each top-level key of prometheus.yml in Axon. */
static const section_t prom_sections[] = {
    {"global", NULL}, /* read by all */
    {"scrape_configs", "scraper"},
    {"rule_files", "ruler"},
    {"alerting", "ruler"},
    {"axon_alert_routers", "ruler"},
    {"remote_write", NULL}, /* tsdb (forwarding) and scraper (agent mode) */
    {"remote_read", "tsdb"},
    {"storage", "tsdb"},
    {"tracing", NULL},
    {"axon_tsdb", "tsdb"},
    {"axon_scraper", "scraper"},
    {"axon_ruler", "ruler"},
    {"axon_discoverer", "discoverer"},
    {NULL, NULL},
};

static const section_t am_sections[] = {
    {"global", "alert-router"},
    {"route", "alert-router"},
    {"receivers", "alert-router"},
    {"inhibit_rules", "alert-router"},
    {"templates", "alert-router"},
    {"time_intervals", "alert-router"},
    {"mute_time_intervals", "alert-router"},
    {"axon_alert_router", "alert-router"},
    {NULL, NULL},
};

int ax_cfg_refuse_nonempty(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err)
{
	(void)dst;
	if (ax_cfg_is_null(node))
		return 0;
	if (node->type == YAML_SEQUENCE_NODE &&
	    node->data.sequence.items.start == node->data.sequence.items.top)
		return 0;
	if (node->type == YAML_MAPPING_NODE &&
	    node->data.mapping.pairs.start == node->data.mapping.pairs.top)
		return 0;
	return ax_cfg_errorf(c, node, path, err,
	    "not supported by this version of axon (leave it out or empty)");
}

typedef struct decode_ctx {
	void *base;
	ax_prom_global_t *global;
} decode_ctx_t;

int ax_promyml_load(const char *path, ax_yml_kind_t kind, const char *daemon,
    const ax_cfg_field_t *own, void *base, ax_prom_global_t *global, int quiet,
    ax_err_t *err)
{
	const section_t *secs =
	    kind == AX_YML_PROMETHEUS ? prom_sections : am_sections;
	ax_cfg_field_t fields[32];
	size_t n = 0, i;
	const ax_cfg_field_t *f;
	ax_cfg_t c;
	char owners[16][64];
	size_t n_owners = 0;
	int rv;

	/* Decoding happens in two passes over the same map: one for this
	 * daemon's sections into base, one for `global` into *global. */
	for (i = 0; secs[i].name; i++) {
		int mine = 0;

		for (f = own; f && f->name; f++)
			if (strcmp(f->name, secs[i].name) == 0)
				mine = 1;
		if (mine)
			continue;
		memset(&fields[n], 0, sizeof(fields[n]));
		fields[n].name = secs[i].name;
		if (kind == AX_YML_PROMETHEUS &&
		    strcmp(secs[i].name, "global") == 0) {
			fields[n].type = AX_CFG_IGNORE; /* second pass */
		} else if (secs[i].owner &&
		    strcmp(secs[i].owner, daemon) == 0) {
			fields[n].type = AX_CFG_CUSTOM;
			fields[n].decode = ax_cfg_refuse_nonempty;
		} else {
			fields[n].type = AX_CFG_SKIP;
			if (secs[i].owner) {
				snprintf(owners[n_owners], sizeof(owners[0]),
				    "axon-%s", secs[i].owner);
				fields[n].owner = owners[n_owners++];
			} else if (strcmp(secs[i].name, "remote_write") == 0) {
				fields[n].owner =
				    "axon-tsdb / axon-scraper (agent mode)";
			} else {
				fields[n].owner = "nobody (not used by axon)";
			}
		}
		n++;
	}
	for (f = own; f && f->name; f++) {
		if (n == sizeof(fields) / sizeof(fields[0]) - 1)
			return ax_err_set(
			    err, AX_EINTERNAL, "too many sections");
		fields[n++] = *f;
	}
	memset(&fields[n], 0, sizeof(fields[n]));
	if ((rv = ax_cfg_load_file(&c, path, err)) != 0)
		return rv;
	c.quiet = quiet;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", fields, base, err);
	if (rv == 0 && kind == AX_YML_PROMETHEUS && global) {
		yaml_node_t *root = ax_cfg_root(&c);

		/* decode only the global key, ignoring the rest this time */
		if (root && root->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;

			for (p = root->data.mapping.pairs.start;
			     p < root->data.mapping.pairs.top; p++) {
				yaml_node_t *k =
				    yaml_document_get_node(&c.doc, p->key);
				yaml_node_t *v =
				    yaml_document_get_node(&c.doc, p->value);

				if (strcmp(ax_cfg_scalar(k), "global") == 0) {
					rv = ax_cfg_decode(&c, v, "global",
					    ax_prom_global_fields, global, err);
					break;
				}
			}
		}
		if (rv == 0)
			rv = ax_prom_global_check(&c, global, err);
		if (rv != 0)
			ax_cfg_free_fields(ax_prom_global_fields, global);
	}
	if (rv != 0)
		ax_cfg_free_fields(own, base);
	ax_cfg_fini(&c);
	return rv;
}

int ax_promyml_daemon_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	const ax_daemon_spec_t *spec = ax_daemon_spec(d);
	ax_daemon_cfg_t *cfg = calloc(1, sizeof(*cfg));
	int am = strcmp(spec->component, "alert-router") == 0;
	int rv;

	if (cfg == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_prom_global_init(&cfg->global);
	rv = ax_promyml_load(path, am ? AX_YML_ALERTMANAGER : AX_YML_PROMETHEUS,
	    spec->component, NULL, cfg, am ? NULL : &cfg->global, 0, err);
	if (rv != 0) {
		free(cfg);
		return rv;
	}
	*out = cfg;
	return 0;
}

void ax_promyml_daemon_free(void *p)
{
	ax_daemon_cfg_t *cfg = p;

	if (cfg == NULL)
		return;
	ax_cfg_free_fields(ax_prom_global_fields, &cfg->global);
	free(cfg);
}
