/*
 * axon-tsdb: entry point.  The Axon time-series database: storage (head,
 * WAL in Prometheus' format), ingestion over nng and remote write, and the
 * Prometheus HTTP API.
 *
 * Start-up: lock the data directory, start serving HTTP at once (not
 * ready), replay the WAL in a background thread, then open a fresh WAL
 * segment and become ready.  While not ready, writes are answered
 * "retry" (nng) or 503 (HTTP) and /-/ready says 503.
 */
#include "tsdb/block.h"
#include "tsdb/compact.h"
#include "tsdb/ingest.h"
#include "tsdb/qsvc.h"
#include "tsdb/tsdb.h"
#include "ax_log.h"
#include "ax_units.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const ax_flag_t flags[] = {
    {"storage.tsdb.path", AX_FLAG_STRING, "data/",
        "Base path for metrics storage (relative to the working directory)."},
    {"storage.tsdb.wal-compression", AX_FLAG_BOOL, "true",
        "Compress WAL records with snappy (as Prometheus 2.42 does by "
        "default)."},
    {"storage.tsdb.wal-segment-size", AX_FLAG_SIZE, "128MB",
        "Size of a WAL segment file."},
    {"storage.tsdb.wal-fsync", AX_FLAG_STRING, "segment",
        "When to fsync the WAL: never, segment (when a segment is completed, "
        "as Prometheus) or always (before every acknowledgement)."},
    {"storage.tsdb.min-block-duration", AX_FLAG_DURATION, "2h",
        "Block range: head chunks never cross its boundaries."},
    {"storage.tsdb.max-series", AX_FLAG_INT, "0",
        "Maximum number of series in the head; 0 for no limit."},
    {"storage.tsdb.max-future", AX_FLAG_DURATION, "10m",
        "Samples stamped further ahead of the clock are rejected as "
        "invalid; 0 for no limit."},
    {"web.enable-remote-write-receiver", AX_FLAG_BOOL, "true",
        "Accept Prometheus remote-write requests at /api/v1/write."},
    {"storage.tsdb.max-series-per-metric", AX_FLAG_INT, "0",
        "Maximum number of head series of one metric name; 0 for no limit."},
    {"storage.tsdb.max-labels-per-series", AX_FLAG_INT, "0",
        "Maximum number of labels of a series; 0 for no limit."},
    {"storage.tsdb.max-label-name-length", AX_FLAG_INT, "0",
        "Maximum length of a label name in bytes; 0 for no limit."},
    {"storage.tsdb.max-label-value-length", AX_FLAG_INT, "0",
        "Maximum length of a label value in bytes; 0 for no limit."},
    {"storage.tsdb.retention.time", AX_FLAG_DURATION, "15d",
        "How long to keep blocks (0 keeps them until the size limit)."},
    {"storage.tsdb.retention.size", AX_FLAG_SIZE, "0",
        "Maximum bytes of blocks to keep, oldest deleted first (0: no limit)."},
    {"storage.tsdb.compaction-check-interval", AX_FLAG_DURATION, "1m",
        "How often to check whether the head should be cut into a block and "
        "blocks expired."},
    {"storage.remote.poll-interval", AX_FLAG_DURATION, "100ms",
        "How often remote_write out looks for new WAL records when idle."},
    {"web.enable-admin-api", AX_FLAG_BOOL, "false",
        "Enable the admin endpoints (snapshots)."},
    {"query.lookback-delta", AX_FLAG_DURATION, "5m",
        "How far back to look for a sample (/federate and queries)."},
    {"query.timeout", AX_FLAG_DURATION, "2m",
        "Maximum time a query may take before it is aborted."},
    {"query.max-samples", AX_FLAG_INT, "50000000",
        "Maximum number of samples a single query can hold in memory at "
        "once; a query over it fails with a clear error."},
    {"query.max-concurrency", AX_FLAG_INT, "20",
        "Maximum number of queries executed at once; further queries wait "
        "for a slot up to their timeout."},
    {NULL, 0, NULL, NULL},
};

