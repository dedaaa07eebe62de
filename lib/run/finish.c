/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/finish: what follows the copies: hard links, directory metadata deepest first, the
 * manifest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/path.h"
#include "common/tmpname.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/internal.h"

/* What link_one came to. */
enum link_result {
	LINK_MADE,    /* linked (or, in a dry run, would be) */
	LINK_ALREADY, /* the name is a link to the first name's copy already */
	LINK_FAILED,  /* errno says why */
	LINK_LEFT,    /* --existing, --ignore-existing: left as it is */
};

/* Link L's name to the copy of its first name, under a temporary name renamed over it
 * (*HAD: the name was there before). */
static enum link_result link_one(struct run *r, const struct linkrec *l, const struct entry *t,
                                 size_t i, int *had)
{
	const char *first, *leaf;
	int first_fd = at_parent(&r->link_dirs, r->croots[t->task.root].dst_fd,
	                         names_get(&r->names, t->task.dst), &first);
	int fd = first_fd < 0 ? -1
	                      : at_parent(&r->dst_dirs, r->croots[l->root].dst_fd,
	                                  names_get(&r->names, l->path), &leaf);
	if (fd < 0) /* a dry run: below a missing directory */
		return r->opts.copy.dry_run ? LINK_MADE : LINK_FAILED;
	struct stat a, b;
	int have = fstatat(fd, leaf, &a, AT_SYMLINK_NOFOLLOW) == 0;
	*had = have;
	int have_first = fstatat(first_fd, first, &b, AT_SYMLINK_NOFOLLOW) == 0;
	if (have && have_first && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return LINK_ALREADY;
	/* --ignore-existing leaves a name DEST has, --existing makes none; with --existing a
	 * first name that was not made leaves nothing to link to (rsync would copy the data to
	 * this name instead: see the man page). */
	if ((r->opts.copy.ignore_existing && have) ||
	    (r->opts.copy.existing && (!have || (!have_first && errno == ENOENT))))
		return LINK_LEFT;
	if (r->opts.copy.dry_run)
		return LINK_MADE;
	char tmp[TMPNAME_SIZE];
	tmpname_tag(tmp, sizeof(tmp), (long)getpid(), "link%zu", i);
	if (linkat(first_fd, first, fd, tmp, 0) != 0)
		return LINK_FAILED;
	if (renameat(fd, tmp, fd, leaf) != 0) {
		int err = errno;
		unlinkat(fd, tmp, 0);
		errno = err;
		return LINK_FAILED;
	}
	return LINK_MADE;
}

/* The event of hard link L (REL) made to the copy of entry T; HAD: its name was there. */
static void link_made(struct run *r, const struct linkrec *l, const struct entry *t,
                      const char *rel, int had, const struct hash128 *hash)
{
	/* A dry run names no target for a name it would link again, as rsync -n. */
	char *first = r->hooks.itemize && !(had && r->opts.copy.dry_run)
	                  ? run_rel_path(r, t->task.root, names_get(&r->names, t->task.dst))
	                  : NULL;
	struct run_item it = {RUN_ITEM_HARDLINK | (had ? t->items : ITEM_NEW),
	                      t->task.mode & S_IFMT, first};
	run_emit_item(r, RUN_EV_COPIED, l->root, rel, 0, hash, &it);
	free(first);
}

/* Make the hard links recorded during the walk. */
void run_make_links(struct run *r)
{
	for (size_t i = 0; i < r->nlinks; i++) {
		struct linkrec *l = &r->links[i];
		struct entry *t = &r->entries[l->target];
		const char *rel = names_get(&r->names, l->path);
		const struct hash128 *hash = t->hashed ? &t->hash : NULL;
		unsigned lmode = t->task.mode | RUN_MODE_LINK;
		r->stats.done++;
		if (t->state != ENTRY_DONE ||
		    (t->status != COPY_COPIED && t->status != COPY_SKIPPED &&
		     t->status != COPY_METADATA)) {
			r->stats.failed++;
			run_emit_dst(r, l->root, rel, lmode,
			             "not linked: its first name was not copied", 0);
			continue;
		}
		int had = 0;
		enum link_result res = link_one(r, l, t, i, &had);
		if (res == LINK_ALREADY && r->opts.copy.dry_run && t->status == COPY_COPIED) {
			/* -n: the first name would be replaced, and this name linked again */
			r->stats.copied++;
			link_made(r, l, t, rel, 1, hash);
		} else if (res == LINK_ALREADY || res == LINK_LEFT) {
			r->stats.skipped++;
			run_emit(r, RUN_EV_SKIPPED, l->root, rel, lmode, 0, hash, NULL, 0);
		} else if (res == LINK_FAILED) {
			r->stats.failed++;
			run_emit_dst(r, l->root, rel, lmode, "cannot create hard link", errno);
		} else {
			r->stats.copied++;
			link_made(r, l, t, rel, had, hash);
		}
	}
}

/* Give one directory, open at DFD, its owner, xattrs (default ACLs among them), mode and
 * times in meta_apply's order, unless it has them all already (meta_update: compared with
 * its state now, after its contents were written; a no-change re-run moves no ctime). */
static int dir_metadata(struct run *r, const struct dirrec *d, int dfd, struct meta_ctx *m)
{
	struct stat cur;
	if (fstat(dfd, &cur) != 0)
		return -1;
	if (d->bare) { /* DEST under --files-from without ".": its own mode, nothing else */
		mode_t own = r->roots[d->root].created ? 0777 & ~m->umask : d->own_mode;
		return meta_perm(cur.st_mode) == own ? 0 : fchmod(dfd, own);
	}
	/* The source is opened for its xattrs only when some are kept. */
	int s = -1;
	if (meta_keeps_xattrs(m)) {
		const char *rel = names_get(&r->names, d->path);
		s = at_open_dir(r->croots[d->root].src_fd, rel, strlen(rel));
	}
	struct meta_node sn = {s, -1, NULL}, dn = {dfd, -1, NULL};
	int rc = meta_update(m, s >= 0 ? &sn : NULL, &dn, &d->st, &cur, 0);
	int e = errno;
	if (s >= 0)
		close(s);
	errno = e;
	return rc;
}

/*
 * 1 when directory D has all its metadata already, as seen by name from its parent (the
 * parents of both sides kept open in SRC and DST), without a descriptor of its own: the
 * common case of a re-run, three calls (an lstat and two xattr lists). 0: it is opened and
 * dir_metadata looks again, and sets what differs.
 */
static int dir_current(struct run *r, const struct dirrec *d, struct meta_ctx *m,
                       struct at_cache *src, struct at_cache *dst)
{
	const char *rel = names_get(&r->names, d->path), *leaf, *sleaf;
	struct stat cur;
	int dp = at_parent(dst, r->croots[d->root].dst_fd, rel, &leaf);
	if (dp < 0 || fstatat(dp, leaf, &cur, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(cur.st_mode))
		return 0;
	int sp = -1;
	if (meta_keeps_xattrs(m)) {
		sp = at_parent(src, r->croots[d->root].src_fd, rel, &sleaf);
		if (sp < 0)
			return 0;
	}
	struct meta_node sn = {-1, sp, sp >= 0 ? sleaf : NULL}, dn = {-1, dp, leaf};
	return meta_current(m, sp >= 0 ? &sn : NULL, &dn, &d->st, &cur, 0);
}

/* Set directory xattrs, owner, mode and times, deepest first (after their contents). */
void run_finish_dirs(struct run *r)
{
	struct meta_ctx m;
	meta_ctx_init(&m, r->opts.copy.keep_owner);
	m.policy = &r->opts.copy.policy;
	struct at_cache src, dst; /* the parents of the directory at hand */
	at_cache_init(&src);
	at_cache_init(&dst);
	/* Here a name's xattrs are read through listxattrat and /proc (meta.h: this process has
	 * no working directory to lend); where /proc is missing a list may read as empty, so
	 * every directory is opened instead and its xattrs read through the descriptor. */
	int by_name = !meta_keeps_xattrs(&m) || access("/proc/self/fd", X_OK) == 0;
	for (size_t i = r->ndirs; i-- > 0;) {
		struct dirrec *d = &r->dirs[i];
		if (d->failed)
			continue;
		/* --fsync needs the directory open; DEST under --files-from is one of a kind */
		if (by_name && !r->opts.copy.fsync && !d->bare && dir_current(r, d, &m, &src, &dst))
			continue;
		const char *rel = names_get(&r->names, d->path);
		int dfd = at_open_dir(r->croots[d->root].dst_fd, rel, strlen(rel));
		if (dfd < 0 || dir_metadata(r, d, dfd, &m) != 0) {
			r->stats.failed++;
			run_emit_dst(r, d->root, rel, S_IFDIR, "cannot set directory attributes",
			             errno);
		} else if (r->opts.copy.fsync && fsync(dfd) != 0) {
			/* --fsync: the renames into this directory are on disk too */
			r->stats.failed++;
			run_emit_dst(r, d->root, rel, S_IFDIR, "cannot sync directory", errno);
		}
		if (dfd >= 0)
			close(dfd);
	}
	at_cache_free(&src);
	at_cache_free(&dst);
}

/* Write the manifest of every regular file that is in place with a known hash. */
int run_write_manifest(struct run *r)
{
	const char *path = r->opts.manifest;
	size_t n = 0;
	struct manifest_line *lines = malloc((r->nentries + r->nlinks + 1) * sizeof(*lines));
	if (lines == NULL)
		return run_fail(r, "out of memory for the manifest");
	for (size_t i = 0; i < r->nentries; i++) {
		struct entry *e = &r->entries[i];
		if (!S_ISREG(e->task.mode) || e->state != ENTRY_DONE || !e->hashed)
			continue;
		const struct run_root *rt = &r->roots[e->task.root];
		lines[n].prefix = rt->prefix;
		lines[n].path = names_get(&r->names, e->task.dst);
		lines[n].tag = i + 1;
		lines[n++].hash = e->hash;
	}
	for (size_t i = 0; i < r->nlinks; i++) {
		struct entry *e = &r->entries[r->links[i].target];
		if (!S_ISREG(e->task.mode) || e->state != ENTRY_DONE || !e->hashed)
			continue;
		lines[n].prefix = r->roots[r->links[i].root].prefix;
		lines[n].path = names_get(&r->names, r->links[i].path);
		lines[n].tag = 0;
		lines[n++].hash = e->hash;
	}
	/* Into the unnamed file run_plan opened, where it can be named (the save closes it);
	 * else by name ("-": stdout). */
	struct hash128 digest, *want = r->stamping ? &digest : NULL;
	enum manifest_saved rc = MANIFEST_BY_NAME;
	if (r->manifest_fd >= 0)
		rc = manifest_save_unnamed(r->manifest_fd, r->manifest_dir, r->manifest_name, lines,
		                           n, r->opts.copy.fsync, want);
	r->manifest_fd = -1;
	if (rc == MANIFEST_BY_NAME)
		rc = manifest_save(path, lines, n, r->opts.copy.fsync, want) == 0 ? MANIFEST_SAVED
		                                                                  : MANIFEST_FAILED;
	if (rc == MANIFEST_SAVED && want != NULL)
		run_previous_save(r, lines, n, digest); /* LINES sorted by the save */
	int e = errno;
	free(lines);
	if (rc != MANIFEST_SAVED)
		return run_fail(r, "cannot write manifest '%s': %s", path, strerror(e));
	return 0;
}
