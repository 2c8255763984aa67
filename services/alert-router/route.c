/*
 * ar_route: building, matching and printing the routing tree (route.h).
 */
#include "alert-router/route.h"

#include <stdlib.h>
#include <string.h>

#define DEF_GROUP_WAIT_MS (30 * 1000)
#define DEF_GROUP_INTERVAL_MS (5 * 60 * 1000)
#define DEF_REPEAT_INTERVAL_MS (4 * 60 * 60 * 1000)

static void route_fini(ar_route_t *r)
{
	size_t i;

	for (i = 0; i < r->nkids; i++)
		route_fini(&r->kids[i]);
	free(r->kids);
	free(r->key);
}

static int build(const ar_route_cfg_t *cfg, ar_route_t *parent, ar_route_t *r,
    size_t idx, ax_err_t *err)
{
	const ar_route_cfg_t *kids = cfg->routes.items;
	ax_buf_t key = AX_BUF_INIT;
	size_t i;
	int rv;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->parent = parent;
	r->idx = idx;
	r->matchers = &cfg->matchers;
	r->continue_ = cfg->continue_;
	if (parent) {
		r->receiver = parent->receiver;
		r->group_by = parent->group_by;
		r->group_by_all = parent->group_by_all;
		r->group_wait_ms = parent->group_wait_ms;
		r->group_interval_ms = parent->group_interval_ms;
		r->repeat_interval_ms = parent->repeat_interval_ms;
	} else {
		r->group_wait_ms = DEF_GROUP_WAIT_MS;
		r->group_interval_ms = DEF_GROUP_INTERVAL_MS;
		r->repeat_interval_ms = DEF_REPEAT_INTERVAL_MS;
	}
	if (cfg->receiver && *cfg->receiver)
		r->receiver = cfg->receiver;
	/* A list of labels replaces the parent's; '...' alone sets "all". */
	if (cfg->group_by.n > 0 && !cfg->group_by_all) {
		r->group_by = &cfg->group_by;
		r->group_by_all = 0;
	} else if (cfg->group_by_all)
		r->group_by_all = 1;
	if (cfg->group_wait_ms >= 0)
		r->group_wait_ms = cfg->group_wait_ms;
	if (cfg->group_interval_ms >= 0)
		r->group_interval_ms = cfg->group_interval_ms;
	if (cfg->repeat_interval_ms >= 0)
		r->repeat_interval_ms = cfg->repeat_interval_ms;
	if (parent) {
		ax_buf_puts(&key, parent->key);
		ax_buf_putc(&key, '/');
	}
	ax_amatchers_format(r->matchers, &key);
	if (!ax_buf_ok(&key)) {
		ax_buf_fini(&key);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	r->key = ax_buf_take(&key, NULL);
	if (cfg->routes.n == 0)
		return 0;
	r->kids = calloc(cfg->routes.n, sizeof(*r->kids));
	if (r->kids == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	for (i = 0; i < cfg->routes.n; i++) {
		r->nkids = i + 1;
		if ((rv = build(&kids[i], r, &r->kids[i], i, err)) != 0)
			return rv;
	}
	return 0;
}

int ar_route_build(const ar_config_t *c, ar_route_t **out, ax_err_t *err)
{
	ar_route_t *r = calloc(1, sizeof(*r));
	int rv;

	if (r == NULL)
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	if ((rv = build(&c->route, NULL, r, 0, err)) != 0) {
		route_fini(r);
		free(r);
		return rv;
	}
	*out = r;
	return 0;
}

void ar_route_free(ar_route_t *root)
{
	if (root == NULL)
		return;
	route_fini(root);
	free(root);
}

static int vec_push(ar_route_vec_t *v, const ar_route_t *r)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		const ar_route_t **nv = realloc(v->v, cap * sizeof(*nv));

		if (nv == NULL)
			return AX_ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = r;
	return 0;
}

void ar_route_vec_fini(ar_route_vec_t *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

int ar_route_match(
    const ar_route_t *r, const ax_labels_t *ls, ar_route_vec_t *out)
{
	size_t before = out->n, i;
	int rv;

	if (!ax_amatchers_match(r->matchers, ls))
		return 0;
	for (i = 0; i < r->nkids; i++) {
		size_t n0 = out->n;

		if ((rv = ar_route_match(&r->kids[i], ls, out)) != 0)
			return rv;
		if (out->n > n0 && !r->kids[i].continue_)
			break;
	}
	if (out->n == before)
		return vec_push(out, r);
	return 0;
}

/* ---- printing, as amtool (github.com/xlab/treeprint) ---- */

static void slug(
    const ar_route_t *r, int show_continue, int show_receiver, ax_buf_t *b)
{
	if (r->matchers->n == 0)
		ax_buf_puts(b, "default-route");
	else
		ax_amatchers_format(r->matchers, b);
	if (show_continue && r->continue_)
		ax_buf_puts(b, "  continue: true");
	if (show_receiver) {
		ax_buf_puts(b, "  receiver: ");
		ax_buf_puts(b, r->receiver ? r->receiver : "");
	}
}

/* Edges and indents: "├── ", "└── ", and under them "│\u00a0\u00a0 " or
 * four spaces. */
#define EDGE_MID "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80 "
#define EDGE_END "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 "
#define INDENT_LINK "\xe2\x94\x82\xc2\xa0\xc2\xa0 "
#define INDENT_SPACE "    "

static void line_prefix(ax_buf_t *b, const char *indent, int last)
{
	ax_buf_puts(b, indent);
	ax_buf_puts(b, last ? EDGE_END : EDGE_MID);
}

static void tree_rec(
    const ar_route_t *r, ax_buf_t *b, ax_buf_t *indent, int last)
{
	size_t i, mark = indent->len;

	line_prefix(b, indent->p ? indent->p : "", last);
	slug(r, 1, 1, b);
	ax_buf_putc(b, '\n');
	ax_buf_puts(indent, last ? INDENT_SPACE : INDENT_LINK);
	for (i = 0; i < r->nkids; i++)
		tree_rec(&r->kids[i], b, indent, i + 1 == r->nkids);
	indent->len = mark;
	if (indent->p)
		indent->p[mark] = '\0';
}

void ar_route_format_tree(const ar_route_t *root, ax_buf_t *b)
{
	ax_buf_t indent = AX_BUF_INIT;

	ax_buf_puts(b, "Routing tree:\n.\n");
	tree_rec(root, b, &indent, 1);
	ax_buf_puts(b, "\n");
	ax_buf_fini(&indent);
}

/* amtool's getMatchingTree: follow matching children (stopping after a
 * match without continue); a node with no matching child shows its
 * receiver. */
/* The children getMatchingTree follows: matching ones, up to and including
 * the first without continue.  Returns how many; *end is one past the
 * last child to consider. */
static size_t matching_kids(
    const ar_route_t *r, const ax_labels_t *ls, size_t *end)
{
	size_t i, n = 0;

	*end = r->nkids;
	for (i = 0; i < r->nkids; i++) {
		if (!ax_amatchers_match(r->kids[i].matchers, ls))
			continue;
		n++;
		if (!r->kids[i].continue_) {
			*end = i + 1;
			break;
		}
	}
	return n;
}

/* amtool's getMatchingTree: follow matching children (stopping after a
 * match without continue); a node with no matching child shows its
 * receiver. */
static void match_rec(const ar_route_t *r, const ax_labels_t *ls, ax_buf_t *b,
    ax_buf_t *indent, int last)
{
	size_t i, end, k = 0, mark = indent->len;
	size_t n = matching_kids(r, ls, &end);

	line_prefix(b, indent->p ? indent->p : "", last);
	slug(r, 0, n == 0, b);
	ax_buf_putc(b, '\n');
	ax_buf_puts(indent, last ? INDENT_SPACE : INDENT_LINK);
	for (i = 0; i < end; i++) {
		if (!ax_amatchers_match(r->kids[i].matchers, ls))
			continue;
		k++;
		match_rec(&r->kids[i], ls, b, indent, k == n);
	}
	indent->len = mark;
	if (indent->p)
		indent->p[mark] = '\0';
}

void ar_route_format_matching(
    const ar_route_t *root, const ax_labels_t *ls, ax_buf_t *b)
{
	ax_buf_t indent = AX_BUF_INIT;

	ax_buf_puts(b, "Matching routes:\n.\n");
	if (ax_amatchers_match(root->matchers, ls))
		match_rec(root, ls, b, &indent, 1);
	ax_buf_puts(b, "\n\n");
	ax_buf_fini(&indent);
}

ax_labels_t *ar_route_group_labels(const ar_route_t *r, const ax_labels_t *ls)
{
	ax_label_t *pairs;
	size_t n = 0, i;
	ax_labels_t *out = NULL;
	ax_err_t err;

	if (r->group_by_all)
		return ax_labels_dup(ls);
	pairs = calloc(
	    r->group_by && r->group_by->n ? r->group_by->n : 1, sizeof(*pairs));
	if (pairs == NULL)
		return NULL;
	for (i = 0; r->group_by && i < r->group_by->n; i++) {
		const char *v = ax_labels_get(ls, r->group_by->v[i]);

		if (v) {
			pairs[n].name = r->group_by->v[i];
			pairs[n].value = v;
			n++;
		}
	}
	if (ax_labels_new(pairs, n, &out, &err) != 0)
		out = NULL;
	free(pairs);
	return out;
}
