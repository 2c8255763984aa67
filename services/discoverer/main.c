/*
 * axon-discoverer: entry point.  The Axon discoverer: the live directory of
 * targets and service dependencies.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-discoverer.  See docs/architecture.md for its place in the system.
 */
#include "ax_daemon.h"
#include "ax_promyml.h"

static const ax_daemon_spec_t spec = {
    .name = "axon-discoverer",
    .component = "discoverer",
    .description = "The Axon discoverer: the live directory of targets and "
                   "service dependencies.",
    .default_config = "discoverer.yml",
    .default_listen = "0.0.0.0:9092",
    .flags = NULL,
    .load_config = ax_promyml_daemon_load,
    .free_config = ax_promyml_daemon_free,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
