/*
 * demo/pager: the local stand-in for PagerDuty's Events API v2 that the
 * demo's alert-router config pages.
 *
 * Each event POSTed to /v2/enqueue is checked as PagerDuty checks it
 * (routing_key, event_action trigger|acknowledge|resolve, dedup_key for
 * acknowledge and resolve, payload.summary, payload.source and
 * payload.severity critical|error|warning|info for a trigger), printed as
 * one line on standard output, and appended as one JSON line (the event
 * as received, compact) to the pages file.  The answer is PagerDuty's:
 * 202 {"status":"success","message":"Event processed","dedup_key":...},
 * or 400 {"status":"invalid event","message":"Event object is invalid",
 * "errors":[...]} naming what is wrong.
 *
 * Threads: demo_pager_event serialises on the pager's mutex.
 */
#ifndef DEMO_PAGER_H
#define DEMO_PAGER_H

#include <cJSON.h>
#include <stdio.h>

#include "ax_buf.h"
#include "ax_err.h"

typedef struct demo_pager demo_pager_t;

/* Open (append, create) the pages file path; out receives the printed
 * lines (borrowed, e.g. stdout).  OUT: *pp, released by
 * demo_pager_free.  AX_EIO with the path and errno text. */
int demo_pager_open(
    const char *path, FILE *out, demo_pager_t **pp, ax_err_t *err);
void demo_pager_free(demo_pager_t *p);

/*
 * Take one event body (len bytes).  Returns the HTTP status and the
 * answer in reply (JSON).  A valid event is printed and appended; an
 * invalid one changes nothing.
 */
int demo_pager_event(
    demo_pager_t *p, const char *body, size_t len, ax_buf_t *reply);

/* Events taken since start, by action (trigger, acknowledge, resolve). */
void demo_pager_counts(demo_pager_t *p, unsigned long *trigger,
    unsigned long *ack, unsigned long *resolve);

#endif
