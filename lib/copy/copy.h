/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy: what a worker does with one task: copy one non-directory entry (regular file with
 * its holes, symlink, FIFO, device node), hash what it read with XXH3-128, re-read and hash
 * what it wrote, carry over the metadata, and rename the verified temporary file into place.
 *
 * A destination name never holds partial data: the data goes to a temporary name
 * (tmpname.h) in the destination directory, which is renamed over the final name
 * only after verification. A small file whose destination name is free is written as an
 * unnamed file (O_TMPFILE) instead and linked under its name once verified: one directory
 * operation instead of a create and a rename, and nothing to clean up after a crash.
 *
 * Every call is relative to the descriptor of the entry's parent directory, opened without
 * following symlinks (at.h), with O_NOFOLLOW on the final name.
 */
#ifndef PCOPY_COPY_H
#define PCOPY_COPY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "fs/at.h"
#include "common/hash.h"
#include "common/stamp.h"
#include "fs/meta.h"
#include "common/shm.h"
#include "common/tmpname.h"
#include "proc/rate.h"

/* A range of at least COPY_MAP_MIN bytes without holes that is hashed (a source as it is
 * copied, a copy as it is re-read) is read through mmap in windows of COPY_MAP_WINDOW bytes,
 * populated in bulk (data.c, stream_mapped). */
#define COPY_MAP_MIN (UINT64_C(16) << 20)
#define COPY_MAP_WINDOW (UINT64_C(64) << 20)

/* Files up to this size whose destination name is free are written unnamed (O_TMPFILE). */
#define COPY_UNNAMED_MAX (UINT64_C(1) << 20)

/* The most --link-dest (or --copy-dest) directories, as rsync. */
#define COPY_BASIS_MAX 20

/*
 * --link-manifest FILE: the hashes an earlier snapshot's manifest gives its files, proven
 * to belong to that snapshot (see lib/run/snapshot.c): a linked file's hash is taken from
 * here when its inode has not changed since the snapshot was completed (its ctime is not
 * newer than COMPLETE), else the file is read again. Parent-built, read-only in workers.
 */
struct copy_sums {
	size_t n;
	char **paths;              /* sorted bytewise; relative to the snapshot's top */
	struct hash128 *hashes;    /* hashes[i] is the hash of paths[i] */
	struct timespec complete;  /* the completion time its marker records (the marker's
	                            * ctime when it was written; a later chmod moves that) */
	const char *const *prefix; /* [root]: what the snapshot's paths have before a root's */
};

struct proven;

/* A task, as the parent queues it. The first field must be the id (see pool.h). */
struct copy_task {
	uint64_t id;       /* entry index + 1 in the parent's table; never 0 */
	uint64_t src;      /* arena offset: source path relative to the root's src_fd */
	uint64_t dst;      /* arena offset: destination path relative to the root's dst_fd */
	uint64_t size;     /* st_size at scan time */
	int64_t atime_sec; /* times at scan time, kept on the copy */
	int64_t mtime_sec;
	int32_t atime_nsec;
	int32_t mtime_nsec;
	uint64_t rdev;     /* device number for device nodes */
	uint32_t mode;     /* st_mode at scan time (type and permission bits) */
	uint32_t uid, gid; /* owner at scan time */
	uint32_t root;     /* index of the root pair (struct copy_root) */
	uint32_t tries;    /* times this task was handed to a worker before */
	uint32_t flags;    /* TASK_* bits */
	uint64_t part_off; /* TASK_PART: the byte range [part_off, part_off + part_len) */
	uint64_t part_len;
};

/* Task ids: the entry index + 1 in the low bits; the parts and the seal of a split copy
 * carry their kind above them, so that each has an id of its own (see pool.h: claims). */
#define COPY_ID_BITS 40
#define COPY_ID_SEAL 0xffffffu /* kind of a TASK_SEAL; parts are 1 + their index */
#define COPY_ID_ENTRY(id) ((id) & ((UINT64_C(1) << COPY_ID_BITS) - 1))
#define COPY_ID_KIND(id) ((uint32_t)((id) >> COPY_ID_BITS))
#define COPY_ID(entry, kind) ((entry) | ((uint64_t)(kind) << COPY_ID_BITS))

