/*
 * ax_relabel: Prometheus relabeling (see ax_relabel.h).
 */
#include "ax_relabel.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ax_buf.h"

/* ---- MD5 (RFC 1321) ---- */

typedef struct md5 {
	uint32_t a, b, c, d;
	uint64_t len;
	uint8_t buf[64];
	size_t n;
} md5_t;

static const uint32_t md5_k[64] = {0xd76aa478, 0xe8c7b756, 0x242070db,
    0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
    0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e,
    0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
    0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942,
    0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60,
    0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
    0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7,
    0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1, 0x6fa87e4f,
    0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};
static const uint8_t md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17,
    22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
    20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
    15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(md5_t *m, const uint8_t *p)
{
	uint32_t w[16], a = m->a, b = m->b, c = m->c, d = m->d;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
		    (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, t;
		int g;

		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		t = d;
		d = c;
		c = b;
		f = f + a + md5_k[i] + w[g];
		b = b + ((f << md5_r[i]) | (f >> (32 - md5_r[i])));
		a = t;
	}
	m->a += a;
	m->b += b;
	m->c += c;
	m->d += d;
}

static void md5_update(md5_t *m, const uint8_t *p, size_t n)
{
	m->len += n;
	while (n > 0) {
		size_t k = 64 - m->n < n ? 64 - m->n : n;

		memcpy(m->buf + m->n, p, k);
		m->n += k;
		p += k;
		n -= k;
		if (m->n == 64) {
			md5_block(m, m->buf);
			m->n = 0;
		}
	}
}

void ax_md5(const void *data, size_t n, uint8_t out[16])
{
	md5_t m = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0, {0}, 0};
	uint8_t pad[72] = {0x80};
	uint64_t bits;
	size_t padlen;
	uint32_t v[4];
	int i;

	md5_update(&m, data, n);
	bits = m.len * 8;
	padlen = m.n < 56 ? 56 - m.n : 120 - m.n;
	md5_update(&m, pad, padlen);
	for (i = 0; i < 8; i++)
		pad[i] = (uint8_t)(bits >> (8 * i));
	md5_update(&m, pad, 8);
	v[0] = m.a;
	v[1] = m.b;
	v[2] = m.c;
	v[3] = m.d;
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(v[i / 4] >> (8 * (i % 4)));
}

/* ---- configuration ---- */

static const struct {
	const char *name;
	ax_relabel_action_t a;
} actions[] = {
    {"replace", AX_RL_REPLACE},
    {"keep", AX_RL_KEEP},
    {"drop", AX_RL_DROP},
    {"hashmod", AX_RL_HASHMOD},
    {"labelmap", AX_RL_LABELMAP},
    {"labeldrop", AX_RL_LABELDROP},
    {"labelkeep", AX_RL_LABELKEEP},
    {"lowercase", AX_RL_LOWERCASE},
    {"uppercase", AX_RL_UPPERCASE},
    {"keepequal", AX_RL_KEEPEQUAL},
    {"dropequal", AX_RL_DROPEQUAL},
};

typedef struct raw_rule {
	ax_cfg_strings_t source;
	char *separator;
	char *target;
	char *regex;
	int64_t modulus;
	char *replacement;
	char *action;
} raw_rule_t;

static const ax_cfg_field_t raw_fields[] = {
    {.name = "source_labels",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(raw_rule_t, source)},
    {.name = "separator",
        .type = AX_CFG_STRING,
        .offset = offsetof(raw_rule_t, separator)},
    {.name = "target_label",
        .type = AX_CFG_STRING,
        .offset = offsetof(raw_rule_t, target)},
    {.name = "regex",
        .type = AX_CFG_STRING,
        .offset = offsetof(raw_rule_t, regex)},
    {.name = "modulus",
        .type = AX_CFG_INT,
        .offset = offsetof(raw_rule_t, modulus)},
    {.name = "replacement",
        .type = AX_CFG_STRING,
        .offset = offsetof(raw_rule_t, replacement)},
    {.name = "action",
        .type = AX_CFG_STRING,
        .offset = offsetof(raw_rule_t, action)},
    {0},
};

static void rule_fini(ax_relabel_t *r)
{
	size_t i;

	for (i = 0; i < r->n_source; i++)
		free(r->source[i]);
	free(r->source);
	free(r->separator);
	free(r->target);
	ax_regex_free(r->regex);
	free(r->replacement);
	memset(r, 0, sizeof(*r));
}

