/*
 * ax-bench-backfill: fill a remote-write receiver with synthetic history,
 * for `make bench-large`.
 *
 *   ax-bench-backfill URL SERIES SAMPLES STEP_S END_MS [CONCURRENCY]
 *
 * Writes SERIES series, each with SAMPLES samples STEP_S seconds apart and
 * the last one at END_MS, to URL (a Prometheus remote-write 1.0 receiver:
 * snappy-compressed WriteRequest, Content-Encoding: snappy).  The series
 * are shaped like the bench fleet's node_exporter output, 1,000 to an
 * instance (job="fleet", instance="host-N:9100"): 40% counters
 * node_cpu_seconds_total{cpu,mode}, 30% gauges
 * node_filesystem_avail_bytes{device,fstype,mountpoint}, 30% a classic
 * histogram http_request_duration_seconds{handler} (10 buckets with +Inf,
 * _sum, _count).  Values are a pure function of (series, step).
 *
 * Order: the history goes in windows of 10 steps; within a window one
 * request per instance (its 1,000 series x up to 10 samples), so every
 * series' samples arrive in time order and a receiver never sees an
 * out-of-order sample.  CONCURRENCY (default 4) requests are in flight at
 * once; any answer but 2xx stops the run with the receiver's message.
 *
 * The encoding is written by hand (it is a benchmark client; the label
 * part of each series is encoded once up front):
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Prints one line: "samples N seconds S rate R" (samples per second).
 */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_rw.h"

#define PER_INSTANCE 1000
#define WINDOW 10

typedef struct req {
	CURL *h;
	ax_buf_t raw, body, answer;
	int busy;
} req_t;

static size_t g_series, g_samples;
static int64_t g_step_ms, g_end_ms;
static ax_buf_t g_labels;   /* every series' encoded Label fields */
static size_t *g_label_off; /* g_series + 1 offsets into g_labels */

