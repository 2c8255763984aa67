/*
 * rwout: remote_write out.  Everything axon-tsdb stores (scraped, recorded
 * and remote-written series) is forwarded to the prometheus.yml
 * `remote_write` receivers by tailing the WAL, as Prometheus' WAL watcher
 * does: series records register label sets with each sender (external
 * labels added where the series lacks them), sample records are queued.
 * What the WAL held when the forwarder started is history: its series are
 * registered, its samples not re-sent (as Prometheus after a restart).
 * Every record appended afterwards is forwarded, whatever its timestamps
 * (Prometheus' watcher also drops new samples older than its start;
 * backfill reaches the receivers here).  A slow
 * receiver makes the tail lag behind, never blocks ingestion.
 */
#ifndef TSDB_RWOUT_H
#define TSDB_RWOUT_H

#include "ax_config.h"
#include "ax_labels.h"
#include "ax_metrics.h"
#include "ax_rw.h"

typedef struct tsdb_rwout tsdb_rwout_t;

/* Start forwarding wal_dir to the n configs (copied).  OUT: *out. */
int tsdb_rwout_start(const char *wal_dir, const ax_rw_config_t *cfgs, size_t n,
    const ax_labels_t *external, ax_metrics_t *reg, int64_t poll_ms,
    tsdb_rwout_t **out, ax_err_t *err);
/* Stop, giving the queues flush_ms to drain. */
void tsdb_rwout_stop(tsdb_rwout_t *o, int64_t flush_ms);

#endif
