/*
 * ax_daemon: shared daemon skeleton (see ax_daemon.h).
 */
#include "ax_daemon.h"
#include "ax_config.h"
#include "ax_log.h"
#include "ax_units.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Flags every daemon has. */
static const ax_flag_t common_flags[] = {
    {"config.file", AX_FLAG_STRING, NULL, "Configuration file path."},
    {"web.listen-address", AX_FLAG_STRING, NULL,
        "Address to listen on for the HTTP API, /metrics and health checks."},
    {"web.external-url", AX_FLAG_STRING, "",
        "The URL under which this daemon is externally reachable (for links)."},
    {"web.config.file", AX_FLAG_STRING, "",
        "Web configuration file (basic_auth_users with bcrypt hashes, "
        "bearer_tokens)."},
    {"web.enable-lifecycle", AX_FLAG_BOOL, "true",
        "Enable reload and shutdown via HTTP (POST /-/reload, /-/quit)."},
    {"web.max-connections", AX_FLAG_INT, "512",
        "Maximum number of simultaneous HTTP connections."},
    {"web.read-timeout", AX_FLAG_DURATION, "5m",
        "Idle timeout of an HTTP connection."},
    {"web.max-request-bytes", AX_FLAG_SIZE, "32MiB",
        "Largest HTTP request body accepted (413 above)."},
    {"log.level", AX_FLAG_STRING, "info",
        "Only log messages with the given severity or above: debug, info, "
        "warn, error."},
    {"log.format", AX_FLAG_STRING, "logfmt",
        "Output format of log messages: logfmt or json."},
    {NULL, 0, NULL, NULL},
};

#define MAX_FLAGS 96
#define MAX_REPEATED 128 /* values of repeatable flags, all together */

struct ax_daemon {
	const ax_daemon_spec_t *spec;
	const ax_flag_t *flags[MAX_FLAGS];
	const char *values[MAX_FLAGS];
	int64_t ivalues[MAX_FLAGS];
	size_t n_flags;
	const char *rep_values[MAX_REPEATED];
	int rep_flag[MAX_REPEATED];
	size_t n_rep;
	ax_metrics_t *metrics;
	ax_http_server_t *http;
	void *cfg;
	void *state;
	pthread_mutex_t reload_mu;
	volatile sig_atomic_t stop_requested;
	int started;
	ax_metric_t *m_reload_ok, *m_reload_ts, *m_reloads, *m_reload_fail;
};

ax_metrics_t *ax_daemon_metrics(ax_daemon_t *d)
{
	return d->metrics;
}
ax_http_server_t *ax_daemon_http(ax_daemon_t *d)
{
	return d->http;
}
const ax_daemon_spec_t *ax_daemon_spec(ax_daemon_t *d)
{
	return d->spec;
}
void *ax_daemon_config(ax_daemon_t *d)
{
	return d->cfg;
}
void ax_daemon_set_state(ax_daemon_t *d, void *state)
{
	d->state = state;
}
void *ax_daemon_state(ax_daemon_t *d)
{
	return d->state;
}

void ax_daemon_request_stop(ax_daemon_t *d)
{
	d->stop_requested = 1;
	kill(getpid(), SIGTERM);
}