/* copy_task.flags */
#define TASK_FRESH 1u  /* its destination directory was created by this run: nothing there yet */
#define TASK_SPARSE 2u /* fewer blocks allocated than its size: look for holes */
/* A big file is copied in parts by several workers at once. The first worker to look at it
 * (TASK_SPLIT) decides whether it needs copying; if so it only creates the shared temporary
 * file (tmpname_split) at full size and answers COPY_SPLIT. The parent then queues one
 * TASK_PART per range, each copied, hashed and verified on its own (COPY_PART), and when all
 * are in, one TASK_SEAL that checks the source did not change, hashes the whole copy when a
 * hash is wanted (the standard whole-file XXH3-128), sets metadata and renames it. */
#define TASK_SPLIT 4u /* may be split into parts */
#define TASK_PART 8u  /* copy one range into the shared temporary file */
#define TASK_SEAL 16u /* finish a copy made in parts */
/* The source file has one name: a destination that shares its inode with other names (the
 * source broke a hard link since) is copied anew, never updated in place, which would change
 * the other names too. */
#define TASK_ALONE 32u
/* The parent removed a directory that held the destination name (run_make_way) and queued
 * the task again: for --existing the name counts as taken. */
#define TASK_MADE_WAY 64u

/* Not a copy: list directory SRC of ROOT (listdir_read) into the shared slot PART_OFF of
 * the pool's listing slots (copy_worker_args.lists), for a walk spread over the workers
 * (run/lister.c); with TASK_LIST_DST its destination twin too. The completion says
 * COPY_COPIED with BYTES the packed listing's length (listdir_pack; a source directory that
 * cannot be read is a listing with its errno), or COPY_FAILED with ERR E2BIG when it does
 * not fit in the slot. Its id is COPY_ID(sequence, COPY_ID_LIST). */
#define TASK_LIST 128u
#define TASK_LIST_DST 256u
#define COPY_ID_LIST 0xfffffeu

/* The data a task stands for (its range for a part, else the whole file): what dispatch
 * balances the local pool and the MPI ranks by. */
static inline uint64_t copy_task_cost(const struct copy_task *t)
{
	return (t->flags & TASK_PART) ? t->part_len : t->size;
}

enum copy_status {
	COPY_COPIED = 1,  /* data written and verified (or would be, in a dry run) */
	COPY_SKIPPED,     /* destination already up to date */
	COPY_METADATA,    /* destination data was up to date; metadata was fixed */
	COPY_UNSUPPORTED, /* not copied by design (socket; device node when not root): a warning */
	COPY_FAILED,      /* could not be copied; STAGE and ERR say why */
	COPY_CHANGED,     /* the source changed while it was being copied (twice) */
	COPY_INTERRUPTED, /* abandoned because the worker was told to stop */
	COPY_DIFFERENT,   /* --check: the destination differs; DIFF says how */
	COPY_SPLIT,       /* TASK_SPLIT: to be copied in parts; the shared temporary exists */
	COPY_PART,        /* TASK_PART: the range is copied and verified */
};

/* --check: ways a destination entry can differ from its source (bits of copy_done.diff). */
enum copy_diff {
	DIFF_MISSING = 1 << 0,   /* no such name in the destination */
	DIFF_TYPE = 1 << 1,      /* a different kind of entry */
	DIFF_CONTENT = 1 << 2,   /* size or XXH3-128 of the data */
	DIFF_MODE = 1 << 3,      /* permission bits */
	DIFF_OWNER = 1 << 4,     /* uid or gid */
	DIFF_TIMES = 1 << 5,     /* mtime (nanoseconds) */
	DIFF_LINK = 1 << 6,      /* symlink target */
	DIFF_DEVICE = 1 << 7,    /* device number */
	DIFF_XATTR = 1 << 8,     /* extended attributes other than ACLs (capabilities among them) */
	DIFF_ACL = 1 << 9,       /* POSIX ACLs (access, or a directory's default) */
	DIFF_HARDLINK = 1 << 10, /* linked to another name in one tree but not in the other */
};

/* -i, --itemize-changes (copy_opts.itemize): what a copy changes in DEST, as rsync's
 * itemized letters (bits of copy_done.diff for COPY_COPIED, COPY_METADATA, COPY_SKIPPED). */
