/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inotab: a hash table from (dev, ino) to the first entry seen with that inode, so that
 * later names of a multiply linked file become hard links to it (copies and --tar alike).
 */
#ifndef PCOPY_INOTAB_H
#define PCOPY_INOTAB_H

#include <stddef.h>
#include <sys/types.h>

struct inotab {
	struct inotab_slot {
		dev_t dev;
		ino_t ino;
		size_t entry; /* the caller's index + 1; 0 = empty */
	} * slots;
	size_t cap, used; /* open addressing, at most half full */
};

/*
 * Look up (DEV, INO); when absent, record ENTRY for it. Returns the recorded entry + 1, or 0
 * when it was absent (or memory ran out: the caller then treats it as a file of its own).
 */
size_t inotab_find_or_add(struct inotab *t, dev_t dev, ino_t ino, size_t entry);

/* Free the table (it may be used again, empty). */
void inotab_free(struct inotab *t);

#endif
