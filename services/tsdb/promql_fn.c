/*
 * promql_fn: PromQL's function kernels (see promql_fn.h).
 */
#include "tsdb/promql_fn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Go's math.Max/math.Min: NaN wins, and +0 > -0. */
static double go_max(double a, double b)
{
	if (isinf(a) && a > 0)
		return a;
	if (isinf(b) && b > 0)
		return b;
	if (isnan(a) || isnan(b))
		return NAN;
	if (a == 0 && a == b)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}

static double go_min(double a, double b)
{
	if (isinf(a) && a < 0)
		return a;
	if (isinf(b) && b < 0)
		return b;
	if (isnan(a) || isnan(b))
		return NAN;
	if (a == 0 && a == b)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}

double tsdb_pqfn_kahan_inc(double inc, double sum, double *c)
{
	double t = sum + inc;

	if (fabs(sum) >= fabs(inc))
		*c += (sum - t) + inc;
	else
		*c += (inc - t) + sum;
	return t;
}

static const struct {
	const char *name;
	tsdb_pqw_t id;
} win_names[] = {
    {"rate", TSDB_PQW_RATE},
    {"increase", TSDB_PQW_INCREASE},
    {"delta", TSDB_PQW_DELTA},
    {"irate", TSDB_PQW_IRATE},
    {"idelta", TSDB_PQW_IDELTA},
    {"deriv", TSDB_PQW_DERIV},
    {"predict_linear", TSDB_PQW_PREDICT_LINEAR},
    {"holt_winters", TSDB_PQW_HOLT_WINTERS},
    {"changes", TSDB_PQW_CHANGES},
    {"resets", TSDB_PQW_RESETS},
    {"avg_over_time", TSDB_PQW_AVG},
    {"min_over_time", TSDB_PQW_MIN},
    {"max_over_time", TSDB_PQW_MAX},
    {"sum_over_time", TSDB_PQW_SUM},
    {"count_over_time", TSDB_PQW_COUNT},
    {"quantile_over_time", TSDB_PQW_QUANTILE},
    {"stddev_over_time", TSDB_PQW_STDDEV},
    {"stdvar_over_time", TSDB_PQW_STDVAR},
    {"last_over_time", TSDB_PQW_LAST},
    {"present_over_time", TSDB_PQW_PRESENT},
    {"absent_over_time", TSDB_PQW_ABSENT},
};

tsdb_pqw_t tsdb_pqfn_window_id(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(win_names) / sizeof(win_names[0]); i++)
		if (strcmp(win_names[i].name, name) == 0)
			return win_names[i].id;
	return TSDB_PQW_NONE;
}

/* rate, increase and delta: the difference over the window, extrapolated
 * to the window's edges as Prometheus' extrapolatedRate does. */
static int extrapolated_rate(
    const tsdb_pq_win_t *w, int is_counter, int is_rate, double *out)
{
	const tsdb_pq_point_t *p = w->p;
	size_t n = w->n, i;
	double result, last = 0, to_start, to_end, sampled, avg, threshold;
	double extrap, factor;
	int64_t range_start = w->ref - w->range_ms, range_end = w->ref;

	if (n < 2)
		return 0;
	result = p[n - 1].v - p[0].v;
	if (is_counter) {
		for (i = 0; i < n; i++) {
			if (p[i].v < last)
				result += last;
			last = p[i].v;
		}
	}
	to_start = (double)(p[0].t - range_start) / 1000;
	to_end = (double)(range_end - p[n - 1].t) / 1000;
	sampled = (double)(p[n - 1].t - p[0].t) / 1000;
	avg = sampled / (double)(n - 1);
	if (is_counter && result > 0 && p[0].v >= 0) {
		double to_zero = sampled * (p[0].v / result);

		if (to_zero < to_start)
			to_start = to_zero;
	}
	threshold = avg * 1.1;
	extrap = sampled;
	extrap += to_start < threshold ? to_start : avg / 2;
	extrap += to_end < threshold ? to_end : avg / 2;
	factor = extrap / sampled;
	if (is_rate)
		factor /= (double)w->range_ms / 1000;
	*out = result * factor;
	return 1;
}

