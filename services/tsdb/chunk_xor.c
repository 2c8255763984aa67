/*
 * chunk_xor: Gorilla/XOR chunk encoding identical to Prometheus' (see
 * chunk_xor.h for the bit layout).
 */
#include "chunk_xor.h"
#include "ax_err.h"

#include <stdlib.h>
#include <string.h>

static int grow(tsdb_xor_app_t *a, size_t need)
{
	size_t nc;
	uint8_t *nb;

	if (a->len + need <= a->cap)
		return 0;
	nc = a->cap ? a->cap * 2 : 128;
	while (nc < a->len + need)
		nc *= 2;
	nb = realloc(a->b, nc);
	if (nb == NULL)
		return AX_ENOMEM;
	a->b = nb;
	a->cap = nc;
	return 0;
}

/* Bit writer with the exact byte layout of Prometheus' bstream: free_bits
 * (0..8) unused low bits in the last byte.  Whole bytes are written the
 * way bstream.writeByte writes them, which always appends a byte, so after
 * an aligned byte write the stream ends in an empty byte (free_bits 8):
 * chunk lengths then match Prometheus' to the byte.  The caller reserved
 * enough space (grow). */
static void put_bit(tsdb_xor_app_t *a, int bit)
{
	if (a->free_bits == 0) {
		a->b[a->len++] = 0;
		a->free_bits = 8;
	}
	if (bit)
		a->b[a->len - 1] |= (uint8_t)(1u << (a->free_bits - 1));
	a->free_bits--;
}

static void put_byte(tsdb_xor_app_t *a, uint8_t byte)
{
	if (a->free_bits == 0) {
		a->b[a->len++] = 0;
		a->free_bits = 8;
	}
	a->b[a->len - 1] |= (uint8_t)(byte >> (8 - a->free_bits));
	a->b[a->len++] = (uint8_t)((unsigned)byte << a->free_bits);
}

static void put_bits(tsdb_xor_app_t *a, uint64_t v, int nbits)
{
	if (nbits <= 0)
		return;
	v <<= 64 - nbits;
	while (nbits >= 8) {
		put_byte(a, (uint8_t)(v >> 56));
		v <<= 8;
		nbits -= 8;
	}
	/* the last 0..7 bits a run at a time: the same bytes as one
	 * put_bit per bit (a byte is added only when the last one is full) */
	while (nbits > 0) {
		int take;

		if (a->free_bits == 0) {
			a->b[a->len++] = 0;
			a->free_bits = 8;
		}
		take = nbits < a->free_bits ? nbits : a->free_bits;
		a->b[a->len - 1] |= (uint8_t)((v >> (64 - take))
		    << (a->free_bits - take));
		a->free_bits -= take;
		v <<= take;
		nbits -= take;
	}
}

static void put_uvarint(tsdb_xor_app_t *a, uint64_t x)
{
	while (x >= 0x80) {
		put_byte(a, (uint8_t)(x | 0x80));
		x >>= 7;
	}
	put_byte(a, (uint8_t)x);
}

static void put_varint(tsdb_xor_app_t *a, int64_t x)
{
	uint64_t ux = (uint64_t)x << 1;

	if (x < 0)
		ux = ~ux;
	put_uvarint(a, ux);
}

