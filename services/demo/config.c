/*
 * demo/config: decoding and checking axon-demo's configuration file
 * (layout in config.h).
 */
#include "demo/config.h"

#include <stdlib.h>
#include <string.h>

static void svc_init(void *p)
{
	demo_svc_cfg_t *s = p;

	memset(s, 0, sizeof(*s));
	s->rps = 50;
	s->latency_ms = 20;
	s->error_ratio = 0.001;
}

static const ax_cfg_field_t svc_fields[] = {
    {.name = "name",
        .type = AX_CFG_STRING,
        .offset = offsetof(demo_svc_cfg_t, name),
        .flags = AX_CFG_REQUIRED | AX_CFG_NONEMPTY},
    {.name = "rps",
        .type = AX_CFG_FLOAT,
        .offset = offsetof(demo_svc_cfg_t, rps),
        .flags = AX_CFG_POSITIVE},
    {.name = "latency",
        .type = AX_CFG_DURATION,
        .offset = offsetof(demo_svc_cfg_t, latency_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "error_ratio",
        .type = AX_CFG_FLOAT,
        .offset = offsetof(demo_svc_cfg_t, error_ratio)},
    {.name = "depends_on",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(demo_svc_cfg_t, depends_on)},
    {.name = NULL},
};

static const ax_cfg_field_t pager_fields[] = {
    {.name = "listen",
        .type = AX_CFG_STRING,
        .offset = offsetof(demo_pager_cfg_t, listen)},
    {.name = "file",
        .type = AX_CFG_STRING,
        .offset = offsetof(demo_pager_cfg_t, file),
        .flags = AX_CFG_NONEMPTY},
    {.name = NULL},
};

static const ax_cfg_field_t fields[] = {
    {.name = "discoverer_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(demo_cfg_t, discoverer_url),
        .flags = AX_CFG_NONEMPTY},
    {.name = "listen_host",
        .type = AX_CFG_STRING,
        .offset = offsetof(demo_cfg_t, listen_host),
        .flags = AX_CFG_NONEMPTY},
    {.name = "register_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(demo_cfg_t, register_interval_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "check_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(demo_cfg_t, check_interval_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "pager",
        .type = AX_CFG_SECTION,
        .offset = offsetof(demo_cfg_t, pager),
        .fields = pager_fields},
    {.name = "services",
        .type = AX_CFG_LIST,
        .offset = offsetof(demo_cfg_t, services),
        .fields = svc_fields,
        .elem_size = sizeof(demo_svc_cfg_t),
        .elem_init = svc_init,
        .flags = AX_CFG_REQUIRED},
    {.name = NULL},
};

long demo_config_find(const demo_cfg_t *c, const char *name)
{
	const demo_svc_cfg_t *s = c->services.items;
	size_t i;

	for (i = 0; i < c->services.n; i++)
		if (strcmp(s[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int valid_name(const char *n)
{
	size_t i;

	if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= '0' && n[0] <= '9')))
		return 0;
	for (i = 1; n[i]; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		        (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
			return 0;
	return i <= 64;
}

static int dup_default(char **p, const char *def, ax_err_t *err)
{
	if (*p)
		return 0;
	if ((*p = strdup(def)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	return 0;
}

/* What the field tables cannot say: names, references, ranges. */
static int check(demo_cfg_t *c, const char *path, ax_err_t *err)
{
	const demo_svc_cfg_t *s = c->services.items;
	size_t i, j;

	if (c->services.n == 0 || c->services.n > DEMO_MAX_SERVICES)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: services: %zu services; 1 to %d are allowed", path,
		    c->services.n, DEMO_MAX_SERVICES);
	for (i = 0; i < c->services.n; i++) {
		if (!valid_name(s[i].name))
			return ax_err_set(err, AX_ECONFIG,
			    "%s: services[%zu].name: \"%s\" is not a service "
			    "name ([a-z0-9][a-z0-9-]*, at most 64)",
			    path, i, s[i].name);
		if (demo_config_find(c, s[i].name) != (long)i)
			return ax_err_set(err, AX_ECONFIG,
			    "%s: services[%zu].name: \"%s\" is listed twice",
			    path, i, s[i].name);
		if (!(s[i].error_ratio >= 0 && s[i].error_ratio <= 1))
			return ax_err_set(err, AX_ECONFIG,
			    "%s: services[%zu].error_ratio: %g is not in "
			    "[0, 1]",
			    path, i, s[i].error_ratio);
		for (j = 0; j < s[i].depends_on.n; j++) {
			const char *dn = s[i].depends_on.v[j];

			if (demo_config_find(c, dn) < 0)
				return ax_err_set(err, AX_ECONFIG,
				    "%s: services[%zu].depends_on[%zu]: no "
				    "service \"%s\" in the fleet",
				    path, i, j, dn);
			if (strcmp(dn, s[i].name) == 0)
				return ax_err_set(err, AX_ECONFIG,
				    "%s: services[%zu].depends_on[%zu]: \"%s\" "
				    "depends on itself",
				    path, i, j, dn);
		}
	}
	if (dup_default(&c->discoverer_url, "http://127.0.0.1:9092", err) ||
	    dup_default(&c->listen_host, "127.0.0.1", err) ||
	    dup_default(&c->pager.listen, "127.0.0.1:9099", err) ||
	    dup_default(&c->pager.file, "data/pages.jsonl", err))
		return err->code;
	return 0;
}

int demo_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	ax_cfg_t cfg = {0};
	demo_cfg_t *c = calloc(1, sizeof(*c));
	int rv;

	(void)d;
	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	c->register_interval_ms = 30000;
	c->check_interval_ms = 10000;
	rv = ax_cfg_load_file(&cfg, path, err);
	if (rv == 0) {
		rv = ax_cfg_decode(&cfg, ax_cfg_root(&cfg), "", fields, c, err);
		ax_cfg_fini(&cfg);
	}
	if (rv == 0)
		rv = check(c, path, err);
	if (rv != 0) {
		demo_config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void demo_config_free(void *p)
{
	demo_cfg_t *c = p;

	if (c == NULL)
		return;
	ax_cfg_free_fields(fields, c);
	free(c);
}
