/*
 * axon-alert-router: entry point.  The Axon alert router:
 * Alertmanager-compatible routing, grouping, inhibition and silences.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-alert-router.  Its configuration is an Alertmanager 0.25
 * alertmanager.yml (config.h); the routing tree is route.h.  See
 * docs/alert-router.md and docs/architecture.md.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "alert-router/api.h"
#include "alert-router/cluster.h"
#include "alert-router/config.h"
#include "alert-router/dispatch.h"
#include "alert-router/ingest.h"
#include "alert-router/nflog.h"
#include "alert-router/route.h"
#include "alert-router/tmpl.h"
#include "alert-router/topo.h"
#include "ax_daemon.h"
#include "ax_log.h"
#include "ax_units.h"

/* Load and check the file, including that its routing tree builds. */
static int load_config(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	ar_cfgref_t *ref;
	ar_config_t *c;
	ar_route_t *root;
	int rv;

	(void)d;
	if ((rv = ar_config_load(path, 0, &c, err)) != 0)
		return rv;
	if ((rv = ar_route_build(c, &root, err)) != 0) {
		ar_config_free(c);
		return rv;
	}
	ar_route_free(root);
	if ((ref = calloc(1, sizeof(*ref))) == NULL) {
		ar_config_free(c);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	ref->refs = 1;
	ref->cfg = c;
	/* templates: relative globs against the config file's directory */
	{
		char dir[4096];
		const char *slash = strrchr(path, '/');

		snprintf(dir, sizeof(dir), "%.*s",
		    slash ? (int)(slash - path) : 1, slash ? path : ".");
		if ((rv = ar_tmpl_load((const char *const *)c->templates.v,
		         c->templates.n, dir, &ref->tmpl, err)) != 0) {
			ar_cfgref_unref(ref);
			return rv;
		}
	}
	*out = ref;
	return 0;
}

static void free_config(void *c)
{
	ar_cfgref_unref(c);
}

#define MAINTENANCE_MS (15 * 60 * 1000)
#define ALERT_GC_AFTER_MS (5 * 60 * 1000)

typedef struct ar_state {
	ar_core_t core;
	ar_ingest_t *ingest;
	ar_nflog_t nflog;
	int nflog_open;
	pthread_t gc_thread;
	pthread_mutex_t gc_mu;
	pthread_cond_t gc_cv;
	int stopping;
	int gc_started;
} ar_state_t;

/* Maintenance: drop alerts resolved a while ago and silences past their
 * retention, every 15 minutes (as Alertmanager's maintenance loop). */
static void *gc_main(void *arg)
{
	ar_state_t *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->gc_mu);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += MAINTENANCE_MS / 1000;
		pthread_cond_timedwait(&s->gc_cv, &s->gc_mu, &ts);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->gc_mu);
		{
			/* resolved causes are kept through their hold-down */
			int64_t keep = ALERT_GC_AFTER_MS;

			pthread_rwlock_rdlock(&s->core.mu);
			if (s->core.cfg->axon.topology.hold_down_ms > keep)
				keep = s->core.cfg->axon.topology.hold_down_ms;
			pthread_rwlock_unlock(&s->core.mu);
			ar_store_gc(&s->core.store, ax_now_ms() - keep);
		}
		ar_silences_gc(&s->core.silences, ax_now_ms());
		pthread_mutex_lock(&s->gc_mu);
	}
	pthread_mutex_unlock(&s->gc_mu);
	return NULL;
}

static void ar_stop(ax_daemon_t *d);

/* "host:port" as Alertmanager takes it, or an nng URL.  OUT: buf. */
static const char *nng_url(const char *a, char *buf, size_t cap)
{
	if (strstr(a, "://"))
		return a;
	snprintf(buf, cap, "tcp://%s", a);
	return buf;
}

#define MAX_CLUSTER_PEERS 32

