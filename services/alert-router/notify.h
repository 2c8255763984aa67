/*
 * ar_notify: building and sending notifications to receiver integrations.
 *
 * A notice is one notification of one alert group to one receiver: its
 * alerts in Alertmanager's order (job, then instance, then the label sets)
 * with their state at the flush time (firing alerts carry no end time, as
 * in Alertmanager).
 *
 * Webhook body (Alertmanager's version "4"):
 *   {"receiver","status":"firing|resolved","alerts":[{"status","labels",
 *    "annotations","startsAt","endsAt","generatorURL","fingerprint"}],
 *    "groupLabels","commonLabels","commonAnnotations","externalURL",
 *    "version":"4","groupKey","truncatedAlerts"}
 * Times are RFC 3339 (fraction without trailing zeros); an unset end is
 * "0001-01-01T00:00:00Z".  max_alerts keeps the first N alerts and counts
 * the rest in truncatedAlerts.  Axon adds "axonSuppressed":
 * {"alerts": N, "services": [...]} when the group's cause alert suppresses
 * dependents' alerts (topology inhibition); receivers that do not know it
 * ignore it.
 *
 * Sending: an HTTP POST with the integration's http_config (basic auth,
 * authorization/bearer token, files re-read for each send, TLS, proxy,
 * redirects), retried with exponential backoff (500 ms doubling to 30 s,
 * jittered) until the deadline: connection errors, 5xx and 429 (and 403
 * when retry_403, PagerDuty v1's rate limit) are retried, other 4xx are
 * final.  Each attempt has at most 30 s and never
 * outlives the deadline; *stop (read atomically) set to non-zero aborts
 * the attempt in flight and the retries (shutdown).
 */
#ifndef AR_NOTIFY_H
#define AR_NOTIFY_H

#include <curl/curl.h>

#include "alert-router/config.h"
#include "alert-router/store.h"
#include "ax_buf.h"

typedef struct ar_notice {
	const char *receiver;
	const char *group_key;
	const ax_labels_t *group_labels;
	ar_alert_t **alerts; /* borrowed, in notification order */
	const int *resolved; /* per alert, at now_ms */
	size_t n;
	const char *external_url;
	int64_t now_ms;
	/* topology inhibition: for a group with a firing cause alert, the
	 * alerts its cause suppresses and their services (sorted) */
	size_t suppressed_alerts;
	char **suppressed_services;
	size_t n_suppressed_services;
} ar_notice_t;

/* Sort alerts (and nothing else) into Alertmanager's notification order. */
void ar_notify_sort(ar_alert_t **v, size_t n);

/* The webhook JSON body.  AX_ENOMEM. */
int ar_webhook_body(
    const ar_notice_t *nt, const ar_webhook_cfg_t *w, ax_buf_t *out);

/*
 * PagerDuty: the Events API v2 body for a routing key (or the v1 body for
 * a service key), as Alertmanager 0.25 builds it: event_action "trigger"
 * while any alert fires, "resolve" when all are resolved; dedup_key (v1:
 * incident_key) the SHA-256 of the group key in hex, so a resolve closes
 * the incident its trigger opened; payload.summary from `description`
 * (default the group subject "[FIRING:n] ..."), truncated to 1024
 * characters; source from `source`, else `client`; severity (default
 * "error"), class, component, group; custom_details from `details`
 * (default firing/resolved lists and counts, plus suppressed_alerts and
 * suppressed_services under topology inhibition, when the default summary
 * also ends "; N alerts from M dependent services suppressed: a, b");
 * images and links with an
 * empty src/href dropped; client and client_url.  Every field is a
 * template over the notice (tmpl.h).  OUT: the body in out, the URL in
 * *url: v1's fixed endpoint (as Alertmanager, `url` applies to v2 only),
 * the config's `url`, or NULL for v2 without one (the caller uses
 * global.pagerduty_url).
 */
struct ax_tmpl;
int ar_pagerduty_body(const ar_notice_t *nt, const ar_pagerduty_cfg_t *c,
    const struct ax_tmpl *tmpl, ax_buf_t *out, const char **url, ax_err_t *err);

/*
 * Slack: the incoming-webhook body as Alertmanager 0.25 builds it:
 * {"channel","username","icon_emoji","icon_url","link_names",
 *  "attachments":[{"title" (at most 1024 runes),"title_link","pretext",
 *  "text","fallback","callback_id","fields":[{"title","value","short"}],
 *  "actions":[{"type","text","url","style","name","value"}] (an
 *  action's confirm is accepted and, as Alertmanager 0.25, not sent),
 *  "image_url","thumb_url","footer","color","mrkdwn_in"}]}
 * with Alertmanager's defaults (slack.default.* templates; color danger
 * or good; mrkdwn_in fallback, pretext, text; a field's short from
 * short_fields unless set) and empty optional strings left out, as Go's
 * omitempty does.  Under topology inhibition a field "Suppressed" says
 * how many alerts of which dependent services the cause suppresses.
 */
int ar_slack_body(const ar_notice_t *nt, const ar_slack_cfg_t *c,
    const struct ax_tmpl *tmpl, ax_buf_t *out, ax_err_t *err);

/* POST body to url with http_config h, retrying until deadline_ms (wall
 * clock).  0 on a 2xx; otherwise err says why (the last status and the
 * start of the answer). */
int ar_http_post_retry(const ar_http_cfg_t *h, const char *url,
    const char *body, size_t len, int64_t deadline_ms, const int *stop,
    int retry_403, ax_err_t *err);

/* Sleep a jittered backoff (500 ms doubling to 30 s, updated in
 * *backoff) between two attempts: 0 to try again, 1 when the deadline
 * would pass first, -1 when *stop was set. */
int ar_notify_backoff(
    int64_t *backoff, unsigned *seed, int64_t deadline_ms, const int *stop);

/* libcurl progress callback (arg: the stop flag, read atomically) that
 * aborts a transfer at shutdown. */
int ar_notify_abort_cb(
    void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un);

/* The easy handle of the calling thread, reset (kept between sends so
 * connections are reused; freed when the thread exits).  NULL when out of
 * memory. */
void *ar_notify_thread_curl(void);

#endif
