/*
 * checkpoint: Prometheus-format WAL checkpoints (see checkpoint.h), and the
 * WAL truncation that follows a head compaction.
 */
#include "tsdb/fsutil.h"
#include "tsdb/checkpoint.h"
#include "ax_buf.h"
#include "ax_log.h"
#include "tsdb/record.h"
#include "tsdb/tsdb.h"
#include "tsdb/wal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tsdb_checkpoint_last(const char *wal_dir, char *path, size_t cap)
{
	DIR *d = opendir(wal_dir);
	struct dirent *e;
	int best = -1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long k;

		if (strncmp(e->d_name, "checkpoint.", 11) != 0)
			continue;
		k = strtol(e->d_name + 11, &end, 10);
		if (*end != '\0' || end == e->d_name + 11 || k < 0)
			continue; /* .tmp or junk */
		if (k > best)
			best = (int)k;
	}
	closedir(d);
	if (best >= 0 && path)
		snprintf(path, cap, "%s/checkpoint.%08d", wal_dir, best);
	return best;
}

typedef struct cp_ctx {
	int (*keep)(void *arg, uint64_t ref);
	void *arg;
	int64_t mint;
	tsdb_wal_t *out;
	ax_buf_t series, samples, other;
	tsdb_rec_sample_t *buf;
	size_t cap;
	tsdb_rec_tombstone_t *tb;
	size_t tcap;
	int n_series;
	ax_err_t *err;
} cp_ctx_t;

static int flush(cp_ctx_t *c, ax_buf_t *b)
{
	const uint8_t *r[1];
	size_t l[1];
	int rv;

	if (b->len == 0)
		return 0;
	if (!ax_buf_ok(b))
		return ax_err_set(c->err, AX_ENOMEM, "out of memory");
	r[0] = (const uint8_t *)b->p;
	l[0] = b->len;
	rv = tsdb_wal_log(c->out, r, l, 1, c->err);
	ax_buf_reset(b);
	return rv;
}

static int cp_series(void *arg, uint64_t ref, const ax_labels_t *ls)
{
	cp_ctx_t *c = arg;

	if (!c->keep(c->arg, ref))
		return 0;
	if (c->series.len == 0)
		tsdb_rec_series_begin(&c->series);
	tsdb_rec_series_add(&c->series, ref, ls);
	if (c->series.len > (1u << 20))
		return flush(c, &c->series);
	return 0;
}

static int cp_meta(void *arg, const tsdb_rec_metadata_t *m)
{
	cp_ctx_t *c = arg;

	if (!c->keep(c->arg, m->ref))
		return 0;
	ax_buf_reset(&c->other);
	tsdb_rec_metadata(&c->other, m, 1);
	return flush(c, &c->other);
}

static int cp_record(void *arg, const uint8_t *rec, size_t len)
{
	cp_ctx_t *c = arg;
	size_t n, i, k;
	int rv;

	switch (tsdb_rec_type(rec, len)) {
	case TSDB_REC_SERIES:
		return tsdb_rec_decode_series(rec, len, cp_series, c, c->err);
	case TSDB_REC_SAMPLES:
		if ((rv = flush(c, &c->series)) != 0)
			return rv;
		if ((rv = tsdb_rec_decode_samples(
		         rec, len, &c->buf, &c->cap, &n, c->err)) != 0)
			return rv;
		for (i = 0, k = 0; i < n; i++)
			if (c->buf[i].t >= c->mint)
				c->buf[k++] = c->buf[i];
		if (k == 0)
			return 0;
		ax_buf_reset(&c->samples);
		tsdb_rec_samples(&c->samples, c->buf, k);
		return flush(c, &c->samples);
	case TSDB_REC_TOMBSTONES:
		if ((rv = tsdb_rec_decode_tombstones(
		         rec, len, &c->tb, &c->tcap, &n, c->err)) != 0)
			return rv;
		for (i = 0, k = 0; i < n; i++)
			if (c->tb[i].maxt >= c->mint &&
			    c->keep(c->arg, c->tb[i].ref))
				c->tb[k++] = c->tb[i];
		if (k == 0)
			return 0;
		ax_buf_reset(&c->other);
		tsdb_rec_tombstones(&c->other, c->tb, k);
		return flush(c, &c->other);
	case TSDB_REC_METADATA:
		return tsdb_rec_decode_metadata(rec, len, cp_meta, c, c->err);
	default: return 0; /* exemplars and markers are not carried over */
	}
}