static double g_series(void *arg)
{
	tsdb_head_stats_t st;

	tsdb_head_stats(((tsdb_t *)arg)->head, &st);
	return (double)st.series;
}

static double g_chunks(void *arg)
{
	tsdb_head_stats_t st;

	tsdb_head_stats(((tsdb_t *)arg)->head, &st);
	return (double)st.chunks;
}

static double g_hchunk_files(void *arg)
{
	tsdb_hchunks_stats_t st;

	tsdb_hchunks_stats(((tsdb_t *)arg)->hchunks, &st);
	return (double)st.files;
}

static double g_hchunk_bytes(void *arg)
{
	tsdb_hchunks_stats_t st;

	tsdb_hchunks_stats(((tsdb_t *)arg)->hchunks, &st);
	return (double)st.bytes;
}

static double g_hchunk_errors(void *arg)
{
	tsdb_hchunks_stats_t st;

	tsdb_hchunks_stats(((tsdb_t *)arg)->hchunks, &st);
	return (double)st.write_errors;
}

static double g_blocks(void *arg)
{
	tsdb_db_stats_t st;

	if (((tsdb_t *)arg)->db == NULL)
		return 0;
	tsdb_db_stats(((tsdb_t *)arg)->db, &st);
	return (double)st.n_blocks;
}

static double g_block_bytes(void *arg)
{
	tsdb_db_stats_t st;

	if (((tsdb_t *)arg)->db == NULL)
		return 0;
	tsdb_db_stats(((tsdb_t *)arg)->db, &st);
	return (double)st.block_bytes;
}

static double g_exemplars(void *arg)
{
	tsdb_exemplars_t *x = tsdb_head_exemplars(((tsdb_t *)arg)->head);

	return x ? (double)tsdb_exemplars_count(x) : 0;
}

static double g_ready(void *arg)
{
	return ((tsdb_t *)arg)->ready ? 1 : 0;
}

static int setup_metrics(tsdb_t *t)
{
	ax_metrics_t *r = ax_daemon_metrics(t->d);
	const char *rn[] = {"reason"};
	static const char *reasons[] = {"out_of_order", "duplicate_timestamp",
	    "out_of_bounds", "invalid", "limit"};
	ax_metric_t **dst[] = {
	    &t->m_ooo, &t->m_dup, &t->m_bounds, &t->m_invalid, &t->m_limit};
	const char *cn[] = {"code"};
	static const char *codes[] = {"204", "400", "503"};
	ax_metric_t **cdst[] = {&t->m_rw_ok, &t->m_rw_bad, &t->m_rw_retry};
	ax_mfam_t *f;
	int i;

	if (!ax_metrics_gauge_fn(r, "axon_tsdb_head_series",
	        "Number of series in the head.", g_series, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_head_chunks",
	        "Number of chunks in the head.", g_chunks, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_ready",
	        "1 once the WAL is replayed and writes are accepted.", g_ready,
	        t))
		return AX_ENOMEM;
	t->m_appended =
	    ax_metrics_counter(r, "axon_tsdb_head_samples_appended_total",
	        "Samples appended to the head (and written to the WAL).");
	f = ax_metrics_family(r, AX_METRIC_COUNTER,
	    "axon_tsdb_samples_rejected_total",
	    "Samples refused for good, by reason.", 1, rn, NULL, 0);
	for (i = 0; f && i < 5; i++)
		*dst[i] = ax_mfam_with(f, &reasons[i]);
	f = ax_metrics_family(r, AX_METRIC_COUNTER,
	    "axon_tsdb_remote_write_requests_total",
	    "Remote-write requests received, by response code.", 1, cn, NULL,
	    0);
	for (i = 0; f && i < 3; i++)
		*cdst[i] = ax_mfam_with(f, &codes[i]);
	t->m_wal_corrupt =
	    ax_metrics_counter(r, "axon_tsdb_wal_corruptions_total",
	        "Torn or corrupt WAL tails found (and cut) during replay.");
	t->m_wal_trunc =
	    ax_metrics_counter(r, "axon_tsdb_wal_truncated_bytes_total",
	        "Bytes cut from corrupt WAL tails during replay.");
	t->m_compactions = ax_metrics_counter(
	    r, "axon_tsdb_compactions_total", "Head compactions into blocks.");
	t->m_compact_fail =
	    ax_metrics_counter(r, "axon_tsdb_compactions_failed_total",
	        "Head compactions that failed (retried at the next check).");
	t->m_retention_time = ax_metrics_counter(r,
	    "axon_tsdb_time_retentions_total",
	    "Blocks deleted because they were older than the retention time.");
	t->m_retention_size =
	    ax_metrics_counter(r, "axon_tsdb_size_retentions_total",
	        "Blocks deleted to keep the storage under the retention size.");
	t->m_checkpoints = ax_metrics_counter(r, "axon_tsdb_checkpoints_total",
	    "WAL checkpoints written after head compactions.");
	if (!ax_metrics_gauge_fn(r, "axon_tsdb_exemplars_stored",
	        "Exemplars in the head's exemplar store.", g_exemplars, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_blocks_loaded",
	        "Number of persistent blocks open.", g_blocks, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_storage_blocks_bytes",
	        "Bytes of the persistent blocks.", g_block_bytes, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_mmap_chunk_files",
	        "Files in chunks_head (memory-mapped head chunks).",
	        g_hchunk_files, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_mmap_chunk_bytes",
	        "Bytes in chunks_head.", g_hchunk_bytes, t) ||
	    !ax_metrics_gauge_fn(r, "axon_tsdb_mmap_chunk_write_errors",
	        "Completed head chunks that could not be written to "
	        "chunks_head (kept on the heap instead) since the start.",
	        g_hchunk_errors, t))
		return AX_ENOMEM;
	t->m_replay_secs =
	    ax_metrics_gauge(r, "axon_tsdb_wal_replay_duration_seconds",
	        "Duration of the last WAL replay.");
	return t->m_appended && t->m_wal_corrupt && t->m_replay_secs
	    ? 0
	    : AX_ENOMEM;
}

