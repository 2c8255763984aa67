/*
 * ax_http: HTTP server on libmicrohttpd (see ax_http.h).
 */
#include "ax_http.h"
#include "ax_log.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <crypt.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_ROUTES 128
#define MAX_PARAMS 256
#define GZIP_MIN_BYTES 1024

typedef struct route {
	const char *method;
	const char *path;
	size_t prefix_len; /* >0: prefix match on path[0..prefix_len) */
	ax_http_handler_fn fn;
	void *arg;
} route_t;

typedef struct cred {
	char *user; /* NULL for a bearer token */
	char *secret;
} cred_t;

struct ax_http_server {
	ax_http_opts_t opts;
	char *listen;
	struct MHD_Daemon *d;
	int fd;
	int port;
	route_t routes[MAX_ROUTES];
	size_t n_routes;
	cred_t *creds;
	size_t n_creds;
};

struct ax_http_req {
	ax_http_server_t *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	ax_buf_t body;
	int too_big;
	int params_parsed;
	char *form; /* decoded copy of the form body */
	const char *pk[MAX_PARAMS];
	const char *pv[MAX_PARAMS];
	size_t n_params;
};

int ax_http_split_hostport(const char *hp, char *host, size_t cap, int *port)
{
	const char *colon;
	char *end;
	long p;
	size_t hl;

	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - hp - 1);
		if (hl >= cap)
			return -1;
		memcpy(host, hp + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - hp);
		if (hl >= cap)
			return -1;
		memcpy(host, hp, hl);
		host[hl] = '\0';
	}
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

