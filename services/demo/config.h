/*
 * demo/config: axon-demo's configuration file, the demo fleet's shape.
 *
 *   discoverer_url: <url>          # Consul-compatible registration API
 *                                  # (default http://127.0.0.1:9092)
 *   listen_host: <ipv4>            # services listen here, each on a free
 *                                  # port (default 127.0.0.1)
 *   register_interval: <duration>  # re-registration, as a Consul agent's
 *                                  # anti-entropy (default 30s)
 *   check_interval: <duration>     # the HTTP health check each service
 *                                  # registers (default 10s)
 *   pager:
 *     listen: <host:port>          # the local PagerDuty Events API v2 and
 *                                  # webhook sink (default 127.0.0.1:9099;
 *                                  # "" switches it off)
 *     file: <path>                 # one JSON line per page event
 *                                  # (default data/pages.jsonl)
 *   services:                      # 1..256 of them
 *     - name: <[a-z0-9][a-z0-9-]*, unique, required>
 *       rps: <float > 0>           # requests per second (default 50)
 *       latency: <duration>        # median latency (default 20ms)
 *       error_ratio: <0..1>        # its own background errors (0.001)
 *       depends_on: [<service>...] # every one must be in the list
 *
 * Errors read "file:line:col: path: why".
 *
 * Ownership: demo_config_load returns a config owned by the caller,
 * released with demo_config_free.
 */
#ifndef DEMO_CONFIG_H
#define DEMO_CONFIG_H

#include <stdint.h>

#include "ax_config.h"
#include "ax_daemon.h"

#define DEMO_MAX_SERVICES 256

typedef struct demo_svc_cfg {
	char *name;
	double rps;
	int64_t latency_ms;
	double error_ratio;
	ax_cfg_strings_t depends_on;
} demo_svc_cfg_t;

typedef struct demo_pager_cfg {
	char *listen;
	char *file;
} demo_pager_cfg_t;

typedef struct demo_cfg {
	char *discoverer_url;
	char *listen_host;
	int64_t register_interval_ms;
	int64_t check_interval_ms;
	demo_pager_cfg_t pager;
	ax_cfg_list_t services; /* of demo_svc_cfg_t */
} demo_cfg_t;

/* ax_daemon_spec_t.load_config.  OUT: *out (a demo_cfg_t). */
int demo_config_load(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err);
void demo_config_free(void *cfg);

/* The index of service name, or -1. */
long demo_config_find(const demo_cfg_t *c, const char *name);

#endif
