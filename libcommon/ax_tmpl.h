/*
 * ax_tmpl: Go text/template, for the notification templates of the alert
 * router (Alertmanager's) and the rule templates of the ruler
 * (Prometheus').
 *
 * Syntax and semantics follow Go 1.19's text/template: text and {{ }}
 * actions with {{- -}} trimming and comments ({{ followed by slash-star);
 * pipelines of
 * commands joined by |, the piped value passed as the last argument;
 * operands: . and field chains (.A.B), variables ($, $x, $x.A), string
 * ("..." with Go escapes, `raw`), character, number, bool and nil
 * literals, function calls, parenthesised pipelines; $x := and $x =;
 * if/else if/else, range (lists, maps in key order; $i, $e :=; else;
 * break, continue), with/else, define, template, block.  Builtins: and,
 * or (short-circuit), not, len, index, slice, print, printf, println, eq,
 * ne, lt, le, gt, ge, html, js, urlquery.  A missing map key is the zero
 * value ("" for string maps), as with missingkey=zero, which Prometheus
 * and Alertmanager set.  Unknown functions are parse errors, as in Go.
 *
 * Values are dynamically typed (ax_tval_t) and live in an arena that the
 * caller supplies for the data and that execution uses for temporaries;
 * the arena is freed as a whole.  Host objects (an alert, a time) are
 * ax_tval_t of kind AX_TV_OBJ with a class whose `get` answers fields and
 * methods; maps may carry a class too (methods on a map type, such as
 * Alertmanager's KV.SortedPairs).
 *
 * Errors read as Go's: "template: NAME:LINE: ..." when parsing,
 * "template: NAME:LINE:COL: executing \"NAME\" at <.X>: ..." when
 * executing.
 *
 * Ownership: a template set (ax_tmpl_t) owns its parse trees and copies
 * of the source text; it is immutable after parsing and may be executed
 * from several threads at once, each with its own arena and output.
 */
#ifndef AX_TMPL_H
#define AX_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"

/* ---- arena ---- */

typedef struct ax_arena ax_arena_t;
ax_arena_t *ax_arena_new(void);
void ax_arena_free(ax_arena_t *a);
/* Zeroed memory from the arena; NULL when out of memory. */
void *ax_arena_alloc(ax_arena_t *a, size_t n);
char *ax_arena_strndup(ax_arena_t *a, const char *s, size_t n);

/* ---- values ---- */

typedef enum {
	AX_TV_NIL,
	AX_TV_BOOL,
	AX_TV_INT,
	AX_TV_FLOAT,
	AX_TV_STRING,
	AX_TV_LIST,
	AX_TV_MAP,
	AX_TV_OBJ
} ax_tval_kind_t;

typedef struct ax_tval ax_tval_t;
typedef struct ax_tclass ax_tclass_t;
typedef struct ax_tmpl_exec ax_tmpl_exec_t;

struct ax_tval {
	ax_tval_kind_t kind;
	const ax_tclass_t *cls; /* OBJ, and optionally MAP: fields, methods */
	union {
		int b;
		int64_t i;
		double f;
		struct {
			const char *p;
			size_t n;
		} s;
		struct {
			ax_tval_t **v;
			size_t n;
		} list;
		struct {
			const char **k; /* sorted by key */
			ax_tval_t **v;
			size_t n, cap;
			int strings; /* a map of strings: missing key is "" */
		} map;
		void *obj;
	} u;
};

/*
 * A host class.  get(x, self, name, args, nargs, out, err): the field or
 * method `name` of self (args are the method's arguments, none for a
 * field).  Return 0 with *out set, AX_ENOENT when there is no such field
 * or method (the engine then reports it, or falls back to the map key for
 * maps), or an error with err set.  str, when set, is how the value
 * prints.
 */
struct ax_tclass {
	const char *type_name; /* for messages and %T, e.g. "template.Alert" */
	int (*get)(ax_tmpl_exec_t *x, ax_tval_t *self, const char *name,
	    ax_tval_t **args, size_t nargs, ax_tval_t **out, ax_err_t *err);
	void (*str)(ax_tval_t *self, ax_buf_t *out);
};

/* Constructors (NULL when out of memory).  Strings are copied. */
ax_tval_t *ax_tv_nil(ax_arena_t *a);
ax_tval_t *ax_tv_bool(ax_arena_t *a, int b);
ax_tval_t *ax_tv_int(ax_arena_t *a, int64_t i);
ax_tval_t *ax_tv_float(ax_arena_t *a, double f);
ax_tval_t *ax_tv_str(ax_arena_t *a, const char *s);
ax_tval_t *ax_tv_strn(ax_arena_t *a, const char *s, size_t n);
ax_tval_t *ax_tv_list(ax_arena_t *a, size_t n); /* n NIL slots */
/* A map with room for cap keys; add with ax_tv_map_set (keys copied; a
 * repeated key replaces), which keeps the keys sorted. */
