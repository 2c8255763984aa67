/*
 * ax_rw: remote-write 1.0 sender (see ax_rw.h).
 */
#include "ax_rw.h"
#include "ax_log.h"
#include "ax_msg.h"
#include "ax_units.h"
#include "prometheus/remote.pb-c.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- configuration ---- */

const ax_cfg_field_t ax_rw_basic_auth_fields[] = {
    {.name = "username",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_basic_auth_t, username)},
    {.name = "password",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_basic_auth_t, password)},
    {.name = "password_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_basic_auth_t, password_file)},
    {0},
};

const ax_cfg_field_t ax_rw_authorization_fields[] = {
    {.name = "type",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_authorization_t, type)},
    {.name = "credentials",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_authorization_t, credentials)},
    {.name = "credentials_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_authorization_t, credentials_file)},
    {0},
};

const ax_cfg_field_t ax_rw_tls_fields[] = {
    {.name = "ca_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_tls_t, ca_file)},
    {.name = "cert_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_tls_t, cert_file)},
    {.name = "key_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_tls_t, key_file)},
    {.name = "server_name",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_tls_t, server_name)},
    {.name = "insecure_skip_verify",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_tls_t, insecure_skip_verify)},
    {0},
};

static const ax_cfg_field_t queue_fields[] = {
    {.name = "capacity",
        .type = AX_CFG_INT,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, capacity)},
    {.name = "max_shards",
        .type = AX_CFG_INT,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, max_shards)},
    {.name = "min_shards",
        .type = AX_CFG_INT,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, min_shards)},
    {.name = "max_samples_per_send",
        .type = AX_CFG_INT,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, max_samples_per_send)},
    {.name = "batch_send_deadline",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, batch_send_deadline_ms)},
    {.name = "min_backoff",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, min_backoff_ms)},
    {.name = "max_backoff",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_queue_config_t, max_backoff_ms)},
    {.name = "retry_on_http_429",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_queue_config_t, retry_on_http_429)},
    {0},
};

static const ax_cfg_field_t metadata_fields[] = {
    {.name = "send",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_config_t, metadata_send)},
    {.name = "send_interval",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_config_t, metadata_send_interval_ms)},
    {.name = "max_samples_per_send",
        .type = AX_CFG_INT,
        .offset = offsetof(ax_rw_config_t, metadata_max_samples_per_send)},
    {0},
};

static int decode_headers(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err);
static void free_headers(void *dst);

/* Features of Prometheus' remote_write that Axon refuses rather than
 * ignores: silently dropping them would send data the user filtered or
 * authenticated otherwise. */
static int refuse_feature(
    ax_cfg_t *c, yaml_node_t *node, const char *path, void *dst, ax_err_t *err)
{
	(void)dst;
	if (node->type == YAML_SEQUENCE_NODE &&
	    node->data.sequence.items.start == node->data.sequence.items.top)
		return 0; /* an empty list asks for nothing */
	if (node->type == YAML_SCALAR_NODE &&
	    strcmp((char *)node->data.scalar.value, "false") == 0)
		return 0;
	return ax_cfg_errorf(c, node, path, err,
	    "not supported by axon in this version (remove it, or use an empty "
	    "value)");
}

const ax_cfg_field_t ax_rw_fields[] = {
    {.name = "url",
        .type = AX_CFG_STRING,
        .flags = AX_CFG_REQUIRED,
        .offset = offsetof(ax_rw_config_t, url)},
    {.name = "name",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_config_t, name)},
    {.name = "remote_timeout",
        .type = AX_CFG_DURATION,
        .flags = AX_CFG_POSITIVE,
        .offset = offsetof(ax_rw_config_t, remote_timeout_ms)},
    {.name = "headers",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ax_rw_config_t, headers),
        .decode = decode_headers,
        .free_fn = free_headers},
    {.name = "send_exemplars",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_config_t, send_exemplars)},
    {.name = "send_native_histograms",
        .type = AX_CFG_CUSTOM,
        .decode = refuse_feature},
    {.name = "write_relabel_configs",
        .type = AX_CFG_CUSTOM,
        .offset = offsetof(ax_rw_config_t, write_relabel),
        .decode = ax_relabel_decode,
        .free_fn = ax_relabel_free},
    {.name = "sigv4", .type = AX_CFG_CUSTOM, .decode = refuse_feature},
    {.name = "oauth2", .type = AX_CFG_CUSTOM, .decode = refuse_feature},
    {.name = "follow_redirects",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_config_t, follow_redirects)},
    {.name = "enable_http2",
        .type = AX_CFG_BOOL,
        .offset = offsetof(ax_rw_config_t, enable_http2)},
    {.name = "proxy_url",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_config_t, proxy_url)},
    {.name = "bearer_token",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_config_t, bearer_token)},
    {.name = "bearer_token_file",
        .type = AX_CFG_STRING,
        .offset = offsetof(ax_rw_config_t, bearer_token_file)},
    {.name = "basic_auth",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ax_rw_config_t, basic_auth),
        .fields = ax_rw_basic_auth_fields},
    {.name = "authorization",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ax_rw_config_t, authorization),
        .fields = ax_rw_authorization_fields},
    {.name = "tls_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ax_rw_config_t, tls_config),
        .fields = ax_rw_tls_fields},
    {.name = "queue_config",
        .type = AX_CFG_SECTION,
        .offset = offsetof(ax_rw_config_t, queue_config),
        .fields = queue_fields},
    {.name = "metadata_config",
        .type = AX_CFG_SECTION,
        .offset = 0,
        .fields = metadata_fields},
    {0},
};

