/*
 * ar_config: loading an Alertmanager 0.25 alertmanager.yml (see config.h).
 *
 * Field tables drive the decoding (libcommon ax_config); the checks that
 * span fields, or the whole file, run in custom decoders while the YAML
 * nodes are at hand, so their messages carry file:line:col, and in
 * finish() for what needs the whole file (receiver and time-interval
 * names used by routes).
 */
#include "alert-router/config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ax_promyml.h"

#define DEFAULT_PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"

/* ---- helpers ---- */

static yaml_node_t *map_get(
    ax_cfg_t *c, yaml_node_t *map, const char *key, yaml_node_t **key_node)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		const char *ks = ax_cfg_scalar(k);

		if (ks && strcmp(ks, key) == 0) {
			if (key_node)
				*key_node = k;
			return yaml_document_get_node(&c->doc, p->value);
		}
	}
	return NULL;
}

static void join(char *out, size_t cap, const char *path, const char *key)
{
	snprintf(out, cap, "%s%s%s", path && *path ? path : "",
	    path && *path ? "." : "", key);
}

static int label_name_ok(const char *s)
{
	return s && *s && ax_label_name_valid(s, strlen(s));
}

static void kv_free(void *p)
{
	ar_kv_t *kv = p;
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->k[i]);
		free(kv->v[i]);
	}
	free(kv->k);
	free(kv->v);
	memset(kv, 0, sizeof(*kv));
}

/* A string -> string map. */
static int decode_kv(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_kv_t *kv = dst;
	yaml_node_pair_t *p;
	size_t cnt, i = 0;
	int rv;

	kv_free(kv);
	if (n->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(
		    c, n, path, err, "cannot unmarshal into a map of strings");
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	kv->k = calloc(cnt ? cnt : 1, sizeof(char *));
	kv->v = calloc(cnt ? cnt : 1, sizeof(char *));
	if (kv->k == NULL || kv->v == NULL) {
		kv_free(kv);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++, i++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		char sub[512];

		join(sub, sizeof(sub), path,
		    ax_cfg_scalar(k) ? ax_cfg_scalar(k) : "?");
		kv->n = i + 1;
		if ((rv = ax_cfg_get_string(c, k, path, &kv->k[i], err)) != 0)
			return rv;
		if (ax_cfg_is_null(v)) {
			if ((kv->v[i] = strdup("")) == NULL)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
		} else if ((rv = ax_cfg_get_string(
		                c, v, sub, &kv->v[i], err)) != 0)
			return rv;
	}
	return 0;
}

/* match / source_match / target_match: keys are label names. */
static int decode_match(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_kv_t *kv = dst;
	size_t i;
	int rv;

	if ((rv = decode_kv(c, n, path, dst, err)) != 0)
		return rv;
	for (i = 0; i < kv->n; i++)
		if (!label_name_ok(kv->k[i]))
			return ax_cfg_errorf(c, n, path, err,
			    "invalid label name \"%s\"", kv->k[i]);
	return 0;
}

/* match_re: label names to regexes (checked here, anchored when used). */
static int decode_match_re(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_kv_t *kv = dst;
	ax_regex_t *re;
	ax_err_t e;
	size_t i;
	int rv;

	if ((rv = decode_match(c, n, path, dst, err)) != 0)
		return rv;
	for (i = 0; i < kv->n; i++) {
		if (ax_regex_compile(kv->v[i], &re, &e) != 0) {
			char sub[512];

			join(sub, sizeof(sub), path, kv->k[i]);
			return ax_cfg_errorf(c, map_get(c, n, kv->k[i], NULL),
			    sub, err, "%s", e.msg);
		}
		ax_regex_free(re);
	}
	return 0;
}

/* Build the matcher list Alertmanager builds: match, match_re (anchored
 * as ^(?:re)$, which is also how it prints them), matchers; sorted. */
static int build_matchers(ax_cfg_t *c, yaml_node_t *node, const char *path,
    const ar_kv_t *match, const ar_kv_t *match_re, const ax_cfg_strings_t *text,
    const char *text_key, ax_amatchers_t *out, ax_err_t *err)
{
	ax_err_t e;
	size_t i;
	int rv;

	for (i = 0; i < match->n; i++)
		if ((rv = ax_amatchers_add(
		         out, AX_AM_EQ, match->k[i], match->v[i], err)) != 0)
			return rv;
	for (i = 0; i < match_re->n; i++) {
		size_t len = strlen(match_re->v[i]) + 8;
		char *a = malloc(len);

		if (a == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		snprintf(a, len, "^(?:%s)$", match_re->v[i]);
		rv = ax_amatchers_add(out, AX_AM_RE, match_re->k[i], a, err);
		free(a);
		if (rv != 0)
			return rv;
	}
	for (i = 0; i < text->n; i++) {
		if (ax_amatchers_parse(out, text->v[i], &e) != 0) {
			yaml_node_t *seq = map_get(c, node, text_key, NULL);
			yaml_node_t *at = seq;
			char sub[512];

			if (seq && seq->type == YAML_SEQUENCE_NODE &&
			    i < (size_t)(seq->data.sequence.items.top -
			            seq->data.sequence.items.start))
				at = yaml_document_get_node(
				    &c->doc, seq->data.sequence.items.start[i]);
			snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path,
			    *path ? "." : "", text_key, i);
			return ax_cfg_errorf(c, at, sub, err, "%s", e.msg);
		}
	}
	ax_amatchers_sort(out);
	return 0;
}

/* ---- HTTP client config (Prometheus common config) ---- */

static void http_init(ar_http_cfg_t *h)
{
	memset(h, 0, sizeof(*h));
	h->follow_redirects = 1;
	h->enable_http2 = 1;
}

static const ax_cfg_field_t http_fields[] = {
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ar_http_cfg_t, basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ar_http_cfg_t, authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "bearer_token",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_http_cfg_t, bearer_token)},
    {.name = "bearer_token_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_http_cfg_t, bearer_token_file)},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ar_http_cfg_t, tls_config),
        .fields = ax_rw_tls_fields},
    {.name = "proxy_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_http_cfg_t, proxy_url)},
    {.name = "follow_redirects",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_http_cfg_t, follow_redirects)},
    {.name = "enable_http2",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_http_cfg_t, enable_http2)},
    {0},
};

static int decode_http(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_http_cfg_t *h = dst;
	int n_auth;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, http_fields, h, err)) != 0)
		return rv;
	h->set = 1;
	n_auth = (h->basic_auth.username || h->basic_auth.password ||
	             h->basic_auth.password_file) +
	    (h->bearer_token || h->bearer_token_file) +
	    (h->authorization.credentials ||
	        h->authorization.credentials_file || h->authorization.type);
	if (n_auth > 1)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of basic_auth, bearer_token & "
		    "bearer_token_file, authorization must be configured");
	if (h->bearer_token && h->bearer_token_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of bearer_token & bearer_token_file must be "
		    "configured");
	if (h->basic_auth.password && h->basic_auth.password_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of basic_auth password & password_file must "
		    "be configured");
	if (h->authorization.credentials && h->authorization.credentials_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of authorization credentials & "
		    "credentials_file must be configured");
	if (h->authorization.type &&
	    strcasecmp(h->authorization.type, "basic") == 0)
		return ax_cfg_errorf(c, n, path, err,
		    "authorization type cannot be set to \"basic\", use "
		    "\"basic_auth\" instead");
	return 0;
}

