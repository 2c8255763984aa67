/*
 * axon-alert-router: entry point.  The Axon alert router:
 * Alertmanager-compatible routing, grouping, inhibition and silences.
 *
 * The daemon skeleton (flags, config reload, /metrics, health, signals)
 * is libcommon's ax_daemon; this file declares what is particular to
 * axon-alert-router.  Its configuration is an Alertmanager 0.25
 * alertmanager.yml (config.h); the routing tree is route.h.  See
 * docs/alert-router.md and docs/architecture.md.
 */
#include "alert-router/config.h"
#include "alert-router/route.h"
#include "ax_daemon.h"

/* Load and check the file, including that its routing tree builds. */
static int load_config(
    ax_daemon_t *d, const char *path, void **out, ax_err_t *err)
{
	ar_config_t *c;
	ar_route_t *root;
	int rv;

	(void)d;
	if ((rv = ar_config_load(path, 0, &c, err)) != 0)
		return rv;
	if ((rv = ar_route_build(c, &root, err)) != 0) {
		ar_config_free(c);
		return rv;
	}
	ar_route_free(root);
	*out = c;
	return 0;
}

static void free_config(void *c)
{
	ar_config_free(c);
}

static const ax_daemon_spec_t spec = {
    .name = "axon-alert-router",
    .component = "alert-router",
    .description = "The Axon alert router: Alertmanager-compatible routing, "
                   "grouping, inhibition and silences.",
    .default_config = "alertmanager.yml",
    .default_listen = "0.0.0.0:9093",
    .flags = NULL,
    .load_config = load_config,
    .free_config = free_config,
};

int main(int argc, char **argv)
{
	return ax_daemon_main(&spec, argc, argv);
}
