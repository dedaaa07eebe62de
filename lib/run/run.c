/*
 * run: one pcopy run in the parent (see run.h), as a sequence of phases whose code lives in
 * the other files of lib/run (internal.h lists them): plan (plan.c), then dispatch
 * (dispatch.c: the walk, walk.c and prune.c, feeding tasks while split.c and complete.c
 * account for their completions), then hard links, directory metadata and the manifest
 * (finish.c). This file holds the run's life cycle and the sequence; workers (run_worker)
 * carry out the tasks with copy_run().
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/at.h"
#include "fs/inotab.h"
#include "run/internal.h"

double run_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

int run_init(struct run *r, const struct run_opts *opts, const struct run_hooks *hooks,
             volatile sig_atomic_t *interrupted)
{
	memset(r, 0, sizeof(*r));
	r->opts = *opts;
	r->hooks = *hooks;
	r->interrupted = interrupted;
	at_cache_init(&r->dst_dirs);
	at_cache_init(&r->link_dirs);
	r->manifest_fd = r->manifest_dir = -1;
	r->inodes = calloc(1, sizeof(*r->inodes));
	if (r->inodes == NULL || names_init(&r->names, (size_t)1 << 36) != 0)
		return run_fail(r, "cannot reserve memory: %s", strerror(errno));
	r->split_min = RUN_SPLIT_MIN;
	r->part_min = RUN_PART_MIN;
	/* Test hook: split files from this size on, in parts of a quarter of it at least. */
	if (opts->test_split_min >= 4) {
		r->split_min = opts->test_split_min;
		r->part_min = r->split_min / 4;
	}
	return 0;
}

void run_free(struct run *r)
{
	at_cache_free(&r->dst_dirs);
	at_cache_free(&r->link_dirs);
	for (size_t i = 0; i < r->nroots; i++) {
		free(r->roots[i].src_display);
		free(r->roots[i].dst_display);
		free(r->roots[i].prefix);
		free(r->roots[i].src_name);
		free(r->roots[i].dst_name);
		free(r->roots[i].src_dir);
		free(r->roots[i].dst_dir);
		if (r->croots[i].src_fd >= 0)
			close(r->croots[i].src_fd);
		if (r->croots[i].dst_fd >= 0)
			close(r->croots[i].dst_fd);
	}
	free(r->roots);
	free(r->croots);
	/* An unnamed manifest never named (a failed or interrupted run) vanishes here. */
	if (r->manifest_fd >= 0)
		close(r->manifest_fd);
	if (r->manifest_dir >= 0)
		close(r->manifest_dir);
	free(r->manifest_name);
	free(r->entries);
	free(r->splits);
	free(r->pending);
	free(r->dirs);
	free(r->links);
	free(r->lnames);
	free(r->deferred);
	if (r->inodes != NULL)
		inotab_free(r->inodes);
	free(r->inodes);
	names_free(&r->names);
}

/* ---- workers ---------------------------------------------------------------------------- */

static volatile sig_atomic_t worker_stop;

static void worker_signal(int sig)
{
	worker_stop = sig;
}

int run_worker(struct pool *p, void *arg, int index)
{
	struct run *r = arg;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_signal; /* no SA_RESTART: waits return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	struct copy_ctx ctx;
	if (copy_ctx_init(&ctx, &r->opts.copy, r->croots, &r->names, &worker_stop, RUN_IO_BUF) != 0)
		return 3;
	ctx.pid += r->worker_tag;
	if (r->split_parent != 0)
		ctx.ppid = r->split_parent;
	volatile uint64_t *claim = &p->slots[index].claim;
	/* Test hook: slow every task down so tests can interrupt a run at a known point. */
	const char *slow = getenv("PCOPY_TEST_SLOW_MS");
	struct timespec delay = {0, 0};
	if (slow != NULL)
		delay.tv_nsec = (atol(slow) % 1000) * 1000000L;
	while (!worker_stop) {
		struct copy_task t;
		if (queue_pop(p->tasks, &t, 1000, claim) != 0) {
			if (errno == EPIPE || pool_orphaned(p))
				break;
			continue;
		}
		struct copy_done d;
		if (delay.tv_nsec > 0)
			nanosleep(&delay, NULL);
		copy_run(&ctx, &t, &d);
		while (queue_push(p->done, &d, 1000) != 0) {
			if (errno == EPIPE || pool_orphaned(p))
				goto out;
		}
		*claim = 0;
	}
out:
	copy_ctx_free(&ctx);
	/* Stopped by a signal while the parent goes on: exit so that it starts a replacement. */
	return worker_stop && !pool_orphaned(p) ? 1 : 0;
}

int run_execute(struct run *r)
{
	r->start = run_now();
	int jobs = r->opts.jobs > 0 ? r->opts.jobs : 1;
	if (pool_start(&r->pool, jobs, RUN_QUEUE_CAP, sizeof(struct copy_task),
	               sizeof(struct copy_done), run_worker, r) != 0) {
		run_fail(r, "cannot start %d worker processes: %s", jobs, strerror(errno));
		return RUN_FATAL;
	}
	int rc = run_dispatch(r);
	if (rc != 0)
		pool_signal(&r->pool,
		            SIGTERM); /* fatal: abandon what is queued, not work through it */
	pool_stop(&r->pool, 5000);
	if (rc != 0)
		return RUN_FATAL;
	if (*r->interrupted) {
		run_tick(r);
		return RUN_SIGNALLED + *r->interrupted;
	}
	if (!r->opts.copy.check)
		run_make_links(r);
	else
		run_check_links(r);
	if (!r->opts.copy.dry_run && !r->opts.copy.check)
		run_finish_dirs(r);
	if (r->opts.manifest != NULL && run_write_manifest(r) != 0)
		/* on stdout (--manifest -): the files are in place; cmd/ reports the write error */
		return strcmp(r->opts.manifest, "-") == 0 ? RUN_PARTIAL : RUN_FATAL;
	run_tick(r);
	if (*r->interrupted) /* arrived while links, directories or the manifest were done */
		return RUN_SIGNALLED + *r->interrupted;
	return r->stats.failed > 0 || r->stats.different > 0 ? RUN_PARTIAL : RUN_OK;
}