static void http_free(void *p)
{
	ax_cfg_free_fields(http_fields, p);
}

/* A URL field: http or https with a host. */
static int check_url(
    ax_cfg_t *c, yaml_node_t *n, const char *path, const char *u, ax_err_t *err)
{
	const char *rest;

	if (strncmp(u, "http://", 7) == 0)
		rest = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		rest = u + 8;
	else if (strstr(u, "://") != NULL)
		return ax_cfg_errorf(c, n, path, err,
		    "unsupported scheme in URL \"%s\" (want http or https)", u);
	else
		return ax_cfg_errorf(
		    c, n, path, err, "invalid URL \"%s\": no scheme", u);
	if (*rest == '\0' || *rest == '/')
		return ax_cfg_errorf(
		    c, n, path, err, "invalid URL \"%s\": no host", u);
	return 0;
}

static int decode_url(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	char **s = dst;
	int rv;

	free(*s);
	*s = NULL;
	if ((rv = ax_cfg_get_string(c, n, path, s, err)) != 0)
		return rv;
	return check_url(c, n, path, *s, err);
}

static void str_free(void *p)
{
	free(*(char **)p);
	*(char **)p = NULL;
}

/* ---- global ---- */

static void global_init(ar_global_t *g)
{
	memset(g, 0, sizeof(*g));
	g->resolve_timeout_ms = 5 * 60 * 1000;
	http_init(&g->http_config);
	g->smtp_hello = strdup("localhost");
	g->smtp_require_tls = 1;
	g->pagerduty_url = strdup(DEFAULT_PAGERDUTY_URL);
}

#define GSTR(n)                                                                \
	{                                                                      \
		.name = #n, .type = AX_CFG_STRING,                             \
		.offset = offsetof(ar_global_t, n)                             \
	}
#define GIGN(n)                                                                \
	{                                                                      \
		.name = n, .type = AX_CFG_IGNORE                               \
	}

static const ax_cfg_field_t global_fields[] = {
    {.name = "resolve_timeout",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ar_global_t, resolve_timeout_ms)},
    {.name = "http_config",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_global_t, http_config),
        .decode = decode_http,
        .free_fn = http_free},
    GSTR(smtp_from),
    GSTR(smtp_hello),
    GSTR(smtp_smarthost),
    GSTR(smtp_auth_username),
    GSTR(smtp_auth_password),
    GSTR(smtp_auth_password_file),
    GSTR(smtp_auth_secret),
    GSTR(smtp_auth_identity),
    {.name = "smtp_require_tls",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_global_t, smtp_require_tls)},
    {.name = "slack_api_url",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_global_t, slack_api_url),
        .decode = decode_url,
        .free_fn = str_free},
    GSTR(slack_api_url_file),
    {.name = "pagerduty_url",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_global_t, pagerduty_url),
        .decode = decode_url,
        .free_fn = str_free},
    /* For receivers axon does not support; accepted so that a file
     * written for Alertmanager loads. */
    GIGN("opsgenie_api_url"),
    GIGN("opsgenie_api_key"),
    GIGN("opsgenie_api_key_file"),
    GIGN("wechat_api_url"),
    GIGN("wechat_api_secret"),
    GIGN("wechat_api_corp_id"),
    GIGN("victorops_api_url"),
    GIGN("victorops_api_key"),
    GIGN("victorops_api_key_file"),
    GIGN("telegram_api_url"),
    GIGN("webex_api_url"),
    {0},
};

static void global_free(void *p);

static int decode_global(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_global_t *g = dst;
	yaml_node_t *k;
	int rv;

	/* The skeleton released the defaults before calling us. */
	global_free(g);
	global_init(g);
	if (g->smtp_hello == NULL || g->pagerduty_url == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = ax_cfg_decode(c, n, path, global_fields, g, err)) != 0)
		return rv;
	if (g->slack_api_url && g->slack_api_url_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of slack_api_url & slack_api_url_file must be "
		    "configured");
	if (g->smtp_auth_password && g->smtp_auth_password_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of smtp_auth_password & "
		    "smtp_auth_password_file must be configured");
	if (g->smtp_smarthost && *g->smtp_smarthost &&
	    strrchr(g->smtp_smarthost, ':') == NULL) {
		map_get(c, n, "smtp_smarthost", &k);
		return ax_cfg_errorf(c, k, "global.smtp_smarthost", err,
		    "address %s: missing port in address", g->smtp_smarthost);
	}
	return 0;
}

static void global_free(void *p)
{
	ax_cfg_free_fields(global_fields, p);
}

/* ---- receivers ---- */

static void webhook_init(void *p)
{
	ar_webhook_cfg_t *w = p;

	memset(w, 0, sizeof(*w));
	w->send_resolved = 1;
	http_init(&w->http_config);
}

static const ax_cfg_field_t webhook_fields[] = {
    {.name = "send_resolved",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_webhook_cfg_t, send_resolved)},
    {.name = "http_config",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_webhook_cfg_t, http_config),
        .decode = decode_http,
        .free_fn = http_free},
    {.name = "url",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_webhook_cfg_t, url),
        .decode = decode_url,
        .free_fn = str_free},
    {.name = "max_alerts",
        .type = AX_CFG_INT,
        .offset = offsetof(ar_webhook_cfg_t, max_alerts)},
    {0},
};

static int decode_webhook(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_webhook_cfg_t *w = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, webhook_fields, w, err)) != 0)
		return rv;
	if (w->url == NULL)
		return ax_cfg_errorf(c, n, path, err,
		    "one of url or url_file must be configured");
	return 0;
}

static void webhook_free(void *p)
{
	ax_cfg_free_fields(webhook_fields, p);
}

static const ax_cfg_field_t pd_image_fields[] = {
    {.name = "src",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pd_image_t, src)},
    {.name = "alt",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pd_image_t, alt)},
    {.name = "href",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pd_image_t, href)},
    {0},
};

static const ax_cfg_field_t pd_link_fields[] = {
    {.name = "href",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pd_link_t, href)},
    {.name = "text",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pd_link_t, text)},
    {0},
};

static void pagerduty_init(void *p)
{
	ar_pagerduty_cfg_t *d = p;

	memset(d, 0, sizeof(*d));
	d->send_resolved = 1;
	http_init(&d->http_config);
}

#define PDSTR(n)                                                               \
	{                                                                      \
		.name = #n, .type = AX_CFG_STRING,                             \
		.offset = offsetof(ar_pagerduty_cfg_t, n)                      \
	}

