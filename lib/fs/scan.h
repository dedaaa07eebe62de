/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * scan: walk a source tree one directory at a time, depth first, names sorted.
 *
 * The caller (the parent process) asks for the next directory and gets all of its entries
 * with their lstat data, sorted bytewise by name; it then tells the walker which of the
 * subdirectories to descend into. Directories are visited in the order GNU tar and a sorted
 * manifest expect: each directory right after its parent's entries, siblings in name order.
 * Only one directory is open at a time, so the walk needs O(depth) descriptors (one).
 * Paths are kept in the shared name arena, relative to the root descriptor ("." is the root).
 * Each directory is read with listdir_read() (listdir.h), with its destination twin when the
 * walk was given a destination and the directory was flagged (SCAN_FLAG) as existing there.
 */
#ifndef PCOPY_SCAN_H
#define PCOPY_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/shm.h"
#include "fs/listdir.h"
#include "fs/tree.h"

struct scan {
	int root_fd;             /* directory the paths are relative to */
	int dst_fd;              /* the destination root, whose twins of flagged directories are
	                            listed too; -1: none */
	struct names *names;     /* arena holding directory paths */
	uint64_t *stack;         /* directories still to visit (arena offsets), top = last */
	size_t depth, stack_cap; /* used and allocated length of STACK */
	uint64_t *pending;       /* subdirectories chosen while handling the current batch */
	size_t npending, pending_cap;
	struct listdir batch; /* the current batch: batch.items, batch.nitems; batch.dst */
	uint64_t dir;         /* arena offset of the directory of the current batch */
	int dir_flag;         /* SCAN_FLAG was set on it when it was handed to scan_descend */
	int err;              /* errno of the last failed directory, 0 if none */
	int rsync_order;      /* siblings in rsync's order (scan_rsync_order) */
};

/* A bit of the path values given to scan_descend() that the walker carries to s->dir_flag. */
#define SCAN_FLAG ((uint64_t)1 << 63)

/* Start a walk of the tree below ROOT_FD whose first directory is at arena offset ROOT_PATH;
 * DST_FD >= 0: the destination root, whose twins of directories flagged SCAN_FLAG are listed
 * into s->batch.dst. Returns 0, or -1 (ENOMEM). */
int scan_start(struct scan *s, int root_fd, int dst_fd, struct names *names, uint64_t root_path);

/*
 * Read the next directory. Returns 1 with s->dir and s->batch set; 0 when the walk is over;
 * -1 when the directory could not be read (s->dir names it, s->err says why; the walk can
 * go on with the next call).
 */
int scan_next(struct scan *s);

/* Visit the subdirectory at arena offset PATH after the current batch (call in name order).
 * Returns 0, or -1 (ENOMEM). */
int scan_descend(struct scan *s, uint64_t path);

/* From now on visit sibling directories in rsync's order, their names compared as if they
 * ended in '/' ("a b" before "a"), not bytewise: for --max-delete, which follows the walk. */
void scan_rsync_order(struct scan *s);

/*
 * For walks whose directories are read elsewhere (run.h, struct run_remote): the next
 * directory to visit, as given to scan_descend() (SCAN_FLAG included), without taking it.
 * Returns 1 with *DIR set, or 0 when none is left.
 */
int scan_peek(const struct scan *s, uint64_t *dir);

/* Take the directory scan_peek() gave off the list of those to visit. */
void scan_drop(struct scan *s);

/*
 * Read directory DIR (arena offset, SCAN_FLAG allowed) below s->root_fd into the batch, as
 * scan_next() would. Returns 1, or -1 with s->err set.
 */
int scan_read_dir(struct scan *s, uint64_t dir);

/*
 * Make the N entries at ITEMS, read elsewhere, the batch of directory DIR (SCAN_FLAG
 * allowed), sorted by name, without a destination side; their names must stay valid until
 * the next batch. ERR not 0: the directory could not be read (s->err). Returns 0, or -1 when
 * out of memory.
 */
int scan_set(struct scan *s, uint64_t dir, const struct scan_item *items, size_t n, int err);

/* Free everything the walk holds. */
void scan_end(struct scan *s);

/*
 * Join DIR and NAME into the arena ("." + NAME gives NAME). Returns the new offset, or
 * UINT64_MAX with errno.
 */
uint64_t scan_join(struct names *names, const char *dir, const char *name);

#endif
