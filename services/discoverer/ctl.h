/*
 * ctl: what the discoverer tells the rest of Axon -- the published target
 * sets, scraper membership and assignment, and the service dependency
 * graph.
 *
 * Target sets.  The registry's instances form the set "registry": one
 * group per service name (source "registry:<name>"), each target with
 * the labels Prometheus' consul_sd_configs would give it (__address__ and
 * __meta_consul_*).  The discovery providers (sd.h) add a set per
 * configured target set and per delegated scrape job, with the groups as
 * the providers made them.  On every change the whole update (all sets,
 * full=true, a new generation) goes out on the PUB socket, topic
 * "targets"; it is also
 * re-published every publish interval, and served over REQ/REP
 * (ControlRequest.snapshot) to a subscriber that started late or saw a
 * generation it did not expect.
 *
 * Membership.  Scrapers heartbeat over REQ/REP.  A scraper is a member
 * from its first heartbeat until it misses 3 heartbeat intervals (a lost
 * message costs one retry, never a membership change).  Every change of
 * the member set raises the assignment version; a heartbeat that names an
 * older version gets the new Assignment (the sorted member list) in its
 * reply.  Targets go to members by rendezvous hashing of their address
 * (ax_hrw), which every scraper computes itself.
 *
 * Delegation.  A scraper's DelegatedSDs (dns_sd_configs and
 * consul_sd_configs sections of its jobs, as YAML) start providers for a
 * set named after the job; sections the same scraper no longer sends are
 * stopped.
 *
 * Dependencies.  A service's Meta.depends_on (comma-separated) declares
 * edges, as does a target set's __axon_depends_on label (the service is
 * its __axon_service or service label, else the set's name); the graph
 * (union over a service's instances) is published on topic "deps" on
 * change and every publish interval, served on request,
 * at GET /api/v1/dependencies, and exported as
 * axon_service_dependency{service, depends_on} 1.  Cycles (strongly
 * connected components, self-loops included) are found with Tarjan's
 * algorithm and reported, one cycle path per component.
 */
#ifndef DISC_CTL_H
#define DISC_CTL_H

#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_metrics.h"
#include "discoverer/registry.h"

typedef struct disc_ctl disc_ctl_t;

typedef struct disc_ctl_opts {
	const char *control_listen; /* nng REP address */
	const char *publish_listen; /* nng PUB address */
	int64_t heartbeat_ms;       /* interval told to scrapers */
	int64_t publish_ms;         /* periodic re-publication */
} disc_ctl_opts_t;

/* Open the sockets and start the publisher thread.  r (borrowed) may be
 * NULL and set later with disc_ctl_set_registry (the registry's change
 * callback needs the ctl first).  OUT: *out. */
int disc_ctl_start(disc_reg_t *r, const disc_ctl_opts_t *o, ax_metrics_t *m,
    disc_ctl_t **out, ax_err_t *err);
/* The registry changed: rebuild and publish soon (any thread). */
void disc_ctl_changed(void *ctl);
void disc_ctl_set_registry(disc_ctl_t *c, disc_reg_t *r);
/* The discovery target sets (borrowed) and the names the config gives
 * them (NULL-ended, borrowed; delegated jobs may not take them). */
struct disc_sd;
void disc_ctl_set_sd(
    disc_ctl_t *c, struct disc_sd *sd, const char *const *config_sets);
void disc_ctl_stop(disc_ctl_t *c);

/* GET /api/v1/assignments and GET /api/v1/dependencies bodies. */
void disc_ctl_assignments_json(disc_ctl_t *c, ax_buf_t *out);
void disc_ctl_dependencies_json(disc_ctl_t *c, ax_buf_t *out);
/* GET /api/v1/targetsets: the published sets as JSON. */
void disc_ctl_targetsets_json(disc_ctl_t *c, ax_buf_t *out);
/* ax_metrics collector (arg: the ctl): axon_service_dependency,
 * axon_service_dependency_cycle, axon_discoverer_scrapers and
 * axon_discoverer_assigned_targets. */
void disc_ctl_collect(void *arg, ax_buf_t *out);

#endif