static int flag_index(ax_daemon_t *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_flags; i++)
		if (strcmp(d->flags[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const char *ax_daemon_flag(ax_daemon_t *d, const char *name)
{
	int i = flag_index(d, name);

	return i < 0 ? NULL : d->values[i];
}

int ax_daemon_flag_bool(ax_daemon_t *d, const char *name)
{
	int i = flag_index(d, name);

	return i < 0 ? 0 : (int)d->ivalues[i];
}

int64_t ax_daemon_flag_int(ax_daemon_t *d, const char *name)
{
	int i = flag_index(d, name);

	return i < 0 ? 0 : d->ivalues[i];
}

char *ax_daemon_external_url(ax_daemon_t *d)
{
	const char *flag = ax_daemon_flag(d, "web.external-url");
	const char *listen = ax_daemon_flag(d, "web.listen-address");
	const char *port = listen ? strrchr(listen, ':') : NULL;
	char host[256] = "localhost", buf[512];

	if (flag && *flag) {
		size_t n = strlen(flag);

		return strndup(flag, flag[n - 1] == '/' ? n - 1 : n);
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(buf, sizeof(buf), "http://%s%s", host, port ? port : "");
	return strdup(buf);
}

size_t ax_daemon_flag_list(
    ax_daemon_t *d, const char *name, const char **out, size_t max)
{
	int i = flag_index(d, name);
	size_t k, n = 0;

	for (k = 0; i >= 0 && k < d->n_rep; k++)
		if (d->rep_flag[k] == i) {
			if (n < max)
				out[n] = d->rep_values[k];
			n++;
		}
	return n;
}

static void usage(ax_daemon_t *d, FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [<flags>]\n\n%s\n\nFlags:\n", d->spec->name,
	    d->spec->description);
	fprintf(f, "  %-36s %s\n", "-h, --help", "Show this help and exit.");
	fprintf(f, "  %-36s %s\n", "--version", "Show the version and exit.");
	for (i = 0; i < d->n_flags; i++) {
		char left[128];
		const ax_flag_t *fl = d->flags[i];

		snprintf(left, sizeof(left), "--%s%s", fl->name,
		    fl->type == AX_FLAG_BOOL          ? ""
		        : fl->type == AX_FLAG_STRINGS ? "=VALUE ..."
		                                      : "=VALUE");
		fprintf(f, "  %-36s %s", left, fl->help);
		if (d->values[i] && d->values[i][0])
			fprintf(f, " (default: %s)", d->values[i]);
		fputc('\n', f);
	}
}

static int set_flag(ax_daemon_t *d, int idx, const char *val, ax_err_t *err)
{
	const ax_flag_t *fl = d->flags[idx];
	ax_err_t e;

	d->values[idx] = val;
	switch (fl->type) {
	case AX_FLAG_STRING: return 0;
	case AX_FLAG_STRINGS:
		if (*val == '\0')
			return 0;
		if (d->n_rep == MAX_REPEATED)
			return ax_err_set(err, AX_EINVAL,
			    "--%s: more than %d values of repeatable flags",
			    fl->name, MAX_REPEATED);
		d->rep_values[d->n_rep] = val;
		d->rep_flag[d->n_rep++] = idx;
		return 0;
	case AX_FLAG_BOOL:
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
			d->ivalues[idx] = 1;
		else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
			d->ivalues[idx] = 0;
		else
			return ax_err_set(err, AX_EINVAL,
			    "--%s: want true or false, got \"%s\"", fl->name,
			    val);
		return 0;
	case AX_FLAG_DURATION:
		if (ax_duration_parse(val, &d->ivalues[idx], &e) != 0)
			return ax_err_set(
			    err, AX_EINVAL, "--%s: %s", fl->name, e.msg);
		return 0;
	case AX_FLAG_SIZE:
		if (ax_size_parse(val, &d->ivalues[idx], &e) != 0)
			return ax_err_set(
			    err, AX_EINVAL, "--%s: %s", fl->name, e.msg);
		return 0;
	case AX_FLAG_INT: {
		char *end;
		long long v = strtoll(val, &end, 10);

		if (*val == '\0' || *end != '\0')
			return ax_err_set(err, AX_EINVAL,
			    "--%s: want an integer, got \"%s\"", fl->name, val);
		d->ivalues[idx] = v;
		return 0;
	}
	}
	return 0;
}

/* 0 ok, 1 exit 0 (help/version printed), <0 usage error */
static int parse_flags(ax_daemon_t *d, int argc, char **argv, ax_err_t *err)
{
	const ax_flag_t *tables[2] = {common_flags, d->spec->flags};
	size_t t, i;
	int a, rv;

	for (t = 0; t < 2; t++) {
		for (i = 0; tables[t] && tables[t][i].name; i++) {
			if (d->n_flags == MAX_FLAGS)
				return ax_err_set(
				    err, AX_EINTERNAL, "too many flags");
			d->flags[d->n_flags] = &tables[t][i];
			d->n_flags++;
		}
	}
	for (i = 0; i < d->n_flags; i++) {
		const char *def = d->flags[i]->def;

		if (strcmp(d->flags[i]->name, "config.file") == 0)
			def = d->spec->default_config;
		else if (strcmp(d->flags[i]->name, "web.listen-address") == 0)
			def = d->spec->default_listen;
		if (def && (rv = set_flag(d, (int)i, def, err)) != 0)
			return rv;
	}
	for (a = 1; a < argc; a++) {
		char *arg = argv[a], name[128];
		const char *val = NULL, *eq;
		int idx, neg = 0;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(d, stdout);
			return 1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("%s, version %s (revision: %s)\n", d->spec->name,
			    AX_VERSION, AX_REVISION);
			return 1;
		}
		if (strncmp(arg, "--", 2) != 0)
			return ax_err_set(err, AX_EINVAL,
			    "unexpected argument \"%s\" (flags start with --; "
			    "see --help)",
			    arg);
		arg += 2;
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s",
		    (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
		idx = flag_index(d, name);
		if (idx < 0 && strncmp(name, "no-", 3) == 0) {
			idx = flag_index(d, name + 3);
			if (idx >= 0 && d->flags[idx]->type == AX_FLAG_BOOL &&
			    !eq)
				neg = 1;
			else
				idx = -1;
		}
		if (idx < 0)
			return ax_err_set(err, AX_EINVAL,
			    "unknown long flag '--%s' (see --help)", name);
		if (neg)
			val = "false";
		else if (eq)
			val = eq + 1;
		else if (d->flags[idx]->type == AX_FLAG_BOOL)
			val = "true";
		else if (a + 1 < argc)
			val = argv[++a];
		else
			return ax_err_set(err, AX_EINVAL,
			    "expected argument for flag '--%s'", name);
		if ((rv = set_flag(d, idx, val, err)) != 0)
			return rv;
	}
	return 0;
}

/* ---- web config (--web.config.file) ---- */

static int decode_users(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	ax_http_server_t *srv = *(ax_http_server_t **)dst;
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(c, n, path, err,
		    "want a map of user names to bcrypt hashes");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		const char *hash = ax_cfg_scalar(v);

		if (hash == NULL || strncmp(hash, "$2", 2) != 0)
			return ax_cfg_errorf(c, v, path, err,
			    "password of user \"%s\" must be a bcrypt hash "
			    "($2y$...)",
			    ax_cfg_scalar(k));
		if (ax_http_add_basic_user(srv, ax_cfg_scalar(k), hash) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	return 0;
}

static int refuse_tls(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	(void)dst;
	return ax_cfg_errorf(c, n, path, err,
	    "TLS termination is not supported by axon in this version; put a "
	    "TLS proxy in front");
}

typedef struct web_dec {
	ax_http_server_t *srv;
	ax_cfg_strings_t tokens;
} web_dec_t;

static const ax_cfg_field_t web_fields[] = {
    {.name = "basic_auth_users",
        .type = AX_CFG_CUSTOM,
        .offset = 0,
        .decode = decode_users},
    {.name = "bearer_tokens",
        .type = AX_CFG_STRINGS,
        .offset = offsetof(web_dec_t, tokens)},
    {.name = "tls_server_config", .type = AX_CFG_CUSTOM, .decode = refuse_tls},
    {.name = "http_server_config", .type = AX_CFG_IGNORE},
    {0},
};

static int load_web_config(ax_daemon_t *d, const char *path, ax_err_t *err)
{
	ax_cfg_t c;
	web_dec_t w = {d->http, {NULL, 0}};
	size_t i;
	int rv;

	if ((rv = ax_cfg_load_file(&c, path, err)) != 0)
		return rv;
	rv = ax_cfg_decode(&c, ax_cfg_root(&c), "", web_fields, &w, err);
	for (i = 0; rv == 0 && i < w.tokens.n; i++)
		if (ax_http_add_bearer_token(d->http, w.tokens.v[i]) != 0)
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	ax_cfg_free_fields(web_fields + 1, &w);
	ax_cfg_fini(&c);
	return rv;
}

/* ---- HTTP handlers ---- */

static void h_metrics(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;

	(void)req;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	ax_metrics_render(d->metrics, &resp->body);
}

static void h_healthy(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	char msg[128];

	(void)req;
	snprintf(msg, sizeof(msg), "%s is Healthy.\n", d->spec->name);
	ax_http_resp_text(resp, 200, msg);
}

static void h_ready(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	char msg[128];
	int ready = d->started && (d->spec->ready == NULL || d->spec->ready(d));

	(void)req;
	if (ready) {
		snprintf(msg, sizeof(msg), "%s is Ready.\n", d->spec->name);
		ax_http_resp_text(resp, 200, msg);
	} else {
		ax_http_resp_text(resp, 503, "Service Unavailable\n");
	}
}

static void h_reload(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	ax_err_t err;

	(void)req;
	if (!ax_daemon_flag_bool(d, "web.enable-lifecycle")) {
		ax_http_resp_text(resp, 403, "Lifecycle API is not enabled.\n");
		return;
	}
	if (ax_daemon_reload(d, &err) != 0) {
		char msg[AX_ERR_MSG_MAX + 64];

		snprintf(
		    msg, sizeof(msg), "failed to reload config: %s\n", err.msg);
		ax_http_resp_text(resp, 500, msg);
		return;
	}
	ax_http_resp_text(resp, 200, "");
}

static void h_quit(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;

	(void)req;
	if (!ax_daemon_flag_bool(d, "web.enable-lifecycle")) {
		ax_http_resp_text(resp, 403, "Lifecycle API is not enabled.\n");
		return;
	}
	ax_http_resp_text(resp, 200, "Requesting termination... Goodbye!\n");
	ax_daemon_request_stop(d);
}

static void h_buildinfo(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	(void)req;
	(void)arg;
	ax_buf_puts(
	    &resp->body, "{\"status\":\"success\",\"data\":{\"version\":");
	ax_buf_put_json_str(&resp->body, AX_VERSION);
	ax_buf_puts(&resp->body, ",\"revision\":");
	ax_buf_put_json_str(&resp->body, AX_REVISION);
	ax_buf_puts(&resp->body,
	    ",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
	    "\"goVersion\":\"\"}}");
}

static void h_flags(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	ax_daemon_t *d = arg;
	size_t i;

	(void)req;
	ax_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":{");
	for (i = 0; i < d->n_flags; i++) {
		if (i)
			ax_buf_putc(&resp->body, ',');
		ax_buf_put_json_str(&resp->body, d->flags[i]->name);
		ax_buf_putc(&resp->body, ':');
		ax_buf_put_json_str(
		    &resp->body, d->values[i] ? d->values[i] : "");
	}
	ax_buf_puts(&resp->body, "}}");
}

/* ---- reload ---- */

int ax_daemon_reload(ax_daemon_t *d, ax_err_t *err)
{
	void *ncfg = NULL;
	int rv;

	pthread_mutex_lock(&d->reload_mu);
	ax_counter_inc(d->m_reloads);
	rv = d->spec->load_config(
	    d, ax_daemon_flag(d, "config.file"), &ncfg, err);
	if (rv == 0 && d->spec->reload)
		rv = d->spec->reload(d, ncfg, err);
	if (rv != 0) {
		if (ncfg)
			d->spec->free_config(ncfg);
		ax_gauge_set(d->m_reload_ok, 0);
		ax_counter_inc(d->m_reload_fail);
		ax_log_error("error reloading config; the previous config "
		             "stays in force",
		    "err", err->msg);
		pthread_mutex_unlock(&d->reload_mu);
		return rv;
	}
	if (d->cfg)
		d->spec->free_config(d->cfg);
	d->cfg = ncfg;
	ax_gauge_set(d->m_reload_ok, 1);
	ax_gauge_set(d->m_reload_ts, (double)ax_now_ms() / 1000.0);
	ax_log_info("completed loading of configuration file", "filename",
	    ax_daemon_flag(d, "config.file"));
	pthread_mutex_unlock(&d->reload_mu);
	return 0;
}

static int setup_metrics(ax_daemon_t *d)
{
	const char *bi_names[] = {"version", "revision", "component"};
	const char *bi_vals[3] = {AX_VERSION, AX_REVISION, d->spec->component};
	ax_mfam_t *f;

	d->metrics = ax_metrics_new();
	if (d->metrics == NULL || ax_metrics_register_process(d->metrics) != 0)
		return AX_ENOMEM;
	f = ax_metrics_family(d->metrics, AX_METRIC_GAUGE, "axon_build_info",
	    "A metric with a constant '1' value labeled by version, revision "
	    "and component.",
	    3, bi_names, NULL, 0);
	if (f == NULL)
		return AX_ENOMEM;
	ax_gauge_set(ax_mfam_with(f, bi_vals), 1);
	d->m_reload_ok = ax_metrics_gauge(d->metrics,
	    "axon_config_last_reload_successful",
	    "Whether the last configuration reload attempt was successful.");
	d->m_reload_ts = ax_metrics_gauge(d->metrics,
	    "axon_config_last_reload_success_timestamp_seconds",
	    "Timestamp of the last successful configuration reload.");
	d->m_reloads =
	    ax_metrics_counter(d->metrics, "axon_config_reloads_total",
	        "Configuration reload attempts (SIGHUP or POST /-/reload).");
	d->m_reload_fail =
	    ax_metrics_counter(d->metrics, "axon_config_reload_failures_total",
	        "Configuration reload attempts that were rejected.");
	if (!d->m_reload_ok || !d->m_reload_ts || !d->m_reloads ||
	    !d->m_reload_fail)
		return AX_ENOMEM;
	return 0;
}

/*
 * A graceful stop that hangs (seen once in nng_close of a REP socket
 * with contexts, nng 1.5.2, after a peer went away mid-request) must not
 * leave a daemon that neither serves nor exits: after
 * AX_SHUTDOWN_TIMEOUT_S the process logs it and exits 1.  Nothing
 * accepted is lost by that: the tsdb acknowledges a batch only after its
 * WAL write, and the other daemons' state is on disk as they go.
 */
#define AX_SHUTDOWN_TIMEOUT_S 60
#define AX_SHUTDOWN_TIMEOUT_STR "60s"

static void *shutdown_watchdog(void *arg)
{
	const char *name = arg;
	struct timespec ts = {AX_SHUTDOWN_TIMEOUT_S, 0};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	ax_log_error("graceful shutdown did not finish in time; exiting",
	    "daemon", name, "timeout", AX_SHUTDOWN_TIMEOUT_STR);
	_exit(1);
	return NULL;
}

static void start_shutdown_watchdog(const char *name)
{
	pthread_t th;
	pthread_attr_t at;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, shutdown_watchdog, (void *)name) != 0)
		ax_log_warn("cannot start the shutdown watchdog");
	pthread_attr_destroy(&at);
}

/* Lift the soft open-files limit to the hard one, as Go's runtime does
 * for Prometheus: a scraper keeps one connection per target. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int ax_daemon_main(const ax_daemon_spec_t *spec, int argc, char **argv)
{
	ax_daemon_t *d;
	ax_http_opts_t hopts;
	ax_err_t err;
	sigset_t set;
	int rv, code = 1;

	ax_err_clear(&err);
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		fprintf(stderr, "%s: out of memory\n", spec->name);
		return 1;
	}
	d->spec = spec;
	pthread_mutex_init(&d->reload_mu, NULL);
	rv = parse_flags(d, argc, argv, &err);
	if (rv == 1) {
		code = 0;
		goto out;
	}
	if (rv != 0) {
		fprintf(stderr, "%s: error: %s\n", spec->name, err.msg);
		code = 2;
		goto out;
	}
	ax_log_set_component(spec->component);
	if (ax_log_setup(ax_daemon_flag(d, "log.level"),
	        ax_daemon_flag(d, "log.format"), &err) != 0) {
		fprintf(stderr, "%s: error: %s\n", spec->name, err.msg);
		code = 2;
		goto out;
	}
	/* Signals are taken synchronously by this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	ax_log_info("starting", "version", AX_VERSION, "revision", AX_REVISION);
	rv = spec->load_config(
	    d, ax_daemon_flag(d, "config.file"), &d->cfg, &err);
	if (rv != 0) {
		ax_log_error("error loading config", "err", err.msg);
		goto out;
	}
	if (setup_metrics(d) != 0) {
		ax_log_error("out of memory setting up metrics");
		goto out;
	}
	ax_gauge_set(d->m_reload_ok, 1);
	ax_gauge_set(d->m_reload_ts, (double)ax_now_ms() / 1000.0);
	memset(&hopts, 0, sizeof(hopts));
	hopts.listen = ax_daemon_flag(d, "web.listen-address");
	hopts.max_connections =
	    (unsigned)ax_daemon_flag_int(d, "web.max-connections");
	hopts.timeout_s =
	    (unsigned)(ax_daemon_flag_int(d, "web.read-timeout") / 1000);
	hopts.max_body_bytes =
	    (size_t)ax_daemon_flag_int(d, "web.max-request-bytes");
	hopts.thread_per_connection = spec->http_thread_per_connection;
	hopts.too_big_status = spec->http_too_big_status;
	if ((rv = ax_http_server_new(&hopts, &d->http, &err)) != 0) {
		ax_log_error("cannot create HTTP server", "err", err.msg);
		goto out;
	}
	if (ax_daemon_flag(d, "web.config.file")[0] &&
	    load_web_config(d, ax_daemon_flag(d, "web.config.file"), &err) !=
	        0) {
		ax_log_error("error loading web config", "err", err.msg);
		goto out;
	}
	ax_http_route(d->http, "GET", "/metrics", h_metrics, d);
	ax_http_route(d->http, "GET", "/-/healthy", h_healthy, d);
	ax_http_route(d->http, "GET", "/-/ready", h_ready, d);
	ax_http_route(d->http, "POST", "/-/reload", h_reload, d);
	ax_http_route(d->http, "PUT", "/-/reload", h_reload, d);
	ax_http_route(d->http, "POST", "/-/quit", h_quit, d);
	ax_http_route(d->http, "PUT", "/-/quit", h_quit, d);
	ax_http_route(
	    d->http, "GET", "/api/v1/status/buildinfo", h_buildinfo, d);
	ax_http_route(d->http, "GET", "/api/v1/status/flags", h_flags, d);
	if (spec->start && (rv = spec->start(d, d->cfg, &err)) != 0) {
		ax_log_error("cannot start", "err", err.msg);
		goto out;
	}
	d->started = 1;
	if ((rv = ax_http_server_start(d->http, &err)) != 0) {
		ax_log_error("cannot start HTTP server", "err", err.msg);
		if (spec->stop)
			spec->stop(d);
		goto out;
	}
	{
		char port[16];

		snprintf(
		    port, sizeof(port), "%d", ax_http_server_port(d->http));
		ax_log_info("listening", "address",
		    ax_daemon_flag(d, "web.listen-address"), "port", port);
	}
	ax_log_info("ready to serve");
	for (;;) {
		struct timespec to = {1, 0};
		int sig = sigtimedwait(&set, NULL, &to);

		if (sig < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (d->stop_requested)
					break;
				continue;
			}
			ax_log_error(
			    "sigtimedwait failed", "err", strerror(errno));
			break;
		}
		if (sig == SIGHUP) {
			ax_err_t rerr;

			ax_log_info("received SIGHUP, reloading configuration");
			ax_daemon_reload(d, &rerr);
			continue;
		}
		ax_log_info("received signal, exiting gracefully", "signal",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	start_shutdown_watchdog(spec->name);
	ax_http_server_stop(d->http);
	if (spec->stop)
		spec->stop(d);
	ax_log_info("see you next time!");
	code = 0;
out:
	ax_http_server_free(d->http);
	if (d->cfg)
		spec->free_config(d->cfg);
	ax_metrics_free(d->metrics);
	pthread_mutex_destroy(&d->reload_mu);
	free(d);
	return code;
}
