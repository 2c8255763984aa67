/*
 * engine: the scrape engine -- targets from static_configs, file_sd,
 * the discoverer's target sets (owned by rendezvous hashing when a
 * discoverer assigns them) and relabel_configs, one libuv loop (its own thread) driving a libcurl multi
 * handle through the socket-action API, the parse of each body (text 0.0.4
 * or OpenMetrics by Content-Type), the per-target series cache, staleness
 * markers, the report series, and delivery to the remote-write senders.
 *
 * Targets (Prometheus 2.42's rules): the discovered labels are the group
 * labels plus __address__, job, __scheme__, __metrics_path__,
 * __scrape_interval__, __scrape_timeout__ and __param_<name>;
 * relabel_configs run on them (a dropped target is listed as dropped); a
 * missing port gets the scheme's default; __meta_* labels go; instance
 * defaults to the address; the labels not starting with "__" are the
 * target's labels.  Each target is scraped every interval at a phase
 * fixed by a hash of the target (the same after a restart), with the
 * scrape timeout, gzip, keep-alive and Accept preferring OpenMetrics.
 *
 * A scrape (Prometheus' semantics): sample labels get the target labels
 * (honor_labels keeps the exposed ones; otherwise clashing exposed labels
 * become exported_<name>), then metric_relabel_configs and the label
 * limits; timestamps are the scrape's start unless honor_timestamps and
 * the body gives one.  sample_limit, a bad body, a non-200 answer, a
 * timeout or a body over body_size_limit fail the scrape: nothing of it is
 * kept, `up` is 0 and lastError says why.  A series exposed in the last
 * scrape and not in this one (or in a failed one) gets a staleness marker;
 * so do all of a target's series when it goes away.  Each scrape adds up,
 * scrape_duration_seconds, scrape_samples_scraped,
 * scrape_samples_post_metric_relabeling and scrape_series_added.
 *
 * Steady state: the series cache is keyed by the exposed name and raw
 * labels, so a known series costs a hash lookup, no label building.
 */
#ifndef SCRAPER_ENGINE_H
#define SCRAPER_ENGINE_H

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_metrics.h"
#include "ax_ship.h"
#include "scraper/config.h"

typedef struct scraper_engine scraper_engine_t;

/* Build the targets of cfg (borrowed; must outlive the engine) and start
 * scraping in a new thread.  Samples go to ship (borrowed; NULL: none)
 * and to cfg's remote_write receivers.  Series refs come from *next_ref,
 * shared by the engines of one process so a reload's overlap never
 * reuses a ref.  With shard (NULL: none) of N replicas, only the targets
 * whose final __address__ hashes (Prometheus' hashmod: MD5, low 64 bits)
 * to index modulo N are scraped here.  OUT: *out. */
typedef struct scraper_shard {
	uint64_t index, count; /* count 0 or 1: every target */
} scraper_shard_t;

/* Parse "i/N" (0 <= i < N).  0, or AX_EINVAL with err. */
int scraper_shard_parse(const char *s, scraper_shard_t *out, ax_err_t *err);

/* With disco (borrowed, NULL: none), targets are owned by the
 * discoverer's assignment instead of shard, and jobs with axon_sd_configs
 * take the discoverer's registry targets. */
struct scraper_disco;
int scraper_engine_start(const scraper_cfg_t *cfg, ax_metrics_t *reg,
    ax_ship_t *ship, uint64_t *next_ref, const scraper_shard_t *shard,
    struct scraper_disco *disco, scraper_engine_t **out, ax_err_t *err);
/* Re-apply every job's targets soon (the assignment or the registry
 * changed).  Any thread. */
void scraper_engine_refresh(scraper_engine_t *e);
/* Stop: write staleness markers for the series of every target that
 * successor (the engine of a reloaded config, or NULL) does not scrape
 * too, flush the senders for up to flush_ms, free. */
void scraper_engine_stop(
    scraper_engine_t *e, const scraper_engine_t *successor, int64_t flush_ms);

/* /api/v1/targets JSON (Prometheus' shape) appended to b; state is one of
 * "active", "dropped", "any" (NULL: any). */
void scraper_engine_targets_json(
    scraper_engine_t *e, const char *state, ax_buf_t *b);

#endif
