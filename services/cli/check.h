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
 *   axon check rules [--lint=duplicate-rules|none] [--lint-fatal] FILE...
 *       validate Prometheus rule files as promtool check rules does
 *       (ruler/rules.h): "Checking F", then "  SUCCESS: N rules found",
 *       or "  FAILED:" and one error per line on stderr; duplicate
 *       recording rules are a lint problem ("lint error ..."); exit 0 when
 *       all are valid, 1 when one is not, 3 for lint problems under
 *       --lint-fatal, 2 on usage errors.
 */
#ifndef CLI_CHECK_H
#define CLI_CHECK_H

int cli_check(int argc, char **argv);

#endif