static const ax_cfg_field_t pagerduty_fields[] = {
    {.name = "send_resolved",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_pagerduty_cfg_t, send_resolved)},
    {.name = "http_config",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_pagerduty_cfg_t, http_config),
        .decode = decode_http,
        .free_fn = http_free},
    PDSTR(service_key),
    PDSTR(service_key_file),
    PDSTR(routing_key),
    PDSTR(routing_key_file),
    {.name = "url",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_pagerduty_cfg_t, url),
        .decode = decode_url,
        .free_fn = str_free},
    PDSTR(client),
    PDSTR(client_url),
    PDSTR(description),
    {.name = "details",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_pagerduty_cfg_t, details),
        .decode = decode_kv,
        .free_fn = kv_free},
    {.name = "images",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_pagerduty_cfg_t, images),
        .fields = pd_image_fields,
        .elem_size = sizeof(ar_pd_image_t)},
    {.name = "links",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_pagerduty_cfg_t, links),
        .fields = pd_link_fields,
        .elem_size = sizeof(ar_pd_link_t)},
    PDSTR(source),
    PDSTR(severity),
    {.name = "class",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_pagerduty_cfg_t, class_)},
    PDSTR(component),
    PDSTR(group),
    {0},
};

static int decode_pagerduty(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_pagerduty_cfg_t *d = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, pagerduty_fields, d, err)) != 0)
		return rv;
	if (!d->routing_key && !d->service_key && !d->routing_key_file &&
	    !d->service_key_file)
		return ax_cfg_errorf(c, n, path, err,
		    "missing service or routing key in PagerDuty config");
	if (d->routing_key && d->routing_key_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of routing_key & routing_key_file must be "
		    "configured");
	if (d->service_key && d->service_key_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of service_key & service_key_file must be "
		    "configured");
	return 0;
}

static void pagerduty_free(void *p)
{
	ax_cfg_free_fields(pagerduty_fields, p);
}

static void email_init(void *p)
{
	ar_email_cfg_t *e = p;

	memset(e, 0, sizeof(*e));
	e->require_tls = -1;
}

#define EMSTR(n)                                                               \
	{                                                                      \
		.name = #n, .type = AX_CFG_STRING,                             \
		.offset = offsetof(ar_email_cfg_t, n)                          \
	}

static const ax_cfg_field_t email_fields[] = {
    {.name = "send_resolved",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_email_cfg_t, send_resolved)},
    EMSTR(to),
    EMSTR(from),
    EMSTR(hello),
    EMSTR(smarthost),
    EMSTR(auth_username),
    EMSTR(auth_password),
    EMSTR(auth_password_file),
    EMSTR(auth_secret),
    EMSTR(auth_identity),
    {.name = "headers",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_email_cfg_t, headers),
        .decode = decode_kv,
        .free_fn = kv_free},
    EMSTR(html),
    EMSTR(text),
    {.name = "require_tls",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_email_cfg_t, require_tls)},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ar_email_cfg_t, tls_config),
        .fields = ax_rw_tls_fields},
    {0},
};

void ar_config_canonical_header(const char *in, char *out, size_t cap)
{
	size_t i;
	int up = 1;

	for (i = 0; in[i] && i + 1 < cap; i++) {
		char ch = in[i];

		out[i] = up ? (char)toupper((unsigned char)ch)
		            : (char)tolower((unsigned char)ch);
		up = ch == '-';
	}
	out[i] = '\0';
}

static int decode_email(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_email_cfg_t *e = dst;
	size_t i, j;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, email_fields, e, err)) != 0)
		return rv;
	if (e->to == NULL || *e->to == '\0')
		return ax_cfg_errorf(
		    c, n, path, err, "missing to address in email config");
	if (e->auth_password && e->auth_password_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of auth_password & auth_password_file must "
		    "be configured");
	for (i = 0; i < e->headers.n; i++) {
		char a[256], b[256];

		ar_config_canonical_header(e->headers.k[i], a, sizeof(a));
		for (j = 0; j < i; j++) {
			ar_config_canonical_header(
			    e->headers.k[j], b, sizeof(b));
			if (strcmp(a, b) == 0)
				return ax_cfg_errorf(c, n, path, err,
				    "duplicate header \"%s\" in email config",
				    a);
		}
	}
	return 0;
}

static void email_free(void *p)
{
	ax_cfg_free_fields(email_fields, p);
}

static const ax_cfg_field_t slack_field_fields[] = {
    {.name = "title",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_field_t, title)},
    {.name = "value",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_field_t, value)},
    {.name = "short",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_slack_field_t, short_)},
    {0},
};

static void slack_field_init(void *p)
{
	ar_slack_field_t *f = p;

	memset(f, 0, sizeof(*f));
	f->short_ = -1;
}

static const ax_cfg_field_t slack_confirm_fields[] = {
    {.name = "text",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_confirm_t, text)},
    {.name = "title",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_confirm_t, title)},
    {.name = "ok_text",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_confirm_t, ok_text)},
    {.name = "dismiss_text",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_slack_confirm_t, dismiss_text)},
    {0},
};

#define SASTR(n)                                                               \
	{                                                                      \
		.name = #n, .type = AX_CFG_STRING,                             \
		.offset = offsetof(ar_slack_action_t, n)                       \
	}

static const ax_cfg_field_t slack_action_fields[] = {
    SASTR(type),
    SASTR(text),
    SASTR(url),
    SASTR(style),
    SASTR(name),
    SASTR(value),
    {.name = "confirm",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ar_slack_action_t, confirm),
        .fields = slack_confirm_fields},
    {0},
};

static int decode_slack_action(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_slack_action_t *a = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, slack_action_fields, a, err)) != 0)
		return rv;
	if (a->type == NULL || *a->type == '\0')
		return ax_cfg_errorf(c, n, path, err,
		    "missing type in Slack action configuration");
	if (a->text == NULL || *a->text == '\0')
		return ax_cfg_errorf(c, n, path, err,
		    "missing text in Slack action configuration");
	if ((a->url == NULL || *a->url == '\0') &&
	    (a->name == NULL || *a->name == '\0'))
		return ax_cfg_errorf(c, n, path, err,
		    "missing name or url in Slack action configuration");
	if (a->confirm.text == NULL &&
	    (a->confirm.title || a->confirm.ok_text || a->confirm.dismiss_text))
		return ax_cfg_errorf(c, n, path, err,
		    "missing text in Slack confirmation configuration");
	return 0;
}

static void slack_action_free(void *p)
{
	ax_cfg_free_fields(slack_action_fields, p);
}

static void slack_init(void *p)
{
	ar_slack_cfg_t *s = p;

	memset(s, 0, sizeof(*s));
	http_init(&s->http_config);
}

#define SLSTR(n)                                                               \
	{                                                                      \
		.name = #n, .type = AX_CFG_STRING,                             \
		.offset = offsetof(ar_slack_cfg_t, n)                          \
	}

