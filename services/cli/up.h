/*
 * cli/up: the local stack.
 *
 *   axon up [--config.dir=DIR] [--no-demo]
 *       Starts, from the example configs in DIR (default deploy/config),
 *       axon-discoverer, axon-tsdb, axon-alert-router, one axon-scraper
 *       per scraper URL (two by default), axon-ruler and the demo fleet
 *       (axon-demo), each listening where the CLI's URLs say (--tsdb.url
 *       and the others, their variables or the CLI config file), in the
 *       working directory so the configs' ipc:// endpoints and data land
 *       under ./data; logs go to data/logs/<name>.log, pages print on
 *       standard output.  Each daemon must answer /-/ready before the
 *       next starts.  A daemon that exits is restarted after a backoff
 *       (1 s, doubling up to 30 s; back to 1 s after a minute of
 *       running).  Ctrl-C (SIGINT) or SIGTERM stops them, the alerting
 *       path first so that the teardown pages nobody: ruler, alert
 *       router, demo, scrapers, tsdb, discoverer (SIGTERM, then SIGKILL
 *       after 20 s).  Children run in their
 *       own process groups (a terminal's Ctrl-C reaches axon up only) and
 *       get SIGTERM if axon up dies.
 *   axon demo ls                  the demo fleet: ports, states, errors
 *   axon demo break SERVICE       take a service down
 *   axon demo heal SERVICE        bring it back
 *
 * Exit codes: 0 after a clean stop, 1 when the stack could not start or
 * the demo is unreachable, 2 on bad usage.
 */
#ifndef AX_CLI_UP_H
#define AX_CLI_UP_H

int cli_up(int argc, char **argv);
int cli_demo(int argc, char **argv);

#endif
