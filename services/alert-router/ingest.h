/*
 * ar_ingest: alerts over nng from axon-ruler (proto/axon/v1/alerts.proto).
 *
 * A REP socket on axon_alert_router.ingest_listen takes AlertBatch
 * requests and answers each with an AlertBatchAck: accepted, invalid and
 * the first error (message).  Alerts are taken as the HTTP API takes them
 * (ar_api_ingest): the same defaults (no start: now; no end: now +
 * resolve_timeout), the same validation, the valid ones stored even when
 * others fail.  A batch that does not decode, or with a contract version
 * other than 1, is answered with everything invalid and the reason; an
 * internal failure (out of memory) sets retry, so the ruler sends the
 * batch again.
 */
#ifndef AR_INGEST_H
#define AR_INGEST_H

#include "alert-router/api.h"

typedef struct ar_ingest ar_ingest_t;

int ar_ingest_start(
    ar_core_t *core, const char *listen, ar_ingest_t **out, ax_err_t *err);
void ar_ingest_stop(ar_ingest_t *in);

#endif
