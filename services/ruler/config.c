/*
 * rl_config: axon-ruler's configuration (config.h).
 */
#include "ruler/config.h"

#include <glob.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_promyml.h"
#include "ruler/slo.h"

static const ax_cfg_field_t static_fields[] = {
    {.name = "targets",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(rl_static_t, targets)},
    {.name = "labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(rl_static_t, labels)},
    {0},
};

static void am_init(void *p)
{
	rl_am_t *a = p;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = 10000;
	a->follow_redirects = 1;
	a->enable_http2 = 1;
}

static const ax_cfg_field_t am_fields[] = {
    {.name = "static_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(rl_am_t, static_configs),
        .fields = static_fields,
        .elem_size = sizeof(rl_static_t)},
    {.name = "scheme",
        .type = AX_CFG_STRING,
        .offset = offsetof(rl_am_t, scheme)},
    {.name = "path_prefix",
        .type = AX_CFG_STRING,
        .offset = offsetof(rl_am_t, path_prefix)},
    {.name = "timeout",
        .type = AX_CFG_DURATION,
        .offset = offsetof(rl_am_t, timeout_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "api_version",
        .type = AX_CFG_STRING,
        .offset = offsetof(rl_am_t, api_version)},
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = offsetof(rl_am_t, basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = offsetof(rl_am_t, authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "bearer_token",
        .type = AX_CFG_STRING,
        .offset = offsetof(rl_am_t, bearer_token)},
    {.name = "bearer_token_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(rl_am_t, bearer_token_file)},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(rl_am_t, tls_config),
        .fields = ax_rw_tls_fields},
    {.name = "follow_redirects",
        .type = AX_CFG_BOOL,
        .offset = offsetof(rl_am_t, follow_redirects)},
    {.name = "enable_http2",
        .type = AX_CFG_BOOL,
        .offset = offsetof(rl_am_t, enable_http2)},
    {0},
};

static int decode_am(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	rl_am_t *a = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, am_fields, a, err)) != 0)
		return rv;
	if (a->scheme && strcmp(a->scheme, "http") != 0 &&
	    strcmp(a->scheme, "https") != 0)
		return ax_cfg_errorf(c, n, path, err,
		    "scheme \"%s\": want http or https", a->scheme);
	if (a->api_version && strcmp(a->api_version, "v2") != 0)
		return ax_cfg_errorf(c, n, path, err,
		    "api_version \"%s\": only v2 (Alertmanager 0.25 serves "
		    "no v1 API)",
		    a->api_version);
	return 0;
}

static void am_free(void *p)
{
	ax_cfg_free_fields(am_fields, p);
}

static const ax_cfg_field_t alerting_fields[] = {
    {.name = "alert_relabel_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(rl_alerting_t, relabel),
        .decode = ax_relabel_decode,
        .free_fn = ax_relabel_free},
    {.name = "alertmanagers",
        .type = AX_CFG_LIST,
        .offset = offsetof(rl_alerting_t, alertmanagers),
        .elem_size = sizeof(rl_am_t),
        .elem_init = am_init,
        .decode = decode_am,
        .free_fn = am_free},
    {0},
};

static const ax_cfg_field_t axon_fields[] = {
    {.name = "tsdb_query",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(rl_axon_t, tsdb_query),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "tsdb_ingest",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(rl_axon_t, tsdb_ingest),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "slo_files",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(rl_axon_t, slo_files)},
    {0},
};

