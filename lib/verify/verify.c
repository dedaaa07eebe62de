/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify: --verify-manifest FILE DIR in the parent (see verify.h): read the manifest, look
 * each name up, hand the regular files to the pool (big ones first), take the hashes back and
 * report every verdict in manifest order as soon as those before it are known; then, with
 * --unlisted, what else DIR holds. The workers are vworker.c's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/exit.h"
#include "fs/at.h"
#include "report/progress.h"
#include "verify/internal.h"

/* A name to hash, in the order they are handed out. */
struct verify_order {
	uint64_t size;  /* its size (what the order is sorted by) */
	size_t idx;     /* its index in the name table */
	uint32_t count; /* at the first name of a task: the names in it; else 0 */
	uint8_t tries;  /* at the first name of a task: times it came back unanswered */
	uint8_t done;   /* at the first name of a task: its answer was taken */
};

/* A directory --unlisted's walk could not read, reported after the unlisted files. */
struct verify_walk_error {
	char *path;
	int err;
};

/* Everything about one check. Parent only. */
struct verify {
	const struct verify_opts *o;
	const struct verify_hooks *h;
	struct verify_counts *counts;
	struct stats *st;
	struct names names;
	struct verify_list list;
	struct verify_share share;
	struct pool pool;
	int pooled;
	struct verify_order *order;     /* the names to hash, largest first */
	size_t norder;                  /* how many */
	size_t handed;                  /* ORDER[0 .. HANDED-1] were handed out */
	size_t outstanding;             /* handed out, not answered */
	size_t reported;                /* names 0 .. REPORTED-1 were reported */
	struct verify_walk_error *werr; /* --unlisted: directories that could not be read */
	size_t nwerr, werr_cap;
	double start, last_tick, last_reap;
	int fatal;
	char *err;
	size_t errlen;
};

static void tick(struct verify *v, int force)
{
	double now = clock_now();
	if (!force && now - v->last_tick < PROGRESS_TICK)
		return;
	v->last_tick = now;
	v->st->seconds = now - v->start;
	if (v->h->tick != NULL)
		v->h->tick(v->h->ctx, v->st);
}

