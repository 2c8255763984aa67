/*
 * config: axon-scraper's prometheus.yml sections (see config.h).
 */
#include "scraper/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ax_promyml.h"

static int decode_params(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	scraper_job_t *j =
	    (scraper_job_t *)((char *)dst - offsetof(scraper_job_t, params));
	yaml_node_pair_t *p;
	ax_buf_t q = AX_BUF_INIT;

	if (ax_cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "expected a map of parameter names to lists of values");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		const char *name = ax_cfg_scalar(k);
		yaml_node_item_t *it;
		int first = 1;

		if (name == NULL || v->type != YAML_SEQUENCE_NODE) {
			ax_buf_fini(&q);
			return ax_cfg_errorf(c, v, path, err,
			    "expected a list of values for a parameter");
		}
		for (it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
			const char *val = ax_cfg_scalar(e);
			char **nn, **nv;

			if (val == NULL) {
				ax_buf_fini(&q);
				return ax_cfg_errorf(
				    c, e, path, err, "expected a string");
			}
			if (q.len)
				ax_buf_putc(&q, '&');
			ax_buf_put_urlencoded(&q, name);
			ax_buf_putc(&q, '=');
			ax_buf_put_urlencoded(&q, val);
			if (!first)
				continue;
			first = 0;
			nn = realloc(j->params_names.v,
			    (j->params_names.n + 1) * sizeof(char *));
			if (nn == NULL)
				goto oom;
			j->params_names.v = nn;
			nv = realloc(j->params_values.v,
			    (j->params_values.n + 1) * sizeof(char *));
			if (nv == NULL)
				goto oom;
			j->params_values.v = nv;
			nn[j->params_names.n] = strdup(name);
			nv[j->params_values.n] = strdup(val);
			j->params_names.n++;
			j->params_values.n++;
			if (!nn[j->params_names.n - 1] ||
			    !nv[j->params_values.n - 1])
				goto oom;
		}
	}
	ax_buf_putc(&q, '\0');
	if (q.oom)
		goto oom;
	free(j->params);
	j->params = ax_buf_take(&q, NULL);
	j->params_set = 1;
	return 0;
oom:
	ax_buf_fini(&q);
	return ax_err_set(err, AX_ENOMEM, "out of memory");
}


static void free_params(void *dst)
{
	scraper_job_t *j =
	    (scraper_job_t *)((char *)dst - offsetof(scraper_job_t, params));

	free(j->params);
	j->params = NULL;
	ax_cfg_strings_free(&j->params_names);
	ax_cfg_strings_free(&j->params_values);
}

/* A section the discoverer runs for this job: checked here with the
 * same decoder (file:line:col), kept as YAML text to hand over. */
static int delegate_section(ax_cfg_t *c, yaml_node_t *n, const char *path,
    char **dst,
    int (*decode)(ax_cfg_t *, yaml_node_t *, const char *, void *, ax_err_t *),
    void (*release)(void *), ax_err_t *err)
{
	ax_cfg_list_t l = {NULL, 0};
	ax_err_t e;
	char *text;
	int rv;

	if ((rv = decode(c, n, path, &l, err)) != 0)
		return rv;
	release(&l);
	if (ax_cfg_is_null(n) ||
	    (n->type == YAML_SEQUENCE_NODE &&
	        n->data.sequence.items.start == n->data.sequence.items.top))
		return 0;
	if ((rv = ax_cfg_node_text(c, n, &text)) != 0)
		return rv == AX_ENOMEM
		    ? ax_err_set(err, AX_ENOMEM, "out of memory")
		    : ax_cfg_errorf(c, n, path, err,
		          "cannot take this section's text to delegate it");
	/* it must read back the same way on the discoverer */
	if (ax_sd_decode_text(path, text, decode, &l, &e) != 0) {
		free(text);
		return ax_cfg_errorf(c, n, path, err,
		    "cannot be delegated as written (%s); write it in block "
		    "style",
		    e.msg);
	}
	release(&l);
	*dst = text;
	return 0;
}

static int delegate_dns(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return delegate_section(
	    c, n, path, dst, ax_sd_decode_dns, ax_sd_free_dns, err);
}

