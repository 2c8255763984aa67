/*
 * ar_cluster: high availability between alert-router replicas, as
 * Alertmanager's cluster provides it, over nng (docs/architecture.md,
 * socket 6; messages in proto/axon/v1/cluster.proto).
 *
 * Membership: a replica is named by its advertise address, the nng URL
 * its peers dial (--cluster.advertise-address, default the listen
 * address).  It listens with a REP socket and dials every peer it knows
 * -- those given with --cluster.peer and any it hears of, from a request
 * or from a peer's member list -- with a REQ socket, one thread per peer.
 * A peer is alive while it answered us or called us within the last 5
 * probe intervals.
 *
 * Position: the alive replicas, this one included, sorted by name; the
 * replica at position i waits i x peer_timeout before it notifies and
 * then asks the notification log, which by then holds what the replicas
 * before it sent (dispatch.h).  So one notification goes out per group
 * while all are up; a dead or cut-off replica costs a duplicate page,
 * never a missed one.
 *
 * Replication: each local silence change and notification-log entry is
 * queued for every peer and sent in the next exchange, at most one
 * gossip interval later; an empty exchange every probe interval is the
 * liveness probe.  The first exchange with a peer, the one after any
 * failure (or a queue overflow) and one every pushpull interval carry the
 * whole state both ways.  Merging is last-writer-wins (silence.h,
 * nflog.h), so order and repetition do not matter.
 *
 * Settling: nothing is notified until a full-state exchange succeeded
 * with every configured peer, or settle_timeout passed since the start;
 * so a restarted replica learns what the others sent while it was down
 * before it decides to send.
 *
 * Threads: all functions lock; the hooks on the silences and the log run
 * under their locks and only queue.
 */
#ifndef AR_CLUSTER_H
#define AR_CLUSTER_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "alert-router/nflog.h"
#include "alert-router/silence.h"
#include "ax_err.h"
#include "ax_metrics.h"

typedef struct ar_cluster ar_cluster_t;

typedef struct ar_cluster_opts {
	const char *listen;    /* nng URL to listen on (required) */
	const char *advertise; /* our name for peers; NULL: listen */
	const char *const *peers;
	size_t npeers;
	int64_t peer_timeout_ms;      /* wait per position; default 15 s */
	int64_t gossip_interval_ms;   /* batching of changes; 200 ms */
	int64_t pushpull_interval_ms; /* full-state exchange; 1 m */
	int64_t probe_interval_ms;    /* liveness probe; 1 s */
	int64_t settle_timeout_ms;    /* longest wait to settle; 1 m */
} ar_cluster_opts_t;

/* Listen, dial the peers, hook into sil and nflog (both borrowed, and
 * must outlive the cluster).  OUT: *out.  AX_ECONFIG for a bad address. */
int ar_cluster_start(const ar_cluster_opts_t *o, ar_silences_t *sil,
    ar_nflog_t *nflog, ax_metrics_t *metrics, ar_cluster_t **out,
    ax_err_t *err);
/* Unhook, stop the threads (at most one exchange timeout), free. */
void ar_cluster_stop(ar_cluster_t *c);

/* This replica's position (0 for NULL). */
int ar_cluster_position(ar_cluster_t *c);
/* How long a due notification waits: position x peer_timeout. */
int64_t ar_cluster_wait_ms(ar_cluster_t *c);
/* Settled (1 for NULL). */
int ar_cluster_ready(ar_cluster_t *c);
/* Fill the API v2 status "cluster" object: name, status ("ready",
 * "settling"; "disabled" for NULL) and peers [{name, address}], this
 * replica included, as Alertmanager lists them. */
void ar_cluster_status(ar_cluster_t *c, cJSON *obj);

#endif
