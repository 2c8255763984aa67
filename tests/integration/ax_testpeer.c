/*
 * ax-testpeer: a helper for the integration tests.
 *
 *   ax-testpeer freeport
 *       print a TCP port on 127.0.0.1 that was free a moment ago
 *   ax-testpeer rw-send URL SERIES SAMPLES START_MS STEP_MS [METRIC]
 *       remote-write SERIES series x SAMPLES samples with the libcommon
 *       sender (test_rw_series{idx="i"} = i * 1000 + sample number) and
 *       exit 0 once every sample was acknowledged
 *   ax-testpeer rep ADDR
 *       answer nng requests with their own bytes reversed until killed
 *   ax-testpeer req ADDR TEXT
 *       send TEXT to a rep peer and print the reply
 *   ax-testpeer batch-load ADDR SERIES OUTFILE START_MS [STEP_MS]
 *       send axon.v1.SampleBatch batches to a tsdb over nng until SIGTERM:
 *       batch k holds load_series{s="0".."SERIES-1"} at START_MS + k*STEP
 *       (STEP_MS 1000 by default)
 *       with value k; every acknowledged k is appended to OUTFILE.  It
 *       follows the contract: resend on timeout, definitions again after a
 *       session reset, back off on RETRY.
 *   ax-testpeer batch-exemplars ADDR SERIES TS_MS
 *       send one SampleBatch: ex_series{i="0".."SERIES-1"} = i at TS_MS,
 *       each with an exemplar {trace_id="trace-<i>"} = i/10 at TS_MS - 500;
 *       print the ack status and accepted count
 *   ax-testpeer alert-batch ADDR JSON [VERSION]
 *       send one axon.v1.AlertBatch to an alert router over nng, built
 *       from a JSON list of {"labels":{},"annotations":{},"startsAt":MS,
 *       "endsAt":MS,"generatorURL":""}; print the ack as JSON
 *   ax-testpeer http-file ADDR FILE [CONTENT-TYPE]
 *       serve FILE (as JSON, or CONTENT-TYPE) at every GET path on ADDR
 *       (host:port) until killed: a stand-in for a peer daemon's API
 *   ax-testpeer http-live ADDR FILE [CONTENT-TYPE]
 *       the same, FILE read again for every request (a target whose
 *       body a test changes by renaming a new file over it)
 *   ax-testpeer count-targets N PORTFILE HITLOG
 *       serve N metrics targets on free loopback ports (listed in
 *       PORTFILE); each request is logged to HITLOG as "<port> <unix ms>"
 *   ax-testpeer dns-server ADDR ZONEFILE
 *       answer DNS questions over UDP on ADDR from ZONEFILE (re-read for
 *       each question; lines "name. A|AAAA|SRV|MX data")
 *   ax-testpeer k8s-api ADDR DIR
 *       a Kubernetes API fixture for pods, endpoints and services (all
 *       namespaces or /api/v1/namespaces/NS/...): a list answers
 *       DIR/<res>.json (a v1 List, items of other namespaces left out); a
 *       watch (?watch=true&resourceVersion=RV) streams the events of
 *       DIR/<res>.watch ("RV JSON-event" lines, re-read every 50 ms) after
 *       RV, and answers an ERROR event with a 410 Status when
 *       DIR/<res>.minrv holds a version past what it has sent; with a
 *       DIR/token file, requests without "Authorization: Bearer <token>"
 *       get 401; every request is logged to DIR/requests.log
 *   ax-testpeer fault-targets PORTFILE
 *       scrape targets that misbehave ("<mode> <port>" lines in PORTFILE):
 *       ok, hang (never answers), status500, garbage (not the format),
 *       big (4 MiB of samples), midclose (closes mid-body), million (1M
 *       series)
 *   ax-testpeer rw-sink ADDR
 *       answer every POST with 204 (a remote-write receiver that keeps
 *       nothing; the agent-mode benchmark's sink)
 *   ax-testpeer bcrypt PASSWORD
 *       print a bcrypt hash of PASSWORD (for web config tests)
 *   ax-testpeer query ADDR EXPR TIME_MS [START_MS END_MS STEP_MS]
 *       send an axon.v1.QueryRequest to a tsdb's query service and print
 *       "status=S type=T" and one line per series: labels, then t:v
 *       points (a scalar prints its value)
 *   ax-testpeer promql-compare BASE_A BASE_B QUERIES TIMES RSTART REND STEP
 *       run every query of the file QUERIES (one a line; # comments;
 *       "$AT" is replaced by the first of TIMES) through both Prometheus
 *       query APIs: as instant queries at each of TIMES (comma-separated
 *       seconds) and as a range query RSTART..REND by STEP seconds; the
 *       answers must agree: both errors, or the same result type, the
 *       same series (label sets) and values equal within 1e-9 relative
 *       (NaN equals NaN).  Prints each mismatch and a summary.
 */