/* Cut the head into blocks while it spans more than 1.5 block ranges, as
 * Prometheus does, then apply retention. */
static void compact_once(tsdb_t *t)
{
	int64_t range =
	    ax_daemon_flag_int(t->d, "storage.tsdb.min-block-duration");
	int64_t keep = ax_daemon_flag_int(t->d, "storage.tsdb.retention.time");
	int64_t max_bytes =
	    ax_daemon_flag_int(t->d, "storage.tsdb.retention.size");
	tsdb_head_stats_t st;
	size_t n;

	for (;;) {
		int64_t lo, hi;
		char ulid[27];
		tsdb_block_stats_t bs;
		ax_err_t err;
		int rv;

		tsdb_head_stats(t->head, &st);
		if (st.series == 0 || st.maxt == INT64_MIN ||
		    st.maxt - st.mint <= range / 2 * 3)
			break;
		lo = st.mint / range * range;
		if (st.mint < 0 && st.mint % range)
			lo -= range;
		hi = lo + range;
		tsdb_db_rlock(t->db);
		rv = tsdb_block_write_head(
		    t->head, t->data_dir, lo, hi, ulid, &bs, &err);
		tsdb_db_runlock(t->db);
		if (rv == 0 && bs.series > 0)
			rv = tsdb_db_add_block(t->db, ulid, &err);
		if (rv != 0) {
			ax_counter_inc(t->m_compact_fail);
			ax_log_error("head compaction failed; retrying later",
			    "err", err.msg);
			return;
		}
		n = tsdb_db_truncate_head(t->db, hi);
		ax_counter_inc(t->m_compactions);
		{
			char a[32], b[32], c[32];

			snprintf(a, sizeof(a), "%lld", (long long)lo);
			snprintf(b, sizeof(b), "%lld", (long long)hi);
			snprintf(c, sizeof(c), "%zu", n);
			ax_log_info("head compacted into a block", "ulid", ulid,
			    "mint", a, "maxt", b, "series_removed_from_head",
			    c);
		}
		tsdb_wal_truncate_after_compaction(t, hi);
	}
	{
		ax_err_t err;
		int m = tsdb_compact_blocks(t->db, range, keep, &err);

		if (m < 0) {
			ax_counter_inc(t->m_compact_fail);
			ax_log_error("block compaction failed; retrying later",
			    "err", err.msg);
		} else if (m > 0) {
			ax_counter_add(t->m_compactions, m);
		}
	}
	if (keep > 0) {
		int64_t newest = tsdb_db_blocks_maxt(t->db);

		tsdb_head_stats(t->head, &st);
		if (st.maxt > newest)
			newest = st.maxt;
		if (newest != INT64_MIN &&
		    (n = tsdb_db_drop_blocks_before(t->db, newest - keep)) > 0)
			ax_counter_add(t->m_retention_time, (double)n);
	}
	if (max_bytes > 0) {
		char wd[4200];

		snprintf(wd, sizeof(wd), "%s/wal", tsdb_db_dir(t->db));
		n = tsdb_db_drop_blocks_over_size(
		    t->db, (uint64_t)max_bytes, tsdb_wal_dir_bytes(wd));
		if (n > 0)
			ax_counter_add(t->m_retention_size, (double)n);
	}
}

