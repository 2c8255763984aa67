/*
 * ax_sd: service-discovery sections and target groups (see ax_sd.h).
 */
#include "ax_sd.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ax_hmap.h"

/* ---- target groups and file_sd ---- */

const ax_cfg_field_t ax_tgroup_fields[] = {
    {.name = "targets",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ax_tgroup_t, targets)},
    {.name = "labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(ax_tgroup_t, labels)},
    {0},
};

const ax_cfg_field_t ax_filesd_fields[] = {
    {.name = "files",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ax_filesd_t, files)},
    {.name = "refresh_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_filesd_t, refresh_ms)},
    {0},
};

void ax_filesd_init(void *p)
{
	ax_filesd_t *f = p;

	memset(f, 0, sizeof(*f));
	f->refresh_ms = 5 * 60 * 1000;
}

void ax_tgroups_free(ax_tgroup_t *groups, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ax_cfg_free_fields(ax_tgroup_fields, &groups[i]);
	free(groups);
}

int ax_tgroups_read_file(
    const char *path, ax_tgroup_t **groups, size_t *n, ax_err_t *err)
{
	ax_cfg_t c;
	yaml_node_t *root;
	yaml_node_item_t *it;
	ax_tgroup_t *g = NULL;
	size_t k = 0;
	int rv = 0;

	*groups = NULL;
	*n = 0;
	memset(&c, 0, sizeof(c));
	if ((rv = ax_cfg_load_file(&c, path, err)) != 0)
		return rv;
	c.quiet = 1;
	root = ax_cfg_root(&c);
	if (root == NULL || ax_cfg_is_null(root)) {
		ax_cfg_fini(&c);
		return 0;
	}
	if (root->type != YAML_SEQUENCE_NODE) {
		rv = ax_cfg_errorf(
		    &c, root, "", err, "expected a list of target groups");
		ax_cfg_fini(&c);
		return rv;
	}
	for (it = root->data.sequence.items.start;
	     it < root->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&c.doc, *it);
		ax_tgroup_t *ng = realloc(g, (k + 1) * sizeof(*g));
		char where[32];

		if (ng == NULL) {
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			break;
		}
		g = ng;
		memset(&g[k], 0, sizeof(g[k]));
		snprintf(where, sizeof(where), "[%zu]", k);
		rv = ax_cfg_decode(
		    &c, item, where, ax_tgroup_fields, &g[k], err);
		k++;
		if (rv != 0)
			break;
	}
	ax_cfg_fini(&c);
	if (rv != 0) {
		ax_tgroups_free(g, k);
		return rv;
	}
	*groups = g;
	*n = k;
	return 0;
}

void ax_filesd_glob(const ax_filesd_t *f, size_t n, glob_t *out)
{
	size_t k, m;
	int flags = 0;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < n; k++)
		for (m = 0; m < f[k].files.n; m++) {
			glob(f[k].files.v[m], flags, NULL, out);
			flags = GLOB_APPEND;
		}
}

uint64_t ax_filesd_sig(const ax_filesd_t *f, size_t n)
{
	glob_t g;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	ax_filesd_glob(f, n, &g);
	for (i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		uint64_t x[4] = {0, 0, 0, 0};

		if (stat(g.gl_pathv[i], &st) == 0) {
			x[0] = (uint64_t)st.st_size;
			x[1] = (uint64_t)st.st_mtim.tv_sec;
			x[2] = (uint64_t)st.st_mtim.tv_nsec;
			x[3] = (uint64_t)st.st_ino;
		}
		h = (h ^ ax_hash_bytes(g.gl_pathv[i], strlen(g.gl_pathv[i]))) *
		    1099511628211ULL;
		h = (h ^ ax_hash_bytes(x, sizeof(x))) * 1099511628211ULL;
	}
	globfree(&g);
	return h;
}

/* ---- dns_sd_configs ---- */

static const ax_cfg_field_t dns_fields[] = {
    {.name = "names",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ax_dnssd_t, names)},
    {.name = "type",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_dnssd_t, type)},
    {.name = "port", .type = AX_CFG_INT, .offset = offsetof(ax_dnssd_t, port)},
    {.name = "refresh_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_dnssd_t, refresh_ms)},
    {0},
};

/* Decode a list node of elem_size elements with fields; init sets
 * defaults; check validates one element (may be NULL). */
