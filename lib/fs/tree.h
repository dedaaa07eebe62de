/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tree: operations on the destination tree done by the parent: creating directories,
 * listing them, and removing what --delete removes. All relative to a directory descriptor,
 * never following a symlink inside the destination; a relative path may be of any length
 * (its parent is opened a piece at a time, see at.h).
 */
#ifndef PCOPY_TREE_H
#define PCOPY_TREE_H

#include <stddef.h>

#include "fs/at.h"

/* Names of one directory (without "." and ".."), unsorted. */
struct tree_list {
	char **names;
	size_t n;
	char *buf; /* storage for the names */
};

/*
 * Make directory REL below FD (mode 0700 until its real mode is set at the end). An existing
 * directory is fine (*EXISTED = 1; when not root, one of ours without owner rwx gets them
 * until the caller sets its mode at the end); an existing non-directory is replaced. With
 * DRY_RUN, only report whether it exists. Returns 0, or an errno value.
 */
int tree_make_dir(int fd, const char *rel, int dry_run, int *existed);

/* tree_make_dir() of REL below ROOT, its parent opened through cache C (at.h). Returns 0, or
 * an errno value (of opening the parent, or of tree_make_dir). */
int tree_make_dir_below(struct at_cache *c, int root, const char *rel, int dry_run, int *existed);

/* List the open directory DFD from its start (it stays open, its offset at the end). Returns
 * 0, or -1 with errno. */
int tree_list_at(int dfd, struct tree_list *out);

/* List directory REL below FD. Returns 0, or -1 with errno. */
int tree_list(int fd, const char *rel, struct tree_list *out);

/*
 * Put the N NAMES of directory DFD in the order rsync deletes them (--max-delete takes the
 * first ones): the subdirectories first, then the other entries, each group in reverse of
 * rsync's file-list order (names bytewise, a directory's as if it ended in '/'). A name that
 * cannot be looked at counts as no directory. Returns 0, or -1 with errno (ENOMEM).
 */
int tree_sort_for_delete(int dfd, char **names, size_t n);

/* Free a listing. */
void tree_list_free(struct tree_list *l);

/* Remove REL below FD, recursively if it is a directory (never following symlinks). 0 or errno. */
int tree_remove(int fd, const char *rel);

/* --backup: where the old version of an entry about to be replaced or deleted goes. */
struct tree_backup {
	const char *suffix; /* appended to its name ("" for none) */
	int dir_fd;         /* --backup-dir, open: the entry goes to its path below it (parents
	                     * made as needed); -1: beside the entry, under its name + SUFFIX */
	int root_fd;        /* with DIR_FD: the destination root the path is from; a parent
	                     * made takes the owner, ACLs and mode of its twin below it */
};

/* Open --backup-dir DIR (relative: to FD), made with its parents if missing. Returns the
 * descriptor, or -1 with errno. */
int tree_open_backup_dir(int fd, const char *dir);

/*
 * Move NAME in directory FD, at PATH from the destination's root, to its backup name (see
 * struct tree_backup), replacing an older backup there. Returns 0, or -1 with errno.
 */
int tree_backup(const struct tree_backup *b, int fd, const char *name, const char *path);

/* What --delete must leave alone: KEEP(CTX, PATH, IS_DIR) is 1 for an excluded entry (KEEP
 * NULL: none is; before a directory's contents); with BACKUP, what it removes is backed up
 * instead (tree_backup); SPEND(CTX, PATH, IS_DIR), when not NULL, is asked right before
 * each removal and is 0 to leave the entry (--max-delete). */
struct tree_keep {
	int (*keep)(void *ctx, const char *path, int is_dir);
	void *ctx;
	const struct tree_backup *backup;
	int (*spend)(void *ctx, const char *path, int is_dir);
};

/*
 * tree_remove(), except for the entries KEEP keeps (none when KEEP is NULL): REL is named
 * PATH to KEEP and what is below it PATH/NAME...; a directory holding a kept entry stays, as
 * rsync leaves it (not an error), and so does one holding backups made beside their entries.
 * With KEEP->spend, a directory's contents go in rsync's order (tree_sort_for_delete).
 * 0 or errno.
 */
int tree_remove_keep(int fd, const char *rel, const char *path, const struct tree_keep *keep);

#endif
