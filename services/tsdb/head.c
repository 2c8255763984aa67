/*
 * head: in-memory series, chunks and index (see head.h).
 */
#include "tsdb/head.h"
#include "ax_units.h"
#include "ax_buf.h"
#include "ax_log.h"
#include "tsdb/checkpoint.h"
#include "tsdb/record.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES_PER_CHUNK 120

struct tsdb_head {
	tsdb_head_opts_t o;
	pthread_rwlock_t mu;       /* map, refs, index */
	pthread_mutex_t append_mu; /* one appender at a time */
	tsdb_series_t **buckets;
	size_t n_buckets;
	size_t n_series;
	tsdb_series_t **by_ref; /* index = ref */
	size_t ref_cap;
	uint64_t next_ref;
	tsdb_index_t ix;
	int64_t mint, maxt;
	int64_t min_valid; /* older samples live in blocks */
	uint64_t n_chunks;
	tsdb_wal_t *wal;
	/* append scratch, reused across batches */
	tsdb_series_t **bs;
	uint8_t *bs_why; /* why bs[i] is NULL: 1 invalid, 2 limit */
	size_t bs_cap, why_cap;
	tsdb_rec_sample_t *acc;
	size_t acc_cap;
	ax_buf_t rec_series, rec_samples, rec_ex;
	tsdb_rec_exemplar_t *exacc;
	size_t exacc_cap;
	tsdb_exemplars_t *ex;
	tsdb_hchunks_t *hc;
};

static uint64_t f2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

