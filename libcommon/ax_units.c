/*
 * ax_units: durations, sizes and clocks (see ax_units.h).
 */
#include "ax_units.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
	const char *unit;
	int64_t ms;
} dur_units[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
#define N_DUR_UNITS (sizeof(dur_units) / sizeof(dur_units[0]))

int ax_duration_parse(const char *s, int64_t *out, ax_err_t *err)
{
	const char *p = s;
	size_t next_unit = 0;
	int64_t total = 0;

	if (s == NULL || *s == '\0')
		return ax_err_set(err, AX_EINVAL, "empty duration string");
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p) {
		int64_t n = 0;
		const char *start = p;
		size_t u, ulen = 0;

		while (*p >= '0' && *p <= '9') {
			if (n > (INT64_MAX - 9) / 10)
				return ax_err_set(err, AX_EINVAL,
				    "not a valid duration string: \"%s\" (out "
				    "of range)",
				    s);
			n = n * 10 + (*p - '0');
			p++;
		}
		if (p == start)
			goto bad;
		/* longest unit match at p: "ms" before "m" */
		for (u = next_unit; u < N_DUR_UNITS; u++) {
			size_t l = strlen(dur_units[u].unit);

			if (strncmp(p, dur_units[u].unit, l) == 0) {
				if (l == 1 && dur_units[u].unit[0] == 'm' &&
				    p[1] == 's')
					continue; /* "ms", handled below */
				ulen = l;
				break;
			}
		}
		if (u == N_DUR_UNITS || ulen == 0)
			goto bad;
		if (n != 0 && dur_units[u].ms > INT64_MAX / n)
			return ax_err_set(err, AX_EINVAL,
			    "not a valid duration string: \"%s\" (out of "
			    "range)",
			    s);
		if (total > INT64_MAX - n * dur_units[u].ms)
			return ax_err_set(err, AX_EINVAL,
			    "not a valid duration string: \"%s\" (out of "
			    "range)",
			    s);
		total += n * dur_units[u].ms;
		next_unit = u + 1;
		p += ulen;
	}
	*out = total;
	return 0;
bad:
	return ax_err_set(
	    err, AX_EINVAL, "not a valid duration string: \"%s\"", s);
}

void ax_duration_format(int64_t ms, char *out, size_t cap)
{
	size_t i, len = 0;

	if (ms == 0) {
		snprintf(out, cap, "0s");
		return;
	}
	out[0] = '\0';
	if (ms < 0) {
		len += (size_t)snprintf(out + len, cap - len, "-");
		ms = -ms;
	}
	for (i = 0; i < N_DUR_UNITS && len < cap; i++) {
		int64_t q = ms / dur_units[i].ms;

		/* As Prometheus: years and weeks only when they divide exactly
		 * (90d reads better than 12w6d). */
		if (i < 2 && ms % dur_units[i].ms != 0)
			continue;
		if (q > 0) {
			len += (size_t)snprintf(out + len, cap - len, "%lld%s",
			    (long long)q, dur_units[i].unit);
			ms -= q * dur_units[i].ms;
		}
	}
}

static const struct {
	const char *unit;
	int shift;
} size_units[] = {
    {"KiB", 10},
    {"MiB", 20},
    {"GiB", 30},
    {"TiB", 40},
    {"PiB", 50},
    {"EiB", 60},
    {"KB", 10},
    {"MB", 20},
    {"GB", 30},
    {"TB", 40},
    {"PB", 50},
    {"EB", 60},
    {"B", 0},
};

int ax_size_parse(const char *s, int64_t *out, ax_err_t *err)
{
	const char *p = s;
	double total = 0;

	if (s == NULL || *s == '\0')
		return ax_err_set(err, AX_EINVAL, "empty size string");
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p) {
		double n = 0, frac = 0.1;
		const char *start = p;
		size_t u;
		int got = 0;

		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (*p - '0');
			p++;
			got = 1;
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				n += (*p - '0') * frac;
				frac /= 10;
				p++;
				got = 1;
			}
		}
		if (!got || p == start)
			goto bad;
		for (u = 0; u < sizeof(size_units) / sizeof(size_units[0]);
		     u++) {
			size_t l = strlen(size_units[u].unit);

			if (strncmp(p, size_units[u].unit, l) == 0)
				break;
		}
		if (u == sizeof(size_units) / sizeof(size_units[0]))
			goto bad;
		total += ldexp(n, size_units[u].shift);
		p += strlen(size_units[u].unit);
	}
	if (total >= 9.2e18)
		return ax_err_set(
		    err, AX_EINVAL, "size \"%s\" out of range", s);
	*out = (int64_t)total;
	return 0;
