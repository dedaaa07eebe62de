/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * path: string handling for the paths named on the command line.
 * Paths inside a tree are relative names handled with *at() calls; this is only for the
 * user's sources and destination. All returned strings are malloc'd (NULL: out of memory).
 */
#ifndef PCOPY_PATH_H
#define PCOPY_PATH_H

#include <stddef.h>

/* Copy of P without trailing slashes ("/" stays "/"). */
char *path_trim(const char *p);

/* Last component of P (after trim), as a new string: "a/b/" -> "b", "/" -> "/". */
char *path_base(const char *p);

/* Directory part of P (after trim): "a/b" -> "a", "b" -> ".", "/b" -> "/". */
char *path_dir(const char *p);

/* A + "/" + B (no doubled slash). */
char *path_join(const char *a, const char *b);

/*
 * The absolute, symlink-free form of P, which need not exist yet: its directory must.
 * NULL with errno when the directory cannot be resolved.
 */
char *path_canonical(const char *p);

/* 1 when canonical path CHILD is PARENT itself or lies below it. */
int path_within(const char *child, const char *parent);

/*
 * Compare two paths relative to a copy root in the order the walk (scan.h) meets them: a
 * directory's entries in bytewise name order, then each subdirectory's contents in turn.
 * "d/z" (an entry of d) comes before "d/a/x" (inside d's subdirectory a). strcmp-like.
 */
int path_walk_cmp(const char *a, const char *b);

#endif
