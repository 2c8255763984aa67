/*
 * axon-ruler: entry point.  The Axon ruler: recording and alerting rules in
 * Prometheus' rule-file format.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-ruler.  See docs/architecture.md for its place in the system.
 */
#include "ax_daemon.h"
#include "ax_promyml.h"

static const ax_daemon_spec_t spec = {
    .name = "axon-ruler",
    .component = "ruler",
    .description = "The Axon ruler: recording and alerting rules in "
                   "Prometheus' rule-file format.",
    .default_config = "ruler.yml",
    .default_listen = "0.0.0.0:9094",
    .flags = NULL,
    .load_config = ax_promyml_daemon_load,
    .free_config = ax_promyml_daemon_free,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
