/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/prune: what the destination has that the source has not: --delete, stale temporary
 * files of an interrupted run, and --check's "extra" differences; and a directory removed to
 * make way for a file (run_make_way), by --delete's rules.
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
#include "common/compat.h"
#include "common/path.h"
#include "common/tmpname.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/internal.h"

/*
 * --backup: what --delete leaves alone, as rsync does: the backups made beside their files
 * (names ending in the suffix) when there is no --backup-dir, and a relative --backup-dir
 * itself (at PATH from the root).
 */
static int backup_kept(const struct run *r, const char *path, int is_dir)
{
	const struct copy_opts *o = &r->opts.copy;
	if (!o->backup)
		return 0;
	if (o->backup_dir == NULL) {
		size_t n = strlen(path), s = strlen(o->backup_suffix);
		return !is_dir && s > 0 && n >= s && strcmp(path + n - s, o->backup_suffix) == 0;
	}
	size_t d = strlen(o->backup_dir);
	while (d > 1 && o->backup_dir[d - 1] == '/')
		d--;
	return is_dir && strncmp(path, o->backup_dir, d) == 0 && path[d] == '\0';
}

/* --delete inside an extra directory leaves excluded entries (and their parents) alone. */
struct keep_ctx {
	struct run *r;
	uint32_t root;
	int protect;     /* excluded entries stay */
	const char *way; /* a directory removed to make way for a file: not matched itself, its
	                  * removal not held back by --max-delete (as rsync's), or NULL */
};

static int keep_excluded(void *ctx, const char *path, int is_dir)
{
	const struct keep_ctx *k = ctx;
	int top = k->way != NULL && strcmp(path, k->way) == 0;
	return (k->protect && !top && run_excluded(k->r, k->root, path, is_dir)) ||
	       backup_kept(k->r, path, is_dir);
}

/* --max-delete: one more removal, if the limit allows it (else counted as skipped). */
static int spend_delete(struct run *r)
{
	if (r->removed >= r->opts.max_delete) {
		r->delete_skipped++;
		return 0;
	}
	r->removed++;
	return 1;
}

static int spend_one(void *ctx, const char *path, int is_dir)
{
	const struct keep_ctx *k = ctx;
	(void)is_dir;
	if (k->way != NULL && strcmp(path, k->way) == 0) {
		k->r->removed++; /* counted, not limited: its contents were */
		return 1;
	}
	return spend_delete(k->r);
}

/* 1 when the rules leave out source entry IT of directory DIR (not for lack of memory). */
static int excluded_twin(const struct run *r, uint32_t root, const char *dir,
                         const struct scan_item *it)
{
	char *rel = strcmp(dir, ".") == 0 ? strdup(it->name) : path_join(dir, it->name);
	int ex = rel != NULL && run_excluded(r, root, rel, S_ISDIR(it->st.st_mode));
	free(rel);
	return ex;
}

/*
 * Remove LEAF in FD (REL from ROOT's destination) and what is below it, leaving what the
 * rules exclude when PROTECT; with --backup, what would go is backed up instead, as rsync
 * does; under --max-delete, as far as the limit allows. Returns 0 or an errno value.
 */
static int remove_extra(struct run *r, uint32_t root, int fd, const char *leaf, const char *rel,
                        int protect, const char *way)
{
	const struct copy_opts *o = &r->opts.copy;
	struct keep_ctx kc = {r, root, protect, way};
	struct tree_backup b = {o->backup_suffix, -1, r->croots[root].dst_fd};
	struct tree_keep keep = {keep_excluded, &kc, o->backup ? &b : NULL,
	                         r->opts.max_delete_set ? spend_one : NULL};
	if (o->backup && o->backup_dir != NULL &&
	    (b.dir_fd = tree_open_backup_dir(r->croots[root].dst_fd, o->backup_dir)) < 0)
		return errno;
	int err = tree_remove_keep(fd, leaf, rel,
	                           protect || o->backup || keep.spend != NULL ? &keep : NULL);
	if (b.dir_fd >= 0)
		close(b.dir_fd);
	return err;
}

/* --delete of REL (LEAF in FD) under --max-delete: each entry removed counts, a directory
 * once its contents are gone; what the limit leaves stays (and is counted as skipped). A dry
 * run counts REL as one. */
static void limited_delete(struct run *r, uint32_t root, const char *rel, unsigned mode, int fd,
                           const char *leaf, int protect)
{
	if (r->opts.copy.dry_run) {
		if (spend_delete(r)) {
			r->stats.deleted++;
			run_emit(r, RUN_EV_DELETED, root, rel, mode, 0, NULL, NULL, 0);
		}
		return;
	}
	struct stat st;
	int err = fd < 0 ? errno : remove_extra(r, root, fd, leaf, rel, protect, NULL);
	at_cache_drop(&r->dst_dirs); /* it may have been below what was removed */
	if (err != 0) {
		r->stats.failed++;
		run_emit_dst(r, root, rel, mode, "cannot delete", err);
	} else if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r->stats.deleted++;
		run_emit(r, RUN_EV_DELETED, root, rel, mode, 0, NULL, NULL, 0);
	}
}

