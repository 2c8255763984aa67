/*
 * ar_route: the routing tree, built from the config's route section with
 * Alertmanager's inheritance, and matched as Alertmanager 0.25 matches it.
 *
 * A child takes its parent's receiver, group_by (with '...') and the
 * group_wait (30s), group_interval (5m) and repeat_interval (4h) timers
 * unless it sets its own; mute and active time intervals are the route's
 * own.  Matching (ar_route_match): a route whose matchers fail yields
 * nothing; otherwise its children are tried in order, the matches of each
 * collected, stopping after the first child that matched unless that
 * child has `continue: true`; a route none of whose children matched
 * yields itself.  The result is the ordered list of routes an alert is
 * dispatched to (amtool's `config routes test` prints their receivers).
 *
 * Printing follows amtool's `config routes show` and `routes test --tree`
 * output byte for byte (tree drawn with the treeprint characters).
 *
 * Ownership: the tree borrows the ar_config_t it was built from (matchers,
 * names); free the tree before the config.
 */
#ifndef AR_ROUTE_H
#define AR_ROUTE_H

#include <stdint.h>

#include "alert-router/config.h"
#include "ax_buf.h"

typedef struct ar_route ar_route_t;

struct ar_route {
	const ar_route_cfg_t *cfg; /* borrowed */
	ar_route_t *parent;
	ar_route_t *kids;
	size_t nkids;
	size_t idx; /* position among its siblings */
	const char *receiver;
	const ax_cfg_strings_t *group_by; /* labels ('...' excluded) */
	int group_by_all;
	int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
	const ax_amatchers_t *matchers;
	int continue_;
	char *key; /* parent key "/" matchers, Alertmanager's Route.Key() */
};

typedef struct ar_route_vec {
	const ar_route_t **v;
	size_t n, cap;
} ar_route_vec_t;

/* Build the tree.  OUT: *out, owned by the caller (ar_route_free). */
int ar_route_build(const ar_config_t *c, ar_route_t **out, ax_err_t *err);
void ar_route_free(ar_route_t *root);

/* Append the routes ls is dispatched to, in order.  AX_ENOMEM. */
int ar_route_match(
    const ar_route_t *root, const ax_labels_t *ls, ar_route_vec_t *out);
void ar_route_vec_fini(ar_route_vec_t *v);

/* The labels an alert with ls is grouped by under route r: all of them
 * with group_by '...', else those of group_by it has.  OUT: a new label
 * set owned by the caller; NULL when out of memory. */
ax_labels_t *ar_route_group_labels(const ar_route_t *r, const ax_labels_t *ls);

/* "Routing tree:\n.\n└── default-route  receiver: x\n..." as amtool. */
void ar_route_format_tree(const ar_route_t *root, ax_buf_t *b);
/* "Matching routes:\n.\n..." as `amtool config routes test --tree`. */
void ar_route_format_matching(
    const ar_route_t *root, const ax_labels_t *ls, ax_buf_t *b);

#endif