int tsdb_head_new(const tsdb_head_opts_t *o, tsdb_head_t **out, ax_err_t *err)
{
	tsdb_head_t *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	h->o = *o;
	if (h->o.chunk_range_ms <= 0)
		h->o.chunk_range_ms = 2 * 3600 * 1000;
	h->n_buckets = 1 << 14;
	h->buckets = calloc(h->n_buckets, sizeof(*h->buckets));
	if (h->buckets == NULL) {
		free(h);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (h->o.max_exemplars > 0 &&
	    tsdb_exemplars_new((size_t)h->o.max_exemplars, &h->ex, err) != 0) {
		free(h->buckets);
		free(h);
		return AX_ENOMEM;
	}
	pthread_rwlock_init(&h->mu, NULL);
	pthread_mutex_init(&h->append_mu, NULL);
	tsdb_index_init(&h->ix);
	h->next_ref = 1;
	h->mint = INT64_MAX;
	h->maxt = INT64_MIN;
	h->min_valid = INT64_MIN;
	*out = h;
	return 0;
}

static void series_free(tsdb_series_t *s)
{
	size_t i;

	for (i = 0; i < s->n_chunks; i++)
		if (!s->chunks[i].mapped)
			free(s->chunks[i].b);
	free(s->chunks);
	tsdb_xor_fini(&s->app);
	tsdb_ivs_fini(&s->del);
	ax_labels_free(s->ls);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void tsdb_head_free(tsdb_head_t *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->ref_cap; i++)
		if (h->by_ref[i])
			series_free(h->by_ref[i]);
	free(h->by_ref);
	free(h->buckets);
	tsdb_index_fini(&h->ix);
	free(h->bs);
	free(h->bs_why);
	free(h->acc);
	ax_buf_fini(&h->rec_series);
	ax_buf_fini(&h->rec_samples);
	ax_buf_fini(&h->rec_ex);
	free(h->exacc);
	tsdb_exemplars_free(h->ex);
	pthread_rwlock_destroy(&h->mu);
	pthread_mutex_destroy(&h->append_mu);
	free(h);
}

void tsdb_head_set_hchunks(tsdb_head_t *h, tsdb_hchunks_t *hc)
{
	h->hc = hc;
}

void tsdb_head_set_wal(tsdb_head_t *h, tsdb_wal_t *w)
{
	h->wal = w;
}

void tsdb_head_rlock(tsdb_head_t *h)
{
	pthread_rwlock_rdlock(&h->mu);
}

void tsdb_head_runlock(tsdb_head_t *h)
{
	pthread_rwlock_unlock(&h->mu);
}

const tsdb_index_t *tsdb_head_index(tsdb_head_t *h)
{
	return &h->ix;
}

/* Under h->mu (read or write). */
static tsdb_series_t *lookup(tsdb_head_t *h, const ax_labels_t *ls)
{
	tsdb_series_t *s = h->buckets[ls->hash & (h->n_buckets - 1)];

	for (; s; s = s->hnext)
		if (s->ls->hash == ls->hash && ax_labels_equal(s->ls, ls))
			return s;
	return NULL;
}

static int grow_buckets(tsdb_head_t *h)
{
	size_t nb = h->n_buckets * 2, i;
	tsdb_series_t **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return AX_ENOMEM;
	for (i = 0; i < h->n_buckets; i++) {
		tsdb_series_t *s = h->buckets[i], *next;

		for (; s; s = next) {
			next = s->hnext;
			s->hnext = b[s->ls->hash & (nb - 1)];
			b[s->ls->hash & (nb - 1)] = s;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->n_buckets = nb;
	return 0;
}

/* Create a series with ref (0: next ref).  Under the write lock. */
static tsdb_series_t *create(
    tsdb_head_t *h, const ax_labels_t *ls, uint64_t ref)
{
	tsdb_series_t *s;
	size_t b;

	if (ref == 0)
		ref = h->next_ref;
	if (ref >= h->ref_cap) {
		size_t nc = h->ref_cap ? h->ref_cap : 1024;
		tsdb_series_t **nr;

		while (nc <= ref)
			nc *= 2;
		nr = realloc(h->by_ref, nc * sizeof(*nr));
		if (nr == NULL)
			return NULL;
		memset(nr + h->ref_cap, 0, (nc - h->ref_cap) * sizeof(*nr));
		h->by_ref = nr;
		h->ref_cap = nc;
	}
	if (h->n_series + 1 > h->n_buckets && grow_buckets(h) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ls = ax_labels_dup(ls);
	if (s->ls == NULL) {
		free(s);
		return NULL;
	}
	if (tsdb_index_add(&h->ix, ref, s->ls) != 0) {
		tsdb_index_remove(&h->ix, ref, s->ls);
		ax_labels_free(s->ls);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->ref = ref;
	s->max_t = INT64_MIN;
	s->app.leading = 0xff;
	b = ls->hash & (h->n_buckets - 1);
	s->hnext = h->buckets[b];
	h->buckets[b] = s;
	h->by_ref[ref] = s;
	h->n_series++;
	if (ref >= h->next_ref)
		h->next_ref = ref + 1;
	return s;
}

tsdb_series_t *tsdb_head_series(tsdb_head_t *h, uint64_t ref)
{
	tsdb_series_t *s = NULL;

	pthread_rwlock_rdlock(&h->mu);
	if (ref < h->ref_cap)
		s = h->by_ref[ref];
	pthread_rwlock_unlock(&h->mu);
	return s;
}

/* ---- chunk cutting, as Prometheus' memSeries.appendPreprocessor ---- */

static int64_t range_end(int64_t t, int64_t width)
{
	int64_t q = t / width;

	if (t < 0 && t % width != 0)
		q--;
	return q * width + width;
}

static int64_t chunk_end(int64_t start, int64_t cur, int64_t max)
{
	int64_t n = (max - start) / ((cur - start + 1) * 4);

	if (n <= 1)
		return max;
	return start + (max - start) / n;
}

/* A new completed-chunk slot at the end of s's list (NULL: no memory). */
static tsdb_chunk_t *chunk_push(tsdb_series_t *s)
{
	if (s->n_chunks == s->cap_chunks &&
	    ax_grow((void **)&s->chunks, &s->cap_chunks, s->n_chunks + 1,
	        sizeof(*s->chunks)) != 0)
		return NULL;
	return &s->chunks[s->n_chunks++];
}

static int cut(tsdb_head_t *h, tsdb_series_t *s, int64_t t)
{
	if (s->app.n > 0) {
		tsdb_chunk_t *c;
		uint8_t *b;
		const uint8_t *mapped;

		if ((c = chunk_push(s)) == NULL)
			return AX_ENOMEM;
		c->len = s->app.len;
		c->mint = s->app_mint;
		c->maxt = s->app_maxt;
		c->mapped = 0;
		if (h->hc != NULL &&
		    tsdb_hchunks_write(h->hc, s->ref, c->mint, c->maxt,
		        s->app.b, s->app.len, &mapped, NULL) == 0) {
			/* the page cache holds it now */
			c->b = (uint8_t *)mapped;
			c->mapped = 1;
			free(s->app.b);
		} else {
			b = realloc(s->app.b, s->app.len); /* shrink to fit */
			c->b = b ? b : s->app.b;
		}
		s->app.b = NULL;
	}
	tsdb_xor_fini(&s->app);
	if (tsdb_xor_init(&s->app) != 0)
		return AX_ENOMEM;
	s->app_mint = t;
	s->next_at = range_end(t, h->o.chunk_range_ms);
	__atomic_add_fetch(&h->n_chunks, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Make s->last_bits true: decode the last chunk when it came from
 * chunks_head at replay (series lock or the append mutex held). */
static void settle_last(tsdb_series_t *s)
{
	const tsdb_chunk_t *last;
	tsdb_xor_it_t it;
	int64_t t;
	double v;

	if (!s->last_lazy)
		return;
	s->last_lazy = 0;
	if (s->n_chunks == 0)
		return; /* truncated away: nothing can equal it any more */
	last = &s->chunks[s->n_chunks - 1];
	tsdb_xor_it_init(&it, last->b, last->len);
	while (tsdb_xor_it_next(&it) == 1) {
		tsdb_xor_it_at(&it, &t, &v);
		s->last_bits = f2u(v);
	}
}

/* Append one in-order sample to the series' chunks (series lock held). */
/* At most this many Samples records per appended batch. */
#define SAMPLE_RUNS 16

/* Does a new group of samples (a scrape: its samples share a timestamp)
 * start at k, the current record having started at start?  Yes when k's
 * timestamp differs from the record's and the 8 samples from k share it;
 * samples that each carry their own time (backfill) form no groups. */
static int group_starts(
    const tsdb_rec_sample_t *s, size_t k, size_t n, size_t start)
{
	size_t j;

	if (s[k].t == s[start].t || k + 8 > n)
		return 0;
	for (j = k + 1; j < k + 8; j++)
		if (s[j].t != s[k].t)
			return 0;
	return 1;
}

static int series_append(tsdb_head_t *h, tsdb_series_t *s, int64_t t, double v)
{
	uint16_t n = s->app.n;
	int rv;

	if (n == 0) {
		if ((rv = cut(h, s, t)) != 0)
			return rv;
	} else {
		if (n == SAMPLES_PER_CHUNK / 4)
			s->next_at =
			    chunk_end(s->app_mint, s->app_maxt, s->next_at);
		if (t >= s->next_at || n >= SAMPLES_PER_CHUNK * 2) {
			if ((rv = cut(h, s, t)) != 0)
				return rv;
		}
	}
	if ((rv = tsdb_xor_append(&s->app, t, v)) != 0)
		return rv;
	s->app_maxt = t;
	s->max_t = t;
	s->last_bits = f2u(v);
	s->last_lazy = 0;
	return 0;
}

/* ---- appending ---- */

/* Years 1 and 9999 in ms since the epoch: the sane range of a sample. */
#define TSDB_MIN_SANE_T (-62135596800000LL)
#define TSDB_MAX_SANE_T (253402300799999LL)

static void note(tsdb_append_result_t *res, const char *fmt, const char *a)
{
	if (res->first_error[0] == '\0')
		snprintf(res->first_error, sizeof(res->first_error), fmt, a);
}

/* Why a new series with labels ls may not be created, or NULL (write lock
 * held). */
static const char *limit_breached(tsdb_head_t *h, const ax_labels_t *ls)
{
	const tsdb_head_opts_t *o = &h->o;
	uint32_t i;

	if (o->max_series > 0 && (int64_t)h->n_series >= o->max_series)
		return "series limit reached (--storage.tsdb.max-series)";
	if (o->max_labels > 0 && (int64_t)ls->n > o->max_labels)
		return "too many labels (--storage.tsdb.max-labels-per-series)";
	for (i = 0; i < ls->n; i++) {
		if (o->max_name_len > 0 &&
		    (int64_t)strlen(ls->l[i].name) > o->max_name_len)
			return "label name too long "
			       "(--storage.tsdb.max-label-name-length)";
		if (o->max_value_len > 0 &&
		    (int64_t)strlen(ls->l[i].value) > o->max_value_len)
			return "label value too long "
			       "(--storage.tsdb.max-label-value-length)";
	}
	if (o->max_series_per_metric > 0) {
		const char *name = ax_labels_get(ls, AX_METRIC_NAME);
		const tsdb_plist_t *p = name
		    ? tsdb_index_postings(&h->ix, AX_METRIC_NAME, name)
		    : NULL;

		if (p && (int64_t)p->n >= o->max_series_per_metric)
			return "series limit of the metric name reached "
			       "(--storage.tsdb.max-series-per-metric)";
	}
	return NULL;
}

int tsdb_head_append(tsdb_head_t *h, const ax_labels_t *const *series,
    size_t n_series, const tsdb_sample_in_t *samples, size_t n_samples,
    tsdb_append_result_t *res, ax_err_t *err)
{
	return tsdb_head_append_ex(
	    h, series, n_series, samples, n_samples, NULL, 0, res, err);
}

tsdb_exemplars_t *tsdb_head_exemplars(tsdb_head_t *h)
{
	return h->ex;
}

int tsdb_head_append_ex(tsdb_head_t *h, const ax_labels_t *const *series,
    size_t n_series, const tsdb_sample_in_t *samples, size_t n_samples,
    const tsdb_exemplar_in_t *ex, size_t n_ex, tsdb_append_result_t *res,
    ax_err_t *err)
{
	return tsdb_head_append_hinted(h, series, NULL, n_series, samples,
	    n_samples, ex, n_ex, res, err);
}

int tsdb_head_append_hinted(tsdb_head_t *h, const ax_labels_t *const *series,
    uint64_t *hints, size_t n_series, const tsdb_sample_in_t *samples,
    size_t n_samples, const tsdb_exemplar_in_t *ex, size_t n_ex,
    tsdb_append_result_t *res, ax_err_t *err)
{
	size_t i, n_acc = 0, n_exacc = 0;
	int64_t min_valid, max_sane;
	int rv = 0;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&h->append_mu);
	if (ax_grow((void **)&h->bs, &h->bs_cap, n_series, sizeof(*h->bs)) !=
	        0 ||
	    ax_grow((void **)&h->bs_why, &h->why_cap, n_series, 1) != 0 ||
	    ax_grow((void **)&h->acc, &h->acc_cap, n_samples,
	        sizeof(*h->acc)) != 0) {
		pthread_mutex_unlock(&h->append_mu);
		return ax_err_set(err, AX_EAGAIN, "out of memory");
	}
	/* 1. resolve series, creating new ones (not yet in the WAL); a hint
	 * (the head ref this label set resolved to before) skips the label
	 * lookup while that series lives */
	if (hints) {
		pthread_rwlock_rdlock(&h->mu);
		for (i = 0; i < n_series; i++) {
			h->bs[i] = hints[i] && hints[i] < h->ref_cap
			    ? h->by_ref[hints[i]]
			    : NULL;
			if (h->bs[i])
				h->bs[i]->pend = 0;
		}
		pthread_rwlock_unlock(&h->mu);
	}
	for (i = 0; i < n_series; i++) {
		const ax_labels_t *ls = series[i];
		tsdb_series_t *s;
		ax_err_t ve;

		if (hints && h->bs[i])
			continue;
		h->bs[i] = NULL;
		h->bs_why[i] = 1;
		if (hints)
			hints[i] = 0;
		if (ls->n == 0) {
			note(res, "%sempty label set", "");
			continue;
		}
		if (ax_labels_validate(ls, 0, &ve) != 0) {
			note(res, "%s", ve.msg);
			continue;
		}
		pthread_rwlock_rdlock(&h->mu);
		s = lookup(h, ls);
		pthread_rwlock_unlock(&h->mu);
		if (s == NULL) {
			pthread_rwlock_wrlock(&h->mu);
			s = lookup(h, ls);
			if (s == NULL) {
				const char *why = limit_breached(h, ls);

				if (why) {
					pthread_rwlock_unlock(&h->mu);
					h->bs_why[i] = 2;
					note(res, "%s", why);
					continue;
				}
			}
			if (s == NULL)
				s = create(h, ls, 0);
			pthread_rwlock_unlock(&h->mu);
			if (s == NULL) {
				pthread_mutex_unlock(&h->append_mu);
				return ax_err_set(err, AX_EAGAIN,
				    "out of memory creating a series");
			}
		}
		h->bs[i] = s;
		s->pend = 0;
		if (hints)
			hints[i] = s->ref;
	}
	/* 2. check every sample in order */
	min_valid = h->maxt == INT64_MIN ? INT64_MIN
	                                 : h->maxt - h->o.chunk_range_ms / 2;
	max_sane = TSDB_MAX_SANE_T;
	if (h->o.max_future_ms > 0) {
		int64_t lim = ax_now_ms() + h->o.max_future_ms;

		if (lim < max_sane)
			max_sane = lim;
	}
	for (i = 0; i < n_samples; i++) {
		const tsdb_sample_in_t *in = &samples[i];
		tsdb_series_t *s;
		uint64_t bits = f2u(in->v);

		if (in->series >= n_series) {
			res->invalid++;
			continue;
		}
		if ((s = h->bs[in->series]) == NULL) {
			if (h->bs_why[in->series] == 2)
				res->limit++;
			else
				res->invalid++;
			continue;
		}
		if (!s->pend) {
			settle_last(s);
			s->pend = 1;
			s->pend_t = s->max_t;
			s->pend_bits = s->last_bits;
		}
		if (in->t < TSDB_MIN_SANE_T || in->t > max_sane) {
			char tb[32];

			res->invalid++;
			snprintf(tb, sizeof(tb), "%lld", (long long)in->t);
			note(res,
			    "timestamp %s ms is out of range (before year 1, "
			    "after year 9999 or too far ahead of the clock)",
			    tb);
			continue;
		}
		if (in->t < min_valid) {
			res->out_of_bounds++;
			note(res,
			    "%sout of bounds (older than the head allows)", "");
			continue;
		}
		if (s->pend_t != INT64_MIN && in->t < s->pend_t) {
			res->out_of_order++;
			note(res, "%sout of order sample", "");
			continue;
		}
		if (in->t == s->pend_t) {
			if (bits == s->pend_bits)
				res->duplicates_ignored++;
			else {
				res->duplicate_timestamp++;
				note(res, "%sduplicate sample for timestamp",
				    "");
			}
			continue;
		}
		s->pend_t = in->t;
		s->pend_bits = bits;
		h->acc[n_acc].ref = s->ref;
		h->acc[n_acc].t = in->t;
		h->acc[n_acc].v = in->v;
		n_acc++;
	}
	/* 3. WAL: series records for unlogged series, then the samples */
	ax_buf_reset(&h->rec_series);
	ax_buf_reset(&h->rec_samples);
	{
		int any_series = 0;
		size_t run_end[SAMPLE_RUNS], n_runs = 0;

		for (i = 0; i < n_series; i++) {
			tsdb_series_t *s = h->bs[i];

			if (s == NULL || s->logged || s->pend == 2)
				continue;
			if (!any_series)
				tsdb_rec_series_begin(&h->rec_series);
			any_series = 1;
			tsdb_rec_series_add(&h->rec_series, s->ref, s->ls);
			s->pend =
			    2; /* listed once even if repeated in the batch */
		}
		if (n_acc > 0) {
			/* one Samples record per scrape-like group: a record
			 * stores deltas from its first sample's ref and time,
			 * so a batch that holds several scrapes encodes
			 * smaller in one record each, as Prometheus writes
			 * one per commit */
			size_t start = 0, k;

			for (k = 1; k <= n_acc; k++) {
				if (k < n_acc && (n_runs + 1 == SAMPLE_RUNS ||
				                     !group_starts(h->acc, k,
				                         n_acc, start)))
					continue;
				tsdb_rec_samples(
				    &h->rec_samples, h->acc + start, k - start);
				run_end[n_runs++] = h->rec_samples.len;
				start = k;
			}
		}
		/* exemplars of resolved series, checked against the store */
		ax_buf_reset(&h->rec_ex);
		if (n_ex > 0 && h->ex &&
		    ax_grow((void **)&h->exacc, &h->exacc_cap, n_ex,
		        sizeof(*h->exacc)) == 0) {
			for (i = 0; i < n_ex; i++) {
				tsdb_series_t *s2;
				ax_err_t xe;
				int c;

				if (ex[i].series >= n_series ||
				    (s2 = h->bs[ex[i].series]) == NULL) {
					res->exemplars_rejected++;
					continue;
				}
				c = tsdb_exemplars_check(h->ex, s2->ref,
				    ex[i].ls, ex[i].t, ex[i].v, &xe);
				if (c == 1)
					continue;
				if (c != 0) {
					res->exemplars_rejected++;
					continue;
				}
				h->exacc[n_exacc].ref = s2->ref;
				h->exacc[n_exacc].t = ex[i].t;
				h->exacc[n_exacc].v = ex[i].v;
				h->exacc[n_exacc].ls = ex[i].ls;
				n_exacc++;
			}
			if (n_exacc > 0)
				tsdb_rec_exemplars(
				    &h->rec_ex, h->exacc, n_exacc);
		}
		if (!ax_buf_ok(&h->rec_series) || !ax_buf_ok(&h->rec_samples) ||
		    !ax_buf_ok(&h->rec_ex)) {
			rv = ax_err_set(err, AX_EAGAIN,
			    "out of memory encoding WAL records");
			goto out;
		}
		if (h->wal && (any_series || n_acc > 0 || n_exacc > 0)) {
			const uint8_t *recs[SAMPLE_RUNS + 2];
			size_t lens[SAMPLE_RUNS + 2], nr = 0, k;

			if (any_series) {
				recs[nr] = (const uint8_t *)h->rec_series.p;
				lens[nr++] = h->rec_series.len;
			}
			for (k = 0; k < n_runs; k++) {
				size_t at = k ? run_end[k - 1] : 0;

				recs[nr] = (const uint8_t *)h->rec_samples.p + at;
				lens[nr++] = run_end[k] - at;
			}
			if (n_exacc > 0) {
				recs[nr] = (const uint8_t *)h->rec_ex.p;
				lens[nr++] = h->rec_ex.len;
			}
			if ((rv = tsdb_wal_log(h->wal, recs, lens, nr, err)) !=
			    0)
				goto out;
		}
		for (i = 0; i < n_series; i++)
			if (h->bs[i] && h->bs[i]->pend == 2)
				h->bs[i]->logged = 1;
	}
	/* 4. apply to memory */
	for (i = 0; i < n_acc; i++) {
		tsdb_series_t *s = h->by_ref[h->acc[i].ref];

		pthread_mutex_lock(&s->mu);
		if (series_append(h, s, h->acc[i].t, h->acc[i].v) != 0)
			ax_log_error("out of memory appending to a head chunk; "
			             "sample kept in the WAL only");
		pthread_mutex_unlock(&s->mu);
		if (h->acc[i].t < h->mint)
			h->mint = h->acc[i].t;
		if (h->acc[i].t > h->maxt)
			h->maxt = h->acc[i].t;
	}
	for (i = 0; i < n_exacc; i++)
		if (tsdb_exemplars_add(h->ex, h->exacc[i].ref, h->exacc[i].ls,
		        h->exacc[i].t, h->exacc[i].v) != 0)
			res->exemplars_rejected++;
		else
			res->exemplars_accepted++;
	res->accepted = n_acc;
out:
	pthread_mutex_unlock(&h->append_mu);
	return rv;
}

/* ---- replay ---- */

/* A chunk found in chunks_head, waiting for its series record. */
typedef struct mchunk {
	uint64_t ref;
	size_t order;
	int64_t mint, maxt;
	const uint8_t *data;
	size_t len;
	int used;
} mchunk_t;

typedef struct replay_ctx {
	tsdb_head_t *h;
	mchunk_t *mc; /* sorted by ref, then file order */
	size_t n_mc, cap_mc;
	uint64_t *alias; /* WAL ref -> head ref for duplicate series */
	size_t alias_cap;
	ax_hmap_t far_alias; /* WAL refs past DENSE_REF_LIMIT -> head ref */
	tsdb_rec_sample_t *buf;
	size_t cap;
	uint64_t samples;
	ax_err_t *err;
} replay_ctx_t;

/* Attach the chunks_head chunks of s (found by its ref) in order: they
 * become its completed chunks, and WAL samples up to their end are
 * skipped.  Chunks out of sequence, or already in blocks, are left to the
 * WAL. */
static int attach_mapped(replay_ctx_t *c, tsdb_series_t *s)
{
	size_t lo = 0, hi = c->n_mc, i;
	int added = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->mc[mid].ref < s->ref)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < c->n_mc && c->mc[i].ref == s->ref; i++) {
		mchunk_t *m = &c->mc[i];
		tsdb_chunk_t *ch;

		if (m->used)
			continue;
		m->used = 1;
		if (m->maxt < c->h->min_valid || m->mint > m->maxt ||
		    (s->max_t != INT64_MIN && m->mint <= s->max_t) ||
		    s->app.n > 0)
			continue;
		if ((ch = chunk_push(s)) == NULL)
			return AX_ENOMEM;
		ch->mint = m->mint;
		ch->maxt = m->maxt;
		ch->b = (uint8_t *)m->data;
		ch->len = m->len;
		ch->mapped = 1;
		s->max_t = m->maxt;
		__atomic_add_fetch(&c->h->n_chunks, 1, __ATOMIC_RELAXED);
		if (m->mint < c->h->mint)
			c->h->mint = m->mint;
		if (m->maxt > c->h->maxt)
			c->h->maxt = m->maxt;
		added = 1;
	}
	/* the last value (for exact-duplicate detection) is decoded when
	 * first needed: decoding every series' chunk here was a sixth of
	 * the replay */
	if (added)
		s->last_lazy = 1;
	return 0;
}

static int mchunk_cmp(const void *a, const void *b)
{
	const mchunk_t *x = a, *y = b;

	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int collect_mchunk(void *arg, uint64_t ref, int64_t mint,
    int64_t maxt, const uint8_t *data, size_t len)
{
	replay_ctx_t *c = arg;

	if (c->n_mc == c->cap_mc &&
	    ax_grow((void **)&c->mc, &c->cap_mc, c->n_mc + 1,
	        sizeof(*c->mc)) != 0)
		return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	c->mc[c->n_mc] = (mchunk_t){ref, c->n_mc, mint, maxt, data, len, 0};
	c->n_mc++;
	return 0;
}

/* WAL refs below this index dense arrays; past it (a WAL whose refs are
 * sparse, or a damaged one) a series gets a compact head ref instead, so
 * memory follows the number of series, not the size of a ref. */
#define DENSE_REF_LIMIT ((uint64_t)1 << 24)

static uint64_t alias_of(replay_ctx_t *c, uint64_t ref)
{
	void *v;

	if (ref < c->alias_cap && c->alias[ref])
		return c->alias[ref];
	if (ref >= DENSE_REF_LIMIT &&
	    (v = ax_hmap_get(&c->far_alias, &ref, sizeof(ref))) != NULL)
		return (uint64_t)(uintptr_t)v;
	return ref;
}

static int replay_series(void *arg, uint64_t ref, const ax_labels_t *ls)
{
	replay_ctx_t *c = arg;
	tsdb_series_t *s = lookup(c->h, ls);
	int far = ref >= DENSE_REF_LIMIT;

	/* refs index dense arrays: Prometheus hands them out from 1 up, so a
	 * ref past 2^32 is damage, not a real series */
	if (ref == 0 || ref > UINT32_MAX)
		return ax_err_set(c->err, AX_EPROTO,
		    "series record: ref %llu is out of range (corrupt record)",
		    (unsigned long long)ref);
	if (!far && ref >= c->alias_cap) {
		size_t nc = c->alias_cap ? c->alias_cap : 1024;
		uint64_t *na;

		while (nc <= ref)
			nc *= 2;
		na = realloc(c->alias, nc * sizeof(*na));
		if (na == NULL)
			return ax_err_set(c->err, AX_ENOMEM, "out of memory");
		memset(na + c->alias_cap, 0, (nc - c->alias_cap) * sizeof(*na));
		c->alias = na;
		c->alias_cap = nc;
	}
	if (s == NULL) {
		uint64_t want = ref;

		if (far || (ref < c->h->ref_cap && c->h->by_ref[ref]))
			want = 0; /* far, or taken by another label set: new ref */
		s = create(c->h, ls, want);
		if (s == NULL)
			return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	}
	if (c->n_mc > 0 && s->ref == ref && attach_mapped(c, s) != 0)
		return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	/* a series under another ref than the WAL's logs its record again
	 * with the head's ref before its next sample */
	s->logged = s->ref == ref;
	if (far) {
		if (ax_hmap_put(&c->far_alias, &ref, sizeof(ref),
		        (void *)(uintptr_t)s->ref, NULL) != 0)
			return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	} else {
		c->alias[ref] = s->ref;
	}
	return 0;
}

static int replay_exemplar(
    void *arg, uint64_t ref, int64_t t, double v, const ax_labels_t *ls)
{
	replay_ctx_t *c = arg;

	ref = alias_of(c, ref);
	if (ref >= c->h->ref_cap || c->h->by_ref[ref] == NULL ||
	    tsdb_exemplars_check(c->h->ex, ref, ls, t, v, NULL) != 0)
		return 0;
	if (tsdb_exemplars_add(c->h->ex, ref, ls, t, v) != 0)
		return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	return 0;
}

static int replay_record(void *arg, const uint8_t *rec, size_t len)
{
	replay_ctx_t *c = arg;
	size_t n, i;
	int rv;

	switch (tsdb_rec_type(rec, len)) {
	case TSDB_REC_SERIES:
		return tsdb_rec_decode_series(
		    rec, len, replay_series, c, c->err);
	case TSDB_REC_SAMPLES:
		if ((rv = tsdb_rec_decode_samples(
		         rec, len, &c->buf, &c->cap, &n, c->err)) != 0)
			return rv;
		for (i = 0; i < n; i++) {
			uint64_t ref = c->buf[i].ref;
			tsdb_series_t *s;

			ref = alias_of(c, ref);
			s = ref < c->h->ref_cap ? c->h->by_ref[ref] : NULL;
			if (s == NULL)
				continue; /* series record lost with a cut tail
				           */
			if (s->max_t != INT64_MIN && c->buf[i].t <= s->max_t)
				continue; /* as Prometheus: skip out of order */
			if (c->buf[i].t < c->h->min_valid)
				continue; /* already persisted in a block */
			if (series_append(c->h, s, c->buf[i].t, c->buf[i].v) !=
			    0)
				return ax_err_set(
				    c->err, AX_ENOMEM, "out of memory");
			if (c->buf[i].t < c->h->mint)
				c->h->mint = c->buf[i].t;
			if (c->buf[i].t > c->h->maxt)
				c->h->maxt = c->buf[i].t;
			c->samples++;
		}
		return 0;
	case TSDB_REC_EXEMPLARS:
		if (c->h->ex == NULL)
			return 0;
		return tsdb_rec_decode_exemplars(
		    rec, len, replay_exemplar, c, c->err);
	case TSDB_REC_TOMBSTONES: {
		tsdb_rec_tombstone_t *tb = NULL;
		size_t tcap = 0, nt;

		if ((rv = tsdb_rec_decode_tombstones(
		         rec, len, &tb, &tcap, &nt, c->err)) != 0) {
			free(tb);
			return rv;
		}
		for (i = 0; i < nt; i++) {
			uint64_t ref = tb[i].ref;
			tsdb_series_t *s;

			ref = alias_of(c, ref);
			s = ref < c->h->ref_cap ? c->h->by_ref[ref] : NULL;
			if (s &&
			    tsdb_ivs_add(&s->del, tb[i].mint, tb[i].maxt) !=
			        0) {
				free(tb);
				return ax_err_set(
				    c->err, AX_ENOMEM, "out of memory");
			}
		}
		free(tb);
		return 0;
	}
	case TSDB_REC_METADATA:
	case TSDB_REC_MMAP_MARKERS:
		return 0; /* handled by later stages of the storage work */
	case TSDB_REC_HISTOGRAM_SAMPLES:
	case TSDB_REC_FLOAT_HISTOGRAM_SAMPLES:
		return ax_err_set(c->err, AX_EPROTO,
		    "the WAL holds native-histogram samples (record type %d), "
		    "which axon-tsdb does not support",
		    rec[0]);
	default:
		return ax_err_set(c->err, AX_EPROTO,
		    "unknown WAL record type %d", len ? rec[0] : -1);
	}
}

int tsdb_head_replay(tsdb_head_t *h, const char *wal_dir,
    tsdb_wal_replay_stats_t *st, uint64_t *samples, ax_err_t *err)
{
	replay_ctx_t c;
	char cp[4200];
	int rv = 0, last;
	tsdb_wal_replay_stats_t cst;

	memset(&c, 0, sizeof(c));
	memset(&cst, 0, sizeof(cst));
	memset(st, 0, sizeof(*st));
	c.h = h;
	c.err = err;
	pthread_mutex_lock(&h->append_mu);
	pthread_rwlock_wrlock(&h->mu);
	/* chunks_head first: series records pick their chunks up */
	if (h->hc != NULL) {
		int corrupt = 0;

		rv = tsdb_hchunks_iterate(h->hc, collect_mchunk, &c, &corrupt,
		    err);
		if (rv == 0 && c.n_mc > 1)
			qsort(c.mc, c.n_mc, sizeof(*c.mc), mchunk_cmp);
	}
	/* the newest checkpoint first, then the segments after it */
	last = tsdb_checkpoint_last(wal_dir, cp, sizeof(cp));
	if (rv == 0 && last >= 0)
		rv = tsdb_wal_replay(cp, 0, 0, replay_record, &c, &cst, err);
	if (rv == 0)
		rv = tsdb_wal_replay(
		    wal_dir, last + 1, 1, replay_record, &c, st, err);
	pthread_rwlock_unlock(&h->mu);
	pthread_mutex_unlock(&h->append_mu);
	st->records += cst.records;
	st->corruptions += cst.corruptions;
	free(c.alias);
	ax_hmap_fini(&c.far_alias);
	free(c.buf);
	free(c.mc);
	if (samples)
		*samples = c.samples;
	return rv;
}

/* ---- reading ---- */

/* Has s a chunk in [mint, maxt] not wholly deleted?  (As Prometheus:
 * chunks inside one tombstone interval are dropped.)  Series lock held. */
static int series_visible(tsdb_series_t *s, int64_t mint, int64_t maxt)
{
	size_t i;

	for (i = 0; i < s->n_chunks; i++)
		if (s->chunks[i].maxt >= mint && s->chunks[i].mint <= maxt &&
		    !tsdb_ivs_covers(
		        &s->del, s->chunks[i].mint, s->chunks[i].maxt))
			return 1;
	return s->app.n > 0 && s->app_maxt >= mint && s->app_mint <= maxt &&
	    !tsdb_ivs_covers(&s->del, s->app_mint, s->app_maxt);
}

int tsdb_head_select(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, tsdb_plist_t *out, ax_err_t *err)
{
	tsdb_plist_t refs = {0};
	size_t i, k = 0;
	int rv;

	pthread_rwlock_rdlock(&h->mu);
	rv = tsdb_index_select(&h->ix, ms, n, &refs, err);
	if (rv == 0) {
		for (i = 0; i < refs.n; i++) {
			tsdb_series_t *s = h->by_ref[refs.v[i]];
			int64_t smin, smax;

			pthread_mutex_lock(&s->mu);
			smin = s->n_chunks
			    ? s->chunks[0].mint
			    : (s->app.n ? s->app_mint : INT64_MAX);
			smax = s->max_t;
			if (s->del.n && smax != INT64_MIN &&
			    !series_visible(s, mint, maxt))
				smax =
				    INT64_MIN; /* everything in range deleted */
			pthread_mutex_unlock(&s->mu);
			if (smax == INT64_MIN || smin > maxt || smax < mint)
				continue;
			refs.v[k++] = refs.v[i];
		}
		refs.n = k;
	}
	pthread_rwlock_unlock(&h->mu);
	if (rv != 0) {
		tsdb_plist_fini(&refs);
		return rv;
	}
	tsdb_plist_fini(out);
	*out = refs;
	return 0;
}

static int visit_chunk(const uint8_t *b, size_t len, int64_t mint, int64_t maxt,
    const tsdb_ivs_t *del, tsdb_sample_fn fn, void *arg)
{
	tsdb_xor_it_t it;
	int r;

	tsdb_xor_it_init(&it, b, len);
	r = tsdb_xor_it_seek(&it, mint);
	while (r == 1) {
		int64_t t;
		double v;
		int rv;

		tsdb_xor_it_at(&it, &t, &v);
		if (t > maxt)
			return 0;
		if (del->n && tsdb_ivs_deleted(del, t)) {
			r = tsdb_xor_it_next(&it);
			continue;
		}
		if ((rv = fn(arg, t, v)) != 0)
			return rv;
		r = tsdb_xor_it_next(&it);
	}
	return r < 0 ? r : 0;
}

int tsdb_head_series_samples(
    tsdb_series_t *s, int64_t mint, int64_t maxt, tsdb_sample_fn fn, void *arg)
{
	size_t i;
	int rv = 0;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n_chunks && rv == 0; i++) {
		if (s->chunks[i].maxt < mint || s->chunks[i].mint > maxt)
			continue;
		rv = visit_chunk(s->chunks[i].b, s->chunks[i].len, mint, maxt,
		    &s->del, fn, arg);
	}
	if (rv == 0 && s->app.n > 0 && s->app_maxt >= mint &&
	    s->app_mint <= maxt)
		rv = visit_chunk(
		    s->app.b, s->app.len, mint, maxt, &s->del, fn, arg);
	pthread_mutex_unlock(&s->mu);
	return rv;
}

void tsdb_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct strings from the selected series: names (name == NULL) or
 * values of name. */
static int collect_from_series(tsdb_head_t *h, const char *name,
    ax_matcher_t *const *ms, size_t n, char ***out, size_t *n_out,
    ax_err_t *err)
{
	tsdb_plist_t refs = {0};
	ax_hmap_t seen;
	char **v = NULL;
	size_t i, k = 0, pos = 0;
	ax_hmap_ent_t *e;
	int rv;

	if ((rv = tsdb_head_select(
	         h, ms, n, INT64_MIN, INT64_MAX, &refs, err)) != 0)
		return rv;
	ax_hmap_init(&seen);
	pthread_rwlock_rdlock(&h->mu);
	for (i = 0; i < refs.n && rv == 0; i++) {
		const ax_labels_t *ls = h->by_ref[refs.v[i]]->ls;
		uint32_t j;

		for (j = 0; j < ls->n; j++) {
			const char *str = name ? NULL : ls->l[j].name;

			if (name && strcmp(ls->l[j].name, name) == 0)
				str = ls->l[j].value;
			if (str &&
			    ax_hmap_put(&seen, str, strlen(str), (void *)1,
			        NULL) != 0) {
				rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
				break;
			}
		}
	}
	pthread_rwlock_unlock(&h->mu);
	tsdb_plist_fini(&refs);
	if (rv == 0) {
		v = calloc(seen.n ? seen.n : 1, sizeof(*v));
		if (v == NULL)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	while (rv == 0 && (e = ax_hmap_next(&seen, &pos)) != NULL) {
		v[k] = strdup(e->key);
		if (v[k] == NULL)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		else
			k++;
	}
	ax_hmap_fini(&seen);
	if (rv != 0) {
		tsdb_strv_free(v, k);
		return rv;
	}
	qsort(v, k, sizeof(*v), strp_cmp);
	*out = v;
	*n_out = k;
	return 0;
}

static int copy_strs(
    const char **src, size_t n, char ***out, size_t *n_out, ax_err_t *err)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	if (v == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (v[i] == NULL) {
			tsdb_strv_free(v, i);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

int tsdb_head_label_names(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    char ***out, size_t *n_out, ax_err_t *err)
{
	const char **names;
	size_t cnt;
	int rv;

	if (n > 0)
		return collect_from_series(h, NULL, ms, n, out, n_out, err);
	pthread_rwlock_rdlock(&h->mu);
	rv = tsdb_index_label_names(&h->ix, &names, &cnt);
	if (rv == 0) {
		rv = copy_strs(names, cnt, out, n_out, err);
		free(names);
	} else {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pthread_rwlock_unlock(&h->mu);
	return rv;
}

int tsdb_head_label_values(tsdb_head_t *h, const char *name,
    ax_matcher_t *const *ms, size_t n, char ***out, size_t *n_out,
    ax_err_t *err)
{
	const char **vals;
	size_t cnt;
	int rv;

	if (n > 0)
		return collect_from_series(h, name, ms, n, out, n_out, err);
	pthread_rwlock_rdlock(&h->mu);
	rv = tsdb_index_label_values(&h->ix, name, &vals, &cnt);
	if (rv == 0) {
		rv = copy_strs(vals, cnt, out, n_out, err);
		free(vals);
	} else {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pthread_rwlock_unlock(&h->mu);
	return rv;
}

void tsdb_head_stats(tsdb_head_t *h, tsdb_head_stats_t *st)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	pthread_rwlock_rdlock(&h->mu);
	st->series = h->n_series;
	st->chunks = __atomic_load_n(&h->n_chunks, __ATOMIC_RELAXED);
	st->mint = h->mint;
	st->maxt = h->maxt;
	st->label_pairs = 0;
	while ((e = ax_hmap_next(&h->ix.names, &pos)) != NULL)
		st->label_pairs += tsdb_index_value_count(&h->ix, e->key);
	pthread_rwlock_unlock(&h->mu);
}

void tsdb_head_set_min_valid(tsdb_head_t *h, int64_t t)
{
	pthread_mutex_lock(&h->append_mu);
	if (t > h->min_valid)
		h->min_valid = t;
	pthread_mutex_unlock(&h->append_mu);
}

int tsdb_head_has_series(tsdb_head_t *h, uint64_t ref)
{
	int has;

	pthread_rwlock_rdlock(&h->mu);
	has = ref < h->ref_cap && h->by_ref[ref] != NULL;
	pthread_rwlock_unlock(&h->mu);
	return has;
}

/* Unlink s from its hash bucket (write lock held). */
static void unlink_series(tsdb_head_t *h, tsdb_series_t *s)
{
	tsdb_series_t **pp = &h->buckets[s->ls->hash & (h->n_buckets - 1)];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
}

size_t tsdb_head_truncate(tsdb_head_t *h, int64_t mint)
{
	size_t ref, removed = 0, i, k;
	int64_t new_min = INT64_MAX;

	pthread_mutex_lock(&h->append_mu);
	pthread_rwlock_wrlock(&h->mu);
	for (ref = 1; ref < h->ref_cap; ref++) {
		tsdb_series_t *s = h->by_ref[ref];

		if (s == NULL)
			continue;
		pthread_mutex_lock(&s->mu);
		for (i = 0, k = 0; i < s->n_chunks; i++) {
			if (s->chunks[i].maxt < mint) {
				if (!s->chunks[i].mapped)
					free(s->chunks[i].b);
				__atomic_sub_fetch(
				    &h->n_chunks, 1, __ATOMIC_RELAXED);
			} else {
				s->chunks[k++] = s->chunks[i];
			}
		}
		s->n_chunks = k;
		tsdb_ivs_truncate(&s->del, mint);
		if (s->app.n > 0 && s->app_maxt < mint) {
			tsdb_xor_fini(&s->app);
			s->app.leading = 0xff;
			__atomic_sub_fetch(&h->n_chunks, 1, __ATOMIC_RELAXED);
		}
		if (s->n_chunks == 0 && s->app.n == 0) {
			pthread_mutex_unlock(&s->mu);
			unlink_series(h, s);
			tsdb_index_remove(&h->ix, s->ref, s->ls);
			h->by_ref[ref] = NULL;
			h->n_series--;
			series_free(s);
			removed++;
			continue;
		}
		if (s->n_chunks > 0 && s->chunks[0].mint < new_min)
			new_min = s->chunks[0].mint;
		else if (s->n_chunks == 0 && s->app_mint < new_min)
			new_min = s->app_mint;
		pthread_mutex_unlock(&s->mu);
	}
	h->mint = new_min == INT64_MAX ? mint : new_min;
	if (h->n_series == 0) {
		h->mint = INT64_MAX;
		h->maxt = INT64_MIN;
	}
	if (mint > h->min_valid)
		h->min_valid = mint;
	/* no chunk before mint is referenced any more */
	tsdb_hchunks_truncate(h->hc, mint);
	pthread_rwlock_unlock(&h->mu);
	pthread_mutex_unlock(&h->append_mu);
	return removed;
}

int tsdb_head_delete(tsdb_head_t *h, ax_matcher_t *const *ms, size_t n,
    int64_t mint, int64_t maxt, size_t *n_series, ax_err_t *err)
{
	tsdb_plist_t refs = {0};
	tsdb_rec_tombstone_t *tb = NULL;
	ax_buf_t rec = AX_BUF_INIT;
	size_t i;
	int rv;

	*n_series = 0;
	pthread_mutex_lock(&h->append_mu);
	rv = tsdb_head_select(h, ms, n, mint, maxt, &refs, err);
	if (rv == 0 && refs.n > 0) {
		tb = malloc(refs.n * sizeof(*tb));
		if (tb == NULL)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (rv == 0 && refs.n > 0) {
		for (i = 0; i < refs.n; i++) {
			tb[i].ref = refs.v[i];
			tb[i].mint = mint;
			tb[i].maxt = maxt;
		}
		tsdb_rec_tombstones(&rec, tb, refs.n);
		if (!ax_buf_ok(&rec))
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		else if (h->wal) {
			const uint8_t *r[1] = {(const uint8_t *)rec.p};
			size_t l[1] = {rec.len};

			rv = tsdb_wal_log(h->wal, r, l, 1, err);
		}
	}
	for (i = 0; rv == 0 && i < refs.n; i++) {
		tsdb_series_t *s = h->by_ref[refs.v[i]];

		pthread_mutex_lock(&s->mu);
		if (tsdb_ivs_add(&s->del, mint, maxt) != 0)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		pthread_mutex_unlock(&s->mu);
	}
	if (rv == 0)
		*n_series = refs.n;
	pthread_mutex_unlock(&h->append_mu);
	ax_buf_fini(&rec);
	free(tb);
	tsdb_plist_fini(&refs);
	return rv;
}
