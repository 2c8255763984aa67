/*
 * Unit tests: the SampleBatch contract of axon-tsdb's ingestion
 * (sessions, refs, unknown refs, resend deduplication, rejections).
 */
#include "ax_test.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "axon/v1/samples.pb-c.h"
#include "tsdb/ingest.h"

static tsdb_t T;
static tsdb_ingest_t *IN;

static int setup(void **st)
{
	tsdb_head_opts_t o;

	memset(&o, 0, sizeof(o));
	o.max_exemplars = 100;

	(void)st;
	memset(&T, 0, sizeof(T));
	pthread_mutex_init(&T.meta_mu, NULL);
	pthread_mutex_init(&T.cfg_mu, NULL);
	ax_hmap_init(&T.meta);
	assert_int_equal(tsdb_head_new(&o, &T.head, NULL), 0);
	T.ready = 1;
	assert_int_equal(tsdb_ingest_start(&T, NULL, NULL, &IN, NULL), 0);
	return 0;
}

static int teardown(void **st)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	(void)st;
	tsdb_ingest_stop(IN);
	tsdb_head_free(T.head);
	while ((e = ax_hmap_next(&T.meta, &pos)) != NULL) {
		tsdb_meta_t *m = e->val;

		free(m->help);
		free(m->unit);
		free(m);
	}
	ax_hmap_fini(&T.meta);
	return 0;
}

/* Build and send a batch; returns the decoded ack (caller frees). */
static Axon__V1__SampleBatchAck *send(uint64_t session, uint64_t batch_id,
    int with_defs, const uint64_t *refs, const int64_t *ts, size_t n,
    ax_buf_t *raw_out)
{
	Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT;
	Axon__V1__SeriesDef d1 = AXON__V1__SERIES_DEF__INIT,
	                    d2 = AXON__V1__SERIES_DEF__INIT;
	Axon__V1__SeriesDef *defs[2] = {&d1, &d2};
	Axon__V1__Label n1 = AXON__V1__LABEL__INIT, j1 = AXON__V1__LABEL__INIT;
	Axon__V1__Label n2 = AXON__V1__LABEL__INIT, j2 = AXON__V1__LABEL__INIT;
	Axon__V1__Label *l1[2] = {&n1, &j1}, *l2[2] = {&n2, &j2};
	Axon__V1__MetricMetadata md = AXON__V1__METRIC_METADATA__INIT,
	                         *mds[1] = {&md};
	double vals[16];
	ax_buf_t req = AX_BUF_INIT, rep = AX_BUF_INIT;
	Axon__V1__SampleBatchAck *ack;
	size_t i;

	for (i = 0; i < n; i++)
		vals[i] = (double)ts[i] / 1000.0;
	n1.name = n2.name = "__name__";
	n1.value = n2.value = "requests_total";
	j1.name = j2.name = "job";
	j1.value = "a";
	j2.value = "b";
	d1.ref = 1;
	d1.labels = l1;
	d1.n_labels = 2;
	d2.ref = 2;
	d2.labels = l2;
	d2.n_labels = 2;
	b.version = 1;
	b.sender_id = "scraper-0";
	b.session_id = session;
	b.batch_id = batch_id;
	if (with_defs) {
		b.series = defs;
		b.n_series = 2;
	}
	b.refs = (uint64_t *)refs;
	b.n_refs = n;
	b.ts_ms = (int64_t *)ts;
	b.n_ts_ms = n;
	b.values = vals;
	b.n_values = n;
	md.metric_family = "requests_total";
	md.type = AXON__V1__METRIC_METADATA__TYPE__COUNTER;
	md.help = "Requests.";
	b.metadata = mds;
	b.n_metadata = 1;
	assert_int_equal(ax_msg_pack_buf(&b.base, 0, &req, NULL), 0);
	assert_int_equal(
	    tsdb_ingest_handle(IN, (uint8_t *)req.p, req.len, &rep), 0);
	assert_int_equal(
	    ax_msg_unpack(&axon__v1__sample_batch_ack__descriptor, rep.p,
	        rep.len, 0, (ProtobufCMessage **)&ack, NULL),
	    0);
	if (raw_out)
		ax_buf_append(raw_out, rep.p, rep.len);
	ax_buf_fini(&req);
	ax_buf_fini(&rep);
	return ack;
}

static uint64_t head_series(void)
{
	tsdb_head_stats_t st;

	tsdb_head_stats(T.head, &st);
	return st.series;
}

