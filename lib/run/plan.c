/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run_plan (see run.h): turn the command's sources and destination into roots. Every check
 * is made before anything is created, so a refused request leaves no trace.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/path.h"
#include "select/select.h"
#include "run/internal.h"

static int plan_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Open a directory for use as a root descriptor. */
static int open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * 1 when directory DIR (its lstat) is PATH or one of PATH's ancestors, judged by device and
 * inode numbers from PATH's nearest existing ancestor up to "/", through ".." of each:
 * unlike a comparison of path names this sees through bind mounts and symlinks. 0 when it is
 * not, or when PATH has no ancestor that can be opened (later checks report that).
 */
static int inside_by_inode(const struct stat *dir, const char *path)
{
	char *p = strdup(path);
	int fd = -1;
	while (p != NULL) {
		fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || strcmp(p, ".") == 0 || strcmp(p, "/") == 0)
			break;
		char *up = path_dir(p);
		free(p);
		p = up;
	}
	free(p);
	int inside = 0;
	struct stat st, prev = {0};
	while (fd >= 0 && !inside && fstat(fd, &st) == 0) {
		if (prev.st_ino == st.st_ino && prev.st_dev == st.st_dev)
			break; /* ".." of the root is the root */
		inside = st.st_dev == dir->st_dev && st.st_ino == dir->st_ino;
		prev = st;
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	if (fd >= 0)
		close(fd);
	return inside;
}

/* One source checked against its target; filled by check_source(). */
struct plan_item {
	char *src;    /* trimmed source */
	char *target; /* where it goes */
	char *canon;  /* TARGET, absolute and symlink-free */
	struct stat st;
	int is_dir;
	int into; /* placed inside the destination directory by base name */
};

static void plan_items_free(struct plan_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].src);
		free(it[i].target);
		free(it[i].canon);
	}
	free(it);
}

/* Whether directory PATH has entries: 1 yes, 0 empty, -1 cannot be read (errno). */
static int dir_has_entries(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int found = 0;
	struct dirent *e;
	errno = 0;
	while (!found && (e = readdir(d)) != NULL)
		found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	int err = errno;
	closedir(d);
	if (!found && err != 0) {
		errno = err;
		return -1;
	}
	return found;
}

/*
 * --delete from an empty or unreadable source directory into a target that has entries
 * would empty the backup: an unmounted disk looks just like that. Refused unless --force
 * (which with an empty source has nothing else to copy again). Returns 0, or -1 with R->err.
 */
static int check_empty_source(struct run *r, const struct plan_item *it)
{
	if (!r->opts.delete_extra || r->opts.copy.force)
		return 0;
	int src = dir_has_entries(it->src);
	if (src > 0 || dir_has_entries(it->target) <= 0)
		return 0;
	if (src < 0)
		return plan_fail(r, "refusing --delete: cannot read the source '%s': %s", it->src,
		                 strerror(errno));
	return plan_fail(r,
	                 "refusing --delete: the source '%s' is empty and '%s' is not (an "
	                 "unmounted disk?); --force empties it",
	                 it->src, it->target);
}