/* headers: a plain string map (not label-name restricted). */
static int decode_headers(
    ax_cfg_t *c, yaml_node_t *n, const char *path, void *dst, ax_err_t *err)
{
	yaml_node_pair_t *p;
	ax_label_t pairs[64];
	size_t np = 0;
	ax_err_t e;

	if (n->type != YAML_MAPPING_NODE)
		return ax_cfg_errorf(
		    c, n, path, err, "want a map of header names to values");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&c->doc, p->value);
		const char *ks = ax_cfg_scalar(k), *vs = ax_cfg_scalar(v);

		if (vs == NULL)
			return ax_cfg_errorf(
			    c, v, path, err, "header value must be a string");
		if (np == 64)
			return ax_cfg_errorf(
			    c, k, path, err, "too many headers");
		if (strcasecmp(ks, "Authorization") == 0 ||
		    strcasecmp(ks, "Content-Encoding") == 0 ||
		    strcasecmp(ks, "Content-Type") == 0 ||
		    strcasecmp(ks, "User-Agent") == 0 ||
		    strcasecmp(ks, "X-Prometheus-Remote-Write-Version") == 0)
			return ax_cfg_errorf(c, k, path, err,
			    "%s is a reserved header. It must not be changed",
			    ks);
		pairs[np].name = ks;
		pairs[np].value = vs;
		np++;
	}
	if (ax_labels_new(pairs, np, (ax_labels_t **)dst, &e) != 0)
		return ax_cfg_errorf(c, n, path, err, "%s", e.msg);
	return 0;
}

static void free_headers(void *dst)
{
	ax_labels_free(*(ax_labels_t **)dst);
	*(ax_labels_t **)dst = NULL;
}

void ax_rw_config_init(void *p)
{
	ax_rw_config_t *c = p;

	memset(c, 0, sizeof(*c));
	c->remote_timeout_ms = 30000;
	c->follow_redirects = 1;
	c->enable_http2 = 1;
	c->queue_config.capacity = 2500;
	c->queue_config.max_shards = 200;
	c->queue_config.min_shards = 1;
	c->queue_config.max_samples_per_send = 500;
	c->queue_config.batch_send_deadline_ms = 5000;
	c->queue_config.min_backoff_ms = 30;
	c->queue_config.max_backoff_ms = 5000;
	c->queue_config.retry_on_http_429 = 1;
	c->metadata_send = 1;
	c->metadata_send_interval_ms = 60000;
	c->metadata_max_samples_per_send = 500;
}

int ax_rw_config_check(
    const ax_rw_config_t *c, const char *file, const char *path, ax_err_t *err)
{
	int n_auth = 0;

	if (c->url == NULL ||
	    (strncmp(c->url, "http://", 7) != 0 &&
	        strncmp(c->url, "https://", 8) != 0))
		return ax_err_set(err, AX_ECONFIG,
		    "%s: %s.url: \"%s\" is not an http(s) URL", file, path,
		    c->url ? c->url : "");
	n_auth += c->basic_auth.username || c->basic_auth.password ||
	    c->basic_auth.password_file;
	n_auth +=
	    c->authorization.credentials || c->authorization.credentials_file;
	n_auth += c->bearer_token || c->bearer_token_file;
	if (n_auth > 1)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: %s: at most one of basic_auth, authorization and "
		    "bearer_token(_file) must be configured",
		    file, path);
	if (c->basic_auth.password && c->basic_auth.password_file)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: %s.basic_auth: at most one of password and "
		    "password_file must be configured",
		    file, path);
	if (c->queue_config.min_shards > c->queue_config.max_shards)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: %s.queue_config: min_shards is larger than max_shards",
		    file, path);
	if (c->queue_config.min_backoff_ms > c->queue_config.max_backoff_ms)
		return ax_err_set(err, AX_ECONFIG,
		    "%s: %s.queue_config: min_backoff is larger than "
		    "max_backoff",
		    file, path);
	return 0;
}

/* ---- snappy ---- */

