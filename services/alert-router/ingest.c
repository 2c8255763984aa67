/*
 * ar_ingest: AlertBatch over nng (ingest.h).
 */
#include "alert-router/ingest.h"

#include <stdlib.h>
#include <string.h>

#include "ax_msg.h"
#include "ax_units.h"
#include "axon/v1/alerts.pb-c.h"

struct ar_ingest {
	ar_core_t *core;
	ax_msg_server_t *srv;
};

/* Label pairs into a label set; NULL with why set on failure. */
static ax_labels_t *to_labels(
    Axon__V1__Label **l, size_t n, char *why, size_t cap)
{
	ax_label_t *pairs = calloc(n ? n : 1, sizeof(*pairs));
	ax_labels_t *out = NULL;
	ax_err_t err;
	size_t i;

	if (pairs == NULL) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		pairs[i].name = l[i]->name;
		pairs[i].value = l[i]->value;
	}
	if (ax_labels_new(pairs, n, &out, &err) != 0)
		snprintf(why, cap, "%s", err.msg);
	free(pairs);
	return out;
}

static int reply(ax_buf_t *out, uint64_t id, uint32_t ok, uint32_t bad,
    const char *msg, int retry)
{
	Axon__V1__AlertBatchAck ack = AXON__V1__ALERT_BATCH_ACK__INIT;
	ax_err_t err;

	ack.batch_id = id;
	ack.accepted = ok;
	ack.invalid = bad;
	ack.message = (char *)(msg ? msg : "");
	ack.retry = retry;
	return ax_msg_pack_buf(&ack.base, 1 << 20, out, &err) == 0 ? 0 : -1;
}

static int handle(void *arg, const uint8_t *req, size_t len, ax_buf_t *out)
{
	ar_ingest_t *in = arg;
	ar_core_t *core = in->core;
	Axon__V1__AlertBatch *b = axon__v1__alert_batch__unpack(NULL, len, req);
	ar_alert_t **alerts;
	ax_buf_t errs = AX_BUF_INIT;
	size_t i, n, nerr = 0, ok;
	int64_t now = ax_now_ms(), rt;
	char why[512] = "";
	int rv, internal = 0;

	if (b == NULL)
		return reply(out, 0, 0, 0,
		    "the request is not an AlertBatch (protobuf decode failed)",
		    0);
	if (b->version != 1) {
		snprintf(why, sizeof(why),
		    "AlertBatch contract version %u; this alert router speaks "
		    "1",
		    b->version);
		rv = reply(out, b->batch_id, 0, (uint32_t)b->n_alerts, why, 0);
		axon__v1__alert_batch__free_unpacked(b, NULL);
		return rv;
	}
	n = b->n_alerts;
	alerts = calloc(n ? n : 1, sizeof(*alerts));
	if (alerts == NULL) {
		rv = reply(out, b->batch_id, 0, 0, "out of memory", 1);
		axon__v1__alert_batch__free_unpacked(b, NULL);
		return rv;
	}
	pthread_rwlock_rdlock(&core->mu);
	rt = core->cfg->global.resolve_timeout_ms;
	pthread_rwlock_unlock(&core->mu);
	for (i = 0; i < n; i++) {
		const Axon__V1__Alert *a = b->alerts[i];
		ax_labels_t *ls =
		    to_labels(a->labels, a->n_labels, why, sizeof(why));
		ax_labels_t *an = NULL;
		char *url = NULL;

		if (ls && a->n_annotations)
			an = to_labels(
			    a->annotations, a->n_annotations, why, sizeof(why));
		if (ls == NULL || (a->n_annotations && an == NULL)) {
			ax_labels_free(ls);
			ax_buf_printf(&errs, "%salerts[%zu]: %s",
			    nerr ? "; " : "", i, why);
			nerr++;
			continue;
		}
		if (a->generator_url && *a->generator_url)
			url = strdup(a->generator_url);
		alerts[i] = ar_api_alert_new(
		    ls, an, url, a->starts_at_ms, a->ends_at_ms, now, rt);
	}
	/* undecodable alerts are gone; compact the rest */
	{
		size_t k = 0;

		for (i = 0; i < n; i++)
			if (alerts[i])
				alerts[k++] = alerts[i];
		ok = ar_api_ingest(
		    core, alerts, k, now, &errs, &nerr, &internal);
		for (i = 0; i < k; i++)
			ar_alert_unref(alerts[i]);
	}
	free(alerts);
	rv = reply(out, b->batch_id, (uint32_t)ok, (uint32_t)nerr,
	    ax_buf_ok(&errs) && errs.p ? errs.p : "", internal);
	ax_buf_fini(&errs);
	axon__v1__alert_batch__free_unpacked(b, NULL);
	return rv;
}

int ar_ingest_start(
    ar_core_t *core, const char *listen, ar_ingest_t **out, ax_err_t *err)
{
	ar_ingest_t *in = calloc(1, sizeof(*in));
	ax_msg_opts_t mo = {0};
	int rv;

	if (in == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	in->core = core;
	ax_msg_opts_defaults(&mo);
	if ((rv = ax_msg_server_open(listen, &mo, handle, in, &in->srv, err)) !=
	    0) {
		free(in);
		return rv;
	}
	*out = in;
	return 0;
}

void ar_ingest_stop(ar_ingest_t *in)
{
	if (in == NULL)
		return;
	ax_msg_server_close(in->srv);
	free(in);
}
