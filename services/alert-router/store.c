/*
 * ar_store: the alert store (store.h).
 */
#include "alert-router/store.h"

#include <stdlib.h>
#include <string.h>

#include "ax_err.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_add(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t fnv_byte(uint64_t h, unsigned char b)
{
	h ^= b;
	return h * FNV_PRIME;
}

uint64_t ar_fingerprint(const ax_labels_t *ls)
{
	uint64_t h = FNV_OFFSET;
	uint32_t i;

	/* ax_labels_t is sorted by name already. */
	for (i = 0; ls && i < ls->n; i++) {
		h = fnv_add(h, ls->l[i].name);
		h = fnv_byte(h, 0xff);
		h = fnv_add(h, ls->l[i].value);
		h = fnv_byte(h, 0xff);
	}
	return h;
}

int ar_labels_before(const ax_labels_t *a, const ax_labels_t *b)
{
	uint32_t na = a ? a->n : 0, nb = b ? b->n : 0, i;

	if (na != nb)
		return na < nb ? -1 : 1;
	for (i = 0; i < na; i++) {
		int c = strcmp(a->l[i].name, b->l[i].name);

		/* the set that has the smaller name comes after the other */
		if (c != 0)
			return c < 0 ? 1 : -1;
		c = strcmp(a->l[i].value, b->l[i].value);
		if (c != 0)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

ar_alert_t *ar_alert_new(ax_labels_t *labels, ax_labels_t *annotations,
    char *url, int64_t starts_ms, int64_t ends_ms, int64_t updated_ms,
    int timeout)
{
	ar_alert_t *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		ax_labels_free(labels);
		ax_labels_free(annotations);
		free(url);
		return NULL;
	}
	a->refs = 1;
	a->labels = labels;
	a->annotations = annotations;
	a->generator_url = url;
	a->fp = ar_fingerprint(labels);
	a->starts_ms = starts_ms;
	a->ends_ms = ends_ms;
	a->updated_ms = updated_ms;
	a->timeout = timeout;
	return a;
}

ar_alert_t *ar_alert_ref(ar_alert_t *a)
{
	if (a)
		__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	return a;
}

void ar_alert_unref(ar_alert_t *a)
{
	if (a == NULL || __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ax_labels_free(a->labels);
	ax_labels_free(a->annotations);
	free(a->generator_url);
	free(a);
}

int ar_alert_resolved(const ar_alert_t *a, int64_t now_ms)
{
	/* Alertmanager's ResolvedAt: !EndsAt.After(now), so an alert that
	 * ends in the very millisecond it arrives is resolved */
	return a->ends_ms != 0 && a->ends_ms <= now_ms;
}

ar_alert_t *ar_alert_merge(const ar_alert_t *a, const ar_alert_t *b)
{
	const ar_alert_t *old = a, *young = b;
	ax_labels_t *labels, *ann = NULL;
	char *url = NULL;
	int64_t starts, ends, now;
	int timeout;

	if (b->updated_ms < a->updated_ms) {
		old = b;
		young = a;
	}
	starts = young->starts_ms;
	ends = young->ends_ms;
	timeout = young->timeout;
	if (old->starts_ms < young->starts_ms)
		starts = old->starts_ms;
	/* "Resolved" is judged at the younger update, as Alertmanager judges
	 * it at merge time. */
	now = young->updated_ms;
	if (ar_alert_resolved(young, now)) {
		if (ar_alert_resolved(old, now) &&
		    old->ends_ms > young->ends_ms)
			ends = old->ends_ms, timeout = old->timeout;
	} else if (old->ends_ms > young->ends_ms && !old->timeout) {
		ends = old->ends_ms;
		timeout = 0;
	}
	labels = ax_labels_dup(young->labels);
	if (young->annotations)
		ann = ax_labels_dup(young->annotations);
	if (young->generator_url)
		url = strdup(young->generator_url);
	if (labels == NULL || (young->annotations && ann == NULL) ||
	    (young->generator_url && url == NULL)) {
		ax_labels_free(labels);
		ax_labels_free(ann);
		free(url);
		return NULL;
	}
	return ar_alert_new(
	    labels, ann, url, starts, ends, young->updated_ms, timeout);
}

void ar_store_init(ar_store_t *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	ax_u64map_init(&s->alerts);
}

void ar_store_fini(ar_store_t *s)
{
	size_t pos = 0;
	uint64_t k;
	ar_alert_t *a;

	while ((a = ax_u64map_next(&s->alerts, &pos, &k)) != NULL)
		ar_alert_unref(a);
	ax_u64map_fini(&s->alerts);
	pthread_mutex_destroy(&s->mu);
}

/* The map refuses key 0: a (theoretical) fingerprint 0 gets a fixed
 * stand-in key. */
static uint64_t key_of(uint64_t fp)
{
	return fp ? fp : 0x9e3779b97f4a7c15ULL;
}

int ar_store_put(ar_store_t *s, ar_alert_t *a, ar_alert_t **stored)
{
	ar_alert_t *prev, *m;
	int rv;

	pthread_mutex_lock(&s->mu);
	prev = ax_u64map_get(&s->alerts, key_of(a->fp));
	if (prev && ax_labels_equal(prev->labels, a->labels))
		m = ar_alert_merge(prev, a);
	else
		m = ar_alert_ref(a);
	if (m == NULL) {
		pthread_mutex_unlock(&s->mu);
		return AX_ENOMEM;
	}
	if ((rv = ax_u64map_put(&s->alerts, key_of(a->fp), m)) != 0) {
		pthread_mutex_unlock(&s->mu);
		ar_alert_unref(m);
		return rv;
	}
	if (prev)
		ar_alert_unref(prev);
	else
		s->n++;
	if (stored)
		*stored = ar_alert_ref(m);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

ar_alert_t *ar_store_get(ar_store_t *s, uint64_t fp)
{
	ar_alert_t *a;

	pthread_mutex_lock(&s->mu);
	a = ar_alert_ref(ax_u64map_get(&s->alerts, key_of(fp)));
	pthread_mutex_unlock(&s->mu);
	return a;
}

int ar_store_list(ar_store_t *s, ar_alert_t ***out, size_t *n)
{
	size_t pos = 0, i = 0;
	uint64_t k;
	ar_alert_t *a, **v;

	pthread_mutex_lock(&s->mu);
	v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&s->mu);
		return AX_ENOMEM;
	}
	while ((a = ax_u64map_next(&s->alerts, &pos, &k)) != NULL && i < s->n)
		v[i++] = ar_alert_ref(a);
	pthread_mutex_unlock(&s->mu);
	*out = v;
	*n = i;
	return 0;
}

void ar_store_list_free(ar_alert_t **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ar_alert_unref(v[i]);
	free(v);
}

size_t ar_store_gc(ar_store_t *s, int64_t cutoff_ms)
{
	size_t pos = 0, n = 0, i, cap = 0;
	uint64_t k, *dead = NULL;
	ar_alert_t *a;

	pthread_mutex_lock(&s->mu);
	while ((a = ax_u64map_next(&s->alerts, &pos, &k)) != NULL) {
		if (!ar_alert_resolved(a, cutoff_ms))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			uint64_t *nd = realloc(dead, nc * sizeof(*nd));

			if (nd == NULL)
				break; /* collect the rest next time */
			dead = nd;
			cap = nc;
		}
		dead[n++] = k;
	}
	for (i = 0; i < n; i++) {
		ar_alert_unref(ax_u64map_del(&s->alerts, dead[i]));
		s->n--;
	}
	pthread_mutex_unlock(&s->mu);
	free(dead);
	return n;
}

size_t ar_store_count(ar_store_t *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}
