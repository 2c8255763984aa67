/*
 * sd: the discoverer's service-discovery providers (see sd.h).
 */
#include "discoverer/sd.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_buf.h"
#include "ax_http.h"
#include "ax_log.h"
#include "ax_sd.h"
#include "ax_units.h"
#include "discoverer/k8s.h"

#define FILE_POLL_MS 1000
#define MAX_NS 3

enum { K_STATIC, K_FILE, K_DNS, K_CONSUL, K_K8S, N_KINDS };

static const char *const kind_names[] = {"static_configs", "file_sd_configs",
    "dns_sd_configs", "consul_sd_configs", "kubernetes_sd_configs"};

typedef disc_group_t group_t;

typedef struct unit unit_t;

typedef struct prov {
	unit_t *u;
	int kind;
	const void *conf; /* element of the unit's list */
	size_t idx;       /* position in its section */
	pthread_t th;
	int has_thread;
	group_t *g; /* under sd->mu */
	size_t n;
} prov_t;

struct unit {
	disc_sd_t *sd;
	char *set, *yaml, *owner;
	int kind;
	ax_cfg_list_t owned; /* decoded from yaml (kind's element type) */
	prov_t *p;
	size_t n;
	int stop; /* under sd->mu */
};

struct disc_sd {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unit_t **u;
	size_t n, cap;
	struct sockaddr_in ns[MAX_NS];
	int n_ns;
	void (*on_change)(void *);
	void *arg;
	ax_metric_t *m_dns, *m_dns_fail, *m_consul_fail, *m_file_fail;
};

void disc_groups_free(disc_group_t *g, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		free(g[i].source);
		ax_labels_free(g[i].labels);
		for (k = 0; k < g[i].n; k++)
			ax_labels_free(g[i].t[k]);
		free(g[i].t);
	}
	free(g);
}

/* Replace a provider's groups (takes g) and tell. */
static void publish(prov_t *p, group_t *g, size_t n)
{
	disc_sd_t *sd = p->u->sd;
	group_t *old;
	size_t on;

	pthread_mutex_lock(&sd->mu);
	old = p->g;
	on = p->n;
	p->g = g;
	p->n = n;
	pthread_mutex_unlock(&sd->mu);
	disc_groups_free(old, on);
	if (sd->on_change)
		sd->on_change(sd->arg);
}

/* Wait up to ms or until the unit stops.  1 when stopping. */
static int nap(prov_t *p, int64_t ms)
{
	disc_sd_t *sd = p->u->sd;
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sd->mu);
	if (!p->u->stop)
		pthread_cond_timedwait(&sd->cv, &sd->mu, &ts);
	stop = p->u->stop;
	pthread_mutex_unlock(&sd->mu);
	return stop;
}

static int stopping(prov_t *p)
{
	int s;

	pthread_mutex_lock(&p->u->sd->mu);
	s = p->u->stop;
	pthread_mutex_unlock(&p->u->sd->mu);
	return s;
}

/* A target's labels: __address__ plus pairs (k, v, ..., NULL). */
static ax_labels_t *target(const char *addr, const char *const *kv)
{
	ax_label_t l[16];
	size_t n = 0, i;
	ax_labels_t *out = NULL;
	ax_err_t e;

	l[n].name = "__address__";
	l[n++].value = addr;
	for (i = 0; kv && kv[i] && n < 16; i += 2) {
		l[n].name = kv[i];
		l[n++].value = kv[i + 1];
	}
	ax_labels_new(l, n, &out, &e);
	return out;
}

/* ---- static ---- */

static void run_static(prov_t *p)
{
	const ax_tgroup_t *tg = p->conf;
	group_t *g = calloc(1, sizeof(*g));
	size_t k;
	char src[512];

	if (g == NULL)
		return;
	snprintf(src, sizeof(src), "%s:static:%zu", p->u->set, p->idx);
	g->source = strdup(src);
	g->labels = tg->labels ? ax_labels_dup(tg->labels) : NULL;
	g->t = calloc(tg->targets.n + 1, sizeof(*g->t));
	for (k = 0; g->t && k < tg->targets.n; k++)
		if ((g->t[g->n] = target(tg->targets.v[k], NULL)) != NULL)
			g->n++;
	publish(p, g, 1);
}

/* ---- file ---- */

