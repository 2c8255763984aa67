/*
 * ingest: SampleBatch over nng and Prometheus remote write over HTTP (see
 * ingest.h).
 */
#include "tsdb/ingest.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_rw.h"
#include "ax_units.h"
#include "axon/v1/samples.pb-c.h"
#include "prometheus/remote.pb-c.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MAX_BATCH_BYTES (64u << 20)
#define MAX_RW_DECODED (256u << 20)

void tsdb_count_append(tsdb_t *t, const tsdb_append_result_t *r)
{
	ax_counter_add(t->m_appended, (double)r->accepted);
	ax_counter_add(t->m_ooo, (double)r->out_of_order);
	ax_counter_add(t->m_dup, (double)r->duplicate_timestamp);
	ax_counter_add(t->m_bounds, (double)r->out_of_bounds);
	ax_counter_add(t->m_invalid, (double)r->invalid);
	ax_counter_add(t->m_limit, (double)r->limit);
}

/* ---- per-sender state ---- */

typedef struct ref_ent {
	uint64_t ref;
	ax_labels_t *ls; /* NULL: empty slot */
	uint64_t epoch;  /* batch that last used it */
	uint32_t idx;    /* its index in that batch */
	uint64_t head_ref; /* the head series it resolved to (0: not yet) */
} ref_ent_t;

typedef struct sender {
	ref_ent_t *refs;
	size_t cap, n;
	uint64_t session;    /* receiver session its refs belong to */
	uint64_t last_batch; /* last applied batch id (0: none) */
	int has_last;
	uint8_t *last_ack; /* packed ack of last_batch */
	size_t last_ack_len;
} sender_t;

struct tsdb_ingest {
	tsdb_t *t;
	ax_msg_server_t *srv;
	uint64_t session;
	pthread_mutex_t mu; /* senders and scratch: one batch at a time */
	ax_hmap_t senders;
	uint64_t epoch;
	const ax_labels_t **ls; /* scratch: label sets of the batch */
	size_t ls_cap;
	uint64_t *hints;   /* scratch: their head refs */
	ref_ent_t **rents; /* scratch: their ref entries */
	size_t hints_cap, rents_cap;
	tsdb_sample_in_t *smp;
	size_t smp_cap;
	tsdb_exemplar_in_t *ex;
	size_t ex_cap;
	ax_labels_t **ex_ls;
	size_t ex_ls_cap;
	uint64_t *unknown;
	size_t unknown_cap;
	ax_metric_t *m_batches[5], *m_exemplars_dropped;
};

static ref_ent_t *ref_find(sender_t *s, uint64_t ref, int insert)
{
	size_t i, mask;

	if (s->cap == 0)
		return NULL;
	mask = s->cap - 1;
	for (i = (ref * 0x9e3779b97f4a7c15ULL) >> 20 & mask;;
	     i = (i + 1) & mask) {
		if (s->refs[i].ls == NULL)
			return insert ? &s->refs[i] : NULL;
		if (s->refs[i].ref == ref)
			return &s->refs[i];
	}
}

static int ref_put(sender_t *s, uint64_t ref, ax_labels_t *ls)
{
	ref_ent_t *e;

	if ((s->n + 1) * 2 > s->cap) {
		ref_ent_t *old = s->refs;
		size_t oc = s->cap, i;

		s->cap = oc ? oc * 2 : 256;
		s->refs = calloc(s->cap, sizeof(*s->refs));
		if (s->refs == NULL) {
			s->refs = old;
			s->cap = oc;
			return AX_ENOMEM;
		}
		for (i = 0; i < oc; i++)
			if (old[i].ls)
				*ref_find(s, old[i].ref, 1) = old[i];
		free(old);
	}
	e = ref_find(s, ref, 1);
	if (e->ls == NULL)
		s->n++;
	ax_labels_free(e->ls);
	e->ref = ref;
	e->ls = ls;
	e->head_ref = 0; /* a (re)definition resolves afresh */
	e->epoch = 0;
	return 0;
}

