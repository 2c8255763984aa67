/*
 * config: axon-scraper's sections of prometheus.yml -- `global`,
 * `scrape_configs` and `remote_write` -- decoded strictly (unknown fields
 * are errors with file:line:col) and checked as Prometheus 2.42 checks
 * them.
 *
 * scrape_configs fields: job_name (required, unique), scrape_interval and
 * scrape_timeout (defaults from global; the timeout never above the
 * interval), metrics_path (/metrics), scheme (http, https), params,
 * honor_labels, honor_timestamps (true), basic_auth, authorization,
 * bearer_token, bearer_token_file, tls_config, relabel_configs,
 * metric_relabel_configs, sample_limit, label_limit,
 * label_name_length_limit, label_value_length_limit, body_size_limit,
 * static_configs (targets, labels), file_sd_configs (files: JSON or YAML
 * target-group files, `*` allowed in the last path element;
 * refresh_interval, 5m), axon_sd_configs (the discoverer's registry:
 * services, tags), and dns_sd_configs, consul_sd_configs and
 * kubernetes_sd_configs, checked here (libcommon ax_sd) and kept as YAML
 * to hand to axon-discoverer, which runs them.
 *
 * Samples go to axon-tsdb over nng when `axon_scraper.tsdb` names its
 * ingest socket, and to every `remote_write` receiver (agent mode); at
 * least one of the two must be configured.  Discovery that needs the
 * discoverer is refused without `axon_scraper.discoverer`, naming the job
 * and the section, rather than silently scraping nothing.
 */
#ifndef SCRAPER_CONFIG_H
#define SCRAPER_CONFIG_H

#include <stdint.h>

#include "ax_config.h"
#include "ax_daemon.h"
#include "ax_labels.h"
#include "ax_relabel.h"
#include "ax_rw.h"
#include "ax_sd.h"

/* axon_sd_configs: targets from axon-discoverer's registry, filtered as
 * consul_sd_configs filters (all services when none are named; every
 * listed tag must be present). */
typedef struct scraper_axonsd {
	ax_cfg_strings_t services;
	ax_cfg_strings_t tags;
} scraper_axonsd_t;

typedef struct scraper_job {
	char *job_name;
	int64_t interval_ms, timeout_ms; /* 0 until defaults apply */
	char *metrics_path;
	char *scheme;
	char *params; /* URL query string, "" when none */
	int honor_labels;
	int honor_timestamps;
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	char *bearer_token, *bearer_token_file;
	ax_rw_tls_t tls;
	ax_relabels_t relabel, metric_relabel;
	int64_t sample_limit, label_limit, label_name_length_limit,
	    label_value_length_limit, body_size_limit;
	ax_cfg_list_t static_configs; /* of ax_tgroup_t */
	ax_cfg_list_t file_sd;        /* of ax_filesd_t */
	ax_cfg_list_t axon_sd;        /* of scraper_axonsd_t */
	/* sections delegated to axon-discoverer, as YAML text (NULL: none);
	 * validated here, run there */
	char *dns_sd_yaml, *consul_sd_yaml, *k8s_sd_yaml;
	int params_set;
	ax_cfg_strings_t params_names; /* first value of each param, for
	                                  __param_<name> */
	ax_cfg_strings_t params_values;
} scraper_job_t;

typedef struct scraper_cfg {
	ax_prom_global_t global;
	struct {
		char *tsdb;      /* nng address of axon-tsdb's ingest socket */
		char *sender_id; /* default "scraper-<hostname>" */
		int64_t buffer_samples;   /* while the tsdb is away (1000000) */
		char *buffer_dir;          /* disk stage past buffer_samples */
		int64_t buffer_disk_bytes; /* its bound (1GiB) */
		char *discoverer;         /* axon-discoverer's control socket */
		char *discoverer_publish; /* its PUB socket */
	} axon;
	ax_cfg_list_t jobs;         /* of scraper_job_t */
	ax_cfg_list_t remote_write; /* of ax_rw_config_t */
} scraper_cfg_t;

/* ax_daemon load/free callbacks. */
int scraper_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err);
void scraper_config_free(void *cfg);

#endif
