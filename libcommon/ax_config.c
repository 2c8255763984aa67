/*
 * ax_config: strict YAML decoding with file:line:col errors (see
 * ax_config.h).
 */
#include "ax_config.h"
#include "ax_log.h"
#include "ax_units.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONFIG_BYTES (64 * 1024 * 1024)

int ax_cfg_errorf(ax_cfg_t *c, yaml_node_t *node, const char *path,
    ax_err_t *err, const char *fmt, ...)
{
	char msg[AX_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node)
		return ax_err_set(err, AX_ECONFIG, "%s:%zu:%zu: %s%s%s",
		    c->file, node->start_mark.line + 1,
		    node->start_mark.column + 1, path && *path ? path : "",
		    path && *path ? ": " : "", msg);
	return ax_err_set(err, AX_ECONFIG, "%s: %s%s%s", c->file,
	    path && *path ? path : "", path && *path ? ": " : "", msg);
}

/* libyaml does not reject duplicate keys; Prometheus does. */
static int check_dups(ax_cfg_t *c, yaml_node_t *node, int depth, ax_err_t *err)
{
	yaml_node_pair_t *p, *q;
	yaml_node_item_t *it;

	if (depth > 64)
		return ax_cfg_errorf(c, node, "", err, "nesting too deep");
	if (node->type == YAML_MAPPING_NODE) {
		for (p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k =
			    yaml_document_get_node(&c->doc, p->key);
			yaml_node_t *v =
			    yaml_document_get_node(&c->doc, p->value);
			int rv;

			if (k == NULL || v == NULL)
				continue;
			if (k->type != YAML_SCALAR_NODE)
				return ax_cfg_errorf(c, k, "", err,
				    "mapping keys must be scalars");
			for (q = node->data.mapping.pairs.start; q < p; q++) {
				yaml_node_t *k2 =
				    yaml_document_get_node(&c->doc, q->key);

				if (k2 && k2->type == YAML_SCALAR_NODE &&
				    k2->data.scalar.length ==
				        k->data.scalar.length &&
				    memcmp(k2->data.scalar.value,
				        k->data.scalar.value,
				        k->data.scalar.length) == 0)
					return ax_cfg_errorf(c, k, "", err,
					    "mapping key \"%s\" already "
					    "defined at line %zu",
					    (char *)k->data.scalar.value,
					    k2->start_mark.line + 1);
			}
			if ((rv = check_dups(c, v, depth + 1, err)) != 0)
				return rv;
		}
	} else if (node->type == YAML_SEQUENCE_NODE) {
		for (it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++) {
			yaml_node_t *v = yaml_document_get_node(&c->doc, *it);
			int rv;

			if (v && (rv = check_dups(c, v, depth + 1, err)) != 0)
				return rv;
		}
	}
	return 0;
}

