/*
 * qsvc: the tsdb's nng query service for the ruler (contract 2 in
 * docs/architecture.md): a REP socket at axon_tsdb.query_listen answering
 * axon.v1.QueryRequest (a PromQL expression, instant at time_ms or range
 * start_ms..end_ms by step_ms) with axon.v1.QueryResponse.
 *
 * Statuses map the HTTP API's: BAD_DATA (parse errors, version, bad
 * range), EXECUTION (run-time errors, too many samples), TIMEOUT,
 * UNAVAILABLE (WAL replay in progress: the ruler skips the evaluation and
 * retries), INTERNAL.  A request that does not decode is answered
 * BAD_DATA naming the problem; nothing is left unanswered.  Queries share
 * the HTTP API's --query.max-concurrency slots and limits.
 */
#ifndef TSDB_QSVC_H
#define TSDB_QSVC_H

#include "ax_err.h"
#include "tsdb/tsdb.h"

typedef struct tsdb_qsvc tsdb_qsvc_t;

/* Listen on addr (NULL or "": no service, *out NULL).  OUT: *out. */
int tsdb_qsvc_start(
    tsdb_t *t, const char *addr, tsdb_qsvc_t **out, ax_err_t *err);
/* Stop: waits for queries in flight. */
void tsdb_qsvc_stop(tsdb_qsvc_t *q);

#endif
