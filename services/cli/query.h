/*
 * cli/query: the tsdb's Prometheus query API from the terminal.
 *
 *   axon query EXPR [--time T]
 *   axon query-range EXPR [--start T] [--end T] [--step D]
 *   axon series MATCHER... [--start T] [--end T]
 *   axon labels [NAME]
 *
 * Tables by default (query-range draws a chart); -o json prints the API's
 * "data" as it came.  Times as cli_parse_time reads them.
 */
#ifndef AX_CLI_QUERY_H
#define AX_CLI_QUERY_H

#include <stddef.h>

#include "ax_buf.h"

int cli_query(int argc, char **argv);
int cli_query_range(int argc, char **argv);
int cli_series(int argc, char **argv);
int cli_labels(int argc, char **argv);

/*
 * Draw series as a chart of width x height character cells into b:
 * n series of np[i] points (t[i][k] seconds, v[i][k]); each series gets
 * its own mark, a y axis with the range, an x axis with the first and
 * last time, and a legend line per series (names[i]).  NaN values are
 * gaps.  Exposed for the unit test.
 */
void cli_chart(ax_buf_t *b, size_t width, size_t height, size_t n,
    const size_t *np, double *const *t, double *const *v,
    const char *const *names);

#endif