static int delegate_k8s(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return delegate_section(
	    c, n, path, dst, ax_sd_decode_k8s, ax_sd_free_k8s, err);
}

static int delegate_consul(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return delegate_section(
	    c, n, path, dst, ax_sd_decode_consul, ax_sd_free_consul, err);
}

static const ax_cfg_field_t axonsd_fields[] = {
    {.name = "services",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(scraper_axonsd_t, services)},
    {.name = "tags",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(scraper_axonsd_t, tags)},
    {0},
};

static const ax_cfg_field_t job_fields[] = {
    {.name = "job_name",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED | AX_CFG_NONEMPTY,
        .offset = offsetof(scraper_job_t, job_name)},
    {.name = "scrape_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(scraper_job_t, interval_ms)},
    {.name = "scrape_timeout",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(scraper_job_t, timeout_ms)},
    {.name = "metrics_path",
        .type = AX_CFG_STRING,
        .offset = offsetof(scraper_job_t, metrics_path)},
    {.name = "scheme",
        .type = AX_CFG_STRING,
        .offset = offsetof(scraper_job_t, scheme)},
    {.name = "params",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, params),
        .decode = decode_params,
        .free_fn = free_params},
    {.name = "honor_labels",
        .type = AX_CFG_BOOL,
        .offset = offsetof(scraper_job_t, honor_labels)},
    {.name = "honor_timestamps",
        .type = AX_CFG_BOOL,
        .offset = offsetof(scraper_job_t, honor_timestamps)},
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = offsetof(scraper_job_t, basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = offsetof(scraper_job_t, authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "bearer_token",
        .type = AX_CFG_STRING,
        .offset = offsetof(scraper_job_t, bearer_token)},
    {.name = "bearer_token_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(scraper_job_t, bearer_token_file)},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(scraper_job_t, tls),
        .fields = ax_rw_tls_fields},
    {.name = "relabel_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, relabel),
        .decode = ax_relabel_decode,
        .free_fn = ax_relabel_free},
    {.name = "metric_relabel_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, metric_relabel),
        .decode = ax_relabel_decode,
        .free_fn = ax_relabel_free},
    {.name = "sample_limit",
        .type = AX_CFG_INT,
        .offset = offsetof(scraper_job_t, sample_limit)},
    {.name = "label_limit",
        .type = AX_CFG_INT,
        .offset = offsetof(scraper_job_t, label_limit)},
    {.name = "label_name_length_limit",
        .type = AX_CFG_INT,
        .offset = offsetof(scraper_job_t, label_name_length_limit)},
    {.name = "label_value_length_limit",
        .type = AX_CFG_INT,
        .offset = offsetof(scraper_job_t, label_value_length_limit)},
    {.name = "body_size_limit",
        .type = AX_CFG_SIZE,
        .offset = offsetof(scraper_job_t, body_size_limit)},
    {.name = "static_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(scraper_job_t, static_configs),
        .fields = ax_tgroup_fields,
        .elem_size = sizeof(ax_tgroup_t)},
    {.name = "file_sd_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(scraper_job_t, file_sd),
        .fields = ax_filesd_fields,
        .elem_size = sizeof(ax_filesd_t),
        .elem_init = ax_filesd_init},
    {.name = "axon_sd_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(scraper_job_t, axon_sd),
        .fields = axonsd_fields,
        .elem_size = sizeof(scraper_axonsd_t)},
    {.name = "consul_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, consul_sd_yaml),
        .decode = delegate_consul,
        .free_fn = ax_cfg_free_str},
    {.name = "dns_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, dns_sd_yaml),
        .decode = delegate_dns,
        .free_fn = ax_cfg_free_str},
    {.name = "kubernetes_sd_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_job_t, k8s_sd_yaml),
        .decode = delegate_k8s,
        .free_fn = ax_cfg_free_str},
    {0},
};

static void job_init(void *p)
{
	scraper_job_t *j = p;

	memset(j, 0, sizeof(*j));
	j->honor_timestamps = 1;
}

static const ax_cfg_field_t axon_fields[] = {
    {.name = "tsdb",
        .type = AX_CFG_CUSTOM,
        .offset = 0,
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "sender_id",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = offsetof(scraper_cfg_t, axon.sender_id) -
            offsetof(scraper_cfg_t, axon)},
    {.name = "buffer_samples",
        .type = AX_CFG_INT,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(scraper_cfg_t, axon.buffer_samples) -
            offsetof(scraper_cfg_t, axon)},
    {.name = "buffer_dir",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = offsetof(scraper_cfg_t, axon.buffer_dir) -
            offsetof(scraper_cfg_t, axon)},
    {.name = "buffer_disk_bytes",
        .type = AX_CFG_SIZE,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(scraper_cfg_t, axon.buffer_disk_bytes) -
            offsetof(scraper_cfg_t, axon)},
    {.name = "discoverer",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_cfg_t, axon.discoverer) -
            offsetof(scraper_cfg_t, axon),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "discoverer_publish",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(scraper_cfg_t, axon.discoverer_publish) -
            offsetof(scraper_cfg_t, axon),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {0},
};

static const ax_cfg_field_t own[] = {
    {.name = "axon_scraper",
        .type = AX_CFG_SECTION,
        .offset = offsetof(scraper_cfg_t, axon),
        .fields = axon_fields},
    {.name = "scrape_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(scraper_cfg_t, jobs),
        .fields = job_fields,
        .elem_size = sizeof(scraper_job_t),
        .elem_init = job_init},
    {.name = "remote_write",
        .type = AX_CFG_LIST,
        .offset = offsetof(scraper_cfg_t, remote_write),
        .fields = ax_rw_fields,
        .elem_size = sizeof(ax_rw_config_t),
        .elem_init = ax_rw_config_init},
    {0},
};

static int sdup_default(char **s, const char *def)
{
	if (*s != NULL)
		return 0;
	*s = strdup(def);
	return *s ? 0 : AX_ENOMEM;
}

/* Defaults from global, and Prometheus' checks. */
static int finish(scraper_cfg_t *c, const char *path, ax_err_t *err)
{
	scraper_job_t *jobs = c->jobs.items;
	size_t i, k;

	for (i = 0; i < c->jobs.n; i++) {
		scraper_job_t *j = &jobs[i];

		for (k = 0; k < i; k++)
			if (strcmp(jobs[k].job_name, j->job_name) == 0)
				return ax_err_set(err, AX_ECONFIG,
				    "%s: found multiple scrape configs with "
				    "job "
				    "name \"%s\"",
				    path, j->job_name);
		if (j->interval_ms == 0)
			j->interval_ms = c->global.scrape_interval_ms;
		if (j->timeout_ms == 0)
			j->timeout_ms =
			    c->global.scrape_timeout_ms > j->interval_ms
			    ? j->interval_ms
			    : c->global.scrape_timeout_ms;
		if (j->timeout_ms > j->interval_ms)
			return ax_err_set(err, AX_ECONFIG,
			    "%s: scrape timeout greater than scrape interval "
			    "for "
			    "scrape config with job name \"%s\"",
			    path, j->job_name);
		if (sdup_default(&j->metrics_path, "/metrics") != 0 ||
		    sdup_default(&j->scheme, "http") != 0 ||
		    sdup_default(&j->params, "") != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		for (k = 0; k < j->file_sd.n; k++) {
			const ax_filesd_t *f =
			    &((const ax_filesd_t *)j->file_sd.items)[k];
			size_t m;

			for (m = 0; m < f->files.n; m++) {
				const char *pat = f->files.v[m];
				const char *star = strchr(pat, '*');
				const char *dot = strrchr(pat, '.');

				if ((star && strchr(star, '/')) ||
				    dot == NULL ||
				    !(strcasecmp(dot, ".json") == 0 ||
				        strcasecmp(dot, ".yml") == 0 ||
				        strcasecmp(dot, ".yaml") == 0))
					return ax_err_set(err, AX_ECONFIG,
					    "%s: scrape config \"%s\": path "
					    "name "
					    "\"%s\" is not valid for file "
					    "discovery (*.json, *.yml or "
					    "*.yaml; "
					    "'*' only in the last element)",
					    path, j->job_name, pat);
			}
		}
		if (strcmp(j->scheme, "http") != 0 &&
		    strcmp(j->scheme, "https") != 0)
			return ax_err_set(err, AX_ECONFIG,
			    "%s: scrape config \"%s\": unknown scheme \"%s\" "
			    "(http or https)",
			    path, j->job_name, j->scheme);
		if (j->metrics_path[0] != '/')
			return ax_err_set(err, AX_ECONFIG,
			    "%s: scrape config \"%s\": metrics_path must start "
			    "with /",
			    path, j->job_name);
		if ((j->bearer_token && j->bearer_token_file) ||
		    ((j->bearer_token || j->bearer_token_file) &&
		        (j->basic_auth.username ||
		            j->authorization.credentials ||
		            j->authorization.credentials_file)) ||
		    (j->basic_auth.username &&
		        (j->authorization.credentials ||
		            j->authorization.credentials_file)))
			return ax_err_set(err, AX_ECONFIG,
			    "%s: scrape config \"%s\": at most one of "
			    "basic_auth, authorization, bearer_token and "
			    "bearer_token_file may be configured",
			    path, j->job_name);
	}
	if (c->jobs.n > 0 && c->remote_write.n == 0 && c->axon.tsdb == NULL)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: scrape_configs need somewhere to send samples: "
		    "axon_scraper.tsdb (axon-tsdb's ingest socket) or a "
		    "remote_write receiver (agent mode)",
		    path);
	if ((c->axon.discoverer == NULL) !=
	    (c->axon.discoverer_publish == NULL))
		return ax_err_set(err, AX_ECONFIG,
		    "%s: axon_scraper: discoverer and discoverer_publish go "
		    "together (axon-discoverer's control and publish sockets)",
		    path);
	for (i = 0; c->axon.discoverer == NULL && i < c->jobs.n; i++)
		if (jobs[i].axon_sd.n > 0 || jobs[i].dns_sd_yaml ||
		    jobs[i].consul_sd_yaml || jobs[i].k8s_sd_yaml)
			return ax_err_set(err, AX_ECONFIG,
			    "%s: job \"%s\": %s need axon-discoverer, which "
			    "runs them (agent mode cannot): set "
			    "axon_scraper.discoverer and discoverer_publish",
			    path, jobs[i].job_name,
			    jobs[i].axon_sd.n        ? "axon_sd_configs"
			    : jobs[i].dns_sd_yaml    ? "dns_sd_configs"
			    : jobs[i].consul_sd_yaml ? "consul_sd_configs"
			                             : "kubernetes_sd_configs");
	if (c->axon.sender_id == NULL) {
		char host[256] = "localhost", id[300];

		gethostname(host, sizeof(host) - 1);
		snprintf(id, sizeof(id), "scraper-%s", host);
		if ((c->axon.sender_id = strdup(id)) == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < c->remote_write.n; i++) {
		char where[64];
		int rv;

		snprintf(where, sizeof(where), "remote_write[%zu]", i);
		if ((rv = ax_rw_config_check(
		         &((ax_rw_config_t *)c->remote_write.items)[i], path,
		         where, err)) != 0)
			return rv;
	}
	return 0;
}

int scraper_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	scraper_cfg_t *c = calloc(1, sizeof(*c));
	const char *sid;
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_prom_global_init(&c->global);
	rv = ax_promyml_load(
	    path, AX_YML_PROMETHEUS, "scraper", own, c, &c->global, 0, err);
	/* --sender-id: replicas sharing one config file differ by it */
	sid = d ? ax_daemon_flag(d, "sender-id") : NULL;
	if (rv == 0 && sid && *sid) {
		free(c->axon.sender_id);
		c->axon.sender_id = strdup(sid);
		if (c->axon.sender_id == NULL)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (rv == 0)
		rv = finish(c, path, err);
	if (rv != 0) {
		scraper_config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void scraper_config_free(void *p)
{
	scraper_cfg_t *c = p;

	if (c == NULL)
		return;
	ax_cfg_free_fields(ax_prom_global_fields, &c->global);
	ax_cfg_free_fields(own, c);
	free(c);
}
