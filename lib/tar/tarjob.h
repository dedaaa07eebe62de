/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tarjob: the work --tar hands to the worker pool, and what a worker does with it.
 *
 * The writer (the parent, lib/tar/tarout.c) walks the sources in archive order (tarwalk.c)
 * and puts each member into a window of TARJOB_WINDOW slots in shared memory; a task names a
 * run of consecutive slots. A worker opens each member, takes its fstat, tells whether libarchive's
 * disk reader has anything to add (xattrs, ACLs, file flags, holes: "rich") and, for a regular
 * file that was given room in the shared data ring, reads the whole file into that room and
 * hashes it. The writer then streams the members in order from the ring into libarchive,
 * without a system call per file beyond its writes.
 *
 * A file that changes while the worker reads it (size, mtime or ctime differ before and after)
 * is read once more; if it changes again it is reported as TARJOB_CHANGED and left out.
 */
#ifndef PCOPY_TARJOB_H
#define PCOPY_TARJOB_H

#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/at.h"
#include "common/hash.h"
#include "proc/pool.h"
#include "common/shm.h"

#define TARJOB_WINDOW 8192        /* members between the writer and the newest scanned */
#define TARJOB_NO_DATA UINT64_MAX /* tarjob_item.data: the writer reads the file itself */

enum tarjob_status {
	TARJOB_OK = 1, /* metadata (and data, when DATA was given) ready */
	TARJOB_FAILED, /* could not be opened or read: ERR says why */
	TARJOB_CHANGED /* changed while it was read, twice: left out */
};

/*
 * One member in the window. The parent writes PATH, ROOT, DATA, ROOM and ST before it queues the
 * task holding the slot; the worker writes ST, HASH, STATUS, ERR and RICH before it pushes the
 * task's completion. The queues' locks order those writes before the other side's reads.
 */
struct tarjob_item {
	uint64_t path;  /* arena offset of the member path, relative to roots[ROOT] */
	uint64_t data;  /* byte offset of its room in the data ring, or TARJOB_NO_DATA */
	uint64_t room;  /* bytes of room at DATA: the walk's size (ST changes when it is read) */
	uint32_t root;  /* index into tarjob.roots */
	int32_t status; /* enum tarjob_status; 0 while not done */
	int32_t err;    /* errno for TARJOB_FAILED */
	int32_t rich;   /* 1: xattrs, ACLs, flags or holes: ask libarchive's disk reader */
	struct stat st; /* parent: lstat from the walk; worker: fstat the data was read under */
	struct hash128 hash; /* XXH3-128 of the data read into the ring */
};

/* A task: COUNT consecutive members starting at sequence number FIRST (slot FIRST % WINDOW). */
struct tarjob_task {
	uint64_t id; /* FIRST + 1 (never 0, see pool.h) */
	uint64_t first;
	uint32_t count;
	uint32_t tries; /* times it came back unfinished (its worker died or was stopped) */
};

/* A completion: the task with this id is done, or was cut short and must be queued again. */
struct tarjob_done {
	uint64_t id;
	uint32_t interrupted; /* 1: the worker was told to stop first; some members may be undone */
};

/* What the workers share with the writer; set up before the pool starts. */
struct tarjob {
	struct tarjob_item *items; /* TARJOB_WINDOW slots, shared */
	unsigned char *ring;       /* shared data ring of RING_SIZE bytes */
	uint64_t ring_size;
	struct names names; /* member paths (shared arena, written by the parent only) */
	int *roots;         /* directory descriptors the paths are relative to (before fork) */
	size_t nroots;
	struct at_cache dirs; /* this process's open parent directories (at.h; not shared) */
	long slow_ms;         /* test hook: each worker sleeps this many ms (mod 1000) per member */
};

/* Map the window, the ring (RING_SIZE bytes) and the name arena. Returns 0, or -1 with errno. */
int tarjob_init(struct tarjob *j, uint64_t ring_size);

/* Unmap everything. */
void tarjob_free(struct tarjob *j);

/* The slot of sequence number SEQ. */
static inline struct tarjob_item *tarjob_item(struct tarjob *j, uint64_t seq)
{
	return &j->items[seq % TARJOB_WINDOW];
}

/*
 * Body of a worker process (pool_worker_fn; ARG is the struct tarjob): serves tasks through
 * pool_serve until the queue closes or a signal stops it (then it answers its task as
 * interrupted and exits 1 so that the parent starts a replacement).
 */
int tarjob_worker(struct pool *p, void *arg, int index);

/*
 * Do member IT in a worker (or anywhere): open, fstat, probe for what makes it rich, read and
 * hash the data into the ring when IT->data says so. STOP, when set, abandons the read.
 */
void tarjob_run(struct tarjob *j, struct tarjob_item *it, volatile sig_atomic_t *stop);

#endif
