/*
 * demo/fleet: traffic simulation and exposition of the demo services
 * (the model is described in fleet.h).
 */
#include "demo/fleet.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 12 /* finite buckets */
static const double g_le[NB] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY};
/* OpenMetrics wants canonical numbers: "1.0", not "1" */
static const char *const g_le_text[NB] = {"0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"};
#define SIGMA 0.6 /* log-normal spread of latencies */

typedef struct exemplar {
	char trace_id[33];
	double value, ts;
} exemplar_t;

typedef struct svc {
	const demo_svc_cfg_t *cfg;
	size_t *deps, ndeps;
	size_t *users, nusers; /* direct dependents */
	int down;
	double err;             /* effective error ratio, last tick */
	double ok, e500, e503;  /* counters */
	double bucket[NB], sum; /* cumulative histogram */
	exemplar_t ex[NB];
	double cdf_ok[NB];   /* P(latency <= le), served requests */
	double cdf_fail[NB]; /* the same for failed ones */
	double phase;        /* of the traffic wave */
	int failing;         /* down, or needs a service that is */
} svc_t;

struct demo_fleet {
	pthread_mutex_t mu;
	svc_t *s;
	size_t n;
	size_t *stack; /* n: the failure walk */
	double last;
	uint64_t rng;
};

static uint64_t rnd(demo_fleet_t *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ull;
}

static double rnd01(demo_fleet_t *f)
{
	return (double)(rnd(f) >> 11) / 9007199254740992.0;
}

