/*
 * axon-demo: entry point.  The demo fleet of `axon up`: simulated
 * microservices with RED metrics that register with axon-discoverer, a
 * fault switch for each, and the local PagerDuty sink.
 *
 * Each service of the config (demo/config.h) listens on its own free
 * port of listen_host and serves /metrics (text 0.0.4, or OpenMetrics
 * with exemplars when the scraper asks for it) and /healthz; it
 * registers with the discoverer's Consul-compatible API as
 * {ID <name>-1, Name, Address, Port, Tags [demo, metrics],
 * Meta.depends_on, an HTTP check on /healthz}, again every
 * register_interval, and deregisters at shutdown.  A service still
 * registered from before (axon-demo crashed and was restarted) takes its
 * registered port again when it is free, so the scrapers find it where
 * they look.
 *
 * Control API on --web.listen-address (besides the ax_daemon routes):
 *   GET  /api/v1/services                 the fleet, ports and states
 *   POST /api/v1/services/<name>/break    the service goes down: its
 *                                         port refuses connections and
 *                                         every call into it fails
 *   POST /api/v1/services/<name>/heal     it comes back on the same port
 * The pager sink (demo/pager.h) listens on pager.listen: POST
 * /v2/enqueue (PagerDuty Events API v2) and POST /webhook (logged).
 *
 * A reload that changes the config is refused: restart to change the
 * fleet.
 */
#include <cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_daemon.h"
#include "ax_http.h"
#include "ax_log.h"
#include "demo/config.h"
#include "demo/fleet.h"
#include "demo/pager.h"

typedef struct demo demo_t;

typedef struct svc_ref {
	demo_t *dm;
	size_t i;
} svc_ref_t;

