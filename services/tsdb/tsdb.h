/*
 * tsdb: the state of one axon-tsdb process, shared by its modules
 * (main.c wires them; ingest.c feeds the head; api.c serves HTTP).
 */
#ifndef TSDB_TSDB_H
#define TSDB_TSDB_H

#include <pthread.h>
#include <stdint.h>

#include "ax_config.h"
#include "ax_daemon.h"
#include "ax_hmap.h"
#include "ax_metrics.h"
#include "tsdb/db.h"
#include "tsdb/hchunks.h"
#include "tsdb/head.h"
#include "tsdb/promql.h"
#include "tsdb/rwout.h"
#include "tsdb/wal.h"

/* Configuration (prometheus.yml sections owned by axon-tsdb). */
typedef struct tsdb_cfg {
	ax_prom_global_t global;
	struct {
		struct {
			int64_t out_of_order_time_window_ms;
		} tsdb;
		struct {
			int64_t max_exemplars; /* ring size; 0 stores none */
		} exemplars;
	} storage;
	struct {
		char *ingest_listen;       /* nng REP address for SampleBatch */
		char *query_listen;        /* nng REP address for QueryRequest */
		ax_cfg_strings_t scrapers; /* HTTP base URLs (targets relay) */
		char *ruler; /* HTTP base URL (rules, alerts relay) */
	} axon;
	ax_cfg_list_t remote_write; /* of ax_rw_config_t */
} tsdb_cfg_t;

int tsdb_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err);
void tsdb_config_free(void *cfg);

typedef struct tsdb_ingest tsdb_ingest_t;
typedef struct tsdb_qsvc tsdb_qsvc_t;

/* Metric metadata from scrapers and remote write (HELP/TYPE/UNIT). */
typedef struct tsdb_meta {
	char type[16];
	char *help;
	char *unit;
} tsdb_meta_t;

typedef struct tsdb {
	ax_daemon_t *d;
	char *data_dir;
	char *wal_dir;
	int lock_fd;
	tsdb_head_t *head;
	tsdb_hchunks_t *hchunks; /* chunks_head (mapped head chunks) */
	tsdb_db_t *db;
	tsdb_wal_t *wal;
	tsdb_wal_opts_t wal_opts;
	volatile int ready;  /* WAL replayed, accepting writes */
	volatile int failed; /* replay failed: not ready, ever */
	pthread_t replay_thread;
	int replay_started;
	pthread_t compactor;
	int compactor_started;
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
	int stopping;
	tsdb_ingest_t *ingest;
	tsdb_qsvc_t *qsvc;
	tsdb_rwout_t *rwout; /* remote_write out, or NULL */
	pthread_mutex_t rwout_mu;
	pthread_mutex_t cfg_mu; /* external labels etc. from the config */
	ax_labels_t *external_labels;
	ax_cfg_strings_t scrapers; /* copies, under cfg_mu */
	char *ruler;
	pthread_mutex_t meta_mu;
	ax_hmap_t meta;      /* metric family -> tsdb_meta_t* */
	int64_t lookback_ms; /* /federate */
	/* queries: the options, and the slots of --query.max-concurrency */
	tsdb_pq_opts_t pq_opts;
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	int q_active, q_max;
	/* metrics */
	ax_metric_t *m_series, *m_chunks, *m_appended, *m_ooo, *m_dup,
	    *m_bounds, *m_invalid, *m_limit, *m_wal_corrupt, *m_wal_trunc,
	    *m_replay_secs, *m_rw_ok, *m_rw_bad, *m_rw_retry, *m_min_t,
	    *m_max_t, *m_compactions, *m_compact_fail, *m_retention_time,
	    *m_retention_size, *m_checkpoints;
} tsdb_t;

/* Record the outcome of one append in the metrics. */
void tsdb_count_append(tsdb_t *t, const tsdb_append_result_t *r);
/* Store metadata for a metric family (type as Prometheus names it). */
void tsdb_meta_put(tsdb_t *t, const char *family, const char *type,
    const char *help, const char *unit);

/* After a head compaction up to mint: checkpoint and drop the WAL
 * segments that only hold older data (checkpoint.c). */
void tsdb_wal_truncate_after_compaction(tsdb_t *t, int64_t mint);

/* HTTP API routes (api.c). */
int tsdb_api_register(tsdb_t *t, ax_http_server_t *srv);

#endif
