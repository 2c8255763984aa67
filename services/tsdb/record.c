/*
 * record: Prometheus WAL record codecs (see record.h).
 */
#include "tsdb/record.h"

#include <stdlib.h>
#include <string.h>

static uint64_t f2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

void tsdb_rec_series_begin(ax_buf_t *b)
{
	ax_buf_putc(b, TSDB_REC_SERIES);
}

void tsdb_rec_series_add(ax_buf_t *b, uint64_t ref, const ax_labels_t *ls)
{
	uint32_t i;

	ax_buf_put_be64(b, ref);
	ax_buf_put_uvarint(b, ls->n);
	for (i = 0; i < ls->n; i++) {
		ax_buf_put_uvstr(b, ls->l[i].name);
		ax_buf_put_uvstr(b, ls->l[i].value);
	}
}

void tsdb_rec_samples(ax_buf_t *b, const tsdb_rec_sample_t *s, size_t n)
{
	size_t i;

	ax_buf_putc(b, TSDB_REC_SAMPLES);
	if (n == 0)
		return;
	ax_buf_put_be64(b, s[0].ref);
	ax_buf_put_be64(b, (uint64_t)s[0].t);
	for (i = 0; i < n; i++) {
		ax_buf_put_varint(b, (int64_t)(s[i].ref - s[0].ref));
		ax_buf_put_varint(b, s[i].t - s[0].t);
		ax_buf_put_be64(b, f2u(s[i].v));
	}
}

void tsdb_rec_exemplars(ax_buf_t *b, const tsdb_rec_exemplar_t *e, size_t n)
{
	size_t i;
	uint32_t k;

	ax_buf_putc(b, TSDB_REC_EXEMPLARS);
	if (n == 0)
		return;
	ax_buf_put_be64(b, e[0].ref);
	ax_buf_put_be64(b, (uint64_t)e[0].t);
	for (i = 0; i < n; i++) {
		ax_buf_put_varint(b, (int64_t)(e[i].ref - e[0].ref));
		ax_buf_put_varint(b, e[i].t - e[0].t);
		ax_buf_put_be64(b, f2u(e[i].v));
		ax_buf_put_uvarint(b, e[i].ls->n);
		for (k = 0; k < e[i].ls->n; k++) {
			ax_buf_put_uvstr(b, e[i].ls->l[k].name);
			ax_buf_put_uvstr(b, e[i].ls->l[k].value);
		}
	}
}

void tsdb_rec_tombstones(ax_buf_t *b, const tsdb_rec_tombstone_t *t, size_t n)
{
	size_t i;

	ax_buf_putc(b, TSDB_REC_TOMBSTONES);
	for (i = 0; i < n; i++) {
		ax_buf_put_be64(b, t[i].ref);
		ax_buf_put_varint(b, t[i].mint);
		ax_buf_put_varint(b, t[i].maxt);
	}
}

void tsdb_rec_metadata(ax_buf_t *b, const tsdb_rec_metadata_t *m, size_t n)
{
	size_t i;

	ax_buf_putc(b, TSDB_REC_METADATA);
	for (i = 0; i < n; i++) {
		ax_buf_put_uvarint(b, m[i].ref);
		ax_buf_putc(b, (char)m[i].type);
		ax_buf_put_uvarint(b, 2);
		ax_buf_put_uvstr(b, "UNIT");
		ax_buf_put_uvstr(b, m[i].unit ? m[i].unit : "");
		ax_buf_put_uvstr(b, "HELP");
		ax_buf_put_uvstr(b, m[i].help ? m[i].help : "");
	}
}

int tsdb_rec_type(const uint8_t *rec, size_t len)
{
	return len ? rec[0] : 0;
}

/* ---- decoding ---- */

typedef struct dec {
	const uint8_t *p, *end;
	int bad;
} dec_t;

static uint64_t get_be64(dec_t *d)
{
	uint64_t v = 0;
	int i;

	if (d->end - d->p < 8) {
		d->bad = 1;
		d->p = d->end;
		return 0;
	}
	for (i = 0; i < 8; i++)
		v = (v << 8) | d->p[i];
	d->p += 8;
	return v;
}

