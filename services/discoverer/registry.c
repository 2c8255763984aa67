/*
 * registry: the discoverer's service registry (see registry.h for the
 * model and the on-disk layout).
 */
#include "discoverer/registry.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ax_crc32c.h"
#include "ax_hmap.h"
#include "ax_labels.h"
#include "ax_log.h"
#include "ax_units.h"

#define SNAP_MAGIC "AXDREG1\n"
#define REC_MAX (4u << 20)
#define COMPACT_EVERY 1024
#define META_MAX_PAIRS 64
#define META_KEY_MAX 128
#define META_VAL_MAX 512

typedef struct check {
	char *id, *name, *notes, *output, *type; /* type: http, tcp, ttl */
	char *http, *method, *tcp;
	char **headers; /* "Name: value", NULL-ended */
	int64_t interval_ms, timeout_ms, ttl_ms, dereg_ms;
	int tls_skip_verify, status, running;
	int64_t critical_since, ttl_deadline, next_run; /* ax_mono_ms */
	uint64_t create_index, modify_index;
} check_t;

typedef struct svc {
	char *id, *name, *address;
	int port;
	char **tags; /* NULL-ended */
	size_t n_tags;
	char **meta; /* k, v pairs sorted by k, NULL-ended */
	size_t n_meta;
	char **deps; /* NULL-ended */
	check_t *checks;
	size_t n_checks;
	int tag_override;
	uint64_t create_index, modify_index;
	char *json; /* the registration as accepted */
} svc_t;

struct disc_reg {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t index;
	svc_t **svc; /* sorted by id */
	size_t n, cap;
	char *node, *node_addr, *dc, *node_id;
	char **node_meta; /* k, v pairs, NULL-ended */
	char *dir;
	int log_fd;
	size_t log_records;
	void (*on_change)(void *);
	void *arg;
	ax_metric_t *m_reg, *m_dereg, *m_reaped, *m_probes, *m_log_err;
};

const char *disc_status_name(int status)
{
	switch (status) {
	case DISC_PASSING: return "passing";
	case DISC_WARNING: return "warning";
	default: return "critical";
	}
}

static int status_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "passing") == 0)
		return DISC_PASSING;
	if (strcasecmp(s, "warning") == 0)
		return DISC_WARNING;
	if (strcasecmp(s, "critical") == 0)
		return DISC_CRITICAL;
	return -1;
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void check_fini(check_t *c)
{
	free(c->id);
	free(c->name);
	free(c->notes);
	free(c->output);
	free(c->type);
	free(c->http);
	free(c->method);
	free(c->tcp);
	strv_free(c->headers);
}

static void svc_free(svc_t *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->id);
	free(s->name);
	free(s->address);
	strv_free(s->tags);
	strv_free(s->meta);
	strv_free(s->deps);
	for (i = 0; i < s->n_checks; i++)
		check_fini(&s->checks[i]);
	free(s->checks);
	free(s->json);
	free(s);
}

/* ---- parsing a registration ---- */

static int bad(ax_err_t *err, const char *fmt, const char *a)
{
	return ax_err_set(err, AX_EINVAL, fmt, a ? a : "");
}

/* A string member (case-insensitive name, as Consul's decoder); NULL when
 * absent; *ok 0 when present but not a string. */
static const char *jstr(const cJSON *o, const char *name, int *ok)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*ok = 0;
		return NULL;
	}
	return v->valuestring;
}

static int dupstr(char **dst, const char *s)
{
	*dst = strdup(s ? s : "");
	return *dst ? 0 : AX_ENOMEM;
}

/* A Consul duration: a Go duration string or a number of nanoseconds. */
static int jdur(const cJSON *o, const char *name, int64_t *ms, ax_err_t *err)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	ax_err_t e;

	*ms = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble < 0)
			return bad(err, "%s: must not be negative", name);
		*ms = (int64_t)(v->valuedouble / 1e6);
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(err, "%s: want a duration such as \"10s\"", name);
	if (v->valuestring[0] == '\0')
		return 0;
	if (ax_go_duration_parse(v->valuestring, ms, &e) != 0 || *ms < 0)
		return ax_err_set(err, AX_EINVAL, "%s: %s", name,
		    *ms < 0 ? "must not be negative" : e.msg);
	return 0;
}

