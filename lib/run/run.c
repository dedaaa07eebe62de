/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run: one pcopy run in the parent (see run.h), as a sequence of phases whose code lives in
 * the other files of lib/run (internal.h lists them): plan (plan.c), then dispatch
 * (dispatch.c: the walk, walk.c and prune.c, feeding tasks while split.c and complete.c
 * account for their completions), then hard links, directory metadata and the manifest
 * (finish.c). This file holds the run's life cycle and the sequence, and sets the phase
 * (enum run_phase) as it goes: PLANNED (plan.c), WALK, DRAIN (walk.c, when the walk is
 * over), STOP when interrupted, FINISH, OVER. Workers (copy/worker.c) carry out the tasks
 * with copy_run().
 */
#include "config.h"

#include <assert.h>
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
#include "report/proven.h"
#include "run/internal.h"

void run_set_phase(struct run *r, enum run_phase to)
{
	assert(to > r->phase);
	r->phase = to;
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
	r->snap_fd = -1;
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
	rate_free(r->opts.copy.rate);
	r->opts.copy.rate = NULL;
	at_cache_free(&r->dst_dirs);
	at_cache_free(&r->link_dirs);
	run_snapshot_free(r);
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
	if (r->previous != NULL)
		proven_free(r->previous);
	free(r->previous);
	free(r->prefixes);
	free(r->stamps);
	free(r->entries);
	free(r->splits);
	free(r->pending);
	free(r->dirs);
	free(r->links);
	free(r->lnames);
	free(r->deferred);
	run_lister_free(r);
	select_from_free(&r->from_sent);
	if (r->inodes != NULL)
		inotab_free(r->inodes);
	free(r->inodes);
	names_free(&r->names);
}

void run_share(const struct run *r, struct run_share *out)
{
	*out = (struct run_share){&r->opts.copy, r->opts.jobs, r->nroots,
	                          r->roots,      r->croots,    r->opts.select};
}

void run_set_remote(struct run *r, const struct run_remote *remote)
{
	r->remote = remote;
}

/* Start the pool, walk and copy until every task is done, stop the pool. Returns 0, or
 * RUN_FATAL with R->err set. */
static int run_copy(struct run *r)
{
	int jobs = r->opts.jobs > 0 ? r->opts.jobs : 1;
	if (run_previous_load(r) != 0)
		return RUN_FATAL;
	r->worker.opts = &r->opts.copy;
	r->worker.roots = r->croots;
	r->worker.names = &r->names;
	r->worker.bufsize = COPY_WORKER_BUF; /* pid_tag, split_parent: 0, the pool's own */
	if (r->opts.copy.bwlimit > 0 && r->opts.copy.rate == NULL &&
	    (r->opts.copy.rate = rate_create(r->opts.copy.bwlimit)) == NULL) {
		run_fail(r, "cannot share the --bwlimit bucket: %s", strerror(errno));
		return RUN_FATAL;
	}
	if (r->remote != NULL && r->remote->list != NULL)
		r->lists = r->remote; /* pcopy-mpi: the ranks read the directories */
	else if (r->remote == NULL && run_lister_start(r) != 0) {
		run_fail(r, "cannot share memory for directory listings: %s", strerror(errno));
		return RUN_FATAL;
	}
	if (copy_pool_start(&r->pool, jobs, RUN_QUEUE_CAP, &r->worker) != 0) {
		run_fail(r, "cannot start %d worker processes: %s", jobs, strerror(errno));
		return RUN_FATAL;
	}
	run_set_phase(r, RUN_PHASE_WALK);
	int rc = run_dispatch(r);
	if (rc == 0 && *r->interrupted) {
		run_set_phase(r, RUN_PHASE_STOP);
		run_abandon(r);
	}
	if (rc != 0)
		pool_signal(&r->pool,
		            SIGTERM); /* fatal: abandon what is queued, not work through it */
	pool_stop(&r->pool, 5000);
	run_lister_free(r);
	return rc != 0 ? RUN_FATAL : 0;
}

/* Links, directory metadata, manifest: the tree as the copy leaves it. */
static int run_finish(struct run *r)
{
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
	if (r->delete_skipped > 0 && r->nroots > 0) {
		char why[128];
		snprintf(why, sizeof(why), "deletions stopped by --max-delete=%llu (%llu skipped)",
		         (unsigned long long)r->opts.max_delete,
		         (unsigned long long)r->delete_skipped);
		run_emit_at(r, RUN_EV_WARNING, 0, ".", 0, 0, NULL, why, 0, 1);
	}
	if (r->stats.failed > 0 || r->stats.different > 0 || r->delete_skipped > 0)
		return RUN_PARTIAL;
	return run_snapshot_mark(r) == 0 ? RUN_OK : RUN_PARTIAL;
}

int run_execute(struct run *r)
{
	r->start = clock_now();
	int rc = run_copy(r);
	if (rc == 0 && *r->interrupted) {
		run_tick(r);
		rc = RUN_SIGNALLED + *r->interrupted;
	} else if (rc == 0) {
		run_set_phase(r, RUN_PHASE_FINISH);
		rc = run_finish(r);
	}
	run_set_phase(r, RUN_PHASE_OVER);
	return rc;
}
