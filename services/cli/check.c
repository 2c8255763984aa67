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

int cli_check(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "metrics") == 0)
		return check_metrics(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "config") == 0)
		return cli_check_config(argc - 1, argv + 1);
	fprintf(stderr,
	    "usage: axon check metrics [--openmetrics] "
	    "[FILE|-]\n       axon check config FILE...\n");
	return 2;
}
