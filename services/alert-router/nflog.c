/*
 * ar_nflog: the notification log (nflog.h).
 */
#include "alert-router/nflog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ax_buf.h"
#include "ax_log.h"

#define LOG_NAME "nflog"

void ar_nflog_entry_free(ar_nflog_entry_t *e)
{
	if (e == NULL)
		return;
	free(e->firing);
	free(e->resolved);
	free(e);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static ar_nflog_entry_t *entry_new(
    int64_t ts, const uint64_t *f, size_t nf, const uint64_t *r, size_t nr)
{
	ar_nflog_entry_t *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->ts_ms = ts;
	e->firing = malloc((nf ? nf : 1) * sizeof(uint64_t));
	e->resolved = malloc((nr ? nr : 1) * sizeof(uint64_t));
	if (e->firing == NULL || e->resolved == NULL) {
		ar_nflog_entry_free(e);
		return NULL;
	}
	if (nf)
		memcpy(e->firing, f, nf * sizeof(uint64_t));
	if (nr)
		memcpy(e->resolved, r, nr * sizeof(uint64_t));
	e->nfiring = nf;
	e->nresolved = nr;
	qsort(e->firing, nf, sizeof(uint64_t), cmp_u64);
	qsort(e->resolved, nr, sizeof(uint64_t), cmp_u64);
	return e;
}

static int set_entry(ar_nflog_t *l, const char *key, ar_nflog_entry_t *e)
{
	void *old = NULL;

	if (ax_hmap_put(&l->entries, key, strlen(key), e, &old) != 0)
		return AX_ENOMEM;
	ar_nflog_entry_free(old);
	return 0;
}

static void put_hashes(ax_buf_t *b, const uint64_t *h, size_t n)
{
	size_t i;

	ax_buf_putc(b, '[');
	for (i = 0; i < n; i++)
		ax_buf_printf(b, "%s\"%" PRIu64 "\"", i ? "," : "", h[i]);
	ax_buf_putc(b, ']');
}

static void record(ax_buf_t *b, const char *key, const ar_nflog_entry_t *e)
{
	ax_buf_puts(b, "{\"k\":");
	ax_buf_put_json_str(b, key);
	ax_buf_printf(b, ",\"t\":%" PRId64 ",\"f\":", e->ts_ms);
	put_hashes(b, e->firing, e->nfiring);
	ax_buf_puts(b, ",\"r\":");
	put_hashes(b, e->resolved, e->nresolved);
	ax_buf_puts(b, "}\n");
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int parse_hashes(const cJSON *a, uint64_t **out, size_t *n)
{
	const cJSON *h;
	size_t i = 0;

	if (!cJSON_IsArray(a))
		return -1;
	*n = (size_t)cJSON_GetArraySize(a);
	*out = malloc((*n ? *n : 1) * sizeof(uint64_t));
	if (*out == NULL)
		return -1;
	cJSON_ArrayForEach(h, a)
	{
		char *end;

		if (!cJSON_IsString(h))
			return -1;
		(*out)[i++] = strtoull(h->valuestring, &end, 10);
		if (*end != '\0')
			return -1;
	}
	return 0;
}

static int replay(ar_nflog_t *l, const char *path, ax_err_t *err)
{
	FILE *f = fopen(path, "r+");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	long good = 0;
	int rv = 0;

	if (f == NULL)
		return errno == ENOENT
		    ? 0
		    : ax_err_set(err, AX_EIO, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) > 0) {
		cJSON *o;
		const cJSON *k, *t;
		ar_nflog_entry_t *e;
		int torn = line[len - 1] != '\n';

		lineno++;
		o = torn ? NULL : cJSON_Parse(line);
		k = cJSON_GetObjectItemCaseSensitive(o, "k");
		t = cJSON_GetObjectItemCaseSensitive(o, "t");
		e = calloc(1, sizeof(*e));
		if (o == NULL || !cJSON_IsString(k) || !cJSON_IsNumber(t) ||
		    e == NULL ||
		    parse_hashes(cJSON_GetObjectItemCaseSensitive(o, "f"),
		        &e->firing, &e->nfiring) != 0 ||
		    parse_hashes(cJSON_GetObjectItemCaseSensitive(o, "r"),
		        &e->resolved, &e->nresolved) != 0) {
			int at_end;

			ar_nflog_entry_free(e);
			cJSON_Delete(o);
			at_end = getline(&line, &cap, f) <= 0;
			if (at_end) {
				/* a torn tail from a crash: cut it */
				ax_log_warn("cutting a torn record at the end "
				            "of the notification log",
				    "file", path);
				if (ftruncate(fileno(f), good) != 0)
					rv = ax_err_set(err, AX_EIO, "%s: %s",
					    path, strerror(errno));
				break;
			}
			rv = ax_err_set(err, AX_EPARSE,
			    "%s:%zu: damaged notification log record; move "
			    "the file away to start without it",
			    path, lineno);
			break;
		}
		e->ts_ms = (int64_t)t->valuedouble;
		qsort(e->firing, e->nfiring, sizeof(uint64_t), cmp_u64);
		qsort(e->resolved, e->nresolved, sizeof(uint64_t), cmp_u64);
		if (set_entry(l, k->valuestring, e) != 0) {
			ar_nflog_entry_free(e);
			cJSON_Delete(o);
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
			break;
		}
		cJSON_Delete(o);
		l->log_records++;
		good = ftell(f);
	}
	free(line);
	fclose(f);
	return rv;
}

int ar_nflog_open(
    ar_nflog_t *l, const char *dir, int64_t retention_ms, ax_err_t *err)
{
	char path[4096];
	int rv;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	ax_hmap_init(&l->entries);
	l->fd = -1;
	l->retention_ms = retention_ms;
	if (dir == NULL)
		return 0;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rv = ax_err_set(
		    err, AX_EIO, "creating %s: %s", dir, strerror(errno));
		ar_nflog_close(l);
		return rv;
	}
	if ((l->dir = strdup(dir)) == NULL) {
		ar_nflog_close(l);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/%s", dir, LOG_NAME);
	if ((rv = replay(l, path, err)) != 0) {
		ar_nflog_close(l);
		return rv;
	}
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		rv = ax_err_set(err, AX_EIO, "%s: %s", path, strerror(errno));
		ar_nflog_close(l);
		return rv;
	}
	return 0;
}