#include "ax_buf.h"
#include "ax_http.h"
#include "ax_labels.h"
#include "ax_msg.h"
#include "ax_rw.h"
#include "ax_units.h"
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include "axon/v1/alerts.pb-c.h"
#include "axon/v1/query.pb-c.h"
#include "axon/v1/samples.pb-c.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int freeport(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("freeport");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static int rw_send(int argc, char **argv)
{
	ax_rw_config_t cfg;
	ax_rw_sender_t *s;
	ax_err_t err;
	long series, samples, i, j;
	int64_t start, step, deadline;
	ax_rw_stats_t st;

	const char *metric = argc == 8 ? argv[7] : "test_rw_series";

	if (argc != 7 && argc != 8) {
		fprintf(stderr,
		    "usage: rw-send URL SERIES SAMPLES START_MS "
		    "STEP_MS [METRIC]\n");
		return 2;
	}
	series = atol(argv[3]);
	samples = atol(argv[4]);
	start = atoll(argv[5]);
	step = atoll(argv[6]);
	ax_rw_config_init(&cfg);
	cfg.url = argv[2];
	cfg.queue_config.min_shards =
	    1; /* one shard: time order across series */
	cfg.queue_config.batch_send_deadline_ms = 100;
	cfg.queue_config.max_samples_per_send = 100;
	cfg.queue_config.min_backoff_ms = 10;
	cfg.queue_config.max_backoff_ms = 200;
	if (ax_rw_sender_new(&cfg, NULL, &s, &err) != 0) {
		fprintf(stderr, "rw-send: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < series; i++) {
		char idx[32];
		ax_labels_t *ls;

		snprintf(idx, sizeof(idx), "%ld", i);
		if (ax_labels_from_strings(
		        &ls, &err, "__name__", metric, "idx", idx, NULL) != 0 ||
		    ax_rw_store_series(s, (uint64_t)i, ls) != 0) {
			fprintf(stderr, "rw-send: cannot store series\n");
			return 1;
		}
		ax_labels_free(ls);
	}
	/* sample-major order keeps each series' timestamps ascending */
	for (j = 0; j < samples; j++)
		for (i = 0; i < series; i++)
			if (ax_rw_append(s, (uint64_t)i, start + j * step,
			        (double)(i * 1000 + j), 10000) != 0) {
				fprintf(stderr, "rw-send: queue full\n");
				return 1;
			}
	deadline = ax_mono_ms() + 20000;
	do {
		ax_rw_stats(s, &st);
		if (st.sent + st.failed + st.dropped >=
		    (uint64_t)(series * samples))
			break;
		usleep(20000);
	} while (ax_mono_ms() < deadline);
	ax_rw_sender_stop_free(s, 1000);
	printf("sent=%llu failed=%llu retried=%llu dropped=%llu\n",
	    (unsigned long long)st.sent, (unsigned long long)st.failed,
	    (unsigned long long)st.retried, (unsigned long long)st.dropped);
	return st.sent == (uint64_t)(series * samples) ? 0 : 1;
}

static volatile sig_atomic_t g_stop;

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int batch_load(int argc, char **argv)
{
	ax_msg_opts_t o;
	ax_msg_client_t *c;
	ax_err_t err;
	long n, i;
	uint64_t session = 0, k = 0;
	int send_defs = 1;
	int64_t start, step = 1000;
	FILE *out;
	Axon__V1__SeriesDef *defs, **defp;
	Axon__V1__Label *lab, **labp;
	char(*vals)[16];
	uint64_t *refs;
	int64_t *ts;
	double *vs;

	if (argc != 6 && argc != 7) {
		fprintf(stderr,
		    "usage: batch-load ADDR SERIES OUTFILE START_MS "
		    "[STEP_MS]\n");
		return 2;
	}
	n = atol(argv[3]);
	start = atoll(argv[5]);
	if (argc == 7)
		step = atoll(argv[6]);
	out = fopen(argv[4], "a");
	if (out == NULL || n <= 0) {
		perror(argv[4]);
		return 1;
	}
	signal(SIGTERM, on_term);
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 400;
	o.retries = 0;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 100;
	if (ax_msg_client_open(argv[2], &o, &c, &err) != 0) {
		fprintf(stderr, "batch-load: %s\n", err.msg);
		return 1;
	}
	defs = calloc((size_t)n, sizeof(*defs));
	defp = calloc((size_t)n, sizeof(*defp));
	lab = calloc((size_t)n * 2, sizeof(*lab));
	labp = calloc((size_t)n * 2, sizeof(*labp));
	vals = calloc((size_t)n, sizeof(*vals));
	refs = calloc((size_t)n, sizeof(*refs));
	ts = calloc((size_t)n, sizeof(*ts));
	vs = calloc((size_t)n, sizeof(*vs));
	if (!defs || !defp || !lab || !labp || !vals || !refs || !ts || !vs)
		return 1;
	for (i = 0; i < n; i++) {
		axon__v1__series_def__init(&defs[i]);
		axon__v1__label__init(&lab[2 * i]);
		axon__v1__label__init(&lab[2 * i + 1]);
		snprintf(vals[i], sizeof(vals[i]), "%ld", i);
		lab[2 * i].name = "__name__";
		lab[2 * i].value = "load_series";
		lab[2 * i + 1].name = "s";
		lab[2 * i + 1].value = vals[i];
		labp[2 * i] = &lab[2 * i];
		labp[2 * i + 1] = &lab[2 * i + 1];
		defs[i].ref = (uint64_t)i + 1;
		defs[i].labels = &labp[2 * i];
		defs[i].n_labels = 2;
		defp[i] = &defs[i];
		refs[i] = (uint64_t)i + 1;
	}
	while (!g_stop) {
		Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT;
		Axon__V1__SampleBatchAck *ack;

		for (i = 0; i < n; i++) {
			ts[i] = start + (int64_t)k * step;
			vs[i] = (double)k;
		}
		b.version = 1;
		b.sender_id = "batch-load";
		b.session_id = session;
		b.batch_id = k + 1;
		if (send_defs) {
			b.series = defp;
			b.n_series = (size_t)n;
		}
		b.refs = refs;
		b.n_refs = (size_t)n;
		b.ts_ms = ts;
		b.n_ts_ms = (size_t)n;
		b.values = vs;
		b.n_values = (size_t)n;
		if (ax_msg_call(c, &b.base,
		        &axon__v1__sample_batch_ack__descriptor,
		        (ProtobufCMessage **)&ack, &err) != 0) {
			usleep(20000); /* peer down or slow: resend the same
			                  batch */
			continue;
		}
		switch (ack->status) {
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__ACCEPTED:
			if (ack->accepted + ack->out_of_order +
			            ack->duplicate_timestamp + ack->invalid +
			            ack->out_of_bounds !=
			        (uint64_t)n &&
			    ack->accepted != 0) {
				fprintf(stderr,
				    "batch %llu: partial ack %llu\n",
				    (unsigned long long)k,
				    (unsigned long long)ack->accepted);
			}
			fprintf(out, "%llu\n", (unsigned long long)k);
			fflush(out);
			session = ack->session_id;
			send_defs = 0;
			k++;
			break;
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__RESET_SESSION:
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__UNKNOWN_REFS:
			session = ack->session_id;
			send_defs = 1;
			break;
		case AXON__V1__SAMPLE_BATCH_ACK__STATUS__RETRY:
			usleep(50000);
			break;
		default:
			fprintf(
			    stderr, "batch-load: invalid: %s\n", ack->message);
			protobuf_c_message_free_unpacked(&ack->base, NULL);
			return 1;
		}
		protobuf_c_message_free_unpacked(&ack->base, NULL);
	}
	printf("acked=%llu\n", (unsigned long long)k);
	fclose(out);
	ax_msg_client_close(c);
	return 0;
}

static Axon__V1__Label **json_labels(const cJSON *o, size_t *n)
{
	const cJSON *e;
	Axon__V1__Label **v;
	size_t i = 0;

	*n = (size_t)cJSON_GetArraySize(o);
	v = calloc(*n + 1, sizeof(*v));
	cJSON_ArrayForEach(e, o)
	{
		v[i] = calloc(1, sizeof(**v));
		axon__v1__label__init(v[i]);
		v[i]->name = e->string;
		v[i]->value = cJSON_IsString(e) ? e->valuestring : "";
		i++;
	}
	return v;
}

static int alert_batch(int argc, char **argv)
{
	Axon__V1__AlertBatch b = AXON__V1__ALERT_BATCH__INIT;
	Axon__V1__AlertBatchAck *ack;
	ax_msg_opts_t o;
	ax_msg_client_t *c;
	ax_err_t err;
	cJSON *j;
	const cJSON *e;
	size_t i = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: alert-batch ADDR JSON [VERSION]\n");
		return 2;
	}
	if ((j = cJSON_Parse(argv[3])) == NULL || !cJSON_IsArray(j)) {
		fprintf(stderr, "alert-batch: JSON must be a list\n");
		return 2;
	}
	b.version = argc > 4 ? (uint32_t)atoi(argv[4]) : 1;
	b.sender_id = "ax-testpeer";
	b.batch_id = 42;
	b.n_alerts = (size_t)cJSON_GetArraySize(j);
	b.alerts = calloc(b.n_alerts + 1, sizeof(*b.alerts));
	cJSON_ArrayForEach(e, j)
	{
		Axon__V1__Alert *a = calloc(1, sizeof(*a));
		const cJSON *t;

		axon__v1__alert__init(a);
		a->labels =
		    json_labels(cJSON_GetObjectItem(e, "labels"), &a->n_labels);
		a->annotations = json_labels(
		    cJSON_GetObjectItem(e, "annotations"), &a->n_annotations);
		if ((t = cJSON_GetObjectItem(e, "startsAt")) &&
		    cJSON_IsNumber(t))
			a->starts_at_ms = (int64_t)t->valuedouble;
		if ((t = cJSON_GetObjectItem(e, "endsAt")) && cJSON_IsNumber(t))
			a->ends_at_ms = (int64_t)t->valuedouble;
		if ((t = cJSON_GetObjectItem(e, "generatorURL")) &&
		    cJSON_IsString(t))
			a->generator_url = t->valuestring;
		b.alerts[i++] = a;
	}
	ax_msg_opts_defaults(&o);
	o.timeout_ms = 3000;
	if (ax_msg_client_open(argv[2], &o, &c, &err) != 0 ||
	    ax_msg_call(c, &b.base, &axon__v1__alert_batch_ack__descriptor,
	        (ProtobufCMessage **)&ack, &err) != 0) {
		fprintf(stderr, "alert-batch: %s\n", err.msg);
		return 1;
	}
	printf("{\"batch_id\":%llu,\"accepted\":%u,\"invalid\":%u,"
	       "\"retry\":%s,\"message\":",
	    (unsigned long long)ack->batch_id, ack->accepted, ack->invalid,
	    ack->retry ? "true" : "false");
	{
		ax_buf_t m = AX_BUF_INIT;

		ax_buf_put_json_str(&m, ack->message ? ack->message : "");
		printf("%s}\n", m.p ? m.p : "\"\"");
		ax_buf_fini(&m);
	}
	protobuf_c_message_free_unpacked(&ack->base, NULL);
	ax_msg_client_close(c);
	return 0;
}

