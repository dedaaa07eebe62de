/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listdir: one directory of a walk, read on both sides at once: the source directory's
 * entries with their lstat data, sorted by name, and the names of its twin in the
 * destination (what the destination has that the source has not is found by comparing the
 * two). It is the unit of a parallel walk: anyone holding the roots' descriptors can read any
 * directory of the tree with it, in any order, and hand the records on. The parent's walk
 * (scan.h, run/walk.c) and an MPI rank asked for a listing (mpi/agent.c) both read with it.
 * It touches nothing but the two directories and the struct listdir.
 */
#ifndef PCOPY_LISTDIR_H
#define PCOPY_LISTDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/tree.h"

/* An entry of a source directory. */
struct scan_item {
	const char *name; /* entry name inside the directory (no slash), NUL-terminated */
	struct stat st;   /* lstat of the entry */
	int made; /* a directory whose destination twin the process that read the listing made
	             already (pcopy-mpi): errno << 1 | existed; LISTDIR_CURRENT: a file the
	             process that read the listing found up to date (copy_current); -1
	             otherwise (listdir_read) */
};

#define LISTDIR_CURRENT (-2)

/* One directory, both sides. Zero it before the first listdir_read. */
struct listdir {
	struct scan_item *items; /* the source directory's entries, sorted bytewise by name */
	size_t nitems, items_cap;
	struct tree_list src; /* the names ITEMS point into */
	struct tree_list dst; /* the destination twin's names, unsorted, when DST_LISTED */
	int dst_listed;       /* DST holds the twin's names (else not asked, or not listable) */
	int err;              /* errno when the source directory could not be read, else 0 */
};

/*
 * Read directory DIR ("." for the root) below SRC_FD into L (entries that vanish between
 * readdir and lstat are left out), then, with DST_FD >= 0, the names of DIR below DST_FD. What
 * L held before is dropped. Returns 0, or -1 with L->err set when the source directory could
 * not be read (the destination is then not listed); a destination twin that cannot be listed
 * only leaves L->dst_listed 0.
 */
int listdir_read(struct listdir *l, int src_fd, int dst_fd, const char *dir);

/* listdir_read of the open directory SFD and, with DFD >= 0, its destination twin DFD
 * (neither is closed; both are read from their start). */
int listdir_read_open(struct listdir *l, int sfd, int dfd);

/* Sort the N items of L by name (for items filled in by other means). */
void listdir_sort(struct scan_item *items, size_t n);

/* Free what L holds (it can be read into again). */
void listdir_free(struct listdir *l);

/*
 * A listing packed into bytes with no pointers, to cross a process boundary (a pool worker's
 * shared slot, an MPI message): a struct listdir_head, then per item its struct stat, its
 * int32_t MADE, a uint32_t length and the name with its NUL, then the destination names,
 * each with its NUL (NDST of them; UINT32_MAX: not listed).
 */
struct listdir_head {
	uint32_t n;    /* items */
	int32_t err;   /* listdir.err: the source directory could not be read (then N is 0) */
	uint32_t ndst; /* destination names, or UINT32_MAX when DST_LISTED was 0 */
	uint32_t pad;
};

/* Bytes listdir_pack() writes for L (ERR: the listing failed with that errno, items left out). */
size_t listdir_pack_size(const struct listdir *l, int err);

/* Pack L (ERR as for listdir_pack_size) into OUT, which holds listdir_pack_size() bytes. */
void listdir_pack(const struct listdir *l, int err, unsigned char *out);

/* A packed listing read back: ITEMS and DST point into the packed bytes. */
struct listdir_view {
	struct scan_item *items;
	size_t nitems, items_cap;
	char **dst; /* the destination names, when DST_LISTED */
	size_t ndst, dst_cap;
	int dst_listed;
	int err;
};

/* Read the LEN packed bytes at P into V (which stays valid while they do). Returns 0, or -1
 * with errno (ENOMEM; EBADMSG when the bytes are not a whole listing). */
int listdir_unpack(struct listdir_view *v, const unsigned char *p, size_t len);

/* Free what V holds. */
void listdir_view_free(struct listdir_view *v);

#endif
