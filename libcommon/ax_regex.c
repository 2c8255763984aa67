/*
 * ax_regex: RE2-compatible anchored regexes on PCRE2 (see ax_regex.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ax_regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 10000

struct ax_regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
	char *pattern;
	int literal;
	int search; /* unanchored (ax_regex_compile_search) */
	uint32_t n_groups;
};

/* One match block per thread, freed when the thread exits (a thread-local
 * pointer alone would leak one block per finished thread, e.g. a scrape
 * loop replaced by a reload). */
static _Thread_local pcre2_match_data *tl_md;
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *p)
{
	pcre2_match_data_free(p);
}

static void md_key_init(void)
{
	pthread_key_create(&md_key, md_free);
}

static pcre2_match_data *get_md(void)
{
	if (tl_md == NULL) {
		pthread_once(&md_once, md_key_init);
		tl_md = pcre2_match_data_create(AX_REGEX_MAX_GROUPS + 1, NULL);
		if (tl_md)
			pthread_setspecific(md_key, tl_md);
	}
	return tl_md;
}

/* Reject what RE2 (Go's regexp/syntax) does not accept. */
static int check_re2_syntax(const char *p, ax_err_t *err)
{
	size_t i, n = strlen(p);
	int in_class = 0;

#define BAD(what, at)                                                          \
	return ax_err_set(err, AX_EINVAL,                                      \
	    "error parsing regexp: invalid or unsupported Perl syntax: "       \
	    "`%.*s` (%s is not RE2 syntax)",                                   \
	    (int)((n - (at)) < 4 ? (n - (at)) : 4), p + (at), what)

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\\') {
			char d;

			if (i + 1 >= n)
				return ax_err_set(err, AX_EINVAL,
				    "error parsing regexp: trailing backslash "
				    "at end of expression");
			d = p[i + 1];
			if (d == 'Q') { /* \Q...\E literal text */
				const char *e = strstr(p + i + 2, "\\E");

				i = e ? (size_t)(e - p) + 1 : n;
				continue;
			}
			if (!in_class && d >= '1' && d <= '9')
				BAD("a backreference", i);
			if (strchr("gkKRXhHVGZNoucE", d) &&
			    !(in_class && d == 'E'))
				BAD("this escape", i);
			i++;
			continue;
		}
		if (in_class) {
			if (c == ']' && in_class > 1)
				in_class = 0;
			else if (c == '[' && i + 1 < n && p[i + 1] == ':') {
				const char *e = strstr(p + i + 2, ":]");

				if (e)
					i = (size_t)(e - p) + 1;
			}
			if (in_class)
				in_class++;
			continue;
		}
		if (c == '[') {
			in_class = 1;
			if (i + 1 < n && p[i + 1] == '^')
				i++;
			/* a ']' right after '[' or '[^' is literal */
			if (i + 1 < n && p[i + 1] == ']') {
				i++;
			}
			in_class = 2;
			continue;
		}
		if (c == '(' && i + 1 < n && p[i + 1] == '?') {
			size_t j = i + 2;

			if (j < n && p[j] == 'P' && j + 1 < n &&
			    p[j + 1] == '<')
				continue; /* (?P<name>re): RE2 has it */
			if (j < n && p[j] == ':')
				continue;
			/* flags: (?flags) or (?flags:re), RE2 knows i m s U */
			while (j < n && strchr("imsU-", p[j]))
				j++;
			if (j > i + 2 && j < n && (p[j] == ')' || p[j] == ':'))
				continue;
			if (j < n && (p[j] == '=' || p[j] == '!'))
				BAD("a lookahead", i);
			if (j < n && p[j] == '<')
				BAD(j + 1 < n &&
				            (p[j + 1] == '=' || p[j + 1] == '!')
				        ? "a lookbehind"
				        : "this group syntax",
				    i);
			if (j < n && p[j] == '>')
				BAD("an atomic group", i);
			BAD("this group syntax", i);
		}
		if ((c == '*' || c == '+' || c == '?' || c == '}') &&
		    i + 1 < n && p[i + 1] == '+') {
			/* x*+ x++ x?+ x{n}+ are possessive in PCRE, errors in
			 * RE2 */
			if (c != '}' || (i > 0))
				return ax_err_set(err, AX_EINVAL,
				    "error parsing regexp: invalid nested "
				    "repetition operator: `%c+`",
				    c);
		}
		if (c == '{') {
			/* RE2 limits repeat counts to 1000 */
			char *end;
			long a = strtol(p + i + 1, &end, 10);

			if (end != p + i + 1) {
				long b = a;

				if (*end == ',') {
					char *e2;

					b = strtol(end + 1, &e2, 10);
					if (e2 == end + 1)
						b = a;
					end = e2;
				}
				if (*end == '}' && (a > 1000 || b > 1000))
					return ax_err_set(err, AX_EINVAL,
					    "error parsing regexp: invalid "
					    "repeat count: `%.*s`",
					    (int)(end - (p + i) + 1), p + i);
			}
		}
	}
	return 0;
