/*
 * ax_amatch: Alertmanager 0.25 label matchers.
 *
 * The text form is the one Alertmanager's routes, inhibit rules, silences
 * and amtool accept:
 *
 *     {name="value", name2=~"re", name3!=value, name4!~"re"}
 *
 * The braces are optional; matchers are separated by commas outside double
 * quotes; a value is either bare text (surrounding whitespace trimmed) or
 * double-quoted with the escapes \n, \" and \\ (any other backslash stays
 * literal).  Names follow [a-zA-Z_:][a-zA-Z0-9_:]*.  A regex value is
 * matched against the whole label value (^(?:re)$, RE2 syntax, see
 * ax_regex), and a missing label matches as the empty string.
 *
 * Printed form (ax_amatcher_format): name, operator, then the value in
 * double quotes with \\, \n and \" escaped, exactly as Alertmanager's
 * Matcher.String(); a set prints as {a="1",b=~"x"}.
 *
 * Ownership: an ax_amatchers_t owns its matchers, their strings and
 * compiled regexes; release with ax_amatchers_free().  Compiled matchers
 * are immutable and safe to share between threads.
 */
#ifndef AX_AMATCH_H
#define AX_AMATCH_H

#include <stddef.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_labels.h"
#include "ax_regex.h"

typedef enum {
	AX_AM_EQ = 0, /* =  (order is Alertmanager's MatchType order) */
	AX_AM_NE = 1, /* != */
	AX_AM_RE = 2, /* =~ */
	AX_AM_NRE = 3 /* !~ */
} ax_amatch_type_t;

typedef struct ax_amatcher {
	char *name;
	char *value;
	ax_amatch_type_t type;
	ax_regex_t *re; /* RE and NRE only */
} ax_amatcher_t;

typedef struct ax_amatchers {
	ax_amatcher_t *v;
	size_t n;
} ax_amatchers_t;

/* Append one matcher (strings copied, regex compiled).  AX_EINVAL with the
 * regex error in err, AX_ENOMEM. */
int ax_amatchers_add(ax_amatchers_t *ms, ax_amatch_type_t type,
    const char *name, const char *value, ax_err_t *err);

/* Parse one matcher ("a=b", ` a = "b" `) and append it.  AX_EPARSE with
 * Alertmanager's wording ("bad matcher format: ...", "matcher value
 * contains unescaped double quote: ..."). */
int ax_amatcher_parse(ax_amatchers_t *ms, const char *s, ax_err_t *err);
/* Parse a comma-separated list, braces optional, and append all. */
int ax_amatchers_parse(ax_amatchers_t *ms, const char *s, ax_err_t *err);

void ax_amatchers_free(ax_amatchers_t *ms);

/* Sort as Alertmanager sorts a route's matchers: name, value, type. */
void ax_amatchers_sort(ax_amatchers_t *ms);

/* Does value (NULL: label absent, same as "") satisfy m? */
int ax_amatcher_matches(const ax_amatcher_t *m, const char *value);
/* Do all matchers match ls?  An empty set matches everything. */
int ax_amatchers_match(const ax_amatchers_t *ms, const ax_labels_t *ls);

const char *ax_amatch_op(ax_amatch_type_t t);
void ax_amatcher_format(const ax_amatcher_t *m, ax_buf_t *b);
/* {m1,m2,...} */
void ax_amatchers_format(const ax_amatchers_t *ms, ax_buf_t *b);

#endif
