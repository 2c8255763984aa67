/*
 * Unit tests: ax_msg (protobuf round trips, req/rep, pub/sub) and the
 * remote-write wire format against a real Prometheus 2.42 request.
 */
#include "ax_test.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_rw.h"
#include "ax_units.h"
#include "axon/v1/alerts.pb-c.h"
#include "axon/v1/cluster.pb-c.h"
#include "axon/v1/samples.pb-c.h"
#include "axon/v1/targets.pb-c.h"
#include "prometheus/remote.pb-c.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *shared_dir(void)
{
	const char *s = getenv("AX_SHARED");

	return s ? s : "../shared";
}

static int read_file(const char *path, ax_buf_t *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[8192];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(out, tmp, n);
	fclose(f);
	return 0;
}

static void test_real_remote_write_request(void **st)
{
	char path[512];
	ax_buf_t raw = AX_BUF_INIT, dec = AX_BUF_INIT;
	ProtobufCMessage *m;
	Prometheus__WriteRequest *wr;
	Prometheus__TimeSeries *t;
	ax_err_t e;
	size_t i;

	(void)st;
	snprintf(path, sizeof(path),
	    "%s/remote-write-samples/remote-write-sample.bin", shared_dir());
	if (read_file(path, &raw) != 0)
		fail_msg("cannot read %s (set AX_SHARED)", path);
	assert_int_equal(raw.len, 10274);
	assert_int_equal(
	    ax_snappy_decompress(raw.p, raw.len, 1 << 20, &dec, &e), 0);
	assert_int_equal(dec.len, 65022);
	assert_int_equal(ax_msg_unpack(&prometheus__write_request__descriptor,
	                     dec.p, dec.len, 1 << 20, &m, &e),
	    0);
	wr = (Prometheus__WriteRequest *)m;
	assert_int_equal(wr->n_timeseries, 500);
	assert_int_equal(wr->n_metadata, 0);
	t = wr->timeseries[0];
	assert_int_equal(t->n_labels, 5);
	assert_string_equal(t->labels[0]->name, "__name__");
	assert_string_equal(t->labels[0]->value, "go_gc_duration_seconds");
	assert_string_equal(t->labels[1]->value, "127.0.0.1:19100");
	assert_int_equal(t->n_samples, 1);
	assert_true(t->samples[0]->timestamp == 1795523006619LL);
	assert_true(t->samples[0]->value == 2.4386e-05);
	for (i = 0; i < wr->n_timeseries; i++) {
		size_t k;

		for (k = 1; k < wr->timeseries[i]->n_labels; k++)
			assert_true(
			    strcmp(wr->timeseries[i]->labels[k - 1]->name,
			        wr->timeseries[i]->labels[k]->name) < 0);
	}
	/* re-encoding gives a request of the same size */
	assert_int_equal(protobuf_c_message_get_packed_size(m), dec.len);
	protobuf_c_message_free_unpacked(m, NULL);

	/* the metadata-only request */
	ax_buf_reset(&raw);
	ax_buf_reset(&dec);
	snprintf(path, sizeof(path),
	    "%s/remote-write-samples/remote-write-metadata-sample.bin",
	    shared_dir());
	assert_int_equal(read_file(path, &raw), 0);
	assert_int_equal(
	    ax_snappy_decompress(raw.p, raw.len, 1 << 20, &dec, &e), 0);
	assert_int_equal(dec.len, 21478);
	assert_int_equal(ax_msg_unpack(&prometheus__write_request__descriptor,
	                     dec.p, dec.len, 1 << 20, &m, &e),
	    0);
	wr = (Prometheus__WriteRequest *)m;
	assert_int_equal(wr->n_timeseries, 0);
	assert_int_equal(wr->n_metadata, 283);
	assert_int_equal(wr->metadata[0]->type,
	    PROMETHEUS__METRIC_METADATA__METRIC_TYPE__GAUGE);
	assert_string_equal(
	    wr->metadata[0]->metric_family_name, "node_timex_status");
	assert_string_equal(
	    wr->metadata[0]->help, "Value of the status array bits.");
	protobuf_c_message_free_unpacked(m, NULL);

	/* corrupt and oversized inputs fail cleanly */
	ax_buf_reset(&dec);
	assert_int_not_equal(
	    ax_snappy_decompress(raw.p, raw.len, 1000, &dec, &e), 0);
	assert_str_contains(e.msg, "exceeds the limit");
	raw.p[5] ^= 0x5a;
	raw.p[9] ^= 0x33;
	ax_buf_reset(&dec);
	if (ax_snappy_decompress(raw.p, raw.len, 1 << 20, &dec, &e) == 0 &&
	    ax_msg_unpack(&prometheus__write_request__descriptor, dec.p,
	        dec.len, 1 << 20, &m, &e) == 0)
		protobuf_c_message_free_unpacked(
		    m, NULL); /* garbage may decode */
	assert_int_not_equal(ax_snappy_decompress("\xff\xff\xff\xff\xff\xff", 6,
	                         1 << 20, &dec, &e),
	    0);
	ax_buf_fini(&raw);
	ax_buf_fini(&dec);
}

