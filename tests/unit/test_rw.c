/*
 * Unit tests: the remote-write sender (ax_rw) against a receiver built on
 * ax_http that decodes what it gets as a Prometheus receiver would.
 */
#include "ax_test.h"
#include "ax_http.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_rw.h"
#include "ax_units.h"
#include "prometheus/remote.pb-c.h"

#include <pthread.h>
#include <unistd.h>

typedef struct recv_state {
	pthread_mutex_t mu;
	int fail_first; /* answer this many requests with fail_code first */
	int fail_code;
	int requests;
	int bad_headers;
	long samples;
	long series_with_idx[100];
	int64_t last_ts[100];
	int out_of_order;
	char auth[128];
	char tenant[64];
} recv_state_t;

static void h_write(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	recv_state_t *s = arg;
	ax_buf_t dec = AX_BUF_INIT;
	size_t len, i;
	const char *body = ax_http_body(req, &len);
	const char *ce = ax_http_header(req, "Content-Encoding");
	const char *ver =
	    ax_http_header(req, "X-Prometheus-Remote-Write-Version");
	const char *ct = ax_http_header(req, "Content-Type");
	const char *au = ax_http_header(req, "Authorization");
	const char *tn = ax_http_header(req, "X-Scope-OrgID");
	Prometheus__WriteRequest *wr;

	pthread_mutex_lock(&s->mu);
	s->requests++;
	if (!ce || strcmp(ce, "snappy") != 0 || !ver ||
	    strcmp(ver, "0.1.0") != 0 || !ct ||
	    strcmp(ct, "application/x-protobuf") != 0)
		s->bad_headers++;
	if (au)
		snprintf(s->auth, sizeof(s->auth), "%s", au);
	if (tn)
		snprintf(s->tenant, sizeof(s->tenant), "%s", tn);
	if (s->fail_first > 0) {
		s->fail_first--;
		resp->status = s->fail_code;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (ax_snappy_decompress(body, len, 1 << 24, &dec, NULL) != 0 ||
	    ax_msg_unpack(&prometheus__write_request__descriptor, dec.p,
	        dec.len, 1 << 24, (ProtobufCMessage **)&wr, NULL) != 0) {
		ax_http_resp_text(resp, 400, "bad request\n");
		ax_buf_fini(&dec);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	for (i = 0; i < wr->n_timeseries; i++) {
		Prometheus__TimeSeries *t = wr->timeseries[i];
		size_t k;

		for (k = 0; k < t->n_labels; k++) {
			if (strcmp(t->labels[k]->name, "idx") == 0) {
				int idx = atoi(t->labels[k]->value);

				if (idx >= 0 && idx < 100) {
					size_t j;

					s->series_with_idx[idx] +=
					    (long)t->n_samples;
					for (j = 0; j < t->n_samples; j++) {
						if (t->samples[j]->timestamp <
						    s->last_ts[idx])
							s->out_of_order++;
						s->last_ts[idx] =
						    t->samples[j]->timestamp;
					}
				}
			}
		}
		s->samples += (long)t->n_samples;
	}
	protobuf_c_message_free_unpacked(&wr->base, NULL);
	ax_buf_fini(&dec);
	resp->status = 204;
	pthread_mutex_unlock(&s->mu);
}

static ax_http_server_t *start_receiver(recv_state_t *s, char *url, size_t cap)
{
	ax_http_opts_t o;
	ax_http_server_t *srv;

	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1:0";
	o.threads = 2;
	assert_int_equal(ax_http_server_new(&o, &srv, NULL), 0);
	ax_http_route(srv, "POST", "/api/v1/write", h_write, s);
	assert_int_equal(ax_http_server_start(srv, NULL), 0);
	snprintf(url, cap, "http://127.0.0.1:%d/api/v1/write",
	    ax_http_server_port(srv));
	return srv;
}

static void base_cfg(ax_rw_config_t *c, char *url)
{
	ax_rw_config_init(c);
	c->url = url;
	c->queue_config.min_shards = 3;
	c->queue_config.max_samples_per_send = 50;
	c->queue_config.batch_send_deadline_ms = 50;
	c->queue_config.min_backoff_ms = 5;
	c->queue_config.max_backoff_ms = 20;
}

static void store(ax_rw_sender_t *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char idx[16];
		ax_labels_t *ls;

		snprintf(idx, sizeof(idx), "%d", i);
		assert_int_equal(ax_labels_from_strings(&ls, NULL, "__name__",
		                     "m", "idx", idx, NULL),
		    0);
		assert_int_equal(ax_rw_store_series(s, (uint64_t)i, ls), 0);
		ax_labels_free(ls);
	}
}

static void wait_done(ax_rw_sender_t *s, uint64_t want, ax_rw_stats_t *st)
{
	int64_t dl = ax_mono_ms() + 10000;

	do {
		ax_rw_stats(s, st);
		if (st->sent + st->failed + st->dropped >= want &&
		    st->pending == 0)
			return;
		usleep(10000);
	} while (ax_mono_ms() < dl);
}

static void test_send_with_retries(void **st)
{
	recv_state_t rs;
	ax_http_server_t *srv;
	char url[128];
	ax_rw_config_t c;
	ax_rw_sender_t *s;
	ax_rw_stats_t stt;
	ax_metrics_t *reg = ax_metrics_new();
	ax_label_t hp[] = {{"X-Scope-OrgID", "team-a"}};
	ax_buf_t b = AX_BUF_INIT;
	int i, j;

	(void)st;
	memset(&rs, 0, sizeof(rs));
	pthread_mutex_init(&rs.mu, NULL);
	rs.fail_first = 3;
	rs.fail_code = 503;
	srv = start_receiver(&rs, url, sizeof(url));
	base_cfg(&c, url);
	c.name = "primary";
	c.bearer_token = "tok";
	assert_int_equal(ax_labels_new(hp, 1, &c.headers, NULL), 0);
	assert_int_equal(ax_rw_sender_new(&c, reg, &s, NULL), 0);
	ax_labels_free(c.headers);
	store(s, 20);
	for (j = 0; j < 30; j++)
		for (i = 0; i < 20; i++)
			assert_int_equal(
			    ax_rw_append(s, (uint64_t)i, 1000 + j * 15000,
			        (double)(i + j), 1000),
			    0);
	/* a series nobody stored: dropped and counted, never sent */
	assert_int_equal(ax_rw_append(s, 999, 5, 1, 1000), 0);
	wait_done(s, 601, &stt);
	assert_int_equal(stt.sent, 600);
	assert_int_equal(stt.dropped, 1);
	assert_int_equal(stt.failed, 0);
	assert_true(stt.retried > 0);
	pthread_mutex_lock(&rs.mu);
	assert_int_equal(rs.samples, 600);
	for (i = 0; i < 20; i++)
		assert_int_equal(rs.series_with_idx[i], 30);
	assert_int_equal(
	    rs.out_of_order, 0); /* one shard per series keeps order */
	assert_int_equal(rs.bad_headers, 0);
	assert_string_equal(rs.auth, "Bearer tok");
	assert_string_equal(rs.tenant, "team-a");
	pthread_mutex_unlock(&rs.mu);
	ax_metrics_render(reg, &b);
	assert_str_contains(
	    b.p, "axon_remote_storage_samples_total{remote_name=\"primary\"");
	assert_str_contains(b.p, "} 600\n");
	ax_buf_fini(&b);
	ax_rw_sender_stop_free(s, 1000);
	ax_http_server_free(srv);
	ax_metrics_free(reg);
}

static void test_client_errors_dropped(void **st)
{
	recv_state_t rs;
	ax_http_server_t *srv;
	char url[128];
	ax_rw_config_t c;
	ax_rw_sender_t *s;
	ax_rw_stats_t stt;
	int i;

	(void)st;
	memset(&rs, 0, sizeof(rs));
	pthread_mutex_init(&rs.mu, NULL);
	rs.fail_first = 1000;
	rs.fail_code = 400;
	srv = start_receiver(&rs, url, sizeof(url));
	base_cfg(&c, url);
	c.queue_config.min_shards = 1;
	c.basic_auth.username = "u";
	c.basic_auth.password = "p";
	assert_int_equal(ax_rw_sender_new(&c, NULL, &s, NULL), 0);
	store(s, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(ax_rw_append(s, (uint64_t)i, 1, 1, 1000), 0);
	wait_done(s, 5, &stt);
	assert_int_equal(stt.failed, 5);
	assert_int_equal(stt.sent, 0);
	assert_int_equal(stt.retried, 0); /* 400 is never retried */
	pthread_mutex_lock(&rs.mu);
	assert_string_equal(rs.auth, "Basic dTpw");
	assert_int_equal(rs.requests, 1);
	pthread_mutex_unlock(&rs.mu);
	ax_rw_sender_stop_free(s, 100);
	ax_http_server_free(srv);
}

static void test_429_and_full_queue(void **st)
{
	recv_state_t rs;
	ax_http_server_t *srv;
	char url[128];
	ax_rw_config_t c;
	ax_rw_sender_t *s;
	ax_rw_stats_t stt;
	int i, full = 0;

	(void)st;
	memset(&rs, 0, sizeof(rs));
	pthread_mutex_init(&rs.mu, NULL);
	rs.fail_first = 2;
	rs.fail_code = 429;
	srv = start_receiver(&rs, url, sizeof(url));
	base_cfg(&c, url);
	c.queue_config.min_shards = 1;
	c.queue_config.capacity = 50;
	c.queue_config.min_backoff_ms = 100;
	c.queue_config.max_backoff_ms = 100;
	assert_int_equal(ax_rw_sender_new(&c, NULL, &s, NULL), 0);
	store(s, 1);
	/* while the receiver throttles, the bounded queue fills: AX_EFULL */
	for (i = 0; i < 400; i++)
		if (ax_rw_append(s, 0, i, 1, 0) == AX_EFULL)
			full++;
	assert_true(full > 0);
	wait_done(s, (uint64_t)(400 - full), &stt);
	assert_int_equal(stt.sent, 400 - full);
	assert_true(stt.retried > 0);
	ax_rw_sender_stop_free(s, 100);
	ax_http_server_free(srv);
}

static void test_unreachable_then_stop(void **st)
{
	ax_rw_config_t c;
	ax_rw_sender_t *s;
	ax_rw_stats_t stt;
	int64_t t0;

	(void)st;
	base_cfg(&c, "http://127.0.0.1:1/api/v1/write");
	c.queue_config.min_shards = 1;
	assert_int_equal(ax_rw_sender_new(&c, NULL, &s, NULL), 0);
	store(s, 1);
	assert_int_equal(ax_rw_append(s, 0, 1, 1, 100), 0);
	usleep(200000);
	ax_rw_stats(s, &stt);
	assert_true(stt.retried > 0);
	assert_int_equal(stt.sent, 0);
	t0 = ax_mono_ms();
	ax_rw_sender_stop_free(s, 200); /* gives up after the flush deadline */
	assert_true(ax_mono_ms() - t0 < 3000);
}

static void test_config_check(void **st)
{
	ax_rw_config_t c;
	ax_err_t e;

	(void)st;
	base_cfg(&c, "ftp://x");
	assert_int_not_equal(
	    ax_rw_config_check(&c, "f.yml", "remote_write[0]", &e), 0);
	assert_str_contains(e.msg, "remote_write[0].url");
	base_cfg(&c, "http://x");
	c.bearer_token = "a";
	c.basic_auth.username = "u";
	assert_int_not_equal(
	    ax_rw_config_check(&c, "f.yml", "remote_write[0]", &e), 0);
	assert_str_contains(e.msg, "at most one of");
	base_cfg(&c, "http://x");
	c.queue_config.min_shards = 5;
	c.queue_config.max_shards = 2;
	assert_int_not_equal(ax_rw_config_check(&c, "f.yml", "rw", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_with_retries),
	    cmocka_unit_test(test_client_errors_dropped),
	    cmocka_unit_test(test_429_and_full_queue),
	    cmocka_unit_test(test_unreachable_then_stop),
	    cmocka_unit_test(test_config_check),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
