/*
 * ar_tmpl: Alertmanager 0.25's notification templates on libcommon's
 * Go-template engine (ax_tmpl).
 *
 * The data is Alertmanager's template.Data: .Receiver, .Status
 * ("firing"/"resolved"), .Alerts (with .Firing and .Resolved), each alert
 * with .Status, .Labels, .Annotations, .StartsAt, .EndsAt (times: print
 * as Go's time.Time, .Format with a Go layout, .Unix, .IsZero),
 * .GeneratorURL, .Fingerprint; .GroupLabels, .CommonLabels,
 * .CommonAnnotations (KV: a map with .SortedPairs, .Names, .Values,
 * .Remove), .ExternalURL.  Functions: toUpper, toLower, title, join,
 * match, safeHtml, reReplaceAll, stringSlice.
 *
 * The built-in templates (__subject, __text_alert_list,
 * pagerduty.default.*, slack.default.*, ...) are defined first, so the
 * files named by `templates:` can use or redefine them, as in
 * Alertmanager.
 */
#ifndef AR_TMPL_H
#define AR_TMPL_H

#include <cjson/cJSON.h>

#include "alert-router/notify.h"
#include "ax_tmpl.h"

/* A template set with the built-ins and the files matching globs
 * (relative globs against base_dir; NULL for none).  OUT: *out. */
int ar_tmpl_load(const char *const *globs, size_t n, const char *base_dir,
    ax_tmpl_t **out, ax_err_t *err);

/* The data of a notice, in arena a (NULL when out of memory). */
ax_tval_t *ar_tmpl_data(ax_arena_t *a, const ar_notice_t *nt);
/* The data from Alertmanager's JSON form of template.Data (a webhook
 * body).  AX_EINVAL with the reason. */
int ar_tmpl_data_json(
    ax_arena_t *a, const cJSON *j, ax_tval_t **out, ax_err_t *err);

/* Render text (a template body, parsed as an extra template named
 * "__text") against data; appends to out. */
int ar_tmpl_render(ax_tmpl_t *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err);

/* The same with html/template's escaping of action output (e-mail HTML
 * bodies; ax_tmpl_exec_html). */
int ar_tmpl_render_html(ax_tmpl_t *t, const char *text, ax_tval_t *data,
    ax_arena_t *a, ax_buf_t *out, ax_err_t *err);

/* Alertmanager's function set (NULL-name terminated). */
extern const ax_tmpl_func_t ar_tmpl_funcs[];

#endif