int ax_cfg_load_string(
    ax_cfg_t *c, const char *name, const char *text, size_t len, ax_err_t *err)
{
	yaml_parser_t parser;
	yaml_node_t *root;

	memset(c, 0, sizeof(*c));
	c->file = strdup(name);
	if (c->file == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((c->text = malloc(len + 1)) == NULL) {
		ax_cfg_fini(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	c->text_len = len;
	if (!yaml_parser_initialize(&parser)) {
		ax_cfg_fini(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &c->doc)) {
		size_t line = parser.problem_mark.line + 1;
		size_t col = parser.problem_mark.column + 1;

		if (parser.context_mark.line < parser.problem_mark.line &&
		    parser.problem_mark.line > 0 && parser.problem == NULL) {
			line = parser.context_mark.line + 1;
			col = parser.context_mark.column + 1;
		}
		ax_err_set(err, AX_ECONFIG, "%s:%zu:%zu: yaml: %s%s%s", name,
		    line, col, parser.problem ? parser.problem : "syntax error",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		ax_cfg_fini(c);
		return AX_ECONFIG;
	}
	yaml_parser_delete(&parser);
	c->loaded = 1;
	root = yaml_document_get_root_node(&c->doc);
	if (root) {
		int rv = check_dups(c, root, 0, err);

		if (rv) {
			ax_cfg_fini(c);
			return rv;
		}
	}
	return 0;
}

int ax_cfg_load_file(ax_cfg_t *c, const char *path, ax_err_t *err)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rv;

	f = fopen(path, "rb");
	if (f == NULL)
		return ax_err_set(err, AX_ECONFIG, "%s: cannot open: %s", path,
		    strerror(errno));
	for (;;) {
		size_t got;

		if (len + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nt;

			if (ncap > MAX_CONFIG_BYTES) {
				fclose(f);
				free(text);
				return ax_err_set(err, AX_ECONFIG,
				    "%s: file larger than %d bytes", path,
				    MAX_CONFIG_BYTES);
			}
			nt = realloc(text, ncap);
			if (nt == NULL) {
				fclose(f);
				free(text);
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			}
			text = nt;
			cap = ncap;
		}
		got = fread(text + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(text);
		return ax_err_set(err, AX_ECONFIG, "%s: read error", path);
	}
	fclose(f);
	text[len] = '\0';
	rv = ax_cfg_load_string(c, path, text, len, err);
	free(text);
	return rv;
}

void ax_cfg_fini(ax_cfg_t *c)
{
	if (c == NULL)
		return;
	if (c->loaded)
		yaml_document_delete(&c->doc);
	c->loaded = 0;
	free(c->file);
	c->file = NULL;
	free(c->text);
	c->text = NULL;
	c->text_len = 0;
}

int ax_cfg_node_text(ax_cfg_t *c, yaml_node_t *node, char **out)
{
	size_t a, b, col;
	char *s;

	*out = NULL;
	if (c->text == NULL || node == NULL)
		return AX_EINVAL;
	a = node->start_mark.index;
	b = node->end_mark.index;
	col = node->start_mark.column;
	if (a > b || b > c->text_len)
		return AX_EINVAL;
	if ((s = malloc(col + (b - a) + 2)) == NULL)
		return AX_ENOMEM;
	memset(s, ' ', col);
	memcpy(s + col, c->text + a, b - a);
	s[col + (b - a)] = '\n';
	s[col + (b - a) + 1] = '\0';
	*out = s;
	return 0;
}

yaml_node_t *ax_cfg_root(ax_cfg_t *c)
{
	if (!c->loaded)
		return NULL;
	return yaml_document_get_root_node(&c->doc);
}

const char *ax_cfg_scalar(yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

int ax_cfg_is_null(yaml_node_t *node)
{
	const char *s;

	if (node == NULL)
		return 1;
	if (node->type != YAML_SCALAR_NODE)
		return 0;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)node->data.scalar.value;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *kind_name(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "!!map";
	case YAML_SEQUENCE_NODE: return "!!seq";
	default: return "!!str";
	}
}

static void join_path(char *out, size_t cap, const char *path, const char *key)
{
	if (path && *path)
		snprintf(out, cap, "%s.%s", path, key);
	else
		snprintf(out, cap, "%s", key);
}

static int need_scalar(ax_cfg_t *c, yaml_node_t *n, const char *path,
    const char *want, ax_err_t *err)
{
	if (n->type != YAML_SCALAR_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal %s into %s", kind_name(n), want);
	return 0;
}

int ax_cfg_get_string(
    ax_cfg_t *c, yaml_node_t *n, const char *path, char **out, ax_err_t *err)
{
	char *s;
	int rv;

	if ((rv = need_scalar(c, n, path, "string", err)) != 0)
		return rv;
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		return ax_cfg_errorf(
		    c, n, path, err, "string contains a NUL byte");
	s = strdup((char *)n->data.scalar.value);
	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	*out = s;
	return 0;
}

int ax_cfg_get_duration(
    ax_cfg_t *c, yaml_node_t *n, const char *path, int64_t *out, ax_err_t *err)
{
	ax_err_t e;
	int rv;

	if ((rv = need_scalar(c, n, path, "duration", err)) != 0)
		return rv;
	if (ax_duration_parse((char *)n->data.scalar.value, out, &e) != 0)
		return ax_cfg_errorf(c, n, path, err, "%s", e.msg);
	return 0;
}

static int decode_bool(
    ax_cfg_t *c, yaml_node_t *n, const char *path, int *out, ax_err_t *err)
{
	static const char *t[] = {"true", "yes", "on", "y"};
	static const char *f[] = {"false", "no", "off", "n"};
	const char *s;
	size_t i;
	int rv;

	if ((rv = need_scalar(c, n, path, "bool", err)) != 0)
		return rv;
	s = (const char *)n->data.scalar.value;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return ax_cfg_errorf(
	    c, n, path, err, "cannot unmarshal \"%s\" into bool", s);
}

static int decode_int(
    ax_cfg_t *c, yaml_node_t *n, const char *path, int64_t *out, ax_err_t *err)
{
	const char *s;
	char *end;
	long long v;
	int rv;

	if ((rv = need_scalar(c, n, path, "int", err)) != 0)
		return rv;
	s = (const char *)n->data.scalar.value;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno == ERANGE)
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal \"%s\" into an integer", s);
	*out = v;
	return 0;
}

static int decode_float(
    ax_cfg_t *c, yaml_node_t *n, const char *path, double *out, ax_err_t *err)
{
	const char *s;
	char *end;
	double v;
	int rv;

	if ((rv = need_scalar(c, n, path, "float", err)) != 0)
		return rv;
	s = (const char *)n->data.scalar.value;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isnan(v))
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal \"%s\" into a number", s);
	*out = v;
	return 0;
}

static int decode_labels(ax_cfg_t *c, yaml_node_t *n, const char *path,
    ax_labels_t **out, ax_err_t *err)
{
	yaml_node_pair_t *p;
	ax_label_t *pairs;
	size_t np = 0, cnt;
	ax_labels_t *ls;
	ax_err_t e;
	int rv;

	if (n->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal %s into a label set (want a map)",
		    kind_name(n));
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	pairs = calloc(cnt ? cnt : 1, sizeof(*pairs));
	if (pairs == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		const char *ks = ax_cfg_scalar(k);
		char sub[512];

		join_path(sub, sizeof(sub), path, ks ? ks : "?");
		if (v->type != YAML_SCALAR_NODE) {
			free(pairs);
			return ax_cfg_errorf(c, v, sub, err,
			    "cannot unmarshal %s into a label value",
			    kind_name(v));
		}
		if (!ax_label_name_valid(ks, strlen(ks))) {
			free(pairs);
			return ax_cfg_errorf(c, k, path, err,
			    "\"%s\" is not a valid label name", ks);
		}
		if (!ax_utf8_valid(
		        (char *)v->data.scalar.value, v->data.scalar.length)) {
			free(pairs);
			return ax_cfg_errorf(
			    c, v, sub, err, "label value is not valid UTF-8");
		}
		pairs[np].name = ks;
		pairs[np].value =
		    ax_cfg_is_null(v) ? "" : (char *)v->data.scalar.value;
		np++;
	}
	rv = ax_labels_new(pairs, np, &ls, &e);
	free(pairs);
	if (rv)
		return ax_cfg_errorf(c, n, path, err, "%s", e.msg);
	*out = ls;
	return 0;
}

static int decode_strings(ax_cfg_t *c, yaml_node_t *n, const char *path,
    ax_cfg_strings_t *out, ax_err_t *err)
{
	yaml_node_item_t *it;
	size_t cnt, i = 0;
	char **v;
	int rv;

	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal %s into a list of strings", kind_name(n));
	cnt =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (v == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
		char sub[512];

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((rv = ax_cfg_get_string(c, e, sub, &v[i], err)) != 0) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return rv;
		}
	}
	out->v = v;
	out->n = cnt;
	return 0;
}

