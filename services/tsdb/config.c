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

static int decode_addr(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	char *s;
	ax_err_t e;
	int rv;

	if ((rv = ax_cfg_get_string(c, n, path, &s, err)) != 0)
		return rv;
	if (ax_cfg_check_nng_addr(s, &e) != 0) {
		free(s);
		return ax_cfg_errorf(c, n, path, err, "%s", e.msg);
	}
	free(*(char **)dst);
	*(char **)dst = s;
	return 0;
}

static void free_str(void *dst)
{
	free(*(char **)dst);
	*(char **)dst = NULL;
}

static const ax_cfg_field_t axon_fields[] = {
    {.name = "ingest_listen",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(tsdb_cfg_t, axon.ingest_listen) -
            offsetof(tsdb_cfg_t, axon),
        .decode = decode_addr,
        .free_fn = free_str},
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