static uint64_t get_uvarint(dec_t *d)
{
	uint64_t v = 0;
	int s = 0;

	while (d->p < d->end) {
		uint8_t c = *d->p++;

		if (s == 63 && c > 1) {
			d->bad = 1;
			return 0;
		}
		v |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return v;
		s += 7;
		if (s > 63) {
			d->bad = 1;
			return 0;
		}
	}
	d->bad = 1;
	return 0;
}

static int64_t get_varint(dec_t *d)
{
	uint64_t u = get_uvarint(d);
	int64_t v = (int64_t)(u >> 1);

	return (u & 1) ? ~v : v;
}

/* A string view; NUL-terminates into scratch. */
static const char *get_str(dec_t *d, ax_buf_t *scratch, size_t *off)
{
	uint64_t n = get_uvarint(d);

	if (d->bad || n > (uint64_t)(d->end - d->p)) {
		d->bad = 1;
		return NULL;
	}
	*off = scratch->len;
	ax_buf_append(scratch, d->p, (size_t)n);
	ax_buf_putc(scratch, '\0');
	d->p += n;
	return "";
}

static int bad(ax_err_t *err, const char *what)
{
	return ax_err_set(err, AX_EPROTO, "malformed WAL %s record", what);
}

/* Decode one label set into ls (allocated; caller frees). */
static int get_labels(
    dec_t *d, ax_buf_t *scratch, ax_labels_t **out, ax_err_t *err)
{
	uint64_t n = get_uvarint(d), i;
	size_t *offs;
	ax_label_t *pairs;
	int rv;

	if (d->bad || n > (uint64_t)(d->end - d->p))
		return bad(err, "labels in");
	ax_buf_reset(scratch);
	offs = malloc((n ? n : 1) * 2 * sizeof(*offs));
	pairs = malloc((n ? n : 1) * sizeof(*pairs));
	if (offs == NULL || pairs == NULL) {
		free(offs);
		free(pairs);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (get_str(d, scratch, &offs[2 * i]) == NULL ||
		    get_str(d, scratch, &offs[2 * i + 1]) == NULL) {
			free(offs);
			free(pairs);
			return bad(err, "labels in");
		}
	}
	if (!ax_buf_ok(scratch)) {
		free(offs);
		free(pairs);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		pairs[i].name = scratch->p + offs[2 * i];
		pairs[i].value = scratch->p + offs[2 * i + 1];
	}
	rv = ax_labels_new(pairs, (size_t)n, out, err);
	free(offs);
	free(pairs);
	return rv;
}

int tsdb_rec_decode_series(const uint8_t *rec, size_t len,
    tsdb_rec_series_fn fn, void *arg, ax_err_t *err)
{
	dec_t d = {rec + 1, rec + len, 0};
	ax_buf_t scratch = AX_BUF_INIT;
	int rv = 0;

	if (len < 1 || rec[0] != TSDB_REC_SERIES)
		return bad(err, "series");
	while (d.p < d.end && rv == 0) {
		uint64_t ref = get_be64(&d);
		ax_labels_t *ls;

		if (d.bad) {
			rv = bad(err, "series");
			break;
		}
		if ((rv = get_labels(&d, &scratch, &ls, err)) != 0)
			break;
		rv = fn(arg, ref, ls);
		ax_labels_free(ls);
	}
	ax_buf_fini(&scratch);
	return rv;
}

