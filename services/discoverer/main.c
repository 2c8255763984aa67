/*
 * axon-discoverer: entry point.  The Axon discoverer: the live directory of
 * targets and service dependencies.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-discoverer: its config section, the Consul-compatible HTTP API
 * (agent, catalog and health endpoints with blocking queries) over the
 * registry, and the Axon API (/api/v1/assignments, /api/v1/dependencies,
 * /api/v1/targetsets).  See docs/discoverer.md and docs/architecture.md.
 *
 * Config (prometheus.yml family, section axon_discoverer):
 *   control_listen     nng REP address (default tcp://127.0.0.1:9311)
 *   publish_listen     nng PUB address (default tcp://127.0.0.1:9312)
 *   datacenter         Consul datacenter name (default dc1)
 *   node_name          Consul node name (default: the host name)
 *   advertise_address  the node's address (default 127.0.0.1)
 *   node_meta          map of node metadata
 *   heartbeat_interval scrapers' heartbeat interval (default 2s)
 *   publish_interval   periodic re-publication (default 30s)
 * Listen addresses and node identity are read at start; a reload that
 * changes them is refused (restart to apply).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "ax_daemon.h"
#include "ax_log.h"
#include "ax_promyml.h"
#include "ax_sd.h"
#include "ax_units.h"
#include "discoverer/ctl.h"
#include "discoverer/health.h"
#include "discoverer/registry.h"
#include "discoverer/sd.h"

#define REGISTER_MAX_BYTES (512u << 10)
#define WAIT_DEFAULT_MS (5 * 60 * 1000)
#define WAIT_MAX_MS (10 * 60 * 1000)

typedef struct disc_tset {
	char *name;
	disc_sd_cfg_t sd;
} disc_tset_t;

typedef struct disc_axon {
	ax_cfg_list_t target_sets; /* of disc_tset_t */
	ax_cfg_strings_t dns_servers;
	char *control_listen, *publish_listen;
	char *datacenter, *node_name, *advertise_address;
	ax_labels_t *node_meta;
	int64_t heartbeat_ms, publish_ms;
} disc_axon_t;

typedef struct disc_cfg {
	ax_prom_global_t global;
	disc_axon_t axon;
} disc_cfg_t;

typedef struct disc_state {
	disc_sd_t *sd;
	char **set_names; /* the config's target-set names, NULL-ended */
	disc_reg_t *reg;
	disc_health_t *health;
	disc_ctl_t *ctl;
	char *dc;
} disc_state_t;

static const ax_flag_t flags[] = {
    {"storage.path", AX_FLAG_STRING, "data/discoverer",
        "Directory of the registry (snapshot and append log)."},
    {NULL, 0, NULL, NULL},
};

#define AOFF(f) (offsetof(disc_cfg_t, axon.f) - offsetof(disc_cfg_t, axon))
#define TOFF(f) offsetof(disc_tset_t, f)

static const ax_cfg_field_t tset_fields[] = {
    {.name = "name",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED | AX_CFG_NONEMPTY,
        .offset = TOFF(name)},
    {.name = "static_configs",
        .type = AX_CFG_LIST,
        .offset = TOFF(sd.static_configs),
        .fields = ax_tgroup_fields,
        .elem_size = sizeof(ax_tgroup_t)},
    {.name = "file_sd_configs",
        .type = AX_CFG_LIST,
        .offset = TOFF(sd.file_sd),
        .fields = ax_filesd_fields,
        .elem_size = sizeof(ax_filesd_t),
        .elem_init = ax_filesd_init},
    {.name = "dns_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = TOFF(sd.dns_sd),
        .decode = ax_sd_decode_dns,
        .free_fn = ax_sd_free_dns},
    {.name = "consul_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = TOFF(sd.consul_sd),
        .decode = ax_sd_decode_consul,
        .free_fn = ax_sd_free_consul},
    {.name = "kubernetes_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = TOFF(sd.k8s_sd),
        .decode = ax_sd_decode_k8s,
        .free_fn = ax_sd_free_k8s},
    {0},
};

