/* SPDX-License-Identifier: BSD-2-Clause */
/* mpi/agent.c: the service loop of ranks 1.. of pcopy-mpi (see mpiwork.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/path.h"
#include "copy/worker.h"
#include "mpi/internal.h"
#include "select/select.h"

/* ---- agents -------------------------------------------------------------------------------- */

/* An agent's state: what rank 0's plan gave (copy options, roots, --exclude), the pool and
 * the arena of the tasks' paths. No struct run: an agent decides and counts nothing. */
struct serve {
	struct copy_opts copy;          /* what workers do per file, as rank 0 sent them */
	int jobs;                       /* -j: workers in the pool */
	struct copy_root *roots;        /* per root: its descriptors, opened here (-1: none) */
	char **prefixes;                /* per root: what --exclude matches paths after */
	uint32_t nroots;                /* roots opened (or tried) */
	struct names names;             /* the arena the tasks' paths are put in */
	struct at_cache dst_dirs;       /* destination directories opened here (serve_mkdir) */
	struct pool pool;               /* -j copy workers */
	struct copy_worker_args worker; /* the pool's workers' ARG (points into the above) */
	dev_t *devs;         /* per root: this rank's st_dev of the source directory ... */
	dev_t *lead_devs;    /* ... and rank 0's, reported in its place */
	struct listdir list; /* the directory asked for, both sides */
	struct select_rules select; /* --exclude, --filter rules, as rank 0 sent them */
	struct box out;    /* to rank 0 */
	unsigned char *in; /* receive buffer */
	size_t in_cap;
	int stop, abandon; /* REC_STOP arrived; it said to abandon the tasks held */
	int pool_up;       /* the pool was started */
};

/* Read the plan from rank 0 into S and open the roots. Returns 0, 1 when there is no plan
 * (rank 0 refused the run), -1 when out of memory; a root that cannot be opened goes in
 * FAILED (errno, 2 * root + 0 for source, 1 for destination). */
