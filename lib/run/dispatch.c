/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/dispatch: the main loop: walk, hand tasks to the pool (and the remote), collect their
 * completions, and drain on an interrupt.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/compat.h"
#include "common/path.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "report/progress.h"
#include "run/internal.h"

void run_tick(struct run *r)
{
	r->stats.seconds = clock_now() - r->start;
	if (r->hooks.tick != NULL)
		r->hooks.tick(r->hooks.ctx, &r->stats);
}

/* Hand the next task to the remote if it has room, else to the local pool. Returns 1 when
 * it was taken, 0 when neither has room, -1 when the remote failed. */
static int hand_out(struct run *r, const struct copy_task *t)
{
	const struct run_remote *rm = r->remote;
	uint64_t cost = copy_task_cost(t);
	if (rm != NULL) {
		int rc = rm->take(rm->ctx, t, names_get(&r->names, t->src),
		                  names_get(&r->names, t->dst));
		if (rc != 0) {
			r->remote_out += rc > 0;
			return rc;
		}
		size_t local = r->outstanding - r->remote_out;
		if (local >= rm->local_cap ||
		    (local > 0 && r->local_bytes + cost > rm->local_bytes))
			return 0;
	}
	if (pool_submit(&r->pool, t, 0) != 0)
		return 0;
	r->local_bytes += cost;
	return 1;
}

/* A completion from the local pool: its data no longer counts as queued here. */
static void local_done(struct run *r, const struct copy_done *d)
{
	if (run_lister_done(r, d))
		return;
	uint64_t idx = COPY_ID_ENTRY(d->id);
	if (idx >= 1 && idx <= r->nentries) {
		struct copy_task t;
		uint32_t kind = COPY_ID_KIND(d->id);
		int part = kind > 0 && kind != COPY_ID_SEAL;
		if (!part || run_part_awaited(r, d->id)) {
			run_task_for(r, d->id, &t);
			uint64_t cost = copy_task_cost(&t);
			r->local_bytes -= cost < r->local_bytes ? cost : r->local_bytes;
		}
	}
	run_complete(r, d, NULL);
}

/*
 * The next task to hand out, into *T: a seal or a re-queued entry (returns 1), a part of a
 * split copy (returns 2, *SPLIT its record), or nothing (0). Parts go one worker's worth at a
 * time, each from the split copy with the fewest parts being copied: two workers writing
 * into the same file take turns on its inode lock, so with several big files each worker is
 * better off in a file of its own (a single big file still gets every worker). Nothing
 * changes until run_handed() says the task was taken.
 */
int run_next_task(struct run *r, struct copy_task *t, struct split **split)
{
	if (r->pending_head < r->npending) {
		*t = r->pending[r->pending_head];
		return 1;
	}
	size_t workers =
	    (size_t)r->pool.size + (r->remote != NULL ? (size_t)r->remote->workers : 0);
	if (r->parts_busy >= workers)
		return 0;
	size_t pick = run_split_pick(r->splits, r->nsplits);
	if (pick == r->nsplits)
		return 0;
	struct split *best = &r->splits[pick];
	run_task_for(r, COPY_ID(r->entries[best->entry].task.id, best->handed + 1), t);
	*split = best;
	return 2;
}

/* The task run_next_task() gave (KIND, SPLIT) was taken by the pool. */
void run_handed(struct run *r, int kind, struct split *split)
{
	if (kind == 1) {
		r->pending_head++;
	} else if (kind == 2) {
		split->handed++;
		split->inflight++;
		r->parts_busy++;
	}
}

/* 1 when parts of split copies are still to be handed out. */
static int parts_left(const struct run *r)
{
	for (size_t i = 0; i < r->nsplits; i++)
		if (r->splits[i].handed < r->splits[i].nparts)
			return 1;
	return 0;
}

/* Queue what can be queued: parts and seals of split copies first, then new entries. */
static int feed(struct run *r, size_t *next)
{
	while (r->outstanding < RUN_QUEUE_CAP) {
		struct copy_task first;
		struct split *split = NULL;
		int kind = run_next_task(r, &first, &split);
		if (kind == 0 && *next == r->nentries)
			break;
		const struct copy_task *t = kind ? &first : &r->entries[*next].task;
		int rc = hand_out(r, t);
		if (rc < 0)
			return run_fail(r, "cannot hand tasks out: %s", strerror(errno));
		if (rc == 0)
			break;
		if (kind)
			run_handed(r, kind, split);
		else
			entry_set_state(&r->entries[(*next)++], ENTRY_QUEUED);
		r->outstanding++;
	}
	if (r->remote != NULL && r->remote->flush(r->remote->ctx) != 0)
		return run_fail(r, "cannot hand tasks out: %s", strerror(errno));
	return 0;
}