static void *file_main(void *arg)
{
	prov_t *p = arg;
	const ax_filesd_t *f = p->conf;
	uint64_t sig = 0;
	int64_t next_full = 0;
	int first = 1;

	do {
		int64_t now = ax_mono_ms();
		uint64_t ns = ax_filesd_sig(f, 1);
		glob_t gl;
		group_t *g = NULL;
		size_t ng = 0, cap = 0, i, k, m;

		if (!first && ns == sig && now < next_full)
			continue;
		first = 0;
		sig = ns;
		next_full = now + f->refresh_ms;
		ax_filesd_glob(f, 1, &gl);
		for (i = 0; i < gl.gl_pathc; i++) {
			ax_tgroup_t *tg;
			size_t nt;
			ax_err_t e;

			if (ax_tgroups_read_file(
			        gl.gl_pathv[i], &tg, &nt, &e) != 0) {
				/* keep the file's last groups */
				ax_counter_inc(p->u->sd->m_file_fail);
				ax_log_error("cannot read a file_sd file; its "
				             "targets stay as they were",
				    "set", p->u->set, "err", e.msg);
				pthread_mutex_lock(&p->u->sd->mu);
				for (k = 0; k < p->n; k++) {
					size_t l = strlen(gl.gl_pathv[i]);
					group_t *o = &p->g[k], *d;

					if (strncmp(o->source, gl.gl_pathv[i],
					        l) != 0 ||
					    o->source[l] != ':' ||
					    ax_grow((void **)&g, &cap, ng + 1,
					        sizeof(*g)) != 0)
						continue;
					d = &g[ng];
					memset(d, 0, sizeof(*d));
					d->source = strdup(o->source);
					d->labels = o->labels
					    ? ax_labels_dup(o->labels)
					    : NULL;
					d->t = calloc(o->n + 1, sizeof(*d->t));
					for (m = 0; d->t && m < o->n; m++)
						d->t[d->n++] =
						    ax_labels_dup(o->t[m]);
					ng++;
				}
				pthread_mutex_unlock(&p->u->sd->mu);
				continue;
			}
			for (k = 0; k < nt; k++) {
				group_t *d;
				char src[4200];
				ax_labels_builder_t b;

				if (ax_grow((void **)&g, &cap, ng + 1,
				        sizeof(*g)) != 0)
					break;
				d = &g[ng++];
				memset(d, 0, sizeof(*d));
				snprintf(src, sizeof(src), "%s:%zu",
				    gl.gl_pathv[i], k);
				d->source = strdup(src);
				ax_labels_builder_init(&b, tg[k].labels);
				ax_labels_builder_set(
				    &b, "__meta_filepath", gl.gl_pathv[i]);
				ax_labels_builder_build(&b, &d->labels, NULL);
				ax_labels_builder_fini(&b);
				d->t =
				    calloc(tg[k].targets.n + 1, sizeof(*d->t));
				for (m = 0; d->t && m < tg[k].targets.n; m++)
					if ((d->t[d->n] = target(
					         tg[k].targets.v[m], NULL)) !=
					    NULL)
						d->n++;
			}
			ax_tgroups_free(tg, nt);
		}
		globfree(&gl);
		publish(p, g, ng);
	} while (!nap(p, FILE_POLL_MS));
	return NULL;
}

/* ---- dns ---- */

static int qtype_of(const char *t)
{
	if (strcmp(t, "A") == 0)
		return ns_t_a;
	if (strcmp(t, "AAAA") == 0)
		return ns_t_aaaa;
	if (strcmp(t, "MX") == 0)
		return ns_t_mx;
	return ns_t_srv;
}

static void hostport(char *out, size_t cap, const char *h, unsigned port)
{
	snprintf(out, cap, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h, port);
}

/* One name: 0 with *g filled (possibly empty), -1 when the lookup
 * failed (the last group stays). */