static void sender_clear(sender_t *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		ax_labels_free(s->refs[i].ls);
	free(s->refs);
	s->refs = NULL;
	s->cap = s->n = 0;
	s->has_last = 0;
	free(s->last_ack);
	s->last_ack = NULL;
	s->last_ack_len = 0;
}

static int labels_from_pb(
    Axon__V1__Label **l, size_t n, ax_labels_t **out, ax_err_t *err)
{
	ax_label_t stack[64], *pairs = stack;
	size_t i;
	int rv;

	if (n == 0)
		return ax_labels_new(NULL, 0, out, err);
	if (n > 64) {
		pairs = malloc(n * sizeof(*pairs));
		if (pairs == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		pairs[i].name = l[i]->name;
		pairs[i].value = l[i]->value;
	}
	rv = ax_labels_new(pairs, n, out, err);
	if (pairs != stack)
		free(pairs);
	return rv;
}

static const char *meta_type(int t)
{
	static const char *names[] = {"unknown", "counter", "gauge",
	    "histogram", "gaugehistogram", "summary", "info", "stateset"};

	return t >= 0 && t < 8 ? names[t] : "unknown";
}

static void reply_ack(Axon__V1__SampleBatchAck *ack, ax_buf_t *reply)
{
	ax_msg_pack_buf(&ack->base, 0, reply, NULL);
}

int tsdb_ingest_handle(
    tsdb_ingest_t *in, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	Axon__V1__SampleBatchAck ack = AXON__V1__SAMPLE_BATCH_ACK__INIT;
	Axon__V1__SampleBatch *b = NULL;
	tsdb_t *t = in->t;
	sender_t *s;
	ax_err_t e;
	size_t i, n_ls = 0, n_unknown = 0, n_ex = 0, ex_dropped = 0;
	tsdb_append_result_t res;
	char msg[300];
	int rv;

	ack.session_id = in->session;
	if (ax_msg_unpack(&axon__v1__sample_batch__descriptor, req, len,
	        MAX_BATCH_BYTES, (ProtobufCMessage **)&b, &e) != 0) {
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__INVALID;
		ack.message = e.msg;
		ax_counter_inc(in->m_batches[4]);
		reply_ack(&ack, reply);
		return 0;
	}
	ack.batch_id = b->batch_id;
	if (b->version != 1 || b->n_refs != b->n_ts_ms ||
	    b->n_refs != b->n_values || b->sender_id == NULL ||
	    b->sender_id[0] == '\0') {
		snprintf(msg, sizeof(msg), "%s",
		    b->version != 1 ? "unsupported SampleBatch version (want 1)"
		        : (b->sender_id == NULL || b->sender_id[0] == '\0')
		        ? "sender_id is required"
		        : "refs, ts_ms and values must have the same length");
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__INVALID;
		ack.message = msg;
		ax_counter_inc(in->m_batches[4]);
		goto done;
	}
	if (!t->ready) {
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY;
		ack.message = "not ready: replaying the WAL";
		ack.retry_after_ms = 1000;
		ax_counter_inc(in->m_batches[1]);
		goto done;
	}
	pthread_mutex_lock(&in->mu);
	s = ax_hmap_get(&in->senders, b->sender_id, strlen(b->sender_id));
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL ||
		    ax_hmap_put(&in->senders, b->sender_id,
		        strlen(b->sender_id), s, NULL) != 0) {
			free(s);
			pthread_mutex_unlock(&in->mu);
			ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY;
			ack.message = "out of memory";
			goto done;
		}
		s->session = in->session;
	}
	if (b->session_id != in->session || s->session != in->session) {
		/* refs of another session mean nothing here */
		sender_clear(s);
		s->session = in->session;
	}
	/* a resend of the last applied batch: the same answer again */
	if (s->has_last && b->batch_id == s->last_batch && s->last_ack) {
		ax_buf_append(reply, s->last_ack, s->last_ack_len);
		pthread_mutex_unlock(&in->mu);
		ax_counter_inc(in->m_batches[0]);
		protobuf_c_message_free_unpacked(&b->base, NULL);
		return 0;
	}
	/* register the series definitions it carries */
	for (i = 0; i < b->n_series; i++) {
		ax_labels_t *ls;

		if (labels_from_pb(b->series[i]->labels, b->series[i]->n_labels,
		        &ls, &e) != 0) {
			/* keep it as an empty set: its samples count as invalid
			 */
			if (ax_labels_new(NULL, 0, &ls, NULL) != 0)
				continue;
		}
		if (ref_put(s, b->series[i]->ref, ls) != 0)
			ax_labels_free(ls);
	}
	/* map refs to batch label indexes; collect unknown refs */
	in->epoch++;
	if (ax_grow((void **)&in->smp, &in->smp_cap, b->n_refs,
	        sizeof(*in->smp)) != 0 ||
	    ax_grow((void **)&in->ls, &in->ls_cap,
	        b->n_refs + b->n_exemplars + 1, sizeof(*in->ls)) != 0 ||
	    ax_grow((void **)&in->hints, &in->hints_cap,
	        b->n_refs + b->n_exemplars + 1, sizeof(*in->hints)) != 0 ||
	    ax_grow((void **)&in->rents, &in->rents_cap,
	        b->n_refs + b->n_exemplars + 1, sizeof(*in->rents)) != 0) {
		pthread_mutex_unlock(&in->mu);
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY;
		ack.message = "out of memory";
		goto done;
	}
	for (i = 0; i < b->n_refs; i++) {
		ref_ent_t *r = ref_find(s, b->refs[i], 0);

		if (r == NULL) {
			size_t k;

			for (k = 0; k < n_unknown; k++)
				if (in->unknown[k] == b->refs[i])
					break;
			if (k == n_unknown && n_unknown < 100000 &&
			    ax_grow((void **)&in->unknown, &in->unknown_cap,
			        n_unknown + 1, sizeof(*in->unknown)) == 0)
				in->unknown[n_unknown++] = b->refs[i];
			continue;
		}
		if (r->epoch != in->epoch) {
			r->epoch = in->epoch;
			r->idx = (uint32_t)n_ls;
			in->hints[n_ls] = r->head_ref;
			in->rents[n_ls] = r;
			in->ls[n_ls++] = r->ls;
		}
		in->smp[i].series = r->idx;
		in->smp[i].t = b->ts_ms[i];
		in->smp[i].v = b->values[i];
	}
	/* exemplars: their series may carry no sample in this batch */
	n_ex = 0;
	if (b->n_exemplars > 0 &&
	    (ax_grow((void **)&in->ex, &in->ex_cap, b->n_exemplars,
	         sizeof(*in->ex)) != 0 ||
	        ax_grow((void **)&in->ex_ls, &in->ex_ls_cap, b->n_exemplars,
	            sizeof(*in->ex_ls)) != 0 ||
	        ax_grow((void **)&in->ls, &in->ls_cap,
	            b->n_refs + b->n_exemplars + 1, sizeof(*in->ls)) != 0))
		ex_dropped = b->n_exemplars;
	for (i = 0; !ex_dropped && i < b->n_exemplars; i++) {
		Axon__V1__Exemplar *x = b->exemplars[i];
		ref_ent_t *r = ref_find(s, x->ref, 0);
		ax_labels_t *xl;

		if (r == NULL || !x->has_ts ||
		    labels_from_pb(x->labels, x->n_labels, &xl, &e) != 0) {
			ex_dropped++;
			continue;
		}
		if (r->epoch != in->epoch) {
			r->epoch = in->epoch;
			r->idx = (uint32_t)n_ls;
			in->hints[n_ls] = r->head_ref;
			in->rents[n_ls] = r;
			in->ls[n_ls++] = r->ls;
		}
		in->ex[n_ex].series = r->idx;
		in->ex[n_ex].t = x->ts_ms;
		in->ex[n_ex].v = x->value;
		in->ex[n_ex].ls = xl;
		in->ex_ls[n_ex] = xl;
		n_ex++;
	}
	if (n_unknown > 0) {
		for (i = 0; i < n_ex; i++)
			ax_labels_free(in->ex_ls[i]);
		pthread_mutex_unlock(&in->mu);
		ack.status = b->session_id != in->session
		    ? AXON__V1__SAMPLE_BATCH_ACK__STATUS__RESET_SESSION
		    : AXON__V1__SAMPLE_BATCH_ACK__STATUS__UNKNOWN_REFS;
		ack.unknown_refs = in->unknown;
		ack.n_unknown_refs = n_unknown;
		snprintf(msg, sizeof(msg),
		    "%zu refs unknown in this session: resend with their "
		    "series definitions",
		    n_unknown);
		ack.message = msg;
		ax_counter_inc(in->m_batches[2]);
		reply_ack(&ack, reply);
		protobuf_c_message_free_unpacked(&b->base, NULL);
		return 0;
	}
	rv = tsdb_head_append_hinted(t->head, in->ls, in->hints, n_ls, in->smp,
	    b->n_refs, in->ex, n_ex, &res, &e);
	if (rv == 0)
		for (i = 0; i < n_ls; i++)
			in->rents[i]->head_ref = in->hints[i];
	for (i = 0; i < n_ex; i++)
		ax_labels_free(in->ex_ls[i]);
	if (rv != 0) {
		pthread_mutex_unlock(&in->mu);
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY;
		snprintf(msg, sizeof(msg), "%s", e.msg);
		ack.message = msg;
		ack.retry_after_ms = 1000;
		ax_counter_inc(in->m_batches[1]);
		goto done;
	}
	tsdb_count_append(t, &res);
	for (i = 0; i < b->n_metadata; i++) {
		Axon__V1__MetricMetadata *m = b->metadata[i];

		if (m->metric_family && m->metric_family[0])
			tsdb_meta_put(t, m->metric_family, meta_type(m->type),
			    m->help, m->unit);
	}
	ax_counter_add(in->m_exemplars_dropped,
	    (double)(ex_dropped + res.exemplars_rejected));
	ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED;
	ack.accepted = res.accepted;
	ack.out_of_order = res.out_of_order;
	ack.duplicate_timestamp = res.duplicate_timestamp;
	ack.out_of_bounds = res.out_of_bounds;
	ack.limit = res.limit;
	ack.invalid = res.invalid;
	snprintf(msg, sizeof(msg), "%s", res.first_error);
	ack.message = msg;
	/* remember the answer for a resend */
	{
		size_t alen = protobuf_c_message_get_packed_size(&ack.base);
		uint8_t *ab = malloc(alen ? alen : 1);

		if (ab) {
			protobuf_c_message_pack(&ack.base, ab);
			free(s->last_ack);
			s->last_ack = ab;
			s->last_ack_len = alen;
		}
		s->last_batch = b->batch_id;
		s->has_last = 1;
	}
	pthread_mutex_unlock(&in->mu);
	ax_counter_inc(in->m_batches[0]);
