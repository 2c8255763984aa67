/*
 * ar_email: e-mail notifications over SMTP (libcurl), as Alertmanager
 * 0.25's email integration sends them.
 *
 * Envelope: MAIL FROM the one address of the rendered `from` (default
 * global.smtp_from), RCPT TO every address of the rendered `to`
 * (addresses as RFC 5322 lists: "a@b, Name <c@d>"); EHLO with `hello`
 * (default global.smtp_hello, "localhost").
 *
 * Message (CRLF line ends):
 *   <header>: <value>          every configured header, rendered, with
 *                              To, From and Subject added when missing
 *                              (To and From from the fields, Subject
 *                              email.default.subject), sorted by name,
 *                              values RFC 2047 Q-encoded when not plain
 *                              ASCII
 *   Message-Id: <ns.rand@host> unless a header gives one
 *   Date: RFC 1123 with numeric zone
 *   Content-Type: multipart/alternative;  boundary=<60 hex digits>
 *   MIME-Version: 1.0
 *   (blank line), then a text/plain part when `text` is set and a
 *   text/html part when `html` is (default email.default.html), both
 *   quoted-printable, UTF-8; the HTML is rendered with html/template's
 *   escaping (tmpl.h).
 * Under topology inhibition the header X-Axon-Suppressed says what the
 * group's cause suppresses.
 *
 * Transport: smtp://smarthost (smtps:// when the port is 465, as
 * Alertmanager does TLS from the start there); with require_tls (the
 * default) STARTTLS is required, and its absence is an error; tls_config
 * applies to either.  Authentication when auth_username is set: PLAIN or
 * LOGIN with auth_password(_file) (and auth_identity as the PLAIN
 * authorisation identity), else CRAM-MD5 with auth_secret.  Fields unset
 * on the config take the global smtp_* values.  As in Alertmanager,
 * every failed send is retried with backoff until the deadline.
 */
#ifndef AR_EMAIL_H
#define AR_EMAIL_H

#include "alert-router/config.h"
#include "alert-router/notify.h"
#include "ax_buf.h"

typedef struct ar_email_msg {
	ax_buf_t data; /* the message */
	char *from;    /* envelope sender */
	char **rcpt;   /* envelope recipients */
	size_t nrcpt;
} ar_email_msg_t;

struct ax_tmpl;
/* Build the message for a notice.  OUT: *m (ar_email_msg_fini).
 * AX_EINVAL with the reason (bad addresses, template errors). */
int ar_email_build(const ar_notice_t *nt, const ar_email_cfg_t *c,
    const ar_global_t *g, const struct ax_tmpl *tmpl, ar_email_msg_t *m,
    ax_err_t *err);
void ar_email_msg_fini(ar_email_msg_t *m);

/* Send m, retrying until deadline_ms; *stop aborts.  0 when the server
 * took it. */
int ar_email_send_retry(const ar_email_cfg_t *c, const ar_global_t *g,
    const ar_email_msg_t *m, int64_t deadline_ms, const int *stop,
    ax_err_t *err);

/* Parse an RFC 5322 address list ("a@b, Name <c@d>, \"x, y\" <e@f>")
 * into bare addresses (malloc'd array of malloc'd strings).  AX_EINVAL
 * with the reason, like Go's mail.ParseAddressList. */
int ar_email_addresses(const char *s, char ***out, size_t *n, ax_err_t *err);

/* RFC 2047 Q-encoding of a header value, as Go's mime.QEncoding.Encode
 * ("utf-8"): unchanged when plain printable ASCII. */
void ar_email_qencode(const char *s, ax_buf_t *out);
/* Quoted-printable body, as Go's quotedprintable.Writer. */
void ar_email_qp(const char *s, size_t n, ax_buf_t *out);

#endif
