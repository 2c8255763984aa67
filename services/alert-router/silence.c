/*
 * ar_silence: silences (silence.h).
 */
#include "alert-router/silence.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAPSHOT "silences.json"
#define MAX_SNAPSHOT (256u << 20)

ar_silence_t *ar_silence_new(void)
{
	ar_silence_t *s = calloc(1, sizeof(*s));

	if (s)
		s->refs = 1;
	return s;
}

ar_silence_t *ar_silence_ref(ar_silence_t *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void ar_silence_unref(ar_silence_t *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ax_amatchers_free(&s->matchers);
	free(s->created_by);
	free(s->comment);
	free(s);
}

ar_sil_state_t ar_silence_state(const ar_silence_t *s, int64_t now_ms)
{
	if (now_ms < s->starts_ms)
		return AR_SIL_PENDING;
	if (now_ms < s->ends_ms)
		return AR_SIL_ACTIVE;
	return AR_SIL_EXPIRED;
}

const char *ar_sil_state_name(ar_sil_state_t st)
{
	switch (st) {
	case AR_SIL_PENDING: return "pending";
	case AR_SIL_ACTIVE: return "active";
	case AR_SIL_EXPIRED: return "expired";
	}
	return "unknown";
}

/* A deep copy with one reference (NULL: out of memory). */
static ar_silence_t *sil_clone(const ar_silence_t *in)
{
	ar_silence_t *s = ar_silence_new();
	ax_err_t err;
	size_t i;

	if (s == NULL)
		return NULL;
	memcpy(s->id, in->id, sizeof(s->id));
	s->starts_ms = in->starts_ms;
	s->ends_ms = in->ends_ms;
	s->updated_ms = in->updated_ms;
	s->created_by = strdup(in->created_by ? in->created_by : "");
	s->comment = strdup(in->comment ? in->comment : "");
	if (s->created_by == NULL || s->comment == NULL)
		goto fail;
	for (i = 0; i < in->matchers.n; i++) {
		const ax_amatcher_t *m = &in->matchers.v[i];

		if (ax_amatchers_add(
		        &s->matchers, m->type, m->name, m->value, &err) != 0)
			goto fail;
	}
	return s;
fail:
	ar_silence_unref(s);
	return NULL;
}

static int new_uuid(char out[40])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return AX_EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
	    "%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* ---- persistence ---- */

static cJSON *to_json(const ar_silence_t *s)
{
	cJSON *o = cJSON_CreateObject(), *ms;
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", s->id);
	ms = cJSON_AddArrayToObject(o, "matchers");
	for (i = 0; ms && i < s->matchers.n; i++) {
		const ax_amatcher_t *m = &s->matchers.v[i];
		cJSON *j = cJSON_CreateObject();

		if (j == NULL)
			break;
		cJSON_AddItemToArray(ms, j);
		cJSON_AddStringToObject(j, "name", m->name);
		cJSON_AddStringToObject(j, "value", m->value);
		cJSON_AddBoolToObject(
		    j, "isRegex", m->type == AX_AM_RE || m->type == AX_AM_NRE);
		cJSON_AddBoolToObject(
		    j, "isEqual", m->type == AX_AM_EQ || m->type == AX_AM_RE);
	}
	cJSON_AddNumberToObject(o, "startsAt", (double)s->starts_ms);
	cJSON_AddNumberToObject(o, "endsAt", (double)s->ends_ms);
	cJSON_AddNumberToObject(o, "updatedAt", (double)s->updated_ms);
	cJSON_AddStringToObject(o, "createdBy", s->created_by);
	cJSON_AddStringToObject(o, "comment", s->comment);
	return o;
}

/* Write the snapshot of v[0..n) (lock held). */
static int persist(ar_silences_t *s, ar_silence_t **v, size_t n, ax_err_t *err)
{
	char path[4096], tmp[4096];
	cJSON *root, *arr;
	char *text;
	size_t i, len;
	int fd, rv = 0;

	if (s->dir == NULL)
		return 0;
	root = cJSON_CreateObject();
	if (root == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	cJSON_AddNumberToObject(root, "version", 1);
	arr = cJSON_AddArrayToObject(root, "silences");
	for (i = 0; arr && i < n; i++) {
		cJSON *j = to_json(v[i]);

		if (j == NULL)
			break;
		cJSON_AddItemToArray(arr, j);
	}
	if (arr == NULL || i < n) {
		cJSON_Delete(root);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", s->dir, SNAPSHOT);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", s->dir, SNAPSHOT);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		rv = ax_err_set(
		    err, AX_EIO, "writing %s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
	if (rv == 0 && rename(tmp, path) != 0)
		rv = ax_err_set(
		    err, AX_EIO, "renaming %s: %s", tmp, strerror(errno));
	if (rv == 0) {
		int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	} else
		unlink(tmp);
	return rv;
}

static int from_json(const cJSON *o, ar_silence_t **out, ax_err_t *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "matchers");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "startsAt");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "endsAt");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(o, "updatedAt");
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(o, "createdBy");
	const cJSON *cm = cJSON_GetObjectItemCaseSensitive(o, "comment");
	const cJSON *m;
	ar_silence_t *s;

	if (!cJSON_IsString(id) || strlen(id->valuestring) >= 40 ||
	    !cJSON_IsArray(ms) || !cJSON_IsNumber(st) || !cJSON_IsNumber(en) ||
	    !cJSON_IsNumber(up) || !cJSON_IsString(cb) || !cJSON_IsString(cm))
		return ax_err_set(err, AX_EPARSE, "a silence lacks a field");
	if ((s = ar_silence_new()) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	snprintf(s->id, sizeof(s->id), "%s", id->valuestring);
	s->starts_ms = (int64_t)st->valuedouble;
	s->ends_ms = (int64_t)en->valuedouble;
	s->updated_ms = (int64_t)up->valuedouble;
	s->created_by = strdup(cb->valuestring);
	s->comment = strdup(cm->valuestring);
	if (s->created_by == NULL || s->comment == NULL) {
		ar_silence_unref(s);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	cJSON_ArrayForEach(m, ms)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "value");
		const cJSON *re =
		    cJSON_GetObjectItemCaseSensitive(m, "isRegex");
		const cJSON *eq =
		    cJSON_GetObjectItemCaseSensitive(m, "isEqual");
		ax_amatch_type_t t;

		if (!cJSON_IsString(n) || !cJSON_IsString(v) ||
		    !cJSON_IsBool(re) || !cJSON_IsBool(eq)) {
			ar_silence_unref(s);
			return ax_err_set(
			    err, AX_EPARSE, "silence %s: bad matcher", s->id);
		}
		t = cJSON_IsTrue(re) ? (cJSON_IsTrue(eq) ? AX_AM_RE : AX_AM_NRE)
		                     : (cJSON_IsTrue(eq) ? AX_AM_EQ : AX_AM_NE);
		if (ax_amatchers_add(&s->matchers, t, n->valuestring,
		        v->valuestring, err) != 0) {
			ar_silence_unref(s);
			return err->code;
		}
	}
	*out = s;
	return 0;
}