static int dns_one(
    disc_sd_t *sd, const ax_dnssd_t *c, const char *name, group_t *g)
{
	struct __res_state st;
	unsigned char ans[65536];
	int len, i, qt = qtype_of(c->type);
	ns_msg msg;
	size_t cap = 0;

	memset(&st, 0, sizeof(st));
	memset(g, 0, sizeof(*g));
	g->source = strdup(name);
	if (res_ninit(&st) != 0)
		return -1;
	if (sd->n_ns > 0) {
		for (i = 0; i < sd->n_ns; i++)
			st.nsaddr_list[i] = sd->ns[i];
		st.nscount = sd->n_ns;
	}
	st.options |= RES_USE_EDNS0;
	ax_counter_inc(sd->m_dns);
	len = res_nsearch(&st, name, ns_c_in, qt, ans, sizeof(ans));
	if (len < 0) {
		int herr = st.res_h_errno;

		res_nclose(&st);
		if (herr == HOST_NOT_FOUND || herr == NO_DATA)
			return 0; /* NXDOMAIN / no such records: empty */
		ax_counter_inc(sd->m_dns_fail);
		return -1;
	}
	res_nclose(&st);
	if (ns_initparse(ans, len, &msg) != 0) {
		ax_counter_inc(sd->m_dns_fail);
		return -1;
	}
	for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		ns_rr rr;
		char host[NS_MAXDNAME], addr[NS_MAXDNAME + 16], port[8] = "";
		char rtarget[NS_MAXDNAME + 2] = "", mx[NS_MAXDNAME + 2] = "";
		const unsigned char *rd;
		const char *kv[9];
		ax_labels_t *t;

		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			continue;
		rd = ns_rr_rdata(rr);
		if (ns_rr_type(rr) == ns_t_srv && ns_rr_rdlen(rr) > 6) {
			unsigned p = (unsigned)(rd[4] << 8 | rd[5]);

			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6,
			        host, sizeof(host)) < 0)
				continue;
			snprintf(rtarget, sizeof(rtarget), "%s.", host);
			snprintf(port, sizeof(port), "%u", p);
			hostport(addr, sizeof(addr), host, p);
		} else if (ns_rr_type(rr) == ns_t_mx && ns_rr_rdlen(rr) > 2) {
			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2,
			        host, sizeof(host)) < 0)
				continue;
			snprintf(mx, sizeof(mx), "%s.", host);
			hostport(addr, sizeof(addr), host, (unsigned)c->port);
		} else if (ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4) {
			inet_ntop(AF_INET, rd, host, sizeof(host));
			hostport(addr, sizeof(addr), host, (unsigned)c->port);
		} else if (ns_rr_type(rr) == ns_t_aaaa &&
		    ns_rr_rdlen(rr) == 16) {
			inet_ntop(AF_INET6, rd, host, sizeof(host));
			hostport(addr, sizeof(addr), host, (unsigned)c->port);
		} else
			continue; /* CNAME and the like */
		kv[0] = "__meta_dns_name";
		kv[1] = name;
		kv[2] = "__meta_dns_srv_record_target";
		kv[3] = rtarget;
		kv[4] = "__meta_dns_srv_record_port";
		kv[5] = port;
		kv[6] = "__meta_dns_mx_record_target";
		kv[7] = mx;
		kv[8] = NULL;
		if ((t = target(addr, kv)) == NULL ||
		    ax_grow((void **)&g->t, &cap, g->n + 1, sizeof(*g->t)) !=
		        0) {
			ax_labels_free(t);
			continue;
		}
		g->t[g->n++] = t;
	}
	return 0;
}

static void *dns_main(void *arg)
{
	prov_t *p = arg;
	const ax_dnssd_t *c = p->conf;

	do {
		group_t *g = calloc(c->names.n + 1, sizeof(*g));
		size_t i, k;

		if (g == NULL)
			continue;
		for (i = 0; i < c->names.n; i++) {
			if (dns_one(p->u->sd, c, c->names.v[i], &g[i]) == 0)
				continue;
			ax_log_error("DNS-SD lookup failed; keeping the last "
			             "targets",
			    "name", c->names.v[i]);
			/* keep the name's last group */
			pthread_mutex_lock(&p->u->sd->mu);
			for (k = 0; k < p->n; k++) {
				const group_t *o = &p->g[k];
				size_t m;

				if (strcmp(o->source, c->names.v[i]) != 0)
					continue;
				g[i].t = calloc(o->n + 1, sizeof(*g[i].t));
				for (m = 0; g[i].t && m < o->n; m++)
					g[i].t[g[i].n++] =
					    ax_labels_dup(o->t[m]);
			}
			pthread_mutex_unlock(&p->u->sd->mu);
		}
		publish(p, g, c->names.n);
	} while (!nap(p, c->refresh_ms));
	return NULL;
}

/* ---- consul ---- */

typedef struct http_res {
	ax_buf_t body;
	char index[32];
	prov_t *p;
} http_res_t;

static size_t on_data(char *d, size_t sz, size_t n, void *arg)
{
	http_res_t *r = arg;

	ax_buf_append(&r->body, d, sz * n);
	return r->body.len > (64u << 20) ? 0 : sz * n;
}

static size_t on_header(char *d, size_t sz, size_t n, void *arg)
{
	http_res_t *r = arg;
	size_t len = sz * n;

	if (len > 15 && strncasecmp(d, "X-Consul-Index:", 15) == 0) {
		size_t i = 15, k = 0;

		while (i < len && d[i] == ' ')
			i++;
		while (i < len && isdigit((unsigned char)d[i]) &&
		    k < sizeof(r->index) - 1)
			r->index[k++] = d[i++];
		r->index[k] = '\0';
	}
	return len;
}

static int on_progress(
    void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return stopping(arg);
}