static uint64_t f2u(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static double u2f(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

static void xor_write(tsdb_xor_app_t *a, uint64_t nv)
{
	uint64_t delta = nv ^ a->v;
	uint8_t lead, trail, sig;

	if (delta == 0) {
		put_bit(a, 0);
		return;
	}
	put_bit(a, 1);
	lead = (uint8_t)__builtin_clzll(delta);
	trail = (uint8_t)__builtin_ctzll(delta);
	if (lead >= 32)
		lead = 31;
	if (a->leading != 0xff && lead >= a->leading && trail >= a->trailing) {
		put_bit(a, 0);
		put_bits(
		    a, delta >> a->trailing, 64 - a->leading - a->trailing);
		return;
	}
	a->leading = lead;
	a->trailing = trail;
	put_bit(a, 1);
	put_bits(a, lead, 5);
	sig = (uint8_t)(64 - lead - trail);
	put_bits(a, sig & 63, 6); /* 64 is written as 0 */
	put_bits(a, delta >> trail, sig);
}

int tsdb_xor_init(tsdb_xor_app_t *a)
{
	memset(a, 0, sizeof(*a));
	a->leading = 0xff;
	if (grow(a, 2) != 0)
		return AX_ENOMEM;
	a->b[0] = a->b[1] = 0;
	a->len = 2;
	return 0;
}

void tsdb_xor_fini(tsdb_xor_app_t *a)
{
	free(a->b);
	memset(a, 0, sizeof(*a));
}

static int bit_range(int64_t x, int nbits)
{
	return -((1LL << (nbits - 1)) - 1) <= x && x <= (1LL << (nbits - 1));
}

int tsdb_xor_append(tsdb_xor_app_t *a, int64_t t, double v)
{
	uint64_t vb = f2u(v);

	if (grow(a, 32) != 0)
		return AX_ENOMEM;
	if (a->n == 0) {
		put_varint(a, t);
		put_bits(a, vb, 64);
	} else if (a->n == 1) {
		int64_t td = t - a->t;

		put_uvarint(a, (uint64_t)td);
		xor_write(a, vb);
		a->t_delta = td;
	} else {
		int64_t td = t - a->t;
		int64_t dod = td - a->t_delta;

		if (dod == 0) {
			put_bit(a, 0);
		} else if (bit_range(dod, 14)) {
			put_bits(a, 0x2, 2);
			put_bits(a, (uint64_t)dod, 14);
		} else if (bit_range(dod, 17)) {
			put_bits(a, 0x6, 3);
			put_bits(a, (uint64_t)dod, 17);
		} else if (bit_range(dod, 20)) {
			put_bits(a, 0xe, 4);
			put_bits(a, (uint64_t)dod, 20);
		} else {
			put_bits(a, 0xf, 4);
			put_bits(a, (uint64_t)dod, 64);
		}
		xor_write(a, vb);
		a->t_delta = td;
	}
	a->t = t;
	a->v = vb;
	a->n++;
	a->b[0] = (uint8_t)(a->n >> 8);
	a->b[1] = (uint8_t)a->n;
	return 0;
}

/* ---- reading ---- */

uint16_t tsdb_xor_num_samples(const uint8_t *b, size_t len)
{
	if (len < 2)
		return 0;
	return (uint16_t)((b[0] << 8) | b[1]);
}

void tsdb_xor_it_init(tsdb_xor_it_t *it, const uint8_t *b, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->b = b;
	it->len = len;
	it->n = tsdb_xor_num_samples(b, len);
	it->pos = 2;
	it->bit = 7;
	it->leading = 0xff; /* no XOR window yet */
	it->trailing = 0;
}

static int get_bit(tsdb_xor_it_t *it, int *out)
{
	if (it->pos >= it->len)
		return AX_EPROTO;
	*out = (it->b[it->pos] >> it->bit) & 1;
	if (it->bit == 0) {
		it->bit = 7;
		it->pos++;
	} else {
		it->bit--;
	}
	return 0;
}

static int get_bits(tsdb_xor_it_t *it, int nbits, uint64_t *out)
{
	uint64_t v = 0;

	while (nbits > 0) {
		int avail = it->bit + 1, take;
		uint8_t byte;

		if (it->pos >= it->len)
			return AX_EPROTO;
		take = nbits < avail ? nbits : avail;
		byte = it->b[it->pos];
		v = (v << take) |
		    ((byte >> (avail - take)) & ((1u << take) - 1));
		nbits -= take;
		if (take == avail) {
			it->pos++;
			it->bit = 7;
		} else {
			it->bit = (uint8_t)(it->bit - take);
		}
	}
	*out = v;
	return 0;
}

static int get_uvarint(tsdb_xor_it_t *it, uint64_t *out)
{
	uint64_t x = 0, b;
	int s = 0, i;

	for (i = 0; i < 10; i++) {
		if (get_bits(it, 8, &b) != 0)
			return AX_EPROTO;
		if (b < 0x80) {
			if (i == 9 && b > 1)
				return AX_EPROTO;
			*out = x | (b << s);
			return 0;
		}
		x |= (b & 0x7f) << s;
		s += 7;
	}
	return AX_EPROTO;
}

static int get_varint(tsdb_xor_it_t *it, int64_t *out)
{
	uint64_t ux;

	if (get_uvarint(it, &ux) != 0)
		return AX_EPROTO;
	*out = (int64_t)(ux >> 1);
	if (ux & 1)
		*out = ~*out;
	return 0;
}

static int xor_read(tsdb_xor_it_t *it)
{
	int bit;
	uint64_t bits;

	if (get_bit(it, &bit) != 0)
		return AX_EPROTO;
	if (bit == 0)
		return 0;
	if (get_bit(it, &bit) != 0)
		return AX_EPROTO;
	if (bit == 1) {
		uint64_t lead, sig;

		if (get_bits(it, 5, &lead) != 0 || get_bits(it, 6, &sig) != 0)
			return AX_EPROTO;
		if (sig == 0)
			sig = 64;
		if (lead + sig > 64)
			return AX_EPROTO;
		it->leading = (uint8_t)lead;
		it->trailing = (uint8_t)(64 - lead - sig);
	}
	if (it->leading == 0xff)
		return AX_EPROTO; /* reuse of a window never opened */
	{
		int sig = 64 - it->leading - it->trailing;

		if (get_bits(it, sig, &bits) != 0)
			return AX_EPROTO;
		it->v ^= bits << it->trailing;
	}
	return 0;
}

static int64_t sign_extend(uint64_t v, int nbits)
{
	/* Prometheus: values above 1<<(n-1) are negative */
	if (v > (1ULL << (nbits - 1)))
		return (int64_t)v - (int64_t)(1ULL << nbits);
	return (int64_t)v;
}

int tsdb_xor_it_next(tsdb_xor_it_t *it)
{
	if (it->err)
		return it->err;
	if (it->i >= it->n)
		return 0;
	if (it->i == 0) {
		if (get_varint(it, &it->t) != 0 ||
		    get_bits(it, 64, &it->v) != 0)
			return it->err = AX_EPROTO;
	} else if (it->i == 1) {
		uint64_t td;

		if (get_uvarint(it, &td) != 0)
			return it->err = AX_EPROTO;
		it->t_delta = (int64_t)td;
		it->t += it->t_delta;
		if (xor_read(it) != 0)
			return it->err = AX_EPROTO;
	} else {
		int bit, nb = 0, k;
		int64_t dod = 0;
		uint64_t raw;

		for (k = 0; k < 4; k++) {
			if (get_bit(it, &bit) != 0)
				return it->err = AX_EPROTO;
			if (!bit)
				break;
		}
		switch (k) {
		case 0: nb = 0; break;
		case 1: nb = 14; break;
		case 2: nb = 17; break;
		case 3: nb = 20; break;
		default: nb = 64; break;
		}
		if (nb > 0) {
			if (get_bits(it, nb, &raw) != 0)
				return it->err = AX_EPROTO;
			dod = nb == 64 ? (int64_t)raw : sign_extend(raw, nb);
		}
		it->t_delta += dod;
		it->t += it->t_delta;
		if (xor_read(it) != 0)
			return it->err = AX_EPROTO;
	}
	it->i++;
	return 1;
}

int tsdb_xor_it_seek(tsdb_xor_it_t *it, int64_t t)
{
	int rv;

	if (it->i > 0 && it->t >= t)
		return 1;
	while ((rv = tsdb_xor_it_next(it)) == 1)
		if (it->t >= t)
			return 1;
	return rv;
}

void tsdb_xor_it_at(const tsdb_xor_it_t *it, int64_t *t, double *v)
{
	*t = it->t;
	*v = u2f(it->v);
}

int tsdb_xor_resume(tsdb_xor_app_t *a, const uint8_t *b, size_t len)
{
	tsdb_xor_it_t it;
	int rv;

	tsdb_xor_it_init(&it, b, len);
	while ((rv = tsdb_xor_it_next(&it)) == 1)
		;
	if (rv != 0)
		return AX_EPROTO;
	memset(a, 0, sizeof(*a));
	if (grow(a, len + 16) != 0)
		return AX_ENOMEM;
	memcpy(a->b, b, len);
	/* Continue right after the last sample's bits.  At a byte boundary
	 * with an empty trailing byte (bstream after an aligned writeByte)
	 * that byte is kept with its 8 free bits. */
	if (it.pos >= len) {
		a->len = len;
		a->free_bits = 0;
	} else {
		a->len = it.pos + 1;
		a->free_bits = (uint8_t)(it.bit + 1);
		a->b[it.pos] &= (uint8_t)(0xff << a->free_bits);
	}
	a->n = it.n;
	a->t = it.t;
	a->t_delta = it.t_delta;
	a->v = it.v;
	a->leading = it.leading;
	a->trailing = it.trailing;
	return 0;
}
