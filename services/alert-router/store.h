/*
 * ar_store: the alert store -- every alert the router knows, keyed by
 * the fingerprint of its label set, merged as Alertmanager 0.25 merges.
 *
 * An alert is immutable once stored and reference counted: a put builds a
 * new alert from the old and the incoming one (ar_alert_merge) and
 * replaces the pointer, so readers holding a reference keep a consistent
 * copy without locks.  Merge rules (Alertmanager's types.Alert.Merge):
 * the younger update (updated_ms) wins, except that the earliest start
 * is kept, and an older explicit end time wins over a younger one when it
 * is later (a resolve_timeout end never does, and of two resolved alerts
 * the later end wins).
 *
 * Resolved alerts (ends_ms in the past) stay until ar_store_gc removes
 * those resolved before a cut-off, so the dispatcher can still send their
 * resolved notifications.
 *
 * Threads: all functions lock the store; callbacks of ar_store_each run
 * under the lock and must not call back into the store.
 */
#ifndef AR_STORE_H
#define AR_STORE_H

#include <pthread.h>
#include <stdint.h>

#include "ax_hmap.h"
#include "ax_labels.h"

typedef struct ar_alert {
	int refs;
	uint64_t fp;
	ax_labels_t *labels;      /* owned; never empty */
	ax_labels_t *annotations; /* owned; may be NULL */
	char *generator_url;      /* owned; may be NULL */
	int64_t starts_ms;
	int64_t ends_ms; /* resolve_timeout applied when it was unset */
	int64_t updated_ms;
	int timeout; /* ends_ms came from resolve_timeout */
} ar_alert_t;

/* Alertmanager's fingerprint of a label set (model.LabelSet.Fingerprint:
 * FNV-1a 64 over sorted name 0xff value 0xff). */
uint64_t ar_fingerprint(const ax_labels_t *ls);

/* A new alert holding one reference; takes ownership of labels,
 * annotations and url (even on failure).  NULL on allocation failure. */
ar_alert_t *ar_alert_new(ax_labels_t *labels, ax_labels_t *annotations,
    char *url, int64_t starts_ms, int64_t ends_ms, int64_t updated_ms,
    int timeout);
ar_alert_t *ar_alert_ref(ar_alert_t *a);
void ar_alert_unref(ar_alert_t *a);
int ar_alert_resolved(const ar_alert_t *a, int64_t now_ms);
/* The merge of stored a and incoming b (see above): a new alert with one
 * reference, or NULL on allocation failure. */
ar_alert_t *ar_alert_merge(const ar_alert_t *a, const ar_alert_t *b);

/* Go's model.LabelSet.Before: fewer labels first; otherwise at the first
 * difference, the set lacking the smaller name first, or the smaller
 * value first.  <0, 0, >0. */
int ar_labels_before(const ax_labels_t *a, const ax_labels_t *b);

typedef struct ar_store {
	pthread_mutex_t mu;
	ax_u64map_t alerts; /* fp -> ar_alert_t* */
	size_t n;
} ar_store_t;

void ar_store_init(ar_store_t *s);
void ar_store_fini(ar_store_t *s);

/* Merge a into the store.  Borrows a (the store takes its own
 * reference).  OUT: *stored (optional), a new reference to the stored
 * alert, to be released by the caller.  AX_ENOMEM. */
int ar_store_put(ar_store_t *s, ar_alert_t *a, ar_alert_t **stored);
/* A new reference to the alert with fingerprint fp, or NULL. */
ar_alert_t *ar_store_get(ar_store_t *s, uint64_t fp);
/* New references to every alert (OUT: *out malloc'd array, *n), for
 * readers that must not hold the lock.  AX_ENOMEM. */
int ar_store_list(ar_store_t *s, ar_alert_t ***out, size_t *n);
void ar_store_list_free(ar_alert_t **v, size_t n);
/* Drop alerts resolved before cutoff_ms; returns how many. */
size_t ar_store_gc(ar_store_t *s, int64_t cutoff_ms);
size_t ar_store_count(ar_store_t *s);

#endif