int ax_snappy_compress(const void *in, size_t len, ax_buf_t *out, ax_err_t *err)
{
	size_t cap = snappy_max_compressed_length(len);

	if (ax_buf_reserve(out, cap) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (snappy_compress(in, len, out->p + out->len, &cap) != SNAPPY_OK)
		return ax_err_set(
		    err, AX_EINTERNAL, "snappy compression failed");
	out->len += cap;
	out->p[out->len] = '\0';
	return 0;
}

int ax_snappy_decompress(
    const void *in, size_t len, size_t max_bytes, ax_buf_t *out, ax_err_t *err)
{
	size_t ulen;

	if (snappy_uncompressed_length(in, len, &ulen) != SNAPPY_OK)
		return ax_err_set(err, AX_EPROTO,
		    "snappy: corrupt input (bad length header)");
	if (ulen > max_bytes)
		return ax_err_set(err, AX_ETOOBIG,
		    "snappy: decoded size %zu exceeds the limit of %zu bytes",
		    ulen, max_bytes);
	if (ax_buf_reserve(out, ulen) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if (snappy_uncompress(in, len, out->p + out->len, &ulen) != SNAPPY_OK)
		return ax_err_set(err, AX_EPROTO, "snappy: corrupt input");
	out->len += ulen;
	out->p[out->len] = '\0';
	return 0;
}

/* ---- sender ---- */

typedef struct rw_sample {
	uint64_t ref;
	int64_t ts;
	double v;
} rw_sample_t;

/* An exemplar waiting to be sent (labels owned). */
typedef struct rw_ex {
	uint64_t ref;
	ax_labels_t *ls;
	int64_t ts;
	double v;
} rw_ex_t;

#define MAX_EX_PER_SHARD 10000

typedef struct shard {
	struct ax_rw_sender *s;
	rw_ex_t *ex; /* exemplars, sent with the next batch */
	size_t n_ex, cap_ex;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_nonempty;
	pthread_cond_t cv_nonfull;
	rw_sample_t *ring;
	size_t head, n, cap;
	CURL *curl;
	int started;
	int overflowing; /* ax_rw_offer: dropping until a sample fits */
} shard_t;

typedef struct series_ent {
	uint64_t ref;
	ax_labels_t *ls;
	int dropped; /* by write_relabel_configs: samples are skipped */
} series_ent_t;

struct ax_rw_sender {
	ax_rw_config_t cfg; /* strings owned: url, auth */
	char *url;
	char *auth_header; /* "Authorization: ..." or NULL */
	char *basic_user, *basic_pass;
	struct curl_slist *headers;
	shard_t *shards;
	size_t n_shards;
	volatile int stopping;
	int n_overflowing; /* shards in an ax_rw_offer overflow episode */
	int64_t flush_deadline_ms;
	pthread_rwlock_t series_mu;
	series_ent_t *series; /* open addressing on ref */
	size_t series_cap, series_n;
	/* stats */
	pthread_mutex_t stat_mu;
	ax_rw_stats_t st;
	ax_metric_t *m_sent, *m_failed, *m_retried, *m_dropped, *m_bytes;
	ax_metric_t *m_pending, *m_shards, *m_dur, *m_ex_sent, *m_ex_drop;
};

static size_t discard_cb(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

int ax_rw_auth_apply(void *curl, const ax_rw_basic_auth_t *ba,
    const ax_rw_authorization_t *az, const char *bearer,
    const char *bearer_file, struct curl_slist **hdrs, ax_err_t *err)
{
	CURL *c = curl;
	char *secret = NULL, hdr[4200];
	struct curl_slist *n;

	if (ba->username) {
		if (ba->password_file &&
		    (secret = ax_rw_read_secret_file(ba->password_file, err)) ==
		        NULL)
			return err->code;
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, ba->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    secret             ? secret
		        : ba->password ? ba->password
		                       : "");
		free(secret);
		secret = NULL;
	}
	if (az->credentials || az->credentials_file || bearer || bearer_file) {
		const char *file =
		    az->credentials_file ? az->credentials_file : bearer_file;

		if (file &&
		    (secret = ax_rw_read_secret_file(file, err)) == NULL)
			return err->code;
		snprintf(hdr, sizeof(hdr), "Authorization: %s %s",
		    az->type ? az->type : "Bearer",
		    secret                ? secret
		        : az->credentials ? az->credentials
		                          : bearer);
		free(secret);
		if ((n = curl_slist_append(*hdrs, hdr)) == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		*hdrs = n;
	}
	return 0;
}

/* server_name: OpenSSL checks the certificate against it instead of the
 * URL's host (curl's own host check is then off). */
static CURLcode server_name_cb(CURL *c, void *ssl_ctx, void *arg)
{
	X509_VERIFY_PARAM *p = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);

	(void)c;
	X509_VERIFY_PARAM_set_hostflags(
	    p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_host(p, (const char *)arg, 0) != 1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

void ax_rw_tls_apply(void *curl, const ax_rw_tls_t *t)
{
	CURL *c = curl;

	if (t->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
	if (t->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, t->cert_file);
	if (t->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, t->key_file);
	if (t->insecure_skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (t->server_name && *t->server_name) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, server_name_cb);
		curl_easy_setopt(
		    c, CURLOPT_SSL_CTX_DATA, (void *)t->server_name);
	}
}

char *ax_rw_read_secret_file(const char *path, ax_err_t *err)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL) {
		ax_err_set(err, AX_ECONFIG, "cannot read %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 &&
	    (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return strdup(buf);
}

static series_ent_t *series_find(
    ax_rw_sender_t *s, uint64_t ref, int for_insert)
{
	size_t i, mask = s->series_cap - 1;

	for (i = (ref * 0x9e3779b97f4a7c15ULL) & mask;; i = (i + 1) & mask) {
		series_ent_t *e = &s->series[i];

		if (e->ls == NULL && !for_insert)
			return NULL;
		if (e->ls == NULL || e->ref == ref)
			return e;
	}
}

static int series_grow(ax_rw_sender_t *s)
{
	series_ent_t *old = s->series;
	size_t oc = s->series_cap, i;

	s->series_cap = oc ? oc * 2 : 1024;
	s->series = calloc(s->series_cap, sizeof(*s->series));
	if (s->series == NULL) {
		s->series = old;
		s->series_cap = oc;
		return AX_ENOMEM;
	}
	for (i = 0; i < oc; i++)
		if (old[i].ls)
			*series_find(s, old[i].ref, 1) = old[i];
	free(old);
	return 0;
}

int ax_rw_store_series(ax_rw_sender_t *s, uint64_t ref, const ax_labels_t *ls)
{
	ax_labels_t *c = NULL;
	series_ent_t *e;
	int dropped = 0;

	if (s->cfg.write_relabel.n > 0) {
		ax_err_t err;
		int rv =
		    ax_relabel_process(&s->cfg.write_relabel, ls, &c, &err);

		if (rv < 0)
			return rv;
		if (rv == 0) {
			dropped = 1;
			c = ax_labels_dup(ls);
		}
	} else {
		c = ax_labels_dup(ls);
	}
	if (c == NULL)
		return AX_ENOMEM;
	pthread_rwlock_wrlock(&s->series_mu);
	if ((s->series_n + 1) * 2 > s->series_cap && series_grow(s) != 0) {
		pthread_rwlock_unlock(&s->series_mu);
		ax_labels_free(c);
		return AX_ENOMEM;
	}
	e = series_find(s, ref, 1);
	if (e->ls == NULL)
		s->series_n++;
	ax_labels_free(e->ls);
	e->ref = ref;
	e->ls = c;
	e->dropped = dropped;
	pthread_rwlock_unlock(&s->series_mu);
	return 0;
}

void ax_rw_drop_series(ax_rw_sender_t *s, uint64_t ref)
{
	series_ent_t *e;
	size_t i, j, mask;

	pthread_rwlock_wrlock(&s->series_mu);
	if (s->series_cap == 0 || (e = series_find(s, ref, 0)) == NULL) {
		pthread_rwlock_unlock(&s->series_mu);
		return;
	}
	ax_labels_free(e->ls);
	e->ls = NULL;
	s->series_n--;
	/* backward-shift deletion keeps probe chains intact */
	mask = s->series_cap - 1;
	i = (size_t)(e - s->series);
	for (j = (i + 1) & mask; s->series[j].ls; j = (j + 1) & mask) {
		series_ent_t moved = s->series[j];

		s->series[j].ls = NULL;
		*series_find(s, moved.ref, 1) = moved;
	}
	pthread_rwlock_unlock(&s->series_mu);
}

int ax_rw_append(
    ax_rw_sender_t *s, uint64_t ref, int64_t ts, double v, int64_t timeout_ms)
{
	shard_t *sh = &s->shards[ref % s->n_shards];
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&sh->mu);
	while (sh->n == sh->cap && !s->stopping) {
		if (timeout_ms <= 0 ||
		    pthread_cond_timedwait(&sh->cv_nonfull, &sh->mu, &dl) ==
		        ETIMEDOUT) {
			pthread_mutex_unlock(&sh->mu);
			return AX_EFULL;
		}
	}
	if (s->stopping) {
		pthread_mutex_unlock(&sh->mu);
		return AX_ECLOSED;
	}
	sh->ring[(sh->head + sh->n) % sh->cap] = (rw_sample_t){ref, ts, v};
	sh->n++;
	if (sh->n >= (size_t)s->cfg.queue_config.max_samples_per_send)
		pthread_cond_signal(&sh->cv_nonempty);
	pthread_mutex_unlock(&sh->mu);
	ax_gauge_add(s->m_pending, 1);
	return 0;
}

int ax_rw_append_exemplar(ax_rw_sender_t *s, uint64_t ref,
    const ax_labels_t *ls, double v, int64_t ts_ms)
{
	shard_t *sh = &s->shards[ref % s->n_shards];
	ax_labels_t *c;

	if (!s->cfg.send_exemplars)
		return 0;
	if ((c = ax_labels_dup(ls)) == NULL)
		return AX_ENOMEM;
	pthread_mutex_lock(&sh->mu);
	if (s->stopping || sh->n_ex >= MAX_EX_PER_SHARD ||
	    ax_grow((void **)&sh->ex, &sh->cap_ex, sh->n_ex + 1,
	        sizeof(*sh->ex)) != 0) {
		pthread_mutex_unlock(&sh->mu);
		ax_labels_free(c);
		ax_counter_inc(s->m_ex_drop);
		return AX_EFULL;
	}
	sh->ex[sh->n_ex++] = (rw_ex_t){ref, c, ts_ms, v};
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

static void add_stat(
    ax_rw_sender_t *s, uint64_t *field, ax_metric_t *m, uint64_t n)
{
	pthread_mutex_lock(&s->stat_mu);
	*field += n;
	pthread_mutex_unlock(&s->stat_mu);
	ax_counter_add(m, (double)n);
}

int ax_rw_offer(ax_rw_sender_t *s, uint64_t ref, int64_t ts, double v)
{
	shard_t *sh = &s->shards[ref % s->n_shards];
	int over = __atomic_load_n(&sh->overflowing, __ATOMIC_RELAXED);
	int rv = ax_rw_append(s, ref, ts, v, over ? 0 : AX_RW_OFFER_GRACE_MS);

	if (rv == 0) {
		if (over &&
		    __atomic_exchange_n(&sh->overflowing, 0, __ATOMIC_RELAXED))
			__atomic_sub_fetch(&s->n_overflowing, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (rv != AX_EFULL)
		return rv;
	add_stat(s, &s->st.dropped, s->m_dropped, 1);
	if (!__atomic_exchange_n(&sh->overflowing, 1, __ATOMIC_RELAXED)) {
		if (__atomic_add_fetch(&s->n_overflowing, 1, __ATOMIC_RELAXED) ==
		    1)
			ax_log_warn("remote write: the queue is full; samples "
			            "are dropped until it drains",
			    "url", s->url);
	}
	return AX_EFULL;
}

void ax_rw_stats(ax_rw_sender_t *s, ax_rw_stats_t *out)
{
	size_t i;

	pthread_mutex_lock(&s->stat_mu);
	*out = s->st;
	pthread_mutex_unlock(&s->stat_mu);
	out->pending = 0;
	for (i = 0; i < s->n_shards; i++) {
		pthread_mutex_lock(&s->shards[i].mu);
		out->pending += s->shards[i].n;
		pthread_mutex_unlock(&s->shards[i].mu);
	}
}

/* Start TimeSeries t with the labels of ls, placed at lab[*n_lab..]. */
static void series_labels(Prometheus__TimeSeries *t, const ax_labels_t *ls,
    Prometheus__Label *lab, Prometheus__Label **labp, size_t *n_lab)
{
	size_t k;

	prometheus__time_series__init(t);
	t->labels = &labp[*n_lab];
	t->n_labels = ls->n;
	for (k = 0; k < ls->n; k++) {
		prometheus__label__init(&lab[*n_lab]);
		lab[*n_lab].name = (char *)ls->l[k].name;
		lab[*n_lab].value = (char *)ls->l[k].value;
		labp[*n_lab] = &lab[*n_lab];
		(*n_lab)++;
	}
}

/* Build the snappy-compressed WriteRequest for batch[0..n).  Samples whose
 * series is unknown are dropped and counted. */
static int encode_batch(ax_rw_sender_t *s, const rw_sample_t *batch, size_t n,
    const rw_ex_t *ex, size_t n_ex, ax_buf_t *out, size_t *n_encoded,
    size_t *n_ex_encoded)
{
	Prometheus__Exemplar *exm = NULL, **exmp = NULL;
	Prometheus__Label *exl = NULL, **exlp = NULL;
	size_t n_exl = 0, total_exl = 0, n_smp_ts = 0;
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	Prometheus__TimeSeries *ts = NULL, **tsp = NULL;
	Prometheus__Sample *smp = NULL, **smpp = NULL;
	Prometheus__Label *lab = NULL, **labp = NULL;
	size_t i, k, n_ts = 0, n_lab = 0, total_labels = 0, n_relabeled = 0;
	ax_buf_t raw = AX_BUF_INIT;
	int rv = AX_ENOMEM;
	ax_err_t e;

	pthread_rwlock_rdlock(&s->series_mu);
	for (i = 0; i < n; i++) {
		series_ent_t *se =
		    s->series_cap ? series_find(s, batch[i].ref, 0) : NULL;

		if (se && !se->dropped)
			total_labels += se->ls->n;
		else if (se)
			n_relabeled++;
	}
	for (i = 0; i < n_ex; i++) {
		series_ent_t *se =
		    s->series_cap ? series_find(s, ex[i].ref, 0) : NULL;

		if (se && !se->dropped) {
			total_labels += se->ls->n;
			total_exl += ex[i].ls->n;
		}
	}
	exm = calloc(n_ex + 1, sizeof(*exm));
	exmp = calloc(n_ex + 1, sizeof(*exmp));
	exl = calloc(total_exl + 1, sizeof(*exl));
	exlp = calloc(total_exl + 1, sizeof(*exlp));
	ts = calloc(n + n_ex + 1, sizeof(*ts));
	tsp = calloc(n + n_ex + 1, sizeof(*tsp));
	smp = calloc(n ? n : 1, sizeof(*smp));
	smpp = calloc(n ? n : 1, sizeof(*smpp));
	lab = calloc(total_labels ? total_labels : 1, sizeof(*lab));
	labp = calloc(total_labels ? total_labels : 1, sizeof(*labp));
	if (!ts || !tsp || !smp || !smpp || !lab || !labp || !exm || !exmp ||
	    !exl || !exlp)
		goto done;
	for (i = 0; i < n; i++) {
		series_ent_t *se =
		    s->series_cap ? series_find(s, batch[i].ref, 0) : NULL;
		Prometheus__TimeSeries *t;

		if (se == NULL || se->dropped)
			continue;
		t = &ts[n_ts];
		series_labels(t, se->ls, lab, labp, &n_lab);
		prometheus__sample__init(&smp[n_ts]);
		smp[n_ts].value = batch[i].v;
		smp[n_ts].timestamp = batch[i].ts;
		smpp[n_ts] = &smp[n_ts];
		t->samples = &smpp[n_ts];
		t->n_samples = 1;
		tsp[n_ts] = t;
		n_ts++;
	}
	/* exemplars travel as series of their own, as Prometheus sends them */
	n_smp_ts = n_ts;
	for (i = 0; i < n_ex; i++) {
		series_ent_t *se =
		    s->series_cap ? series_find(s, ex[i].ref, 0) : NULL;
		Prometheus__TimeSeries *t;
		Prometheus__Exemplar *x = &exm[i];

		if (se == NULL || se->dropped)
			continue;
		t = &ts[n_ts];
		series_labels(t, se->ls, lab, labp, &n_lab);
		prometheus__exemplar__init(x);
		x->labels = &exlp[n_exl];
		x->n_labels = ex[i].ls->n;
		for (k = 0; k < ex[i].ls->n; k++) {
			prometheus__label__init(&exl[n_exl]);
			exl[n_exl].name = (char *)ex[i].ls->l[k].name;
			exl[n_exl].value = (char *)ex[i].ls->l[k].value;
			exlp[n_exl] = &exl[n_exl];
			n_exl++;
		}
		x->value = ex[i].v;
		x->timestamp = ex[i].ts;
		exmp[i] = x;
		t->exemplars = &exmp[i];
		t->n_exemplars = 1;
		tsp[n_ts++] = t;
	}
	wr.timeseries = tsp;
	wr.n_timeseries = n_ts;
	rv = ax_msg_pack_buf(&wr.base, 0, &raw, &e);
	pthread_rwlock_unlock(&s->series_mu);
	if (rv == 0)
		rv = ax_snappy_compress(raw.p ? raw.p : "", raw.len, out, &e);
	if (n_smp_ts + n_relabeled < n)
		add_stat(s, &s->st.dropped, s->m_dropped,
		    n - n_smp_ts - n_relabeled);
	if (n_relabeled > 0)
		add_stat(s, &s->st.relabeled, NULL, n_relabeled);
	*n_encoded = n_smp_ts;
	*n_ex_encoded = n_ts - n_smp_ts;
	goto out;
done:
	pthread_rwlock_unlock(&s->series_mu);
out:
	free(ts);
	free(tsp);
	free(smp);
	free(smpp);
	free(lab);
	free(labp);
	free(exm);
	free(exmp);
	free(exl);
	free(exlp);
	ax_buf_fini(&raw);
	return rv;
}

/* 0 sent, 1 retry, 2 drop */
static int post_batch(ax_rw_sender_t *s, shard_t *sh, const ax_buf_t *body,
    long *code_out, char *errbuf)
{
	CURLcode cc;
	long code = 0;

	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDS, body->p);
	curl_easy_setopt(
	    sh->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	errbuf[0] = '\0';
	cc = curl_easy_perform(sh->curl);
	if (cc != CURLE_OK) {
		*code_out = 0;
		if (!errbuf[0])
			snprintf(errbuf, CURL_ERROR_SIZE, "%s",
			    curl_easy_strerror(cc));
		return 1;
	}
	curl_easy_getinfo(sh->curl, CURLINFO_RESPONSE_CODE, &code);
	*code_out = code;
	if (code / 100 == 2)
		return 0;
	if (code / 100 == 5 ||
	    (code == 429 && s->cfg.queue_config.retry_on_http_429))
		return 1;
	return 2;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *shard_main(void *arg)
{
	shard_t *sh = arg;
	ax_rw_sender_t *s = sh->s;
	size_t max = (size_t)s->cfg.queue_config.max_samples_per_send;
	rw_sample_t *batch = malloc(max * sizeof(*batch));
	rw_ex_t *exb = NULL;
	size_t n_exb = 0;
	ax_buf_t body = AX_BUF_INIT;
	char errbuf[CURL_ERROR_SIZE];

	if (batch == NULL) {
		ax_log_error("remote write shard could not allocate its batch");
		return NULL;
	}
	curl_easy_setopt(sh->curl, CURLOPT_ERRORBUFFER, errbuf);
	for (;;) {
		size_t n = 0, n_enc = 0, n_ex_enc = 0, i;
		struct timespec dl;
		int64_t backoff = s->cfg.queue_config.min_backoff_ms;
		int64_t t0;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += s->cfg.queue_config.batch_send_deadline_ms / 1000;
		dl.tv_nsec +=
		    (s->cfg.queue_config.batch_send_deadline_ms % 1000) *
		    1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&sh->mu);
		while (sh->n < max && !s->stopping) {
			if (pthread_cond_timedwait(
			        &sh->cv_nonempty, &sh->mu, &dl) == ETIMEDOUT)
				break;
		}
		if (sh->n == 0 && sh->n_ex == 0 && s->stopping) {
			pthread_mutex_unlock(&sh->mu);
			break;
		}
		for (; n < max && sh->n > 0; n++) {
			batch[n] = sh->ring[sh->head];
			sh->head = (sh->head + 1) % sh->cap;
			sh->n--;
		}
		/* the exemplars queued so far go along (their samples were
		 * queued before them) */
		for (i = 0; i < n_exb; i++)
			ax_labels_free(exb[i].ls);
		free(exb);
		exb = sh->ex;
		n_exb = sh->n_ex;
		sh->ex = NULL;
		sh->n_ex = sh->cap_ex = 0;
		pthread_cond_broadcast(&sh->cv_nonfull);
		pthread_mutex_unlock(&sh->mu);
		if (n == 0 && n_exb == 0)
			continue;
		ax_gauge_add(s->m_pending, -(double)n);
		ax_buf_reset(&body);
		if (encode_batch(s, batch, n, exb, n_exb, &body, &n_enc,
		        &n_ex_enc) != 0) {
			ax_log_error("remote write: cannot encode batch (out "
			             "of memory); samples dropped",
			    "remote_name", s->cfg.name ? s->cfg.name : "");
			add_stat(s, &s->st.failed, s->m_failed, n);
			continue;
		}
		if (n_enc == 0 && n_ex_enc == 0)
			continue;
		for (i = 0;; i++) {
			long code;
			int r;

			t0 = ax_mono_ms();
			r = post_batch(s, sh, &body, &code, errbuf);
			ax_histogram_observe(
			    s->m_dur, (double)(ax_mono_ms() - t0) / 1000.0);
			if (r == 0) {
				add_stat(s, &s->st.sent, s->m_sent, n_enc);
				ax_counter_add(s->m_ex_sent, (double)n_ex_enc);
				ax_counter_add(s->m_bytes, (double)body.len);
				break;
			}
			if (r == 2) {
				char c[16];

				snprintf(c, sizeof(c), "%ld", code);
				ax_log_error(
				    "remote write: receiver refused the batch; "
				    "dropping it (non-retriable status)",
				    "url", s->url, "status", c, "samples",
				    ax_log_fmt_int(
				        (char[24]){0}, 24, (long long)n_enc));
				add_stat(s, &s->st.failed, s->m_failed, n_enc);
				break;
			}
			add_stat(s, &s->st.retried, s->m_retried, n_enc);
			if (s->stopping &&
			    ax_mono_ms() > s->flush_deadline_ms) {
				add_stat(s, &s->st.failed, s->m_failed, n_enc);
				break;
			}
			if (i == 0 || i % 10 == 0) {
				char c[16];

				snprintf(c, sizeof(c), "%ld", code);
				ax_log_warn("remote write: retriable failure, "
				            "backing off",
				    "url", s->url, "status", c, "err", errbuf);
			}
			sleep_ms(backoff);
			backoff =
			    backoff * 2 > s->cfg.queue_config.max_backoff_ms
			    ? s->cfg.queue_config.max_backoff_ms
			    : backoff * 2;
		}
	}
	while (n_exb > 0)
		ax_labels_free(exb[--n_exb].ls);
	free(exb);
	free(batch);
	ax_buf_fini(&body);
	return NULL;
}

static int setup_curl(ax_rw_sender_t *s, shard_t *sh, ax_err_t *err)
{
	CURL *c = curl_easy_init();
	const ax_rw_tls_t *t = &s->cfg.tls_config;

	if (c == NULL)
		return ax_err_set(err, AX_ENOMEM, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->cfg.remote_timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(s->cfg.remote_timeout_ms < 10000 ? s->cfg.remote_timeout_ms
	                                            : 10000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(
	    c, CURLOPT_FOLLOWLOCATION, s->cfg.follow_redirects ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!s->cfg.enable_http2)
		curl_easy_setopt(
		    c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	if (s->cfg.proxy_url)
		curl_easy_setopt(c, CURLOPT_PROXY, s->cfg.proxy_url);
	ax_rw_tls_apply(c, t);
	if (s->basic_user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, s->basic_user);
		curl_easy_setopt(
		    c, CURLOPT_PASSWORD, s->basic_pass ? s->basic_pass : "");
	}
	sh->curl = c;
	return 0;
}

static void sender_free(ax_rw_sender_t *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_shards; i++) {
		shard_t *sh = &s->shards[i];

		if (sh->curl)
			curl_easy_cleanup(sh->curl);
		free(sh->ring);
		while (sh->n_ex > 0)
			ax_labels_free(sh->ex[--sh->n_ex].ls);
		free(sh->ex);
		pthread_mutex_destroy(&sh->mu);
		pthread_cond_destroy(&sh->cv_nonempty);
		pthread_cond_destroy(&sh->cv_nonfull);
	}
	free(s->shards);
	for (i = 0; i < s->series_cap; i++)
		ax_labels_free(s->series[i].ls);
	free(s->series);
	curl_slist_free_all(s->headers);
	free(s->url);
	free(s->auth_header);
	free(s->basic_user);
	free(s->basic_pass);
	free(s->cfg.name);
	free(s->cfg.proxy_url);
	free(s->cfg.tls_config.ca_file);
	free(s->cfg.tls_config.cert_file);
	free(s->cfg.tls_config.key_file);
	free(s->cfg.tls_config.server_name);
	ax_relabel_free(&s->cfg.write_relabel);
	pthread_rwlock_destroy(&s->series_mu);
	pthread_mutex_destroy(&s->stat_mu);
	free(s);
}

static char *sdup(const char *x)
{
	return x ? strdup(x) : NULL;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
}

int ax_rw_sender_new(const ax_rw_config_t *cfg, ax_metrics_t *reg,
    ax_rw_sender_t **out, ax_err_t *err)
{
	static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
	ax_rw_sender_t *s = calloc(1, sizeof(*s));
	const char *lnames[] = {"remote_name", "url"};
	const char *lvals[2];
	char hdr[4096];
	size_t i;
	int rv;

	if (s == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_once(&curl_once, curl_init_once);
	s->cfg = *cfg;
	/* deep-copy what we keep */
	s->cfg.name = sdup(cfg->name);
	s->cfg.proxy_url = sdup(cfg->proxy_url);
	s->cfg.tls_config.ca_file = sdup(cfg->tls_config.ca_file);
	s->cfg.tls_config.cert_file = sdup(cfg->tls_config.cert_file);
	s->cfg.tls_config.key_file = sdup(cfg->tls_config.key_file);
	s->cfg.tls_config.server_name = sdup(cfg->tls_config.server_name);
	memset(&s->cfg.write_relabel, 0, sizeof(s->cfg.write_relabel));
	if (cfg->write_relabel.n > 0 &&
	    ax_relabel_dup(&cfg->write_relabel, &s->cfg.write_relabel, err) !=
	        0) {
		sender_free(s);
		return AX_ENOMEM;
	}
	s->cfg.headers = NULL;
	s->cfg.url = NULL;
	s->cfg.basic_auth = (ax_rw_basic_auth_t){0};
	s->cfg.authorization = (ax_rw_authorization_t){0};
	s->cfg.bearer_token = s->cfg.bearer_token_file = NULL;
	pthread_rwlock_init(&s->series_mu, NULL);
	pthread_mutex_init(&s->stat_mu, NULL);
	s->url = strdup(cfg->url);
	if (s->url == NULL) {
		sender_free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	/* credentials */
	if (cfg->basic_auth.username || cfg->basic_auth.password ||
	    cfg->basic_auth.password_file) {
		s->basic_user = strdup(
		    cfg->basic_auth.username ? cfg->basic_auth.username : "");
		if (cfg->basic_auth.password_file)
			s->basic_pass = ax_rw_read_secret_file(
			    cfg->basic_auth.password_file, err);
		else
			s->basic_pass = sdup(cfg->basic_auth.password);
		if (cfg->basic_auth.password_file && s->basic_pass == NULL) {
			sender_free(s);
			return AX_ECONFIG;
		}
	} else {
		const char *type = "Bearer";
		char *cred = NULL;

		if (cfg->authorization.credentials ||
		    cfg->authorization.credentials_file) {
			if (cfg->authorization.type)
				type = cfg->authorization.type;
			cred = cfg->authorization.credentials_file
			    ? ax_rw_read_secret_file(
			          cfg->authorization.credentials_file, err)
			    : strdup(cfg->authorization.credentials);
		} else if (cfg->bearer_token_file) {
			cred =
			    ax_rw_read_secret_file(cfg->bearer_token_file, err);
		} else if (cfg->bearer_token) {
			cred = strdup(cfg->bearer_token);
		}
		if ((cfg->authorization.credentials_file ||
		        cfg->bearer_token_file) &&
		    cred == NULL) {
			sender_free(s);
			return AX_ECONFIG;
		}
		if (cred) {
			snprintf(hdr, sizeof(hdr), "Authorization: %s %s", type,
			    cred);
			free(cred);
			s->auth_header = strdup(hdr);
		}
	}
	s->headers = curl_slist_append(NULL, "Content-Encoding: snappy");
	s->headers = curl_slist_append(
	    s->headers, "Content-Type: application/x-protobuf");
	s->headers =
	    curl_slist_append(s->headers, "User-Agent: Axon/" AX_VERSION);
	s->headers = curl_slist_append(
	    s->headers, "X-Prometheus-Remote-Write-Version: 0.1.0");
	s->headers = curl_slist_append(s->headers, "Expect:");
	if (s->auth_header)
		s->headers = curl_slist_append(s->headers, s->auth_header);
	if (cfg->headers) {
		for (i = 0; i < cfg->headers->n; i++) {
			snprintf(hdr, sizeof(hdr), "%s: %s",
			    cfg->headers->l[i].name, cfg->headers->l[i].value);
			s->headers = curl_slist_append(s->headers, hdr);
		}
	}
	if (s->headers == NULL) {
		sender_free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	/* metrics */
	lvals[0] = cfg->name ? cfg->name : "";
	lvals[1] = cfg->url;
	if (reg) {
#define FAM(type, name, help)                                                  \
	ax_metrics_family(reg, type, name, help, 2, lnames, NULL, 0)
		ax_mfam_t *f;

		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_samples_total",
		         "Samples sent to the remote storage and "
		         "acknowledged.")))
			s->m_sent = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_samples_failed_total",
		         "Samples dropped after a non-retriable answer of the "
		         "remote storage.")))
			s->m_failed = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_samples_retried_total",
		         "Samples in send attempts that failed with a "
		         "retriable error.")))
			s->m_retried = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_samples_dropped_total",
		         "Samples dropped before sending: their series was "
		         "unknown, or the queue was full (ax_rw_offer).")))
			s->m_dropped = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_bytes_total",
		         "Compressed bytes of acknowledged remote-write "
		         "requests.")))
			s->m_bytes = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_GAUGE,
		         "axon_remote_storage_samples_pending",
		         "Samples queued for sending.")))
			s->m_pending = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_GAUGE, "axon_remote_storage_shards",
		         "Number of shards sending in parallel.")))
			s->m_shards = ax_mfam_with(f, lvals);
		if ((f = ax_metrics_family(reg, AX_METRIC_HISTOGRAM,
		         "axon_remote_storage_sent_batch_duration_seconds",
		         "Duration of remote-write requests.", 2, lnames,
		         ax_metrics_default_buckets,
		         ax_metrics_n_default_buckets)))
			s->m_dur = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_exemplars_total",
		         "Exemplars in acknowledged remote-write requests.")))
			s->m_ex_sent = ax_mfam_with(f, lvals);
		if ((f = FAM(AX_METRIC_COUNTER,
		         "axon_remote_storage_exemplars_dropped_total",
		         "Exemplars dropped because 10000 were waiting in the "
		         "shard.")))
			s->m_ex_drop = ax_mfam_with(f, lvals);
