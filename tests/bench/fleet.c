/*
 * ax-bench-fleet: a synthetic fleet of scrape targets for `make bench`.
 *
 *   ax-bench-fleet TARGETS SERIES SEED TARGETFILE [INTERVAL_S]
 *
 * Serves TARGETS targets on free loopback ports (one listener each; their
 * "127.0.0.1:port" addresses, one a line, go to TARGETFILE once all
 * listen) from a single epoll thread, HTTP/1.1 with keep-alive.  Each
 * target exposes SERIES series in text format 0.0.4, shaped like
 * node_exporter output: 40% counters (node_cpu_seconds_total{cpu,mode}
 * style, realistic increments), 30% gauges that wander, 30% classic
 * histograms (10 buckets, _sum, _count per handler), HELP and TYPE
 * lines, a few labels per series.  Values change on every scrape of a
 * target and are a pure function of (SEED, target, series, scrape count),
 * so two runs see the same workload.  The body is generated into a reused
 * buffer: the fleet is never the bottleneck.
 *
 * Scrape accounting (for the capacity row): with INTERVAL_S given, the
 * fleet times every scrape of every target.  `GET /fleet/stats` on any
 * target port answers, for the window since the last `GET /fleet/reset`,
 * one "key value" line each:
 *   scrapes     scrapes served in the window
 *   expected    targets x window / interval
 *   late        scrapes that came more than 10% of an interval late
 *               (gap to the target's previous scrape > 1.1 x interval)
 *   missed      scrapes that never came: a gap of g intervals counts
 *               round(g) - 1, and a target's open gap at the time of the
 *               query counts once it is over 1.5 intervals
 *   max_gap_ms  the longest gap between two scrapes of one target
 *   targets     targets scraped at least once in the window
 *   conns       TCP connections accepted in the window (keep-alive reuse)
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ax_buf.h"

typedef struct target {
	int lfd;
	uint64_t scrapes;
	int64_t last_ns;    /* the previous scrape, 0 = none yet */
	uint64_t in_window; /* scrapes since the last reset */
} target_t;

typedef struct conn {
	int fd;
	target_t *t;
	char in[8192];
	size_t in_len;
	ax_buf_t out;
	size_t out_off;
} conn_t;

static uint64_t g_seed;
static size_t g_series;

/* scrape accounting; see the header comment */
static int64_t g_interval_ns;
static int64_t g_window_ns;
static uint64_t g_scrapes, g_late, g_missed, g_conns;
static int64_t g_max_gap_ns;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void account(target_t *t)
{
	int64_t now = now_ns();

	if (g_interval_ns > 0 && t->last_ns > 0) {
		int64_t gap = now - t->last_ns;
		int64_t n = (gap + g_interval_ns / 2) / g_interval_ns;

		if (gap * 10 > g_interval_ns * 11)
			g_late++;
		if (n > 1)
			g_missed += (uint64_t)(n - 1);
		if (gap > g_max_gap_ns)
			g_max_gap_ns = gap;
	}
	t->last_ns = now;
	t->in_window++;
	g_scrapes++;
}

static void stats_reset(target_t *t, size_t nt)
{
	size_t i;

	for (i = 0; i < nt; i++)
		t[i].in_window = 0;
	g_scrapes = g_late = g_missed = g_conns = 0;
	g_max_gap_ns = 0;
	g_window_ns = now_ns();
}

