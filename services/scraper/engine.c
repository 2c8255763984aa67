/*
 * engine: targets, the libuv + libcurl scrape loop, series and delivery
 * (see engine.h).
 */
#include "scraper/engine.h"

#include <curl/curl.h>
#include <glob.h>
#include <sys/stat.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <xxhash.h>

#include "ax_expo.h"
#include "ax_hmap.h"
#include "ax_labels.h"
#include "ax_log.h"
#include "ax_relabel.h"
#include "ax_rw.h"
#include "ax_ship.h"
#include "ax_units.h"
#include "scraper/disco.h"

#define ACCEPT_HDR                                                             \
	"Accept: application/openmetrics-text;version=1.0.0,"                  \
	"application/openmetrics-text;version=0.0.1;q=0.75,"                   \
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define STALE_BITS 0x7ff0000000000002ULL
/* forget a series this many scrapes after its staleness marker */
#define FORGET_AFTER 10

typedef struct series {
	uint64_t ref;
	ax_labels_t *ls; /* NULL: dropped by metric relabeling */
	uint64_t seen;   /* the scrape it was last exposed in */
} series_t;

/* A metric family's metadata as a target exposes it. */
typedef struct mfam {
	char *name; /* NUL-terminated copy of the family */
	int type;
	char *help, *unit;
	int dirty;
} mfam_t;

#define META_RESEND_MS (10 * 60 * 1000)

typedef ax_ship_sample_t pending_t;

/* A target's series in the order its last scrape exposed them: the next
 * scrape of an unchanged body matches them one by one by the hash of the
 * raw series text (128 bits), without a map lookup or a touch of the
 * series itself.  ref 0: dropped by metric_relabel_configs. */
typedef struct oent {
	XXH128_hash_t h;
	series_t *s;
	uint64_t ref;
} oent_t;

/* An exemplar of this scrape, shipped with its sample if the scrape
 * succeeds; its labels are "name\0value\0" pairs at off in exbuf. */
typedef struct pending_ex {
	uint64_t ref;
	int64_t t;
	double v;
	size_t off, n_labels;
} pending_ex_t;

/*
 * The targets are spread over ENGINE_LANES libcurl multi handles, each
 * with its own connection cache and timer, all on the one libuv loop.
 * libcurl 7.88 walks a multi's whole connection cache whenever a
 * finished transfer is removed (curl_multi_remove_handle), so with one
 * multi and thousands of kept-alive connections every scrape cost a walk
 * over all of them; per lane the walk is 1/ENGINE_LANES of that.
 */
#define ENGINE_LANES 32

typedef struct lane {
	scraper_engine_t *eng;
	CURLM *multi;
	uv_timer_t timer;
} lane_t;

typedef struct target {
	scraper_engine_t *eng;
	lane_t *lane; /* set when started */
	const scraper_job_t *job;
	ax_labels_t *discovered; /* before relabeling */
	ax_labels_t *labels;     /* NULL when dropped */
	char *url;
	uint64_t hash;  /* identity of the scraped target (labels, URL) */
	uint64_t dhash; /* identity of the discovered target */
	char *origin;   /* the file_sd file it came from; NULL: static */
	/* what the API shows (under eng->mu) */
	int health; /* 0 unknown, 1 up, -1 down */
	char last_error[512];
	int64_t last_scrape_ms;
	double last_duration;
	/* the scrape (loop thread) */
	uv_timer_t timer;
	CURL *easy;
	struct curl_slist *hdrs;
	char *auth_user, *auth_pass, *bearer;
	ax_buf_t body;
	char ctype[128];
	int in_flight, too_big;
	int64_t start_ms, start_mono;
	ax_hmap_t cache; /* raw series key -> series_t */
	oent_t *ord;     /* the last scrape's series, in body order */
	size_t n_ord, cap_ord;
	uint64_t iter;
	ax_expo_t parser;
	pending_t *pend;
	size_t n_pend, cap_pend;
	pending_ex_t *pex; /* exemplars (OpenMetrics) */
	size_t n_pex, cap_pex;
	ax_buf_t exbuf;
	series_t *rep[5]; /* report series */
	ax_hmap_t meta;   /* family -> mfam_t (shipped to axon-tsdb) */
	int64_t meta_sent_ms;
} target_t;

struct scraper_engine {
	const scraper_cfg_t *cfg;
	target_t **t;
	size_t n;
	pthread_mutex_t mu;
	uv_loop_t loop;
	uv_async_t stop_async;
	lane_t lanes[ENGINE_LANES];
	pthread_t thread;
	int started;
	ax_rw_sender_t **rw;
	size_t n_rw;
	ax_ship_t *ship;  /* to axon-tsdb, or NULL (borrowed) */
	struct jobrt *jr; /* jobs with file_sd_configs */
	size_t n_jr;
	scraper_shard_t shard;
	scraper_disco_t *disco; /* assignment and registry targets, or NULL */
	uv_async_t refresh_async;
	uint64_t *next_ref; /* shared by the engines of one process */
	ax_buf_t key;       /* scratch */
	oent_t *order;      /* a scrape's series order once it differs */
	size_t cap_order;
	ax_buf_t scratch;
	ax_metric_t *m_scrapes, *m_failed, *m_missed;
};

/* A job with file_sd_configs: its files are polled for changes. */
typedef struct jobrt {
	scraper_engine_t *eng;
	const scraper_job_t *job;
	uv_timer_t poll;
	uint64_t sig;
	int64_t next_full; /* ax_mono_ms: re-read at refresh_interval */
	int64_t refresh_ms;
	int polled; /* has file_sd_configs: poll is running */
} jobrt_t;

#define FILESD_POLL_MS 5000

typedef struct poll_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	lane_t *lane;
} poll_ctx_t;

static const char *const report_names[5] = {"up", "scrape_duration_seconds",
    "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
    "scrape_series_added"};

static double stale_nan(void)
{
	uint64_t u = STALE_BITS;
	double d;

	memcpy(&d, &u, 8);
	return d;
}

/* ---- targets ---- */

static char *dur_str(int64_t ms)
{
	char b[64];

	ax_duration_format(ms, b, sizeof(b));
	return strdup(b);
}