int ax_http_server_new(
    const ax_http_opts_t *opts, ax_http_server_t **out, ax_err_t *err)
{
	ax_http_server_t *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s->opts = *opts;
	if (s->opts.max_body_bytes == 0)
		s->opts.max_body_bytes = 16u << 20;
	if (s->opts.timeout_s == 0)
		s->opts.timeout_s = 120;
	if (s->opts.threads == 0)
		s->opts.threads = 4;
	if (s->opts.max_connections == 0)
		s->opts.max_connections = 1024;
	s->listen = strdup(opts->listen ? opts->listen : ":0");
	s->fd = -1;
	if (s->listen == NULL) {
		free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

int ax_http_route(ax_http_server_t *s, const char *method, const char *path,
    ax_http_handler_fn fn, void *arg)
{
	route_t *r;
	size_t len = strlen(path);

	if (s->n_routes == MAX_ROUTES)
		return AX_EFULL;
	r = &s->routes[s->n_routes++];
	r->method = method;
	r->path = path;
	r->prefix_len = len > 0 && path[len - 1] == '*' ? len - 1 : 0;
	r->fn = fn;
	r->arg = arg;
	return 0;
}

static int add_cred(ax_http_server_t *s, const char *user, const char *secret)
{
	cred_t *nc = realloc(s->creds, (s->n_creds + 1) * sizeof(*nc));

	if (nc == NULL)
		return AX_ENOMEM;
	s->creds = nc;
	nc[s->n_creds].user = user ? strdup(user) : NULL;
	nc[s->n_creds].secret = strdup(secret);
	if ((user && nc[s->n_creds].user == NULL) ||
	    nc[s->n_creds].secret == NULL) {
		free(nc[s->n_creds].user);
		free(nc[s->n_creds].secret);
		return AX_ENOMEM;
	}
	s->n_creds++;
	return 0;
}

int ax_http_add_basic_user(
    ax_http_server_t *s, const char *user, const char *hash)
{
	return add_cred(s, user, hash);
}

int ax_http_add_bearer_token(ax_http_server_t *s, const char *token)
{
	return add_cred(s, NULL, token);
}

const char *ax_http_method(const ax_http_req_t *r)
{
	return r->method;
}

const char *ax_http_path(const ax_http_req_t *r)
{
	return r->path;
}

const char *ax_http_body(const ax_http_req_t *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->body.p ? r->body.p : "";
}

const char *ax_http_header(const ax_http_req_t *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

long ax_url_decode(char *s)
{
	char *w = s, *r = s;

	while (*r) {
		if (*r == '+') {
			*w++ = ' ';
			r++;
		} else if (*r == '%') {
			int hi, lo;
			char h = r[1], l = h ? r[2] : 0;

			hi = (h >= '0' && h <= '9')  ? h - '0'
			    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
			    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
			                             : -1;
			lo = (l >= '0' && l <= '9')  ? l - '0'
			    : (l >= 'a' && l <= 'f') ? l - 'a' + 10
			    : (l >= 'A' && l <= 'F') ? l - 'A' + 10
			                             : -1;
			if (hi < 0 || lo < 0)
				return -1;
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (long)(w - s);
}

static enum MHD_Result collect_arg(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	ax_http_req_t *r = cls;

	(void)kind;
	if (r->n_params < MAX_PARAMS) {
		r->pk[r->n_params] = key;
		r->pv[r->n_params] = value ? value : "";
		r->n_params++;
	}
	return MHD_YES;
}

static void parse_params(ax_http_req_t *r)
{
	const char *ct;

	if (r->params_parsed)
		return;
	r->params_parsed = 1;
	MHD_get_connection_values(
	    r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, r);
	ct = ax_http_header(r, "Content-Type");
	if (ct &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
	    r->body.len > 0) {
		char *p, *save = NULL, *tok;

		r->form = malloc(r->body.len + 1);
		if (r->form == NULL)
			return;
		memcpy(r->form, r->body.p, r->body.len);
		r->form[r->body.len] = '\0';
		for (tok = strtok_r(r->form, "&", &save), p = NULL; tok;
		     tok = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(tok, '=');

			if (r->n_params == MAX_PARAMS)
				break;
			if (eq)
				*eq = '\0';
			if (ax_url_decode(tok) < 0)
				continue;
			p = eq ? eq + 1 : (char *)"";
			if (eq && ax_url_decode(p) < 0)
				continue;
			r->pk[r->n_params] = tok;
			r->pv[r->n_params] = p;
			r->n_params++;
		}
	}
}

const char *ax_http_param(ax_http_req_t *r, const char *name)
{
	size_t i;

	parse_params(r);
	for (i = 0; i < r->n_params; i++)
		if (strcmp(r->pk[i], name) == 0)
			return r->pv[i];
	return NULL;
}

size_t ax_http_params(
    ax_http_req_t *r, const char *name, const char **out, size_t max)
{
	size_t i, n = 0;

	parse_params(r);
	for (i = 0; i < r->n_params && n < max; i++)
		if (strcmp(r->pk[i], name) == 0)
			out[n++] = r->pv[i];
	return n;
}

void ax_http_resp_header(
    ax_http_resp_t *resp, const char *name, const char *value)
{
	size_t old = resp->headers ? strlen(resp->headers) : 0;
	size_t add = strlen(name) + strlen(value) + 3;
	char *nh = realloc(resp->headers, old + add + 1);

	if (nh == NULL)
		return;
	snprintf(nh + old, add + 1, "%s: %s\n", name, value);
	resp->headers = nh;
}

void ax_http_resp_error(
    ax_http_resp_t *resp, int status, const char *type, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = "application/json";
	ax_buf_reset(&resp->body);
	ax_buf_puts(&resp->body, "{\"status\":\"error\",\"errorType\":");
	ax_buf_put_json_str(&resp->body, type);
	ax_buf_puts(&resp->body, ",\"error\":");
	ax_buf_put_json_str(&resp->body, msg);
	ax_buf_putc(&resp->body, '}');
}

int ax_http_body_json(ax_http_req_t *r, cJSON **out, ax_err_t *err)
{
	const char *end = NULL;
	cJSON *j;

	if (r->body.len == 0)
		return ax_err_set(
		    err, AX_EPARSE, "request body is empty, want JSON");
	j = cJSON_ParseWithLengthOpts(r->body.p, r->body.len, &end, 0);
	if (j == NULL) {
		size_t off =
		    end && end >= r->body.p ? (size_t)(end - r->body.p) : 0;

		if (off > r->body.len)
			off = r->body.len;
		return ax_err_set(err, AX_EPARSE,
		    "invalid JSON at byte %zu: near \"%.*s\"", off,
		    (int)(r->body.len - off > 20 ? 20 : r->body.len - off),
		    r->body.p + off);
	}
	*out = j;
	return 0;
}

void ax_http_resp_json(ax_http_resp_t *resp, int status, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	resp->status = status;
	resp->content_type = "application/json";
	ax_buf_reset(&resp->body);
	if (s == NULL) {
		resp->body.oom = 1;
		return;
	}
	ax_buf_puts(&resp->body, s);
	cJSON_free(s);
}

void ax_http_resp_text(ax_http_resp_t *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	ax_buf_reset(&resp->body);
	ax_buf_puts(&resp->body, text);
}

static int b64_decode(const char *in, char *out, size_t cap)
{
	static const char *tbl =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(tbl, *in);

		if (p == NULL)
			return -1;
		v = (v << 6) | (unsigned)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)((v >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return (int)n;
}

static int authorized(ax_http_server_t *s, ax_http_req_t *r)
{
	const char *h;
	size_t i;

	if (s->n_creds == 0 || strcmp(r->path, "/-/healthy") == 0)
		return 1;
	h = ax_http_header(r, "Authorization");
	if (h == NULL)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) == 0) {
		const char *tok = h + 7;

		for (i = 0; i < s->n_creds; i++) {
			const char *sec = s->creds[i].secret;
			size_t a = strlen(sec), b = strlen(tok), k;
			unsigned char diff = (unsigned char)(a != b);

			if (s->creds[i].user)
				continue;
			for (k = 0; k < a && k < b; k++)
				diff |= (unsigned char)(sec[k] ^ tok[k]);
			if (!diff)
				return 1;
		}
		return 0;
	}
	if (strncasecmp(h, "Basic ", 6) == 0) {
		char dec[512], *colon;

		if (b64_decode(h + 6, dec, sizeof(dec)) < 0)
			return 0;
		colon = strchr(dec, ':');
		if (colon == NULL)
			return 0;
		*colon = '\0';
		for (i = 0; i < s->n_creds; i++) {
			struct crypt_data cd;
			const char *out;

			if (s->creds[i].user == NULL ||
			    strcmp(s->creds[i].user, dec) != 0)
				continue;
			memset(&cd, 0, sizeof(cd));
			out = crypt_r(colon + 1, s->creds[i].secret, &cd);
			if (out && strcmp(out, s->creds[i].secret) == 0)
				return 1;
		}
	}
	return 0;
}

static int accepts_gzip(ax_http_req_t *r)
{
	const char *ae = ax_http_header(r, "Accept-Encoding");

	return ae && strstr(ae, "gzip") != NULL;
}

static int gzip_body(const ax_buf_t *in, ax_buf_t *out)
{
	z_stream z;
	int rv;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (ax_buf_reserve(out, deflateBound(&z, in->len)) != 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in->p;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->p;
	z.avail_out = (uInt)(out->cap - 1);
	rv = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rv == Z_STREAM_END ? 0 : -1;
}

static enum MHD_Result send_resp(ax_http_req_t *r, ax_http_resp_t *resp)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	ax_buf_t gz = AX_BUF_INIT;
	const ax_buf_t *body = &resp->body;
	int gzipped = 0;

	if (!ax_buf_ok(&resp->body)) {
		ax_buf_fini(&resp->body);
		ax_http_resp_text(resp, 500, "out of memory\n");
	}
	if (resp->body.len >= GZIP_MIN_BYTES && accepts_gzip(r) &&
	    gzip_body(&resp->body, &gz) == 0) {
		body = &gz;
		gzipped = 1;
	}
	mr = MHD_create_response_from_buffer(
	    body->len, body->p ? body->p : (char *)"", MHD_RESPMEM_MUST_COPY);
	ax_buf_fini(&gz);
	if (mr == NULL)
		return MHD_NO;
	MHD_add_response_header(mr, "Content-Type",
	    resp->content_type ? resp->content_type : "application/json");
	if (gzipped)
		MHD_add_response_header(mr, "Content-Encoding", "gzip");
	MHD_add_response_header(mr, "Vary", "Accept-Encoding");
	if (resp->headers) {
		char *line, *save = NULL;

		for (line = strtok_r(resp->headers, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *c = strchr(line, ':');

			if (c == NULL)
				continue;
			*c = '\0';
			MHD_add_response_header(mr, line, c + 2);
		}
	}
	ret = MHD_queue_response(r->conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static route_t *find_route(ax_http_server_t *s, const char *method,
    const char *path, int *method_mismatch)
{
	size_t i;

	*method_mismatch = 0;
	for (i = 0; i < s->n_routes; i++) {
		route_t *rt = &s->routes[i];
		int pm = rt->prefix_len
		    ? strncmp(path, rt->path, rt->prefix_len) == 0
		    : strcmp(path, rt->path) == 0;

		if (!pm)
			continue;
		if (rt->method && strcmp(rt->method, method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 &&
		        strcmp(rt->method, "GET") == 0)) {
			*method_mismatch = 1;
			continue;
		}
		return rt;
	}
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	ax_http_server_t *s = cls;
	ax_http_req_t *r = *con_cls;
	ax_http_resp_t resp;
	route_t *rt;
	int mm;
	enum MHD_Result ret;

	(void)version;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->path = url;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!r->too_big &&
		    r->body.len + *upload_data_size > s->opts.max_body_bytes)
			r->too_big = 1;
		if (!r->too_big)
			ax_buf_append(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	if (!authorized(s, r)) {
		ax_http_resp_text(&resp, 401, "Unauthorized\n");
		ax_http_resp_header(&resp, "WWW-Authenticate", "Basic");
	} else if (r->too_big) {
		ax_http_resp_error(&resp,
		    s->opts.too_big_status ? s->opts.too_big_status : 413,
		    "bad_data", "request body larger than %zu bytes",
		    s->opts.max_body_bytes);
	} else if (!ax_buf_ok(&r->body)) {
		ax_http_resp_error(&resp, 503, "unavailable", "out of memory");
	} else if ((rt = find_route(s, method, url, &mm)) == NULL) {
		if (mm)
			ax_http_resp_text(&resp, 405, "Method Not Allowed\n");
		else
			ax_http_resp_text(&resp, 404, "404 page not found\n");
	} else {
		rt->fn(r, &resp, rt->arg);
	}
	ret = send_resp(r, &resp);
	ax_buf_fini(&resp.body);
	free(resp.headers);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	ax_http_req_t *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	ax_buf_fini(&r->body);
	free(r->form);
	free(r);
	*con_cls = NULL;
}

static int bind_listen(ax_http_server_t *s, ax_err_t *err)
{
	char host[256], portstr[16];
	struct addrinfo hints, *res = NULL, *ai;
	int port, fd = -1, one = 1, rv;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (ax_http_split_hostport(s->listen, host, sizeof(host), &port) != 0)
		return ax_err_set(err, AX_EINVAL,
		    "--web.listen-address: \"%s\" is not host:port", s->listen);
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rv = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (rv != 0)
		return ax_err_set(
		    err, AX_EIO, "listen %s: %s", s->listen, gai_strerror(rv));
	/* prefer IPv6 wildcard when host is empty, else first result */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6) {
			int zero = 0;

			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		rv = errno;
		close(fd);
		fd = -1;
		errno = rv;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ax_err_set(
		    err, AX_EIO, "listen %s: %s", s->listen, strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else
			s->port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	s->fd = fd;
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	ax_log_debug("http server", "detail", msg);
}

int ax_http_server_start(ax_http_server_t *s, ax_err_t *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rv;

	if ((rv = bind_listen(s, err)) != 0)
		return rv;
	if (s->opts.thread_per_connection)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_EPOLL;
	if (s->opts.thread_per_connection)
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		    MHD_OPTION_LISTEN_SOCKET, s->fd,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->opts.timeout_s,
		    MHD_OPTION_CONNECTION_LIMIT, s->opts.max_connections,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		    MHD_OPTION_END);
	else
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		    MHD_OPTION_LISTEN_SOCKET, s->fd,
		    MHD_OPTION_THREAD_POOL_SIZE,
		    s->opts.threads > 1 ? s->opts.threads : 0,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->opts.timeout_s,
		    MHD_OPTION_CONNECTION_LIMIT, s->opts.max_connections,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		    MHD_OPTION_END);
	if (s->d == NULL) {
		close(s->fd);
		s->fd = -1;
		return ax_err_set(
		    err, AX_EIO, "cannot start HTTP server on %s", s->listen);
	}
	return 0;
}

int ax_http_server_port(ax_http_server_t *s)
{
	return s->port;
}

static int busy(ax_http_server_t *s)
{
	const union MHD_DaemonInfo *di;

	if (s == NULL || s->d == NULL)
		return 0;
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di != NULL && di->num_connections > 0;
}

void ax_http_server_stop_many(ax_http_server_t **v, size_t n)
{
	size_t i, open;
	int t;

	/* let answers already queued (e.g. /-/quit's) reach their clients:
	 * up to 500 ms in all for open connections to finish */
	for (t = 0; t < 50; t++) {
		for (i = 0, open = 0; i < n; i++)
			open += busy(v[i]);
		if (open == 0)
			break;
		usleep(10000);
	}
	for (i = 0; i < n; i++)
		if (v[i] && v[i]->d) {
			MHD_stop_daemon(v[i]->d); /* closes the listen socket */
			v[i]->d = NULL;
			v[i]->fd = -1;
		}
}

void ax_http_server_stop(ax_http_server_t *s)
{
	ax_http_server_stop_many(&s, 1);
}

void ax_http_server_free(ax_http_server_t *s)
{
	size_t i;

	if (s == NULL)
		return;
	ax_http_server_stop(s);
	for (i = 0; i < s->n_creds; i++) {
		free(s->creds[i].user);
		free(s->creds[i].secret);
	}
	free(s->creds);
	free(s->listen);
	free(s);
}
