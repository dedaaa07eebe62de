/*
 * select: which entries of a source tree a run takes, decided from their path relative to
 * the transfer root. Today the --exclude patterns with rsync's meaning; filter rules,
 * files-from lists and size limits belong here too. Used by the copy walk (lib/run), the
 * archive walk (lib/tar) and pcopy-mpi's agents (lib/mpi). Pure functions: no I/O.
 */
#ifndef PCOPY_SELECT_H
#define PCOPY_SELECT_H

#include <stddef.h>

/*
 * 1 when --exclude PATTERN matches REL, a path relative to the transfer root without a
 * leading slash (for a source copied by its name, that name is REL's first component), a
 * directory when IS_DIR, under rsync's PATTERN MATCHING RULES: a trailing '/' matches only
 * directories, a leading '/' anchors at the transfer root, a pattern without '/' or "**"
 * matches the last component, an unanchored one with '/' the last components; '*' and '?'
 * stay within a component, "**" crosses '/', "[...]" sets, '\' escapes (only when the
 * pattern has a wildcard), three trailing stars after "dir/" match dir itself too.
 */
int select_match(const char *pattern, const char *rel, int is_dir);

/*
 * 1 when one of the N PATTERNS matches PREFIX + REL (see select_match; PREFIX: "" or NULL, or
 * "name/" for a source copied by its name), or when memory for the path runs out.
 */
int select_excluded(char *const *patterns, size_t n, const char *prefix, const char *rel,
                    int is_dir);

#endif
