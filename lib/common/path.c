/* SPDX-License-Identifier: BSD-2-Clause */
/* path: command-line path strings (see path.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"

char *path_trim(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	char *s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *path_base(const char *p)
{
	char *t = path_trim(p);
	if (t == NULL)
		return NULL;
	char *slash = strrchr(t, '/');
	if (slash == NULL || t[1] == '\0')
		return t;
	char *b = strdup(slash + 1);
	free(t);
	return b;
}

char *path_dir(const char *p)
{
	char *t = path_trim(p);
	if (t == NULL)
		return NULL;
	char *slash = strrchr(t, '/');
	if (slash == NULL) {
		free(t);
		return strdup(".");
	}
	while (slash > t && slash[-1] == '/')
		slash--;
	if (slash == t)
		slash[1] = '\0'; /* "/b" -> "/" */
	else
		*slash = '\0';
	return t;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int slash = la > 0 && a[la - 1] != '/';
	char *s = malloc(la + (size_t)slash + lb + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	if (slash)
		s[la] = '/';
	memcpy(s + la + (size_t)slash, b, lb + 1);
	return s;
}

char *path_canonical(const char *p)
{
	char *real = realpath(p, NULL);
	if (real != NULL)
		return real;
	if (errno != ENOENT)
		return NULL;
	char *dir = path_dir(p), *base = path_base(p);
	char *rdir = dir ? realpath(dir, NULL) : NULL;
	char *out = (rdir && base) ? path_join(rdir, base) : NULL;
	int e = errno;
	free(dir);
	free(base);
	free(rdir);
	errno = e;
	return out;
}

int path_within(const char *child, const char *parent)
{
	size_t n = strlen(parent);
	if (strncmp(child, parent, n) != 0)
		return 0;
	if (n == 1 && parent[0] == '/')
		return 1;
	return child[n] == '\0' || child[n] == '/';
}

int path_walk_cmp(const char *a, const char *b)
{
	for (;;) {
		const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
		/* An entry of this directory comes before anything inside a subdirectory of it. */
		if (sa == NULL && sb != NULL)
			return -1;
		if (sa != NULL && sb == NULL)
			return 1;
		size_t la = sa ? (size_t)(sa - a) : strlen(a),
		       lb = sb ? (size_t)(sb - b) : strlen(b);
		int c = memcmp(a, b, la < lb ? la : lb);
		if (c == 0 && la != lb)
			c = la < lb ? -1 : 1;
		if (c != 0 || sa == NULL)
			return c;
		a = sa + 1;
		b = sb + 1;
	}
}
