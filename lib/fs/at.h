/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * at: directory descriptors for paths relative to a root, so that every *at() call gets a
 * parent directory descriptor and a single name.
 *
 * This is what makes trees deeper than PATH_MAX work (a long path is opened a piece at a
 * time, each piece relative to the last) and what keeps writes inside DEST: no symlink is
 * followed anywhere on the way to a parent directory. A cache keeps the last parent open,
 * which also spares the kernel walking the same long path for every call: files arrive in
 * depth-first order, so most lookups hit it.
 */
#ifndef PCOPY_AT_H
#define PCOPY_AT_H

#include <stddef.h>

/* The last parent directory opened below ROOT (owned by the cache). */
struct at_cache {
	int root;   /* the root descriptor DIR is relative to (not owned) */
	int fd;     /* open directory ROOT/DIR, or -1 */
	char *dir;  /* its path relative to ROOT */
	size_t len; /* strlen(dir) */
	size_t cap;
	/* Told right before FD is closed (NULL: nobody), with ARG: for whoever remembers the
	 * descriptor by its number (meta_ctx_forget), which a later open may take again. */
	void (*closing)(void *arg, int fd);
	void *closing_arg;
};

/* An empty cache (no CLOSING hook). */
void at_cache_init(struct at_cache *c);

/* Close the cached directory (after the tree under it may have changed). */
void at_cache_drop(struct at_cache *c);

/* Free the cache. */
void at_cache_free(struct at_cache *c);

/*
 * The directory holding REL (a path relative to ROOT, no "..") and, in *LEAF, REL's last
 * component. The descriptor is ROOT itself or the cache's: the caller never closes it.
 * Returns it, or -1 with errno (ELOOP when a symlink stands on the way).
 */
int at_parent(struct at_cache *c, int root, const char *rel, const char **leaf);

/*
 * Open REL (a path relative to ROOT of any length, no "..") with FLAGS (O_NOFOLLOW is added),
 * through the cache C. Returns a new descriptor, or -1 with errno.
 */
int at_open(struct at_cache *c, int root, const char *rel, int flags);

/*
 * Open directory REL (LEN bytes, any length, no "..") below ROOT, never following a symlink.
 * Returns a new descriptor (O_RDONLY), or -1 with errno.
 */
int at_open_dir(int root, const char *rel, size_t len);

#endif