/* GET path (with query) from the consul server.  0 with a JSON body. */
static int consul_get(prov_t *p, CURL *h, const char *path, int64_t wait_ms,
    http_res_t *r, cJSON **out, char *why, size_t cap)
{
	const ax_consulsd_t *c = p->conf;
	ax_buf_t url = AX_BUF_INIT;
	struct curl_slist *hd = NULL;
	char tok[600];
	long code = 0;
	CURLcode rc;

	ax_buf_reset(&r->body);
	r->index[0] = '\0';
	ax_buf_printf(&url, "%s://%s%s%s", c->scheme, c->server,
	    c->path_prefix ? c->path_prefix : "", path);
	ax_buf_putc(&url, '\0');
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(wait_ms + 15000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(
	    h, CURLOPT_FOLLOWLOCATION, c->follow_redirects ? 1L : 0L);
	if (c->proxy_url)
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy_url);
	ax_rw_tls_apply(h, &c->tls);
	if (c->token) {
		snprintf(tok, sizeof(tok), "X-Consul-Token: %s", c->token);
		hd = curl_slist_append(hd, tok);
	}
	if (c->authorization.credentials) {
		snprintf(tok, sizeof(tok), "Authorization: %s %s",
		    c->authorization.type ? c->authorization.type : "Bearer",
		    c->authorization.credentials);
		hd = curl_slist_append(hd, tok);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	if (c->username || c->basic_auth.username) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME,
		    c->username ? c->username : c->basic_auth.username);
		curl_easy_setopt(h, CURLOPT_PASSWORD,
		    c->password                  ? c->password
		        : c->basic_auth.password ? c->basic_auth.password
		                                 : "");
	}
	rc = curl_easy_perform(h);
	curl_slist_free_all(hd);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code != 200) {
		snprintf(why, cap, "GET %s: %s", url.p,
		    rc != CURLE_OK ? curl_easy_strerror(rc)
		                   : "unexpected status");
		if (rc == CURLE_OK)
			snprintf(
			    why + strlen(why), cap - strlen(why), " %ld", code);
		ax_buf_fini(&url);
		return -1;
	}
	ax_buf_fini(&url);
	*out = cJSON_ParseWithLength(r->body.p ? r->body.p : "", r->body.len);
	if (*out == NULL) {
		snprintf(why, cap, "GET %s: the answer is not JSON", path);
		return -1;
	}
	return 0;
}

static void q_common(const ax_consulsd_t *c, ax_buf_t *q)
{
	size_t i;

	if (c->allow_stale)
		ax_buf_puts(q, "&stale=");
	if (c->datacenter) {
		ax_buf_puts(q, "&dc=");
		ax_buf_put_urlencoded(q, c->datacenter);
	}
	if (c->namespace_) {
		ax_buf_puts(q, "&ns=");
		ax_buf_put_urlencoded(q, c->namespace_);
	}
	if (c->partition) {
		ax_buf_puts(q, "&partition=");
		ax_buf_put_urlencoded(q, c->partition);
	}
	for (i = 0; c->node_meta && i < c->node_meta->n; i++) {
		char kv[1024];

		snprintf(kv, sizeof(kv), "%s:%s", c->node_meta->l[i].name,
		    c->node_meta->l[i].value);
		ax_buf_puts(q, "&node-meta=");
		ax_buf_put_urlencoded(q, kv);
	}
}