static void *compactor_main(void *arg)
{
	tsdb_t *t = arg;
	int64_t every =
	    ax_daemon_flag_int(t->d, "storage.tsdb.compaction-check-interval");

	pthread_mutex_lock(&t->stop_mu);
	while (!t->stopping) {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += every / 1000;
		dl.tv_nsec += (every % 1000) * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->stop_cv, &t->stop_mu, &dl);
		if (t->stopping)
			break;
		pthread_mutex_unlock(&t->stop_mu);
		if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
			compact_once(t);
		pthread_mutex_lock(&t->stop_mu);
	}
	pthread_mutex_unlock(&t->stop_mu);
	return NULL;
}

/* (Re)start remote_write out for cfg's remote_write section. */
static void start_forwarder(tsdb_t *t, const tsdb_cfg_t *cfg)
{
	ax_err_t err;
	tsdb_rwout_t *o = NULL;

	pthread_mutex_lock(&t->rwout_mu);
	tsdb_rwout_stop(t->rwout, 2000);
	t->rwout = NULL;
	if (cfg->remote_write.n > 0) {
		if (tsdb_rwout_start(t->wal_dir, cfg->remote_write.items,
		        cfg->remote_write.n, cfg->global.external_labels,
		        ax_daemon_metrics(t->d),
		        ax_daemon_flag_int(
		            t->d, "storage.remote.poll-interval"),
		        &o, &err) != 0)
			ax_log_error(
			    "cannot start remote_write out", "err", err.msg);
		else
			t->rwout = o;
	}
	pthread_mutex_unlock(&t->rwout_mu);
}

static void *replay_main(void *arg)
{
	tsdb_t *t = arg;
	tsdb_wal_replay_stats_t st;
	uint64_t samples = 0;
	int64_t t0 = ax_mono_ms();
	ax_err_t err;
	char a[32], b[32], c[32], secs[32];

	if (tsdb_head_replay(t->head, t->wal_dir, &st, &samples, &err) != 0) {
		ax_log_error("WAL replay failed; axon-tsdb stays not ready",
		    "err", err.msg);
		t->failed = 1;
		return NULL;
	}
	ax_counter_add(t->m_wal_corrupt, (double)st.corruptions);
	ax_counter_add(t->m_wal_trunc, (double)st.truncated_bytes);
	ax_gauge_set(t->m_replay_secs, (double)(ax_mono_ms() - t0) / 1000.0);
	if (tsdb_wal_open(t->wal_dir, &t->wal_opts, &t->wal, &err) != 0) {
		ax_log_error("cannot open the WAL for writing; axon-tsdb stays "
		             "not ready",
		    "err", err.msg);
		t->failed = 1;
		return NULL;
	}
	tsdb_head_set_wal(t->head, t->wal);
	start_forwarder(t, ax_daemon_config(t->d));
	snprintf(a, sizeof(a), "%llu", (unsigned long long)st.segments);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)st.records);
	snprintf(c, sizeof(c), "%llu", (unsigned long long)samples);
	snprintf(
	    secs, sizeof(secs), "%.3f", (double)(ax_mono_ms() - t0) / 1000.0);
	ax_log_info("WAL replay completed", "segments", a, "records", b,
	    "samples", c, "duration_seconds", secs);
	__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int lock_dir(tsdb_t *t, ax_err_t *err)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/lock", t->data_dir);
	t->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (t->lock_fd < 0)
		return ax_err_set(
		    err, AX_EIO, "open %s: %s", p, strerror(errno));
	if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		close(t->lock_fd);
		t->lock_fd = -1;
		return ax_err_set(err, AX_EIO,
		    "lock %s: %s (is another axon-tsdb or Prometheus using "
		    "this directory?)",
		    p, strerror(errno));
	}
	return 0;
}

