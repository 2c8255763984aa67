/*
 * health: the discoverer's own health checker.  One thread runs the HTTP
 * and TCP checks of the registry on their intervals through one libcurl
 * multi handle (so a hanging check never delays the others), expires TTL
 * checks and deregisters services that stayed critical for longer than
 * their DeregisterCriticalServiceAfter (registry.c decides; this thread
 * only drives the clock every 100 ms).
 *
 * Results, as Consul's agent reports them: HTTP 2xx is passing, 429 is
 * warning, anything else critical, with "HTTP GET <url>: <code> <reason>
 * Output: <first 4 KiB of the body>"; a TCP connect that succeeds is
 * passing ("TCP connect <addr>: Success"); a connection error or a
 * timeout is critical with the reason.
 */
#ifndef DISC_HEALTH_H
#define DISC_HEALTH_H

#include "ax_err.h"
#include "discoverer/registry.h"

typedef struct disc_health disc_health_t;

/* Start the checker on r (borrowed; must outlive it).  OUT: *out. */
int disc_health_start(disc_reg_t *r, disc_health_t **out, ax_err_t *err);
/* Stop the thread (checks in flight are abandoned) and free. */
void disc_health_stop(disc_health_t *h);

#endif
