/*
 * qapi: the Prometheus query API of axon-tsdb, with Prometheus 2.42's
 * request parameters, response JSON and HTTP codes:
 *
 *   GET|POST /api/v1/query            query, time, timeout
 *   GET|POST /api/v1/query_range      query, start, end, step, timeout
 *   GET|POST /api/v1/query_exemplars  query, start, end
 *
 * Success: {"status":"success","data":{"resultType":...,"result":...}}
 * with points as [<seconds, up to 3 decimals>,"<value>"].  Errors:
 * {"status":"error","errorType":T,"error":"..."} with bad_data 400
 * (parameters, parse errors), execution 422 (run-time errors, too many
 * samples), timeout 503 (query timeout, no free query slot within the
 * timeout), unavailable 503 (WAL replay in progress).
 *
 * Flags (main.c): --query.timeout, --query.max-samples,
 * --query.max-concurrency, --query.lookback-delta.
 */
#ifndef TSDB_QAPI_H
#define TSDB_QAPI_H

#include "ax_http.h"
#include "tsdb/tsdb.h"

/* Register the routes on srv; t is borrowed for the server's life. */
int tsdb_qapi_register(tsdb_t *t, ax_http_server_t *srv);

/* Take one of the --query.max-concurrency slots, waiting until deadline
 * (ax_mono_ms clock): 1 when taken, 0 when none came free in time. */
int tsdb_qapi_slot_acquire(tsdb_t *t, int64_t deadline);
void tsdb_qapi_slot_release(tsdb_t *t);

/* Append a point [t,"v"] as Prometheus' JSON encoder writes it. */
void tsdb_qapi_put_point(ax_buf_t *b, int64_t t, double v);

#endif