static int instant_value(const tsdb_pq_win_t *w, int is_rate, double *out)
{
	const tsdb_pq_point_t *last, *prev;
	double r;
	int64_t dt;

	if (w->n < 2)
		return 0;
	last = &w->p[w->n - 1];
	prev = &w->p[w->n - 2];
	if (is_rate && last->v < prev->v)
		r = last->v; /* counter reset */
	else
		r = last->v - prev->v;
	dt = last->t - prev->t;
	if (dt == 0)
		return 0;
	if (is_rate)
		r /= (double)dt / 1000;
	*out = r;
	return 1;
}

static void linear_regression(const tsdb_pq_point_t *p, size_t n,
    int64_t intercept_t, double *slope, double *intercept)
{
	double sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0,
	       cx2 = 0, cnt = 0, init = p[0].v, cov, var;
	int const_y = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		double x = (double)(p[i].t - intercept_t) / 1e3;

		if (const_y && i > 0 && p[i].v != init)
			const_y = 0;
		cnt += 1.0;
		sx = tsdb_pqfn_kahan_inc(x, sx, &cx);
		sy = tsdb_pqfn_kahan_inc(p[i].v, sy, &cy);
		sxy = tsdb_pqfn_kahan_inc(x * p[i].v, sxy, &cxy);
		sx2 = tsdb_pqfn_kahan_inc(x * x, sx2, &cx2);
	}
	if (const_y) {
		if (isinf(init)) {
			*slope = NAN;
			*intercept = NAN;
			return;
		}
		*slope = 0;
		*intercept = init;
		return;
	}
	sx += cx;
	sy += cy;
	sxy += cxy;
	sx2 += cx2;
	cov = sxy - sx * sy / cnt;
	var = sx2 - sx * sx / cnt;
	*slope = cov / var;
	*intercept = sy / cnt - *slope * sx / cnt;
}

static double trend(size_t i, double sf, double tf, double s0, double s1,
    double b)
{
	(void)sf;
	if (i == 0)
		return b;
	return tf * (s1 - s0) + (1 - tf) * b;
}

