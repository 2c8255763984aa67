/*
 * ax_msg: nng request/reply and publish/subscribe with protobuf-c
 * payloads (see ax_msg.h).
 */
#include "ax_msg.h"
#include "ax_log.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ax_msg_opts_defaults(ax_msg_opts_t *o)
{
	if (o->timeout_ms <= 0)
		o->timeout_ms = 5000;
	if (o->retries < 0)
		o->retries = 0;
	if (o->reconnect_min_ms <= 0)
		o->reconnect_min_ms = 100;
	if (o->reconnect_max_ms <= 0)
		o->reconnect_max_ms = 5000;
	if (o->max_msg_bytes == 0)
		o->max_msg_bytes = 64u << 20;
	if (o->workers <= 0)
		o->workers = 4;
}

/* Listening on ipc://dir/x.sock needs dir: create it (and its parents),
 * as the data directory next to the socket may not exist yet. */
static void ipc_dir(const char *addr)
{
	char p[PATH_MAX];
	size_t i, n;

	if (strncmp(addr, "ipc://", 6) != 0)
		return;
	n = strlen(addr + 6);
	if (n == 0 || n >= sizeof(p))
		return;
	memcpy(p, addr + 6, n + 1);
	for (i = 1; i < n; i++)
		if (p[i] == '/') {
			p[i] = 0;
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return; /* nng_listen says why */
			p[i] = '/';
		}
}

static int nng_err(ax_err_t *err, int rv, const char *what, const char *addr)
{
	int code = rv == NNG_ETIMEDOUT                           ? AX_ETIMEDOUT
	    : rv == NNG_ENOMEM                                   ? AX_ENOMEM
	    : rv == NNG_ECLOSED                                  ? AX_ECLOSED
	    : rv == NNG_EMSGSIZE                                 ? AX_ETOOBIG
	    : (rv == NNG_ECONNREFUSED || rv == NNG_EUNREACHABLE) ? AX_EUNAVAIL
	    : rv == NNG_EADDRINUSE                               ? AX_EIO
	                                                         : AX_EIO;

	return ax_err_set(
	    err, code, "%s %s: %s", what, addr ? addr : "", nng_strerror(rv));
}

int ax_msg_pack(const ProtobufCMessage *m, size_t max_bytes, uint8_t **buf,
    size_t *len, ax_err_t *err)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b;

	if (max_bytes && n > max_bytes)
		return ax_err_set(err, AX_ETOOBIG,
		    "%s: packed size %zu exceeds the limit of %zu bytes",
		    m->descriptor->name, n, max_bytes);
	b = malloc(n ? n : 1);
	if (b == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	protobuf_c_message_pack(m, b);
	*buf = b;
	*len = n;
	return 0;
}

int ax_msg_pack_buf(
    const ProtobufCMessage *m, size_t max_bytes, ax_buf_t *b, ax_err_t *err)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if (max_bytes && n > max_bytes)
		return ax_err_set(err, AX_ETOOBIG,
		    "%s: packed size %zu exceeds the limit of %zu bytes",
		    m->descriptor->name, n, max_bytes);
	if (ax_buf_reserve(b, n) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	protobuf_c_message_pack(m, (uint8_t *)b->p + b->len);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int ax_msg_unpack(const ProtobufCMessageDescriptor *d, const void *data,
    size_t len, size_t max_bytes, ProtobufCMessage **out, ax_err_t *err)
{
	ProtobufCMessage *m;

	if (max_bytes && len > max_bytes)
		return ax_err_set(err, AX_ETOOBIG,
		    "%s: message of %zu bytes exceeds the limit of %zu bytes",
		    d->name, len, max_bytes);
	m = protobuf_c_message_unpack(d, NULL, len, data);
	if (m == NULL)
		return ax_err_set(err, AX_EPROTO,
		    "malformed %s message (%zu bytes): not valid protobuf",
		    d->name, len);
	*out = m;
	return 0;
}

/* ---- REQ client ---- */

struct ax_msg_client {
	nng_socket sock;
	nng_dialer dialer;
	ax_msg_opts_t opts;
	char *addr;
	int pipes; /* connected pipes (atomic) */
};

static void client_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ax_msg_client_t *c = arg;

	(void)p;
	__atomic_add_fetch(
	    &c->pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1, __ATOMIC_RELAXED);
}