static double norm_cdf(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

/* P(latency <= le) for a log-normal with median m. */
static double lat_cdf(double le, double m)
{
	if (isinf(le))
		return 1;
	return norm_cdf((log(le) - log(m)) / SIGMA);
}

static void new_exemplar(demo_fleet_t *f, svc_t *s, size_t b, double now)
{
	exemplar_t *e = &s->ex[b];
	double lo = b == 0 ? g_le[0] / 2 : g_le[b - 1];
	double hi = isinf(g_le[b]) ? lo * 2 : g_le[b];
	uint64_t a = rnd(f), c = rnd(f);

	snprintf(e->trace_id, sizeof(e->trace_id), "%016llx%016llx",
	    (unsigned long long)a, (unsigned long long)c);
	e->value = lo + (hi - lo) * rnd01(f);
	e->ts = now;
}

int demo_fleet_new(const demo_cfg_t *cfg, double now, uint64_t seed,
    demo_fleet_t **out, ax_err_t *err)
{
	const demo_svc_cfg_t *sc = cfg->services.items;
	demo_fleet_t *f = calloc(1, sizeof(*f));
	size_t i, j;

	if (f == NULL ||
	    (f->s = calloc(cfg->services.n, sizeof(svc_t))) == NULL ||
	    (f->stack = calloc(cfg->services.n, sizeof(size_t))) == NULL) {
		if (f)
			free(f->s);
		free(f);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	f->n = cfg->services.n;
	f->last = now;
	f->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	pthread_mutex_init(&f->mu, NULL);
	for (i = 0; i < f->n; i++) {
		svc_t *s = &f->s[i];

		double m = (double)sc[i].latency_ms / 1000.0;
		size_t b;

		s->cfg = &sc[i];
		s->phase = rnd01(f) * 6.283;
		for (b = 0; b < NB; b++) {
			s->cdf_ok[b] = lat_cdf(g_le[b], m);
			s->cdf_fail[b] = lat_cdf(g_le[b], m / 2);
			new_exemplar(f, s, b, now);
		}
		s->deps = calloc(sc[i].depends_on.n + 1, sizeof(size_t));
		s->users = calloc(f->n, sizeof(size_t));
		if (s->deps == NULL || s->users == NULL) {
			demo_fleet_free(f);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	for (i = 0; i < f->n; i++)
		for (j = 0; j < sc[i].depends_on.n; j++) {
			long d = demo_config_find(cfg, sc[i].depends_on.v[j]);
			svc_t *ds;
			size_t k;

			if (d < 0)
				continue; /* the config check refuses it */
			ds = &f->s[d];
			for (k = 0; k < f->s[i].ndeps; k++)
				if (f->s[i].deps[k] == (size_t)d)
					break;
			if (k < f->s[i].ndeps)
				continue; /* listed twice */
			f->s[i].deps[f->s[i].ndeps++] = (size_t)d;
			ds->users[ds->nusers++] = i;
		}
	*out = f;
	return 0;
}

void demo_fleet_free(demo_fleet_t *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->s[i].deps);
		free(f->s[i].users);
	}
	free(f->s);
	free(f->stack);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

size_t demo_fleet_count(const demo_fleet_t *f)
{
	return f->n;
}

const char *demo_fleet_name(const demo_fleet_t *f, size_t i)
{
	return f->s[i].cfg->name;
}

/* Mark what fails hard: the services that are down and, walking the
 * dependents, every service that needs one of them (each visited once,
 * so cycles are harmless). */
static void mark_failing(demo_fleet_t *f)
{
	size_t i, k, top = 0;

	for (i = 0; i < f->n; i++) {
		f->s[i].failing = f->s[i].down;
		if (f->s[i].down)
			f->stack[top++] = i;
	}
	while (top > 0) {
		const svc_t *s = &f->s[f->stack[--top]];

		for (k = 0; k < s->nusers; k++)
			if (!f->s[s->users[k]].failing) {
				f->s[s->users[k]].failing = 1;
				f->stack[top++] = s->users[k];
			}
	}
}

void demo_fleet_tick(demo_fleet_t *f, double now)
{
	size_t i, b;
	double dt;

	pthread_mutex_lock(&f->mu);
	dt = now - f->last;
	if (dt <= 0 || dt > 3600) { /* clock jump: restart from here */
		f->last = now;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	f->last = now;
	mark_failing(f);
	for (i = 0; i < f->n; i++) {
		svc_t *s = &f->s[i];
		double m = (double)s->cfg->latency_ms / 1000.0, req;
		double fail_dep, fail_own, good, bad;

		if (s->down) {
			s->err = 1;
			continue; /* a down service serves nothing */
		}
		/* every request needs every dependency: one failing fails it */
		fail_dep = s->failing ? 1 : 0;
		fail_own =
		    (1 - fail_dep) * s->cfg->error_ratio * (0.5 + rnd01(f));
		s->err = fail_dep + fail_own;
		req = s->cfg->rps * dt *
		    (1 + 0.15 * sin(now / 600.0 + s->phase) +
		        0.05 * (rnd01(f) - 0.5));
		if (req < 0)
			req = 0;
		bad = req * (fail_dep + fail_own);
		good = req - bad;
		s->ok += good;
		s->e503 += req * fail_dep;
		s->e500 += req * fail_own;
		for (b = 0; b < NB; b++) {
			double p = s->cdf_ok[b] - (b ? s->cdf_ok[b - 1] : 0);

			s->bucket[b] +=
			    good * s->cdf_ok[b] + bad * s->cdf_fail[b];
			/* a fresh trace for a bucket now and then, as often as
			 * requests land in it (the empty tail keeps its own) */
			if (p > 1e-4 && rnd01(f) < p * dt)
				new_exemplar(f, s, b, now);
		}
		s->sum += (good * m + bad * m / 2) * exp(SIGMA * SIGMA / 2);
	}
	pthread_mutex_unlock(&f->mu);
}

int demo_fleet_set_down(demo_fleet_t *f, size_t i, int down)
{
	int was;

	pthread_mutex_lock(&f->mu);
	was = f->s[i].down;
	f->s[i].down = down;
	pthread_mutex_unlock(&f->mu);
	return was;
}

int demo_fleet_is_down(demo_fleet_t *f, size_t i)
{
	int d;

	pthread_mutex_lock(&f->mu);
	d = f->s[i].down;
	pthread_mutex_unlock(&f->mu);
	return d;
}

int demo_fleet_render(demo_fleet_t *f, size_t i, int om, ax_buf_t *b)
{
	svc_t *s = &f->s[i];
	size_t k;

	pthread_mutex_lock(&f->mu);
	ax_buf_printf(b,
	    "# HELP http_requests%s Requests served, by method and status "
	    "code.\n# TYPE http_requests%s counter\n",
	    om ? "" : "_total", om ? "" : "_total");
	ax_buf_printf(b,
	    "http_requests_total{method=\"GET\",code=\"200\"} %.0f\n"
	    "http_requests_total{method=\"GET\",code=\"500\"} %.0f\n"
	    "http_requests_total{method=\"GET\",code=\"503\"} %.0f\n",
	    floor(s->ok), floor(s->e500), floor(s->e503));
	ax_buf_puts(b,
	    "# HELP http_request_duration_seconds Request latency.\n"
	    "# TYPE http_request_duration_seconds histogram\n");
	for (k = 0; k < NB; k++) {
		ax_buf_printf(b,
		    "http_request_duration_seconds_bucket{method=\"GET\","
		    "le=\"%s\"} %.0f",
		    g_le_text[k], floor(s->bucket[k]));
		if (om)
			ax_buf_printf(b, " # {trace_id=\"%s\"} %.6f %.3f",
			    s->ex[k].trace_id, s->ex[k].value, s->ex[k].ts);
		ax_buf_putc(b, '\n');
	}
	ax_buf_printf(b,
	    "http_request_duration_seconds_sum{method=\"GET\"} %.6f\n"
	    "http_request_duration_seconds_count{method=\"GET\"} %.0f\n",
	    s->sum, floor(s->bucket[NB - 1]));
	ax_buf_puts(b,
	    "# HELP demo_service_info The simulated service's build.\n"
	    "# TYPE demo_service_info gauge\n"
	    "demo_service_info{version=\"1.4.2\"} 1\n");
	if (om)
		ax_buf_puts(b, "# EOF\n");
	pthread_mutex_unlock(&f->mu);
	return ax_buf_ok(b) ? 0 : AX_ENOMEM;
}

int demo_fleet_json(demo_fleet_t *f, const int *ports, ax_buf_t *b)
{
	size_t i, k;

	pthread_mutex_lock(&f->mu);
	ax_buf_putc(b, '[');
	for (i = 0; i < f->n; i++) {
		svc_t *s = &f->s[i];

		ax_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		ax_buf_put_json_str(b, s->cfg->name);
		ax_buf_printf(b,
		    ",\"port\":%d,\"state\":\"%s\",\"errorRatio\":",
		    ports ? ports[i] : 0, s->down ? "down" : "up");
		ax_buf_put_double(b, s->err);
		ax_buf_puts(b, ",\"dependsOn\":[");
		for (k = 0; k < s->ndeps; k++) {
			if (k)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, f->s[s->deps[k]].cfg->name);
		}
		ax_buf_puts(b, "],\"dependents\":[");
		for (k = 0; k < s->nusers; k++) {
			if (k)
				ax_buf_putc(b, ',');
			ax_buf_put_json_str(b, f->s[s->users[k]].cfg->name);
		}
		ax_buf_puts(b, "]}");
	}
	ax_buf_putc(b, ']');
	pthread_mutex_unlock(&f->mu);
	return ax_buf_ok(b) ? 0 : AX_ENOMEM;
}