int tsdb_pqfn_window(
    tsdb_pqw_t id, const tsdb_pq_win_t *w, double *out, ax_err_t *err)
{
	const tsdb_pq_point_t *p = w->p;
	size_t n = w->n, i;

	if (n == 0)
		return 0;
	switch (id) {
	case TSDB_PQW_RATE: return extrapolated_rate(w, 1, 1, out);
	case TSDB_PQW_INCREASE: return extrapolated_rate(w, 1, 0, out);
	case TSDB_PQW_DELTA: return extrapolated_rate(w, 0, 0, out);
	case TSDB_PQW_IRATE: return instant_value(w, 1, out);
	case TSDB_PQW_IDELTA: return instant_value(w, 0, out);
	case TSDB_PQW_DERIV: {
		double slope, icpt;

		if (n < 2)
			return 0;
		linear_regression(p, n, p[0].t, &slope, &icpt);
		*out = slope;
		return 1;
	}
	case TSDB_PQW_PREDICT_LINEAR: {
		double slope, icpt;

		if (n < 2)
			return 0;
		linear_regression(p, n, w->ts, &slope, &icpt);
		*out = icpt + slope * w->arg[0];
		return 1;
	}
	case TSDB_PQW_HOLT_WINTERS: {
		double sf = w->arg[0], tf = w->arg[1], s0 = 0, s1, b;

		if (sf <= 0 || sf >= 1)
			return ax_err_set(err, AX_EINVAL,
			    "invalid smoothing factor. Expected: 0 < sf < 1, "
			    "got: %f",
			    sf);
		if (tf <= 0 || tf >= 1)
			return ax_err_set(err, AX_EINVAL,
			    "invalid trend factor. Expected: 0 < tf < 1, got: "
			    "%f",
			    tf);
		if (n < 2)
			return 0;
		s1 = p[0].v;
		b = p[1].v - p[0].v;
		for (i = 1; i < n; i++) {
			double x = sf * p[i].v, y;

			b = trend(i - 1, sf, tf, s0, s1, b);
			y = (1 - sf) * (s1 + b);
			s0 = s1;
			s1 = x + y;
		}
		*out = s1;
		return 1;
	}
	case TSDB_PQW_CHANGES: {
		double prev = p[0].v, c = 0;

		for (i = 1; i < n; i++) {
			double cur = p[i].v;

			if (!(cur == prev || (isnan(cur) && isnan(prev))))
				c++;
			prev = cur;
		}
		*out = c;
		return 1;
	}
	case TSDB_PQW_RESETS: {
		double prev = p[0].v, c = 0;

		for (i = 1; i < n; i++) {
			if (p[i].v < prev)
				c++;
			prev = p[i].v;
		}
		*out = c;
		return 1;
	}
	case TSDB_PQW_AVG: {
		double mean = 0, cnt = 0;

		for (i = 0; i < n; i++) {
			double v = p[i].v;

			cnt++;
			if (isinf(mean)) {
				if (isinf(v) && (mean > 0) == (v > 0))
					continue;
				if (!isinf(v) && !isnan(v))
					continue;
			}
			mean += v / cnt - mean / cnt;
		}
		*out = mean;
		return 1;
	}
	case TSDB_PQW_MIN:
	case TSDB_PQW_MAX: {
		double m = p[0].v;

		for (i = 0; i < n; i++) {
			if (id == TSDB_PQW_MAX ? (p[i].v > m || isnan(m))
			                       : (p[i].v < m || isnan(m)))
				m = p[i].v;
		}
		*out = m;
		return 1;
	}
	case TSDB_PQW_SUM: {
		double s = 0, c = 0;

		for (i = 0; i < n; i++)
			s = tsdb_pqfn_kahan_inc(p[i].v, s, &c);
		*out = isinf(s) ? s : s + c;
		return 1;
	}
	case TSDB_PQW_COUNT: *out = (double)n; return 1;
	case TSDB_PQW_LAST: *out = p[n - 1].v; return 1;
	case TSDB_PQW_PRESENT:
	case TSDB_PQW_ABSENT: *out = 1; return 1;
	case TSDB_PQW_QUANTILE: {
		/* sorts a copy: small windows on the stack, else the heap */
		double stackv[256], *v = stackv, q;

		if (n > 256 && (v = malloc(n * sizeof(*v))) == NULL)
			return ax_err_set(err, AX_ENOMEM, "out of memory");
		for (i = 0; i < n; i++)
			v[i] = p[i].v;
		q = tsdb_pqfn_quantile(w->arg[0], v, n);
		if (v != stackv)
			free(v);
		*out = q;
		return 1;
	}
	case TSDB_PQW_STDDEV:
	case TSDB_PQW_STDVAR: {
		double cnt = 0, mean = 0, cmean = 0, aux = 0, caux = 0, r;

		for (i = 0; i < n; i++) {
			double delta;

			cnt++;
			delta = p[i].v - (mean + cmean);
			mean = tsdb_pqfn_kahan_inc(delta / cnt, mean, &cmean);
			aux = tsdb_pqfn_kahan_inc(
			    delta * (p[i].v - (mean + cmean)), aux, &caux);
		}
		r = (aux + caux) / cnt;
		*out = id == TSDB_PQW_STDDEV ? sqrt(r) : r;
		return 1;
	}
	case TSDB_PQW_NONE: break;
	}
	return 0;
}

/* ---- element functions ---- */

enum {
	E_ABS,
	E_CEIL,
	E_FLOOR,
	E_EXP,
	E_SQRT,
	E_LN,
	E_LOG2,
	E_LOG10,
	E_SGN,
	E_SIN,
	E_COS,
	E_TAN,
	E_ASIN,
	E_ACOS,
	E_ATAN,
	E_SINH,
	E_COSH,
	E_TANH,
	E_ASINH,
	E_ACOSH,
	E_ATANH,
	E_DEG,
	E_RAD,
	E_ROUND,
	E_CLAMP,
	E_CLAMP_MIN,
	E_CLAMP_MAX,
	E_DAY_OF_MONTH,
	E_DAY_OF_WEEK,
	E_DAY_OF_YEAR,
	E_DAYS_IN_MONTH,
	E_HOUR,
	E_MINUTE,
	E_MONTH,
	E_YEAR,
};