static const ax_cfg_field_t slack_fields[] = {
    {.name = "send_resolved",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_slack_cfg_t, send_resolved)},
    {.name = "http_config",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_slack_cfg_t, http_config),
        .decode = decode_http,
        .free_fn = http_free},
    {.name = "api_url",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_slack_cfg_t, api_url),
        .decode = decode_url,
        .free_fn = str_free},
    SLSTR(api_url_file),
    SLSTR(channel),
    SLSTR(username),
    SLSTR(color),
    SLSTR(title),
    SLSTR(title_link),
    SLSTR(pretext),
    SLSTR(text),
    SLSTR(footer),
    SLSTR(fallback),
    SLSTR(callback_id),
    SLSTR(icon_emoji),
    SLSTR(icon_url),
    SLSTR(image_url),
    SLSTR(thumb_url),
    {.name = "fields",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_slack_cfg_t, fields),
        .fields = slack_field_fields,
        .elem_size = sizeof(ar_slack_field_t),
        .elem_init = slack_field_init},
    {.name = "actions",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_slack_cfg_t, actions),
        .elem_size = sizeof(ar_slack_action_t),
        .decode = decode_slack_action,
        .free_fn = slack_action_free},
    {.name = "short_fields",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_slack_cfg_t, short_fields)},
    {.name = "link_names",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_slack_cfg_t, link_names)},
    {.name = "mrkdwn_in",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_slack_cfg_t, mrkdwn_in)},
    {0},
};

static int decode_slack(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_slack_cfg_t *s = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, slack_fields, s, err)) != 0)
		return rv;
	if (s->api_url && s->api_url_file)
		return ax_cfg_errorf(c, n, path, err,
		    "at most one of api_url & api_url_file must be configured");
	return 0;
}

static void slack_free(void *p)
{
	ax_cfg_free_fields(slack_fields, p);
}

static int refuse_receiver(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	(void)dst;
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.start == n->data.sequence.items.top)
		return 0;
	return ax_cfg_errorf(c, n, path, err,
	    "this notifier is not supported by axon-alert-router (supported: "
	    "webhook_configs, pagerduty_configs, email_configs, "
	    "slack_configs); a webhook receiver can bridge to it");
}

#define REFUSE(n)                                                              \
	{                                                                      \
		.name = n, .type = AX_CFG_CUSTOM, .decode = refuse_receiver    \
	}

static const ax_cfg_field_t receiver_fields[] = {
    {.name = "name",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_receiver_t, name)},
    {.name = "webhook_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_receiver_t, webhook),
        .elem_size = sizeof(ar_webhook_cfg_t),
        .elem_init = webhook_init,
        .decode = decode_webhook,
        .free_fn = webhook_free},
    {.name = "pagerduty_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_receiver_t, pagerduty),
        .elem_size = sizeof(ar_pagerduty_cfg_t),
        .elem_init = pagerduty_init,
        .decode = decode_pagerduty,
        .free_fn = pagerduty_free},
    {.name = "email_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_receiver_t, email),
        .elem_size = sizeof(ar_email_cfg_t),
        .elem_init = email_init,
        .decode = decode_email,
        .free_fn = email_free},
    {.name = "slack_configs",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_receiver_t, slack),
        .elem_size = sizeof(ar_slack_cfg_t),
        .elem_init = slack_init,
        .decode = decode_slack,
        .free_fn = slack_free},
    REFUSE("opsgenie_configs"),
    REFUSE("wechat_configs"),
    REFUSE("pushover_configs"),
    REFUSE("victorops_configs"),
    REFUSE("sns_configs"),
    REFUSE("telegram_configs"),
    REFUSE("webex_configs"),
    {0},
};

static int decode_receiver(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_receiver_t *r = dst;
	int rv;

	r->line = (int)n->start_mark.line + 1;
	r->col = (int)n->start_mark.column + 1;
	if ((rv = ax_cfg_decode(c, n, path, receiver_fields, r, err)) != 0)
		return rv;
	if (r->name == NULL || *r->name == '\0')
		return ax_cfg_errorf(
		    c, n, path, err, "missing name in receiver");
	return 0;
}

static void receiver_free(void *p)
{
	ax_cfg_free_fields(receiver_fields, p);
}

/* ---- time intervals ---- */

static void ranges_free(void *p)
{
	ar_ranges_t *r = p;

	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static int ranges_push(ar_ranges_t *r, int lo, int hi, ax_err_t *err)
{
	ar_range_t *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));

	if (nv == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	r->v = nv;
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->n++;
	return 0;
}

