/*
 * ax-tsdbtool: inspection helper for the tsdb integration tests.
 *
 *   ax-tsdbtool chunks-head DIR
 *       list the chunks in Prometheus' head chunk files (DIR/chunks_head):
 *       one line "ref mint maxt samples crc32c-of-chunk-bytes" per chunk
 *   ax-tsdbtool wal-chunks WALDIR
 *       replay a WAL (axon's or Prometheus') into a fresh head and list its
 *       completed chunks the same way
 *   ax-tsdbtool block-dump BLOCKDIR
 *       print every sample of a block the way `promtool tsdb dump` does:
 *       {name="value", ...} value timestamp
 *   ax-tsdbtool wal-count WALDIR [METRIC]
 *       print "series samples min-per-series max-per-series" of a WAL
 *       (min/max over the series of METRIC when given)
 *
 * Head chunk file layout (Prometheus tsdb/chunks/head_chunks.go): magic
 * 0x0130BC91 BE32, version 1, 3 bytes padding; then per chunk: series ref
 * BE64, mint BE64, maxt BE64, encoding byte, data length uvarint, data,
 * CRC-32C BE32 over everything from the series ref to the data.
 */
#include "ax_crc32c.h"
#include "ax_log.h"
#include "tsdb/block_read.h"
#include "tsdb/head.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static int chunks_head(const char *dir)
{
	char path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/chunks_head", dir);
	d = opendir(path);
	if (d == NULL) {
		perror(path);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char fp[8192];
		FILE *f;
		uint8_t *b;
		long len;
		size_t pos = 8;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
		f = fopen(fp, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		b = malloc((size_t)len + 1);
		if (b == NULL || fread(b, 1, (size_t)len, f) != (size_t)len) {
			fclose(f);
			free(b);
			return 1;
		}
		fclose(f);
		if (len < 8 || be64(b) >> 32 != 0x0130BC91u) {
			fprintf(stderr, "%s: bad magic\n", fp);
			free(b);
			return 1;
		}
		while (pos + 25 < (size_t)len) {
			uint64_t ref = be64(b + pos), dl = 0;
			int64_t mint = (int64_t)be64(b + pos + 8);
			int64_t maxt = (int64_t)be64(b + pos + 16);
			size_t p = pos + 25, start = pos;
			int s = 0;
			uint32_t crc, want;

			if (ref == 0 && mint == 0 && maxt == 0)
				break; /* preallocated zeros */
			while (p < (size_t)len) {
				uint8_t c = b[p++];

				dl |= (uint64_t)(c & 0x7f) << s;
				if (!(c & 0x80))
					break;
				s += 7;
			}
			if (p + dl + 4 > (size_t)len)
				break;
			crc = ax_crc32c(0, b + start, p + dl - start);
			want =
			    (uint32_t)(b[p + dl] << 24 | b[p + dl + 1] << 16 |
			        b[p + dl + 2] << 8 | b[p + dl + 3]);
			if (crc != want) {
				fprintf(stderr,
				    "%s: checksum mismatch at %zu\n", fp,
				    start);
				free(b);
				return 1;
			}
			printf("%llu %lld %lld %u %08x\n",
			    (unsigned long long)ref, (long long)mint,
			    (long long)maxt, tsdb_xor_num_samples(b + p, dl),
			    ax_crc32c(0, b + p, dl));
			pos = p + dl + 4;
		}
		free(b);
	}
	closedir(d);
	return 0;
}

static int wal_chunks(const char *wal, int count_only, const char *only)
{
	tsdb_head_opts_t o;

	memset(&o, 0, sizeof(o));
	tsdb_head_t *h;
	tsdb_wal_replay_stats_t st;
	tsdb_head_stats_t hs;
	uint64_t samples, ref;
	ax_err_t err;

	if (tsdb_head_new(&o, &h, &err) != 0 ||
	    tsdb_head_replay(h, wal, &st, &samples, &err) != 0) {
		fprintf(stderr, "replay: %s\n", err.msg);
		return 1;
	}
	tsdb_head_stats(h, &hs);
	if (count_only) {
		/* series, samples, and the fewest/most samples of one series */
		uint64_t lo = UINT64_MAX, hi = 0;

		for (ref = 1; ref <= hs.series * 4 + 1000; ref++) {
			tsdb_series_t *s = tsdb_head_series(h, ref);
			uint64_t c = 0;
			size_t i;

			if (s == NULL)
				continue;
			if (only &&
			    (ax_labels_get(s->ls, "__name__") == NULL ||
			        strcmp(ax_labels_get(s->ls, "__name__"),
			            only) != 0))
				continue;
			for (i = 0; i < s->n_chunks; i++)
				c += tsdb_xor_num_samples(
				    s->chunks[i].b, s->chunks[i].len);
			c += s->app.n;
			if (c < lo)
				lo = c;
			if (c > hi)
				hi = c;
		}
		printf("%llu %llu %llu %llu\n", (unsigned long long)hs.series,
		    (unsigned long long)samples,
		    (unsigned long long)(hs.series ? lo : 0),
		    (unsigned long long)hi);
		tsdb_head_free(h);
		return 0;
	}
	for (ref = 1; ref < 10000000; ref++) {
		tsdb_series_t *s = tsdb_head_series(h, ref);
		size_t i;

		if (s == NULL) {
			if (ref > hs.series * 4 + 1000)
				break;
			continue;
		}
		for (i = 0; i < s->n_chunks; i++)
			printf("%llu %lld %lld %u %08x\n",
			    (unsigned long long)ref,
			    (long long)s->chunks[i].mint,
			    (long long)s->chunks[i].maxt,
			    tsdb_xor_num_samples(
			        s->chunks[i].b, s->chunks[i].len),
			    ax_crc32c(0, s->chunks[i].b, s->chunks[i].len));
	}
	tsdb_head_free(h);
	return 0;
}

static int block_dump(const char *dir)
{
	tsdb_block_t *b;
	tsdb_plist_t ids = {0};
	ax_err_t err;
	size_t i, c;

	if (tsdb_block_open(dir, &b, &err) != 0 ||
	    tsdb_block_select(b, NULL, 0, &ids, &err) != 0) {
		fprintf(stderr, "block-dump: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < ids.n; i++) {
		ax_labels_t *ls;
		tsdb_chunk_meta_t *m;
		size_t nm;
		ax_buf_t lb = AX_BUF_INIT;
		uint32_t k;

		if (tsdb_block_series(b, ids.v[i], &ls, &m, &nm, &err) != 0) {
			fprintf(stderr, "block-dump: %s\n", err.msg);
			return 1;
		}
		ax_buf_putc(&lb, '{');
		for (k = 0; k < ls->n; k++)
			ax_buf_printf(&lb, "%s%s=\"%s\"", k ? ", " : "",
			    ls->l[k].name, ls->l[k].value);
		ax_buf_putc(&lb, '}');
		for (c = 0; c < nm; c++) {
			const uint8_t *d;
			size_t dl;
			tsdb_xor_it_t it;

			if (tsdb_block_chunk(b, m[c].ref, &d, &dl, &err) != 0) {
				fprintf(stderr, "block-dump: %s\n", err.msg);
				return 1;
			}
			tsdb_xor_it_init(&it, d, dl);
			while (tsdb_xor_it_next(&it) == 1) {
				int64_t t;
				double v;
				char vb[64];

				tsdb_xor_it_at(&it, &t, &v);
				ax_fmt_double(vb, sizeof(vb), v);
				printf("%s %s %lld\n", lb.p, vb, (long long)t);
			}
		}
		ax_buf_fini(&lb);
		free(m);
		ax_labels_free(ls);
	}
	tsdb_plist_fini(&ids);
	tsdb_block_close(b);
	return 0;
}

int main(int argc, char **argv)
{
	ax_log_setup("warn", NULL, NULL);
	if (argc == 3 && strcmp(argv[1], "chunks-head") == 0)
		return chunks_head(argv[2]);
	if (argc == 3 && strcmp(argv[1], "block-dump") == 0)
		return block_dump(argv[2]);
	if (argc == 3 && strcmp(argv[1], "wal-chunks") == 0)
		return wal_chunks(argv[2], 0, NULL);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "wal-count") == 0)
		return wal_chunks(argv[2], 1, argc == 4 ? argv[3] : NULL);
	fprintf(stderr,
	    "usage: ax-tsdbtool chunks-head DIR | wal-chunks WALDIR | "
	    "wal-count WALDIR\n");
	return 2;
}