static void stats(ax_buf_t *b, const target_t *t, size_t nt)
{
	int64_t now = now_ns(), win = now - g_window_ns;
	uint64_t missed = g_missed, seen = 0;
	size_t i;

	for (i = 0; i < nt; i++) {
		int64_t from = t[i].last_ns > 0 ? t[i].last_ns : g_window_ns;
		int64_t open = now - from;

		if (t[i].in_window > 0)
			seen++;
		if (g_interval_ns > 0 && open * 2 > g_interval_ns * 3)
			missed += (uint64_t)((open - g_interval_ns / 2) /
			    g_interval_ns);
	}
	ax_buf_printf(b,
	    "scrapes %llu\nexpected %.0f\nlate %llu\nmissed %llu\n"
	    "max_gap_ms %.0f\ntargets %llu\nconns %llu\n",
	    (unsigned long long)g_scrapes,
	    g_interval_ns > 0 ? (double)nt * (double)win / (double)g_interval_ns
	                      : 0.0,
	    (unsigned long long)g_late, (unsigned long long)missed,
	    (double)g_max_gap_ns / 1e6, (unsigned long long)seen,
	    (unsigned long long)g_conns);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double unit(uint64_t a, uint64_t b, uint64_t c)
{
	return (double)(mix(g_seed ^ mix(a ^ mix(b ^ mix(c)))) >> 11) /
	    9007199254740992.0;
}

/* The body of target ti at its n-th scrape. */
static void body(ax_buf_t *b, size_t ti, uint64_t n)
{
	static const char *const modes[] = {"user", "system", "idle", "iowait",
	    "irq", "softirq", "steal", "nice"};
	static const double les[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	    1, 2.5, 5};
	size_t nc = g_series * 4 / 10, ng = g_series * 3 / 10;
	size_t nh = (g_series - nc - ng) / 12, i, k;

	ax_buf_reset(b);
	ax_buf_puts(b, "# HELP node_cpu_seconds_total Seconds the CPUs spent "
	               "in each mode.\n# TYPE node_cpu_seconds_total counter\n");
	for (i = 0; i < nc; i++) {
		/* per-scrape increment 0..15 s, deterministic */
		double base = 1000.0 * unit(ti, i, 0);
		double v = base + (double)n * 15.0 * unit(ti, i, 1);

		ax_buf_printf(b,
		    "node_cpu_seconds_total{cpu=\"%zu\",mode=\"%s\"} %.2f\n",
		    i / 8, modes[i % 8], v);
	}
	ax_buf_puts(b, "# HELP node_filesystem_avail_bytes Filesystem space "
	               "available.\n# TYPE node_filesystem_avail_bytes "
	               "gauge\n");
	for (i = 0; i < ng; i++) {
		double v = 1e10 * (0.5 + 0.4 * unit(ti, i, 2)) +
		    1e8 * sin((double)n / 7.0 + 6.28 * unit(ti, i, 3));

		ax_buf_printf(b,
		    "node_filesystem_avail_bytes{device=\"/dev/sd%zu\","
		    "fstype=\"ext4\",mountpoint=\"/mnt/v%zu\"} %.0f\n",
		    i % 16, i, v);
	}
	ax_buf_puts(b, "# HELP http_request_duration_seconds Request "
	               "latency.\n# TYPE http_request_duration_seconds "
	               "histogram\n");
	for (i = 0; i < nh; i++) {
		uint64_t count = n * (10 + (uint64_t)(40 * unit(ti, i, 4)));
		uint64_t cum = 0;
		double sum = 0;

		for (k = 0; k < 10; k++) {
			double share = 0.1 + 0.2 * unit(ti, i * 16 + k, 5);

			cum += (uint64_t)((double)(count - cum) * share);
			sum += (double)cum * les[k] * 0.1;
			ax_buf_printf(b,
			    "http_request_duration_seconds_bucket{handler=\"/api/"
			    "h%zu\",le=\"%g\"} %llu\n",
			    i, les[k], (unsigned long long)cum);
		}
		ax_buf_printf(b,
		    "http_request_duration_seconds_bucket{handler=\"/api/h%zu\","
		    "le=\"+Inf\"} %llu\n"
		    "http_request_duration_seconds_sum{handler=\"/api/h%zu\"} "
		    "%.3f\n"
		    "http_request_duration_seconds_count{handler=\"/api/h%zu\"} "
		    "%llu\n",
		    i, (unsigned long long)count, i, sum, i,
		    (unsigned long long)count);
	}
}

static void conn_close(int ep, conn_t *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	ax_buf_fini(&c->out);
	free(c);
}

/* Answer every complete request in c->in. */
static int serve(conn_t *c, target_t *targets, size_t nt)
{
	char *end;
	ax_buf_t bd = AX_BUF_INIT;

	while ((end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
		size_t used = (size_t)(end - c->in) + 4;
		const char *ctype = "text/plain; version=0.0.4; charset=utf-8";

		if (c->in_len >= 17 && memcmp(c->in, "GET /fleet/reset ", 17) == 0) {
			stats_reset(targets, nt);
			ax_buf_reset(&bd);
			ctype = "text/plain";
		} else if (c->in_len >= 17 &&
		    memcmp(c->in, "GET /fleet/stats ", 17) == 0) {
			ax_buf_reset(&bd);
			stats(&bd, targets, nt);
			ctype = "text/plain";
		} else {
			account(c->t);
			body(&bd, (size_t)(c->t - targets), c->t->scrapes++);
		}
		ax_buf_printf(&c->out,
		    "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\n\r\n",
		    ctype, bd.len);
		ax_buf_append(&c->out, bd.p, bd.len);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	ax_buf_fini(&bd);
	return ax_buf_ok(&c->out) ? 0 : -1;
}

static int flush_out(conn_t *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.p + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)w;
	}
	ax_buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

int main(int argc, char **argv)
{
	size_t nt, i;
	target_t *t;
	FILE *f;
	int ep;
	struct rlimit rl;
	char tmp[4096];

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: ax-bench-fleet TARGETS SERIES SEED "
		                "TARGETFILE [INTERVAL_S]\n");
		return 2;
	}
	if (argc == 6)
		g_interval_ns = (int64_t)(atof(argv[5]) * 1e9);
	nt = (size_t)atol(argv[1]);
	g_series = (size_t)atol(argv[2]);
	g_seed = (uint64_t)atoll(argv[3]);
	if (nt == 0 || g_series < 12) {
		fprintf(stderr, "ax-bench-fleet: want TARGETS >= 1, SERIES >= 12\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((t = calloc(nt, sizeof(*t))) == NULL ||
	    (ep = epoll_create1(0)) < 0) {
		perror("ax-bench-fleet");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[4]);
	if ((f = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		return 1;
	}
	for (i = 0; i < nt; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct epoll_event ev;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t[i].lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (t[i].lfd < 0 ||
		    bind(t[i].lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(t[i].lfd, 128) != 0 ||
		    getsockname(t[i].lfd, (struct sockaddr *)&sa, &sl) != 0) {
			perror("ax-bench-fleet: listen");
			return 1;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = &t[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, t[i].lfd, &ev);
		fprintf(f, "127.0.0.1:%d\n", ntohs(sa.sin_port));
	}
	fclose(f);
	stats_reset(t, nt);
	if (rename(tmp, argv[4]) != 0) { /* appears whole */
		perror(argv[4]);
		return 1;
	}
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1), k;

		for (k = 0; k < n; k++) {
			void *p = evs[k].data.ptr;

			if (p >= (void *)t && p < (void *)(t + nt)) {
				target_t *tg = p;
				int fd;

				while ((fd = accept4(tg->lfd, NULL, NULL,
				            SOCK_NONBLOCK)) >= 0) {
					conn_t *c = calloc(1, sizeof(*c));
					struct epoll_event ev;

					if (c == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					c->t = tg;
					g_conns++;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			{
				conn_t *c = p;
				int dead = 0;

				if (evs[k].events & EPOLLIN) {
					for (;;) {
						ssize_t r;

						if (c->in_len == sizeof(c->in)) {
							dead = 1;
							break;
						}
						r = recv(c->fd, c->in + c->in_len,
						    sizeof(c->in) - c->in_len, 0);
						if (r == 0) {
							dead = 1;
							break;
						}
						if (r < 0) {
							dead = errno != EAGAIN;
							break;
						}
						c->in_len += (size_t)r;
					}
					if (!dead && serve(c, t, nt) != 0)
						dead = 1;
				}
				if (!dead && flush_out(c) != 0)
					dead = 1;
				if (dead)
					conn_close(ep, c);
			}
		}
	}
}
