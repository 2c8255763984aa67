/*
 * k8s: the kubernetes_sd_configs provider (see k8s.h).
 */
#include "discoverer/k8s.h"

#include <cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_buf.h"
#include "ax_log.h"
#include "ax_rw.h"
#include "ax_units.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define WATCH_TIMEOUT_S 300

enum { R_PODS, R_ENDPOINTS, R_SERVICES, N_RES };
static const char *const res_names[] = {"pods", "endpoints", "services"};
static const char *const sel_roles[] = {"pod", "endpoints", "service"};

typedef struct obj {
	char *key; /* namespace/name */
	cJSON *j;
} obj_t;

typedef struct store {
	obj_t *v;
	size_t n, cap;
} store_t;

typedef struct k8s k8s_t;

typedef struct watcher {
	k8s_t *k;
	int res;
	const char *ns; /* NULL: all namespaces */
	pthread_t th;
	int started;
} watcher_t;

struct k8s {
	const ax_k8ssd_t *conf;
	const disc_prov_host_t *host;
	char base[1024];
	char token_file[1024], ca_file[1024];
	pthread_mutex_t mu; /* the stores */
	store_t st[N_RES];
};

int disc_k8s_in_cluster(char *url, size_t cap, char *token, char *ca,
    char *ns_file, size_t pcap)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST");
	const char *p = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("AXON_KUBERNETES_SERVICEACCOUNT_DIR");

	if (dir == NULL || *dir == '\0')
		dir = SA_DIR;
	snprintf(token, pcap, "%s/token", dir);
	snprintf(ca, pcap, "%s/ca.crt", dir);
	snprintf(ns_file, pcap, "%s/namespace", dir);
	if (h == NULL || *h == '\0' || p == NULL || *p == '\0')
		return -1;
	snprintf(url, cap, strchr(h, ':') ? "https://[%s]:%s" : "https://%s:%s",
	    h, p);
	return 0;
}

/* ---- stores ---- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void obj_key(const cJSON *o, char *out, size_t cap)
{
	const cJSON *m = jget(o, "metadata");

	snprintf(out, cap, "%s/%s", jstr(m, "namespace"), jstr(m, "name"));
}

static long store_find(const store_t *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

static void store_del_at(store_t *s, size_t i)
{
	free(s->v[i].key);
	cJSON_Delete(s->v[i].j);
	s->v[i] = s->v[--s->n];
}

/* Put (takes o) or delete (del) an object. */
static void store_apply(store_t *s, cJSON *o, int del)
{
	char key[600];
	long at;

	obj_key(o, key, sizeof(key));
	at = store_find(s, key);
	if (del) {
		if (at >= 0)
			store_del_at(s, (size_t)at);
		cJSON_Delete(o);
		return;
	}
	if (at >= 0) {
		cJSON_Delete(s->v[at].j);
		s->v[at].j = o;
		return;
	}
	if (ax_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)) != 0) {
		cJSON_Delete(o);
		return;
	}
	if ((s->v[s->n].key = strdup(key)) == NULL) {
		cJSON_Delete(o);
		return;
	}
	s->v[s->n++].j = o;
}

/* Drop the objects of namespace ns (NULL: all). */
static void store_clear(store_t *s, const char *ns)
{
	size_t i = 0;

	while (i < s->n) {
		const char *k = s->v[i].key;
		size_t l = ns ? strlen(ns) : 0;

		if (ns == NULL || (strncmp(k, ns, l) == 0 && k[l] == '/'))
			store_del_at(s, i);
		else
			i++;
	}
}

static const cJSON *store_get(const store_t *s, const char *ns,
    const char *name)
{
	char key[600];
	long at;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	at = store_find(s, key);
	return at >= 0 ? s->v[at].j : NULL;
}

/* ---- labels ---- */

/* Pairs whose strings this list owns, for the label builder. */
typedef struct kv {
	char **p;
	size_t n, cap;
} kv_t;

static void kv_add(kv_t *kv, const char *name, const char *value)
{
	if (ax_grow((void **)&kv->p, &kv->cap, kv->n + 2, sizeof(char *)) != 0)
		return;
	if ((kv->p[kv->n] = strdup(name)) == NULL)
		return;
	if ((kv->p[kv->n + 1] = strdup(value ? value : "")) == NULL) {
		free(kv->p[kv->n]);
		return;
	}
	kv->n += 2;
}