static const char *const weekday_names[] = {"sunday", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", NULL};
static const char *const month_names[] = {"january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october",
    "november", "december", NULL};

typedef enum { RK_WEEKDAY, RK_DOM, RK_MONTH, RK_YEAR } range_kind_t;

/* One endpoint: a name (weekdays, months) or an integer. */
static int range_value(range_kind_t kind, const char *s, int *out)
{
	char low[32];
	size_t i;
	char *end;
	long v;

	for (i = 0; s[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	if (kind == RK_WEEKDAY || kind == RK_MONTH) {
		const char *const *names =
		    kind == RK_WEEKDAY ? weekday_names : month_names;

		for (i = 0; names[i]; i++)
			if (strcmp(low, names[i]) == 0) {
				*out = (int)(kind == RK_MONTH ? i + 1 : i);
				return 0;
			}
		if (kind == RK_WEEKDAY)
			return -1;
	}
	if (*s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < -100000 || v > 100000)
		return -1;
	*out = (int)v;
	return 0;
}

static int decode_ranges(ax_cfg_t *c, yaml_node_t *n, const char *path,
    ar_ranges_t *out, range_kind_t kind, ax_err_t *err)
{
	static const char *const what[] = {
	    "weekday", "day of the month", "month", "year"};
	yaml_node_item_t *it;

	ranges_free(out);
	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(
		    c, n, path, err, "cannot unmarshal into a list of ranges");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
		const char *s = ax_cfg_scalar(e);
		char lo_s[64], hi_s[64];
		const char *colon;
		int lo, hi, rv;

		if (s == NULL)
			return ax_cfg_errorf(c, e, path, err,
			    "want a %s or a range", what[kind]);
		colon = strchr(s, ':');
		if (colon) {
			snprintf(
			    lo_s, sizeof(lo_s), "%.*s", (int)(colon - s), s);
			snprintf(hi_s, sizeof(hi_s), "%s", colon + 1);
		} else {
			snprintf(lo_s, sizeof(lo_s), "%s", s);
			snprintf(hi_s, sizeof(hi_s), "%s", s);
		}
		if (range_value(kind, lo_s, &lo) ||
		    range_value(kind, hi_s, &hi))
			return ax_cfg_errorf(c, e, path, err,
			    "%s is not a valid %s", s, what[kind]);
		switch (kind) {
		case RK_WEEKDAY:
			if (lo > hi)
				return ax_cfg_errorf(c, e, path, err,
				    "start day cannot be before end day");
			break;
		case RK_DOM:
			if (lo == 0 || hi == 0 || lo < -31 || lo > 31 ||
			    hi < -31 || hi > 31)
				return ax_cfg_errorf(c, e, path, err,
				    "%s is not a valid day of the month: out "
				    "of "
				    "range",
				    s);
			if ((lo > 0) == (hi > 0) && lo > hi)
				return ax_cfg_errorf(c, e, path, err,
				    "end day must be greater than start day");
			if (lo < 0 && hi > 0)
				return ax_cfg_errorf(c, e, path, err,
				    "end day must be greater than start day");
			break;
		case RK_MONTH:
			if (lo < 1 || lo > 12 || hi < 1 || hi > 12)
				return ax_cfg_errorf(c, e, path, err,
				    "%s is not a valid month: out of range", s);
			if (lo > hi)
				return ax_cfg_errorf(c, e, path, err,
				    "end month %s is before start month %s",
				    hi_s, lo_s);
			break;
		case RK_YEAR:
			if (lo > hi)
				return ax_cfg_errorf(c, e, path, err,
				    "end year %d is before start year %d", hi,
				    lo);
			break;
		}
		if ((rv = ranges_push(out, lo, hi, err)) != 0)
			return rv;
	}
	return 0;
}

static int decode_weekdays(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return decode_ranges(c, n, path, dst, RK_WEEKDAY, err);
}
static int decode_doms(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return decode_ranges(c, n, path, dst, RK_DOM, err);
}
static int decode_months(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return decode_ranges(c, n, path, dst, RK_MONTH, err);
}
static int decode_years(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	return decode_ranges(c, n, path, dst, RK_YEAR, err);
}

/* "HH:MM", 00:00 to 24:00; minutes of the day, or -1. */
static int parse_hhmm(const char *s)
{
	int h, m;

	if (s == NULL || strlen(s) != 5 || s[2] != ':' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static int decode_times(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_ranges_t *out = dst;
	yaml_node_item_t *it;

	ranges_free(out);
	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(
		    c, n, path, err, "cannot unmarshal into a list of times");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
		yaml_node_pair_t *p;
		const char *st = NULL, *en = NULL;
		int lo, hi, rv;

		if (e->type != YAML_MAPPING_NODE)
			return ax_cfg_errorf(c, e, path, err,
			    "want a map with start_time and end_time");
		for (p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			yaml_node_t *k =
			    yaml_document_get_node(&c->doc, p->key);
			yaml_node_t *v =
			    yaml_document_get_node(&c->doc, p->value);
			const char *ks = ax_cfg_scalar(k);

			if (ks && strcmp(ks, "start_time") == 0)
				st = ax_cfg_scalar(v);
			else if (ks && strcmp(ks, "end_time") == 0)
				en = ax_cfg_scalar(v);
			else
				return ax_cfg_errorf(c, k, path, err,
				    "unknown field \"%s\" (want start_time, "
				    "end_time)",
				    ks ? ks : "?");
		}
		if (st == NULL || en == NULL || *st == '\0' || *en == '\0')
			return ax_cfg_errorf(c, e, path, err,
			    "both start and end times must be provided");
		lo = parse_hhmm(st);
		hi = parse_hhmm(en);
		if (lo < 0 || hi < 0)
			return ax_cfg_errorf(c, e, path, err,
			    "couldn't parse timestamp %s, invalid format",
			    lo < 0 ? st : en);
		if (lo >= hi)
			return ax_cfg_errorf(c, e, path, err,
			    "start time cannot be equal or greater than end "
			    "time");
		if ((rv = ranges_push(out, lo, hi, err)) != 0)
			return rv;
	}
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Read the transitions of a TZif (version 2 or later: the 64-bit block)
 * file into the spec.  -1 when it is not one. */
static int read_tzif(const char *file, ar_time_spec_t *ts)
{
	unsigned char *b = NULL;
	size_t len = 0, off, i, cnt[6], v1;
	FILE *f = fopen(file, "rb");
	int rv = -1;

	if (f == NULL)
		return -1;
	b = malloc(1 << 20);
	if (b)
		len = fread(b, 1, 1 << 20, f);
	fclose(f);
	if (b == NULL || len < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
		goto out;
	for (i = 0; i < 6; i++)
		cnt[i] = be32(b + 20 + 4 * i);
	/* skip the v1 block: isut, isstd, leap, time, type, char counts */
	v1 = 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] +
	    cnt[0];
	if (v1 + 44 > len || memcmp(b + v1, "TZif", 4) != 0)
		goto out;
	for (i = 0; i < 6; i++)
		cnt[i] = be32(b + v1 + 20 + 4 * i);
	off = v1 + 44;
	if (cnt[4] == 0 || off + cnt[3] * 9 + cnt[4] * 6 > len)
		goto out;
	ts->tz_at = malloc((cnt[3] ? cnt[3] : 1) * sizeof(int64_t));
	ts->tz_off = malloc((cnt[3] ? cnt[3] : 1) * sizeof(int32_t));
	if (ts->tz_at == NULL || ts->tz_off == NULL)
		goto out;
	{
		const unsigned char *times = b + off;
		const unsigned char *idx = times + cnt[3] * 8;
		const unsigned char *types = idx + cnt[3];

		for (i = 0; i < cnt[3]; i++) {
			uint64_t t = (uint64_t)be32(times + 8 * i) << 32 |
			    be32(times + 8 * i + 4);
			size_t ty = idx[i];

			if (ty >= cnt[4])
				goto out;
			ts->tz_at[i] = (int64_t)t;
			ts->tz_off[i] = (int32_t)be32(types + 6 * ty);
		}
		ts->tz_n = cnt[3];
		/* before the first transition: the first standard-time type */
		ts->tz_off0 = (int32_t)be32(types);
		for (i = 0; i < cnt[4]; i++)
			if (types[6 * i + 4] == 0) {
				ts->tz_off0 = (int32_t)be32(types + 6 * i);
				break;
			}
	}
	rv = 0;
out:
	free(b);
	return rv;
}

static void tz_free(ar_time_spec_t *ts)
{
	free(ts->tz_at);
	free(ts->tz_off);
	ts->tz_at = NULL;
	ts->tz_off = NULL;
	ts->tz_n = 0;
	ts->tz_off0 = 0;
}

static int decode_location(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_time_spec_t *ts = (ar_time_spec_t *)((char *)dst -
	    offsetof(ar_time_spec_t, location));
	char **s = dst, file[512];
	const char *name;
	struct stat st;
	int rv;

	free(*s);
	*s = NULL;
	tz_free(ts);
	if ((rv = ax_cfg_get_string(c, n, path, s, err)) != 0)
		return rv;
	if (strcmp(*s, "UTC") == 0 || **s == '\0')
		return 0;
	/* Go's "Local" is the machine's zone: /etc/localtime. */
	name = strcmp(*s, "Local") == 0 ? NULL : *s;
	if (name)
		snprintf(file, sizeof(file), "/usr/share/zoneinfo/%s", name);
	else
		snprintf(file, sizeof(file), "/etc/localtime");
	if (name && (strstr(name, "..") || *name == '/'))
		return ax_cfg_errorf(
		    c, n, path, err, "unknown time zone %s", *s);
	if (stat(file, &st) != 0) {
		if (name == NULL)
			return 0; /* no local zone: UTC, as Go does */
		return ax_cfg_errorf(
		    c, n, path, err, "unknown time zone %s", *s);
	}
	if (!S_ISREG(st.st_mode) || read_tzif(file, ts) != 0) {
		tz_free(ts);
		return ax_cfg_errorf(c, n, path, err,
		    "unknown time zone %s (no TZif data in %s)", *s, file);
	}
	return 0;
}

static void location_free(void *p)
{
	ar_time_spec_t *ts =
	    (ar_time_spec_t *)((char *)p - offsetof(ar_time_spec_t, location));

	str_free(p);
	tz_free(ts);
}

static int in_ranges(const ar_ranges_t *r, int v)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (v >= r->v[i].lo && v <= r->v[i].hi)
			return 1;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : d[month - 1];
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int spec_contains(const ar_time_spec_t *ts, int64_t now_ms)
{
	int64_t sec = now_ms / 1000 - (now_ms % 1000 < 0);
	int32_t off = ts->tz_off0;
	struct tm tm;
	time_t t;
	size_t i;
	int minute, dim;

	if (ts->tz_n > 0 && sec >= ts->tz_at[0]) {
		size_t lo = 0, hi = ts->tz_n; /* last transition <= sec */

		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (ts->tz_at[mid] <= sec)
				lo = mid;
			else
				hi = mid;
		}
		off = ts->tz_off[lo];
	}
	t = (time_t)(sec + off);
	gmtime_r(&t, &tm);
	minute = tm.tm_hour * 60 + tm.tm_min;
	if (ts->times.n) {
		int in = 0;

		for (i = 0; i < ts->times.n && !in; i++)
			in = minute >= ts->times.v[i].lo &&
			    minute < ts->times.v[i].hi;
		if (!in)
			return 0;
	}
	if (ts->days_of_month.n) {
		int in = 0;

		dim = days_in_month(tm.tm_year + 1900, tm.tm_mon + 1);
		for (i = 0; i < ts->days_of_month.n && !in; i++) {
			int b = ts->days_of_month.v[i].lo;
			int e = ts->days_of_month.v[i].hi;

			b = b < 0 ? dim + b + 1 : b;
			e = e < 0 ? dim + e + 1 : e;
			if (b > dim)
				continue;
			b = clampi(b, -dim, dim);
			e = clampi(e, -dim, dim);
			in = tm.tm_mday >= b && tm.tm_mday <= e;
		}
		if (!in)
			return 0;
	}
	if (ts->months.n && !in_ranges(&ts->months, tm.tm_mon + 1))
		return 0;
	if (ts->weekdays.n && !in_ranges(&ts->weekdays, tm.tm_wday))
		return 0;
	if (ts->years.n && !in_ranges(&ts->years, tm.tm_year + 1900))
		return 0;
	return 1;
}

int ar_time_interval_contains(const ar_time_interval_t *t, int64_t now_ms)
{
	const ar_time_spec_t *specs = t->specs.items;
	size_t i;

	for (i = 0; i < t->specs.n; i++)
		if (spec_contains(&specs[i], now_ms))
			return 1;
	return 0;
}

static const ax_cfg_field_t time_spec_fields[] = {
    {.name = "times",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, times),
        .decode = decode_times,
        .free_fn = ranges_free},
    {.name = "weekdays",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, weekdays),
        .decode = decode_weekdays,
        .free_fn = ranges_free},
    {.name = "days_of_month",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, days_of_month),
        .decode = decode_doms,
        .free_fn = ranges_free},
    {.name = "months",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, months),
        .decode = decode_months,
        .free_fn = ranges_free},
    {.name = "years",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, years),
        .decode = decode_years,
        .free_fn = ranges_free},
    {.name = "location",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_time_spec_t, location),
        .decode = decode_location,
        .free_fn = location_free},
    {0},
};

