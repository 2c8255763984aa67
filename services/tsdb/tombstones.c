/*
 * tombstones: deleted intervals and the block tombstones file (see
 * tombstones.h).
 */
#include "tsdb/tombstones.h"
#include "ax_buf.h"
#include "ax_crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC 0x0130BA30u

int tsdb_ivs_add(tsdb_ivs_t *s, int64_t mint, int64_t maxt)
{
	tsdb_iv_t *nv;
	size_t i, k;

	if (maxt < mint)
		return 0;
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return AX_ENOMEM;
	s->v = nv;
	/* insert sorted by mint, then merge neighbours */
	for (i = 0; i < s->n && s->v[i].mint <= mint; i++)
		;
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i].mint = mint;
	s->v[i].maxt = maxt;
	s->n++;
	for (i = 0, k = 0; i < s->n; i++) {
		if (k > 0 && s->v[i].mint <= s->v[k - 1].maxt + 1) {
			if (s->v[i].maxt > s->v[k - 1].maxt)
				s->v[k - 1].maxt = s->v[i].maxt;
		} else {
			s->v[k++] = s->v[i];
		}
	}
	s->n = k;
	return 0;
}

void tsdb_ivs_fini(tsdb_ivs_t *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int tsdb_ivs_deleted(const tsdb_ivs_t *s, int64_t t)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (t >= s->v[i].mint && t <= s->v[i].maxt)
			return 1;
	return 0;
}

int tsdb_ivs_covers(const tsdb_ivs_t *s, int64_t mint, int64_t maxt)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (mint >= s->v[i].mint && maxt <= s->v[i].maxt)
			return 1;
	return 0;
}

int tsdb_ivs_overlaps(const tsdb_ivs_t *s, int64_t mint, int64_t maxt)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (s->v[i].mint <= maxt && s->v[i].maxt >= mint)
			return 1;
	return 0;
}

void tsdb_ivs_truncate(tsdb_ivs_t *s, int64_t mint)
{
	size_t i, k;

	for (i = 0, k = 0; i < s->n; i++)
		if (s->v[i].maxt >= mint)
			s->v[k++] = s->v[i];
	s->n = k;
}

void tsdb_tombs_init(tsdb_tombs_t *t)
{
	ax_hmap_init(&t->m);
}

void tsdb_tombs_fini(tsdb_tombs_t *t)
{
	size_t pos = 0;
	ax_hmap_ent_t *e;

	while ((e = ax_hmap_next(&t->m, &pos)) != NULL) {
		tsdb_ivs_fini(e->val);
		free(e->val);
	}
	ax_hmap_fini(&t->m);
}

const tsdb_ivs_t *tsdb_tombs_get(const tsdb_tombs_t *t, uint64_t id)
{
	return t->m.n ? ax_hmap_get(&t->m, &id, sizeof(id)) : NULL;
}

int tsdb_tombs_add(tsdb_tombs_t *t, uint64_t id, int64_t mint, int64_t maxt)
{
	tsdb_ivs_t *s = ax_hmap_get(&t->m, &id, sizeof(id));

	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL ||
		    ax_hmap_put(&t->m, &id, sizeof(id), s, NULL) != 0) {
			free(s);
			return AX_ENOMEM;
		}
	}
	return tsdb_ivs_add(s, mint, maxt);
}

size_t tsdb_tombs_count(const tsdb_tombs_t *t)
{
	return t->m.n;
}

