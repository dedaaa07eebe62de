/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * select/fromlist: --files-from's names (see fromlist.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "select/fromlist.h"

void select_from_init(struct select_from *l)
{
	memset(l, 0, sizeof(*l));
}

void select_from_free(struct select_from *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void select_from_clean(const char *name, char *out, int *contents)
{
	size_t len = 0;
	size_t nlen = strlen(name);
	const char *p = name;
	*contents = nlen > 0 && name[nlen - 1] == '/';
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			if (p[1] == '\0')
				*contents = 1; /* "." or "dir/." */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* Up one, or nothing at the top (a leading ".." is dropped). */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			if (p[2 + strspn(p + 2, "/")] == '\0')
				*contents = 1; /* "dir/sub/..": rsync reads it as "dir/" */
		} else if (n > 0) {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[len] = '\0';
	if (len == 0)
		*contents = 1; /* the root: "." */
}

/*
 * 1 when rsync sends the transfer root for NAME as well. rsync cleans a name (empty
 * components dropped, ".." removing the one before it, "." kept), splits it at its first
 * "/./" (what follows is the name), and sends "." first when that name starts with "./" and
 * goes on: "./a", "/./a", ".//a", "./nonexistent", but not "././a" nor "a/../b". OUT: scratch
 * of strlen(NAME) + 2 bytes.
 */
static int sends_dot(const char *name, char *out)
{
	size_t len = 0;
	for (const char *p = name; *p != '\0';) {
		if (*p == '/') {
			p++;
			continue;
		}
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
			p += 2;
			if (len > 0)
				len--; /* at the '/' ending the component before */
			while (len > 0 && out[len - 1] != '/')
				len--;
			continue;
		}
		while (*p != '\0' && (out[len++] = *p++) != '/') {
		}
	}
	out[len] = '\0';
	const char *fn = strstr(out, "/./");
	fn = fn != NULL ? fn + 3 : out;
	return fn[0] == '.' && fn[1] == '/' && fn[2] != '\0';
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct select_from_name *)a)->path,
	              ((const struct select_from_name *)b)->path);
}

/* Add one raw NAME of LEN bytes (no terminator). Returns 0 or -1 (ENOMEM). */
static int add_name(struct select_from *l, const char *name, size_t len)
{
	if (len > 0 && name[len - 1] == '\r')
		len--;
	if (len == 0 || name[0] == '#' || name[0] == ';')
		return 0;
	char *raw = malloc(len + 1), *path = malloc(len + 2);
	if (raw == NULL || path == NULL ||
	    array_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0) {
		free(raw);
		free(path);
		errno = ENOMEM;
		return -1;
	}
	memcpy(raw, name, len);
	raw[len] = '\0';
	int contents;
	int dot = sends_dot(raw, path);
	select_from_clean(raw, path, &contents);
	free(raw);
	l->v[l->n].path = path;
	l->v[l->n].contents = contents;
	l->v[l->n].dot = dot;
	l->n++;
	return 0;
}

int select_from_parse(struct select_from *l, const char *text, size_t len, int nul)
{
	char sep = nul ? '\0' : '\n';
	l->active = 1;
	for (size_t i = 0; i < len;) {
		const char *end = memchr(text + i, sep, len - i);
		size_t n = end != NULL ? (size_t)(end - (text + i)) : len - i;
		if (add_name(l, text + i, n) != 0)
			return -1;
		i += n + 1;
	}
	/* Sorted, and one entry per path ("dir" and "dir/" together: the contents too). */
	if (l->n > 1) /* an empty list has no array for qsort */
		qsort(l->v, l->n, sizeof(*l->v), by_path);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].path, l->v[i].path) == 0) {
			l->v[k - 1].contents |= l->v[i].contents;
			l->v[k - 1].dot |= l->v[i].dot;
			free(l->v[i].path);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
	return 0;
}

