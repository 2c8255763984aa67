/*
 * relay: one address for Grafana and promtool.  axon-tsdb answers
 * /api/v1/targets by asking every scraper listed in axon_tsdb.scrapers and
 * merging their activeTargets and droppedTargets, and /api/v1/rules and
 * /api/v1/alerts by asking the ruler at axon_tsdb.ruler.  Query strings are
 * passed on.  An unreachable scraper is named in "warnings"; when none
 * answers, or the ruler does not, the answer is 503 "unavailable" naming
 * the daemon.  Without configured peers the answers are empty lists, as
 * Prometheus gives without targets or rules.
 */
#ifndef TSDB_RELAY_H
#define TSDB_RELAY_H

#include "ax_http.h"

typedef struct tsdb tsdb_t;

void tsdb_relay_targets(ax_http_req_t *req, ax_http_resp_t *resp, void *arg);
void tsdb_relay_rules(ax_http_req_t *req, ax_http_resp_t *resp, void *arg);
void tsdb_relay_alerts(ax_http_req_t *req, ax_http_resp_t *resp, void *arg);

#endif
