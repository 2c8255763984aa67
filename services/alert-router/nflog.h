/*
 * ar_nflog: the notification log -- what was last sent to each receiver
 * integration for each alert group, so that a group is not notified again
 * until something changed or repeat_interval passed, also across a
 * restart.
 *
 * An entry is keyed by "<group key>\x1f<receiver>\x1f<integration>"
 * (integration: "webhook/0", "pagerduty/1", ...) and holds the hashes of
 * the firing and resolved alerts of the last successful notification and
 * its time.  Entries expire retention after that time.
 *
 * Persistence: <dir>/nflog, an append-only log of JSON lines
 *   {"k":"<key>","t":<ms>,"f":[<hash>,...],"r":[<hash>,...]}
 * (hashes as decimal strings, since JSON numbers lose 64-bit precision).
 * A record is written (write(2), so it survives kill -9 of the process)
 * before ar_nflog_log returns; the file is fsynced by ar_nflog_sync (the
 * dispatcher calls it every second) and rewritten without expired or
 * superseded records when it grows past twice its live size.  On open the
 * log is replayed; a torn last line is cut; damage elsewhere is an error
 * naming the file and line.
 *
 * Replication (HA, cluster.h): on_log, when set, is told of every local
 * ar_nflog_log (under the log's lock: it must not call back into the
 * log); ar_nflog_merge takes a peer's entry when it is newer than ours.
 *
 * Threads: all functions lock.
 */
#ifndef AR_NFLOG_H
#define AR_NFLOG_H

#include <pthread.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_hmap.h"

typedef struct ar_nflog_entry {
	int64_t ts_ms;
	uint64_t *firing;
	size_t nfiring;
	uint64_t *resolved;
	size_t nresolved;
} ar_nflog_entry_t;

typedef struct ar_nflog {
	pthread_mutex_t mu;
	ax_hmap_t entries; /* key -> ar_nflog_entry_t* */
	char *dir;         /* NULL: memory only */
	int fd;
	size_t log_records;
	int64_t retention_ms;
	int dirty; /* written since the last fsync */
	/* set before other threads use the log */
	void (*on_log)(void *arg, const char *key, const ar_nflog_entry_t *e);
	void *on_log_arg;
} ar_nflog_t;

int ar_nflog_open(
    ar_nflog_t *l, const char *dir, int64_t retention_ms, ax_err_t *err);
void ar_nflog_close(ar_nflog_t *l);

/* A copy of the entry for key (OUT: *out, caller frees with
 * ar_nflog_entry_free).  0 when found, AX_ENOENT, AX_ENOMEM. */
int ar_nflog_get(ar_nflog_t *l, const char *key, ar_nflog_entry_t **out);
void ar_nflog_entry_free(ar_nflog_entry_t *e);
/* Record a successful notification (arrays borrowed). */
int ar_nflog_log(ar_nflog_t *l, const char *key, int64_t ts_ms,
    const uint64_t *firing, size_t nf, const uint64_t *resolved, size_t nr,
    ax_err_t *err);
/* A peer's entry for key (borrowed): kept, and written to the log, when
 * we have none or an older one and it is within retention.  Returns 1
 * when taken, 0 when not, <0 on error (AX_ENOMEM, AX_EIO). */
int ar_nflog_merge(
    ar_nflog_t *l, const char *key, const ar_nflog_entry_t *e, int64_t now_ms);
/* Copies of every live entry.  OUT: *keys, *entries (parallel arrays,
 * malloc'd; free with ar_nflog_snapshot_free), *n. */
int ar_nflog_snapshot(ar_nflog_t *l, int64_t now_ms, char ***keys,
    ar_nflog_entry_t ***entries, size_t *n);
void ar_nflog_snapshot_free(char **keys, ar_nflog_entry_t **entries, size_t n);
/* A new entry (arrays copied and sorted), or NULL. */
ar_nflog_entry_t *ar_nflog_entry_new(
    int64_t ts_ms, const uint64_t *f, size_t nf, const uint64_t *r, size_t nr);

/* fsync the log if written since the last call; compact it when large. */
void ar_nflog_sync(ar_nflog_t *l, int64_t now_ms);

/* Is every hash of set[0..n) in arr[0..na) (an entry's array, sorted)? */
int ar_nflog_subset(
    const uint64_t *arr, size_t na, const uint64_t *set, size_t n);

#endif