static int push(ar_silences_t *s, ar_silence_t *sil)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		ar_silence_t **nv = realloc(s->v, cap * sizeof(*nv));

		if (nv == NULL)
			return AX_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = sil;
	return 0;
}

static int load(ar_silences_t *s, ax_err_t *err)
{
	char path[4096];
	struct stat st;
	cJSON *root = NULL;
	const cJSON *arr, *o;
	char *text;
	FILE *f;
	int rv = 0;

	snprintf(path, sizeof(path), "%s/%s", s->dir, SNAPSHOT);
	if (stat(path, &st) != 0)
		return errno == ENOENT
		    ? 0
		    : ax_err_set(err, AX_EIO, "%s: %s", path, strerror(errno));
	if ((size_t)st.st_size > MAX_SNAPSHOT)
		return ax_err_set(err, AX_EIO, "%s: larger than %u bytes", path,
		    MAX_SNAPSHOT);
	if ((f = fopen(path, "rb")) == NULL)
		return ax_err_set(err, AX_EIO, "%s: %s", path, strerror(errno));
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		fclose(f);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		rv = ax_err_set(err, AX_EIO, "%s: short read", path);
	fclose(f);
	text[st.st_size] = '\0';
	if (rv == 0 && (root = cJSON_Parse(text)) == NULL)
		rv = ax_err_set(err, AX_EPARSE,
		    "%s: damaged silence snapshot (not JSON); move it away to "
		    "start without its silences",
		    path);
	free(text);
	if (rv != 0)
		return rv;
	arr = cJSON_GetObjectItemCaseSensitive(root, "silences");
	if (!cJSON_IsArray(arr))
		rv = ax_err_set(err, AX_EPARSE,
		    "%s: damaged silence snapshot (no silences list)", path);
	cJSON_ArrayForEach(o, arr)
	{
		ar_silence_t *sil = NULL;
		ax_err_t e;

		if (rv != 0)
			break;
		if (from_json(o, &sil, &e) != 0) {
			rv = ax_err_set(err,
			    e.code == AX_ENOMEM ? AX_ENOMEM : AX_EPARSE,
			    "%s: damaged silence snapshot: %s", path, e.msg);
			break;
		}
		if (push(s, sil) != 0) {
			ar_silence_unref(sil);
			rv = ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	cJSON_Delete(root);
	return rv;
}

int ar_silences_open(
    ar_silences_t *s, const char *dir, int64_t retention_ms, ax_err_t *err)
{
	int rv;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->retention_ms = retention_ms;
	if (dir) {
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			rv = ax_err_set(err, AX_EIO, "creating %s: %s", dir,
			    strerror(errno));
			ar_silences_close(s);
			return rv;
		}
		if ((s->dir = strdup(dir)) == NULL) {
			ar_silences_close(s);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
		if ((rv = load(s, err)) != 0) {
			ar_silences_close(s);
			return rv;
		}
	}
	return 0;
}

void ar_silences_close(ar_silences_t *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		ar_silence_unref(s->v[i]);
	free(s->v);
	free(s->dir);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof(*s));
}

static ssize_t find(ar_silences_t *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i]->id, id) == 0)
			return (ssize_t)i;
	return -1;
}

