/*
 * ar_silence: silences, as Alertmanager 0.25 keeps them, persisted.
 *
 * A silence mutes the alerts whose labels its matchers match, while it is
 * active (starts_ms <= now < ends_ms); before that it is pending, after
 * that expired.  Setting follows Alertmanager's silences.Set: a silence
 * with an unknown id is ErrNotFound (AX_ENOENT); an existing one is
 * updated in place when the matchers are unchanged and the time change is
 * allowed for its state (an active one keeps its start and may not end in
 * the past; a pending one may not start in the past; an expired one never
 * changes), otherwise the old one is expired and a new silence (new id)
 * replaces it; a new silence starting in the past starts now.  Expiring
 * an active silence ends it now; a pending one starts and ends now.
 * Expired silences are dropped data.retention after their end.
 *
 * Silences are immutable and reference counted: a change replaces the
 * pointer, so readers can hold a list without the lock.
 *
 * Persistence: every change rewrites <dir>/silences.json (temporary file,
 * fsync, rename, fsync of the directory) before the call returns, so an
 * acknowledged silence survives kill -9.  Layout:
 *   {"version":1,"silences":[{"id":"<uuid>","matchers":[{"name":"..",
 *    "value":"..","isRegex":false,"isEqual":true}],"startsAt":<ms>,
 *    "endsAt":<ms>,"updatedAt":<ms>,"createdBy":"..","comment":".."}]}
 * A damaged file is an error naming it: starting without the silences
 * would page people who silenced a known problem.
 *
 * Replication (HA, cluster.h): on_change, when set, is told of every
 * silence stored by a local set or expire (under the lock: it must not
 * call back); ar_silences_merge takes peers' silences, last writer (by
 * updated_ms) wins.
 */
#ifndef AR_SILENCE_H
#define AR_SILENCE_H

#include <pthread.h>
#include <stdint.h>

#include "ax_amatch.h"
#include "ax_err.h"
#include "ax_labels.h"

typedef enum { AR_SIL_PENDING, AR_SIL_ACTIVE, AR_SIL_EXPIRED } ar_sil_state_t;

typedef struct ar_silence {
	int refs;
	char id[40];
	ax_amatchers_t matchers;
	int64_t starts_ms, ends_ms, updated_ms;
	char *created_by;
	char *comment;
} ar_silence_t;

typedef struct ar_silences {
	pthread_mutex_t mu;
	ar_silence_t **v;
	size_t n, cap;
	char *dir; /* NULL: not persisted */
	int64_t retention_ms;
	uint64_t version; /* bumped on every change */
	/* set before other threads use the silences */
	void (*on_change)(void *arg, ar_silence_t *sil);
	void *on_change_arg;
} ar_silences_t;

/* Open: load <dir>/silences.json when it exists.  dir NULL keeps
 * silences in memory only. */
int ar_silences_open(
    ar_silences_t *s, const char *dir, int64_t retention_ms, ax_err_t *err);
void ar_silences_close(ar_silences_t *s);

/* A new, unset silence with one reference (NULL: out of memory). */
ar_silence_t *ar_silence_new(void);
ar_silence_t *ar_silence_ref(ar_silence_t *s);
void ar_silence_unref(ar_silence_t *s);
ar_sil_state_t ar_silence_state(const ar_silence_t *s, int64_t now_ms);
const char *ar_sil_state_name(ar_sil_state_t st);

/* Validate and store in (borrowed; in->id "" for a new silence).  OUT:
 * id (the stored silence's id).  AX_EINVAL with the reason for a bad
 * silence, AX_ENOENT for an unknown id, AX_EIO when it cannot be
 * persisted (nothing changed then). */
int ar_silences_set(ar_silences_t *s, const ar_silence_t *in, int64_t now_ms,
    char id[40], ax_err_t *err);
/* Expire id now.  AX_ENOENT, AX_EINVAL ("already expired"), AX_EIO. */
int ar_silences_expire(
    ar_silences_t *s, const char *id, int64_t now_ms, ax_err_t *err);
/* A new reference to silence id, or NULL. */
ar_silence_t *ar_silences_get(ar_silences_t *s, const char *id);
/* New references to all silences.  OUT: *out (malloc'd), *n. */
int ar_silences_list(ar_silences_t *s, ar_silence_t ***out, size_t *n);
void ar_silences_list_free(ar_silence_t **v, size_t n);
/* Ids of the active silences muting ls, appended to ids (malloc'd
 * strings in a growing array; the caller frees both).  Returns the count
 * or AX_ENOMEM. */
int ar_silences_mutes(ar_silences_t *s, const ax_labels_t *ls, int64_t now_ms,
    char ***ids, size_t *n);
/* Merge peers' silences in[0..n) (borrowed; references taken): one is
 * kept when we have no silence of its id or an older one (updated_ms),
 * unless it ended more than retention ago.  Persisted once.  Returns how
 * many were taken, or AX_ENOMEM / AX_EIO (nothing changed then). */
int ar_silences_merge(ar_silences_t *s, ar_silence_t *const *in, size_t n,
    int64_t now_ms, ax_err_t *err);
/* Drop silences that ended more than retention ago; returns how many. */
size_t ar_silences_gc(ar_silences_t *s, int64_t now_ms);

#endif