static const ax_cfg_field_t axon_fields[] = {
    {.name = "target_sets",
        .type = AX_CFG_LIST,
        .offset = AOFF(target_sets),
        .fields = tset_fields,
        .elem_size = sizeof(disc_tset_t)},
    {.name = "dns_servers",
        .type = AX_CFG_STRINGS,
        .offset = AOFF(dns_servers)},
    {.name = "control_listen",
        .type = AX_CFG_CUSTOM,
        .offset = AOFF(control_listen),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "publish_listen",
        .type = AX_CFG_CUSTOM,
        .offset = AOFF(publish_listen),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "datacenter",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = AOFF(datacenter)},
    {.name = "node_name",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = AOFF(node_name)},
    {.name = "advertise_address",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = AOFF(advertise_address)},
    {.name = "node_meta", .type = AX_CFG_LABELS, .offset = AOFF(node_meta)},
    {.name = "heartbeat_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = AOFF(heartbeat_ms)},
    {.name = "publish_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = AOFF(publish_ms)},
    {0},
};

static const ax_cfg_field_t own[] = {
    {.name = "axon_discoverer",
        .type = AX_CFG_SECTION,
        .offset = offsetof(disc_cfg_t, axon),
        .fields = axon_fields},
    {0},
};

static int sdef(char **s, const char *def)
{
	if (*s)
		return 0;
	*s = strdup(def);
	return *s ? 0 : AX_ENOMEM;
}

static void config_free(void *p)
{
	disc_cfg_t *c = p;

	if (c == NULL)
		return;
	ax_cfg_free_fields(ax_prom_global_fields, &c->global);
	ax_cfg_free_fields(own, c);
	free(c);
}

static int config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	disc_cfg_t *c = calloc(1, sizeof(*c));
	char host[256] = "localhost";
	int rv;

	(void)d;
	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_prom_global_init(&c->global);
	rv = ax_promyml_load(
	    path, AX_YML_PROMETHEUS, "discoverer", own, c, &c->global, 0, err);
	gethostname(host, sizeof(host) - 1);
	if (rv == 0 &&
	    (sdef(&c->axon.control_listen, "tcp://127.0.0.1:9311") ||
	        sdef(&c->axon.publish_listen, "tcp://127.0.0.1:9312") ||
	        sdef(&c->axon.datacenter, "dc1") ||
	        sdef(&c->axon.node_name, host) ||
	        sdef(&c->axon.advertise_address, "127.0.0.1")))
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	if (rv == 0 &&
	    strcmp(c->axon.control_listen, c->axon.publish_listen) == 0)
		rv = ax_err_set(err, AX_ECONFIG,
		    "%s: axon_discoverer: control_listen and publish_listen "
		    "must differ",
		    path);
	if (rv == 0) {
		const disc_tset_t *ts = c->axon.target_sets.items;
		size_t i, k;

		for (i = 0; i < c->axon.target_sets.n && rv == 0; i++) {
			if (strcmp(ts[i].name, "registry") == 0)
				rv = ax_err_set(err, AX_ECONFIG,
				    "%s: axon_discoverer.target_sets[%zu]: the "
				    "name \"registry\" is the registry's",
				    path, i);
			for (k = 0; k < i && rv == 0; k++)
				if (strcmp(ts[k].name, ts[i].name) == 0)
					rv = ax_err_set(err, AX_ECONFIG,
					    "%s: axon_discoverer.target_sets: "
					    "\"%s\" defined twice",
					    path, ts[i].name);
		}
	}
	if (c->axon.heartbeat_ms == 0)
		c->axon.heartbeat_ms = 2000;
	if (c->axon.publish_ms == 0)
		c->axon.publish_ms = 30000;
	if (rv != 0) {
		config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

/* ---- Consul API helpers ---- */

static void consul_headers(ax_http_resp_t *resp, uint64_t index)
{
	char ix[32];

	snprintf(ix, sizeof(ix), "%llu", (unsigned long long)index);
	ax_http_resp_header(resp, "X-Consul-Index", ix);
	ax_http_resp_header(resp, "X-Consul-KnownLeader", "true");
	ax_http_resp_header(resp, "X-Consul-LastContact", "0");
	ax_http_resp_header(resp, "X-Consul-Effective-Consistency", "leader");
}

static void text_error(ax_http_resp_t *resp, int status, const char *msg)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	ax_buf_reset(&resp->body);
	ax_buf_puts(&resp->body, msg);
}

/* The path's tail after prefix, URL-decoded into out.  0 when empty. */
static int tail(
    const ax_http_req_t *req, const char *prefix, char *out, size_t cap)
{
	const char *p = ax_http_path(req);
	size_t n = strlen(prefix);

	if (strncmp(p, prefix, n) != 0 || p[n] == '\0' || strlen(p + n) >= cap)
		return 0;
	snprintf(out, cap, "%s", p + n);
	return ax_url_decode(out) > 0;
}

typedef struct qfilter qfilter_t;
static void filter_from(ax_http_req_t *req, qfilter_t *q);

/* Every Consul read: the dc check, the filters (q may be NULL where there
 * are none; `filter` expressions are refused), then the blocking wait.
 * Returns 0 to go on, -1 when resp is set. */
static int consul_pre(disc_state_t *s, ax_http_req_t *req,
    ax_http_resp_t *resp, qfilter_t *q)
{
	const char *dc = ax_http_param(req, "dc");
	const char *ix = ax_http_param(req, "index");
	const char *wt = ax_http_param(req, "wait");
	int64_t wait_ms = WAIT_DEFAULT_MS;
	unsigned long long index = 0;
	ax_err_t err;

	if (dc && *dc && strcmp(dc, s->dc) != 0) {
		text_error(resp, 500, "No path to datacenter");
		return -1;
	}
	if (ax_http_param(req, "filter") && *ax_http_param(req, "filter")) {
		text_error(resp, 400,
		    "filter expressions are not supported by axon-discoverer; "
		    "use tag, passing and node-meta");
		return -1;
	}
	if (q)
		filter_from(req, q);
	if (wt && *wt) {
		if (ax_go_duration_parse(wt, &wait_ms, &err) != 0) {
			char m[300];

			snprintf(
			    m, sizeof(m), "Invalid wait time: %s", err.msg);
			text_error(resp, 400, m);
			return -1;
		}
		if (wait_ms > WAIT_MAX_MS)
			wait_ms = WAIT_MAX_MS;
	}
	if (ix && *ix) {
		char *end;

		index = strtoull(ix, &end, 10);
		if (*end != '\0') {
			text_error(resp, 400, "Invalid index: want a number");
			return -1;
		}
	}
	if (index > 0) {
		/* Consul adds up to wait/16 of jitter */
		int64_t jitter = wait_ms / 16 > 0 ? rand() % (wait_ms / 16) : 0;

		disc_reg_wait(s->reg, index, wait_ms + jitter);
	}
	return 0;
}

/* The read filters of a request (tag, passing, node-meta), with their
 * storage. */
struct qfilter {
	disc_filter_t f;
	const char *tags[32], *nm[40];
	char nmbuf[2048];
};

static void filter_from(ax_http_req_t *req, qfilter_t *q)
{
	const char *raw[16], **tags = q->tags, **nm = q->nm;
	disc_filter_t *f = &q->f;
	char *nmbuf = q->nmbuf;
	size_t n, i, k = 0, used = 0, nmcap = sizeof(q->nmbuf);

	memset(f, 0, sizeof(*f));
	n = ax_http_params(req, "tag", tags, 31);
	tags[n] = NULL;
	f->tags = tags;
	f->passing = ax_http_param(req, "passing") != NULL &&
	    strcmp(ax_http_param(req, "passing"), "false") != 0 &&
	    strcmp(ax_http_param(req, "passing"), "0") != 0;
	n = ax_http_params(req, "node-meta", raw, 16);
	for (i = 0; i < n; i++) {
		const char *colon = strchr(raw[i], ':');
		size_t l = strlen(raw[i]) + 1;

		if (colon == NULL || used + l > nmcap)
			continue;
		memcpy(nmbuf + used, raw[i], l);
		nmbuf[used + (size_t)(colon - raw[i])] = '\0';
		nm[k++] = nmbuf + used;
		nm[k++] = nmbuf + used + (size_t)(colon - raw[i]) + 1;
		used += l;
	}
	nm[k] = NULL;
	f->node_meta = nm;
}

/* ---- handlers ---- */

static void h_register(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	size_t len;
	const char *body = ax_http_body(req, &len);
	ax_err_t err;
	int rv;

	if (len > REGISTER_MAX_BYTES) {
		char m[128];

		snprintf(m, sizeof(m),
		    "Request body too large: %zu bytes, at most %u", len,
		    REGISTER_MAX_BYTES);
		text_error(resp, 400, m);
		return;
	}
	if (len == 0) {
		text_error(resp, 400, "Request decode failed: empty body");
		return;
	}
	rv = disc_reg_register(s->reg, body, len, &err);
	if (rv == AX_EINVAL) {
		text_error(resp, 400, err.msg);
		return;
	}
	if (rv != 0) {
		text_error(resp, 500, err.msg);
		return;
	}
	resp->status = 200;
}

static void h_deregister(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	char id[1024];
	ax_err_t err;
	int rv;

	if (!tail(req, "/v1/agent/service/deregister/", id, sizeof(id))) {
		text_error(resp, 400, "Missing service ID");
		return;
	}
	rv = disc_reg_deregister(s->reg, id, &err);
	if (rv == AX_ENOENT)
		text_error(resp, 404, err.msg);
	else if (rv != 0)
		text_error(resp, 500, err.msg);
	else
		resp->status = 200;
}

static void ttl_update(disc_state_t *s, ax_http_resp_t *resp, const char *id,
    int status, const char *note)
{
	ax_err_t err;
	int rv = disc_reg_check_ttl(s->reg, id, status, note, &err);

	if (rv == AX_ENOENT)
		text_error(resp, 404, err.msg);
	else if (rv == AX_EINVAL)
		text_error(resp, 400, err.msg);
	else if (rv != 0)
		text_error(resp, 500, err.msg);
	else
		resp->status = 200;
}

static void h_check(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	static const struct {
		const char *prefix;
		int status;
	} ops[] = {{"/v1/agent/check/pass/", DISC_PASSING},
	    {"/v1/agent/check/warn/", DISC_WARNING},
	    {"/v1/agent/check/fail/", DISC_CRITICAL}};
	disc_state_t *s = arg;
	char id[1024];
	size_t i;

	for (i = 0; i < 3; i++)
		if (tail(req, ops[i].prefix, id, sizeof(id))) {
			ttl_update(s, resp, id, ops[i].status,
			    ax_http_param(req, "note"));
			return;
		}
	if (tail(req, "/v1/agent/check/update/", id, sizeof(id))) {
		cJSON *j = NULL;
		const cJSON *st, *out;
		ax_err_t err;
		int status = -1;

		if (ax_http_body_json(req, &j, &err) != 0) {
			text_error(resp, 400, err.msg);
			return;
		}
		st = cJSON_GetObjectItem(j, "Status");
		out = cJSON_GetObjectItem(j, "Output");
		if (cJSON_IsString(st)) {
			if (strcmp(st->valuestring, "passing") == 0)
				status = DISC_PASSING;
			else if (strcmp(st->valuestring, "warning") == 0)
				status = DISC_WARNING;
			else if (strcmp(st->valuestring, "critical") == 0)
				status = DISC_CRITICAL;
		}
		if (status < 0)
			text_error(resp, 400,
			    "Invalid check status: want passing, warning or "
			    "critical");
		else
			ttl_update(s, resp, id, status,
			    cJSON_IsString(out) ? out->valuestring : NULL);
		cJSON_Delete(j);
		return;
	}
	text_error(resp, 400, "Missing check ID");
}

static void json_body(ax_http_resp_t *resp, uint64_t index, int consul)
{
	resp->status = 200;
	resp->content_type = "application/json";
	if (consul)
		consul_headers(resp, index);
}

static void h_catalog_services(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	qfilter_t q;
	uint64_t index;

	if (consul_pre(s, req, resp, &q) != 0)
		return;
	q.f.passing = 0; /* a health filter */
	disc_reg_catalog_services(s->reg, &q.f, &resp->body, &index);
	json_body(resp, index, 1);
}

static void h_catalog_service(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	qfilter_t q;
	char name[1024];
	uint64_t index;

	if (!tail(req, "/v1/catalog/service/", name, sizeof(name))) {
		text_error(resp, 400, "Missing service name");
		return;
	}
	if (consul_pre(s, req, resp, &q) != 0)
		return;
	q.f.passing = 0; /* a health filter */
	disc_reg_catalog_service(s->reg, name, &q.f, &resp->body, &index);
	json_body(resp, index, 1);
}

static void h_health_service(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	qfilter_t q;
	char name[1024];
	uint64_t index;

	if (!tail(req, "/v1/health/service/", name, sizeof(name))) {
		text_error(resp, 400, "Missing service name");
		return;
	}
	if (consul_pre(s, req, resp, &q) != 0)
		return;
	disc_reg_health_service(s->reg, name, &q.f, &resp->body, &index);
	json_body(resp, index, 1);
}

static void h_health_checks(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	char name[1024];
	uint64_t index;

	if (tail(req, "/v1/health/checks/", name, sizeof(name))) {
		if (consul_pre(s, req, resp, NULL) != 0)
			return;
		disc_reg_health_checks(s->reg, name, NULL, &resp->body, &index);
	} else if (tail(req, "/v1/health/state/", name, sizeof(name))) {
		if (strcmp(name, "any") != 0 && strcmp(name, "passing") != 0 &&
		    strcmp(name, "warning") != 0 &&
		    strcmp(name, "critical") != 0) {
			text_error(resp, 400,
			    "Invalid state: want any, passing, warning or "
			    "critical");
			return;
		}
		if (consul_pre(s, req, resp, NULL) != 0)
			return;
		disc_reg_health_checks(s->reg, NULL, name, &resp->body, &index);
	} else {
		text_error(resp, 400, "Missing service name or state");
		return;
	}
	json_body(resp, index, 1);
}

static void h_agent(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	const char *p = ax_http_path(req);

	if (strcmp(p, "/v1/agent/self") == 0)
		disc_reg_agent_self(s->reg, &resp->body);
	else if (strcmp(p, "/v1/agent/services") == 0)
		disc_reg_agent_services(s->reg, &resp->body);
	else if (strcmp(p, "/v1/agent/checks") == 0)
		disc_reg_agent_checks(s->reg, &resp->body);
	else {
		text_error(resp, 404, "404 page not found");
		return;
	}
	json_body(resp, 0, 0);
}

static void h_catalog_misc(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;
	const char *p = ax_http_path(req);
	uint64_t index = 1;

	if (strcmp(p, "/v1/catalog/nodes") == 0) {
		if (consul_pre(s, req, resp, NULL) != 0)
			return;
		disc_reg_catalog_nodes(s->reg, &resp->body, &index);
	} else if (strcmp(p, "/v1/catalog/datacenters") == 0) {
		ax_buf_putc(&resp->body, '[');
		ax_buf_put_json_str(&resp->body, s->dc);
		ax_buf_putc(&resp->body, ']');
	} else if (strcmp(p, "/v1/status/leader") == 0) {
		ax_buf_puts(&resp->body, "\"127.0.0.1:8300\"");
	} else if (strcmp(p, "/v1/status/peers") == 0) {
		ax_buf_puts(&resp->body, "[\"127.0.0.1:8300\"]");
	} else {
		text_error(resp, 404, "404 page not found");
		return;
	}
	json_body(resp, index, 1);
}

static void h_assignments(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;

	(void)req;
	disc_ctl_assignments_json(s->ctl, &resp->body);
	json_body(resp, 0, 0);
}

static void h_dependencies(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;

	(void)req;
	disc_ctl_dependencies_json(s->ctl, &resp->body);
	json_body(resp, 0, 0);
}

static void h_targetsets(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	disc_state_t *s = arg;

	(void)req;
	disc_ctl_targetsets_json(s->ctl, &resp->body);
	json_body(resp, 0, 0);
}

/* ---- lifecycle ---- */

/* Run the config's target sets (old: the config they replace, or NULL). */
static int apply_sets(disc_state_t *s, const disc_cfg_t *old,
    const disc_cfg_t *cfg, ax_err_t *err)
{
	const disc_tset_t *ts = cfg->axon.target_sets.items;
	char **names = calloc(cfg->axon.target_sets.n + 1, sizeof(char *));
	size_t i, k;
	int rv = 0;

	if (names == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < cfg->axon.target_sets.n; i++)
		names[i] = ts[i].name;
	if (old) {
		const disc_tset_t *os = old->axon.target_sets.items;

		for (i = 0; i < old->axon.target_sets.n; i++) {
			int kept = 0;

			for (k = 0; k < cfg->axon.target_sets.n && !kept; k++)
				kept = strcmp(os[i].name, ts[k].name) == 0;
			if (!kept)
				disc_sd_remove(s->sd, os[i].name);
		}
	}
	for (i = 0; i < cfg->axon.target_sets.n && rv == 0; i++)
		rv = disc_sd_set(s->sd, ts[i].name, &ts[i].sd, NULL, NULL, err);
	disc_ctl_set_sd(s->ctl, s->sd, (const char *const *)names);
	free(s->set_names);
	s->set_names = names;
	return rv;
}

static int disc_start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	disc_cfg_t *cfg = cfgp;
	disc_state_t *s = calloc(1, sizeof(*s));
	ax_http_server_t *h = ax_daemon_http(d);
	disc_node_t node;
	disc_ctl_opts_t co;
	const char **meta = NULL;
	size_t nm = 0, i;
	int rv;

	if (s == NULL || (s->dc = strdup(cfg->axon.datacenter)) == NULL) {
		free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (cfg->axon.node_meta)
		nm = cfg->axon.node_meta->n;
	if ((meta = calloc(2 * nm + 1, sizeof(char *))) == NULL) {
		free(s->dc);
		free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < nm; i++) {
		const ax_label_t *l = &cfg->axon.node_meta->l[i];

		meta[2 * i] = l->name;
		meta[2 * i + 1] = l->value;
	}
	memset(&co, 0, sizeof(co));
	co.control_listen = cfg->axon.control_listen;
	co.publish_listen = cfg->axon.publish_listen;
	co.heartbeat_ms = cfg->axon.heartbeat_ms;
	co.publish_ms = cfg->axon.publish_ms;
	node.name = cfg->axon.node_name;
	node.address = cfg->axon.advertise_address;
	node.dc = cfg->axon.datacenter;
	node.meta = meta;
	/* the control plane first: the registry notifies it of changes */
	rv = disc_ctl_start(NULL, &co, ax_daemon_metrics(d), &s->ctl, err);
	if (rv == 0)
		rv = disc_reg_open(ax_daemon_flag(d, "storage.path"), &node,
		    ax_daemon_metrics(d), disc_ctl_changed, s->ctl, &s->reg,
		    err);
	free(meta);
	if (rv == 0) {
		disc_ctl_set_registry(s->ctl, s->reg);
		rv = disc_health_start(s->reg, &s->health, err);
	}
	if (rv == 0)
		rv = disc_sd_new((const char *const *)cfg->axon.dns_servers.v,
		    cfg->axon.dns_servers.n, disc_ctl_changed, s->ctl, ax_daemon_metrics(d), &s->sd,
		    err);
	if (rv == 0)
		rv = apply_sets(s, NULL, cfg, err);
	if (rv != 0) {
		disc_health_stop(s->health);
		if (s->sd)
			disc_sd_clear(s->sd);
		disc_ctl_stop(s->ctl);
		disc_sd_free(s->sd);
		free(s->set_names);
		disc_reg_close(s->reg);
		free(s->dc);
		free(s);
		return rv;
	}
	ax_metrics_set_collector(
	    ax_daemon_metrics(d), disc_ctl_collect, s->ctl);
	ax_daemon_set_state(d, s);
	ax_http_route(h, "PUT", "/v1/agent/service/register", h_register, s);
	ax_http_route(
	    h, "PUT", "/v1/agent/service/deregister/*", h_deregister, s);
	ax_http_route(h, "PUT", "/v1/agent/check/*", h_check, s);
	/* the pre-1.0 API (GET), still used by older clients such as
	 * Debian's python3-consul */
	ax_http_route(
	    h, "GET", "/v1/agent/service/deregister/*", h_deregister, s);
	ax_http_route(h, "GET", "/v1/agent/check/*", h_check, s);
	ax_http_route(h, "GET", "/v1/agent/*", h_agent, s);
	ax_http_route(h, "GET", "/v1/catalog/services", h_catalog_services, s);
	ax_http_route(h, "GET", "/v1/catalog/service/*", h_catalog_service, s);
	ax_http_route(h, "GET", "/v1/catalog/*", h_catalog_misc, s);
	ax_http_route(h, "GET", "/v1/status/*", h_catalog_misc, s);
	ax_http_route(h, "GET", "/v1/health/service/*", h_health_service, s);
	ax_http_route(h, "GET", "/v1/health/*", h_health_checks, s);
	ax_http_route(h, "GET", "/api/v1/assignments", h_assignments, s);
	ax_http_route(h, "GET", "/api/v1/dependencies", h_dependencies, s);
	ax_http_route(h, "GET", "/api/v1/targetsets", h_targetsets, s);
	return 0;
}

static int disc_reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	const disc_cfg_t *o = ax_daemon_config(d), *n = newp;
	disc_state_t *s = ax_daemon_state(d);
	size_t i;
	int same_dns = o->axon.dns_servers.n == n->axon.dns_servers.n;

	if (strcmp(o->axon.control_listen, n->axon.control_listen) != 0 ||
	    strcmp(o->axon.publish_listen, n->axon.publish_listen) != 0 ||
	    strcmp(o->axon.datacenter, n->axon.datacenter) != 0 ||
	    strcmp(o->axon.node_name, n->axon.node_name) != 0 ||
	    strcmp(o->axon.advertise_address, n->axon.advertise_address) != 0 ||
	    o->axon.heartbeat_ms != n->axon.heartbeat_ms ||
	    o->axon.publish_ms != n->axon.publish_ms ||
	    !ax_labels_equal(o->axon.node_meta, n->axon.node_meta) || !same_dns)
		return ax_err_set(err, AX_ECONFIG,
		    "axon_discoverer settings other than target_sets take "
		    "effect at restart; the running ones stay");
	for (i = 0; i < n->axon.dns_servers.n; i++)
		if (strcmp(o->axon.dns_servers.v[i],
		        n->axon.dns_servers.v[i]) != 0)
			return ax_err_set(err, AX_ECONFIG,
			    "axon_discoverer.dns_servers take effect at "
			    "restart; the running ones stay");
	/* the target sets follow the new config (the old one is freed
	 * after this returns) */
	return apply_sets(s, o, n, err);
}

static void disc_stop(ax_daemon_t *d)
{
	disc_state_t *s = ax_daemon_state(d);

	if (s == NULL)
		return;
	ax_metrics_set_collector(ax_daemon_metrics(d), NULL, NULL);
	disc_health_stop(s->health);
	disc_sd_clear(s->sd); /* no more change reports */
	disc_ctl_stop(s->ctl);
	disc_sd_free(s->sd);
	free(s->set_names);
	disc_reg_close(s->reg);
	free(s->dc);
	free(s);
	ax_daemon_set_state(d, NULL);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-discoverer",
    .component = "discoverer",
    .description = "The Axon discoverer: the live directory of targets and "
                   "service dependencies.",
    .default_config = "discoverer.yml",
    .default_listen = "0.0.0.0:9092",
    .flags = flags,
    .load_config = config_load,
    .free_config = config_free,
    .start = disc_start,
    .reload = disc_reload,
    .stop = disc_stop,
    .http_thread_per_connection = 1,
    .http_too_big_status = 400,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
