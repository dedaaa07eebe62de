/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify/vlist: the manifest read into the name table, and --unlisted's walk of DIR (see
 * internal.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "verify/internal.h"

int verify_clean_name(const char *name, char *out)
{
	char *o = out;
	if (name[0] == '/')
		return -1;
	for (const char *s = name; *s;) {
		size_t len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return -1;
		if (len > 0 && !(len == 1 && s[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, s, len);
			o += len;
		}
		s += len;
		while (*s == '/')
			s++;
	}
	*o = '\0';
	return o == out ? -1 : 0;
}

/* Add the line LINE (its number LINENO) to L. Returns 0, or -1 with ERR set. */
static int add_line(struct verify_list *l, struct names *names, const char *file, size_t lineno,
                    const char *line, char *path, char *clean, char *err, size_t errlen)
{
	struct hash128 h;
	if (manifest_parse_line(line, &h, path, strlen(line) + 1) != 0)
		return snprintf(err, errlen, "%s:%zu: malformed manifest line", file, lineno), -1;
	if (verify_clean_name(path, clean) != 0)
		return snprintf(err, errlen,
		                "%s:%zu: a name outside the directory (absolute, or with "
		                "'..')",
		                file, lineno),
		       -1;
	struct verify_name *v;
	uint64_t off = names_add(names, clean, strlen(clean));
	if (off == UINT64_MAX || array_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0 ||
	    (path = strdup(path)) == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	v->shown = path;
	v->name = off;
	v->want = h;
	return 0;
}

int verify_list_read(struct verify_list *l, struct names *names, const char *file, char *err,
                     size_t errlen)
{
	memset(l, 0, sizeof(*l));
	int is_stdin = strcmp(file, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(file, "r");
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0)
		return snprintf(err, errlen, "%s: cannot open manifest: %s", file, strerror(errno)),
		       -1;
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		return snprintf(err, errlen, "%s: cannot read manifest: %s", file,
		                strerror(EISDIR)),
		       -1;
	}
	l->is_file = S_ISREG(st.st_mode);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	char *line = NULL, *buf = NULL;
	size_t cap = 0, buf_cap = 0;
	ssize_t n;
	int rc = 0;
	size_t lineno = 1;
	for (; rc == 0 && (n = getline(&line, &cap, f)) >= 0; lineno++) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		rc = -1;
		/* The unescaped and the cleaned name are never longer than the line. */
		if (array_grow(&buf, &buf_cap, 2 * ((size_t)n + 1), 1) != 0)
			snprintf(err, errlen, "out of memory");
		else if (strlen(line) != (size_t)n)
			snprintf(err, errlen, "%s:%zu: malformed manifest line", file, lineno);
		else
			rc = add_line(l, names, file, lineno, line, buf, buf + n + 1, err, errlen);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read manifest: %s", file, strerror(errno));
		rc = -1;
	}
	free(line);
	free(buf);
	if (!is_stdin)
		fclose(f);
	return rc;
}

void verify_list_free(struct verify_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].shown);
	free(l->v);
	free(l->sorted);
	memset(l, 0, sizeof(*l));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int verify_list_index(struct verify_list *l, const struct names *names)
{
	l->sorted = malloc((l->n > 0 ? l->n : 1) * sizeof(*l->sorted));
	if (l->sorted == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		l->sorted[i] = (char *)names_get(names, l->v[i].name);
	if (l->n > 1)
		qsort(l->sorted, l->n, sizeof(*l->sorted), str_cmp);
	return 0;
}

int verify_list_has(const struct verify_list *l, const char *name)
{
	return l->n > 0 && bsearch(&name, l->sorted, l->n, sizeof(*l->sorted), str_cmp) != NULL;
}

/* The walk's state: what it collects and whom it tells. */
struct uwalk {
	const struct verify_list *l;
	char ***out;
	size_t *n, cap;
	int (*poll)(void *ctx);
	int stopped; /* POLL said stop */
	void (*on_error)(void *ctx, const char *path, int err);
	void *ctx;
};

/* Walk directory DFD (path REL below the root, "" for the root itself; closed here). */
static int walk_dir(struct uwalk *w, int dfd, const char *rel)
{
	struct tree_list names;
	if (tree_list_at(dfd, &names) != 0) {
		w->on_error(w->ctx, rel[0] ? rel : ".", errno);
		close(dfd);
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && !w->stopped && i < names.n; i++) {
		const char *leaf = names.names[i];
		char *path = malloc(strlen(rel) + strlen(leaf) + 2);
		if (path == NULL) {
			rc = -1;
			break;
		}
		sprintf(path, "%s%s%s", rel, rel[0] ? "/" : "", leaf);
		struct stat st;
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				w->on_error(w->ctx, path, errno);
		} else if (S_ISDIR(st.st_mode)) {
			int sub =
			    openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				w->on_error(w->ctx, path, errno);
			else
				rc = walk_dir(w, sub, path);
		} else if (S_ISREG(st.st_mode) && !verify_list_has(w->l, path) &&
		           !(w->l->is_file && st.st_dev == w->l->dev && st.st_ino == w->l->ino)) {
			if (array_grow(w->out, &w->cap, *w->n + 1, sizeof(**w->out)) != 0) {
				rc = -1;
			} else {
				(*w->out)[(*w->n)++] = path;
				path = NULL;
			}
		}
		free(path);
	}
	tree_list_free(&names);
	close(dfd);
	if (w->poll != NULL && w->poll(w->ctx) != 0)
		w->stopped = 1;
	return rc;
}

int verify_list_unlisted(const struct verify_list *l, int root, char ***out, size_t *n,
                         int (*poll)(void *ctx),
                         void (*on_error)(void *ctx, const char *path, int err), void *ctx)
{
	struct uwalk w = {l, out, n, *n, poll, 0, on_error, ctx};
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || walk_dir(&w, fd, "") != 0)
		return -1;
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), str_cmp);
	return 0;
}