static int batch_exemplars(int argc, char **argv)
{
	ax_msg_opts_t o;
	ax_msg_client_t *c;
	ax_err_t err;
	Axon__V1__SampleBatch b = AXON__V1__SAMPLE_BATCH__INIT;
	Axon__V1__SampleBatchAck *ack;
	long n, i;
	int64_t ts;
	Axon__V1__SeriesDef *defs, **defp;
	Axon__V1__Label *lab, **labp, *tl, **tlp;
	Axon__V1__Exemplar *ex, **exp;
	char(*vals)[16], (*tids)[32];
	uint64_t *refs;
	int64_t *tss;
	double *vs;

	if (argc != 5) {
		fprintf(stderr, "usage: batch-exemplars ADDR SERIES TS_MS\n");
		return 2;
	}
	n = atol(argv[3]);
	ts = atoll(argv[4]);
	defs = calloc((size_t)n, sizeof(*defs));
	defp = calloc((size_t)n, sizeof(*defp));
	lab = calloc((size_t)n * 2, sizeof(*lab));
	labp = calloc((size_t)n * 2, sizeof(*labp));
	tl = calloc((size_t)n, sizeof(*tl));
	tlp = calloc((size_t)n, sizeof(*tlp));
	ex = calloc((size_t)n, sizeof(*ex));
	exp = calloc((size_t)n, sizeof(*exp));
	vals = calloc((size_t)n, sizeof(*vals));
	tids = calloc((size_t)n, sizeof(*tids));
	refs = calloc((size_t)n, sizeof(*refs));
	tss = calloc((size_t)n, sizeof(*tss));
	vs = calloc((size_t)n, sizeof(*vs));
	if (!defs || !defp || !lab || !labp || !tl || !tlp || !ex || !exp ||
	    !vals || !tids || !refs || !tss || !vs)
		return 1;
	for (i = 0; i < n; i++) {
		axon__v1__series_def__init(&defs[i]);
		axon__v1__label__init(&lab[2 * i]);
		axon__v1__label__init(&lab[2 * i + 1]);
		axon__v1__label__init(&tl[i]);
		axon__v1__exemplar__init(&ex[i]);
		snprintf(vals[i], sizeof(vals[i]), "%ld", i);
		snprintf(tids[i], sizeof(tids[i]), "trace-%ld", i);
		lab[2 * i].name = "__name__";
		lab[2 * i].value = "ex_series";
		lab[2 * i + 1].name = "i";
		lab[2 * i + 1].value = vals[i];
		labp[2 * i] = &lab[2 * i];
		labp[2 * i + 1] = &lab[2 * i + 1];
		defs[i].ref = (uint64_t)i + 1;
		defs[i].labels = &labp[2 * i];
		defs[i].n_labels = 2;
		defp[i] = &defs[i];
		refs[i] = (uint64_t)i + 1;
		tss[i] = ts;
		vs[i] = (double)i;
		tl[i].name = "trace_id";
		tl[i].value = tids[i];
		tlp[i] = &tl[i];
		ex[i].ref = (uint64_t)i + 1;
		ex[i].labels = &tlp[i];
		ex[i].n_labels = 1;
		ex[i].value = (double)i / 10;
		ex[i].ts_ms = ts - 500;
		ex[i].has_ts = 1;
		exp[i] = &ex[i];
	}
	b.version = 1;
	b.sender_id = "batch-exemplars";
	b.batch_id = 1;
	b.series = defp;
	b.n_series = (size_t)n;
	b.refs = refs;
	b.n_refs = (size_t)n;
	b.ts_ms = tss;
	b.n_ts_ms = (size_t)n;
	b.values = vs;
	b.n_values = (size_t)n;
	b.exemplars = exp;
	b.n_exemplars = (size_t)n;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 3000;
	if (ax_msg_client_open(argv[2], &o, &c, &err) != 0 ||
	    ax_msg_call(c, &b.base, &axon__v1__sample_batch_ack__descriptor,
	        (ProtobufCMessage **)&ack, &err) != 0) {
		fprintf(stderr, "batch-exemplars: %s\n", err.msg);
		return 1;
	}
	printf("status=%d accepted=%llu\n", ack->status,
	    (unsigned long long)ack->accepted);
	return ack->status == 0 ? 0 : 1;
}

/* rw-sink ADDR: answer every POST with 204, as a remote-write receiver
 * that stores nothing (a load sink for benchmarks). */
static void h_sink(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->status = 204;
}