/* DIR/NAME for a message (a static buffer: one at a time). */
static const char *shown_path(struct verify *v, const char *name)
{
	static char buf[8192];
	const char *dir = v->o->dir;
	size_t n = strlen(dir);
	snprintf(buf, sizeof(buf), "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name);
	return buf;
}

/* Count and report verdict R. */
static void report(struct verify *v, struct verify_result *r)
{
	struct verify_counts *c = v->counts;
	switch (r->verdict) {
	case VERIFY_OK: c->verified++; break;
	case VERIFY_CHANGED: c->changed++; break;
	case VERIFY_MISSING: c->missing++; break;
	case VERIFY_NOT_REGULAR: c->not_regular++; break;
	case VERIFY_UNREADABLE: c->unreadable++; break;
	case VERIFY_UNLISTED: c->unlisted++; break;
	}
	if (v->h->result != NULL)
		v->h->result(v->h->ctx, r);
}

/* Report the names whose verdicts are known and follow the last reported, in order. */
static void report_ready(struct verify *v)
{
	while (v->reported < v->list.n && v->list.v[v->reported].verdict != 0) {
		const struct verify_name *n = &v->list.v[v->reported++];
		int hashed = n->verdict == VERIFY_OK || n->verdict == VERIFY_CHANGED;
		struct verify_result r = {n->verdict,
		                          n->shown,
		                          shown_path(v, n->shown),
		                          hashed ? n->size : 0,
		                          hashed ? &n->got : NULL,
		                          n->reading ? "cannot read" : "cannot open",
		                          n->err};
		v->counts->names++;
		report(v, &r);
	}
}

/* Look every name up below DIR: its size, or its verdict when it is no regular file. */
static void look_up(struct verify *v)
{
	struct at_cache dirs;
	at_cache_init(&dirs);
	for (size_t i = 0; i < v->list.n && !*v->o->interrupted; i++) {
		struct verify_name *n = &v->list.v[i];
		const char *leaf;
		struct stat st;
		int dir = at_parent(&dirs, v->share.root, names_get(&v->names, n->name), &leaf);
		if (dir < 0 || fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			/* Through a symlink: ELOOP; through a file: ENOTDIR. */
			if (errno == ENOENT || errno == ENOTDIR)
				n->verdict = VERIFY_MISSING;
			else if (errno == ELOOP)
				n->verdict = VERIFY_NOT_REGULAR;
			else
				v->order[v->norder++] =
				    (struct verify_order){0, i, 0, 0, 0}; /* the worker says */
		} else if (!S_ISREG(st.st_mode)) {
			n->verdict = VERIFY_NOT_REGULAR;
		} else {
			n->size = (uint64_t)st.st_size;
			v->st->bytes_total += n->size;
			v->order[v->norder++] = (struct verify_order){n->size, i, 0, 0, 0};
		}
		v->st->files++;
		if (n->verdict != 0)
			v->st->done++;
	}
	at_cache_free(&dirs);
}

/* The files of VERIFY_BIG bytes or more first, largest first; then the rest in manifest
 * order, which keeps the names of a directory together. */
static int by_size(const void *a, const void *b)
{
	const struct verify_order *x = a, *y = b;
	int xbig = x->size >= VERIFY_BIG, ybig = y->size >= VERIFY_BIG;
	if (xbig != ybig)
		return xbig ? -1 : 1;
	if (xbig && x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The task whose first name is at POS in the order into *T. */
static void make_task(const struct verify *v, size_t pos, struct verify_task *t)
{
	const struct verify_order *o = &v->order[pos];
	memset(t, 0, sizeof(*t));
	t->id = pos + 1;
	t->count = o->count;
	t->tries = o->tries;
	for (uint32_t i = 0; i < o->count; i++)
		t->names[i] = v->list.v[v->order[pos + i].idx].name;
}

/* Name N's answer A. */
static void set_verdict(struct verify *v, struct verify_name *n, const struct verify_answer *a)
{
	n->verdict = a->verdict;
	n->err = a->err;
	n->reading = a->reading;
	if (a->verdict == VERIFY_OK) {
		n->got = a->hash;
		n->size = a->bytes;
		v->counts->bytes += a->bytes;
		v->st->bytes_done += a->bytes;
		if (!hash_equal(a->hash, n->want))
			n->verdict = VERIFY_CHANGED;
	}
	v->st->done++;
}

/* The task at POS is over: its names without a verdict stay so only when interrupted. */
static void task_over(struct verify *v, size_t pos)
{
	v->order[pos].done = 1;
	v->outstanding--;
}

/* The task at POS came back with names unanswered (its worker died or was stopped while the
 * run goes on): hand it out again, or after VERIFY_MAX_TRIES give up on those names. */
static void retry(struct verify *v, size_t pos)
{
	struct verify_order *o = &v->order[pos];
	struct verify_task t;
	o->tries++;
	make_task(v, pos, &t);
	if (o->tries < VERIFY_MAX_TRIES && !*v->o->interrupted &&
	    pool_submit(&v->pool, &t, 1000) == 0)
		return;
	const struct verify_answer dead = {0, {0, 0}, VERIFY_UNREADABLE, EIO, 1, 0};
	for (uint32_t i = 0; i < o->count; i++) {
		struct verify_name *n = &v->list.v[v->order[pos + i].idx];
		if (n->verdict == 0)
			set_verdict(v, n, &dead);
	}
	task_over(v, pos);
}

/* The answer D for a task. */
static void take(struct verify *v, const struct verify_done *d)
{
	size_t pos = (size_t)d->id - 1;
	if (d->id == 0 || pos >= v->norder || v->order[pos].count != d->count || v->order[pos].done)
		return; /* a duplicate: its worker died after answering */
	int undone = 0;
	for (uint32_t i = 0; i < d->count; i++) {
		struct verify_name *n = &v->list.v[v->order[pos + i].idx];
		if (n->verdict == 0 && d->a[i].verdict != 0)
			set_verdict(v, n, &d->a[i]);
		undone |= n->verdict == 0;
	}
	if (undone && !*v->o->interrupted)
		retry(v, pos);
	else
		task_over(v, pos);
}

/* A worker died holding task CLAIM. */
static void lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	struct verify *v = ctx;
	(void)pid;
	(void)wstatus;
	if (claim == 0 || claim > v->norder || v->order[claim - 1].done)
		return;
	retry(v, (size_t)claim - 1);
}

/* Take the answers waiting, the first one waiting up to TIMEOUT_MS; reap dead workers. */
static int collect(struct verify *v, int timeout_ms)
{
	struct verify_done d;
	int got = 0;
	while (pool_next(&v->pool, &d, got ? 0 : timeout_ms) == 0) {
		take(v, &d);
		got = 1;
	}
	double now = clock_now();
	if (now - v->last_reap >= 0.05) {
		v->last_reap = now;
		if (pool_reap(&v->pool, lost, v) < 0) {
			snprintf(v->err, v->errlen, "cannot start a worker process: %s",
			         strerror(errno));
			return -1;
		}
	}
	return got;
}

/* Hand out what the queue takes: tasks of up to VERIFY_BATCH names (one for a big file). */
static void hand_out(struct verify *v)
{
	while (v->handed < v->norder && !*v->o->interrupted) {
		size_t pos = v->handed;
		uint64_t bytes = v->order[pos].size;
		uint32_t count = 1;
		while (count < VERIFY_BATCH && pos + count < v->norder &&
		       bytes + v->order[pos + count].size < VERIFY_BATCH_BYTES)
			bytes += v->order[pos + count++].size;
		v->order[pos].count = count;
		struct verify_task t;
		make_task(v, pos, &t);
		if (pool_submit(&v->pool, &t, 0) != 0)
			break;
		v->handed += count;
		v->outstanding++;
	}
	v->st->scanning = v->handed < v->norder;
}

/* --unlisted's walk calls this between directories: keep the workers busy. Returns 1 to
 * stop the walk (interrupted, or a fatal error). */
static int walk_poll(void *ctx)
{
	struct verify *v = ctx;
	if (v->fatal || *v->o->interrupted)
		return 1;
	if (collect(v, 0) < 0)
		v->fatal = 1;
	hand_out(v);
	report_ready(v);
	tick(v, 0);
	return v->fatal;
}

/* --unlisted's walk could not read directory PATH: kept to report after the unlisted files,
 * so that the order of the report never depends on the workers'. */
static void walk_error(void *ctx, const char *path, int err)
{
	struct verify *v = ctx;
	char *p = strdup(path);
	if (p == NULL || array_grow(&v->werr, &v->werr_cap, v->nwerr + 1, sizeof(*v->werr)) != 0) {
		free(p);
		v->fatal = 1;
		snprintf(v->err, v->errlen, "out of memory");
		return;
	}
	v->werr[v->nwerr++] = (struct verify_walk_error){p, err};
}

/* Hash everything (and walk DIR for --unlisted meanwhile). Returns 0, or -1 (ERR set). */
static int hash_all(struct verify *v, char ***unlisted, size_t *nunlisted)
{
	int jobs = v->o->jobs > 0 ? v->o->jobs : 1;
	if (pool_start(&v->pool, jobs, VERIFY_QUEUE_CAP, sizeof(struct verify_task),
	               sizeof(struct verify_done), verify_worker, &v->share) != 0)
		return snprintf(v->err, v->errlen, "cannot start %d worker processes: %s", jobs,
		                strerror(errno)),
		       -1;
	v->pooled = 1;
	hand_out(v);
	if (v->o->unlisted && verify_list_index(&v->list, &v->names) != 0)
		return snprintf(v->err, v->errlen, "out of memory"), -1;
	if (v->o->unlisted &&
	    verify_list_unlisted(&v->list, v->share.root, unlisted, nunlisted, walk_poll,
	                         walk_error, v) != 0 &&
	    !v->fatal)
		return snprintf(v->err, v->errlen, "%s: cannot walk: %s", v->o->dir,
		                strerror(errno)),
		       -1;
	while (!v->fatal && !*v->o->interrupted && (v->handed < v->norder || v->outstanding > 0)) {
		hand_out(v);
		if (collect(v, 50) < 0)
			return -1;
		if (pool_alive(&v->pool) == 0 && v->outstanding > 0)
			return snprintf(v->err, v->errlen, "every worker process has exited"), -1;
		report_ready(v);
		tick(v, 0);
	}
	return v->fatal ? -1 : 0;
}

/* Open DIR, read the manifest, look the names up. Returns 0, or -1 (ERR set). */
static int prepare(struct verify *v)
{
	struct stat st;
	v->share.root = open(v->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->share.root < 0 || fstat(v->share.root, &st) != 0)
		return snprintf(v->err, v->errlen, "%s: %s", v->o->dir, strerror(errno)), -1;
	if (names_init(&v->names, (size_t)1 << 36) != 0)
		return snprintf(v->err, v->errlen, "cannot reserve memory: %s", strerror(errno)),
		       -1;
	v->share.names = &v->names;
	v->share.slow_ms = v->o->test_slow_ms;
	if (verify_list_read(&v->list, &v->names, v->o->manifest, v->err, v->errlen) != 0)
		return -1;
	v->order = malloc((v->list.n > 0 ? v->list.n : 1) * sizeof(*v->order));
	if (v->order == NULL)
		return snprintf(v->err, v->errlen, "out of memory"), -1;
	look_up(v);
	if (v->norder > 1)
		qsort(v->order, v->norder, sizeof(*v->order), by_size);
	return 0;
}

int verify_run(const struct verify_opts *o, const struct verify_hooks *h,
               struct verify_counts *counts, struct stats *st, char *err, size_t errlen)
{
	struct verify v;
	memset(&v, 0, sizeof(v));
	memset(counts, 0, sizeof(*counts));
	memset(st, 0, sizeof(*st));
	v.o = o, v.h = h, v.counts = counts, v.st = st, v.err = err, v.errlen = errlen;
	v.share.root = -1;
	v.start = clock_now();
	st->scanning = 1;
	char **unlisted = NULL;
	size_t nunlisted = 0;
	int rc = prepare(&v);
	if (rc == 0 && !*o->interrupted)
		rc = hash_all(&v, &unlisted, &nunlisted);
	if (v.pooled) {
		if (rc != 0 || *o->interrupted)
			pool_signal(&v.pool, SIGTERM); /* abandon what is queued */
		pool_stop(&v.pool, 5000);
	}
	st->scanning = 0;
	int status = rc != 0 ? PCOPY_EXIT_FATAL : PCOPY_EXIT_OK;
	if (rc == 0 && *o->interrupted) {
		status = PCOPY_EXIT_SIGNALLED + *o->interrupted;
	} else if (rc == 0) {
		report_ready(&v);
		for (size_t i = 0; i < nunlisted; i++) {
			struct verify_result r = {VERIFY_UNLISTED,
			                          unlisted[i],
			                          shown_path(&v, unlisted[i]),
			                          0,
			                          NULL,
			                          NULL,
			                          0};
			report(&v, &r);
		}
		for (size_t i = 0; i < v.nwerr; i++) {
			struct verify_result r = {VERIFY_UNREADABLE,
			                          v.werr[i].path,
			                          shown_path(&v, v.werr[i].path),
			                          0,
			                          NULL,
			                          "cannot read directory",
			                          v.werr[i].err};
			report(&v, &r);
		}
		const struct verify_counts *c = counts;
		if (c->changed + c->missing + c->not_regular + c->unreadable + c->unlisted > 0)
			status = PCOPY_EXIT_PARTIAL;
	}
	tick(&v, 1);
	for (size_t i = 0; i < nunlisted; i++)
		free(unlisted[i]);
	free(unlisted);
	for (size_t i = 0; i < v.nwerr; i++)
		free(v.werr[i].path);
	free(v.werr);
	free(v.order);
	verify_list_free(&v.list);
	if (v.names.base != NULL)
		names_free(&v.names);
	if (v.share.root >= 0)
		close(v.share.root);
	return status;
}
