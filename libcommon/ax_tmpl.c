/*
 * ax_tmpl: Go text/template (see ax_tmpl.h).
 *
 * Layout: arena and values; the lexer (a pull lexer over the source, one
 * token at a time, remembering whether a token followed a space); the
 * parser, building a tree of nodes; the executor, walking it.
 */
#include "ax_tmpl.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_hmap.h"

/* ---- arena ---- */

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
} chunk_t;

struct ax_arena {
	chunk_t *head;
};

ax_arena_t *ax_arena_new(void)
{
	return calloc(1, sizeof(ax_arena_t));
}

void ax_arena_free(ax_arena_t *a)
{
	chunk_t *c, *n;

	if (a == NULL)
		return;
	for (c = a->head; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

void *ax_arena_alloc(ax_arena_t *a, size_t n)
{
	chunk_t *c = a->head;
	size_t al = sizeof(max_align_t);
	void *p;

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *ax_arena_strndup(ax_arena_t *a, const char *s, size_t n)
{
	char *p = ax_arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ---- values ---- */

static ax_tval_t *tv_new(ax_arena_t *a, ax_tval_kind_t k)
{
	ax_tval_t *v = ax_arena_alloc(a, sizeof(*v));

	if (v)
		v->kind = k;
	return v;
}

ax_tval_t *ax_tv_nil(ax_arena_t *a)
{
	return tv_new(a, AX_TV_NIL);
}

ax_tval_t *ax_tv_bool(ax_arena_t *a, int b)
{
	ax_tval_t *v = tv_new(a, AX_TV_BOOL);

	if (v)
		v->u.b = !!b;
	return v;
}

ax_tval_t *ax_tv_int(ax_arena_t *a, int64_t i)
{
	ax_tval_t *v = tv_new(a, AX_TV_INT);

	if (v)
		v->u.i = i;
	return v;
}

ax_tval_t *ax_tv_float(ax_arena_t *a, double f)
{
	ax_tval_t *v = tv_new(a, AX_TV_FLOAT);

	if (v)
		v->u.f = f;
	return v;
}

ax_tval_t *ax_tv_strn(ax_arena_t *a, const char *s, size_t n)
{
	ax_tval_t *v = tv_new(a, AX_TV_STRING);

	if (v == NULL || (v->u.s.p = ax_arena_strndup(a, s, n)) == NULL)
		return NULL;
	v->u.s.n = n;
	return v;
}

ax_tval_t *ax_tv_str(ax_arena_t *a, const char *s)
{
	return ax_tv_strn(a, s ? s : "", s ? strlen(s) : 0);
}

ax_tval_t *ax_tv_list(ax_arena_t *a, size_t n)
{
	ax_tval_t *v = tv_new(a, AX_TV_LIST);
	size_t i;

	if (v == NULL ||
	    (v->u.list.v = ax_arena_alloc(
	         a, (n ? n : 1) * sizeof(ax_tval_t *))) == NULL)
		return NULL;
	v->u.list.n = n;
	for (i = 0; i < n; i++)
		if ((v->u.list.v[i] = ax_tv_nil(a)) == NULL)
			return NULL;
	return v;
}

ax_tval_t *ax_tv_map(ax_arena_t *a, size_t cap, int strings)
{
	ax_tval_t *v = tv_new(a, AX_TV_MAP);

	if (v == NULL)
		return NULL;
	if (cap == 0)
		cap = 4;
	v->u.map.k = ax_arena_alloc(a, cap * sizeof(char *));
	v->u.map.v = ax_arena_alloc(a, cap * sizeof(ax_tval_t *));
	if (v->u.map.k == NULL || v->u.map.v == NULL)
		return NULL;
	v->u.map.cap = cap;
	v->u.map.strings = strings;
	return v;
}

int ax_tv_map_set(ax_arena_t *a, ax_tval_t *m, const char *k, ax_tval_t *v)
{
	size_t lo = 0, hi = m->u.map.n, i, cap;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->u.map.k[mid], k);

		if (c == 0) {
			m->u.map.v[mid] = v;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	cap = m->u.map.cap;
	if (m->u.map.n == cap) {
		size_t nc = cap * 2;
		const char **nk = ax_arena_alloc(a, nc * sizeof(char *));
		ax_tval_t **nv = ax_arena_alloc(a, nc * sizeof(*nv));

		if (nk == NULL || nv == NULL)
			return AX_ENOMEM;
		memcpy(nk, m->u.map.k, m->u.map.n * sizeof(char *));
		memcpy(nv, m->u.map.v, m->u.map.n * sizeof(*nv));
		m->u.map.k = nk;
		m->u.map.v = nv;
		m->u.map.cap = nc;
	}
	for (i = m->u.map.n; i > lo; i--) {
		m->u.map.k[i] = m->u.map.k[i - 1];
		m->u.map.v[i] = m->u.map.v[i - 1];
	}
	if ((m->u.map.k[lo] = ax_arena_strndup(a, k, strlen(k))) == NULL)
		return AX_ENOMEM;
	m->u.map.v[lo] = v;
	m->u.map.n++;
	return 0;
}

ax_tval_t *ax_tv_map_get(const ax_tval_t *m, const char *k)
{
	size_t lo = 0, hi;

	if (m == NULL || m->kind != AX_TV_MAP)
		return NULL;
	hi = m->u.map.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->u.map.k[mid], k);

		if (c == 0)
			return m->u.map.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

ax_tval_t *ax_tv_obj(ax_arena_t *a, const ax_tclass_t *cls, void *obj)
{
	ax_tval_t *v = tv_new(a, AX_TV_OBJ);

	if (v) {
		v->cls = cls;
		v->u.obj = obj;
	}
	return v;
}

int ax_tv_truth(const ax_tval_t *v)
{
	if (v == NULL)
		return 0;
	switch (v->kind) {
	case AX_TV_NIL: return 0;
	case AX_TV_BOOL: return v->u.b;
	case AX_TV_INT: return v->u.i != 0;
	case AX_TV_FLOAT: return v->u.f != 0;
	case AX_TV_STRING: return v->u.s.n > 0;
	case AX_TV_LIST: return v->u.list.n > 0;
	case AX_TV_MAP: return v->u.map.n > 0;
	case AX_TV_OBJ: return 1;
	}
	return 0;
}

static const char *type_name(const ax_tval_t *v)
{
	if (v == NULL)
		return "<nil>";
	if (v->cls && v->cls->type_name)
		return v->cls->type_name;
	switch (v->kind) {
	case AX_TV_NIL: return "<nil>";
	case AX_TV_BOOL: return "bool";
	case AX_TV_INT: return "int";
	case AX_TV_FLOAT: return "float64";
	case AX_TV_STRING: return "string";
	case AX_TV_LIST: return "[]interface {}";
	case AX_TV_MAP:
		return v->u.map.strings ? "map[string]string"
		                        : "map[string]interface {}";
	case AX_TV_OBJ: return "object";
	}
	return "?";
}

static void print_val(const ax_tval_t *v, ax_buf_t *out, int nested)
{
	size_t i;

	if (v == NULL) {
		ax_buf_puts(out, "<nil>");
		return;
	}
	if (v->cls && v->cls->str) {
		v->cls->str((ax_tval_t *)v, out);
		return;
	}
	switch (v->kind) {
	case AX_TV_NIL: ax_buf_puts(out, "<nil>"); break;
	case AX_TV_BOOL: ax_buf_puts(out, v->u.b ? "true" : "false"); break;
	case AX_TV_INT: ax_buf_printf(out, "%lld", (long long)v->u.i); break;
	case AX_TV_FLOAT: ax_buf_put_double(out, v->u.f); break;
	case AX_TV_STRING: ax_buf_append(out, v->u.s.p, v->u.s.n); break;
	case AX_TV_LIST:
		ax_buf_putc(out, '[');
		for (i = 0; i < v->u.list.n; i++) {
			if (i)
				ax_buf_putc(out, ' ');
			print_val(v->u.list.v[i], out, 1);
		}
		ax_buf_putc(out, ']');
		break;
	case AX_TV_MAP:
		ax_buf_puts(out, "map[");
		for (i = 0; i < v->u.map.n; i++) {
			if (i)
				ax_buf_putc(out, ' ');
			ax_buf_puts(out, v->u.map.k[i]);
			ax_buf_putc(out, ':');
			print_val(v->u.map.v[i], out, 1);
		}
		ax_buf_putc(out, ']');
		break;
	case AX_TV_OBJ: ax_buf_printf(out, "{%s}", type_name(v)); break;
	}
	(void)nested;
}

void ax_tv_print(const ax_tval_t *v, ax_buf_t *out)
{
	print_val(v, out, 0);
}

/* ---- lexer ---- */

typedef enum {
	T_EOF,
	T_ERROR,
	T_TEXT,
	T_LEFT,  /* {{ */
	T_RIGHT, /* }} */
	T_IDENT,
	T_FIELD, /* .Name, or "." alone (dot) */
	T_VAR,   /* $ or $name */
	T_STRING,
	T_RAW,
	T_CHAR,
	T_NUMBER,
	T_BOOL,
	T_NIL,
	T_LPAREN,
	T_RPAREN,
	T_PIPE,
	T_DECLARE, /* := */
	T_ASSIGN,  /* = */
	T_COMMA,
	T_OTHER, /* any other printable character */
	/* keywords */
	T_IF,
	T_ELSE,
	T_END,
	T_RANGE,
	T_WITH,
	T_DEFINE,
	T_TEMPLATE,
	T_BLOCK,
	T_BREAK,
	T_CONTINUE,
} tok_t;

typedef struct token {
	tok_t t;
	const char *p; /* into the source */
	size_t n;
	int line;
	int space_before; /* whitespace separated it from the previous */
} token_t;

typedef struct lexer {
	const char *name;
	const char *src;
	size_t len, pos;
	int line;
	int in_action;
	int trim_next; /* the last }} was -}}: trim leading space of text */
	int paren;
	token_t peeked[3];
	int npeek;
	char err[256];
} lexer_t;

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alnum_(char c)
{
	return isalnum((unsigned char)c) || c == '_' ||
	    (unsigned char)c >= 0x80;
}

static void count_lines(lexer_t *l, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (l->src[i] == '\n')
			l->line++;
}

static token_t lex_error(lexer_t *l, const char *fmt, ...)
{
	token_t t = {T_ERROR, NULL, 0, l->line, 0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	l->pos = l->len;
	return t;
}

/* Is there "{{" at i, and is it a trimming one? */
static int left_delim_at(const lexer_t *l, size_t i, int *trim)
{
	if (i + 1 >= l->len || l->src[i] != '{' || l->src[i + 1] != '{')
		return 0;
	*trim =
	    i + 3 < l->len && l->src[i + 2] == '-' && is_space(l->src[i + 3]);
	return 1;
}

static token_t lex_text(lexer_t *l)
{
	size_t start = l->pos, i, end;
	int trim = 0;
	token_t t;

	if (l->trim_next) {
		while (start < l->len && is_space(l->src[start])) {
			if (l->src[start] == '\n')
				l->line++;
			start++;
		}
		l->trim_next = 0;
	}
	for (i = start; i < l->len; i++)
		if (left_delim_at(l, i, &trim))
			break;
	end = i;
	if (i < l->len && trim)
		while (end > start && is_space(l->src[end - 1]))
			end--;
	t.t = T_TEXT;
	t.p = l->src + start;
	t.n = end - start;
	t.line = l->line;
	t.space_before = 0;
	count_lines(l, start, i);
	l->pos = i; /* the delimiter, if any, comes next */
	return t;
}

static token_t mk(lexer_t *l, tok_t ty, size_t start, int sp)
{
	token_t t = {ty, l->src + start, l->pos - start, l->line, sp};

	return t;
}

static token_t lex_action(lexer_t *l)
{
	size_t start;
	int sp = 0;
	char c;

	for (;;) {
		/* whitespace; a " -}}" ends the action with trimming */
		while (l->pos < l->len && is_space(l->src[l->pos])) {
			if (l->pos + 3 < l->len && l->src[l->pos + 1] == '-' &&
			    l->src[l->pos + 2] == '}' &&
			    l->src[l->pos + 3] == '}') {
				count_lines(l, l->pos, l->pos + 1);
				l->pos += 4;
				l->in_action = 0;
				l->trim_next = 1;
				if (l->paren)
					return lex_error(
					    l, "unclosed left paren");
				return mk(l, T_RIGHT, l->pos - 4, 1);
			}
			if (l->src[l->pos] == '\n')
				l->line++;
			l->pos++;
			sp = 1;
		}
		break;
	}
	if (l->pos >= l->len)
		return lex_error(l, "unclosed action");
	start = l->pos;
	c = l->src[l->pos];
	if (c == '}' && l->pos + 1 < l->len && l->src[l->pos + 1] == '}') {
		l->pos += 2;
		l->in_action = 0;
		if (l->paren)
			return lex_error(l, "unclosed left paren");
		return mk(l, T_RIGHT, start, sp);
	}
	switch (c) {
	case '(':
		l->pos++;
		l->paren++;
		return mk(l, T_LPAREN, start, sp);
	case ')':
		l->pos++;
		if (--l->paren < 0)
			return lex_error(
			    l, "unexpected right paren U+0029 ')'");
		return mk(l, T_RPAREN, start, sp);
	case '|': l->pos++; return mk(l, T_PIPE, start, sp);
	case ',': l->pos++; return mk(l, T_COMMA, start, sp);
	case '=': l->pos++; return mk(l, T_ASSIGN, start, sp);
	case ':':
		if (l->pos + 1 < l->len && l->src[l->pos + 1] == '=') {
			l->pos += 2;
			return mk(l, T_DECLARE, start, sp);
		}
		return lex_error(l, "expected :=");
	case '"':
		for (l->pos++; l->pos < l->len && l->src[l->pos] != '"';
		     l->pos++) {
			if (l->src[l->pos] == '\\' && l->pos + 1 < l->len)
				l->pos++;
			else if (l->src[l->pos] == '\n')
				return lex_error(
				    l, "unterminated quoted string");
		}
		if (l->pos >= l->len)
			return lex_error(l, "unterminated quoted string");
		l->pos++;
		return mk(l, T_STRING, start, sp);
	case '`':
		for (l->pos++; l->pos < l->len && l->src[l->pos] != '`';
		     l->pos++)
			;
		if (l->pos >= l->len)
			return lex_error(l, "unterminated raw quoted string");
		l->pos++;
		{
			token_t t = mk(l, T_RAW, start, sp);

			count_lines(l, start, l->pos);
			return t;
		}
	case '\'':
		for (l->pos++; l->pos < l->len && l->src[l->pos] != '\'';
		     l->pos++)
			if (l->src[l->pos] == '\\' && l->pos + 1 < l->len)
				l->pos++;
		if (l->pos >= l->len)
			return lex_error(l, "unterminated character constant");
		l->pos++;
		return mk(l, T_CHAR, start, sp);
	case '$':
		for (l->pos++; l->pos < l->len && is_alnum_(l->src[l->pos]);
		     l->pos++)
			;
		return mk(l, T_VAR, start, sp);
	case '.':
		if (l->pos + 1 < l->len &&
		    isdigit((unsigned char)l->src[l->pos + 1]))
			break; /* a number */
		for (l->pos++; l->pos < l->len && is_alnum_(l->src[l->pos]);
		     l->pos++)
			;
		return mk(l, T_FIELD, start, sp);
	default: break;
	}
	if (c == '+' || c == '-' || c == '.' || isdigit((unsigned char)c)) {
		l->pos++;
		while (l->pos < l->len &&
		    (isalnum((unsigned char)l->src[l->pos]) ||
		        l->src[l->pos] == '.' || l->src[l->pos] == '_' ||
		        ((l->src[l->pos] == '+' || l->src[l->pos] == '-') &&
		            strchr("eEpP", l->src[l->pos - 1]))))
			l->pos++;
		return mk(l, T_NUMBER, start, sp);
	}
	if (is_alnum_(c)) {
		static const struct {
			const char *w;
			tok_t t;
		} kw[] = {{"if", T_IF}, {"else", T_ELSE}, {"end", T_END},
		    {"range", T_RANGE}, {"with", T_WITH}, {"define", T_DEFINE},
		    {"template", T_TEMPLATE}, {"block", T_BLOCK},
		    {"break", T_BREAK}, {"continue", T_CONTINUE},
		    {"true", T_BOOL}, {"false", T_BOOL}, {"nil", T_NIL}};
		size_t i, n;

		while (l->pos < l->len && is_alnum_(l->src[l->pos]))
			l->pos++;
		n = l->pos - start;
		for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
			if (strlen(kw[i].w) == n &&
			    memcmp(kw[i].w, l->src + start, n) == 0)
				return mk(l, kw[i].t, start, sp);
		return mk(l, T_IDENT, start, sp);
	}
	if ((unsigned char)c >= 0x21 && (unsigned char)c < 0x7f) {
		l->pos++;
		return mk(l, T_OTHER, start, sp);
	}
	return lex_error(l, "unexpected \"%c\" in command", c);
}

/* The next token, consuming comments (slash-star ... star-slash inside {{ }})
 * silently. */
static token_t lex_next(lexer_t *l)
{
	if (l->npeek > 0)
		return l->peeked[--l->npeek];
	for (;;) {
		if (l->pos >= l->len && !l->in_action) {
			token_t t = {T_EOF, NULL, 0, l->line, 0};

			return t;
		}
		if (!l->in_action) {
			int trim;

			if (left_delim_at(l, l->pos, &trim)) {
				size_t start = l->pos, after;

				after = l->pos + 2 + (trim ? 2 : 0);
				/* a comment: {{ or {{- then slash-star */
				if (after + 1 < l->len &&
				    l->src[after] == '/' &&
				    l->src[after + 1] == '*') {
					const char *e =
					    strstr(l->src + after + 2, "*/");
					size_t ce;

					if (e == NULL)
						return lex_error(
						    l, "unclosed comment");
					ce = (size_t)(e - l->src) + 2;
					if (ce + 1 < l->len &&
					    l->src[ce] == '}' &&
					    l->src[ce + 1] == '}')
						l->trim_next = 0, ce += 2;
					else if (ce + 3 < l->len &&
					    l->src[ce] == ' ' &&
					    l->src[ce + 1] == '-' &&
					    l->src[ce + 2] == '}' &&
					    l->src[ce + 3] == '}')
						l->trim_next = 1, ce += 4;
					else
						return lex_error(l,
						    "comment ends before "
						    "closing delimiter");
					count_lines(l, l->pos, ce);
					l->pos = ce;
					continue;
				}
				l->pos = after;
				l->in_action = 1;
				return mk(l, T_LEFT, start, 0);
			}
			{
				token_t t = lex_text(l);

				l->in_action = 0;
				if (t.n == 0 && l->pos < l->len)
					continue;
				if (t.n == 0)
					continue;
				return t;
			}
		}
		return lex_action(l);
	}
}

static void lex_back(lexer_t *l, token_t t)
{
	l->peeked[l->npeek++] = t;
}

/* ---- parse tree ---- */

typedef enum {
	O_DOT,
	O_FIELD, /* chain from dot */
	O_VAR,   /* $name + chain */
	O_NIL,
	O_BOOL,
	O_INT,
	O_FLOAT,
	O_STRING,
	O_FUNC,
	O_PIPE, /* (pipeline) + chain */
} opk_t;

struct pipe;

typedef struct operand {
	opk_t k;
	char *name; /* VAR name; STRING value; FUNC name */
	size_t slen;
	char **chain;
	size_t nchain;
	int64_t i;
	double f;
	int b;
	const ax_tmpl_func_t *fn;
	struct pipe *pipe;
	char *src;      /* for messages: "<.X>" */
	int line, col;  /* Go's: 0-based byte column */
	const char *sp; /* the operand's source */
	size_t sn;
} operand_t;

typedef struct cmd {
	operand_t **args;
	size_t n;
	char *src; /* "len 3", for messages about the call */
} cmd_t;

typedef struct pipe {
	char **decl;
	size_t ndecl;
	int assign; /* = rather than := */
	cmd_t **cmds;
	size_t ncmds;
	int line;
} pipe_t;

typedef enum {
	N_TEXT,
	N_ACTION,
	N_IF,
	N_RANGE,
	N_WITH,
	N_TEMPLATE,
	N_BREAK,
	N_CONTINUE
} ntype_t;

typedef struct node node_t;

typedef struct nlist {
	node_t **v;
	size_t n;
} nlist_t;

struct node {
	ntype_t t;
	int line;
	int col;    /* TEMPLATE: the name's column, for messages */
	char *src;  /* TEMPLATE: "{{template \"name\"}}" */
	char *text; /* TEXT; TEMPLATE name */
	size_t tlen;
	pipe_t *pipe;
	nlist_t *list, *elselist;
};

typedef struct tdef {
	char *name;
	nlist_t *root;
} tdef_t;

struct ax_tmpl {
	const ax_tmpl_t *parent; /* looked up when a name is not here */
	const ax_tmpl_func_t *funcs;
	const ax_tmpl_func_t *more;
	ax_arena_t *arena; /* parse trees */
	ax_hmap_t defs;    /* name -> tdef_t */
};

/* ---- parser ---- */

typedef struct parser {
	ax_tmpl_t *t;
	lexer_t lx;
	const char *name;
	ax_err_t *err;
	char **vars; /* declared variables in scope */
	size_t nvars, capvars;
	int range_depth;
	int failed;
} parser_t;

static const ax_tmpl_func_t builtins[];

static const ax_tmpl_func_t *find_func(const ax_tmpl_t *t, const char *name)
{
	const ax_tmpl_func_t *tabs[3] = {t->more, t->funcs, builtins};
	const ax_tmpl_func_t *f;
	int i;

	for (i = 0; i < 3; i++)
		for (f = tabs[i]; f && f->name; f++)
			if (strcmp(f->name, name) == 0)
				return f;
	return NULL;
}

static int perr(parser_t *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->failed)
		return AX_EPARSE;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->failed = 1;
	return ax_err_set(
	    p->err, AX_EPARSE, "template: %s:%d: %s", p->name, line, msg);
}

static void *palloc(parser_t *p, size_t n)
{
	void *m = ax_arena_alloc(p->t->arena, n);

	if (m == NULL && !p->failed) {
		p->failed = 1;
		ax_err_set(p->err, AX_ENOMEM, "out of memory");
	}
	return m;
}

static char *pstrn(parser_t *p, const char *s, size_t n)
{
	char *r = ax_arena_strndup(p->t->arena, s, n);

	if (r == NULL && !p->failed) {
		p->failed = 1;
		ax_err_set(p->err, AX_ENOMEM, "out of memory");
	}
	return r;
}

static int push_ptr(parser_t *p, void ***v, size_t *n, void *item)
{
	void **nv = palloc(p, (*n + 1) * sizeof(void *));

	if (nv == NULL)
		return -1;
	if (*n)
		memcpy(nv, *v, *n * sizeof(void *));
	nv[(*n)++] = item;
	*v = nv;
	return 0;
}

/* A token as Go's parser names it in messages: keywords as <end>,
 * everything else quoted. */
static const char *tokstr(token_t t, char *buf, size_t cap)
{
	if (t.t == T_EOF)
		return "EOF";
	/* Go's item.String: keywords and the dot as <x>, values quoted,
	 * those over 10 bytes cut to 10 and followed by "..." */
	if (t.t >= T_IF || (t.t == T_FIELD && t.n == 1))
		snprintf(buf, cap, "<%.*s>", (int)t.n, t.p);
	else if (t.t == T_RIGHT)
		snprintf(buf, cap, "\"}}\"");
	else if (t.n > 10)
		snprintf(buf, cap, "\"%.10s\"...", t.p);
	else
		snprintf(buf, cap, "\"%.*s\"", (int)t.n, t.p);
	return buf;
}

/* Go string literal unquoting ("..." with escapes, `raw`). */
static int unquote(parser_t *p, token_t t, char **out, size_t *len)
{
	const char *s = t.p + 1;
	size_t n = t.n - 2, i, o = 0;
	char *r;

	r = palloc(p, n + 1);
	if (r == NULL)
		return -1;
	if (t.t == T_RAW) {
		for (i = 0; i < n; i++)
			if (s[i] != '\r')
				r[o++] = s[i];
		r[o] = '\0';
		*out = r;
		*len = o;
		return 0;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c != '\\') {
			r[o++] = c;
			continue;
		}
		if (++i >= n)
			return perr(p, t.line, "invalid syntax");
		c = s[i];
		switch (c) {
		case 'n': r[o++] = '\n'; break;
		case 't': r[o++] = '\t'; break;
		case 'r': r[o++] = '\r'; break;
		case 'a': r[o++] = '\a'; break;
		case 'b': r[o++] = '\b'; break;
		case 'f': r[o++] = '\f'; break;
		case 'v': r[o++] = '\v'; break;
		case '\\': r[o++] = '\\'; break;
		case '"': r[o++] = '"'; break;
		case '\'': r[o++] = '\''; break;
		case 'x':
		case 'u':
		case 'U': {
			int digs = c == 'x' ? 2 : c == 'u' ? 4 : 8, k;
			unsigned long cp = 0;

			for (k = 0; k < digs; k++) {
				if (++i >= n || !isxdigit((unsigned char)s[i]))
					return perr(
					    p, t.line, "invalid syntax");
				cp = cp * 16 +
				    (unsigned long)(isdigit((unsigned char)s[i])
				            ? s[i] - '0'
				            : (tolower((unsigned char)s[i]) -
				                  'a' + 10));
			}
			if (c == 'x')
				r[o++] = (char)cp;
			else if (cp < 0x80)
				r[o++] = (char)cp;
			else if (cp < 0x800) {
				r[o++] = (char)(0xc0 | (cp >> 6));
				r[o++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				r[o++] = (char)(0xe0 | (cp >> 12));
				r[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				r[o++] = (char)(0x80 | (cp & 0x3f));
			} else {
				r[o++] = (char)(0xf0 | (cp >> 18));
				r[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
				r[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				r[o++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			if (c >= '0' && c <= '7' && i + 2 < n) {
				r[o++] = (char)((c - '0') * 64 +
				    (s[i + 1] - '0') * 8 + (s[i + 2] - '0'));
				i += 2;
				break;
			}
			return perr(p, t.line, "invalid syntax");
		}
	}
	r[o] = '\0';
	*out = r;
	*len = o;
	return 0;
}

static int parse_number(parser_t *p, token_t t, operand_t *o)
{
	char buf[128], *end, *q;
	size_t i, k = 0;
	int is_float = 0, hex;

	if (t.n >= sizeof(buf))
		return perr(
		    p, t.line, "bad number syntax: %.*s", (int)t.n, t.p);
	for (i = 0; i < t.n; i++)
		if (t.p[i] != '_')
			buf[k++] = t.p[i];
	buf[k] = '\0';
	q = buf + (buf[0] == '+' || buf[0] == '-');
	hex = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
	if (!hex && strpbrk(q, ".eE"))
		is_float = 1;
	if (hex && strpbrk(q, "pP"))
		is_float = 1;
	if (!is_float) {
		long long v;

		if (q[0] == '0' && (q[1] == 'o' || q[1] == 'O'))
			v = strtoll(q + 2, &end, 8);
		else if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
			v = strtoll(q + 2, &end, 2);
		else if (q[0] == '0' && q[1] && !hex)
			v = strtoll(q + 1, &end, 8);
		else
			v = strtoll(q, &end, 0);
		if (*end != '\0')
			return perr(p, t.line, "bad number syntax: %.*s",
			    (int)t.n, t.p);
		o->k = O_INT;
		o->i = buf[0] == '-' ? -v : v;
		return 0;
	}
	o->f = strtod(buf, &end);
	if (*end != '\0')
		return perr(
		    p, t.line, "bad number syntax: %.*s", (int)t.n, t.p);
	o->k = O_FLOAT;
	return 0;
}

static int var_known(parser_t *p, const char *name)
{
	size_t i;

	for (i = p->nvars; i > 0; i--)
		if (strcmp(p->vars[i - 1], name) == 0)
			return 1;
	return 0;
}

static int declare_var(parser_t *p, char *name)
{
	if (p->nvars == p->capvars) {
		size_t nc = p->capvars ? p->capvars * 2 : 16;
		char **nv = realloc(p->vars, nc * sizeof(char *));

		if (nv == NULL) {
			perr(p, 0, "out of memory");
			return -1;
		}
		p->vars = nv;
		p->capvars = nc;
	}
	p->vars[p->nvars++] = name;
	return 0;
}

static pipe_t *parse_pipeline(
    parser_t *p, const char *ctx, tok_t end, int decl_ok);

/* Field chain right after a term (no space between). */
static int parse_chain(parser_t *p, operand_t *o, int first_is_term)
{
	int k = 0;

	for (;; k++) {
		token_t t = lex_next(&p->lx);

		if (t.t != T_FIELD || t.space_before || t.n < 2) {
			lex_back(&p->lx, t);
			return 0;
		}
		if (k == 0 && first_is_term) {
			/* Go reports a chain at its first chained element */
			const char *q = t.p;

			while (q > p->lx.src && q[-1] != '\n')
				q--;
			o->col = (int)(t.p - q);
			o->line = t.line;
		}
		if (push_ptr(p, (void ***)&o->chain, &o->nchain,
		        pstrn(p, t.p + 1, t.n - 1)) != 0)
			return -1;
	}
}

static operand_t *parse_operand(parser_t *p, token_t t)
{
	operand_t *o = palloc(p, sizeof(*o));
	const char *src_start = t.p;

	if (o == NULL)
		return NULL;
	o->line = t.line;
	{
		const char *q = t.p;

		while (q > p->lx.src && q[-1] != '\n')
			q--;
		o->col = (int)(t.p - q);
	}
	switch (t.t) {
	case T_FIELD:
		if (t.n == 1)
			o->k = O_DOT;
		else {
			o->k = O_FIELD;
			if (push_ptr(p, (void ***)&o->chain, &o->nchain,
			        pstrn(p, t.p + 1, t.n - 1)) != 0)
				return NULL;
		}
		break;
	case T_VAR:
		o->k = O_VAR;
		o->name = pstrn(p, t.p, t.n);
		if (o->name == NULL)
			return NULL;
		if (!var_known(p, o->name)) {
			perr(p, t.line, "undefined variable \"%s\"", o->name);
			return NULL;
		}
		break;
	case T_NIL: o->k = O_NIL; break;
	case T_BOOL:
		o->k = O_BOOL;
		o->b = t.n == 4;
		break;
	case T_NUMBER:
		if (parse_number(p, t, o) != 0)
			return NULL;
		break;
	case T_CHAR: {
		char *s;
		size_t n;
		token_t q = t;

		q.t = T_STRING;
		if (unquote(p, q, &s, &n) != 0)
			return NULL;
		o->k = O_INT;
		if (n == 1)
			o->i = (unsigned char)s[0];
		else { /* a UTF-8 rune */
			const unsigned char *u = (const unsigned char *)s;

			if (n == 2)
				o->i = (u[0] & 0x1f) << 6 | (u[1] & 0x3f);
			else if (n == 3)
				o->i = (u[0] & 0x0f) << 12 |
				    (u[1] & 0x3f) << 6 | (u[2] & 0x3f);
			else if (n == 4)
				o->i = (u[0] & 0x07) << 18 |
				    (u[1] & 0x3f) << 12 | (u[2] & 0x3f) << 6 |
				    (u[3] & 0x3f);
			else {
				perr(p, t.line, "malformed character constant");
				return NULL;
			}
		}
		break;
	}
	case T_STRING:
	case T_RAW:
		o->k = O_STRING;
		if (unquote(p, t, &o->name, &o->slen) != 0)
			return NULL;
		break;
	case T_IDENT:
		o->k = O_FUNC;
		o->name = pstrn(p, t.p, t.n);
		if (o->name == NULL)
			return NULL;
		o->fn = find_func(p->t, o->name);
		if (o->fn == NULL) {
			perr(p, t.line, "function \"%s\" not defined", o->name);
			return NULL;
		}
		break;
	case T_LPAREN:
		o->k = O_PIPE;
		o->pipe =
		    parse_pipeline(p, "parenthesized pipeline", T_RPAREN, 0);
		if (o->pipe == NULL)
			return NULL;
		break;
	default: {
		char b[64];

		perr(p, t.line, "unexpected %s in operand",
		    tokstr(t, b, sizeof(b)));
		return NULL;
	}
	}
	if (o->k == O_VAR || o->k == O_PIPE || o->k == O_FIELD ||
	    o->k == O_DOT) {
		if (parse_chain(p, o, o->k != O_DOT) != 0)
			return NULL;
		if (o->k == O_DOT && o->nchain > 0)
			o->k = O_FIELD;
	} else {
		token_t n = lex_next(&p->lx);

		if (n.t == T_FIELD && !n.space_before && n.n > 1) {
			perr(p, n.line, "unexpected . after term \"%.*s\"",
			    (int)t.n, t.p);
			return NULL;
		}
		lex_back(&p->lx, n);
	}
	{
		/* the source of the operand, for messages */
		const char *end = p->lx.src + p->lx.pos;

		if (p->lx.npeek > 0)
			end = p->lx.peeked[p->lx.npeek - 1].p
			    ? p->lx.peeked[p->lx.npeek - 1].p
			    : end;
		while (end > src_start && is_space(end[-1]))
			end--;
		if (end < src_start)
			end = src_start + t.n;
		o->sp = src_start;
		o->sn = (size_t)(end - src_start);
		o->src = pstrn(p, src_start, o->sn > 60 ? 60 : o->sn);
	}
	return o;
}

static void cmd_src(parser_t *p, cmd_t *c)
{
	const operand_t *a = c->args[0], *z = c->args[c->n - 1];
	size_t n = (size_t)(z->sp + z->sn - a->sp);

	c->src = pstrn(p, a->sp, n > 80 ? 80 : n);
}

static pipe_t *parse_pipeline(
    parser_t *p, const char *ctx, tok_t end, int decl_ok)
{
	pipe_t *pp = palloc(p, sizeof(*pp));
	cmd_t *cmd = NULL;
	token_t t;
	char b[64];

	if (pp == NULL)
		return NULL;
	pp->line = p->lx.line;
	/* declarations: $x := / $x = / $i, $e := (range) */
	t = lex_next(&p->lx);
	if (t.t == T_VAR) {
		token_t t2 = lex_next(&p->lx);

		if (t2.t == T_DECLARE || t2.t == T_ASSIGN ||
		    (t2.t == T_COMMA && decl_ok)) {
			char *v1 = pstrn(p, t.p, t.n);

			if (v1 == NULL ||
			    push_ptr(p, (void ***)&pp->decl, &pp->ndecl, v1) !=
			        0)
				return NULL;
			if (t2.t == T_COMMA) {
				token_t t3 = lex_next(&p->lx), t4, t5;

				if (t3.t != T_VAR)
					return perr(p, t3.line,
					           "range can only initialize "
					           "variables"),
					       NULL;
				t4 = lex_next(&p->lx);
				if (t4.t == T_COMMA) {
					t5 = lex_next(&p->lx);
					(void)t5;
					return perr(p, t4.line,
					           "too many declarations in "
					           "range"),
					       NULL;
				}
				if (t4.t != T_DECLARE && t4.t != T_ASSIGN)
					return perr(p, t4.line,
					           "expected := or = in range"),
					       NULL;
				if (push_ptr(p, (void ***)&pp->decl, &pp->ndecl,
				        pstrn(p, t3.p, t3.n)) != 0)
					return NULL;
				t2 = t4;
			}
			pp->assign = t2.t == T_ASSIGN;
			if (pp->assign) {
				size_t i;

				for (i = 0; i < pp->ndecl; i++)
					if (!var_known(p, pp->decl[i]))
						return perr(p, t.line,
						           "undefined variable "
						           "\"%s\"",
						           pp->decl[i]),
						       NULL;
			}
		} else {
			lex_back(&p->lx, t2);
			lex_back(&p->lx, t);
		}
	} else
		lex_back(&p->lx, t);
	for (;;) {
		t = lex_next(&p->lx);
		if (t.t == T_ERROR)
			return perr(p, t.line, "%s", p->lx.err), NULL;
		if (t.t == end) {
			if (cmd && cmd->n == 0)
				return perr(p, t.line,
				           "missing value for command"),
				       NULL;
			if (cmd) {
				cmd_src(p, cmd);
				if (push_ptr(p, (void ***)&pp->cmds, &pp->ncmds,
				        cmd) != 0)
					return NULL;
			}
			if (pp->ncmds == 0)
				return perr(p, t.line, "missing value for %s",
				           ctx),
				       NULL;
			break;
		}
		if (t.t == T_PIPE) {
			if (cmd == NULL || cmd->n == 0)
				return perr(p, t.line, "unexpected \"|\" in %s",
				           ctx),
				       NULL;
			cmd_src(p, cmd);
			if (push_ptr(p, (void ***)&pp->cmds, &pp->ncmds, cmd) !=
			    0)
				return NULL;
			cmd = NULL;
			continue;
		}
		if (t.t == T_EOF || t.t == T_RIGHT || t.t == T_RPAREN ||
		    t.t == T_DECLARE || t.t == T_ASSIGN || t.t == T_COMMA ||
		    t.t == T_OTHER ||
		    (t.t >= T_IF && t.t != T_BOOL && t.t != T_NIL)) {
			if (t.t == T_EOF)
				return perr(p, t.line, "unclosed action"), NULL;
			/* inside a command Go names the operand */
			return perr(p, t.line, "unexpected %s in %s",
			           tokstr(t, b, sizeof(b)),
			           cmd && cmd->n > 0 ? "operand" : ctx),
			       NULL;
		}
		if (cmd == NULL && (cmd = palloc(p, sizeof(*cmd))) == NULL)
			return NULL;
		{
			operand_t *o = parse_operand(p, t);
			token_t nx;

			if (o == NULL ||
			    push_ptr(p, (void ***)&cmd->args, &cmd->n, o) != 0)
				return NULL;
			/* operands are separated by spaces (Go: ".A." is
			 * "unexpected <.> in operand") */
			nx = lex_next(&p->lx);
			lex_back(&p->lx, nx);
			if (!nx.space_before && nx.t != end && nx.t != T_PIPE &&
			    nx.t != T_RPAREN && nx.t != T_RIGHT &&
			    nx.t != T_EOF && nx.t != T_ERROR)
				return perr(p, nx.line,
				           "unexpected %s in operand",
				           tokstr(nx, b, sizeof(b))),
				       NULL;
		}
	}
	if (!pp->assign) {
		size_t i;

		for (i = 0; i < pp->ndecl; i++)
			if (declare_var(p, pp->decl[i]) != 0)
				return NULL;
	}
	return pp;
}

static nlist_t *parse_list(parser_t *p, tok_t *ended, token_t *endtok);

static node_t *new_node(parser_t *p, ntype_t ty, int line)
{
	node_t *n = palloc(p, sizeof(*n));

	if (n) {
		n->t = ty;
		n->line = line;
	}
	return n;
}

static int expect_right(parser_t *p, const char *ctx)
{
	token_t t = lex_next(&p->lx);
	char b[64];

	if (t.t == T_RIGHT)
		return 0;
	if (t.t == T_ERROR)
		return perr(p, t.line, "%s", p->lx.err);
	return perr(
	    p, t.line, "unexpected %s in %s", tokstr(t, b, sizeof(b)), ctx);
}

/* if / range / with: pipeline, list, optional else. */
static node_t *parse_control(parser_t *p, ntype_t ty, int line)
{
	node_t *n = new_node(p, ty, line);
	size_t mark = p->nvars;
	tok_t ended;
	token_t et;
	const char *ctx = ty == N_IF ? "if" : ty == N_RANGE ? "range" : "with";

	if (n == NULL)
		return NULL;
	n->pipe = parse_pipeline(p, ctx, T_RIGHT, ty == N_RANGE);
	if (n->pipe == NULL)
		return NULL;
	if (ty == N_RANGE)
		p->range_depth++;
	n->list = parse_list(p, &ended, &et);
	if (ty == N_RANGE)
		p->range_depth--;
	if (n->list == NULL)
		return NULL;
	if (ended == T_EOF) {
		perr(p, et.line, "unexpected EOF");
		return NULL;
	}
	if (ended == T_ELSE) {
		token_t t = lex_next(&p->lx);

		if ((t.t == T_IF && ty == N_IF) ||
		    (t.t == T_WITH && ty == N_WITH)) {
			/* else if / else with: a nested node in the else list
			 */
			node_t *nested = parse_control(p, ty, t.line);

			if (nested == NULL)
				return NULL;
			n->elselist = palloc(p, sizeof(nlist_t));
			if (n->elselist == NULL ||
			    push_ptr(p, (void ***)&n->elselist->v,
			        &n->elselist->n, nested) != 0)
				return NULL;
			p->nvars = mark;
			return n;
		}
		lex_back(&p->lx, t);
		if (expect_right(p, "else") != 0)
			return NULL;
		n->elselist = parse_list(p, &ended, &et);
		if (n->elselist == NULL)
			return NULL;
		if (ended == T_EOF) {
			perr(p, et.line, "unexpected EOF");
			return NULL;
		}
		if (ended != T_END) {
			perr(p, et.line, "expected end; found {{else}}");
			return NULL;
		}
	}
	p->nvars = mark;
	return n;
}

static int add_def(parser_t *p, const char *name, nlist_t *root)
{
	tdef_t *d = palloc(p, sizeof(*d)), *old = NULL;

	if (d == NULL)
		return -1;
	d->name = pstrn(p, name, strlen(name));
	d->root = root;
	if (d->name == NULL ||
	    ax_hmap_put(
	        &p->t->defs, d->name, strlen(d->name), d, (void **)&old) != 0)
		return perr(p, 0, "out of memory");
	return 0;
}

static int parse_define(parser_t *p, int line, int is_block, node_t **call)
{
	token_t t = lex_next(&p->lx);
	char *name;
	size_t nlen, mark = p->nvars;
	nlist_t *body;
	tok_t ended;
	token_t et;
	pipe_t *pp = NULL;

	if (t.t != T_STRING && t.t != T_RAW)
		return perr(p, t.line, "name of %s must be a string",
		    is_block ? "block" : "define");
	if (unquote(p, t, &name, &nlen) != 0)
		return -1;
	if (is_block) {
		pp = parse_pipeline(p, "block", T_RIGHT, 0);
		if (pp == NULL)
			return -1;
	} else if (expect_right(p, "define clause") != 0)
		return -1;
	/* a definition sees only its own variables, starting with $ */
	{
		char **saved = p->vars;
		size_t sn = p->nvars, sc = p->capvars;
		int sr = p->range_depth;

		p->vars = NULL;
		p->nvars = p->capvars = 0;
		p->range_depth = 0;
		if (declare_var(p, "$") != 0)
			return -1;
		body = parse_list(p, &ended, &et);
		free(p->vars);
		p->vars = saved;
		p->nvars = sn;
		p->capvars = sc;
		p->range_depth = sr;
	}
	if (body == NULL)
		return -1;
	if (ended == T_EOF)
		return perr(p, et.line, "unexpected EOF");
	if (ended != T_END)
		return perr(p, et.line, "unexpected {{else}} in %s",
		    is_block ? "block" : "define");
	if (add_def(p, name, body) != 0)
		return -1;
	p->nvars = mark;
	if (is_block) {
		node_t *n = new_node(p, N_TEMPLATE, line);

		if (n == NULL)
			return -1;
		n->text = name;
		n->tlen = nlen;
		n->pipe = pp;
		*call = n;
	}
	return 0;
}

/* One {{ action }} after the left delimiter.  *out NULL for define. */
static int parse_action(
    parser_t *p, node_t **out, tok_t *ended, token_t *endtok)
{
	token_t t = lex_next(&p->lx);
	node_t *n = NULL;

	*out = NULL;
	*ended = T_EOF;
	switch (t.t) {
	case T_END:
	case T_ELSE:
		*ended = t.t;
		*endtok = t;
		if (t.t == T_END)
			return expect_right(p, "end");
		return 0; /* the caller reads what follows else */
	case T_IF: n = parse_control(p, N_IF, t.line); break;
	case T_RANGE: n = parse_control(p, N_RANGE, t.line); break;
	case T_WITH: n = parse_control(p, N_WITH, t.line); break;
	case T_DEFINE: return perr(p, t.line, "unexpected <define> in command");
	case T_BLOCK:
		if (parse_define(p, t.line, 1, &n) != 0)
			return -1;
		break;
	case T_BREAK:
	case T_CONTINUE:
		if (p->range_depth == 0)
			return perr(p, t.line, "{{%s}} outside {{range}}",
			    t.t == T_BREAK ? "break" : "continue");
		n = new_node(p, t.t == T_BREAK ? N_BREAK : N_CONTINUE, t.line);
		if (n == NULL ||
		    expect_right(p, t.t == T_BREAK ? "break" : "continue") != 0)
			return -1;
		break;
	case T_TEMPLATE: {
		token_t nt = lex_next(&p->lx), t2;

		if (nt.t != T_STRING && nt.t != T_RAW)
			return perr(p, nt.line,
			    "unexpected \"%.*s\" in template clause", (int)nt.n,
			    nt.p);
		n = new_node(p, N_TEMPLATE, t.line);
		if (n == NULL || unquote(p, nt, &n->text, &n->tlen) != 0)
			return -1;
		{
			const char *q = nt.p;

			while (q > p->lx.src && q[-1] != '\n')
				q--;
			n->col = (int)(nt.p - q);
		}
		t2 = lex_next(&p->lx);
		if (t2.t != T_RIGHT) {
			lex_back(&p->lx, t2);
			n->pipe =
			    parse_pipeline(p, "template clause", T_RIGHT, 0);
			if (n->pipe == NULL)
				return -1;
		}
		{
			ax_buf_t b = AX_BUF_INIT;
			size_t i;

			ax_buf_printf(&b, "{{template %.*s", (int)nt.n, nt.p);
			for (i = 0; n->pipe && i < n->pipe->ncmds; i++)
				ax_buf_printf(&b, "%s%s", i ? " | " : " ",
				    n->pipe->cmds[i]->src
				        ? n->pipe->cmds[i]->src
				        : "");
			ax_buf_puts(&b, "}}");
			n->src = ax_buf_ok(&b) ? pstrn(p, b.p, b.len) : NULL;
			ax_buf_fini(&b);
		}
		break;
	}
	case T_ERROR: return perr(p, t.line, "%s", p->lx.err);
	default:
		lex_back(&p->lx, t);
		n = new_node(p, N_ACTION, t.line);
		if (n == NULL)
			return -1;
		n->pipe = parse_pipeline(p, "command", T_RIGHT, 0);
		break;
	}
	if (n == NULL || p->failed)
		return -1;
	*out = n;
	return 0;
}

/* A list of nodes up to {{end}}, {{else}} or EOF (reported in *ended). */
static nlist_t *parse_list(parser_t *p, tok_t *ended, token_t *endtok)
{
	nlist_t *l = palloc(p, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (;;) {
		token_t t = lex_next(&p->lx);
		node_t *n;

		if (t.t == T_EOF) {
			*ended = T_EOF;
			*endtok = t;
			return l;
		}
		if (t.t == T_ERROR)
			return perr(p, t.line, "%s", p->lx.err), NULL;
		if (t.t == T_TEXT) {
			n = new_node(p, N_TEXT, t.line);
			if (n == NULL)
				return NULL;
			n->text = (char *)t.p; /* into the kept source */
			n->tlen = t.n;
			if (push_ptr(p, (void ***)&l->v, &l->n, n) != 0)
				return NULL;
			continue;
		}
		/* T_LEFT */
		{
			token_t k = lex_next(&p->lx);

			if (k.t == T_DEFINE) {
				node_t *dummy;

				if (parse_define(p, k.line, 0, &dummy) != 0)
					return NULL;
				continue;
			}
			lex_back(&p->lx, k);
		}
		if (parse_action(p, &n, ended, endtok) != 0)
			return NULL;
		if (*ended == T_END || *ended == T_ELSE)
			return l;
		if (n && push_ptr(p, (void ***)&l->v, &l->n, n) != 0)
			return NULL;
	}
}

ax_tmpl_t *ax_tmpl_new(const ax_tmpl_func_t *funcs, const ax_tmpl_func_t *more)
{
	ax_tmpl_t *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->funcs = funcs;
	t->more = more;
	t->arena = ax_arena_new();
	if (t->arena == NULL) {
		free(t);
		return NULL;
	}
	ax_hmap_init(&t->defs);
	return t;
}

void ax_tmpl_free(ax_tmpl_t *t)
{
	if (t == NULL)
		return;
	ax_hmap_fini(&t->defs);
	ax_arena_free(t->arena);
	free(t);
}

int ax_tmpl_parse(
    ax_tmpl_t *t, const char *name, const char *text, ax_err_t *err)
{
	parser_t p;
	nlist_t *root;
	tok_t ended;
	token_t et;
	char *src = ax_arena_strndup(t->arena, text, strlen(text));
	char *nm = ax_arena_strndup(t->arena, name, strlen(name));

	if (src == NULL || nm == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	memset(&p, 0, sizeof(p));
	p.t = t;
	p.name = nm;
	p.err = err;
	p.lx.name = nm;
	p.lx.src = src;
	p.lx.len = strlen(src);
	p.lx.line = 1;
	if (declare_var(&p, "$") != 0) {
		free(p.vars);
		return err->code;
	}
	root = parse_list(&p, &ended, &et);
	if (root && !p.failed && ended != T_EOF)
		perr(&p, et.line, "unexpected {{%s}}",
		    ended == T_END ? "end" : "else");
	free(p.vars);
	if (root == NULL || p.failed)
		return err->code ? err->code : AX_EPARSE;
	{
		tdef_t *d = ax_hmap_get(&t->defs, nm, strlen(nm));

		/* an empty main template does not replace a {{define}} of the
		 * same name (as Go's AddParseTree rules) */
		if (d && root->n == 0)
			return 0;
	}
	{
		parser_t q = p;

		q.failed = 0;
		if (add_def(&q, nm, root) != 0)
			return err->code;
	}
	return 0;
}

static tdef_t *find_def(const ax_tmpl_t *t, const char *name)
{
	for (; t; t = t->parent) {
		tdef_t *d = ax_hmap_get(&t->defs, name, strlen(name));

		if (d)
			return d;
	}
	return NULL;
}

int ax_tmpl_has(const ax_tmpl_t *t, const char *name)
{
	return find_def(t, name) != NULL;
}

ax_tmpl_t *ax_tmpl_child(const ax_tmpl_t *parent)
{
	ax_tmpl_t *t = ax_tmpl_new(parent->funcs, parent->more);

	if (t)
		t->parent = parent;
	return t;
}

/* ---- execution ---- */

typedef struct var {
	const char *name;
	ax_tval_t *v;
} var_t;

struct ax_tmpl_exec {
	const ax_tmpl_t *t;
	ax_arena_t *arena;
	void *user;
	ax_buf_t *out;
	ax_err_t *err;
	const char *tname; /* the template executing */
	var_t *vars;
	size_t nvars, capvars;
	int depth;
	int line;
	const char *at; /* the operand being evaluated */
	int at_line, at_col;
	int html; /* escape action output (ax_tmpl_exec_html) */
};

ax_arena_t *ax_tmpl_arena(ax_tmpl_exec_t *x)
{
	return x->arena;
}

void *ax_tmpl_user(ax_tmpl_exec_t *x)
{
	return x->user;
}

static int xerr(ax_tmpl_exec_t *x, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (x->err->code != 0)
		return x->err->code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->at)
		return ax_err_set(x->err, AX_EINVAL,
		    "template: %s:%d:%d: executing \"%s\" at <%s>: %s",
		    x->tname, x->at_line, x->at_col, x->tname, x->at, msg);
	return ax_err_set(x->err, AX_EINVAL,
	    "template: %s:%d: executing \"%s\": %s", x->tname, x->line,
	    x->tname, msg);
}

static int oom(ax_tmpl_exec_t *x)
{
	return ax_err_set(x->err, AX_ENOMEM, "out of memory");
}

static int push_var(ax_tmpl_exec_t *x, const char *name, ax_tval_t *v)
{
	if (x->nvars == x->capvars) {
		size_t nc = x->capvars ? x->capvars * 2 : 16;
		var_t *nv = realloc(x->vars, nc * sizeof(*nv));

		if (nv == NULL)
			return oom(x);
		x->vars = nv;
		x->capvars = nc;
	}
	x->vars[x->nvars].name = name;
	x->vars[x->nvars].v = v;
	x->nvars++;
	return 0;
}

static var_t *find_var(ax_tmpl_exec_t *x, const char *name)
{
	size_t i;

	for (i = x->nvars; i > 0; i--)
		if (strcmp(x->vars[i - 1].name, name) == 0)
			return &x->vars[i - 1];
	return NULL;
}

static int eval_pipe(
    ax_tmpl_exec_t *x, ax_tval_t *dot, const pipe_t *p, ax_tval_t **out);

/* Field or method `name` of recv, with args. */
static int get_field(ax_tmpl_exec_t *x, ax_tval_t *recv, const char *name,
    ax_tval_t **args, size_t nargs, ax_tval_t **out)
{
	int rv;

	if (recv->cls && recv->cls->get) {
		rv = recv->cls->get(x, recv, name, args, nargs, out, x->err);
		if (rv == 0)
			return 0;
		if (rv != AX_ENOENT)
			return x->err->code ? x->err->code
			                    : xerr(x, "error calling %s", name);
	}
	if (recv->kind == AX_TV_MAP) {
		ax_tval_t *v;

		if (nargs > 0)
			return xerr(
			    x, "%s is not a method but has arguments", name);
		v = ax_tv_map_get(recv, name);
		if (v == NULL)
			v = recv->u.map.strings ? ax_tv_str(x->arena, "")
			                        : ax_tv_nil(x->arena);
		if (v == NULL)
			return oom(x);
		*out = v;
		return 0;
	}
	if (recv->kind == AX_TV_NIL)
		return xerr(x, "nil pointer evaluating interface {}.%s", name);
	return xerr(
	    x, "can't evaluate field %s in type %s", name, type_name(recv));
}

static int eval_chain(ax_tmpl_exec_t *x, ax_tval_t *recv, char **chain,
    size_t n, ax_tval_t **args, size_t nargs, ax_tval_t **out)
{
	size_t i;
	int rv;

	for (i = 0; i < n; i++) {
		int last = i + 1 == n;

		if ((rv = get_field(x, recv, chain[i], last ? args : NULL,
		         last ? nargs : 0, &recv)) != 0)
			return rv;
	}
	*out = recv;
	return 0;
}

static int call_func(ax_tmpl_exec_t *x, ax_tval_t *dot, const operand_t *f,
    operand_t **argops, size_t nargs, ax_tval_t *final, ax_tval_t **out,
    const char *csrc);

/* An operand as an argument (no arguments of its own). */
static int eval_arg(
    ax_tmpl_exec_t *x, ax_tval_t *dot, const operand_t *o, ax_tval_t **out)
{
	ax_tval_t *v = NULL;
	var_t *var;
	int rv;

	x->at = o->src;
	x->at_line = o->line;
	x->at_col = o->col;
	switch (o->k) {
	case O_DOT: *out = dot; return 0;
	case O_FIELD:
		return eval_chain(x, dot, o->chain, o->nchain, NULL, 0, out);
	case O_VAR:
		var = find_var(x, o->name);
		if (var == NULL)
			return xerr(x, "undefined variable: %s", o->name);
		return eval_chain(x, var->v, o->chain, o->nchain, NULL, 0, out);
	case O_NIL: v = ax_tv_nil(x->arena); break;
	case O_BOOL: v = ax_tv_bool(x->arena, o->b); break;
	case O_INT: v = ax_tv_int(x->arena, o->i); break;
	case O_FLOAT: v = ax_tv_float(x->arena, o->f); break;
	case O_STRING: v = ax_tv_strn(x->arena, o->name, o->slen); break;
	case O_FUNC: return call_func(x, dot, o, NULL, 0, NULL, out, o->src);
	case O_PIPE:
		if ((rv = eval_pipe(x, dot, o->pipe, &v)) != 0)
			return rv;
		x->at = o->src;
		x->at_line = o->line;
		x->at_col = o->col;
		return eval_chain(x, v, o->chain, o->nchain, NULL, 0, out);
	}
	if (v == NULL)
		return oom(x);
	*out = v;
	return 0;
}

/* Check an argument against a declared parameter type (Go's evalArg):
 * 's' string, 'L' []string, 'i' int, 'f' float64, 'b' bool, 'a' any. */
static int check_arg(
    ax_tmpl_exec_t *x, char ty, const operand_t *op, const ax_tval_t *v)
{
	static const char *const want_lit[] = {
	    "string", "integer", "float", "bool"};
	static const char *const want_ty[] = {
	    "string", "int", "float64", "bool"};
	int k;

	switch (ty) {
	case 's':
		k = 0;
		if (v->kind == AX_TV_STRING)
			return 0;
		break;
	case 'i':
		k = 1;
		if (v->kind == AX_TV_INT)
			return 0;
		break;
	case 'f':
		k = 2;
		if (v->kind == AX_TV_FLOAT ||
		    (v->kind == AX_TV_INT && op && op->k == O_INT))
			return 0;
		break;
	case 'b':
		k = 3;
		if (v->kind == AX_TV_BOOL)
			return 0;
		break;
	case 'L':
		if (v->kind == AX_TV_LIST) {
			size_t i;

			for (i = 0; i < v->u.list.n; i++)
				if (v->u.list.v[i]->kind != AX_TV_STRING)
					break;
			if (i == v->u.list.n)
				return 0;
		}
		if (op) {
			x->at = op->src;
			x->at_line = op->line;
			x->at_col = op->col;
		}
		return xerr(x,
		    "wrong type for value; expected []string; got %s",
		    v->kind == AX_TV_LIST ? "[]interface {}" : type_name(v));
	default: return 0;
	}
	if (op) {
		x->at = op->src;
		x->at_line = op->line;
		x->at_col = op->col;
		if (op->k == O_STRING || op->k == O_INT || op->k == O_FLOAT ||
		    op->k == O_BOOL || op->k == O_NIL)
			return xerr(
			    x, "expected %s; found %s", want_lit[k], op->src);
	}
	return xerr(x, "wrong type for value; expected %s; got %s", want_ty[k],
	    type_name(v));
}

static int call_func(ax_tmpl_exec_t *x, ax_tval_t *dot, const operand_t *f,
    operand_t **argops, size_t nargs, ax_tval_t *final, ax_tval_t **out,
    const char *csrc)
{
	size_t n = nargs + (final != NULL), i;
	ax_tval_t **args;
	int rv;

	/* and / or evaluate lazily */
	if (strcmp(f->fn->name, "and") == 0 || strcmp(f->fn->name, "or") == 0) {
		int is_and = f->fn->name[0] == 'a';
		ax_tval_t *v = NULL;

		if (n < 1)
			return xerr(x,
			    "wrong number of args for %s: want at least 1 got "
			    "0",
			    f->fn->name);
		for (i = 0; i < n; i++) {
			if (i < nargs) {
				if ((rv = eval_arg(x, dot, argops[i], &v)) != 0)
					return rv;
			} else
				v = final;
			if (is_and ? !ax_tv_truth(v) : ax_tv_truth(v))
				break;
		}
		*out = v;
		return 0;
	}
	if ((int)n < f->fn->min_args ||
	    (f->fn->max_args >= 0 && (int)n > f->fn->max_args)) {
		x->at = csrc;
		x->at_line = f->line;
		x->at_col = f->col;
		if (f->fn->max_args == f->fn->min_args)
			return xerr(x,
			    "wrong number of args for %s: want %d got %zu",
			    f->fn->name, f->fn->min_args, n);
		return xerr(x,
		    "wrong number of args for %s: want at least %d got %zu",
		    f->fn->name, f->fn->min_args, n);
	}
	args = ax_arena_alloc(x->arena, (n ? n : 1) * sizeof(*args));
	if (args == NULL)
		return oom(x);
	for (i = 0; i < nargs; i++)
		if ((rv = eval_arg(x, dot, argops[i], &args[i])) != 0)
			return rv;
	if (final)
		args[nargs] = final;
	if (f->fn->argtypes) {
		const char *ty = f->fn->argtypes;
		size_t tl = strlen(ty);

		for (i = 0; i < n; i++) {
			char c = i < tl ? ty[i]
			    : (tl > 0 && ty[tl - 1] == '*')
			    ? ty[tl >= 2 ? tl - 2 : 0]
			    : 'a';

			if (c == '*')
				c = tl >= 2 ? ty[tl - 2] : 'a';
			if ((rv = check_arg(x, c, i < nargs ? argops[i] : NULL,
			         args[i])) != 0)
				return rv;
		}
	}
	x->at = csrc;
	x->at_line = f->line;
	x->at_col = f->col;
	rv = f->fn->fn(x, args, n, out, x->err);
	if (rv != 0 && x->err->code != 0 &&
	    strncmp(x->err->msg, "template: ", 10) != 0) {
		char msg[AX_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", x->err->msg);
		x->err->code = 0;
		return xerr(x, "error calling %s: %s", f->fn->name, msg);
	}
	return rv;
}

static int eval_cmd(ax_tmpl_exec_t *x, ax_tval_t *dot, const cmd_t *c,
    ax_tval_t *final, ax_tval_t **out)
{
	const operand_t *first = c->args[0];
	ax_tval_t **args = NULL, *recv;
	size_t nargs = c->n - 1 + (final != NULL), i;
	var_t *var;
	int rv;

	if (first->k == O_FUNC)
		return call_func(
		    x, dot, first, c->args + 1, c->n - 1, final, out, c->src);
	if (first->k == O_FIELD || (first->k == O_VAR && first->nchain > 0) ||
	    (first->k == O_PIPE && first->nchain > 0)) {
		/* a method call when there are arguments */
		if (nargs > 0) {
			args = ax_arena_alloc(x->arena, nargs * sizeof(*args));
			if (args == NULL)
				return oom(x);
			for (i = 1; i < c->n; i++)
				if ((rv = eval_arg(x, dot, c->args[i],
				         &args[i - 1])) != 0)
					return rv;
			if (final)
				args[nargs - 1] = final;
		}
		x->at = first->src;
		x->at_line = first->line;
		x->at_col = first->col;
		if (first->k == O_FIELD)
			recv = dot;
		else if (first->k == O_VAR) {
			if ((var = find_var(x, first->name)) == NULL)
				return xerr(
				    x, "undefined variable: %s", first->name);
			recv = var->v;
		} else {
			if ((rv = eval_pipe(x, dot, first->pipe, &recv)) != 0)
				return rv;
			x->at = first->src;
			x->at_line = first->line;
			x->at_col = first->col;
		}
		return eval_chain(
		    x, recv, first->chain, first->nchain, args, nargs, out);
	}
	if (nargs > 0) {
		x->at = first->src;
		x->at_line = first->line;
		x->at_col = first->col;
		return xerr(
		    x, "can't give argument to non-function %s", first->src);
	}
	return eval_arg(x, dot, first, out);
}

static int eval_pipe(
    ax_tmpl_exec_t *x, ax_tval_t *dot, const pipe_t *p, ax_tval_t **out)
{
	ax_tval_t *v = NULL;
	size_t i;
	int rv;

	x->line = p->line;
	for (i = 0; i < p->ncmds; i++)
		if ((rv = eval_cmd(x, dot, p->cmds[i], v, &v)) != 0)
			return rv;
	for (i = 0; i < p->ndecl; i++) {
		if (p->assign) {
			var_t *var = find_var(x, p->decl[i]);

			if (var == NULL)
				return xerr(
				    x, "undefined variable: %s", p->decl[i]);
			var->v = v;
		} else if ((rv = push_var(x, p->decl[i], v)) != 0)
			return rv;
	}
	*out = v;
	return 0;
}

enum { WALK_OK = 0, WALK_BREAK = 1, WALK_CONTINUE = 2 };

static int walk_list(
    ax_tmpl_exec_t *x, ax_tval_t *dot, const nlist_t *l, int *ctl);

const ax_tclass_t ax_tclass_safe_html = {"template.HTML", NULL, NULL};

/* html/template's escaping of text content. */
static void html_escape(ax_buf_t *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '&': ax_buf_puts(out, "&amp;"); break;
		case '<': ax_buf_puts(out, "&lt;"); break;
		case '>': ax_buf_puts(out, "&gt;"); break;
		case '"': ax_buf_puts(out, "&#34;"); break;
		case '\'': ax_buf_puts(out, "&#39;"); break;
		case '+': ax_buf_puts(out, "&#43;"); break;
		case '\0': ax_buf_puts(out, "\xef\xbf\xbd"); break;
		default: ax_buf_putc(out, s[i]);
		}
}

static int print_value(ax_tmpl_exec_t *x, const ax_tval_t *v)
{
	ax_buf_t tmp = AX_BUF_INIT;

	if (x->html && v && v->cls == &ax_tclass_safe_html &&
	    v->kind == AX_TV_STRING) {
		ax_buf_append(x->out, v->u.s.p, v->u.s.n);
		return 0;
	}
	if (v == NULL || v->kind == AX_TV_NIL) {
		/* html/template prints nothing for a missing value */
		if (!x->html)
			ax_buf_puts(x->out, "<no value>");
		return 0;
	}
	if (!x->html) {
		ax_tv_print(v, x->out);
		return 0;
	}
	ax_tv_print(v, &tmp);
	if (!ax_buf_ok(&tmp))
		return ax_err_set(x->err, AX_ENOMEM, "out of memory");
	html_escape(x->out, tmp.p ? tmp.p : "", tmp.len);
	ax_buf_fini(&tmp);
	return 0;
}

static int exec_def(ax_tmpl_exec_t *x, const char *name, ax_tval_t *dot);

static int walk(ax_tmpl_exec_t *x, ax_tval_t *dot, const node_t *n, int *ctl)
{
	size_t mark = x->nvars;
	ax_tval_t *v;
	int rv = 0;

	x->line = n->line;
	switch (n->t) {
	case N_TEXT: ax_buf_append(x->out, n->text, n->tlen); return 0;
	case N_ACTION:
		if ((rv = eval_pipe(x, dot, n->pipe, &v)) != 0)
			return rv;
		if (n->pipe->ndecl == 0)
			rv = print_value(x, v);
		/* declared variables stay in scope to the end of the list */
		return rv;
	case N_BREAK: *ctl = WALK_BREAK; return 0;
	case N_CONTINUE: *ctl = WALK_CONTINUE; return 0;
	case N_IF:
	case N_WITH:
		if ((rv = eval_pipe(x, dot, n->pipe, &v)) != 0)
			return rv;
		if (ax_tv_truth(v))
			rv = walk_list(
			    x, n->t == N_WITH ? v : dot, n->list, ctl);
		else if (n->elselist)
			rv = walk_list(x, dot, n->elselist, ctl);
		break;
	case N_RANGE: {
		size_t i, cnt;
		int any = 0;

		if ((rv = eval_pipe(x, dot, n->pipe, &v)) != 0)
			return rv;
		x->nvars = mark; /* the decls are set per element below */
		if (v->kind != AX_TV_LIST && v->kind != AX_TV_MAP &&
		    v->kind != AX_TV_NIL && !(v->kind == AX_TV_INT && 0)) {
			ax_buf_t vb = AX_BUF_INIT;

			ax_tv_print(v, &vb);
			rv = xerr(
			    x, "range can't iterate over %s", vb.p ? vb.p : "");
			ax_buf_fini(&vb);
			return rv;
		}
		cnt = v->kind == AX_TV_LIST ? v->u.list.n
		    : v->kind == AX_TV_MAP  ? v->u.map.n
		                            : 0;
		for (i = 0; i < cnt; i++) {
			ax_tval_t *elem = v->kind == AX_TV_LIST ? v->u.list.v[i]
			                                        : v->u.map.v[i];
			ax_tval_t *key;
			int c = WALK_OK;

			any = 1;
			if (v->kind == AX_TV_LIST)
				key = ax_tv_int(x->arena, (int64_t)i);
			else
				key = ax_tv_str(x->arena, v->u.map.k[i]);
			if (key == NULL)
				return oom(x);
			if (n->pipe->ndecl == 1) {
				if (n->pipe->assign)
					find_var(x, n->pipe->decl[0])->v = elem;
				else if ((rv = push_var(
				              x, n->pipe->decl[0], elem)) != 0)
					return rv;
			} else if (n->pipe->ndecl == 2) {
				if (n->pipe->assign) {
					find_var(x, n->pipe->decl[0])->v = key;
					find_var(x, n->pipe->decl[1])->v = elem;
				} else if ((rv = push_var(x, n->pipe->decl[0],
				                key)) != 0 ||
				    (rv = push_var(
				         x, n->pipe->decl[1], elem)) != 0)
					return rv;
			}
			rv = walk_list(x, elem, n->list, &c);
			x->nvars = mark;
			if (rv != 0)
				return rv;
			if (c == WALK_BREAK)
				break;
		}
		if (!any && n->elselist)
			rv = walk_list(x, dot, n->elselist, ctl);
		break;
	}
	case N_TEMPLATE: {
		ax_tval_t *d = dot;
		const char *saved = x->tname;

		if (n->pipe && (rv = eval_pipe(x, dot, n->pipe, &d)) != 0)
			return rv;
		if (!n->pipe)
			d = ax_tv_nil(x->arena);
		if (d == NULL)
			return oom(x);
		if (!ax_tmpl_has(x->t, n->text)) {
			x->at = n->src;
			x->at_line = n->line;
			x->at_col = n->col;
			return xerr(x, "template \"%s\" not defined", n->text);
		}
		rv = exec_def(x, n->text, d);
		x->tname = saved;
		break;
	}
	}
	x->nvars = mark;
	return rv;
}

static int walk_list(
    ax_tmpl_exec_t *x, ax_tval_t *dot, const nlist_t *l, int *ctl)
{
	size_t i, mark = x->nvars;
	int rv = 0;

	/* an action's declarations live to the end of the list */
	for (i = 0; l && i < l->n; i++) {
		rv = walk(x, dot, l->v[i], ctl);
		if (rv != 0 || *ctl != WALK_OK)
			break;
	}
	x->nvars = mark;
	return rv;
}

static int exec_def(ax_tmpl_exec_t *x, const char *name, ax_tval_t *dot)
{
	tdef_t *d = find_def(x->t, name);
	size_t mark = x->nvars;
	int ctl = WALK_OK, rv;

	if (d == NULL)
		return xerr(x, "no such template \"%s\"", name);
	if (++x->depth > 10000)
		return xerr(x, "exceeded maximum template depth (10000)");
	x->tname = d->name;
	/* variables of the caller are not visible: hide them */
	{
		var_t *saved = x->vars;
		size_t sn = x->nvars, sc = x->capvars;

		x->vars = NULL;
		x->nvars = x->capvars = 0;
		rv = push_var(x, "$", dot);
		if (rv == 0)
			rv = walk_list(x, dot, d->root, &ctl);
		free(x->vars);
		x->vars = saved;
		x->nvars = sn;
		x->capvars = sc;
	}
	x->nvars = mark;
	x->depth--;
	return rv;
}

static int exec_mode(const ax_tmpl_t *t, const char *name, ax_tval_t *dot,
    ax_arena_t *arena, void *user, ax_buf_t *out, ax_err_t *err, int html)
{
	ax_tmpl_exec_t x;
	int rv;

	memset(&x, 0, sizeof(x));
	x.html = html;
	x.t = t;
	x.arena = arena;
	x.user = user;
	x.out = out;
	x.err = err;
	err->code = 0;
	err->msg[0] = '\0';
	x.tname = name;
	if (!ax_tmpl_has(t, name)) {
		return ax_err_set(err, AX_EINVAL,
		    "template: no template \"%s\" associated with template",
		    name);
	}
	if (dot == NULL && (dot = ax_tv_nil(arena)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	rv = exec_def(&x, name, dot);
	free(x.vars);
	if (rv == 0 && !ax_buf_ok(out))
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	return rv;
}

int ax_tmpl_exec(const ax_tmpl_t *t, const char *name, ax_tval_t *dot,
    ax_arena_t *arena, void *user, ax_buf_t *out, ax_err_t *err)
{
	return exec_mode(t, name, dot, arena, user, out, err, 0);
}

int ax_tmpl_exec_html(const ax_tmpl_t *t, const char *name, ax_tval_t *dot,
    ax_arena_t *arena, void *user, ax_buf_t *out, ax_err_t *err)
{
	return exec_mode(t, name, dot, arena, user, out, err, 1);
}

/* ---- fmt ---- */

static size_t utf8_len(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Go's strconv.Quote. */
static void go_quote(ax_buf_t *b, const char *s, size_t n)
{
	size_t i;

	ax_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': ax_buf_puts(b, "\\\""); break;
		case '\\': ax_buf_puts(b, "\\\\"); break;
		case '\n': ax_buf_puts(b, "\\n"); break;
		case '\t': ax_buf_puts(b, "\\t"); break;
		case '\r': ax_buf_puts(b, "\\r"); break;
		case '\a': ax_buf_puts(b, "\\a"); break;
		case '\b': ax_buf_puts(b, "\\b"); break;
		case '\f': ax_buf_puts(b, "\\f"); break;
		case '\v': ax_buf_puts(b, "\\v"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				ax_buf_printf(b, "\\x%02x", c);
			else
				ax_buf_putc(b, (char)c);
		}
	}
	ax_buf_putc(b, '"');
}

typedef struct spec {
	int minus, plus, space, zero, sharp;
	int width, prec; /* -1: none */
	char verb;
} spec_t;

static void pad(
    ax_buf_t *out, const spec_t *sp, const char *s, size_t n, int numeric)
{
	size_t w = utf8_len(s, n), k;

	if (sp->width < 0 || (size_t)sp->width <= w) {
		ax_buf_append(out, s, n);
		return;
	}
	k = (size_t)sp->width - w;
	if (sp->minus) {
		ax_buf_append(out, s, n);
		while (k--)
			ax_buf_putc(out, ' ');
		return;
	}
	if (sp->zero && numeric) {
		size_t sign =
		    n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ');

		ax_buf_append(out, s, sign);
		while (k--)
			ax_buf_putc(out, '0');
		ax_buf_append(out, s + sign, n - sign);
		return;
	}
	while (k--)
		ax_buf_putc(out, ' ');
	ax_buf_append(out, s, n);
}

static void bad_verb(ax_buf_t *out, char verb, const ax_tval_t *v)
{
	ax_buf_printf(out, "%%!%c(", verb);
	if (v == NULL || v->kind == AX_TV_NIL)
		ax_buf_puts(out, "<nil>");
	else {
		ax_buf_puts(out, type_name(v));
		ax_buf_putc(out, '=');
		ax_tv_print(v, out);
	}
	ax_buf_putc(out, ')');
}

static void fmt_int(ax_buf_t *out, const spec_t *sp, int64_t v)
{
	char tmp[128], digits[80];
	uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	const char *prefix = "";
	int base = 10, k = 0, i;
	size_t n;

	switch (sp->verb) {
	case 'x':
		base = 16;
		prefix = sp->sharp ? "0x" : "";
		break;
	case 'X':
		base = 16;
		prefix = sp->sharp ? "0X" : "";
		break;
	case 'o':
		base = 8;
		prefix = sp->sharp ? "0" : "";
		break;
	case 'O':
		base = 8;
		prefix = "0o";
		break;
	case 'b': base = 2; break;
	}
	do {
		int d = (int)(u % (uint64_t)base);

		digits[k++] =
		    (char)(d < 10 ? '0' + d
		                  : (sp->verb == 'X' ? 'A' : 'a') + d - 10);
		u /= (uint64_t)base;
	} while (u);
	while (sp->prec >= 0 && k < sp->prec && k < 70)
		digits[k++] = '0';
	n = 0;
	if (v < 0)
		tmp[n++] = '-';
	else if (sp->plus)
		tmp[n++] = '+';
	else if (sp->space)
		tmp[n++] = ' ';
	for (i = 0; prefix[i]; i++)
		tmp[n++] = prefix[i];
	for (i = k - 1; i >= 0; i--)
		tmp[n++] = digits[i];
	pad(out, sp, tmp, n, sp->prec < 0);
}

static void fmt_float(ax_buf_t *out, const spec_t *sp, double v)
{
	char tmp[512], f[32];
	int n;

	if (isnan(v) || isinf(v)) {
		/* Go: "+Inf" (" Inf" with the space flag), "-Inf", "NaN" */
		const char *s = isnan(v) ? (sp->plus ? "+NaN" : "NaN")
		    : v > 0 ? (sp->space && !sp->plus ? " Inf" : "+Inf")
		            : "-Inf";
		spec_t s2 = *sp;

		s2.zero = 0;
		pad(out, &s2, s, strlen(s), 0);
		return;
	}
	if ((sp->verb == 'g' || sp->verb == 'G' || sp->verb == 'v') &&
	    sp->prec < 0) {
		n = ax_fmt_double(tmp + 1, sizeof(tmp) - 1, v);
		if (sp->verb == 'G') {
			int i;

			for (i = 1; i <= n; i++)
				if (tmp[i] == 'e')
					tmp[i] = 'E';
		}
		if (v >= 0 && (sp->plus || sp->space)) {
			tmp[0] = sp->plus ? '+' : ' ';
			pad(out, sp, tmp, (size_t)n + 1, 1);
		} else
			pad(out, sp, tmp + 1, (size_t)n, 1);
		return;
	}
	snprintf(f, sizeof(f), "%%%s%s%s.%d%c", sp->plus ? "+" : "",
	    sp->space ? " " : "", sp->sharp ? "#" : "",
	    sp->prec < 0 ? 6 : sp->prec, sp->verb == 'v' ? 'g' : sp->verb);
	n = snprintf(tmp, sizeof(tmp), f, v);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	pad(out, sp, tmp, (size_t)n, 1);
}

static void fmt_one(ax_buf_t *out, const spec_t *sp, const ax_tval_t *v)
{
	ax_buf_t tmp = AX_BUF_INIT;
	char verb = sp->verb;

	if (verb == 'T') {
		const char *tn = type_name(v);

		pad(out, sp, tn, strlen(tn), 0);
		return;
	}
	if (verb == 'v') {
		if (v && v->kind == AX_TV_FLOAT) {
			fmt_float(out, sp, v->u.f);
			return;
		}
		if (v && v->kind == AX_TV_INT) {
			spec_t s2 = *sp;

			s2.verb = 'd';
			fmt_int(out, &s2, v->u.i);
			return;
		}
		ax_tv_print(v, &tmp);
		pad(out, sp, tmp.p ? tmp.p : "", tmp.len, 0);
		ax_buf_fini(&tmp);
		return;
	}
	switch (v ? v->kind : AX_TV_NIL) {
	case AX_TV_STRING:
		if (verb == 's') {
			size_t n = v->u.s.n;

			if (sp->prec >= 0) { /* at most prec runes */
				size_t i, r = 0;

				for (i = 0; i < v->u.s.n; i++) {
					if (((unsigned char)v->u.s.p[i] &
					        0xc0) != 0x80) {
						if ((int)r == sp->prec)
							break;
						r++;
					}
				}
				n = i;
			}
			pad(out, sp, v->u.s.p, n, 0);
		} else if (verb == 'q') {
			go_quote(&tmp, v->u.s.p, v->u.s.n);
			pad(out, sp, tmp.p, tmp.len, 0);
		} else if (verb == 'x' || verb == 'X') {
			size_t i;

			for (i = 0; i < v->u.s.n; i++)
				ax_buf_printf(&tmp,
				    verb == 'x' ? "%02x" : "%02X",
				    (unsigned char)v->u.s.p[i]);
			pad(out, sp, tmp.p ? tmp.p : "", tmp.len, 0);
		} else
			bad_verb(out, verb, v);
		break;
	case AX_TV_INT:
		if (strchr("dxXobO", verb))
			fmt_int(out, sp, v->u.i);
		else if (verb == 'c' || verb == 'q' || verb == 'U') {
			if (verb == 'U')
				ax_buf_printf(
				    &tmp, "U+%04llX", (long long)v->u.i);
			else {
				char u8[8];
				int64_t c = v->u.i;
				size_t k = 0;

				if (c < 0x80)
					u8[k++] = (char)c;
				else if (c < 0x800) {
					u8[k++] = (char)(0xc0 | (c >> 6));
					u8[k++] = (char)(0x80 | (c & 0x3f));
				} else if (c < 0x10000) {
					u8[k++] = (char)(0xe0 | (c >> 12));
					u8[k++] =
					    (char)(0x80 | ((c >> 6) & 0x3f));
					u8[k++] = (char)(0x80 | (c & 0x3f));
				} else {
					u8[k++] =
					    (char)(0xf0 | ((c >> 18) & 0x07));
					u8[k++] =
					    (char)(0x80 | ((c >> 12) & 0x3f));
					u8[k++] =
					    (char)(0x80 | ((c >> 6) & 0x3f));
					u8[k++] = (char)(0x80 | (c & 0x3f));
				}
				if (verb == 'q') {
					ax_buf_putc(&tmp, '\'');
					ax_buf_append(&tmp, u8, k);
					ax_buf_putc(&tmp, '\'');
				} else
					ax_buf_append(&tmp, u8, k);
			}
			pad(out, sp, tmp.p ? tmp.p : "", tmp.len, 0);
		} else
			bad_verb(out, verb, v);
		break;
	case AX_TV_FLOAT:
		if (strchr("eEfFgG", verb))
			fmt_float(out, sp, v->u.f);
		else
			bad_verb(out, verb, v);
		break;
	case AX_TV_BOOL:
		if (verb == 't')
			pad(out, sp, v->u.b ? "true" : "false", v->u.b ? 4 : 5,
			    0);
		else
			bad_verb(out, verb, v);
		break;
	default:
		if (verb == 's' && v && v->cls && v->cls->str) {
			v->cls->str((ax_tval_t *)v, &tmp);
			pad(out, sp, tmp.p ? tmp.p : "", tmp.len, 0);
		} else if (verb == 's' && v &&
		    (v->kind == AX_TV_LIST || v->kind == AX_TV_MAP)) {
			ax_tv_print(v, &tmp);
			pad(out, sp, tmp.p ? tmp.p : "", tmp.len, 0);
		} else
			bad_verb(out, verb, v);
	}
	ax_buf_fini(&tmp);
}

int ax_tmpl_sprintf(ax_arena_t *a, const char *fmt, ax_tval_t **args,
    size_t nargs, ax_buf_t *out)
{
	size_t ai = 0;
	const char *p = fmt;

	(void)a;
	while (*p) {
		spec_t sp;

		if (*p != '%') {
			ax_buf_putc(out, *p++);
			continue;
		}
		p++;
		if (*p == '%') {
			ax_buf_putc(out, '%');
			p++;
			continue;
		}
		memset(&sp, 0, sizeof(sp));
		sp.width = sp.prec = -1;
		for (;; p++) {
			if (*p == '-')
				sp.minus = 1;
			else if (*p == '+')
				sp.plus = 1;
			else if (*p == ' ')
				sp.space = 1;
			else if (*p == '0')
				sp.zero = 1;
			else if (*p == '#')
				sp.sharp = 1;
			else
				break;
		}
		if (*p == '*') {
			p++;
			if (ai < nargs && args[ai]->kind == AX_TV_INT)
				sp.width = (int)args[ai++]->u.i;
			else {
				ax_buf_puts(out, "%!(BADWIDTH)");
				ai += ai < nargs;
			}
		} else if (isdigit((unsigned char)*p)) {
			sp.width = 0;
			while (isdigit((unsigned char)*p))
				sp.width = sp.width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			sp.prec = 0;
			if (*p == '*') {
				p++;
				if (ai < nargs && args[ai]->kind == AX_TV_INT)
					sp.prec = (int)args[ai++]->u.i;
				else {
					ax_buf_puts(out, "%!(BADPREC)");
					ai += ai < nargs;
				}
			} else
				while (isdigit((unsigned char)*p))
					sp.prec = sp.prec * 10 + (*p++ - '0');
		}
		if (*p == '\0') {
			ax_buf_puts(out, "%!(NOVERB)");
			break;
		}
		sp.verb = *p++;
		if (ai >= nargs) {
			ax_buf_printf(out, "%%!%c(MISSING)", sp.verb);
			continue;
		}
		fmt_one(out, &sp, args[ai++]);
	}
	if (ai < nargs) {
		ax_buf_puts(out, "%!(EXTRA ");
		for (; ai < nargs; ai++) {
			ax_buf_puts(out, type_name(args[ai]));
			ax_buf_putc(out, '=');
			ax_tv_print(args[ai], out);
			if (ai + 1 < nargs)
				ax_buf_puts(out, ", ");
		}
		ax_buf_putc(out, ')');
	}
	return ax_buf_ok(out) ? 0 : AX_ENOMEM;
}

/* ---- builtins ---- */

static int ret_str(
    ax_tmpl_exec_t *x, ax_buf_t *b, ax_tval_t **out, ax_err_t *err)
{
	if (!ax_buf_ok(b)) {
		ax_buf_fini(b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	*out = ax_tv_strn(x->arena, b->p ? b->p : "", b->len);
	ax_buf_fini(b);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_not(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	*out = ax_tv_bool(x->arena, !ax_tv_truth(a[0]));
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_andor(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	/* evaluated lazily by call_func; kept for the name table */
	(void)x;
	(void)a;
	(void)n;
	(void)out;
	return ax_err_set(err, AX_EINTERNAL, "and/or called directly");
}

static int f_len(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int64_t l;

	(void)n;
	switch (a[0]->kind) {
	case AX_TV_STRING: l = (int64_t)a[0]->u.s.n; break;
	case AX_TV_LIST: l = (int64_t)a[0]->u.list.n; break;
	case AX_TV_MAP: l = (int64_t)a[0]->u.map.n; break;
	default:
		return ax_err_set(
		    err, AX_EINVAL, "len of type %s", type_name(a[0]));
	}
	*out = ax_tv_int(x->arena, l);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_index(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *v = a[0];
	size_t i;

	if (v->kind == AX_TV_NIL)
		return ax_err_set(err, AX_EINVAL, "index of untyped nil");
	for (i = 1; i < n; i++) {
		if (v->kind == AX_TV_LIST || v->kind == AX_TV_STRING) {
			size_t len =
			    v->kind == AX_TV_LIST ? v->u.list.n : v->u.s.n;

			if (a[i]->kind != AX_TV_INT)
				return ax_err_set(err, AX_EINVAL,
				    "cannot index slice/array with type %s",
				    type_name(a[i]));
			if (a[i]->u.i < 0 || (size_t)a[i]->u.i >= len)
				return ax_err_set(err, AX_EINVAL,
				    "index out of range: %lld",
				    (long long)a[i]->u.i);
			v = v->kind == AX_TV_LIST
			    ? v->u.list.v[a[i]->u.i]
			    : ax_tv_int(
			          x->arena, (unsigned char)v->u.s.p[a[i]->u.i]);
		} else if (v->kind == AX_TV_MAP) {
			ax_tval_t *e;

			if (a[i]->kind != AX_TV_STRING)
				return ax_err_set(err, AX_EINVAL,
				    "value has type %s; should be string",
				    type_name(a[i]));
			e = ax_tv_map_get(v, a[i]->u.s.p);
			v = e ? e
			      : (v->u.map.strings ? ax_tv_str(x->arena, "")
			                          : ax_tv_nil(x->arena));
		} else
			return ax_err_set(err, AX_EINVAL,
			    "can't index item of type %s", type_name(v));
		if (v == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	*out = v;
	return 0;
}

static int f_slice(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_tval_t *v = a[0];
	size_t len, lo = 0, hi, i;

	if (v->kind != AX_TV_STRING && v->kind != AX_TV_LIST)
		return ax_err_set(err, AX_EINVAL, "can't slice item of type %s",
		    type_name(v));
	len = v->kind == AX_TV_STRING ? v->u.s.n : v->u.list.n;
	hi = len;
	for (i = 1; i < n && i < 3; i++) {
		if (a[i]->kind != AX_TV_INT || a[i]->u.i < 0 ||
		    (size_t)a[i]->u.i > len)
			return ax_err_set(err, AX_EINVAL, "index out of range");
		if (i == 1)
			lo = (size_t)a[i]->u.i;
		else
			hi = (size_t)a[i]->u.i;
	}
	if (n > 3)
		return ax_err_set(
		    err, AX_EINVAL, "too many slice indexes: %zu", n - 1);
	if (lo > hi)
		return ax_err_set(
		    err, AX_EINVAL, "invalid slice index: %zu > %zu", lo, hi);
	if (v->kind == AX_TV_STRING)
		*out = ax_tv_strn(x->arena, v->u.s.p + lo, hi - lo);
	else {
		*out = ax_tv_list(x->arena, hi - lo);
		for (i = lo; *out && i < hi; i++)
			(*out)->u.list.v[i - lo] = v->u.list.v[i];
	}
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

/* fmt.Sprint / Sprintln */
static void sprint(ax_tval_t **a, size_t n, int ln, ax_buf_t *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 &&
		    (ln ||
		        (a[i]->kind != AX_TV_STRING &&
		            a[i - 1]->kind != AX_TV_STRING)))
			ax_buf_putc(b, ' ');
		ax_tv_print(a[i], b);
	}
	if (ln)
		ax_buf_putc(b, '\n');
}

static int f_print(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;

	sprint(a, n, 0, &b);
	return ret_str(x, &b, out, err);
}

static int f_println(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;

	sprint(a, n, 1, &b);
	return ret_str(x, &b, out, err);
}

static int f_printf(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;

	if (a[0]->kind != AX_TV_STRING)
		return ax_err_set(err, AX_EINVAL,
		    "wrong type for value; expected string; got %s",
		    type_name(a[0]));
	ax_tmpl_sprintf(x->arena, a[0]->u.s.p, a + 1, n - 1, &b);
	return ret_str(x, &b, out, err);
}

/* The text html/js/urlquery escape: one string argument as is, else
 * fmt.Sprint of all. */
static void eval_args_text(ax_tval_t **a, size_t n, ax_buf_t *b)
{
	if (n == 1 && a[0]->kind == AX_TV_STRING)
		ax_buf_append(b, a[0]->u.s.p, a[0]->u.s.n);
	else
		sprint(a, n, 0, b);
}

static int f_html(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t s = AX_BUF_INIT, b = AX_BUF_INIT;
	size_t i;

	eval_args_text(a, n, &s);
	for (i = 0; i < s.len; i++) {
		switch (s.p[i]) {
		case '"': ax_buf_puts(&b, "&#34;"); break;
		case '\'': ax_buf_puts(&b, "&#39;"); break;
		case '&': ax_buf_puts(&b, "&amp;"); break;
		case '<': ax_buf_puts(&b, "&lt;"); break;
		case '>': ax_buf_puts(&b, "&gt;"); break;
		case '\0': ax_buf_puts(&b, "\xef\xbf\xbd"); break;
		default: ax_buf_putc(&b, s.p[i]);
		}
	}
	ax_buf_fini(&s);
	return ret_str(x, &b, out, err);
}

static int f_js(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t s = AX_BUF_INIT, b = AX_BUF_INIT;
	size_t i;

	eval_args_text(a, n, &s);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		switch (c) {
		case '\\': ax_buf_puts(&b, "\\\\"); break;
		case '\'': ax_buf_puts(&b, "\\'"); break;
		case '"': ax_buf_puts(&b, "\\\""); break;
		case '<': ax_buf_puts(&b, "\\u003C"); break;
		case '>': ax_buf_puts(&b, "\\u003E"); break;
		case '&': ax_buf_puts(&b, "\\u0026"); break;
		case '=': ax_buf_puts(&b, "\\u003D"); break;
		default:
			if (c < 0x20)
				ax_buf_printf(&b, "\\u%04X", c);
			else
				ax_buf_putc(&b, (char)c);
		}
	}
	ax_buf_fini(&s);
	return ret_str(x, &b, out, err);
}

void ax_tmpl_query_escape(const char *s, size_t n, ax_buf_t *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			ax_buf_putc(b, (char)c);
		else if (c == ' ')
			ax_buf_putc(b, '+');
		else
			ax_buf_printf(b, "%%%02X", c);
	}
}

static int f_urlquery(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	ax_buf_t s = AX_BUF_INIT, b = AX_BUF_INIT;

	eval_args_text(a, n, &s);
	ax_tmpl_query_escape(s.p ? s.p : "", s.len, &b);
	ax_buf_fini(&s);
	return ret_str(x, &b, out, err);
}

/* Comparison of basic values: -2 incompatible, -3 not comparable. */
static int compare(const ax_tval_t *a, const ax_tval_t *b, int *cmp)
{
	if (a->kind == AX_TV_NIL || b->kind == AX_TV_NIL) {
		*cmp = a->kind == b->kind ? 0 : 1;
		return 0;
	}
	if (a->kind != b->kind)
		return -2;
	switch (a->kind) {
	case AX_TV_BOOL: *cmp = a->u.b - b->u.b; return 0;
	case AX_TV_INT: *cmp = a->u.i < b->u.i ? -1 : a->u.i > b->u.i; return 0;
	case AX_TV_FLOAT:
		*cmp = a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
		return 0;
	case AX_TV_STRING: {
		size_t m = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
		int c = memcmp(a->u.s.p, b->u.s.p, m);

		*cmp = c ? c : (a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n);
		return 0;
	}
	default: return -3;
	}
}

static int f_eq(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	size_t i;
	int c, rv, eq = 0;

	for (i = 1; i < n && !eq; i++) {
		rv = compare(a[0], a[i], &c);
		if (rv == -2)
			return ax_err_set(err, AX_EINVAL,
			    "incompatible types for comparison");
		if (rv == -3)
			return ax_err_set(
			    err, AX_EINVAL, "invalid type for comparison");
		eq = c == 0;
	}
	*out = ax_tv_bool(x->arena, eq);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_ne(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	int rv = f_eq(x, a, n, out, err);

	if (rv == 0)
		(*out)->u.b = !(*out)->u.b;
	return rv;
}

static int f_order(
    ax_tmpl_exec_t *x, ax_tval_t **a, ax_tval_t **out, ax_err_t *err, int which)
{
	int c, rv = compare(a[0], a[1], &c), r = 0;

	if (rv == -2)
		return ax_err_set(
		    err, AX_EINVAL, "incompatible types for comparison");
	if (rv != 0 || a[0]->kind == AX_TV_BOOL || a[0]->kind == AX_TV_NIL)
		return ax_err_set(
		    err, AX_EINVAL, "invalid type for comparison");
	switch (which) {
	case 0: r = c < 0; break;
	case 1: r = c <= 0; break;
	case 2: r = c > 0; break;
	case 3: r = c >= 0; break;
	}
	*out = ax_tv_bool(x->arena, r);
	return *out ? 0 : ax_err_set(err, AX_ENOMEM, "out of memory");
}

static int f_lt(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_order(x, a, out, err, 0);
}
static int f_le(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_order(x, a, out, err, 1);
}
static int f_gt(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_order(x, a, out, err, 2);
}
static int f_ge(
    ax_tmpl_exec_t *x, ax_tval_t **a, size_t n, ax_tval_t **out, ax_err_t *err)
{
	(void)n;
	return f_order(x, a, out, err, 3);
}

static const ax_tmpl_func_t builtins[] = {
    {"and", f_andor, 1, -1, NULL},
    {"or", f_andor, 1, -1, NULL},
    {"not", f_not, 1, 1, NULL},
    {"len", f_len, 1, 1, NULL},
    {"index", f_index, 1, -1, NULL},
    {"slice", f_slice, 1, -1, NULL},
    {"print", f_print, 0, -1, NULL},
    {"printf", f_printf, 1, -1, NULL},
    {"println", f_println, 0, -1, NULL},
    {"html", f_html, 0, -1, NULL},
    {"js", f_js, 0, -1, NULL},
    {"urlquery", f_urlquery, 0, -1, NULL},
    {"eq", f_eq, 2, -1, NULL},
    {"ne", f_ne, 2, 2, NULL},
    {"lt", f_lt, 2, 2, NULL},
    {"le", f_le, 2, 2, NULL},
    {"gt", f_gt, 2, 2, NULL},
    {"ge", f_ge, 2, 2, NULL},
    {NULL, NULL, 0, 0, NULL},
};
