/*
 * Unit tests: ax_http server (routing, params, limits, gzip, keep-alive,
 * basic auth and bearer tokens) driven by libcurl.
 */
#include "ax_test.h"
#include "ax_http.h"
#include "ax_log.h"

#include <cJSON.h>
#include <crypt.h>
#include <curl/curl.h>
#include <zlib.h>

static void h_echo(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	const char *ms[8];
	size_t n, i, blen;
	const char *body = ax_http_body(req, &blen);

	(void)arg;
	resp->content_type = "text/plain";
	ax_buf_printf(&resp->body, "%s %s q=%s", ax_http_method(req),
	    ax_http_path(req),
	    ax_http_param(req, "q") ? ax_http_param(req, "q") : "-");
	n = ax_http_params(req, "match[]", ms, 8);
	for (i = 0; i < n; i++)
		ax_buf_printf(&resp->body, " m=%s", ms[i]);
	ax_buf_printf(&resp->body, " body=%zu", blen);
	(void)body;
}

static void h_big(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	int i;

	(void)req;
	(void)arg;
	for (i = 0; i < 5000; i++)
		ax_buf_puts(&resp->body, "metric_line{a=\"b\"} 1\n");
}

static void h_err(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	(void)req;
	(void)arg;
	ax_http_resp_error(
	    resp, 400, "bad_data", "invalid parameter \"%s\"", "q\"x");
}

static void h_json(ax_http_req_t *req, ax_http_resp_t *resp, void *arg)
{
	cJSON *in, *out;
	ax_err_t e;

	(void)arg;
	if (ax_http_body_json(req, &in, &e) != 0) {
		ax_http_resp_error(resp, 400, "bad_data", "%s", e.msg);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "n", cJSON_GetArraySize(in));
	cJSON_AddStringToObject(
	    out, "name", cJSON_GetStringValue(cJSON_GetObjectItem(in, "Name")));
	ax_http_resp_json(resp, 200, out);
	cJSON_Delete(out);
	cJSON_Delete(in);
}

typedef struct {
	ax_buf_t body;
	long code;
	char ctype[128];
	char cenc[64];
} resp_t;

static size_t wr(char *p, size_t sz, size_t n, void *ud)
{
	ax_buf_append(&((resp_t *)ud)->body, p, sz * n);
	return sz * n;
}

static size_t hdr(char *p, size_t sz, size_t n, void *ud)
{
	resp_t *r = ud;
	size_t len = sz * n;

	if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)(len - 16),
		    p + 14);
	if (len > 18 && strncasecmp(p, "Content-Encoding: ", 18) == 0)
		snprintf(
		    r->cenc, sizeof(r->cenc), "%.*s", (int)(len - 20), p + 18);
	return len;
}

static CURL *g_curl;

static void do_req(const char *method, const char *url, const char *body,
    const char *ctype, const char *auth, int gzip, resp_t *r)
{
	struct curl_slist *h = NULL;
	char line[256];

	memset(r, 0, sizeof(*r));
	curl_easy_reset(g_curl);
	curl_easy_setopt(g_curl, CURLOPT_URL, url);
	curl_easy_setopt(g_curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, wr);
	curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(g_curl, CURLOPT_HEADERFUNCTION, hdr);
	curl_easy_setopt(g_curl, CURLOPT_HEADERDATA, r);
	if (body) {
		curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(
		    g_curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
	}
	if (auth) {
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		h = curl_slist_append(h, line);
	}
	if (gzip)
		h = curl_slist_append(h, "Accept-Encoding: gzip");
	curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, h);
	assert_int_equal(curl_easy_perform(g_curl), CURLE_OK);
	curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &r->code);
	curl_slist_free_all(h);
}

static ax_http_server_t *start(int threads, ax_http_server_t **out)
{
	ax_http_opts_t o;
	ax_err_t e;

	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1:0";
	o.max_body_bytes = 1000;
	o.threads = (unsigned)threads;
	assert_int_equal(ax_http_server_new(&o, out, &e), 0);
	ax_http_route(*out, "GET", "/echo", h_echo, NULL);
	ax_http_route(*out, "POST", "/echo", h_echo, NULL);
	ax_http_route(*out, "GET", "/api/v1/label/*", h_echo, NULL);
	ax_http_route(*out, "GET", "/big", h_big, NULL);
	ax_http_route(*out, NULL, "/err", h_err, NULL);
	ax_http_route(*out, "PUT", "/json", h_json, NULL);
	return *out;
}

