/*
 * ax-bench-fleet: a synthetic fleet of scrape targets for `make bench`.
 *
 *   ax-bench-fleet TARGETS SERIES SEED TARGETFILE
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
#include <unistd.h>

#include "ax_buf.h"

typedef struct target {
	int lfd;
	uint64_t scrapes;
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
static int serve(conn_t *c, target_t *targets)
{
	char *end;
	ax_buf_t bd = AX_BUF_INIT;

	while ((end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
		size_t used = (size_t)(end - c->in) + 4;

		body(&bd, (size_t)(c->t - targets), c->t->scrapes++);
		ax_buf_printf(&c->out,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
		    "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
		    bd.len);
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

	if (argc != 5) {
		fprintf(stderr,
		    "usage: ax-bench-fleet TARGETS SERIES SEED TARGETFILE\n");
		return 2;
	}
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
					if (!dead && serve(c, t) != 0)
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