static int serve_setup(struct serve *s, int32_t failed[2])
{
	uint64_t n = 0;
	MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (n == 0)
		return 1;
	unsigned char *buf = malloc(n);
	if (buf == NULL)
		return -1;
	MPI_Bcast(buf, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
	int32_t jobs;
	int64_t pid;
	uint32_t nroots;
	size_t pos = sizeof(s->copy) + sizeof(jobs) + sizeof(pid) + sizeof(nroots);
	memcpy(&s->copy, buf, sizeof(s->copy));
	memcpy(&jobs, buf + sizeof(s->copy), sizeof(jobs));
	memcpy(&pid, buf + sizeof(s->copy) + sizeof(jobs), sizeof(pid));
	memcpy(&nroots, buf + sizeof(s->copy) + sizeof(jobs) + sizeof(pid), sizeof(nroots));
	s->jobs = jobs;
	int rank = 0;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (names_init(&s->names, (size_t)1 << 36) != 0 ||
	    (s->prefixes = calloc(nroots, sizeof(*s->prefixes))) == NULL ||
	    (s->roots = calloc(nroots, sizeof(*s->roots))) == NULL ||
	    (s->devs = calloc(nroots, sizeof(*s->devs))) == NULL ||
	    (s->lead_devs = calloc(nroots, sizeof(*s->lead_devs))) == NULL) {
		free(buf);
		return -1;
	}
	s->worker.opts = &s->copy;
	s->worker.roots = s->roots;
	s->worker.names = &s->names;
	s->worker.bufsize = COPY_WORKER_BUF;
	s->worker.pid_tag = (long)rank << 22; /* above every Linux pid: never another rank's */
	s->worker.split_parent = (long)pid;
	for (uint32_t i = 0; i < nroots; i++) {
		char *dev, *src, *dst;
		struct copy_root *cr = &s->roots[i];
		cr->src_fd = cr->dst_fd = -1;
		s->nroots = i + 1;
		if (wire_get_str(buf, n, &pos, &dev) | wire_get_str(buf, n, &pos, &src) |
		    wire_get_str(buf, n, &pos, &dst)) {
			free(dev), free(src), free(dst), free(buf);
			return -1;
		}
		s->lead_devs[i] = dev ? (dev_t)strtoull(dev, NULL, 10) : 0;
		struct stat st;
		if (src != NULL &&
		    (cr->src_fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
		    failed[0] == 0)
			failed[0] = errno, failed[1] = (int32_t)(2 * i);
		if (dst != NULL &&
		    (cr->dst_fd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
		    failed[0] == 0)
			failed[0] = errno, failed[1] = (int32_t)(2 * i + 1);
		if (cr->src_fd >= 0 && fstat(cr->src_fd, &st) == 0)
			s->devs[i] = st.st_dev;
		free(dev), free(src), free(dst);
	}
	char *count = NULL;
	size_t nex = 0;
	if (wire_get_str(buf, n, &pos, &count) == 0 && count != NULL)
		nex = (size_t)strtoull(count, NULL, 10);
	free(count);
	select_init(&s->select);
	for (size_t i = 0; i < nex; i++) {
		char *rule = NULL;
		int rc = wire_get_str(buf, n, &pos, &rule);
		if (rc == 0 && rule != NULL && select_add(&s->select, rule, SELECT_FILTER) != 0 &&
		    errno == ENOMEM) {
			free(rule);
			free(buf);
			return -1;
		}
		free(rule);
		if (rc != 0 || rule == NULL)
			break;
	}
	for (uint32_t i = 0; i < nroots; i++)
		if (wire_get_str(buf, n, &pos, &s->prefixes[i]) != 0)
			break;
	free(buf);
	return 0;
}

/* Free what serve_setup took, closing the roots. */
static void serve_free(struct serve *s)
{
	for (uint32_t i = 0; i < s->nroots; i++) {
		if (s->roots[i].src_fd >= 0)
			close(s->roots[i].src_fd);
		if (s->roots[i].dst_fd >= 0)
			close(s->roots[i].dst_fd);
	}
	for (uint32_t i = 0; s->prefixes != NULL && i < s->nroots; i++)
		free(s->prefixes[i]);
	select_free(&s->select);
	free(s->prefixes);
	free(s->roots);
	free(s->devs);
	free(s->lead_devs);
	at_cache_free(&s->dst_dirs);
	names_free(&s->names);
}

/* Task T arrived with its paths at P (LENS[0] + LENS[1] bytes): hand it to the pool. */
static int serve_task(struct serve *s, const unsigned char *p, size_t len)
{
	struct copy_task t;
	uint32_t lens[2];
	if (len < sizeof(t) + sizeof(lens))
		return 0;
	memcpy(&t, p, sizeof(t));
	memcpy(lens, p + sizeof(t), sizeof(lens));
	const char *names = (const char *)p + sizeof(t) + sizeof(lens);
	if (t.root >= s->nroots || sizeof(t) + sizeof(lens) + lens[0] + lens[1] > len)
		return 0;
	t.src = names_add(&s->names, names, lens[0]);
	t.dst = names_add(&s->names, names + lens[0], lens[1]);
	if (t.src == UINT64_MAX || t.dst == UINT64_MAX)
		return -1;
	/* Rank 0 never gives more than the pool's queue holds. */
	while (pool_submit(&s->pool, &t, 1000) != 0)
		if (errno != ETIMEDOUT && errno != EINTR)
			return -1;
	return 0;
}

/* Make the destination twin of subdirectory NAME of DIR, as rank 0 would when planning DIR
 * (walk_batch in run/walk.c, run_add_dir): its outcome for scan_item.made, or -1 when rank 0
 * is to decide. */
static int32_t serve_mkdir(struct serve *s, uint32_t root, const char *dir, const char *name)
{
	if (s->copy.check || s->roots[root].dst_fd < 0)
		return -1;
	uint64_t off = scan_join(&s->names, dir, name);
	if (off == UINT64_MAX)
		return -1;
	const char *rel = names_get(&s->names, off);
	if (select_excluded(&s->select, s->prefixes[root], rel, 1))
		return -1;
	int existed = 0;
	const char *leaf;
	int fd = at_parent(&s->dst_dirs, s->roots[root].dst_fd, rel, &leaf);
	int err = fd < 0 ? errno : run_dir_policy(&s->copy, fd, leaf);
	if (err == 0)
		err = tree_make_dir_below(&s->dst_dirs, s->roots[root].dst_fd, rel, s->copy.dry_run,
		                          &existed);
	return (int32_t)(err << 1 | (existed != 0));
}

/* Read the directory asked for and queue its listing for rank 0. */
static int serve_list(struct serve *s, const unsigned char *p, size_t len)
{
	struct {
		uint64_t token;
		uint32_t root, pad;
	} head;
	if (len < sizeof(head) + 1)
		return 0;
	memcpy(&head, p, sizeof(head));
	const char *dir = (const char *)p + sizeof(head);
	struct listdir *l = &s->list;
	int err = 0;
	/* A directory that existed in the destination: rank 0 compares the two listings (for
	 * --delete and stale temporary files); list the destination side here as well. */
	if (head.root >= s->nroots)
		err = EINVAL;
	else if (listdir_read(l, s->roots[head.root].src_fd,
	                      head.token & SCAN_FLAG ? s->roots[head.root].dst_fd : -1, dir) != 0)
		err = l->err;
	for (size_t i = 0; err == 0 && i < l->nitems; i++) {
		struct scan_item *it = &l->items[i];
		/* The same file system may have another device number here than on rank 0. */
		if (it->st.st_dev == s->devs[head.root])
			it->st.st_dev = s->lead_devs[head.root];
		/* Subdirectories are made here: on a big tree, rank 0 would be the one process
		 * making every directory. */
		it->made = S_ISDIR(it->st.st_mode) ? serve_mkdir(s, head.root, dir, it->name) : -1;
	}
	struct listed_head h = {head.token};
	size_t total = sizeof(h) + listdir_pack_size(l, err);
	size_t at = s->out.len + sizeof(struct rec);
	if (wire_box_put(&s->out, REC_LISTED, &h, sizeof(h), NULL, 0) != 0 ||
	    array_grow(&s->out.buf, &s->out.cap, at + total, 1) != 0)
		return -1;
	listdir_pack(l, err, s->out.buf + at + sizeof(h));
	struct rec r = {REC_LISTED, (uint32_t)total};
	memcpy(s->out.buf + at - sizeof(r), &r, sizeof(r));
	s->out.len = at + total;
	return 0;
}

/* Handle one message from rank 0. */
static int serve_message(struct serve *s, size_t n)
{
	size_t pos = 0;
	struct rec h;
	const unsigned char *p;
	while ((p = wire_rec_next(s->in, n, &pos, &h)) != NULL) {
		int rc = 0;
		if (h.kind == REC_TASK)
			rc = serve_task(s, p, h.len);
		else if (h.kind == REC_LIST)
			rc = serve_list(s, p, h.len);
		else if (h.kind == REC_STOP && h.len == sizeof(int32_t)) {
			int32_t how;
			memcpy(&how, p, sizeof(how));
			s->stop = 1;
			s->abandon = how != 0;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* A worker died holding task CLAIM: rank 0 gives the task to another worker (its own). */
static void serve_lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	struct serve *s = ctx;
	(void)pid;
	(void)wstatus;
	struct copy_done d = {.id = claim, .status = COPY_INTERRUPTED};
	wire_box_put(&s->out, REC_DONE, &d, sizeof(d), NULL, 0);
}

/* The service loop: tasks in, completions and listings out, until told to stop. */
static int serve_loop(struct serve *s, volatile sig_atomic_t *interrupted)
{
	double last_reap = 0;
	int idle = 0; /* loops since the last that did something */
	while (!s->stop && !*interrupted) {
		int busy = 0, from = 0;
		long n;
		while (!s->stop && (n = wire_inbox(&s->in, &s->in_cap, 0, &from)) != 0) {
			if (n < 0 || serve_message(s, (size_t)n) != 0)
				return -1;
			busy = 1;
		}
		struct copy_done d;
		while (pool_next(&s->pool, &d, 0) == 0) {
			if (wire_box_put(&s->out, REC_DONE, &d, sizeof(d), NULL, 0) != 0)
				return -1;
			busy = 1;
		}
		wire_box_flush(&s->out);
		double now = clock_now();
		if (now - last_reap >= 0.05) {
			last_reap = now;
			if (pool_reap(&s->pool, serve_lost, s) < 0)
				return -1;
		}
		/* Briefly right after work (rank 0 is likely to ask again at once), longer when
		 * idle for a while. */
		idle = busy ? 0 : idle + 1;
		if (!busy) {
			struct timespec nap = {0, idle < 50 ? MPIWORK_NAP_NS / 10 : MPIWORK_NAP_NS};
			nanosleep(&nap, NULL);
		}
	}
	return 0;
}

int mpiwork_serve(volatile sig_atomic_t *interrupted)
{
	struct serve s;
	memset(&s, 0, sizeof(s));
	s.out.req = MPI_REQUEST_NULL;
	int32_t failed[2] = {0, 0};
	at_cache_init(&s.dst_dirs);
	int rc = serve_setup(&s, failed);
	if (rc == 1)
		return PCOPY_EXIT_OK; /* rank 0 refused the run and says why */
	if (rc < 0 && failed[0] == 0)
		failed[0] = ENOMEM;
	MPI_Gather(failed, 2, MPI_INT32_T, NULL, 0, MPI_INT32_T, 0, MPI_COMM_WORLD);
	int jobs = s.jobs > 0 ? s.jobs : 1;
	uint32_t cap = (uint32_t)(MPIWORK_CREDIT * jobs + 1);
	if (failed[0] == 0 && copy_pool_start(&s.pool, jobs, cap, &s.worker) == 0)
		s.pool_up = 1;
	int status = PCOPY_EXIT_OK;
	if (s.pool_up) {
		if (serve_loop(&s, interrupted) != 0)
			status = PCOPY_EXIT_FATAL;
	} else {
		/* Nothing to offer: wait for rank 0 to end the run. */
		status = PCOPY_EXIT_FATAL;
		while (!s.stop && !*interrupted) {
			int from;
			long n = wire_inbox(&s.in, &s.in_cap, 0, &from);
			if (n > 0)
				serve_message(&s, (size_t)n);
			else {
				struct timespec nap = {0, 1000000L};
				nanosleep(&nap, NULL);
			}
		}
	}
	if (s.pool_up) {
		if (s.abandon || *interrupted || status != PCOPY_EXIT_OK)
			pool_signal(&s.pool, SIGTERM);
		pool_stop(&s.pool, 5000);
	}
	if (*interrupted) {
		status = PCOPY_EXIT_SIGNALLED + *interrupted; /* the job is being torn down */
	} else {
		wire_box_put(&s.out, REC_BYE, NULL, 0, NULL, 0);
		wire_box_drain(&s.out);
	}
	wire_box_free(&s.out);
	listdir_free(&s.list);
	free(s.in);
	serve_free(&s);
	return status;
}