enum copy_item {
	ITEM_NEW = 1 << 0,    /* the name is free in DEST (or holds another kind of entry) */
	ITEM_CHANGE = 1 << 1, /* 'c': another symlink target or device number */
	ITEM_SIZE = 1 << 2,   /* 's' */
	ITEM_TIME = 1 << 3,   /* 't': modification time */
	ITEM_PERMS = 1 << 4,  /* 'p' */
	ITEM_OWNER = 1 << 5,  /* 'o' */
	ITEM_GROUP = 1 << 6,  /* 'g' */
	ITEM_ACL = 1 << 7,    /* 'a' */
	ITEM_XATTR = 1 << 8,  /* 'x' */
};

/* Where a failure happened, for the message. */
enum copy_stage {
	STAGE_NONE,
	STAGE_OPEN_SOURCE,
	STAGE_READ_SOURCE,
	STAGE_READ_LINK,
	STAGE_CREATE,
	STAGE_WRITE,
	STAGE_VERIFY_READ,
	STAGE_VERIFY, /* the written data's hash differs from the source's */
	STAGE_METADATA,
	STAGE_SYNC,
	STAGE_RENAME,
	STAGE_DEST_DIR, /* the destination name is a directory */
	STAGE_LINK,     /* an unnamed copy could not be given its name */
	STAGE_BACKUP,   /* --backup: the old entry could not be moved to its backup name */
};

/* A completion, as a worker reports it. The first field must be the id. */
struct copy_done {
	uint64_t id;         /* copy_task.id */
	uint64_t bytes;      /* bytes of data copied (or, when skipped, the file's size) */
	struct hash128 hash; /* XXH3-128 of the content, when HASHED */
	int32_t status;      /* enum copy_status */
	int32_t stage;       /* enum copy_stage when FAILED */
	int32_t err;         /* errno when FAILED */
	int32_t hashed;      /* 1 when HASH is valid */
	uint32_t diff;       /* enum copy_diff bits, for COPY_DIFFERENT; with opts.itemize,
	                        enum copy_item bits for COPY_COPIED, _METADATA, _SKIPPED */
	uint32_t notes;      /* COPY_NOTE_* bits */
	/* --check: the inodes of both sides, when either has other names (COPY_NOTE_LINKS); the
	 * parent compares which names share an inode (copy_link_diffs). */
	uint64_t src_dev, src_ino, dst_dev, dst_ino;
	/* COPY_NOTE_STAMP: DEST's stat data, read before HASH was (settled: stamp.h), for the
	 * manifest's stat sidecar (--previous-manifest). */
	struct stamp stamp;
};

/* copy_done.notes */
#define COPY_NOTE_LINKS 1u /* src_* and dst_* are set */
#define COPY_NOTE_NO_DIRECT                                                                        \
	2u /* --fsync: the destination refused O_DIRECT; the copy was                              \
	    * re-read from the page cache after fsync */
/* STAMP is set */
#define COPY_NOTE_STAMP 4u
/* HASH came from the previous manifest: the file was not read */
#define COPY_NOTE_REUSED 8u

/* A source/destination pair of directory descriptors, opened by the parent before fork. */
struct copy_root {
	int src_fd;
	int dst_fd;
};

/* Where the task at hand lives: parent directories and final names (see at.h). */
struct copy_place {
	int src_fd;           /* the source's directory */
	const char *src;      /* the source's name in it */
	int dst_fd;           /* the destination's directory */
	const char *dst;      /* the destination's name in it */
	const char *dst_path; /* the destination's path from its root's dst_fd */
	uint32_t root;        /* the root pair (struct copy_root) */
};