static int watched(const ax_consulsd_t *c, const char *name, const cJSON *tags)
{
	size_t i;
	int ok = c->services.n == 0;

	for (i = 0; i < c->services.n && !ok; i++)
		ok = strcmp(c->services.v[i], name) == 0;
	for (i = 0; ok && i < c->tags.n; i++) {
		const cJSON *t;
		int found = 0;

		cJSON_ArrayForEach(t, tags) if (cJSON_IsString(t) &&
		    strcmp(t->valuestring, c->tags.v[i]) == 0) found = 1;
		ok = found;
	}
	return ok;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Add the pairs of a JSON object as prefix<sanitized key> labels.  The
 * builder borrows names until it builds: they go to *names (freed by the
 * caller with strv_free after the build). */
static void add_map(ax_labels_builder_t *b, const cJSON *obj,
    const char *prefix, char ***names, size_t *n, size_t *cap)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, obj)
	{
		char *nm;

		if (!cJSON_IsString(kv) ||
		    ax_grow((void **)names, cap, *n + 2, sizeof(char *)) != 0 ||
		    asprintf(&nm, "%s%s", prefix, kv->string) < 0)
			continue;
		ax_label_name_sanitize(nm + strlen(prefix));
		(*names)[(*n)++] = nm;
		(*names)[*n] = NULL;
		ax_labels_builder_set(b, nm, kv->valuestring);
	}
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A group for one service from /v1/health/service/<name>. */
static int consul_service(prov_t *p, CURL *h, http_res_t *r, const char *dc,
    const char *name, group_t *g, char *why, size_t cap)
{
	const ax_consulsd_t *c = p->conf;
	ax_buf_t q = AX_BUF_INIT;
	cJSON *arr, *e;
	size_t i, tcap = 0;
	ax_labels_builder_t gb;

	ax_buf_puts(&q, "/v1/health/service/");
	ax_buf_put_urlencoded(&q, name);
	ax_buf_puts(&q, "?");
	for (i = 0; i < c->tags.n; i++) {
		ax_buf_puts(&q, "&tag=");
		ax_buf_put_urlencoded(&q, c->tags.v[i]);
	}
	q_common(c, &q);
	ax_buf_putc(&q, '\0');
	if (consul_get(p, h, q.p, 0, r, &arr, why, cap) != 0) {
		ax_buf_fini(&q);
		return -1;
	}
	ax_buf_fini(&q);
	memset(g, 0, sizeof(*g));
	g->source = strdup(name);
	ax_labels_builder_init(&gb, NULL);
	ax_labels_builder_set(&gb, "__meta_consul_service", name);
	ax_labels_builder_set(&gb, "__meta_consul_dc", dc);
	ax_labels_builder_build(&gb, &g->labels, NULL);
	ax_labels_builder_fini(&gb);
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *node = cJSON_GetObjectItemCaseSensitive(e, "Node");
		const cJSON *svc =
		    cJSON_GetObjectItemCaseSensitive(e, "Service");
		const cJSON *checks =
		                cJSON_GetObjectItemCaseSensitive(e, "Checks"),
		            *ck, *tg;
		const cJSON *portj =
		    cJSON_GetObjectItemCaseSensitive(svc, "Port");
		const char *sa = jstr(svc, "Address"), *health = "passing";
		ax_buf_t tags = AX_BUF_INIT;
		char addr[600], port[16];
		int prio = 0, first = 1;
		ax_labels_builder_t b;
		ax_labels_t *t = NULL;
		char **names = NULL;
		size_t nn = 0, ncap = 0;

		snprintf(port, sizeof(port), "%d",
		    cJSON_IsNumber(portj) ? portj->valueint : 0);
		hostport(addr, sizeof(addr), *sa ? sa : jstr(node, "Address"),
		    (unsigned)(cJSON_IsNumber(portj) ? portj->valueint : 0));
		/* Consul's AggregatedStatus */
		cJSON_ArrayForEach(ck, checks)
		{
			const char *st = jstr(ck, "Status");
			int pr = strcmp(st, "critical") == 0 ? 3
			    : strcmp(st, "maintenance") == 0 ? 2
			    : strcmp(st, "warning") == 0     ? 1
			                                     : 0;

			if (pr > prio) {
				prio = pr;
				health = pr == 3 ? "critical"
				    : pr == 2    ? "maintenance"
				                 : "warning";
			}
		}
		ax_buf_puts(&tags, c->tag_separator);
		cJSON_ArrayForEach(
		    tg, cJSON_GetObjectItemCaseSensitive(svc, "Tags"))
		{
			if (!cJSON_IsString(tg))
				continue;
			if (!first)
				ax_buf_puts(&tags, c->tag_separator);
			first = 0;
			ax_buf_puts(&tags, tg->valuestring);
		}
		ax_buf_puts(&tags, c->tag_separator);
		ax_buf_putc(&tags, '\0');
		ax_labels_builder_init(&b, NULL);
		ax_labels_builder_set(&b, "__address__", addr);
		ax_labels_builder_set(
		    &b, "__meta_consul_address", jstr(node, "Address"));
		ax_labels_builder_set(
		    &b, "__meta_consul_node", jstr(node, "Node"));
		ax_labels_builder_set(
		    &b, "__meta_consul_tags", tags.p ? tags.p : "");
		ax_labels_builder_set(&b, "__meta_consul_service_address", sa);
		ax_labels_builder_set(&b, "__meta_consul_service_port", port);
		ax_labels_builder_set(
		    &b, "__meta_consul_service_id", jstr(svc, "ID"));
		ax_labels_builder_set(&b, "__meta_consul_health", health);
		if (c->partition)
			ax_labels_builder_set(&b, "__meta_consul_partition",
			    jstr(svc, "Partition"));
		if (c->namespace_)
			ax_labels_builder_set(&b, "__meta_consul_namespace",
			    jstr(svc, "Namespace"));
		add_map(&b, cJSON_GetObjectItemCaseSensitive(node, "Meta"),
		    "__meta_consul_metadata_", &names, &nn, &ncap);
		add_map(&b, cJSON_GetObjectItemCaseSensitive(svc, "Meta"),
		    "__meta_consul_service_metadata_", &names, &nn, &ncap);
		add_map(&b,
		    cJSON_GetObjectItemCaseSensitive(node, "TaggedAddresses"),
		    "__meta_consul_tagged_address_", &names, &nn, &ncap);
		ax_labels_builder_build(&b, &t, NULL);
		ax_labels_builder_fini(&b);
		strv_free(names, nn);
		ax_buf_fini(&tags);
		if (t == NULL ||
		    ax_grow((void **)&g->t, &tcap, g->n + 1, sizeof(*g->t)) !=
		        0) {
			ax_labels_free(t);
			continue;
		}
		g->t[g->n++] = t;
	}
	cJSON_Delete(arr);
	return 0;
}

