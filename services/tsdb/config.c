/*
 * config: the prometheus.yml sections axon-tsdb owns (see tsdb.h and
 * docs/configuration.md): storage.tsdb and axon_tsdb; `global` is decoded
 * for every daemon; remote_write (forwarding, rwout.c) is decoded with
 * libcommon's ax_rw_fields.  remote_read is refused unless empty.
 */
#include "tsdb/tsdb.h"
#include "ax_promyml.h"
#include "ax_rw.h"

#include <stdlib.h>
#include <string.h>

static const ax_cfg_field_t storage_tsdb_fields[] = {
    {.name = "out_of_order_time_window",
        .type = AX_CFG_DURATION,
        .offset =
            offsetof(tsdb_cfg_t, storage.tsdb.out_of_order_time_window_ms) -
            offsetof(tsdb_cfg_t, storage.tsdb)},
    {0},
};

static const ax_cfg_field_t storage_ex_fields[] = {
    {.name = "max_exemplars",
        .type = AX_CFG_INT,
        .offset = offsetof(tsdb_cfg_t, storage.exemplars.max_exemplars) -
            offsetof(tsdb_cfg_t, storage.exemplars)},
    {0},
};

static const ax_cfg_field_t storage_fields[] = {
    {.name = "tsdb",
        .type = AX_CFG_SECTION,
        .offset =
            offsetof(tsdb_cfg_t, storage.tsdb) - offsetof(tsdb_cfg_t, storage),
        .fields = storage_tsdb_fields},
    {.name = "exemplars",
        .type = AX_CFG_SECTION,
        .offset = offsetof(tsdb_cfg_t, storage.exemplars) -
            offsetof(tsdb_cfg_t, storage),
        .fields = storage_ex_fields},
    {0},
};


static int check_url(
    ax_cfg_t *c, yaml_node_t *n, const char *path, const char *u, ax_err_t *err)
{
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return ax_cfg_errorf(
		    c, n, path, err, "\"%s\" is not an http(s) URL", u);
	return 0;
}

static int decode_url(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	char *s;
	int rv;

	if ((rv = ax_cfg_get_string(c, n, path, &s, err)) != 0)
		return rv;
	if ((rv = check_url(c, n, path, s, err)) != 0) {
		free(s);
		return rv;
	}
	while (strlen(s) > 0 && s[strlen(s) - 1] == '/')
		s[strlen(s) - 1] = '\0';
	free(*(char **)dst);
	*(char **)dst = s;
	return 0;
}

static int decode_urls(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ax_cfg_strings_t *out = dst;
	yaml_node_item_t *it;
	size_t cnt, i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(
		    c, n, path, err, "want a list of http(s) URLs");
	cnt =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	out->v = calloc(cnt ? cnt : 1, sizeof(char *));
	if (out->v == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	out->n = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		char sub[256];
		int rv;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((rv = decode_url(c, yaml_document_get_node(&c->doc, *it),
		         sub, &out->v[i], err)) != 0)
			return rv;
		out->n = i + 1;
	}
	return 0;
}

static void free_urls(void *dst)
{
	ax_cfg_strings_t *s = dst;
	size_t i;

	for (i = 0; s->v && i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static const ax_cfg_field_t axon_fields[] = {
    {.name = "scrapers",
        .type = AX_CFG_CUSTOM,
        .offset =
            offsetof(tsdb_cfg_t, axon.scrapers) - offsetof(tsdb_cfg_t, axon),
        .decode = decode_urls,
        .free_fn = free_urls},
    {.name = "ruler",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(tsdb_cfg_t, axon.ruler) - offsetof(tsdb_cfg_t, axon),
        .decode = decode_url,
        .free_fn = ax_cfg_free_str},
    {.name = "ingest_listen",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(tsdb_cfg_t, axon.ingest_listen) -
            offsetof(tsdb_cfg_t, axon),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {.name = "query_listen",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(tsdb_cfg_t, axon.query_listen) -
            offsetof(tsdb_cfg_t, axon),
        .decode = ax_cfg_decode_nng_addr,
        .free_fn = ax_cfg_free_str},
    {0},
};

static const ax_cfg_field_t own[] = {
    {.name = "storage",
        .type = AX_CFG_SECTION,
        .offset = offsetof(tsdb_cfg_t, storage),
        .fields = storage_fields},
    {.name = "axon_tsdb",
        .type = AX_CFG_SECTION,
        .offset = offsetof(tsdb_cfg_t, axon),
        .fields = axon_fields},
    {.name = "remote_write",
        .type = AX_CFG_LIST,
        .offset = offsetof(tsdb_cfg_t, remote_write),
        .fields = ax_rw_fields,
        .elem_size = sizeof(ax_rw_config_t),
        .elem_init = ax_rw_config_init},
    {.name = "remote_read",
        .type = AX_CFG_CUSTOM,
        .decode = ax_cfg_refuse_nonempty},
    {0},
};

int tsdb_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	tsdb_cfg_t *c = calloc(1, sizeof(*c));
	int rv;

	(void)d;
	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_prom_global_init(&c->global);
	c->storage.exemplars.max_exemplars = 100000;
	rv = ax_promyml_load(
	    path, AX_YML_PROMETHEUS, "tsdb", own, c, &c->global, 0, err);
	if (rv == 0) {
		size_t i;

		for (i = 0; rv == 0 && i < c->remote_write.n; i++) {
			char where[64];

			snprintf(where, sizeof(where), "remote_write[%zu]", i);
			rv = ax_rw_config_check(
			    &((ax_rw_config_t *)c->remote_write.items)[i], path,
			    where, err);
		}
	}
	if (rv == 0 && c->storage.tsdb.out_of_order_time_window_ms != 0)
		rv = ax_err_set(err, AX_ECONFIG,
		    "%s: storage.tsdb.out_of_order_time_window: an "
		    "out-of-order window is not supported by this version of "
		    "axon-tsdb (use 0s)",
		    path);
	if (rv != 0) {
		tsdb_config_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void tsdb_config_free(void *p)
{
	tsdb_cfg_t *c = p;

	if (c == NULL)
		return;
	ax_cfg_free_fields(ax_prom_global_fields, &c->global);
	ax_cfg_free_fields(own, c);
	free(c);
}
