/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * select: the matcher (see select.h): one pattern against one path, with rsync's PATTERN
 * MATCHING RULES, which rsync's users already know, and a rule list against a path. The
 * rules themselves are built in rules.c.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "select/select.h"

/*
 * --exclude follows rsync's PATTERN MATCHING RULES (rsync(1)), which its users already know;
 * the cases below are the ones its filter code distinguishes.
 */

/* What wild() found: the pattern matches, or not, or no later start in the text can match. */
enum wild_result { WILD_NO, WILD_MATCH, WILD_ABORT_ALL, WILD_ABORT_TO_STARSTAR };

/* A [:name:] class at P (just after "[:"); *LEN gets its length up to ":]". -1: none. */
static int wild_class(const char *p, unsigned char c, size_t *len)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} classes[] = {{"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank},
	               {"cntrl", iscntrl}, {"digit", isdigit}, {"graph", isgraph},
	               {"lower", islower}, {"print", isprint}, {"punct", ispunct},
	               {"space", isspace}, {"upper", isupper}, {"xdigit", isxdigit}};
	const char *end = strstr(p, ":]");
	if (end == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i].name) == (size_t)(end - p) &&
		    memcmp(classes[i].name, p, (size_t)(end - p)) == 0) {
			*len = (size_t)(end - p) + 2;
			return classes[i].is(c) != 0;
		}
	return -1;
}

/*
 * The bracket expression at *PP (just after '[') against character C: 1 in the set, 0 not,
 * -1 the set is not closed (rsync then matches nothing). *PP is left after the ']'.
 */
static int wild_set(const char **pp, unsigned char c)
{
	const unsigned char *p = (const unsigned char *)*pp;
	int negated = 0, in = 0;
	if (*p == '!' || *p == '^') {
		negated = 1;
		p++;
	}
	unsigned char prev = 0;
	/* A ']' right after "[" or "[!" is a member, not the end. */
	for (int first = 1; first || *p != ']'; first = 0, p++) {
		unsigned char ch = *p;
		if (ch == '\0')
			return -1;
		if (ch == '\\') {
			if ((ch = *++p) == '\0')
				return -1;
			in |= c == ch;
		} else if (ch == '-' && prev != 0 && p[1] != '\0' && p[1] != ']') {
			ch = *++p;
			if (ch == '\\' && (ch = *++p) == '\0')
				return -1;
			in |= c >= prev && c <= ch;
			ch = 0; /* a range ends: "a-c-e" is a range and two characters */
		} else if (ch == '[' && p[1] == ':') {
			size_t len;
			int is = wild_class((const char *)p + 2, c, &len);
			if (is >= 0) {
				in |= is;
				p += 1 + len;
				ch = 0;
			} else {
				in |= c == '[';
			}
		} else {
			in |= c == ch;
		}
		prev = ch;
	}
	*pp = (const char *)p + 1;
	return in != negated;
}

/* Match wildcard pattern P against all of text T ('*', '**', '?', "[...]", '\' escapes). */
static enum wild_result wild(const char *p, const char *t)
{
	for (; *p != '\0'; t++) {
		unsigned char c = (unsigned char)*t;
		if (c == '\0' && *p != '*')
			return WILD_ABORT_ALL;
		switch (*p) {
		case '?':
			if (c == '/')
				return WILD_NO;
			p++;
			break;
		case '[': {
			p++;
			int in = wild_set(&p, c);
			if (in < 0)
				return WILD_ABORT_ALL;
			if (!in || c == '/')
				return WILD_NO;
			break;
		}
		case '*': {
			int cross = p[1] == '*'; /* "**" also matches '/' */
			while (*p == '*')
				p++;
			if (*p == '\0')
				return cross || strchr(t, '/') == NULL ? WILD_MATCH : WILD_NO;
			for (;; t++) {
				if (*t == '\0')
					return WILD_ABORT_ALL;
				enum wild_result r = wild(p, t);
				if (r != WILD_NO && (!cross || r != WILD_ABORT_TO_STARSTAR))
					return r;
				/* A single '*' stops at '/': only an outer "**" can go on. */
				if (!cross && *t == '/')
					return WILD_ABORT_TO_STARSTAR;
			}
		}
		case '\\':
			p++; /* the next character stands for itself (a trailing '\' never matches)
			      */
			     /* fall through */
		default:
			if ((unsigned char)*p != c)
				return WILD_NO;
			p++;
			break;
		}
	}
	return *t == '\0' ? WILD_MATCH : WILD_NO;
}

/* Start of the last N components of PATH, or NULL when it has fewer. */
static const char *last_components(const char *path, size_t n)
{
	for (const char *s = path + strlen(path); s > path; s--)
		if (s[-1] == '/' && --n == 0)
			return s;
	return n == 1 ? path : NULL;
}