static void free_field(const ax_cfg_field_t *f, void *base);

static int decode_list(ax_cfg_t *c, yaml_node_t *n, const char *path,
    const ax_cfg_field_t *f, ax_cfg_list_t *out, ax_err_t *err)
{
	yaml_node_item_t *it;
	size_t cnt, i = 0;
	char *items;
	int rv;

	if (n->type != YAML_SEQUENCE_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "cannot unmarshal %s into a list", kind_name(n));
	cnt =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	items = calloc(cnt ? cnt : 1, f->elem_size);
	if (items == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
		void *dst = items + i * f->elem_size;
		char sub[512];

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (f->elem_init)
			f->elem_init(dst);
		if (f->fields)
			rv = ax_cfg_decode(c, e, sub, f->fields, dst, err);
		else
			rv = f->decode(c, e, sub, dst, err);
		if (rv) {
			size_t k;

			for (k = 0; k <= i; k++) {
				if (f->fields)
					ax_cfg_free_fields(f->fields,
					    items + k * f->elem_size);
				else if (f->free_fn)
					f->free_fn(items + k * f->elem_size);
			}
			free(items);
			return rv;
		}
	}
	out->items = items;
	out->n = cnt;
	return 0;
}

static int decode_field(ax_cfg_t *c, yaml_node_t *v, const char *sub,
    const ax_cfg_field_t *f, void *base, ax_err_t *err)
{
	void *dst = (char *)base + f->offset;
	ax_err_t e;
	int rv;

	if (f->type != AX_CFG_SKIP && f->type != AX_CFG_IGNORE &&
	    ax_cfg_is_null(v))
		return 0; /* keep the default */
	if (f->type != AX_CFG_SECTION)
		free_field(f, base); /* a default may hold memory */
	switch (f->type) {
	case AX_CFG_STRING:
		if ((rv = ax_cfg_get_string(c, v, sub, (char **)dst, err)) != 0)
			return rv;
		if ((f->flags & AX_CFG_NONEMPTY) && **(char **)dst == '\0')
			return ax_cfg_errorf(
			    c, v, sub, err, "must not be empty");
		return 0;
	case AX_CFG_BOOL: return decode_bool(c, v, sub, (int *)dst, err);
	case AX_CFG_INT:
		if ((rv = decode_int(c, v, sub, (int64_t *)dst, err)) != 0)
			return rv;
		if ((f->flags & AX_CFG_POSITIVE) && *(int64_t *)dst <= 0)
			return ax_cfg_errorf(
			    c, v, sub, err, "must be greater than 0");
		if (*(int64_t *)dst < 0)
			return ax_cfg_errorf(
			    c, v, sub, err, "must not be negative");
		return 0;
	case AX_CFG_FLOAT: return decode_float(c, v, sub, (double *)dst, err);
	case AX_CFG_DURATION:
		if ((rv = ax_cfg_get_duration(
		         c, v, sub, (int64_t *)dst, err)) != 0)
			return rv;
		if ((f->flags & AX_CFG_POSITIVE) && *(int64_t *)dst <= 0)
			return ax_cfg_errorf(
			    c, v, sub, err, "must be greater than 0");
		return 0;
	case AX_CFG_SIZE:
		if ((rv = need_scalar(c, v, sub, "size", err)) != 0)
			return rv;
		if (ax_size_parse(
		        (char *)v->data.scalar.value, (int64_t *)dst, &e))
			return ax_cfg_errorf(c, v, sub, err, "%s", e.msg);
		return 0;
	case AX_CFG_REGEX:
		if ((rv = need_scalar(c, v, sub, "regex", err)) != 0)
			return rv;
		if (ax_regex_compile(
		        (char *)v->data.scalar.value, (ax_regex_t **)dst, &e))
			return ax_cfg_errorf(c, v, sub, err, "%s", e.msg);
		return 0;
	case AX_CFG_LABELS:
		return decode_labels(c, v, sub, (ax_labels_t **)dst, err);
	case AX_CFG_STRINGS:
		return decode_strings(c, v, sub, (ax_cfg_strings_t *)dst, err);
	case AX_CFG_SECTION:
		return ax_cfg_decode(c, v, sub, f->fields, dst, err);
	case AX_CFG_LIST:
		return decode_list(c, v, sub, f, (ax_cfg_list_t *)dst, err);
	case AX_CFG_CUSTOM: return f->decode(c, v, sub, dst, err);
	case AX_CFG_SKIP:
		if (!c->quiet)
			ax_log_info("skipping configuration section owned by "
			            "another daemon",
			    "section", sub, "owner",
			    f->owner ? f->owner : "another daemon", "file",
			    c->file);
		return 0;
	case AX_CFG_IGNORE: return 0;
	}
	return ax_err_set(err, AX_EINTERNAL, "bad field type");
}