int tsdb_tombs_read(tsdb_tombs_t *t, const char *path, ax_err_t *err)
{
	FILE *f = fopen(path, "rb");
	ax_buf_t b = AX_BUF_INIT;
	char tmp[8192];
	size_t n, pos;
	uint32_t crc;

	if (f == NULL)
		return errno == ENOENT ? 0
		                       : ax_err_set(err, AX_EIO, "open %s: %s",
		                             path, strerror(errno));
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(&b, tmp, n);
	fclose(f);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	if (b.len < 9 || (uint8_t)b.p[0] != 0x01 || (uint8_t)b.p[1] != 0x30 ||
	    (uint8_t)b.p[2] != 0xBA || (uint8_t)b.p[3] != 0x30 || b.p[4] != 1) {
		ax_buf_fini(&b);
		return ax_err_set(
		    err, AX_EPROTO, "%s: not a tombstones file", path);
	}
	crc = (uint32_t)(uint8_t)b.p[b.len - 4] << 24 |
	    (uint32_t)(uint8_t)b.p[b.len - 3] << 16 |
	    (uint32_t)(uint8_t)b.p[b.len - 2] << 8 | (uint8_t)b.p[b.len - 1];
	if (ax_crc32c(0, b.p + 5, b.len - 9) != crc) {
		ax_buf_fini(&b);
		return ax_err_set(
		    err, AX_EPROTO, "%s: checksum mismatch", path);
	}
	pos = 5;
	while (pos < b.len - 4) {
		uint64_t v[3];
		int k;

		for (k = 0; k < 3; k++) {
			uint64_t x = 0;
			int s = 0;

			for (;;) {
				uint8_t c;

				if (pos >= b.len - 4 || s > 63) {
					ax_buf_fini(&b);
					return ax_err_set(err, AX_EPROTO,
					    "%s: truncated entry", path);
				}
				c = (uint8_t)b.p[pos++];
				x |= (uint64_t)(c & 0x7f) << s;
				if (!(c & 0x80))
					break;
				s += 7;
			}
			v[k] = x;
		}
		if (tsdb_tombs_add(t, v[0],
		        (int64_t)(v[1] >> 1) ^ -(int64_t)(v[1] & 1),
		        (int64_t)(v[2] >> 1) ^ -(int64_t)(v[2] & 1)) != 0) {
			ax_buf_fini(&b);
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		}
	}
	ax_buf_fini(&b);
	return 0;
}

static void uv(ax_buf_t *b, uint64_t v)
{
	while (v >= 0x80) {
		ax_buf_putc(b, (char)(v | 0x80));
		v >>= 7;
	}
	ax_buf_putc(b, (char)v);
}

int tsdb_tombs_write(const tsdb_tombs_t *t, const char *path, ax_err_t *err)
{
	ax_buf_t b = AX_BUF_INIT;
	char tmp[4200];
	size_t pos = 0, i;
	ax_hmap_ent_t *e;
	uint32_t crc;
	uint8_t hdr[5] = {0x01, 0x30, 0xBA, 0x30, 1}, c4[4];
	int fd;

	ax_buf_append(&b, hdr, 5);
	while ((e = ax_hmap_next(&t->m, &pos)) != NULL) {
		const tsdb_ivs_t *s = e->val;
		uint64_t id;

		memcpy(&id, e->key, sizeof(id));
		for (i = 0; i < s->n; i++) {
			uv(&b, id);
			uv(&b,
			    ((uint64_t)s->v[i].mint << 1) ^
			        (uint64_t)(s->v[i].mint >> 63));
			uv(&b,
			    ((uint64_t)s->v[i].maxt << 1) ^
			        (uint64_t)(s->v[i].maxt >> 63));
		}
	}
	crc = ax_crc32c(0, b.p + 5, b.len - 5);
	c4[0] = (uint8_t)(crc >> 24);
	c4[1] = (uint8_t)(crc >> 16);
	c4[2] = (uint8_t)(crc >> 8);
	c4[3] = (uint8_t)crc;
	ax_buf_append(&b, c4, 4);
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, b.p, b.len) != (ssize_t)b.len ||
	    fsync(fd) != 0) {
		int e2 = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		ax_buf_fini(&b);
		return ax_err_set(err, e2 == ENOSPC ? AX_EAGAIN : AX_EIO,
		    "write %s: %s", tmp, strerror(e2));
	}
	close(fd);
	ax_buf_fini(&b);
	if (rename(tmp, path) != 0)
		return ax_err_set(
		    err, AX_EIO, "rename %s: %s", tmp, strerror(errno));
	return 0;
}
