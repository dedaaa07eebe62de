/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * select: which entries of a source tree a run takes, decided from their path relative to
 * the transfer root, with rsync's meaning: an ordered list of filter rules (--exclude,
 * --include, --exclude-from, --include-from, --filter with "+", "-", "merge" and the
 * per-directory "dir-merge"), the first matching rule wins, and --max-size / --min-size for
 * regular files. Used by the copy walk (lib/run), the archive walk (lib/tar) and pcopy-mpi's
 * agents (lib/mpi).
 *
 * The rules are built once (select_add, select_add_file) before a run. A "dir-merge NAME"
 * rule stands for the rules of the file NAME in each directory of the walk: the walk calls
 * select_enter_dir() for a directory before it matches that directory's entries, which reads
 * NAME there and stacks its rules in front of those inherited from the parent directories
 * (rsync's order), and select_leave_dir() when a recursive walk is done with it. Without a
 * dir-merge rule both cost nothing. Functions that fail return -1 with errno and leave a
 * one-line message for select_error(); nothing here prints.
 */
#ifndef PCOPY_SELECT_H
#define PCOPY_SELECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a rule does with what it matches. */
enum select_kind {
	SELECT_EXCLUDE,   /* "- PATTERN", --exclude: leave it out (and protect it from --delete) */
	SELECT_INCLUDE,   /* "+ PATTERN", --include: take it */
	SELECT_DIR_MERGE, /* "dir-merge NAME", ": NAME": the rules of NAME in each directory */
};

struct select_rule {
	enum select_kind kind;
	char *pattern; /* the rsync pattern, or the dir-merge file name (owned) */
	int negate;    /* "-!" / "+!": the rule applies to what PATTERN does not match */
};

/* An ordered list of rules. */
struct select_list {
	struct select_rule *v;
	size_t n, cap;
};

/* The rules read from one directory's dir-merge files, one list per dir-merge rule. */
struct select_frame {
	char *dir;                 /* the directory, relative to the transfer root ("" the root) */
	struct select_list *lists; /* lists[k]: from the file of the k-th dir-merge rule */
};

/* How a run selects. Zero it, then add rules; select_free() when done. */
struct select_rules {
	struct select_list top;      /* the rules in command-line order */
	size_t nmerge;               /* how many of them are dir-merge rules */
	int64_t min_size;            /* --min-size: regular files smaller are skipped; 0: none */
	int64_t max_size;            /* --max-size: regular files larger are skipped; -1: none */
	struct select_frame *frames; /* the walk's current directory and its ancestors, deepest
	                                last (only with dir-merge rules) */
	size_t nframes, frames_cap;
	char err[512]; /* what the last failure was about, one line */
};

/* How a rule's text is read: a --filter RULE, or an --exclude / --include PATTERN (which may
 * start with "- " or "+ " to say which, or be "!" to clear the list, as rsync's). */
enum select_syntax {
	SELECT_FILTER,     /* --filter, a merge file's line: "+ PAT", "dir-merge NAME", ... */
	SELECT_AS_EXCLUDE, /* --exclude, --exclude-from's line */
	SELECT_AS_INCLUDE, /* --include, --include-from's line */
};

/* An empty rule set: everything is taken. */
void select_init(struct select_rules *s);

/* Release the rules and the walk's stack. */
void select_free(struct select_rules *s);

/*
 * Add the rule TEXT read with SYNTAX at the end of S ("merge FILE" adds FILE's rules there).
 * Returns 0, or -1 with errno EINVAL and "bad filter rule 'TEXT'" (or the merge file's
 * problem) in select_error(S).
 */
int select_add(struct select_rules *s, const char *text, enum select_syntax syntax);

/*
 * Add the rules of FILE ("-": standard input), one a line read with SYNTAX; blank lines and
 * lines starting with ';' or '#' are ignored. Returns 0, or -1 with errno and
 * "FILE: reason" or "bad filter rule 'LINE'" in select_error(S).
 */
int select_add_file(struct select_rules *s, const char *file, enum select_syntax syntax);

/* --max-size (MAX 1) or --min-size (MAX 0) from TEXT with rsync's units (select_parse_size).
 * Returns 0, or -1 with errno EINVAL and a message in select_error(S). */
int select_set_size(struct select_rules *s, int max, const char *text);

/*
 * A size in rsync's spelling into *BYTES: a number (maybe with a fraction) and an optional
 * unit, B (bytes), K, M, G, T or P in powers of 1024, with "B" after the letter (KB) powers
 * of 1000, with "iB" (KiB) 1024 again, and an optional "+1" or "-1" at the end; no unit:
 * bytes. Returns 0, or -1 with errno EINVAL.
 */
int select_parse_size(const char *text, int64_t *bytes);

/* 1 when S selects anything at all (a rule or a size limit): walks skip it otherwise. */
int select_any(const struct select_rules *s);

/* 1 when S has a dir-merge rule (the walk must call select_enter_dir). */
int select_has_dir_merge(const struct select_rules *s);

/*
 * The walk is about to match the entries of directory DIR (relative to ATFD, "." for ATFD
 * itself), whose path in the transfer is PREFIX + DIR (PREFIX "" or NULL, or "name/" for a
 * source copied by its name; DIR "." adds nothing). Forgets the stacked directories that are
 * not its ancestors, then reads its dir-merge files (a missing one has no rules). Returns
 * 0, or -1 with errno and "PATH: reason" or "bad filter rule ..." in select_error(S). Does
 * nothing without dir-merge rules; S NULL: nothing.
 */
int select_enter_dir(struct select_rules *s, int atfd, const char *dir, const char *prefix);

/* A recursive walk is done with the directory it entered last. */
void select_leave_dir(struct select_rules *s);

/*
 * 1 when the rules leave out PREFIX + REL (see select_enter_dir; REL relative to the transfer
 * root, a directory when IS_DIR): the first rule that matches decides, none takes it. Also 1
 * when memory for the path runs out. S NULL: 0.
 */
int select_excluded(const struct select_rules *s, const char *prefix, const char *rel, int is_dir);

/* 1 when --max-size / --min-size leave out an entry of MODE and SIZE (regular files only). */
int select_size_skipped(const struct select_rules *s, mode_t mode, int64_t size);

/* The message of the last failure. */
const char *select_error(const struct select_rules *s);

/*
 * 1 when PATTERN matches REL, a path relative to the transfer root without a leading slash
 * (for a source copied by its name, that name is REL's first component), a directory when
 * IS_DIR, under rsync's PATTERN MATCHING RULES: a trailing '/' matches only directories, a
 * leading '/' anchors at the transfer root, a pattern without '/' or "**" matches the last
 * component, an unanchored one with '/' the last components; '*' and '?' stay within a
 * component, "**" crosses '/', "[...]" sets, '\' escapes (only when the pattern has a
 * wildcard), three trailing stars after "dir/" match dir itself too.
 */
int select_match(const char *pattern, const char *rel, int is_dir);

#endif