int ax_msg_client_connected(ax_msg_client_t *c)
{
	return __atomic_load_n(&c->pipes, __ATOMIC_RELAXED) > 0;
}

static int dial_bg(nng_socket sock, const char *addr, const ax_msg_opts_t *o,
    nng_dialer *d, ax_err_t *err)
{
	int rv;

	if ((rv = nng_dialer_create(d, sock, addr)) != 0)
		return nng_err(err, rv, "dial", addr);
	nng_dialer_set_ms(
	    *d, NNG_OPT_RECONNMINT, (nng_duration)o->reconnect_min_ms);
	nng_dialer_set_ms(
	    *d, NNG_OPT_RECONNMAXT, (nng_duration)o->reconnect_max_ms);
	nng_dialer_set_size(*d, NNG_OPT_RECVMAXSZ, o->max_msg_bytes);
	if ((rv = nng_dialer_start(*d, NNG_FLAG_NONBLOCK)) != 0)
		return nng_err(err, rv, "dial", addr);
	return 0;
}

int ax_msg_client_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_client_t **out, ax_err_t *err)
{
	ax_msg_client_t *c = calloc(1, sizeof(*c));
	int rv;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	c->opts = *opts;
	ax_msg_opts_defaults(&c->opts);
	c->addr = strdup(addr);
	if (c->addr == NULL) {
		free(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		free(c->addr);
		free(c);
		return nng_err(err, rv, "open req socket for", addr);
	}
	/* Resends are ours (bounded); disable nng's automatic ones. */
	nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->opts.max_msg_bytes);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, client_pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, client_pipe_cb, c);
	if ((rv = dial_bg(c->sock, addr, &c->opts, &c->dialer, err)) != 0) {
		nng_close(c->sock);
		free(c->addr);
		free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void ax_msg_client_close(ax_msg_client_t *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	free(c->addr);
	free(c);
}

static int call_once(ax_msg_client_t *c, const void *req, size_t len,
    ax_buf_t *out, ax_err_t *err)
{
	nng_ctx ctx;
	nng_aio *aio = NULL;
	nng_msg *m = NULL;
	int rv;

	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0)
		return nng_err(err, rv, "request to", c->addr);
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_ctx_close(ctx);
		return nng_err(err, rv, "request to", c->addr);
	}
	if ((rv = nng_msg_alloc(&m, 0)) != 0 ||
	    (rv = nng_msg_append(m, req, len)) != 0) {
		if (m)
			nng_msg_free(m);
		goto done;
	}
	nng_aio_set_timeout(aio, (nng_duration)c->opts.timeout_ms);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(m); /* failed send leaves it with us */
		goto done;
	}
	nng_aio_set_timeout(aio, (nng_duration)c->opts.timeout_ms);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		goto done;
	m = nng_aio_get_msg(aio);
	ax_buf_append(out, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	if (!ax_buf_ok(out))
		rv = NNG_ENOMEM;
done:
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	if (rv != 0)
		return nng_err(err, rv, "request to", c->addr);
	return 0;
}

int ax_msg_call_raw(ax_msg_client_t *c, const void *req, size_t len,
    ax_buf_t *out, ax_err_t *err)
{
	int attempt, rv = 0;

	for (attempt = 0; attempt <= c->opts.retries; attempt++) {
		rv = call_once(c, req, len, out, err);
		if (rv != AX_ETIMEDOUT)
			return rv;
	}
	return rv;
}

int ax_msg_call(ax_msg_client_t *c, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
    ax_err_t *err)
{
	uint8_t *buf;
	size_t len;
	ax_buf_t out = AX_BUF_INIT;
	int rv;

	if ((rv = ax_msg_pack(req, c->opts.max_msg_bytes, &buf, &len, err)) !=
	    0)
		return rv;
	rv = ax_msg_call_raw(c, buf, len, &out, err);
	free(buf);
	if (rv == 0)
		rv = ax_msg_unpack(resp_desc, out.p ? out.p : "", out.len,
		    c->opts.max_msg_bytes, resp, err);
	ax_buf_fini(&out);
	return rv;
}

/* ---- REP server ---- */

enum { W_RECV, W_SEND };

typedef struct worker {
	struct ax_msg_server *srv;
	nng_aio *aio;
	nng_ctx ctx;
	int state;
	ax_buf_t reply;
} worker_t;

