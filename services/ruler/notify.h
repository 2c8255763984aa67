/*
 * rl_notify: delivery of alerts to axon-alert-router replicas (AlertBatch
 * over nng REQ/REP, docs/architecture.md socket 5) and to Alertmanagers
 * (POST <scheme>://<target><path_prefix>/api/v2/alerts, JSON), as
 * Prometheus' notifier does it.
 *
 * Alerts are queued (at most 10000; the oldest are dropped, counted);
 * one sender thread takes up to 64 at a time and sends the batch to every
 * destination; a destination that fails loses that batch (counted and
 * logged): the rule evaluation re-sends active alerts every resend_delay,
 * which is what survives an outage.  External labels are added (unless
 * the alert has the label) and alert_relabel_configs applied before
 * queueing; an alert the relabeling drops is not sent.
 *
 * Threads: rl_notify_send may be called from any thread.
 */
#ifndef RL_NOTIFY_H
#define RL_NOTIFY_H

#include <stdint.h>

#include "ax_labels.h"
#include "ax_metrics.h"
#include "ruler/config.h"
#include "ruler/rules.h"

typedef struct rl_notify rl_notify_t;

/* One alert to send (everything borrowed for the call). */
typedef struct rl_out_alert {
	const ax_labels_t *labels;
	const rl_kv_t *annotations;
	int64_t starts_ms, ends_ms;
	const char *generator_url;
} rl_out_alert_t;

/* Start with the destinations of cfg (copied).  OUT: *out. */
int rl_notify_start(const rl_config_t *cfg, ax_metrics_t *metrics,
    rl_notify_t **out, ax_err_t *err);
/* Take the destinations, external labels and relabeling of a new config. */
int rl_notify_reload(rl_notify_t *n, const rl_config_t *cfg, ax_err_t *err);
/* Queue alerts. */
void rl_notify_send(rl_notify_t *n, const rl_out_alert_t *a, size_t count);
/* Stop: what is queued gets one try (bounded by the timeouts). */
void rl_notify_stop(rl_notify_t *n);

#endif
