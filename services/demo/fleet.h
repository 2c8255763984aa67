/*
 * demo/fleet: the simulated microservices of axon-demo — their traffic,
 * failures and RED metrics.
 *
 * Each service serves `rps` requests a second (a slow wave and noise on
 * top).  A request fails with the service's own background error ratio
 * (code 500, retried away by its callers, so it stays local) or because
 * a dependency failed hard (code 503).  Every request needs every
 * dependency, so a service fails hard when it is down or when any
 * service it depends on, directly or not, is down (found by walking the
 * dependents of the down services, each once: cycles are harmless); all
 * its requests then fail with 503.  Latency is log-normal around the
 * service's median (failed calls return in half the time).
 *
 * Metrics per service, in the text format 0.0.4 or OpenMetrics 1.0 (with
 * exemplars carrying trace_id on histogram buckets):
 *   http_requests_total{method="GET",code="200|500|503"}   counter
 *   http_request_duration_seconds{method="GET"}             histogram
 *     (le 0.005 .. 10, Prometheus' default buckets)
 *   demo_service_info{version}                              gauge 1
 * The `service` and `instance` labels come from discovery.
 *
 * Threads: every call takes the fleet's mutex; render and tick may run
 * concurrently from HTTP workers and the ticker.
 */
#ifndef DEMO_FLEET_H
#define DEMO_FLEET_H

#include <stddef.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "demo/config.h"

typedef struct demo_fleet demo_fleet_t;

/* Build the fleet from cfg (borrowed; must outlive the fleet), clocks
 * starting at now (seconds).  OUT: *out, released by demo_fleet_free. */
int demo_fleet_new(const demo_cfg_t *cfg, double now, uint64_t seed,
    demo_fleet_t **out, ax_err_t *err);
void demo_fleet_free(demo_fleet_t *f);

size_t demo_fleet_count(const demo_fleet_t *f);
/* Service i's name (borrowed, lives as long as the fleet). */
const char *demo_fleet_name(const demo_fleet_t *f, size_t i);

/* Advance the traffic to now (seconds). */
void demo_fleet_tick(demo_fleet_t *f, double now);

/* Mark service i down (1) or up (0); returns the previous state. */
int demo_fleet_set_down(demo_fleet_t *f, size_t i, int down);
int demo_fleet_is_down(demo_fleet_t *f, size_t i);

/* Append service i's exposition to b (AX_ENOMEM). */
int demo_fleet_render(demo_fleet_t *f, size_t i, int openmetrics, ax_buf_t *b);

/* Append the fleet as a JSON array to b: name, port (ports[i]),
 * dependsOn, dependents (direct), state ("up"/"down"), errorRatio. */
int demo_fleet_json(demo_fleet_t *f, const int *ports, ax_buf_t *b);

#endif