static void test_routing_and_params(void **st)
{
	ax_http_server_t *s;
	resp_t r;
	char url[256];
	int port;
	ax_err_t e;

	(void)st;
	start(2, &s);
	assert_int_equal(ax_http_server_start(s, &e), 0);
	port = ax_http_server_port(s);
	assert_true(port > 0);
	snprintf(url, sizeof(url),
	    "http://127.0.0.1:%d/echo?q=a%%20b&match[]=x&match%%5B%%5D=y",
	    port);
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.p, "GET /echo q=a b m=x m=y body=0");
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	do_req("POST", url, "q=up%7Bjob%3D%22x%22%7D&match[]=z",
	    "application/x-www-form-urlencoded", NULL, 0, &r);
	assert_string_equal(r.body.p, "POST /echo q=up{job=\"x\"} m=z body=33");
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url),
	    "http://127.0.0.1:%d/api/v1/label/job/values", port);
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 200);
	assert_str_contains(r.body.p, "/api/v1/label/job/values");
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nope", port);
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 404);
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", port);
	do_req("DELETE", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 405);
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/err", port);
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 400);
	assert_string_equal(r.ctype, "application/json");
	assert_string_equal(r.body.p,
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	    "\"invalid parameter \\\"q\\\"x\\\"\"}");
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/json", port);
	do_req("PUT", url, "{\"Name\":\"web\",\"Port\":80}", "application/json",
	    NULL, 0, &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.p, "{\"n\":2,\"name\":\"web\"}");
	ax_buf_fini(&r.body);
	do_req("PUT", url, "{\"Name\": web}", "application/json", NULL, 0, &r);
	assert_int_equal(r.code, 400);
	assert_str_contains(r.body.p, "invalid JSON at byte 9");
	ax_buf_fini(&r.body);
	do_req("PUT", url, "", "application/json", NULL, 0, &r);
	assert_int_equal(r.code, 400);
	assert_str_contains(r.body.p, "request body is empty");
	ax_buf_fini(&r.body);
	ax_http_server_free(s);
}

static void test_limits_gzip_keepalive(void **st)
{
	ax_http_server_t *s;
	resp_t r;
	char url[256], big[2000];
	long conns = -1;
	int port;
	unsigned char out[200000];
	uLongf olen = sizeof(out);
	z_stream z;

	(void)st;
	start(1, &s);
	assert_int_equal(ax_http_server_start(s, NULL), 0);
	port = ax_http_server_port(s);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	do_req("POST", url, big, "text/plain", NULL, 0, &r);
	assert_int_equal(r.code, 413);
	ax_buf_fini(&r.body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", port);
	do_req("GET", url, NULL, NULL, NULL, 1, &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.cenc, "gzip");
	assert_true(r.body.len < 5000);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 31), Z_OK);
	z.next_in = (Bytef *)r.body.p;
	z.avail_in = (uInt)r.body.len;
	z.next_out = out;
	z.avail_out = (uInt)olen;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, 5000 * 21);
	inflateEnd(&z);
	ax_buf_fini(&r.body);
	/* keep-alive: a second request reuses the connection */
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	curl_easy_getinfo(g_curl, CURLINFO_NUM_CONNECTS, &conns);
	assert_int_equal(conns, 0);
	ax_buf_fini(&r.body);
	ax_http_server_free(s);
}

static void test_auth(void **st)
{
	ax_http_server_t *s;
	resp_t r;
	char url[256], *hash;
	struct crypt_data cd;
	int port;

	(void)st;
	start(1, &s);
	memset(&cd, 0, sizeof(cd));
	hash = crypt_r("s3cret",
	    crypt_gensalt_rn("$2b$", 4, NULL, 0, (char[64]){0}, 64), &cd);
	assert_non_null(hash);
	assert_int_equal(ax_http_add_basic_user(s, "alice", hash), 0);
	assert_int_equal(ax_http_add_bearer_token(s, "tok123"), 0);
	assert_int_equal(ax_http_server_start(s, NULL), 0);
	port = ax_http_server_port(s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	do_req("GET", url, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.code, 401);
	ax_buf_fini(&r.body);
	do_req("GET", url, NULL, NULL, "Basic YWxpY2U6czNjcmV0", 0,
	    &r); /* alice:s3cret */
	assert_int_equal(r.code, 200);
	ax_buf_fini(&r.body);
	do_req("GET", url, NULL, NULL, "Basic YWxpY2U6d3Jvbmc=", 0,
	    &r); /* alice:wrong */
	assert_int_equal(r.code, 401);
	ax_buf_fini(&r.body);
	do_req("GET", url, NULL, NULL, "Bearer tok123", 0, &r);
	assert_int_equal(r.code, 200);
	ax_buf_fini(&r.body);
	do_req("GET", url, NULL, NULL, "Bearer tok12", 0, &r);
	assert_int_equal(r.code, 401);
	ax_buf_fini(&r.body);
	ax_http_server_free(s);
}

static void test_bind_errors(void **st)
{
	ax_http_server_t *s, *s2;
	ax_http_opts_t o;
	ax_err_t e;
	char addr[64];

	(void)st;
	start(1, &s);
	assert_int_equal(ax_http_server_start(s, NULL), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ax_http_server_port(s));
	memset(&o, 0, sizeof(o));
	o.listen = addr;
	assert_int_equal(ax_http_server_new(&o, &s2, NULL), 0);
	assert_int_equal(ax_http_server_start(s2, &e), AX_EIO);
	assert_str_contains(e.msg, "Address already in use");
	ax_http_server_free(s2);
	o.listen = "nonsense";
	assert_int_equal(ax_http_server_new(&o, &s2, NULL), 0);
	assert_int_equal(ax_http_server_start(s2, &e), AX_EINVAL);
	ax_http_server_free(s2);
	ax_http_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routing_and_params),
	    cmocka_unit_test(test_limits_gzip_keepalive),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_bind_errors),
	};
	int rv;

	ax_log_setup("error", NULL, NULL);
	curl_global_init(CURL_GLOBAL_ALL);
	g_curl = curl_easy_init();
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	curl_easy_cleanup(g_curl);
	curl_global_cleanup();
	return rv;
}
