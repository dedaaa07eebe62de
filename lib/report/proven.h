/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proven: a manifest's stat sidecar, the proof that lets a later run (--previous-manifest)
 * take a file's hash from the manifest instead of reading the file again.
 *
 * The manifest stays as xxh128sum reads it; the stat data goes beside it in MANIFEST.pcopy-stat,
 * a text file saved as the manifest is (complete under a temporary name, renamed over the
 * old one, synced with --fsync):
 *
 *   pcopy-stat 1 <XXH3-128 of the manifest's bytes, 32 hex>
 *   <line> <dev> <ino> <size> <mtime s>.<ns> <ctime s>.<ns>
 *   ...
 *
 * one record per manifest line whose file's stat data was read before its hash (LINE: its
 * number in the manifest, from 1, increasing), each settled (stamp.h). The digest binds the
 * sidecar to the one manifest it was written with: a manifest changed or replaced since
 * makes the whole sidecar stale. Trust is in the stamps: a file whose DEST stat data equals
 * its record gets the manifest's hash for it. A sidecar edited to match wrong hashes is not
 * detected, as a manifest edited by hand is not: both are the user's files.
 */
#ifndef PCOPY_PROVEN_H
#define PCOPY_PROVEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/stamp.h"

/* The sidecar's first word and format version. */
#define PROVEN_MAGIC "pcopy-stat"
#define PROVEN_VERSION 1
/* What the sidecar's name adds to the manifest's. */
#define PROVEN_SUFFIX ".pcopy-stat"

/* A file a manifest and its sidecar vouch for. */
struct proven_file {
	const char *path; /* its manifest path (unescaped), in the table's memory */
	struct hash128 hash;
	struct stamp stamp; /* DEST's stat data when the hash was read */
};

/* A loaded manifest with its sidecar: the files that have a record, sorted by path. */
struct proven {
	struct proven_file *files;
	size_t n;
	char *text; /* the manifest's bytes; the paths point into them */
};

/* What proven_load came to. */
enum proven_result {
	PROVEN_LOADED,   /* P holds the table (maybe empty) */
	PROVEN_UNUSABLE, /* WHY says why (missing, stale, corrupt): hash every file */
	PROVEN_FAILED,   /* out of memory or an I/O error: errno says why */
};

/* Read MANIFEST and its sidecar into *P. On anything but PROVEN_LOADED, *P is empty. */
enum proven_result proven_load(struct proven *p, const char *manifest, char *why, size_t len);

/* The file whose manifest path is PREFIX + PATH, or NULL. */
const struct proven_file *proven_find(const struct proven *p, const char *prefix, const char *path);

/* Free P's memory (an empty P is fine). */
void proven_free(struct proven *p);

/* MANIFEST's sidecar name (malloc'd; NULL when out of memory). */
char *proven_sidecar(const char *manifest);

/* One record of a sidecar to be saved. */
struct proven_record {
	uint64_t line; /* its manifest line, from 1 */
	struct stamp stamp;
};

/*
 * Save the N records RECS (increasing lines) as the sidecar of the manifest MANIFEST whose
 * bytes have the XXH3-128 DIGEST: written under a temporary name beside it, fsynced when
 * SYNC (and the directory after the rename), renamed over the old sidecar. Returns 0, or -1
 * with errno (no temporary left).
 */
int proven_save(const char *manifest, struct hash128 digest, const struct proven_record *recs,
                size_t n, int sync);

#endif