#undef FAM
	}
	/* shards: min_shards run from the start (no dynamic resharding) */
	s->n_shards = (size_t)(cfg->queue_config.min_shards > 0
	        ? cfg->queue_config.min_shards
	        : 1);
	s->shards = calloc(s->n_shards, sizeof(*s->shards));
	if (s->shards == NULL) {
		s->n_shards = 0;
		sender_free(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < s->n_shards; i++) {
		shard_t *sh = &s->shards[i];

		sh->s = s;
		pthread_mutex_init(&sh->mu, NULL);
		pthread_cond_init(&sh->cv_nonempty, NULL);
		pthread_cond_init(&sh->cv_nonfull, NULL);
		sh->cap = (size_t)cfg->queue_config.capacity;
		if (sh->cap < (size_t)cfg->queue_config.max_samples_per_send)
			sh->cap =
			    (size_t)cfg->queue_config.max_samples_per_send;
		sh->ring = malloc(sh->cap * sizeof(*sh->ring));
		if (sh->ring == NULL) {
			sender_free(s);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		if ((rv = setup_curl(s, sh, err)) != 0) {
			sender_free(s);
			return rv;
		}
	}
	for (i = 0; i < s->n_shards; i++) {
		if (pthread_create(&s->shards[i].thread, NULL, shard_main,
		        &s->shards[i]) != 0) {
			s->stopping = 1;
			ax_rw_sender_stop_free(s, 0);
			return ax_err_set(
			    err, AX_ENOMEM, "cannot start shard thread");
		}
		s->shards[i].started = 1;
	}
	ax_gauge_set(s->m_shards, (double)s->n_shards);
	*out = s;
	return 0;
}

void ax_rw_sender_stop_free(ax_rw_sender_t *s, int64_t flush_ms)
{
	size_t i;

	if (s == NULL)
		return;
	s->flush_deadline_ms = ax_mono_ms() + flush_ms;
	for (i = 0; i < s->n_shards; i++) {
		pthread_mutex_lock(&s->shards[i].mu);
		s->stopping = 1;
		pthread_cond_broadcast(&s->shards[i].cv_nonempty);
		pthread_cond_broadcast(&s->shards[i].cv_nonfull);
		pthread_mutex_unlock(&s->shards[i].mu);
	}
	for (i = 0; i < s->n_shards; i++)
		if (s->shards[i].started)
			pthread_join(s->shards[i].thread, NULL);
	sender_free(s);
}
