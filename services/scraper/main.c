/*
 * axon-scraper: entry point.  The Axon scraper: pulls /metrics from targets and
 * ships samples (in this version to remote-write receivers: agent mode).
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file wires the configuration
 * (config.h), the scrape engine (engine.h) and /api/v1/targets.  See
 * docs/scraper.md.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ax_daemon.h"
#include "ax_http.h"
#include "scraper/config.h"
#include "scraper/engine.h"

typedef struct scraper {
	ax_daemon_t *d;
	pthread_mutex_t mu;
	scraper_engine_t *eng;
} scraper_t;

static void h_targets(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	scraper_t *s = arg;

	pthread_mutex_lock(&s->mu);
	if (s->eng)
		scraper_engine_targets_json(
		    s->eng, ax_http_param(req, "state"), &resp->body);
	else
		ax_buf_puts(&resp->body,
		    "{\"status\":\"success\",\"data\":{\"activeTargets\":[],"
		    "\"droppedTargets\":[]}}");
	pthread_mutex_unlock(&s->mu);
}

static int start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	scraper_t *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s->d = d;
	pthread_mutex_init(&s->mu, NULL);
	if ((rv = scraper_engine_start(
	         cfgp, ax_daemon_metrics(d), &s->eng, err)) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rv;
	}
	ax_daemon_set_state(d, s);
	if (ax_http_route(ax_daemon_http(d), "GET", "/api/v1/targets",
	        h_targets, s) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	return 0;
}

static int reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	scraper_t *s = ax_daemon_state(d);
	scraper_engine_t *ne, *old;
	int rv;

	if ((rv = scraper_engine_start(newp, ax_daemon_metrics(d), &ne, err)) !=
	    0)
		return rv;
	pthread_mutex_lock(&s->mu);
	old = s->eng;
	s->eng = ne;
	pthread_mutex_unlock(&s->mu);
	scraper_engine_stop(old, ne, 5000);
	return 0;
}

static void stop(ax_daemon_t *d)
{
	scraper_t *s = ax_daemon_state(d);

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	scraper_engine_stop(s->eng, NULL, 5000);
	s->eng = NULL;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_destroy(&s->mu);
	free(s);
	ax_daemon_set_state(d, NULL);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-scraper",
    .component = "scraper",
    .description = "The Axon scraper: pulls /metrics from targets and ships "
                   "samples to remote-write receivers (agent mode).",
    .default_config = "scraper.yml",
    .default_listen = "0.0.0.0:9091",
    .flags = NULL,
    .load_config = scraper_config_load,
    .free_config = scraper_config_free,
    .start = start,
    .reload = reload,
    .stop = stop,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
