/*
 * Unit tests: the Kubernetes provider's in-cluster settings (API address
 * from KUBERNETES_SERVICE_HOST/PORT, IPv6 bracketed; token, CA and
 * namespace files from the service-account directory, movable with
 * AXON_KUBERNETES_SERVICEACCOUNT_DIR) and the kubernetes_sd_configs
 * checks.
 */
#include "ax_test.h"
#include "discoverer/k8s.h"

static void test_in_cluster(void **state)
{
	char url[256], tok[256], ca[256], ns[256];

	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("AXON_KUBERNETES_SERVICEACCOUNT_DIR");
	assert_int_equal(disc_k8s_in_cluster(url, sizeof(url), tok, ca, ns,
	                     sizeof(tok)),
	    -1);
	assert_string_equal(
	    tok, "/var/run/secrets/kubernetes.io/serviceaccount/token");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("AXON_KUBERNETES_SERVICEACCOUNT_DIR", "/tmp/sa", 1);
	assert_int_equal(disc_k8s_in_cluster(url, sizeof(url), tok, ca, ns,
	                     sizeof(tok)),
	    0);
	assert_string_equal(url, "https://10.96.0.1:443");
	assert_string_equal(tok, "/tmp/sa/token");
	assert_string_equal(ca, "/tmp/sa/ca.crt");
	assert_string_equal(ns, "/tmp/sa/namespace");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(disc_k8s_in_cluster(url, sizeof(url), tok, ca, ns,
	                     sizeof(tok)),
	    0);
	assert_string_equal(url, "https://[fd00::1]:443");
}

static void check_bad(const char *yml, const char *want)
{
	ax_cfg_list_t l = {NULL, 0};
	ax_err_t e;

	assert_int_not_equal(
	    ax_sd_decode_text("k.yml", yml, ax_sd_decode_k8s, &l, &e), 0);
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", yml, e.msg, want);
}

static void test_config(void **state)
{
	ax_cfg_list_t l = {NULL, 0};
	ax_err_t e;
	const ax_k8ssd_t *k;

	(void)state;
	assert_int_equal(ax_sd_decode_text("k.yml",
	                     "- role: endpoints\n"
	                     "  api_server: https://k8s:6443\n"
	                     "  namespaces: {names: [a, b]}\n"
	                     "  selectors: [{role: service, label: x=y}]\n",
	                     ax_sd_decode_k8s, &l, &e),
	    0);
	k = l.items;
	assert_string_equal(k->role, "endpoints");
	assert_int_equal(k->namespaces.names.n, 2);
	assert_int_equal(k->follow_redirects, 1);
	ax_sd_free_k8s(&l);
	check_bad("- api_server: http://x\n", "missing required field \"role\"");
	check_bad("- role: bogus\n", "unknown Kubernetes SD role");
	check_bad("- role: ingress\n", "not supported by this version");
	check_bad("- role: pod\n  selectors: [{role: node, label: a}]\n",
	    "pod role supports only pod selectors");
	check_bad("- role: pod\n  bearer_token: t\n",
	    "provide the 'api_server' URL");
	check_bad("- role: pod\n  api_server: http://x\n  bearer_token: t\n"
	          "  bearer_token_file: f\n",
	    "at most one of");
	check_bad("- role: pod\n  kubeconfig_file: /k\n", "kubeconfig_file");
	check_bad("- role: pod\n  api_server: x:1\n", "http:// or https://");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_cluster),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
