/*
 * registry: the discoverer's service registry -- registered service
 * instances, their health checks, the Consul-style modify index that
 * blocking queries wait on, and the on-disk persistence that makes a
 * registration survive a crash once it has been answered 200.
 *
 * Model (Consul's, one agent node): a service instance has an ID (unique;
 * defaults to its Name), a Name, Tags, Address, Port, Meta and checks.  A
 * check is HTTP, TCP or TTL, with a status passing/warning/critical
 * (critical until first run, unless the registration says otherwise).
 * Every change that a catalog or health answer would show raises the
 * index by one; blocking readers wait for it to pass the index they hold.
 *
 * Persistence (directory <dir>):
 *   registry.snap   "AXDREG1\n" then records, written to a temporary file,
 *                   fsynced and renamed over the old one;
 *   registry.log    records appended (and fsynced) after the snapshot.
 * A record is
 *   u32le len | u32le crc32c(payload) | payload[len]
 * with payload = op (1 byte: 'R' register, 'D' deregister) | u64le index |
 * body (the registration JSON as accepted, or the service ID).  Opening
 * replays the snapshot, then the log; a torn or corrupt tail of the log
 * (a crash mid-append) is cut off with a warning, everything before it is
 * kept; a corrupt snapshot is an error that names the file and offset.
 * After replay (and every 1024 appended records) the state is written as
 * a new snapshot and the log emptied.  Check states are not persisted:
 * after a restart checks start from their registered initial status and
 * run at once.
 *
 * Threads: every function locks the registry.  on_change runs unlocked;
 * disc_reg_visit's callback runs locked and must not call back in.
 */
#ifndef DISC_REGISTRY_H
#define DISC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_metrics.h"

typedef enum {
	DISC_PASSING = 0,
	DISC_WARNING = 1,
	DISC_CRITICAL = 2,
} disc_status_t;

const char *disc_status_name(int status);

typedef struct disc_reg disc_reg_t;

typedef struct disc_node {
	const char *name;        /* node name (hostname by default) */
	const char *address;     /* node address */
	const char *dc;          /* datacenter */
	const char *const *meta; /* node meta, key/value pairs, NULL-ended */
} disc_node_t;

/*
 * Open (creating dir if needed) and replay.  node is copied.  on_change
 * (may be NULL) is called, unlocked, after every change of services or
 * check states, with arg.  reg may be NULL.  OUT: *out (disc_reg_close).
 */
int disc_reg_open(const char *dir, const disc_node_t *node, ax_metrics_t *reg,
    void (*on_change)(void *arg), void *arg, disc_reg_t **out, ax_err_t *err);
void disc_reg_close(disc_reg_t *r);

/*
 * Register (or replace) a service instance from a Consul registration
 * body (JSON, borrowed).  Validates first: AX_EINVAL with the reason for a
 * bad registration (nothing changes).  The record is on disk (fsynced)
 * before this returns 0; AX_EIO when it cannot be written (nothing
 * changes).
 */
int disc_reg_register(
    disc_reg_t *r, const char *json, size_t len, ax_err_t *err);
/* AX_ENOENT when id is unknown. */
int disc_reg_deregister(disc_reg_t *r, const char *id, ax_err_t *err);

/* A TTL check's status (pass/warn/fail/update).  output may be NULL.
 * AX_ENOENT for an unknown check, AX_EINVAL for a non-TTL check. */
int disc_reg_check_ttl(disc_reg_t *r, const char *check_id, int status,
    const char *output, ax_err_t *err);

/* The current index; or, when index > 0 and the current one is not
 * past it, wait up to wait_ms for a change first. */
uint64_t disc_reg_wait(disc_reg_t *r, uint64_t index, int64_t wait_ms);

/* ---- answers (Consul JSON shapes), appended to out; *index set ---- */

typedef struct disc_filter {
	const char *const *tags; /* instance must have all; NULL-ended */
	int passing;             /* only instances with every check passing */
	const char *const *node_meta; /* k, v pairs, NULL-ended */
} disc_filter_t;

/* GET /v1/catalog/services: {"name": [tags...], ...} */
void disc_reg_catalog_services(
    disc_reg_t *r, const disc_filter_t *f, ax_buf_t *out, uint64_t *index);
/* GET /v1/catalog/service/<name> */
void disc_reg_catalog_service(disc_reg_t *r, const char *name,
    const disc_filter_t *f, ax_buf_t *out, uint64_t *index);
/* GET /v1/health/service/<name> */
void disc_reg_health_service(disc_reg_t *r, const char *name,
    const disc_filter_t *f, ax_buf_t *out, uint64_t *index);
/* GET /v1/agent/services, /v1/agent/checks, /v1/agent/self,
 * /v1/catalog/nodes */
void disc_reg_agent_services(disc_reg_t *r, ax_buf_t *out);
void disc_reg_agent_checks(disc_reg_t *r, ax_buf_t *out);
void disc_reg_agent_self(disc_reg_t *r, ax_buf_t *out);
void disc_reg_catalog_nodes(disc_reg_t *r, ax_buf_t *out, uint64_t *index);
/* GET /v1/health/checks/<service>, /v1/health/state/<state> */
void disc_reg_health_checks(disc_reg_t *r, const char *service,
    const char *state, ax_buf_t *out, uint64_t *index);

/* ---- the health checker's side ---- */

typedef struct disc_probe {
	char *service_id, *check_id;
	int tcp;      /* 1: TCP connect, 0: HTTP request */
	char *target; /* URL, or host:port */
	char *method;
	char **headers; /* "Name: value", NULL-ended */
	int64_t timeout_ms;
	int tls_skip_verify;
} disc_probe_t;

/*
 * Expire TTL checks, deregister services critical for longer than their
 * DeregisterCriticalServiceAfter, and hand out the HTTP/TCP checks due at
 * now_mono (they are marked running until their result comes).  OUT:
 * *probes (n of them), freed with disc_probes_free.
 */
int disc_reg_tick(
    disc_reg_t *r, int64_t now_mono, disc_probe_t **probes, size_t *n);
void disc_probes_free(disc_probe_t *p, size_t n);
/* The result of a probe (the check may be gone meanwhile). */
void disc_reg_probe_done(
    disc_reg_t *r, const disc_probe_t *p, int status, const char *output);

/* ---- what the rest of the discoverer reads ---- */

/* Visit every instance: labels as Prometheus' consul_sd builds them
 * (k, v pairs, __address__ first, NULL-ended; borrowed for the call),
 * the service name and its declared dependencies (NULL-ended). */
typedef void (*disc_visit_fn)(void *arg, const char *service,
    const char *const *labels, const char *const *depends_on);
void disc_reg_visit(disc_reg_t *r, disc_visit_fn fn, void *arg);

size_t disc_reg_count(disc_reg_t *r);

#endif