done:
	reply_ack(&ack, reply);
	protobuf_c_message_free_unpacked(&b->base, NULL);
	return 0;
}

static int server_cb(void *arg, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	return tsdb_ingest_handle(arg, req, len, reply);
}

int tsdb_ingest_start(tsdb_t *t, ax_metrics_t *reg, const char *addr,
    tsdb_ingest_t **out, ax_err_t *err)
{
	tsdb_ingest_t *in = calloc(1, sizeof(*in));
	const char *ln[] = {"status"};
	static const char *st[] = {
	    "accepted", "retry", "unknown_refs", "reset_session", "invalid"};
	ax_mfam_t *f;
	int i, rv;

	if (in == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	in->t = t;
	pthread_mutex_init(&in->mu, NULL);
	ax_hmap_init(&in->senders);
	if (getrandom(&in->session, sizeof(in->session), 0) !=
	        (ssize_t)sizeof(in->session) ||
	    in->session == 0)
		in->session = (uint64_t)ax_mono_ms() * 2654435761u | 1;
	f = ax_metrics_family(reg, AX_METRIC_COUNTER,
	    "axon_tsdb_ingest_batches_total",
	    "Sample batches received over nng, by the status of the ack.", 1,
	    ln, NULL, 0);
	for (i = 0; f && i < 5; i++)
		in->m_batches[i] = ax_mfam_with(f, &st[i]);
	in->m_exemplars_dropped =
	    ax_metrics_counter(reg, "axon_tsdb_exemplars_dropped_total",
	        "Exemplars received but not stored (unknown series, no "
	        "timestamp, bad or too long labels, out of order, or "
	        "exemplar storage off).");
	if (addr) {
		ax_msg_opts_t o;

		memset(&o, 0, sizeof(o));
		o.max_msg_bytes = MAX_BATCH_BYTES;
		o.workers = 4;
		if ((rv = ax_msg_server_open(
		         addr, &o, server_cb, in, &in->srv, err)) != 0) {
			tsdb_ingest_stop(in);
			return rv;
		}
		ax_log_info("listening for sample batches", "address", addr);
	}
	*out = in;
	return 0;
}

void tsdb_ingest_stop(tsdb_ingest_t *in)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	if (in == NULL)
		return;
	ax_msg_server_close(in->srv);
	while ((e = ax_hmap_next(&in->senders, &pos)) != NULL) {
		sender_clear(e->val);
		free(e->val);
	}
	ax_hmap_fini(&in->senders);
	free(in->ls);
	free(in->smp);
	free(in->hints);
	free(in->rents);
	free(in->ex);
	free(in->ex_ls);
	free(in->unknown);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

uint64_t tsdb_ingest_session(const tsdb_ingest_t *in)
{
	return in->session;
}

/* ---- remote write ---- */

static const char *pm_type(int t)
{
	return meta_type(t);
}

void tsdb_remote_write_handler(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	size_t blen, i, j, n_samples = 0, k = 0;
	const char *body = ax_http_body(req, &blen);
	ax_buf_t dec = AX_BUF_INIT;
	Prometheus__WriteRequest *wr = NULL;
	ax_labels_t **ls = NULL;
	tsdb_sample_in_t *smp = NULL;
	tsdb_append_result_t res;
	tsdb_exemplar_in_t *ex = NULL;
	ax_labels_t **ex_ls = NULL;
	size_t n_ex = 0;
	ax_err_t e;
	int rv;

	if (!t->ready) {
		ax_http_resp_text(resp, 503, "not ready: replaying the WAL\n");
		ax_counter_inc(t->m_rw_retry);
		return;
	}
	if (ax_snappy_decompress(body, blen, MAX_RW_DECODED, &dec, &e) != 0 ||
	    ax_msg_unpack(&prometheus__write_request__descriptor,
	        dec.p ? dec.p : "", dec.len, MAX_RW_DECODED,
	        (ProtobufCMessage **)&wr, &e) != 0) {
		ax_http_resp_text(resp, 400, e.msg);
		ax_buf_putc(&resp->body, '\n');
		ax_counter_inc(t->m_rw_bad);
		ax_buf_fini(&dec);
		return;
	}
	ax_buf_fini(&dec);
	for (i = 0; i < wr->n_metadata; i++) {
		Prometheus__MetricMetadata *m = wr->metadata[i];

		if (m->metric_family_name && m->metric_family_name[0])
			tsdb_meta_put(t, m->metric_family_name,
			    pm_type(m->type), m->help, m->unit);
	}
	for (i = 0; i < wr->n_timeseries; i++) {
		if (wr->timeseries[i]->base.n_unknown_fields > 0) {
			ax_http_resp_text(resp, 400,
			    "native histograms (TimeSeries field 4) are not "
			    "supported by axon-tsdb\n");
			ax_counter_inc(t->m_rw_bad);
			protobuf_c_message_free_unpacked(&wr->base, NULL);
			return;
		}
		n_samples += wr->timeseries[i]->n_samples;
	}
	ls = calloc(wr->n_timeseries ? wr->n_timeseries : 1, sizeof(*ls));
	smp = malloc((n_samples ? n_samples : 1) * sizeof(*smp));
	if (ls == NULL || smp == NULL) {
		ax_http_resp_text(resp, 503, "out of memory\n");
		ax_counter_inc(t->m_rw_retry);
		goto out;
	}
	for (i = 0; i < wr->n_timeseries; i++) {
		Prometheus__TimeSeries *ts = wr->timeseries[i];
		ax_label_t stack[64], *pairs = stack;

		if (ts->n_labels > 64 &&
		    (pairs = malloc(ts->n_labels * sizeof(*pairs))) == NULL) {
			ax_http_resp_text(resp, 503, "out of memory\n");
			goto out;
		}
		for (j = 0; j < ts->n_labels; j++) {
			pairs[j].name = ts->labels[j]->name;
			pairs[j].value = ts->labels[j]->value;
		}
		rv = ax_labels_new(pairs, ts->n_labels, &ls[i], &e);
		if (pairs != stack)
			free(pairs);
		if (rv != 0 && ax_labels_new(NULL, 0, &ls[i], NULL) != 0) {
			ax_http_resp_text(resp, 503, "out of memory\n");
			goto out;
		}
		for (j = 0; j < ts->n_samples; j++) {
			smp[k].series = (uint32_t)i;
			smp[k].t = ts->samples[j]->timestamp;
			smp[k].v = ts->samples[j]->value;
			k++;
		}
	}
	/* exemplars (remote write 1.0 field 3 of TimeSeries) */
	for (i = 0; i < wr->n_timeseries; i++)
		n_ex += wr->timeseries[i]->n_exemplars;
	if (n_ex > 0) {
		ex = calloc(n_ex, sizeof(*ex));
		ex_ls = calloc(n_ex, sizeof(*ex_ls));
		if (ex == NULL || ex_ls == NULL)
			n_ex = 0;
		else {
			size_t q = 0;

			for (i = 0; i < wr->n_timeseries; i++) {
				Prometheus__TimeSeries *ts = wr->timeseries[i];

				for (j = 0; j < ts->n_exemplars; j++) {
					Prometheus__Exemplar *x =
					    ts->exemplars[j];
					ax_label_t xp[32];
					size_t m;

					if (x->n_labels > 32)
						continue;
					for (m = 0; m < x->n_labels; m++) {
						xp[m].name = x->labels[m]->name;
						xp[m].value =
						    x->labels[m]->value;
					}
					if (ax_labels_new(xp, x->n_labels,
					        &ex_ls[q], NULL) != 0)
						continue;
					ex[q].series = (uint32_t)i;
					ex[q].t = x->timestamp;
					ex[q].v = x->value;
					ex[q].ls = ex_ls[q];
					q++;
				}
			}
			n_ex = q;
		}
	}
	rv = tsdb_head_append_ex(t->head, (const ax_labels_t *const *)ls,
	    wr->n_timeseries, smp, k, ex, n_ex, &res, &e);
	if (rv != 0) {
		ax_http_resp_text(resp, 503, e.msg);
		ax_counter_inc(t->m_rw_retry);
		goto out;
	}
	tsdb_count_append(t, &res);
	if (res.out_of_order || res.duplicate_timestamp || res.out_of_bounds ||
	    res.invalid || res.limit) {
		resp->status = 400;
		resp->content_type = "text/plain; charset=utf-8";
		ax_buf_printf(&resp->body,
		    "%llu samples stored; refused: %llu out of order, %llu "
		    "duplicate timestamp, %llu out of bounds, %llu invalid, "
		    "%llu over limits; first error: %s\n",
		    (unsigned long long)res.accepted,
		    (unsigned long long)res.out_of_order,
		    (unsigned long long)res.duplicate_timestamp,
		    (unsigned long long)res.out_of_bounds,
		    (unsigned long long)res.invalid,
		    (unsigned long long)res.limit, res.first_error);
		ax_counter_inc(t->m_rw_bad);
		goto out;
	}
	resp->status = 204;
	ax_counter_inc(t->m_rw_ok);
out:
	if (ls)
		for (i = 0; i < wr->n_timeseries; i++)
			ax_labels_free(ls[i]);
	free(ls);
	free(smp);
	for (i = 0; ex_ls && i < n_ex; i++)
		ax_labels_free(ex_ls[i]);
	free(ex_ls);
	free(ex);
	protobuf_c_message_free_unpacked(&wr->base, NULL);
}
