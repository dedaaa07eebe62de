/* SPDX-License-Identifier: BSD-2-Clause */
/* tree: destination directory operations for the parent (see tree.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/compat.h"
#include "fs/at.h"
#include "fs/meta.h"
#include "common/path.h"
#include "fs/tree.h"

/*
 * The directory holding REL below FD, and REL's last component in *LEAF: FD itself, or a new
 * descriptor the caller closes (see done_parent). -1 with errno when it cannot be opened.
 */
static int open_parent(int fd, const char *rel, const char **leaf)
{
	const char *slash = strrchr(rel, '/');
	*leaf = slash != NULL ? slash + 1 : rel;
	return slash != NULL ? at_open_dir(fd, rel, (size_t)(slash - rel)) : fd;
}

/* Close PFD from open_parent() unless it is FD; returns ERR. */
static int done_parent(int fd, int pfd, int err)
{
	if (pfd != fd)
		close(pfd);
	return err;
}

/* tree_make_dir() for a single name REL in FD. */
static int make_dir_in(int fd, const char *rel, int dry_run, int *existed)
{
	struct stat st;
	*existed = 0;
	if (fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			*existed = 1;
			/* A directory copied read-only (r-x) by an earlier run: a user who is not
			 * root cannot write into it, so it is opened up for the owner while the run
			 * works inside; its own mode comes back with the directory metadata at the
			 * end of the run (as rsync does). */
			if (!dry_run && (st.st_mode & S_IRWXU) != S_IRWXU && geteuid() != 0 &&
			    st.st_uid == geteuid())
				if (fchmodat(fd, rel, meta_perm(st.st_mode) | S_IRWXU, 0) != 0) {
					/* not fatal: writing inside then fails and says why */
				}
			return 0;
		}
		if (dry_run)
			return 0;
		if (unlinkat(fd, rel, 0) != 0)
			return errno;
	} else if (dry_run) {
		return 0; /* a dry run into a destination that does not exist yet */
	} else if (errno != ENOENT) {
		return errno;
	}
	if (mkdirat(fd, rel, 0700) != 0)
		return errno;
	return 0;
}

int tree_make_dir(int fd, const char *rel, int dry_run, int *existed)
{
	const char *leaf;
	*existed = 0;
	int pfd = open_parent(fd, rel, &leaf);
	if (pfd < 0)
		return errno;
	return done_parent(fd, pfd, make_dir_in(pfd, leaf, dry_run, existed));
}

int tree_make_dir_below(struct at_cache *c, int root, const char *rel, int dry_run, int *existed)
{
	const char *leaf;
	int fd = at_parent(c, root, rel, &leaf);
	return fd < 0 ? errno : tree_make_dir(fd, leaf, dry_run, existed);
}

/* A listing as it grows: the names packed in OUT->buf, their offsets in OFFS. */
struct names_acc {
	struct tree_list *out;
	size_t used, cap, n;
	size_t *offs, offs_cap;
};

/* compat_dir_names' ADD: one more name. 0, or -1 with errno (ENOMEM). */
static int acc_add(void *arg, const char *nm)
{
	struct names_acc *a = arg;
	size_t len = strlen(nm) + 1;
	if (array_grow(&a->out->buf, &a->cap, a->used + len, 1) != 0 ||
	    array_grow(&a->offs, &a->offs_cap, a->n + 1, sizeof(*a->offs)) != 0)
		return -1;
	memcpy(a->out->buf + a->used, nm, len);
	a->offs[a->n++] = a->used;
	a->used += len;
	return 0;
}

/* List DFD from its offset on (0: just opened). */
static int list_from(int dfd, struct tree_list *out)
{
	memset(out, 0, sizeof(*out));
	struct names_acc a = {out, 0, 0, 0, NULL, 0};
	int err = compat_dir_names(dfd, acc_add, &a) != 0 ? errno : 0;
	if (err == 0 && a.n > 0) {
		out->names = malloc(a.n * sizeof(*out->names));
		if (out->names == NULL)
			err = ENOMEM;
		for (size_t i = 0; err == 0 && i < a.n; i++)
			out->names[i] = out->buf + a.offs[i];
	}
	free(a.offs);
	if (err != 0) {
		tree_list_free(out);
		errno = err;
		return -1;
	}
	out->n = a.n;
	return 0;
}

int tree_list_at(int dfd, struct tree_list *out)
{
	(void)lseek(dfd, 0, SEEK_SET); /* from the start, wherever an earlier reading left it */
	return list_from(dfd, out);
}

