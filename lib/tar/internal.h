/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tar module's internals, shared by its files and by nothing outside lib/tar/ (the unit
 * tests excepted). The public interfaces are tarout.h (--tar), untar.h (--extract) and
 * tarjob.h (the work --tar hands its worker processes).
 *
 * --tar:     tarout.c    the archive's life: open, the window of members between walk, workers
 *                        and writer, commit under the final name
 *            tarwalk.c   the archive-order walk of the sources
 *            tarmember.c writing one member: header, data, manifest line
 *            compress.c  the compression a name asks for, and libarchive's filter for it
 * --extract: untar.c     the extraction's sequence: archives, members, the manifest, the end
 *            untar_file.c writing a member, reading a regular file back, verifying it
 *            untar_path.c member names and DEST-relative paths, never through a symlink
 */
#ifndef PCOPY_TAR_INTERNAL_H
#define PCOPY_TAR_INTERNAL_H

#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/hash.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "proc/pool.h"
#include "report/manifest.h"
#include "report/progress.h"
#include "tar/tarjob.h"
#include "tar/tarout.h"
#include "tar/untar.h"

/* ---- --tar ------------------------------------------------------------------------------ */

#define TAR_BUF (1u << 20)

/* First archive path of each multiply linked file (found through struct inotab), and its
 * content hash. */
struct tar_link {
	uint64_t path; /* arena offset */
	struct hash128 hash;
	int hashed;   /* HASH is set */
	int archived; /* its header is in the archive: later names can link to it */
};

/* The writer's own record of a window slot (the shared part is struct tarjob_item). */
struct tar_slot {
	size_t link; /* 1 + index in links of the member this one is a hard link to, or 0 */
	size_t owns; /* 1 + index in links of the record this member is the first of, or 0 */
	uint64_t
	    ring_end;   /* ring position after its room: the ring is free up to here once written */
	uint32_t batch; /* at the first member of a task: how many members the task has */
	uint32_t tries; /* at the first member of a task: times it came back unfinished */
	int unread;     /* a directory the walk could not read (reported then, not again) */
	int ready;      /* its task is complete */
};

/* One open directory of the walk. */
struct tar_dir {
	int fd;
	struct tree_list l; /* its names, sorted */
	size_t next;        /* index in L of the next name */
	uint64_t path;      /* arena offset of its member path */
	uint32_t root;
};

/* Everything about one archive being written. */
struct tar {
	const struct tarout_opts *o;
	const struct tarout_hooks *h;
	char **sources;
	size_t nsources, next_source;
	struct archive *a;    /* the archive being written */
	struct archive *disk; /* libarchive's disk reader, for xattrs, ACLs, sparse maps, names */
	struct hash_state *hs;
	unsigned char *buf;
	struct tarjob job; /* shared with the workers */
	struct pool pool;
	int pooled;
	struct tar_dir *stack; /* the walk: open directories, innermost last */
	size_t depth, stack_cap;
	int walked;             /* the walk is over */
	dev_t root_dev;         /* its file system (--one-file-system) */
	struct stat self;       /* the archive being written, when a file: never a member */
	int staged;             /* slot SCANNED holds a member still waiting for ring room */
	uint64_t scanned;       /* members put into the window so far */
	uint64_t submitted;     /* members handed to workers so far */
	uint64_t written;       /* members the writer is done with */
	uint64_t ring_head;     /* ring bytes handed out, ever */
	uint64_t ring_tail;     /* ring bytes released, ever */
	struct tar_slot *slots; /* TARJOB_WINDOW */
	struct tar_link *links;
	size_t nlinks, links_cap;
	struct inotab inodes;        /* (dev, ino) -> index in LINKS */
	struct manifest_line *lines; /* for --manifest */
	size_t nlines, lines_cap;
	struct stats stats;
	double start, last_tick;
	int failed; /* some entry could not be archived */
	int fatal;  /* the archive itself failed */
	char *err;
	size_t errlen;
};

/* Report entry PATH as not archived, count it; the run goes on. */
void tar_entry_failed(struct tar *t, const char *path, const char *reason, int err);

/* The archive failed with libarchive's message: T->err set, T->fatal set. Returns -1. */
int tar_archive_fatal(struct tar *t);

/* The archive failed: "PATH: WHAT[: strerror(ERR)]" into T->err, T->fatal set. Returns -1. */
int tar_fatal(struct tar *t, const char *what, const char *path, int err);

/* Add compression C ("none", "gzip", ...) to T->a. Returns libarchive's status
 * (ARCHIVE_FATAL for a name it does not know). */
int tar_set_filter(struct tar *t, const char *c);

/* Open the directory of each source into t->job.roots (-1: reported). Returns 0, or -1 out of
 * memory. */
int tarwalk_open_roots(struct tar *t);

/* Put the next member in archive order into slot t->scanned. Returns 1, 0 when the walk is
 * over, -1 out of memory. */
int tarwalk_next(struct tar *t);

/* Close the innermost directory of the walk. */
void tarwalk_leave(struct tar *t);

