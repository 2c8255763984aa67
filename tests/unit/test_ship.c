/*
 * Unit tests: ax_ship, the SampleBatch sender, against an in-process
 * receiver that keeps the contract as axon-tsdb does (per-session refs,
 * UNKNOWN_REFS / RESET_SESSION for refs it has no def of, the same ack
 * for a resend of the batch it applied last).  Checked: every sample
 * arrives once and in order through a ring that wraps; a def travels no
 * later than its series' first sample, once per session; a receiver
 * restart gets the defs again; a lost ack resends exactly the batch that
 * was applied, whatever was queued meanwhile.
 */
#include "ax_test.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_ship.h"
#include "ax_units.h"
#include "axon/v1/samples.pb-c.h"

#include <pthread.h>
#include <unistd.h>

#define MAXREF 64
#define MAXGOT 20000

typedef struct rx {
	pthread_mutex_t mu;
	uint64_t session;
	int known[MAXREF];   /* defined in this session */
	int def_count[MAXREF];
	uint64_t last_batch;
	int has_last;
	int swallow; /* apply the next batch, answer nothing */
	double got_v[MAXGOT];
	uint64_t got_ref[MAXGOT];
	size_t n_got;
	int undefined_sample; /* a sample applied before its def */
} rx_t;

static int rx_handler(void *arg, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	rx_t *r = arg;
	Axon__V1__SampleBatch *b = NULL;
	Axon__V1__SampleBatchAck ack = AXON__V1__SAMPLE_BATCH_ACK__INIT;
	uint64_t unknown[4096];
	size_t n_unknown = 0, i, k;
	int silent = 0;

	if (ax_msg_unpack(&axon__v1__sample_batch__descriptor, req, len,
	        1 << 26, (ProtobufCMessage **)&b, NULL) != 0)
		return -1;
	pthread_mutex_lock(&r->mu);
	ack.session_id = r->session;
	ack.batch_id = b->batch_id;
	if (b->session_id != r->session) {
		memset(r->known, 0, sizeof(r->known));
		r->has_last = 0;
	}
	if (r->has_last && b->batch_id == r->last_batch) {
		/* a resend of what was applied: the same answer */
		ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED;
		ack.accepted = b->n_refs;
		goto out;
	}
	for (i = 0; i < b->n_series; i++)
		if (b->series[i]->ref < MAXREF) {
			r->known[b->series[i]->ref] = 1;
			r->def_count[b->series[i]->ref]++;
		}
	for (i = 0; i < b->n_refs; i++) {
		if (b->refs[i] < MAXREF && r->known[b->refs[i]])
			continue;
		for (k = 0; k < n_unknown; k++)
			if (unknown[k] == b->refs[i])
				break;
		if (k == n_unknown && n_unknown < 4096)
			unknown[n_unknown++] = b->refs[i];
	}
	if (n_unknown > 0) {
		ack.status = b->session_id != r->session
		    ? AXON__V1__SAMPLE_BATCH_ACK__STATUS__RESET_SESSION
		    : AXON__V1__SAMPLE_BATCH_ACK__STATUS__UNKNOWN_REFS;
		ack.unknown_refs = unknown;
		ack.n_unknown_refs = n_unknown;
		goto out;
	}
	for (i = 0; i < b->n_refs && r->n_got < MAXGOT; i++) {
		r->got_ref[r->n_got] = b->refs[i];
		r->got_v[r->n_got++] = b->values[i];
	}
	r->last_batch = b->batch_id;
	r->has_last = 1;
	ack.status = AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED;
	ack.accepted = b->n_refs;
	if (r->swallow) {
		r->swallow = 0;
		silent = 1;
	}
out:
	pthread_mutex_unlock(&r->mu);
	protobuf_c_message_free_unpacked(&b->base, NULL);
	if (silent)
		return -1;
	return ax_msg_pack_buf(&ack.base, 1 << 20, reply, NULL);
}

typedef struct fixture {
	rx_t rx;
	ax_msg_server_t *srv;
	ax_ship_t *ship;
	char addr[128];
} fixture_t;

static void fx_open(fixture_t *f, size_t max_batch, size_t buffer)
{
	ax_msg_opts_t mo;
	ax_ship_opts_t so;
	static int seq;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->rx.mu, NULL);
	f->rx.session = 1000;
	snprintf(f->addr, sizeof(f->addr), "inproc://ship-test-%d-%d",
	    (int)getpid(), ++seq);
	memset(&mo, 0, sizeof(mo));
	ax_msg_opts_defaults(&mo);
	assert_int_equal(
	    ax_msg_server_open(f->addr, &mo, rx_handler, &f->rx, &f->srv, NULL),
	    0);
	memset(&so, 0, sizeof(so));
	so.addr = f->addr;
	so.sender_id = "test";
	so.max_batch = max_batch;
	so.buffer_samples = buffer;
	so.flush_ms = 10;
	so.timeout_ms = 300;
	assert_int_equal(ax_ship_new(&so, NULL, &f->ship, NULL), 0);
}

static void fx_close(fixture_t *f)
{
	ax_ship_stop_free(f->ship, 1000);
	ax_msg_server_close(f->srv);
	pthread_mutex_destroy(&f->rx.mu);
}

static size_t got(fixture_t *f)
{
	size_t n;

	pthread_mutex_lock(&f->rx.mu);
	n = f->rx.n_got;
	pthread_mutex_unlock(&f->rx.mu);
	return n;
}