static void kv_add_sanitized(
    kv_t *kv, const char *prefix, const char *key, const char *value)
{
	char nm[600];

	snprintf(nm, sizeof(nm), "%s%s", prefix, key);
	ax_label_name_sanitize(nm + strlen(prefix));
	kv_add(kv, nm, value);
}

/* Each pair of a map as <p><what>_<k> = v and <p><what>present_<k> =
 * "true". */
static void kv_map(kv_t *kv, const cJSON *map, const char *p, const char *what)
{
	const cJSON *e;
	char a[128], b[128];

	snprintf(a, sizeof(a), "%s%s_", p, what);
	snprintf(b, sizeof(b), "%s%spresent_", p, what);
	cJSON_ArrayForEach(e, map) if (cJSON_IsString(e))
	{
		kv_add_sanitized(kv, a, e->string, e->valuestring);
		kv_add_sanitized(kv, b, e->string, "true");
	}
}

/* Labels and annotations of an object: <p>label_<k>, <p>labelpresent_<k>,
 * <p>annotation_<k>, <p>annotationpresent_<k> (annotations when ann). */
static void kv_meta(kv_t *kv, const cJSON *o, const char *p, int ann)
{
	const cJSON *m = jget(o, "metadata");

	kv_map(kv, jget(m, "labels"), p, "label");
	if (ann)
		kv_map(kv, jget(m, "annotations"), p, "annotation");
}

/* A label set from base (may be NULL) and the pairs; frees the pairs. */
static ax_labels_t *kv_build(const ax_labels_t *base, kv_t *kv)
{
	ax_labels_builder_t b;
	ax_labels_t *out = NULL;
	size_t i;

	ax_labels_builder_init(&b, base);
	for (i = 0; i + 1 < kv->n; i += 2)
		ax_labels_builder_set(&b, kv->p[i], kv->p[i + 1]);
	ax_labels_builder_build(&b, &out, NULL);
	ax_labels_builder_fini(&b);
	for (i = 0; i < kv->n; i++)
		free(kv->p[i]);
	free(kv->p);
	memset(kv, 0, sizeof(*kv));
	return out;
}

static void pod_labels(kv_t *kv, const cJSON *pod)
{
	const cJSON *m = jget(pod, "metadata"), *st = jget(pod, "status");
	const cJSON *spec = jget(pod, "spec"), *c, *ref;
	const char *ready = "unknown";

	kv_add(kv, "__meta_kubernetes_pod_name", jstr(m, "name"));
	kv_add(kv, "__meta_kubernetes_pod_ip", jstr(st, "podIP"));
	cJSON_ArrayForEach(c, jget(st, "conditions"))
	{
		if (strcmp(jstr(c, "type"), "Ready") == 0) {
			const char *v = jstr(c, "status");

			ready = strcmp(v, "True") == 0    ? "true"
			    : strcmp(v, "False") == 0 ? "false"
			                              : "unknown";
		}
	}
	kv_add(kv, "__meta_kubernetes_pod_ready", ready);
	kv_add(kv, "__meta_kubernetes_pod_phase", jstr(st, "phase"));
	kv_add(kv, "__meta_kubernetes_pod_node_name", jstr(spec, "nodeName"));
	kv_add(kv, "__meta_kubernetes_pod_host_ip", jstr(st, "hostIP"));
	kv_add(kv, "__meta_kubernetes_pod_uid", jstr(m, "uid"));
	cJSON_ArrayForEach(ref, jget(m, "ownerReferences"))
	{
		if (!cJSON_IsTrue(jget(ref, "controller")))
			continue;
		if (*jstr(ref, "kind"))
			kv_add(kv, "__meta_kubernetes_pod_controller_kind",
			    jstr(ref, "kind"));
		if (*jstr(ref, "name"))
			kv_add(kv, "__meta_kubernetes_pod_controller_name",
			    jstr(ref, "name"));
		break;
	}
	kv_meta(kv, pod, "__meta_kubernetes_pod_", 1);
}

static int add_target(disc_group_t *g, size_t *cap, ax_labels_t *t)
{
	if (t == NULL)
		return -1;
	if (ax_grow((void **)&g->t, cap, g->n + 1, sizeof(*g->t)) != 0) {
		ax_labels_free(t);
		return -1;
	}
	g->t[g->n++] = t;
	return 0;
}