#undef BAD
}

static int is_literal(const char *p)
{
	for (; *p; p++)
		if (strchr("\\.+*?()|[]{}^$", *p))
			return 0;
	return 1;
}

static int compile(
    const char *pattern, int search, ax_regex_t **out, ax_err_t *err)
{
	ax_regex_t *re;
	int ec, rv;
	PCRE2_SIZE eoff;
	char *wrapped;
	size_t plen = strlen(pattern);

	if ((rv = check_re2_syntax(pattern, err)) != 0)
		return rv;
	re = calloc(1, sizeof(*re));
	wrapped = malloc(plen + 8);
	if (re == NULL || wrapped == NULL) {
		free(re);
		free(wrapped);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	memcpy(wrapped, "(?:", 3);
	memcpy(wrapped + 3, pattern, plen);
	memcpy(wrapped + 3 + plen, ")", 2);
	re->code = pcre2_compile((PCRE2_SPTR)wrapped, PCRE2_ZERO_TERMINATED,
	    (search ? 0 : PCRE2_ANCHORED | PCRE2_ENDANCHORED) | PCRE2_UTF |
	        PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF,
	    &ec, &eoff, NULL);
	free(wrapped);
	if (re->code == NULL) {
		PCRE2_UCHAR buf[256];

		pcre2_get_error_message(ec, buf, sizeof(buf));
		free(re);
		return ax_err_set(err, AX_EINVAL,
		    "error parsing regexp: %s at offset %zu of `%s`",
		    (char *)buf, eoff >= 3 ? (size_t)eoff - 3 : 0, pattern);
	}
	pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* best effort */
	re->mctx = pcre2_match_context_create(NULL);
	re->pattern = strdup(pattern);
	if (re->mctx == NULL || re->pattern == NULL) {
		ax_regex_free(re);
		return ax_err_set(err, AX_ENOMEM, "out of memory");
	}
	pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, DEPTH_LIMIT);
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->n_groups);
	if (re->n_groups > AX_REGEX_MAX_GROUPS) {
		ax_regex_free(re);
		return ax_err_set(err, AX_EINVAL,
		    "error parsing regexp: more than %d capture groups in `%s`",
		    AX_REGEX_MAX_GROUPS, pattern);
	}
	re->literal = !search && is_literal(pattern);
	re->search = search;
	*out = re;
	return 0;
}

int ax_regex_compile(const char *pattern, ax_regex_t **out, ax_err_t *err)
{
	return compile(pattern, 0, out, err);
}

int ax_regex_compile_search(
    const char *pattern, ax_regex_t **out, ax_err_t *err)
{
	return compile(pattern, 1, out, err);
}

void ax_regex_free(ax_regex_t *re)
{
	if (re == NULL)
		return;
	pcre2_code_free(re->code);
	pcre2_match_context_free(re->mctx);
	free(re->pattern);
	free(re);
}

const char *ax_regex_pattern(const ax_regex_t *re)
{
	return re->pattern;
}

int ax_regex_is_literal(const ax_regex_t *re)
{
	return re->literal;
}

static int do_match(
    const ax_regex_t *re, const char *s, size_t n, pcre2_match_data *md)
{
	int rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, re->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		return AX_ELIMIT;
	if (rc == PCRE2_ERROR_NOMEMORY)
		return AX_ENOMEM;
	return 0; /* e.g. invalid UTF in subject: never matches */
}

int ax_regex_match(const ax_regex_t *re, const char *s, size_t n)
{
	pcre2_match_data *md;

	if (re->literal)
		return strlen(re->pattern) == n &&
		    memcmp(re->pattern, s, n) == 0;
	md = get_md();
	if (md == NULL)
		return AX_ENOMEM;
	return do_match(re, s, n, md);
}

