/*
 * axon-alert-router: entry point.  The Axon alert router:
 * Alertmanager-compatible routing, grouping, inhibition and silences.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-alert-router.  See docs/architecture.md for its place in the system.
 */
#include "ax_daemon.h"
#include "ax_promyml.h"

static const ax_daemon_spec_t spec = {
    .name = "axon-alert-router",
    .component = "alert-router",
    .description = "The Axon alert router: Alertmanager-compatible routing, "
                   "grouping, inhibition and silences.",
    .default_config = "alertmanager.yml",
    .default_listen = "0.0.0.0:9093",
    .flags = NULL,
    .load_config = ax_promyml_daemon_load,
    .free_config = ax_promyml_daemon_free,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
