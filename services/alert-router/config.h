/*
 * ar_config: the alert router's configuration, an Alertmanager 0.25
 * alertmanager.yml read unchanged.
 *
 * Sections: global, route, receivers, inhibit_rules, templates,
 * time_intervals, mute_time_intervals (the deprecated name of the same
 * thing).  Field names, defaults and checks are Alertmanager's:
 *   - global: resolve_timeout (5m), http_config, smtp_* (smtp_hello
 *     "localhost", smtp_require_tls true), slack_api_url(_file),
 *     pagerduty_url (https://events.pagerduty.com/v2/enqueue); the
 *     opsgenie/wechat/victorops/telegram/webex URLs and keys are accepted
 *     and unused (their receivers are not supported, see below);
 *   - route: receiver, group_by (a list of label names, or '...'),
 *     match, match_re, matchers, continue, routes, group_wait (30s),
 *     group_interval (5m), repeat_interval (4h), mute_time_intervals,
 *     active_time_intervals; a child inherits receiver, group_by and the
 *     three timers from its parent.  The root route needs a receiver and
 *     has no matchers or time intervals; timers are never zero; group_by
 *     names are valid and unique, and '...' stands alone;
 *   - receivers: a unique name, with webhook_configs, pagerduty_configs,
 *     email_configs and slack_configs.  opsgenie, wechat, pushover,
 *     victorops, sns, telegram and webex configs are refused with a clear
 *     error: accepting them would drop notifications silently;
 *   - inhibit_rules: source_match(_re), source_matchers, target_match(_re),
 *     target_matchers, equal;
 *   - time_intervals: name, time_intervals[] of times, weekdays,
 *     days_of_month, months, years, location.
 * axon_alert_router (Axon's own section): ingest_listen (nng address the
 * REP socket for AlertBatch requests from axon-ruler listens on),
 * discoverer (nng address of the
 * discoverer's control socket), discoverer_publish (its PUB socket), and
 * topology_inhibition: enabled (true), service_label ("service"),
 * cause_matchers (['severity="critical"']), symptom_matchers (none: any
 * alert), hold_down (5m).  Topology inhibition needs the discoverer
 * addresses.
 *
 * Every receiver and time interval a route names must exist.  Unknown
 * fields and bad values are errors as "file:line:col: path: why".
 *
 * Ownership: ar_config_load() returns a config owned by the caller,
 * released with ar_config_free(); everything inside belongs to it.
 */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include <stdint.h>

#include "ax_amatch.h"
#include "ax_config.h"
#include "ax_rw.h"

/* A string -> string map in file order (details, headers, match). */
typedef struct ar_kv {
	char **k;
	char **v;
	size_t n;
} ar_kv_t;

typedef struct ar_http_cfg {
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	char *bearer_token;
	char *bearer_token_file;
	ax_rw_tls_t tls_config;
	char *proxy_url;
	int follow_redirects; /* true */
	int enable_http2;     /* true */
	int set; /* given in the file; an integration without one uses
	            global.http_config, as in Alertmanager */
} ar_http_cfg_t;

typedef struct ar_global {
	int64_t resolve_timeout_ms; /* 5m */
	ar_http_cfg_t http_config;
	char *smtp_from;
	char *smtp_hello; /* "localhost" */
	char *smtp_smarthost;
	char *smtp_auth_username;
	char *smtp_auth_password;
	char *smtp_auth_password_file;
	char *smtp_auth_secret;
	char *smtp_auth_identity;
	int smtp_require_tls; /* true */
	char *slack_api_url;
	char *slack_api_url_file;
	char *pagerduty_url;
} ar_global_t;

typedef struct ar_webhook_cfg {
	int send_resolved; /* true */
	ar_http_cfg_t http_config;
	char *url;
	int64_t max_alerts; /* 0: all */
} ar_webhook_cfg_t;

typedef struct ar_pd_image {
	char *src, *alt, *href;
} ar_pd_image_t;

typedef struct ar_pd_link {
	char *href, *text;
} ar_pd_link_t;

typedef struct ar_pagerduty_cfg {
	int send_resolved; /* true */
	ar_http_cfg_t http_config;
	char *service_key, *service_key_file;
	char *routing_key, *routing_key_file;
	char *url; /* default: global.pagerduty_url */
	char *client, *client_url, *description;
	ar_kv_t details;
	ax_cfg_list_t images; /* ar_pd_image_t */
	ax_cfg_list_t links;  /* ar_pd_link_t */
	char *source, *severity, *class_, *component, *group;
} ar_pagerduty_cfg_t;

typedef struct ar_email_cfg {
	int send_resolved; /* false */
	char *to, *from, *hello, *smarthost;
	char *auth_username, *auth_password, *auth_password_file;
	char *auth_secret, *auth_identity;
	ar_kv_t headers;
	char *html, *text;
	int require_tls; /* -1: global.smtp_require_tls */
	ax_rw_tls_t tls_config;
} ar_email_cfg_t;

typedef struct ar_slack_field {
	char *title, *value;
	int short_; /* -1 unset */
} ar_slack_field_t;

typedef struct ar_slack_confirm {
	char *text, *title, *ok_text, *dismiss_text;
} ar_slack_confirm_t;

typedef struct ar_slack_action {
	char *type, *text, *url, *style, *name, *value;
	ar_slack_confirm_t confirm;
} ar_slack_action_t;