/* Discovered labels of one static target, then relabeling. */
static target_t *target_new(scraper_engine_t *e, const scraper_job_t *j,
    const char *addr, const ax_labels_t *group, ax_err_t *err)
{
	target_t *t = calloc(1, sizeof(*t));
	ax_labels_builder_t b;
	ax_labels_t *rl = NULL;
	char *iv = NULL, *tv = NULL, pname[300], *pnames[64];
	size_t i, np = 0;
	int rv;

	if (t == NULL)
		return NULL;
	t->eng = e;
	t->job = j;
	ax_hmap_init(&t->cache);
	ax_hmap_init(&t->meta);
	ax_expo_init(&t->parser, "", 0, 0);
	iv = dur_str(j->interval_ms);
	tv = dur_str(j->timeout_ms);
	ax_labels_builder_init(&b, group);
	ax_labels_builder_set(&b, "__address__", addr);
	ax_labels_builder_set(&b, "job", j->job_name);
	ax_labels_builder_set(&b, "__scheme__", j->scheme);
	ax_labels_builder_set(&b, "__metrics_path__", j->metrics_path);
	ax_labels_builder_set(&b, "__scrape_interval__", iv);
	ax_labels_builder_set(&b, "__scrape_timeout__", tv);
	for (i = 0; i < j->params_names.n && np < 64; i++) {
		snprintf(
		    pname, sizeof(pname), "__param_%s", j->params_names.v[i]);
		if ((pnames[np] = strdup(pname)) == NULL)
			continue;
		ax_labels_builder_set(&b, pnames[np++], j->params_values.v[i]);
	}
	rv = ax_labels_builder_build(&b, &t->discovered, err);
	ax_labels_builder_fini(&b);
	while (np > 0)
		free(pnames[--np]);
	if (rv == 0) {
		ax_buf_t hk = AX_BUF_INIT;

		ax_labels_format(t->discovered, &hk);
		t->dhash = ax_hash_bytes(hk.p ? hk.p : "", hk.len);
		ax_buf_fini(&hk);
	}
	free(iv);
	free(tv);
	if (rv != 0)
		goto fail;
	rv = j->relabel.n
	    ? ax_relabel_process(&j->relabel, t->discovered, &rl, err)
	    : (rl = ax_labels_dup(t->discovered)) != NULL;
	if (rv < 0)
		goto fail;
	if (rv == 1) {
		const char *a = ax_labels_get(rl, "__address__");
		const char *sch = ax_labels_get(rl, "__scheme__");
		const char *path = ax_labels_get(rl, "__metrics_path__");
		ax_buf_t url = AX_BUF_INIT;
		char full[600];
		uint32_t k;
		int has_port;
		const char *colon;

		if (a == NULL || *a == '\0') {
			ax_err_set(err, AX_ECONFIG,
			    "target %s of job %s: no "
			    "address after relabeling",
			    addr, j->job_name);
			ax_labels_free(rl);
			goto fail;
		}
		if (sch == NULL)
			sch = j->scheme;
		if (path == NULL)
			path = j->metrics_path;
		colon = strrchr(a, ':');
		has_port =
		    colon != NULL && (a[0] != '[' || colon > strchr(a, ']'));
		snprintf(full, sizeof(full), "%s%s", a,
		    has_port ? ""
		             : (strcmp(sch, "https") == 0 ? ":443" : ":80"));
		ax_labels_builder_init(&b, NULL);
		for (k = 0; k < rl->n; k++)
			if (strncmp(rl->l[k].name, "__", 2) != 0)
				ax_labels_builder_set(
				    &b, rl->l[k].name, rl->l[k].value);
		if (ax_labels_get(rl, "instance") == NULL)
			ax_labels_builder_set(&b, "instance", full);
		rv = ax_labels_builder_build(&b, &t->labels, err);
		ax_labels_builder_fini(&b);
		/* the URL: params from __param_* labels override the config */
		ax_buf_printf(&url, "%s://%s%s", sch, full, path);
		{
			int first = strchr(path, '?') == NULL;

			for (k = 0; k < rl->n; k++) {
				if (strncmp(rl->l[k].name, "__param_", 8) != 0)
					continue;
				ax_buf_putc(&url, first ? '?' : '&');
				first = 0;
				ax_buf_puts(&url, rl->l[k].name + 8);
				ax_buf_putc(&url, '=');
				ax_buf_put_urlencoded(&url, rl->l[k].value);
			}
		}
		ax_buf_putc(&url, '\0');
		t->url = ax_buf_take(&url, NULL);
		ax_labels_free(rl);
		if (rv != 0 || t->url == NULL)
			goto fail;
		{
			ax_buf_t hk = AX_BUF_INIT;

			ax_labels_format(t->labels, &hk);
			ax_buf_puts(&hk, t->url);
			t->hash = ax_hash_bytes(hk.p, hk.len);
			ax_buf_fini(&hk);
		}
	}
	return t;
fail:
	ax_labels_free(t->discovered);
	ax_labels_free(t->labels);
	free(t->url);
	ax_expo_fini(&t->parser);
	ax_hmap_fini(&t->cache);
	free(t);
	return NULL;
}

static void target_free(target_t *t)
{
	size_t pos = 0;
	ax_hmap_ent_t *he;

	while ((he = ax_hmap_next(&t->cache, &pos)) != NULL) {
		series_t *s = he->val;

		ax_labels_free(s->ls);
		free(s);
	}
	ax_hmap_fini(&t->cache);
	free(t->ord);
	pos = 0;
	while ((he = ax_hmap_next(&t->meta, &pos)) != NULL) {
		mfam_t *m = he->val;

		free(m->name);
		free(m->help);
		free(m->unit);
		free(m);
	}
	ax_hmap_fini(&t->meta);
	ax_labels_free(t->discovered);
	ax_labels_free(t->labels);
	free(t->url);
	free(t->origin);
	ax_buf_fini(&t->body);
	ax_buf_fini(&t->exbuf);
	free(t->pex);
	ax_expo_fini(&t->parser);
	free(t->pend);
	free(t->auth_user);
	free(t->auth_pass);
	free(t->bearer);
	if (t->hdrs)
		curl_slist_free_all(t->hdrs);
	if (t->easy)
		curl_easy_cleanup(t->easy);
	free(t);
}

/* ---- series and delivery ---- */

static int deliver(scraper_engine_t *e, uint64_t ref, int64_t t, double v)
{
	size_t i;
	int rv = 0;

	for (i = 0; i < e->n_rw; i++)
		if (ax_rw_offer(e->rw[i], ref, t, v) != 0)
			rv = -1;
	if (e->ship && ax_ship_append(e->ship, ref, t, v) != 0)
		rv = -1;
	return rv;
}

/* deliver for a scrape's samples, in order (one lock for the tsdb) */
static void deliver_many(scraper_engine_t *e, const pending_t *p, size_t n)
{
	size_t i, r;

	for (r = 0; r < e->n_rw; r++)
		for (i = 0; i < n; i++)
			ax_rw_offer(e->rw[r], p[i].ref, p[i].t, p[i].v);
	if (e->ship && n > 0)
		ax_ship_append_many(e->ship, p, n);
}

static series_t *series_new(scraper_engine_t *e, ax_labels_t *ls)
{
	series_t *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return NULL;
	s->ref = __atomic_add_fetch(e->next_ref, 1, __ATOMIC_RELAXED);
	s->ls = ls;
	if (ls) {
		for (i = 0; i < e->n_rw; i++)
			ax_rw_store_series(e->rw[i], s->ref, ls);
		if (e->ship)
			ax_ship_store_series(e->ship, s->ref, ls);
	}
	return s;
}

/* Target labels over the exposed ones, as Prometheus' mutateSampleLabels
 * (honor_labels or exported_ renaming). */
