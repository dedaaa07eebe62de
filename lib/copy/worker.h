/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/worker: the body of a copy worker process: take copy tasks from a pool (pool.h), run
 * each with copy_run() and push its completion, until the task queue closes, the pool's
 * parent is gone or a signal stops it. The same loop serves run_execute's own pool and an
 * MPI rank's (mpiwork.h); what it needs comes in struct copy_worker_args, not a struct run.
 */
#ifndef PCOPY_COPY_WORKER_H
#define PCOPY_COPY_WORKER_H

#include <stddef.h>

#include "common/shm.h"
#include "copy/copy.h"
#include "proc/pool.h"

/* A worker's I/O buffer: what copy_worker_args.bufsize is set to by the pools of lib/. */
#define COPY_WORKER_BUF (1u << 20)

/* What a copy worker needs: set by the pool's parent before pool_start, inherited by fork. */
struct copy_worker_args {
	const struct copy_opts *opts;  /* what to do per file (test_slow_ms: the test hook) */
	const struct copy_root *roots; /* descriptors of the root pairs (copy_task.root) */
	const struct names *names;     /* the arena copy_task.src and .dst point into */
	size_t bufsize;                /* I/O buffer per worker */
	long pid_tag;      /* added to worker pids in temporary names (ranks on other machines) */
	long split_parent; /* pid in the names of split temporaries; 0: the pool's parent */
	/* TASK_LIST: the shared slots listings are packed into, LIST_SLOT bytes each (NULL:
	 * this pool lists nothing) */
	unsigned char *lists;
	size_t list_slot;
};

/*
 * A pool worker (pool_worker_fn) whose ARG is a struct copy_worker_args: serve copy tasks
 * until the task queue closes or the pool's parent is gone. Returns the exit status: 1 when
 * stopped by a signal while the parent goes on (it starts a replacement), 3 when the worker
 * state could not be set up, else 0.
 */
int copy_worker(struct pool *p, void *arg, int index);

/* Start pool P of N copy workers (copy_worker) with room for CAP tasks; ARGS must stay in
 * place while the pool runs. Returns 0, or -1 with errno as pool_start. */
int copy_pool_start(struct pool *p, int n, uint32_t cap, struct copy_worker_args *args);

#endif
