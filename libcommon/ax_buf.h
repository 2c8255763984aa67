/*
 * ax_buf: a growable byte buffer with a sticky out-of-memory flag.
 *
 * Appends never fail loudly: on allocation failure the buffer sets `oom`
 * and ignores later appends, so a renderer can append freely and check
 * ax_buf_ok() once at the end.  The content is always NUL-terminated when
 * p != NULL (the NUL is not counted in len).
 */
#ifndef AX_BUF_H
#define AX_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ax_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
} ax_buf_t;

#define AX_BUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

void ax_buf_init(ax_buf_t *b);
/* Free the storage; the buffer may be reused after ax_buf_init. */
void ax_buf_fini(ax_buf_t *b);
/* Forget the content, keep the storage. */
void ax_buf_reset(ax_buf_t *b);
/* 1 when no append has failed. */
int ax_buf_ok(const ax_buf_t *b);
/* Make room for n more bytes; returns 0 or AX_ENOMEM (and sets oom). */
int ax_buf_reserve(ax_buf_t *b, size_t n);
void ax_buf_append(ax_buf_t *b, const void *data, size_t n);
void ax_buf_puts(ax_buf_t *b, const char *s);
void ax_buf_putc(ax_buf_t *b, char c);
void ax_buf_printf(ax_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ax_buf_vprintf(ax_buf_t *b, const char *fmt, va_list ap);
/* Append a double the way Prometheus formats sample values (Go's
 * strconv.FormatFloat(v, 'g', -1, 64) with +Inf, -Inf, NaN). */
void ax_buf_put_double(ax_buf_t *b, double v);
/* Append s with ", \ and newline escaped as \", \\ and \n. */
/* Append s percent-encoded for a URL query (unreserved characters as
 * they are, every other byte as %XX). */
void ax_buf_put_urlencoded(ax_buf_t *b, const char *s);
void ax_buf_put_escaped(ax_buf_t *b, const char *s, size_t n, int escape_quote);
/*
 * Grow a malloc'd array *p of *cap elements of elem bytes so it holds at
 * least need, doubling (from 16).  Returns 0, or AX_ENOMEM with *p and
 * *cap unchanged (also when the size would overflow).
 */
int ax_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Binary encodings of the Prometheus formats (index, WAL records):
 * big-endian fixed widths, Go's uvarint, zig-zag varint, and a string
 * prefixed by its uvarint length. */
void ax_buf_put_be32(ax_buf_t *b, uint32_t v);
void ax_buf_put_be64(ax_buf_t *b, uint64_t v);
void ax_buf_put_uvarint(ax_buf_t *b, uint64_t v);
void ax_buf_put_varint(ax_buf_t *b, int64_t v);
void ax_buf_put_uvstr(ax_buf_t *b, const char *s);
/* Append s as a JSON string literal, quotes included (", \ and control
 * characters escaped; UTF-8 passed through). */
void ax_buf_put_json_str(ax_buf_t *b, const char *s);

/*
 * Take the content: returns the malloc'd string (caller owns, frees with
 * free()) and leaves the buffer empty.  Returns NULL if oom was set or the
 * buffer is empty and cannot allocate.
 */
char *ax_buf_take(ax_buf_t *b, size_t *len_out);

/* Format a double like Go's strconv.FormatFloat(v, 'g', -1, 64) into out
 * (at least 32 bytes): shortest round-trip digits, exponent form when the
 * decimal exponent is below -4 or at least 6 ("1e+06").  Returns the
 * length. */
int ax_fmt_double(char *out, size_t cap, double v);
/* The same with 'f' (never an exponent; the Prometheus query API's sample
 * values): out needs 400 bytes for the extremes.  Returns the length. */
int ax_fmt_double_f(char *out, size_t cap, double v);

#endif