struct demo {
	ax_daemon_t *d;
	const demo_cfg_t *cfg; /* the config in force at start */
	demo_fleet_t *fleet;
	demo_pager_t *pager;
	ax_http_server_t *pager_srv;
	pthread_mutex_t mu; /* srv, port, stopping */
	pthread_cond_t cond;
	ax_http_server_t **srv;
	int *port;
	svc_ref_t *ref;
	int stopping;
	int reg_started;
	pthread_t reg;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- one service's HTTP server ---- */

static void h_metrics(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	svc_ref_t *r = arg;
	const char *acc = ax_http_header(req, "Accept");
	int om = acc && strstr(acc, "application/openmetrics-text") != NULL;

	demo_fleet_tick(r->dm->fleet, now_s());
	if (demo_fleet_render(r->dm->fleet, r->i, om, &resp->body) != 0) {
		ax_http_resp_text(resp, 500, "out of memory\n");
		return;
	}
	resp->status = 200;
	resp->content_type = om
	    ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
	    : "text/plain; version=0.0.4; charset=utf-8";
}

static void h_healthz(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	(void)req;
	(void)arg;
	ax_http_resp_text(resp, 200, "ok\n");
}

static void h_root(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	svc_ref_t *r = arg;

	(void)req;
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	ax_buf_printf(&resp->body, "%s (axon-demo): /metrics, /healthz\n",
	    demo_fleet_name(r->dm->fleet, r->i));
}

/* Start service i's server on port (0: a free one); records the port. */
static int svc_listen(demo_t *dm, size_t i, int port, ax_err_t *err)
{
	ax_http_opts_t o = {0};
	ax_http_server_t *s = NULL;
	char listen[300];
	int rv;

	snprintf(listen, sizeof(listen), "%s:%d", dm->cfg->listen_host, port);
	o.listen = listen;
	o.threads = 1;
	o.max_connections = 64;
	o.max_body_bytes = 4096;
	if ((rv = ax_http_server_new(&o, &s, err)) != 0)
		return rv;
	if ((rv = ax_http_route(
	         s, "GET", "/metrics", h_metrics, &dm->ref[i])) ||
	    (rv = ax_http_route(
	         s, "GET", "/healthz", h_healthz, &dm->ref[i])) ||
	    (rv = ax_http_route(s, "GET", "/", h_root, &dm->ref[i])) ||
	    (rv = ax_http_server_start(s, err))) {
		if (rv != 0 && err->code == 0)
			ax_err_set(err, rv, "%s: cannot route", listen);
		ax_http_server_free(s);
		return rv;
	}
	dm->srv[i] = s;
	dm->port[i] = ax_http_server_port(s);
	return 0;
}

/* ---- registration with the discoverer ---- */

/* Body sink: into the ax_buf_t given (at most 4 MiB), or nowhere. */
static size_t collect(char *p, size_t sz, size_t n, void *arg)
{
	ax_buf_t *b = arg;

	if (b == NULL)
		return sz * n;
	ax_buf_append(b, p, sz * n);
	return ax_buf_ok(b) && b->len < (4u << 20) ? sz * n : 0;
}

/* One request to the discoverer (body: JSON, or NULL for a GET); the
 * answer into out when not NULL.  0 when it answered 200, else AX_EIO
 * (or AX_ENOMEM) with the URL and the reason in err. */
static int disco_call(const demo_t *dm, const char *method, const char *path,
    const char *body, long timeout_ms, ax_buf_t *out, ax_err_t *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[1024];
	long st = 0;
	CURLcode cc;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "curl_easy_init failed");
	snprintf(url, sizeof(url), "%s%s", dm->cfg->discoverer_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return ax_err_set(
		    err, AX_EIO, "%s: %s", url, curl_easy_strerror(cc));
	if (st != 200)
		return ax_err_set(err, AX_EIO, "%s: HTTP %ld", url, st);
	return 0;
}

/*
 * The ports the fleet's services are registered with (after a crash
 * their registrations outlive them), so that a restarted fleet comes back
 * where the scrapers look.  OUT: ports[i] for service i, 0 when unknown
 * or the discoverer does not answer within a second.
 */
static void registered_ports(const demo_t *dm, size_t n, int *ports)
{
	ax_buf_t b = AX_BUF_INIT;
	ax_err_t err = {0};
	cJSON *j = NULL;
	size_t i;

	memset(ports, 0, n * sizeof(*ports));
	if (disco_call(dm, "GET", "/v1/agent/services", NULL, 1000, &b, &err) ==
	        0 &&
	    ax_buf_ok(&b))
		j = cJSON_ParseWithLength(b.p, b.len);
	for (i = 0; j && i < n; i++) {
		char id[96];
		const cJSON *e, *port, *addr;

		snprintf(id, sizeof(id), "%s-1", demo_fleet_name(dm->fleet, i));
		e = cJSON_GetObjectItemCaseSensitive(j, id);
		port = cJSON_GetObjectItemCaseSensitive(e, "Port");
		addr = cJSON_GetObjectItemCaseSensitive(e, "Address");
		if (cJSON_IsNumber(port) && port->valueint > 0 &&
		    port->valueint < 65536 && cJSON_IsString(addr) &&
		    strcmp(addr->valuestring, dm->cfg->listen_host) == 0)
			ports[i] = port->valueint;
	}
	cJSON_Delete(j);
	ax_buf_fini(&b);
}

static int register_svc(demo_t *dm, size_t i, ax_err_t *err)
{
	const demo_svc_cfg_t *sc =
	    &((const demo_svc_cfg_t *)dm->cfg->services.items)[i];
	ax_buf_t b = AX_BUF_INIT;
	size_t k;
	int port, rv;

	pthread_mutex_lock(&dm->mu);
	port = dm->port[i];
	pthread_mutex_unlock(&dm->mu);
	ax_buf_printf(&b,
	    "{\"ID\":\"%s-1\",\"Name\":\"%s\",\"Address\":\"%s\","
	    "\"Port\":%d,\"Tags\":[\"demo\",\"metrics\"],"
	    "\"Meta\":{\"version\":\"1.4.2\",\"depends_on\":\"",
	    sc->name, sc->name, dm->cfg->listen_host, port);
	for (k = 0; k < sc->depends_on.n; k++)
		ax_buf_printf(&b, "%s%s", k ? ", " : "", sc->depends_on.v[k]);
	ax_buf_printf(&b,
	    "\"},\"Check\":{\"Name\":\"%s health\",\"HTTP\":"
	    "\"http://%s:%d/healthz\",\"Interval\":\"%lldms\","
	    "\"Timeout\":\"2s\"}}",
	    sc->name, dm->cfg->listen_host, port,
	    (long long)dm->cfg->check_interval_ms);
	rv = ax_buf_ok(&b) ? disco_call(dm, "PUT", "/v1/agent/service/register",
	                         b.p, 3000, NULL, err)
	                   : ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_buf_fini(&b);
	return rv;
}

static void *registrar(void *arg)
{
	demo_t *dm = arg;
	size_t n = demo_fleet_count(dm->fleet), i, done = 0;
	int64_t next_all = 0, step = dm->cfg->register_interval_ms;
	int failing = 0;

	pthread_mutex_lock(&dm->mu);
	while (!dm->stopping) {
		int64_t now = (int64_t)(now_s() * 1000);
		ax_err_t err = {0};

		if (now >= next_all) {
			done = 0; /* everyone again: anti-entropy */
			next_all = now + step;
		}
		pthread_mutex_unlock(&dm->mu);
		for (i = done; i < n; i++) {
			if (register_svc(dm, i, &err) != 0)
				break;
			done = i + 1;
		}
		if (i < n && !failing) {
			ax_log_warn("cannot register with the discoverer; "
			            "retrying every second",
			    "err", err.msg);
			failing = 1;
		} else if (i == n && failing) {
			ax_log_info("registered with the discoverer", "url",
			    dm->cfg->discoverer_url);
			failing = 0;
		}
		pthread_mutex_lock(&dm->mu);
		if (!dm->stopping) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&dm->cond, &dm->mu, &ts);
		}
	}
	pthread_mutex_unlock(&dm->mu);
	return NULL;
}

