/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/internal.h: what the files of lib/copy share and nobody else uses: copy.c (one
 * file's copy: copy_run, the per-type paths, rename into place), data.c (the data path:
 * stream, mapped source and re-hash, kernel copy, O_DIRECT re-read), part.c (split parts and their seal),
 * basis.c (--link-dest's twins), check.c (--check's comparison) and proof.c
 * (--previous-manifest's hashes and stamps).
 */
#ifndef PCOPY_COPY_INTERNAL_H
#define PCOPY_COPY_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "copy/copy.h"
#include "fs/tree.h"

/*
 * What a call of the data path came to. A file that ends before the range asked for changed
 * under us (it was truncated): not an I/O error, and the caller says what it means (the
 * source: try again, or COPY_CHANGED; the copy: its verification failed).
 */
enum data_result {
	DATA_OK,          /* the whole range was read (and written) */
	DATA_CHANGED,     /* the file ended before the range did */
	DATA_ERROR,       /* a call failed: errno says why (*IN_FAULT: reading, else writing) */
	DATA_UNSUPPORTED, /* the file system refuses the kernel copy or O_DIRECT: nothing done */
};

/* O_DIRECT reads (--fsync) use offsets, lengths and a buffer aligned to this: a multiple of
 * every logical block size Linux block devices have. */
#define DIRECT_ALIGN 4096u

/* data.c */

/* SIGBUS handler copy_ctx_init installs: turns a fault in a mapped re-read into EIO. */
void copy_on_sigbus(int sig);
/* Read [FROM, TO) of IN, hash it into H (when not NULL), write it to OUT (when >= 0).
 * DATA_OK, DATA_CHANGED, or DATA_ERROR with errno and *IN_FAULT (1: reading, 0: writing). */
enum data_result copy_stream(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t to,
                             int sparse, struct hash_state *h, int *in_fault);
/* Re-read [FROM, TO) of the copy OUT into H (O_DIRECT with --fsync). DATA_OK, DATA_CHANGED,
 * or DATA_ERROR with errno. */
enum data_result copy_reread(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                             struct hash_state *h, struct copy_done *d);
/* Re-read [FROM, TO) of the copy OUT and compare its hash with H, the source's. DATA_OK, or
 * the stage that failed in *STAGE: DATA_CHANGED (STAGE_VERIFY), DATA_ERROR with errno (EIO and
 * STAGE_VERIFY: the hashes differ; else STAGE_VERIFY_READ). */
enum data_result copy_verify(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                             struct hash128 h, struct copy_done *d, enum copy_stage *stage);
/* Kernel copy of [FROM, SIZE) (no hashing): DATA_OK, DATA_UNSUPPORTED (fall back),
 * DATA_CHANGED (IN is shorter), or DATA_ERROR with errno and *IN_FAULT. */
enum data_result copy_kernel(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t size,
                             int *in_fault);
/* Hash the regular file open at FD (SIZE bytes, holes skipped with SEEK_DATA when SPARSE) into
 * *OUT: for --checksum, --check and the hashes of files not copied. DATA_OK, DATA_CHANGED, or
 * DATA_ERROR with errno. */
enum data_result copy_hash_fd(struct copy_ctx *c, int fd, uint64_t size, int sparse,
                              struct hash128 *out);

/* copy.c */

/*
 * Put the new entry TMP (in the task's destination directory) in place: its metadata from SST
 * (xattrs from SRC, open or -1: by name; meta_apply with FLAGS) set on FD, or on TMP by name
 * when FD < 0; FD fsynced with --fsync; TMP renamed over the final name. Returns 0, or -1
 * with D filled (see copy_install_stage) and TMP removed.
 */
int copy_install(struct copy_ctx *c, int src, int fd, const char *tmp, const struct stat *sst,
                 unsigned flags, struct copy_done *d);
/* The stage at which putting a new entry under its final name failed with ERR: a directory
 * holds the name (EISDIR; ENOTEMPTY or EEXIST: a non-empty one) gives STAGE_DEST_DIR, for
 * which the parent makes way (run's complete.c); any other error OTHER. */
enum copy_stage copy_install_stage(int err, enum copy_stage other);

/*
 * One attempt at copying the open regular file SRC (fstat SST) to the task's destination via
 * a temporary or unnamed file (ABSENT: the destination name is known to be free). DATA_OK
 * (D filled: copied), DATA_ERROR (D filled: failed), or DATA_CHANGED when SRC changed during
 * the copy and another attempt may succeed.
 */
enum data_result copy_data(struct copy_ctx *c, const struct copy_task *t, int src,
                           const struct stat *sst, int absent, struct copy_done *d);

/* This worker's next temporary name, in c->tmp (a name in the destination's directory). */
const char *copy_tmp_name(struct copy_ctx *c);

/* --backup: move the destination entry of the task at hand (c->at), unless it is missing or
 * a directory, to its backup name (tree_backup). Returns 0, or -1 with errno. */
int copy_backup_old(struct copy_ctx *c);

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

/* copy.c: the scan's view of task T's source, as a struct stat. */
struct stat copy_task_stat(const struct copy_task *t);

/* item.c: -i, the enum copy_item bits for what copying task T (its place in c->at) changes
 * in the destination as it is now. */
uint32_t copy_task_items(struct copy_ctx *c, const struct copy_task *t);

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

/* The task failed at STAGE with ERR (EINTR: it was told to stop). */
static inline void fail(struct copy_done *d, enum copy_stage stage, int err)
{
	d->status = err == EINTR ? COPY_INTERRUPTED : COPY_FAILED;
	d->stage = stage;
	d->err = err;
}

/* The file changed while it was being copied (seen at STAGE): not recorded as copied. */
static inline void changed(struct copy_done *d, enum copy_stage stage)
{
	d->status = COPY_CHANGED;
	d->stage = stage;
	d->err = 0;
}

/* The task stopped at STAGE: its file changed when RES is DATA_CHANGED, else it failed with
 * errno. */
static inline void fail_data(struct copy_done *d, enum copy_stage stage, enum data_result res)
{
	if (res == DATA_CHANGED)
		changed(d, stage);
	else
		fail(d, stage, errno);
}

/* proof.c: --previous-manifest */

struct proven_file;
/* The previous manifest's record of the task at hand's DEST file (c->at), when the file's
 * stat data DST_ST is what it recorded (not with -c); else NULL. */
const struct proven_file *copy_proven(const struct copy_ctx *c, const struct stat *dst_st);
/* F's hash (copy_proven's) into D, and its stamp with opts->stamp. Returns 1. */
int copy_reuse(const struct copy_ctx *c, const struct proven_file *f, struct copy_done *d);
/* With opts->stamp: the clock, into *BEFORE, before the stat data that a hash read after it
 * may be recorded under (else tv_sec 0). */
void copy_stamp_before(const struct copy_ctx *c, struct timespec *before);
/* The stat data of FD, the file whose hash D has, read before its data: into D's stamp
 * (COPY_NOTE_STAMP) when it is settled since BEFORE (copy_stamp_before). */
void copy_stamp_note(const struct copy_ctx *c, int fd, const struct timespec *before,
                     struct copy_done *d);

#endif