ax_tval_t *ax_tv_map(ax_arena_t *a, size_t cap, int strings);
int ax_tv_map_set(ax_arena_t *a, ax_tval_t *m, const char *k, ax_tval_t *v);
ax_tval_t *ax_tv_map_get(const ax_tval_t *m, const char *k);
ax_tval_t *ax_tv_obj(ax_arena_t *a, const ax_tclass_t *cls, void *obj);

/* Truth as Go's template sees it. */
int ax_tv_truth(const ax_tval_t *v);
/* Print as fmt.Sprint would. */
void ax_tv_print(const ax_tval_t *v, ax_buf_t *out);

/* ---- functions ---- */

typedef int (*ax_tmpl_fn)(ax_tmpl_exec_t *x, ax_tval_t **args, size_t nargs,
    ax_tval_t **out, ax_err_t *err);

typedef struct ax_tmpl_func {
	const char *name;
	ax_tmpl_fn fn;
	int min_args;
	int max_args; /* -1: variadic */
	/* Parameter types checked before the call, as Go checks a typed
	 * function's arguments: one letter per parameter, 's' string, 'L'
	 * []string, 'i' int, 'f' float64, 'b' bool, 'a' any; a trailing '*'
	 * repeats the letter before it.  NULL: unchecked. */
	const char *argtypes;
} ax_tmpl_func_t;

/* The execution's arena and the user pointer given to ax_tmpl_exec. */
ax_arena_t *ax_tmpl_arena(ax_tmpl_exec_t *x);
void *ax_tmpl_user(ax_tmpl_exec_t *x);

/* ---- templates ---- */

typedef struct ax_tmpl ax_tmpl_t;

/* A new, empty set that knows the builtins plus funcs (NULL-name
 * terminated tables, borrowed; may be NULL). */
ax_tmpl_t *ax_tmpl_new(const ax_tmpl_func_t *funcs, const ax_tmpl_func_t *more);
void ax_tmpl_free(ax_tmpl_t *t);
/* Parse text as template `name` (its {{define}}s join the set; a
 * redefinition replaces).  AX_EPARSE with Go's message. */
int ax_tmpl_parse(
    ax_tmpl_t *t, const char *name, const char *text, ax_err_t *err);
/* A new set on top of parent (borrowed, must outlive it): names not
 * defined in the child are looked up in parent, so a one-off template can
 * be parsed and run without changing a shared set. */
ax_tmpl_t *ax_tmpl_child(const ax_tmpl_t *parent);
/* Is template name defined? */
int ax_tmpl_has(const ax_tmpl_t *t, const char *name);
/* Execute template name with dot; output appended to out.  arena holds
 * temporaries (use the one the data lives in).  AX_EINVAL with Go's
 * message on an execution error. */
int ax_tmpl_exec(const ax_tmpl_t *t, const char *name, ax_tval_t *dot,
    ax_arena_t *arena, void *user, ax_buf_t *out, ax_err_t *err);

/* The class of html/template's template.HTML strings (Alertmanager's
 * safeHtml returns one): ax_tmpl_exec_html prints them unescaped. */
extern const ax_tclass_t ax_tclass_safe_html;
/* ax_tmpl_exec, with every action's output HTML-escaped as html/template
 * escapes text (& < > " ' + and NUL), except values of class
 * ax_tclass_safe_html; Alertmanager renders e-mail HTML bodies with
 * html/template.  Attribute, URL and script contexts get the same
 * escaping: safe, though not always byte-identical to html/template's
 * contextual escapers. */
int ax_tmpl_exec_html(const ax_tmpl_t *t, const char *name, ax_tval_t *dot,
    ax_arena_t *arena, void *user, ax_buf_t *out, ax_err_t *err);

/* Go's url.QueryEscape of s[0..n), appended to b (urlquery, and links
 * such as Prometheus' graphLink). */
void ax_tmpl_query_escape(const char *s, size_t n, ax_buf_t *b);

/* Go's fmt.Sprintf over template values (for printf and for hosts). */
int ax_tmpl_sprintf(ax_arena_t *a, const char *fmt, ax_tval_t **args,
    size_t nargs, ax_buf_t *out);

#endif