/* Write member SEQ: header, data, manifest line, event. -1 only when the archive failed. */
int tar_write_member(struct tar *t, uint64_t seq);

/* ---- --extract -------------------------------------------------------------------------- */

/* The read-back buffer. */
#define READ_BACK_BUF (1 << 20)

/* One line of the manifest being verified against. */
struct untar_want {
	char *path;
	struct hash128 hash;
	int seen; /* 1: a member with this path was extracted and matched; -1: it mismatched */
};

/* A run of data written to the member being extracted (holes between runs are not). */
struct untar_extent {
	int64_t off, len;
};

/*
 * A directory member whose path is PATH_MAX or longer: libarchive's disk writer makes it but
 * cannot set its owner, mode or times (it loses its way below PATH_MAX), so it is made
 * here, and those are set at the end, deepest first, through descriptors (at.h).
 */
struct untar_deep {
	char *path;
	struct archive_entry *e; /* owner, mode and times */
};

/* What the next step of the reading loop is. */
enum step {
	STEP_OK,   /* the member is done (extracted, or failed and reported) */
	STEP_END,  /* this archive cannot be read further (reported); go to the next */
	STEP_STOP, /* interrupted, or out of memory (u->err): the run stops */
};

/* Everything about one extraction. */
struct untar {
	const struct untar_opts *o;
	const struct untar_hooks *h;
	struct archive *w;  /* libarchive's disk writer, relative to DEST (the working directory) */
	int root;           /* DEST, open */
	struct at_cache at; /* the last parent directory below DEST used */
	struct hash_state *hs;    /* the member's whole content, holes as zeros */
	struct hash_state *data;  /* the data written, runs concatenated (no holes) */
	struct hash_state *back;  /* the same runs read back */
	struct untar_extent *ext; /* the runs written to the current member */
	size_t next, ext_cap;
	unsigned char *buf;      /* READ_BACK_BUF bytes */
	struct untar_want *want; /* the manifest, sorted by path */
	size_t nwant, want_cap;
	unsigned long counter;     /* for temporary names */
	char *tmp;                 /* the temporary file being written, for removal on interrupt */
	long pid;                  /* for temporary names */
	const char *archive;       /* the archive being read, for messages */
	struct archive_entry *dot; /* the last "." member: DEST's own mode and times, or NULL */
	struct untar_deep *deep;   /* directories past PATH_MAX, set up at the end */
	size_t ndeep, deep_cap;
	int damaged;    /* the current member had a warning (reported) */
	int counted;    /* the current member is counted as failed already */
	char msg[1024]; /* libarchive's last message, cleaned (untar_why_msg) */
	struct stats stats;
	double start, last_tick;
	int failed;
	char *err;
	size_t errlen;
};

/* Report PATH (NULL: the archive itself) of the current archive as failed and count it. */
void untar_member_failed(struct untar *u, const char *path, const char *reason, int err);

/* A warning about the current member (its data or its metadata): reported, extracted. */
void untar_member_warned(struct untar *u, const char *path, const char *reason, int err);

/* libarchive's message about A, never empty, without the newline some formats end it with. */
const char *untar_why_msg(struct untar *u, struct archive *a);

/* The errno value behind A's last error, when it is one, else 0. */
int untar_why_errno(struct archive *a);

/* The manifest line of PATH, or NULL. */
struct untar_want *untar_find_want(struct untar *u, const char *path);

/* With a manifest: 1 when PATH is listed with hash H (and mark it seen), else 0 (reported). */
int untar_verified(struct untar *u, const char *path, struct hash128 h);

/* The directory holding PATH (below DEST) and, in *LEAF, its last component; -1 with errno. */
int untar_parent_of(struct untar *u, const char *path, const char **leaf);

/* lstat of PATH below DEST. 0, or -1 with errno. */
int untar_stat_at(struct untar *u, const char *path, struct stat *st);

/* Unlink PATH below DEST. 0, or -1 with errno. */
int untar_unlink_at(struct untar *u, const char *path);

/* A new temporary name beside PATH into u->tmp. 0, or -1 out of memory. */
int untar_tmp_name(struct untar *u, const char *path);

/* Remove u->tmp, if any, and forget it. */
void untar_drop_tmp(struct untar *u);

/* 1 when no symlink or non-directory is on PATH's way below DEST; 0 when one is (reported
 * for MEMBER). */
int untar_safe_parent(struct untar *u, const char *path, const char *member);

/* Make the missing directories on the way to PATH, never through a symlink. 0, or -1 with
 * errno. */
int untar_make_parents(struct untar *u, const char *path);

/* 1 when a component of PATH is one of pcopy's temporary names. */
int untar_has_tmp_name(const char *path);

/* A regular file: under a temporary name, hashed, read back, verified, renamed into PATH. */
enum step untar_extract_file(struct untar *u, struct archive *r, struct archive_entry *e,
                             const char *path);

/* Anything else: directory, symlink, hard link, FIFO, device; written in place. */
enum step untar_extract_other(struct untar *u, struct archive *r, struct archive_entry *e,
                              const char *path);

#endif