int tree_list(int fd, const char *rel, struct tree_list *out)
{
	memset(out, 0, sizeof(*out));
	int dfd = at_open_dir(fd, rel, strlen(rel));
	if (dfd < 0)
		return -1;
	/* A new descriptor starts at 0, unless REL is FD itself: a duplicate sharing its offset */
	int rc = *rel != '\0' ? list_from(dfd, out) : tree_list_at(dfd, out);
	int e = errno;
	close(dfd);
	errno = e;
	return rc;
}

void tree_list_free(struct tree_list *l)
{
	free(l->names);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static int remove_in(int fd, const char *name, const char *path, const struct tree_keep *keep,
                     int *kept);

/* A name of a directory being deleted, and whether it is a directory itself. */
struct del_name {
	char *name;
	int is_dir;
};

/* rsync's file-list order within one directory, reversed: subdirectories before the other
 * entries; in each group, names compared bytewise, a directory's as if it ended in '/'. */
static int del_cmp(const void *a, const void *b)
{
	const struct del_name *x = a, *y = b;
	if (x->is_dir != y->is_dir)
		return x->is_dir ? -1 : 1;
	const unsigned char *p = (const unsigned char *)x->name;
	const unsigned char *q = (const unsigned char *)y->name;
	while (*p != '\0' && *p == *q)
		p++, q++;
	int end = x->is_dir ? '/' : '\0'; /* what stands after the end of a name */
	int c = *p != '\0' ? *p : *q != '\0' ? end : 0;
	int d = *q != '\0' ? *q : *p != '\0' ? end : 0;
	return d - c;
}

int tree_sort_for_delete(int dfd, char **names, size_t n)
{
	struct del_name *v = n > 0 ? malloc(n * sizeof(*v)) : NULL;
	if (n > 0 && v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		v[i].name = names[i];
		v[i].is_dir =
		    fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), del_cmp);
	for (size_t i = 0; i < n; i++)
		names[i] = v[i].name;
	free(v);
	return 0;
}

/* remove_contents() in the order rsync deletes (tree_sort_for_delete, for --max-delete). */
static int remove_contents_sorted(int dfd, const char *path, const struct tree_keep *keep,
                                  int *kept)
{
	struct tree_list l = {NULL, 0, NULL};
	int err = tree_list_at(dfd, &l) != 0 ? errno : 0;
	if (err == 0 && tree_sort_for_delete(dfd, l.names, l.n) != 0) {
		err = errno;
		*kept = 1; /* not knowing the order, delete nothing here */
		l.n = 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		char *sub = path_join(path, l.names[i]);
		int e = ENOMEM;
		if (sub == NULL)
			*kept = 1; /* not knowing what to keep, keep it */
		else
			e = remove_in(dfd, l.names[i], sub, keep, kept);
		free(sub);
		if (e != 0 && err == 0)
			err = e;
	}
	tree_list_free(&l);
	close(dfd);
	return err;
}

/*
 * Remove everything inside the open directory DFD (PATH, for KEEP), except what KEEP keeps:
 * then *KEPT is set.
 */
static int remove_contents(int dfd, const char *path, const struct tree_keep *keep, int *kept)
{
	if (keep != NULL && keep->spend != NULL)
		return remove_contents_sorted(dfd, path, keep, kept);
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int e = errno;
		close(dfd);
		return e;
	}
	int err = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
			continue;
		char *sub = NULL;
		if (keep != NULL && (sub = path_join(path, nm)) == NULL) {
			*kept = 1; /* not knowing what to keep, keep it */
			if (err == 0)
				err = ENOMEM;
			continue;
		}
		int e = remove_in(dirfd(d), nm, sub, keep, kept);
		free(sub);
		if (e != 0 && err == 0)
			err = e;
	}
	closedir(d);
	return err;
}

