/* SPDX-License-Identifier: BSD-2-Clause */
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
 * A regular file is written under a temporary name (tmpname.h) beside its final
 * name while its data is hashed; every write's result counts, and what was written is read
 * back (its data extents, holes are never written) before it is renamed into place (with a
 * manifest, only when its hash matches). Directory times and modes are set after their
 * contents, when the disk writer is closed; a "." member is DEST itself, whose mode and times
 * are set last. Paths of any length work: DEST-relative paths are resolved through directory
 * descriptors (at.h), never following a symlink.
 *
 * libarchive's statuses are read as bsdtar reads them: ARCHIVE_WARN (a bad CRC, an ACL that
 * cannot be set) makes the member failed but it is extracted as bsdtar would; ARCHIVE_FAILED
 * fails that member and the archive goes on; ARCHIVE_RETRY skips damage to the next member;
 * only ARCHIVE_FATAL ends an archive. A member declaring more than UNTAR_MAX_SIZE bytes, or
 * more than the file system takes, is refused (EFBIG) rather than hashed as zeros for ever. A tar
 * stream is sequential (decompress, parse, write), so one process does it; hashing is the only work
 * a second one could take, and it is the cheapest part (XXH3 runs at many GB/s; measured on tmpfs,
 * the time goes to the file system calls).
 */
#ifndef PCOPY_UNTAR_H
#define PCOPY_UNTAR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "report/stats.h"

/* The largest member extracted: 256 TiB (its holes alone take XXH3 about 20 minutes). */
#define UNTAR_MAX_SIZE ((int64_t)1 << 48)

struct untar_hooks {
	/* A member was extracted: MODE its type bits (as st_mode's), HARDLINK 1 when it is a hard
	 * link to another; HASH is the content hash of a regular file (else NULL). */
	void (*member)(void *ctx, const char *path, unsigned mode, int hardlink, uint64_t bytes,
	               const struct hash128 *hash);
	/*
	 * A member could not be extracted, verified, or was damaged; the run goes on. ARCHIVE is
	 * the archive it is in (NULL: a manifest line), PATH the member (NULL: the archive
	 * itself, or DEST's closing); ERR an errno value or 0.
	 */
	void (*failed)(void *ctx, const char *archive, const char *path, const char *reason,
	               int err);
	/* About every 100 ms, and once at the end (copied = extracted). */
	void (*tick)(void *ctx, const struct stats *st);
	void *ctx;
};

struct untar_opts {
	const char *dest;     /* directory to extract into; created when missing (not its parent) */
	const char *manifest; /* --verify-manifest FILE, or NULL */
	int keep_owner;       /* restore owners (root) */
	int64_t max_size;     /* members declaring more are refused (EFBIG); 0: UNTAR_MAX_SIZE */
	volatile sig_atomic_t *interrupted; /* set by the caller's signal handler */
};

/*
 * Extract the NARCHIVES ARCHIVES ("-": stdin) into o->dest. Returns an exit status
 * (common/exit.h): PCOPY_EXIT_OK (all extracted and verified), _PARTIAL (some members failed,
 * were damaged, mismatched the manifest, an archive was cut short, or manifest entries were
 * not in the archives), _FATAL (fatal, nothing extracted: DEST or the manifest unusable, an
 * archive unreadable from its start; ERR says why), or _SIGNALLED + signal when interrupted
 * (no temporary file is left). Changes the working directory to DEST.
 */
int untar_extract(const struct untar_opts *o, char **archives, size_t narchives,
                  const struct untar_hooks *hooks, char *err, size_t errlen);

/*
 * The name a member path is extracted under: leading "/" removed (and "./" components).
 * Returns a pointer into PATH; "." when the path names DEST itself ("./", ".", "/"); NULL
 * when it is empty or has a ".." component.
 */
const char *untar_safe_path(const char *path);

#endif