/* What the worker is asked to do; set by the parent before the pool starts. */
struct copy_opts {
	int verify;     /* re-read and hash what was written */
	int need_hash;  /* a hash is needed even without verification (manifest, --json) */
	int force;      /* copy even when the destination looks up to date */
	int checksum;   /* decide "up to date" by content hash instead of size and mtime */
	int dry_run;    /* decide, change nothing */
	int fsync;      /* fsync each file before its rename, and re-read it from the storage */
	int keep_owner; /* set uid/gid (root) */
	int check;      /* --check: compare with the destination, change nothing */
	int itemize;    /* -i, --log-file: say what each copy changes (copy_done.diff) */
	/* What to do with what the destination already has (rsync's options of the same names):
	 * UPDATE (-u) keeps a regular file whose destination twin is newer (mtime), IGNORE_EXISTING
	 * leaves every existing non-directory alone, EXISTING creates nothing (files and
	 * directories), SIZE_ONLY takes a regular file of the same size as up to date. */
	int update, ignore_existing, existing, size_only;
	struct meta_policy policy; /* --no-perms ..., --chmod, --chown (meta.h); zero: as is */
	/* --backup: the entry a copy replaces is first moved to its backup name (tree_backup):
	 * its name + BACKUP_SUFFIX, beside it or with BACKUP_DIR (relative: to the root's
	 * destination) at its path below that. Pointers: pcopy-mpi refuses --backup. */
	int backup;
	const char *backup_suffix;
	const char *backup_dir;
	/* --link-dest DIR or --copy-dest DIR (rsync's): earlier snapshots. A regular file whose
	 * twin there is the same as the source (copy_basis_same) is hard-linked from it
	 * (copied from it with BASIS_COPY) instead of copied from the source. Filled by run_plan;
	 * pointers: pcopy-mpi refuses these options. */
	size_t nbasis;                      /* directories, in the order given */
	const char *basis[COPY_BASIS_MAX];  /* as given (relative: to DEST) */
	int basis_copy;                     /* --copy-dest: copy from the twin, do not link it */
	const int *basis_fds;               /* [root * nbasis + k]: DIR k for that root, or -1 */
	const struct copy_sums *basis_sums; /* [k]: --link-manifest hashes for DIR k */
	/* --bwlimit: bytes per second written by all the workers together (0: no limit), and
	 * the bucket they share (proc/rate.h), made by the pool's parent before fork. Pointer:
	 * pcopy-mpi refuses --bwlimit. */
	uint64_t bwlimit;
	struct rate *rate;
	/* Test hook, filled by cmd/ from PCOPY_TEST_SLOW_MS: each worker sleeps this many
	 * milliseconds (modulo 1000) before each task, so tests can interrupt a run. */
	long test_slow_ms;
	/* --previous-manifest: the hashes an earlier run proved for DEST's files (proven.h),
	 * PREFIX[root] what the manifest puts before root ROOT's paths; NULL: none. The
	 * parent's memory, inherited at fork (pcopy-mpi refuses the option). */
	const struct proven *previous;
	const char *const *prefix;
	/* Skipped files whose hash is read report the stat data it was read under
	 * (COPY_NOTE_STAMP), for the stat sidecar this run writes. */
	int stamp;
};

/* Per-worker state. */
struct copy_ctx {
	const struct copy_opts *opts;
	const struct copy_root *roots;
	const struct names *names;
	volatile sig_atomic_t *stop; /* set by the worker's signal handler: abandon the file */
	unsigned char *buf;          /* I/O buffer */
	size_t bufsize;
	struct hash_state *hs; /* streaming hash state */
	unsigned long counter; /* for temporary names */
	long pid;              /* this worker's pid, for temporary names */
	long ppid;             /* the parent's pid, for the temporary names of split copies */
	uid_t euid;            /* this worker's ids, for deciding what to chown */
	gid_t egid;
	char tmp[TMPNAME_SIZE];             /* temporary name */
	struct at_cache src_dirs, dst_dirs; /* open parent directories */
	struct copy_place at;               /* the task at hand */
	struct meta_ctx meta;               /* owner, xattrs, mode, times (meta.h) */
	uint64_t no_kernel_copy; /* bit per root (< 64): copy_file_range is not supported there */
	uint64_t no_unnamed;     /* bit per root (< 64): O_TMPFILE is not supported there */
	int link_by_proc;        /* unnamed files are linked through /proc/self/fd (compat.h) */
	int backup_fd;           /* --backup-dir open for root BACKUP_ROOT, or -1 */
	struct at_cache basis_dirs; /* --link-dest: the last parent opened in a snapshot */
	uint32_t backup_root;
};

/* Prepare a worker's state. Returns 0, or -1 with errno. */
int copy_ctx_init(struct copy_ctx *c, const struct copy_opts *opts, const struct copy_root *roots,
                  const struct names *names, volatile sig_atomic_t *stop, size_t bufsize);

/* Free a worker's state. */
void copy_ctx_free(struct copy_ctx *c);

/*
 * Carry out task T; the outcome goes into D (never fails as a call). With opts->check the
 * entry is compared with its destination twin instead (content by XXH3-128, metadata, link
 * target): COPY_SKIPPED when identical, COPY_DIFFERENT with DIFF bits otherwise.
 */
void copy_run(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d);

