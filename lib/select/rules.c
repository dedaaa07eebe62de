/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * select/rules: the rule list (see select.h): rsync's filter rule syntax, filter files,
 * the per-directory rules of dir-merge and the size limits. select.c matches.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "select/select.h"

/* How deep "merge" files may name further merge files (a loop ends here). */
#define MERGE_DEPTH_MAX 16

/* What one rule's text says. */
struct parsed {
	enum { PARSED_RULE, PARSED_MERGE, PARSED_CLEAR } what;
	enum select_kind kind; /* PARSED_RULE */
	int negate;
	const char *arg; /* the pattern or the file name */
};

/* Keep a one-line message on S; returns -1 with errno ERR. */
static int fail(struct select_rules *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct select_rules *s, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

static int bad_rule(struct select_rules *s, const char *text)
{
	return fail(s, EINVAL, "bad filter rule '%s'", text);
}

void select_init(struct select_rules *s)
{
	memset(s, 0, sizeof(*s));
	s->max_size = -1;
}

static void list_free(struct select_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].pattern);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Append a rule with a copy of PATTERN. Returns 0 or -1 (ENOMEM). */
static int list_push(struct select_list *l, enum select_kind kind, int negate, const char *pattern)
{
	char *copy = strdup(pattern);
	if (copy == NULL || array_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0) {
		free(copy);
		return -1;
	}
	l->v[l->n++] = (struct select_rule){kind, copy, negate};
	return 0;
}

static void frame_pop(struct select_rules *s)
{
	struct select_frame *f = &s->frames[--s->nframes];
	for (size_t k = 0; k < s->nmerge; k++)
		list_free(&f->lists[k]);
	free(f->lists);
	free(f->dir);
}

void select_free(struct select_rules *s)
{
	while (s->nframes > 0)
		frame_pop(s);
	free(s->frames);
	list_free(&s->top);
	select_init(s);
}

const char *select_error(const struct select_rules *s)
{
	return s->err;
}

/* A --filter rule: its name (long or short) and modifiers, then ' ' or '_' and the rest. */
static int parse_filter(const char *text, struct parsed *p)
{
	static const struct {
		const char *name;
		char letter;
	} names[] = {
	    {"exclude", '-'}, {"include", '+'}, {"merge", '.'}, {"dir-merge", ':'}, {"clear", '!'}};
	const char *s = text, *mods = NULL;
	char letter = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && letter == 0; i++) {
		size_t len = strlen(names[i].name);
		if (strncmp(s, names[i].name, len) == 0 && strchr(" _,", s[len]) != NULL) {
			letter = names[i].letter;
			s += len;
			if (*s == ',')
				mods = ++s;
		}
	}
	if (letter == 0 && *s != '\0' && strchr("-+.:!", *s) != NULL) {
		letter = *s++;
		mods = s;
	}
	if (letter == 0)
		return -1;
	p->negate = 0;
	for (; mods != NULL && *s != '\0' && *s != ' ' && *s != '_'; s++) {
		if (*s != '!' || (letter != '-' && letter != '+') || p->negate)
			return -1; /* the one modifier taken: "-!" / "+!" */
		p->negate = 1;
	}
	if (letter == '!') {
		p->what = PARSED_CLEAR;
		return *s == '\0' ? 0 : -1;
	}
	if (*s == '\0' || s[1] == '\0')
		return -1; /* no pattern */
	p->arg = s + 1;
	p->what = letter == '.' ? PARSED_MERGE : PARSED_RULE;
	p->kind = letter == '-'   ? SELECT_EXCLUDE
	          : letter == '+' ? SELECT_INCLUDE
	                          : SELECT_DIR_MERGE;
	return 0;
}

