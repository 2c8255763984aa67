/*
 * Unit tests: ax_metrics registry and text exposition rendering, and
 * ax_log output formats.
 */
#include "ax_test.h"
#include "ax_log.h"
#include "ax_metrics.h"

#include <math.h>
#include <pthread.h>

static double fixed_fn(void *arg)
{
	return *(double *)arg;
}

static void test_render(void **st)
{
	ax_metrics_t *r = ax_metrics_new();
	const char *ln[] = {"code", "handler"};
	const char *v1[] = {"200", "/api"}, *v2[] = {"500", "/a\"b\\c\nd"};
	const double bk[] = {0.1, 1};
	double fv = 42;
	ax_mfam_t *f;
	ax_metric_t *c, *g, *h;
	ax_buf_t b = AX_BUF_INIT;

	(void)st;
	f = ax_metrics_family(r, AX_METRIC_COUNTER, "axon_http_requests_total",
	    "HTTP requests by code.\nSecond line \\ here.", 2, ln, NULL, 0);
	assert_non_null(f);
	ax_counter_add(ax_mfam_with(f, v2), 2);
	c = ax_mfam_with(f, v1);
	ax_counter_inc(c);
	ax_counter_inc(c);
	ax_counter_add(c, -5); /* counters never go down */
	assert_ptr_equal(ax_mfam_with(f, v1), c);
	g = ax_metrics_gauge(r, "axon_queue_length", "Queue length.");
	ax_gauge_set(g, 7);
	ax_gauge_add(g, -2.5);
	h = ax_metrics_histogram(r, "axon_latency_seconds", "Latency.", bk, 2);
	ax_histogram_observe(h, 0.05);
	ax_histogram_observe(h, 0.5);
	ax_histogram_observe(h, 5);
	ax_metrics_gauge_fn(r, "axon_fn_value", "Computed.", fixed_fn, &fv);
	/* re-registering with other labels fails, same spec returns it */
	assert_null(ax_metrics_family(r, AX_METRIC_GAUGE,
	    "axon_http_requests_total", "x", 0, NULL, NULL, 0));
	assert_ptr_equal(ax_metrics_family(r, AX_METRIC_COUNTER,
	                     "axon_http_requests_total", "x", 2, ln, NULL, 0),
	    f);
	ax_metrics_render(r, &b);
	assert_true(ax_buf_ok(&b));
	assert_string_equal(b.p,
	    "# HELP axon_fn_value Computed.\n"
	    "# TYPE axon_fn_value gauge\n"
	    "axon_fn_value 42\n"
	    "# HELP axon_http_requests_total HTTP requests by code.\\nSecond "
	    "line \\\\ here.\n"
	    "# TYPE axon_http_requests_total counter\n"
	    "axon_http_requests_total{code=\"200\",handler=\"/api\"} 2\n"
	    "axon_http_requests_total{code=\"500\",handler=\"/"
	    "a\\\"b\\\\c\\nd\"} 2\n"
	    "# HELP axon_latency_seconds Latency.\n"
	    "# TYPE axon_latency_seconds histogram\n"
	    "axon_latency_seconds_bucket{le=\"0.1\"} 1\n"
	    "axon_latency_seconds_bucket{le=\"1\"} 2\n"
	    "axon_latency_seconds_bucket{le=\"+Inf\"} 3\n"
	    "axon_latency_seconds_sum 5.55\n"
	    "axon_latency_seconds_count 3\n"
	    "# HELP axon_queue_length Queue length.\n"
	    "# TYPE axon_queue_length gauge\n"
	    "axon_queue_length 4.5\n");
	ax_buf_fini(&b);
	ax_metrics_free(r);
}

static void test_special_values_and_process(void **st)
{
	ax_metrics_t *r = ax_metrics_new();
	ax_buf_t b = AX_BUF_INIT;

	(void)st;
	ax_gauge_set(ax_metrics_gauge(r, "a_nan", "n"), NAN);
	ax_gauge_set(ax_metrics_gauge(r, "b_inf", "i"), -INFINITY);
	assert_int_equal(ax_metrics_register_process(r), 0);
	ax_metrics_render(r, &b);
	assert_str_contains(b.p, "a_nan NaN\n");
	assert_str_contains(b.p, "b_inf -Inf\n");
	assert_str_contains(b.p, "# TYPE process_cpu_seconds_total counter\n");
	assert_str_contains(b.p, "process_resident_memory_bytes ");
	assert_str_contains(b.p, "process_start_time_seconds ");
	assert_null(strstr(b.p, "process_resident_memory_bytes 0\n"));
	ax_buf_fini(&b);
	ax_metrics_free(r);
}

static void *hammer(void *p)
{
	ax_metric_t *c = p;
	int i;

	for (i = 0; i < 100000; i++)
		ax_counter_inc(c);
	return NULL;
}

static void test_concurrent_updates(void **st)
{
	ax_metrics_t *r = ax_metrics_new();
	ax_metric_t *c = ax_metrics_counter(r, "x_total", "x");
	pthread_t t[4];
	int i;

	(void)st;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, c);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(ax_metric_value(c) == 400000);
	ax_metrics_free(r);
}

static void test_log_formats(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ax_err_t e;

	(void)st;
	ax_log_set_stream(f);
	ax_log_set_component("test");
	assert_int_equal(ax_log_setup("info", "logfmt", &e), 0);
	ax_log_debug("hidden");
	ax_log_info("hello world", "key", "a b", "q", "x\"y", "plain", "v");
	fflush(f);
	assert_null(strstr(buf, "hidden"));
	assert_str_contains(buf,
	    " level=info component=test msg=\"hello world\" key=\"a b\" "
	    "q=\"x\\\"y\" plain=v\n");
	assert_str_contains(buf, "caller=test_metrics.c:");
	assert_int_equal(ax_log_setup(NULL, "json", &e), 0);
	ax_log_warn("j", "k", "line\nbreak");
	fflush(f);
	assert_str_contains(buf,
	    "\"level\":\"warn\",\"component\":\"test\",\"msg\":\"j\",\"k\":"
	    "\"line\\nbreak\"}\n");
	assert_int_equal(ax_log_setup("verbose", NULL, &e), AX_EINVAL);
	assert_str_contains(e.msg, "--log.level");
	assert_int_equal(ax_log_setup(NULL, "xml", &e), AX_EINVAL);
	ax_log_setup("info", "logfmt", NULL);
	ax_log_set_stream(NULL);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_special_values_and_process),
	    cmocka_unit_test(test_concurrent_updates),
	    cmocka_unit_test(test_log_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