static void *consul_main(void *arg)
{
	prov_t *p = arg;
	const ax_consulsd_t *c = p->conf;
	CURL *h = curl_easy_init();
	http_res_t r;
	char index[32] = "", dc[256] = "", why[1024];
	int ok_before = 1;

	memset(&r, 0, sizeof(r));
	r.p = p;
	if (h == NULL)
		return NULL;
	do {
		cJSON *svcs = NULL, *s;
		ax_buf_t q = AX_BUF_INIT;
		group_t *g = NULL;
		size_t ng = 0, cap = 0;
		int failed = 0;
		int64_t started = ax_mono_ms();

		if (dc[0] == '\0') {
			cJSON *self;

			if (c->datacenter) {
				snprintf(dc, sizeof(dc), "%s", c->datacenter);
			} else if (consul_get(p, h, "/v1/agent/self", 0, &r,
			               &self, why, sizeof(why)) == 0) {
				snprintf(dc, sizeof(dc), "%s",
				    jstr(cJSON_GetObjectItemCaseSensitive(
				             self, "Config"),
				        "Datacenter"));
				cJSON_Delete(self);
			}
			if (dc[0] == '\0') {
				failed = 1;
				goto round_end;
			}
		}
		ax_buf_puts(&q, "/v1/catalog/services?");
		if (index[0]) {
			ax_buf_printf(&q, "index=%s&wait=%lldms", index,
			    (long long)c->refresh_ms);
		}
		q_common(c, &q);
		ax_buf_putc(&q, '\0');
		if (consul_get(p, h, q.p, index[0] ? c->refresh_ms : 0, &r,
		        &svcs, why, sizeof(why)) != 0) {
			ax_buf_fini(&q);
			failed = 1;
			goto round_end;
		}
		ax_buf_fini(&q);
		snprintf(index, sizeof(index), "%s", r.index);
		cJSON_ArrayForEach(s, svcs)
		{
			if (!watched(c, s->string, s))
				continue;
			if (ax_grow((void **)&g, &cap, ng + 1, sizeof(*g)) !=
			        0 ||
			    consul_service(p, h, &r, dc, s->string, &g[ng], why,
			        sizeof(why)) != 0) {
				failed = 1;
				break;
			}
			ng++;
		}
		cJSON_Delete(svcs);
	round_end:
		if (failed) {
			disc_groups_free(g, ng);
			ax_counter_inc(p->u->sd->m_consul_fail);
			if (ok_before && !stopping(p))
				ax_log_error(
				    "consul_sd: refresh failed; keeping "
				    "the last targets",
				    "set", p->u->set, "err", why);
			ok_before = 0;
			index[0] = '\0';
			if (nap(p,
			        c->refresh_ms < 15000 ? c->refresh_ms : 15000))
				break;
			continue;
		}
		ok_before = 1;
		publish(p, g, ng);
		/* rounds at least a refresh interval apart when the server
		 * answers at once */
		{
			int64_t spent = ax_mono_ms() - started;

			if (spent < 100 && nap(p, c->refresh_ms - spent))
				break;
		}
	} while (!stopping(p));
	ax_buf_fini(&r.body);
	curl_easy_cleanup(h);
	return NULL;
}

/* ---- kubernetes (k8s.c) ---- */

static void host_publish(void *h, disc_group_t *g, size_t n)
{
	publish(h, g, n);
}

static int host_nap(void *h, int64_t ms)
{
	return nap(h, ms);
}

static int host_stopping(void *h)
{
	return stopping(h);
}

static void *k8s_main(void *arg)
{
	prov_t *p = arg;
	disc_prov_host_t host;

	host.h = p;
	host.set = p->u->set;
	host.publish = host_publish;
	host.nap = host_nap;
	host.stopping = host_stopping;
	disc_k8s_run(p->conf, &host);
	return NULL;
}

/* ---- units ---- */

static void unit_stop_free(unit_t *u)
{
	disc_sd_t *sd = u->sd;
	size_t i;

	pthread_mutex_lock(&sd->mu);
	u->stop = 1;
	pthread_cond_broadcast(&sd->cv);
	pthread_mutex_unlock(&sd->mu);
	for (i = 0; i < u->n; i++)
		if (u->p[i].has_thread)
			pthread_join(u->p[i].th, NULL);
	for (i = 0; i < u->n; i++)
		disc_groups_free(u->p[i].g, u->p[i].n);
	free(u->p);
	if (u->yaml) {
		switch (u->kind) {
		case K_DNS: ax_sd_free_dns(&u->owned); break;
		case K_CONSUL: ax_sd_free_consul(&u->owned); break;
		case K_K8S: ax_sd_free_k8s(&u->owned); break;
		case K_STATIC:
			ax_tgroups_free(u->owned.items, u->owned.n);
			break;
		default: {
			size_t k;

			for (k = 0; k < u->owned.n; k++)
				ax_cfg_free_fields(ax_filesd_fields,
				    (ax_filesd_t *)u->owned.items + k);
			free(u->owned.items);
		}
		}
	}
	free(u->set);
	free(u->yaml);
	free(u->owner);
	free(u);
}

