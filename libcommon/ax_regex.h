/*
 * ax_regex: Prometheus-compatible regular expressions on PCRE2.
 *
 * Prometheus 2.42 and Alertmanager 0.25 compile a label regex as
 * ^(?:re)$ with Go's RE2 engine.  We reproduce that on PCRE2:
 *   - fully anchored with PCRE2_ANCHORED | PCRE2_ENDANCHORED (a bare $ would
 *     also match before a trailing newline), PCRE2_DOLLAR_ENDONLY for the
 *     pattern's own $, no PCRE2_DOTALL (. does not match \n in 2.42), UTF-8;
 *   - syntax RE2 rejects (lookarounds, backreferences, atomic groups,
 *     possessive quantifiers, recursion, callouts, \K, \R, \X, (?<name>,
 *     repeat counts above 1000, ...) is rejected before compiling;
 *   - a match limit turns catastrophic backtracking into an error
 *     (AX_ELIMIT), never a silent non-match;
 *   - invalid UTF-8 in a subject never matches and never errors.
 * A compiled regex is immutable and safe to share between threads; the
 * match scratch space is per thread.
 */
#ifndef AX_REGEX_H
#define AX_REGEX_H

#include <stddef.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef struct ax_regex ax_regex_t;

#define AX_REGEX_MAX_GROUPS 64

/* Compile pattern.  OUT: *out, owned by the caller (ax_regex_free). */
int ax_regex_compile(const char *pattern, ax_regex_t **out, ax_err_t *err);
void ax_regex_free(ax_regex_t *re);
/* The source pattern as given (borrowed). */
const char *ax_regex_pattern(const ax_regex_t *re);

/*
 * Match the whole subject.  Returns 1 on a match, 0 on no match,
 * AX_ELIMIT when the match limit was hit, AX_ENOMEM.  Allocates nothing
 * after the first call on a thread.
 */
int ax_regex_match(const ax_regex_t *re, const char *s, size_t n);

/*
 * Match, then expand template with $1, ${1}, $name, ${name} and $$ as Go's
 * Regexp.Expand does (a name is the longest run of [A-Za-z0-9_]; unknown
 * or unmatched groups expand to ""), appending to out.  Returns 1 when it
 * matched (and appended), 0 when not, or a negative AX_E* code.
 */
int ax_regex_expand(const ax_regex_t *re, const char *s, size_t n,
    const char *tmpl, ax_buf_t *out);

/* Compile for searching, as Go's regexp.MustCompile(pattern) without
 * anchors: ax_regex_match then reports a match anywhere in the subject
 * (regexp.MatchString).  Templates' match and reReplaceAll use it. */
int ax_regex_compile_search(
    const char *pattern, ax_regex_t **out, ax_err_t *err);
/* Go's Regexp.ReplaceAllString: every non-overlapping match (an empty
 * match right after a match is skipped) replaced by template t expanded
 * as in ax_regex_expand; appended to out.  0, AX_ENOMEM or AX_ELIMIT. */
int ax_regex_replace_all(const ax_regex_t *re, const char *s, size_t n,
    const char *t, ax_buf_t *out);

/* Is the pattern a plain literal (no metacharacters)?  Lets callers use
 * strcmp for the common case. */
int ax_regex_is_literal(const ax_regex_t *re);

#endif
