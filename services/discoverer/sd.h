/*
 * sd: the discoverer's service-discovery providers and the target sets
 * they feed -- static_configs, file_sd_configs, dns_sd_configs and
 * consul_sd_configs and kubernetes_sd_configs (k8s.h), run for the target sets of the discoverer's own
 * config (axon_discoverer.target_sets) and for the scrape jobs scrapers
 * delegate (a set per job name).
 *
 * Each provider produces target groups the way Prometheus 2.42's does:
 *   static  one group per entry, source "<set>:static:<i>";
 *   file    one group per group of each file, source "<path>:<i>",
 *           label __meta_filepath; files re-read when they change (a
 *           signature polled every 5 s) and every refresh_interval; a
 *           file that cannot be read keeps its last groups;
 *   dns     one group per name, every refresh_interval, targets
 *           host:port with __meta_dns_name, __meta_dns_srv_record_target,
 *           __meta_dns_srv_record_port, __meta_dns_mx_record_target
 *           (empty where not applicable), as Prometheus sets them; NXDOMAIN
 *           is an empty group, a failed lookup keeps the last one;
 *   consul  one group per service, the labels of consul_sd_configs
 *           (catalog query blocking up to refresh_interval, then the
 *           health of each watched service); a failed round keeps the
 *           last groups.
 * DNS questions go to the servers of /etc/resolv.conf with its search
 * path (glibc's resolver), or to axon_discoverer.dns_servers.
 *
 * Threads: one per file, dns and consul provider; on_change runs on them
 * (unlocked) after their groups changed.
 */
#ifndef DISC_SD_H
#define DISC_SD_H

#include "ax_config.h"
#include "ax_err.h"
#include "ax_labels.h"
#include "ax_metrics.h"

typedef struct disc_sd disc_sd_t;

/* A target group as a provider makes it. */
typedef struct disc_group {
	char *source;
	ax_labels_t *labels; /* group labels, may be NULL */
	ax_labels_t **t;     /* targets, each with __address__ */
	size_t n;
} disc_group_t;

void disc_groups_free(disc_group_t *g, size_t n);

/* What a provider running in its own module (k8s.c) is given. */
typedef struct disc_prov_host {
	void *h;
	const char *set;
	/* replace the provider's groups (takes g) */
	void (*publish)(void *h, disc_group_t *g, size_t n);
	/* wait up to ms; 1 when the provider must stop */
	int (*nap)(void *h, int64_t ms);
	int (*stopping)(void *h);
} disc_prov_host_t;

/* The SD sections of one target set (lists of ax_tgroup_t, ax_filesd_t,
 * ax_dnssd_t, ax_consulsd_t, ax_k8ssd_t). */
typedef struct disc_sd_cfg {
	ax_cfg_list_t static_configs;
	ax_cfg_list_t file_sd;
	ax_cfg_list_t dns_sd;
	ax_cfg_list_t consul_sd;
	ax_cfg_list_t k8s_sd;
} disc_sd_cfg_t;

/* dns_servers: n_servers "host:port" strings (read now) or none for the
 * system resolver.  OUT: *out. */
int disc_sd_new(const char *const *dns_servers, size_t n_servers,
    void (*on_change)(void *), void *arg, ax_metrics_t *m, disc_sd_t **out,
    ax_err_t *err);
/* Stop every provider (no on_change after this returns); the (now empty)
 * sets stay visitable until disc_sd_free. */
void disc_sd_clear(disc_sd_t *s);
void disc_sd_free(disc_sd_t *s);

/*
 * Run cfg for the set name (replacing what ran for it).  cfg is deep
 * copied by re-decoding from yaml text when given (yaml non-NULL: the
 * set's SD sections as YAML, e.g. a delegated job's), else borrowed and
 * must outlive the set (the daemon's config).  Returns 0 without
 * restarting anything when the same yaml is set again.
 */
int disc_sd_set(disc_sd_t *s, const char *name, const disc_sd_cfg_t *cfg,
    const char *kind, const char *yaml, ax_err_t *err);
/* Stop and forget a set, or one section (kind) of it. */
void disc_sd_remove(disc_sd_t *s, const char *name);
void disc_sd_remove_kind(disc_sd_t *s, const char *name, const char *kind);
/* Is a set of this name running? */
int disc_sd_has(disc_sd_t *s, const char *name);

/* Visit every group: set name, source, the group labels and its targets
 * (each with __address__).  Borrowed for the call; runs locked. */
typedef void (*disc_sd_visit_fn)(void *arg, const char *set, const char *source,
    const ax_labels_t *labels, ax_labels_t *const *targets, size_t n_targets);
void disc_sd_visit(disc_sd_t *s, disc_sd_visit_fn fn, void *arg);

#endif
