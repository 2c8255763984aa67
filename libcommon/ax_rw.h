/*
 * ax_rw: the Prometheus remote-write 1.0 sender (queue manager) shared by
 * the scraper's agent mode and the tsdb's remote_write out.
 *
 * Configuration is prometheus.yml's `remote_write` list (ax_rw_fields).
 * At run time each sender owns N shards (queue_config.max_shards, at least
 * min_shards); a sample goes to shard ref % N so one series stays in
 * order.  A shard thread batches up to max_samples_per_send samples or
 * until batch_send_deadline, encodes a WriteRequest (one TimeSeries per
 * sample, as Prometheus does), compresses it with snappy's block format
 * and POSTs it with libcurl (one kept-alive connection per shard).
 *   2xx                -> done
 *   5xx, 429, network  -> retried with exponential backoff
 *                         (min_backoff .. max_backoff), forever, until stop
 *   other 4xx          -> dropped and counted (the receiver refused the data)
 * Series labels are stored once by ref (ax_rw_store_series) and looked up
 * when a batch is built, so the queues hold only (ref, ts, value).
 *
 * Thread-safety: every public function may be called from any thread.
 */
#ifndef AX_RW_H
#define AX_RW_H

#include <stddef.h>
#include <stdint.h>

#include "ax_config.h"
#include "ax_err.h"
#include "ax_labels.h"
#include "ax_metrics.h"
#include "ax_relabel.h"

typedef struct ax_rw_queue_config {
	int64_t capacity;               /* samples buffered per shard (2500) */
	int64_t max_shards;             /* 200 */
	int64_t min_shards;             /* 1 */
	int64_t max_samples_per_send;   /* 500 */
	int64_t batch_send_deadline_ms; /* 5s */
	int64_t min_backoff_ms;         /* 30ms */
	int64_t max_backoff_ms;         /* 5s */
	int retry_on_http_429;          /* true */
} ax_rw_queue_config_t;

typedef struct ax_rw_basic_auth {
	char *username;
	char *password;
	char *password_file;
} ax_rw_basic_auth_t;

typedef struct ax_rw_authorization {
	char *type; /* default "Bearer" */
	char *credentials;
	char *credentials_file;
} ax_rw_authorization_t;

typedef struct ax_rw_tls {
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *server_name;
	int insecure_skip_verify;
} ax_rw_tls_t;

typedef struct ax_rw_config {
	char *url;
	char *name;
	int64_t remote_timeout_ms; /* 30s */
	ax_labels_t *headers;      /* extra HTTP headers (name -> value) */
	int send_exemplars;
	int follow_redirects; /* true */
	int enable_http2;     /* true */
	char *proxy_url;
	char *bearer_token;
	char *bearer_token_file;
	ax_rw_basic_auth_t basic_auth;
	ax_rw_authorization_t authorization;
	ax_rw_tls_t tls_config;
	ax_rw_queue_config_t queue_config;
	int metadata_send; /* metadata_config.send */
	int64_t metadata_send_interval_ms;
	int64_t metadata_max_samples_per_send;
	ax_relabels_t write_relabel; /* write_relabel_configs */
} ax_rw_config_t;

/* Field tables of the HTTP client blocks remote_write shares with
 * scrape_configs: basic_auth, authorization, tls_config. */
extern const ax_cfg_field_t ax_rw_basic_auth_fields[];
extern const ax_cfg_field_t ax_rw_authorization_fields[];
extern const ax_cfg_field_t ax_rw_tls_fields[];

struct curl_slist;
/* Apply Prometheus' HTTP client credentials to a libcurl easy handle:
 * basic_auth (password or password_file), or an "Authorization: <type>
 * <credentials>" header from authorization or bearer_token(_file)
 * (appended to *hdrs).  Secret files are read on every call; libcurl
 * copies what it is given, so nothing need outlive the call.  AX_ECONFIG
 * when a file cannot be read, AX_ENOMEM. */
int ax_rw_auth_apply(void *curl, const ax_rw_basic_auth_t *ba,
    const ax_rw_authorization_t *az, const char *bearer,
    const char *bearer_file, struct curl_slist **hdrs, ax_err_t *err);

/* Apply a tls_config block to a libcurl easy handle (CA, client
 * certificate and key, insecure_skip_verify, and server_name: the
 * certificate must match it instead of the URL's host; SNI stays the
 * URL's host, which libcurl does not let us change).  t must outlive the
 * transfers of the handle. */