typedef struct ar_slack_cfg {
	int send_resolved; /* false */
	ar_http_cfg_t http_config;
	char *api_url, *api_url_file;
	char *channel, *username, *color, *title, *title_link, *pretext;
	char *text, *footer, *fallback, *callback_id, *icon_emoji, *icon_url;
	char *image_url, *thumb_url;
	ax_cfg_list_t fields;  /* ar_slack_field_t */
	ax_cfg_list_t actions; /* ar_slack_action_t */
	int short_fields, link_names;
	ax_cfg_strings_t mrkdwn_in;
} ar_slack_cfg_t;

typedef struct ar_receiver {
	char *name;
	ax_cfg_list_t webhook;   /* ar_webhook_cfg_t */
	ax_cfg_list_t pagerduty; /* ar_pagerduty_cfg_t */
	ax_cfg_list_t email;     /* ar_email_cfg_t */
	ax_cfg_list_t slack;     /* ar_slack_cfg_t */
	int line, col;
} ar_receiver_t;

/* An inclusive range of integers (minutes of the day use [lo, hi)). */
typedef struct ar_range {
	int lo, hi;
} ar_range_t;

typedef struct ar_ranges {
	ar_range_t *v;
	size_t n;
} ar_ranges_t;

typedef struct ar_time_spec {
	ar_ranges_t times;         /* minutes since midnight, [lo, hi) */
	ar_ranges_t weekdays;      /* 0 = Sunday */
	ar_ranges_t days_of_month; /* 1..31, or -31..-1 from the month's end */
	ar_ranges_t months;        /* 1..12 */
	ar_ranges_t years;
	char *location; /* NULL: UTC */
	/* The location's UTC offsets (from its TZif file): offset tz_off[i]
	 * from tz_at[i] (seconds) on, tz_off0 before the first. */
	int64_t *tz_at;
	int32_t *tz_off;
	size_t tz_n;
	int32_t tz_off0;
} ar_time_spec_t;

typedef struct ar_time_interval {
	char *name;
	ax_cfg_list_t specs; /* ar_time_spec_t */
	int line, col;
} ar_time_interval_t;

typedef struct ar_inhibit_cfg {
	ar_kv_t source_match, source_match_re, target_match, target_match_re;
	ax_cfg_strings_t source_matchers_text, target_matchers_text;
	ax_cfg_strings_t equal;
	/* Built from the above: match, match_re (anchored), matchers. */
	ax_amatchers_t source, target;
} ar_inhibit_cfg_t;

typedef struct ar_route_cfg {
	char *receiver;
	ax_cfg_strings_t group_by;
	int group_by_all; /* '...' */
	ar_kv_t match, match_re;
	ax_cfg_strings_t matchers_text;
	int continue_;
	ax_cfg_list_t routes; /* ar_route_cfg_t */
	int64_t group_wait_ms, group_interval_ms, repeat_interval_ms; /* -1 */
	ax_cfg_strings_t mute_time_intervals, active_time_intervals;
	/* Built: match, then match_re (as ^(?:re)$), then matchers, sorted as
	 * Alertmanager sorts them. */
	ax_amatchers_t matchers;
	int line, col;
	char *path; /* "route.routes[1]" for messages */
} ar_route_cfg_t;

/* axon_alert_router.topology_inhibition: alerts of services that depend
 * (transitively, by the discoverer's graph) on a service with a firing
 * cause alert are inhibited. */
typedef struct ar_topo_cfg {
	int enabled;                   /* true when the section is present */
	char *service_label;           /* "service" */
	ax_cfg_strings_t cause_text;   /* ['severity="critical"'] */
	ax_cfg_strings_t symptom_text; /* [] : every alert */
	int64_t hold_down_ms;          /* 5m */
	ax_amatchers_t cause, symptom; /* built */
} ar_topo_cfg_t;

/* The alert router's own section, axon_alert_router. */
typedef struct ar_axon_cfg {
	char *ingest_listen;      /* nng REP for AlertBatch from axon-ruler */
	char *discoverer;         /* nng: the discoverer's control socket */
	char *discoverer_publish; /* nng: its PUB socket (topic deps) */
	ar_topo_cfg_t topology;
} ar_axon_cfg_t;

typedef struct ar_config {
	char *file;
	char *original; /* the file's text, for GET /api/v2/status */
	ar_global_t global;
	ar_route_cfg_t route;
	int has_route;
	ax_cfg_list_t receivers;     /* ar_receiver_t */
	ax_cfg_list_t inhibit_rules; /* ar_inhibit_cfg_t */
	ax_cfg_strings_t templates;
	ax_cfg_list_t time_intervals; /* ar_time_interval_t */
	ax_cfg_list_t mute_time_intervals;
	ar_axon_cfg_t axon;
} ar_config_t;

/* Load and validate path.  OUT: *out, owned by the caller.  quiet: no
 * info log lines for skipped sections. */
int ar_config_load(
    const char *path, int quiet, ar_config_t **out, ax_err_t *err);
void ar_config_free(ar_config_t *c);

/* Is now within the named interval (any of its specs), as Alertmanager's
 * TimeInterval.ContainsTime: times [start, end), weekdays, days of the
 * month (negative from the end, clamped to the month), months and years,
 * all in the spec's location. */
int ar_time_interval_contains(const ar_time_interval_t *t, int64_t now_ms);

/* The receiver or time interval called name, or NULL. */
const ar_receiver_t *ar_config_receiver(const ar_config_t *c, const char *name);
const ar_time_interval_t *ar_config_time_interval(
    const ar_config_t *c, const char *name);

/* Go's textproto.CanonicalMIMEHeaderKey ("x-foo" -> "X-Foo") into out. */
void ar_config_canonical_header(const char *in, char *out, size_t cap);

#endif
