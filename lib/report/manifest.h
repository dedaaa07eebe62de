/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * manifest: the xxh128sum-compatible list of every regular file and its XXH3-128 hash.
 *
 * One line per file, "<32 hex>  <path>", sorted bytewise by path. A path holding a newline
 * or a backslash is written the way GNU coreutils' *sum tools write it: the line starts with
 * a backslash and the name has "\\" for a backslash, "\n" for a newline and "\r" for a
 * carriage return (xxhsum 0.8.1 cannot check such lines; everything else checks with
 * `xxh128sum -c`).
 *
 * Copy mode and --tar save a manifest through the one save here, all or nothing: the file
 * is complete before it has a name, then given a temporary name (tmpname.h: NAME.pcopy-tmp.PID
 * beside NAME, or .pcopy-tmp.PID.manifest for a file opened unnamed) and renamed over NAME;
 * the NAME.pcopy-tmp.PID temporaries a killed run left are removed by the next save.
 */
#ifndef PCOPY_MANIFEST_H
#define PCOPY_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hash.h"

struct manifest_line {
	const char *prefix; /* leading part of the path ("" or "dir/") */
	const char *path;   /* rest of the path */
	struct hash128 hash;
	uint64_t tag; /* the caller's (which entry the line is of), carried through the sort */
};

/* Sort LINES by full path (bytewise) and write them to OUT. Returns 0, or -1 with errno. */
int manifest_write(FILE *out, struct manifest_line *lines, size_t n);

/*
 * Save LINES (sorted as manifest_write does) as the manifest PATH, all or nothing: written
 * to manifest_tmp_name(PATH), fsynced when SYNC (and PATH's directory after the rename),
 * renamed over PATH. PATH "-" is stdout. With DIGEST (else NULL), the XXH3-128 of the bytes
 * written goes there (a stat sidecar names it: proven.h). Returns 0, or -1 with errno (no
 * temporary left).
 */
int manifest_save(const char *path, struct manifest_line *lines, size_t n, int sync,
                  struct hash128 *digest);

/* What manifest_save_unnamed did. */
enum manifest_saved {
	MANIFEST_SAVED,  /* the manifest is in place */
	MANIFEST_FAILED, /* errno says why; no temporary left, the old manifest untouched */
	MANIFEST_BY_NAME /* unnamed files cannot be named here (no /proc): use manifest_save */
};

/*
 * manifest_save for a manifest whose file was opened beforehand: FD is an unnamed file open
 * for writing in directory DIR (compat_open_unnamed), NAME its name there. The same save:
 * complete (and fsynced when SYNC) before it has a name, then named ".pcopy-tmp.PID.manifest"
 * in DIR (tmpname.h), renamed over NAME, DIR synced when SYNC, DIGEST as manifest_save's.
 * FD is closed in every case.
 */
enum manifest_saved manifest_save_unnamed(int fd, int dir, const char *name,
                                          struct manifest_line *lines, size_t n, int sync,
                                          struct hash128 *digest);

/* The temporary name this process writes NAME under until it is complete:
 * tmpname_beside(NAME, its pid) (malloc'd; NULL when out of memory). --tar names its archive
 * so too. */
char *manifest_tmp_name(const char *name);

/*
 * Remove the temporaries beside NAME ("NAME.pcopy-tmp.PID", regular files) whose process no
 * longer runs on this machine: what a killed run left. Those of live processes stay.
 */
void manifest_tmp_clean(const char *name);

/* fsync the directory holding NAME (so a rename into it lasts). Returns 0, or -1 with errno. */
int manifest_sync_dir(const char *name);

/*
 * Parse one manifest line (without its newline) into HASH and the unescaped path, written to
 * PATH (a buffer of PATH_LEN bytes). Returns 0, or -1 when the line is malformed.
 */
int manifest_parse_line(const char *line, struct hash128 *hash, char *path, size_t path_len);

/*
 * NAME as a manifest line, or a line of --verify-manifest's report, writes it: NAME itself,
 * or, when it holds a backslash, newline or carriage return, a backslash and then NAME with
 * "\\", "\n" and "\r" for those, as GNU coreutils' *sum -c do. Returns a malloc'd string,
 * or NULL (ENOMEM).
 */
char *manifest_escape_name(const char *name);

#endif
