/*
 * ingest: the two ways samples enter axon-tsdb.
 *
 *   - nng REP (axon_tsdb.ingest_listen): axon.v1.SampleBatch from scrapers
 *     and the ruler, with session-scoped label refs, batch-id
 *     deduplication and per-reason rejection counts in the ack
 *     (proto/axon/v1/samples.proto describes the contract);
 *   - HTTP POST /api/v1/write: Prometheus remote-write 1.0 (snappy block +
 *     WriteRequest protobuf): 204 when stored, 400 for bad data (never
 *     retried by senders), 503 for retriable faults (not ready yet, disk
 *     full).
 * Both append through tsdb_head_append(), so a sample is acknowledged only
 * after its WAL write.
 */
#ifndef TSDB_INGEST_H
#define TSDB_INGEST_H

#include "ax_http.h"
#include "tsdb/tsdb.h"

/* Start the nng listener when addr is non-NULL; metrics go to reg.
 * OUT: *out. */
int tsdb_ingest_start(tsdb_t *t, ax_metrics_t *reg, const char *addr,
    tsdb_ingest_t **out, ax_err_t *err);
void tsdb_ingest_stop(tsdb_ingest_t *in);
/* Handle one packed SampleBatch, appending the packed ack to reply (used by
 * the nng server and by tests). */
int tsdb_ingest_handle(
    tsdb_ingest_t *in, const uint8_t *req, size_t len, ax_buf_t *reply);
/* The receiver's session id. */
uint64_t tsdb_ingest_session(const tsdb_ingest_t *in);

/* HTTP handler for POST /api/v1/write (arg: tsdb_t *). */
void tsdb_remote_write_handler(
    ax_http_req_t *req, ax_http_resp_t *resp, void *arg);

#endif