/* Take in the remote's completions. Returns how many, or -1. */
static int collect_remote(struct run *r)
{
	const struct run_remote *rm = r->remote;
	struct copy_done d;
	int got = 0, rc;
	while (rm != NULL && (rc = rm->poll(rm->ctx, &d)) != 0) {
		if (rc < 0)
			return run_fail(r, "cannot take in completions: %s", strerror(errno));
		r->remote_out--;
		run_complete(r, &d, NULL);
		got++;
	}
	return got;
}

/* Scan, dispatch and collect until everything is done or the run is interrupted (then
 * run_abandon). */
int run_dispatch(struct run *r)
{
	struct walk w;
	memset(&w, 0, sizeof(w));
	size_t next = 0;
	double last_tick = 0, last_reap = 0;
	r->stats.scanning = 1;
	while (!*r->interrupted) {
		int walked = 0;
		if (feed(r, &next) != 0)
			walked = -1;
		int want_scan = !w.finished && r->nentries - next < RUN_BACKLOG;
		if (walked == 0 && want_scan)
			walked = run_walk_step(r, &w);
		if (walked < 0) {
			if (w.active)
				scan_end(&w.scan);
			return -1;
		}
		if (w.finished && next == r->nentries && r->outstanding == 0 &&
		    r->pending_head == r->npending && !parts_left(r))
			break;
		/* Collect what is there without sleeping in the semaphore: a parent asleep there
		 * costs every completion a wake-up. When the workers have plenty queued, nap
		 * briefly instead; block only when they are close to running dry. */
		struct copy_done d;
		int got = collect_remote(r);
		if (got < 0) {
			if (w.active)
				scan_end(&w.scan);
			return -1;
		}
		while (pool_next(&r->pool, &d, 0) == 0) {
			local_done(r, &d);
			got++;
		}
		if (!got && !walked) {
			/* The remote's completions do not wake a wait on the local queue: nap,
			 * briefly when the walk waits for a listing (every directory planned waits
			 * for its). The pool's workers' listings would, but a wait woken by each
			 * completion costs more than a nap while the workers have plenty. */
			if (r->outstanding > 2 * (size_t)r->pool.size || r->remote != NULL ||
			    (r->lister != NULL && want_scan)) {
				long ns = want_scan && r->lists != NULL ? 50000L
				          : r->remote == NULL           ? 2000000L
				                                        : 300000L;
				struct timespec nap = {0, ns};
				nanosleep(&nap, NULL);
			} else if (pool_next(&r->pool, &d, 50) == 0) {
				local_done(r, &d);
			}
		}
		double now = clock_now();
		if (now - last_reap >= 0.05) {
			last_reap = now;
			if (pool_reap(&r->pool, run_lost_task, r) < 0)
				return run_fail(r, "cannot start a worker process: %s",
				                strerror(errno));
			if (pool_alive(&r->pool) == 0)
				return run_fail(r, "every worker process has exited");
		}
		if (now - last_tick >= PROGRESS_TICK) {
			last_tick = now;
			run_tick(r);
		}
	}
	if (w.active)
		scan_end(&w.scan);
	return 0;
}

/* Interrupted: the workers abandon their files (removing their temporary files). */
void run_abandon(struct run *r)
{
	pool_hold(&r->pool);
	pool_signal(&r->pool, SIGTERM);
	struct copy_done d;
	double deadline = clock_now() + 10;
	while (pool_alive(&r->pool) > 0) {
		while (pool_next(&r->pool, &d, 20) == 0)
			run_complete(r, &d, NULL);
		pool_reap(&r->pool, NULL, NULL);
		if (clock_now() > deadline)
			pool_signal(&r->pool, SIGKILL);
	}
	while (pool_next(&r->pool, &d, 0) == 0)
		run_complete(r, &d, NULL);
	/* The shared temporary files of split copies are the parent's to remove. */
	for (size_t i = 0; i < r->nentries; i++)
		if ((r->entries[i].task.flags & TASK_SPLIT) && r->entries[i].state != ENTRY_DONE)
			run_split_unlink(r, &r->entries[i]);
}
