/*
 * ax_daemon: the skeleton every Axon daemon runs in.
 *
 * It owns what all daemons share: flags (--config.file,
 * --web.listen-address, --log.level, --help, --version and Prometheus'
 * names wherever a flag exists there), logging setup, the metrics
 * registry with process_* and build info, the HTTP server with /metrics,
 * /-/healthy, /-/ready, /-/reload, /-/quit and /api/v1/status/{buildinfo,
 * flags}, and the signal loop:
 *   SIGTERM, SIGINT  drain (spec->stop) and exit 0;
 *   SIGHUP           re-read the config, as POST /-/reload does: an invalid
 *                    config is rejected with the error logged, the running
 *                    config stays, and axon_config_last_reload_successful
 *                    becomes 0.
 * A daemon supplies an ax_daemon_spec_t and calls ax_daemon_main().
 *
 * Threads: signals are blocked in every thread and taken synchronously by
 * the main thread.  Reloads are serialised by a mutex; spec->reload runs on
 * the main thread (SIGHUP) or an HTTP worker (/-/reload).
 */
#ifndef AX_DAEMON_H
#define AX_DAEMON_H

#include <stdint.h>

#include "ax_err.h"
#include "ax_http.h"
#include "ax_metrics.h"

typedef enum {
	AX_FLAG_STRING,
	AX_FLAG_BOOL,
	AX_FLAG_DURATION,
	AX_FLAG_INT,
	AX_FLAG_SIZE,
	AX_FLAG_STRINGS, /* repeatable: every value given is kept */
} ax_flag_type_t;

typedef struct ax_flag {
	const char *name; /* without leading dashes, e.g. "storage.tsdb.path" */
	ax_flag_type_t type;
	const char *def; /* default value as text, or NULL for none */
	const char *help;
} ax_flag_t;

typedef struct ax_daemon ax_daemon_t;

typedef struct ax_daemon_spec {
	const char *name;           /* "axon-tsdb" */
	const char *component;      /* "tsdb": log component, metric label */
	const char *description;    /* one line for --help */
	const char *default_config; /* default --config.file */
	const char *default_listen; /* default --web.listen-address */
	const ax_flag_t
	    *flags; /* daemon flags, NULL-name terminated, or NULL */
	/*
	 * Parse and validate a config file without side effects.  OUT: *cfg,
	 * owned by the daemon skeleton, released with free_config.  Errors
	 * read "file:line:col: field: why".
	 */
	int (*load_config)(
	    ax_daemon_t *d, const char *path, void **cfg, ax_err_t *err);
	void (*free_config)(void *cfg);
	/* Start with the first config: add HTTP routes, open sockets, start
	 * threads.  Runs before the HTTP server starts serving. */
	int (*start)(ax_daemon_t *d, void *cfg, ax_err_t *err);
	/* Apply a new, already validated config.  Return non-zero to refuse it
	 * (the old one stays in force). */
	int (*reload)(ax_daemon_t *d, void *new_cfg, ax_err_t *err);
	/* Drain and stop everything start() began.  Must return promptly. */
	void (*stop)(ax_daemon_t *d);
	/* 1 when ready to serve (default: ready once started). */
	int (*ready)(ax_daemon_t *d);
	/* HTTP server shape: one thread per connection (for long polls such
	 * as Consul's blocking queries) instead of a pool; the status of a
	 * request body over --web.max-request-bytes (0: 413). */
	int http_thread_per_connection;
	int http_too_big_status;
} ax_daemon_spec_t;

/* Run the daemon; returns the process exit code. */
int ax_daemon_main(const ax_daemon_spec_t *spec, int argc, char **argv);

/* Accessors for use inside callbacks. */
ax_metrics_t *ax_daemon_metrics(ax_daemon_t *d);
ax_http_server_t *ax_daemon_http(ax_daemon_t *d);
const ax_daemon_spec_t *ax_daemon_spec(ax_daemon_t *d);
/* The config in force (borrowed; valid until the next reload). */
void *ax_daemon_config(ax_daemon_t *d);
/* Flag values: as given, or the default.  Borrowed strings. */
const char *ax_daemon_flag(ax_daemon_t *d, const char *name);
int ax_daemon_flag_bool(ax_daemon_t *d, const char *name);
int64_t ax_daemon_flag_int(ax_daemon_t *d, const char *name); /* ms/bytes/int */
/* Every value of a repeatable flag in the order given (borrowed), at most
 * max of them into out; returns how many were given. */
size_t ax_daemon_flag_list(
    ax_daemon_t *d, const char *name, const char **out, size_t max);
/* The URL the daemon is reached at from outside: --web.external-url
 * without a trailing slash, else http://<hostname>:<port of
 * --web.listen-address>, as Prometheus and Alertmanager default it.
 * malloc'd (caller frees); NULL when out of memory. */
char *ax_daemon_external_url(ax_daemon_t *d);
/* Per-daemon state for the callbacks. */
void ax_daemon_set_state(ax_daemon_t *d, void *state);
void *ax_daemon_state(ax_daemon_t *d);
/* Ask the main loop to exit (as SIGTERM). */
void ax_daemon_request_stop(ax_daemon_t *d);

/* Re-read the config file now (serialised).  0 when the new config is in
 * force; otherwise the old one stays and err says why. */
int ax_daemon_reload(ax_daemon_t *d, ax_err_t *err);

#endif
