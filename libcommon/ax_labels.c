/*
 * ax_labels: immutable label sets, validation, hashing and the interner
 * (see ax_labels.h).
 */
#include "ax_labels.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static int pair_cmp(const void *a, const void *b)
{
	const ax_label_t *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int ax_labels_new(
    const ax_label_t *pairs, size_t n, ax_labels_t **out, ax_err_t *err)
{
	ax_label_t *tmp = NULL;
	size_t i, m = 0, bytes;
	ax_labels_t *ls;
	char *sp;

	if (n > UINT32_MAX / 2)
		return ax_err_set(err, AX_EINVAL, "too many labels");
	if (n) {
		tmp = malloc(n * sizeof(*tmp));
		if (tmp == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	bytes = sizeof(ax_labels_t);
	for (i = 0; i < n; i++) {
		if (pairs[i].name == NULL || pairs[i].value == NULL ||
		    pairs[i].value[0] == '\0')
			continue;
		tmp[m++] = pairs[i];
	}
	if (m > 1)
		qsort(tmp, m, sizeof(*tmp), pair_cmp);
	for (i = 0; i < m; i++) {
		if (i > 0 && strcmp(tmp[i - 1].name, tmp[i].name) == 0) {
			ax_err_set(err, AX_EINVAL,
			    "duplicate label name \"%s\"", tmp[i].name);
			free(tmp);
			return AX_EINVAL;
		}
		bytes += sizeof(ax_label_t) + strlen(tmp[i].name) + 1 +
		    strlen(tmp[i].value) + 1;
	}
	if (bytes > UINT32_MAX) {
		free(tmp);
		return ax_err_set(err, AX_ETOOBIG, "label set too large");
	}
	ls = malloc(bytes);
	if (ls == NULL) {
		free(tmp);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ls->n = (uint32_t)m;
	ls->bytes = (uint32_t)bytes;
	sp = (char *)&ls->l[m];
	for (i = 0; i < m; i++) {
		size_t nl = strlen(tmp[i].name) + 1,
		       vl = strlen(tmp[i].value) + 1;

		memcpy(sp, tmp[i].name, nl);
		ls->l[i].name = sp;
		sp += nl;
		memcpy(sp, tmp[i].value, vl);
		ls->l[i].value = sp;
		sp += vl;
	}
	free(tmp);
	ls->hash = ax_labels_hash_pairs(ls->l, ls->n);
	*out = ls;
	return 0;
}

int ax_labels_from_strings(ax_labels_t **out, ax_err_t *err, ...)
{
	ax_label_t pairs[64];
	size_t n = 0;
	va_list ap;
	const char *k;

	va_start(ap, err);
	while ((k = va_arg(ap, const char *)) != NULL) {
		if (n == 64) {
			va_end(ap);
			return ax_err_set(err, AX_EINVAL, "too many labels");
		}
		pairs[n].name = k;
		pairs[n].value = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	return ax_labels_new(pairs, n, out, err);
}

ax_labels_t *ax_labels_dup(const ax_labels_t *ls)
{
	ax_labels_t *c;
	ptrdiff_t delta;
	uint32_t i;

	c = malloc(ls->bytes);
	if (c == NULL)
		return NULL;
	memcpy(c, ls, ls->bytes);
	delta = (const char *)c - (const char *)ls;
	for (i = 0; i < c->n; i++) {
		c->l[i].name = (const char *)((uintptr_t)ls->l[i].name + delta);
		c->l[i].value =
		    (const char *)((uintptr_t)ls->l[i].value + delta);
	}
	return c;
}

void ax_labels_free(ax_labels_t *ls)
{
	free(ls);
}

const char *ax_labels_get(const ax_labels_t *ls, const char *name)
{
	uint32_t lo = 0, hi;

	if (ls == NULL)
		return NULL; /* an absent set has no labels */
	hi = ls->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = strcmp(ls->l[mid].name, name);

		if (c == 0)
			return ls->l[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t ax_labels_hash_pairs(const ax_label_t *pairs, size_t n)
{
	static const unsigned char sep = 0xff;
	XXH64_state_t st;
	size_t i;

	XXH64_reset(&st, 0);
	for (i = 0; i < n; i++) {
		XXH64_update(&st, pairs[i].name, strlen(pairs[i].name));
		XXH64_update(&st, &sep, 1);
		XXH64_update(&st, pairs[i].value, strlen(pairs[i].value));
		XXH64_update(&st, &sep, 1);
	}
	return XXH64_digest(&st);
}

uint64_t ax_labels_hash(const ax_labels_t *ls)
{
	return ls->hash;
}

int ax_labels_cmp(const ax_labels_t *a, const ax_labels_t *b)
{
	uint32_t i, n = a->n < b->n ? a->n : b->n;
	int c;

	for (i = 0; i < n; i++) {
		if ((c = strcmp(a->l[i].name, b->l[i].name)) != 0)
			return c;
		if ((c = strcmp(a->l[i].value, b->l[i].value)) != 0)
			return c;
	}
	return (int)a->n - (int)b->n;
}

int ax_labels_equal(const ax_labels_t *a, const ax_labels_t *b)
{
	if (a->n != b->n || a->hash != b->hash)
		return 0;
	return ax_labels_cmp(a, b) == 0;
}

int ax_label_name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

int ax_metric_name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        c == '_' || c == ':' ||
		        (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

int ax_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong, surrogates, out of range */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int ax_labels_validate(const ax_labels_t *ls, int flags, ax_err_t *err)
{
	uint32_t i;
	int has_name = 0;

	for (i = 0; i < ls->n; i++) {
		const char *nm = ls->l[i].name, *v = ls->l[i].value;
		size_t nl = strlen(nm), vl = strlen(v);

		if (strcmp(nm, AX_METRIC_NAME) == 0) {
			has_name = 1;
			if (!ax_metric_name_valid(v, vl))
				return ax_err_set(err, AX_EINVAL,
				    "invalid metric name \"%s\"", v);
			continue;
		}
		if (!ax_label_name_valid(nm, nl))
			return ax_err_set(
			    err, AX_EINVAL, "invalid label name \"%s\"", nm);
		if (nl >= 2 && nm[0] == '_' && nm[1] == '_' &&
		    !(flags & AX_LABELS_ALLOW_RESERVED))
			return ax_err_set(err, AX_EINVAL,
			    "label name \"%s\" is reserved (names starting "
			    "with __ are internal)",
			    nm);
		if (!ax_utf8_valid(v, vl))
			return ax_err_set(err, AX_EINVAL,
			    "label \"%s\" has a value that is not valid UTF-8",
			    nm);
	}
	if ((flags & AX_LABELS_REQUIRE_NAME) && !has_name)
		return ax_err_set(
		    err, AX_EINVAL, "missing metric name (__name__)");
	return 0;
}

void ax_labels_format(const ax_labels_t *ls, ax_buf_t *b)
{
	uint32_t i;
	int first = 1;
	const char *name = ax_labels_get(ls, AX_METRIC_NAME);

	if (name)
		ax_buf_puts(b, name);
	ax_buf_putc(b, '{');
	for (i = 0; i < ls->n; i++) {
		if (strcmp(ls->l[i].name, AX_METRIC_NAME) == 0)
			continue;
		if (!first)
			ax_buf_puts(b, ", ");
		first = 0;
		ax_buf_puts(b, ls->l[i].name);
		ax_buf_puts(b, "=\"");
		ax_buf_put_escaped(
		    b, ls->l[i].value, strlen(ls->l[i].value), 1);
		ax_buf_putc(b, '"');
	}
	ax_buf_putc(b, '}');
}

/* ---- builder ---- */

void ax_labels_builder_init(ax_labels_builder_t *b, const ax_labels_t *base)
{
	b->pairs = NULL;
	b->n = b->cap = 0;
	b->oom = 0;
	if (base == NULL || base->n == 0)
		return;
	b->pairs = malloc(base->n * sizeof(ax_label_t));
	if (b->pairs == NULL) {
		b->oom = 1;
		return;
	}
	memcpy(b->pairs, base->l, base->n * sizeof(ax_label_t));
	b->n = b->cap = base->n;
}

void ax_labels_builder_fini(ax_labels_builder_t *b)
{
	free(b->pairs);
	b->pairs = NULL;
	b->n = b->cap = 0;
}

void ax_labels_builder_del(ax_labels_builder_t *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (strcmp(b->pairs[i].name, name) == 0) {
			b->pairs[i] = b->pairs[--b->n];
			return;
		}
	}
}

void ax_labels_builder_set(
    ax_labels_builder_t *b, const char *name, const char *value)
{
	size_t i;

	if (value == NULL || value[0] == '\0') {
		ax_labels_builder_del(b, name);
		return;
	}
	for (i = 0; i < b->n; i++) {
		if (strcmp(b->pairs[i].name, name) == 0) {
			b->pairs[i].value = value;
			return;
		}
	}
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 8;
		ax_label_t *np = realloc(b->pairs, nc * sizeof(*np));

		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->pairs = np;
		b->cap = nc;
	}
	b->pairs[b->n].name = name;
	b->pairs[b->n].value = value;
	b->n++;
}

int ax_labels_builder_build(
    ax_labels_builder_t *b, ax_labels_t **out, ax_err_t *err)
{
	if (b->oom)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	return ax_labels_new(b->pairs, b->n, out, err);
}

/* ---- interner ---- */

typedef struct intern_ent {
	uint64_t hash;
	uint32_t refs;
	uint32_t len;
	char s[];
} intern_ent_t;

struct ax_intern {
	pthread_mutex_t mu;
	intern_ent_t **slots; /* open addressing, linear probing */
	size_t cap;           /* power of two */
	size_t count;
	size_t tombs;
};

#define TOMB ((intern_ent_t *)(uintptr_t)1)

ax_intern_t *ax_intern_new(void)
{
	ax_intern_t *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return NULL;
	in->cap = 1024;
	in->slots = calloc(in->cap, sizeof(*in->slots));
	if (in->slots == NULL) {
		free(in);
		return NULL;
	}
	pthread_mutex_init(&in->mu, NULL);
	return in;
}

void ax_intern_free(ax_intern_t *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->cap; i++)
		if (in->slots[i] && in->slots[i] != TOMB)
			free(in->slots[i]);
	free(in->slots);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

static int intern_grow(ax_intern_t *in)
{
	/* Rehash: double when live entries fill half, else just drop tombs. */
	size_t ncap = in->count * 2 >= in->cap / 2 ? in->cap * 2 : in->cap, i;
	intern_ent_t **ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return AX_ENOMEM;
	for (i = 0; i < in->cap; i++) {
		intern_ent_t *e = in->slots[i];
		size_t j;

		if (e == NULL || e == TOMB)
			continue;
		for (j = e->hash & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
			;
		ns[j] = e;
	}
	free(in->slots);
	in->slots = ns;
	in->cap = ncap;
	in->tombs = 0;
	return 0;
}

const char *ax_intern_get(ax_intern_t *in, const char *s, size_t n)
{
	uint64_t h = XXH3_64bits(s, n);
	size_t j, tomb = SIZE_MAX;
	intern_ent_t *e;

	if (n > UINT32_MAX)
		return NULL;
	pthread_mutex_lock(&in->mu);
	if ((in->count + in->tombs + 1) * 4 > in->cap * 3 &&
	    intern_grow(in) != 0) {
		pthread_mutex_unlock(&in->mu);
		return NULL;
	}
	for (j = h & (in->cap - 1); (e = in->slots[j]) != NULL;
	     j = (j + 1) & (in->cap - 1)) {
		if (e == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = j;
			continue;
		}
		if (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0) {
			e->refs++;
			pthread_mutex_unlock(&in->mu);
			return e->s;
		}
	}
	e = malloc(sizeof(*e) + n + 1);
	if (e == NULL) {
		pthread_mutex_unlock(&in->mu);
		return NULL;
	}
	e->hash = h;
	e->refs = 1;
	e->len = (uint32_t)n;
	memcpy(e->s, s, n);
	e->s[n] = '\0';
	if (tomb != SIZE_MAX) {
		j = tomb;
		in->tombs--;
	}
	in->slots[j] = e;
	in->count++;
	pthread_mutex_unlock(&in->mu);
	return e->s;
}

static intern_ent_t *ent_of(const char *s)
{
	return (intern_ent_t *)(uintptr_t)(s - offsetof(intern_ent_t, s));
}

void ax_intern_hold(ax_intern_t *in, const char *s)
{
	pthread_mutex_lock(&in->mu);
	ent_of(s)->refs++;
	pthread_mutex_unlock(&in->mu);
}

void ax_intern_release(ax_intern_t *in, const char *s)
{
	intern_ent_t *e;
	size_t j;

	if (s == NULL)
		return;
	e = ent_of(s);
	pthread_mutex_lock(&in->mu);
	if (--e->refs > 0) {
		pthread_mutex_unlock(&in->mu);
		return;
	}
	for (j = e->hash & (in->cap - 1); in->slots[j];
	     j = (j + 1) & (in->cap - 1)) {
		if (in->slots[j] == e) {
			in->slots[j] = TOMB;
			in->tombs++;
			break;
		}
	}
	in->count--;
	pthread_mutex_unlock(&in->mu);
	free(e);
}

size_t ax_intern_count(ax_intern_t *in)
{
	size_t n;

	pthread_mutex_lock(&in->mu);
	n = in->count;
	pthread_mutex_unlock(&in->mu);
	return n;
}

void ax_labels_put_json(const ax_labels_t *ls, ax_buf_t *b)
{
	uint32_t i;

	ax_buf_putc(b, '{');
	for (i = 0; ls && i < ls->n; i++) {
		if (i)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, ls->l[i].name);
		ax_buf_putc(b, ':');
		ax_buf_put_json_str(b, ls->l[i].value);
	}
	ax_buf_putc(b, '}');
}

void ax_label_name_sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		        (*s >= '0' && *s <= '9') || *s == '_'))
			*s = '_';
}