static int parse_check(const cJSON *o, const char *svc_id, const char *svc_name,
    size_t idx, size_t total, check_t *c, ax_err_t *err)
{
	const char *s;
	int ok = 1, kinds = 0;
	char buf[512];
	const cJSON *h;

	memset(c, 0, sizeof(*c));
	c->status = DISC_CRITICAL;
	if (!cJSON_IsObject(o))
		return bad(err, "Check: want an object%s", NULL);
	s = jstr(o, "CheckID", &ok);
	if (s == NULL)
		s = jstr(o, "ID", &ok);
	if (s == NULL || *s == '\0') {
		if (total == 1)
			snprintf(buf, sizeof(buf), "service:%s", svc_id);
		else
			snprintf(buf, sizeof(buf), "service:%s:%zu", svc_id,
			    idx + 1);
		s = buf;
	}
	if (dupstr(&c->id, s) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	s = jstr(o, "Name", &ok);
	if (s == NULL || *s == '\0') {
		snprintf(buf, sizeof(buf), "Service '%s' check", svc_name);
		s = buf;
	}
	if (dupstr(&c->name, s) != 0 ||
	    dupstr(&c->notes, jstr(o, "Notes", &ok)))
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (jdur(o, "Interval", &c->interval_ms, err) != 0 ||
	    jdur(o, "Timeout", &c->timeout_ms, err) != 0 ||
	    jdur(o, "TTL", &c->ttl_ms, err) != 0 ||
	    jdur(o, "DeregisterCriticalServiceAfter", &c->dereg_ms, err) != 0)
		return AX_EINVAL;
	if ((s = jstr(o, "HTTP", &ok)) && *s) {
		kinds++;
		if (strncmp(s, "http://", 7) != 0 &&
		    strncmp(s, "https://", 8) != 0)
			return bad(err,
			    "Check: HTTP must be an http:// or "
			    "https:// URL, got \"%s\"",
			    s);
		if (dupstr(&c->http, s) || dupstr(&c->type, "http"))
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if ((s = jstr(o, "TCP", &ok)) && *s) {
		kinds++;
		if (strrchr(s, ':') == NULL)
			return bad(
			    err, "Check: TCP must be host:port, got \"%s\"", s);
		free(c->type);
		if (dupstr(&c->tcp, s) || dupstr(&c->type, "tcp"))
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (c->ttl_ms > 0) {
		kinds++;
		free(c->type);
		if (dupstr(&c->type, "ttl"))
			return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	{
		static const char *const unsupported[] = {"Args", "ScriptArgs",
		    "GRPC", "DockerContainerID", "AliasService", "AliasNode",
		    "H2PING", "UDP", "OSService", NULL};
		size_t k;

		for (k = 0; unsupported[k]; k++) {
			const cJSON *v = cJSON_GetObjectItem(o, unsupported[k]);

			if (v && !cJSON_IsNull(v) &&
			    !(cJSON_IsString(v) && v->valuestring[0] == '\0') &&
			    !(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0))
				return bad(err,
				    "Check: %s checks are not supported by "
				    "axon-discoverer (HTTP, TCP and TTL are)",
				    unsupported[k]);
		}
	}
	if (kinds == 0)
		return bad(err, "Check %s: one of HTTP, TCP or TTL is required",
		    c->id);
	if (kinds > 1)
		return bad(err,
		    "Check %s: only one of HTTP, TCP and TTL may be "
		    "given",
		    c->id);
	if (c->ttl_ms == 0 && c->interval_ms <= 0)
		return bad(err,
		    "Check %s: Interval must be > 0 for HTTP and TCP "
		    "checks",
		    c->id);
	if (c->timeout_ms <= 0)
		c->timeout_ms = 10000;
	if (c->interval_ms > 0 && c->timeout_ms > c->interval_ms &&
	    c->ttl_ms == 0)
		c->timeout_ms = c->interval_ms;
	s = jstr(o, "Method", &ok);
	if (dupstr(&c->method, s && *s ? s : "GET"))
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((s = jstr(o, "Status", &ok)) && *s) {
		if ((c->status = status_parse(s)) < 0)
			return bad(err,
			    "Check: Status must be passing, warning "
			    "or critical, got \"%s\"",
			    s);
	}
	{
		const cJSON *v = cJSON_GetObjectItem(o, "TLSSkipVerify");

		if (v && cJSON_IsBool(v))
			c->tls_skip_verify = cJSON_IsTrue(v);
	}
	h = cJSON_GetObjectItem(o, "Header");
	if (h && !cJSON_IsNull(h)) {
		const cJSON *kv;
		size_t n = 0;

		if (!cJSON_IsObject(h))
			return bad(err,
			    "Check: Header must map names to lists of "
			    "values%s",
			    NULL);
		cJSON_ArrayForEach(kv, h)
		{
			const cJSON *x;

			if (cJSON_IsString(kv)) {
				n++;
				continue;
			}
			if (!cJSON_IsArray(kv))
				return bad(err,
				    "Check: Header %s: want a list of strings",
				    kv->string);
			cJSON_ArrayForEach(x, kv) n++;
		}
		if ((c->headers = calloc(n + 1, sizeof(char *))) == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		n = 0;
		cJSON_ArrayForEach(kv, h)
		{
			const cJSON *x;

			if (cJSON_IsString(kv)) {
				if (asprintf(&c->headers[n++], "%s: %s",
				        kv->string, kv->valuestring) < 0)
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
				continue;
			}
			cJSON_ArrayForEach(x, kv)
			{
				if (!cJSON_IsString(x))
					return bad(err,
					    "Check: Header %s: want strings",
					    kv->string);
				if (asprintf(&c->headers[n++], "%s: %s",
				        kv->string, x->valuestring) < 0)
					return ax_err_set(
					    err, AX_ENOMEM, "out of memory");
			}
		}
	}
	if (!ok)
		return bad(err,
		    "Check %s: a field that must be a string is not", c->id);
	return 0;
}

static int meta_key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > META_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-')
			return 0;
	return 1;
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_deps(svc_t *s, const char *v, ax_err_t *err)
{
	size_t n = 1, k = 0;
	const char *p;

	for (p = v; *p; p++)
		n += *p == ',';
	if ((s->deps = calloc(n + 1, sizeof(char *))) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	p = v;
	while (*p) {
		const char *e = strchr(p, ','), *a = p, *b;
		size_t i;
		int dup = 0;

		if (e == NULL)
			e = p + strlen(p);
		b = e;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		for (i = 0; i < k; i++)
			if (strlen(s->deps[i]) == (size_t)(b - a) &&
			    strncmp(s->deps[i], a, (size_t)(b - a)) == 0)
				dup = 1;
		if (b > a && !dup &&
		    (s->deps[k++] = strndup(a, (size_t)(b - a))) == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* Parse and validate a registration.  OUT: *out. */
static int parse_registration(
    const char *json, size_t len, svc_t **out, ax_err_t *err)
{
	cJSON *root;
	const cJSON *v, *x;
	const char *s, *end = NULL;
	svc_t *sv;
	int ok = 1, rv = AX_EINVAL;
	size_t n;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL) {
		size_t at = end ? (size_t)(end - json) : 0;

		return ax_err_set(err, AX_EINVAL,
		    "request decode failed: invalid JSON at byte %zu", at);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ax_err_set(err, AX_EINVAL,
		    "request decode failed: want a JSON object");
	}
	if ((sv = calloc(1, sizeof(*sv))) == NULL) {
		cJSON_Delete(root);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	s = jstr(root, "Name", &ok);
	if (!ok || s == NULL || *s == '\0') {
		ax_err_set(err, AX_EINVAL, "Missing service name");
		goto out;
	}
	if (strchr(s, '/') || strlen(s) > 256) {
		bad(err,
		    "Invalid service name \"%s\": no '/', at most 256 "
		    "characters",
		    s);
		goto out;
	}
	if (dupstr(&sv->name, s))
		goto oom;
	s = jstr(root, "ID", &ok);
	if (!ok) {
		ax_err_set(err, AX_EINVAL, "ID: want a string");
		goto out;
	}
	if (s && (strchr(s, '/') || strlen(s) > 256)) {
		bad(err,
		    "Invalid service ID \"%s\": no '/', at most 256 "
		    "characters",
		    s);
		goto out;
	}
	if (dupstr(&sv->id, s && *s ? s : sv->name))
		goto oom;
	s = jstr(root, "Address", &ok);
	if (!ok) {
		ax_err_set(err, AX_EINVAL, "Address: want a string");
		goto out;
	}
	if (dupstr(&sv->address, s))
		goto oom;
	v = cJSON_GetObjectItem(root, "Port");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) ||
		    v->valuedouble != (double)(int)v->valuedouble ||
		    v->valuedouble < 0 || v->valuedouble > 65535) {
			char *t = cJSON_PrintUnformatted(v);

			bad(err,
			    "Invalid Port %s: want an integer from 0 to "
			    "65535",
			    t ? t : "");
			free(t);
			goto out;
		}
		sv->port = (int)v->valuedouble;
	}
	v = cJSON_GetObjectItem(root, "Tags");
	n = v && cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
	if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v)) {
		ax_err_set(err, AX_EINVAL, "Tags: want a list of strings");
		goto out;
	}
	if ((sv->tags = calloc(n + 1, sizeof(char *))) == NULL)
		goto oom;
	if (v && cJSON_IsArray(v))
		cJSON_ArrayForEach(x, v)
		{
			if (!cJSON_IsString(x)) {
				ax_err_set(err, AX_EINVAL,
				    "Tags: want a list of strings");
				goto out;
			}
			if (dupstr(&sv->tags[sv->n_tags++], x->valuestring))
				goto oom;
		}
	v = cJSON_GetObjectItem(root, "Meta");
	if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v)) {
		ax_err_set(err, AX_EINVAL, "Meta: want an object of strings");
		goto out;
	}
	n = v && cJSON_IsObject(v) ? (size_t)cJSON_GetArraySize(v) : 0;
	if (n > META_MAX_PAIRS) {
		ax_err_set(err, AX_EINVAL,
		    "Invalid service Meta: at most %d key/value pairs",
		    META_MAX_PAIRS);
		goto out;
	}
	if ((sv->meta = calloc(2 * n + 1, sizeof(char *))) == NULL)
		goto oom;
	if (n)
		cJSON_ArrayForEach(x, v)
		{
			if (!cJSON_IsString(x)) {
				bad(err,
				    "Invalid service Meta: value of \"%s\" "
				    "must be a string",
				    x->string);
				goto out;
			}
			if (!meta_key_ok(x->string)) {
				bad(err,
				    "Invalid service Meta: key \"%s\": use "
				    "letters, digits, '_' and '-', at most "
				    "128",
				    x->string);
				goto out;
			}
			if (strncmp(x->string, "consul-", 7) == 0) {
				bad(err,
				    "Invalid service Meta: key \"%s\" uses "
				    "the reserved prefix consul-",
				    x->string);
				goto out;
			}
			if (strlen(x->valuestring) > META_VAL_MAX) {
				bad(err,
				    "Invalid service Meta: value of \"%s\" "
				    "is longer than 512",
				    x->string);
				goto out;
			}
			if (dupstr(&sv->meta[2 * sv->n_meta], x->string) ||
			    dupstr(
			        &sv->meta[2 * sv->n_meta + 1], x->valuestring))
				goto oom;
			sv->n_meta++;
		}
	if (sv->n_meta > 1)
		qsort(sv->meta, sv->n_meta, 2 * sizeof(char *), cmp_pair);
	for (n = 0; n < sv->n_meta; n++)
		if (strcmp(sv->meta[2 * n], "depends_on") == 0 &&
		    (rv = parse_deps(sv, sv->meta[2 * n + 1], err)) != 0)
			goto out;
	if (sv->deps == NULL && (sv->deps = calloc(1, sizeof(char *))) == NULL)
		goto oom;
	v = cJSON_GetObjectItem(root, "EnableTagOverride");
	sv->tag_override = v && cJSON_IsTrue(v);
	{
		const cJSON *one = cJSON_GetObjectItem(root, "Check");
		const cJSON *many = cJSON_GetObjectItem(root, "Checks");
		size_t total = 0, i = 0;

		if (one && cJSON_IsNull(one))
			one = NULL;
		if (many && cJSON_IsNull(many))
			many = NULL;
		if (many && !cJSON_IsArray(many)) {
			ax_err_set(err, AX_EINVAL, "Checks: want a list");
			goto out;
		}
		total = (one ? 1 : 0) +
		    (many ? (size_t)cJSON_GetArraySize(many) : 0);
		if (total &&
		    (sv->checks = calloc(total, sizeof(check_t))) == NULL)
			goto oom;
		if (one) {
			if ((rv = parse_check(one, sv->id, sv->name, 0, total,
			         &sv->checks[0], err)) != 0) {
				sv->n_checks = 1;
				goto out;
			}
			sv->n_checks = 1;
			i = 1;
		}
		if (many)
			cJSON_ArrayForEach(x, many)
			{
				rv = parse_check(x, sv->id, sv->name, i, total,
				    &sv->checks[i], err);
				sv->n_checks = ++i;
				if (rv != 0)
					goto out;
			}
		for (i = 0; i < sv->n_checks; i++) {
			size_t k;

			for (k = 0; k < i; k++)
				if (strcmp(sv->checks[i].id,
				        sv->checks[k].id) == 0) {
					rv = bad(err, "duplicate check ID %s",
					    sv->checks[i].id);
					goto out;
				}
		}
	}
	if ((sv->json = cJSON_PrintUnformatted(root)) == NULL)
		goto oom;
	cJSON_Delete(root);
	*out = sv;
	return 0;
oom:
	ax_err_set(err, AX_ENOMEM, "out of memory");
	rv = AX_ENOMEM;
out:
	if (rv == 0)
		rv = AX_EINVAL;
	if (err->code == 0)
		ax_err_set(err, rv, "invalid registration");
	cJSON_Delete(root);
	svc_free(sv);
	return err->code;
}

/* ---- the table ---- */

static long find_svc(const disc_reg_t *r, const char *id, size_t *ins)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->svc[mid]->id, id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ins)
		*ins = lo;
	return -1;
}