static void put_varint(ax_buf_t *b, uint64_t v)
{
	char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (char)v;
	ax_buf_append(b, tmp, n);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_label(ax_buf_t *b, const char *name, const char *value)
{
	size_t ln = strlen(name), lv = strlen(value);
	size_t inner = 1 + varint_len(ln) + ln + 1 + varint_len(lv) + lv;

	put_varint(b, (1 << 3) | 2);
	put_varint(b, inner);
	put_varint(b, (1 << 3) | 2);
	put_varint(b, ln);
	ax_buf_append(b, name, ln);
	put_varint(b, (2 << 3) | 2);
	put_varint(b, lv);
	ax_buf_append(b, value, lv);
}

static const char *const g_modes[] = {"user", "system", "idle", "iowait",
    "irq", "softirq", "steal", "nice"};
static const char *const g_les[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "+Inf"};

/* The labels of series g, sorted by name, as Label fields. */
static void encode_labels(ax_buf_t *b, size_t g)
{
	size_t i = g % PER_INSTANCE;
	char inst[32], v1[32], v2[32];

	snprintf(inst, sizeof(inst), "host-%zu:9100", g / PER_INSTANCE);
	if (i < 400) {
		snprintf(v1, sizeof(v1), "%zu", i / 8);
		put_label(b, "__name__", "node_cpu_seconds_total");
		put_label(b, "cpu", v1);
		put_label(b, "instance", inst);
		put_label(b, "job", "fleet");
		put_label(b, "mode", g_modes[i % 8]);
	} else if (i < 700) {
		snprintf(v1, sizeof(v1), "/dev/sd%zu", i % 16);
		snprintf(v2, sizeof(v2), "/mnt/v%zu", i - 400);
		put_label(b, "__name__", "node_filesystem_avail_bytes");
		put_label(b, "device", v1);
		put_label(b, "fstype", "ext4");
		put_label(b, "instance", inst);
		put_label(b, "job", "fleet");
		put_label(b, "mountpoint", v2);
	} else {
		size_t h = (i - 700) / 12, k = (i - 700) % 12;

		snprintf(v1, sizeof(v1), "/api/h%zu", h);
		put_label(b, "__name__",
		    k < 10        ? "http_request_duration_seconds_bucket"
		        : k == 10 ? "http_request_duration_seconds_sum"
		                  : "http_request_duration_seconds_count");
		put_label(b, "handler", v1);
		put_label(b, "instance", inst);
		put_label(b, "job", "fleet");
		if (k < 10)
			put_label(b, "le", g_les[k]);
	}
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double unit(uint64_t a, uint64_t b)
{
	return (double)(mix(mix(a) ^ b) >> 11) / 9007199254740992.0;
}

/* The value of series g at step n. */
static double value(size_t g, size_t n)
{
	size_t i = g % PER_INSTANCE;

	if (i < 400)
		return 1000.0 * unit(g, 0) + (double)n * 15.0 * unit(g, 1);
	if (i < 700)
		return 1e10 * (0.5 + 0.4 * unit(g, 2)) +
		    1e8 * sin((double)n / 7.0 + 6.28 * unit(g, 3));
	{
		size_t k = (i - 700) % 12, base = g - k;
		double count = (double)n * (10.0 + 40.0 * unit(base, 4));

		if (k < 9)
			return floor(count * (0.1 + 0.09 * (double)k));
		if (k == 11 || k == 9)
			return count;
		return count * 0.07; /* _sum */
	}
}

/* One request: the series of instance inst at steps [s0, s1). */
static int build(req_t *r, size_t inst, size_t s0, size_t s1)
{
	size_t g0 = inst * PER_INSTANCE, g1 = g0 + PER_INSTANCE, g, n;
	ax_err_t err;

	if (g1 > g_series)
		g1 = g_series;
	ax_buf_reset(&r->raw);
	for (g = g0; g < g1; g++) {
		size_t ll = g_label_off[g + 1] - g_label_off[g];
		size_t slen = 0;

		for (n = s0; n < s1; n++) {
			int64_t ts = g_end_ms -
			    (int64_t)(g_samples - 1 - n) * g_step_ms;

			slen += 1 + 1 + (1 + 8 + 1 + varint_len((uint64_t)ts));
		}
		put_varint(&r->raw, (1 << 3) | 2);
		put_varint(&r->raw, ll + slen);
		ax_buf_append(&r->raw, g_labels.p + g_label_off[g], ll);
		for (n = s0; n < s1; n++) {
			int64_t ts = g_end_ms -
			    (int64_t)(g_samples - 1 - n) * g_step_ms;
			double v = value(g, n);
			char d[8];

			memcpy(d, &v, 8);
			put_varint(&r->raw, (2 << 3) | 2);
			put_varint(&r->raw, 1 + 8 + 1 + varint_len((uint64_t)ts));
			put_varint(&r->raw, (1 << 3) | 1);
			ax_buf_append(&r->raw, d, 8);
			put_varint(&r->raw, (2 << 3) | 0);
			put_varint(&r->raw, (uint64_t)ts);
		}
	}
	if (!ax_buf_ok(&r->raw))
		return -1;
	ax_buf_reset(&r->body);
	return ax_snappy_compress(r->raw.p, r->raw.len, &r->body, &err);
}

static size_t on_answer(char *p, size_t sz, size_t n, void *ud)
{
	req_t *r = ud;

	if (r->answer.len < 4096)
		ax_buf_append(&r->answer, p, sz * n);
	return sz * n;
}

int main(int argc, char **argv)
{
	size_t conc = 4, i, inst, n_inst, w, n_win, sent = 0, done = 0, total;
	req_t *rq;
	CURLM *m;
	struct curl_slist *hdr = NULL;
	struct timespec t0, t1;
	double secs;
	int running;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: ax-bench-backfill URL SERIES SAMPLES "
		                "STEP_S END_MS [CONCURRENCY]\n");
		return 2;
	}
	g_series = (size_t)atol(argv[2]);
	g_samples = (size_t)atol(argv[3]);
	g_step_ms = (int64_t)(atof(argv[4]) * 1000);
	g_end_ms = atoll(argv[5]);
	if (argc == 7)
		conc = (size_t)atol(argv[6]);
	if (g_series == 0 || g_samples == 0 || g_step_ms <= 0 || conc == 0) {
		fprintf(stderr, "ax-bench-backfill: bad arguments\n");
		return 2;
	}
	g_label_off = malloc((g_series + 1) * sizeof(*g_label_off));
	rq = calloc(conc, sizeof(*rq));
	if (g_label_off == NULL || rq == NULL) {
		fprintf(stderr, "ax-bench-backfill: out of memory\n");
		return 1;
	}
	for (i = 0; i < g_series; i++) {
		g_label_off[i] = g_labels.len;
		encode_labels(&g_labels, i);
	}
	g_label_off[g_series] = g_labels.len;
	if (!ax_buf_ok(&g_labels)) {
		fprintf(stderr, "ax-bench-backfill: out of memory\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	hdr = curl_slist_append(hdr, "Content-Encoding: snappy");
	hdr = curl_slist_append(hdr, "Content-Type: application/x-protobuf");
	hdr = curl_slist_append(hdr, "X-Prometheus-Remote-Write-Version: 0.1.0");
	hdr = curl_slist_append(hdr, "Expect:");
	for (i = 0; i < conc; i++) {
		rq[i].h = curl_easy_init();
		curl_easy_setopt(rq[i].h, CURLOPT_URL, argv[1]);
		curl_easy_setopt(rq[i].h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(rq[i].h, CURLOPT_WRITEFUNCTION, on_answer);
		curl_easy_setopt(rq[i].h, CURLOPT_WRITEDATA, &rq[i]);
		curl_easy_setopt(rq[i].h, CURLOPT_PRIVATE, &rq[i]);
		curl_easy_setopt(rq[i].h, CURLOPT_TIMEOUT, 120L);
	}
	n_inst = (g_series + PER_INSTANCE - 1) / PER_INSTANCE;
	n_win = (g_samples + WINDOW - 1) / WINDOW;
	total = n_inst * n_win;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	w = 0;
	inst = 0;
	while (done < total) {
		CURLMsg *msg;
		int left;

		for (i = 0; i < conc && sent < total; i++) {
			size_t s0 = w * WINDOW, s1 = s0 + WINDOW;

			if (rq[i].busy)
				continue;
			if (s1 > g_samples)
				s1 = g_samples;
			if (build(&rq[i], inst, s0, s1) != 0) {
				fprintf(stderr, "ax-bench-backfill: encoding failed\n");
				return 1;
			}
			ax_buf_reset(&rq[i].answer);
			curl_easy_setopt(rq[i].h, CURLOPT_POSTFIELDS, rq[i].body.p);
			curl_easy_setopt(rq[i].h, CURLOPT_POSTFIELDSIZE,
			    (long)rq[i].body.len);
			curl_multi_add_handle(m, rq[i].h);
			rq[i].busy = 1;
			sent++;
			if (++inst == n_inst) {
				inst = 0;
				w++;
			}
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			req_t *r;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
			curl_easy_getinfo(
			    msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK || code / 100 != 2) {
				fprintf(stderr,
				    "ax-bench-backfill: %s: %s, HTTP %ld: %.*s\n",
				    argv[1], curl_easy_strerror(msg->data.result),
				    code, (int)r->answer.len,
				    r->answer.p ? r->answer.p : "");
				return 1;
			}
			curl_multi_remove_handle(m, msg->easy_handle);
			r->busy = 0;
			done++;
		}
		if (done < total)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("samples %zu seconds %.2f rate %.0f\n", g_series * g_samples,
	    secs, (double)(g_series * g_samples) / secs);
	for (i = 0; i < conc; i++) {
		curl_easy_cleanup(rq[i].h);
		ax_buf_fini(&rq[i].raw);
		ax_buf_fini(&rq[i].body);
		ax_buf_fini(&rq[i].answer);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	ax_buf_fini(&g_labels);
	free(g_label_off);
	free(rq);
	return 0;
}
