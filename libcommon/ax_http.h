/*
 * ax_http: the HTTP server every daemon uses, on libmicrohttpd.
 *
 * Routes map (method, path) to a handler; a path ending in '*' matches
 * the prefix.  Handlers run on the server's worker threads (a pool, or one
 * thread per connection for long-polling APIs), so they must be
 * thread-safe; they may block (long polls) only in thread-per-connection
 * mode.  The request body is collected up to max_body_bytes (413 past
 * that) before the handler runs.  Responses are compressed with gzip when
 * the client asks and the body is worth it.  Connections are kept alive
 * (the response is queued on the second access-handler call: queueing on
 * the first forces Connection: close).
 *
 * Optional protection: basic-auth users with bcrypt hashes (as in
 * Prometheus' web config file) and/or bearer tokens; /-/healthy stays open
 * so orchestrators can probe.
 */
#ifndef AX_HTTP_H
#define AX_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef struct ax_http_server ax_http_server_t;
typedef struct ax_http_req ax_http_req_t;

typedef struct ax_http_resp {
	int status;
	const char *content_type; /* static string; default application/json */
	ax_buf_t body;
	char *headers; /* "Name: value\n" lines, malloc'd; see
	                  ax_http_resp_header */
} ax_http_resp_t;

typedef void (*ax_http_handler_fn)(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg);

typedef struct ax_http_opts {
	const char *listen;        /* "host:port", ":port", "[::1]:port" */
	size_t max_body_bytes;     /* default 16 MiB */
	unsigned timeout_s;        /* idle connection timeout, default 120 */
	unsigned threads;          /* pool size, default 4 */
	int thread_per_connection; /* for long polls */
	unsigned max_connections;  /* default 1024 */
	int too_big_status;        /* status for a body over the limit;
	                              default 413 (Consul's API says 400) */
} ax_http_opts_t;

/* OUT: *out, owned by the caller (ax_http_server_free).  Not started. */
int ax_http_server_new(
    const ax_http_opts_t *opts, ax_http_server_t **out, ax_err_t *err);
/* Register a route before start.  method NULL matches any method.  path
 * and method are borrowed (string literals). */
int ax_http_route(ax_http_server_t *s, const char *method, const char *path,
    ax_http_handler_fn fn, void *arg);
/*
 * Protection: add basic-auth users (name -> bcrypt hash) and bearer
 * tokens.  With none configured, everything is open.  Copied.
 */
int ax_http_add_basic_user(
    ax_http_server_t *s, const char *user, const char *bcrypt_hash);
int ax_http_add_bearer_token(ax_http_server_t *s, const char *token);
/* Bind and start serving.  AX_EIO with the reason when binding fails. */
int ax_http_server_start(ax_http_server_t *s, ax_err_t *err);
/* The bound port (useful with port 0). */
int ax_http_server_port(ax_http_server_t *s);
/* Stop serving; in-flight handlers finish first, and open connections
 * get up to 500 ms to take their answers. */
void ax_http_server_stop(ax_http_server_t *s);
/* Stop n servers (NULL entries skipped) with one shared 500 ms grace. */
void ax_http_server_stop_many(ax_http_server_t **v, size_t n);
void ax_http_server_free(ax_http_server_t *s);

/* Request accessors (borrowed pointers valid during the handler). */
const char *ax_http_method(const ax_http_req_t *r);
const char *ax_http_path(const ax_http_req_t *r);
const char *ax_http_body(const ax_http_req_t *r, size_t *len);
const char *ax_http_header(const ax_http_req_t *r, const char *name);
/* First value of a parameter from the query string or an
 * application/x-www-form-urlencoded body; NULL when absent. */
const char *ax_http_param(ax_http_req_t *r, const char *name);
/* All values of a repeated parameter (match[]).  OUT: up to max pointers,
 * returns the count. */
size_t ax_http_params(
    ax_http_req_t *r, const char *name, const char **out, size_t max);

/*
 * Parse the request body as JSON (cJSON).  OUT: *out, owned by the caller
 * (cJSON_Delete).  An empty or malformed body is AX_EPARSE with err saying
 * where ("invalid JSON at byte 17: ...").
 */
struct cJSON;
int ax_http_body_json(ax_http_req_t *r, struct cJSON **out, ax_err_t *err);

/* Response helpers. */
/* Serialise j (borrowed) as the body with the given status, JSON type. */
void ax_http_resp_json(ax_http_resp_t *resp, int status, const struct cJSON *j);
void ax_http_resp_header(
    ax_http_resp_t *resp, const char *name, const char *value);
/* Set status and a JSON error body {"status":"error","errorType":t,"error":msg}
 * as Prometheus' API does. */
void ax_http_resp_error(ax_http_resp_t *resp, int status, const char *type,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Plain-text body and status. */
void ax_http_resp_text(ax_http_resp_t *resp, int status, const char *text);

/* URL-decode in place; returns the new length or -1 when malformed. */
long ax_url_decode(char *s);
/* Parse "host:port" into host (out, cap) and port; -1 on error. */
int ax_http_split_hostport(const char *hp, char *host, size_t cap, int *port);

#endif