void ax_rw_tls_apply(void *curl, const ax_rw_tls_t *t);

/* The secret in a password or credentials file (at most 4 KiB, trailing
 * newlines and blanks cut).  OUT: malloc'd string, NULL with err set
 * when it cannot be read. */
char *ax_rw_read_secret_file(const char *path, ax_err_t *err);

/* Field table for one `remote_write` entry; use with AX_CFG_LIST,
 * elem_size sizeof(ax_rw_config_t), elem_init ax_rw_config_init. */
extern const ax_cfg_field_t ax_rw_fields[];
void ax_rw_config_init(void *cfg);
/* Validate a decoded entry (URL present and http(s), auth exclusivity,
 * shards and backoffs sane).  path names it in messages. */
int ax_rw_config_check(const ax_rw_config_t *cfg, const char *file,
    const char *path, ax_err_t *err);

typedef struct ax_rw_sender ax_rw_sender_t;

/*
 * Create and start a sender for cfg (copied as needed; cfg may be freed
 * afterwards).  Metrics go to reg (may be NULL).  OUT: *out owned by the
 * caller, released by ax_rw_sender_stop_free().
 */
int ax_rw_sender_new(const ax_rw_config_t *cfg, ax_metrics_t *reg,
    ax_rw_sender_t **out, ax_err_t *err);
/* Stop: flushes what is queued for at most flush_ms, then frees. */
void ax_rw_sender_stop_free(ax_rw_sender_t *s, int64_t flush_ms);

/* Store (or replace) the labels of series ref.  ls is copied, then
 * write_relabel_configs apply: a series they drop is remembered as
 * dropped, and its samples are skipped silently (as Prometheus does). */
int ax_rw_store_series(ax_rw_sender_t *s, uint64_t ref, const ax_labels_t *ls);
/* Forget series ref (samples of it still queued are dropped and counted). */
void ax_rw_drop_series(ax_rw_sender_t *s, uint64_t ref);
/*
 * Queue one sample.  Blocks up to timeout_ms while the shard is full;
 * AX_EFULL after that (the caller decides: retry, or drop and count).
 */
int ax_rw_append(ax_rw_sender_t *s, uint64_t ref, int64_t ts_ms, double v,
    int64_t timeout_ms);

/*
 * Queue one sample for a producer that must not stall (the scrape loop).
 * A full shard is waited on for at most AX_RW_OFFER_GRACE_MS, once per
 * overflow episode of that shard; after that its samples are dropped at
 * once, counted in samples_dropped_total (logged when the first shard
 * overflows), until one fits again.  Thread-safe.  0 when
 * queued, AX_EFULL when dropped, AX_ECLOSED while stopping.
 */
#define AX_RW_OFFER_GRACE_MS 50
int ax_rw_offer(ax_rw_sender_t *s, uint64_t ref, int64_t ts_ms, double v);

/* Queue an exemplar of series ref (labels copied) when send_exemplars is
 * on (otherwise a no-op): it goes with the next request of the series'
 * shard, as a TimeSeries of its own.  At most 10000 wait per shard; past
 * that AX_EFULL, counted. */
int ax_rw_append_exemplar(ax_rw_sender_t *s, uint64_t ref,
    const ax_labels_t *ls, double v, int64_t ts_ms);

/* Counters for tests and status pages. */
typedef struct ax_rw_stats {
	uint64_t sent;      /* samples acknowledged by the receiver */
	uint64_t failed;    /* samples dropped after a non-retriable answer */
	uint64_t retried;   /* samples in retried attempts */
	uint64_t dropped;   /* unknown series, or a full queue (offer) */
	uint64_t relabeled; /* samples of series write_relabel_configs drop */
	uint64_t pending;   /* samples queued now */
} ax_rw_stats_t;
void ax_rw_stats(ax_rw_sender_t *s, ax_rw_stats_t *out);

/* Snappy block + WriteRequest helpers (also used by the receiver side). */
int ax_snappy_compress(
    const void *in, size_t len, ax_buf_t *out, ax_err_t *err);
/* Decompress at most max_bytes of output; AX_ETOOBIG past that. */
int ax_snappy_decompress(
    const void *in, size_t len, size_t max_bytes, ax_buf_t *out, ax_err_t *err);

#endif
