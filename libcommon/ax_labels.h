/*
 * ax_labels: immutable, sorted label sets and the label-string interner.
 *
 * An ax_labels_t is one allocation: a header, an array of (name, value)
 * pointers sorted by name, and the NUL-terminated strings themselves.  It
 * never changes after construction, so it can be shared between threads
 * without locks and freed with ax_labels_free().  Labels with an empty
 * value are dropped at construction (Prometheus treats them as absent).
 *
 * The hash is Prometheus' labels.Hash(): xxHash64 (seed 0) over
 * name 0xff value 0xff for every label in order.  It is stable across
 * processes, versions and machines, so it can be persisted and compared.
 */
#ifndef AX_LABELS_H
#define AX_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef struct ax_label {
	const char *name;
	const char *value;
} ax_label_t;

typedef struct ax_labels {
	uint32_t n;
	uint32_t bytes; /* total size of this allocation */
	uint64_t hash;  /* ax_labels_hash, computed once */
	ax_label_t l[];
} ax_labels_t;

#define AX_METRIC_NAME "__name__"

/* Validation flags */
#define AX_LABELS_ALLOW_RESERVED 0x1 /* accept __foo__ names (targets) */
#define AX_LABELS_REQUIRE_NAME 0x2   /* require a __name__ label */

/*
 * Build a label set from n pairs (in any order).  Strings are copied;
 * pairs with an empty or NULL value are dropped.  Duplicate names are an
 * error (AX_EINVAL with the name in err).  OUT: *out, owned by the caller,
 * released with ax_labels_free().
 */
int ax_labels_new(
    const ax_label_t *pairs, size_t n, ax_labels_t **out, ax_err_t *err);

/* Convenience: from a NULL-terminated list "name", "value", ..., NULL. */
int ax_labels_from_strings(ax_labels_t **out, ax_err_t *err, ...);

/* Duplicate ls (NULL on allocation failure).  Caller owns the copy. */
ax_labels_t *ax_labels_dup(const ax_labels_t *ls);

/* Free; NULL is a no-op. */
void ax_labels_free(ax_labels_t *ls);

/* The value of name, or NULL when absent (or ls is NULL).  Borrowed
 * from ls. */
const char *ax_labels_get(const ax_labels_t *ls, const char *name);

/* Prometheus' labels.Hash over the whole set. */
uint64_t ax_labels_hash(const ax_labels_t *ls);
/* Hash over the pairs alone (the same function, for unbuilt sets). */
uint64_t ax_labels_hash_pairs(const ax_label_t *pairs, size_t n);

/* Order as Prometheus' labels.Compare: <0, 0, >0. */
int ax_labels_cmp(const ax_labels_t *a, const ax_labels_t *b);
int ax_labels_equal(const ax_labels_t *a, const ax_labels_t *b);

/*
 * Validate by Prometheus' rules: metric name charset [a-zA-Z_:][a-zA-Z0-9_:]*,
 * label name charset [a-zA-Z_][a-zA-Z0-9_]*, names starting with "__" are
 * reserved (allowed only with AX_LABELS_ALLOW_RESERVED, __name__ always),
 * values valid UTF-8.  Returns 0 or AX_EINVAL with the reason in err.
 */
int ax_labels_validate(const ax_labels_t *ls, int flags, ax_err_t *err);

int ax_label_name_valid(const char *s, size_t n);
/* Make s a valid label name tail in place, as Prometheus'
 * strutil.SanitizeLabelName does: every byte outside [a-zA-Z0-9_]
 * becomes '_'. */
void ax_label_name_sanitize(char *s);
int ax_metric_name_valid(const char *s, size_t n);
int ax_utf8_valid(const char *s, size_t n);

/* Append {a="1", b="2"} (Prometheus' String()) to b, metric name first
 * as name{...} when present. */
void ax_labels_format(const ax_labels_t *ls, ax_buf_t *b);
/* Append ls as a JSON object {"name":"value",...} (NULL: {}). */
void ax_labels_put_json(const ax_labels_t *ls, ax_buf_t *b);

/*
 * Builder: start from a base set (may be NULL), set and delete labels,
 * then build a new immutable set.  The builder stores the pointers it is
 * given; the strings must outlive ax_labels_builder_build().
 */
typedef struct ax_labels_builder {
	ax_label_t *pairs;
	size_t n;
	size_t cap;
	int oom;
} ax_labels_builder_t;

void ax_labels_builder_init(ax_labels_builder_t *b, const ax_labels_t *base);
void ax_labels_builder_fini(ax_labels_builder_t *b);
/* Set name=value (value "" or NULL deletes). */
void ax_labels_builder_set(
    ax_labels_builder_t *b, const char *name, const char *value);
void ax_labels_builder_del(ax_labels_builder_t *b, const char *name);
/* OUT: *out owned by the caller. */
int ax_labels_builder_build(
    ax_labels_builder_t *b, ax_labels_t **out, ax_err_t *err);

/*
 * The interner: one shared copy of each distinct string, reference
 * counted.  Thread-safe (one mutex); a per-thread cache is the caller's
 * business.
 */
typedef struct ax_intern ax_intern_t;

/* OUT: the new interner, or NULL on allocation failure. */
ax_intern_t *ax_intern_new(void);
/* Free the interner and every string in it; NULL is a no-op. */
void ax_intern_free(ax_intern_t *in);
/*
 * Return the interned copy of s[0..n) with its reference count raised by
 * one, or NULL on allocation failure.  The pointer stays valid until the
 * matching ax_intern_release().
 */
const char *ax_intern_get(ax_intern_t *in, const char *s, size_t n);
/* Raise the count of an already interned string. */
void ax_intern_hold(ax_intern_t *in, const char *s);
/* Drop one reference; the string is freed at zero. */
void ax_intern_release(ax_intern_t *in, const char *s);
/* Number of distinct strings held. */
size_t ax_intern_count(ax_intern_t *in);

#endif
