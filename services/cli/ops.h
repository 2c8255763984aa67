/*
 * cli/ops: the operator's view of the running stack.
 *
 *   axon targets                 scrape targets of every scraper (health table)
 *   axon alerts                  firing alerts (alert router) and pending
 *                                ones (ruler), with silence, inhibition and
 *                                root-cause state
 *   axon silence add --comment=C [--author=A] [--duration=D | --end=T]
 *                    [--start=T] MATCHER...
 *   axon silence ls [--expired]
 *   axon silence expire ID...
 *   axon rules                   rule groups and rules of the ruler
 *   axon status                  every daemon: reachable, version
 *
 * Tables by default, -o json for the APIs' data.  Exit 1 when a daemon a
 * command needs is unreachable (named on stderr), 2 on bad usage.
 */
#ifndef AX_CLI_OPS_H
#define AX_CLI_OPS_H

int cli_targets(int argc, char **argv);
int cli_alerts(int argc, char **argv);
int cli_silence(int argc, char **argv);
int cli_rules(int argc, char **argv);
int cli_status(int argc, char **argv);

#endif