/* ---- control API ---- */

static void h_services(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	demo_t *dm = arg;

	(void)req;
	demo_fleet_tick(dm->fleet, now_s());
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":");
	pthread_mutex_lock(&dm->mu);
	demo_fleet_json(dm->fleet, dm->port, &resp->body);
	pthread_mutex_unlock(&dm->mu);
	ax_buf_putc(&resp->body, '}');
	resp->status = ax_buf_ok(&resp->body) ? 200 : 500;
}

static void h_switch(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	demo_t *dm = arg;
	const char *p = ax_http_path(req) + strlen("/api/v1/services/");
	const char *slash = strchr(p, '/');
	char name[80];
	size_t i, n = demo_fleet_count(dm->fleet);
	int down, was;
	ax_err_t err = {0};
	ax_http_server_t *old = NULL;

	if (slash == NULL || (size_t)(slash - p) >= sizeof(name) ||
	    (strcmp(slash, "/break") != 0 && strcmp(slash, "/heal") != 0)) {
		ax_http_resp_error(resp, 404, "not_found",
		    "use POST /api/v1/services/<name>/break or .../heal");
		return;
	}
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = 0;
	for (i = 0; i < n; i++)
		if (strcmp(demo_fleet_name(dm->fleet, i), name) == 0)
			break;
	if (i == n) {
		ax_http_resp_error(resp, 404, "not_found",
		    "no service \"%s\" in the demo fleet", name);
		return;
	}
	down = strcmp(slash, "/break") == 0;
	demo_fleet_tick(dm->fleet, now_s()); /* count up to the switch */
	pthread_mutex_lock(&dm->mu);
	was = demo_fleet_set_down(dm->fleet, i, down);
	if (down && !was) {
		old = dm->srv[i];
		dm->srv[i] = NULL;
	} else if (!down && was && dm->srv[i] == NULL) {
		int tries;

		/* the old port: the discoverer and the scrapers know it */
		for (tries = 0; tries < 20; tries++) {
			if (svc_listen(dm, i, dm->port[i], &err) == 0)
				break;
			pthread_mutex_unlock(&dm->mu);
			nanosleep(&(struct timespec){0, 100000000}, NULL);
			pthread_mutex_lock(&dm->mu);
		}
		if (dm->srv[i] == NULL) {
			demo_fleet_set_down(dm->fleet, i, 1);
			pthread_mutex_unlock(&dm->mu);
			ax_http_resp_error(resp, 500, "internal",
			    "%s cannot listen again: %s", name, err.msg);
			return;
		}
	}
	pthread_mutex_unlock(&dm->mu);
	if (old) {
		ax_http_server_stop(old);
		ax_http_server_free(old);
	}
	if (down != was)
		ax_log_info(down ? "service broken" : "service healed",
		    "service", name);
	ax_buf_puts(&resp->body,
	    "{\"status\":\"success\",\"data\":{"
	    "\"service\":");
	ax_buf_put_json_str(&resp->body, name);
	ax_buf_printf(&resp->body, ",\"state\":\"%s\",\"changed\":%s}}",
	    down ? "down" : "up", down != was ? "true" : "false");
	resp->status = 200;
}