/* Check one source. Returns 0, or -1 with R->err set. */
static int check_source(struct run *r, const char *arg, const char *dest, int dest_is_dir,
                        size_t nsources, struct plan_item *it)
{
	size_t alen = strlen(arg);
	int follow = alen > 0 && arg[alen - 1] == '/';
	if ((follow ? stat(arg, &it->st) : lstat(arg, &it->st)) != 0)
		return plan_fail(r, "cannot stat '%s': %s", arg, strerror(errno));
	it->src = path_trim(arg);
	it->is_dir = S_ISDIR(it->st.st_mode);
	it->into = nsources > 1 || (dest_is_dir && !it->is_dir);
	if (it->src == NULL)
		return plan_fail(r, "out of memory");
	if (it->into) {
		char *base = path_base(it->src);
		if (base == NULL || strcmp(base, "/") == 0 || strcmp(base, "..") == 0 ||
		    strcmp(base, ".") == 0) {
			free(base);
			return plan_fail(
			    r, "cannot copy '%s' into a directory: it has no name of its own", arg);
		}
		it->target = path_join(dest, base);
		free(base);
	} else {
		size_t dlen = strlen(dest);
		if (!it->is_dir && dlen > 0 && dest[dlen - 1] == '/')
			return plan_fail(r, "target '%s' is not a directory", dest);
		it->target = path_trim(dest);
	}
	if (it->target == NULL)
		return plan_fail(r, "out of memory");
	char *canon = path_canonical(it->target);
	if (canon == NULL)
		return plan_fail(r, "cannot create '%s': %s", it->target, strerror(errno));
	it->canon = canon;
	struct stat tst;
	int exists = stat(it->target, &tst) == 0;
	int rc = 0;
	if (it->is_dir) {
		char *real = realpath(it->src, NULL);
		struct stat sst;
		/* The walk follows no symlink below the source, so the source is the directory
		 * the name leads to (stat), whichever way the destination reaches it. */
		int have_sst = stat(it->src, &sst) == 0;
		if ((real != NULL && path_within(canon, real)) ||
		    (have_sst && inside_by_inode(&sst, it->target)))
			rc = plan_fail(r, "cannot copy a directory, '%s', into itself, '%s'",
			               it->src, it->target);
		else if (r->opts.delete_extra &&
		         ((real != NULL && path_within(real, canon)) ||
		          (exists && S_ISDIR(tst.st_mode) && inside_by_inode(&tst, it->src))))
			rc = plan_fail(
			    r, "refusing --delete: the destination '%s' contains the source '%s'",
			    it->target, it->src);
		else if (exists && !S_ISDIR(tst.st_mode))
			rc = plan_fail(r, "cannot overwrite non-directory '%s' with directory '%s'",
			               it->target, it->src);
		free(real);
		if (rc == 0 && exists && S_ISDIR(tst.st_mode))
			rc = check_empty_source(r, it);
	} else if (exists && S_ISDIR(tst.st_mode)) {
		rc = plan_fail(r, "cannot overwrite directory '%s' with non-directory '%s'",
		               it->target, it->src);
	} else if (exists && tst.st_dev == it->st.st_dev && tst.st_ino == it->st.st_ino) {
		rc = plan_fail(r, "'%s' and '%s' are the same file", it->src, it->target);
	}
	return rc;
}

/* Open (and for a new directory copy, create) the descriptors of root I. */
static int open_root(struct run *r, size_t i, const struct plan_item *it)
{
	struct run_root *rt = &r->roots[i];
	struct copy_root *cr = &r->croots[i];
	rt->src_display = strdup(it->src);
	rt->dst_display = strdup(it->target);
	rt->is_dir = it->is_dir;
	rt->st = it->st;
	char *base = path_base(it->src);
	if (it->is_dir) {
		rt->prefix = it->into ? path_join(base, "") : strdup("");
		struct stat st;
		if (!r->opts.copy.dry_run && !r->opts.copy.check && stat(it->target, &st) != 0) {
			if (mkdir(it->target, 0700) != 0) {
				free(base);
				return plan_fail(r, "cannot create directory '%s': %s", it->target,
				                 strerror(errno));
			}
			rt->created = 1;
		}
		rt->src_dir = strdup(it->src);
		rt->dst_dir = strdup(it->target);
		cr->src_fd = open_dir(it->src);
		cr->dst_fd = open_dir(it->target);
		if (cr->dst_fd < 0 && r->opts.copy.dry_run && errno == ENOENT)
			errno = 0; /* a dry run into a destination that does not exist yet */
	} else {
		char *sdir = path_dir(it->src), *tdir = path_dir(it->target);
		rt->prefix = strdup("");
		rt->src_name = base;
		base = NULL;
		rt->dst_name = path_base(it->target);
		cr->src_fd = sdir ? open_dir(sdir) : -1;
		cr->dst_fd = tdir ? open_dir(tdir) : -1;
		rt->src_dir = sdir;
		rt->dst_dir = tdir;
	}
	free(base);
	if (cr->src_fd < 0)
		return plan_fail(r, "cannot open '%s': %s", it->src, strerror(errno));
	if (cr->dst_fd < 0 && errno != 0)
		return plan_fail(r, "cannot open '%s': %s", it->target, strerror(errno));
	return 0;
}