static void changed_locked(disc_reg_t *r)
{
	r->index++;
	pthread_cond_broadcast(&r->cv);
}

/* Put sv in the table (replacing an instance with its ID), under lock.
 * Checks of a replaced instance keep their state when they keep their
 * ID and kind, as Consul's agent does on re-registration. */
static int put_svc(disc_reg_t *r, svc_t *sv, uint64_t index)
{
	size_t ins = 0, i, k;
	long at = find_svc(r, sv->id, &ins);
	int64_t now = ax_mono_ms();

	sv->modify_index = index;
	sv->create_index = index;
	for (i = 0; i < sv->n_checks; i++) {
		check_t *c = &sv->checks[i];

		c->create_index = c->modify_index = index;
		c->next_run = now;
		if (c->status == DISC_CRITICAL)
			c->critical_since = now;
		if (c->ttl_ms > 0)
			c->ttl_deadline = now + c->ttl_ms;
		if (dupstr(&c->output, "") != 0)
			return AX_ENOMEM;
	}
	if (at >= 0) {
		svc_t *old = r->svc[at];

		sv->create_index = old->create_index;
		for (i = 0; i < sv->n_checks; i++)
			for (k = 0; k < old->n_checks; k++) {
				check_t *c = &sv->checks[i],
				        *o = &old->checks[k];

				if (strcmp(c->id, o->id) != 0 ||
				    strcmp(c->type, o->type) != 0)
					continue;
				c->status = o->status;
				c->critical_since = o->critical_since;
				c->ttl_deadline = o->ttl_deadline;
				c->create_index = o->create_index;
				free(c->output);
				c->output = o->output;
				o->output = NULL;
			}
		svc_free(old);
		r->svc[at] = sv;
		return 0;
	}
	if (ax_grow((void **)&r->svc, &r->cap, r->n + 1, sizeof(*r->svc)) != 0)
		return AX_ENOMEM;
	memmove(&r->svc[ins + 1], &r->svc[ins], (r->n - ins) * sizeof(*r->svc));
	r->svc[ins] = sv;
	r->n++;
	return 0;
}

static int del_svc(disc_reg_t *r, const char *id)
{
	long at = find_svc(r, id, NULL);

	if (at < 0)
		return AX_ENOENT;
	svc_free(r->svc[at]);
	memmove(&r->svc[at], &r->svc[at + 1],
	    (r->n - (size_t)at - 1) * sizeof(*r->svc));
	r->n--;
	return 0;
}

