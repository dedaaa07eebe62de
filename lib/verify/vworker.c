/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify/vworker: a --verify-manifest worker process: open each task's file below the root
 * without following a symlink, make sure it is a regular file, hash it whole (holes as zeros
 * without reading them) and answer with the hash; the parent compares it with the manifest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/at.h"
#include "fs/meta.h"
#include "verify/internal.h"

#define VERIFY_BUF (1u << 20)

static volatile sig_atomic_t worker_stop;

static void worker_signal(int sig)
{
	worker_stop = sig;
}

struct vworker {
	const struct verify_share *share;
	struct at_cache dirs;
	struct hash_state *hs;
	unsigned char *buf;
	struct timespec delay; /* test hook */
};

/* Hash [FROM, TO) of FD into W->hs. Returns the bytes read (fewer when the file ends
 * first), or -1 with errno (EINTR: told to stop). */
static int64_t hash_range(struct vworker *w, int fd, uint64_t from, uint64_t to)
{
	uint64_t pos = from;
	while (pos < to) {
		if (worker_stop) {
			errno = EINTR;
			return -1;
		}
		size_t want = to - pos < VERIFY_BUF ? (size_t)(to - pos) : VERIFY_BUF;
		ssize_t n = pread(fd, w->buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		hash_update(w->hs, w->buf, (size_t)n);
		pos += (uint64_t)n;
	}
	return (int64_t)(pos - from);
}

/*
 * Hash the regular file open at FD (ST its fstat) into A: its ST->st_size bytes, data
 * extents read and holes hashed as zeros when it is sparse (a file that ends early is hashed
 * as it is, and then does not match). Returns 0, or -1 with errno.
 */
static int hash_file(struct vworker *w, int fd, const struct stat *st, struct verify_answer *a)
{
	hash_reset(w->hs);
	uint64_t size = (uint64_t)st->st_size, pos = 0;
	int sparse = meta_sparse(st);
	while (pos < size) {
		uint64_t start = pos, end = size;
		if (sparse) {
			off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
			if (data < 0 && errno == ENXIO)
				start = size; /* holes to the end */
			else if (data < 0)
				sparse = 0; /* no SEEK_DATA here: read it all */
			else
				start = (uint64_t)data < size ? (uint64_t)data : size;
			off_t hole =
			    sparse && start < size ? lseek(fd, (off_t)start, SEEK_HOLE) : -1;
			if (hole >= 0 && (uint64_t)hole < size)
				end = (uint64_t)hole;
		}
		hash_update_zeros(w->hs, start - pos);
		int64_t n = hash_range(w, fd, start, end);
		if (n < 0)
			return -1;
		pos = start + (uint64_t)n;
		if (pos < end)
			break; /* it ended early */
	}
	a->bytes = pos;
	a->hash = hash_digest(w->hs);
	return 0;
}

/* Check NAME below the root into A. */
static void check_one(struct vworker *w, const char *name, struct verify_answer *a)
{
	const char *leaf;
	int dir = at_parent(&w->dirs, w->share->root, name, &leaf);
	int fd = dir < 0
	             ? -1
	             : openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		int e = errno;
		/* On the way (at_parent) or at the name: a symlink gives ELOOP, a file on the way
		 * ENOTDIR. */
		if (e == ENOENT || (dir < 0 && e == ENOTDIR))
			a->verdict = VERIFY_MISSING;
		else if (e == ELOOP ||
		         (dir >= 0 && fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		          !S_ISREG(st.st_mode)))
			a->verdict = VERIFY_NOT_REGULAR;
		else
			a->verdict = VERIFY_UNREADABLE, a->err = e;
		return;
	}
	if (fstat(fd, &st) != 0) {
		a->verdict = VERIFY_UNREADABLE, a->err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		a->verdict = VERIFY_NOT_REGULAR;
	} else if (hash_file(w, fd, &st, a) != 0) {
		a->verdict = errno == EINTR && worker_stop ? 0 : VERIFY_UNREADABLE;
		a->err = errno;
		a->reading = 1;
	} else {
		a->verdict = VERIFY_OK;
	}
	close(fd);
}

/* One task for pool_serve: its names in turn, until told to stop (the rest left undone). */
static void serve_one(void *ctx, const void *task, void *done)
{
	struct vworker *w = ctx;
	const struct verify_task *t = task;
	struct verify_done *d = done;
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	d->count = t->count;
	for (uint32_t i = 0; i < t->count && i < VERIFY_BATCH && !worker_stop; i++) {
		if (w->delay.tv_nsec > 0)
			nanosleep(&w->delay, NULL);
		check_one(w, names_get(w->share->names, t->names[i]), &d->a[i]);
	}
}

int verify_worker(struct pool *p, void *arg, int index)
{
	pool_worker_signals(worker_signal);
	signal(SIGCHLD, SIG_DFL);
	struct vworker w = {arg, {0}, hash_new(), malloc(VERIFY_BUF), {0, 0}};
	at_cache_init(&w.dirs);
	if (w.hs == NULL || w.buf == NULL)
		return 3;
	if (w.share->slow_ms != 0)
		w.delay.tv_nsec = (w.share->slow_ms % 1000) * 1000000L;
	struct verify_task t;
	struct verify_done d;
	pool_serve(p, index, &worker_stop, &t, &d, serve_one, &w);
	at_cache_free(&w.dirs);
	hash_free(w.hs);
	free(w.buf);
	return worker_stop && !pool_orphaned(p) ? 1 : 0;
}