static int decode_sd_list(ax_cfg_t *c, yaml_node_t *node, const char *path,
    ax_cfg_list_t *l, const ax_cfg_field_t *fields, size_t elem_size,
    int (*init)(void *),
    int (*check)(ax_cfg_t *, yaml_node_t *, const char *, void *, ax_err_t *),
    ax_err_t *err)
{
	yaml_node_item_t *it;
	size_t k = 0;
	int rv;

	l->items = NULL;
	l->n = 0;
	if (ax_cfg_is_null(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(c, node, path, err, "want a list");
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, k++) {
		yaml_node_t *item = yaml_document_get_node(&c->doc, *it);
		char sub[512];
		void *ni = realloc(l->items, (k + 1) * elem_size), *e;

		if (ni == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		l->items = ni;
		e = (char *)ni + k * elem_size;
		memset(e, 0, elem_size);
		l->n = k + 1;
		if (init && init(e) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		snprintf(sub, sizeof(sub), "%s[%zu]", path, k);
		if ((rv = ax_cfg_decode(c, item, sub, fields, e, err)) != 0)
			return rv;
		if (check && (rv = check(c, item, sub, e, err)) != 0)
			return rv;
	}
	return 0;
}

static int dns_init(void *p)
{
	ax_dnssd_t *d = p;

	d->refresh_ms = 30000;
	return (d->type = strdup("SRV")) ? 0 : AX_ENOMEM;
}

static int dns_check(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *p, ax_err_t *err)
{
	ax_dnssd_t *d = p;
	char *u;

	if (d->names.n == 0)
		return ax_cfg_errorf(c, n, path, err,
		    "DNS-SD config must contain at least one SRV record name");
	for (u = d->type; *u; u++)
		if (*u >= 'a' && *u <= 'z')
			*u = (char)(*u - 'a' + 'A');
	if (strcmp(d->type, "SRV") == 0)
		return 0;
	if (strcmp(d->type, "A") == 0 || strcmp(d->type, "AAAA") == 0 ||
	    strcmp(d->type, "MX") == 0) {
		if (d->port == 0)
			return ax_cfg_errorf(c, n, path, err,
			    "a port is required in DNS-SD configs for all "
			    "record types except SRV");
		if (d->port < 0 || d->port > 65535)
			return ax_cfg_errorf(
			    c, n, path, err, "port must be 1..65535");
		return 0;
	}
	return ax_cfg_errorf(
	    c, n, path, err, "invalid DNS-SD records type %s", d->type);
}

int ax_sd_decode_dns(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err)
{
	int rv = decode_sd_list(c, node, path, dst, dns_fields,
	    sizeof(ax_dnssd_t), dns_init, dns_check, err);

	if (rv != 0)
		ax_sd_free_dns(dst);
	return rv;
}

void ax_sd_free_dns(void *dst)
{
	ax_cfg_list_t *l = dst;
	size_t i;

	for (i = 0; i < l->n; i++)
		ax_cfg_free_fields(dns_fields, (ax_dnssd_t *)l->items + i);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* ---- consul_sd_configs ---- */

#define COFF(f) offsetof(ax_consulsd_t, f)
static const ax_cfg_field_t consul_fields[] = {
    {.name = "server", .type = AX_CFG_STRING, .offset = COFF(server)},
    {.name = "path_prefix", .type = AX_CFG_STRING, .offset = COFF(path_prefix)},
    {.name = "token", .type = AX_CFG_STRING, .offset = COFF(token)},
    {.name = "datacenter", .type = AX_CFG_STRING, .offset = COFF(datacenter)},
    {.name = "namespace", .type = AX_CFG_STRING, .offset = COFF(namespace_)},
    {.name = "partition", .type = AX_CFG_STRING, .offset = COFF(partition)},
    {.name = "tag_separator",
        .type = AX_CFG_STRING,
        .offset = COFF(tag_separator)},
    {.name = "scheme", .type = AX_CFG_STRING, .offset = COFF(scheme)},
    {.name = "username", .type = AX_CFG_STRING, .offset = COFF(username)},
    {.name = "password", .type = AX_CFG_STRING, .offset = COFF(password)},
    {.name = "allow_stale", .type = AX_CFG_BOOL, .offset = COFF(allow_stale)},
    {.name = "refresh_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = COFF(refresh_ms)},
    {.name = "services", .type = AX_CFG_STRINGS, .offset = COFF(services)},
    {.name = "tags", .type = AX_CFG_STRINGS, .offset = COFF(tags)},
    {.name = "node_meta", .type = AX_CFG_LABELS, .offset = COFF(node_meta)},
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = COFF(basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = COFF(authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = COFF(tls),
        .fields = ax_rw_tls_fields},
    {.name = "follow_redirects",
        .type = AX_CFG_BOOL,
        .offset = COFF(follow_redirects)},
    {.name = "enable_http2", .type = AX_CFG_BOOL, .offset = COFF(enable_http2)},
    {.name = "proxy_url", .type = AX_CFG_STRING, .offset = COFF(proxy_url)},
    {0},
};

static int consul_init(void *p)
{
	ax_consulsd_t *s = p;

	s->allow_stale = 1;
	s->refresh_ms = 30000;
	s->follow_redirects = 1;
	s->enable_http2 = 1;
	if ((s->server = strdup("localhost:8500")) == NULL ||
	    (s->tag_separator = strdup(",")) == NULL ||
	    (s->scheme = strdup("http")) == NULL)
		return AX_ENOMEM;
	return 0;
}

static int consul_check(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *p, ax_err_t *err)
{
	ax_consulsd_t *s = p;
	const char *q = s->server;

	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '\0')
		return ax_cfg_errorf(c, n, path, err,
		    "consul SD configuration requires a server address");
	if (strcmp(s->scheme, "http") != 0 && strcmp(s->scheme, "https") != 0)
		return ax_cfg_errorf(c, n, path, err,
		    "scheme must be http or https, got \"%s\"", s->scheme);
	if ((s->username || s->password) &&
	    (s->basic_auth.username || s->authorization.credentials))
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of consul SD configuration username and "
		    "password, basic auth or authorization must be configured");
	return 0;
}

int ax_sd_decode_consul(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err)
{
	int rv = decode_sd_list(c, node, path, dst, consul_fields,
	    sizeof(ax_consulsd_t), consul_init, consul_check, err);

	if (rv != 0)
		ax_sd_free_consul(dst);
	return rv;
}

void ax_sd_free_consul(void *dst)
{
	ax_cfg_list_t *l = dst;
	size_t i;

	for (i = 0; i < l->n; i++)
		ax_cfg_free_fields(
		    consul_fields, (ax_consulsd_t *)l->items + i);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int ax_sd_decode_text(const char *name, const char *text,
    int (*decode)(ax_cfg_t *, yaml_node_t *, const char *, void *, ax_err_t *),
    void *dst, ax_err_t *err)
{
	ax_cfg_t c;
	int rv;

	if ((rv = ax_cfg_load_string(&c, name, text, strlen(text), err)) != 0)
		return rv;
	c.quiet = 1;
	rv = decode(&c, ax_cfg_root(&c), "", dst, err);
	ax_cfg_fini(&c);
	return rv;
}

/* ---- kubernetes_sd_configs ---- */

#define KOFF(f) offsetof(ax_k8ssd_t, f)
static const ax_cfg_field_t k8s_sel_fields[] = {
    {.name = "role",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED,
        .offset = offsetof(ax_k8s_selector_t, role)},
    {.name = "label",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_k8s_selector_t, label)},
    {.name = "field",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_k8s_selector_t, field)},
    {0},
};

static const ax_cfg_field_t k8s_ns_fields[] = {
    {.name = "own_namespace",
        .type = AX_CFG_BOOL,
        .offset = KOFF(namespaces.own_namespace) - KOFF(namespaces)},
    {.name = "names",
        .type = AX_CFG_STRINGS,
        .offset = KOFF(namespaces.names) - KOFF(namespaces)},
    {0},
};

static const ax_cfg_field_t k8s_meta_fields[] = {
    {.name = "node", .type = AX_CFG_BOOL, .offset = 0},
    {0},
};

static const ax_cfg_field_t k8s_fields[] = {
    {.name = "api_server", .type = AX_CFG_STRING, .offset = KOFF(api_server)},
    {.name = "role",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED,
        .offset = KOFF(role)},
    {.name = "kubeconfig_file",
        .type = AX_CFG_STRING,
        .offset = KOFF(kubeconfig_file)},
    {.name = "namespaces",
        .type = AX_CFG_SECTION,
        .offset = KOFF(namespaces),
        .fields = k8s_ns_fields},
    {.name = "selectors",
        .type = AX_CFG_LIST,
        .offset = KOFF(selectors),
        .fields = k8s_sel_fields,
        .elem_size = sizeof(ax_k8s_selector_t)},
    {.name = "attach_metadata",
        .type = AX_CFG_SECTION,
        .offset = KOFF(attach_metadata),
        .fields = k8s_meta_fields},
    {.name = "bearer_token", .type = AX_CFG_STRING, .offset = KOFF(bearer_token)},
    {.name = "bearer_token_file",
        .type = AX_CFG_STRING,
        .offset = KOFF(bearer_token_file)},
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = KOFF(basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = KOFF(authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = KOFF(tls),
        .fields = ax_rw_tls_fields},
    {.name = "follow_redirects",
        .type = AX_CFG_BOOL,
        .offset = KOFF(follow_redirects)},
    {.name = "enable_http2", .type = AX_CFG_BOOL, .offset = KOFF(enable_http2)},
    {.name = "proxy_url", .type = AX_CFG_STRING, .offset = KOFF(proxy_url)},
    {0},
};

static int k8s_init(void *p)
{
	ax_k8ssd_t *k = p;

	k->follow_redirects = 1;
	k->enable_http2 = 1;
	return 0;
}

static int k8s_check(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *p, ax_err_t *err)
{
	static const char *const known[] = {
	    "endpoints", "endpointslice", "service", "pod", "node", "ingress",
	    NULL};
	ax_k8ssd_t *k = p;
	const ax_k8s_selector_t *sel = k->selectors.items;
	size_t i, auth = 0;
	int ok = 0;

	for (i = 0; known[i] && !ok; i++)
		ok = strcmp(known[i], k->role) == 0;
	if (!ok)
		return ax_cfg_errorf(c, n, path, err,
		    "role: unknown Kubernetes SD role \"%s\"", k->role);
	if (strcmp(k->role, "pod") != 0 && strcmp(k->role, "endpoints") != 0)
		return ax_cfg_errorf(c, n, path, err,
		    "role \"%s\" is not supported by this version of axon "
		    "(pod and endpoints are)",
		    k->role);
	if (k->kubeconfig_file)
		return ax_cfg_errorf(c, n, path, err,
		    "kubeconfig_file is not supported by this version of axon; "
		    "give api_server and credentials, or run in the cluster");
	if (k->attach_metadata.node)
		return ax_cfg_errorf(c, n, path, err,
		    "attach_metadata.node is not supported by this version of "
		    "axon");
	if (k->api_server && strncmp(k->api_server, "http://", 7) != 0 &&
	    strncmp(k->api_server, "https://", 8) != 0)
		return ax_cfg_errorf(c, n, path, err,
		    "api_server must be an http:// or https:// URL, got \"%s\"",
		    k->api_server);
	auth += k->bearer_token != NULL;
	auth += k->bearer_token_file != NULL;
	auth += k->basic_auth.username != NULL;
	auth += k->authorization.credentials != NULL ||
	    k->authorization.credentials_file != NULL;
	if (auth > 1)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of basic_auth, authorization, bearer_token and "
		    "bearer_token_file must be configured");
	if (k->api_server == NULL && auth > 0)
		return ax_cfg_errorf(c, n, path, err,
		    "to use custom HTTP client configuration please provide "
		    "the 'api_server' URL explicitly");
	for (i = 0; i < k->selectors.n; i++) {
		int allowed = strcmp(sel[i].role, k->role) == 0 ||
		    (strcmp(k->role, "endpoints") == 0 &&
		        (strcmp(sel[i].role, "pod") == 0 ||
		            strcmp(sel[i].role, "service") == 0));

		if (!allowed)
			return ax_cfg_errorf(c, n, path, err,
			    "%s role supports only %s selectors", k->role,
			    strcmp(k->role, "pod") == 0
			        ? "pod"
			        : "pod, service, endpoints");
		for (auth = 0; auth < i; auth++)
			if (strcmp(sel[auth].role, sel[i].role) == 0)
				return ax_cfg_errorf(c, n, path, err,
				    "duplicated selector role: %s", sel[i].role);
	}
	return 0;
}

int ax_sd_decode_k8s(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err)
{
	int rv = decode_sd_list(c, node, path, dst, k8s_fields,
	    sizeof(ax_k8ssd_t), k8s_init, k8s_check, err);

	if (rv != 0)
		ax_sd_free_k8s(dst);
	return rv;
}

void ax_sd_free_k8s(void *dst)
{
	ax_cfg_list_t *l = dst;
	size_t i;

	for (i = 0; i < l->n; i++)
		ax_cfg_free_fields(k8s_fields, (ax_k8ssd_t *)l->items + i);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
