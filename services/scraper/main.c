/*
 * axon-scraper: entry point.  The Axon scraper: pulls /metrics from targets and
 * ships samples to the tsdb.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-scraper.  See docs/architecture.md for its place in the system.
 */
#include "ax_daemon.h"
#include "ax_promyml.h"

static const ax_daemon_spec_t spec = {
    .name = "axon-scraper",
    .component = "scraper",
    .description = "The Axon scraper: pulls /metrics from targets and ships "
                   "samples to the tsdb.",
    .default_config = "scraper.yml",
    .default_listen = "0.0.0.0:9091",
    .flags = NULL,
    .load_config = ax_promyml_daemon_load,
    .free_config = ax_promyml_daemon_free,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