/* HA: the --cluster.* flags, as Alertmanager names them. */
static int start_cluster(ax_daemon_t *d, ar_state_t *s, ax_err_t *err)
{
	const char *listen = ax_daemon_flag(d, "cluster.listen-address");
	const char *adv = ax_daemon_flag(d, "cluster.advertise-address");
	const char *given[MAX_CLUSTER_PEERS];
	char bufs[MAX_CLUSTER_PEERS + 2][512]; /* the cluster copies */
	const char *peers[MAX_CLUSTER_PEERS];
	size_t n, i;
	ar_cluster_opts_t o = {0};

	n = ax_daemon_flag_list(d, "cluster.peer", given, MAX_CLUSTER_PEERS);
	if (listen == NULL || *listen == '\0') {
		if (n > 0)
			return ax_err_set(err, AX_ECONFIG,
			    "--cluster.peer needs --cluster.listen-address "
			    "(the address peers dial)");
		return 0;
	}
	if (n > MAX_CLUSTER_PEERS)
		return ax_err_set(err, AX_ECONFIG,
		    "--cluster.peer: at most %d peers", MAX_CLUSTER_PEERS);
	for (i = 0; i < n; i++)
		peers[i] = nng_url(given[i], bufs[i], sizeof(bufs[i]));
	o.listen = nng_url(listen, bufs[n], sizeof(bufs[n]));
	o.advertise =
	    adv && *adv ? nng_url(adv, bufs[n + 1], sizeof(bufs[n + 1])) : NULL;
	o.peers = peers;
	o.npeers = n;
	o.peer_timeout_ms = ax_daemon_flag_int(d, "cluster.peer-timeout");
	o.gossip_interval_ms = ax_daemon_flag_int(d, "cluster.gossip-interval");
	o.pushpull_interval_ms =
	    ax_daemon_flag_int(d, "cluster.pushpull-interval");
	o.probe_interval_ms = ax_daemon_flag_int(d, "cluster.probe-interval");
	o.settle_timeout_ms = ax_daemon_flag_int(d, "cluster.settle-timeout");
	return ar_cluster_start(&o, &s->core.silences, &s->nflog,
	    ax_daemon_metrics(d), &s->core.cluster, err);
}

static int ar_start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	ar_state_t *s = calloc(1, sizeof(*s));
	const char *dir = ax_daemon_flag(d, "storage.path");
	int rv = 0;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_rwlock_init(&s->core.mu, NULL);
	pthread_mutex_init(&s->gc_mu, NULL);
	pthread_cond_init(&s->gc_cv, NULL);
	ar_store_init(&s->core.store);
	s->core.cfgref = cfgp;
	s->core.cfg = s->core.cfgref->cfg;
	s->core.start_ms = ax_now_ms();
	ax_daemon_set_state(d, s);
	if ((s->core.external_url = ax_daemon_external_url(d)) == NULL)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	if (rv != 0 ||
	    (rv = ar_silences_open(&s->core.silences, dir,
	         ax_daemon_flag_int(d, "data.retention"), err)) != 0 ||
	    (rv = ar_nflog_open(&s->nflog, dir,
	         ax_daemon_flag_int(d, "data.retention"), err)) != 0) {
		ar_stop(d);
		return rv;
	}
	s->nflog_open = 1;
	if ((rv = start_cluster(d, s, err)) != 0) {
		ar_stop(d);
		return rv;
	}
	/* the dependency graph, when the discoverer is configured */
	if (s->core.cfg->axon.discoverer &&
	    s->core.cfg->axon.discoverer_publish &&
	    (rv = ar_topo_start(dir, s->core.cfg->axon.discoverer,
	         s->core.cfg->axon.discoverer_publish, ax_daemon_metrics(d),
	         &s->core.topo, err)) != 0) {
		ar_stop(d);
		return rv;
	}
	if ((rv = ar_route_build(s->core.cfg, &s->core.root, err)) != 0 ||
	    (rv = ar_api_register(&s->core, ax_daemon_http(d),
	         ax_daemon_metrics(d), err)) != 0 ||
	    (rv = ar_dispatch_start(&s->core, &s->nflog, ax_daemon_metrics(d),
	         8, &s->core.dispatch, err)) != 0) {
		ar_stop(d);
		return rv;
	}
	if (pthread_create(&s->gc_thread, NULL, gc_main, s) != 0) {
		ar_stop(d);
		return ax_err_set(err, AX_EINTERNAL, "cannot start a thread");
	}
	s->gc_started = 1;
	if (s->core.cfg->axon.ingest_listen &&
	    (rv = ar_ingest_start(&s->core, s->core.cfg->axon.ingest_listen,
	         &s->ingest, err)) != 0) {
		ar_stop(d);
		return rv;
	}
	return 0;
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int ar_reload(ax_daemon_t *d, void *newp, ax_err_t *err)
{
	ar_state_t *s = ax_daemon_state(d);
	ar_route_t *root, *old;
	int rv;

	ar_cfgref_t *ref = newp;
	const ar_axon_cfg_t *oa = &s->core.cfg->axon, *na = &ref->cfg->axon;

	if (!same_str(oa->ingest_listen, na->ingest_listen) ||
	    !same_str(oa->discoverer, na->discoverer) ||
	    !same_str(oa->discoverer_publish, na->discoverer_publish))
		return ax_err_set(err, AX_ECONFIG,
		    "axon_alert_router.ingest_listen, discoverer and "
		    "discoverer_publish take effect at restart; the running "
		    "ones stay");
	if ((rv = ar_route_build(ref->cfg, &root, err)) != 0)
		return rv;
	pthread_rwlock_wrlock(&s->core.mu);
	old = s->core.root;
	s->core.root = root;
	s->core.cfgref = ref;
	s->core.cfg = ref->cfg;
	pthread_rwlock_unlock(&s->core.mu);
	ar_route_free(old);
	/* As Alertmanager: groups start over on the new tree; the
	 * notification log keeps them from notifying twice. */
	if ((rv = ar_dispatch_rebuild(s->core.dispatch, root)) != 0)
		ax_log_error("re-grouping alerts after the reload failed",
		    "err", "out of memory");
	return 0;
}