static int rw_sink(const char *addr)
{
	ax_http_opts_t o;
	ax_http_server_t *s;
	ax_err_t err;

	memset(&o, 0, sizeof(o));
	o.listen = addr;
	o.max_body_bytes = 64u << 20;
	if (ax_http_server_new(&o, &s, &err) != 0 ||
	    ax_http_route(s, "POST", "/*", h_sink, NULL) != 0 ||
	    ax_http_server_start(s, &err) != 0) {
		fprintf(stderr, "rw-sink: %s\n", err.msg);
		return 1;
	}
	for (;;)
		pause();
}

static char *g_file_body;
static const char *g_file_ctype = "application/json";
static const char *g_live_path; /* http-live: read for every request */

static void h_file(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->content_type = g_file_ctype;
	if (g_live_path) {
		FILE *f = fopen(g_live_path, "r");
		char tmp[4096];
		size_t n;

		if (f == NULL) {
			resp->status = 404;
			return;
		}
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			ax_buf_append(&resp->body, tmp, n);
		fclose(f);
		return;
	}
	ax_buf_puts(&resp->body, g_file_body);
}

static int http_file(const char *addr, const char *file)
{
	FILE *f = fopen(file, "r");
	ax_buf_t b = AX_BUF_INIT;
	char tmp[4096];
	size_t n;
	ax_http_opts_t o;
	ax_http_server_t *s;
	ax_err_t err;

	if (f == NULL) {
		perror(file);
		return 1;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(&b, tmp, n);
	fclose(f);
	g_file_body = b.p ? b.p : (char *)"";
	memset(&o, 0, sizeof(o));
	o.listen = addr;
	if (ax_http_server_new(&o, &s, &err) != 0 ||
	    ax_http_route(s, "GET", "/*", h_file, NULL) != 0 ||
	    ax_http_server_start(s, &err) != 0) {
		fprintf(stderr, "http-file: %s\n", err.msg);
		return 1;
	}
	for (;;)
		pause();
}

/* count-targets N PORTFILE HITLOG: N metrics targets on free loopback
 * ports (one per line in PORTFILE); every request is appended to HITLOG
 * as "<port> <unix ms>". */
static FILE *g_hits;
static pthread_mutex_t g_hits_mu = PTHREAD_MUTEX_INITIALIZER;

static int g_count_ports[1000];

static void h_count(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	int port = g_count_ports[(intptr_t)arg];

	(void)req;
	pthread_mutex_lock(&g_hits_mu);
	fprintf(g_hits, "%d %lld\n", port, (long long)ax_now_ms());
	fflush(g_hits);
	pthread_mutex_unlock(&g_hits_mu);
	resp->content_type = "text/plain; version=0.0.4";
	ax_buf_printf(&resp->body,
	    "# TYPE axon_test_target_info "
	    "gauge\naxon_test_target_info{port=\"%d\"} 1\n",
	    port);
}

static int count_targets(int argc, char **argv)
{
	int n = argc == 5 ? atoi(argv[2]) : 0, i;
	FILE *pf;

	if (n <= 0 || n > 1000) {
		fprintf(stderr, "usage: count-targets N PORTFILE HITLOG\n");
		return 2;
	}
	if ((g_hits = fopen(argv[4], "a")) == NULL ||
	    (pf = fopen(argv[3], "w")) == NULL) {
		perror("count-targets");
		return 1;
	}
	for (i = 0; i < n; i++) {
		ax_http_opts_t o;
		ax_http_server_t *s;
		ax_err_t err;
		memset(&o, 0, sizeof(o));
		o.listen = "127.0.0.1:0";
		o.threads = 1;
		if (ax_http_server_new(&o, &s, &err) != 0 ||
		    ax_http_route(
		        s, "GET", "/*", h_count, (void *)(intptr_t)i) != 0 ||
		    ax_http_server_start(s, &err) != 0) {
			fprintf(stderr, "count-targets: %s\n", err.msg);
			return 1;
		}
		g_count_ports[i] = ax_http_server_port(s);
		fprintf(pf, "%d\n", g_count_ports[i]);
	}
	fclose(pf);
	for (;;)
		pause();
}

/* dns-server ADDR ZONEFILE: a small authoritative DNS server over UDP.
 * ZONEFILE (re-read for every question) has lines "name. TYPE data":
 * A 1.2.3.4 | AAAA ::1 | SRV prio weight port target. | MX pref host.
 * A known name without records of the asked type is NOERROR with no
 * answers; an unknown name is NXDOMAIN. */
static size_t put_name(uint8_t *o, const char *name)
{
	size_t n = 0;
	const char *p = name;

	while (*p && *p != '.') {
		const char *e = strchr(p, '.');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		o[n++] = (uint8_t)l;
		memcpy(o + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	o[n++] = 0;
	return n;
}

static int dns_server(const char *addr, const char *zone)
{
	struct sockaddr_in sa;
	char host[64];
	int port, fd;

	if (ax_http_split_hostport(addr, host, sizeof(host), &port) != 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("dns-server");
		return 1;
	}
	for (;;) {
		uint8_t q[512], r[4096];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(
		    fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		char qname[300] = "", line[512];
		size_t i = 12, qn = 0, rl, an = 0;
		unsigned qtype;
		int known = 0;
		FILE *f;

		if (len < 17)
			continue;
		while (
		    i < (size_t)len && q[i] != 0 && qn < sizeof(qname) - 70) {
			size_t l = q[i++], k;

			for (k = 0; k < l && i < (size_t)len; k++)
				qname[qn++] = (char)tolower(q[i++]);
			qname[qn++] = '.';
		}
		qname[qn] = '\0';
		if (qn == 0)
			strcpy(qname, ".");
		i++;
		if (i + 4 > (size_t)len)
			continue;
		qtype = (unsigned)(q[i] << 8 | q[i + 1]);
		i += 4;
		memcpy(r, q, i);             /* header and question */
		r[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
		r[3] = 0x00;
		r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
		r[4] = 0;
		r[5] = 1;
		rl = i;
		if ((f = fopen(zone, "r")) != NULL) {
			while (fgets(line, sizeof(line), f)) {
				char name[300], type[16], d1[300], d2[64],
				    d3[64], d4[300];
				int nf = sscanf(line,
				    "%299s %15s %299s %63s %63s %299s", name,
				    type, d1, d2, d3, d4);
				unsigned t;
				uint8_t rd[600];
				size_t rdl = 0, k;

				if (nf < 3)
					continue;
				for (k = 0; name[k]; k++)
					name[k] = (char)tolower(name[k]);
				if (strcmp(name, qname) != 0)
					continue;
				known = 1;
				t = strcmp(type, "A") == 0      ? 1
				    : strcmp(type, "AAAA") == 0 ? 28
				    : strcmp(type, "SRV") == 0  ? 33
				    : strcmp(type, "MX") == 0   ? 15
				                                : 0;
				if (t != qtype)
					continue;
				if (t == 1 && inet_pton(AF_INET, d1, rd) == 1)
					rdl = 4;
				else if (t == 28 &&
				    inet_pton(AF_INET6, d1, rd) == 1)
					rdl = 16;
				else if (t == 33 && nf == 6) {
					unsigned a = (unsigned)atoi(d1),
					         b = (unsigned)atoi(d2),
					         c = (unsigned)atoi(d3);

					rd[0] = (uint8_t)(a >> 8);
					rd[1] = (uint8_t)a;
					rd[2] = (uint8_t)(b >> 8);
					rd[3] = (uint8_t)b;
					rd[4] = (uint8_t)(c >> 8);
					rd[5] = (uint8_t)c;
					rdl = 6 + put_name(rd + 6, d4);
				} else if (t == 15 && nf >= 4) {
					unsigned a = (unsigned)atoi(d1);

					rd[0] = (uint8_t)(a >> 8);
					rd[1] = (uint8_t)a;
					rdl = 2 + put_name(rd + 2, d2);
				} else
					continue;
				if (rl + 12 + rdl > sizeof(r))
					break;
				r[rl++] = 0xc0; /* the question's name */
				r[rl++] = 12;
				r[rl++] = (uint8_t)(t >> 8);
				r[rl++] = (uint8_t)t;
				r[rl++] = 0;
				r[rl++] = 1; /* IN */
				r[rl++] = 0;
				r[rl++] = 0;
				r[rl++] = 0;
				r[rl++] = 30; /* TTL */
				r[rl++] = (uint8_t)(rdl >> 8);
				r[rl++] = (uint8_t)rdl;
				memcpy(r + rl, rd, rdl);
				rl += rdl;
				an++;
			}
			fclose(f);
		}
		r[6] = (uint8_t)(an >> 8);
		r[7] = (uint8_t)an;
		if (!known)
			r[3] = 3; /* NXDOMAIN */
		sendto(fd, r, rl, 0, (struct sockaddr *)&from, fl);
	}
}

/* k8s-api ADDR DIR: a Kubernetes API fixture (see the usage above). */
static const char *g_k8s_dir;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ax_buf_t b = AX_BUF_INIT;
	char tmp[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(&b, tmp, n);
	fclose(f);
	ax_buf_putc(&b, '\0');
	return ax_buf_take(&b, NULL);
}

static long file_long(const char *dir, const char *res, const char *ext)
{
	char path[1024], *s;
	long v;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, res, ext);
	if ((s = slurp(path)) == NULL)
		return 0;
	v = atol(s);
	free(s);
	return v;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read an HTTP request head (up to the blank line) into buf, NUL-ended.
 * Returns its length. */
static size_t read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len < cap - 1) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	return len;
}

static int send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

static int ns_ok(const cJSON *obj, const char *ns)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "namespace");

	return ns == NULL ||
	    (cJSON_IsString(v) && strcmp(v->valuestring, ns) == 0);
}

static const char *k8s_gone =
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
    "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"too old resource version\",\"reason\":\"Expired\","
    "\"code\":410}}\n";

static void *k8s_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[8192], path[2048] = "", auth[512] = "", res[64] = "",
	                ns[128] = "";
	size_t len = 0;
	const char *q, *dir = g_k8s_dir;
	long rv = 0;
	int watch = 0;
	char *tok, logp[1024], tokp[1024];
	FILE *lf;

	len = read_request(fd, req, sizeof(req));
	req[len] = '\0';
	sscanf(req, "GET %2047s", path);
	{
		const char *a = strcasestr(req, "\r\nAuthorization: ");

		if (a)
			sscanf(a + 17, "%511[^\r]", auth);
	}
	snprintf(logp, sizeof(logp), "%s/requests.log", dir);
	if ((lf = fopen(logp, "a")) != NULL) {
		fprintf(lf, "%s %s\n", path, auth);
		fclose(lf);
	}
	snprintf(tokp, sizeof(tokp), "%s/token", dir);
	if ((tok = slurp(tokp)) != NULL) {
		char want[600];

		tok[strcspn(tok, "\r\n")] = '\0';
		snprintf(want, sizeof(want), "Bearer %s", tok);
		free(tok);
		if (strcmp(auth, want) != 0) {
			send_str(fd,
			    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0"
			    "\r\nConnection: close\r\n\r\n");
			close(fd);
			return NULL;
		}
	}
	if (sscanf(path, "/api/v1/namespaces/%127[^/]/%63[^?]", ns, res) != 2) {
		ns[0] = '\0';
		sscanf(path, "/api/v1/%63[^?]", res);
	}
	if ((q = strchr(path, '?')) != NULL) {
		watch = strstr(q, "watch=true") != NULL || strstr(q, "watch=1");
		if (strstr(q, "resourceVersion="))
			rv = atol(strstr(q, "resourceVersion=") + 16);
	}
	if (strcmp(res, "pods") && strcmp(res, "endpoints") &&
	    strcmp(res, "services")) {
		send_str(fd,
		    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		close(fd);
		return NULL;
	}
	if (!watch) {
		char lp[1024], hdr[256], *body;
		cJSON *list, *items, *out;
		size_t i;

		snprintf(lp, sizeof(lp), "%s/%s.json", dir, res);
		body = slurp(lp);
		list = body ? cJSON_Parse(body) : NULL;
		free(body);
		if (list == NULL)
			list = cJSON_Parse(
			    "{\"metadata\":{\"resourceVersion\":\"1\"},"
			    "\"items\":[]}");
		items = cJSON_GetObjectItemCaseSensitive(list, "items");
		for (i = (size_t)cJSON_GetArraySize(items); i > 0; i--)
			if (!ns_ok(cJSON_GetArrayItem(items, (int)i - 1),
			        ns[0] ? ns : NULL))
				cJSON_DeleteItemFromArray(items, (int)i - 1);
		out = list;
		body = cJSON_PrintUnformatted(out);
		snprintf(hdr, sizeof(hdr),
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    strlen(body));
		send_all(fd, hdr, strlen(hdr));
		send_all(fd, body, strlen(body));
		free(body);
		cJSON_Delete(list);
		close(fd);
		return NULL;
	}
	send_str(fd,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\n\r\n");
	{
		long sent = rv;
		int64_t end = ax_mono_ms() + 30000;

		while (ax_mono_ms() < end) {
			char wp[1024], *body, *line, *save = NULL;

			if (file_long(dir, res, "minrv") > sent) {
				send_all(fd, k8s_gone, strlen(k8s_gone));
				break;
			}
			snprintf(wp, sizeof(wp), "%s/%s.watch", dir, res);
			body = slurp(wp);
			for (line = body ? strtok_r(body, "\n", &save) : NULL;
			     line; line = strtok_r(NULL, "\n", &save)) {
				long lrv = atol(line);
				const char *js = strchr(line, ' ');
				cJSON *ev;

				if (lrv <= sent || js == NULL)
					continue;
				ev = cJSON_Parse(js + 1);
				if (ev &&
				    ns_ok(cJSON_GetObjectItemCaseSensitive(
				              ev, "object"),
				        ns[0] ? ns : NULL)) {
					if (send_all(fd, js + 1,
					        strlen(js + 1)) != 0 ||
					    send_all(fd, "\n", 1) != 0) {
						cJSON_Delete(ev);
						free(body);
						close(fd);
						return NULL;
					}
				}
				cJSON_Delete(ev);
				sent = lrv;
			}
			free(body);
			usleep(50000);
		}
	}
	close(fd);
	return NULL;
}

static int k8s_api(const char *addr, const char *dir)
{
	struct sockaddr_in sa;
	char host[64];
	int port, fd, one = 1;

	g_k8s_dir = dir;
	if (ax_http_split_hostport(addr, host, sizeof(host), &port) != 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 64) != 0) {
		perror("k8s-api");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		pthread_t th;

		if (c < 0)
			continue;
		if (pthread_create(&th, NULL, k8s_conn, (void *)(intptr_t)c) ==
		    0)
			pthread_detach(th);
		else
			close(c);
	}
}

/* fault-targets PORTFILE: scrape targets that misbehave, one listener
 * each on a free loopback port, listed in PORTFILE as "<mode> <port>". */
static void *fault_conn(void *arg)
{
	intptr_t v = (intptr_t)arg;
	int fd = (int)(v >> 8), mode = (int)(v & 0xff);
	char req[4096];
	static const char ok_body[] = "# TYPE fault_ok gauge\nfault_ok 1\n";
	char hdr[256];

	read_request(fd, req, sizeof(req));
	switch (mode) {
	case 0: /* ok */
		snprintf(hdr, sizeof(hdr),
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n",
		    strlen(ok_body));
		send_str(fd, hdr);
		send_str(fd, ok_body);
		break;
	case 1: /* hang: never answers */ sleep(20); break;
	case 2: /* 500 */
		send_str(fd,
		    "HTTP/1.1 500 Internal Server Error\r\n"
		    "Content-Length: 4\r\nConnection: close\r\n\r\n"
		    "boom");
		break;
	case 3: /* garbage */
		send_str(fd,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 23\r\nConnection: close\r\n\r\n"
		    "this is { not metrics\n\n");
		break;
	case 4:   /* big: 4 MiB of valid samples, over the limit */
	case 6: { /* a million series */
		char line[64];
		int i, n = mode == 4 ? 200000 : 1000000;

		send_str(fd,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4\r\nConnection: close\r\n\r\n");
		ax_buf_t chunk = AX_BUF_INIT;

		for (i = 0; i < n; i++) {
			snprintf(line, sizeof(line),
			    "fault_series{i=\"%d\"} 1\n", i);
			ax_buf_puts(&chunk, line);
			if (chunk.len >= 65536 || i == n - 1) {
				if (send_all(fd, chunk.p, chunk.len) != 0)
					break;
				ax_buf_reset(&chunk);
			}
		}
		ax_buf_fini(&chunk);
		break;
	}
	case 5: /* closes mid-body */
		send_str(fd,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4\r\nContent-Length: 100000\r\n"
		    "Connection: close\r\n\r\nfault_half 1\nfault_");
		break;
	}
	close(fd);
	return NULL;
}

static int fault_targets(const char *portfile)
{
	static const char *const modes[] = {
	    "ok", "hang", "status500", "garbage", "big", "midclose", "million"};
	int lfd[7], i;
	FILE *pf = fopen(portfile, "w");

	if (pf == NULL) {
		perror(portfile);
		return 1;
	}
	for (i = 0; i < 7; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd[i] < 0 ||
		    bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(lfd[i], 64) != 0 ||
		    getsockname(lfd[i], (struct sockaddr *)&sa, &sl) != 0) {
			perror("fault-targets");
			return 1;
		}
		fprintf(pf, "%s %d\n", modes[i], ntohs(sa.sin_port));
	}
	fclose(pf);
	for (;;) {
		fd_set rs;
		int mx = 0;

		FD_ZERO(&rs);
		for (i = 0; i < 7; i++) {
			FD_SET(lfd[i], &rs);
			if (lfd[i] > mx)
				mx = lfd[i];
		}
		if (select(mx + 1, &rs, NULL, NULL, NULL) <= 0)
			continue;
		for (i = 0; i < 7; i++) {
			int c;
			pthread_t th;

			if (!FD_ISSET(lfd[i], &rs) ||
			    (c = accept(lfd[i], NULL, NULL)) < 0)
				continue;
			if (pthread_create(&th, NULL, fault_conn,
			        (void *)(((intptr_t)c << 8) | i)) == 0)
				pthread_detach(th);
			else
				close(c);
		}
	}
}

static int echo_rev(void *arg, const uint8_t *req, size_t len, ax_buf_t *reply)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		ax_buf_putc(reply, (char)req[len - 1 - i]);
	return 0;
}

