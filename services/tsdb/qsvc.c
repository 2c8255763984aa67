/*
 * qsvc: the nng query service (see qsvc.h).
 */
#include "tsdb/qsvc.h"

#include <stdlib.h>
#include <string.h>

#include "ax_log.h"
#include "ax_msg.h"
#include "ax_promql.h"
#include "ax_units.h"
#include "axon/v1/query.pb-c.h"
#include "tsdb/promql.h"
#include "tsdb/qapi.h"

#define MAX_REQ (1 << 20)

struct tsdb_qsvc {
	tsdb_t *t;
	ax_msg_server_t *srv;
};

static int reply_status(ax_buf_t *reply, Axon__V1__QueryResponse__Status st,
    const char *msg)
{
	Axon__V1__QueryResponse r = AXON__V1__QUERY_RESPONSE__INIT;
	ax_err_t e;

	r.status = st;
	r.error = (char *)msg;
	return ax_msg_pack_buf(&r.base, SIZE_MAX, reply, &e);
}

/* Pack a result; labels and points are borrowed from res. */
static int reply_result(ax_buf_t *reply, const tsdb_pq_result_t *res)
{
	Axon__V1__QueryResponse r = AXON__V1__QUERY_RESPONSE__INIT;
	Axon__V1__Series *ser = NULL, **sp = NULL;
	Axon__V1__Label *lab = NULL, **lp = NULL;
	Axon__V1__Point *pts = NULL, **pp = NULL;
	size_t nl = 0, np = 0, i, j, li = 0, pi = 0;
	ax_err_t e;
	int rv = AX_ENOMEM;

	r.status = AXON__V1__QUERY_RESPONSE__STATUS__OK;
	switch (res->type) {
	case AX_PQ_TSCALAR:
		r.result_type = AXON__V1__QUERY_RESPONSE__RESULT_TYPE__SCALAR;
		r.scalar = res->scalar;
		return ax_msg_pack_buf(&r.base, SIZE_MAX, reply, &e);
	case AX_PQ_TSTRING:
		r.result_type = AXON__V1__QUERY_RESPONSE__RESULT_TYPE__STRING;
		r.string_value = res->str ? res->str : "";
		return ax_msg_pack_buf(&r.base, SIZE_MAX, reply, &e);
	case AX_PQ_TVECTOR:
		r.result_type = AXON__V1__QUERY_RESPONSE__RESULT_TYPE__VECTOR;
		break;
	default:
		r.result_type = AXON__V1__QUERY_RESPONSE__RESULT_TYPE__MATRIX;
		break;
	}
	for (i = 0; i < res->n; i++) {
		nl += res->s[i].ls->n;
		np += res->s[i].n;
	}
	ser = calloc(res->n + 1, sizeof(*ser));
	sp = calloc(res->n + 1, sizeof(*sp));
	lab = calloc(nl + 1, sizeof(*lab));
	lp = calloc(nl + 1, sizeof(*lp));
	pts = calloc(np + 1, sizeof(*pts));
	pp = calloc(np + 1, sizeof(*pp));
	if (!ser || !sp || !lab || !lp || !pts || !pp)
		goto out;
	for (i = 0; i < res->n; i++) {
		const tsdb_pq_series_t *s = &res->s[i];

		axon__v1__series__init(&ser[i]);
		sp[i] = &ser[i];
		ser[i].labels = lp + li;
		ser[i].n_labels = s->ls->n;
		for (j = 0; j < s->ls->n; j++, li++) {
			axon__v1__label__init(&lab[li]);
			lab[li].name = (char *)s->ls->l[j].name;
			lab[li].value = (char *)s->ls->l[j].value;
			lp[li] = &lab[li];
		}
		ser[i].points = pp + pi;
		ser[i].n_points = s->n;
		for (j = 0; j < s->n; j++, pi++) {
			axon__v1__point__init(&pts[pi]);
			pts[pi].ts_ms = s->pts[j].t;
			pts[pi].value = s->pts[j].v;
			pp[pi] = &pts[pi];
		}
	}
	r.series = sp;
	r.n_series = res->n;
	rv = ax_msg_pack_buf(&r.base, SIZE_MAX, reply, &e);
out:
	free(ser);
	free(sp);
	free(lab);
	free(lp);
	free(pts);
	free(pp);
	return rv;
}