struct ax_msg_server {
	nng_socket sock;
	nng_listener listener;
	ax_msg_opts_t opts;
	ax_msg_handler_fn fn;
	void *arg;
	worker_t *workers;
	int n_workers;
};

static void worker_cb(void *arg)
{
	worker_t *w = arg;
	nng_msg *m;
	int rv;

	for (;;) {
		if (w->state == W_SEND) {
			if ((rv = nng_aio_result(w->aio)) != 0) {
				nng_msg_free(nng_aio_get_msg(w->aio));
				if (rv == NNG_ECLOSED)
					return;
			}
			w->state = W_RECV;
			nng_ctx_recv(w->ctx, w->aio);
			return;
		}
		/* W_RECV completed */
		if ((rv = nng_aio_result(w->aio)) != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				return;
			nng_ctx_recv(w->ctx, w->aio);
			return;
		}
		m = nng_aio_get_msg(w->aio);
		ax_buf_reset(&w->reply);
		rv = w->srv->fn(
		    w->srv->arg, nng_msg_body(m), nng_msg_len(m), &w->reply);
		if (rv != 0 || !ax_buf_ok(&w->reply)) {
			nng_msg_free(m);
			if (!ax_buf_ok(&w->reply))
				ax_buf_fini(&w->reply);
			nng_ctx_recv(w->ctx, w->aio);
			return;
		}
		nng_msg_clear(m);
		if (nng_msg_append(
		        m, w->reply.p ? w->reply.p : "", w->reply.len) != 0) {
			nng_msg_free(m);
			nng_ctx_recv(w->ctx, w->aio);
			return;
		}
		if (w->reply.cap > (1u << 20))
			ax_buf_fini(&w->reply); /* don't pin big buffers */
		nng_aio_set_msg(w->aio, m);
		w->state = W_SEND;
		nng_ctx_send(w->ctx, w->aio);
		return;
	}
}

int ax_msg_server_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_handler_fn fn, void *arg, ax_msg_server_t **out, ax_err_t *err)
{
	ax_msg_server_t *s = calloc(1, sizeof(*s));
	int rv, i;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s->opts = *opts;
	ax_msg_opts_defaults(&s->opts);
	s->fn = fn;
	s->arg = arg;
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		free(s);
		return nng_err(err, rv, "open rep socket for", addr);
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, s->opts.max_msg_bytes);
	s->workers = calloc((size_t)s->opts.workers, sizeof(worker_t));
	if (s->workers == NULL) {
		nng_close(s->sock);
		free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < s->opts.workers; i++) {
		worker_t *w = &s->workers[i];

		w->srv = s;
		if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) != 0 ||
		    (rv = nng_ctx_open(&w->ctx, s->sock)) != 0) {
			s->n_workers = i + (w->aio ? 1 : 0);
			ax_msg_server_close(s);
			return nng_err(err, rv, "open rep context for", addr);
		}
		s->n_workers = i + 1;
	}
	ipc_dir(addr);
	if ((rv = nng_listen(s->sock, addr, &s->listener, 0)) != 0) {
		ax_msg_server_close(s);
		return nng_err(err, rv, "listen", addr);
	}
	for (i = 0; i < s->n_workers; i++) {
		s->workers[i].state = W_RECV;
		nng_ctx_recv(s->workers[i].ctx, s->workers[i].aio);
	}
	*out = s;
	return 0;
}

void ax_msg_server_close(ax_msg_server_t *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_workers; i++)
		if (s->workers[i].aio)
			nng_aio_stop(s->workers[i].aio);
	nng_close(s->sock);
	for (i = 0; i < s->n_workers; i++) {
		nng_aio_free(s->workers[i].aio);
		ax_buf_fini(&s->workers[i].reply);
	}
	free(s->workers);
	free(s);
}

/* ---- PUB/SUB ---- */

struct ax_msg_pub {
	nng_socket sock;
	ax_msg_opts_t opts;
};