/* TEXT read with SYNTAX into P. Returns 0, or -1 when it is no rule. */
static int parse(const char *text, enum select_syntax syntax, struct parsed *p)
{
	if (syntax == SELECT_FILTER)
		return parse_filter(text, p);
	/* --exclude / --include: "- " and "+ " say which, "!" clears, as for rsync. */
	p->what = PARSED_RULE;
	p->negate = 0;
	p->kind = syntax == SELECT_AS_EXCLUDE ? SELECT_EXCLUDE : SELECT_INCLUDE;
	p->arg = text;
	if ((text[0] == '-' || text[0] == '+') && text[1] == ' ') {
		p->kind = text[0] == '-' ? SELECT_EXCLUDE : SELECT_INCLUDE;
		p->arg = text + 2;
	} else if (strcmp(text, "!") == 0) {
		p->what = PARSED_CLEAR;
	}
	return 0;
}

/* The dir-merge file name NAME, checked: a plain name (a leading '/', the transfer root, is
 * where the walk starts anyway). NULL when it is not one. */
static const char *merge_name(const char *name)
{
	if (name[0] == '/')
		name++;
	if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return NULL;
	return name;
}

/* The whole of file descriptor FD into a NUL-terminated *BUF. Returns 0 or -1 with errno. */
static int read_all(int fd, char **buf)
{
	size_t len = 0, cap = 0;
	*buf = NULL;
	for (;;) {
		if (array_grow(buf, &cap, len + 4096, 1) != 0)
			break;
		ssize_t n = read(fd, *buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			(*buf)[len] = '\0';
			return 0;
		}
		len += (size_t)n;
	}
	int err = errno;
	free(*buf);
	*buf = NULL;
	errno = err;
	return -1;
}

static int add_rule(struct select_rules *s, const char *text, enum select_syntax syntax, int depth);

/*
 * The lines of file NAME (opened at ATFD; "-" from standard input when STDIN_OK) into LINE
 * calls: blank ones and comments (';', '#') skipped, '\r' ends a line too, as rsync reads
 * them. Returns 0, 1 when it does not exist and MISSING_OK, or -1 (the message kept).
 */
static int each_line(struct select_rules *s, int atfd, const char *name, const char *shown,
                     int missing_ok, int (*line)(struct select_rules *, char *, void *), void *ctx)
{
	int fd = strcmp(name, "-") == 0 && atfd == AT_FDCWD
	             ? STDIN_FILENO
	             : openat(atfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && missing_ok)
		return 1;
	char *buf;
	if (fd < 0 || read_all(fd, &buf) != 0) {
		int err = errno;
		if (fd > STDIN_FILENO)
			close(fd);
		return fail(s, err, "%s: %s", shown, strerror(err));
	}
	if (fd != STDIN_FILENO)
		close(fd);
	int rc = 0;
	for (char *p = buf, *end; rc == 0 && *p != '\0'; p = end) {
		end = p + strcspn(p, "\r\n");
		if (*end != '\0')
			*end++ = '\0';
		if (*p != '\0' && *p != ';' && *p != '#')
			rc = line(s, p, ctx);
	}
	free(buf);
	return rc;
}

/* How the lines of one file are read. */
struct file_ctx {
	enum select_syntax syntax;
	int depth;
};

static int file_line(struct select_rules *s, char *text, void *ctx)
{
	const struct file_ctx *f = ctx;
	return add_rule(s, text, f->syntax, f->depth);
}

static int add_file(struct select_rules *s, const char *file, enum select_syntax syntax, int depth)
{
	if (depth > MERGE_DEPTH_MAX)
		return fail(s, ELOOP, "%s: merge files nested too deep", file);
	struct file_ctx f = {syntax, depth};
	return each_line(s, AT_FDCWD, file, file, 0, file_line, &f);
}

