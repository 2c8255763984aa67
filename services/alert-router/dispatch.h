/*
 * ar_dispatch: aggregation groups, their timers, and the notification
 * pipeline, as Alertmanager 0.25's dispatcher runs them.
 *
 * Every stored alert is fed in (ar_dispatch_alert); for each route it
 * matches it joins the group (route, group labels), whose key is
 * Alertmanager's: "<route key>:<group labels>", e.g.
 * {}/{severity="critical"}:{alertname="X", service="auth"}.
 *
 * Timers: a new group is first flushed group_wait after it was created
 * (at once when its alert started more than group_wait ago and the group
 * never flushed), then every group_interval.  A flush takes the group's
 * alerts; an alert whose end time has passed is resolved, every other one
 * is firing (and sent without an end time).  The pipeline then drops
 * everything when a mute time interval of the route is in force or none
 * of its active time intervals is, drops inhibited and silenced alerts,
 * and for each integration of the receiver decides with the notification
 * log whether to send: never-notified groups with firing alerts; new
 * firing alerts; all alerts resolved after firing ones were sent; new
 * resolved alerts when send_resolved; otherwise once repeat_interval has
 * passed since the last send.  Sends retry until the next flush is due;
 * success is written to the notification log.  After a flush whose sends
 * all succeeded, the resolved alerts it covered leave the group (unless
 * they changed meanwhile), and empty groups are dropped.
 *
 * High availability (cluster.h): no group flushes before the cluster
 * settled, and a due group waits its replica's position x peer_timeout
 * before the pipeline runs, so the notification log holds what the
 * replicas before it sent.
 *
 * Threads: one timer thread and a pool of flush workers (a slow receiver
 * holds one worker, never the timer or other groups); a group is never
 * flushed twice at once.  ar_dispatch_alert is called from API threads.
 */
#ifndef AR_DISPATCH_H
#define AR_DISPATCH_H

#include "alert-router/nflog.h"
#include "alert-router/route.h"
#include "alert-router/store.h"
#include "ax_metrics.h"

struct ar_core;
typedef struct ar_dispatch ar_dispatch_t;

/* Start the timer and workers.  nflog is borrowed.  OUT: *out. */
int ar_dispatch_start(struct ar_core *core, ar_nflog_t *nflog,
    ax_metrics_t *metrics, int workers, ar_dispatch_t **out, ax_err_t *err);
/* Stop the threads (in-flight sends are abandoned at their next retry)
 * and free everything. */
void ar_dispatch_stop(ar_dispatch_t *d);

/* Feed a stored alert (borrowed; groups take references) along the
 * routes of root (the caller holds the core's read lock). */
int ar_dispatch_alert(ar_dispatch_t *d, const ar_route_t *root, ar_alert_t *a);
/* The same for a batch, under one lock, so that no group flushes between
 * two of its alerts (NULL entries skipped). */
int ar_dispatch_alerts(
    ar_dispatch_t *d, const ar_route_t *root, ar_alert_t **v, size_t n);
/* After a reload: drop every group and feed all stored alerts again
 * along the new tree, as Alertmanager restarts its dispatcher (the
 * notification log keeps this from notifying twice). */
int ar_dispatch_rebuild(ar_dispatch_t *d, const ar_route_t *root);
/* Number of groups (for metrics and tests). */
size_t ar_dispatch_groups(ar_dispatch_t *d);

#endif