static int query_call(int argc, char **argv)
{
	Axon__V1__QueryRequest r = AXON__V1__QUERY_REQUEST__INIT;
	Axon__V1__QueryResponse *resp = NULL;
	ax_msg_client_t *c;
	ax_msg_opts_t o;
	ax_err_t err;
	size_t i, j;

	if (argc != 5 && argc != 8) {
		fprintf(stderr,
		    "usage: query ADDR EXPR TIME_MS [START END STEP]\n");
		return 2;
	}
	r.version = 1;
	r.expr = argv[3];
	r.time_ms = atoll(argv[4]);
	if (argc == 8) {
		r.start_ms = atoll(argv[5]);
		r.end_ms = atoll(argv[6]);
		r.step_ms = atoll(argv[7]);
	}
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 10000;
	o.retries = 1;
	if (ax_msg_client_open(argv[2], &o, &c, &err) != 0 ||
	    ax_msg_call(c, &r.base, &axon__v1__query_response__descriptor,
	        (ProtobufCMessage **)&resp, &err) != 0) {
		fprintf(stderr, "query: %s\n", err.msg);
		return 1;
	}
	printf("status=%s type=%s%s%s\n",
	    protobuf_c_enum_descriptor_get_value(
	        &axon__v1__query_response__status__descriptor, resp->status)
	        ->name,
	    protobuf_c_enum_descriptor_get_value(
	        &axon__v1__query_response__result_type__descriptor,
	        resp->result_type)
	        ->name,
	    resp->error && *resp->error ? " error=" : "",
	    resp->error ? resp->error : "");
	if (resp->result_type ==
	        AXON__V1__QUERY_RESPONSE__RESULT_TYPE__SCALAR &&
	    resp->status == AXON__V1__QUERY_RESPONSE__STATUS__OK)
		printf("%.17g\n", resp->scalar);
	for (i = 0; i < resp->n_series; i++) {
		Axon__V1__Series *s = resp->series[i];

		printf("{");
		for (j = 0; j < s->n_labels; j++)
			printf("%s%s=\"%s\"", j ? "," : "", s->labels[j]->name,
			    s->labels[j]->value);
		printf("}");
		for (j = 0; j < s->n_points; j++)
			printf(" %lld:%.17g", (long long)s->points[j]->ts_ms,
			    s->points[j]->value);
		printf("\n");
	}
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	ax_msg_client_close(c);
	return 0;
}