static int add_rule(struct select_rules *s, const char *text, enum select_syntax syntax, int depth)
{
	struct parsed p;
	if (parse(text, syntax, &p) != 0)
		return bad_rule(s, text);
	if (p.what == PARSED_CLEAR) {
		list_free(&s->top); /* before any walk: no frames yet */
		s->nmerge = 0;
		return 0;
	}
	if (p.what == PARSED_MERGE)
		return add_file(s, p.arg, SELECT_FILTER, depth + 1);
	const char *arg = p.arg;
	if (p.kind == SELECT_DIR_MERGE && (arg = merge_name(p.arg)) == NULL)
		return fail(s, EINVAL, "bad filter rule '%s': a dir-merge file is a plain name",
		            text);
	if (list_push(&s->top, p.kind, p.negate, arg) != 0)
		return fail(s, ENOMEM, "out of memory");
	s->nmerge += p.kind == SELECT_DIR_MERGE;
	return 0;
}

int select_add(struct select_rules *s, const char *text, enum select_syntax syntax)
{
	return add_rule(s, text, syntax, 0);
}

int select_add_file(struct select_rules *s, const char *file, enum select_syntax syntax)
{
	return add_file(s, file, syntax, 0);
}

/* ---- sizes ------------------------------------------------------------------------------ */

int select_parse_size(const char *text, int64_t *bytes)
{
	const char *p = text;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++) {
		}
	if (p == text || (p == text + 1 && *text == '.'))
		goto bad;
	char unit = *p != '\0' && *p != '+' && *p != '-' ? *p++ : 'b';
	const char *units = "bkmgtp", *u = strchr(units, tolower((unsigned char)unit));
	if (unit == '\0' || u == NULL)
		goto bad;
	double mult;
	if (*p == 'b' || *p == 'B')
		mult = 1000, p++;
	else if (*p == '\0' || *p == '+' || *p == '-')
		mult = 1024;
	else if (strncasecmp(p, "ib", 2) == 0)
		mult = 1024, p += 2;
	else
		goto bad;
	double size = strtod(text, NULL);
	for (const char *r = units; r < u; r++)
		size *= mult;
	if (size >= 9.2e18)
		goto bad;
	int64_t v = (int64_t)size;
	if ((*p == '+' || *p == '-') && p[1] == '1') {
		v += *p == '+' ? 1 : -1;
		p += 2;
	}
	if (*p != '\0' || v < 0)
		goto bad;
	*bytes = v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int select_set_size(struct select_rules *s, int max, const char *text)
{
	int64_t v;
	if (select_parse_size(text, &v) != 0)
		return fail(s, EINVAL, "--%s=%s is invalid", max ? "max-size" : "min-size", text);
	if (max)
		s->max_size = v;
	else
		s->min_size = v;
	return 0;
}

int select_size_skipped(const struct select_rules *s, mode_t mode, int64_t size)
{
	return s != NULL && S_ISREG(mode) &&
	       ((s->max_size >= 0 && size > s->max_size) || size < s->min_size);
}

int select_any(const struct select_rules *s)
{
	return s != NULL && (s->top.n > 0 || s->max_size >= 0 || s->min_size > 0);
}

int select_has_dir_merge(const struct select_rules *s)
{
	return s != NULL && s->nmerge > 0;
}

/* ---- dir-merge: the walk's stack of per-directory rules ---------------------------------- */

/* 1 when directory A (transfer path, "" the root) is a strict ancestor of directory P. */
static int is_ancestor(const char *a, const char *p)
{
	size_t la = strlen(a);
	if (la == 0)
		return p[0] != '\0';
	return strncmp(p, a, la) == 0 && p[la] == '/';
}

/* Where one directory's dir-merge file goes. */
struct dir_ctx {
	struct select_list *list;
	const char *dir;   /* the directory's transfer path ("" the root) */
	const char *shown; /* the file's transfer path, for messages */
};