/* One rsync pattern against TEXT (the path, maybe with '/' added before or after it). */
static int match_text(const char *pat, int wildcards, int anchored, size_t slashes, int star2,
                      int star2_prefix, const char *text)
{
	if (!wildcards) {
		/* No wildcard: compared as it is ('\' too); unanchored it may be a path's end. */
		size_t lt = strlen(text), lp = strlen(pat);
		if (anchored)
			return strcmp(text, pat) == 0;
		return lp <= lt && strcmp(text + lt - lp, pat) == 0 &&
		       (lp == lt || text[lt - lp - 1] == '/');
	}
	if (!anchored && slashes > 0 && !star2) {
		/* A pattern with one slash must match the last two components exactly. */
		const char *t = last_components(text, slashes + 1);
		return t != NULL && wild(pat, t) == WILD_MATCH;
	}
	enum wild_result r = wild(pat, text);
	if (r == WILD_MATCH)
		return 1;
	if (anchored || star2_prefix || !star2 || r == WILD_ABORT_ALL)
		return 0;
	/* An unanchored pattern with "**" inside may start after any '/'. */
	for (const char *t = text; (t = strchr(t, '/')) != NULL;) {
		r = wild(pat, ++t);
		if (r == WILD_MATCH)
			return 1;
		if (r == WILD_ABORT_ALL)
			return 0;
	}
	return 0;
}

int select_match(const char *pattern, const char *rel, int is_dir)
{
	size_t len = strlen(pattern);
	if (len == 0 || rel[0] == '\0')
		return 0;
	int dir_only = len > 1 && pattern[len - 1] == '/';
	/* Without its trailing '/': a copy only then, on the stack when it fits (this runs for
	 * every entry and rule of a walk). */
	char buf[256], *pat = (char *)pattern;
	if (dir_only) {
		pat = len <= sizeof(buf) ? buf : malloc(len);
		if (pat == NULL)
			return 0;
		memcpy(pat, pattern, len - 1);
		pat[len - 1] = '\0';
	}
	const char *p = pat;
	int anchored = *p == '/';
	size_t slashes = 0;
	for (const char *s = pat; (s = strchr(s, '/')) != NULL; s++)
		slashes++;
	int wildcards = strpbrk(pat, "*?[") != NULL;
	const char *star2 = wildcards ? strstr(pat, "**") : NULL;
	int star2_prefix = star2 == pat;
	size_t plen = strlen(pat);
	int star3_suffix = star2 != NULL && plen >= 3 && strcmp(pat + plen - 3, "***") == 0;
	p += anchored;
	int m = 0;
	if (dir_only && !is_dir)
		goto out;
	const char *text = rel;
	if (slashes == 0 && star2 == NULL) {
		/* No '/' and no "**": only the last component counts. */
		const char *slash = strrchr(rel, '/');
		text = slash != NULL ? slash + 1 : rel;
	}
	/* Leading "**" may match at the start; "dir/" + "***" matches the directory dir too. */
	int before = star2_prefix, after = is_dir && star3_suffix;
	if (before || after) {
		size_t lr = strlen(text);
		char *t = malloc(lr + 3);
		if (t == NULL)
			goto out;
		t[0] = '/';
		memcpy(t + before, text, lr);
		memcpy(t + before + lr, "/", (size_t)after);
		t[before + lr + (size_t)after] = '\0';
		m = match_text(p, wildcards, anchored, slashes, star2 != NULL, star2_prefix, t);
		free(t);
	} else {
		m = match_text(p, wildcards, anchored, slashes, star2 != NULL, star2_prefix, text);
	}
out:
	if (pat != pattern && pat != buf)
		free(pat);
	return m;
}

/* The rules of LIST against FULL: 1 excluded, 0 included, -1 no rule matched. The k-th
 * dir-merge rule stands for the k-th lists of the stacked frames, deepest first. */
static int match_list(const struct select_rules *s, const struct select_list *list,
                      const char *full, int is_dir, size_t *merge)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct select_rule *rule = &list->v[i];
		if (rule->kind == SELECT_DIR_MERGE) {
			size_t k = (*merge)++;
			for (size_t f = s->nframes; f-- > 0;) {
				size_t none = 0; /* per-directory files hold no dir-merge rules */
				int m = match_list(s, &s->frames[f].lists[k], full, is_dir, &none);
				if (m >= 0)
					return m;
			}
			continue;
		}
		if (select_match(rule->pattern, full, is_dir) != rule->negate)
			return rule->kind == SELECT_EXCLUDE;
	}
	return -1;
}

int select_excluded(const struct select_rules *s, const char *prefix, const char *rel, int is_dir)
{
	if (s == NULL || s->top.n == 0)
		return 0;
	char buf[512], *full = (char *)rel;
	size_t lp = prefix != NULL ? strlen(prefix) : 0, lr = strlen(rel);
	if (lp > 0) {
		full = lp + lr < sizeof(buf) ? buf : malloc(lp + lr + 1);
		if (full == NULL)
			return 1; /* out of memory: leave it alone rather than copy or delete it */
		memcpy(full, prefix, lp);
		memcpy(full + lp, rel, lr + 1);
	}
	size_t merge = 0;
	int m = match_list(s, &s->top, full, is_dir, &merge);
	if (full != rel && full != buf)
		free(full);
	return m == 1;
}