int ax_cfg_decode(ax_cfg_t *c, yaml_node_t *node, const char *path,
    const ax_cfg_field_t *fields, void *base, ax_err_t *err)
{
	yaml_node_pair_t *p;
	const ax_cfg_field_t *f;
	int rv;

	if (ax_cfg_is_null(node)) {
		for (f = fields; f->name; f++)
			if (f->flags & AX_CFG_REQUIRED)
				return ax_cfg_errorf(c, node, path, err,
				    "missing required field \"%s\"", f->name);
		return 0;
	}
	if (node->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(c, node, path, err,
		    "cannot unmarshal %s into a section (want a map)",
		    kind_name(node));
	for (p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		const char *ks = ax_cfg_scalar(k);
		char sub[512];

		for (f = fields; f->name; f++)
			if (strcmp(f->name, ks) == 0)
				break;
		join_path(sub, sizeof(sub), path, ks);
		if (f->name == NULL)
			return ax_cfg_errorf(c, k, sub, err,
			    "unknown field (not valid in %s)",
			    path && *path ? path : "the top level");
		if ((rv = decode_field(c, v, sub, f, base, err)) != 0)
			return rv;
	}
	for (f = fields; f->name; f++) {
		if (!(f->flags & AX_CFG_REQUIRED))
			continue;
		for (p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k =
			    yaml_document_get_node(&c->doc, p->key);
			yaml_node_t *v =
			    yaml_document_get_node(&c->doc, p->value);

			if (strcmp(ax_cfg_scalar(k), f->name) == 0 &&
			    !ax_cfg_is_null(v))
				break;
		}
		if (p == node->data.mapping.pairs.top)
			return ax_cfg_errorf(c, node, path, err,
			    "missing required field \"%s\"", f->name);
	}
	return 0;
}

void ax_cfg_strings_free(ax_cfg_strings_t *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int ax_cfg_strings_copy(ax_cfg_strings_t *dst, const ax_cfg_strings_t *src)
{
	size_t i;

	dst->n = 0;
	dst->v = calloc(src->n ? src->n : 1, sizeof(char *));
	if (dst->v == NULL)
		return AX_ENOMEM;
	for (i = 0; i < src->n; i++) {
		if ((dst->v[i] = strdup(src->v[i])) == NULL)
			return AX_ENOMEM;
		dst->n = i + 1;
	}
	return 0;
}

static void free_field(const ax_cfg_field_t *f, void *base)
{
	void *dst = (char *)base + f->offset;

	switch (f->type) {
	case AX_CFG_STRING:
		free(*(char **)dst);
		*(char **)dst = NULL;
		break;
	case AX_CFG_REGEX:
		ax_regex_free(*(ax_regex_t **)dst);
		*(ax_regex_t **)dst = NULL;
		break;
	case AX_CFG_LABELS:
		ax_labels_free(*(ax_labels_t **)dst);
		*(ax_labels_t **)dst = NULL;
		break;
	case AX_CFG_STRINGS: ax_cfg_strings_free(dst); break;
	case AX_CFG_SECTION: ax_cfg_free_fields(f->fields, dst); break;
	case AX_CFG_LIST: {
		ax_cfg_list_t *l = dst;
		size_t i;

		for (i = 0; i < l->n; i++) {
			void *it = (char *)l->items + i * f->elem_size;

			if (f->fields)
				ax_cfg_free_fields(f->fields, it);
			else if (f->free_fn)
				f->free_fn(it);
		}
		free(l->items);
		l->items = NULL;
		l->n = 0;
		break;
	}
	case AX_CFG_CUSTOM:
		if (f->free_fn)
			f->free_fn(dst);
		break;
	default: break;
	}
}

void ax_cfg_free_fields(const ax_cfg_field_t *fields, void *base)
{
	const ax_cfg_field_t *f;

	if (base == NULL || fields == NULL)
		return;
	for (f = fields; f->name; f++)
		free_field(f, base);
}

/* ---- Prometheus' global section ---- */

const ax_cfg_field_t ax_prom_global_fields[] = {
    {.name = "scrape_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ax_prom_global_t, scrape_interval_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "scrape_timeout",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ax_prom_global_t, scrape_timeout_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "evaluation_interval",
        .type = AX_CFG_DURATION,
        .offset = offsetof(ax_prom_global_t, evaluation_interval_ms),
        .flags = AX_CFG_POSITIVE},
    {.name = "query_log_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_prom_global_t, query_log_file)},
    {.name = "external_labels",
        .type = AX_CFG_LABELS,
        .offset = offsetof(ax_prom_global_t, external_labels)},
    {0},
};

void ax_prom_global_init(ax_prom_global_t *g)
{
	memset(g, 0, sizeof(*g));
	g->scrape_interval_ms = 60000;
	g->scrape_timeout_ms = -1; /* unset: 10s, at most scrape_interval */
	g->evaluation_interval_ms = 60000;
}

int ax_prom_global_check(ax_cfg_t *c, ax_prom_global_t *g, ax_err_t *err)
{
	/* Prometheus: an unset scrape_timeout is 10s, or the interval when
	 * that is shorter */
	if (g->scrape_timeout_ms < 0)
		g->scrape_timeout_ms = g->scrape_interval_ms < 10000
		    ? g->scrape_interval_ms
		    : 10000;
	if (g->scrape_timeout_ms > g->scrape_interval_ms) {
		char a[32], b[32];

		ax_duration_format(g->scrape_timeout_ms, a, sizeof(a));
		ax_duration_format(g->scrape_interval_ms, b, sizeof(b));
		return ax_cfg_errorf(c, NULL, "global", err,
		    "global scrape timeout (%s) greater than scrape interval "
		    "(%s)",
		    a, b);
	}
	return 0;
}

int ax_cfg_check_nng_addr(const char *addr, ax_err_t *err)
{
	const char *rest;

	if (strncmp(addr, "tcp://", 6) == 0) {
		const char *colon;
		char *end;
		long port;

		rest = addr + 6;
		colon = strrchr(rest, ':');
		if (colon == NULL || colon == rest)
			return ax_err_set(err, AX_EINVAL,
			    "\"%s\": want tcp://host:port", addr);
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || end == colon + 1 || port < 0 ||
		    port > 65535)
			return ax_err_set(err, AX_EINVAL,
			    "\"%s\": bad port (want 0-65535)", addr);
		return 0;
	}
	if (strncmp(addr, "ipc://", 6) == 0 && addr[6] != '\0')
		return 0;
	if (strncmp(addr, "inproc://", 9) == 0 && addr[9] != '\0')
		return 0;
	return ax_err_set(err, AX_EINVAL,
	    "\"%s\": not an nng address (want tcp://host:port, ipc:///path or "
	    "inproc://name)",
	    addr);
}

int ax_cfg_decode_nng_addr(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	char *s;
	ax_err_t e;
	int rv;

	if ((rv = ax_cfg_get_string(c, n, path, &s, err)) != 0)
		return rv;
	if (ax_cfg_check_nng_addr(s, &e) != 0) {
		free(s);
		return ax_cfg_errorf(c, n, path, err, "%s", e.msg);
	}
	free(*(char **)dst);
	*(char **)dst = s;
	return 0;
}

void ax_cfg_free_str(void *dst)
{
	free(*(char **)dst);
	*(char **)dst = NULL;
}