static void ar_stop(ax_daemon_t *d)
{
	ar_state_t *s = ax_daemon_state(d);

	if (s == NULL)
		return;
	if (s->gc_started) {
		pthread_mutex_lock(&s->gc_mu);
		s->stopping = 1;
		pthread_cond_signal(&s->gc_cv);
		pthread_mutex_unlock(&s->gc_mu);
		pthread_join(s->gc_thread, NULL);
	}
	ar_ingest_stop(s->ingest);
	ar_dispatch_stop(s->core.dispatch);
	ar_cluster_stop(s->core.cluster);
	ar_topo_stop(s->core.topo);
	if (s->nflog_open)
		ar_nflog_close(&s->nflog);
	ar_route_free(s->core.root);
	free(s->core.external_url);
	ar_silences_close(&s->core.silences);
	ar_store_fini(&s->core.store);
	pthread_rwlock_destroy(&s->core.mu);
	pthread_mutex_destroy(&s->gc_mu);
	pthread_cond_destroy(&s->gc_cv);
	free(s);
	ax_daemon_set_state(d, NULL);
}

static const ax_flag_t flags[] = {
    {"storage.path", AX_FLAG_STRING, "data/",
        "Base path for data storage (silences)."},
    {"data.retention", AX_FLAG_DURATION, "120h",
        "How long to keep data (expired silences, notification log "
        "entries) for."},
    {"web.external-url", AX_FLAG_STRING, "",
        "The URL under which the alert router is reached from outside "
        "(externalURL in notifications); default http://<hostname>:<port>."},
    {"cluster.listen-address", AX_FLAG_STRING, "",
        "Listen address for cluster (HA) traffic, host:port or an nng "
        "URL; empty disables high availability."},
    {"cluster.advertise-address", AX_FLAG_STRING, "",
        "The address peers dial to reach this replica, and its name in "
        "the cluster; default the listen address."},
    {"cluster.peer", AX_FLAG_STRINGS, "",
        "Initial peers (host:port or nng URL; repeatable)."},
    {"cluster.peer-timeout", AX_FLAG_DURATION, "15s",
        "Time to wait between peers to send notifications."},
    {"cluster.gossip-interval", AX_FLAG_DURATION, "200ms",
        "Interval between sending gossip messages (changes are batched "
        "this long)."},
    {"cluster.pushpull-interval", AX_FLAG_DURATION, "1m",
        "Interval for full state exchanges between peers."},
    {"cluster.probe-interval", AX_FLAG_DURATION, "1s",
        "Interval between liveness probes; a peer silent for 5 of them "
        "is dead and positions move up."},
    {"cluster.settle-timeout", AX_FLAG_DURATION, "1m",
        "Maximum time to wait for the state of the configured peers "
        "before notifying."},
    {NULL, 0, NULL, NULL},
};

static const ax_daemon_spec_t spec = {
    .name = "axon-alert-router",
    .component = "alert-router",
    .description = "The Axon alert router: Alertmanager-compatible routing, "
                   "grouping, inhibition and silences.",
    .default_config = "alertmanager.yml",
    .default_listen = "0.0.0.0:9093",
    .flags = flags,
    .load_config = load_config,
    .free_config = free_config,
    .start = ar_start,
    .reload = ar_reload,
    .stop = ar_stop,
    .http_too_big_status = 400,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