static const char *const elem_names[] = {
    [E_ABS] = "abs",
    [E_CEIL] = "ceil",
    [E_FLOOR] = "floor",
    [E_EXP] = "exp",
    [E_SQRT] = "sqrt",
    [E_LN] = "ln",
    [E_LOG2] = "log2",
    [E_LOG10] = "log10",
    [E_SGN] = "sgn",
    [E_SIN] = "sin",
    [E_COS] = "cos",
    [E_TAN] = "tan",
    [E_ASIN] = "asin",
    [E_ACOS] = "acos",
    [E_ATAN] = "atan",
    [E_SINH] = "sinh",
    [E_COSH] = "cosh",
    [E_TANH] = "tanh",
    [E_ASINH] = "asinh",
    [E_ACOSH] = "acosh",
    [E_ATANH] = "atanh",
    [E_DEG] = "deg",
    [E_RAD] = "rad",
    [E_ROUND] = "round",
    [E_CLAMP] = "clamp",
    [E_CLAMP_MIN] = "clamp_min",
    [E_CLAMP_MAX] = "clamp_max",
    [E_DAY_OF_MONTH] = "day_of_month",
    [E_DAY_OF_WEEK] = "day_of_week",
    [E_DAY_OF_YEAR] = "day_of_year",
    [E_DAYS_IN_MONTH] = "days_in_month",
    [E_HOUR] = "hour",
    [E_MINUTE] = "minute",
    [E_MONTH] = "month",
    [E_YEAR] = "year",
};

int tsdb_pqfn_elem_id(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(elem_names) / sizeof(elem_names[0]); i++)
		if (strcmp(elem_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Civil date of a Unix time in seconds (UTC, proleptic Gregorian), as
 * Go's time.Unix(s, 0).UTC(). */
typedef struct civil {
	int64_t year;
	int month, day, hour, minute, wday, yday;
} civil_t;

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void civil_from_unix(int64_t s, civil_t *c)
{
	int64_t days = s / 86400, rem = s % 86400, z, era, doe, yoe, doy, mp;
	static const int cum[] = {
	    0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	c->hour = (int)(rem / 3600);
	c->minute = (int)(rem % 3600 / 60);
	c->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
	c->yday = cum[c->month - 1] + c->day +
	    (c->month > 2 && is_leap(c->year) ? 1 : 0);
}

static double date_part(int id, double v)
{
	civil_t c;
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	/* Go converts with int64(v): NaN and out-of-range values become
	 * the minimum int64 on amd64 */
	if (isnan(v) || v >= 9.2e18 || v <= -9.2e18)
		civil_from_unix(INT64_MIN / 2, &c);
	else
		civil_from_unix((int64_t)v, &c);
	switch (id) {
	case E_DAY_OF_MONTH: return c.day;
	case E_DAY_OF_WEEK: return c.wday;
	case E_DAY_OF_YEAR: return c.yday;
	case E_DAYS_IN_MONTH:
		return mdays[c.month - 1] +
		    (c.month == 2 && is_leap(c.year) ? 1 : 0);
	case E_HOUR: return c.hour;
	case E_MINUTE: return c.minute;
	case E_MONTH: return c.month;
	case E_YEAR: return (double)c.year;
	}
	return NAN;
}

int tsdb_pqfn_elem(int id, double v, const double *args, double *out)
{
	switch (id) {
	case E_ABS: *out = fabs(v); break;
	case E_CEIL: *out = ceil(v); break;
	case E_FLOOR: *out = floor(v); break;
	case E_EXP: *out = exp(v); break;
	case E_SQRT: *out = sqrt(v); break;
	case E_LN: *out = log(v); break;
	case E_LOG2: *out = log2(v); break;
	case E_LOG10: *out = log10(v); break;
	case E_SGN: *out = v < 0 ? -1 : v > 0 ? 1 : v; break;
	case E_SIN: *out = sin(v); break;
	case E_COS: *out = cos(v); break;
	case E_TAN: *out = tan(v); break;
	case E_ASIN: *out = asin(v); break;
	case E_ACOS: *out = acos(v); break;
	case E_ATAN: *out = atan(v); break;
	case E_SINH: *out = sinh(v); break;
	case E_COSH: *out = cosh(v); break;
	case E_TANH: *out = tanh(v); break;
	case E_ASINH: *out = asinh(v); break;
	case E_ACOSH: *out = acosh(v); break;
	case E_ATANH: *out = atanh(v); break;
	case E_DEG: *out = v * 180 / M_PI; break;
	case E_RAD: *out = v * M_PI / 180; break;
	case E_ROUND: {
		double inv = 1.0 / args[0];

		*out = floor(v * inv + 0.5) / inv;
		break;
	}
	case E_CLAMP:
		if (args[1] < args[0])
			return 0;
		*out = go_max(args[0], go_min(args[1], v));
		break;
	case E_CLAMP_MIN: *out = go_max(args[0], v); break;
	case E_CLAMP_MAX: *out = go_min(args[0], v); break;
	default: *out = date_part(id, v); break;
	}
	return 1;
}

/* Go's sort of vectorByValueHeap: NaN sorts first. */
static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x))
		return isnan(y) ? 0 : -1;
	if (isnan(y))
		return 1;
	return x < y ? -1 : x > y ? 1 : 0;
}