int select_from_read(struct select_from *l, const char *file, int nul)
{
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(l->err, sizeof(l->err), "%s: %s", file, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (array_grow(&buf, &cap, len + 65536, 1) != 0) {
			errno = ENOMEM;
			break;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = 0;
			break;
		}
		len += (size_t)got;
	}
	int err = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (err == 0 && select_from_parse(l, buf, len, nul) != 0)
		err = errno;
	free(buf);
	if (err != 0) {
		snprintf(l->err, sizeof(l->err), "%s: %s", file, strerror(err));
		errno = err;
		return -1;
	}
	return 0;
}

enum select_from_root select_from_root(const struct select_from *l)
{
	enum select_from_root root = SELECT_FROM_ROOT_NO;
	for (size_t i = 0; l != NULL && i < l->n; i++) {
		if (l->v[i].path[0] == '\0')
			return SELECT_FROM_ROOT_LISTED;
		if (l->v[i].dot)
			root = SELECT_FROM_ROOT_IMPLIED;
	}
	return root;
}

int select_from_keep(struct select_from *out, const struct select_from *l,
                     int (*keep)(void *ctx, const char *path), void *ctx)
{
	out->active = l->active;
	out->recursive = l->recursive;
	for (size_t i = 0; i < l->n; i++) {
		if (!keep(ctx, l->v[i].path))
			continue;
		char *path = strdup(l->v[i].path);
		if (path == NULL ||
		    array_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v)) != 0) {
			free(path);
			errno = ENOMEM;
			return -1;
		}
		out->v[out->n] = l->v[i];
		out->v[out->n++].path = path;
	}
	return 0;
}

/* PATH against the first KLEN bytes of KEY, as strcmp would; with SLASH, against those bytes
 * and a '/' after them, a PATH with that prefix comparing equal. */
static int cmp_key(const char *path, const char *key, size_t klen, int slash)
{
	int c = strncmp(path, key, klen);
	if (c != 0)
		return c;
	if (!slash)
		return path[klen] == '\0' ? 0 : 1;
	unsigned char p = (unsigned char)path[klen];
	return p < '/' ? -1 : p > '/' ? 1 : 0;
}

/* The first name of L not before KEY (see cmp_key); L->n when none. */
static size_t lower_bound(const struct select_from *l, const char *key, size_t klen, int slash)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(l->v[mid].path, key, klen, slash) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The name of L that is the first KLEN bytes of KEY, or NULL. */
static const struct select_from_name *find(const struct select_from *l, const char *key,
                                           size_t klen)
{
	size_t i = lower_bound(l, key, klen, 0);
	return i < l->n && cmp_key(l->v[i].path, key, klen, 0) == 0 ? &l->v[i] : NULL;
}

enum select_from_verdict select_from_decide(const struct select_from *l, const char *rel,
                                            int is_dir)
{
	if (l == NULL || !l->active)
		return SELECT_FROM_DESCEND;
	if (strcmp(rel, ".") == 0)
		rel = "";
	size_t rlen = strlen(rel);
	const struct select_from_name *e = find(l, rel, rlen);
	/* An implied parent: a name below it is listed. */
	size_t i = lower_bound(l, rel, rlen, 1);
	if (rlen > 0 && i < l->n && cmp_key(l->v[i].path, rel, rlen, 1) == 0)
		return SELECT_FROM_IMPLIED;
	if (e != NULL && is_dir && (l->recursive || e->contents))
		return SELECT_FROM_DESCEND;
	if (e != NULL)
		return SELECT_FROM_TAKE;
	/* Below a name: its parent's contents, or anything with -r. */
	const char *slash = strrchr(rel, '/');
	size_t parent = slash != NULL ? (size_t)(slash - rel) : 0;
	e = find(l, rel, parent);
	if (e != NULL && (e->contents || l->recursive))
		return is_dir && l->recursive ? SELECT_FROM_DESCEND : SELECT_FROM_TAKE;
	for (size_t k = parent; l->recursive && k > 0;) {
		while (k > 0 && rel[k - 1] != '/')
			k--;
		k = k > 0 ? k - 1 : 0;
		if (find(l, rel, k) != NULL)
			return is_dir ? SELECT_FROM_DESCEND : SELECT_FROM_TAKE;
	}
	return SELECT_FROM_SKIP;
}