static void apply_cfg(tsdb_t *t, const tsdb_cfg_t *c)
{
	ax_labels_t *ext = c->global.external_labels
	    ? ax_labels_dup(c->global.external_labels)
	    : NULL;
	char **sv =
	    calloc(c->axon.scrapers.n ? c->axon.scrapers.n : 1, sizeof(*sv));
	char *ruler = c->axon.ruler ? strdup(c->axon.ruler) : NULL;
	size_t i, n = 0;

	for (i = 0; sv && i < c->axon.scrapers.n; i++)
		if ((sv[n] = strdup(c->axon.scrapers.v[i])) != NULL)
			n++;
	pthread_mutex_lock(&t->cfg_mu);
	ax_labels_free(t->external_labels);
	t->external_labels = ext;
	for (i = 0; i < t->scrapers.n; i++)
		free(t->scrapers.v[i]);
	free(t->scrapers.v);
	t->scrapers.v = sv;
	t->scrapers.n = sv ? n : 0;
	free(t->ruler);
	t->ruler = ruler;
	pthread_mutex_unlock(&t->cfg_mu);
}

static void tsdb_free(tsdb_t *t)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	if (t == NULL)
		return;
	tsdb_qsvc_stop(t->qsvc);
	t->qsvc = NULL;
	tsdb_ingest_stop(t->ingest);
	tsdb_rwout_stop(t->rwout, 5000);
	t->rwout = NULL;
	if (t->replay_started)
		pthread_join(t->replay_thread, NULL);
	if (t->compactor_started) {
		pthread_mutex_lock(&t->stop_mu);
		t->stopping = 1;
		pthread_cond_broadcast(&t->stop_cv);
		pthread_mutex_unlock(&t->stop_mu);
		pthread_join(t->compactor, NULL);
	}
	tsdb_db_close(t->db);
	tsdb_wal_close(t->wal);
	tsdb_head_free(t->head);
	tsdb_hchunks_close(t->hchunks); /* after the head: it points into it */
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	while ((e = ax_hmap_next(&t->meta, &pos)) != NULL) {
		tsdb_meta_t *m = e->val;

		free(m->help);
		free(m->unit);
		free(m);
	}
	ax_hmap_fini(&t->meta);
	ax_labels_free(t->external_labels);
	for (size_t k = 0; k < t->scrapers.n; k++)
		free(t->scrapers.v[k]);
	free(t->scrapers.v);
	free(t->ruler);
	pthread_mutex_destroy(&t->cfg_mu);
	pthread_mutex_destroy(&t->meta_mu);
	pthread_mutex_destroy(&t->stop_mu);
	pthread_mutex_destroy(&t->rwout_mu);
	pthread_mutex_destroy(&t->q_mu);
	pthread_cond_destroy(&t->q_cv);
	pthread_cond_destroy(&t->stop_cv);
	free(t->data_dir);
	free(t->wal_dir);
	free(t);
}