static const ax_cfg_field_t time_interval_fields[] = {
    {.name = "name",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_time_interval_t, name)},
    {.name = "time_intervals",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_time_interval_t, specs),
        .fields = time_spec_fields,
        .elem_size = sizeof(ar_time_spec_t)},
    {0},
};

static int decode_time_interval(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_time_interval_t *t = dst;
	int rv;

	t->line = (int)n->start_mark.line + 1;
	t->col = (int)n->start_mark.column + 1;
	if ((rv = ax_cfg_decode(c, n, path, time_interval_fields, t, err)) != 0)
		return rv;
	if (t->name == NULL || *t->name == '\0')
		return ax_cfg_errorf(
		    c, n, path, err, "missing name in time interval");
	return 0;
}

static void time_interval_free(void *p)
{
	ax_cfg_free_fields(time_interval_fields, p);
}

/* ---- inhibit rules ---- */

static const ax_cfg_field_t inhibit_fields[] = {
    {.name = "source_match",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_inhibit_cfg_t, source_match),
        .decode = decode_match,
        .free_fn = kv_free},
    {.name = "source_match_re",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_inhibit_cfg_t, source_match_re),
        .decode = decode_match_re,
        .free_fn = kv_free},
    {.name = "source_matchers",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_inhibit_cfg_t, source_matchers_text)},
    {.name = "target_match",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_inhibit_cfg_t, target_match),
        .decode = decode_match,
        .free_fn = kv_free},
    {.name = "target_match_re",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_inhibit_cfg_t, target_match_re),
        .decode = decode_match_re,
        .free_fn = kv_free},
    {.name = "target_matchers",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_inhibit_cfg_t, target_matchers_text)},
    {.name = "equal",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_inhibit_cfg_t, equal)},
    {0},
};

static int decode_inhibit(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_inhibit_cfg_t *r = dst;
	size_t i;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, inhibit_fields, r, err)) != 0)
		return rv;
	for (i = 0; i < r->equal.n; i++)
		if (!label_name_ok(r->equal.v[i]))
			return ax_cfg_errorf(c, map_get(c, n, "equal", NULL),
			    path, err, "\"%s\" is not a valid label name",
			    r->equal.v[i]);
	if ((rv = build_matchers(c, n, path, &r->source_match,
	         &r->source_match_re, &r->source_matchers_text,
	         "source_matchers", &r->source, err)) != 0)
		return rv;
	return build_matchers(c, n, path, &r->target_match, &r->target_match_re,
	    &r->target_matchers_text, "target_matchers", &r->target, err);
}

static void inhibit_free(void *p)
{
	ar_inhibit_cfg_t *r = p;

	ax_cfg_free_fields(inhibit_fields, r);
	ax_amatchers_free(&r->source);
	ax_amatchers_free(&r->target);
}

/* ---- routes ---- */

static int decode_route(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err);
static void route_free(void *p);

static void route_init(void *p)
{
	ar_route_cfg_t *r = p;

	memset(r, 0, sizeof(*r));
	r->group_wait_ms = r->group_interval_ms = r->repeat_interval_ms = -1;
}

