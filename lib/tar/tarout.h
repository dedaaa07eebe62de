/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tarout: write sources into a pax tar archive through libarchive (pcopy --tar).
 *
 * Members are named like `tar -cf A SRC` names them, by each source's base name, in
 * depth-first order with names sorted within a directory and each directory immediately
 * followed by its contents (the order GNU tar needs to restore directory times). Hard links
 * become hard-link entries, sparse files pax sparse entries; xattrs, ACLs, owner names and
 * ids and nanosecond times come from libarchive's disk reader. The archive (and the manifest)
 * are written under temporary names beside them and renamed into place at the end, the
 * manifest first ("-": stdout); temporaries that killed runs left are removed.
 *
 * Processes: the calling process walks the sources and is the only writer; a pool of worker
 * processes (lib/proc/pool.c) opens, probes, reads and hashes the members ahead of it into shared
 * memory (lib/tar/tarjob.c), so the writer mostly moves bytes from memory into libarchive. It
 * hashes those bytes again and checks them against the worker's hash. Files larger than a
 * quarter of the shared ring are read by the writer itself, with a before/after fstat check.
 */
#ifndef PCOPY_TAROUT_H
#define PCOPY_TAROUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "report/stats.h"
#include "select/select.h"

struct tarout_hooks {
	/* A member was written: MODE its st_mode, HARDLINK 1 when it is a hard link to an earlier
	 * member; HASH is the content hash of a regular file (else NULL). */
	void (*member)(void *ctx, const char *path, unsigned mode, int hardlink, uint64_t bytes,
	               const struct hash128 *hash);
	/* An entry could not be archived; the run goes on. */
	void (*failed)(void *ctx, const char *path, const char *reason, int err);
	/* Something the user should know that is no failure (a source's name is changed). */
	void (*note)(void *ctx, const char *path, const char *text);
	/* About every 100 ms, and once at the end: the counts so far (copied: members archived
	 * other than directories, as copy mode counts). */
	void (*tick)(void *ctx, const struct stats *st);
	void *ctx;
};

struct tarout_opts {
	const char *archive;  /* file name, or "-" for an uncompressed tar on stdout */
	const char *compress; /* "gzip", "bzip2", "xz", "zstd", "lz4", "none"; NULL: by suffix */
	const char *manifest; /* write an xxh128sum manifest of member paths here, or NULL */
	int jobs;             /* worker processes */
	/* What is archived, matched against paths below each source (NULL: everything). */
	struct select_rules *select;
	int one_fs; /* --one-file-system: do not descend into other file systems */
	int fsync;  /* --fsync: the archive and manifest reach the disk before they are renamed */
	volatile sig_atomic_t *interrupted; /* set by the caller's signal handler */
	long
	    test_slow_ms; /* test hook: workers sleep this many ms (mod 1000) per member; 0: none */
};

/*
 * Archive NSOURCES SOURCES. Returns an exit status (common/exit.h): PCOPY_EXIT_OK (all
 * archived), _PARTIAL (some entries failed), _FATAL (the archive could not be written; ERR
 * says why), or _SIGNALLED + signal when interrupted (no archive is left under the final
 * name).
 */
int tarout_write(const struct tarout_opts *o, char **sources, size_t nsources,
                 const struct tarout_hooks *hooks, char *err, size_t errlen);

/* The compression a file name's suffix asks for ("none" when it has no known suffix). */
const char *tarout_compression_for(const char *name);

/* 1 when C names a compression --compress accepts. */
int tarout_compression_valid(const char *c);

#endif
