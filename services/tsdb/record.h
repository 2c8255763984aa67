/*
 * record: encoding and decoding of Prometheus' WAL records
 * (tsdb/record, as written by Prometheus 2.42).  All integers big endian
 * unless varint; strings are uvarint length + bytes.
 *
 *   Series (1):     per series: ref BE64, uvarint n, n x (name, value)
 *   Samples (2):    base ref BE64, base t BE64, then per sample:
 *                   varint(ref - base ref), varint(t - base t), BE64 bits(v)
 *   Tombstones (3): per stone: ref BE64, varint mint, varint maxt
 *   Exemplars (4):  base ref BE64, base t BE64, then per exemplar:
 *                   varint dref, varint dt, BE64 bits(v), labels as Series
 *   MmapMarkers (5): per marker: ref BE64, chunk ref BE64
 *   Metadata (6):   per entry: uvarint ref, type byte, uvarint nfields,
 *                   nfields x (name, value) with names "UNIT" and "HELP"
 *   HistogramSamples (7): native histograms, not supported (refused on
 *                   replay with a clear error)
 */
#ifndef TSDB_RECORD_H
#define TSDB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ax_buf.h"
#include "ax_err.h"
#include "ax_labels.h"

enum {
	TSDB_REC_SERIES = 1,
	TSDB_REC_SAMPLES = 2,
	TSDB_REC_TOMBSTONES = 3,
	TSDB_REC_EXEMPLARS = 4,
	TSDB_REC_MMAP_MARKERS = 5,
	TSDB_REC_METADATA = 6,
	TSDB_REC_HISTOGRAM_SAMPLES = 7,
	TSDB_REC_FLOAT_HISTOGRAM_SAMPLES = 8,
};

typedef struct tsdb_rec_sample {
	uint64_t ref;
	int64_t t;
	double v;
} tsdb_rec_sample_t;

typedef struct tsdb_rec_tombstone {
	uint64_t ref;
	int64_t mint, maxt;
} tsdb_rec_tombstone_t;

typedef struct tsdb_rec_metadata {
	uint64_t ref;
	uint8_t type; /* 0 unknown, 1 counter, 2 gauge, 3 histogram, 4
	               * gaugehistogram, 5 summary, 6 info, 7 stateset */
	const char *unit;
	const char *help;
} tsdb_rec_metadata_t;

typedef struct tsdb_rec_exemplar {
	uint64_t ref;
	int64_t t;
	double v;
	const ax_labels_t *ls;
} tsdb_rec_exemplar_t;

/* Encoders append one record to b (check ax_buf_ok afterwards). */
void tsdb_rec_exemplars(ax_buf_t *b, const tsdb_rec_exemplar_t *e, size_t n);
void tsdb_rec_series_begin(ax_buf_t *b);
void tsdb_rec_series_add(ax_buf_t *b, uint64_t ref, const ax_labels_t *ls);
void tsdb_rec_samples(ax_buf_t *b, const tsdb_rec_sample_t *s, size_t n);
void tsdb_rec_tombstones(ax_buf_t *b, const tsdb_rec_tombstone_t *t, size_t n);
void tsdb_rec_metadata(ax_buf_t *b, const tsdb_rec_metadata_t *m, size_t n);

/* Record type of rec (first byte), or 0 for an empty record. */
int tsdb_rec_type(const uint8_t *rec, size_t len);

/* Decoders.  Callbacks get borrowed data valid for the call.  A malformed
 * record is AX_EPROTO with the reason in err. */
typedef int (*tsdb_rec_series_fn)(
    void *arg, uint64_t ref, const ax_labels_t *ls);
int tsdb_rec_decode_series(const uint8_t *rec, size_t len,
    tsdb_rec_series_fn fn, void *arg, ax_err_t *err);
/* Samples go to *buf (grown as needed, caller frees); count in *n. */
int tsdb_rec_decode_samples(const uint8_t *rec, size_t len,
    tsdb_rec_sample_t **buf, size_t *cap, size_t *n, ax_err_t *err);
int tsdb_rec_decode_tombstones(const uint8_t *rec, size_t len,
    tsdb_rec_tombstone_t **buf, size_t *cap, size_t *n, ax_err_t *err);
typedef int (*tsdb_rec_metadata_fn)(void *arg, const tsdb_rec_metadata_t *m);
int tsdb_rec_decode_metadata(const uint8_t *rec, size_t len,
    tsdb_rec_metadata_fn fn, void *arg, ax_err_t *err);
typedef int (*tsdb_rec_exemplar_fn)(
    void *arg, uint64_t ref, int64_t t, double v, const ax_labels_t *ls);
int tsdb_rec_decode_exemplars(const uint8_t *rec, size_t len,
    tsdb_rec_exemplar_fn fn, void *arg, ax_err_t *err);

#endif
