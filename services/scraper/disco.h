/*
 * disco: axon-scraper's link to axon-discoverer -- heartbeats, the
 * assignment (the live scrapers) and the published target sets.
 *
 * A heartbeat (REQ/REP on the discoverer's control socket) goes out every
 * heartbeat interval (the discoverer's, from its replies; 1 s until the
 * first reply).  A reply carries the latest target-set generation and,
 * when the member set changed since the version this scraper applies,
 * the new Assignment.  Target sets come on the PUB socket (topic
 * "targets"); when a reply names a generation this scraper has not seen
 * (it started late or missed a message), it asks for the full snapshot.
 *
 * Ownership: a target is this scraper's when rendezvous hashing of its
 * discovered __address__ over the members (ax_hrw) picks this scraper.
 * Before the first assignment arrives every target is owned (a duplicate
 * is better than a gap); while the discoverer is unreachable the last
 * assignment stays in force, and the next reply after it comes back
 * brings the current one.
 *
 * on_change runs on an internal thread whenever ownership or the target
 * sets change; the scrape engine then re-applies its jobs.
 */
#ifndef SCRAPER_DISCO_H
#define SCRAPER_DISCO_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"
#include "ax_metrics.h"
#include "scraper/config.h"

typedef struct scraper_disco scraper_disco_t;

typedef struct scraper_disco_opts {
	const char *control;  /* nng address of the control socket */
	const char *publish;  /* nng address of the PUB socket */
	const char *id;       /* this scraper's id (axon_scraper.sender_id) */
	const char *http_url; /* where its /api/v1/targets is served */
	void (*on_change)(void *arg);
	void *arg;
} scraper_disco_opts_t;

/* Start heartbeating and subscribing.  Strings are copied.  OUT: *out. */
int scraper_disco_start(const scraper_disco_opts_t *o, ax_metrics_t *m,
    scraper_disco_t **out, ax_err_t *err);
void scraper_disco_stop(scraper_disco_t *d);

/* Change where on_change goes (NULL: nowhere), e.g. across reloads. */
void scraper_disco_set_callback(
    scraper_disco_t *d, void (*fn)(void *arg), void *arg);

/* 1 when the target with this discovered address is this scraper's. */
int scraper_disco_owns(scraper_disco_t *d, const char *address);

/*
 * The registry targets matching an axon_sd_configs entry, one group per
 * target (targets = its __address__, labels = the rest).  OUT: *groups
 * (n of them), released with ax_tgroups_free.
 */
int scraper_disco_groups(scraper_disco_t *d, const scraper_axonsd_t *f,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err);

/* The targets of the delegated job `set` (its name), one group per
 * target.  OUT as scraper_disco_groups. */
int scraper_disco_set_groups(scraper_disco_t *d, const char *set,
    ax_tgroup_t **groups, size_t *n, ax_err_t *err);

/* Hand the jobs' dns_sd_configs and consul_sd_configs (cfg borrowed for
 * the call) to the discoverer: sent now, again after every reconnect and
 * every 30 heartbeats (a restarted discoverer has forgotten them).  The
 * discoverer runs them and publishes each job's targets as a target set
 * named after the job. */
int scraper_disco_delegate(scraper_disco_t *d, const scraper_cfg_t *cfg);

#endif