/* ---- pager sink ---- */

static void h_enqueue(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	demo_t *dm = arg;
	size_t len = 0;
	const char *body = ax_http_body(req, &len);

	resp->status =
	    demo_pager_event(dm->pager, body ? body : "", len, &resp->body);
}

static void h_webhook(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	cJSON *j = NULL;
	ax_err_t err = {0};
	const cJSON *st, *al;
	char n[32];

	(void)arg;
	if (ax_http_body_json(req, &j, &err) != 0) {
		ax_http_resp_text(resp, 400, err.msg);
		return;
	}
	st = cJSON_GetObjectItemCaseSensitive(j, "status");
	al = cJSON_GetObjectItemCaseSensitive(j, "alerts");
	ax_log_info("webhook notification", "status",
	    cJSON_IsString(st) ? st->valuestring : "?", "alerts",
	    ax_log_fmt_int(n, sizeof(n), cJSON_GetArraySize(al)));
	cJSON_Delete(j);
	ax_http_resp_text(resp, 200, "ok\n");
}

/* ---- daemon callbacks ---- */

static void demo_free(demo_t *dm)
{
	size_t i, n;

	if (dm == NULL)
		return;
	if (dm->reg_started) {
		pthread_mutex_lock(&dm->mu);
		dm->stopping = 1;
		pthread_cond_broadcast(&dm->cond);
		pthread_mutex_unlock(&dm->mu);
		pthread_join(dm->reg, NULL);
	}
	n = dm->fleet ? demo_fleet_count(dm->fleet) : 0;
	if (dm->reg_started)
		for (i = 0; i < n; i++) { /* as a Consul agent leaving */
			char path[128];
			ax_err_t err = {0};

			snprintf(path, sizeof(path),
			    "/v1/agent/service/deregister/%s-1",
			    demo_fleet_name(dm->fleet, i));
			if (disco_call(dm, "PUT", path, "", 3000, NULL, &err) !=
			        0 &&
			    err.code == AX_EIO &&
			    strstr(err.msg, "HTTP") == NULL)
				break; /* the discoverer is gone */
		}
	if (dm->srv) {
		ax_http_server_stop_many(dm->srv, n);
		for (i = 0; i < n; i++)
			ax_http_server_free(dm->srv[i]);
	}
	if (dm->pager_srv) {
		ax_http_server_stop(dm->pager_srv);
		ax_http_server_free(dm->pager_srv);
	}
	demo_pager_free(dm->pager);
	demo_fleet_free(dm->fleet);
	free(dm->srv);
	free(dm->port);
	free(dm->ref);
	pthread_cond_destroy(&dm->cond);
	pthread_mutex_destroy(&dm->mu);
	free(dm);
}

