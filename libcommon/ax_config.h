/*
 * ax_config: YAML configuration (libyaml) decoded into typed structs.
 *
 * A file is loaded into a libyaml document (anchors and aliases
 * resolved), checked for duplicate mapping keys (libyaml does not), then
 * decoded by field tables: each ax_cfg_field_t names a key, its type and
 * where it goes in the destination struct.  Keys missing from a table are
 * errors ("field x not found in type y", as Prometheus says), so typos
 * never pass silently.  Every error reads
 *
 *     file:line:col: path.to.field: what is wrong
 *
 * with 1-based line and column.  Sections owned by another Axon daemon
 * are AX_CFG_SKIP fields: skipped with one info log line, so one
 * prometheus.yml can feed several daemons.
 *
 * Ownership: decoded strings, lists, label sets and regexes belong to the
 * destination struct and are released by ax_cfg_free_fields().
 */
#ifndef AX_CONFIG_H
#define AX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "ax_err.h"
#include "ax_labels.h"
#include "ax_regex.h"

typedef struct ax_cfg {
	char *file; /* name used in messages */
	yaml_document_t doc;
	int loaded;
	int quiet;  /* no info logs for skipped sections (tests, CLI) */
	char *text; /* the source text (for ax_cfg_node_text) */
	size_t text_len;
} ax_cfg_t;

typedef enum {
	AX_CFG_STRING,   /* char * (malloc'd) */
	AX_CFG_BOOL,     /* int */
	AX_CFG_INT,      /* int64_t */
	AX_CFG_FLOAT,    /* double */
	AX_CFG_DURATION, /* int64_t milliseconds */
	AX_CFG_SIZE,     /* int64_t bytes */
	AX_CFG_REGEX,    /* ax_regex_t * */
	AX_CFG_LABELS,   /* ax_labels_t * from a string->string map */
	AX_CFG_STRINGS,  /* ax_cfg_strings_t */
	AX_CFG_SECTION,  /* nested struct at offset, decoded by .fields */
	AX_CFG_LIST,     /* ax_cfg_list_t of elem_size structs by .fields */
	AX_CFG_CUSTOM,   /* .decode(cfg, node, path, dst, err) */
	AX_CFG_SKIP,     /* owned by another daemon: logged and skipped */
	AX_CFG_IGNORE,   /* accepted and ignored silently */
} ax_cfg_type_t;

typedef struct ax_cfg_strings {
	char **v;
	size_t n;
} ax_cfg_strings_t;

/* Release a string list (it is left empty); copy one (OUT: dst, owned by
 * the caller; on AX_ENOMEM dst holds what was copied so far, to be
 * released with ax_cfg_strings_free). */
void ax_cfg_strings_free(ax_cfg_strings_t *s);
int ax_cfg_strings_copy(ax_cfg_strings_t *dst, const ax_cfg_strings_t *src);

typedef struct ax_cfg_list {
	void *items; /* n structs of elem_size bytes */
	size_t n;
} ax_cfg_list_t;

struct ax_cfg_field;

typedef int (*ax_cfg_decode_fn)(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err);
typedef void (*ax_cfg_free_fn)(void *dst);
typedef void (*ax_cfg_init_fn)(void *dst);

typedef struct ax_cfg_field {
	const char *name;
	ax_cfg_type_t type;
	size_t offset;
	const struct ax_cfg_field *fields; /* SECTION, LIST; NULL-name ended */
	size_t elem_size;                  /* LIST */
	ax_cfg_init_fn elem_init;          /* LIST: defaults for an element */
	ax_cfg_decode_fn decode;           /* CUSTOM */
	ax_cfg_free_fn free_fn;            /* CUSTOM */
	const char *owner;                 /* SKIP: which daemon owns it */
	unsigned flags;
} ax_cfg_field_t;

#define AX_CFG_REQUIRED 0x1 /* missing key is an error */
#define AX_CFG_NONEMPTY 0x2 /* strings: "" is an error */
#define AX_CFG_POSITIVE 0x4 /* numbers/durations: must be > 0 */

/* Load and check a file or an in-memory text.  On error the document is
 * released and err holds file:line:col. */
int ax_cfg_load_file(ax_cfg_t *c, const char *path, ax_err_t *err);
int ax_cfg_load_string(
    ax_cfg_t *c, const char *name, const char *text, size_t len, ax_err_t *err);
void ax_cfg_fini(ax_cfg_t *c);

/* The root node, or NULL for an empty document. */
yaml_node_t *ax_cfg_root(ax_cfg_t *c);

/* Decode a mapping node with fields into base.  An empty document or null
 * node leaves base as it is (defaults). */
int ax_cfg_decode(ax_cfg_t *c, yaml_node_t *node, const char *path,
    const ax_cfg_field_t *fields, void *base, ax_err_t *err);
/* Release what decoding stored in base (strings, lists, ...). */
void ax_cfg_free_fields(const ax_cfg_field_t *fields, void *base);

/* Format "file:line:col: path: msg" into err for node; returns AX_ECONFIG. */
int ax_cfg_errorf(ax_cfg_t *c, yaml_node_t *node, const char *path,
    ax_err_t *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Scalar text of node, or NULL if it is not a scalar.  Borrowed. */
const char *ax_cfg_scalar(yaml_node_t *node);
/* Is node a YAML null (~, null, empty plain scalar)? */
int ax_cfg_is_null(yaml_node_t *node);
/* The source text of a node, as a YAML document of its own (the first
 * line indented as in the file, so block collections parse again).  OUT:
 * *out, malloc'd, owned by the caller.  AX_ENOMEM, or AX_EINVAL when the
 * text is not available. */
int ax_cfg_node_text(ax_cfg_t *c, yaml_node_t *node, char **out);

/* Scalar helpers usable from custom decoders. */
int ax_cfg_get_string(
    ax_cfg_t *c, yaml_node_t *n, const char *path, char **out, ax_err_t *err);
int ax_cfg_get_duration(
    ax_cfg_t *c, yaml_node_t *n, const char *path, int64_t *out, ax_err_t *err);

/*
 * The `global` section of prometheus.yml, shared by every daemon that reads
 * one: scrape_interval (1m), scrape_timeout (10s), evaluation_interval (1m),
 * query_log_file, external_labels.
 */
typedef struct ax_prom_global {
	int64_t scrape_interval_ms;
	int64_t scrape_timeout_ms;
	int64_t evaluation_interval_ms;
	char *query_log_file;
	ax_labels_t *external_labels;
} ax_prom_global_t;

extern const ax_cfg_field_t ax_prom_global_fields[];
void ax_prom_global_init(ax_prom_global_t *g);
/* Defaults that depend on other fields (an unset scrape_timeout is 10s,
 * or scrape_interval when shorter, as Prometheus sets it) and cross-field
 * checks (scrape_timeout <= scrape_interval).  c may be NULL when no
 * global section was read. */
int ax_prom_global_check(ax_cfg_t *c, ax_prom_global_t *g, ax_err_t *err);

/* A custom decoder for a char * field holding an nng address (checked
 * with ax_cfg_check_nng_addr), and the matching free_fn. */
int ax_cfg_decode_nng_addr(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err);
void ax_cfg_free_str(void *dst);

/* Validate an nng address (tcp://host:port, ipc:///path, inproc://name). */
int ax_cfg_check_nng_addr(const char *addr, ax_err_t *err);

#endif
