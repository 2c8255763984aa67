/*
 * axon: the command-line client of the Axon daemons.
 *
 * A plain HTTP client of the daemons' Prometheus- and Alertmanager-
 * compatible APIs (no gRPC).  Subcommands are dispatched from the table
 * below; each prints a table by default.
 */
#include <stdio.h>
#include <string.h>

#include "cli/check.h"
#include "cli/ops.h"
#include "cli/query.h"
#include "cli/routes.h"
#include "cli/slo.h"
#include "cli/tmpl.h"
#include "cli/up.h"

typedef struct cmd {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
} cmd_t;

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("axon, version %s (revision: %s)\n", AX_VERSION, AX_REVISION);
	return 0;
}

static const cmd_t cmds[] = {
    {"query", "Instant query: query EXPR [--time T].", cli_query},
    {"query-range",
        "Range query drawn as a chart: query-range EXPR [--start T] "
        "[--end T] [--step D].",
        cli_query_range},
    {"series", "Series matching selectors: series MATCHER...", cli_series},
    {"labels", "Label names, or one label's values: labels [NAME].",
        cli_labels},
    {"targets", "Scrape targets of every scraper, with their health.",
        cli_targets},
    {"alerts",
        "Firing and pending alerts with silence, inhibition and root "
        "cause.",
        cli_alerts},
    {"silence", "Silences: silence add|ls|expire.", cli_silence},
    {"rules", "The ruler's groups and rules, with their health.", cli_rules},
    {"status", "Every daemon: reachable or not, and its version.", cli_status},
    {"up",
        "Start the local stack and the demo fleet, supervised: up "
        "[--config.dir=DIR] [--no-demo].",
        cli_up},
    {"demo", "The demo fleet: demo ls | break SERVICE | heal SERVICE.",
        cli_demo},
    {"check",
        "Validate files offline: check metrics [--openmetrics] "
        "FILE; check config FILE (alertmanager.yml); check rules "
        "FILE (Prometheus rule files).",
        cli_check},
    {"routes",
        "The alert router's routing tree: routes [show] | routes "
        "test --config.file=F label=value...",
        cli_routes},
    {"slo",
        "SLOs as Prometheus rules: slo render FILE (multi-window, "
        "multi-burn-rate alerts).",
        cli_slo},
    {"template",
        "Render notification templates: template render "
        "--template.glob=G --template.text=T [--template.data=F]",
        cli_template},
    {"version", "Print the version and exit.", cmd_version},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	const cmd_t *c;

	fprintf(f,
	    "usage: axon [--help] [--version] <command> [<args>]\n\n"
	    "The Axon command-line client: talks HTTP to the Axon daemons.\n\n"
	    "Commands:\n");
	for (c = cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	fprintf(f,
	    "\nFlags:\n  -h, --help   Show this help and exit.\n"
	    "  --version    Show the version and exit.\n"
	    "\nCommands that talk to the daemons also take:\n"
	    "  -o json|table                 Output format (table).\n"
	    "  --tsdb.url=URL                (AXON_TSDB_URL; :9090)\n"
	    "  --scraper.url=URL[,URL...]    (AXON_SCRAPER_URL; :9091,:9095)\n"
	    "  --ruler.url=URL               (AXON_RULER_URL; :9094)\n"
	    "  --alert-router.url=URL        (AXON_ALERT_ROUTER_URL; :9093)\n"
	    "  --discoverer.url=URL          (AXON_DISCOVERER_URL; :9092)\n"
	    "  --demo.url=URL                (AXON_DEMO_URL; :9400)\n"
	    "  --config.file=FILE            (AXON_CONFIG; "
	    "~/.config/axon/cli.yml)\n");
}

int main(int argc, char **argv)
{
	const cmd_t *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	for (c = cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "axon: unknown command \"%s\" (see axon --help)\n",
	    argv[1]);
	return 2;
}