/* ---- promql-compare ---- */

static size_t cmp_write(char *p, size_t sz, size_t n, void *arg)
{
	ax_buf_append(arg, p, sz * n);
	return sz * n;
}

/* GET base+path with the query parameters; OUT: parsed JSON or NULL. */
static cJSON *api_get(CURL *c, const char *base, const char *path,
    const char *query, const char *params, long *code)
{
	ax_buf_t url = AX_BUF_INIT, body = AX_BUF_INIT;
	char *enc = curl_easy_escape(c, query, 0);
	cJSON *j = NULL;

	ax_buf_printf(&url, "%s%s?query=%s&%s", base, path, enc, params);
	curl_free(enc);
	curl_easy_setopt(c, CURLOPT_URL, url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cmp_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	*code = 0;
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
		ax_buf_putc(&body, '\0');
		j = cJSON_Parse(body.p);
	}
	ax_buf_fini(&url);
	ax_buf_fini(&body);
	return j;
}

static double num_of(const cJSON *pt, int idx)
{
	const cJSON *x = cJSON_GetArrayItem(pt, idx);

	if (cJSON_IsNumber(x))
		return x->valuedouble;
	if (cJSON_IsString(x)) {
		const char *s = x->valuestring;

		if (strcmp(s, "NaN") == 0)
			return NAN;
		if (strcmp(s, "+Inf") == 0)
			return INFINITY;
		if (strcmp(s, "-Inf") == 0)
			return -INFINITY;
		return strtod(s, NULL);
	}
	return NAN;
}