void ax_relabel_free(void *dst)
{
	ax_relabels_t *l = dst;
	size_t i;

	for (i = 0; i < l->n; i++)
		rule_fini(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Prometheus' relabelTarget: names with ${1}/$name references. */
static int valid_target(const char *s)
{
	const char *p = s;

	if (*p == '\0')
		return 0;
	while (*p) {
		if (*p == '$') {
			p++;
			if (*p == '{') {
				const char *q = ++p;

				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				if (p == q || *p != '}')
					return 0;
				p++;
			} else {
				const char *q = p;

				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				if (p == q)
					return 0;
			}
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			p++;
		} else if (isdigit((unsigned char)*p) && p != s) {
			p++;
		} else {
			return 0;
		}
	}
	return 1;
}

static int check_rule(ax_cfg_t *c, yaml_node_t *n, const char *path,
    const raw_rule_t *raw, ax_relabel_t *r, ax_err_t *err)
{
	ax_relabel_action_t a = r->action;
	const char *an = actions[a].name;
	const char *t = r->target;
	int is_default_regex = raw->regex && strcmp(raw->regex, "(.*)") == 0;
	size_t i;

	for (i = 0; i < r->n_source; i++)
		if (!ax_label_name_valid(r->source[i], strlen(r->source[i])))
			return ax_cfg_errorf(c, n, path, err,
			    "\"%s\" is not a valid label name", r->source[i]);
	if (a == AX_RL_HASHMOD && r->modulus == 0)
		return ax_cfg_errorf(c, n, path, err,
		    "relabel configuration for hashmod requires non-zero "
		    "modulus");
	if ((a == AX_RL_REPLACE || a == AX_RL_HASHMOD || a == AX_RL_LOWERCASE ||
	        a == AX_RL_UPPERCASE || a == AX_RL_KEEPEQUAL ||
	        a == AX_RL_DROPEQUAL) &&
	    *t == '\0')
		return ax_cfg_errorf(c, n, path, err,
		    "relabel configuration for %s action requires "
		    "'target_label' value",
		    an);
	if ((a == AX_RL_REPLACE || a == AX_RL_LOWERCASE ||
	        a == AX_RL_UPPERCASE || a == AX_RL_KEEPEQUAL ||
	        a == AX_RL_DROPEQUAL) &&
	    !valid_target(t))
		return ax_cfg_errorf(c, n, path, err,
		    "\"%s\" is invalid 'target_label' for %s action", t, an);
	if ((a == AX_RL_LOWERCASE || a == AX_RL_UPPERCASE ||
	        a == AX_RL_KEEPEQUAL || a == AX_RL_DROPEQUAL ||
	        a == AX_RL_HASHMOD) &&
	    !ax_label_name_valid(t, strlen(t)))
		return ax_cfg_errorf(c, n, path, err,
		    "\"%s\" is invalid 'target_label' for %s action", t, an);
	if ((a == AX_RL_KEEPEQUAL || a == AX_RL_DROPEQUAL) &&
	    (!is_default_regex || r->modulus != 0 ||
	        strcmp(r->separator, ";") != 0 ||
	        strcmp(r->replacement, "$1") != 0))
		return ax_cfg_errorf(c, n, path, err,
		    "%s action requires only 'source_labels' and "
		    "`target_label`, and no other fields",
		    an);
	if ((a == AX_RL_LABELDROP || a == AX_RL_LABELKEEP) &&
	    (r->n_source > 0 || *t != '\0' || r->modulus != 0 ||
	        strcmp(r->separator, ";") != 0 ||
	        strcmp(r->replacement, "$1") != 0))
		return ax_cfg_errorf(c, n, path, err,
		    "%s action requires only 'regex', and no other fields", an);
	return 0;
}

static int decode_rule(ax_cfg_t *c, yaml_node_t *n, const char *path,
    ax_relabel_t *r, ax_err_t *err)
{
	raw_rule_t raw;
	ax_err_t e;
	size_t i;
	int rv;

	memset(&raw, 0, sizeof(raw));
	memset(r, 0, sizeof(*r));
	if ((rv = ax_cfg_decode(c, n, path, raw_fields, &raw, err)) != 0)
		goto out;
	r->separator = strdup(raw.separator ? raw.separator : ";");
	r->target = strdup(raw.target ? raw.target : "");
	r->replacement = strdup(raw.replacement ? raw.replacement : "$1");
	if (!r->separator || !r->target || !r->replacement) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	if (raw.regex == NULL && (raw.regex = strdup("(.*)")) == NULL) {
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		goto out;
	}
	if (ax_regex_compile(raw.regex, &r->regex, &e) != 0) {
		rv = ax_cfg_errorf(c, n, path, err, "%s", e.msg);
		goto out;
	}
	if (raw.action == NULL) {
		r->action = AX_RL_REPLACE;
	} else {
		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcasecmp(actions[i].name, raw.action) == 0)
				break;
		if (i == sizeof(actions) / sizeof(actions[0])) {
			rv = ax_cfg_errorf(c, n, path, err,
			    *raw.action ? "unknown relabel action \"%s\""
			                : "relabel action cannot be empty%s",
			    raw.action);
			goto out;
		}
		r->action = actions[i].a;
	}
	r->modulus = (uint64_t)raw.modulus;
	r->source = raw.source.v;
	r->n_source = raw.source.n;
	raw.source.v = NULL;
	raw.source.n = 0;
	rv = check_rule(c, n, path, &raw, r, err);
out:
	ax_cfg_free_fields(raw_fields, &raw);
	if (rv != 0)
		rule_fini(r);
	return rv;
}

int ax_relabel_decode(ax_cfg_t *c, yaml_node_t *node, const char *path,
    void *dst, ax_err_t *err)
{
	ax_relabels_t *l = dst, out = {NULL, 0};
	yaml_node_item_t *it;
	int rv;

	if (ax_cfg_is_null(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(
		    c, node, path, err, "expected a list of relabel configs");
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(&c->doc, *it);
		char sub[256];
		ax_relabel_t *nv;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, out.n);
		nv = realloc(out.v, (out.n + 1) * sizeof(*nv));
		if (nv == NULL) {
			ax_relabel_free(&out);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		out.v = nv;
		if ((rv = decode_rule(c, n, sub, &out.v[out.n], err)) != 0) {
			ax_relabel_free(&out);
			return rv;
		}
		out.n++;
	}
	ax_relabel_free(l);
	*l = out;
	return 0;
}

int ax_relabel_dup(const ax_relabels_t *in, ax_relabels_t *out, ax_err_t *err)
{
	size_t i, j;

	out->n = 0;
	out->v = calloc(in->n ? in->n : 1, sizeof(*out->v));
	if (out->v == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < in->n; i++) {
		const ax_relabel_t *s = &in->v[i];
		ax_relabel_t *d = &out->v[i];
		int bad = 0;

		out->n = i + 1;
		*d = *s;
		d->source = calloc(s->n_source ? s->n_source : 1, sizeof(char *));
		d->separator = strdup(s->separator);
		d->target = strdup(s->target);
		d->replacement = strdup(s->replacement);
		d->regex = NULL;
		if (!d->source || !d->separator || !d->target || !d->replacement)
			bad = 1;
		for (j = 0; !bad && j < s->n_source; j++)
			if ((d->source[j] = strdup(s->source[j])) == NULL)
				bad = 1;
		if (bad || ax_regex_compile(ax_regex_pattern(s->regex), &d->regex,
		               err) != 0) {
			ax_relabel_free(out);
			return bad ? ax_err_set(err, AX_ENOMEM, "out of memory")
			           : AX_ENOMEM;
		}
	}
	return 0;
}

/* ---- processing ---- */

/* Strings made by a rule, kept until the rule's label set is built. */
typedef struct strpool {
	char *s[256];
	size_t n;
} strpool_t;

static const char *pool_take(strpool_t *p, char *s)
{
	if (s == NULL || p->n == sizeof(p->s) / sizeof(p->s[0])) {
		free(s);
		return NULL;
	}
	p->s[p->n++] = s;
	return s;
}

static void pool_fini(strpool_t *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->s[i]);
	p->n = 0;
}

/* Expand tmpl with the match of re on s; 1 matched (*out set), 0 no
 * match, <0 error. */
static int expand(const ax_regex_t *re, const char *s, const char *tmpl,
    strpool_t *pool, const char **out)
{
	ax_buf_t b = AX_BUF_INIT;
	int m = ax_regex_expand(re, s, strlen(s), tmpl, &b);

	if (m != 1) {
		ax_buf_fini(&b);
		return m;
	}
	ax_buf_putc(&b, '\0');
	if (b.oom) {
		ax_buf_fini(&b);
		return AX_ENOMEM;
	}
	if ((*out = pool_take(pool, ax_buf_take(&b, NULL))) == NULL)
		return AX_ENOMEM;
	return 1;
}

static int match(const ax_regex_t *re, const char *s)
{
	return ax_regex_match(re, s, strlen(s));
}

/* One rule: 1 keep (*next built), 0 drop, <0 error. */
static int apply(const ax_relabel_t *r, const ax_labels_t *ls,
    ax_labels_t **next, ax_err_t *err)
{
	ax_labels_builder_t b;
	ax_buf_t val = AX_BUF_INIT;
	strpool_t pool;
	const char *v, *tgt, *res;
	size_t i;
	uint32_t k;
	int rv = 1, m;

	pool.n = 0;
	for (i = 0; i < r->n_source; i++) {
		const char *x = ax_labels_get(ls, r->source[i]);

		if (i)
			ax_buf_puts(&val, r->separator);
		ax_buf_puts(&val, x ? x : "");
	}
	ax_buf_putc(&val, '\0');
	if (val.oom) {
		ax_buf_fini(&val);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	v = val.p;
	ax_labels_builder_init(&b, ls);
	switch (r->action) {
	case AX_RL_DROP:
	case AX_RL_KEEP:
		if ((m = match(r->regex, v)) < 0) {
			rv = m;
			break;
		}
		if ((r->action == AX_RL_DROP) == (m == 1))
			rv = 0;
		break;
	case AX_RL_KEEPEQUAL:
	case AX_RL_DROPEQUAL: {
		const char *t = ax_labels_get(ls, r->target);
		int eq = strcmp(t ? t : "", v) == 0;

		if ((r->action == AX_RL_KEEPEQUAL) != eq)
			rv = 0;
		break;
	}
	case AX_RL_REPLACE:
		m = expand(r->regex, v, r->target, &pool, &tgt);
		if (m <= 0) {
			rv = m < 0 ? m : 1;
			break;
		}
		if (!ax_label_name_valid(tgt, strlen(tgt))) {
			ax_labels_builder_del(&b, r->target);
			break;
		}
		if ((m = expand(r->regex, v, r->replacement, &pool, &res)) < 0) {
			rv = m;
			break;
		}
		if (*res == '\0')
			ax_labels_builder_del(&b, r->target);
		else
			ax_labels_builder_set(&b, tgt, res);
		break;
	case AX_RL_LOWERCASE:
	case AX_RL_UPPERCASE: {
		char *s = strdup(v);

		if (s == NULL) {
			rv = AX_ENOMEM;
			break;
		}
		for (i = 0; s[i]; i++)
			s[i] = (char)(r->action == AX_RL_LOWERCASE
			        ? tolower((unsigned char)s[i])
			        : toupper((unsigned char)s[i]));
		if ((res = pool_take(&pool, s)) == NULL) {
			rv = AX_ENOMEM;
			break;
		}
		ax_labels_builder_set(&b, r->target, res);
		break;
	}
	case AX_RL_HASHMOD: {
		uint8_t h[16];
		uint64_t sum = 0;
		char num[32];

		ax_md5(v, strlen(v), h);
		for (i = 8; i < 16; i++)
			sum = sum << 8 | h[i];
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)(sum % r->modulus));
		if ((res = pool_take(&pool, strdup(num))) == NULL) {
			rv = AX_ENOMEM;
			break;
		}
		ax_labels_builder_set(&b, r->target, res);
		break;
	}
	case AX_RL_LABELMAP:
		for (k = 0; k < ls->n && rv == 1; k++) {
			m = expand(r->regex, ls->l[k].name, r->replacement, &pool,
			    &res);
			if (m < 0)
				rv = m;
			else if (m == 1)
				ax_labels_builder_set(&b, res, ls->l[k].value);
		}
		break;
	case AX_RL_LABELDROP:
	case AX_RL_LABELKEEP:
		for (k = 0; k < ls->n && rv == 1; k++) {
			m = match(r->regex, ls->l[k].name);
			if (m < 0)
				rv = m;
			else if ((r->action == AX_RL_LABELDROP) == (m == 1))
				ax_labels_builder_del(&b, ls->l[k].name);
		}
		break;
	}
	if (rv == 1 && ax_labels_builder_build(&b, next, err) != 0)
		rv = AX_ENOMEM;
	if (rv < 0 && rv != AX_ENOMEM)
		ax_err_set(err, rv, "relabel: regular expression \"%s\" failed "
		                    "(match limit)",
		    ax_regex_pattern(r->regex));
	else if (rv == AX_ENOMEM)
		ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_labels_builder_fini(&b);
	pool_fini(&pool);
	ax_buf_fini(&val);
	return rv;
}

int ax_relabel_process(const ax_relabels_t *r, const ax_labels_t *in,
    ax_labels_t **out, ax_err_t *err)
{
	ax_labels_t *cur = ax_labels_dup(in), *next = NULL;
	size_t i;
	int rv;

	*out = NULL;
	if (cur == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < r->n; i++) {
		rv = apply(&r->v[i], cur, &next, err);
		if (rv != 1) {
			ax_labels_free(cur);
			return rv;
		}
		ax_labels_free(cur);
		cur = next;
		next = NULL;
	}
	if (cur->n == 0) {
		ax_labels_free(cur);
		return 0;
	}
	*out = cur;
	return 1;
}
