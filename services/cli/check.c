/*
 * check: offline validators (see check.h).
 */
#include "cli/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ax_buf.h"
#include "ax_expo.h"
#include "cli/routes.h"
#include "ruler/rules.h"

/* Read all of f into b; 0 or -1. */
static int slurp(FILE *f, ax_buf_t *b)
{
	char tmp[65536];
	size_t n;

	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ax_buf_append(b, tmp, n);
	return ferror(f) || b->oom ? -1 : 0;
}

static int check_metrics(int argc, char **argv)
{
	const char *path = "-";
	int om = 0, i, rv, e;
	ax_buf_t body = AX_BUF_INIT;
	ax_expo_t x;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--openmetrics") == 0)
			om = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: axon check metrics [--openmetrics] "
			       "[FILE|-]\n\nValidate a metrics exposition "
			       "body (Prometheus text 0.0.4, or OpenMetrics "
			       "1.0 with --openmetrics).\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "axon check metrics: unknown flag %s\n",
			    argv[i]);
			return 2;
		} else {
			path = argv[i];
		}
	}
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "axon check metrics: %s: %s\n", path,
		    strerror(errno));
		return 2;
	}
	rv = slurp(f, &body);
	if (f != stdin)
		fclose(f);
	if (rv != 0) {
		fprintf(stderr, "axon check metrics: cannot read %s\n", path);
		ax_buf_fini(&body);
		return 2;
	}
	ax_expo_init(&x, body.p ? body.p : "", body.len, om);
	while ((e = ax_expo_next(&x)) > 0)
		;
	rv = 0;
	if (e == AX_EXPO_ERROR) {
		printf("%s:%s\n", strcmp(path, "-") == 0 ? "<stdin>" : path,
		    x.err);
		rv = 1;
	}
	ax_expo_fini(&x);
	ax_buf_fini(&body);
	return rv;
}

/* promtool check rules: the verdict for each file, and its exit codes
 * (0 all valid, 1 any invalid). */
static int check_rules(int argc, char **argv)
{
	int i, bad = 0, lint_bad = 0, files = 0, lint = 1, lint_fatal = 0;

	for (i = 1; i < argc; i++) {
		rl_ruleset_t rs = {0};
		ax_buf_t errs = AX_BUF_INIT, dups = AX_BUF_INIT;
		int rv;
		size_t nd;

		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: axon check rules [--lint=duplicate-rules"
			       "|none] [--lint-fatal] FILE...\n\nCheck "
			       "Prometheus rule files as promtool check rules "
			       "does: exit 0 when all are valid, 1 when one "
			       "is not (or, with --lint-fatal, has duplicate "
			       "recording rules).\n");
			return 0;
		}
		if (strcmp(argv[i], "--lint-fatal") == 0) {
			lint_fatal = 1;
			continue;
		}
		if (strcmp(argv[i], "--lint=none") == 0) {
			lint = 0;
			continue;
		}
		if (strcmp(argv[i], "--lint=duplicate-rules") == 0) {
			lint = 1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "axon check rules: unknown flag %s\n",
			    argv[i]);
			return 2;
		}
		files++;
		printf("Checking %s\n", argv[i]);
		rv = rl_rules_load_file(&rs, argv[i], &errs);
		if (rv != 0) {
			/* as promtool: the verdict on stderr */
			fflush(stdout);
			fprintf(stderr, "  FAILED:\n%s\n",
			    errs.p ? errs.p : "out of memory\n");
			bad = 1;
		} else {
			nd = lint ? rl_rules_duplicates(&rs, &dups) : 0;
			/* as promtool 2.42: a lint problem, fatal only with
			 * --lint-fatal */
			if (nd > 0) {
				fflush(stdout);
				fprintf(stderr,
				    "  FAILED:\nlint error %zu duplicate "
				    "rule(s) found.\n%sMight cause "
				    "inconsistency while recording "
				    "expressions\n\n",
				    nd, dups.p);
				lint_bad = 1;
			} else
				printf("  SUCCESS: %zu rules found\n\n",
				    rl_ruleset_count(&rs));
		}
		rl_ruleset_free(&rs);
		ax_buf_fini(&errs);
		ax_buf_fini(&dups);
	}
	if (files == 0) {
		fprintf(stderr, "usage: axon check rules FILE...\n");
		return 2;
	}
	/* promtool's exit codes: 1 errors, 3 lint problems with
	 * --lint-fatal */
	return bad ? 1 : lint_bad && lint_fatal ? 3 : 0;
}

int cli_check(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return check_rules(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "metrics") == 0)
		return check_metrics(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "config") == 0)
		return cli_check_config(argc - 1, argv + 1);
	fprintf(stderr,
	    "usage: axon check metrics [--openmetrics] "
	    "[FILE|-]\n       axon check config FILE...\n"
	    "       axon check rules FILE...\n");
	return 2;
}