static void test_protocol(void **st)
{
	uint64_t refs[4] = {1, 2, 1, 2};
	int64_t ts[4] = {1000, 1000, 2000, 2000};
	uint64_t r99[1] = {99};
	int64_t t99[1] = {5000};
	uint64_t session;
	Axon__V1__SampleBatchAck *ack;
	ax_buf_t a1 = AX_BUF_INIT, a2 = AX_BUF_INIT;

	(void)st;
	/* 1. first batch, labels defined, no session yet */
	ack = send(0, 1, 1, refs, ts, 4, NULL);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED);
	assert_int_equal(ack->accepted, 4);
	assert_int_equal(ack->batch_id, 1);
	session = ack->session_id;
	assert_true(session != 0);
	assert_int_equal(session, tsdb_ingest_session(IN));
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	assert_int_equal(head_series(), 2);

	/* 2. steady state: refs only */
	ts[0] = ts[1] = 3000;
	ts[2] = ts[3] = 4000;
	ack = send(session, 2, 0, refs, ts, 4, &a1);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED);
	assert_int_equal(ack->accepted, 4);
	protobuf_c_message_free_unpacked(&ack->base, NULL);

	/* 3. the same batch again (lost ack): the same answer, applied once */
	ack = send(session, 2, 0, refs, ts, 4, &a2);
	assert_int_equal(a1.len, a2.len);
	assert_memory_equal(a1.p, a2.p, a1.len);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	ax_buf_fini(&a1);
	ax_buf_fini(&a2);

	/* 4. an unknown ref: refused whole, listed */
	ack = send(session, 3, 0, r99, t99, 1, NULL);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__UNKNOWN_REFS);
	assert_int_equal(ack->n_unknown_refs, 1);
	assert_int_equal(ack->unknown_refs[0], 99);
	protobuf_c_message_free_unpacked(&ack->base, NULL);

	/* 5. a stale session (e.g. the tsdb restarted): reset, nothing applied
	 */
	ts[0] = ts[1] = 5000;
	ts[2] = ts[3] = 6000;
	ack = send(session + 1, 4, 0, refs, ts, 4, NULL);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__RESET_SESSION);
	assert_int_equal(ack->n_unknown_refs, 2);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	/* resent with definitions: accepted */
	ack = send(session, 4, 1, refs, ts, 4, NULL);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED);
	assert_int_equal(ack->accepted, 4);
	protobuf_c_message_free_unpacked(&ack->base, NULL);

	/* 6. out of order and duplicate timestamp: counted, not retried */
	ts[0] = 1000; /* older than 6000 */
	ts[1] = 6000; /* same ts, value 6.0: exact duplicate */
	ts[2] = 7000;
	ts[3] = 7000;
	ack = send(session, 5, 0, refs, ts, 4, NULL);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED);
	assert_int_equal(ack->accepted, 2);
	assert_int_equal(ack->out_of_order, 1);
	assert_int_equal(ack->duplicate_timestamp, 0);
	assert_string_equal(ack->message, "out of order sample");
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	assert_int_equal(head_series(), 2);
	/* metadata came along */
	{
		tsdb_meta_t *m = ax_hmap_get(&T.meta, "requests_total", 14);

		assert_non_null(m);
		assert_string_equal(m->type, "counter");
		assert_string_equal(m->help, "Requests.");
	}
}

static int count_ex(void *arg, const ax_labels_t *ls, int64_t t, double v)
{
	int *n = arg;

	(void)t;
	(void)v;
	assert_string_equal(ax_labels_get(ls, "trace_id"), "abc123");
	(*n)++;
	return 0;
}

