/*
 * axon-ruler: entry point.  The Axon ruler: recording and alerting rules in
 * Prometheus' rule-file format, evaluated against axon-tsdb, alerts sent to
 * axon-alert-router replicas and Alertmanagers.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; the configuration is config.h, the rule files
 * rules.h, evaluation engine.h, delivery notify.h.  HTTP API in
 * Prometheus' shape: GET /api/v1/rules[?type=alert|record] and
 * GET /api/v1/alerts.  See docs/ruler.md.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ax_daemon.h"
#include "ax_http.h"
#include "ruler/config.h"
#include "ruler/engine.h"
#include "ruler/notify.h"

typedef struct rl_state {
	rl_notify_t *notify;
	rl_engine_t *engine;
	char *external_url;
} rl_state_t;

static int load_config(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	(void)d;
	return rl_config_load(path, (rl_config_t **)out, err);
}

static void free_config(void *c)
{
	rl_config_free(c);
}

static void reply(ax_http_resp_t *resp, cJSON *data)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || data == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(data);
		ax_http_resp_error(resp, 500, "internal", "out of memory");
		return;
	}
	cJSON_AddStringToObject(o, "status", "success");
	cJSON_AddItemToObject(o, "data", data);
	ax_http_resp_json(resp, 200, o);
	cJSON_Delete(o);
}

static void get_rules(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	rl_state_t *s = ax_daemon_state(d);
	const char *type = ax_http_param(req, "type");
	cJSON *data;

	if (type && *type && strcmp(type, "alert") != 0 &&
	    strcmp(type, "record") != 0) {
		ax_http_resp_error(resp, 400, "bad_data",
		    "invalid query parameter type: want alert or record");
		return;
	}
	data = cJSON_CreateObject();
	if (data && s && s->engine)
		rl_engine_rules_json(s->engine, type, data);
	else if (data)
		cJSON_AddArrayToObject(data, "groups");
	reply(resp, data);
}

static void get_alerts(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	rl_state_t *s = ax_daemon_state(d);
	cJSON *data = cJSON_CreateObject();

	(void)req;
	if (data && s && s->engine)
		rl_engine_alerts_json(s->engine, data);
	else if (data)
		cJSON_AddArrayToObject(data, "alerts");
	reply(resp, data);
}

static void rl_stop(ax_daemon_t *d);

static int rl_start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	rl_config_t *cfg = cfgp;
	rl_state_t *s = calloc(1, sizeof(*s));
	rl_engine_opts_t o = {0};
	int rv;

	if (s == NULL ||
	    (s->external_url = ax_daemon_external_url(d)) == NULL) {
		free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ax_daemon_set_state(d, s);
	o.external_url = s->external_url;
	o.resend_delay_ms = ax_daemon_flag_int(d, "rules.alert.resend-delay");
	o.outage_tolerance_ms =
	    ax_daemon_flag_int(d, "rules.alert.for-outage-tolerance");
	o.for_grace_ms = ax_daemon_flag_int(d, "rules.alert.for-grace-period");
	o.query_timeout_ms = ax_daemon_flag_int(d, "query.timeout");
	if ((rv = rl_notify_start(
	         cfg, ax_daemon_metrics(d), &s->notify, err)) != 0 ||
	    (rv = rl_engine_start(cfg, &o, s->notify, ax_daemon_metrics(d),
	         &s->engine, err)) != 0) {
		rl_stop(d);
		return rv;
	}
	if (ax_http_route(
	        ax_daemon_http(d), "GET", "/api/v1/rules", get_rules, d) ||
	    ax_http_route(
	        ax_daemon_http(d), "GET", "/api/v1/alerts", get_alerts, d)) {
		rl_stop(d);
		return ax_err_set(err, AX_ENOMEM, "registering API routes");
	}
	return 0;
}

static int rl_reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	rl_state_t *s = ax_daemon_state(d);
	int rv;

	if ((rv = rl_notify_reload(s->notify, newp, err)) != 0)
		return rv;
	return rl_engine_reload(s->engine, newp, err);
}

static void rl_stop(ax_daemon_t *d)
{
	rl_state_t *s = ax_daemon_state(d);

	if (s == NULL)
		return;
	rl_engine_stop(s->engine);
	rl_notify_stop(s->notify);
	free(s->external_url);
	free(s);
	ax_daemon_set_state(d, NULL);
}

static const ax_flag_t flags[] = {
    {"rules.alert.resend-delay", AX_FLAG_DURATION, "1m",
        "Minimum amount of time to wait before resending an alert."},
    {"rules.alert.for-outage-tolerance", AX_FLAG_DURATION, "1h",
        "Max time to tolerate the ruler's outage for restoring \"for\" "
        "state of an alert."},
    {"rules.alert.for-grace-period", AX_FLAG_DURATION, "10m",
        "Minimum duration between an alert and its restored \"for\" state "
        "(only for alerts with a longer \"for\")."},
    {"query.timeout", AX_FLAG_DURATION, "2m",
        "Maximum time a rule's query may take."},
    {NULL, 0, NULL, NULL},
};

static const ax_daemon_spec_t spec = {
    .name = "axon-ruler",
    .component = "ruler",
    .description = "The Axon ruler: recording and alerting rules in "
                   "Prometheus' rule-file format.",
    .default_config = "ruler.yml",
    .default_listen = "0.0.0.0:9094",
    .flags = flags,
    .load_config = load_config,
    .free_config = free_config,
    .start = rl_start,
    .reload = rl_reload,
    .stop = rl_stop,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