static int decode_routers(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ax_cfg_strings_t *s = dst;
	size_t i;
	int rv;

	if (ax_cfg_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "want a list of nng addresses (tcp://host:port)");
	for (i = 0; i < (size_t)(n->data.sequence.items.top -
	                    n->data.sequence.items.start);
	     i++) {
		yaml_node_t *it = yaml_document_get_node(
		    &c->doc, n->data.sequence.items.start[i]);
		char *addr = NULL;
		char sub[64];
		char **v;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((rv = ax_cfg_decode_nng_addr(c, it, sub, &addr, err)) != 0)
			return rv;
		v = realloc(s->v, (s->n + 1) * sizeof(*v));
		if (v == NULL) {
			free(addr);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		s->v = v;
		s->v[s->n++] = addr;
	}
	return 0;
}

static void free_routers(void *dst)
{
	ax_cfg_strings_free(dst);
}

static const ax_cfg_field_t own[] = {
    {.name = "rule_files",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(rl_config_t, rule_files)},
    {.name = "alerting",
        .type = AX_CFG_SECTION,
        .offset = offsetof(rl_config_t, alerting),
        .fields = alerting_fields},
    {.name = "axon_alert_routers",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(rl_config_t, alert_routers),
        .decode = decode_routers,
        .free_fn = free_routers},
    {.name = "axon_ruler",
        .type = AX_CFG_SECTION,
        .offset = offsetof(rl_config_t, axon),
        .fields = axon_fields},
    {0},
};

/* Load every file matching the rule_files globs (relative ones against
 * the config file's directory), collecting all errors. */
static int load_rules(rl_config_t *c, const char *path, ax_err_t *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	ax_buf_t errs = AX_BUF_INIT;
	size_t i, k, all = c->rule_files.n + c->axon.slo_files.n;
	int bad = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
	    slash ? path : ".");
	for (i = 0; i < all; i++) {
		int slo = i >= c->rule_files.n;
		const char *gl = slo ? c->axon.slo_files.v[i - c->rule_files.n]
		                     : c->rule_files.v[i];
		char pat[8192];
		glob_t g;
		int grv;

		if (gl[0] == '/')
			snprintf(pat, sizeof(pat), "%s", gl);
		else
			snprintf(pat, sizeof(pat), "%s/%s", dir, gl);
		grv = glob(pat, 0, NULL, &g);
		if (grv == GLOB_NOMATCH)
			continue; /* as Prometheus: a glob may match nothing */
		if (grv != 0) {
			ax_buf_printf(&errs, "%s: %s: bad glob %s\n", path,
			    slo ? "axon_ruler.slo_files" : "rule_files", gl);
			bad = 1;
			continue;
		}
		for (k = 0; k < g.gl_pathc; k++) {
			int rv;

			if (slo) {
				/* the rules `axon slo render` prints */
				ax_buf_t text = AX_BUF_INIT;
				ax_err_t se;

				rv = rl_slo_render_file(
				    g.gl_pathv[k], &text, &se);
				if (rv == 0)
					rv = rl_rules_load_text(&c->rules,
					    g.gl_pathv[k], text.p, text.len,
					    &errs);
				else if (rv != AX_ENOMEM)
					ax_buf_printf(&errs, "%s\n", se.msg);
				ax_buf_fini(&text);
			} else
				rv = rl_rules_load_file(
				    &c->rules, g.gl_pathv[k], &errs);
			if (rv == AX_ENOMEM) {
				globfree(&g);
				ax_buf_fini(&errs);
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			}
			if (rv != 0)
				bad = 1;
		}
		globfree(&g);
	}
	/* group names are unique per file already; across files Prometheus
	 * keys groups by (file, name) */
	if (bad) {
		ax_err_set(err, AX_ECONFIG, "%s: rule files: %s", path,
		    errs.p ? errs.p : "out of memory");
		ax_buf_fini(&errs);
		return AX_ECONFIG;
	}
	ax_buf_fini(&errs);
	return 0;
}

int rl_config_load(const char *path, rl_config_t **out, ax_err_t *err)
{
	rl_config_t *c = calloc(1, sizeof(*c));
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_prom_global_init(&c->global);
	rv = ax_promyml_load(
	    path, AX_YML_PROMETHEUS, "ruler", own, c, &c->global, 0, err);
	if (rv == 0 && (c->file = strdup(path)) == NULL)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	if (rv == 0 &&
	    (c->rule_files.n > 0 || c->axon.slo_files.n > 0 ||
	        c->alert_routers.n > 0 || c->alerting.alertmanagers.n > 0)) {
		if (c->axon.tsdb_query == NULL || c->axon.tsdb_ingest == NULL)
			rv = ax_err_set(err, AX_ECONFIG,
			    "%s: axon_ruler: tsdb_query and tsdb_ingest (the "
			    "nng addresses of axon-tsdb's query and ingest "
			    "sockets) are required to evaluate rules",
			    path);
	}
	if (rv == 0)
		rv = load_rules(c, path, err);
	if (rv != 0) {
		rl_config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void rl_config_free(rl_config_t *c)
{
	if (c == NULL)
		return;
	ax_cfg_free_fields(ax_prom_global_fields, &c->global);
	ax_cfg_free_fields(own, c);
	rl_ruleset_free(&c->rules);
	free(c->file);
	free(c);
}