static void test_exemplars(void **st)
{
	Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT;
	Axon__V1__SeriesDef d = AXON__V1__SERIES_DEF__INIT, *defs[1] = {&d};
	Axon__V1__Label n1 = AXON__V1__LABEL__INIT, *l1[1] = {&n1};
	Axon__V1__Label tl = AXON__V1__LABEL__INIT, *tls[1] = {&tl};
	Axon__V1__Exemplar x1 = AXON__V1__EXEMPLAR__INIT,
	                   x2 = AXON__V1__EXEMPLAR__INIT;
	Axon__V1__Exemplar *xs[2] = {&x1, &x2};
	uint64_t refs[1] = {7};
	int64_t ts[1] = {100000};
	double vs[1] = {3};
	ax_buf_t req = AX_BUF_INIT, rep = AX_BUF_INIT;
	Axon__V1__SampleBatchAck *ack;
	tsdb_plist_t ids = {0};
	ax_selector_t *sel;
	int n = 0;

	(void)st;
	n1.name = "__name__";
	n1.value = "latency_seconds_bucket";
	d.ref = 7;
	d.labels = l1;
	d.n_labels = 1;
	tl.name = "trace_id";
	tl.value = "abc123";
	x1.ref = 7;
	x1.labels = tls;
	x1.n_labels = 1;
	x1.value = 0.25;
	x1.ts_ms = 99000;
	x1.has_ts = 1;
	x2 = x1;
	x2.has_ts = 0; /* no timestamp: dropped */
	b.version = 1;
	b.sender_id = "ex-sender";
	b.batch_id = 1;
	b.series = defs;
	b.n_series = 1;
	b.refs = refs;
	b.n_refs = 1;
	b.ts_ms = ts;
	b.n_ts_ms = 1;
	b.values = vs;
	b.n_values = 1;
	b.exemplars = xs;
	b.n_exemplars = 2;
	assert_int_equal(ax_msg_pack_buf(&b.base, 0, &req, NULL), 0);
	assert_int_equal(
	    tsdb_ingest_handle(IN, (uint8_t *)req.p, req.len, &rep), 0);
	assert_int_equal(
	    ax_msg_unpack(&axon__v1__sample_batch_ack__descriptor, rep.p,
	        rep.len, 0, (ProtobufCMessage **)&ack, NULL),
	    0);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	assert_int_equal(
	    ax_selector_parse("latency_seconds_bucket", &sel, NULL), 0);
	assert_int_equal(tsdb_head_select(T.head, sel->matchers,
	                     sel->n_matchers, INT64_MIN, INT64_MAX, &ids, NULL),
	    0);
	assert_int_equal(ids.n, 1);
	assert_int_equal(tsdb_exemplars_select(tsdb_head_exemplars(T.head),
	                     ids.v[0], 0, INT64_MAX, count_ex, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(tsdb_exemplars_count(tsdb_head_exemplars(T.head)), 1);
	ax_selector_free(sel);
	tsdb_plist_fini(&ids);
	ax_buf_fini(&req);
	ax_buf_fini(&rep);
}

static void test_bad_frames(void **st)
{
	ax_buf_t rep = AX_BUF_INIT;
	Axon__V1__SampleBatchAck *ack;
	Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT;
	uint64_t refs[2] = {1, 2};
	int64_t ts[1] = {1};
	ax_buf_t req = AX_BUF_INIT;

	(void)st;
	assert_int_equal(
	    tsdb_ingest_handle(IN, (const uint8_t *)"\xff\xff\xff", 3, &rep),
	    0);
	assert_int_equal(
	    ax_msg_unpack(&axon__v1__sample_batch_ack__descriptor, rep.p,
	        rep.len, 0, (ProtobufCMessage **)&ack, NULL),
	    0);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__INVALID);
	assert_str_contains(ack->message, "malformed axon.v1.SampleBatch");
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	ax_buf_reset(&rep);
	b.version = 1;
	b.sender_id = "x";
	b.refs = refs;
	b.n_refs = 2;
	b.ts_ms = ts;
	b.n_ts_ms = 1;
	assert_int_equal(ax_msg_pack_buf(&b.base, 0, &req, NULL), 0);
	assert_int_equal(
	    tsdb_ingest_handle(IN, (uint8_t *)req.p, req.len, &rep), 0);
	assert_int_equal(
	    ax_msg_unpack(&axon__v1__sample_batch_ack__descriptor, rep.p,
	        rep.len, 0, (ProtobufCMessage **)&ack, NULL),
	    0);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__INVALID);
	assert_str_contains(ack->message, "same length");
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	/* not ready: retry */
	T.ready = 0;
	ax_buf_reset(&rep);
	b.n_refs = 0;
	b.n_ts_ms = 0;
	ax_buf_reset(&req);
	assert_int_equal(ax_msg_pack_buf(&b.base, 0, &req, NULL), 0);
	assert_int_equal(
	    tsdb_ingest_handle(IN, (uint8_t *)req.p, req.len, &rep), 0);
	assert_int_equal(
	    ax_msg_unpack(&axon__v1__sample_batch_ack__descriptor, rep.p,
	        rep.len, 0, (ProtobufCMessage **)&ack, NULL),
	    0);
	assert_int_equal(
	    ack->status, AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	T.ready = 1;
	ax_buf_fini(&rep);
	ax_buf_fini(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_protocol),
	    cmocka_unit_test(test_exemplars),
	    cmocka_unit_test(test_bad_frames),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