static const ax_cfg_field_t route_fields[] = {
    {.name = "receiver",
        .type = AX_CFG_STRING,
        .offset = offsetof(ar_route_cfg_t, receiver)},
    {.name = "group_by",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_route_cfg_t, group_by)},
    {.name = "match",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_route_cfg_t, match),
        .decode = decode_match,
        .free_fn = kv_free},
    {.name = "match_re",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_route_cfg_t, match_re),
        .decode = decode_match_re,
        .free_fn = kv_free},
    {.name = "matchers",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_route_cfg_t, matchers_text)},
    {.name = "continue",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_route_cfg_t, continue_)},
    {.name = "routes",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_route_cfg_t, routes),
        .elem_size = sizeof(ar_route_cfg_t),
        .elem_init = route_init,
        .decode = decode_route,
        .free_fn = route_free},
    {.name = "group_wait",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ar_route_cfg_t, group_wait_ms)},
    {.name = "group_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ar_route_cfg_t, group_interval_ms)},
    {.name = "repeat_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ar_route_cfg_t, repeat_interval_ms)},
    {.name = "mute_time_intervals",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_route_cfg_t, mute_time_intervals)},
    {.name = "active_time_intervals",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_route_cfg_t, active_time_intervals)},
    {0},
};

static int decode_route(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_route_cfg_t *r = dst;
	yaml_node_t *k;
	size_t i, j;
	int rv;

	r->line = (int)n->start_mark.line + 1;
	r->col = (int)n->start_mark.column + 1;
	if ((r->path = strdup(path)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = ax_cfg_decode(c, n, path, route_fields, r, err)) != 0)
		return rv;
	for (i = 0; i < r->group_by.n; i++) {
		const char *l = r->group_by.v[i];
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.group_by", path);
		if (strcmp(l, "...") == 0) {
			r->group_by_all = 1;
			continue;
		}
		if (!label_name_ok(l))
			return ax_cfg_errorf(c, map_get(c, n, "group_by", NULL),
			    sub, err,
			    "invalid label name \"%s\" in group_by list", l);
		for (j = 0; j < i; j++)
			if (strcmp(r->group_by.v[j], l) == 0)
				return ax_cfg_errorf(c,
				    map_get(c, n, "group_by", NULL), sub, err,
				    "duplicated label \"%s\" in group_by", l);
	}
	if (r->group_by_all && r->group_by.n > 1)
		return ax_cfg_errorf(c, map_get(c, n, "group_by", NULL), path,
		    err,
		    "cannot have wildcard group_by (`...`) and other labels "
		    "at the same time");
	if (r->group_interval_ms == 0) {
		map_get(c, n, "group_interval", &k);
		return ax_cfg_errorf(
		    c, k, path, err, "group_interval cannot be zero");
	}
	if (r->repeat_interval_ms == 0) {
		map_get(c, n, "repeat_interval", &k);
		return ax_cfg_errorf(
		    c, k, path, err, "repeat_interval cannot be zero");
	}
	return build_matchers(c, n, path, &r->match, &r->match_re,
	    &r->matchers_text, "matchers", &r->matchers, err);
}

static void route_free(void *p)
{
	ar_route_cfg_t *r = p;

	ax_cfg_free_fields(route_fields, r);
	ax_amatchers_free(&r->matchers);
	free(r->path);
	r->path = NULL;
}

static int decode_root_route(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_route_cfg_t *r = dst;
	int rv;

	route_free(r);
	route_init(r);
	if ((rv = decode_route(c, n, path, r, err)) != 0)
		return rv;
	if (r->receiver == NULL || *r->receiver == '\0')
		return ax_cfg_errorf(c, n, path, err,
		    "root route must specify a default receiver");
	if (r->matchers.n > 0)
		return ax_cfg_errorf(
		    c, n, path, err, "root route must not have any matchers");
	if (r->mute_time_intervals.n > 0)
		return ax_cfg_errorf(c, n, path, err,
		    "root route must not have any mute time intervals");
	if (r->active_time_intervals.n > 0)
		return ax_cfg_errorf(c, n, path, err,
		    "root route must not have any active time intervals");
	return 0;
}

/* ---- axon_alert_router ---- */

static const ax_cfg_field_t topo_fields[] = {
    {.name = "enabled",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ar_topo_cfg_t, enabled)},
    {.name = "service_label",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_NONEMPTY,
        .offset = offsetof(ar_topo_cfg_t, service_label)},
    {.name = "cause_matchers",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_topo_cfg_t, cause_text)},
    {.name = "symptom_matchers",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_topo_cfg_t, symptom_text)},
    {.name = "hold_down",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ar_topo_cfg_t, hold_down_ms)},
    {0},
};

static void topo_free(void *p)
{
	ar_topo_cfg_t *t = p;

	ax_cfg_free_fields(topo_fields, t);
	ax_amatchers_free(&t->cause);
	ax_amatchers_free(&t->symptom);
}

static int decode_topo(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_topo_cfg_t *t = dst;
	static const ar_kv_t none = {0};
	int rv;

	topo_free(t);
	memset(t, 0, sizeof(*t));
	t->enabled = 1;
	t->hold_down_ms = 5 * 60 * 1000;
	if ((rv = ax_cfg_decode(c, n, path, topo_fields, t, err)) != 0)
		return rv;
	if (t->service_label == NULL &&
	    (t->service_label = strdup("service")) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (!label_name_ok(t->service_label))
		return ax_cfg_errorf(c, map_get(c, n, "service_label", NULL),
		    path, err, "invalid label name \"%s\"", t->service_label);
	if (t->cause_text.n == 0 &&
	    (rv = ax_amatchers_add(
	         &t->cause, AX_AM_EQ, "severity", "critical", err)) != 0)
		return rv;
	if ((rv = build_matchers(c, n, path, &none, &none, &t->cause_text,
	         "cause_matchers", &t->cause, err)) != 0)
		return rv;
	return build_matchers(c, n, path, &none, &none, &t->symptom_text,
	    "symptom_matchers", &t->symptom, err);
}

static const ax_cfg_field_t axon_fields[] = {
    {.name = "ingest_listen",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_axon_cfg_t, ingest_listen),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "discoverer",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_axon_cfg_t, discoverer),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "discoverer_publish",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_axon_cfg_t, discoverer_publish),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "topology_inhibition",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_axon_cfg_t, topology),
        .decode = decode_topo,
        .free_fn = topo_free},
    {0},
};

static int decode_axon(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ar_axon_cfg_t *a = dst;
	int rv;

	if ((rv = ax_cfg_decode(c, n, path, axon_fields, a, err)) != 0)
		return rv;
	if (a->topology.enabled && (!a->discoverer || !a->discoverer_publish))
		return ax_cfg_errorf(c, n, path, err,
		    "topology_inhibition needs discoverer and "
		    "discoverer_publish (the graph comes from "
		    "axon-discoverer)");
	return 0;
}

static void axon_free(void *p)
{
	ax_cfg_free_fields(axon_fields, p);
}

/* ---- the file ---- */