static int group_by_name(const ax_regex_t *re, const char *name, size_t len)
{
	char tmp[128];
	int num;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	num = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)tmp);
	return num > 0 ? num : -1;
}

/* Append template t expanded with the groups in ov over s. */
static void expand_at(const ax_regex_t *re, const char *s, const PCRE2_SIZE *ov,
    const char *t, ax_buf_t *out)
{
	while (*t) {
		const char *name;
		size_t nlen;
		int g = -1;

		if (*t != '$') {
			ax_buf_putc(out, *t++);
			continue;
		}
		t++;
		if (*t == '$') {
			ax_buf_putc(out, '$');
			t++;
			continue;
		}
		if (*t == '{') {
			const char *e = strchr(t + 1, '}');

			if (e == NULL || e == t + 1) {
				ax_buf_putc(out, '$'); /* not a reference */
				continue;
			}
			name = t + 1;
			nlen = (size_t)(e - name);
			for (size_t k = 0; k < nlen; k++) {
				char c = name[k];

				if (!((c >= 'a' && c <= 'z') ||
				        (c >= 'A' && c <= 'Z') ||
				        (c >= '0' && c <= '9') || c == '_')) {
					nlen = 0;
					break;
				}
			}
			if (nlen == 0) {
				ax_buf_putc(out, '$');
				continue;
			}
			t = e + 1;
		} else {
			name = t;
			while ((*t >= 'a' && *t <= 'z') ||
			    (*t >= 'A' && *t <= 'Z') ||
			    (*t >= '0' && *t <= '9') || *t == '_')
				t++;
			nlen = (size_t)(t - name);
			if (nlen == 0) {
				ax_buf_putc(out, '$');
				continue;
			}
		}
		/* numeric? */
		{
			size_t k;
			long num = 0;

			for (k = 0;
			     k < nlen && name[k] >= '0' && name[k] <= '9'; k++)
				num = num * 10 + (name[k] - '0');
			if (k == nlen)
				g = num <= (long)re->n_groups ? (int)num : -1;
			else
				g = group_by_name(re, name, nlen);
		}
		if (g >= 0 && ov[2 * g] != PCRE2_UNSET)
			ax_buf_append(
			    out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
}

int ax_regex_expand(
    const ax_regex_t *re, const char *s, size_t n, const char *t, ax_buf_t *out)
{
	pcre2_match_data *md = get_md();
	int rv;

	if (md == NULL)
		return AX_ENOMEM;
	if ((rv = do_match(re, s, n, md)) != 1)
		return rv;
	expand_at(re, s, pcre2_get_ovector_pointer(md), t, out);
	return ax_buf_ok(out) ? 1 : AX_ENOMEM;
}

int ax_regex_replace_all(
    const ax_regex_t *re, const char *s, size_t n, const char *t, ax_buf_t *out)
{
	pcre2_match_data *md = get_md();
	PCRE2_SIZE *ov, search = 0, last_end = 0;
	int rc;

	if (md == NULL)
		return AX_ENOMEM;
	ov = pcre2_get_ovector_pointer(md);
	/* Go's Regexp.replaceAll, step for step */
	while (search <= n) {
		size_t width = 0;

		rc = pcre2_match(
		    re->code, (PCRE2_SPTR)s, n, search, 0, md, re->mctx);
		if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_BADUTFOFFSET)
			break;
		if (rc < 0)
			return rc == PCRE2_ERROR_NOMEMORY ? AX_ENOMEM
			                                  : AX_ELIMIT;
		if (ov[0] > last_end)
			ax_buf_append(out, s + last_end, ov[0] - last_end);
		/* no replacement for an empty match right after a match */
		if (ov[1] > last_end || ov[0] == 0)
			expand_at(re, s, ov, t, out);
		last_end = ov[1];
		if (search < n) {
			width = 1;
			while (search + width < n &&
			    ((unsigned char)s[search + width] & 0xc0) == 0x80)
				width++;
		}
		if (search + width > ov[1])
			search += width;
		else if (search + 1 > ov[1])
			search++;
		else
			search = ov[1];
	}
	if (last_end < n)
		ax_buf_append(out, s + last_end, n - last_end);
	return ax_buf_ok(out) ? 0 : AX_ENOMEM;
}