static int pager_start(demo_t *dm, ax_err_t *err)
{
	ax_http_opts_t o = {0};
	int rv;

	if (dm->cfg->pager.listen[0] == 0)
		return 0;
	if ((rv = demo_pager_open(
	         dm->cfg->pager.file, stdout, &dm->pager, err)) != 0)
		return rv;
	o.listen = dm->cfg->pager.listen;
	o.threads = 2;
	if ((rv = ax_http_server_new(&o, &dm->pager_srv, err)) != 0)
		return rv;
	if ((rv = ax_http_route(
	         dm->pager_srv, "POST", "/v2/enqueue", h_enqueue, dm)) ||
	    (rv = ax_http_route(
	         dm->pager_srv, "POST", "/webhook", h_webhook, dm)))
		return ax_err_set(err, rv, "pager: cannot route");
	return ax_http_server_start(dm->pager_srv, err);
}

static int start(ax_daemon_t *d, void *cfgp, ax_err_t *err)
{
	demo_t *dm = calloc(1, sizeof(*dm));
	const demo_cfg_t *cfg = cfgp;
	size_t i, n = cfg->services.n;
	int rv;

	if (dm == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	dm->d = d;
	dm->cfg = cfg;
	pthread_mutex_init(&dm->mu, NULL);
	pthread_cond_init(&dm->cond, NULL);
	dm->srv = calloc(n, sizeof(*dm->srv));
	dm->port = calloc(n, sizeof(*dm->port));
	dm->ref = calloc(n, sizeof(*dm->ref));
	if (dm->srv == NULL || dm->port == NULL || dm->ref == NULL) {
		demo_free(dm);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	rv =
	    demo_fleet_new(cfg, now_s(), (uint64_t)time(NULL), &dm->fleet, err);
	if (rv == 0) /* dm->port doubles as the wish list */
		registered_ports(dm, n, dm->port);
	for (i = 0; rv == 0 && i < n; i++) {
		dm->ref[i].dm = dm;
		dm->ref[i].i = i;
		/* the registered port when it is free, else any */
		if (dm->port[i] == 0 ||
		    svc_listen(dm, i, dm->port[i], err) != 0)
			rv = svc_listen(dm, i, 0, err);
	}
	if (rv == 0)
		rv = pager_start(dm, err);
	if (rv == 0 &&
	    ((rv = ax_http_route(ax_daemon_http(d), "GET", "/api/v1/services",
	          h_services, dm)) ||
	        (rv = ax_http_route(ax_daemon_http(d), "POST",
	             "/api/v1/services/*", h_switch, dm))))
		ax_err_set(err, rv, "cannot route the control API");
	if (rv == 0) {
		if (pthread_create(&dm->reg, NULL, registrar, dm) != 0)
			rv =
			    ax_err_set(err, AX_ENOMEM, "cannot start a thread");
		else
			dm->reg_started = 1;
	}
	if (rv != 0) {
		demo_free(dm);
		return rv;
	}
	ax_daemon_set_state(d, dm);
	{
		char ns[32];

		ax_log_info("demo fleet up", "services",
		    ax_log_fmt_int(ns, sizeof(ns), (long long)n), "pager",
		    cfg->pager.listen, "pages", cfg->pager.file);
	}
	return 0;
}

static int reload(ax_daemon_t *d, void *cfg, ax_err_t *err)
{
	(void)d;
	(void)cfg;
	return ax_err_set(err, AX_ECONFIG,
	    "the demo fleet is fixed at start; restart axon-demo to change it");
}

static void stop(ax_daemon_t *d)
{
	demo_free(ax_daemon_state(d));
	ax_daemon_set_state(d, NULL);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-demo",
    .component = "demo",
    .description = "The Axon demo fleet: simulated microservices with RED "
                   "metrics, a fault switch each, and a local PagerDuty "
                   "sink.",
    .default_config = "demo.yml",
    .default_listen = "127.0.0.1:9400",
    .load_config = demo_config_load,
    .free_config = demo_config_free,
    .start = start,
    .reload = reload,
    .stop = stop,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