void ar_nflog_close(ar_nflog_t *l)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	if (l->fd >= 0) {
		fsync(l->fd);
		close(l->fd);
	}
	while ((e = ax_hmap_next(&l->entries, &pos)) != NULL)
		ar_nflog_entry_free(e->val);
	ax_hmap_fini(&l->entries);
	free(l->dir);
	pthread_mutex_destroy(&l->mu);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

int ar_nflog_get(ar_nflog_t *l, const char *key, ar_nflog_entry_t **out)
{
	ar_nflog_entry_t *e;
	int rv = AX_ENOENT;

	pthread_mutex_lock(&l->mu);
	e = ax_hmap_get(&l->entries, key, strlen(key));
	if (e) {
		*out = entry_new(
		    e->ts_ms, e->firing, e->nfiring, e->resolved, e->nresolved);
		rv = *out ? 0 : AX_ENOMEM;
	}
	pthread_mutex_unlock(&l->mu);
	return rv;
}

ar_nflog_entry_t *ar_nflog_entry_new(
    int64_t ts, const uint64_t *f, size_t nf, const uint64_t *r, size_t nr)
{
	return entry_new(ts, f, nf, r, nr);
}

/* Write e (taken) for key and keep it.  Lock held. */
static int put_locked(
    ar_nflog_t *l, const char *key, ar_nflog_entry_t *e, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	int rv = 0;

	record(&b, key, e);
	if (!ax_buf_ok(&b))
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	else if (l->fd >= 0 && write_all(l->fd, b.p, b.len) != 0)
		rv = ax_err_set(err, AX_EIO, "writing the notification log: %s",
		    strerror(errno));
	if (rv == 0 && set_entry(l, key, e) != 0)
		rv = ax_err_set(err, AX_ENOMEM, "out of memory");
	if (rv == 0) {
		l->log_records++;
		l->dirty = 1;
	} else
		ar_nflog_entry_free(e);
	ax_buf_fini(&b);
	return rv;
}