static int handle(void *arg, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	tsdb_qsvc_t *q = arg;
	tsdb_t *t = q->t;
	Axon__V1__QueryRequest *r = NULL;
	tsdb_pq_opts_t o = t->pq_opts;
	tsdb_pq_result_t res;
	ax_pq_node_t *expr = NULL;
	ax_err_t e;
	int rv, instant;
	int64_t start, end, step;
	char msg[AX_ERR_MSG_MAX + 64];

	if (ax_msg_unpack(&axon__v1__query_request__descriptor, req, len,
	        MAX_REQ, (ProtobufCMessage **)&r, &e) != 0)
		return reply_status(reply,
		    AXON__V1__QUERY_RESPONSE__STATUS__BAD_DATA, e.msg);
	if (r->version != 1) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return reply_status(reply,
		    AXON__V1__QUERY_RESPONSE__STATUS__BAD_DATA,
		    "unsupported QueryRequest version (want 1)");
	}
	if (!t->ready) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return reply_status(reply,
		    AXON__V1__QUERY_RESPONSE__STATUS__UNAVAILABLE,
		    t->failed ? "the tsdb is not ready: WAL replay failed"
		              : "the tsdb is not ready: WAL replay in progress");
	}
	instant = r->step_ms <= 0;
	start = instant ? r->time_ms : r->start_ms;
	end = instant ? r->time_ms : r->end_ms;
	step = r->step_ms;
	if (r->timeout_ms > 0 &&
	    (o.timeout_ms <= 0 || r->timeout_ms < o.timeout_ms))
		o.timeout_ms = r->timeout_ms;
	if (ax_pq_parse(r->expr ? r->expr : "", &expr, &e) != 0) {
		snprintf(msg, sizeof(msg), "invalid parameter \"query\": %s",
		    e.msg);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return reply_status(
		    reply, AXON__V1__QUERY_RESPONSE__STATUS__BAD_DATA, msg);
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	if (!tsdb_qapi_slot_acquire(t, ax_mono_ms() +
	            (o.timeout_ms > 0 ? o.timeout_ms : 120000))) {
		ax_pq_free(expr);
		return reply_status(reply,
		    AXON__V1__QUERY_RESPONSE__STATUS__TIMEOUT,
		    "query timed out waiting for a free query slot");
	}
	rv = tsdb_pq_eval(t->db, &o, expr, instant, start, end, step, &res, &e);
	tsdb_qapi_slot_release(t);
	ax_pq_free(expr);
	if (rv == AX_ETIMEDOUT)
		return reply_status(
		    reply, AXON__V1__QUERY_RESPONSE__STATUS__TIMEOUT, e.msg);
	if (rv == AX_EIO || rv == AX_EINTERNAL)
		return reply_status(
		    reply, AXON__V1__QUERY_RESPONSE__STATUS__INTERNAL, e.msg);
	if (rv != 0)
		return reply_status(reply,
		    !instant && strncmp(e.msg, "invalid", 7) == 0
		        ? AXON__V1__QUERY_RESPONSE__STATUS__BAD_DATA
		        : AXON__V1__QUERY_RESPONSE__STATUS__EXECUTION,
		    e.msg);
	rv = reply_result(reply, &res);
	tsdb_pq_result_fini(&res);
	if (rv != 0) {
		ax_buf_reset(reply);
		return reply_status(reply,
		    AXON__V1__QUERY_RESPONSE__STATUS__INTERNAL, "out of memory");
	}
	return 0;
}

int tsdb_qsvc_start(
    tsdb_t *t, const char *addr, tsdb_qsvc_t **out, ax_err_t *err)
{
	tsdb_qsvc_t *q;
	ax_msg_opts_t o;
	int rv;

	*out = NULL;
	if (addr == NULL || *addr == '\0')
		return 0;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	q->t = t;
	memset(&o, 0, sizeof(o));
	ax_msg_opts_defaults(&o);
	o.max_msg_bytes = MAX_REQ;
	o.workers = t->q_max;
	if ((rv = ax_msg_server_open(addr, &o, handle, q, &q->srv, err)) != 0) {
		free(q);
		return rv;
	}
	ax_log_info("query service listening", "address", addr);
	*out = q;
	return 0;
}

void tsdb_qsvc_stop(tsdb_qsvc_t *q)
{
	if (q == NULL)
		return;
	ax_msg_server_close(q->srv);
	free(q);
}
