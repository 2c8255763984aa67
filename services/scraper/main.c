/*
 * axon-scraper: entry point.  The Axon scraper: pulls /metrics from targets and
 * ships samples to axon-tsdb and/or remote-write receivers (agent mode).
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file wires the configuration
 * (config.h), the scrape engine (engine.h) and /api/v1/targets.  See
 * docs/scraper.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ax_daemon.h"
#include "ax_http.h"
#include "ax_log.h"
#include "scraper/config.h"
#include "scraper/disco.h"
#include "scraper/engine.h"

typedef struct scraper {
	ax_daemon_t *d;
	pthread_mutex_t mu;
	scraper_engine_t *eng;
	ax_ship_t *ship; /* to axon-tsdb; lives across reloads */
	uint64_t next_ref;
	scraper_shard_t shard;
	scraper_disco_t *disco; /* axon-discoverer link; lives across reloads */
} scraper_t;

/* The discoverer's assignment or targets changed. */
static void on_disco_change(void *arg)
{
	scraper_t *s = arg;

	pthread_mutex_lock(&s->mu);
	scraper_engine_refresh(s->eng);
	pthread_mutex_unlock(&s->mu);
}

static const ax_flag_t flags[] = {
    {"shard", AX_FLAG_STRING, "",
        "Scrape only this replica's share of the targets, i/N (0 <= i < "
        "N): those whose __address__ hashes to i modulo N, as a hashmod "
        "relabel rule would.  Empty: every target."},
    {"sender-id", AX_FLAG_STRING, "",
        "This replica's identity, overriding axon_scraper.sender_id, so "
        "replicas can share one config file (axon up runs two)."},
    {NULL, 0, NULL, NULL},
};

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

static int same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	scraper_t *s = calloc(1, sizeof(*s));
	const scraper_cfg_t *cfg = cfgp;
	int rv;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s->d = d;
	if ((rv = scraper_shard_parse(
	         ax_daemon_flag(d, "shard"), &s->shard, err)) != 0) {
		free(s);
		return rv;
	}
	pthread_mutex_init(&s->mu, NULL);
	if (cfg->axon.discoverer != NULL) {
		scraper_disco_opts_t o;
		char url[300];

		if (s->shard.count > 1) {
			pthread_mutex_destroy(&s->mu);
			free(s);
			return ax_err_set(err, AX_ECONFIG,
			    "--shard and axon_scraper.discoverer exclude each "
			    "other: the discoverer assigns the targets");
		}
		snprintf(url, sizeof(url), "http://%s",
		    ax_daemon_flag(d, "web.listen-address"));
		memset(&o, 0, sizeof(o));
		o.control = cfg->axon.discoverer;
		o.publish = cfg->axon.discoverer_publish;
		o.id = cfg->axon.sender_id;
		o.http_url = url;
		o.on_change = on_disco_change;
		o.arg = s;
		if ((rv = scraper_disco_start(
		         &o, ax_daemon_metrics(d), &s->disco, err)) != 0) {
			pthread_mutex_destroy(&s->mu);
			free(s);
			return rv;
		}
		if (scraper_disco_delegate(s->disco, cfg) != 0) {
			scraper_disco_stop(s->disco);
			pthread_mutex_destroy(&s->mu);
			free(s);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	if (cfg->axon.tsdb != NULL) {
		ax_ship_opts_t so;

		memset(&so, 0, sizeof(so));
		so.addr = cfg->axon.tsdb;
		so.sender_id = cfg->axon.sender_id;
		so.buffer_samples = (size_t)cfg->axon.buffer_samples;
		so.spill_dir = cfg->axon.buffer_dir;
		so.spill_bytes = cfg->axon.buffer_disk_bytes;
		if ((rv = ax_ship_new(
		         &so, ax_daemon_metrics(d), &s->ship, err)) != 0) {
			scraper_disco_stop(s->disco);
			pthread_mutex_destroy(&s->mu);
			free(s);
			return rv;
		}
	}
	pthread_mutex_lock(&s->mu);
	rv = scraper_engine_start(cfgp, ax_daemon_metrics(d), s->ship,
	    &s->next_ref, &s->shard, s->disco, &s->eng, err);
	pthread_mutex_unlock(&s->mu);
	if (rv != 0) {
		scraper_disco_stop(s->disco);
		ax_ship_stop_free(s->ship, 0);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rv;
	}
	ax_daemon_set_state(d, s);
	if (ax_http_route(
	        ax_daemon_http(d), "GET", "/api/v1/targets", h_targets, s) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	return 0;
}

static int reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	scraper_t *s = ax_daemon_state(d);
	const scraper_cfg_t *oc = ax_daemon_config(d), *nc = newp;
	scraper_engine_t *ne, *old;
	int rv;

	if (!same(oc->axon.tsdb, nc->axon.tsdb) ||
	    !same(oc->axon.sender_id, nc->axon.sender_id) ||
	    oc->axon.buffer_samples != nc->axon.buffer_samples ||
	    !same(oc->axon.buffer_dir, nc->axon.buffer_dir) ||
	    oc->axon.buffer_disk_bytes != nc->axon.buffer_disk_bytes ||
	    !same(oc->axon.discoverer, nc->axon.discoverer) ||
	    !same(oc->axon.discoverer_publish, nc->axon.discoverer_publish))
		return ax_err_set(err, AX_ECONFIG,
		    "axon_scraper (tsdb, sender_id, buffer_samples, "
		    "discoverer, discoverer_publish) cannot change on reload; "
		    "restart axon-scraper");
	if ((rv = scraper_engine_start(newp, ax_daemon_metrics(d), s->ship,
	         &s->next_ref, &s->shard, s->disco, &ne, err)) != 0)
		return rv;
	if (s->disco && scraper_disco_delegate(s->disco, nc) != 0)
		ax_log_error("out of memory handing discovery to the "
		             "discoverer; the previous sections stay");
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
	if (s->disco)
		scraper_disco_set_callback(s->disco, NULL, NULL);
	pthread_mutex_lock(&s->mu);
	scraper_engine_stop(s->eng, NULL, 5000);
	s->eng = NULL;
	pthread_mutex_unlock(&s->mu);
	ax_ship_stop_free(s->ship, 5000);
	scraper_disco_stop(s->disco);
	pthread_mutex_destroy(&s->mu);
	free(s);
	ax_daemon_set_state(d, NULL);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-scraper",
    .component = "scraper",
    .description = "The Axon scraper: pulls /metrics from targets and ships "
                   "samples to axon-tsdb and/or remote-write receivers.",
    .default_config = "scraper.yml",
    .default_listen = "0.0.0.0:9091",
    .flags = flags,
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