static void test_sample_batch_round_trip(void **st)
{
	Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT, *out;
	Axon__V1__SeriesDef def = AXON__V1__SERIES_DEF__INIT, *defs[1] = {&def};
	Axon__V1__Label l1 = AXON__V1__LABEL__INIT, l2 = AXON__V1__LABEL__INIT;
	Axon__V1__Label *ls[2] = {&l1, &l2};
	uint64_t refs[3] = {7, 7, 9};
	int64_t ts[3] = {1000, 2000, -5};
	double vals[3];
	uint64_t stale = 0x7ff0000000000002ULL, bits;
	uint8_t *buf;
	size_t len;
	ax_err_t e;

	(void)st;
	memcpy(&vals[0], &stale, 8);
	vals[1] = 1.5;
	vals[2] = -INFINITY;
	l1.name = "__name__";
	l1.value = "up";
	l2.name = "job";
	l2.value = "node";
	def.ref = 7;
	def.labels = ls;
	def.n_labels = 2;
	b.version = 1;
	b.sender_id = "scraper-0";
	b.session_id = 0xdeadbeefcafeULL;
	b.batch_id = 42;
	b.series = defs;
	b.n_series = 1;
	b.refs = refs;
	b.n_refs = 3;
	b.ts_ms = ts;
	b.n_ts_ms = 3;
	b.values = vals;
	b.n_values = 3;
	assert_int_equal(ax_msg_pack(&b.base, 10, &buf, &len, &e), AX_ETOOBIG);
	assert_str_contains(e.msg, "exceeds the limit of 10 bytes");
	assert_int_equal(ax_msg_pack(&b.base, 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(ax_msg_unpack(&axon__v1__sample_batch__descriptor, buf,
	                     len, 1 << 20, (ProtobufCMessage **)&out, &e),
	    0);
	assert_int_equal(out->batch_id, 42);
	assert_true(out->session_id == 0xdeadbeefcafeULL);
	assert_string_equal(out->series[0]->labels[1]->value, "node");
	assert_int_equal(out->n_values, 3);
	memcpy(&bits, &out->values[0], 8);
	assert_true(bits == stale); /* staleness marker bit-exact */
	assert_true(out->values[2] == -INFINITY);
	assert_int_equal(out->ts_ms[2], -5);
	protobuf_c_message_free_unpacked(&out->base, NULL);
	/* truncated frame: an error, not a crash */
	assert_int_equal(ax_msg_unpack(&axon__v1__sample_batch__descriptor, buf,
	                     len - 3, 1 << 20, (ProtobufCMessage **)&out, &e),
	    AX_EPROTO);
	assert_str_contains(e.msg, "axon.v1.SampleBatch");
	assert_int_equal(ax_msg_unpack(&axon__v1__sample_batch__descriptor, buf,
	                     len, 16, (ProtobufCMessage **)&out, &e),
	    AX_ETOOBIG);
	free(buf);
}

static void test_other_contracts_round_trip(void **st)
{
	Axon__V1__ControlRequest req = AXON__V1__CONTROL_REQUEST__INIT, *rq;
	Axon__V1__Heartbeat hb = AXON__V1__HEARTBEAT__INIT;
	Axon__V1__Silence sil = AXON__V1__SILENCE__INIT, *sout;
	Axon__V1__Matcher mt = AXON__V1__MATCHER__INIT, *mts[1] = {&mt};
	uint8_t *buf;
	size_t len;

	(void)st;
	hb.version = 1;
	hb.scraper_id = "s1";
	hb.assignment_version = 3;
	req.version = 1;
	req.body_case = AXON__V1__CONTROL_REQUEST__BODY_HEARTBEAT;
	req.heartbeat = &hb;
	assert_int_equal(ax_msg_pack(&req.base, 0, &buf, &len, NULL), 0);
	assert_int_equal(ax_msg_unpack(&axon__v1__control_request__descriptor,
	                     buf, len, 0, (ProtobufCMessage **)&rq, NULL),
	    0);
	assert_int_equal(
	    rq->body_case, AXON__V1__CONTROL_REQUEST__BODY_HEARTBEAT);
	assert_string_equal(rq->heartbeat->scraper_id, "s1");
	protobuf_c_message_free_unpacked(&rq->base, NULL);
	free(buf);

	mt.type = AXON__V1__MATCHER__TYPE__RE;
	mt.name = "service";
	mt.value = "auth|cart";
	sil.id = "abc";
	sil.matchers = mts;
	sil.n_matchers = 1;
	sil.ends_at_ms = 99;
	assert_int_equal(ax_msg_pack(&sil.base, 0, &buf, &len, NULL), 0);
	assert_int_equal(ax_msg_unpack(&axon__v1__silence__descriptor, buf, len,
	                     0, (ProtobufCMessage **)&sout, NULL),
	    0);
	assert_int_equal(sout->matchers[0]->type, AXON__V1__MATCHER__TYPE__RE);
	assert_int_equal(sout->ends_at_ms, 99);
	protobuf_c_message_free_unpacked(&sout->base, NULL);
	free(buf);
}

/* ---- req/rep ---- */

static int rev_handler(
    void *arg, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	size_t i;

	(void)arg;
	if (len == 4 && memcmp(req, "drop", 4) == 0)
		return -1; /* no reply */
	for (i = 0; i < len; i++)
		ax_buf_putc(reply, (char)req[len - 1 - i]);
	return 0;
}

static char ipc_addr[128];

static void make_ipc(void)
{
	snprintf(ipc_addr, sizeof(ipc_addr), "ipc:///tmp/axtest-%d-%lld.sock",
	    (int)getpid(), (long long)ax_mono_ms());
}

static void test_req_rep(void **st)
{
	ax_msg_opts_t o;
	ax_msg_server_t *srv;
	ax_msg_client_t *cl;
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t e;
	int64_t t0;

	(void)st;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 300;
	o.retries = 1;
	o.reconnect_min_ms = 10;
	o.reconnect_max_ms = 50;
	make_ipc();
	/* client first: the peer starts later and the dialer reconnects */
	assert_int_equal(ax_msg_client_open(ipc_addr, &o, &cl, &e), 0);
	assert_int_equal(
	    ax_msg_server_open(ipc_addr, &o, rev_handler, NULL, &srv, &e), 0);
	o.timeout_ms = 2000;
	/* the dialer connects in the background: under load the first
	 * attempts may time out before it has */
	{
		int tries = 0, rv;

		while ((rv = ax_msg_call_raw(cl, "hello", 5, &out, &e)) ==
		        AX_ETIMEDOUT &&
		    ++tries < 10)
			ax_buf_reset(&out);
		assert_int_equal(rv, 0);
	}
	assert_int_equal(out.len, 5);
	assert_int_equal(memcmp(out.p, "olleh", 5), 0);
	ax_buf_reset(&out);
	/* no reply: timeout after 1 + retries attempts */
	t0 = ax_mono_ms();
	assert_int_equal(
	    ax_msg_call_raw(cl, "drop", 4, &out, &e), AX_ETIMEDOUT);
	assert_true(ax_mono_ms() - t0 >= 550);
	assert_str_contains(e.msg, "request to ipc://");
	/* the socket still works afterwards */
	assert_int_equal(ax_msg_call_raw(cl, "ab", 2, &out, &e), 0);
	assert_int_equal(memcmp(out.p, "ba", 2), 0);
	ax_buf_fini(&out);
	ax_msg_server_close(srv);
	/* peer gone: timeout, not a hang */
	assert_int_equal(ax_msg_call_raw(cl, "x", 1, &out, &e), AX_ETIMEDOUT);
	ax_buf_fini(&out);
	ax_msg_client_close(cl);
}

typedef struct {
	ax_msg_client_t *cl;
	int ok;
	int id;
} call_arg_t;

static void *caller(void *p)
{
	call_arg_t *a = p;
	int i;

	for (i = 0; i < 50; i++) {
		char msg[32], want[32];
		ax_buf_t out = AX_BUF_INIT;
		size_t n, k;

		n = (size_t)snprintf(msg, sizeof(msg), "t%d-%d", a->id, i);
		for (k = 0; k < n; k++)
			want[k] = msg[n - 1 - k];
		if (ax_msg_call_raw(a->cl, msg, n, &out, NULL) == 0 &&
		    out.len == n && memcmp(out.p, want, n) == 0)
			a->ok++;
		ax_buf_fini(&out);
	}
	return NULL;
}

static void test_concurrent_calls(void **st)
{
	ax_msg_opts_t o;
	ax_msg_server_t *srv;
	ax_msg_client_t *cl;
	pthread_t th[4];
	call_arg_t args[4];
	int i;

	(void)st;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 3000;
	make_ipc();
	assert_int_equal(
	    ax_msg_server_open(ipc_addr, &o, rev_handler, NULL, &srv, NULL), 0);
	assert_int_equal(ax_msg_client_open(ipc_addr, &o, &cl, NULL), 0);
	for (i = 0; i < 4; i++) {
		args[i].cl = cl;
		args[i].ok = 0;
		args[i].id = i;
		pthread_create(&th[i], NULL, caller, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(
		    args[i].ok, 50); /* each reply matched its request */
	}
	ax_msg_client_close(cl);
	ax_msg_server_close(srv);
}

static void test_tcp_and_bad_address(void **st)
{
	ax_msg_opts_t o;
	ax_msg_server_t *srv, *srv2;
	ax_msg_client_t *cl;
	ax_buf_t out = AX_BUF_INIT;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char addr[64];
	ax_err_t e;

	(void)st;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 2000;
	assert_int_equal(
	    ax_msg_server_open(addr, &o, rev_handler, NULL, &srv, &e), 0);
	/* the same address twice: a clear error */
	assert_int_not_equal(
	    ax_msg_server_open(addr, &o, rev_handler, NULL, &srv2, &e), 0);
	assert_str_contains(e.msg, "listen tcp://127.0.0.1:");
	assert_int_equal(ax_msg_client_open(addr, &o, &cl, &e), 0);
	assert_int_equal(ax_msg_call_raw(cl, "tcp", 3, &out, &e), 0);
	assert_int_equal(memcmp(out.p, "pct", 3), 0);
	ax_buf_fini(&out);
	ax_msg_client_close(cl);
	ax_msg_server_close(srv);
	assert_int_not_equal(ax_msg_client_open("bogus://x", &o, &cl, &e), 0);
}

/* ---- pub/sub ---- */

typedef struct {
	pthread_mutex_t mu;
	int n_targets;
	int n_other;
	uint64_t last_gen;
} sub_state_t;

static void on_msg(
    void *arg, const char *topic, const uint8_t *data, size_t len)
{
	sub_state_t *s = arg;
	Axon__V1__TargetSetUpdate *u;

	pthread_mutex_lock(&s->mu);
	if (strcmp(topic, "targets") == 0 &&
	    ax_msg_unpack(&axon__v1__target_set_update__descriptor, data, len,
	        0, (ProtobufCMessage **)&u, NULL) == 0) {
		s->n_targets++;
		s->last_gen = u->generation;
		protobuf_c_message_free_unpacked(&u->base, NULL);
	} else {
		s->n_other++;
	}
	pthread_mutex_unlock(&s->mu);
}

static void test_pub_sub_topics(void **st)
{
	ax_msg_opts_t o;
	ax_msg_pub_t *pub;
	ax_msg_sub_t *sub;
	sub_state_t s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	const char *topics[] = {"targets"};
	Axon__V1__TargetSetUpdate u = AXON__V1__TARGET_SET_UPDATE__INIT;
	Axon__V1__DependencyGraphRef other =
	    AXON__V1__DEPENDENCY_GRAPH_REF__INIT;
	int i, got = 0;

	(void)st;
	memset(&o, 0, sizeof(o));
	o.reconnect_min_ms = 10;
	make_ipc();
	assert_int_equal(ax_msg_pub_open(ipc_addr, &o, &pub, NULL), 0);
	assert_int_equal(
	    ax_msg_sub_open(ipc_addr, &o, topics, 1, on_msg, &s, &sub, NULL),
	    0);
	/* messages sent before the pipe is up are lost: publish until seen */
	for (i = 0; i < 200 && !got; i++) {
		u.version = 1;
		u.generation = (uint64_t)i + 1;
		u.full = 1;
		assert_int_equal(
		    ax_msg_publish(pub, "deps", &other.base, NULL), 0);
		assert_int_equal(
		    ax_msg_publish(pub, "targets", &u.base, NULL), 0);
		usleep(10000);
		pthread_mutex_lock(&s.mu);
		got = s.n_targets > 0;
		pthread_mutex_unlock(&s.mu);
	}
	assert_true(got);
	usleep(50000);
	pthread_mutex_lock(&s.mu);
	assert_int_equal(s.n_other, 0); /* "deps" was not subscribed */
	assert_true(s.last_gen >= 1);
	pthread_mutex_unlock(&s.mu);
	assert_int_not_equal(
	    ax_msg_publish(pub, "bad\ntopic", &u.base, NULL), 0);
	ax_msg_sub_close(sub);
	ax_msg_pub_close(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_remote_write_request),
	    cmocka_unit_test(test_sample_batch_round_trip),
	    cmocka_unit_test(test_other_contracts_round_trip),
	    cmocka_unit_test(test_req_rep),
	    cmocka_unit_test(test_concurrent_calls),
	    cmocka_unit_test(test_tcp_and_bad_address),
	    cmocka_unit_test(test_pub_sub_topics),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
