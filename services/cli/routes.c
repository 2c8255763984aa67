/*
 * routes: `axon routes show|test` and `axon check config` (see routes.h).
 */
#include "cli/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-router/config.h"
#include "alert-router/route.h"
#include "ax_amatch.h"

static void routes_usage(FILE *f)
{
	fprintf(f,
	    "usage: axon routes [show] --config.file=FILE\n"
	    "       axon routes test [--tree] [--verify.receivers=R1,R2] "
	    "--config.file=FILE [label=value ...]\n\n"
	    "Show the routing tree of an alertmanager.yml, or the receivers "
	    "an alert\nwith the given labels is routed to (as amtool config "
	    "routes).\n");
}

/* The label set amtool builds from key=value arguments: each is one
 * matcher that must be an equality; a repeated name keeps the last. */
static int parse_labels(char **args, int n, ax_labels_t **out, ax_err_t *err)
{
	ax_amatchers_t ms = {0};
	ax_label_t *pairs;
	size_t i, j, np = 0;
	int rv = 0;

	for (i = 0; i < (size_t)n && rv == 0; i++)
		rv = ax_amatcher_parse(&ms, args[i], err);
	if (rv != 0) {
		ax_amatchers_free(&ms);
		return rv;
	}
	for (i = 0; i < ms.n; i++)
		if (ms.v[i].type != AX_AM_EQ) {
			ax_amatchers_free(&ms);
			return ax_err_set(err, AX_EINVAL,
			    "labels must be specified as key=value pairs");
		}
	pairs = calloc(ms.n ? ms.n : 1, sizeof(*pairs));
	if (pairs == NULL) {
		ax_amatchers_free(&ms);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	for (i = 0; i < ms.n; i++) {
		for (j = 0; j < np; j++)
			if (strcmp(pairs[j].name, ms.v[i].name) == 0)
				break;
		pairs[j].name = ms.v[i].name;
		pairs[j].value = ms.v[i].value;
		if (j == np)
			np++;
	}
	rv = ax_labels_new(pairs, np, out, err);
	free(pairs);
	ax_amatchers_free(&ms);
	return rv;
}

int cli_routes(int argc, char **argv)
{
	const char *file = NULL, *verify = NULL;
	int test = 0, tree = 0, i = 1, nlabels = 0, rv = 0;
	char **labels;
	ar_config_t *cfg = NULL;
	ar_route_t *root = NULL;
	ax_labels_t *ls = NULL;
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t err = {0};

	if (argc > 1 && strcmp(argv[1], "test") == 0)
		test = 1, i = 2;
	else if (argc > 1 && strcmp(argv[1], "show") == 0)
		i = 2;
	labels = calloc((size_t)argc + 1, sizeof(char *));
	if (labels == NULL)
		return 1;
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			routes_usage(stdout);
			free(labels);
			return 0;
		} else if (strncmp(a, "--config.file=", 14) == 0)
			file = a + 14;
		else if (strcmp(a, "--config.file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (test && strcmp(a, "--tree") == 0)
			tree = 1;
		else if (test && strncmp(a, "--verify.receivers=", 19) == 0)
			verify = a + 19;
		else if (test && strcmp(a, "--verify.receivers") == 0 &&
		    i + 1 < argc)
			verify = argv[++i];
		else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "axon: error: unknown flag %s\n", a);
			routes_usage(stderr);
			free(labels);
			return 2;
		} else if (test)
			labels[nlabels++] = argv[i];
		else {
			fprintf(stderr, "axon: error: unexpected %s\n", a);
			routes_usage(stderr);
			free(labels);
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "axon: error: --config.file is required\n");
		routes_usage(stderr);
		free(labels);
		return 2;
	}
	if (ar_config_load(file, 1, &cfg, &err) != 0 ||
	    ar_route_build(cfg, &root, &err) != 0) {
		fprintf(stderr, "axon: error: %s\n", err.msg);
		rv = 1;
		goto out;
	}
	if (!test) {
		ar_route_format_tree(root, &out);
	} else {
		ar_route_vec_t v = {0};
		size_t k;

		if (parse_labels(labels, nlabels, &ls, &err) != 0) {
			fprintf(stderr,
			    "axon: error: Failed to parse labels: %s\n",
			    err.msg);
			rv = 1;
			goto out;
		}
		if (tree)
			ar_route_format_matching(root, ls, &out);
		if (ar_route_match(root, ls, &v) != 0) {
			fprintf(stderr, "axon: error: out of memory\n");
			ar_route_vec_fini(&v);
			rv = 1;
			goto out;
		}
		{
			size_t start = out.len;

			for (k = 0; k < v.n; k++) {
				if (k)
					ax_buf_putc(&out, ',');
				ax_buf_puts(&out, v.v[k]->receiver);
			}
			if (verify && ax_buf_ok(&out) &&
			    strcmp(out.p ? out.p + start : "", verify) != 0)
				rv = 1;
		}
		ax_buf_putc(&out, '\n');
		if (rv == 1)
			ax_buf_puts(&out,
			    "WARNING: Expected receivers did not "
			    "match resolved receivers.\n");
		ar_route_vec_fini(&v);
	}
	if (!ax_buf_ok(&out)) {
		fprintf(stderr, "axon: error: out of memory\n");
		rv = 1;
	} else
		fwrite(out.p, 1, out.len, stdout);
out:
	ax_buf_fini(&out);
	ax_labels_free(ls);
	ar_route_free(root);
	ar_config_free(cfg);
	free(labels);
	return rv;
}

int cli_check_config(int argc, char **argv)
{
	int i, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: axon check config FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		ar_config_t *cfg = NULL;
		ax_err_t err = {0};

		if (ar_config_load(argv[i], 1, &cfg, &err) != 0) {
			printf(
			    "Checking '%s'  FAILED: %s\n\n", argv[i], err.msg);
			failed++;
			continue;
		}
		printf("Checking '%s'  SUCCESS\nFound:\n - global config\n"
		       " - route\n - %zu inhibit rules\n - %zu receivers\n"
		       " - %zu templates\n\n",
		    argv[i], cfg->inhibit_rules.n, cfg->receivers.n,
		    cfg->templates.n);
		ar_config_free(cfg);
	}
	if (failed)
		fprintf(stderr, "axon: error: failed to validate %d file(s)\n",
		    failed);
	return failed ? 1 : 0;
}
