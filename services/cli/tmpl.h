/*
 * tmpl: `axon template render` (see tmpl.c), Alertmanager's notification
 * templates rendered offline as amtool's `template render` does.
 */
#ifndef CLI_TMPL_H
#define CLI_TMPL_H

int cli_template(int argc, char **argv);

#endif