int tsdb_rec_decode_samples(const uint8_t *rec, size_t len,
    tsdb_rec_sample_t **buf, size_t *cap, size_t *n, ax_err_t *err)
{
	dec_t d = {rec + 1, rec + len, 0};
	uint64_t bref;
	int64_t bt;
	size_t k = 0;

	*n = 0;
	if (len < 1 || rec[0] != TSDB_REC_SAMPLES)
		return bad(err, "samples");
	if (len == 1)
		return 0;
	bref = get_be64(&d);
	bt = (int64_t)get_be64(&d);
	/* at least 10 bytes per sample */
	if (ax_grow((void **)buf, cap, (size_t)(d.end - d.p) / 10 + 1,
	        sizeof(**buf)) != 0)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	while (d.p < d.end && !d.bad) {
		int64_t dr = get_varint(&d), dt = get_varint(&d);
		uint64_t bits = get_be64(&d);

		if (d.bad)
			break;
		if (ax_grow((void **)buf, cap, k + 1, sizeof(**buf)) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		(*buf)[k].ref = (uint64_t)((int64_t)bref + dr);
		(*buf)[k].t = bt + dt;
		memcpy(&(*buf)[k].v, &bits, 8);
		k++;
	}
	if (d.bad)
		return bad(err, "samples");
	*n = k;
	return 0;
}

int tsdb_rec_decode_tombstones(const uint8_t *rec, size_t len,
    tsdb_rec_tombstone_t **buf, size_t *cap, size_t *n, ax_err_t *err)
{
	dec_t d = {rec + 1, rec + len, 0};
	size_t k = 0;

	*n = 0;
	if (len < 1 || rec[0] != TSDB_REC_TOMBSTONES)
		return bad(err, "tombstones");
	while (d.p < d.end && !d.bad) {
		tsdb_rec_tombstone_t t;

		t.ref = get_be64(&d);
		t.mint = get_varint(&d);
		t.maxt = get_varint(&d);
		if (d.bad)
			break;
		if (ax_grow((void **)buf, cap, k + 1, sizeof(**buf)) != 0)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		(*buf)[k++] = t;
	}
	if (d.bad)
		return bad(err, "tombstones");
	*n = k;
	return 0;
}

int tsdb_rec_decode_metadata(const uint8_t *rec, size_t len,
    tsdb_rec_metadata_fn fn, void *arg, ax_err_t *err)
{
	dec_t d = {rec + 1, rec + len, 0};
	ax_buf_t scratch = AX_BUF_INIT;
	int rv = 0;

	if (len < 1 || rec[0] != TSDB_REC_METADATA)
		return bad(err, "metadata");
	while (d.p < d.end && rv == 0) {
		tsdb_rec_metadata_t m;
		uint64_t nf, i;
		size_t unit_off = SIZE_MAX, help_off = SIZE_MAX;

		m.ref = get_uvarint(&d);
		if (d.p >= d.end) {
			d.bad = 1;
			break;
		}
		m.type = *d.p++;
		nf = get_uvarint(&d);
		if (d.bad || nf > (uint64_t)(d.end - d.p))
			break;
		ax_buf_reset(&scratch);
		for (i = 0; i < nf && !d.bad; i++) {
			size_t no, vo;

			if (get_str(&d, &scratch, &no) == NULL ||
			    get_str(&d, &scratch, &vo) == NULL)
				break;
			if (strcmp(scratch.p + no, "UNIT") == 0)
				unit_off = vo;
			else if (strcmp(scratch.p + no, "HELP") == 0)
				help_off = vo;
		}
		if (d.bad || !ax_buf_ok(&scratch))
			break;
		m.unit = unit_off == SIZE_MAX ? "" : scratch.p + unit_off;
		m.help = help_off == SIZE_MAX ? "" : scratch.p + help_off;
		rv = fn(arg, &m);
	}
	ax_buf_fini(&scratch);
	if (rv == 0 && d.bad)
		return bad(err, "metadata");
	return rv;
}

int tsdb_rec_decode_exemplars(const uint8_t *rec, size_t len,
    tsdb_rec_exemplar_fn fn, void *arg, ax_err_t *err)
{
	dec_t d = {rec + 1, rec + len, 0};
	ax_buf_t scratch = AX_BUF_INIT;
	uint64_t bref;
	int64_t bt;
	int rv = 0;

	if (len < 1 || rec[0] != TSDB_REC_EXEMPLARS)
		return bad(err, "exemplars");
	if (len == 1)
		return 0;
	bref = get_be64(&d);
	bt = (int64_t)get_be64(&d);
	while (d.p < d.end && !d.bad && rv == 0) {
		int64_t dr = get_varint(&d), dt = get_varint(&d);
		uint64_t bits = get_be64(&d);
		ax_labels_t *ls;
		double v;

		if (d.bad)
			break;
		if ((rv = get_labels(&d, &scratch, &ls, err)) != 0)
			break;
		memcpy(&v, &bits, 8);
		rv = fn(arg, (uint64_t)((int64_t)bref + dr), bt + dt, v, ls);
		ax_labels_free(ls);
	}
	ax_buf_fini(&scratch);
	if (rv == 0 && d.bad)
		return bad(err, "exemplars");
	return rv;
}