/* One rule of a per-directory file: a leading '/' anchors at the file's directory. */
static int dir_line(struct select_rules *s, char *text, void *ctx)
{
	const struct dir_ctx *d = ctx;
	struct parsed p;
	if (parse_filter(text, &p) != 0)
		return fail(s, EINVAL, "%s: bad filter rule '%s'", d->shown, text);
	if (p.what != PARSED_RULE || p.kind == SELECT_DIR_MERGE)
		return fail(s, EINVAL,
		            "%s: bad filter rule '%s': merge, dir-merge and clear rules are not "
		            "supported in a per-directory file",
		            d->shown, text);
	char *anchored = NULL;
	if (p.arg[0] == '/' && d->dir[0] != '\0') {
		size_t len = strlen(d->dir) + strlen(p.arg) + 2;
		if ((anchored = malloc(len)) != NULL)
			snprintf(anchored, len, "/%s%s", d->dir, p.arg);
	}
	int rc = p.arg[0] == '/' && d->dir[0] != '\0' && anchored == NULL
	             ? -1
	             : list_push(d->list, p.kind, p.negate, anchored ? anchored : p.arg);
	free(anchored);
	return rc == 0 ? 0 : fail(s, ENOMEM, "out of memory");
}

/* PREFIX + DIR as a transfer path without a trailing '/'; NULL when out of memory. */
static char *dir_path(const char *prefix, const char *dir)
{
	size_t lp = prefix != NULL ? strlen(prefix) : 0;
	if (strcmp(dir, ".") == 0)
		dir = "";
	size_t ld = strlen(dir);
	char *p = malloc(lp + ld + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, prefix != NULL ? prefix : "", lp);
	memcpy(p + lp, dir, ld + 1);
	size_t l = lp + ld;
	while (l > 0 && p[l - 1] == '/')
		p[--l] = '\0';
	return p;
}

/* Read the dir-merge files of directory DIR (at ATFD) into frame F. Returns 0 or -1. */
static int read_frame(struct select_rules *s, int atfd, const char *dir, struct select_frame *f)
{
	size_t k = 0;
	for (size_t i = 0; i < s->top.n; i++) {
		const char *name = s->top.v[i].pattern;
		if (s->top.v[i].kind != SELECT_DIR_MERGE)
			continue;
		size_t ld = strlen(dir), ln = strlen(name), lf = strlen(f->dir);
		char *at = malloc(ld + ln + 2), *shown = malloc(lf + ln + 2);
		int rc = -1;
		if (at != NULL && shown != NULL) {
			snprintf(at, ld + ln + 2, "%s/%s", dir, name);
			snprintf(shown, lf + ln + 2, "%s%s%s", f->dir, lf ? "/" : "", name);
			struct dir_ctx d = {&f->lists[k], f->dir, shown};
			rc = each_line(s, atfd, strcmp(dir, ".") == 0 ? name : at, shown, 1,
			               dir_line, &d);
		} else {
			fail(s, ENOMEM, "out of memory");
		}
		free(at);
		free(shown);
		if (rc < 0)
			return -1;
		k++;
	}
	return 0;
}

int select_enter_dir(struct select_rules *s, int atfd, const char *dir, const char *prefix)
{
	if (s == NULL || s->nmerge == 0)
		return 0;
	char *path = dir_path(prefix, dir);
	if (path == NULL)
		return fail(s, ENOMEM, "out of memory");
	while (s->nframes > 0 && !is_ancestor(s->frames[s->nframes - 1].dir, path))
		frame_pop(s);
	if (array_grow(&s->frames, &s->frames_cap, s->nframes + 1, sizeof(*s->frames)) != 0) {
		free(path);
		return fail(s, ENOMEM, "out of memory");
	}
	struct select_frame *f = &s->frames[s->nframes];
	f->dir = path;
	f->lists = calloc(s->nmerge, sizeof(*f->lists));
	s->nframes++; /* frame_pop() takes it back on a failure */
	if (f->lists == NULL) {
		s->nframes--;
		free(path);
		return fail(s, ENOMEM, "out of memory");
	}
	if (read_frame(s, atfd, dir, f) != 0) {
		int err = errno;
		frame_pop(s);
		errno = err;
		return -1;
	}
	return 0;
}

void select_leave_dir(struct select_rules *s)
{
	if (s != NULL && s->nframes > 0)
		frame_pop(s);
}
