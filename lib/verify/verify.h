/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify: check a directory tree against an xxh128sum manifest (pcopy --verify-manifest FILE
 * DIR, without --extract), hashing on the worker pool.
 *
 * The parent reads the whole manifest first (report/manifest.h's format, the backslash-escaped
 * lines included: every name is checked), refusing it whole when a line is malformed or
 * names something outside DIR (absolute, or with a ".." component). It then looks each name up
 * below DIR without following a symlink anywhere (at.h): a name that is, or is reached
 * through, a symlink, or that is a directory or any other non-regular file, is "not a regular
 * file". The regular files are handed to the pool, those of 1 MiB and more first, largest
 * first, so that a big file does not start last, then the small ones in manifest order,
 * several to a task; a worker opens each file again with O_NOFOLLOW and hashes it whole
 * (XXH3-128 is a sequential hash: a file cannot be hashed in parts and the parts combined),
 * reading its st_size bytes, holes hashed as zeros without reading them. Verdicts
 * are reported in manifest order whatever the order the workers finish in, then, with
 * UNLISTED, the regular files of DIR the manifest does not name, sorted bytewise.
 */
#ifndef PCOPY_VERIFY_H
#define PCOPY_VERIFY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "report/stats.h"

enum verify_verdict {
	VERIFY_OK = 1,      /* its content hashes as the manifest says */
	VERIFY_CHANGED,     /* its content does not ("FAILED", as xxh128sum -c says) */
	VERIFY_MISSING,     /* no such name below DIR */
	VERIFY_NOT_REGULAR, /* a symlink, directory or other non-regular file, or behind a symlink
	                     */
	VERIFY_UNREADABLE,  /* it could not be opened or read: ERR and REASON say why */
	VERIFY_UNLISTED,    /* a regular file below DIR the manifest does not name (UNLISTED) */
};

/* One verdict, as the result hook gets it. */
struct verify_result {
	enum verify_verdict verdict;
	const char *name; /* as the manifest names it (unescaped); UNLISTED: DIR-relative */
	const char *path; /* DIR/NAME, for a message */
	uint64_t bytes;   /* its size (0 when missing) */
	const struct hash128 *hash; /* the hash of its content (OK, CHANGED), else NULL */
	const char *reason;         /* UNREADABLE: "cannot open", "cannot read" */
	int err;                    /* UNREADABLE: errno */
};

struct verify_hooks {
	/* Every manifest line's verdict, in manifest order, then the unlisted files. */
	void (*result)(void *ctx, const struct verify_result *r);
	/* About every 100 ms, and once at the end: files are the names, done those checked. */
	void (*tick)(void *ctx, const struct stats *st);
	void *ctx;
};

struct verify_opts {
	const char *manifest;               /* the manifest file, "-": stdin */
	const char *dir;                    /* the tree to check */
	int jobs;                           /* worker processes */
	int unlisted;                       /* also report files the manifest does not name */
	long test_slow_ms;                  /* test hook: workers sleep this (mod 1000) per file */
	volatile sig_atomic_t *interrupted; /* set to a signal number by the caller's handler */
};

/*
 * Check O->dir against O->manifest. Counts go to *COUNTS, the progress counts to *ST. Returns
 * an exit status (common/exit.h): PCOPY_EXIT_OK (every name matches; with UNLISTED, nothing
 * else is there), _PARTIAL (something is changed, missing, not a regular file, unreadable or
 * unlisted), _FATAL (the manifest cannot be read or has a malformed line, DIR cannot be
 * opened, the pool cannot start: ERR says why, "FILE:LINE: ..." for a line) or
 * _SIGNALLED + signal.
 */
int verify_run(const struct verify_opts *o, const struct verify_hooks *h,
               struct verify_counts *counts, struct stats *st, char *err, size_t errlen);

/*
 * The name a manifest line's NAME stands for below DIR, written to OUT (strlen(NAME) + 1
 * bytes): "./" and "." components and doubled slashes removed ("./a//b" -> "a/b"). Returns 0,
 * or -1 when NAME is absolute, has a ".." component or names DIR itself.
 */
int verify_clean_name(const char *name, char *out);

#endif
