/*
 * routes: `axon routes ...`, the alert router's routing tree offline, as
 * amtool's `config routes` prints it (same output, same exit codes), and
 * `axon check config`, as amtool's `check-config`.
 *
 *   axon routes [show] --config.file=F
 *       print the routing tree of an alertmanager.yml.
 *   axon routes test [--tree] [--verify.receivers=R1,R2] --config.file=F
 *           [label=value ...]
 *       print the receivers an alert with these labels is routed to,
 *       comma-separated; --tree first draws the matching routes;
 *       --verify.receivers exits 1 when the result differs.
 *   axon check config FILE...
 *       validate alertmanager.yml files: "Checking 'F'  SUCCESS" with a
 *       summary, or "FAILED: why"; exit 1 when any failed.
 */
#ifndef CLI_ROUTES_H
#define CLI_ROUTES_H

int cli_routes(int argc, char **argv);
int cli_check_config(int argc, char **argv);

#endif