static int kind_of(const char *k)
{
	int i;

	for (i = 0; i < N_KINDS; i++)
		if (strcmp(kind_names[i], k) == 0)
			return i;
	return -1;
}

/* Start a unit of kind over list l (n elements). */
static unit_t *unit_start(disc_sd_t *sd, const char *set, int kind,
    const ax_cfg_list_t *l, ax_err_t *err)
{
	static const size_t esz[] = {sizeof(ax_tgroup_t), sizeof(ax_filesd_t),
	    sizeof(ax_dnssd_t), sizeof(ax_consulsd_t), sizeof(ax_k8ssd_t)};
	unit_t *u = calloc(1, sizeof(*u));
	size_t i;

	if (u == NULL || (u->set = strdup(set)) == NULL ||
	    (l->n && (u->p = calloc(l->n, sizeof(*u->p))) == NULL)) {
		if (u)
			free(u->set);
		free(u);
		ax_err_set(err, AX_ENOMEM, "out of memory");
		return NULL;
	}
	u->sd = sd;
	u->kind = kind;
	u->n = l->n;
	for (i = 0; i < l->n; i++) {
		prov_t *p = &u->p[i];
		void *(*fn)(void *) = kind == K_FILE ? file_main
		    : kind == K_DNS                  ? dns_main
		    : kind == K_CONSUL               ? consul_main
		    : kind == K_K8S                  ? k8s_main
		                                     : NULL;

		p->u = u;
		p->kind = kind;
		p->idx = i;
		p->conf = (const char *)l->items + i * esz[kind];
		if (fn == NULL) {
			run_static(p);
			continue;
		}
		if (pthread_create(&p->th, NULL, fn, p) == 0)
			p->has_thread = 1;
		else
			ax_log_error(
			    "cannot start a discovery thread", "set", set);
	}
	return u;
}

int disc_sd_new(const char *const *dns_servers, size_t n_servers,
    void (*on_change)(void *), void *arg, ax_metrics_t *m, disc_sd_t **out,
    ax_err_t *err)
{
	disc_sd_t *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < n_servers; i++) {
		char host[256];
		int port = 53;

		if (s->n_ns == MAX_NS) {
			free(s);
			return ax_err_set(err, AX_ECONFIG,
			    "dns_servers: at most %d servers", MAX_NS);
		}
		if (ax_http_split_hostport(
		        dns_servers[i], host, sizeof(host), &port) != 0 ||
		    inet_pton(AF_INET, host, &s->ns[s->n_ns].sin_addr) != 1) {
			free(s);
			return ax_err_set(err, AX_ECONFIG,
			    "dns_servers: want IPv4 host:port, got \"%s\"",
			    dns_servers[i]);
		}
		s->ns[s->n_ns].sin_family = AF_INET;
		s->ns[s->n_ns].sin_port = htons((uint16_t)port);
		s->n_ns++;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->on_change = on_change;
	s->arg = arg;
	s->m_dns = ax_metrics_counter(
	    m, "axon_discoverer_sd_dns_lookups_total", "DNS-SD lookups.");
	s->m_dns_fail = ax_metrics_counter(m,
	    "axon_discoverer_sd_dns_lookup_failures_total",
	    "DNS-SD lookups that failed (the last targets stay).");
	s->m_consul_fail = ax_metrics_counter(m,
	    "axon_discoverer_sd_consul_failures_total",
	    "consul_sd refresh rounds that failed (the last targets stay).");
	s->m_file_fail = ax_metrics_counter(m,
	    "axon_discoverer_sd_file_read_errors_total",
	    "file_sd files that could not be read (their last targets stay).");
	*out = s;
	return 0;
}

void disc_sd_clear(disc_sd_t *s)
{
	unit_t *u;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		u = s->n ? s->u[--s->n] : NULL;
		pthread_mutex_unlock(&s->mu);
		if (u == NULL)
			break;
		unit_stop_free(u);
	}
}