/* ---- persistence ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void rec_build(ax_buf_t *b, char op, uint64_t index, const char *body)
{
	size_t n = strlen(body), start = b->len, i;
	uint8_t hdr[8], idx[8];

	memset(hdr, 0, sizeof(hdr));
	ax_buf_append(b, hdr, 8);
	ax_buf_putc(b, op);
	for (i = 0; i < 8; i++)
		idx[i] = (uint8_t)(index >> (8 * i));
	ax_buf_append(b, idx, 8);
	ax_buf_append(b, body, n);
	if (!ax_buf_ok(b))
		return;
	put_u32((uint8_t *)b->p + start, (uint32_t)(n + 9));
	put_u32(
	    (uint8_t *)b->p + start + 4, ax_crc32c(0, b->p + start + 8, n + 9));
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int log_append(
    disc_reg_t *r, char op, uint64_t index, const char *body, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	off_t at;

	if (r->log_fd < 0)
		return 0; /* replaying */
	rec_build(&b, op, index, body);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	at = lseek(r->log_fd, 0, SEEK_END);
	if (write_all(r->log_fd, b.p, b.len) != 0 ||
	    fdatasync(r->log_fd) != 0) {
		int e = errno;

		ax_buf_fini(&b);
		if (at >= 0 && ftruncate(r->log_fd, at) != 0)
			ax_log_error("cannot cut a failed append from the "
			             "registry log",
			    "err", strerror(errno));
		ax_counter_inc(r->m_log_err);
		return ax_err_set(err, AX_EIO,
		    "cannot persist the registration: %s/registry.log: %s",
		    r->dir, strerror(e));
	}
	ax_buf_fini(&b);
	r->log_records++;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), rv;

	if (fd < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

/* Write the whole state as the snapshot and empty the log (locked). */
static int compact_locked(disc_reg_t *r, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	char tmp[4096], snap[4096], logp[4096];
	size_t i;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/registry.snap.tmp", r->dir);
	snprintf(snap, sizeof(snap), "%s/registry.snap", r->dir);
	snprintf(logp, sizeof(logp), "%s/registry.log", r->dir);
	ax_buf_puts(&b, SNAP_MAGIC);
	for (i = 0; i < r->n; i++)
		rec_build(&b, 'R', r->svc[i]->modify_index, r->svc[i]->json);
	/* a marker that keeps the index across restarts */
	rec_build(&b, 'I', r->index, "");
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, b.p, b.len) != 0 || fsync(fd) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		ax_buf_fini(&b);
		return ax_err_set(
		    err, AX_EIO, "cannot write %s: %s", tmp, strerror(e));
	}
	close(fd);
	ax_buf_fini(&b);
	if (rename(tmp, snap) != 0 || fsync_dir(r->dir) != 0)
		return ax_err_set(
		    err, AX_EIO, "cannot rename %s: %s", tmp, strerror(errno));
	if (r->log_fd >= 0 &&
	    (ftruncate(r->log_fd, 0) != 0 || fsync(r->log_fd) != 0))
		return ax_err_set(
		    err, AX_EIO, "cannot empty %s: %s", logp, strerror(errno));
	r->log_records = 0;
	return 0;
}

/* Apply one record during replay. */
static int replay_rec(disc_reg_t *r, const uint8_t *p, size_t n, ax_err_t *err)
{
	uint64_t index = 0;
	char op;
	size_t i;

	if (n < 9)
		return ax_err_set(
		    err, AX_EPROTO, "record shorter than 9 bytes");
	op = (char)p[0];
	for (i = 0; i < 8; i++)
		index |= (uint64_t)p[1 + i] << (8 * i);
	if (index > r->index)
		r->index = index;
	if (op == 'R') {
		svc_t *sv;
		int rv =
		    parse_registration((const char *)p + 9, n - 9, &sv, err);

		if (rv != 0)
			return rv;
		if (put_svc(r, sv, index) != 0) {
			svc_free(sv);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		return 0;
	}
	if (op == 'D') {
		char id[512];

		if (n - 9 >= sizeof(id))
			return ax_err_set(
			    err, AX_EPROTO, "service ID too long");
		memcpy(id, p + 9, n - 9);
		id[n - 9] = '\0';
		del_svc(r, id);
		return 0;
	}
	if (op == 'I')
		return 0;
	return ax_err_set(err, AX_EPROTO, "unknown record type 0x%02x",
	    (unsigned)(uint8_t)op);
}

/* Replay a file.  is_log: a bad tail is cut (at *good) rather than an
 * error. */
static int replay_file(
    disc_reg_t *r, const char *path, int is_log, off_t *good, ax_err_t *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[8], *buf = NULL;
	size_t cap = 0;
	off_t off = 0;
	int rv = 0;

	*good = 0;
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return ax_err_set(
		    err, AX_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	if (!is_log) {
		char magic[8];

		if (fread(magic, 1, 8, f) != 8 ||
		    memcmp(magic, SNAP_MAGIC, 8) != 0) {
			fclose(f);
			return ax_err_set(err, AX_EPROTO,
			    "%s: not a registry snapshot (bad magic)", path);
		}
		off = 8;
	}
	for (;;) {
		size_t got = fread(hdr, 1, 8, f);
		uint32_t len, crc;
		const char *why = NULL;
		ax_err_t re;

		if (got == 0)
			break;
		if (got < 8)
			why = "torn record header";
		else if ((len = get_u32(hdr)) > REC_MAX || len < 9)
			why = "bad record length";
		else {
			if (len > cap) {
				uint8_t *nb = realloc(buf, len);

				if (nb == NULL) {
					rv = ax_err_set(
					    err, AX_ENOMEM, "out of memory");
					break;
				}
				buf = nb;
				cap = len;
			}
			crc = get_u32(hdr + 4);
			if (fread(buf, 1, len, f) != len)
				why = "torn record";
			else if (ax_crc32c(0, buf, len) != crc)
				why = "checksum mismatch";
			else if (replay_rec(r, buf, len, &re) != 0) {
				rv = ax_err_set(err, AX_EPROTO,
				    "%s: record at offset %lld: %s", path,
				    (long long)off, re.msg);
				break;
			} else {
				off += 8 + (off_t)len;
				continue;
			}
		}
		if (is_log) {
			char o[32];

			snprintf(o, sizeof(o), "%lld", (long long)off);
			ax_log_warn("registry log has a damaged tail; cutting "
			            "it (a crash during an append)",
			    "file", path, "offset", o, "why", why);
		} else
			rv = ax_err_set(err, AX_EPROTO, "%s: offset %lld: %s",
			    path, (long long)off, why);
		break;
	}
	free(buf);
	fclose(f);
	*good = off;
	return rv;
}

/* mkdir -p */
static int mkdir_p(const char *dir)
{
	char p[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -1;
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++)
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];

			p[i] = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return -1;
			p[i] = c;
		}
	return 0;
}

