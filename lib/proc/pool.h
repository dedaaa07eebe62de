/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool: a fixed pool of forked worker processes fed through shared-memory queues.
 *
 * Parent side: pool_start(n) forks n workers; pool_submit() puts a task in the task queue
 * (blocking while it is full); pool_next() takes a completion; pool_reap() notices workers
 * that died, hands back the task each was holding and starts a replacement; pool_stop()
 * closes the task queue, lets the workers finish and waits for them.
 *
 * Worker side: each worker process runs WORKER(pool, ARG, index) and exits with its return
 * value. It sets up its own state and hands its loop to pool_serve(), which takes one task at
 * a time, keeps the slot's claim (the id of the task it holds, for pool_reap) and answers
 * each task with one completion. Users of the pool (copy workers, --tar's read-ahead, the MPI
 * agents' local pools) go through these functions only: nobody else touches the queues or
 * the slots' fields.
 *
 * Every task and completion message starts with a uint64_t id, never 0 (see queue_pop's
 * claim).
 */
#ifndef PCOPY_POOL_H
#define PCOPY_POOL_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/queue.h"

/* One per worker, in shared memory. */
struct pool_slot {
	volatile pid_t pid;      /* written by the parent (fork/reap); 0 when no process */
	volatile uint64_t claim; /* id of the task the worker holds, 0 if none; written by the
	                            worker (queue lock) */
	int respawns;            /* parent only: replacements started in this slot */
};

struct pool;
typedef int (*pool_worker_fn)(struct pool *p, void *arg, int index);

struct pool {
	int size;                /* number of workers */
	struct pool_slot *slots; /* shared array of SIZE slots */
	struct queue *tasks;     /* parent -> workers */
	struct queue *done;      /* workers -> parent */
	pool_worker_fn worker;   /* body of each worker process */
	void *arg;               /* passed to WORKER */
	pid_t parent;            /* pid of the process that started the pool */
	int stopping;            /* parent only: pool_hold/pool_stop, no more replacements */
};

/*
 * Create queues (TASK_CAP tasks of TASK_SIZE bytes, completions of DONE_SIZE bytes with room
 * for every task that can be outstanding) and fork N workers. Returns 0, or -1 with errno
 * (nothing left running).
 */
int pool_start(struct pool *p, int n, uint32_t task_cap, uint32_t task_size, uint32_t done_size,
               pool_worker_fn worker, void *arg);

/* Queue a task, waiting up to TIMEOUT_MS for room. 0, or -1 with errno as queue_push. */
int pool_submit(struct pool *p, const void *task, int timeout_ms);

/* pool_submit, but the task goes ahead of those queued: the next free worker takes it. */
int pool_submit_first(struct pool *p, const void *task, int timeout_ms);

/* Take a completion, waiting up to TIMEOUT_MS. 0, or -1 with errno as queue_pop. */
int pool_next(struct pool *p, void *done, int timeout_ms);

/*
 * Reap workers that exited. For each that died while holding a task, call
 * LOST(CTX, claim, pid, wstatus); unless stopping, start a replacement. Returns the number of
 * workers that died abnormally, or -1 with errno when a replacement could not be forked.
 */
int pool_reap(struct pool *p, void (*lost)(void *ctx, uint64_t claim, pid_t pid, int wstatus),
              void *ctx);

/* Number of tasks queued and not yet taken by a worker (a snapshot). */
uint32_t pool_queued(struct pool *p);

/* Number of worker processes still running. */
int pool_alive(const struct pool *p);

/* Send SIG to every worker. */
void pool_signal(struct pool *p, int sig);

/* Lost workers are no longer replaced from now on (an interrupted run winding down). */
void pool_hold(struct pool *p);

/*
 * Close the task queue, wait up to GRACE_MS for the workers to finish what they hold and
 * exit, then kill what is left, reap everything and free the queues. Returns 0, or -1 if a
 * worker had to be killed.
 */
int pool_stop(struct pool *p, int grace_ms);

/*
 * In a worker: call HANDLER on SIGTERM, SIGINT and SIGHUP, without SA_RESTART so that a
 * wait returns EINTR, and ignore SIGPIPE.
 */
void pool_worker_signals(void (*handler)(int));

/*
 * In worker INDEX: pop a task into TASK, call FN(CTX, TASK, DONE), push the completion DONE
 * and release the claim, until *STOP is set, the task queue closes (EPIPE) or the parent is
 * gone. TASK and DONE are the caller's buffers of the pool's task and completion sizes. A
 * task under way when *STOP is set is still answered: FN says in DONE how far it got.
 */
void pool_serve(struct pool *p, int index, volatile sig_atomic_t *stop, void *task, void *done,
                void (*fn)(void *ctx, const void *task, void *done), void *ctx);

/* In a worker: 1 when the parent that started the pool is gone. */
int pool_orphaned(const struct pool *p);

#endif