void disc_sd_free(disc_sd_t *s)
{
	if (s == NULL)
		return;
	disc_sd_clear(s);
	free(s->u);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int add_unit(disc_sd_t *s, unit_t *u)
{
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = ax_grow((void **)&s->u, &s->cap, s->n + 1, sizeof(*s->u));
	if (rv == 0)
		s->u[s->n++] = u;
	pthread_mutex_unlock(&s->mu);
	return rv;
}

/* Take the units matching (set, kind < 0: any) out of the table. */
static size_t take_units(
    disc_sd_t *s, const char *set, int kind, unit_t **out, size_t max)
{
	size_t i = 0, n = 0;

	pthread_mutex_lock(&s->mu);
	while (i < s->n) {
		unit_t *u = s->u[i];

		if (strcmp(u->set, set) == 0 && (kind < 0 || u->kind == kind) &&
		    n < max) {
			out[n++] = u;
			memmove(&s->u[i], &s->u[i + 1],
			    (s->n - i - 1) * sizeof(*s->u));
			s->n--;
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

int disc_sd_set(disc_sd_t *s, const char *name, const disc_sd_cfg_t *cfg,
    const char *kind, const char *yaml, ax_err_t *err)
{
	unit_t *old[8], *u;
	size_t n, i;
	int k, rv;

	if (yaml) {
		ax_cfg_list_t l = {NULL, 0};

		if ((k = kind_of(kind)) < 0)
			return ax_err_set(err, AX_EINVAL,
			    "unknown service discovery kind \"%s\"", kind);
		pthread_mutex_lock(&s->mu);
		for (i = 0; i < s->n; i++)
			if (strcmp(s->u[i]->set, name) == 0 &&
			    s->u[i]->kind == k && s->u[i]->yaml &&
			    strcmp(s->u[i]->yaml, yaml) == 0) {
				pthread_mutex_unlock(&s->mu);
				return 0; /* already running */
			}
		pthread_mutex_unlock(&s->mu);
		switch (k) {
		case K_DNS:
			rv = ax_sd_decode_text(
			    name, yaml, ax_sd_decode_dns, &l, err);
			break;
		case K_CONSUL:
			rv = ax_sd_decode_text(
			    name, yaml, ax_sd_decode_consul, &l, err);
			break;
		case K_K8S:
			rv = ax_sd_decode_text(name, yaml, ax_sd_decode_k8s, &l, err);
			break;
		default:
			rv = ax_err_set(err, AX_EINVAL,
			    "%s cannot be delegated (the scraper runs it)",
			    kind);
		}
		if (rv != 0)
			return rv;
		if ((u = unit_start(s, name, k, &l, err)) == NULL) {
			if (k == K_DNS)
				ax_sd_free_dns(&l);
			else if (k == K_CONSUL)
				ax_sd_free_consul(&l);
			else
				ax_sd_free_k8s(&l);
			return AX_ENOMEM;
		}
		u->owned = l;
		if ((u->yaml = strdup(yaml)) == NULL) {
			unit_stop_free(u);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		n = take_units(s, name, k, old, 8);
		if (add_unit(s, u) != 0) {
			unit_stop_free(u);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		for (i = 0; i < n; i++)
			unit_stop_free(old[i]);
		if (s->on_change)
			s->on_change(s->arg);
		return 0;
	}
	n = take_units(s, name, -1, old, 8);
	for (i = 0; i < n; i++)
		unit_stop_free(old[i]);
	for (k = 0; k < N_KINDS; k++) {
		const ax_cfg_list_t *l = k == K_STATIC ? &cfg->static_configs
		    : k == K_FILE                      ? &cfg->file_sd
		    : k == K_DNS                       ? &cfg->dns_sd
		    : k == K_CONSUL                    ? &cfg->consul_sd
		                                       : &cfg->k8s_sd;

		if (l->n == 0)
			continue;
		if ((u = unit_start(s, name, k, l, err)) == NULL)
			return AX_ENOMEM;
		if (add_unit(s, u) != 0) {
			unit_stop_free(u);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	if (s->on_change)
		s->on_change(s->arg);
	return 0;
}

void disc_sd_remove(disc_sd_t *s, const char *name)
{
	unit_t *old[8];
	size_t n, i;

	do {
		n = take_units(s, name, -1, old, 8);
		for (i = 0; i < n; i++)
			unit_stop_free(old[i]);
	} while (n == 8);
	if (s->on_change)
		s->on_change(s->arg);
}

void disc_sd_remove_kind(disc_sd_t *s, const char *name, const char *kind)
{
	unit_t *old[8];
	size_t n, i;
	int k = kind_of(kind);

	if (k < 0)
		return;
	n = take_units(s, name, k, old, 8);
	for (i = 0; i < n; i++)
		unit_stop_free(old[i]);
	if (n && s->on_change)
		s->on_change(s->arg);
}

int disc_sd_has(disc_sd_t *s, const char *name)
{
	size_t i;
	int has = 0;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n && !has; i++)
		has = strcmp(s->u[i]->set, name) == 0;
	pthread_mutex_unlock(&s->mu);
	return has;
}

void disc_sd_visit(disc_sd_t *s, disc_sd_visit_fn fn, void *arg)
{
	size_t i, k, g;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->u[i]->n; k++) {
			const prov_t *p = &s->u[i]->p[k];

			for (g = 0; g < p->n; g++)
				fn(arg, s->u[i]->set, p->g[g].source,
				    p->g[g].labels, p->g[g].t, p->g[g].n);
		}
	pthread_mutex_unlock(&s->mu);
}