static char *node_uuid(const char *name)
{
	uint64_t a = ax_hash_bytes(name, strlen(name));
	uint64_t b = ax_hash_bytes(&a, sizeof(a));
	char *s;

	if (asprintf(&s, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
	        (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff,
	        (unsigned)(b >> 48),
	        (unsigned long long)(b & 0xffffffffffffULL)) < 0)
		return NULL;
	return s;
}

int disc_reg_open(const char *dir, const disc_node_t *node, ax_metrics_t *reg,
    void (*on_change)(void *arg), void *arg, disc_reg_t **out, ax_err_t *err)
{
	disc_reg_t *r = calloc(1, sizeof(*r));
	char path[4096];
	off_t good;
	size_t n = 0, i;
	int rv;

	if (r == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->log_fd = -1;
	r->on_change = on_change;
	r->arg = arg;
	while (node->meta && node->meta[n])
		n++;
	r->dir = strdup(dir);
	r->node = strdup(node->name);
	r->node_addr = strdup(node->address);
	r->dc = strdup(node->dc);
	r->node_id = node_uuid(node->name);
	r->node_meta = calloc(n + 1, sizeof(char *));
	if (!r->dir || !r->node || !r->node_addr || !r->dc || !r->node_id ||
	    !r->node_meta) {
		disc_reg_close(r);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		if ((r->node_meta[i] = strdup(node->meta[i])) == NULL) {
			disc_reg_close(r);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	r->m_reg =
	    ax_metrics_counter(reg, "axon_discoverer_registrations_total",
	        "Service registrations accepted (new or replaced).");
	r->m_dereg =
	    ax_metrics_counter(reg, "axon_discoverer_deregistrations_total",
	        "Service deregistrations (API or critical for too long).");
	r->m_reaped = ax_metrics_counter(reg,
	    "axon_discoverer_critical_deregistrations_total",
	    "Services deregistered after DeregisterCriticalServiceAfter.");
	r->m_probes =
	    ax_metrics_counter(reg, "axon_discoverer_checks_run_total",
	        "HTTP and TCP health checks run.");
	r->m_log_err =
	    ax_metrics_counter(reg, "axon_discoverer_persist_failures_total",
	        "Registry changes refused because they could not be written.");
	if (mkdir_p(dir) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "cannot create %s: %s", dir, strerror(errno));
		disc_reg_close(r);
		return rv;
	}
	snprintf(path, sizeof(path), "%s/registry.snap", dir);
	if ((rv = replay_file(r, path, 0, &good, err)) != 0) {
		disc_reg_close(r);
		return rv;
	}
	snprintf(path, sizeof(path), "%s/registry.log", dir);
	if ((rv = replay_file(r, path, 1, &good, err)) != 0) {
		disc_reg_close(r);
		return rv;
	}
	r->log_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (r->log_fd < 0 || ftruncate(r->log_fd, good) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "cannot open %s: %s", path, strerror(errno));
		disc_reg_close(r);
		return rv;
	}
	r->index++;
	if ((rv = compact_locked(r, err)) != 0) {
		disc_reg_close(r);
		return rv;
	}
	{
		char cnt[32];

		snprintf(cnt, sizeof(cnt), "%zu", r->n);
		ax_log_info("registry loaded", "dir", dir, "services", cnt);
	}
	*out = r;
	return 0;
}

void disc_reg_close(disc_reg_t *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		svc_free(r->svc[i]);
	free(r->svc);
	if (r->log_fd >= 0)
		close(r->log_fd);
	free(r->dir);
	free(r->node);
	free(r->node_addr);
	free(r->dc);
	free(r->node_id);
	strv_free(r->node_meta);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void notify(disc_reg_t *r)
{
	if (r->on_change)
		r->on_change(r->arg);
}

static void maybe_compact(disc_reg_t *r)
{
	ax_err_t e;

	if (r->log_records >= COMPACT_EVERY && compact_locked(r, &e) != 0)
		ax_log_error("cannot compact the registry", "err", e.msg);
}

int disc_reg_register(
    disc_reg_t *r, const char *json, size_t len, ax_err_t *err)
{
	svc_t *sv;
	int rv;

	if ((rv = parse_registration(json, len, &sv, err)) != 0)
		return rv;
	pthread_mutex_lock(&r->mu);
	if ((rv = log_append(r, 'R', r->index + 1, sv->json, err)) != 0) {
		pthread_mutex_unlock(&r->mu);
		svc_free(sv);
		return rv;
	}
	if (put_svc(r, sv, r->index + 1) != 0) {
		pthread_mutex_unlock(&r->mu);
		svc_free(sv);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	changed_locked(r);
	maybe_compact(r);
	pthread_mutex_unlock(&r->mu);
	ax_counter_inc(r->m_reg);
	notify(r);
	return 0;
}

static int dereg_locked(disc_reg_t *r, const char *id, ax_err_t *err)
{
	int rv;

	if (find_svc(r, id, NULL) < 0)
		return ax_err_set(
		    err, AX_ENOENT, "Unknown service ID \"%s\"", id);
	if ((rv = log_append(r, 'D', r->index + 1, id, err)) != 0)
		return rv;
	del_svc(r, id);
	changed_locked(r);
	maybe_compact(r);
	ax_counter_inc(r->m_dereg);
	return 0;
}

int disc_reg_deregister(disc_reg_t *r, const char *id, ax_err_t *err)
{
	int rv;

	pthread_mutex_lock(&r->mu);
	rv = dereg_locked(r, id, err);
	pthread_mutex_unlock(&r->mu);
	if (rv == 0)
		notify(r);
	return rv;
}

static check_t *find_check(disc_reg_t *r, const char *id, svc_t **owner)
{
	size_t i, k;

	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->svc[i]->n_checks; k++)
			if (strcmp(r->svc[i]->checks[k].id, id) == 0) {
				if (owner)
					*owner = r->svc[i];
				return &r->svc[i]->checks[k];
			}
	return NULL;
}

/* Set a check's status and output (locked).  1 when anything changed. */
static int set_status(
    disc_reg_t *r, svc_t *sv, check_t *c, int status, const char *output)
{
	int64_t now = ax_mono_ms();

	if (output == NULL)
		output = "";
	if (c->status == status && strcmp(c->output, output) == 0)
		return 0;
	if (status == DISC_CRITICAL && c->status != DISC_CRITICAL)
		c->critical_since = now;
	if (status != DISC_CRITICAL)
		c->critical_since = 0;
	c->status = status;
	{
		char *o = strdup(output);

		if (o) {
			free(c->output);
			c->output = o;
		}
	}
	changed_locked(r);
	c->modify_index = r->index;
	sv->modify_index = r->index;
	return 1;
}

int disc_reg_check_ttl(disc_reg_t *r, const char *check_id, int status,
    const char *output, ax_err_t *err)
{
	check_t *c;
	svc_t *sv;
	int ch;

	pthread_mutex_lock(&r->mu);
	if ((c = find_check(r, check_id, &sv)) == NULL) {
		pthread_mutex_unlock(&r->mu);
		return ax_err_set(
		    err, AX_ENOENT, "Unknown check ID \"%s\"", check_id);
	}
	if (strcmp(c->type, "ttl") != 0) {
		pthread_mutex_unlock(&r->mu);
		return ax_err_set(err, AX_EINVAL,
		    "check \"%s\" is not a TTL check", check_id);
	}
	c->ttl_deadline = ax_mono_ms() + c->ttl_ms;
	ch = set_status(r, sv, c, status, output);
	pthread_mutex_unlock(&r->mu);
	if (ch)
		notify(r);
	return 0;
}

uint64_t disc_reg_wait(disc_reg_t *r, uint64_t index, int64_t wait_ms)
{
	uint64_t cur;

	pthread_mutex_lock(&r->mu);
	if (index > 0 && r->index <= index && wait_ms > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (r->index <= index)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0)
				break;
	}
	cur = r->index;
	pthread_mutex_unlock(&r->mu);
	return cur;
}

/* ---- answers ---- */

static void put_strv(ax_buf_t *b, char *const *v)
{
	size_t i;

	ax_buf_putc(b, '[');
	for (i = 0; v && v[i]; i++) {
		if (i)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, v[i]);
	}
	ax_buf_putc(b, ']');
}

static void put_pairs(ax_buf_t *b, char *const *kv)
{
	size_t i;

	ax_buf_putc(b, '{');
	for (i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
		if (i)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, kv[i]);
		ax_buf_putc(b, ':');
		ax_buf_put_json_str(b, kv[i + 1]);
	}
	ax_buf_putc(b, '}');
}

static void put_tagged(disc_reg_t *r, ax_buf_t *b)
{
	ax_buf_puts(b, "{\"lan\":");
	ax_buf_put_json_str(b, r->node_addr);
	ax_buf_puts(b, ",\"lan_ipv4\":");
	ax_buf_put_json_str(b, r->node_addr);
	ax_buf_puts(b, ",\"wan\":");
	ax_buf_put_json_str(b, r->node_addr);
	ax_buf_puts(b, ",\"wan_ipv4\":");
	ax_buf_put_json_str(b, r->node_addr);
	ax_buf_putc(b, '}');
}

