/*
 * slo: `axon slo render` (see slo.h).
 */
#include "cli/slo.h"

#include <stdio.h>
#include <string.h>

#include "ax_buf.h"
#include "ruler/slo.h"

int cli_slo(int argc, char **argv)
{
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t err;

	if (argc == 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: axon slo render FILE\n\nPrint the Prometheus "
		       "rules (recording rules and multi-window, "
		       "multi-burn-rate alerts) for the SLOs in FILE.\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "render") != 0 || argv[2][0] == '-') {
		fprintf(stderr, "usage: axon slo render FILE\n");
		return 2;
	}
	if (rl_slo_render_file(argv[2], &out, &err) != 0) {
		fprintf(stderr, "axon slo render: %s\n", err.msg);
		ax_buf_fini(&out);
		return 1;
	}
	fwrite(out.p, 1, out.len, stdout);
	ax_buf_fini(&out);
	return 0;
}