static const ax_cfg_field_t own[] = {
    {.name = "global",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_config_t, global),
        .decode = decode_global,
        .free_fn = global_free},
    {.name = "route",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_config_t, route),
        .decode = decode_root_route,
        .free_fn = route_free},
    {.name = "receivers",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_config_t, receivers),
        .elem_size = sizeof(ar_receiver_t),
        .decode = decode_receiver,
        .free_fn = receiver_free},
    {.name = "inhibit_rules",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_config_t, inhibit_rules),
        .elem_size = sizeof(ar_inhibit_cfg_t),
        .decode = decode_inhibit,
        .free_fn = inhibit_free},
    {.name = "templates",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(ar_config_t, templates)},
    {.name = "time_intervals",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_config_t, time_intervals),
        .elem_size = sizeof(ar_time_interval_t),
        .decode = decode_time_interval,
        .free_fn = time_interval_free},
    {.name = "mute_time_intervals",
        .type = AX_CFG_LIST,
        .offset = offsetof(ar_config_t, mute_time_intervals),
        .elem_size = sizeof(ar_time_interval_t),
        .decode = decode_time_interval,
        .free_fn = time_interval_free},
    {.name = "axon_alert_router",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ar_config_t, axon),
        .decode = decode_axon,
        .free_fn = axon_free},
    {0},
};

static int errat(const char *file, int line, int col, const char *path,
    ax_err_t *err, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return ax_err_set(
	    err, AX_ECONFIG, "%s:%d:%d: %s: %s", file, line, col, path, msg);
}

const ar_receiver_t *ar_config_receiver(const ar_config_t *c, const char *name)
{
	const ar_receiver_t *r = c->receivers.items;
	size_t i;

	for (i = 0; i < c->receivers.n; i++)
		if (strcmp(r[i].name, name) == 0)
			return &r[i];
	return NULL;
}

const ar_time_interval_t *ar_config_time_interval(
    const ar_config_t *c, const char *name)
{
	const ax_cfg_list_t *lists[2] = {
	    &c->time_intervals, &c->mute_time_intervals};
	size_t i, l;

	for (l = 0; l < 2; l++) {
		const ar_time_interval_t *t = lists[l]->items;

		for (i = 0; i < lists[l]->n; i++)
			if (strcmp(t[i].name, name) == 0)
				return &t[i];
	}
	return NULL;
}

static int check_route_refs(
    const ar_config_t *c, const ar_route_cfg_t *r, ax_err_t *err)
{
	const ar_route_cfg_t *kids = r->routes.items;
	const ax_cfg_strings_t *ti[2] = {
	    &r->mute_time_intervals, &r->active_time_intervals};
	size_t i, l;
	int rv;

	if (r->receiver && *r->receiver &&
	    ar_config_receiver(c, r->receiver) == NULL)
		return errat(c->file, r->line, r->col, r->path, err,
		    "undefined receiver \"%s\" used in route", r->receiver);
	for (l = 0; l < 2; l++)
		for (i = 0; i < ti[l]->n; i++)
			if (ar_config_time_interval(c, ti[l]->v[i]) == NULL)
				return errat(c->file, r->line, r->col, r->path,
				    err,
				    "undefined time interval \"%s\" used in "
				    "route",
				    ti[l]->v[i]);
	for (i = 0; i < r->routes.n; i++)
		if ((rv = check_route_refs(c, &kids[i], err)) != 0)
			return rv;
	return 0;
}

/* Whole-file checks: unique names, global SMTP/Slack settings the
 * receivers need, routes naming what exists. */
static int finish(ar_config_t *c, ax_err_t *err)
{
	const ar_receiver_t *r = c->receivers.items;
	const ax_cfg_list_t *lists[2] = {
	    &c->time_intervals, &c->mute_time_intervals};
	size_t i, j, l, l2;

	for (i = 0; i < c->receivers.n; i++) {
		const ar_email_cfg_t *em = r[i].email.items;
		const ar_slack_cfg_t *sl = r[i].slack.items;

		for (j = 0; j < i; j++)
			if (strcmp(r[i].name, r[j].name) == 0)
				return errat(c->file, r[i].line, r[i].col,
				    "receivers", err,
				    "notification config name \"%s\" is not "
				    "unique",
				    r[i].name);
		for (j = 0; j < r[i].email.n; j++) {
			if ((em[j].smarthost == NULL || !*em[j].smarthost) &&
			    (c->global.smtp_smarthost == NULL ||
			        !*c->global.smtp_smarthost))
				return errat(c->file, r[i].line, r[i].col,
				    "receivers", err, "%s",
				    "no global SMTP smarthost set");
			if ((em[j].from == NULL || !*em[j].from) &&
			    (c->global.smtp_from == NULL ||
			        !*c->global.smtp_from))
				return errat(c->file, r[i].line, r[i].col,
				    "receivers", err, "%s",
				    "no global mail from address set");
		}
		for (j = 0; j < r[i].slack.n; j++)
			if (!sl[j].api_url && !sl[j].api_url_file &&
			    !c->global.slack_api_url &&
			    !c->global.slack_api_url_file)
				return errat(c->file, r[i].line, r[i].col,
				    "receivers", err, "%s",
				    "no global Slack API URL set either inline "
				    "or in a file");
	}
	for (l = 0; l < 2; l++) {
		const ar_time_interval_t *t = lists[l]->items;

		for (i = 0; i < lists[l]->n; i++)
			for (l2 = 0; l2 <= l; l2++) {
				const ar_time_interval_t *u = lists[l2]->items;
				size_t end = l2 == l ? i : lists[l2]->n;

				for (j = 0; j < end; j++)
					if (strcmp(t[i].name, u[j].name) == 0)
						return errat(c->file, t[i].line,
						    t[i].col,
						    l ? "mute_time_intervals"
						      : "time_intervals",
						    err,
						    "time interval \"%s\" is "
						    "not unique",
						    t[i].name);
			}
	}
	if (!c->has_route)
		return ax_err_set(
		    err, AX_ECONFIG, "%s: no routes provided", c->file);
	return check_route_refs(c, &c->route, err);
}

/* Keep the text the API's status shows (read again: the YAML loader
 * does not hand it out). */
static int read_original(ar_config_t *c, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	char tmp[65536];
	size_t n;
	FILE *f = fopen(c->file, "rb");

	if (f == NULL)
		return ax_err_set(err, AX_EIO, "%s: cannot open", c->file);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(&b, tmp, n);
	fclose(f);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	c->original = ax_buf_take(&b, NULL);
	if (c->original == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	return 0;
}

int ar_config_load(
    const char *path, int quiet, ar_config_t **out, ax_err_t *err)
{
	ar_config_t *c = calloc(1, sizeof(*c));
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	global_init(&c->global);
	route_init(&c->route);
	if ((c->file = strdup(path)) == NULL || c->global.smtp_hello == NULL ||
	    c->global.pagerduty_url == NULL) {
		ar_config_free(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	rv = ax_promyml_load(path, AX_YML_ALERTMANAGER, "alert-router", own, c,
	    NULL, quiet, err);
	if (rv == 0) {
		c->has_route = c->route.path != NULL;
		rv = finish(c, err);
	}
	if (rv == 0)
		rv = read_original(c, err);
	if (rv != 0) {
		ar_config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void ar_config_free(ar_config_t *c)
{
	if (c == NULL)
		return;
	ax_cfg_free_fields(own, c);
	/* Defaults that were never replaced by decoding. */
	global_free(&c->global);
	route_free(&c->route);
	free(c->original);
	free(c->file);
	free(c);
}
