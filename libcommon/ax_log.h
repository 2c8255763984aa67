/*
 * ax_log: structured logging, logfmt by default, JSON with
 * --log.format=json, filtered by --log.level (debug, info, warn, error),
 * in the style of Prometheus' go-kit logger:
 *
 *   ts=2026-11-24T14:20:36.123Z caller=ax_daemon.c:120 level=info
 *       component=tsdb msg="config loaded" file=tsdb.yml
 *
 * Thread-safe: each record is written with one write(2)-sized stdio call
 * under a lock.  Values are strings; format numbers with ax_log_fmt*.
 */
#ifndef AX_LOG_H
#define AX_LOG_H

#include <stdio.h>

#include "ax_err.h"

typedef enum {
	AX_LOG_DEBUG = 0,
	AX_LOG_INFO = 1,
	AX_LOG_WARN = 2,
	AX_LOG_ERROR = 3,
} ax_log_level_t;

/* Set level ("debug", "info", "warn", "error") and format ("logfmt",
 * "json").  NULL keeps the current value.  AX_EINVAL for unknown names. */
int ax_log_setup(const char *level, const char *format, ax_err_t *err);
/* The component name printed on every line (borrowed; keep it alive). */
void ax_log_set_component(const char *component);
/* Redirect output (default stderr).  Borrowed. */
void ax_log_set_stream(FILE *f);
int ax_log_enabled(ax_log_level_t lvl);

/* Log msg with key/value string pairs, terminated by NULL. */
void ax_log__kv(
    ax_log_level_t lvl, const char *file, int line, const char *msg, ...);

#define ax_log_debug(msg, ...)                                                 \
	ax_log__kv(AX_LOG_DEBUG, __FILE__, __LINE__, msg, ##__VA_ARGS__, NULL)
#define ax_log_info(msg, ...)                                                  \
	ax_log__kv(AX_LOG_INFO, __FILE__, __LINE__, msg, ##__VA_ARGS__, NULL)
#define ax_log_warn(msg, ...)                                                  \
	ax_log__kv(AX_LOG_WARN, __FILE__, __LINE__, msg, ##__VA_ARGS__, NULL)
#define ax_log_error(msg, ...)                                                 \
	ax_log__kv(AX_LOG_ERROR, __FILE__, __LINE__, msg, ##__VA_ARGS__, NULL)

/* Small formatting helpers for values: return buf. */
const char *ax_log_fmt_int(char *buf, size_t cap, long long v);
const char *ax_log_fmt_double(char *buf, size_t cap, double v);

#endif
