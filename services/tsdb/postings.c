/*
 * postings: sorted ref lists and the label index (see postings.h).
 */
#include "tsdb/postings.h"
#include "ax_buf.h"

#include <stdlib.h>
#include <string.h>

typedef struct lname {
	ax_hmap_t values; /* value -> tsdb_plist_t* */
} lname_t;

void tsdb_plist_fini(tsdb_plist_t *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int reserve(tsdb_plist_t *p, size_t n)
{
	return ax_grow((void **)&p->v, &p->cap, n, sizeof(*p->v));
}

static size_t lower_bound(const tsdb_plist_t *p, uint64_t ref)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->v[mid] < ref)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int tsdb_plist_add(tsdb_plist_t *p, uint64_t ref)
{
	size_t at;

	if (reserve(p, p->n + 1) != 0)
		return AX_ENOMEM;
	if (p->n == 0 || p->v[p->n - 1] < ref) {
		p->v[p->n++] = ref;
		return 0;
	}
	at = lower_bound(p, ref);
	if (at < p->n && p->v[at] == ref)
		return 0;
	memmove(p->v + at + 1, p->v + at, (p->n - at) * sizeof(*p->v));
	p->v[at] = ref;
	p->n++;
	return 0;
}

void tsdb_plist_remove(tsdb_plist_t *p, uint64_t ref)
{
	size_t at = lower_bound(p, ref);

	if (at < p->n && p->v[at] == ref) {
		memmove(
		    p->v + at, p->v + at + 1, (p->n - at - 1) * sizeof(*p->v));
		p->n--;
	}
}

