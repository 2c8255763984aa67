/*
 * ax_msg: messaging between Axon daemons on nng, with protobuf-c payloads.
 *
 * Three shapes, chosen by what a lost message costs (docs/architecture.md):
 *   - request/reply (REQ dials, REP listens) for anything whose loss loses
 *     data: sample batches, alerts, heartbeats, queries.  ax_msg_call()
 *     sends one request and waits for its reply with a per-attempt timeout
 *     and a bounded number of retries; concurrent calls on one client are
 *     safe (one nng context each).  The REP side runs a fixed number of
 *     worker contexts that call a handler per request.
 *   - publish/subscribe (PUB listens, SUB dials) for versioned state that is
 *     re-sent anyway (target sets, the dependency graph, gossip).  Every
 *     message is "<topic>\n<protobuf bytes>"; a subscriber names its topics.
 * Dialers dial in the background and reconnect with exponential backoff
 * (reconnect_min_ms .. reconnect_max_ms), so a peer may start later or
 * restart at any time.  Every socket enforces max_msg_bytes on receive, and
 * unpacking checks the size again before protobuf-c sees the bytes.
 *
 * Ownership (nng's rule): a successful send hands the message over; a
 * failed one leaves it with the caller.
 */
#ifndef AX_MSG_H
#define AX_MSG_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef struct ax_msg_opts {
	int64_t timeout_ms; /* per attempt; default 5000 */
	int retries;        /* extra attempts after a timeout; default 2 */
	int64_t reconnect_min_ms; /* default 100 */
	int64_t reconnect_max_ms; /* default 5000 */
	size_t max_msg_bytes;     /* default 64 MiB */
	int workers;              /* REP: concurrent handlers; default 4 */
} ax_msg_opts_t;

/* Fill defaults into zero fields. */
void ax_msg_opts_defaults(ax_msg_opts_t *o);

/* Pack m into a new malloc'd buffer.  OUT: *buf (caller frees), *len.
 * AX_ETOOBIG when the packed size exceeds max_bytes. */
int ax_msg_pack(const ProtobufCMessage *m, size_t max_bytes, uint8_t **buf,
    size_t *len, ax_err_t *err);
/* Pack m and append it to b. */
int ax_msg_pack_buf(
    const ProtobufCMessage *m, size_t max_bytes, ax_buf_t *b, ax_err_t *err);
/*
 * Unpack len bytes as a message of descriptor d.  OUT: *out, free with
 * protobuf_c_message_free_unpacked(*out, NULL).  AX_ETOOBIG past
 * max_bytes, AX_EPROTO for malformed bytes (with the message type named).
 */
int ax_msg_unpack(const ProtobufCMessageDescriptor *d, const void *data,
    size_t len, size_t max_bytes, ProtobufCMessage **out, ax_err_t *err);

/* ---- request/reply ---- */

typedef struct ax_msg_client ax_msg_client_t;

/* Open a REQ socket dialing addr in the background.  OUT: *out, owned by
 * the caller (ax_msg_client_close). */
int ax_msg_client_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_client_t **out, ax_err_t *err);
void ax_msg_client_close(ax_msg_client_t *c);
/* Is a connection to the peer up now?  (A dialer reconnects in the
 * background; callers use this to tell "peer down" from "slow answer".) */
int ax_msg_client_connected(ax_msg_client_t *c);
/*
 * Send req and wait for the reply, unpacked as resp_desc.  OUT: *resp
 * (free with protobuf_c_message_free_unpacked).  AX_ETIMEDOUT when no
 * reply came within timeout_ms on any of 1 + retries attempts;
 * AX_EPROTO when the reply does not decode.  Thread-safe; blocks.
 */
int ax_msg_call(ax_msg_client_t *c, const ProtobufCMessage *req,
    const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
    ax_err_t *err);
/* The same with raw bytes in and out.  OUT: reply appended to out. */
int ax_msg_call_raw(ax_msg_client_t *c, const void *req, size_t len,
    ax_buf_t *out, ax_err_t *err);

typedef struct ax_msg_server ax_msg_server_t;

/*
 * Handler for one request: req/len are the raw bytes (borrowed for the
 * call).  Append the packed reply to `reply` and return 0 to send it;
 * return non-zero to send nothing (the requester times out and retries).
 * Runs on an nng worker thread; may block briefly.
 */
typedef int (*ax_msg_handler_fn)(
    void *arg, const uint8_t *req, size_t len, ax_buf_t *reply);

/* Listen on addr with a REP socket and opts->workers handlers.  For an
 * ipc:// address the socket's directory is created when missing (as for
 * ax_msg_pub_open). */
int ax_msg_server_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_handler_fn fn, void *arg, ax_msg_server_t **out, ax_err_t *err);
/* Stop: waits for handlers in flight, then closes. */
void ax_msg_server_close(ax_msg_server_t *s);

/* ---- publish/subscribe ---- */

typedef struct ax_msg_pub ax_msg_pub_t;
typedef struct ax_msg_sub ax_msg_sub_t;

int ax_msg_pub_open(const char *addr, const ax_msg_opts_t *opts,
    ax_msg_pub_t **out, ax_err_t *err);
/* Publish m under topic (no '\n').  Never blocks; may be dropped by slow
 * subscribers (that is why only versioned, re-sent state goes here). */
int ax_msg_publish(ax_msg_pub_t *p, const char *topic,
    const ProtobufCMessage *m, ax_err_t *err);
void ax_msg_pub_close(ax_msg_pub_t *p);

/* Callback for a received message: topic and payload are borrowed.  Runs
 * on an nng thread, one message at a time. */
typedef void (*ax_msg_sub_fn)(
    void *arg, const char *topic, const uint8_t *data, size_t len);

/* Dial addr and subscribe to the n_topics topics ("" = all). */
int ax_msg_sub_open(const char *addr, const ax_msg_opts_t *opts,
    const char *const *topics, size_t n_topics, ax_msg_sub_fn fn, void *arg,
    ax_msg_sub_t **out, ax_err_t *err);
void ax_msg_sub_close(ax_msg_sub_t *s);

#endif
