/*
 * demo/pager: the local PagerDuty Events API v2 sink (see pager.h).
 */
#include "demo/pager.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct demo_pager {
	pthread_mutex_t mu;
	FILE *file, *out;
	unsigned long n_trigger, n_ack, n_resolve;
};

int demo_pager_open(
    const char *path, FILE *out, demo_pager_t **pp, ax_err_t *err)
{
	demo_pager_t *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((p->file = fopen(path, "a")) == NULL) {
		int e = errno;

		free(p);
		return ax_err_set(
		    err, AX_EIO, "pages file %s: %s", path, strerror(e));
	}
	p->out = out;
	pthread_mutex_init(&p->mu, NULL);
	*pp = p;
	return 0;
}

void demo_pager_free(demo_pager_t *p)
{
	if (p == NULL)
		return;
	fclose(p->file);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The first problem of an event, or NULL. */
static const char *invalid(const cJSON *ev)
{
	const char *act = str(ev, "event_action"), *sev;
	const cJSON *pl;

	if (!cJSON_IsObject(ev))
		return "the event is not a JSON object";
	if (str(ev, "routing_key") == NULL)
		return "'routing_key' is missing or blank";
	if (act == NULL)
		return "'event_action' is missing or blank";
	if (strcmp(act, "trigger") != 0 && strcmp(act, "acknowledge") != 0 &&
	    strcmp(act, "resolve") != 0)
		return "'event_action' must be one of trigger, acknowledge, "
		       "resolve";
	if (strcmp(act, "trigger") != 0)
		return str(ev, "dedup_key") ? NULL
		                            : "'dedup_key' is missing or blank";
	pl = cJSON_GetObjectItemCaseSensitive(ev, "payload");
	if (!cJSON_IsObject(pl))
		return "'payload' is missing or not an object";
	if (str(pl, "summary") == NULL)
		return "'payload.summary' is missing or blank";
	if (strlen(str(pl, "summary")) > 1024)
		return "'payload.summary' is longer than 1024 characters";
	if (str(pl, "source") == NULL)
		return "'payload.source' is missing or blank";
	sev = str(pl, "severity");
	if (sev == NULL ||
	    (strcmp(sev, "critical") != 0 && strcmp(sev, "error") != 0 &&
	        strcmp(sev, "warning") != 0 && strcmp(sev, "info") != 0))
		return "'payload.severity' must be one of critical, error, "
		       "warning, info";
	return NULL;
}

int demo_pager_event(
    demo_pager_t *p, const char *body, size_t len, ax_buf_t *reply)
{
	cJSON *ev = cJSON_ParseWithLength(body, len);
	const char *why = ev ? invalid(ev) : "the body is not valid JSON";
	const char *act, *key, *summary;
	char *line = NULL, when[32], gen[40];
	time_t now = time(NULL);
	struct tm tm;

	if (why) {
		ax_buf_puts(reply,
		    "{\"status\":\"invalid event\",\"message\":"
		    "\"Event object is invalid\",\"errors\":[");
		ax_buf_put_json_str(reply, why);
		ax_buf_puts(reply, "]}");
		cJSON_Delete(ev);
		return 400;
	}
	act = str(ev, "event_action");
	key = str(ev, "dedup_key");
	if (key == NULL) { /* PagerDuty makes one up */
		snprintf(gen, sizeof(gen), "%08lx%08lx", (unsigned long)now,
		    (unsigned long)random());
		key = gen;
	}
	summary =
	    str(cJSON_GetObjectItemCaseSensitive(ev, "payload"), "summary");
	if ((line = cJSON_PrintUnformatted(ev)) == NULL) {
		cJSON_Delete(ev);
		ax_buf_puts(reply,
		    "{\"status\":\"error\",\"message\":\"out of "
		    "memory\"}");
		return 500;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	pthread_mutex_lock(&p->mu);
	fprintf(p->file, "%s\n", line);
	fflush(p->file);
	if (strcmp(act, "trigger") == 0)
		p->n_trigger++;
	else if (strcmp(act, "resolve") == 0)
		p->n_resolve++;
	else
		p->n_ack++;
	if (p->out) {
		fprintf(p->out, "%s PAGE %-8s %.12s  %s\n", when, act, key,
		    summary ? summary : "");
		fflush(p->out);
	}
	pthread_mutex_unlock(&p->mu);
	free(line);
	ax_buf_puts(reply,
	    "{\"status\":\"success\",\"message\":\"Event "
	    "processed\",\"dedup_key\":");
	ax_buf_put_json_str(reply, key);
	ax_buf_putc(reply, '}');
	cJSON_Delete(ev);
	return 202;
}

void demo_pager_counts(demo_pager_t *p, unsigned long *trigger,
    unsigned long *ack, unsigned long *resolve)
{
	pthread_mutex_lock(&p->mu);
	*trigger = p->n_trigger;
	*ack = p->n_ack;
	*resolve = p->n_resolve;
	pthread_mutex_unlock(&p->mu);
}