static int sample_labels(
    target_t *t, const ax_labels_t *exposed, ax_labels_t **out, ax_err_t *err)
{
	ax_labels_builder_t b;
	const ax_labels_t *tl = t->labels;
	char *names[64];
	const char *vals[64];
	size_t nc = 0, i, k;
	uint32_t j;
	int rv;

	ax_labels_builder_init(&b, exposed);
	for (j = 0; j < tl->n; j++) {
		const char *ev = ax_labels_get(exposed, tl->l[j].name);

		if (t->job->honor_labels) {
			if (ev == NULL)
				ax_labels_builder_set(
				    &b, tl->l[j].name, tl->l[j].value);
			continue;
		}
		if (ev != NULL && *ev && nc < 64) {
			names[nc] = (char *)tl->l[j].name;
			vals[nc++] = ev;
		}
		ax_labels_builder_set(&b, tl->l[j].name, tl->l[j].value);
	}
	/* shorter names first, each prefixed until free */
	for (i = 1; i < nc; i++)
		for (k = i; k > 0 && strlen(names[k - 1]) > strlen(names[k]);
		     k--) {
			char *tn = names[k];
			const char *tv = vals[k];

			names[k] = names[k - 1];
			vals[k] = vals[k - 1];
			names[k - 1] = tn;
			vals[k - 1] = tv;
		}
	for (i = 0; i < nc; i++) {
		char nn[512];

		snprintf(nn, sizeof(nn), "%s", names[i]);
		for (;;) {
			char tmp[512];
			int taken = 0;

			snprintf(tmp, sizeof(tmp), "exported_%s", nn);
			snprintf(nn, sizeof(nn), "%s", tmp);
			if (ax_labels_get(exposed, nn) || ax_labels_get(tl, nn))
				taken = 1;
			for (k = 0; k < i && !taken; k++)
				if (strcmp(names[k], nn) == 0)
					taken = 1;
			if (!taken)
				break;
		}
		names[i] = strdup(nn);
		if (names[i] == NULL) {
			while (i-- > 0)
				free(names[i]);
			ax_labels_builder_fini(&b);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	for (i = 0; i < nc; i++)
		ax_labels_builder_set(&b, names[i], vals[i]);
	rv = ax_labels_builder_build(&b, out, err);
	ax_labels_builder_fini(&b);
	for (i = 0; i < nc; i++)
		free(names[i]);
	return rv;
}

/* The final labels of an exposed series: target labels, metric
 * relabeling.  1 keep (*out), 0 dropped, <0 error. */
static int final_labels(
    target_t *t, const ax_expo_t *x, ax_labels_t **out, ax_err_t *err)
{
	scraper_engine_t *e = t->eng;
	ax_label_t pairs[AX_EXPO_MAX_LABELS + 1];
	size_t offs[AX_EXPO_MAX_LABELS + 1], i;
	ax_labels_t *exposed = NULL, *withtl = NULL;
	int rv;

	ax_buf_reset(&e->scratch);
	/* unescaped values, NUL-terminated, in one scratch buffer */
	offs[0] = e->scratch.len;
	ax_buf_append(&e->scratch, x->name.p, x->name.n);
	ax_buf_putc(&e->scratch, '\0');
	for (i = 0; i < x->n_labels; i++) {
		offs[i + 1] = e->scratch.len;
		ax_buf_append(
		    &e->scratch, x->labels[i].name.p, x->labels[i].name.n);
		ax_buf_putc(&e->scratch, '\0');
		ax_expo_unescape(&x->labels[i].value, &e->scratch);
		ax_buf_putc(&e->scratch, '\0');
	}
	if (e->scratch.oom)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pairs[0].name = AX_METRIC_NAME;
	pairs[0].value = e->scratch.p + offs[0];
	for (i = 0; i < x->n_labels; i++) {
		const char *nm = e->scratch.p + offs[i + 1];

		pairs[i + 1].name = nm;
		pairs[i + 1].value = nm + strlen(nm) + 1;
	}
	if ((rv = ax_labels_new(pairs, x->n_labels + 1, &exposed, err)) != 0)
		return rv;
	rv = sample_labels(t, exposed, &withtl, err);
	ax_labels_free(exposed);
	if (rv != 0)
		return rv;
	if (t->job->metric_relabel.n > 0) {
		rv = ax_relabel_process(
		    &t->job->metric_relabel, withtl, out, err);
		ax_labels_free(withtl);
		return rv;
	}
	*out = withtl;
	return 1;
}

static int check_limits(
    const scraper_job_t *j, const ax_labels_t *ls, ax_err_t *err)
{
	uint32_t i;

	if (j->label_limit > 0 && ls->n > (uint32_t)j->label_limit)
		return ax_err_set(err, AX_ELIMIT,
		    "label_limit exceeded (metric: %s, number of labels: %u, "
		    "limit: %lld)",
		    ax_labels_get(ls, AX_METRIC_NAME), ls->n,
		    (long long)j->label_limit);
	for (i = 0; i < ls->n; i++) {
		if (j->label_name_length_limit > 0 &&
		    strlen(ls->l[i].name) > (size_t)j->label_name_length_limit)
			return ax_err_set(err, AX_ELIMIT,
			    "label_name_length_limit exceeded (metric: %s, "
			    "label name: %s, limit: %lld)",
			    ax_labels_get(ls, AX_METRIC_NAME), ls->l[i].name,
			    (long long)j->label_name_length_limit);
		if (j->label_value_length_limit > 0 &&
		    strlen(ls->l[i].value) >
		        (size_t)j->label_value_length_limit)
			return ax_err_set(err, AX_ELIMIT,
			    "label_value_length_limit exceeded (metric: %s, "
			    "label name: %s, limit: %lld)",
			    ax_labels_get(ls, AX_METRIC_NAME), ls->l[i].name,
			    (long long)j->label_value_length_limit);
	}
	return 0;
}

static int push_pending(target_t *t, uint64_t ref, int64_t ts, double v)
{
	if (t->n_pend == t->cap_pend &&
	    ax_grow((void **)&t->pend, &t->cap_pend, t->n_pend + 1,
	        sizeof(*t->pend)) != 0)
		return AX_ENOMEM;
	t->pend[t->n_pend].ref = ref;
	t->pend[t->n_pend].t = ts;
	t->pend[t->n_pend].v = v;
	t->n_pend++;
	return 0;
}

static int push_exemplar(target_t *t, uint64_t ref, int64_t ts, ax_expo_t *x)
{
	pending_ex_t *p;
	size_t i;

	if (ax_grow((void **)&t->pex, &t->cap_pex, t->n_pex + 1,
	        sizeof(*t->pex)) != 0)
		return AX_ENOMEM;
	p = &t->pex[t->n_pex];
	p->ref = ref;
	p->t = ts;
	p->v = x->ex_value;
	p->off = t->exbuf.len;
	p->n_labels = x->n_ex_labels;
	for (i = 0; i < x->n_ex_labels; i++) {
		ax_expo_unescape(&x->ex_labels[i].name, &t->exbuf);
		ax_buf_putc(&t->exbuf, '\0');
		ax_expo_unescape(&x->ex_labels[i].value, &t->exbuf);
		ax_buf_putc(&t->exbuf, '\0');
	}
	if (!ax_buf_ok(&t->exbuf))
		return AX_ENOMEM;
	t->n_pex++;
	return 0;
}

/* Hand the scrape's exemplars to axon-tsdb and the remote-write senders
 * (after their samples). */
static void ship_exemplars(target_t *t)
{
	size_t i, k;

	for (i = 0; i < t->n_pex; i++) {
		const pending_ex_t *p = &t->pex[i];
		ax_label_t l[AX_EXPO_MAX_LABELS];
		const char *c = t->exbuf.p + p->off;
		ax_labels_t *ls = NULL;
		ax_err_t e;

		for (k = 0; k < p->n_labels && k < AX_EXPO_MAX_LABELS; k++) {
			l[k].name = c;
			c += strlen(c) + 1;
			l[k].value = c;
			c += strlen(c) + 1;
		}
		if (ax_labels_new(l, k, &ls, &e) == 0) {
			size_t r;

			if (t->eng->ship)
				ax_ship_exemplar(
				    t->eng->ship, p->ref, ls, p->v, p->t);
			for (r = 0; r < t->eng->n_rw; r++)
				ax_rw_append_exemplar(
				    t->eng->rw[r], p->ref, ls, p->v, p->t);
			ax_labels_free(ls);
		}
	}
}

/* Replace *field with the unescaped s when it differs; 1 changed, 0 not,
 * AX_ENOMEM. */
static int set_text(scraper_engine_t *e, char **field, const ax_expo_str_t *s)
{
	char *nv;

	ax_buf_reset(&e->scratch);
	ax_expo_unescape(s, &e->scratch);
	ax_buf_putc(&e->scratch, '\0');
	if (e->scratch.oom)
		return AX_ENOMEM;
	if (*field && strcmp(*field, e->scratch.p) == 0)
		return 0;
	if ((nv = strdup(e->scratch.p)) == NULL)
		return AX_ENOMEM;
	free(*field);
	*field = nv;
	return 1;
}

/* Remember the HELP, TYPE or UNIT (kind) of a family; what changed is
 * shipped after the scrape.  0 or AX_ENOMEM. */
static int note_meta(target_t *t, const ax_expo_t *x, int kind)
{
	scraper_engine_t *e = t->eng;
	mfam_t *m = ax_hmap_get(&t->meta, x->name.p, x->name.n);
	int r = 0;

	if (m == NULL) {
		if ((m = calloc(1, sizeof(*m))) == NULL ||
		    (m->name = strndup(x->name.p, x->name.n)) == NULL ||
		    ax_hmap_put(&t->meta, x->name.p, x->name.n, m, NULL) != 0) {
			if (m)
				free(m->name);
			free(m);
			return AX_ENOMEM;
		}
		m->dirty = 1;
	}
	if (kind == AX_EXPO_TYPE) {
		if (m->type != (int)x->type) {
			m->type = (int)x->type;
			m->dirty = 1;
		}
		return 0;
	}
	r = set_text(e, kind == AX_EXPO_HELP ? &m->help : &m->unit, &x->text);
	if (r < 0)
		return r;
	if (r == 1)
		m->dirty = 1;
	return 0;
}

/* Ship the families whose metadata changed (all of them every
 * META_RESEND_MS, so a restarted tsdb learns them again). */
static void ship_meta(target_t *t)
{
	size_t pos = 0;
	ax_hmap_ent_t *he;
	int64_t now = ax_mono_ms();
	int all = now - t->meta_sent_ms >= META_RESEND_MS;

	if (t->eng->ship == NULL)
		return;
	while ((he = ax_hmap_next(&t->meta, &pos)) != NULL) {
		mfam_t *m = he->val;

		if ((m->dirty || all) &&
		    ax_ship_metadata(
		        t->eng->ship, m->name, m->type, m->help, m->unit) == 0)
			m->dirty = 0;
	}
	if (all)
		t->meta_sent_ms = now;
}

/* Parse the body into pending samples.  OUT: *np series in this scrape's
 * order so far, *fast whether they are still the previous scrape's (in
 * t->ord; else in e->order, with seen set).  0, or an error with err. */
static int parse_body(target_t *t, size_t *scraped, size_t *added,
    size_t *np, int *fast, ax_err_t *err)
{
	scraper_engine_t *e = t->eng;
	int om = strncmp(t->ctype, "application/openmetrics-text", 28) == 0;
	int rv;
	size_t i, p = 0;

	*scraped = *added = 0;
	*np = 0;
	*fast = 1;
	ax_expo_reset(&t->parser, t->body.p ? t->body.p : "", t->body.len, om);
	while ((rv = ax_expo_next(&t->parser)) > 0) {
		ax_expo_t *x = &t->parser;
		series_t *s;
		oent_t o;
		int64_t ts;

		if (rv != AX_EXPO_SAMPLE) {
			if (e->ship && note_meta(t, x, rv) != 0)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			continue;
		}
		(*scraped)++;
		ax_buf_reset(&e->key);
		ax_buf_append(&e->key, x->name.p, x->name.n);
		for (i = 0; i < x->n_labels; i++) {
			ax_buf_putc(&e->key, '\0');
			ax_buf_append(
			    &e->key, x->labels[i].name.p, x->labels[i].name.n);
			ax_buf_putc(&e->key, '\1');
			ax_buf_append(&e->key, x->labels[i].value.p,
			    x->labels[i].value.n);
		}
		if (e->key.oom)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		o.h = XXH3_128bits(e->key.p, e->key.len);
		if (*fast && p < t->n_ord && XXH128_isEqual(o.h, t->ord[p].h)) {
			/* the same series as at this place last time */
			o = t->ord[p];
		} else {
			if (*fast) {
				/* the body differs from here on: the series
				 * so far are marked seen, the order goes on
				 * in scratch */
				*fast = 0;
				if (ax_grow((void **)&e->order,
				        &e->cap_order, p + 1,
				        sizeof(*e->order)) != 0)
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
				for (i = 0; i < p; i++)
					t->ord[i].s->seen = t->iter;
				memcpy(e->order, t->ord, p * sizeof(*t->ord));
			}
			s = ax_hmap_get(&t->cache, e->key.p, e->key.len);
			if (s == NULL) {
				ax_labels_t *ls = NULL;

				rv = final_labels(t, x, &ls, err);
				if (rv < 0)
					return rv;
				if (ls &&
				    (rv = check_limits(t->job, ls, err)) != 0) {
					ax_labels_free(ls);
					return rv;
				}
				if ((s = series_new(e, ls)) == NULL ||
				    ax_hmap_put(&t->cache, e->key.p,
				        e->key.len, s, NULL) != 0) {
					ax_labels_free(ls);
					free(s);
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
				}
				if (ls)
					(*added)++;
			}
			if (s->seen == t->iter)
				continue; /* the same series twice in one body */
			s->seen = t->iter;
			o.s = s;
			o.ref = s->ls ? s->ref : 0;
			if (ax_grow((void **)&e->order, &e->cap_order,
			        p + 1, sizeof(*e->order)) != 0)
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			e->order[p] = o;
		}
		*np = ++p;
		if (o.ref == 0)
			continue; /* dropped by metric_relabel_configs */
		if (t->job->sample_limit > 0 &&
		    t->n_pend >= (size_t)t->job->sample_limit)
			return ax_err_set(err, AX_ELIMIT,
			    "sample limit exceeded (limit: %lld)",
			    (long long)t->job->sample_limit);
		ts = t->job->honor_timestamps && x->has_ts ? x->ts_ms
		                                           : t->start_ms;
		if (push_pending(t, o.ref, ts, x->value) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		if (x->has_ex && (e->ship || e->n_rw) &&
		    push_exemplar(t, o.ref, x->ex_has_ts ? x->ex_ts_ms : ts, x) !=
		        0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (rv == AX_EXPO_ERROR)
		return ax_err_set(err, AX_EPARSE, "%s", t->parser.err);
	return 0;
}

/* Forget the series not exposed for FORGET_AFTER scrapes (their refs
 * dropped from the senders). */
static void forget_series(target_t *t)
{
	size_t pos = 0, i;
	ax_hmap_ent_t *he;

	while ((he = ax_hmap_next(&t->cache, &pos)) != NULL) {
		series_t *s = he->val;

		if (s->seen + FORGET_AFTER >= t->iter)
			continue;
		for (i = 0; i < t->eng->n_rw; i++)
			ax_rw_drop_series(t->eng->rw[i], s->ref);
		if (t->eng->ship)
			ax_ship_drop_series(t->eng->ship, s->ref);
		ax_labels_free(s->ls);
		free(s);
		ax_hmap_del(&t->cache, he->key, he->klen);
	}
}

/* After a scrape whose body gave n series (parse_body's np and fast; a
 * failed scrape: 0 and 1): staleness markers at ts for the series of the
 * previous scrape not in this one, this scrape's order kept for the
 * next, long-absent series forgotten.  An unchanged body costs nothing
 * here.  0 or AX_ENOMEM (the order is then forgotten: the next scrape
 * looks every series up). */
static int finish_series(target_t *t, int64_t ts, size_t n, int fast)
{
	scraper_engine_t *e = t->eng;
	size_t i, n_rep = 0;
	int rv = 0;

	if (!fast || n != t->n_ord) {
		if (fast)
			for (i = 0; i < n; i++)
				t->ord[i].s->seen = t->iter;
		for (i = 0; i < t->n_ord; i++) {
			series_t *s = t->ord[i].s;

			if (s->seen == t->iter)
				continue;
			if (t->ord[i].ref != 0)
				deliver(e, t->ord[i].ref, ts, stale_nan());
			s->seen = t->iter - 1; /* exposed last time */
		}
		t->n_ord = n;
		if (!fast) {
			if (ax_grow((void **)&t->ord, &t->cap_ord, n,
			        sizeof(*t->ord)) != 0) {
				t->n_ord = 0;
				rv = AX_ENOMEM;
			} else if (n > 0)
				memcpy(t->ord, e->order, n * sizeof(*t->ord));
		}
	}
	for (i = 0; i < 5; i++)
		n_rep += t->rep[i] != NULL;
	if (t->cache.n > t->n_ord + n_rep) {
		/* some series are not in this scrape: forget the long gone */
		for (i = 0; i < t->n_ord; i++)
			t->ord[i].s->seen = t->iter;
		forget_series(t);
	}
	return rv;
}

/* The target goes away (t->iter already advanced): staleness markers at
 * ts for the series of its last scrape, its report series included. */
static void mark_stale(target_t *t, int64_t ts)
{
	size_t i;

	finish_series(t, ts, 0, 1);
	for (i = 0; i < 5; i++)
		if (t->rep[i] && t->rep[i]->seen + 1 == t->iter)
			deliver(t->eng, t->rep[i]->ref, ts, stale_nan());
}

static void report(
    target_t *t, int up, double dur, size_t scraped, size_t post, size_t added)
{
	double v[5] = {up, dur, (double)scraped, (double)post, (double)added};
	int i;

	for (i = 0; i < 5; i++) {
		if (t->rep[i] == NULL) {
			ax_labels_builder_t b;
			ax_labels_t *ls = NULL;

			ax_labels_builder_init(&b, t->labels);
			ax_labels_builder_set(
			    &b, AX_METRIC_NAME, report_names[i]);
			ax_labels_builder_build(&b, &ls, NULL);
			ax_labels_builder_fini(&b);
			if (ls == NULL ||
			    (t->rep[i] = series_new(t->eng, ls)) == NULL) {
				ax_labels_free(ls);
				continue;
			}
			if (ax_hmap_put(&t->cache, report_names[i],
			        strlen(report_names[i]) + 1, t->rep[i],
			        NULL) != 0) {
				ax_labels_free(ls);
				free(t->rep[i]);
				t->rep[i] = NULL;
				continue;
			}
		}
		t->rep[i]->seen = t->iter;
		deliver(t->eng, t->rep[i]->ref, t->start_ms, v[i]);
	}
}

/* A scrape ended: result is the curl code, code the HTTP status. */
static void scrape_done(target_t *t, CURLcode result, long code)
{
	scraper_engine_t *e = t->eng;
	size_t scraped = 0, added = 0, n_ser = 0, i;
	int fast = 1;
	double dur = (double)(ax_mono_ms() - t->start_mono) / 1000.0;
	char why[512] = "";
	ax_err_t err;

	t->in_flight = 0;
	t->iter++;
	t->n_pend = 0;
	t->n_pex = 0;
	ax_buf_reset(&t->exbuf);
	if (t->too_big)
		snprintf(why, sizeof(why),
		    "body size limit exceeded (limit: %lld bytes)",
		    (long long)t->job->body_size_limit);
	else if (result != CURLE_OK)
		snprintf(why, sizeof(why), "%s%s", curl_easy_strerror(result),
		    result == CURLE_OPERATION_TIMEDOUT ? " (scrape timeout)"
		                                       : "");
	else if (code != 200)
		snprintf(
		    why, sizeof(why), "server returned HTTP status %ld", code);
	else if (parse_body(t, &scraped, &added, &n_ser, &fast, &err) != 0)
		snprintf(why, sizeof(why), "%s", err.msg);
	if (why[0] == '\0') {
		deliver_many(e, t->pend, t->n_pend);
		ship_exemplars(t);
		report(t, 1, dur, scraped, t->n_pend, added);
		finish_series(t, t->start_ms, n_ser, fast);
		ship_meta(t);
	} else {
		/* nothing of a failed scrape is kept: all of the last
		 * scrape's series go stale */
		t->n_pend = 0;
		report(t, 0, dur, 0, 0, 0);
		if (!fast)
			for (i = 0; i < t->n_ord; i++)
				t->ord[i].s->seen = 0;
		finish_series(t, t->start_ms, 0, 1);
		ax_counter_add(e->m_failed, 1);
	}
	ax_counter_add(e->m_scrapes, 1);
	pthread_mutex_lock(&e->mu);
	t->health = why[0] ? -1 : 1;
	snprintf(t->last_error, sizeof(t->last_error), "%s", why);
	t->last_scrape_ms = t->start_ms;
	t->last_duration = dur;
	pthread_mutex_unlock(&e->mu);
	ax_buf_reset(&t->body);
}

/* ---- curl on libuv ---- */

static void check_done(lane_t *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
		target_t *t = NULL;
		long code = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(
		    m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(
		    m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		curl_multi_remove_handle(l->multi, m->easy_handle);
		if (t)
			scrape_done(t, m->data.result, code);
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	poll_ctx_t *pc = h->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(pc->lane->multi, pc->fd, flags, &running);
	check_done(pc->lane);
}

static void free_poll(uv_handle_t *h)
{
	free(h->data);
}

static int on_socket(
    CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	lane_t *l = userp;
	poll_ctx_t *pc = socketp;
	int ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (pc) {
			uv_poll_stop(&pc->poll);
			uv_close((uv_handle_t *)&pc->poll, free_poll);
			curl_multi_assign(l->multi, s, NULL);
		}
		return 0;
	}
	if (pc == NULL) {
		if ((pc = calloc(1, sizeof(*pc))) == NULL)
			return -1;
		pc->fd = s;
		pc->lane = l;
		if (uv_poll_init_socket(&l->eng->loop, &pc->poll, s) != 0) {
			free(pc);
			return -1;
		}
		pc->poll.data = pc;
		curl_multi_assign(l->multi, s, pc);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&pc->poll, ev, on_poll);
	return 0;
}

static void on_curl_timer(uv_timer_t *h)
{
	lane_t *l = h->data;
	int running;

	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(l);
}

static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
	lane_t *l = userp;

	(void)m;
	if (timeout_ms < 0)
		uv_timer_stop(&l->timer);
	else
		uv_timer_start(
		    &l->timer, on_curl_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	target_t *t = arg;
	size_t len = sz * n;

	if (t->job->body_size_limit > 0 &&
	    t->body.len + len > (size_t)t->job->body_size_limit) {
		t->too_big = 1;
		return 0;
	}
	ax_buf_append(&t->body, p, len);
	return t->body.oom ? 0 : len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	target_t *t = arg;
	size_t len = sz * n;

	if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
		const char *v = p + 13;
		size_t k;

		while (*v == ' ' || *v == '\t')
			v++;
		k = (size_t)(p + len - v);
		while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n'))
			k--;
		if (k >= sizeof(t->ctype))
			k = sizeof(t->ctype) - 1;
		memcpy(t->ctype, v, k);
		t->ctype[k] = '\0';
	}
	return len;
}

/* A password or token file; unreadable: logged, and "" is sent (the
 * target answers 401, which shows in lastError). */
static char *read_secret(const scraper_job_t *j, const char *path)
{
	ax_err_t err;
	char *v = ax_rw_read_secret_file(path, &err);

	if (v == NULL)
		ax_log_error(
		    "scrape credentials", "job", j->job_name, "err", err.msg);
	return v;
}

/* Set up the easy handle of a target once (reused: keep-alive). */
static int easy_setup(target_t *t)
{
	const scraper_job_t *j = t->job;
	char h[128];

	if ((t->easy = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (char *)t);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	/* no DNS cache: libcurl 7.88 walks the whole cache at the end of
	 * every transfer to prune it, and it holds one entry per host:port,
	 * so with thousands of targets that walk dominated the scraper's CPU.
	 * A kept-alive connection is reused without a lookup anyway, and a
	 * new one resolves afresh, as Prometheus' dialer does. */
	curl_easy_setopt(t->easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(
	    t->easy, CURLOPT_USERAGENT, "axon-scraper/" AX_VERSION);
	t->hdrs = curl_slist_append(t->hdrs, ACCEPT_HDR);
	snprintf(h, sizeof(h), "X-Prometheus-Scrape-Timeout-Seconds: %g",
	    (double)j->timeout_ms / 1000.0);
	t->hdrs = curl_slist_append(t->hdrs, h);
	if (j->basic_auth.username) {
		t->auth_user = strdup(j->basic_auth.username);
		t->auth_pass = j->basic_auth.password_file
		    ? read_secret(j, j->basic_auth.password_file)
		    : strdup(
		          j->basic_auth.password ? j->basic_auth.password : "");
		curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(t->easy, CURLOPT_USERNAME, t->auth_user);
		curl_easy_setopt(t->easy, CURLOPT_PASSWORD,
		    t->auth_pass ? t->auth_pass : "");
	}
	if (j->bearer_token || j->bearer_token_file ||
	    j->authorization.credentials || j->authorization.credentials_file) {
		char *cred = j->bearer_token ? strdup(j->bearer_token)
		    : j->bearer_token_file
		    ? read_secret(j, j->bearer_token_file)
		    : j->authorization.credentials
		    ? strdup(j->authorization.credentials)
		    : read_secret(j, j->authorization.credentials_file);
		ax_buf_t a = AX_BUF_INIT;

		ax_buf_printf(&a, "Authorization: %s %s",
		    j->authorization.type ? j->authorization.type : "Bearer",
		    cred ? cred : "");
		ax_buf_putc(&a, '\0');
		t->bearer = ax_buf_take(&a, NULL);
		free(cred);
		if (t->bearer)
			t->hdrs = curl_slist_append(t->hdrs, t->bearer);
	}
	ax_rw_tls_apply(t->easy, &j->tls);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
	return 0;
}

/*
 * Keep one idle connection per target between scrapes, as Prometheus
 * does.  libcurl's default cache holds 4 x the handles in the multi at
 * the moment, and with scrapes spread over the interval only a few are:
 * every scrape would open a new TCP connection.  A lane holds about
 * n / ENGINE_LANES targets (by hash); twice that leaves room for an
 * uneven spread.  Loop thread only.
 */
static void conn_cache_fit(scraper_engine_t *e)
{
	size_t i;

	for (i = 0; i < ENGINE_LANES; i++)
		curl_multi_setopt(e->lanes[i].multi, CURLMOPT_MAXCONNECTS,
		    (long)(e->n / ENGINE_LANES * 2 + 16));
}

static void on_scrape_timer(uv_timer_t *h)
{
	target_t *t = h->data;
	scraper_engine_t *e = t->eng;

	if (t->in_flight) {
		ax_counter_add(e->m_missed, 1);
		return;
	}
	if (t->easy == NULL && easy_setup(t) != 0)
		return;
	ax_buf_reset(&t->body);
	t->ctype[0] = '\0';
	t->too_big = 0;
	t->start_ms = ax_now_ms();
	t->start_mono = ax_mono_ms();
	t->in_flight = 1;
	if (curl_multi_add_handle(t->lane->multi, t->easy) != CURLM_OK) {
		t->in_flight = 0;
		return;
	}
}

static void on_stop(uv_async_t *h)
{
	scraper_engine_t *e = h->data;
	size_t i;

	for (i = 0; i < e->n; i++) {
		target_t *t = e->t[i];

		if (t->labels == NULL)
			continue;
		uv_timer_stop(&t->timer);
		uv_close((uv_handle_t *)&t->timer, NULL);
		if (t->in_flight) {
			curl_multi_remove_handle(t->lane->multi, t->easy);
			t->in_flight = 0;
		}
	}
	for (i = 0; i < e->n_jr; i++) {
		if (!e->jr[i].polled)
			continue;
		uv_timer_stop(&e->jr[i].poll);
		uv_close((uv_handle_t *)&e->jr[i].poll, NULL);
	}
	uv_close((uv_handle_t *)&e->refresh_async, NULL);
	for (i = 0; i < ENGINE_LANES; i++) {
		uv_timer_stop(&e->lanes[i].timer);
		uv_close((uv_handle_t *)&e->lanes[i].timer, NULL);
	}
	uv_close((uv_handle_t *)&e->stop_async, NULL);
}

static void *loop_main(void *arg)
{
	scraper_engine_t *e = arg;

	uv_run(&e->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* The first scrape at the next wall-clock time congruent to the target's
 * offset, as Prometheus does, so restarts keep the phase. */
static uint64_t first_delay(const target_t *t)
{
	int64_t iv = t->job->interval_ms, now = ax_now_ms();
	int64_t base = iv - now % iv, off = (int64_t)(t->hash % (uint64_t)iv);
	int64_t next = base + off;

	if (next > iv)
		next -= iv;
	return (uint64_t)next;
}

int scraper_shard_parse(const char *s, scraper_shard_t *out, ax_err_t *err)
{
	unsigned long long i, n;
	char extra;

	out->index = 0;
	out->count = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if (sscanf(s, "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
		return ax_err_set(err, AX_EINVAL,
		    "--shard: want i/N with 0 <= i < N, got \"%s\"", s);
	out->index = i;
	out->count = n;
	return 0;
}

/* Is the target this replica's? */
static int in_shard(const target_t *t, const scraper_shard_t *sh)
{
	const char *a;
	uint8_t h[16];
	uint64_t sum = 0;
	int i;

	if (sh == NULL || sh->count <= 1 || t->labels == NULL)
		return 1;
	a = t->url; /* scheme://address/path: hash the address part */
	{
		const char *p = strstr(a, "://"), *e;

		p = p ? p + 3 : a;
		e = strchr(p, '/');
		ax_md5(p, e ? (size_t)(e - p) : strlen(p), h);
	}
	for (i = 8; i < 16; i++)
		sum = sum << 8 | h[i];
	return sum % sh->count == sh->index;
}

/* ---- target sets ---- */

static int push_target(target_t ***v, size_t *n, target_t *t)
{
	target_t **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return AX_ENOMEM;
	*v = nv;
	nv[(*n)++] = t;
	return 0;
}

/* Targets of one group (static or from a file) appended to *v. */
static int group_targets(scraper_engine_t *e, const scraper_job_t *j,
    const ax_tgroup_t *g, const char *origin, target_t ***v, size_t *n,
    ax_err_t *err)
{
	size_t m;

	for (m = 0; m < g->targets.n; m++) {
		ax_labels_t *gl = g->labels;
		ax_labels_t *withfp = NULL;
		target_t *t;

		if (origin) {
			ax_labels_builder_t b;

			ax_labels_builder_init(&b, g->labels);
			ax_labels_builder_set(&b, "__meta_filepath", origin);
			ax_labels_builder_build(&b, &withfp, NULL);
			ax_labels_builder_fini(&b);
			gl = withfp;
		}
		t = target_new(e, j, g->targets.v[m], gl, err);
		ax_labels_free(withfp);
		if (t == NULL)
			return AX_ECONFIG;
		if (e->disco ? !scraper_disco_owns(e->disco,
		                   ax_labels_get(t->discovered, "__address__"))
		             : !in_shard(t, &e->shard)) {
			target_free(t); /* another replica's */
			continue;
		}
		if (origin && (t->origin = strdup(origin)) == NULL) {
			target_free(t);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		if (push_target(v, n, t) != 0) {
			target_free(t);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* A signature of the job's files (names, sizes, times). */
static uint64_t files_sig(const scraper_job_t *j)
{
	return ax_filesd_sig(j->file_sd.items, j->file_sd.n);
}

/* All targets of a job: static, then its files.  Files that cannot be
 * read are listed in *failed (their previous targets are kept). */
static int job_targets(scraper_engine_t *e, const scraper_job_t *j,
    target_t ***v, size_t *n, ax_cfg_strings_t *failed, ax_err_t *err)
{
	const ax_tgroup_t *sc = j->static_configs.items;
	glob_t g;
	size_t k;
	int rv = 0;

	for (k = 0; k < j->static_configs.n && rv == 0; k++)
		rv = group_targets(e, j, &sc[k], NULL, v, n, err);
	for (k = 0; e->disco && k < j->axon_sd.n && rv == 0; k++) {
		ax_tgroup_t *groups;
		size_t ng, i;

		rv = scraper_disco_groups(e->disco,
		    &((const scraper_axonsd_t *)j->axon_sd.items)[k], &groups,
		    &ng, err);
		for (i = 0; i < ng && rv == 0; i++)
			rv = group_targets(e, j, &groups[i], NULL, v, n, err);
		ax_tgroups_free(groups, ng);
	}
	if (e->disco && rv == 0 &&
	    (j->dns_sd_yaml || j->consul_sd_yaml || j->k8s_sd_yaml)) {
		ax_tgroup_t *groups;
		size_t ng, i;

		rv = scraper_disco_set_groups(
		    e->disco, j->job_name, &groups, &ng, err);
		for (i = 0; i < ng && rv == 0; i++)
			rv = group_targets(e, j, &groups[i], NULL, v, n, err);
		ax_tgroups_free(groups, ng);
	}
	if (rv != 0 || j->file_sd.n == 0)
		return rv;
	ax_filesd_glob(j->file_sd.items, j->file_sd.n, &g);
	for (k = 0; k < g.gl_pathc && rv == 0; k++) {
		ax_tgroup_t *groups;
		size_t ng, i;
		ax_err_t fe;

		if (ax_tgroups_read_file(g.gl_pathv[k], &groups, &ng, &fe) !=
		    0) {
			char **nf;

			ax_log_error("cannot read a file_sd file; its targets "
			             "stay as they were",
			    "job", j->job_name, "err", fe.msg);
			nf = realloc(
			    failed->v, (failed->n + 1) * sizeof(char *));
			if (nf != NULL) {
				failed->v = nf;
				if ((nf[failed->n] = strdup(g.gl_pathv[k])))
					failed->n++;
			}
			continue;
		}
		for (i = 0; i < ng && rv == 0; i++)
			rv = group_targets(
			    e, j, &groups[i], g.gl_pathv[k], v, n, err);
		ax_tgroups_free(groups, ng);
	}
	globfree(&g);
	return rv;
}

static void start_target(scraper_engine_t *e, target_t *t)
{
	if (t->labels == NULL)
		return;
	t->lane = &e->lanes[t->hash % ENGINE_LANES];
	uv_timer_init(&e->loop, &t->timer);
	t->timer.data = t;
	uv_timer_start(&t->timer, on_scrape_timer, first_delay(t),
	    (uint64_t)t->job->interval_ms);
}

static void on_target_closed(uv_handle_t *h)
{
	target_free(h->data);
}

/* Take a running target out: staleness markers, then free it once its
 * timer is closed (loop thread). */
static void retire_target(scraper_engine_t *e, target_t *t)
{
	(void)e;
	if (t->labels == NULL) {
		target_free(t);
		return;
	}
	if (t->in_flight) {
		curl_multi_remove_handle(t->lane->multi, t->easy);
		t->in_flight = 0;
	}
	t->iter++;
	mark_stale(t, ax_now_ms());
	uv_timer_stop(&t->timer);
	uv_close((uv_handle_t *)&t->timer, on_target_closed);
}

static int str_in(const ax_cfg_strings_t *v, const char *s)
{
	size_t i;

	for (i = 0; s && i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return 1;
	return 0;
}

/* Re-read a job's targets and apply the difference (loop thread). */
static void apply_job(jobrt_t *jr)
{
	scraper_engine_t *e = jr->eng;
	target_t **nv = NULL, **keep = NULL, **gone = NULL;
	size_t nn = 0, nk = 0, ng = 0, i, k;
	ax_cfg_strings_t failed = {NULL, 0};
	ax_err_t err;

	if (job_targets(e, jr->job, &nv, &nn, &failed, &err) != 0) {
		ax_log_error("file_sd: cannot build the job's targets", "job",
		    jr->job->job_name, "err", err.msg);
		for (i = 0; i < nn; i++)
			target_free(nv[i]);
		free(nv);
		for (i = 0; i < failed.n; i++)
			free(failed.v[i]);
		free(failed.v);
		return;
	}
	pthread_mutex_lock(&e->mu);
	for (i = 0; i < e->n; i++) {
		target_t *t = e->t[i];
		int found = 0;

		if (t->job != jr->job) {
			push_target(&keep, &nk, t);
			continue;
		}
		if (str_in(&failed, t->origin)) {
			push_target(&keep, &nk, t); /* its file is unreadable */
			continue;
		}
		/* A scraped target is the same target while its labels and
		 * URL are (as Prometheus keeps a scrape loop): a change of
		 * discovered labels only (a health check's state, a tag)
		 * neither restarts it nor marks its series stale. */
		for (k = 0; k < nn && !found; k++) {
			target_t *n = nv[k];
			char *o;
			ax_labels_t *d;
			uint64_t dh;

			if (n == NULL ||
			    (n->labels == NULL) != (t->labels == NULL))
				continue;
			if (t->labels ? n->hash != t->hash
			              : n->dhash != t->dhash)
				continue;
			/* take the new discovered labels and origin */
			d = t->discovered;
			t->discovered = n->discovered;
			n->discovered = d;
			dh = t->dhash;
			t->dhash = n->dhash;
			n->dhash = dh;
			o = t->origin;
			t->origin = n->origin;
			n->origin = o;
			target_free(n);
			nv[k] = NULL;
			found = 1;
		}
		push_target(found ? &keep : &gone, found ? &nk : &ng, t);
	}
	for (k = 0; k < nn; k++)
		if (nv[k]) {
			start_target(e, nv[k]);
			push_target(&keep, &nk, nv[k]);
		}
	free(e->t);
	e->t = keep;
	e->n = nk;
	pthread_mutex_unlock(&e->mu);
	conn_cache_fit(e);
	for (i = 0; i < ng; i++)
		retire_target(e, gone[i]);
	free(gone);
	free(nv);
	for (i = 0; i < failed.n; i++)
		free(failed.v[i]);
	free(failed.v);
}

static void on_filesd_poll(uv_timer_t *h)
{
	jobrt_t *jr = h->data;
	uint64_t sig = files_sig(jr->job);
	int64_t now = ax_mono_ms();

	if (sig == jr->sig && now < jr->next_full)
		return;
	jr->sig = sig;
	jr->next_full = now + jr->refresh_ms;
	apply_job(jr);
}

/* The discoverer's view changed: re-apply every job (loop thread). */
static void on_refresh(uv_async_t *h)
{
	scraper_engine_t *e = h->data;
	size_t i;

	for (i = 0; i < e->n_jr; i++)
		apply_job(&e->jr[i]);
}

void scraper_engine_refresh(scraper_engine_t *e)
{
	if (e && e->started)
		uv_async_send(&e->refresh_async);
}

int scraper_engine_start(const scraper_cfg_t *cfg, ax_metrics_t *reg,
    ax_ship_t *ship, uint64_t *next_ref, const scraper_shard_t *shard,
    scraper_disco_t *disco, scraper_engine_t **out, ax_err_t *err)
{
	scraper_engine_t *e = calloc(1, sizeof(*e));
	const scraper_job_t *jobs = cfg->jobs.items;
	size_t i, k, m;
	int rv = 0;

	if (e == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	e->cfg = cfg;
	e->ship = ship;
	e->next_ref = next_ref;
	pthread_mutex_init(&e->mu, NULL);
	e->m_scrapes = ax_metrics_counter(reg, "axon_scraper_scrapes_total",
	    "Scrapes completed, successful or not.");
	e->m_failed =
	    ax_metrics_counter(reg, "axon_scraper_scrapes_failed_total",
	        "Scrapes that failed (up = 0).");
	e->m_missed =
	    ax_metrics_counter(reg, "axon_scraper_scrapes_missed_total",
	        "Scrapes skipped because the previous one of the target was "
	        "still running.");
	e->rw = calloc(cfg->remote_write.n + 1, sizeof(*e->rw));
	if (e->rw == NULL) {
		free(e);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < cfg->remote_write.n && rv == 0; i++) {
		rv = ax_rw_sender_new(
		    &((ax_rw_config_t *)cfg->remote_write.items)[i], reg,
		    &e->rw[i], err);
		if (rv == 0)
			e->n_rw++;
	}
	if (shard)
		e->shard = *shard;
	e->disco = disco;
	e->jr = calloc(cfg->jobs.n + 1, sizeof(*e->jr));
	if (e->jr == NULL && rv == 0)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < cfg->jobs.n && rv == 0; i++) {
		const scraper_job_t *j = &jobs[i];
		ax_cfg_strings_t failed = {NULL, 0};

		rv = job_targets(e, j, &e->t, &e->n, &failed, err);
		for (k = 0; k < failed.n; k++)
			free(failed.v[k]);
		free(failed.v);
		if (rv == 0 && (j->file_sd.n > 0 || disco != NULL)) {
			jobrt_t *jr = &e->jr[e->n_jr++];
			int64_t rmin = j->file_sd.n > 0 ? INT64_MAX : 0;

			for (m = 0; m < j->file_sd.n; m++) {
				int64_t r =
				    ((const ax_filesd_t *)j->file_sd.items)[m]
				        .refresh_ms;

				if (r < rmin)
					rmin = r;
			}
			jr->eng = e;
			jr->job = j;
			jr->polled = j->file_sd.n > 0;
			jr->refresh_ms = rmin;
			jr->sig = files_sig(j);
			jr->next_full = ax_mono_ms() + rmin;
		}
	}
	for (i = 0; rv == 0 && i < ENGINE_LANES; i++)
		if ((e->lanes[i].multi = curl_multi_init()) == NULL)
			rv = ax_err_set(
			    err, AX_EINTERNAL, "cannot start libcurl");
	if (rv == 0 && uv_loop_init(&e->loop) != 0)
		rv = ax_err_set(err, AX_EINTERNAL, "cannot start libuv");
	if (rv != 0) {
		scraper_engine_stop(e, NULL, 0);
		return rv;
	}
	for (i = 0; i < ENGINE_LANES; i++) {
		lane_t *l = &e->lanes[i];

		l->eng = e;
		curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
		curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
		curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
		curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 2L);
		uv_timer_init(&e->loop, &l->timer);
		l->timer.data = l;
	}
	conn_cache_fit(e);
	uv_async_init(&e->loop, &e->stop_async, on_stop);
	e->stop_async.data = e;
	uv_async_init(&e->loop, &e->refresh_async, on_refresh);
	e->refresh_async.data = e;
	for (i = 0; i < e->n; i++)
		start_target(e, e->t[i]);
	for (i = 0; i < e->n_jr; i++) {
		jobrt_t *jr = &e->jr[i];
		uint64_t p;

		if (!jr->polled)
			continue;
		p = jr->refresh_ms < FILESD_POLL_MS ? (uint64_t)jr->refresh_ms
		                                    : FILESD_POLL_MS;
		uv_timer_init(&e->loop, &jr->poll);
		jr->poll.data = jr;
		uv_timer_start(&jr->poll, on_filesd_poll, p, p);
	}
	if (pthread_create(&e->thread, NULL, loop_main, e) != 0) {
		scraper_engine_stop(e, NULL, 0);
		return ax_err_set(err, AX_EINTERNAL, "cannot start the loop");
	}
	e->started = 1;
	*out = e;
	return 0;
}

static int has_target(const scraper_engine_t *e, uint64_t hash)
{
	size_t i;

	for (i = 0; e && i < e->n; i++)
		if (e->t[i]->labels != NULL && e->t[i]->hash == hash)
			return 1;
	return 0;
}

void scraper_engine_stop(
    scraper_engine_t *e, const scraper_engine_t *successor, int64_t flush_ms)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->started) {
		uv_async_send(&e->stop_async);
		pthread_join(e->thread, NULL);
		uv_loop_close(&e->loop);
		/* the targets go away: their series end here */
		for (i = 0; i < e->n; i++) {
			target_t *t = e->t[i];

			if (t->labels == NULL || has_target(successor, t->hash))
				continue;
			t->iter++;
			mark_stale(t, ax_now_ms());
		}
	}
	for (i = 0; i < e->n; i++)
		target_free(e->t[i]);
	free(e->t);
	free(e->jr);
	for (i = 0; i < ENGINE_LANES; i++)
		if (e->lanes[i].multi)
			curl_multi_cleanup(e->lanes[i].multi);
	for (i = 0; i < e->n_rw; i++)
		ax_rw_sender_stop_free(e->rw[i], flush_ms);
	free(e->rw);
	ax_buf_fini(&e->key);
	ax_buf_fini(&e->scratch);
	free(e->order);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* ---- API ---- */

void scraper_engine_targets_json(
    scraper_engine_t *e, const char *state, ax_buf_t *b)
{
	int active = state == NULL || strcmp(state, "dropped") != 0;
	int dropped = state == NULL || strcmp(state, "active") != 0;
	size_t i;
	int first = 1;

	ax_buf_puts(b, "{\"status\":\"success\",\"data\":{\"activeTargets\":[");
	pthread_mutex_lock(&e->mu);
	for (i = 0; active && i < e->n; i++) {
		target_t *t = e->t[i];
		char ts[64], iv[32], to[32];
		time_t secs;
		struct tm tm;

		if (t->labels == NULL)
			continue;
		if (!first)
			ax_buf_putc(b, ',');
		first = 0;
		secs = (time_t)(t->last_scrape_ms / 1000);
		gmtime_r(&secs, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		ax_duration_format(t->job->interval_ms, iv, sizeof(iv));
		ax_duration_format(t->job->timeout_ms, to, sizeof(to));
		ax_buf_puts(b, "{\"discoveredLabels\":");
		ax_labels_put_json(t->discovered, b);
		ax_buf_puts(b, ",\"labels\":");
		ax_labels_put_json(t->labels, b);
		ax_buf_puts(b, ",\"scrapePool\":");
		ax_buf_put_json_str(b, t->job->job_name);
		ax_buf_puts(b, ",\"scrapeUrl\":");
		ax_buf_put_json_str(b, t->url);
		ax_buf_puts(b, ",\"globalUrl\":");
		ax_buf_put_json_str(b, t->url);
		ax_buf_puts(b, ",\"lastError\":");
		ax_buf_put_json_str(b, t->last_error);
		if (t->last_scrape_ms > 0)
			ax_buf_printf(b, ",\"lastScrape\":\"%s.%03dZ\"", ts,
			    (int)(t->last_scrape_ms % 1000));
		else
			ax_buf_puts(
			    b, ",\"lastScrape\":\"0001-01-01T00:00:00Z\"");
		ax_buf_printf(b,
		    ",\"lastScrapeDuration\":%.9f,\"health\":\"%s\","
		    "\"scrapeInterval\":\"%s\",\"scrapeTimeout\":\"%s\"}",
		    t->last_duration,
		    t->health > 0       ? "up"
		        : t->health < 0 ? "down"
		                        : "unknown",
		    iv, to);
	}
	ax_buf_puts(b, "],\"droppedTargets\":[");
	first = 1;
	for (i = 0; dropped && i < e->n; i++) {
		if (e->t[i]->labels != NULL)
			continue;
		if (!first)
			ax_buf_putc(b, ',');
		first = 0;
		ax_buf_puts(b, "{\"discoveredLabels\":");
		ax_labels_put_json(e->t[i]->discovered, b);
		ax_buf_putc(b, '}');
	}
	pthread_mutex_unlock(&e->mu);
	ax_buf_puts(b, "]}}");
}
