/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify/internal.h: what the files of lib/verify share and nobody else uses: verify.c (the
 * parent: names looked up, handed out, verdicts reported in order), vlist.c (the manifest
 * read into the name table; the walk of DIR for --unlisted) and vworker.c (a worker hashing
 * one file a task).
 */
#ifndef PCOPY_VERIFY_INTERNAL_H
#define PCOPY_VERIFY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/shm.h"
#include "proc/pool.h"
#include "verify/verify.h"

#define VERIFY_QUEUE_CAP 1024
#define VERIFY_MAX_TRIES 3
/* A task holds up to VERIFY_BATCH names whose sizes add up to less than VERIFY_BATCH_BYTES
 * (one queue round trip for many small files); files of VERIFY_BIG bytes and more are handed
 * out first, largest first, one a task. */
#define VERIFY_BATCH 16
#define VERIFY_BATCH_BYTES (UINT64_C(1) << 20)
#define VERIFY_BIG (UINT64_C(1) << 20)

/* A task: hash the regular files NAMES below the root. The first field is the id (pool.h). */
struct verify_task {
	uint64_t id;                  /* position + 1 of its first name in the hand-out order */
	uint32_t count;               /* names in it, 1 to VERIFY_BATCH */
	uint32_t tries;               /* times it was handed out before */
	uint64_t names[VERIFY_BATCH]; /* arena offsets of the cleaned names, relative to the root */
};

/* A worker's answer about one name of a task. */
struct verify_answer {
	uint64_t bytes;      /* bytes hashed */
	struct hash128 hash; /* with VERIFY_OK: the content's hash (the parent compares) */
	int32_t verdict;     /* VERIFY_OK (hashed), _MISSING, _NOT_REGULAR, _UNREADABLE; 0: not done
	                        (the worker was stopped) */
	int32_t err;         /* errno for _UNREADABLE */
	int32_t reading;     /* _UNREADABLE: 1 when reading failed, 0 when opening did */
	int32_t pad;
};

/* A worker's answer about a task. The first field is the id. */
struct verify_done {
	uint64_t id;
	uint32_t count;
	uint32_t pad;
	struct verify_answer a[VERIFY_BATCH];
};

/* What the workers need; set before the pool starts, inherited by fork. */
struct verify_share {
	int root;                  /* DIR, open */
	const struct names *names; /* the arena the tasks' names point into */
	long slow_ms;              /* test hook */
};

/* One manifest line. Parent only. */
struct verify_name {
	char *shown;         /* the name as the manifest has it (unescaped) */
	uint64_t name;       /* arena offset of the cleaned name */
	struct hash128 want; /* the manifest's hash */
	uint64_t size;       /* its size, looked up by the parent */
	int verdict;         /* 0 until known */
	int err, reading;    /* VERIFY_UNREADABLE */
	struct hash128 got;  /* VERIFY_OK or _CHANGED: what it hashes to */
};

/* The manifest, read. Parent only. */
struct verify_list {
	struct verify_name *v;
	size_t n, cap;
	char **sorted; /* --unlisted: the cleaned names, sorted (pointers into the arena) */
	dev_t dev;     /* the manifest file itself, when it is a regular file: never unlisted */
	ino_t ino;
	int is_file;
};

/* vlist.c */
/* Read manifest FILE ("-": stdin) into L, its cleaned names into NAMES. Returns 0, or -1 with
 * ERR set ("FILE: cannot open ...", "FILE:LINE: malformed manifest line"). */
int verify_list_read(struct verify_list *l, struct names *names, const char *file, char *err,
                     size_t errlen);
/* Free L. */
void verify_list_free(struct verify_list *l);
/* Sort L's cleaned names for verify_list_has. Returns 0, or -1 (ENOMEM). */
int verify_list_index(struct verify_list *l, const struct names *names);
/* 1 when cleaned name NAME is listed. */
int verify_list_has(const struct verify_list *l, const char *name);
/*
 * --unlisted: the regular files below ROOT (never through a symlink) that L does not list,
 * appended to *OUT (malloc'd names, *N of them) and sorted bytewise. POLL(CTX) is called
 * between directories; when it returns 1 the walk stops there (and returns 0). Returns 0, or
 * -1 with errno (a directory that cannot be read is not an error: ON_ERROR(CTX, PATH, ERRNO)
 * is told and the walk goes on).
 */
int verify_list_unlisted(const struct verify_list *l, int root, char ***out, size_t *n,
                         int (*poll)(void *ctx),
                         void (*on_error)(void *ctx, const char *path, int err), void *ctx);

/* vworker.c */
/* A pool worker (pool_worker_fn) whose ARG is a struct verify_share. */
int verify_worker(struct pool *p, void *arg, int index);

#endif
