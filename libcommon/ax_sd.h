/*
 * ax_sd: service-discovery configuration and target groups shared by
 * axon-scraper and axon-discoverer -- Prometheus' static_configs,
 * file_sd_configs (and the file_sd file format), dns_sd_configs and
 * consul_sd_configs sections, decoded with Prometheus 2.42's defaults and
 * checks (errors with file:line:col), plus the helpers both daemons need
 * to watch file_sd files.
 *
 * A target group (Prometheus' targetgroup.Group without the source) is a
 * list of addresses and the labels they share.
 */
#ifndef AX_SD_H
#define AX_SD_H

#include <glob.h>
#include <stdint.h>

#include "ax_config.h"
#include "ax_labels.h"
#include "ax_rw.h"

typedef struct ax_tgroup {
	ax_cfg_strings_t targets;
	ax_labels_t *labels;
} ax_tgroup_t;

/* Fields of one static_configs entry / file_sd group. */
extern const ax_cfg_field_t ax_tgroup_fields[];

/*
 * Read a file_sd file (JSON or YAML: a list of {targets, labels}).  OUT:
 * *groups (n of them), released with ax_tgroups_free.  Errors name
 * file:line:col.
 */
int ax_tgroups_read_file(
    const char *path, ax_tgroup_t **groups, size_t *n, ax_err_t *err);
void ax_tgroups_free(ax_tgroup_t *groups, size_t n);

typedef struct ax_filesd {
	ax_cfg_strings_t files; /* patterns: path, '*' in the last element */
	int64_t refresh_ms;     /* re-read every so often (5m) */
} ax_filesd_t;

extern const ax_cfg_field_t ax_filesd_fields[];
void ax_filesd_init(void *p);

/* The files matched by n file_sd configs' patterns (glob order).  OUT:
 * *out, released with globfree. */
void ax_filesd_glob(const ax_filesd_t *f, size_t n, glob_t *out);
/* A signature of those files (names, sizes, times, inodes): it changes
 * when a file is added, removed or written. */
uint64_t ax_filesd_sig(const ax_filesd_t *f, size_t n);

/* dns_sd_configs (Prometheus 2.42): names, type SRV (default), A, AAAA
 * or MX, port (required but for SRV), refresh_interval (30s). */
typedef struct ax_dnssd {
	ax_cfg_strings_t names;
	char *type;
	int64_t port;
	int64_t refresh_ms;
} ax_dnssd_t;

/* consul_sd_configs (Prometheus 2.42). */
typedef struct ax_consulsd {
	char *server; /* host:port (localhost:8500) */
	char *path_prefix;
	char *token;
	char *datacenter;
	char *namespace_;
	char *partition;
	char *tag_separator; /* "," */
	char *scheme;        /* http */
	char *username, *password;
	int allow_stale;    /* true */
	int64_t refresh_ms; /* 30s */
	ax_cfg_strings_t services, tags;
	ax_labels_t *node_meta;
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	ax_rw_tls_t tls;
	int follow_redirects, enable_http2;
	char *proxy_url;
} ax_consulsd_t;

/* kubernetes_sd_configs (Prometheus 2.42), roles pod and endpoints. */
typedef struct ax_k8s_selector {
	char *role, *label, *field;
} ax_k8s_selector_t;

typedef struct ax_k8ssd {
	char *api_server; /* NULL: in-cluster */
	char *role;       /* "pod" or "endpoints" */
	char *kubeconfig_file;
	struct {
		int own_namespace;
		ax_cfg_strings_t names;
	} namespaces;
	ax_cfg_list_t selectors; /* of ax_k8s_selector_t */
	struct {
		int node;
	} attach_metadata;
	char *bearer_token, *bearer_token_file;
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	ax_rw_tls_t tls;
	int follow_redirects, enable_http2;
	char *proxy_url;
} ax_k8ssd_t;

/*
 * Decoders for the sections, usable as AX_CFG_CUSTOM decode functions
 * with dst an ax_cfg_list_t (elements ax_dnssd_t / ax_consulsd_t), and
 * the matching free functions.  They apply Prometheus' defaults and
 * checks: a dns_sd config needs names, a known type and a port for
 * A/AAAA/MX; a consul_sd config needs a server; a kubernetes_sd config
 * needs a role (pod or endpoints in this version; the others and
 * kubeconfig_file are refused saying so), selectors of that role, and at
 * most one way to authenticate.
 */
int ax_sd_decode_dns(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err);
void ax_sd_free_dns(void *dst);
int ax_sd_decode_consul(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err);
void ax_sd_free_consul(void *dst);
int ax_sd_decode_k8s(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err);
void ax_sd_free_k8s(void *dst);

/*
 * Decode a section's YAML text (as ax_cfg_node_text gives it, e.g. a
 * delegated section) with decode into dst.  name is used in messages.
 */
int ax_sd_decode_text(const char *name, const char *text,
    int (*decode)(ax_cfg_t *, yaml_node_t *, const char *, void *, ax_err_t *),
    void *dst, ax_err_t *err);

#endif
