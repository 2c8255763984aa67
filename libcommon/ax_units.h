/*
 * ax_units: Prometheus-style durations and byte sizes.
 *
 * Durations follow Prometheus' model.ParseDuration: an ordered sequence of
 * <int><unit> with units y (365d), w, d, h, m, s, ms, each at most once and
 * in that order ("1h30m", "5s", "1d", "0").  Sizes follow the Base2Bytes
 * syntax Prometheus uses for body_size_limit and retention.size: numbers
 * with B, KB, MB, GB, TB, PB, EB or KiB ... EiB (all powers of 1024),
 * which may be combined ("1GB512MB") and may have a fraction ("1.5GB").
 */
#ifndef AX_UNITS_H
#define AX_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "ax_err.h"

/* Parse s into milliseconds.  OUT: *ms on success.  AX_EINVAL otherwise,
 * with "not a valid duration string: \"...\"" in err. */
int ax_duration_parse(const char *s, int64_t *ms, ax_err_t *err);
/* Format ms the way Prometheus prints a model.Duration ("1h30m", "0s"). */
void ax_duration_format(int64_t ms, char *out, size_t cap);

/* Parse a byte size.  OUT: *bytes on success. */
int ax_size_parse(const char *s, int64_t *bytes, ax_err_t *err);

/*
 * Parse a time as the Prometheus HTTP API does: Unix seconds with an
 * optional fraction ("1700000000.123") or RFC 3339 ("2026-11-24T14:00:00Z",
 * "2026-11-24T14:00:00.5+01:00").  OUT: *ms.
 */
int ax_time_parse(const char *s, int64_t *ms, ax_err_t *err);
/* Parse a duration as the Prometheus API does for `step`/`timeout`: a
 * Prometheus duration or a number of seconds ("15", "0.5"). */
int ax_api_duration_parse(const char *s, int64_t *ms, ax_err_t *err);
/* Parse a Go time.Duration string, as Consul and Kubernetes write them:
 * a sequence of decimal numbers with units ns, us, µs, ms, s, m, h
 * ("1m30s", "1.5s", "250ms"); "0" alone is zero.  OUT: *ms (sub-ms parts
 * truncated).  AX_EINVAL with the reason otherwise. */
int ax_go_duration_parse(const char *s, int64_t *ms, ax_err_t *err);

/* Format ms since the epoch as RFC 3339 in UTC with milliseconds, as
 * Go's strfmt.DateTime does ("2026-12-02T22:15:58.123Z"); AX_TIME_ZERO
 * prints Go's zero time "0001-01-01T00:00:00.000Z". */
#define AX_TIME_ZERO INT64_MIN
#define AX_TIME_GO_ZERO_MS (-62135596800000LL) /* 0001-01-01T00:00:00Z */
void ax_time_format(int64_t ms, char *out, size_t cap);

/* Monotonic and wall clocks in milliseconds. */
int64_t ax_now_ms(void);
int64_t ax_mono_ms(void);

#endif
