/*
 * cli/client: what the online `axon` commands share — where each daemon
 * is, one HTTP call returning parsed JSON, and table output.
 *
 * A daemon's base URL comes from, in order: its flag (--tsdb.url,
 * --scraper.url, --ruler.url, --alert-router.url, --discoverer.url,
 * --demo.url), its environment variable (AXON_TSDB_URL,
 * AXON_SCRAPER_URL, AXON_RULER_URL, AXON_ALERT_ROUTER_URL,
 * AXON_DISCOVERER_URL, AXON_DEMO_URL), the CLI config file
 * (--config.file, else $AXON_CONFIG, else ~/.config/axon/cli.yml when it
 * exists; keys tsdb_url, scraper_urls (a list), ruler_url,
 * alert_router_url, discoverer_url, demo_url), and last the addresses
 * `axon up` uses (tsdb :9090, scrapers :9091 and :9095, discoverer
 * :9092, alert router :9093, ruler :9094, demo :9400 on 127.0.0.1).
 * Scrapers may be several: the flag and the variable take a
 * comma-separated list.
 */
#ifndef AX_CLI_CLIENT_H
#define AX_CLI_CLIENT_H

#include <cJSON.h>
#include <stdio.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef enum {
	CLI_TSDB,
	CLI_SCRAPER,
	CLI_RULER,
	CLI_ALERT_ROUTER,
	CLI_DISCOVERER,
	CLI_DEMO, /* axon-demo, the demo fleet of `axon up` */
	CLI_N_DAEMONS
} cli_daemon_t;

#define CLI_MAX_URLS 16

typedef struct cli {
	char *urls[CLI_N_DAEMONS][CLI_MAX_URLS]; /* malloc'd */
	size_t n_urls[CLI_N_DAEMONS];
	int json; /* -o json */
} cli_t;

/* The daemon's process name ("axon-tsdb", ...). */
const char *cli_daemon_name(cli_daemon_t d);

/* o[key] when it is a string, else "" (borrowed from o). */
const char *cli_jstr(const cJSON *o, const char *key);

/*
 * Take the shared flags (the URL flags, --config.file, -o/--output) out
 * of argv (argv[0] is the command; the rest are compacted in place and
 * *argc updated), then resolve every daemon's URLs.  OUT: c, released by
 * cli_fini.  AX_EINVAL (bad flag value, unreadable config) with err.
 */
int cli_init(cli_t *c, int *argc, char **argv, ax_err_t *err);
void cli_fini(cli_t *c);

/*
 * One HTTP request to the i-th URL of daemon d: method and path (with its
 * query string), an optional form or JSON body (content type given).
 * OUT: *out, the parsed answer (cJSON_Delete by the caller); *status the
 * HTTP status.  An unreachable daemon, a non-JSON answer, or an API error
 * ({"status":"error"} or a 4xx/5xx) is an error whose message names the
 * daemon and its URL.
 */
int cli_call(const cli_t *c, cli_daemon_t d, size_t i, const char *method,
    const char *path, const char *body, const char *ctype, cJSON **out,
    long *status, ax_err_t *err);

/* Append s to b URL-encoded (RFC 3986 unreserved kept). */
void cli_urlencode(ax_buf_t *b, const char *s);

/*
 * A time argument: RFC 3339, Unix seconds (fractions allowed), "now", or
 * now minus a Prometheus duration ("-1h", "now-30m").  OUT: *secs.
 */
int cli_parse_time(const char *s, double *secs, ax_err_t *err);

/* Tables: rows of cells, printed with columns padded to their widest
 * cell.  Cells are copied. */
typedef struct cli_table {
	size_t ncols, nrows;
	char **cells; /* nrows x ncols */
	size_t cap;
} cli_table_t;

void cli_table_init(cli_table_t *t, size_t ncols);
/* Add a row of ncols cells (NULL cells print as "").  AX_ENOMEM. */
int cli_table_row(cli_table_t *t, const char *const *cells);
void cli_table_print(const cli_table_t *t, FILE *f);
void cli_table_fini(cli_table_t *t);

/* A label set {a="b", ...} as PromQL prints it, into b ("{}" when empty;
 * __name__ first, outside the braces). */
void cli_labels_str(ax_buf_t *b, const cJSON *metric);

/* "3m12s ago" style age of an RFC 3339 time, into buf. */
void cli_age(const char *rfc3339, char *buf, size_t n);

/* Print v as indented JSON on stdout (-o json). */
void cli_print_json(const cJSON *v);

/* Print an error as "axon <cmd>: msg" on stderr; returns 1. */
int cli_fail(const char *cmd, const ax_err_t *err);

#endif
