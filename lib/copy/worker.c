/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/worker: a copy worker process's loop (see worker.h).
 *
 * Process-wide side effects a worker takes on, once, when it starts (the pool forked it, so
 * they touch no one else):
 * - SIGTERM, SIGINT and SIGHUP set worker_stop (no SA_RESTART: waits return EINTR and the
 *   file at hand is abandoned, its temporary file removed); SIGPIPE is ignored
 *   (pool_worker_signals), SIGCHLD is back to its default (copy_worker);
 * - umask(0) and a SIGBUS handler for mapped re-reads (copy_ctx_init, copy.c and data.c).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "copy/worker.h"
#include "fs/listdir.h"

static volatile sig_atomic_t worker_stop;

static void worker_signal(int sig)
{
	worker_stop = sig;
}

/* A worker's state for serve_one. */
struct worker {
	struct copy_ctx ctx;
	struct timespec delay; /* test hook: slept before each task */
	const struct copy_worker_args *args;
	struct listdir list; /* TASK_LIST: the directory at hand */
	char *path;          /* ... and the path of one of its entries */
	size_t path_cap;
};

/* TASK_LIST of directory DIR of ROOT, listed with its destination twin: mark the files that
 * copy_run would skip as up to date (LISTDIR_CURRENT), so that they need no task. */
static void mark_current(struct worker *w, uint32_t root, const char *dir)
{
	size_t dlen = strcmp(dir, ".") == 0 ? 0 : strlen(dir);
	for (size_t i = 0; i < w->list.nitems; i++) {
		struct scan_item *it = &w->list.items[i];
		size_t nlen = strlen(it->name);
		if (!S_ISREG(it->st.st_mode) ||
		    array_grow(&w->path, &w->path_cap, dlen + nlen + 2, 1) != 0)
			continue;
		memcpy(w->path, dir, dlen);
		w->path[dlen] = '/';
		memcpy(w->path + (dlen ? dlen + 1 : 0), it->name, nlen + 1);
		if (copy_current(&w->ctx, root, w->path, &it->st))
			it->made = LISTDIR_CURRENT;
	}
}

/* Directory DIR (not ".") below ROOT, opened through cache C: its descriptor, owned by C
 * (a cache's, never ROOT's, whose offset the processes share), or -1 with errno. */
static int cached_dir(struct worker *w, struct at_cache *c, int root, const char *dir)
{
	size_t n = strlen(dir);
	if (array_grow(&w->path, &w->path_cap, n + 3, 1) != 0)
		return -1;
	memcpy(w->path, dir, n);
	memcpy(w->path + n, "/.", 3);
	const char *leaf;
	return at_parent(c, root, w->path, &leaf);
}

/* TASK_LIST: read directory T->src (with its destination twin under TASK_LIST_DST) and pack
 * it into the shared slot T->part_off (see copy.h). */
static void list_one(struct worker *w, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_worker_args *a = w->args;
	const struct copy_root *root = &a->roots[t->root];
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	int err = 0;
	const char *dir = names_get(a->names, t->src);
	int rc;
	if (strcmp(dir, ".") == 0) {
		rc = listdir_read(&w->list, root->src_fd,
		                  t->flags & TASK_LIST_DST ? root->dst_fd : -1, dir);
	} else {
		/* Through the directories the copy at hand keeps open (copy_current below
		 * works in them too): one open of each side, not two. */
		int sfd = cached_dir(w, &w->ctx.src_dirs, root->src_fd, dir);
		int dfd = t->flags & TASK_LIST_DST
		              ? cached_dir(w, &w->ctx.dst_dirs, root->dst_fd, dir)
		              : -1;
		if (sfd < 0) {
			w->list.nitems = 0;
			w->list.err = errno;
			rc = -1;
		} else {
			rc = listdir_read_open(&w->list, sfd, dfd);
		}
	}
	if (rc != 0)
		err = w->list.err;
	if (err == 0 && w->list.dst_listed && copy_current_allowed(a->opts))
		mark_current(w, t->root, names_get(a->names, t->src));
	size_t len = listdir_pack_size(&w->list, err);
	if (len > a->list_slot) {
		d->status = COPY_FAILED;
		d->err = E2BIG;
		return;
	}
	listdir_pack(&w->list, err, a->lists + (size_t)t->part_off * a->list_slot);
	d->status = COPY_COPIED;
	d->bytes = len;
}

/* One task for pool_serve. */
static void serve_one(void *arg, const void *task, void *done)
{
	struct worker *w = arg;
	const struct copy_task *t = task;
	if (w->delay.tv_nsec > 0)
		nanosleep(&w->delay, NULL);
	if (t->flags & TASK_LIST)
		list_one(w, t, done);
	else
		copy_run(&w->ctx, t, done);
}

int copy_worker(struct pool *p, void *arg, int index)
{
	const struct copy_worker_args *a = arg;
	/* Signals: the stop handler for SIGTERM, SIGINT, SIGHUP; SIGPIPE ignored. */
	pool_worker_signals(worker_signal);
	/* Whatever disposition the parent gave SIGCHLD, the worker has the default. */
	signal(SIGCHLD, SIG_DFL);
	struct worker w;
	memset(&w, 0, sizeof(w));
	w.args = a;
	/* umask(0) and the SIGBUS handler: see copy_ctx_init. */
	if (copy_ctx_init(&w.ctx, a->opts, a->roots, a->names, &worker_stop, a->bufsize) != 0)
		return 3;
	w.ctx.pid += a->pid_tag;
	if (a->split_parent != 0)
		w.ctx.ppid = a->split_parent;
	/* Test hook: slow every task down so tests can interrupt a run at a known point. */
	w.delay = (struct timespec){0, 0};
	if (a->opts->test_slow_ms != 0)
		w.delay.tv_nsec = (a->opts->test_slow_ms % 1000) * 1000000L;
	struct copy_task t;
	struct copy_done d;
	pool_serve(p, index, &worker_stop, &t, &d, serve_one, &w);
	copy_ctx_free(&w.ctx);
	listdir_free(&w.list);
	free(w.path);
	/* Stopped by a signal while the parent goes on: exit so that it starts a replacement. */
	return worker_stop && !pool_orphaned(p) ? 1 : 0;
}

int copy_pool_start(struct pool *p, int n, uint32_t cap, struct copy_worker_args *args)
{
	return pool_start(p, n, cap, sizeof(struct copy_task), sizeof(struct copy_done),
	                  copy_worker, args);
}