/* tree_remove() for a single name REL in FD (PATH and KEEP: see tree_remove_keep). */
static int remove_in(int fd, const char *rel, const char *path, const struct tree_keep *keep,
                     int *kept)
{
	struct stat st;
	if (fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : errno;
	if (keep != NULL && keep->keep != NULL &&
	    keep->keep(keep->ctx, path, S_ISDIR(st.st_mode))) {
		*kept = 1;
		return 0;
	}
	int spent = keep == NULL || keep->spend == NULL;
	if (!S_ISDIR(st.st_mode) && !spent && !keep->spend(keep->ctx, path, 0)) {
		*kept = 1;
		return 0;
	}
	if (!S_ISDIR(st.st_mode) && keep != NULL && keep->backup != NULL) {
		if (tree_backup(keep->backup, fd, rel, path) != 0)
			return errno;
		*kept |= keep->backup->dir_fd < 0; /* the backup is still in this directory */
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		return unlinkat(fd, rel, 0) == 0 ? 0 : errno;
	}
	int dfd = openat(fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno;
	int inner = 0;
	int err = remove_contents(dfd, path, keep, &inner);
	/* A directory holding kept entries stays, as with rsync (not an error). */
	if (inner || (!spent && !keep->spend(keep->ctx, path, 1)))
		*kept = 1;
	else if (unlinkat(fd, rel, AT_REMOVEDIR) != 0 && err == 0)
		err = errno;
	return err;
}

int tree_remove_keep(int fd, const char *rel, const char *path, const struct tree_keep *keep)
{
	const char *leaf;
	int kept = 0;
	int pfd = open_parent(fd, rel, &leaf);
	if (pfd < 0)
		return errno == ENOENT ? 0 : errno;
	return done_parent(fd, pfd, remove_in(pfd, leaf, path, keep, &kept));
}

int tree_remove(int fd, const char *rel)
{
	return tree_remove_keep(fd, rel, rel, NULL);
}

/* Make the directories above PATH below FD that are missing. Returns 0, or -1 with errno. */
static int make_parents(int fd, char *path)
{
	for (char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if (p == path || p[-1] == '/')
			continue; /* the root of an absolute path, or "//" */
		*p = '\0';
		int rc = mkdirat(fd, path, 0755);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/*
 * Give directory PATH (LEN bytes), just made below B->dir_fd, the owner, ACLs and mode (and
 * times) of its twin below B->root_fd, the DEST directory it stands for, as rsync does. Made
 * 0700, it stays so when the twin cannot be read. Returns 0, or -1 with errno.
 */
static int backup_dir_meta(const struct tree_backup *b, const char *path, size_t len)
{
	struct stat st;
	int twin = at_open_dir(b->root_fd, path, len);
	if (twin < 0)
		return 0;
	int made = openat(b->dir_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = made < 0 || fstat(twin, &st) != 0 ? -1 : 0;
	if (rc == 0) {
		/* rsync -aHAX's: ACLs, but not the other xattrs */
		static const struct meta_policy acls_only = {.drop = META_KEEP_XATTRS};
		struct meta_ctx m;
		meta_ctx_init(&m, geteuid() == 0);
		m.policy = &acls_only;
		struct meta_node src = {twin, -1, NULL}, dst = {made, -1, NULL};
		rc = meta_apply(&m, &src, &dst, &st, 0);
	}
	int e = errno;
	if (made >= 0)
		close(made);
	close(twin);
	errno = e;
	return rc;
}

/* Make the directories above PATH below B->dir_fd that are missing, each like its DEST
 * twin (backup_dir_meta). Returns 0, or -1 with errno. */
static int make_backup_parents(const struct tree_backup *b, char *path)
{
	for (char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		if (p == path || p[-1] == '/')
			continue;
		*p = '\0';
		int rc = mkdirat(b->dir_fd, path, 0700);
		if (rc == 0)
			rc = backup_dir_meta(b, path, (size_t)(p - path));
		else if (errno == EEXIST)
			rc = 0;
		*p = '/';
		if (rc != 0)
			return -1;
	}
	return 0;
}

int tree_open_backup_dir(int fd, const char *dir)
{
	size_t n = strlen(dir);
	char *path = malloc(n + 2);
	if (path == NULL)
		return -1;
	memcpy(path, dir, n);
	memcpy(path + n, "/", 2); /* so that make_parents makes DIR itself too */
	int rc = make_parents(fd, path);
	int e = errno;
	free(path);
	if (rc != 0) {
		errno = e;
		return -1;
	}
	return openat(fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int tree_backup(const struct tree_backup *b, int fd, const char *name, const char *path)
{
	const char *base = b->dir_fd < 0 ? name : path;
	size_t blen = strlen(base), slen = strlen(b->suffix);
	char *to = malloc(blen + slen + 1);
	if (to == NULL)
		return -1;
	memcpy(to, base, blen);
	memcpy(to + blen, b->suffix, slen + 1);
	int tofd = b->dir_fd < 0 ? fd : b->dir_fd;
	int rc = 0;
	if (b->dir_fd >= 0)
		rc = make_backup_parents(b, to);
	if (rc == 0)
		rc = renameat(fd, name, tofd, to);
	int e = errno;
	free(to);
	errno = e;
	return rc;
}