/* --delete: excluded entries are protected (not with --delete-excluded). */
static int delete_protects(const struct run *r)
{
	return !r->opts.delete_excluded && select_any(r->opts.select);
}

int run_make_way(struct run *r, uint32_t root, const char *rel)
{
	const char *leaf;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	if (fd < 0)
		return errno;
	if (!r->opts.delete_extra) {
		if (unlinkat(fd, leaf, AT_REMOVEDIR) == 0)
			return 0;
		return errno == EEXIST ? ENOTEMPTY : errno;
	}
	int err = remove_extra(r, root, fd, leaf, rel, delete_protects(r), rel);
	at_cache_drop(&r->dst_dirs); /* it may have been below what was removed */
	fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	struct stat st;
	if (err == 0 && fd >= 0 && fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
		err = ENOTEMPTY; /* what it holds was kept */
	if (err == 0) {
		r->stats.deleted++;
		struct run_item it = {0, S_IFDIR, NULL};
		run_emit_item(r, RUN_EV_DELETED, root, rel, 0, NULL, &it);
	}
	return err;
}

/* The destination has NAME in directory DIR that the source has not: clean it up. */
static void extra_entry(struct run *r, uint32_t root, const char *dir, const char *name)
{
	uint64_t off = scan_join(&r->names, dir, name);
	if (off == UINT64_MAX)
		return;
	const char *rel = names_get(&r->names, off);
	if (run_is_marker(r, root, rel))
		return; /* a snapshot's own: see snapshot.c */
	const char *leaf;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	struct stat st; /* "dir/" patterns protect only directories */
	/* --delete-excluded: excluded entries are no longer protected */
	int protect = delete_protects(r);
	unsigned mode =
	    fd >= 0 && fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode : 0;
	int is_dir = S_ISDIR(mode);
	int kept = (protect && (r->opts.copy.check || r->opts.delete_extra) &&
	            run_excluded(r, root, rel, is_dir)) ||
	           (r->opts.delete_extra && backup_kept(r, rel, is_dir));
	if (r->opts.copy.check) {
		if (!kept) {
			r->stats.different++;
			run_emit(r, RUN_EV_DIFFERENT, root, rel, mode, 0, NULL, "extra", 0);
		}
		return;
	}
	if (tmpname_is(name)) {
		if (!r->opts.copy.dry_run && fd >= 0)
			unlinkat(fd, leaf, 0); /* left by an interrupted run */
		return;
	}
	if (!r->opts.delete_extra || kept)
		return;
	if (r->opts.max_delete_set) {
		limited_delete(r, root, rel, mode, fd, leaf, protect);
		return;
	}
	r->stats.deleted++;
	struct run_item it = {0, mode & S_IFMT, NULL};
	run_emit_item(r, RUN_EV_DELETED, root, rel, 0, NULL, &it);
	if (!r->opts.copy.dry_run) {
		int err = fd < 0 ? errno : remove_extra(r, root, fd, leaf, rel, protect, NULL);
		at_cache_drop(&r->dst_dirs); /* it may have been below what was removed */
		if (err != 0) {
			r->stats.failed++;
			run_emit_dst(r, root, rel, mode, "cannot delete", err);
		}
	}
}

/* Compare the destination directory's listing (DST, made by a remote rank, or NULL: list it
 * here) with the source batch. */
void run_prune_dest(struct run *r, uint32_t root, struct scan *s, const struct tree_list *dst)
{
	const char *dir = names_get(&r->names, s->dir);
	struct tree_list list;
	if (dst == NULL && tree_list(r->croots[root].dst_fd, dir, &list) != 0)
		return;
	const struct tree_list *l = dst != NULL ? dst : &list;
	/* --max-delete: in rsync's order (which ones the limit leaves), tree_sort_for_delete */
	char **order = l->names;
	if (r->opts.max_delete_set && l->n > 0 && (order = malloc(l->n * sizeof(*order))) != NULL) {
		memcpy(order, l->names, l->n * sizeof(*order));
		int dfd = at_open_dir(r->croots[root].dst_fd, dir, strlen(dir));
		if (dfd < 0 || tree_sort_for_delete(dfd, order, l->n) != 0) {
			free(order); /* not knowing the order, delete nothing here */
			order = NULL;
		}
		if (dfd >= 0)
			close(dfd);
	}
	for (size_t i = 0; order != NULL && i < l->n; i++) {
		const char *name = order[i];
		size_t lo = 0, hi = s->batch.nitems;
		const struct scan_item *twin = NULL;
		while (lo < hi && twin == NULL) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(name, s->batch.items[mid].name);
			if (c == 0)
				twin = &s->batch.items[mid];
			else if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		/* What the rules leave out of the source is not sent: the destination's entry
		 * is extra, matched by its own type (rsync's; --delete-excluded: it goes). */
		if (twin == NULL ||
		    ((r->opts.delete_excluded || (r->opts.delete_extra && !r->opts.copy.check)) &&
		     excluded_twin(r, root, dir, twin)))
			extra_entry(r, root, dir, name);
	}
	if (order != l->names)
		free(order);
	if (dst == NULL)
		tree_list_free(&list);
}
