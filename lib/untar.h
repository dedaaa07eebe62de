/*
 * untar: extract tar archives into a directory (pcopy --extract), optionally checking every
 * regular file against an xxh128sum manifest.
 *
 * One process reads the archive through libarchive (any format and compression it knows) and
 * writes through libarchive's disk writer. Nothing is written outside DEST: member paths
 * with ".." are refused, a leading "/" is stripped as GNU tar does, and no member is written
 * through a symlink: the directories on a member's way are checked here (remembering the
 * last one found safe, much cheaper than libarchive's check of every component of every
 * member), and a symlink where a directory member goes is replaced, not followed.
 *
 * A regular file is written under a temporary name (COPY_TMP_PREFIX...) beside its final
 * name while its data is hashed, and renamed into place only once its hash is known (and,
 * with a manifest, matched). Directory times and modes are set after their contents, when the
 * disk writer is closed. A tar stream is sequential (decompress, parse, write), so one process
 * does it; hashing is the only work a second one could take, and it is the cheapest part
 * (XXH3 runs at many GB/s; measured on tmpfs, the time goes to the file system calls).
 */
#ifndef PCOPY_UNTAR_H
#define PCOPY_UNTAR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "progress.h"

struct untar_hooks {
	/* A member was extracted; HASH is the content hash of a regular file (else NULL). */
	void (*member)(void *ctx, const char *path, uint64_t bytes, const struct hash128 *hash);
	/* A member could not be extracted or verified; the run goes on. */
	void (*failed)(void *ctx, const char *path, const char *reason, int err);
	/* About every 100 ms, and once at the end (copied = extracted). */
	void (*tick)(void *ctx, const struct stats *st);
	void *ctx;
};

struct untar_opts {
	const char *dest;     /* directory to extract into; created when missing (not its parent) */
	const char *manifest; /* --verify-manifest FILE, or NULL */
	int keep_owner;       /* restore owners (root) */
	volatile sig_atomic_t *interrupted; /* set by the caller's signal handler */
};

/*
 * Extract the NARCHIVES ARCHIVES ("-": stdin) into o->dest. Returns 0 (all extracted and
 * verified), 1 (some members failed, mismatched the manifest, or manifest entries were not in
 * the archives), 2 (fatal: DEST or the manifest unusable, an archive unreadable; ERR says
 * why), or 128 + signal when interrupted (no temporary file is left). Changes the working
 * directory to DEST.
 */
int untar_extract(const struct untar_opts *o, char **archives, size_t narchives,
                  const struct untar_hooks *hooks, char *err, size_t errlen);

/*
 * The name a member path is extracted under: leading "/" removed (and "./" components).
 * Returns a pointer into PATH, or NULL when the path has a ".." component or nothing is left.
 */
const char *untar_safe_path(const char *path);

#endif
