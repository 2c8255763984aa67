/*
 * ax_err: error codes and message buffers (see ax_err.h).
 */
#include "ax_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ax_strerror(int code)
{
	switch (code) {
	case AX_OK: return "ok";
	case AX_ENOMEM: return "out of memory";
	case AX_EINVAL: return "invalid argument";
	case AX_EIO: return "I/O error";
	case AX_ENOENT: return "not found";
	case AX_ETIMEDOUT: return "timed out";
	case AX_EPARSE: return "parse error";
	case AX_ECLOSED: return "closed";
	case AX_EFULL: return "queue full";
	case AX_EPROTO: return "protocol error";
	case AX_ETOOBIG: return "too big";
	case AX_EAGAIN: return "temporarily unavailable";
	case AX_EEXIST: return "already exists";
	case AX_EINTERNAL: return "internal error";
	case AX_EUNAVAIL: return "peer unavailable";
	case AX_ELIMIT: return "limit exceeded";
	case AX_ECONFIG: return "invalid configuration";
	default: return "unknown error";
	}
}

void ax_err_clear(ax_err_t *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int ax_err_set(ax_err_t *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void ax_err_prefix(ax_err_t *e, const char *fmt, ...)
{
	char pre[AX_ERR_MSG_MAX];
	char old[AX_ERR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
}
