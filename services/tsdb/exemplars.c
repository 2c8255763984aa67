/*
 * exemplars: circular exemplar store chained per series (see exemplars.h).
 */
#include "tsdb/exemplars.h"
#include "ax_hmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct ent {
	uint64_t ref;
	ax_labels_t *ls; /* NULL: free slot */
	int64_t t;
	double v;
	int64_t next; /* next (newer) entry of the same series, -1 */
} ent_t;

typedef struct chain {
	int64_t first, last;
} chain_t;

struct tsdb_exemplars {
	pthread_mutex_t mu;
	ent_t *ring;
	size_t cap, head, n;
	ax_hmap_t series; /* ref (8 bytes) -> chain_t* */
};

int tsdb_exemplars_new(size_t capacity, tsdb_exemplars_t **out, ax_err_t *err)
{
	tsdb_exemplars_t *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	x->cap = capacity;
	if (capacity &&
	    (x->ring = calloc(capacity, sizeof(*x->ring))) == NULL) {
		free(x);
		return ax_err_set(err, AX_ENOMEM,
		    "out of memory for %zu exemplars", capacity);
	}
	pthread_mutex_init(&x->mu, NULL);
	ax_hmap_init(&x->series);
	*out = x;
	return 0;
}

void tsdb_exemplars_free(tsdb_exemplars_t *x)
{
	size_t i, pos = 0;
	ax_hmap_ent_t *e;

	if (x == NULL)
		return;
	for (i = 0; i < x->cap; i++)
		ax_labels_free(x->ring[i].ls);
	free(x->ring);
	while ((e = ax_hmap_next(&x->series, &pos)) != NULL)
		free(e->val);
	ax_hmap_fini(&x->series);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

static size_t runes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static uint64_t bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	return u;
}

int tsdb_exemplars_check(tsdb_exemplars_t *x, uint64_t ref,
    const ax_labels_t *ls, int64_t t, double v, ax_err_t *err)
{
	size_t total = 0;
	uint32_t i;
	chain_t *c;
	int rv = 0;

	if (ax_labels_validate(ls, 0, err) != 0)
		return AX_EINVAL;
	for (i = 0; i < ls->n; i++)
		total += runes(ls->l[i].name) + runes(ls->l[i].value);
	if (total > TSDB_EXEMPLAR_MAX_RUNES)
		return ax_err_set(err, AX_EINVAL,
		    "exemplar label set is too long (%zu characters, at most "
		    "%d)",
		    total, TSDB_EXEMPLAR_MAX_RUNES);
	if (x->cap == 0)
		return 0;
	pthread_mutex_lock(&x->mu);
	c = ax_hmap_get(&x->series, &ref, sizeof(ref));
	if (c) {
		ent_t *last = &x->ring[c->last];

		if (last->t == t && bits(last->v) == bits(v) &&
		    ax_labels_equal(last->ls, ls))
			rv = 1;
		else if (t < last->t)
			rv =
			    ax_err_set(err, AX_ELIMIT, "out of order exemplar");
	}
	pthread_mutex_unlock(&x->mu);
	return rv;
}

int tsdb_exemplars_add(tsdb_exemplars_t *x, uint64_t ref, const ax_labels_t *ls,
    int64_t t, double v)
{
	ent_t *e;
	chain_t *c;
	ax_labels_t *copy;
	int64_t idx;

	if (x->cap == 0)
		return 0;
	copy = ax_labels_dup(ls);
	if (copy == NULL)
		return AX_ENOMEM;
	pthread_mutex_lock(&x->mu);
	idx = (int64_t)x->head;
	e = &x->ring[idx];
	if (e->ls) {
		/* overwrite the oldest: unlink it from its series' chain */
		chain_t *oc = ax_hmap_get(&x->series, &e->ref, sizeof(e->ref));

		if (oc) {
			if (oc->first == idx && oc->last == idx) {
				ax_hmap_del(
				    &x->series, &e->ref, sizeof(e->ref));
				free(oc);
			} else if (oc->first == idx) {
				oc->first = e->next;
			}
		}
		ax_labels_free(e->ls);
		x->n--;
	}
	c = ax_hmap_get(&x->series, &ref, sizeof(ref));
	if (c == NULL) {
		c = malloc(sizeof(*c));
		if (c == NULL ||
		    ax_hmap_put(&x->series, &ref, sizeof(ref), c, NULL) != 0) {
			free(c);
			e->ls = NULL;
			pthread_mutex_unlock(&x->mu);
			ax_labels_free(copy);
			return AX_ENOMEM;
		}
		c->first = idx;
	} else {
		x->ring[c->last].next = idx;
	}
	c->last = idx;
	e->ref = ref;
	e->ls = copy;
	e->t = t;
	e->v = v;
	e->next = -1;
	x->head = (x->head + 1) % x->cap;
	x->n++;
	pthread_mutex_unlock(&x->mu);
	return 0;
}

int tsdb_exemplars_select(tsdb_exemplars_t *x, uint64_t ref, int64_t mint,
    int64_t maxt, tsdb_exemplar_fn fn, void *arg)
{
	chain_t *c;
	int64_t i;
	int rv = 0;

	if (x->cap == 0)
		return 0;
	pthread_mutex_lock(&x->mu);
	c = ax_hmap_get(&x->series, &ref, sizeof(ref));
	for (i = c ? c->first : -1; i >= 0 && rv == 0; i = x->ring[i].next)
		if (x->ring[i].t >= mint && x->ring[i].t <= maxt)
			rv = fn(arg, x->ring[i].ls, x->ring[i].t, x->ring[i].v);
	pthread_mutex_unlock(&x->mu);
	return rv;
}

size_t tsdb_exemplars_count(tsdb_exemplars_t *x)
{
	size_t n;

	pthread_mutex_lock(&x->mu);
	n = x->n;
	pthread_mutex_unlock(&x->mu);
	return n;
}
