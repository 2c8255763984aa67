/*
 * ax_log: logfmt / JSON structured logging (see ax_log.h).
 */
#include "ax_log.h"
#include "ax_buf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static ax_log_level_t g_level = AX_LOG_INFO;
static int g_json;
static const char *g_component;
static FILE *g_stream;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int ax_log_setup(const char *level, const char *format, ax_err_t *err)
{
	int i;

	if (level) {
		for (i = 0; i < 4; i++)
			if (strcmp(level, level_names[i]) == 0)
				break;
		if (i == 4)
			return ax_err_set(err, AX_EINVAL,
			    "--log.level: unrecognized log level \"%s\" (want "
			    "debug, info, warn or error)",
			    level);
		g_level = (ax_log_level_t)i;
	}
	if (format) {
		if (strcmp(format, "logfmt") == 0)
			g_json = 0;
		else if (strcmp(format, "json") == 0)
			g_json = 1;
		else
			return ax_err_set(err, AX_EINVAL,
			    "--log.format: unrecognized log format \"%s\" "
			    "(want logfmt or json)",
			    format);
	}
	return 0;
}

void ax_log_set_component(const char *component)
{
	g_component = component;
}

void ax_log_set_stream(FILE *f)
{
	g_stream = f;
}

int ax_log_enabled(ax_log_level_t lvl)
{
	return lvl >= g_level;
}

static int needs_quote(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++)
		if (*s <= ' ' || *s == '=' || *s == '"' || *s == '\\' ||
		    (unsigned char)*s >= 0x7f)
			return 1;
	return 0;
}

static void put_kv(ax_buf_t *b, const char *k, const char *v, int first)
{
	if (g_json) {
		if (!first)
			ax_buf_putc(b, ',');
		ax_buf_put_json_str(b, k);
		ax_buf_putc(b, ':');
		ax_buf_put_json_str(b, v ? v : "");
		return;
	}
	if (!first)
		ax_buf_putc(b, ' ');
	ax_buf_puts(b, k);
	ax_buf_putc(b, '=');
	if (v == NULL)
		v = "";
	if (needs_quote(v)) {
		ax_buf_putc(b, '"');
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				ax_buf_putc(b, '\\');
			if (*v == '\n') {
				ax_buf_puts(b, "\\n");
				continue;
			}
			ax_buf_putc(b, *v);
		}
		ax_buf_putc(b, '"');
	} else {
		ax_buf_puts(b, v);
	}
}

void ax_log__kv(
    ax_log_level_t lvl, const char *file, int line, const char *msg, ...)
{
	char ts[64], caller[128];
	struct timeval tv;
	struct tm tm;
	const char *base, *k, *v;
	ax_buf_t b = AX_BUF_INIT;
	va_list ap;
	FILE *out;

	if (lvl < g_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(tv.tv_usec / 1000));
	base = strrchr(file, '/');
	snprintf(caller, sizeof(caller), "%s:%d", base ? base + 1 : file, line);
	if (g_json)
		ax_buf_putc(&b, '{');
	put_kv(&b, "ts", ts, 1);
	put_kv(&b, "caller", caller, 0);
	put_kv(&b, "level", level_names[lvl], 0);
	if (g_component)
		put_kv(&b, "component", g_component, 0);
	put_kv(&b, "msg", msg, 0);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		put_kv(&b, k, v, 0);
	}
	va_end(ap);
	if (g_json)
		ax_buf_putc(&b, '}');
	ax_buf_putc(&b, '\n');
	if (!ax_buf_ok(&b)) {
		ax_buf_fini(&b);
		return;
	}
	pthread_mutex_lock(&g_mu);
	out = g_stream ? g_stream : stderr;
	fwrite(b.p, 1, b.len, out);
	fflush(out);
	pthread_mutex_unlock(&g_mu);
	ax_buf_fini(&b);
}

const char *ax_log_fmt_int(char *buf, size_t cap, long long v)
{
	snprintf(buf, cap, "%lld", v);
	return buf;
}

const char *ax_log_fmt_double(char *buf, size_t cap, double v)
{
	ax_fmt_double(buf, cap, v);
	return buf;
}