double tsdb_pqfn_quantile(double q, double *v, size_t n)
{
	double rank, lo, hi, w;

	if (n == 0)
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	if (isnan(q))
		return NAN;
	qsort(v, n, sizeof(*v), dbl_cmp);
	rank = q * (double)(n - 1);
	lo = go_max(0, floor(rank));
	hi = go_min((double)(n - 1), lo + 1);
	w = rank - floor(rank);
	return v[(size_t)lo] * (1 - w) + v[(size_t)hi] * w;
}

static int bucket_cmp(const void *a, const void *b)
{
	double x = ((const tsdb_pq_bucket_t *)a)->upper;
	double y = ((const tsdb_pq_bucket_t *)b)->upper;

	return x < y ? -1 : x > y ? 1 : 0;
}

double tsdb_pqfn_bucket_quantile(double q, tsdb_pq_bucket_t *b, size_t n)
{
	size_t i, m, lo, hi;
	double obs, rank, start = 0, end, count, max = -INFINITY;

	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	if (n == 0)
		return NAN;
	qsort(b, n, sizeof(*b), bucket_cmp);
	if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0))
		return NAN;
	/* coalesce buckets with the same upper bound */
	for (i = 1, m = 0; i < n; i++) {
		if (b[i].upper == b[m].upper)
			b[m].count += b[i].count;
		else
			b[++m] = b[i];
	}
	n = m + 1;
	/* force monotonic counts */
	for (i = 0; i < n; i++) {
		if (b[i].count > max)
			max = b[i].count;
		else if (b[i].count < max)
			b[i].count = max;
	}
	if (n < 2)
		return NAN;
	obs = b[n - 1].count;
	if (obs == 0)
		return NAN;
	rank = q * obs;
	/* first bucket (among the first n-1) with count >= rank */
	lo = 0;
	hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b[mid].count >= rank)
			hi = mid;
		else
			lo = mid + 1;
	}
	i = lo;
	if (i == n - 1)
		return b[n - 2].upper;
	if (i == 0 && b[0].upper <= 0)
		return b[0].upper;
	end = b[i].upper;
	count = b[i].count;
	if (i > 0) {
		start = b[i - 1].upper;
		count -= b[i - 1].count;
		rank -= b[i - 1].count;
	}
	return start + (end - start) * (rank / count);
}
