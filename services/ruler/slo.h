/*
 * rl_slo: service level objectives turned into Prometheus rules, with the
 * multi-window, multi-burn-rate alerts of the Google SRE workbook
 * ("Alerting on SLOs").
 *
 * File layout (YAML; unknown fields are errors with file:line:col):
 *   slos:
 *     - name: <[a-zA-Z_][a-zA-Z0-9_-]*, unique; default <service>>
 *       service: <string, required>
 *       objective: <percent, 0 < x < 100, e.g. 99.9>
 *       window: <duration; default 30d>
 *       sli:                       # one of:
 *         error_ratio: <PromQL>    #   the ratio of bad events
 *         errors: <PromQL>         #   bad events ...
 *         total: <PromQL>          #   ... over all events
 *         good: <PromQL>           #   good events (with total)
 *       labels: {<name>: <value>}  # added to the alerts
 *       annotations: {<name>: <template>}
 *       page_labels: {<name>: <value>}    # default severity: page
 *       ticket_labels: {<name>: <value>}  # default severity: ticket
 * In the SLI expressions "{{.window}}" stands for the range of the rate
 * window being computed (5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window),
 * as Sloth writes it: rate(x[{{.window}}]).
 *
 * Rules generated per SLO, group "slo:<name>" (every series labelled
 * slo="<name>", service="<service>"):
 *   slo:sli_error:ratio_rate<w>   the error ratio over each window w
 *   slo:objective:ratio           the objective (0.999)
 *   slo:error_budget:ratio        1 - objective
 *   slo:error_budget_remaining:ratio
 *                                 1 - ratio over the SLO window / budget
 *                                 (1: untouched, 0: spent, < 0 overspent)
 *   alert ErrorBudgetBurn, severity page:
 *     (1h > 14.4 x budget and 5m > 14.4 x budget) or
 *     (6h > 6 x budget and 30m > 6 x budget)
 *   alert ErrorBudgetBurn, severity ticket:
 *     (1d > 3 x budget and 2h > 3 x budget) or
 *     (3d > 1 x budget and 6h > 1 x budget)
 * Both alerts carry the SLO's labels and annotations (defaults: summary
 * "SLO <name> of <service> is burning its error budget fast (page)" or
 * "... steadily (ticket)", description "The error ratio is <value>,
 * against an error budget of <b>% (objective <o>% over <window>).").
 * The factors are the workbook's for a 30-day window (14.4 x over 1 h
 * spends 2 % of the budget, 6 x over 6 h 5 %, 3 x over 1 d 10 %, 1 x over
 * 3 d 10 %).
 *
 * Ownership: rl_slo_render appends to a caller's buffer.
 */
#ifndef RL_SLO_H
#define RL_SLO_H

#include "ax_buf.h"
#include "ax_err.h"

/* Read an SLO file and append the Prometheus rule file for it to out.
 * AX_ECONFIG with "file:line:col: path: why" in err. */
int rl_slo_render_file(const char *path, ax_buf_t *out, ax_err_t *err);

#endif