static int has_tags(const svc_t *sv, const char *const *tags)
{
	size_t i, k;

	for (i = 0; tags && tags[i]; i++) {
		int found = 0;

		for (k = 0; k < sv->n_tags && !found; k++)
			found = strcmp(sv->tags[k], tags[i]) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

static int aggregate(const svc_t *sv)
{
	int st = DISC_PASSING;
	size_t i;

	for (i = 0; i < sv->n_checks; i++)
		if (sv->checks[i].status > st)
			st = sv->checks[i].status;
	return st;
}

static int node_meta_ok(disc_reg_t *r, const char *const *nm)
{
	size_t i, k;

	for (i = 0; nm && nm[i] && nm[i + 1]; i += 2) {
		int found = 0;

		for (k = 0; r->node_meta[k] && r->node_meta[k + 1]; k += 2)
			if (strcmp(r->node_meta[k], nm[i]) == 0 &&
			    strcmp(r->node_meta[k + 1], nm[i + 1]) == 0)
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static int selected(
    disc_reg_t *r, const svc_t *sv, const char *name, const disc_filter_t *f)
{
	if (name && strcmp(sv->name, name) != 0)
		return 0;
	if (f == NULL)
		return 1;
	if (!has_tags(sv, f->tags))
		return 0;
	if (f->passing && aggregate(sv) != DISC_PASSING)
		return 0;
	return node_meta_ok(r, f->node_meta);
}

void disc_reg_catalog_services(
    disc_reg_t *r, const disc_filter_t *f, ax_buf_t *out, uint64_t *index)
{
	size_t i, k, first = 1;

	pthread_mutex_lock(&r->mu);
	*index = r->index;
	ax_buf_putc(out, '{');
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];
		int seen = 0;

		if (!selected(r, sv, NULL, f))
			continue;
		for (k = 0; k < i && !seen; k++)
			seen = selected(r, r->svc[k], NULL, f) &&
			    strcmp(r->svc[k]->name, sv->name) == 0;
		if (seen)
			continue;
		if (!first)
			ax_buf_putc(out, ',');
		first = 0;
		ax_buf_put_json_str(out, sv->name);
		ax_buf_puts(out, ":[");
		{
			/* the union of the tags of its instances */
			const char *u[256];
			size_t nu = 0, j, m;

			for (j = i; j < r->n; j++) {
				const svc_t *o = r->svc[j];

				if (strcmp(o->name, sv->name) != 0 ||
				    !selected(r, o, NULL, f))
					continue;
				for (k = 0; k < o->n_tags; k++) {
					int dup = 0;

					for (m = 0; m < nu && !dup; m++)
						dup = strcmp(u[m],
						          o->tags[k]) == 0;
					if (!dup && nu < 256)
						u[nu++] = o->tags[k];
				}
			}
			for (m = 0; m < nu; m++) {
				if (m)
					ax_buf_putc(out, ',');
				ax_buf_put_json_str(out, u[m]);
			}
		}
		ax_buf_putc(out, ']');
	}
	ax_buf_putc(out, '}');
	pthread_mutex_unlock(&r->mu);
}

static void put_node_fields(disc_reg_t *r, ax_buf_t *b, int catalog)
{
	ax_buf_puts(b, catalog ? "\"ID\":" : "{\"ID\":");
	ax_buf_put_json_str(b, r->node_id);
	ax_buf_puts(b, ",\"Node\":");
	ax_buf_put_json_str(b, r->node);
	ax_buf_puts(b, ",\"Address\":");
	ax_buf_put_json_str(b, r->node_addr);
	ax_buf_puts(b, ",\"Datacenter\":");
	ax_buf_put_json_str(b, r->dc);
	ax_buf_puts(b, ",\"TaggedAddresses\":");
	put_tagged(r, b);
	ax_buf_puts(b, catalog ? ",\"NodeMeta\":" : ",\"Meta\":");
	put_pairs(b, r->node_meta);
}

void disc_reg_catalog_service(disc_reg_t *r, const char *name,
    const disc_filter_t *f, ax_buf_t *out, uint64_t *index)
{
	size_t i, first = 1;

	pthread_mutex_lock(&r->mu);
	*index = r->index;
	ax_buf_putc(out, '[');
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];

		if (!selected(r, sv, name, f))
			continue;
		if (!first)
			ax_buf_putc(out, ',');
		first = 0;
		ax_buf_putc(out, '{');
		put_node_fields(r, out, 1);
		ax_buf_puts(out, ",\"ServiceKind\":\"\",\"ServiceID\":");
		ax_buf_put_json_str(out, sv->id);
		ax_buf_puts(out, ",\"ServiceName\":");
		ax_buf_put_json_str(out, sv->name);
		ax_buf_puts(out, ",\"ServiceTags\":");
		put_strv(out, sv->tags);
		ax_buf_puts(out, ",\"ServiceAddress\":");
		ax_buf_put_json_str(out, sv->address);
		ax_buf_puts(out,
		    ",\"ServiceTaggedAddresses\":{},"
		    "\"ServiceWeights\":{\"Passing\":1,"
		    "\"Warning\":1},\"ServiceMeta\":");
		put_pairs(out, sv->meta);
		ax_buf_printf(out,
		    ",\"ServicePort\":%d,\"ServiceEnableTagOverride\":%s,"
		    "\"ServiceProxy\":{\"MeshGateway\":{},\"Expose\":{}},"
		    "\"ServiceConnect\":{},\"CreateIndex\":%llu,"
		    "\"ModifyIndex\":%llu}",
		    sv->port, sv->tag_override ? "true" : "false",
		    (unsigned long long)sv->create_index,
		    (unsigned long long)sv->modify_index);
	}
	ax_buf_putc(out, ']');
	pthread_mutex_unlock(&r->mu);
}

static void put_check(
    disc_reg_t *r, ax_buf_t *b, const svc_t *sv, const check_t *c)
{
	char iv[64] = "", to[64] = "";

	ax_buf_puts(b, "{\"Node\":");
	ax_buf_put_json_str(b, r->node);
	ax_buf_puts(b, ",\"CheckID\":");
	ax_buf_put_json_str(b, c ? c->id : "serfHealth");
	ax_buf_puts(b, ",\"Name\":");
	ax_buf_put_json_str(b, c ? c->name : "Serf Health Status");
	ax_buf_puts(b, ",\"Status\":");
	ax_buf_put_json_str(b, c ? disc_status_name(c->status) : "passing");
	ax_buf_puts(b, ",\"Notes\":");
	ax_buf_put_json_str(b, c ? c->notes : "");
	ax_buf_puts(b, ",\"Output\":");
	ax_buf_put_json_str(b, c ? c->output : "Agent alive and reachable");
	ax_buf_puts(b, ",\"ServiceID\":");
	ax_buf_put_json_str(b, c ? sv->id : "");
	ax_buf_puts(b, ",\"ServiceName\":");
	ax_buf_put_json_str(b, c ? sv->name : "");
	ax_buf_puts(b, ",\"ServiceTags\":");
	put_strv(b, c ? sv->tags : NULL);
	ax_buf_puts(b, ",\"Type\":");
	ax_buf_put_json_str(b, c ? c->type : "");
	if (c && c->interval_ms > 0) {
		snprintf(iv, sizeof(iv), "%llds",
		    (long long)(c->interval_ms / 1000));
		if (c->interval_ms % 1000)
			snprintf(iv, sizeof(iv), "%lldms",
			    (long long)c->interval_ms);
	}
	if (c && c->ttl_ms == 0)
		snprintf(to, sizeof(to), "%lldms", (long long)c->timeout_ms);
	ax_buf_puts(b, ",\"Interval\":");
	ax_buf_put_json_str(b, iv);
	ax_buf_puts(b, ",\"Timeout\":");
	ax_buf_put_json_str(b, to);
	ax_buf_printf(b,
	    ",\"ExposedPort\":0,\"Definition\":{},\"CreateIndex\":%llu,"
	    "\"ModifyIndex\":%llu}",
	    (unsigned long long)(c ? c->create_index : 1),
	    (unsigned long long)(c ? c->modify_index : 1));
}

