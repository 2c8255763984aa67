/*
 * ar_api: the Alertmanager API v2 of axon-alert-router, so Prometheus
 * 2.42 (`alerting.alertmanagers`), amtool 0.25 and Grafana work unchanged.
 *
 *   POST   /api/v2/alerts          postable alerts (JSON array)
 *   GET    /api/v2/alerts          ?active ?silenced ?inhibited
 *                                  ?unprocessed ?filter=<matcher>...
 *                                  ?receiver=<regex>
 *   GET    /api/v2/alerts/groups   same filters, alerts by route group
 *   GET    /api/v2/silences        ?filter=<matcher>...
 *   POST   /api/v2/silences        create or update; {"silenceID": ..}
 *   GET    /api/v2/silence/{id}
 *   DELETE /api/v2/silence/{id}    expire
 *   GET    /api/v2/status          cluster, config.original, uptime,
 *                                  versionInfo
 *   GET    /api/v2/receivers
 *
 * Alerts follow Alertmanager's postAlerts rules: updatedAt is now; a
 * missing startsAt is now (or endsAt when only that is given); a missing
 * endsAt is now + resolve_timeout, marked as a timeout.  Every alert is
 * validated (labels present and valid, endsAt not before startsAt, valid
 * annotations); the valid ones are stored even when others fail, and the
 * failures come back as 400 with each reason.  Malformed JSON, a body that
 * is not a list, a field of the wrong type or a bad time are 400 before
 * anything is stored.  Error bodies are JSON strings, as Alertmanager's.
 *
 * An alert's status is computed when it is read: suppressed when an
 * active silence matches it (silencedBy) or an inhibit rule applies
 * (inhibitedBy, the inhibiting alert's fingerprint), else active.
 *
 * Threads: handlers run on HTTP worker threads; the config and routing
 * tree are read under core->mu (a reload swaps them under the write
 * lock); the store and silences lock themselves.
 */
#ifndef AR_API_H
#define AR_API_H

#include <pthread.h>

#include "alert-router/config.h"
#include "alert-router/route.h"
#include "alert-router/silence.h"
#include "alert-router/store.h"
#include "ax_http.h"
#include "ax_metrics.h"

/* The config as the daemon holds it: reference counted, so that a flush
 * sending for minutes keeps the receivers it started with across a
 * reload. */
typedef struct ar_cfgref {
	int refs;
	ar_config_t *cfg;
	struct ax_tmpl *tmpl; /* built-ins plus the config's `templates` */
} ar_cfgref_t;

ar_cfgref_t *ar_cfgref_ref(ar_cfgref_t *r);
void ar_cfgref_unref(ar_cfgref_t *r);

struct ar_dispatch;
struct ar_topo;

typedef struct ar_core {
	pthread_rwlock_t mu;
	ar_cfgref_t *cfgref;    /* borrowed from the daemon skeleton */
	const ar_config_t *cfg; /* cfgref->cfg */
	ar_route_t *root;       /* owned, built from cfg */
	ar_store_t store;
	ar_silences_t silences;
	struct ar_dispatch *dispatch; /* NULL: alerts are only stored */
	struct ar_topo *topo;         /* NULL: no dependency graph */
	struct ar_cluster *cluster;   /* NULL: a single replica */
	char *external_url;
	int64_t start_ms;
	ax_metric_t *received_firing, *received_resolved, *invalid;
} ar_core_t;

/* A new alert as Alertmanager's ingestion completes it: a missing
 * start is now (or the end, when only that is given), a missing end is
 * now + resolve_timeout (marked as a timeout); updated now.  Takes
 * labels, ann and url.  NULL when out of memory. */
ar_alert_t *ar_api_alert_new(ax_labels_t *labels, ax_labels_t *ann, char *url,
    int64_t starts, int64_t ends, int64_t now, int64_t resolve_timeout);
/* Validate (end not before start, labels present and valid, valid
 * annotations), store and dispatch alerts[0..n) (borrowed); the valid
 * ones are kept even when others fail.  Each failure is appended to errs
 * as "alerts[i]: why" and counted in *nerr.  Returns how many were
 * accepted.  *internal is set when something failed for want of memory
 * (worth retrying).  Used by the HTTP API and the nng ingestion. */
size_t ar_api_ingest(ar_core_t *core, ar_alert_t **alerts, size_t n,
    int64_t now, ax_buf_t *errs, size_t *nerr, int *internal);

/* Register the API routes on srv and the alertmanager_* metrics. */
int ar_api_register(ar_core_t *core, ax_http_server_t *srv,
    ax_metrics_t *metrics, ax_err_t *err);

#endif
