/*
 * ax_promyml: reading the top level of a prometheus.yml (or
 * alertmanager.yml) that several Axon daemons share.
 *
 * Every top-level section has one owner daemon (table in ax_promyml.c and
 * docs/configuration.md).  A daemon passes the field entries for the
 * sections it implements; sections owned by another daemon are skipped
 * with one info log line each; sections this daemon owns but does not
 * implement in this version are refused unless empty; anything else is an
 * unknown field (file:line:col).  `global` is decoded for every
 * prometheus.yml reader.
 */
#ifndef AX_PROMYML_H
#define AX_PROMYML_H

#include "ax_config.h"

typedef enum {
	AX_YML_PROMETHEUS, /* prometheus.yml family: global, scrape_configs, ...
	                    */
	AX_YML_ALERTMANAGER, /* alertmanager.yml family: route, receivers, ...
	                      */
} ax_yml_kind_t;

/*
 * Load path and decode: `own` lists the sections this daemon implements
 * (offsets relative to base), NULL-name terminated.  For AX_YML_PROMETHEUS
 * the global section goes to *global (may be NULL for alertmanager files).
 * daemon is the component name ("tsdb", "scraper", ...).  quiet suppresses
 * the skip log lines.  On error everything decoded so far is released.
 */
int ax_promyml_load(const char *path, ax_yml_kind_t kind, const char *daemon,
    const ax_cfg_field_t *own, void *base, ax_prom_global_t *global, int quiet,
    ax_err_t *err);

/* A decoder that accepts an empty or null value and refuses anything else
 * with "not supported by this version of axon". */
int ax_cfg_refuse_nonempty(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err);

/*
 * The config of a daemon that so far owns no section beyond `global`
 * (prometheus.yml readers) or none (alertmanager.yml readers): its own
 * sections are refused unless empty, the others skipped.  Usable directly
 * as ax_daemon_spec_t.load_config / free_config.
 */
typedef struct ax_daemon_cfg {
	ax_prom_global_t global;
} ax_daemon_cfg_t;

struct ax_daemon;
int ax_promyml_daemon_load(
    struct ax_daemon *d, const char *path, void **out, ax_err_t *err);
void ax_promyml_daemon_free(void *cfg);

#endif
