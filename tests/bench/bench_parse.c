/*
 * ax-bench-parse: exposition parser throughput, one core.
 *
 *   ax-bench-parse [--openmetrics] [--seconds S] FILE...
 *
 * Loads the bodies, then parses them round-robin with one reused parser
 * (as a scrape loop does: labels stay in the body, nothing is copied) for
 * S seconds (default 2), touching every label value so nothing is
 * optimised away.  Prints MB/s and samples/s.  A body that does not parse
 * is an error (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ax_buf.h"
#include "ax_expo.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	ax_buf_t bodies[256];
	size_t nb = 0, i, bytes = 0, samples = 0, sink = 0;
	double secs = 2, t0, t;
	int om = 0, a, e;
	ax_expo_t x;

	for (a = 1; a < argc; a++) {
		FILE *f;
		char tmp[65536];
		size_t n;

		if (strcmp(argv[a], "--openmetrics") == 0) {
			om = 1;
			continue;
		}
		if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) {
			secs = atof(argv[++a]);
			continue;
		}
		if (nb == 256 || (f = fopen(argv[a], "rb")) == NULL) {
			perror(argv[a]);
			return 2;
		}
		ax_buf_init(&bodies[nb]);
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			ax_buf_append(&bodies[nb], tmp, n);
		fclose(f);
		nb++;
	}
	if (nb == 0) {
		fprintf(stderr, "usage: ax-bench-parse [--openmetrics] "
		                "[--seconds S] FILE...\n");
		return 2;
	}
	ax_expo_init(&x, "", 0, om);
	t0 = now_s();
	do {
		for (i = 0; i < nb; i++) {
			ax_expo_reset(&x, bodies[i].p, bodies[i].len, om);
			while ((e = ax_expo_next(&x)) > 0) {
				if (e == AX_EXPO_SAMPLE) {
					samples++;
					if (x.n_labels)
						sink += x.labels[0].value.n;
				}
			}
			if (e == AX_EXPO_ERROR) {
				fprintf(stderr, "%s\n", x.err);
				return 1;
			}
			bytes += bodies[i].len;
		}
		t = now_s() - t0;
	} while (t < secs);
	printf("%.1f MB/s, %.0f samples/s (%zu bodies, %.2f s, check %zu)\n",
	    (double)bytes / t / 1e6, (double)samples / t, nb, t, sink % 7);
	ax_expo_fini(&x);
	for (i = 0; i < nb; i++)
		ax_buf_fini(&bodies[i]);
	return 0;
}
