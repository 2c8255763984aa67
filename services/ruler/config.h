/*
 * rl_config: axon-ruler's configuration, the ruler's sections of a
 * prometheus.yml read unchanged.
 *
 *   global: evaluation_interval (1m), external_labels
 *   rule_files: [<glob>, ...]      relative to the config file's directory
 *   alerting:
 *     alert_relabel_configs: [<relabel_config>]
 *     alertmanagers:               Alertmanager API v2 receivers
 *       - static_configs: [{targets: [host:port, ...]}]
 *         scheme: http | https     (http)
 *         path_prefix: /prefix     ("")
 *         timeout: <duration>      (10s)
 *         api_version: v2          (v1 is refused: Alertmanager 0.25 has
 *                                   no v1 API)
 *         basic_auth, authorization, tls_config, follow_redirects,
 *         enable_http2 (as Prometheus)
 *   axon_alert_routers: [<nng address>, ...]   axon-alert-router replicas
 *                                   (AlertBatch over REQ/REP, socket 5)
 *   axon_ruler:
 *     tsdb_query: <nng address>    axon-tsdb's QueryRequest socket
 *     tsdb_ingest: <nng address>   axon-tsdb's SampleBatch socket (rule
 *                                   results, ALERTS, ALERTS_FOR_STATE)
 *     slo_files: [<glob>, ...]     SLO files (slo.h), relative to the
 *                                   config file; their rules (as `axon slo
 *                                   render` prints them) are evaluated
 *                                   with the rule files'
 * Loading the config loads the rule files too: a rule file that does not
 * pass the checks of rules.h makes the config invalid (at start: no
 * start; on reload: the old config and rules stay).
 *
 * Ownership: rl_config_load returns a config owned by the caller
 * (rl_config_free).
 */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H

#include "ax_config.h"
#include "ax_relabel.h"
#include "ax_rw.h"
#include "ruler/rules.h"

typedef struct rl_static {
	ax_cfg_strings_t targets;
	ax_labels_t *labels;
} rl_static_t;

typedef struct rl_am {
	ax_cfg_list_t static_configs; /* rl_static_t */
	char *scheme;
	char *path_prefix;
	int64_t timeout_ms;
	char *api_version;
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	char *bearer_token, *bearer_token_file;
	ax_rw_tls_t tls_config;
	int follow_redirects, enable_http2;
} rl_am_t;

typedef struct rl_alerting {
	ax_relabels_t relabel;
	ax_cfg_list_t alertmanagers; /* rl_am_t */
} rl_alerting_t;

typedef struct rl_axon {
	char *tsdb_query;
	char *tsdb_ingest;
	ax_cfg_strings_t slo_files;
} rl_axon_t;

typedef struct rl_config {
	ax_prom_global_t global;
	ax_cfg_strings_t rule_files;
	rl_alerting_t alerting;
	ax_cfg_strings_t alert_routers;
	rl_axon_t axon;
	rl_ruleset_t rules; /* loaded from rule_files */
	char *file;
} rl_config_t;

/* Load path and its rule files.  AX_ECONFIG with every problem in err
 * (rule file errors one per line). */
int rl_config_load(const char *path, rl_config_t **out, ax_err_t *err);
void rl_config_free(rl_config_t *c);

#endif