static int start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	tsdb_cfg_t *cfg = cfgp;
	tsdb_t *t = calloc(1, sizeof(*t));
	tsdb_head_opts_t ho;
	const char *fs = ax_daemon_flag(d, "storage.tsdb.wal-fsync");
	size_t l;
	int rv;

	if (t == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	t->d = d;
	t->lock_fd = -1;
	pthread_mutex_init(&t->cfg_mu, NULL);
	pthread_mutex_init(&t->meta_mu, NULL);
	pthread_mutex_init(&t->stop_mu, NULL);
	pthread_mutex_init(&t->rwout_mu, NULL);
	pthread_mutex_init(&t->q_mu, NULL);
	pthread_cond_init(&t->q_cv, NULL);
	pthread_cond_init(&t->stop_cv, NULL);
	ax_hmap_init(&t->meta);
	ax_daemon_set_state(d, t);
	t->data_dir = strdup(ax_daemon_flag(d, "storage.tsdb.path"));
	if (t->data_dir == NULL)
		goto oom;
	l = strlen(t->data_dir);
	while (l > 1 && t->data_dir[l - 1] == '/')
		t->data_dir[--l] = '\0';
	t->wal_dir = malloc(l + 5);
	if (t->wal_dir == NULL)
		goto oom;
	snprintf(t->wal_dir, l + 5, "%s/wal", t->data_dir);
	if (strcmp(fs, "never") == 0)
		t->wal_opts.fsync = TSDB_WAL_FSYNC_NEVER;
	else if (strcmp(fs, "segment") == 0)
		t->wal_opts.fsync = TSDB_WAL_FSYNC_SEGMENT;
	else if (strcmp(fs, "always") == 0)
		t->wal_opts.fsync = TSDB_WAL_FSYNC_ALWAYS;
	else {
		rv = ax_err_set(err, AX_EINVAL,
		    "--storage.tsdb.wal-fsync: want never, segment or always, "
		    "got \"%s\"",
		    fs);
		goto fail;
	}
	t->wal_opts.compress =
	    ax_daemon_flag_bool(d, "storage.tsdb.wal-compression");
	t->wal_opts.segment_size =
	    (size_t)ax_daemon_flag_int(d, "storage.tsdb.wal-segment-size");
	t->lookback_ms = ax_daemon_flag_int(d, "query.lookback-delta");
	tsdb_pq_opts_default(&t->pq_opts);
	t->pq_opts.lookback_ms = t->lookback_ms;
	t->pq_opts.timeout_ms = ax_daemon_flag_int(d, "query.timeout");
	t->pq_opts.max_samples = ax_daemon_flag_int(d, "query.max-samples");
	t->q_max = (int)ax_daemon_flag_int(d, "query.max-concurrency");
	if (t->q_max < 1)
		t->q_max = 1;
	if (cfg->global.evaluation_interval_ms > 0)
		t->pq_opts.default_step_ms = cfg->global.evaluation_interval_ms;
	if (mkdir(t->data_dir, 0777) != 0 && errno != EEXIST) {
		rv = ax_err_set(
		    err, AX_EIO, "create %s: %s", t->data_dir, strerror(errno));
		goto fail;
	}
	if ((rv = lock_dir(t, err)) != 0)
		goto fail;
	memset(&ho, 0, sizeof(ho));
	ho.chunk_range_ms =
	    ax_daemon_flag_int(d, "storage.tsdb.min-block-duration");
	ho.max_series = ax_daemon_flag_int(d, "storage.tsdb.max-series");
	ho.max_future_ms = ax_daemon_flag_int(d, "storage.tsdb.max-future");
	ho.max_exemplars = cfg->storage.exemplars.max_exemplars;
	ho.max_series_per_metric =
	    ax_daemon_flag_int(d, "storage.tsdb.max-series-per-metric");
	ho.max_labels =
	    ax_daemon_flag_int(d, "storage.tsdb.max-labels-per-series");
	ho.max_name_len =
	    ax_daemon_flag_int(d, "storage.tsdb.max-label-name-length");
	ho.max_value_len =
	    ax_daemon_flag_int(d, "storage.tsdb.max-label-value-length");
	if ((rv = tsdb_head_new(&ho, &t->head, err)) != 0)
		goto fail;
	if ((rv = tsdb_hchunks_open(t->data_dir, &t->hchunks, err)) != 0)
		goto fail;
	tsdb_head_set_hchunks(t->head, t->hchunks);
	if ((rv = tsdb_db_open(t->data_dir, t->head, &t->db, err)) != 0)
		goto fail;
	/* samples up to the newest block live there, not in the head */
	tsdb_head_set_min_valid(t->head, tsdb_db_blocks_maxt(t->db));
	if (setup_metrics(t) != 0)
		goto oom;
	apply_cfg(t, cfg);
	if ((rv = tsdb_ingest_start(t, ax_daemon_metrics(d),
	         cfg->axon.ingest_listen, &t->ingest, err)) != 0)
		goto fail;
	if ((rv = tsdb_qsvc_start(t, cfg->axon.query_listen, &t->qsvc, err)) !=
	    0)
		goto fail;
	if (tsdb_api_register(t, ax_daemon_http(d)) != 0)
		goto oom;
	if (!ax_daemon_flag_bool(d, "web.enable-remote-write-receiver"))
		ax_log_info("remote-write receiver disabled "
		            "(--web.enable-remote-write-receiver=false)");
	if (pthread_create(&t->replay_thread, NULL, replay_main, t) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "cannot start the WAL replay thread");
		goto fail;
	}
	t->replay_started = 1;
	if (pthread_create(&t->compactor, NULL, compactor_main, t) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "cannot start the compaction thread");
		goto fail;
	}
	t->compactor_started = 1;
	return 0;
