/*
 * ax_metrics: metric registry and text exposition (see ax_metrics.h).
 */
#include "ax_metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const double ax_metrics_default_buckets[] = {
    .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
const size_t ax_metrics_n_default_buckets = 11;

struct ax_metric {
	struct ax_metric *next;
	struct ax_mfam *fam;
	char **values;
	_Atomic uint64_t bits; /* counter/gauge value, or histogram sum */
	_Atomic uint64_t count;
	_Atomic uint64_t *buckets; /* per-bucket (non-cumulative) counts */
};

struct ax_mfam {
	struct ax_mfam *next;
	ax_metric_type_t type;
	char *name;
	char *help;
	size_t n_labels;
	char **label_names;
	double *bounds;
	size_t n_bounds;
	double (*fn)(void *);
	void *fn_arg;
	pthread_mutex_t mu;
	ax_metric_t *children;
	size_t n_children;
};

struct ax_metrics {
	pthread_mutex_t mu;
	ax_mfam_t *fams;
	void (*collect)(void *arg, ax_buf_t *out);
	void *collect_arg;
};

static uint64_t d2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double u2d(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

ax_metrics_t *ax_metrics_new(void)
{
	ax_metrics_t *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->mu, NULL);
	return r;
}

static void free_strs(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void fam_free(ax_mfam_t *f)
{
	ax_metric_t *m, *next;

	for (m = f->children; m; m = next) {
		next = m->next;
		free_strs(m->values, f->n_labels);
		free(m->buckets);
		free(m);
	}
	free(f->name);
	free(f->help);
	free_strs(f->label_names, f->n_labels);
	free(f->bounds);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

void ax_metrics_free(ax_metrics_t *r)
{
	ax_mfam_t *f, *next;

	if (r == NULL)
		return;
	for (f = r->fams; f; f = next) {
		next = f->next;
		fam_free(f);
	}
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static char **dup_strs(const char *const *v, size_t n)
{
	char **c;
	size_t i;

	c = calloc(n ? n : 1, sizeof(*c));
	if (c == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (c[i] == NULL) {
			free_strs(c, i);
			return NULL;
		}
	}
	return c;
}

ax_mfam_t *ax_metrics_family(ax_metrics_t *r, ax_metric_type_t type,
    const char *name, const char *help, size_t n_labels,
    const char *const *label_names, const double *buckets, size_t n_buckets)
{
	ax_mfam_t *f;
	size_t i;

	if (r == NULL)
		return NULL; /* metrics off: updates on NULL children are no-ops
		              */
	pthread_mutex_lock(&r->mu);
	for (f = r->fams; f; f = f->next) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || f->n_labels != n_labels || f->fn)
			f = NULL;
		for (i = 0; f && i < n_labels; i++)
			if (strcmp(f->label_names[i], label_names[i]) != 0)
				f = NULL;
		pthread_mutex_unlock(&r->mu);
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto oom;
	pthread_mutex_init(&f->mu, NULL);
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help);
	f->n_labels = n_labels;
	f->label_names = dup_strs(label_names, n_labels);
	if (type == AX_METRIC_HISTOGRAM) {
		f->n_bounds = n_buckets;
		f->bounds =
		    malloc((n_buckets ? n_buckets : 1) * sizeof(double));
		if (f->bounds)
			memcpy(f->bounds, buckets, n_buckets * sizeof(double));
	}
	if (f->name == NULL || f->help == NULL || f->label_names == NULL ||
	    (type == AX_METRIC_HISTOGRAM && f->bounds == NULL)) {
		fam_free(f);
		goto oom;
	}
	f->next = r->fams;
	r->fams = f;
	pthread_mutex_unlock(&r->mu);
	return f;
oom:
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

ax_metric_t *ax_mfam_with(ax_mfam_t *f, const char *const *values)
{
	ax_metric_t *m, **tail;
	size_t i;

	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&f->mu);
	for (tail = &f->children; (m = *tail) != NULL; tail = &m->next) {
		for (i = 0; i < f->n_labels; i++)
			if (strcmp(m->values[i], values[i]) != 0)
				break;
		if (i == f->n_labels) {
			pthread_mutex_unlock(&f->mu);
			return m;
		}
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto oom;
	m->fam = f;
	m->values = dup_strs(values, f->n_labels);
	if (f->type == AX_METRIC_HISTOGRAM)
		m->buckets = calloc(f->n_bounds + 1, sizeof(*m->buckets));
	if (m->values == NULL ||
	    (f->type == AX_METRIC_HISTOGRAM && m->buckets == NULL)) {
		free_strs(m->values, f->n_labels);
		free(m->buckets);
		free(m);
		goto oom;
	}
	atomic_store(&m->bits, d2u(0.0));
	*tail = m;
	f->n_children++;
	pthread_mutex_unlock(&f->mu);
	return m;
oom:
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

ax_metric_t *ax_metrics_counter(
    ax_metrics_t *r, const char *name, const char *help)
{
	ax_mfam_t *f = ax_metrics_family(
	    r, AX_METRIC_COUNTER, name, help, 0, NULL, NULL, 0);

	return f ? ax_mfam_with(f, NULL) : NULL;
}

ax_metric_t *ax_metrics_gauge(
    ax_metrics_t *r, const char *name, const char *help)
{
	ax_mfam_t *f =
	    ax_metrics_family(r, AX_METRIC_GAUGE, name, help, 0, NULL, NULL, 0);

	return f ? ax_mfam_with(f, NULL) : NULL;
}

ax_metric_t *ax_metrics_histogram(ax_metrics_t *r, const char *name,
    const char *help, const double *buckets, size_t n_buckets)
{
	ax_mfam_t *f = ax_metrics_family(
	    r, AX_METRIC_HISTOGRAM, name, help, 0, NULL, buckets, n_buckets);

	return f ? ax_mfam_with(f, NULL) : NULL;
}

ax_mfam_t *ax_metrics_gauge_fn(ax_metrics_t *r, const char *name,
    const char *help, double (*fn)(void *), void *arg)
{
	ax_mfam_t *f =
	    ax_metrics_family(r, AX_METRIC_GAUGE, name, help, 0, NULL, NULL, 0);

	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&f->mu);
	f->fn = fn;
	f->fn_arg = arg;
	pthread_mutex_unlock(&f->mu);
	return f;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
	uint64_t old = atomic_load(p), nv;

	do {
		nv = d2u(u2d(old) + v);
	} while (!atomic_compare_exchange_weak(p, &old, nv));
}

void ax_counter_add(ax_metric_t *m, double v)
{
	if (m == NULL || !(v >= 0))
		return;
	atomic_add_double(&m->bits, v);
}

void ax_counter_inc(ax_metric_t *m)
{
	ax_counter_add(m, 1);
}

void ax_gauge_set(ax_metric_t *m, double v)
{
	if (m)
		atomic_store(&m->bits, d2u(v));
}

void ax_gauge_add(ax_metric_t *m, double v)
{
	if (m)
		atomic_add_double(&m->bits, v);
}

void ax_histogram_observe(ax_metric_t *m, double v)
{
	size_t i;
	ax_mfam_t *f;

	if (m == NULL || m->buckets == NULL)
		return;
	f = m->fam;
	for (i = 0; i < f->n_bounds; i++)
		if (v <= f->bounds[i])
			break;
	atomic_fetch_add(&m->buckets[i], 1);
	atomic_add_double(&m->bits, v);
	atomic_fetch_add(&m->count, 1);
}

double ax_metric_value(const ax_metric_t *m)
{
	return u2d(atomic_load(&((ax_metric_t *)m)->bits));
}

uint64_t ax_histogram_count(const ax_metric_t *m)
{
	return atomic_load(&((ax_metric_t *)m)->count);
}

static void put_labels(
    ax_buf_t *b, const ax_mfam_t *f, const ax_metric_t *m, const char *le)
{
	size_t i;
	int any = 0;

	if (f->n_labels == 0 && le == NULL)
		return;
	ax_buf_putc(b, '{');
	for (i = 0; i < f->n_labels; i++) {
		if (any)
			ax_buf_putc(b, ',');
		ax_buf_puts(b, f->label_names[i]);
		ax_buf_puts(b, "=\"");
		ax_buf_put_escaped(b, m->values[i], strlen(m->values[i]), 1);
		ax_buf_putc(b, '"');
		any = 1;
	}
	if (le) {
		if (any)
			ax_buf_putc(b, ',');
		ax_buf_printf(b, "le=\"%s\"", le);
	}
	ax_buf_putc(b, '}');
}

static int child_cmp(const void *a, const void *b)
{
	const ax_metric_t *x = *(ax_metric_t *const *)a;
	const ax_metric_t *y = *(ax_metric_t *const *)b;
	size_t i;
	int c;

	for (i = 0; i < x->fam->n_labels; i++)
		if ((c = strcmp(x->values[i], y->values[i])) != 0)
			return c;
	return 0;
}

static int fam_cmp(const void *a, const void *b)
{
	return strcmp(
	    (*(ax_mfam_t *const *)a)->name, (*(ax_mfam_t *const *)b)->name);
}

static void render_family(ax_mfam_t *f, ax_buf_t *b)
{
	static const char *tn[] = {"counter", "gauge", "histogram"};
	ax_metric_t **kids, *m;
	size_t i, k, n;

	pthread_mutex_lock(&f->mu);
	if (f->fn) {
		ax_buf_printf(b, "# HELP %s ", f->name);
		ax_buf_put_escaped(b, f->help, strlen(f->help), 0);
		ax_buf_printf(
		    b, "\n# TYPE %s %s\n%s ", f->name, tn[f->type], f->name);
		ax_buf_put_double(b, f->fn(f->fn_arg));
		ax_buf_putc(b, '\n');
		pthread_mutex_unlock(&f->mu);
		return;
	}
	n = f->n_children;
	if (n == 0) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	kids = malloc(n * sizeof(*kids));
	if (kids == NULL) {
		b->oom = 1;
		pthread_mutex_unlock(&f->mu);
		return;
	}
	for (i = 0, m = f->children; m; m = m->next)
		kids[i++] = m;
	qsort(kids, n, sizeof(*kids), child_cmp);
	ax_buf_printf(b, "# HELP %s ", f->name);
	ax_buf_put_escaped(b, f->help, strlen(f->help), 0);
	ax_buf_printf(b, "\n# TYPE %s %s\n", f->name, tn[f->type]);
	for (i = 0; i < n; i++) {
		m = kids[i];
		if (f->type != AX_METRIC_HISTOGRAM) {
			ax_buf_puts(b, f->name);
			put_labels(b, f, m, NULL);
			ax_buf_putc(b, ' ');
			ax_buf_put_double(b, ax_metric_value(m));
			ax_buf_putc(b, '\n');
			continue;
		}
		{
			uint64_t cum = 0;
			char le[64];

			for (k = 0; k <= f->n_bounds; k++) {
				cum += atomic_load(&m->buckets[k]);
				if (k < f->n_bounds)
					ax_fmt_double(
					    le, sizeof(le), f->bounds[k]);
				else
					strcpy(le, "+Inf");
				ax_buf_printf(b, "%s_bucket", f->name);
				put_labels(b, f, m, le);
				ax_buf_printf(
				    b, " %llu\n", (unsigned long long)cum);
			}
			ax_buf_printf(b, "%s_sum", f->name);
			put_labels(b, f, m, NULL);
			ax_buf_putc(b, ' ');
			ax_buf_put_double(b, ax_metric_value(m));
			ax_buf_printf(b, "\n%s_count", f->name);
			put_labels(b, f, m, NULL);
			ax_buf_printf(b, " %llu\n", (unsigned long long)cum);
		}
	}
	free(kids);
	pthread_mutex_unlock(&f->mu);
}

void ax_metrics_render(ax_metrics_t *r, ax_buf_t *out)
{
	ax_mfam_t **fams, *f;
	size_t n = 0, i;

	pthread_mutex_lock(&r->mu);
	for (f = r->fams; f; f = f->next)
		n++;
	fams = malloc((n ? n : 1) * sizeof(*fams));
	if (fams == NULL) {
		out->oom = 1;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	for (i = 0, f = r->fams; f; f = f->next)
		fams[i++] = f;
	pthread_mutex_unlock(&r->mu);
	qsort(fams, n, sizeof(*fams), fam_cmp);
	for (i = 0; i < n; i++)
		render_family(fams[i], out);
	free(fams);
	if (r->collect)
		r->collect(r->collect_arg, out);
}

void ax_metrics_set_collector(
    ax_metrics_t *r, void (*fn)(void *arg, ax_buf_t *out), void *arg)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->collect = fn;
	r->collect_arg = arg;
	pthread_mutex_unlock(&r->mu);
}

/* ---- process metrics ---- */

static double g_start_time;

static int read_stat(double *cpu_s, double *vsize, double *rss)
{
	char buf[2048], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long utime, stime, vs;
	long rs;
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* fields after ") ": state(3) ... utime(14) stime(15) ... vsize(23)
	 * rss(24) */
	if (sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
	        "%*d %*d %*d %*d %*u %lu %ld",
	        &utime, &stime, &vs, &rs) != 4)
		return -1;
	*cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	*vsize = (double)vs;
	*rss = (double)rs * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

static double proc_cpu(void *arg)
{
	double c = 0, v, r;

	(void)arg;
	read_stat(&c, &v, &r);
	return c;
}

static double proc_rss(void *arg)
{
	double c, v, r = 0;

	(void)arg;
	read_stat(&c, &v, &r);
	return r;
}

static double proc_vsize(void *arg)
{
	double c, v = 0, r;

	(void)arg;
	read_stat(&c, &v, &r);
	return v;
}

static double proc_fds(void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	(void)arg;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory handle itself */
}

static double proc_max_fds(void *arg)
{
	struct rlimit rl;

	(void)arg;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
}

static double proc_start(void *arg)
{
	(void)arg;
	return g_start_time;
}

int ax_metrics_register_process(ax_metrics_t *r)
{
	struct timespec ts;
	ax_mfam_t *f;

	if (g_start_time == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		g_start_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	}
	f = ax_metrics_family(r, AX_METRIC_COUNTER, "process_cpu_seconds_total",
	    "Total user and system CPU time spent in seconds.", 0, NULL, NULL,
	    0);
	if (f == NULL)
		return -1;
	pthread_mutex_lock(&f->mu);
	f->fn = proc_cpu; /* rendered as gauge-like value with counter type */
	pthread_mutex_unlock(&f->mu);
	if (!ax_metrics_gauge_fn(r, "process_resident_memory_bytes",
	        "Resident memory size in bytes.", proc_rss, NULL) ||
	    !ax_metrics_gauge_fn(r, "process_virtual_memory_bytes",
	        "Virtual memory size in bytes.", proc_vsize, NULL) ||
	    !ax_metrics_gauge_fn(r, "process_open_fds",
	        "Number of open file descriptors.", proc_fds, NULL) ||
	    !ax_metrics_gauge_fn(r, "process_max_fds",
	        "Maximum number of open file descriptors.", proc_max_fds,
	        NULL) ||
	    !ax_metrics_gauge_fn(r, "process_start_time_seconds",
	        "Start time of the process since unix epoch in seconds.",
	        proc_start, NULL))
		return -1;
	return 0;
}