/* Does m match the empty string (the silence would mute everything)? */
static int matches_empty(const ax_amatcher_t *m)
{
	return ax_amatcher_matches(m, "");
}

static int validate(const ar_silence_t *in, ax_err_t *err)
{
	size_t i;
	int all_empty = 1;

	if (in->matchers.n == 0)
		return ax_err_set(
		    err, AX_EINVAL, "at least one matcher required");
	for (i = 0; i < in->matchers.n; i++) {
		const ax_amatcher_t *m = &in->matchers.v[i];

		if (!ax_label_name_valid(m->name, strlen(m->name)))
			return ax_err_set(err, AX_EINVAL,
			    "invalid label matcher %zu: invalid label name "
			    "\"%s\"",
			    i, m->name);
		all_empty = all_empty && matches_empty(m);
	}
	if (all_empty)
		return ax_err_set(err, AX_EINVAL,
		    "at least one matcher must not match the empty string");
	if (in->ends_ms < in->starts_ms)
		return ax_err_set(
		    err, AX_EINVAL, "end time must not be before start time");
	return 0;
}

static int same_matchers(const ax_amatchers_t *a, const ax_amatchers_t *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].type != b->v[i].type ||
		    strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	return 1;
}

static int can_update(const ar_silence_t *a, const ar_silence_t *b, int64_t now)
{
	if (!same_matchers(&a->matchers, &b->matchers))
		return 0;
	switch (ar_silence_state(a, now)) {
	case AR_SIL_ACTIVE:
		return b->starts_ms == a->starts_ms && b->ends_ms >= now;
	case AR_SIL_PENDING: return b->starts_ms >= now;
	case AR_SIL_EXPIRED: return 0;
	}
	return 0;
}

/* Replace slot i (or append when i < 0) with sil, persist, and on a
 * persistence failure put everything back.  Lock held; takes sil. */
