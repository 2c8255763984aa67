/*
 * check: `axon check ...` subcommands, offline validators like promtool's.
 *
 *   axon check metrics [--openmetrics] [FILE|-]
 *       parse an exposition body (Prometheus text 0.0.4, or OpenMetrics
 *       1.0 with --openmetrics, strictly) from FILE or standard input;
 *       print each error as FILE:line:col: reason; exit 0 when valid, 1
 *       when not, 2 on usage errors.
 *   axon check config FILE...
 *       validate alertmanager.yml files (as amtool check-config; see
 *       routes.h).
 */
#ifndef CLI_CHECK_H
#define CLI_CHECK_H

int cli_check(int argc, char **argv);

#endif
