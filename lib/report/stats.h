/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats: the counts of a run (copy, --check, --tar, --extract), kept by lib/ and read by the
 * command, and their --stats summary. Formatting only: the caller says where it goes.
 */
#ifndef PCOPY_STATS_H
#define PCOPY_STATS_H

#include <stdint.h>
#include <stdio.h>

/* Counters of a run, kept by the parent (lib/run, lib/tar) and read by the caller. */
struct stats {
	uint64_t files;        /* non-directory entries found so far */
	uint64_t dirs;         /* directories found so far */
	uint64_t done;         /* entries finished (any outcome) */
	uint64_t copied;       /* entries written (or that would be, in a dry run) */
	uint64_t skipped;      /* entries already up to date (incl. metadata-only fixes) */
	uint64_t failed;       /* entries that could not be copied */
	uint64_t deleted;      /* entries removed from the destination (--delete) */
	uint64_t warnings;     /* entries skipped by design (sockets, ...) */
	uint64_t different;    /* --check: entries that differ */
	uint64_t bytes_total;  /* bytes of regular files found so far */
	uint64_t bytes_done;   /* bytes of regular files finished (copied or skipped) */
	uint64_t bytes_copied; /* bytes actually written */
	uint64_t reused;       /* --previous-manifest: hashes taken from it, files not read */
	int reusing;           /* a previous manifest is in use (the summary says REUSED) */
	double seconds;        /* wall time since the run started */
	int scanning;          /* 1 while the walk is still finding entries */
};

/* Write the --stats summary of ST to OUT: "files: 9", "copied: 7" ... one count a line, then
 * seconds and throughput (bytes copied a second), and with REUSING "hashes reused: N". */
void stats_write(FILE *out, const struct stats *st);

#endif