static int close_enough(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (a == b)
		return 1;
	if (isinf(a) || isinf(b))
		return 0;
	return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) ||
	    fabs(a - b) < 1e-300;
}

/* Canonical text of a metric object (keys sorted). */
static void metric_key(const cJSON *m, char *out, size_t cap)
{
	const cJSON *it;
	const char *names[64];
	size_t n = 0, i, j, w = 0;

	cJSON_ArrayForEach(it, m) if (n < 64) names[n++] = it->string;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	out[0] = '\0';
	for (i = 0; i < n && w < cap; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, names[i]);

		w += (size_t)snprintf(out + w, cap - w, "%s%s=\"%s\"",
		    i ? "," : "", names[i],
		    cJSON_IsString(v) ? v->valuestring : "?");
	}
}

/* Compare two points or arrays of points; returns 0 when equal. */
static int cmp_points(const cJSON *a, const cJSON *b, char *why, size_t cap)
{
	double ta = num_of(a, 0), tb = num_of(b, 0);
	double va = num_of(a, 1), vb = num_of(b, 1);

	if (ta != tb) {
		snprintf(why, cap, "timestamps %.3f vs %.3f", ta, tb);
		return -1;
	}
	if (!close_enough(va, vb)) {
		snprintf(why, cap, "at %.3f: %.17g vs %.17g", ta, va, vb);
		return -1;
	}
	return 0;
}

static const cJSON *find_series(const cJSON *res, const char *key)
{
	const cJSON *it;
	char k[2048];

	cJSON_ArrayForEach(it, res)
	{
		metric_key(cJSON_GetObjectItemCaseSensitive(it, "metric"), k,
		    sizeof(k));
		if (strcmp(k, key) == 0)
			return it;
	}
	return NULL;
}

static int cmp_answers(
    const cJSON *a, const cJSON *b, long ca, long cb, char *why, size_t cap)
{
	const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "status");
	const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "status");
	const cJSON *da, *db, *ra, *rb, *it;
	const char *ta, *tb;

	if (!cJSON_IsString(sa) || !cJSON_IsString(sb)) {
		snprintf(why, cap, "no status (HTTP %ld / %ld)", ca, cb);
		return -1;
	}
	if (strcmp(sa->valuestring, sb->valuestring) != 0) {
		const cJSON *ea = cJSON_GetObjectItemCaseSensitive(a, "error");
		const cJSON *eb = cJSON_GetObjectItemCaseSensitive(b, "error");

		snprintf(why, cap, "status %s vs %s (%s | %s)", sa->valuestring,
		    sb->valuestring, cJSON_IsString(ea) ? ea->valuestring : "",
		    cJSON_IsString(eb) ? eb->valuestring : "");
		return -1;
	}
	if (strcmp(sa->valuestring, "error") == 0) {
		const cJSON *ea =
		    cJSON_GetObjectItemCaseSensitive(a, "errorType");
		const cJSON *eb =
		    cJSON_GetObjectItemCaseSensitive(b, "errorType");

		if (ca != cb || !cJSON_IsString(ea) || !cJSON_IsString(eb) ||
		    strcmp(ea->valuestring, eb->valuestring) != 0) {
			snprintf(why, cap,
			    "errors differ: HTTP %ld %s vs %ld %s", ca,
			    cJSON_IsString(ea) ? ea->valuestring : "?", cb,
			    cJSON_IsString(eb) ? eb->valuestring : "?");
			return -1;
		}
		return 0;
	}
	da = cJSON_GetObjectItemCaseSensitive(a, "data");
	db = cJSON_GetObjectItemCaseSensitive(b, "data");
	ta = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(da, "resultType"));
	tb = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(db, "resultType"));
	if (ta == NULL || tb == NULL || strcmp(ta, tb) != 0) {
		snprintf(why, cap, "resultType %s vs %s", ta ? ta : "?",
		    tb ? tb : "?");
		return -1;
	}
	ra = cJSON_GetObjectItemCaseSensitive(da, "result");
	rb = cJSON_GetObjectItemCaseSensitive(db, "result");
	if (strcmp(ta, "scalar") == 0)
		return cmp_points(ra, rb, why, cap);
	if (strcmp(ta, "string") == 0) {
		const char *x = cJSON_GetStringValue(cJSON_GetArrayItem(ra, 1));
		const char *y = cJSON_GetStringValue(cJSON_GetArrayItem(rb, 1));

		if (!x || !y || strcmp(x, y) != 0) {
			snprintf(why, cap, "strings differ");
			return -1;
		}
		return 0;
	}
	if (cJSON_GetArraySize(ra) != cJSON_GetArraySize(rb)) {
		snprintf(why, cap, "%d vs %d series", cJSON_GetArraySize(ra),
		    cJSON_GetArraySize(rb));
		return -1;
	}
	cJSON_ArrayForEach(it, ra)
	{
		char k[2048];
		const cJSON *o;

		metric_key(cJSON_GetObjectItemCaseSensitive(it, "metric"), k,
		    sizeof(k));
		if ((o = find_series(rb, k)) == NULL) {
			snprintf(why, cap, "series {%s} only in the first", k);
			return -1;
		}
		if (strcmp(ta, "vector") == 0) {
			if (cmp_points(
			        cJSON_GetObjectItemCaseSensitive(it, "value"),
			        cJSON_GetObjectItemCaseSensitive(o, "value"),
			        why, cap) != 0) {
				char t[1024];

				snprintf(t, sizeof(t), "{%s} %s", k, why);
				snprintf(why, cap, "%s", t);
				return -1;
			}
		} else {
			const cJSON *va =
			    cJSON_GetObjectItemCaseSensitive(it, "values");
			const cJSON *vb =
			    cJSON_GetObjectItemCaseSensitive(o, "values");
			int i, n = cJSON_GetArraySize(va);

			if (n != cJSON_GetArraySize(vb)) {
				snprintf(why, cap, "{%s}: %d vs %d points", k,
				    n, cJSON_GetArraySize(vb));
				return -1;
			}
			for (i = 0; i < n; i++)
				if (cmp_points(cJSON_GetArrayItem(va, i),
				        cJSON_GetArrayItem(vb, i), why,
				        cap) != 0) {
					char t[1024];

					snprintf(
					    t, sizeof(t), "{%s} %s", k, why);
					snprintf(why, cap, "%s", t);
					return -1;
				}
		}
	}
	return 0;
}

