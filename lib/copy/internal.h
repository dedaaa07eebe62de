/*
 * copy/internal.h: what the files of lib/copy share and nobody else uses: copy.c (one
 * file's copy: copy_run, the per-type paths, rename into place), data.c (the data path:
 * stream, mmap re-hash, kernel copy, O_DIRECT re-read), part.c (split parts and their seal)
 * and check.c (--check's comparison).
 */
#ifndef PCOPY_COPY_INTERNAL_H
#define PCOPY_COPY_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "copy/copy.h"

/* Marks a source that changed under us (distinct from real I/O errors). */
#define CHANGED_ERRNO ESTALE
/* O_DIRECT reads (--fsync) use offsets, lengths and a buffer aligned to this: a multiple of
 * every logical block size Linux block devices have. */
#define DIRECT_ALIGN 4096u

/* data.c */

/* SIGBUS handler copy_ctx_init installs: turns a fault in a mapped re-read into EIO. */
void copy_on_sigbus(int sig);
/* Read [FROM, TO) of IN, hash it into H (when not NULL), write it to OUT (when >= 0).
 * 0, or -1 with errno and *IN_FAULT (1: reading failed, 0: writing). */
int copy_stream(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t to, int sparse,
                struct hash_state *h, int *in_fault);
/* Re-read [FROM, TO) of the copy OUT into H (O_DIRECT with --fsync). 0 or -1 with errno. */
int copy_reread(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                struct hash_state *h, struct copy_done *d);
/* Kernel copy of [FROM, SIZE) (no hashing). 0, 1 (not supported here: fall back), -1. */
int copy_kernel(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t size, int *in_fault);

/* part.c */

/* TASK_SPLIT: create the shared temporary file at full size for the parts to fill. */
void copy_split_start(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d);
/* TASK_PART: copy one range of a split file, hash it, re-read and compare. */
void copy_part(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d);
/* TASK_SEAL: the parts are in; check the source, hash, metadata, rename into place. */
void copy_seal(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d);

/* check.c */

/* --check for one entry: fills D with the differences found. */
void copy_compare(struct copy_ctx *c, struct copy_done *d);

/* Small helpers of all four files. */

/* The source of the task at hand, for its xattrs: open (SRC >= 0) or by name. */
static inline struct meta_node src_node(const struct copy_ctx *c, int src)
{
	return (struct meta_node){src, c->at.src_fd, c->at.src};
}

/* The destination entry NAME in the task's destination directory, open (FD >= 0) or not. */
static inline struct meta_node dst_node(const struct copy_ctx *c, int fd, const char *name)
{
	return (struct meta_node){fd, c->at.dst_fd, name};
}

static inline int same_mtime(const struct stat *st, const struct copy_task *t)
{
	return st->st_mtim.tv_sec == t->mtime_sec && st->st_mtim.tv_nsec == t->mtime_nsec;
}

static inline int stat_sparse(const struct stat *st)
{
	return st->st_size > 0 && (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
}

static inline void fail(struct copy_done *d, enum copy_stage stage, int err)
{
	d->status = err == CHANGED_ERRNO ? COPY_CHANGED : COPY_FAILED;
	if (err == EINTR)
		d->status = COPY_INTERRUPTED;
	d->stage = stage;
	d->err = err;
}

#endif