static int commit(ar_silences_t *s, ssize_t i, ar_silence_t *sil, ssize_t j,
    ar_silence_t *sil2, ax_err_t *err)
{
	ar_silence_t *old_i = NULL, *old_j = NULL;
	int rv;

	if (i >= 0) {
		old_i = s->v[i];
		s->v[i] = sil;
	} else if (push(s, sil) != 0) {
		ar_silence_unref(sil);
		ar_silence_unref(sil2);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (j >= 0) {
		old_j = s->v[j];
		s->v[j] = sil2;
	}
	if ((rv = persist(s, s->v, s->n, err)) != 0) {
		if (j >= 0) {
			s->v[j] = old_j;
			ar_silence_unref(sil2);
		}
		if (i >= 0)
			s->v[i] = old_i;
		else
			s->n--;
		ar_silence_unref(sil);
		return rv;
	}
	ar_silence_unref(old_i);
	ar_silence_unref(old_j);
	s->version++;
	if (s->on_change) {
		s->on_change(s->on_change_arg, sil);
		if (j >= 0)
			s->on_change(s->on_change_arg, sil2);
	}
	return 0;
}

int ar_silences_merge(ar_silences_t *s, ar_silence_t *const *in, size_t n,
    int64_t now, ax_err_t *err)
{
	ar_silence_t **nv, **gone;
	size_t nn, ngone = 0, i;
	int taken = 0, rv;

	pthread_mutex_lock(&s->mu);
	nv = malloc((s->n + n + 1) * sizeof(*nv));
	gone = malloc((n + 1) * sizeof(*gone));
	if (nv == NULL || gone == NULL) {
		pthread_mutex_unlock(&s->mu);
		free(nv);
		free(gone);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (s->n > 0)
		memcpy(nv, s->v, s->n * sizeof(*nv));
	nn = s->n;
	for (i = 0; i < n; i++) {
		size_t k;

		if (in[i]->id[0] == '\0' ||
		    in[i]->ends_ms + s->retention_ms < now)
			continue;
		for (k = 0; k < nn; k++)
			if (strcmp(nv[k]->id, in[i]->id) == 0)
				break;
		if (k < nn && nv[k]->updated_ms >= in[i]->updated_ms)
			continue;
		if (k < s->n && nv[k] == s->v[k])
			gone[ngone++] = nv[k]; /* an old one, replaced */
		else if (k == nn)
			nn++;
		nv[k] = in[i];
		taken++;
	}
	if (taken == 0) {
		pthread_mutex_unlock(&s->mu);
		free(nv);
		free(gone);
		return 0;
	}
	if ((rv = persist(s, nv, nn, err)) != 0) {
		pthread_mutex_unlock(&s->mu);
		free(nv);
		free(gone);
		return rv;
	}
	/* references: the new ones are taken, the replaced ones dropped */
	for (i = 0; i < nn; i++)
		if (i >= s->n || nv[i] != s->v[i])
			ar_silence_ref(nv[i]);
	for (i = 0; i < ngone; i++)
		ar_silence_unref(gone[i]);
	free(s->v);
	s->v = nv;
	s->n = nn;
	s->cap = s->n + n + 1;
	s->version++;
	pthread_mutex_unlock(&s->mu);
	free(gone);
	return taken;
}

int ar_silences_set(ar_silences_t *s, const ar_silence_t *in, int64_t now,
    char id[40], ax_err_t *err)
{
	ar_silence_t *sil, *exp = NULL;
	ssize_t i = -1;
	int rv;

	if ((rv = validate(in, err)) != 0)
		return rv;
	if ((sil = sil_clone(in)) == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	sil->updated_ms = now;
	pthread_mutex_lock(&s->mu);
	if (in->id[0] != '\0') {
		i = find(s, in->id);
		if (i < 0) {
			pthread_mutex_unlock(&s->mu);
			ar_silence_unref(sil);
			return ax_err_set(
			    err, AX_ENOENT, "silence %s not found", in->id);
		}
		if (can_update(s->v[i], sil, now)) {
			rv = commit(s, i, sil, -1, NULL, err);
			if (rv == 0)
				snprintf(id, 40, "%s", in->id);
			pthread_mutex_unlock(&s->mu);
			return rv;
		}
		if (ar_silence_state(s->v[i], now) != AR_SIL_EXPIRED) {
			/* Expire the old one and add a replacement. */
			if ((exp = sil_clone(s->v[i])) == NULL) {
				pthread_mutex_unlock(&s->mu);
				ar_silence_unref(sil);
				return ax_err_set(
				    err, AX_ENOMEM, "out of memory");
			}
			if (ar_silence_state(exp, now) == AR_SIL_PENDING)
				exp->starts_ms = now;
			exp->ends_ms = now;
			exp->updated_ms = now;
		} else
			i = -1;
	}
	if (new_uuid(sil->id) != 0) {
		pthread_mutex_unlock(&s->mu);
		ar_silence_unref(sil);
		ar_silence_unref(exp);
		return ax_err_set(err, AX_EIO, "no randomness for an id");
	}
	if (sil->starts_ms < now)
		sil->starts_ms = now;
	if (sil->ends_ms < sil->starts_ms)
		sil->ends_ms = sil->starts_ms;
	snprintf(id, 40, "%s", sil->id);
	rv = commit(s, -1, sil, exp ? i : -1, exp, err);
	pthread_mutex_unlock(&s->mu);
	return rv;
}

int ar_silences_expire(
    ar_silences_t *s, const char *id, int64_t now, ax_err_t *err)
{
	ar_silence_t *sil;
	ssize_t i;
	int rv;

	pthread_mutex_lock(&s->mu);
	if ((i = find(s, id)) < 0) {
		pthread_mutex_unlock(&s->mu);
		return ax_err_set(err, AX_ENOENT, "silence %s not found", id);
	}
	switch (ar_silence_state(s->v[i], now)) {
	case AR_SIL_EXPIRED:
		pthread_mutex_unlock(&s->mu);
		return ax_err_set(
		    err, AX_EINVAL, "silence %s already expired", id);
	default: break;
	}
	if ((sil = sil_clone(s->v[i])) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (ar_silence_state(sil, now) == AR_SIL_PENDING)
		sil->starts_ms = now;
	sil->ends_ms = now;
	sil->updated_ms = now;
	rv = commit(s, i, sil, -1, NULL, err);
	pthread_mutex_unlock(&s->mu);
	return rv;
}

ar_silence_t *ar_silences_get(ar_silences_t *s, const char *id)
{
	ar_silence_t *r = NULL;
	ssize_t i;

	pthread_mutex_lock(&s->mu);
	if ((i = find(s, id)) >= 0)
		r = ar_silence_ref(s->v[i]);
	pthread_mutex_unlock(&s->mu);
	return r;
}

int ar_silences_list(ar_silences_t *s, ar_silence_t ***out, size_t *n)
{
	ar_silence_t **v;
	size_t i;

	pthread_mutex_lock(&s->mu);
	v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&s->mu);
		return AX_ENOMEM;
	}
	for (i = 0; i < s->n; i++)
		v[i] = ar_silence_ref(s->v[i]);
	*n = s->n;
	pthread_mutex_unlock(&s->mu);
	*out = v;
	return 0;
}

void ar_silences_list_free(ar_silence_t **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ar_silence_unref(v[i]);
	free(v);
}

int ar_silences_mutes(ar_silences_t *s, const ax_labels_t *ls, int64_t now,
    char ***ids, size_t *n)
{
	size_t i;
	int rv = 0;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n && rv == 0; i++) {
		char **nv, *id;

		if (ar_silence_state(s->v[i], now) != AR_SIL_ACTIVE ||
		    !ax_amatchers_match(&s->v[i]->matchers, ls))
			continue;
		nv = realloc(*ids, (*n + 1) * sizeof(*nv));
		id = strdup(s->v[i]->id);
		if (nv == NULL || id == NULL) {
			if (nv)
				*ids = nv;
			free(id);
			rv = AX_ENOMEM;
			break;
		}
		*ids = nv;
		(*ids)[(*n)++] = id;
	}
	pthread_mutex_unlock(&s->mu);
	return rv ? rv : (int)*n;
}

size_t ar_silences_gc(ar_silences_t *s, int64_t now)
{
	size_t i, k = 0, dropped;
	ax_err_t err;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->n; i++) {
		if (s->v[i]->ends_ms + s->retention_ms < now) {
			ar_silence_unref(s->v[i]);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	dropped = s->n - k;
	s->n = k;
	if (dropped) {
		s->version++;
		persist(s, s->v, s->n, &err);
	}
	pthread_mutex_unlock(&s->mu);
	return dropped;
}