/*
 * --manifest FILE: prove before anything is copied that FILE can be written, so that no run
 * copies a whole tree and then fails on its manifest (exit 2 would then be a lie). An
 * unnamed file is opened in FILE's directory now and named at the end (run_write_manifest
 * in finish.c); it is invisible meanwhile, even to --delete when FILE is inside the
 * destination. Where the file system has no unnamed files, the directory's permissions are
 * checked instead. A directory that does not exist yet is fine only when it is a
 * destination directory this run creates (ITEMS). Returns 0, or -1 with R->err set.
 */
static int plan_manifest(struct run *r, const struct plan_item *items, size_t n)
{
	const char *path = r->opts.manifest;
	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return plan_fail(r, "cannot write manifest '%s': %s", path, strerror(EISDIR));
	char *dir = path_dir(path);
	r->manifest_name = path_base(path);
	if (dir == NULL || r->manifest_name == NULL) {
		free(dir);
		return plan_fail(r, "out of memory");
	}
	int rc = 0;
	r->manifest_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->manifest_dir < 0) {
		int err = errno;
		char *canon = err == ENOENT ? path_canonical(dir) : NULL;
		int made_here = 0;
		for (size_t i = 0; canon != NULL && i < n; i++)
			made_here |= items[i].is_dir && strcmp(items[i].canon, canon) == 0 &&
			             stat(items[i].target, &st) != 0;
		free(canon);
		if (!made_here)
			rc = plan_fail(r, "cannot write manifest '%s': %s", path, strerror(err));
	} else {
		r->manifest_fd = compat_open_unnamed(r->manifest_dir, 0666);
		if (r->manifest_fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			rc = plan_fail(r, "cannot write manifest '%s': %s", path, strerror(errno));
		else if (r->manifest_fd < 0 &&
		         faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
			rc = plan_fail(r, "cannot write manifest '%s': %s", path, strerror(errno));
	}
	free(dir);
	return rc;
}

/* --check: SOURCE and DEST must both exist and be of the same kind. */
static int plan_check(struct run *r, const char *src, const char *dest)
{
	struct plan_item it;
	memset(&it, 0, sizeof(it));
	struct stat dst;
	if (lstat(src, &it.st) != 0)
		return plan_fail(r, "cannot stat '%s': %s", src, strerror(errno));
	if (stat(dest, &dst) != 0)
		return plan_fail(r, "cannot stat '%s': %s", dest, strerror(errno));
	it.is_dir = S_ISDIR(it.st.st_mode);
	if (it.is_dir != S_ISDIR(dst.st_mode))
		return plan_fail(r,
		                 "cannot compare '%s' with '%s': one is a directory, the other not",
		                 src, dest);
	it.src = path_trim(src);
	it.target = path_trim(dest);
	r->roots = calloc(1, sizeof(*r->roots));
	r->croots = calloc(1, sizeof(*r->croots));
	int rc = -1;
	if (it.src == NULL || it.target == NULL || r->roots == NULL || r->croots == NULL) {
		plan_fail(r, "out of memory");
	} else {
		r->croots[0].src_fd = r->croots[0].dst_fd = -1;
		r->nroots = 1;
		rc = open_root(r, 0, &it);
	}
	free(it.src);
	free(it.target);
	return rc;
}

/*
 * --exclude on a source itself: one copied by its name (into a directory, or a file) is that
 * name in the transfer, as for rsync, which leaves out `a` of `rsync -a --exclude a a b d/`.
 * A directory whose contents become DEST is the transfer root, which no pattern matches.
 */
static int source_excluded(const struct run *r, const struct plan_item *it)
{
	if (!select_any(r->opts.select) || (it->is_dir && !it->into))
		return 0;
	char *base = path_base(it->src);
	int ex =
	    base != NULL && (select_excluded(r->opts.select, NULL, base, it->is_dir) ||
	                     select_size_skipped(r->opts.select, it->st.st_mode, it->st.st_size));
	free(base);
	return ex;
}

/*
 * select_from_keep's KEEP for --files-from: 1 when NAME is sent. A name SOURCE (root 0, a
 * directory) lacks is a failed event (counted, so the run ends partial) while the others are
 * copied; one the rules leave out (matched with its own type, as rsync does) is left out
 * quietly. Neither makes its parent directories.
 */
static int from_sent(void *ctx, const char *name)
{
	struct run *r = ctx;
	struct stat st;
	if (name[0] == '\0')
		return 1; /* ".": no rule leaves it out */
	if (fstatat(r->croots[0].src_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r->stats.failed++;
		run_emit(r, RUN_EV_FAILED, 0, name, 0, 0, NULL, "listed in --files-from", errno);
		return 0;
	}
	return !run_excluded(r, 0, name, S_ISDIR(st.st_mode));
}

/* --files-from: the names sent (r->from_sent), and whether "." is among them. Returns 0, or
 * -1 (out of memory). */
static int plan_from_list(struct run *r)
{
	enum select_from_root root = select_from_root(r->opts.from);
	/* rsync sends the "." a name written "./name" implies whatever becomes of the name, but
	 * through the rules. */
	r->from_root = root == SELECT_FROM_ROOT_LISTED ||
	               (root == SELECT_FROM_ROOT_IMPLIED && !run_excluded(r, 0, ".", 1));
	if (select_from_keep(&r->from_sent, r->opts.from, from_sent, r) != 0)
		return plan_fail(r, "out of memory for the --files-from list");
	return 0;
}

int run_plan(struct run *r, char **sources, size_t nsources, const char *dest)
{
	char *auto_dest = NULL;
	if (nsources == 0)
		return plan_fail(r, "missing source operand");
	if (r->opts.copy.check) {
		if (nsources != 1 || dest == NULL)
			return plan_fail(r, "--check compares exactly two trees: SOURCE DEST");
		return plan_check(r, sources[0], dest);
	}
	if (dest == NULL) {
		char *t = path_trim(sources[0]);
		if (t == NULL || strcmp(t, "/") == 0 || strcmp(t, ".") == 0 ||
		    strcmp(t, "..") == 0) {
			free(t);
			return plan_fail(r,
			                 "name a destination for '%s' (SOURCE-backup needs a name)",
			                 sources[0]);
		}
		auto_dest = malloc(strlen(t) + sizeof("-backup"));
		if (auto_dest != NULL)
			sprintf(auto_dest, "%s-backup", t);
		free(t);
		if (auto_dest == NULL)
			return plan_fail(r, "out of memory");
		dest = auto_dest;
	}
	struct stat dst;
	int dest_is_dir = stat(dest, &dst) == 0 && S_ISDIR(dst.st_mode);
	int rc = 0;
	struct plan_item *items = calloc(nsources, sizeof(*items));
	if (items == NULL)
		rc = plan_fail(r, "out of memory");
	else if (nsources > 1 && !dest_is_dir)
		rc = plan_fail(r, "target '%s' is not a directory", dest);
	for (size_t i = 0; rc == 0 && i < nsources; i++)
		rc = check_source(r, sources[i], dest, dest_is_dir, nsources, &items[i]);
	if (rc == 0 && r->opts.from != NULL && (nsources != 1 || !items[0].is_dir))
		rc = plan_fail(r, "--files-from needs a directory SOURCE: %s: %s", items[0].src,
		               nsources != 1 ? "one SOURCE only" : "not a directory");
	/* Two sources landing on one name would overwrite (and with --delete, prune) each other. */
	for (size_t i = 0; rc == 0 && i < nsources; i++)
		for (size_t j = i + 1; rc == 0 && j < nsources; j++)
			if (strcmp(items[i].canon, items[j].canon) == 0)
				rc = plan_fail(r, "'%s' and '%s' would both be copied to '%s'",
				               items[i].src, items[j].src, items[i].target);
	if (rc == 0)
		rc = plan_manifest(r, items, nsources);
	if (rc == 0) {
		r->roots = calloc(nsources, sizeof(*r->roots));
		r->croots = calloc(nsources, sizeof(*r->croots));
		if (r->roots == NULL || r->croots == NULL)
			rc = plan_fail(r, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < nsources; i++) {
		if (source_excluded(r, &items[i]))
			continue;
		size_t k = r->nroots++;
		r->croots[k].src_fd = r->croots[k].dst_fd = -1;
		rc = open_root(r, k, &items[i]);
	}
	if (rc == 0)
		rc = run_snapshot_plan(r, dest);
	if (items != NULL)
		plan_items_free(items, nsources);
	free(auto_dest);
	if (rc == 0 && r->opts.from != NULL && r->opts.from->active && r->nroots == 1)
		rc = plan_from_list(r);
	if (rc == 0)
		run_set_phase(r, RUN_PHASE_PLANNED);
	return rc;
}
