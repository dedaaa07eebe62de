/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * select/fromlist: --files-from's list of names, with rsync's meaning, answering for each
 * path of the walk (relative to the transfer root) whether it is taken, and whether the walk
 * goes down into it.
 *
 * Entries are read one a line (or NUL-separated with -0); blank lines and lines starting
 * with '#' or ';' are ignored, a trailing CR is dropped. Each name is cleaned: a leading '/'
 * and "./" parts go, "//" is one '/', "a/../b" is "b", a leading ".." is dropped. "dir/",
 * ".", "dir/." and "dir/sub/.." also take the directory's direct contents; a plain "dir" is
 * taken alone,
 * unless the list is recursive (-r), which takes everything below each name. Parent
 * directories of a name are taken too (rsync's implied directories), whatever the rules say:
 * the run keeps only the names it sends (select_from_keep), so that a name left out makes no
 * parents. The transfer root (DEST itself) is sent when it is listed, or implied by a name
 * written "./name" (select_from_root). Nothing here prints.
 */
#ifndef PCOPY_SELECT_FROMLIST_H
#define PCOPY_SELECT_FROMLIST_H

#include <stddef.h>

/* One cleaned name: "" is the transfer root. */
struct select_from_name {
	char *path;   /* owned */
	int contents; /* "dir/", ".", "dir/.", "dir/sub/..": the directory's direct contents too */
	int dot;      /* written "./name" (rsync's leading "./"): the root is sent too */
};

/* The list. Zero it (or select_from_init), fill it, select_from_free() when done. */
struct select_from {
	struct select_from_name *v; /* sorted by path, no two the same */
	size_t n, cap;
	int active;    /* --files-from was given */
	int recursive; /* -r: everything below a name */
	char err[512]; /* the last failure, one line */
};

/* What the walk does with a path. */
enum select_from_verdict {
	SELECT_FROM_SKIP,    /* not on the list: leave it out (and do not go down into it) */
	SELECT_FROM_TAKE,    /* take it; a directory is not gone down into */
	SELECT_FROM_DESCEND, /* take it and go down into it (its entries are asked in turn) */
	SELECT_FROM_IMPLIED, /* a parent of a name: take it and go down into it, whatever the
	                        rules say (rsync does not filter implied directories) */
};

/* Whether the transfer root is sent, and so gives DEST itself the source's attributes. */
enum select_from_root {
	SELECT_FROM_ROOT_NO,      /* neither listed nor implied: DEST keeps its own */
	SELECT_FROM_ROOT_LISTED,  /* ".", "./", "/", "a/..": sent, no rule leaves it out */
	SELECT_FROM_ROOT_IMPLIED, /* a name written "./name": sent unless the rules leave out "." */
};

/* An empty list, not active: everything is taken. */
void select_from_init(struct select_from *l);

/* Release the names (L may be filled again). */
void select_from_free(struct select_from *l);

/*
 * Add the names of TEXT (LEN bytes, NUL-separated when NUL, else lines) to L, cleaned and
 * sorted, and mark L active. Returns 0, or -1 with errno ENOMEM.
 */
int select_from_parse(struct select_from *l, const char *text, size_t len, int nul);

/* select_from_parse() on the contents of FILE ("-": standard input). Returns 0, or -1 with
 * errno and "FILE: reason" in L->err. */
int select_from_read(struct select_from *l, const char *file, int nul);

/* Clean NAME into OUT (at least strlen(NAME) + 1 bytes); *CONTENTS set for "dir/", ".",
 * "dir/.", "dir/sub/..". OUT "" is the transfer root. */
void select_from_clean(const char *name, char *out, int *contents);

/* Whether L sends the transfer root (see enum select_from_root). */
enum select_from_root select_from_root(const struct select_from *l);

/*
 * Fill OUT (initialised, empty) with the names of L that KEEP(CTX, path) returns 1 for, and
 * L's active and -r. Returns 0, or -1 with errno ENOMEM (OUT holds a part: free it).
 */
int select_from_keep(struct select_from *out, const struct select_from *l,
                     int (*keep)(void *ctx, const char *path), void *ctx);

/* What L says of REL (relative to the transfer root, no leading '/'), a directory when
 * IS_DIR. L NULL or not active: SELECT_FROM_DESCEND. */
enum select_from_verdict select_from_decide(const struct select_from *l, const char *rel,
                                            int is_dir);

#endif
