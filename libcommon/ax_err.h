/*
 * ax_err: the one error convention of Axon.
 *
 * Functions that can fail return int: 0 on success, a negative AX_E* code
 * on failure.  Where a person will read the reason, the caller passes an
 * ax_err_t that the callee fills with "file:line:col: field: why" or a
 * similar self-contained sentence.  An ax_err_t pointer may always be NULL.
 */
#ifndef AX_ERR_H
#define AX_ERR_H

#include <stddef.h>

enum {
	AX_OK = 0,
	AX_ENOMEM = -1,     /* allocation failed */
	AX_EINVAL = -2,     /* invalid argument or input */
	AX_EIO = -3,        /* I/O error */
	AX_ENOENT = -4,     /* no such thing */
	AX_ETIMEDOUT = -5,  /* deadline passed */
	AX_EPARSE = -6,     /* syntax error in a text format */
	AX_ECLOSED = -7,    /* object closed or shutting down */
	AX_EFULL = -8,      /* queue or buffer full */
	AX_EPROTO = -9,     /* peer spoke the protocol wrongly */
	AX_ETOOBIG = -10,   /* message or body exceeds a limit */
	AX_EAGAIN = -11,    /* retriable fault, try again later */
	AX_EEXIST = -12,    /* already exists */
	AX_EINTERNAL = -13, /* bug or library failure */
	AX_EUNAVAIL = -14,  /* peer unreachable */
	AX_ELIMIT = -15,    /* configured limit reached */
	AX_ECONFIG = -16,   /* configuration invalid */
};

#define AX_ERR_MSG_MAX 1024

typedef struct ax_err {
	int code;
	char msg[AX_ERR_MSG_MAX];
} ax_err_t;

/* A static, human-readable name for an AX_E* code; never NULL. */
const char *ax_strerror(int code);

/* Clear e (no-op when e is NULL). */
void ax_err_clear(ax_err_t *e);

/*
 * Set e->code and format e->msg.  Returns code so that callers can write
 * `return ax_err_set(err, AX_EINVAL, "...")`.  e may be NULL.
 */
int ax_err_set(ax_err_t *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to an existing message.  e may be NULL. */
void ax_err_prefix(ax_err_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
