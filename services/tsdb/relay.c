/*
 * relay: targets, rules and alerts from the peers (see relay.h).
 */
#include "tsdb/relay.h"
#include "ax_buf.h"
#include "ax_log.h"
#include "tsdb/tsdb.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	ax_buf_append(ud, p, sz * n);
	return sz * n;
}

/* GET base + path + query; 0 with the body in out, or -1 with err. */
static int fetch(const char *base, const char *path, const char *query,
    ax_buf_t *out, long *code, char *err, size_t cap)
{
	CURL *c = curl_easy_init();
	char url[4096];
	CURLcode rc;

	if (c == NULL) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	snprintf(url, sizeof(url), "%s%s%s%s", base, path,
	    query && *query ? "?" : "", query ? query : "");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(err, cap, "%s", curl_easy_strerror(rc));
		return -1;
	}
	if (!ax_buf_ok(out)) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	return 0;
}

/* The raw query string of the request, re-encoded from its parameters. */
static void query_of(ax_http_req_t *req, char *out, size_t cap)
{
	static const char *keys[] = {"state", "scrapePool", "type",
	    "rule_name[]", "rule_group[]", "file[]", NULL};
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; keys[i]; i++) {
		const char *vals[16];
		size_t n = ax_http_params(req, keys[i], vals, 16), k;

		for (k = 0; k < n; k++) {
			char *e = curl_easy_escape(NULL, vals[k], 0);

			if (e == NULL)
				continue;
			len += (size_t)snprintf(out + len,
			    cap > len ? cap - len : 0, "%s%s=%s",
			    len ? "&" : "", keys[i], e);
			curl_free(e);
		}
	}
}

void tsdb_relay_targets(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	tsdb_t *t = arg;
	cJSON *active = cJSON_CreateArray(), *dropped = cJSON_CreateArray();
	cJSON *warnings = cJSON_CreateArray(), *out, *data;
	char q[2048];
	size_t i, ok = 0, n;

	query_of(req, q, sizeof(q));
	pthread_mutex_lock(&t->cfg_mu);
	n = t->scrapers.n;
	pthread_mutex_unlock(&t->cfg_mu);
	for (i = 0; i < n; i++) {
		ax_buf_t body = AX_BUF_INIT;
		char url[2048], err[512];
		long code = 0;
		cJSON *j, *d, *e;

		pthread_mutex_lock(&t->cfg_mu);
		snprintf(url, sizeof(url), "%s",
		    i < t->scrapers.n ? t->scrapers.v[i] : "");
		pthread_mutex_unlock(&t->cfg_mu);
		if (fetch(url, "/api/v1/targets", q, &body, &code, err,
		        sizeof(err)) != 0 ||
		    code != 200) {
			char w[3000];

			if (code && code != 200)
				snprintf(err, sizeof(err), "HTTP %ld", code);
			snprintf(w, sizeof(w),
			    "axon-scraper at %s unreachable: %s", url, err);
			cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
			ax_buf_fini(&body);
			continue;
		}
		j = cJSON_ParseWithLength(body.p, body.len);
		ax_buf_fini(&body);
		d = j ? cJSON_GetObjectItem(j, "data") : NULL;
		if (d == NULL) {
			char w[3000];

			snprintf(w, sizeof(w),
			    "axon-scraper at %s: invalid targets answer", url);
			cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
			cJSON_Delete(j);
			continue;
		}
		ok++;
		while (
		    (e = cJSON_DetachItemFromArray(
		         cJSON_GetObjectItem(d, "activeTargets"), 0)) != NULL)
			cJSON_AddItemToArray(active, e);
		while (
		    (e = cJSON_DetachItemFromArray(
		         cJSON_GetObjectItem(d, "droppedTargets"), 0)) != NULL)
			cJSON_AddItemToArray(dropped, e);
		cJSON_Delete(j);
	}
	if (n > 0 && ok == 0) {
		cJSON_Delete(active);
		cJSON_Delete(dropped);
		ax_http_resp_error(resp, 503, "unavailable",
		    "no axon-scraper answered: %s",
		    cJSON_GetArraySize(warnings)
		        ? cJSON_GetArrayItem(warnings, 0)->valuestring
		        : "");
		cJSON_Delete(warnings);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "status", "success");
	data = cJSON_AddObjectToObject(out, "data");
	cJSON_AddItemToObject(data, "activeTargets", active);
	cJSON_AddItemToObject(data, "droppedTargets", dropped);
	if (cJSON_GetArraySize(warnings) > 0)
		cJSON_AddItemToObject(out, "warnings", warnings);
	else
		cJSON_Delete(warnings);
	ax_http_resp_json(resp, 200, out);
	cJSON_Delete(out);
}

static void relay_ruler(ax_http_req_t *req, ax_http_resp_t *resp, tsdb_t *t,
    const char *path, const char *empty)
{
	ax_buf_t body = AX_BUF_INIT;
	char url[2048], q[2048], err[512];
	long code = 0;

	pthread_mutex_lock(&t->cfg_mu);
	snprintf(url, sizeof(url), "%s", t->ruler ? t->ruler : "");
	pthread_mutex_unlock(&t->cfg_mu);
	if (url[0] == '\0') {
		resp->content_type = "application/json";
		ax_buf_puts(&resp->body, empty);
		return;
	}
	query_of(req, q, sizeof(q));
	if (fetch(url, path, q, &body, &code, err, sizeof(err)) != 0) {
		ax_buf_fini(&body);
		ax_http_resp_error(resp, 503, "unavailable",
		    "axon-ruler at %s unreachable: %s", url, err);
		return;
	}
	resp->status = (int)code;
	resp->content_type = "application/json";
	ax_buf_append(&resp->body, body.p, body.len);
	ax_buf_fini(&body);
}

void tsdb_relay_rules(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	relay_ruler(req, resp, arg, "/api/v1/rules",
	    "{\"status\":\"success\",\"data\":{\"groups\":[]}}");
}

void tsdb_relay_alerts(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	relay_ruler(req, resp, arg, "/api/v1/alerts",
	    "{\"status\":\"success\",\"data\":{\"alerts\":[]}}");
}