/*
 * The quick check of re-runs: 1 when the regular file DST already matches SRC (lstat data of
 * both) in size, mtime, permission bits and, with OWNER, uid/gid, so nothing needs doing.
 */
int copy_quick_same(const struct stat *src, const struct stat *dst, int owner);

/*
 * The enum copy_diff bits that tell the lstat data SRC of an entry from DST, its destination
 * twin's (type, mode, mtime, size, device; uid/gid too when OWNER). Content is not read.
 */
uint32_t copy_compare_stat(const struct stat *src, const struct stat *dst, int owner);

/*
 * --check's comparison: copy_compare_stat of DST with what a copy of SRC ends with under M's
 * policy (meta_want: --chmod, --chown, --no-perms/-owner/-group keep DST's own), times left
 * out under --no-times. What a copy with the same options would leave as it is, --check
 * does not report.
 */
uint32_t copy_compare_want(const struct meta_ctx *m, const struct stat *src, const struct stat *dst,
                           int owner);

/* The enum copy_diff bits (DIFF_XATTR, DIFF_ACL) for how the xattrs of SRC and DST differ,
 * as M compares them. Returns them, or 0 when they cannot be read. */
uint32_t copy_compare_xattrs(struct meta_ctx *m, const struct meta_node *src,
                             const struct meta_node *dst);

/*
 * -i: the enum copy_item bits for how the destination twin DST (lstat data; NULL: there is
 * none) of an entry with lstat data SRC differs from what a copy makes of it, as M (its
 * policy, meta_want already called for SRC) would set it; NODES: both entries, for xattrs
 * and ACLs (NULL: not compared).
 */
uint32_t copy_items(struct meta_ctx *m, const struct stat *src, const struct stat *dst, int owner,
                    const struct meta_node nodes[2]);

/* --check: one name of a file that has other names in either tree. */
struct copy_linkname {
	uint64_t entry;            /* the caller's index of the name (walk order) */
	uint64_t src_dev, src_ino; /* the source's inode */
	uint64_t dst_dev, dst_ino; /* the destination's inode */
	int differs;               /* set by copy_link_diffs */
};

/*
 * Mark (DIFFERS) each of the N names in P that does not share an inode in one tree with the
 * names it shares one with in the other: names linked in SOURCE but not in DEST, or the
 * other way round. The first name of a group in ENTRY order stands for it. P is reordered.
 */
void copy_link_diffs(struct copy_linkname *p, size_t n);

/*
 * --link-dest, --copy-dest: the regular file of task T at hand (its source SST) from an
 * earlier snapshot's twin when one is the same (size, mtime, permission bits, owner when
 * kept, xattrs; with -c content): linked in place of DEST's entry (DST: its lstat, NULL when
 * absent), or with --copy-dest, when DEST has none, copied from the twin. Returns 1 when that
 * settled the task (D filled: copied, skipped because DEST's name is that twin already, or failed),
 * 0 when no twin is the same (copy from the source as usual). ABSENT: DEST's name is known to be
 * free.
 */
int copy_from_basis(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                    const struct stat *dst, int absent, struct copy_done *d);

/* copy_from_basis for the symbolic link of task T (SST: its lstat as wanted) to TARGET (LEN
 * bytes) that DEST lacks: linked to a twin with the same target, mtime, owner when kept and
 * xattrs, as rsync links them. Returns 1 (D filled), or 0: make it as usual. */
int copy_symlink_from_basis(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                            const char *target, size_t len, struct copy_done *d);

/* Fill the fields of task T that come from the source's lstat data ST (size, times, device,
 * mode, owner; the TASK_ALONE and TASK_SPARSE flags added). */
void copy_task_set_stat(struct copy_task *t, const struct stat *st);

/* 1 when, under options O, copy_current() can decide for a file with nothing but its two
 * entries. */
int copy_current_allowed(const struct copy_opts *o);

/*
 * For a worker that has just listed a directory (TASK_LIST): 1 when the regular file PATH of
 * ROOT, one name, with the listing's lstat ST, is one copy_run() would skip as up to date
 * without reading it and leave as it is: the same decision (quick_same), taken early. 0:
 * its task decides (also when the options ask for more, copy_current_allowed).
 */
int copy_current(struct copy_ctx *c, uint32_t root, const char *path, const struct stat *st);

/* Human text for a failed stage ("cannot open", ...). */
const char *copy_stage_text(enum copy_stage stage);

#endif
