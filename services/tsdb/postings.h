/*
 * postings: the inverted index of the head.  For every label pair
 * (name, value) a sorted list of series refs ("postings"), plus the list of
 * all refs; set operations (intersect, union, subtract) on sorted lists;
 * and selection by PromQL matchers with Prometheus' rules:
 *   - a matcher that does not match "" contributes the union of the
 *     postings of the values it matches, intersected with the others;
 *   - a matcher that matches "" (a!="x", a=~".*", a="") subtracts the
 *     postings of the values it does not match;
 *   - with only empty-matching matchers the start set is all series.
 * Not thread-safe: the head locks around it.
 */
#ifndef TSDB_POSTINGS_H
#define TSDB_POSTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_hmap.h"
#include "ax_labels.h"
#include "ax_promql.h"

typedef struct tsdb_plist {
	uint64_t *v;
	size_t n;
	size_t cap;
} tsdb_plist_t;

void tsdb_plist_fini(tsdb_plist_t *p);
/* Insert keeping order (appending when ref is the largest).  AX_ENOMEM. */
int tsdb_plist_add(tsdb_plist_t *p, uint64_t ref);
void tsdb_plist_remove(tsdb_plist_t *p, uint64_t ref);
int tsdb_plist_copy(tsdb_plist_t *dst, const tsdb_plist_t *src);
/* out = a ∩ b, a ∪ b, a \ b (out must not alias the inputs). */
int tsdb_plist_intersect(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out);
int tsdb_plist_union(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out);
int tsdb_plist_subtract(
    const tsdb_plist_t *a, const tsdb_plist_t *b, tsdb_plist_t *out);

/*
 * A source of postings (the head's index, a block's index): selection by
 * matchers works the same over any of them.
 */
typedef struct tsdb_ix_src {
	void *ctx;
	/* Call fn for each value of name, any order; stop when fn returns
	 * non-zero (then return non-zero). */
	int (*each_value)(void *ctx, const char *name,
	    int (*fn)(void *arg, const char *value, size_t len), void *arg);
	/* Postings of name=value into out (out->n = 0 when none); AX_ENOMEM. */
	int (*postings)(
	    void *ctx, const char *name, const char *value, tsdb_plist_t *out);
	int (*all)(void *ctx, tsdb_plist_t *out);
} tsdb_ix_src_t;

/* Refs of series matching all matchers in src, with Prometheus' rules
 * (above).  OUT: *out (caller finis). */
int tsdb_select(const tsdb_ix_src_t *src, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err);

typedef struct tsdb_index {
	ax_hmap_t names; /* name -> tsdb_lname_t* */
	tsdb_plist_t all;
} tsdb_index_t;

void tsdb_index_init(tsdb_index_t *ix);
void tsdb_index_fini(tsdb_index_t *ix);
int tsdb_index_add(tsdb_index_t *ix, uint64_t ref, const ax_labels_t *ls);
void tsdb_index_remove(tsdb_index_t *ix, uint64_t ref, const ax_labels_t *ls);
/* Postings of name=value (borrowed, NULL when none). */
const tsdb_plist_t *tsdb_index_postings(
    const tsdb_index_t *ix, const char *name, const char *value);
/* Refs of series matching all matchers.  OUT: *out (caller finis). */
int tsdb_index_select(const tsdb_index_t *ix, ax_matcher_t *const *ms, size_t n,
    tsdb_plist_t *out, ax_err_t *err);

/* Sorted label names / values of a name.  OUT: *out, an array of
 * borrowed strings (valid while the index is unchanged), caller frees the
 * array only. */
int tsdb_index_label_names(
    const tsdb_index_t *ix, const char ***out, size_t *n);
int tsdb_index_label_values(
    const tsdb_index_t *ix, const char *name, const char ***out, size_t *n);
/* Number of values of a name (0 when unknown). */
size_t tsdb_index_value_count(const tsdb_index_t *ix, const char *name);

#endif