int tsdb_plist_copy(tsdb_plist_t *dst, const tsdb_plist_t *src)
{
	dst->n = 0;
	if (reserve(dst, src->n) != 0)
		return AX_ENOMEM;
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

int tsdb_plist_intersect(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	if (reserve(out, a->n < b->n ? a->n : b->n) != 0)
		return AX_ENOMEM;
	while (i < a->n && j < b->n) {
		if (a->v[i] < b->v[j])
			i++;
		else if (a->v[i] > b->v[j])
			j++;
		else {
			out->v[out->n++] = a->v[i];
			i++;
			j++;
		}
	}
	return 0;
}

int tsdb_plist_union(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	if (reserve(out, a->n + b->n) != 0)
		return AX_ENOMEM;
	while (i < a->n || j < b->n) {
		if (j >= b->n || (i < a->n && a->v[i] < b->v[j]))
			out->v[out->n++] = a->v[i++];
		else if (i >= a->n || b->v[j] < a->v[i])
			out->v[out->n++] = b->v[j++];
		else {
			out->v[out->n++] = a->v[i];
			i++;
			j++;
		}
	}
	return 0;
}

int tsdb_plist_subtract(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	if (reserve(out, a->n) != 0)
		return AX_ENOMEM;
	while (i < a->n) {
		while (j < b->n && b->v[j] < a->v[i])
			j++;
		if (j < b->n && b->v[j] == a->v[i])
			i++;
		else
			out->v[out->n++] = a->v[i++];
	}
	return 0;
}

/* ---- index ---- */

void tsdb_index_init(tsdb_index_t *ix)
{
	memset(ix, 0, sizeof(*ix));
	ax_hmap_init(&ix->names);
}

void tsdb_index_fini(tsdb_index_t *ix)
{
	size_t pos = 0, p2;
	ax_hmap_ent_t *e, *v;

	while ((e = ax_hmap_next(&ix->names, &pos)) != NULL) {
		lname_t *ln = e->val;

		p2 = 0;
		while ((v = ax_hmap_next(&ln->values, &p2)) != NULL) {
			tsdb_plist_fini(v->val);
			free(v->val);
		}
		ax_hmap_fini(&ln->values);
		free(ln);
	}
	ax_hmap_fini(&ix->names);
	tsdb_plist_fini(&ix->all);
}

int tsdb_index_add(tsdb_index_t *ix, uint64_t ref, const ax_labels_t *ls)
{
	uint32_t i;

	for (i = 0; i < ls->n; i++) {
		const char *nm = ls->l[i].name, *vl = ls->l[i].value;
		lname_t *ln = ax_hmap_get(&ix->names, nm, strlen(nm));
		tsdb_plist_t *pl;

		if (ln == NULL) {
			ln = calloc(1, sizeof(*ln));
			if (ln == NULL)
				return AX_ENOMEM;
			ax_hmap_init(&ln->values);
			if (ax_hmap_put(&ix->names, nm, strlen(nm), ln, NULL) !=
			    0) {
				free(ln);
				return AX_ENOMEM;
			}
		}
		pl = ax_hmap_get(&ln->values, vl, strlen(vl));
		if (pl == NULL) {
			pl = calloc(1, sizeof(*pl));
			if (pl == NULL)
				return AX_ENOMEM;
			if (ax_hmap_put(
			        &ln->values, vl, strlen(vl), pl, NULL) != 0) {
				free(pl);
				return AX_ENOMEM;
			}
		}
		if (tsdb_plist_add(pl, ref) != 0)
			return AX_ENOMEM;
	}
	return tsdb_plist_add(&ix->all, ref);
}

void tsdb_index_remove(tsdb_index_t *ix, uint64_t ref, const ax_labels_t *ls)
{
	uint32_t i;

	for (i = 0; i < ls->n; i++) {
		const char *nm = ls->l[i].name, *vl = ls->l[i].value;
		lname_t *ln = ax_hmap_get(&ix->names, nm, strlen(nm));
		tsdb_plist_t *pl;

		if (ln == NULL)
			continue;
		pl = ax_hmap_get(&ln->values, vl, strlen(vl));
		if (pl == NULL)
			continue;
		tsdb_plist_remove(pl, ref);
		if (pl->n == 0) {
			ax_hmap_del(&ln->values, vl, strlen(vl));
			tsdb_plist_fini(pl);
			free(pl);
		}
		if (ln->values.n == 0) {
			ax_hmap_del(&ix->names, nm, strlen(nm));
			ax_hmap_fini(&ln->values);
			free(ln);
		}
	}
	tsdb_plist_remove(&ix->all, ref);
}

const tsdb_plist_t *tsdb_index_postings(
    const tsdb_index_t *ix, const char *name, const char *value)
{
	lname_t *ln = ax_hmap_get(&ix->names, name, strlen(name));

	return ln ? ax_hmap_get(&ln->values, value, strlen(value)) : NULL;
}

/* ---- selection over any postings source ---- */

typedef struct vu_ctx {
	const tsdb_ix_src_t *src;
	const ax_matcher_t *m;
	int want;
	tsdb_plist_t *out;
	tsdb_plist_t part, tmp;
	int rv;
	ax_err_t *err;
} vu_ctx_t;

static int vu_value(void *arg, const char *value, size_t len)
{
	vu_ctx_t *c = arg;
	const ax_matcher_t *m = c->m;
	int r;

	if (m->re) {
		r = ax_regex_match(m->re, value, len);
		if (r < 0) {
			c->rv = ax_err_set(c->err, r,
			    "regex %s of matcher on %s exceeded its match "
			    "limit",
			    ax_regex_pattern(m->re), m->name);
			return 1;
		}
		if (m->type == AX_MATCH_NOT_REGEX)
			r = !r;
	} else {
		r = ax_matcher_matches(m, value);
	}
	if (r != c->want)
		return 0;
	if (c->src->postings(c->src->ctx, m->name, value, &c->part) != 0 ||
	    tsdb_plist_union(c->out, &c->part, &c->tmp) != 0) {
		c->rv = ax_err_set(c->err, AX_ENOMEM, "out of memory");
		return 1;
	}
	{
		tsdb_plist_t sw = *c->out;

		*c->out = c->tmp;
		c->tmp = sw;
	}
	return 0;
}

/* Union of the postings of the values of m's name for which m gives want. */
static int values_union(const tsdb_ix_src_t *src, const ax_matcher_t *m,
    int want, tsdb_plist_t *out, ax_err_t *err)
{
	vu_ctx_t c;

	out->n = 0;
	/* fast paths: a single value */
	if ((m->type == AX_MATCH_EQUAL && want) ||
	    (m->type == AX_MATCH_NOT_EQUAL && !want)) {
		if (src->postings(src->ctx, m->name, m->value, out) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.src = src;
	c.m = m;
	c.want = want;
	c.out = out;
	c.err = err;
	src->each_value(src->ctx, m->name, vu_value, &c);
	tsdb_plist_fini(&c.part);
	tsdb_plist_fini(&c.tmp);
	return c.rv;
}

int tsdb_select(const tsdb_ix_src_t *src, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err)
{
	tsdb_plist_t acc = {0}, part = {0}, tmp = {0};
	int have = 0, rv = 0;
	size_t i;

	/* positive matchers first: they shrink the set fastest */
	for (i = 0; i < n && rv == 0; i++) {
		if (ax_matcher_matches_empty(ms[i]))
			continue;
		if ((rv = values_union(src, ms[i], 1, &part, err)) != 0)
			break;
		if (!have) {
			tsdb_plist_t sw = acc;

			acc = part;
			part = sw;
			have = 1;
		} else {
			if (tsdb_plist_intersect(&acc, &part, &tmp) != 0) {
				rv =
				    ax_err_set(err, AX_ENOMEM, "out of memory");
				break;
			}
			{
				tsdb_plist_t sw = acc;

				acc = tmp;
				tmp = sw;
			}
		}
		if (acc.n == 0)
			break;
	}
	if (rv == 0 && !have && src->all(src->ctx, &acc) != 0)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < n && rv == 0 && acc.n > 0; i++) {
		if (!ax_matcher_matches_empty(ms[i]))
			continue;
		if ((rv = values_union(src, ms[i], 0, &part, err)) != 0)
			break;
		if (part.n == 0)
			continue;
		if (tsdb_plist_subtract(&acc, &part, &tmp) != 0) {
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			break;
		}
		{
			tsdb_plist_t sw = acc;

			acc = tmp;
			tmp = sw;
		}
	}
	tsdb_plist_fini(&part);
	tsdb_plist_fini(&tmp);
	if (rv != 0) {
		tsdb_plist_fini(&acc);
		return rv;
	}
	tsdb_plist_fini(out);
	*out = acc;
	return 0;
}

/* The head index as a postings source. */
static int ix_each_value(void *ctx, const char *name,
    int (*fn)(void *arg, const char *value, size_t len), void *arg)
{
	const tsdb_index_t *ix = ctx;
	lname_t *ln = ax_hmap_get(&ix->names, name, strlen(name));
	ax_hmap_ent_t *e;
	size_t pos = 0;

	if (ln == NULL)
		return 0;
	while ((e = ax_hmap_next(&ln->values, &pos)) != NULL)
		if (fn(arg, e->key, e->klen) != 0)
			return 1;
	return 0;
}

static int ix_postings(
    void *ctx, const char *name, const char *value, tsdb_plist_t *out)
{
	const tsdb_plist_t *p = tsdb_index_postings(ctx, name, value);

	if (p == NULL) {
		out->n = 0;
		return 0;
	}
	return tsdb_plist_copy(out, p);
}

static int ix_all(void *ctx, tsdb_plist_t *out)
{
	return tsdb_plist_copy(out, &((const tsdb_index_t *)ctx)->all);
}

int tsdb_index_select(const tsdb_index_t *ix, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err)
{
	tsdb_ix_src_t src = {(void *)ix, ix_each_value, ix_postings, ix_all};

	return tsdb_select(&src, ms, n, out, err);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int collect_keys(const ax_hmap_t *m, const char ***out, size_t *n)
{
	const char **v = malloc((m->n ? m->n : 1) * sizeof(*v));
	ax_hmap_ent_t *e;
	size_t pos = 0, k = 0;

	if (v == NULL)
		return AX_ENOMEM;
	while ((e = ax_hmap_next(m, &pos)) != NULL)
		v[k++] = e->key;
	qsort(v, k, sizeof(*v), str_cmp);
	*out = v;
	*n = k;
	return 0;
}

int tsdb_index_label_names(const tsdb_index_t *ix, const char ***out, size_t *n)
{
	return collect_keys(&ix->names, out, n);
}

int tsdb_index_label_values(
    const tsdb_index_t *ix, const char *name, const char ***out, size_t *n)
{
	lname_t *ln = ax_hmap_get(&ix->names, name, strlen(name));
	static const ax_hmap_t empty;

	return collect_keys(ln ? &ln->values : &empty, out, n);
}

size_t tsdb_index_value_count(const tsdb_index_t *ix, const char *name)
{
	lname_t *ln = ax_hmap_get(&ix->names, name, strlen(name));

	return ln ? ln->values.n : 0;
}