void disc_reg_health_service(disc_reg_t *r, const char *name,
    const disc_filter_t *f, ax_buf_t *out, uint64_t *index)
{
	size_t i, k, first = 1;

	pthread_mutex_lock(&r->mu);
	*index = r->index;
	ax_buf_putc(out, '[');
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];

		if (!selected(r, sv, name, f))
			continue;
		if (!first)
			ax_buf_putc(out, ',');
		first = 0;
		ax_buf_puts(out, "{\"Node\":");
		put_node_fields(r, out, 0);
		ax_buf_puts(out, ",\"CreateIndex\":1,\"ModifyIndex\":1}");
		ax_buf_puts(out, ",\"Service\":{\"ID\":");
		ax_buf_put_json_str(out, sv->id);
		ax_buf_puts(out, ",\"Service\":");
		ax_buf_put_json_str(out, sv->name);
		ax_buf_puts(out, ",\"Tags\":");
		put_strv(out, sv->tags);
		ax_buf_puts(out, ",\"Address\":");
		ax_buf_put_json_str(out, sv->address);
		ax_buf_puts(out, ",\"TaggedAddresses\":{},\"Meta\":");
		put_pairs(out, sv->meta);
		ax_buf_printf(out,
		    ",\"Port\":%d,\"Weights\":{\"Passing\":1,\"Warning\":1},"
		    "\"EnableTagOverride\":%s,\"Proxy\":{\"MeshGateway\":{},"
		    "\"Expose\":{}},\"Connect\":{},\"CreateIndex\":%llu,"
		    "\"ModifyIndex\":%llu},\"Checks\":[",
		    sv->port, sv->tag_override ? "true" : "false",
		    (unsigned long long)sv->create_index,
		    (unsigned long long)sv->modify_index);
		put_check(r, out, sv, NULL);
		for (k = 0; k < sv->n_checks; k++) {
			ax_buf_putc(out, ',');
			put_check(r, out, sv, &sv->checks[k]);
		}
		ax_buf_puts(out, "]}");
	}
	ax_buf_putc(out, ']');
	pthread_mutex_unlock(&r->mu);
}

void disc_reg_health_checks(disc_reg_t *r, const char *service,
    const char *state, ax_buf_t *out, uint64_t *index)
{
	size_t i, k, first = 1;
	int want =
	    state && strcmp(state, "any") != 0 ? status_parse(state) : -1;

	pthread_mutex_lock(&r->mu);
	*index = r->index;
	ax_buf_putc(out, '[');
	if (service == NULL && (want < 0 || want == DISC_PASSING)) {
		put_check(r, out, NULL, NULL);
		first = 0;
	}
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];

		if (service && strcmp(sv->name, service) != 0)
			continue;
		for (k = 0; k < sv->n_checks; k++) {
			if (want >= 0 && sv->checks[k].status != want)
				continue;
			if (!first)
				ax_buf_putc(out, ',');
			first = 0;
			put_check(r, out, sv, &sv->checks[k]);
		}
	}
	ax_buf_putc(out, ']');
	pthread_mutex_unlock(&r->mu);
}

void disc_reg_agent_services(disc_reg_t *r, ax_buf_t *out)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	ax_buf_putc(out, '{');
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];

		if (i)
			ax_buf_putc(out, ',');
		ax_buf_put_json_str(out, sv->id);
		ax_buf_puts(out, ":{\"Kind\":\"\",\"ID\":");
		ax_buf_put_json_str(out, sv->id);
		ax_buf_puts(out, ",\"Service\":");
		ax_buf_put_json_str(out, sv->name);
		ax_buf_puts(out, ",\"Tags\":");
		put_strv(out, sv->tags);
		ax_buf_puts(out, ",\"Meta\":");
		put_pairs(out, sv->meta);
		ax_buf_printf(out, ",\"Port\":%d,\"Address\":", sv->port);
		ax_buf_put_json_str(out, sv->address);
		ax_buf_printf(out,
		    ",\"TaggedAddresses\":{},\"Weights\":{\"Passing\":1,"
		    "\"Warning\":1},\"EnableTagOverride\":%s,\"Datacenter\":",
		    sv->tag_override ? "true" : "false");
		ax_buf_put_json_str(out, r->dc);
		ax_buf_putc(out, '}');
	}
	ax_buf_putc(out, '}');
	pthread_mutex_unlock(&r->mu);
}

void disc_reg_agent_checks(disc_reg_t *r, ax_buf_t *out)
{
	size_t i, k, first = 1;

	pthread_mutex_lock(&r->mu);
	ax_buf_putc(out, '{');
	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->svc[i]->n_checks; k++) {
			if (!first)
				ax_buf_putc(out, ',');
			first = 0;
			ax_buf_put_json_str(out, r->svc[i]->checks[k].id);
			ax_buf_putc(out, ':');
			put_check(r, out, r->svc[i], &r->svc[i]->checks[k]);
		}
	ax_buf_putc(out, '}');
	pthread_mutex_unlock(&r->mu);
}

void disc_reg_agent_self(disc_reg_t *r, ax_buf_t *out)
{
	pthread_mutex_lock(&r->mu);
	ax_buf_puts(out, "{\"Config\":{\"Datacenter\":");
	ax_buf_put_json_str(out, r->dc);
	ax_buf_puts(out, ",\"PrimaryDatacenter\":");
	ax_buf_put_json_str(out, r->dc);
	ax_buf_puts(out, ",\"NodeName\":");
	ax_buf_put_json_str(out, r->node);
	ax_buf_puts(out, ",\"NodeID\":");
	ax_buf_put_json_str(out, r->node_id);
	ax_buf_puts(out,
	    ",\"Server\":true,\"Revision\":\"axon\","
	    "\"Version\":\"1.15.0\"},\"Member\":{\"Name\":");
	ax_buf_put_json_str(out, r->node);
	ax_buf_puts(out, ",\"Addr\":");
	ax_buf_put_json_str(out, r->node_addr);
	ax_buf_puts(out, ",\"Port\":8301,\"Tags\":{\"dc\":");
	ax_buf_put_json_str(out, r->dc);
	ax_buf_puts(out, ",\"role\":\"consul\"},\"Status\":1},\"Meta\":");
	put_pairs(out, r->node_meta);
	ax_buf_putc(out, '}');
	pthread_mutex_unlock(&r->mu);
}

