/*
 * rl_engine: evaluation of rule groups, as Prometheus 2.42's rule manager
 * runs them.
 *
 * Scheduling: each group on its own thread (a slow group never delays
 * another), every interval (the group's, else global
 * evaluation_interval), at timestamps offset within the interval by the
 * hash of the group's name and file exactly as Prometheus computes it, so
 * the same group evaluates at the same instants in Prometheus and here.
 * An iteration that overruns skips the missed ones, counted
 * (prometheus_rule_group_iterations_missed_total).
 *
 * A rule is an instant query to axon-tsdb (QueryRequest over nng) at the
 * evaluation timestamp.  Recording rules write each result sample under
 * the rule's name with its labels applied; a series returned at the
 * previous evaluation and not now gets a staleness marker.  Samples go to
 * axon-tsdb with ax_ship (SampleBatch).
 *
 * Alerting rules follow Prometheus' state machine: a new result is
 * pending (activeAt = now), firing once `for` has passed (firedAt), and
 * when it disappears inactive (resolvedAt; a pending one is forgotten);
 * keep_firing_for keeps a firing alert firing that long after its result
 * went away; resolved alerts are kept (and sent as resolved) for 15 m.
 * Labels and annotations are templates (ax_tmplfn's Prometheus set; $labels,
 * $value, $externalLabels, $externalURL; query runs at the evaluation
 * time); an expansion error becomes "<error expanding template: ...>".
 * A group limit caps the alerts of a rule (over it: none, and an error).
 * ALERTS{alertstate} and ALERTS_FOR_STATE (value: activeAt in seconds) are
 * written for pending and firing alerts.  Alerts are sent (rl_notify) when
 * they fire or resolve and again every resend_delay, with startsAt = firedAt,
 * endsAt = resolvedAt or now + 4 x max(resend_delay, interval), and
 * generatorURL = <external URL>/graph?g0.expr=<expr>&g0.tab=1.
 *
 * Restart: at its first evaluation a group restores the `for` clocks of
 * its pending and firing alerts from the last ALERTS_FOR_STATE samples
 * within outage_tolerance, as Prometheus' RestoreForState does
 * (for_grace_period included), before writing ALERTS series.
 *
 * The tsdb unreachable or not ready (a query times out or answers
 * UNAVAILABLE): the iteration is skipped and counted
 * (axon_ruler_iterations_skipped_total), alert states stay as they were
 * (no false resolve, no absent() page) and active alerts keep being
 * re-sent.  Other query errors mark the rule unhealthy (lastError) and
 * count as failures.
 *
 * Reload: groups whose name, file and interval are unchanged keep the
 * state of their rules that stay (same name and expression); others
 * start fresh.
 *
 * Threads: every function locks; the API snapshots take the lock briefly.
 */
#ifndef RL_ENGINE_H
#define RL_ENGINE_H

#include <cjson/cJSON.h>

#include "ax_metrics.h"
#include "ruler/config.h"
#include "ruler/notify.h"

typedef struct rl_engine rl_engine_t;

typedef struct rl_engine_opts {
	const char *external_url;
	int64_t resend_delay_ms;     /* 1m */
	int64_t outage_tolerance_ms; /* 1h */
	int64_t for_grace_ms;        /* 10m */
	int64_t query_timeout_ms;    /* 2m */
} rl_engine_opts_t;

/* Start evaluating cfg's groups (what is needed is copied).  notify is
 * borrowed.  OUT: *out. */
int rl_engine_start(const rl_config_t *cfg, const rl_engine_opts_t *o,
    rl_notify_t *notify, ax_metrics_t *metrics, rl_engine_t **out,
    ax_err_t *err);
/* Swap in the groups of a new config. */
int rl_engine_reload(rl_engine_t *e, const rl_config_t *cfg, ax_err_t *err);
void rl_engine_stop(rl_engine_t *e);

/* The "data" of /api/v1/rules (type: "", "alert" or "record") and of
 * /api/v1/alerts, in Prometheus' shape. */
int rl_engine_rules_json(rl_engine_t *e, const char *type, cJSON *data);
int rl_engine_alerts_json(rl_engine_t *e, cJSON *data);

#endif