static void wait_got(fixture_t *f, size_t n)
{
	int i;

	for (i = 0; i < 1000 && got(f) < n; i++)
		usleep(10000);
	assert_int_equal(got(f), n);
}

static void wait_pending_below(fixture_t *f, uint64_t n)
{
	ax_ship_stats_t st;
	int i;

	for (i = 0; i < 1000; i++) {
		ax_ship_stats(f->ship, &st);
		if (st.pending < n)
			return;
		usleep(5000);
	}
	fail_msg("the sender does not drain (%llu pending)",
	    (unsigned long long)st.pending);
}

static void store(fixture_t *f, uint64_t ref)
{
	ax_label_t l[2] = {{"__name__", "m"}, {"i", NULL}};
	char v[32];
	ax_labels_t *ls;

	snprintf(v, sizeof(v), "%llu", (unsigned long long)ref);
	l[1].value = v;
	assert_int_equal(ax_labels_new(l, 2, &ls, NULL), 0);
	assert_int_equal(ax_ship_store_series(f->ship, ref, ls), 0);
	ax_labels_free(ls);
}

/* 2000 samples of 40 series through a ring of 100 in runs of 50: all
 * arrive, once, in order; each def once, never after its first sample. */
static void test_order_and_defs(void **state)
{
	fixture_t f;
	ax_ship_sample_t run[50];
	size_t i, k, n = 0;
	ax_ship_stats_t st;

	(void)state;
	fx_open(&f, 30, 100);
	for (k = 0; k < 40; k++) {
		wait_pending_below(&f, 50);
		store(&f, k + 1);
		for (i = 0; i < 50; i++) {
			run[i].ref = (i % (k + 1)) + 1;
			run[i].t = (int64_t)n;
			run[i].v = (double)n;
			n++;
		}
		assert_int_equal(ax_ship_append_many(f.ship, run, 50), 0);
	}
	wait_got(&f, n);
	for (i = 0; i < n; i++)
		assert_true(f.rx.got_v[i] == (double)i);
	for (k = 1; k <= 40; k++)
		assert_int_equal(f.rx.def_count[k], 1);
	ax_ship_stats(f.ship, &st);
	assert_int_equal(st.accepted, n);
	assert_int_equal(st.dropped, 0);
	fx_close(&f);
}

/* The receiver restarts (a new session, no refs known): the defs go
 * again and nothing is lost. */
static void test_receiver_restart(void **state)
{
	fixture_t f;
	size_t i;

	(void)state;
	fx_open(&f, 8, 1000);
	for (i = 1; i <= 20; i++)
		store(&f, i);
	for (i = 0; i < 40; i++)
		ax_ship_append(f.ship, (i % 20) + 1, (int64_t)i, (double)i);
	wait_got(&f, 40);
	pthread_mutex_lock(&f.rx.mu);
	f.rx.session = 2000;
	pthread_mutex_unlock(&f.rx.mu);
	for (i = 40; i < 100; i++)
		ax_ship_append(f.ship, (i % 20) + 1, (int64_t)i, (double)i);
	wait_got(&f, 100);
	for (i = 0; i < 100; i++)
		assert_true(f.rx.got_v[i] == (double)i);
	for (i = 1; i <= 20; i++)
		assert_int_equal(f.rx.def_count[i], 2);
	fx_close(&f);
}

/* The receiver applies a batch but its ack is lost; more samples are
 * queued before the resend.  The resend must be the same batch (the
 * receiver answers it with the old ack), so the later samples follow in
 * their own batch: none lost, none twice. */
static void test_lost_ack(void **state)
{
	fixture_t f;
	size_t i;

	(void)state;
	fx_open(&f, 100, 1000);
	store(&f, 1);
	/* a session first (a sender without one starts the receiver's
	 * bookkeeping over with every batch) */
	ax_ship_append(f.ship, 1, 0, 0);
	wait_got(&f, 1);
	pthread_mutex_lock(&f.rx.mu);
	f.rx.swallow = 1;
	pthread_mutex_unlock(&f.rx.mu);
	for (i = 1; i < 10; i++)
		ax_ship_append(f.ship, 1, (int64_t)i, (double)i);
	wait_got(&f, 10);
	for (i = 10; i < 30; i++)
		ax_ship_append(f.ship, 1, (int64_t)i, (double)i);
	wait_got(&f, 30);
	usleep(100000);
	assert_int_equal(got(&f), 30);
	for (i = 0; i < 30; i++)
		assert_true(f.rx.got_v[i] == (double)i);
	fx_close(&f);
}

/* A ref the sender never defined cannot be accepted: the batch is
 * dropped and counted, and the sender goes on. */
static void test_undefinable_ref(void **state)
{
	fixture_t f;
	ax_ship_stats_t st;
	int i;

	(void)state;
	fx_open(&f, 100, 1000);
	store(&f, 1);
	ax_ship_append(f.ship, 9, 0, 0); /* never stored */
	for (i = 0; i < 500; i++) {
		ax_ship_stats(f.ship, &st);
		if (st.dropped > 0)
			break;
		usleep(10000);
	}
	assert_int_equal(st.dropped, 1);
	ax_ship_append(f.ship, 1, 1, 1);
	wait_got(&f, 1);
	assert_true(f.rx.got_ref[0] == 1);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_defs),
	    cmocka_unit_test(test_receiver_restart),
	    cmocka_unit_test(test_lost_ack),
	    cmocka_unit_test(test_undefinable_ref),
	};

	ax_log_setup("error", NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