int ax_msg_pub_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_pub_t **out, ax_err_t *err)
{
	ax_msg_pub_t *p = calloc(1, sizeof(*p));
	int rv;

	if (p == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	p->opts = *opts;
	ax_msg_opts_defaults(&p->opts);
	if ((rv = nng_pub0_open(&p->sock)) != 0) {
		free(p);
		return nng_err(err, rv, "open pub socket for", addr);
	}
	ipc_dir(addr);
	if ((rv = nng_listen(p->sock, addr, NULL, 0)) != 0) {
		nng_close(p->sock);
		free(p);
		return nng_err(err, rv, "listen", addr);
	}
	*out = p;
	return 0;
}

int ax_msg_publish(ax_msg_pub_t *p, const char *topic,
    const ProtobufCMessage *m, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	int rv;

	if (strchr(topic, '\n'))
		return ax_err_set(
		    err, AX_EINVAL, "topic must not contain a newline");
	ax_buf_puts(&b, topic);
	ax_buf_putc(&b, '\n');
	if ((rv = ax_msg_pack_buf(m, p->opts.max_msg_bytes, &b, err)) != 0) {
		ax_buf_fini(&b);
		return rv;
	}
	rv = nng_send(p->sock, b.p, b.len, NNG_FLAG_NONBLOCK);
	ax_buf_fini(&b);
	if (rv != 0 && rv != NNG_EAGAIN)
		return nng_err(err, rv, "publish", topic);
	return 0;
}

void ax_msg_pub_close(ax_msg_pub_t *p)
{
	if (p == NULL)
		return;
	nng_close(p->sock);
	free(p);
}

struct ax_msg_sub {
	nng_socket sock;
	nng_dialer dialer;
	nng_aio *aio;
	ax_msg_sub_fn fn;
	void *arg;
};

static void sub_cb(void *arg)
{
	ax_msg_sub_t *s = arg;
	nng_msg *m;
	int rv = nng_aio_result(s->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv == 0) {
		const char *body, *nl;
		size_t len;
		char topic[256];

		m = nng_aio_get_msg(s->aio);
		body = nng_msg_body(m);
		len = nng_msg_len(m);
		nl = memchr(body, '\n', len);
		if (nl && (size_t)(nl - body) < sizeof(topic)) {
			memcpy(topic, body, (size_t)(nl - body));
			topic[nl - body] = '\0';
			s->fn(s->arg, topic, (const uint8_t *)nl + 1,
			    len - (size_t)(nl - body) - 1);
		} else {
			ax_log_warn(
			    "dropping published message without a topic line");
		}
		nng_msg_free(m);
	}
	nng_recv_aio(s->sock, s->aio);
}

int ax_msg_sub_open(const char *addr, const ax_msg_opts_t *opts,
    const char *const *topics, size_t n_topics, ax_msg_sub_fn fn, void *arg,
    ax_msg_sub_t **out, ax_err_t *err)
{
	ax_msg_sub_t *s = calloc(1, sizeof(*s));
	ax_msg_opts_t o = *opts;
	size_t i;
	int rv;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_msg_opts_defaults(&o);
	s->fn = fn;
	s->arg = arg;
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		free(s);
		return nng_err(err, rv, "open sub socket for", addr);
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, o.max_msg_bytes);
	for (i = 0; i < n_topics; i++) {
		char t[256];
		size_t tl = strlen(topics[i]);

		if (tl + 2 > sizeof(t)) {
			nng_close(s->sock);
			free(s);
			return ax_err_set(err, AX_EINVAL, "topic too long");
		}
		memcpy(t, topics[i], tl);
		t[tl] = '\n';
		/* "" subscribes to everything; else "topic\n" exactly */
		rv = nng_socket_set(
		    s->sock, NNG_OPT_SUB_SUBSCRIBE, t, tl ? tl + 1 : 0);
		if (rv != 0) {
			nng_close(s->sock);
			free(s);
			return nng_err(err, rv, "subscribe", topics[i]);
		}
	}
	if ((rv = nng_aio_alloc(&s->aio, sub_cb, s)) != 0) {
		nng_close(s->sock);
		free(s);
		return nng_err(err, rv, "subscribe", addr);
	}
	if ((rv = dial_bg(s->sock, addr, &o, &s->dialer, err)) != 0) {
		nng_aio_free(s->aio);
		nng_close(s->sock);
		free(s);
		return rv;
	}
	nng_recv_aio(s->sock, s->aio);
	*out = s;
	return 0;
}

void ax_msg_sub_close(ax_msg_sub_t *s)
{
	if (s == NULL)
		return;
	nng_aio_stop(s->aio);
	nng_close(s->sock);
	nng_aio_free(s->aio);
	free(s);
}