void disc_reg_catalog_nodes(disc_reg_t *r, ax_buf_t *out, uint64_t *index)
{
	pthread_mutex_lock(&r->mu);
	*index = r->index;
	ax_buf_puts(out, "[{");
	put_node_fields(r, out, 1);
	ax_buf_puts(out, ",\"CreateIndex\":1,\"ModifyIndex\":1}]");
	pthread_mutex_unlock(&r->mu);
}

/* ---- health checker side ---- */

static char **strv_dup(char *const *v)
{
	size_t n = 0, i;
	char **o;

	while (v && v[n])
		n++;
	if ((o = calloc(n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((o[i] = strdup(v[i])) == NULL) {
			strv_free(o);
			return NULL;
		}
	return o;
}

void disc_probes_free(disc_probe_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].service_id);
		free(p[i].check_id);
		free(p[i].target);
		free(p[i].method);
		strv_free(p[i].headers);
	}
	free(p);
}

int disc_reg_tick(disc_reg_t *r, int64_t now, disc_probe_t **probes, size_t *n)
{
	disc_probe_t *v = NULL;
	size_t nv = 0, cap = 0, i, k;
	int changed = 0;

	*probes = NULL;
	*n = 0;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		svc_t *sv = r->svc[i];

		for (k = 0; k < sv->n_checks; k++) {
			check_t *c = &sv->checks[k];
			disc_probe_t *p;

			if (c->ttl_ms > 0) {
				if (now >= c->ttl_deadline &&
				    c->status != DISC_CRITICAL)
					changed |= set_status(r, sv, c,
					    DISC_CRITICAL, "TTL expired");
				continue;
			}
			if (c->running || now < c->next_run)
				continue;
			if (ax_grow((void **)&v, &cap, nv + 1, sizeof(*v)) != 0)
				continue;
			p = &v[nv];
			memset(p, 0, sizeof(*p));
			p->service_id = strdup(sv->id);
			p->check_id = strdup(c->id);
			p->tcp = c->tcp != NULL;
			p->target = strdup(c->tcp ? c->tcp : c->http);
			p->method = strdup(c->method);
			p->headers = strv_dup(c->headers);
			p->timeout_ms = c->timeout_ms;
			p->tls_skip_verify = c->tls_skip_verify;
			if (!p->service_id || !p->check_id || !p->target ||
			    !p->method || !p->headers) {
				disc_probes_free(p, 1);
				continue;
			}
			nv++;
			c->running = 1;
			c->next_run = now + c->interval_ms;
		}
	}
	/* services critical for longer than they allow */
	for (i = 0; i < r->n;) {
		svc_t *sv = r->svc[i];
		int reap = 0;

		for (k = 0; k < sv->n_checks && !reap; k++) {
			const check_t *c = &sv->checks[k];

			reap = c->dereg_ms > 0 && c->status == DISC_CRITICAL &&
			    c->critical_since > 0 &&
			    now - c->critical_since >= c->dereg_ms;
		}
		if (reap) {
			char *id = strdup(sv->id);
			ax_err_t e;

			if (id && dereg_locked(r, id, &e) == 0) {
				ax_log_info("deregistered a service critical "
				            "for longer than "
				            "DeregisterCriticalServiceAfter",
				    "service_id", id);
				ax_counter_inc(r->m_reaped);
				changed = 1;
				free(id);
				continue; /* the table moved down */
			}
			free(id);
		}
		i++;
	}
	pthread_mutex_unlock(&r->mu);
	if (changed)
		notify(r);
	*probes = v;
	*n = nv;
	return 0;
}

void disc_reg_probe_done(
    disc_reg_t *r, const disc_probe_t *p, int status, const char *output)
{
	check_t *c;
	svc_t *sv;
	long at;
	int ch = 0;

	ax_counter_inc(r->m_probes);
	pthread_mutex_lock(&r->mu);
	at = find_svc(r, p->service_id, NULL);
	if (at >= 0) {
		sv = r->svc[at];
		c = find_check(r, p->check_id, &sv);
		if (c && sv == r->svc[at]) {
			c->running = 0;
			ch = set_status(r, sv, c, status, output);
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (ch)
		notify(r);
}

/* ---- visiting ---- */

void disc_reg_visit(disc_reg_t *r, disc_visit_fn fn, void *arg)
{
	size_t i, k;
	ax_buf_t lb = AX_BUF_INIT;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		const svc_t *sv = r->svc[i];
		const char *host = sv->address[0] ? sv->address : r->node_addr;
		char addr[600], port[16], *tags;
		const char *lv[2 * (16 + 2 * META_MAX_PAIRS) + 1];
		char *owned[2 * META_MAX_PAIRS + 8];
		size_t n = 0, no = 0;
		ax_buf_t tb = AX_BUF_INIT;

		snprintf(addr, sizeof(addr),
		    strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, sv->port);
		snprintf(port, sizeof(port), "%d", sv->port);
		ax_buf_putc(&tb, ',');
		for (k = 0; k < sv->n_tags; k++) {
			if (k)
				ax_buf_putc(&tb, ',');
			ax_buf_puts(&tb, sv->tags[k]);
		}
		ax_buf_putc(&tb, ',');
		ax_buf_putc(&tb, '\0');
		tags = ax_buf_ok(&tb) ? tb.p : (char *)",,";
#define L(a, b)                                                                \
	do {                                                                   \
		lv[n++] = (a);                                                 \
		lv[n++] = (b);                                                 \
	} while (0)
		L("__address__", addr);
		L("__meta_consul_address", r->node_addr);
		L("__meta_consul_dc", r->dc);
		L("__meta_consul_health", disc_status_name(aggregate(sv)));
		L("__meta_consul_node", r->node);
		L("__meta_consul_service", sv->name);
		L("__meta_consul_service_address", sv->address);
		L("__meta_consul_service_id", sv->id);
		L("__meta_consul_service_port", port);
		L("__meta_consul_tags", tags);
		L("__meta_consul_tagged_address_lan", r->node_addr);
		L("__meta_consul_tagged_address_lan_ipv4", r->node_addr);
		L("__meta_consul_tagged_address_wan", r->node_addr);
		L("__meta_consul_tagged_address_wan_ipv4", r->node_addr);
		for (k = 0; r->node_meta[k] && r->node_meta[k + 1] &&
		     no < sizeof(owned) / sizeof(owned[0]);
		     k += 2) {
			char *nm;

			if (asprintf(&nm, "__meta_consul_metadata_%s",
			        r->node_meta[k]) < 0)
				continue;
			ax_label_name_sanitize(nm + 7);
			owned[no++] = nm;
			L(nm, r->node_meta[k + 1]);
		}
		for (k = 0;
		     k < sv->n_meta && no < sizeof(owned) / sizeof(owned[0]);
		     k++) {
			char *nm;

			if (asprintf(&nm, "__meta_consul_service_metadata_%s",
			        sv->meta[2 * k]) < 0)
				continue;
			ax_label_name_sanitize(nm + 7);
			owned[no++] = nm;
			L(nm, sv->meta[2 * k + 1]);
		}
#undef L
		lv[n] = NULL;
		fn(arg, sv->name, lv, (const char *const *)sv->deps);
		for (k = 0; k < no; k++)
			free(owned[k]);
		ax_buf_fini(&tb);
	}
	pthread_mutex_unlock(&r->mu);
	ax_buf_fini(&lb);
}

size_t disc_reg_count(disc_reg_t *r)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}