static void hostport(char *out, size_t cap, const char *ip, long port)
{
	snprintf(out, cap, strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip, port);
}

static long jint(const cJSON *o, const char *k)
{
	const cJSON *v = jget(o, k);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* A container's labels: name, image, init (unless init is NULL) and, for
 * a port (may be NULL), its name, number and protocol (proto, or the
 * port's own, TCP by default). */
static void kv_container(kv_t *kv, const cJSON *c, const char *init,
    const cJSON *port, const char *proto)
{
	char num[16];

	kv_add(kv, "__meta_kubernetes_pod_container_name", jstr(c, "name"));
	kv_add(kv, "__meta_kubernetes_pod_container_image", jstr(c, "image"));
	if (init)
		kv_add(kv, "__meta_kubernetes_pod_container_init", init);
	if (port == NULL)
		return;
	if (proto == NULL || *proto == '\0')
		proto = *jstr(port, "protocol") ? jstr(port, "protocol") : "TCP";
	snprintf(num, sizeof(num), "%ld", jint(port, "containerPort"));
	kv_add(kv, "__meta_kubernetes_pod_container_port_name", jstr(port, "name"));
	kv_add(kv, "__meta_kubernetes_pod_container_port_number", num);
	kv_add(kv, "__meta_kubernetes_pod_container_port_protocol", proto);
}

/* The container targets of a pod (pod role). */
static void build_pod(const cJSON *pod, disc_group_t *g)
{
	const cJSON *st = jget(pod, "status"), *spec = jget(pod, "spec");
	const char *ip = jstr(st, "podIP");
	const char *lists[2] = {"containers", "initContainers"};
	size_t cap = 0;
	kv_t kv = {NULL, 0, 0};
	int l;

	if (*ip == '\0')
		return; /* starting or evicted: an empty group */
	kv_add(&kv, "__meta_kubernetes_namespace",
	    jstr(jget(pod, "metadata"), "namespace"));
	pod_labels(&kv, pod);
	g->labels = kv_build(NULL, &kv);
	for (l = 0; l < 2; l++) {
		const cJSON *c;
		const char *init = l ? "true" : "false";

		cJSON_ArrayForEach(c, jget(spec, lists[l]))
		{
			const cJSON *ports = jget(c, "ports"), *p;

			if (cJSON_GetArraySize(ports) == 0) {
				kv_add(&kv, "__address__", ip);
				kv_container(&kv, c, init, NULL, NULL);
				add_target(g, &cap, kv_build(NULL, &kv));
				continue;
			}
			cJSON_ArrayForEach(p, ports)
			{
				char addr[300];

				hostport(addr, sizeof(addr), ip,
				    jint(p, "containerPort"));
				kv_add(&kv, "__address__", addr);
				kv_container(&kv, c, init, p, NULL);
				add_target(g, &cap, kv_build(NULL, &kv));
			}
		}
	}
}

typedef struct seen {
	const cJSON *pod;
	long *ports;
	size_t n, cap;
} seen_t;

/* One endpoints object (endpoints role; stores locked). */
static void build_endpoints(k8s_t *k, const cJSON *eps, disc_group_t *g)
{
	const cJSON *m = jget(eps, "metadata"), *ss, *svc;
	const char *ns = jstr(m, "namespace"), *name = jstr(m, "name");
	seen_t *seen = NULL;
	size_t n_seen = 0, cap_seen = 0, cap = 0, i;
	kv_t kv = {NULL, 0, 0};

	kv_add(&kv, "__meta_kubernetes_namespace", ns);
	kv_add(&kv, "__meta_kubernetes_endpoints_name", name);
	if ((svc = store_get(&k->st[R_SERVICES], ns, name)) != NULL) {
		kv_add(&kv, "__meta_kubernetes_service_name", name);
		kv_meta(&kv, svc, "__meta_kubernetes_service_", 1);
	}
	kv_meta(&kv, eps, "__meta_kubernetes_endpoints_", 0);
	g->labels = kv_build(NULL, &kv);
	cJSON_ArrayForEach(ss, jget(eps, "subsets"))
	{
		const cJSON *port;

		cJSON_ArrayForEach(port, jget(ss, "ports"))
		{
			int pass;

			for (pass = 0; pass < 2; pass++) {
				const cJSON *a;

				cJSON_ArrayForEach(a,
				    jget(ss, pass ? "notReadyAddresses" : "addresses"))
				{
					const cJSON *ref = jget(a, "targetRef");
					const cJSON *pod = NULL, *c;
					char addr[300];
					long pn = jint(port, "port");

					hostport(addr, sizeof(addr), jstr(a, "ip"), pn);
					kv_add(&kv, "__address__", addr);
					kv_add(&kv,
					    "__meta_kubernetes_endpoint_port_name",
					    jstr(port, "name"));
					kv_add(&kv,
					    "__meta_kubernetes_endpoint_port_protocol",
					    *jstr(port, "protocol")
					        ? jstr(port, "protocol")
					        : "TCP");
					kv_add(&kv, "__meta_kubernetes_endpoint_ready",
					    pass ? "false" : "true");
					if (ref) {
						kv_add(&kv,
						    "__meta_kubernetes_endpoint_"
						    "address_target_kind",
						    jstr(ref, "kind"));
						kv_add(&kv,
						    "__meta_kubernetes_endpoint_"
						    "address_target_name",
						    jstr(ref, "name"));
						if (strcmp(jstr(ref, "kind"), "Pod") == 0)
							pod = store_get(&k->st[R_PODS],
							    *jstr(ref, "namespace")
							        ? jstr(ref, "namespace")
							        : ns,
							    jstr(ref, "name"));
					}
					if (*jstr(a, "nodeName"))
						kv_add(&kv,
						    "__meta_kubernetes_endpoint_"
						    "node_name",
						    jstr(a, "nodeName"));
					if (*jstr(a, "hostname"))
						kv_add(&kv,
						    "__meta_kubernetes_endpoint_"
						    "hostname",
						    jstr(a, "hostname"));
					if (pod == NULL) {
						add_target(g, &cap, kv_build(NULL, &kv));
						continue;
					}
					pod_labels(&kv, pod);
					cJSON_ArrayForEach(c,
					    jget(jget(pod, "spec"), "containers"))
					{
						const cJSON *cp;
						int hit = 0;

						cJSON_ArrayForEach(cp, jget(c, "ports"))
						{
							if (jint(cp, "containerPort") != pn)
								continue;
							kv_container(&kv, c, NULL, cp,
							    *jstr(port, "protocol")
							        ? jstr(port, "protocol")
							        : "TCP");
							hit = 1;
							break;
						}
						if (hit)
							break;
					}
					add_target(g, &cap, kv_build(NULL, &kv));
					for (i = 0; i < n_seen && seen[i].pod != pod; i++)
						;
					if (i == n_seen) {
						if (ax_grow((void **)&seen, &cap_seen,
						        n_seen + 1, sizeof(*seen)) != 0)
							continue;
						memset(&seen[n_seen], 0, sizeof(*seen));
						seen[n_seen++].pod = pod;
					}
					if (ax_grow((void **)&seen[i].ports,
					        &seen[i].cap, seen[i].n + 1,
					        sizeof(long)) == 0)
						seen[i].ports[seen[i].n++] = pn;
				}
			}
		}
	}
	/* container ports of those pods that no endpoint port covers */
	for (i = 0; i < n_seen; i++) {
		const cJSON *c;
		const char *ip = jstr(jget(seen[i].pod, "status"), "podIP");

		cJSON_ArrayForEach(c, jget(jget(seen[i].pod, "spec"), "containers"))
		{
			const cJSON *cp;

			cJSON_ArrayForEach(cp, jget(c, "ports"))
			{
				long pn = jint(cp, "containerPort");
				char addr[300];
				size_t q;
				int covered = 0;

				for (q = 0; q < seen[i].n && !covered; q++)
					covered = seen[i].ports[q] == pn;
				if (covered)
					continue;
				hostport(addr, sizeof(addr), ip, pn);
				kv_add(&kv, "__address__", addr);
				kv_container(&kv, c, NULL, cp, NULL);
				pod_labels(&kv, seen[i].pod);
				add_target(g, &cap, kv_build(NULL, &kv));
			}
		}
		free(seen[i].ports);
	}
	free(seen);
}

/* Rebuild every group from the stores and publish. */
static void rebuild(k8s_t *k)
{
	int pod_role = strcmp(k->conf->role, "pod") == 0;
	const store_t *s;
	disc_group_t *g;
	size_t i, n;

	pthread_mutex_lock(&k->mu);
	s = &k->st[pod_role ? R_PODS : R_ENDPOINTS];
	n = s->n;
	g = calloc(n + 1, sizeof(*g));
	for (i = 0; g && i < n; i++) {
		const cJSON *m = jget(s->v[i].j, "metadata");
		char src[700];

		snprintf(src, sizeof(src), "%s/%s/%s",
		    pod_role ? "pod" : "endpoints", jstr(m, "namespace"),
		    jstr(m, "name"));
		g[i].source = strdup(src);
		if (pod_role)
			build_pod(s->v[i].j, &g[i]);
		else
			build_endpoints(k, s->v[i].j, &g[i]);
	}
	pthread_mutex_unlock(&k->mu);
	if (g)
		k->host->publish(k->host->h, g, n);
}

/* ---- the API ---- */

typedef struct req {
	watcher_t *w;
	ax_buf_t body; /* list answer, or the unparsed tail of a watch */
	int watch;
	char rv[64];
	int relist; /* a 410 or a bad event: list again */
	int changed;
	long code;
} req_t;

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	req_t *r = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return r->w->k->host->stopping(r->w->k->host->h);
}

/* Apply complete watch events in r->body. */
static void eat_events(req_t *r)
{
	k8s_t *k = r->w->k;
	size_t start = 0, i;

	for (i = 0; i < r->body.len; i++) {
		cJSON *ev, *obj;
		const char *type;

		if (r->body.p[i] != '\n')
			continue;
		ev = cJSON_ParseWithLength(r->body.p + start, i - start);
		start = i + 1;
		if (ev == NULL)
			continue;
		type = jstr(ev, "type");
		obj = cJSON_DetachItemFromObjectCaseSensitive(ev, "object");
		if (strcmp(type, "ERROR") == 0) {
			ax_log_warn("kubernetes watch error; listing again",
			    "resource", res_names[r->w->res], "code",
			    obj ? jstr(obj, "reason") : "", "message",
			    obj ? jstr(obj, "message") : "");
			r->relist = 1;
			cJSON_Delete(obj);
			cJSON_Delete(ev);
			break;
		}
		if (obj) {
			const char *rv =
			    jstr(jget(obj, "metadata"), "resourceVersion");

			if (*rv)
				snprintf(r->rv, sizeof(r->rv), "%s", rv);
		}
		if (obj && (strcmp(type, "ADDED") == 0 ||
		               strcmp(type, "MODIFIED") == 0 ||
		               strcmp(type, "DELETED") == 0)) {
			pthread_mutex_lock(&k->mu);
			store_apply(&k->st[r->w->res], obj,
			    strcmp(type, "DELETED") == 0);
			pthread_mutex_unlock(&k->mu);
			obj = NULL;
			r->changed = 1;
		}
		cJSON_Delete(obj);
		cJSON_Delete(ev);
	}
	if (start > 0) {
		memmove(r->body.p, r->body.p + start, r->body.len - start);
		r->body.len -= start;
	}
}

static size_t on_data(char *d, size_t sz, size_t n, void *arg)
{
	req_t *r = arg;
	size_t len = sz * n;

	ax_buf_append(&r->body, d, len);
	if (!ax_buf_ok(&r->body) || r->body.len > (256u << 20))
		return 0;
	if (r->watch) {
		eat_events(r);
		if (r->changed) {
			r->changed = 0;
			rebuild(r->w->k);
		}
		if (r->relist)
			return 0; /* stop this watch */
	}
	return len;
}

static void add_selectors(const k8s_t *k, int res, ax_buf_t *q)
{
	const ax_k8s_selector_t *s = k->conf->selectors.items;
	size_t i;

	for (i = 0; i < k->conf->selectors.n; i++) {
		if (strcmp(s[i].role, sel_roles[res]) != 0)
			continue;
		if (s[i].label) {
			ax_buf_puts(q, "&labelSelector=");
			ax_buf_put_urlencoded(q, s[i].label);
		}
		if (s[i].field) {
			ax_buf_puts(q, "&fieldSelector=");
			ax_buf_put_urlencoded(q, s[i].field);
		}
	}
}

/* One request; 0 when it ended well (list: HTTP 200 and r->body). */
static int do_req(watcher_t *w, CURL *h, req_t *r, char *why, size_t cap)
{
	k8s_t *k = w->k;
	const ax_k8ssd_t *c = k->conf;
	ax_buf_t url = AX_BUF_INIT;
	struct curl_slist *hd = NULL;
	char auth[4200] = "";
	CURLcode rc;

	ax_buf_puts(&url, k->base);
	if (w->ns) {
		ax_buf_puts(&url, "/api/v1/namespaces/");
		ax_buf_put_urlencoded(&url, w->ns);
		ax_buf_printf(&url, "/%s?", res_names[w->res]);
	} else
		ax_buf_printf(&url, "/api/v1/%s?", res_names[w->res]);
	add_selectors(k, w->res, &url);
	if (r->watch)
		ax_buf_printf(&url,
		    "&watch=true&allowWatchBookmarks=true&timeoutSeconds=%d"
		    "&resourceVersion=%s",
		    WATCH_TIMEOUT_S, r->rv);
	ax_buf_putc(&url, '\0');
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.p);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	if (!r->watch)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, c->follow_redirects ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (c->proxy_url)
		curl_easy_setopt(h, CURLOPT_PROXY, c->proxy_url);
	if (!c->enable_http2)
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	ax_rw_tls_apply(h, &c->tls);
	if (k->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, k->ca_file);
	{
		const char *tokfile = c->bearer_token_file ? c->bearer_token_file
		    : c->authorization.credentials_file
		    ? c->authorization.credentials_file
		    : k->token_file[0] ? k->token_file
		                       : NULL;
		char *tok = NULL;
		ax_err_t e;

		if (tokfile && (tok = ax_rw_read_secret_file(tokfile, &e)) == NULL) {
			snprintf(why, cap, "%s", e.msg);
			ax_buf_fini(&url);
			return -1;
		}
		if (tok || c->bearer_token || c->authorization.credentials)
			snprintf(auth, sizeof(auth), "Authorization: %s %s",
			    c->authorization.type ? c->authorization.type
			                          : "Bearer",
			    tok                        ? tok
			        : c->bearer_token      ? c->bearer_token
			                               : c->authorization.credentials);
		free(tok);
	}
	if (auth[0])
		hd = curl_slist_append(hd, auth);
	hd = curl_slist_append(hd, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	if (c->basic_auth.username) {
		ax_err_t pe;
		char *pw = c->basic_auth.password_file
		    ? ax_rw_read_secret_file(c->basic_auth.password_file, &pe)
		    : NULL;

		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->basic_auth.username);
		curl_easy_setopt(h, CURLOPT_PASSWORD,
		    pw                       ? pw
		        : c->basic_auth.password ? c->basic_auth.password
		                                 : "");
		free(pw);
	}
	rc = curl_easy_perform(h);
	curl_slist_free_all(hd);
	r->code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
	if (r->relist) {
		ax_buf_fini(&url);
		return 0;
	}
	if (rc != CURLE_OK || r->code != 200) {
		snprintf(why, cap, "GET %s: %s", url.p,
		    rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP status");
		if (rc == CURLE_OK)
			snprintf(why + strlen(why), cap - strlen(why), " %ld",
			    r->code);
		ax_buf_fini(&url);
		return -1;
	}
	ax_buf_fini(&url);
	return 0;
}

static void *watch_main(void *arg)
{
	watcher_t *w = arg;
	k8s_t *k = w->k;
	const disc_prov_host_t *host = k->host;
	CURL *h = curl_easy_init();
	req_t r;
	char why[2048];
	int listed = 0, logged = 0;

	memset(&r, 0, sizeof(r));
	r.w = w;
	if (h == NULL)
		return NULL;
	while (!host->stopping(host->h)) {
		if (!listed) {
			cJSON *list, *it;
			const cJSON *items;

			r.watch = 0;
			r.relist = 0;
			ax_buf_reset(&r.body);
			if (do_req(w, h, &r, why, sizeof(why)) != 0 ||
			    (list = cJSON_ParseWithLength(r.body.p ? r.body.p : "",
			         r.body.len)) == NULL) {
				if (!logged && !host->stopping(host->h))
					ax_log_error("kubernetes list failed; "
					             "retrying",
					    "set", host->set, "err",
					    r.body.len && r.code == 200
					        ? "the answer is not JSON"
					        : why);
				logged = 1;
				if (host->nap(host->h, 1000))
					break;
				continue;
			}
			logged = 0;
			snprintf(r.rv, sizeof(r.rv), "%s",
			    jstr(jget(list, "metadata"), "resourceVersion"));
			items = jget(list, "items");
			pthread_mutex_lock(&k->mu);
			store_clear(&k->st[w->res], w->ns);
			while ((it = cJSON_DetachItemFromArray(
			            (cJSON *)items, 0)) != NULL)
				store_apply(&k->st[w->res], it, 0);
			pthread_mutex_unlock(&k->mu);
			cJSON_Delete(list);
			rebuild(k);
			listed = 1;
		}
		r.watch = 1;
		r.relist = 0;
		ax_buf_reset(&r.body);
		if (do_req(w, h, &r, why, sizeof(why)) != 0) {
			if (!host->stopping(host->h))
				ax_log_warn("kubernetes watch failed; listing "
				            "again",
				    "set", host->set, "err", why);
			listed = 0;
			if (host->nap(host->h, 1000))
				break;
			continue;
		}
		if (r.relist)
			listed = 0; /* 410 Gone or an error event */
		/* a watch that timed out resumes from r.rv */
	}
	ax_buf_fini(&r.body);
	curl_easy_cleanup(h);
	return NULL;
}

void disc_k8s_run(const ax_k8ssd_t *conf, const disc_prov_host_t *host)
{
	k8s_t k;
	watcher_t *w = NULL;
	size_t nw = 0, i, nns;
	const char **ns = NULL;
	char own[256] = "", ns_file[1024];
	int res[N_RES], nres = 0, r;

	memset(&k, 0, sizeof(k));
	k.conf = conf;
	k.host = host;
	pthread_mutex_init(&k.mu, NULL);
	{
		char url[1024], tok[1024], ca[1024];
		int in = disc_k8s_in_cluster(url, sizeof(url), tok, ca, ns_file,
		    sizeof(ns_file));

		if (conf->api_server)
			snprintf(k.base, sizeof(k.base), "%s", conf->api_server);
		else if (in == 0) {
			snprintf(k.base, sizeof(k.base), "%s", url);
			snprintf(k.token_file, sizeof(k.token_file), "%s", tok);
			snprintf(k.ca_file, sizeof(k.ca_file), "%s", ca);
		}
	}
	if (k.base[0] == '\0') {
		ax_log_error("kubernetes_sd: no api_server and not in a "
		             "cluster (KUBERNETES_SERVICE_HOST unset)",
		    "set", host->set);
		while (!host->nap(host->h, 60000))
			;
		pthread_mutex_destroy(&k.mu);
		return;
	}
	while (k.base[0] && k.base[strlen(k.base) - 1] == '/')
		k.base[strlen(k.base) - 1] = '\0';
	if (conf->namespaces.own_namespace) {
		FILE *f = fopen(ns_file, "r");

		if (f) {
			if (fgets(own, sizeof(own), f) == NULL)
				own[0] = '\0';
			fclose(f);
		}
		own[strcspn(own, " \r\n")] = '\0';
		if (own[0] == '\0')
			ax_log_error("kubernetes_sd: own_namespace: cannot read "
			             "the namespace file",
			    "file", ns_file);
	}
	nns = conf->namespaces.names.n + (own[0] ? 1 : 0);
	ns = calloc(nns + 1, sizeof(*ns));
	if (ns == NULL) {
		pthread_mutex_destroy(&k.mu);
		return;
	}
	for (i = 0; i < conf->namespaces.names.n; i++)
		ns[i] = conf->namespaces.names.v[i];
	if (own[0])
		ns[i] = own;
	res[nres++] = R_PODS;
	if (strcmp(conf->role, "endpoints") == 0) {
		res[nres++] = R_ENDPOINTS;
		res[nres++] = R_SERVICES;
	}
	w = calloc((size_t)nres * (nns ? nns : 1), sizeof(*w));
	for (r = 0; w && r < nres; r++)
		for (i = 0; i < (nns ? nns : 1); i++) {
			watcher_t *x = &w[nw++];

			x->k = &k;
			x->res = res[r];
			x->ns = nns ? ns[i] : NULL;
			x->started =
			    pthread_create(&x->th, NULL, watch_main, x) == 0;
		}
	while (!host->nap(host->h, 60000))
		;
	for (i = 0; i < nw; i++)
		if (w[i].started)
			pthread_join(w[i].th, NULL);
	for (r = 0; r < N_RES; r++) {
		store_clear(&k.st[r], NULL);
		free(k.st[r].v);
	}
	free(w);
	free(ns);
	pthread_mutex_destroy(&k.mu);
}
