/*
 * chunk_xor: Prometheus' XOR chunk encoding (chunkenc.EncXOR = 1), bit for
 * bit, so chunks can be written into Prometheus-format blocks and head
 * chunk files and read back by Prometheus and promtool.
 *
 * Layout of a chunk's bytes:
 *   [0..2)  number of samples, uint16 big endian
 *   then a bit stream, most significant bit first:
 *   sample 0: t as signed varint (Go binary.PutVarint), v as 64 raw bits
 *   sample 1: t - t0 as unsigned varint, v XOR-encoded
 *   sample n: dod = (t - t[n-1]) - (t[n-1] - t[n-2]) as
 *               '0'                      dod == 0
 *               '10'   + 14 bits         -8191 <= dod <= 8192
 *               '110'  + 17 bits         -65535 <= dod <= 65536
 *               '1110' + 20 bits         -524287 <= dod <= 524288
 *               '1111' + 64 bits         otherwise
 *             (two's complement, truncated to the width), v XOR-encoded.
 *   XOR value: delta = bits(v) ^ bits(prev v);
 *               '0'                       delta == 0
 *               '10' + meaningful bits    leading/trailing zeros fit the
 *                                         previous window
 *               '11' + 5 bits leading (capped at 31) + 6 bits width
 *                    (64 encoded as 0) + width bits
 * Values are stored as raw IEEE-754 bits, so NaNs (the staleness marker
 * 0x7ff0000000000002 included) round-trip exactly.
 *
 * An appender owns a growable buffer; appending allocates only when the
 * buffer must grow (amortised, a few times per chunk).
 */
#ifndef TSDB_CHUNK_XOR_H
#define TSDB_CHUNK_XOR_H

#include <stddef.h>
#include <stdint.h>

#define TSDB_ENC_XOR 1

typedef struct tsdb_xor_app {
	uint8_t *b; /* chunk bytes, 2-byte header included */
	size_t len; /* bytes in use */
	size_t cap;
	uint8_t free_bits; /* unused low bits in b[len-1] (0..8) */
	uint16_t n;
	int64_t t;
	int64_t t_delta;
	uint64_t v;
	uint8_t leading; /* 0xff before the first XOR window */
	uint8_t trailing;
} tsdb_xor_app_t;

/* Start an empty chunk.  Returns 0 or AX_ENOMEM. */
int tsdb_xor_init(tsdb_xor_app_t *a);
void tsdb_xor_fini(tsdb_xor_app_t *a);
/* Append (t, v); t must be greater than the previous timestamp (the caller
 * enforces order).  Returns 0 or AX_ENOMEM (the chunk is unchanged). */
int tsdb_xor_append(tsdb_xor_app_t *a, int64_t t, double v);
/* Resume appending to existing chunk bytes (copied): new bits continue
 * right after the last sample's.  AX_EPROTO when the bytes do not
 * decode. */
int tsdb_xor_resume(tsdb_xor_app_t *a, const uint8_t *b, size_t len);

typedef struct tsdb_xor_it {
	const uint8_t *b;
	size_t len;
	size_t pos;  /* byte position of the next bit */
	uint8_t bit; /* next bit within b[pos], 7 = MSB */
	uint16_t n;  /* samples in the chunk */
	uint16_t i;  /* samples read */
	int64_t t;
	int64_t t_delta;
	uint64_t v;
	uint8_t leading;
	uint8_t trailing;
	int err;
} tsdb_xor_it_t;

/* Iterate over chunk bytes (borrowed for the iterator's lifetime). */
void tsdb_xor_it_init(tsdb_xor_it_t *it, const uint8_t *b, size_t len);
/* Advance: 1 when a sample is available (tsdb_xor_it_at), 0 at the end,
 * AX_EPROTO on corrupt data. */
int tsdb_xor_it_next(tsdb_xor_it_t *it);
/* Advance to the first sample with timestamp >= t; same returns. */
int tsdb_xor_it_seek(tsdb_xor_it_t *it, int64_t t);
void tsdb_xor_it_at(const tsdb_xor_it_t *it, int64_t *t, double *v);

/* Number of samples in chunk bytes. */
uint16_t tsdb_xor_num_samples(const uint8_t *b, size_t len);

#endif