int ar_nflog_log(ar_nflog_t *l, const char *key, int64_t ts, const uint64_t *f,
    size_t nf, const uint64_t *r, size_t nr, ax_err_t *err)
{
	ar_nflog_entry_t *e = entry_new(ts, f, nf, r, nr);
	int rv;

	if (e == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	pthread_mutex_lock(&l->mu);
	rv = put_locked(l, key, e, err);
	if (rv == 0 && l->on_log)
		l->on_log(l->on_log_arg, key, e);
	pthread_mutex_unlock(&l->mu);
	return rv;
}

int ar_nflog_merge(
    ar_nflog_t *l, const char *key, const ar_nflog_entry_t *in, int64_t now)
{
	ar_nflog_entry_t *cur, *e;
	ax_err_t err;
	int rv = 1;

	if (in->ts_ms + l->retention_ms < now)
		return 0;
	pthread_mutex_lock(&l->mu);
	cur = ax_hmap_get(&l->entries, key, strlen(key));
	if (cur && cur->ts_ms >= in->ts_ms)
		rv = 0;
	else if ((e = entry_new(in->ts_ms, in->firing, in->nfiring,
	              in->resolved, in->nresolved)) == NULL)
		rv = AX_ENOMEM;
	else if (put_locked(l, key, e, &err) != 0)
		rv = err.code;
	pthread_mutex_unlock(&l->mu);
	return rv;
}

int ar_nflog_snapshot(ar_nflog_t *l, int64_t now, char ***keys,
    ar_nflog_entry_t ***entries, size_t *n)
{
	size_t pos = 0, k = 0;
	ax_hmap_ent_t *he;
	char **ks;
	ar_nflog_entry_t **es;

	pthread_mutex_lock(&l->mu);
	ks = calloc(l->entries.n ? l->entries.n : 1, sizeof(*ks));
	es = calloc(l->entries.n ? l->entries.n : 1, sizeof(*es));
	if (ks == NULL || es == NULL)
		goto oom;
	while ((he = ax_hmap_next(&l->entries, &pos)) != NULL) {
		const ar_nflog_entry_t *e = he->val;

		if (e->ts_ms + l->retention_ms < now)
			continue;
		ks[k] = strndup(he->key, he->klen);
		es[k] = entry_new(
		    e->ts_ms, e->firing, e->nfiring, e->resolved, e->nresolved);
		if (ks[k] == NULL || es[k] == NULL) {
			k++;
			goto oom;
		}
		k++;
	}
	pthread_mutex_unlock(&l->mu);
	*keys = ks;
	*entries = es;
	*n = k;
	return 0;
oom:
	pthread_mutex_unlock(&l->mu);
	if (ks && es)
		ar_nflog_snapshot_free(ks, es, k);
	else {
		free(ks);
		free(es);
	}
	return AX_ENOMEM;
}

void ar_nflog_snapshot_free(char **keys, ar_nflog_entry_t **entries, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(keys[i]);
		ar_nflog_entry_free(entries[i]);
	}
	free(keys);
	free(entries);
}

/* Rewrite the log with the live entries only (lock held). */
static void compact(ar_nflog_t *l, int64_t now)
{
	char path[4096], tmp[4096];
	ax_buf_t b = AX_BUF_INIT;
	size_t pos = 0, live = 0;
	ax_hmap_ent_t *e;
	int fd;

	char **dead = NULL;
	size_t ndead = 0, i;

	/* drop expired entries first */
	dead = malloc((l->entries.n ? l->entries.n : 1) * sizeof(char *));
	if (dead == NULL)
		return;
	while ((e = ax_hmap_next(&l->entries, &pos)) != NULL) {
		ar_nflog_entry_t *en = e->val;

		if (en->ts_ms + l->retention_ms < now &&
		    (dead[ndead] = strndup(e->key, e->klen)) != NULL)
			ndead++;
	}
	for (i = 0; i < ndead; i++) {
		ar_nflog_entry_free(
		    ax_hmap_del(&l->entries, dead[i], strlen(dead[i])));
		free(dead[i]);
	}
	free(dead);
	pos = 0;
	while ((e = ax_hmap_next(&l->entries, &pos)) != NULL) {
		char *k = strndup(e->key, e->klen);

		if (k == NULL) {
			ax_buf_fini(&b);
			return;
		}
		record(&b, k, e->val);
		free(k);
		live++;
	}
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", l->dir, LOG_NAME);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", l->dir, LOG_NAME);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, b.p ? b.p : "", b.len) != 0 ||
	    fsync(fd) != 0 || rename(tmp, path) != 0) {
		ax_log_warn("cannot compact the notification log", "file", path,
		    "err", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		ax_buf_fini(&b);
		return;
	}
	close(fd);
	ax_buf_fini(&b);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		close(l->fd);
		l->fd = fd;
	}
	l->log_records = live;
}

void ar_nflog_sync(ar_nflog_t *l, int64_t now)
{
	pthread_mutex_lock(&l->mu);
	if (l->fd >= 0 && l->dirty) {
		fsync(l->fd);
		l->dirty = 0;
	}
	if (l->fd >= 0 && l->log_records > 1024 &&
	    l->log_records > 2 * l->entries.n)
		compact(l, now);
	pthread_mutex_unlock(&l->mu);
}

int ar_nflog_subset(
    const uint64_t *arr, size_t na, const uint64_t *set, size_t n)
{
	size_t i;

	/* arr is sorted (entries keep their hashes sorted) */
	for (i = 0; i < n; i++)
		if (bsearch(&set[i], arr, na, sizeof(uint64_t), cmp_u64) ==
		    NULL)
			return 0;
	return 1;
}
