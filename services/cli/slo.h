/*
 * slo: `axon slo render FILE` -- print the Prometheus rule file for the
 * SLOs in FILE (ruler/slo.h): recording rules for the error ratio over
 * each window, the objective, the budget and the budget remaining, and
 * the multi-window, multi-burn-rate ErrorBudgetBurn alerts.  Exit 0, 1
 * when the file is bad (the reason with file:line:col on stderr), 2 on
 * usage errors.
 */
#ifndef CLI_SLO_H
#define CLI_SLO_H

int cli_slo(int argc, char **argv);

#endif