static int promql_compare(int argc, char **argv)
{
	FILE *f;
	char line[4096], times[512], *tp, *save = NULL;
	long tv[16];
	int nt = 0, nq = 0, ncmp = 0, bad = 0, nonempty = 0, i;
	CURL *c;

	if (argc != 9) {
		fprintf(stderr,
		    "usage: promql-compare BASE_A BASE_B QUERIES "
		    "TIMES RSTART REND STEP\n");
		return 2;
	}
	snprintf(times, sizeof(times), "%s", argv[5]);
	for (tp = strtok_r(times, ",", &save); tp && nt < 16;
	     tp = strtok_r(NULL, ",", &save))
		tv[nt++] = atol(tp);
	if ((f = fopen(argv[4], "r")) == NULL) {
		perror(argv[4]);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	while (fgets(line, sizeof(line), f)) {
		char q[4096], *at, params[256];
		size_t l;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		/* $AT: the first evaluation time, for @ modifiers */
		snprintf(q, sizeof(q), "%s", line);
		while ((at = strstr(q, "$AT")) != NULL) {
			char rest[4096];

			snprintf(rest, sizeof(rest), "%s", at + 3);
			l = (size_t)(at - q);
			snprintf(q + l, sizeof(q) - l, "%ld%s", tv[0], rest);
		}
		nq++;
		for (i = 0; i <= nt; i++) {
			cJSON *a, *b;
			long ca, cb;
			char why[2048];
			const char *path =
			    i < nt ? "/api/v1/query" : "/api/v1/query_range";
			const cJSON *res;

			if (i < nt)
				snprintf(
				    params, sizeof(params), "time=%ld", tv[i]);
			else
				snprintf(params, sizeof(params),
				    "start=%s&end=%s&step=%s", argv[6], argv[7],
				    argv[8]);
			a = api_get(c, argv[2], path, q, params, &ca);
			b = api_get(c, argv[3], path, q, params, &cb);
			ncmp++;
			if (a == NULL || b == NULL) {
				printf("MISMATCH %s [%s]: no JSON answer (HTTP "
				       "%ld / "
				       "%ld)\n",
				    q, params, ca, cb);
				bad++;
			} else if (cmp_answers(
			               a, b, ca, cb, why, sizeof(why)) != 0) {
				printf(
				    "MISMATCH %s [%s]: %s\n", q, params, why);
				bad++;
			} else {
				res = cJSON_GetObjectItemCaseSensitive(
				    cJSON_GetObjectItemCaseSensitive(a, "data"),
				    "result");
				if (cJSON_GetArraySize(res) > 0)
					nonempty++;
			}
			cJSON_Delete(a);
			cJSON_Delete(b);
		}
	}
	fclose(f);
	curl_easy_cleanup(c);
	printf("%d queries, %d comparisons (%d with a non-empty result), %d "
	       "mismatches\n",
	    nq, ncmp, nonempty, bad);
	return bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	ax_msg_opts_t o;
	ax_err_t err;

	memset(&o, 0, sizeof(o));
	if (argc >= 2 && strcmp(argv[1], "freeport") == 0)
		return freeport();
	if (argc == 3 && strcmp(argv[1], "bcrypt") == 0) {
		struct crypt_data cd;
		char salt[64];
		const char *h;

		memset(&cd, 0, sizeof(cd));
		if (crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)) ==
		        NULL ||
		    (h = crypt_r(argv[2], salt, &cd)) == NULL) {
			fprintf(stderr, "bcrypt: failed\n");
			return 1;
		}
		printf("%s\n", h);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "rw-send") == 0)
		return rw_send(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "query") == 0)
		return query_call(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "promql-compare") == 0)
		return promql_compare(argc, argv);
	if ((argc == 4 || argc == 5) && (strcmp(argv[1], "http-file") == 0 ||
	                                     strcmp(argv[1], "http-live") == 0)) {
		if (argc == 5)
			g_file_ctype = argv[4];
		if (strcmp(argv[1], "http-live") == 0)
			g_live_path = argv[3];
		return http_file(argv[2], argv[3]);
	}
	if (argc >= 2 && strcmp(argv[1], "alert-batch") == 0)
		return alert_batch(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "batch-exemplars") == 0)
		return batch_exemplars(argc, argv);
	if (argc == 3 && strcmp(argv[1], "rw-sink") == 0)
		return rw_sink(argv[2]);
	if (argc == 3 && strcmp(argv[1], "fault-targets") == 0)
		return fault_targets(argv[2]);
	if (argc == 4 && strcmp(argv[1], "k8s-api") == 0)
		return k8s_api(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "dns-server") == 0)
		return dns_server(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "count-targets") == 0)
		return count_targets(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "batch-load") == 0)
		return batch_load(argc, argv);
	if (argc == 3 && strcmp(argv[1], "rep") == 0) {
		ax_msg_server_t *s;

		if (ax_msg_server_open(argv[2], &o, echo_rev, NULL, &s, &err) !=
		    0) {
			fprintf(stderr, "rep: %s\n", err.msg);
			return 1;
		}
		for (;;)
			pause();
	}
	if (argc == 4 && strcmp(argv[1], "req") == 0) {
		ax_msg_client_t *c;
		ax_buf_t out = AX_BUF_INIT;

		o.timeout_ms = 2000;
		o.retries = 2;
		if (ax_msg_client_open(argv[2], &o, &c, &err) != 0 ||
		    ax_msg_call_raw(c, argv[3], strlen(argv[3]), &out, &err) !=
		        0) {
			fprintf(stderr, "req: %s\n", err.msg);
			return 1;
		}
		printf("%.*s\n", (int)out.len, out.p ? out.p : "");
		ax_buf_fini(&out);
		ax_msg_client_close(c);
		return 0;
	}
	fprintf(stderr,
	    "usage: ax-testpeer freeport | rw-send ... | rep ADDR | req ADDR "
	    "TEXT\n");
	return 2;
}