bad:
	return ax_err_set(err, AX_EINVAL,
	    "not a valid size: \"%s\" (want e.g. 512MB, 1GiB, 0)", s);
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ax_time_format(int64_t ms, char *out, size_t cap)
{
	struct tm tm;
	time_t sec;
	int64_t frac;

	if (ms == AX_TIME_ZERO || ms <= AX_TIME_GO_ZERO_MS) {
		snprintf(out, cap, "0001-01-01T00:00:00.000Z");
		return;
	}
	sec = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)frac);
}

int ax_time_parse(const char *s, int64_t *ms, ax_err_t *err)
{
	char *end;
	double f;
	int y, mo, d, hh, mi, ss;
	int64_t frac_ms = 0, off_s = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return ax_err_set(
		    err, AX_EINVAL, "cannot parse \"\" to a valid timestamp");
	f = strtod(s, &end);
	if (*end == '\0' && end != s) {
		if (!isfinite(f) || f > 9.2e15 || f < -9.2e15)
			return ax_err_set(err, AX_EINVAL,
			    "cannot parse \"%s\" to a valid timestamp", s);
		*ms = (int64_t)llround(f * 1000.0);
		return 0;
	}
	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &hh) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &ss) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    hh > 23 || mi > 59 || ss > 60)
		return ax_err_set(err, AX_EINVAL,
		    "cannot parse \"%s\" to a valid timestamp", s);
	p = s + 19;
	if (*p == '.') {
		int64_t scale = 100;

		p++;
		if (*p < '0' || *p > '9')
			return ax_err_set(err, AX_EINVAL,
			    "cannot parse \"%s\" to a valid timestamp", s);
		while (*p >= '0' && *p <= '9') {
			frac_ms += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;

		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om))
			return ax_err_set(err, AX_EINVAL,
			    "cannot parse \"%s\" to a valid timestamp", s);
		off_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return ax_err_set(err, AX_EINVAL,
		    "cannot parse \"%s\" to a valid timestamp", s);
	}
	if (*p != '\0')
		return ax_err_set(err, AX_EINVAL,
		    "cannot parse \"%s\" to a valid timestamp", s);
	*ms = ((days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) -
	          off_s) *
	        1000 +
	    frac_ms;
	return 0;
}

int ax_api_duration_parse(const char *s, int64_t *ms, ax_err_t *err)
{
	char *end;
	double f;

	if (s && *s) {
		f = strtod(s, &end);
		if (*end == '\0') {
			if (!isfinite(f) || f > 9.2e15 || f < -9.2e15)
				return ax_err_set(err, AX_EINVAL,
				    "cannot parse \"%s\" to a valid duration",
				    s);
			*ms = (int64_t)llround(f * 1000.0);
			return 0;
		}
	}
	if (ax_duration_parse(s, ms, NULL) != 0)
		return ax_err_set(err, AX_EINVAL,
		    "cannot parse \"%s\" to a valid duration", s ? s : "");
	return 0;
}

int64_t ax_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ax_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ax_go_duration_parse(const char *s, int64_t *ms, ax_err_t *err)
{
	static const struct {
		const char *u;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3},
	    {"\xce\xbcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9},
	    {"h", 3600e9}};
	const char *p = s;
	double total = 0;
	int neg = 0;

	if (s == NULL || *s == '\0')
		return ax_err_set(err, AX_EINVAL, "invalid duration \"\"");
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v;
		size_t k, best = 0, blen = 0;

		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			goto bad;
		v = strtod(p, &end);
		if (end == p)
			goto bad;
		p = end;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t l = strlen(units[k].u);

			if (strncmp(p, units[k].u, l) == 0 && l > blen) {
				best = k;
				blen = l;
			}
		}
		if (blen == 0)
			return ax_err_set(err, AX_EINVAL,
			    "missing or unknown unit in duration \"%s\"", s);
		total += v * units[best].ns;
		p += blen;
	}
	if (total / 1e6 > 9.2e15)
		goto bad;
	*ms = (int64_t)(total / 1e6) * (neg ? -1 : 1);
	return 0;
bad:
	return ax_err_set(err, AX_EINVAL, "invalid duration \"%s\"", s);
}
