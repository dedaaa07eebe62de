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

/* The verdicts of --verify-manifest (lib/verify), one count each. */
struct verify_counts {
	uint64_t names;       /* manifest lines checked */
	uint64_t verified;    /* matched */
	uint64_t changed;     /* content differs */
	uint64_t missing;     /* not there */
	uint64_t not_regular; /* a symlink, directory or other non-regular file */
	uint64_t unreadable;  /* could not be opened or read */
	uint64_t unlisted;    /* --unlisted: regular files the manifest does not name */
	uint64_t bytes;       /* bytes hashed */
};

/* Write the --stats summary of ST to OUT: "files: 9", "copied: 7" ... one count a line, then
 * seconds and throughput (bytes copied a second), and with REUSING "hashes reused: N". */
void stats_write(FILE *out, const struct stats *st);

/* Write --verify-manifest's --stats summary of C to OUT ("names: 9", "verified: 7" ...),
 * then SECONDS and the throughput (bytes hashed a second). */
void stats_verify_write(FILE *out, const struct verify_counts *c, double seconds);

#endif