oom:
	rv = ax_err_set(err, AX_ENOMEM, "out of memory");
fail:
	ax_daemon_set_state(d, NULL);
	tsdb_free(t);
	return rv;
}

static int reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	tsdb_t *t = ax_daemon_state(d);
	tsdb_cfg_t *old = ax_daemon_config(d), *nc = newp;
	const char *a = old->axon.ingest_listen ? old->axon.ingest_listen : "";

	if (old->storage.exemplars.max_exemplars !=
	    nc->storage.exemplars.max_exemplars)
		return ax_err_set(err, AX_ECONFIG,
		    "storage.exemplars.max_exemplars cannot change on reload; "
		    "restart axon-tsdb");
	const char *b = nc->axon.ingest_listen ? nc->axon.ingest_listen : "";

	if (strcmp(a, b) != 0)
		return ax_err_set(err, AX_ECONFIG,
		    "axon_tsdb.ingest_listen cannot change on reload (\"%s\" "
		    "-> \"%s\"); restart axon-tsdb",
		    a, b);
	a = old->axon.query_listen ? old->axon.query_listen : "";
	b = nc->axon.query_listen ? nc->axon.query_listen : "";
	if (strcmp(a, b) != 0)
		return ax_err_set(err, AX_ECONFIG,
		    "axon_tsdb.query_listen cannot change on reload (\"%s\" "
		    "-> \"%s\"); restart axon-tsdb",
		    a, b);
	apply_cfg(t, nc);
	if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
		start_forwarder(t, nc); /* remote_write may have changed */
	return 0;
}

static void stop(ax_daemon_t *d)
{
	tsdb_free(ax_daemon_state(d));
	ax_daemon_set_state(d, NULL);
}

static int ready(ax_daemon_t *d)
{
	tsdb_t *t = ax_daemon_state(d);

	return t && __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-tsdb",
    .component = "tsdb",
    .description = "The Axon time-series database: storage, PromQL and the "
                   "Prometheus HTTP API.",
    .default_config = "tsdb.yml",
    .default_listen = "0.0.0.0:9090",
    .flags = flags,
    .load_config = tsdb_config_load,
    .free_config = tsdb_config_free,
    .start = start,
    .reload = reload,
    .stop = stop,
    .ready = ready,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