int tsdb_checkpoint_write(const char *wal_dir, int from, int to,
    int (*keep)(void *arg, uint64_t ref), void *arg, int64_t mint, int compress,
    ax_err_t *err)
{
	char tmp[4200], dst[4200], prev[4200];
	tsdb_wal_opts_t o = {0, compress, TSDB_WAL_FSYNC_SEGMENT};
	tsdb_wal_replay_stats_t st;
	cp_ctx_t c;
	int rv, last;

	snprintf(tmp, sizeof(tmp), "%s/checkpoint.%08d.tmp", wal_dir, to);
	snprintf(dst, sizeof(dst), "%s/checkpoint.%08d", wal_dir, to);
	tsdb_fs_rm_rf(tmp);
	memset(&c, 0, sizeof(c));
	c.keep = keep;
	c.arg = arg;
	c.mint = mint;
	c.err = err;
	if ((rv = tsdb_wal_open(tmp, &o, &c.out, err)) != 0)
		return rv;
	last = tsdb_checkpoint_last(wal_dir, prev, sizeof(prev));
	if (last >= 0 && last >= from - 1)
		rv = tsdb_wal_replay(prev, 0, 0, cp_record, &c, &st, err);
	if (rv == 0)
		rv = tsdb_wal_replay_range(
		    wal_dir, from, to, cp_record, &c, &st, err);
	if (rv == 0)
		rv = flush(&c, &c.series);
	tsdb_wal_close(c.out);
	ax_buf_fini(&c.series);
	ax_buf_fini(&c.samples);
	ax_buf_fini(&c.other);
	free(c.buf);
	free(c.tb);
	if (rv != 0) {
		tsdb_fs_rm_rf(tmp);
		return rv;
	}
	if (rename(tmp, dst) != 0) {
		rv = ax_err_set(
		    err, AX_EIO, "rename %s: %s", tmp, strerror(errno));
		tsdb_fs_rm_rf(tmp);
		return rv;
	}
	return 0;
}

void tsdb_wal_delete_before(const char *wal_dir, int before)
{
	int *segs;
	size_t n, i;
	char p[4200];
	int last = tsdb_checkpoint_last(wal_dir, NULL, 0);
	DIR *d;
	struct dirent *e;

	if (tsdb_wal_segments(wal_dir, &segs, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			if (segs[i] >= before)
				continue;
			snprintf(p, sizeof(p), "%s/%08d", wal_dir, segs[i]);
			unlink(p);
		}
		free(segs);
	}
	d = opendir(wal_dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long k;

		if (strncmp(e->d_name, "checkpoint.", 11) != 0)
			continue;
		k = strtol(e->d_name + 11, &end, 10);
		if (*end == '\0' && k == last)
			continue;
		snprintf(p, sizeof(p), "%s/%s", wal_dir, e->d_name);
		tsdb_fs_rm_rf(p);
	}
	closedir(d);
}

static int keep_series(void *arg, uint64_t ref)
{
	return tsdb_head_has_series(arg, ref);
}

void tsdb_wal_truncate_after_compaction(tsdb_t *t, int64_t mint)
{
	int *segs;
	size_t n;
	int first, last;
	ax_err_t err;

	if (t->wal == NULL ||
	    tsdb_wal_segments(t->wal_dir, &segs, &n, &err) != 0)
		return;
	if (n < 2) {
		free(segs);
		return;
	}
	/* as Prometheus: never the active segment; the lower two thirds of
	 * the others hold mostly obsolete samples */
	first = segs[0];
	last = segs[n - 2];
	free(segs);
	last = first + (last - first) * 2 / 3;
	if (last <= first)
		return;
	if (tsdb_checkpoint_write(t->wal_dir, first, last, keep_series, t->head,
	        mint, t->wal_opts.compress, &err) != 0) {
		ax_log_error(
		    "WAL checkpoint failed; segments are kept", "err", err.msg);
		return;
	}
	ax_counter_inc(t->m_checkpoints);
	tsdb_wal_delete_before(t->wal_dir, last + 1);
	{
		char a[16];

		snprintf(a, sizeof(a), "%d", last);
		ax_log_info("WAL checkpoint written, older segments deleted",
		    "checkpoint", a);
	}
}
