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

/* Hash [FROM, TO) of FD into W->hs, or from FROM to the end of the file when TO_EOF. Returns
 * the bytes read, or -1 with errno (EINTR: told to stop). */
static int64_t hash_range(struct vworker *w, int fd, uint64_t from, uint64_t to, int to_eof)
{
	uint64_t pos = from;
	for (;;) {
		if (worker_stop) {
			errno = EINTR;
			return -1;
		}
		size_t want = VERIFY_BUF;
		if (!to_eof && to - pos < want)
			want = (size_t)(to - pos);
		if (want == 0)
			break;
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

/* Hash the regular file open at FD (ST its fstat) into D. Returns 0, or -1 with errno. */
static int hash_file(struct vworker *w, int fd, const struct stat *st, struct verify_done *d)
{
	hash_reset(w->hs);
	uint64_t size = (uint64_t)st->st_size, pos = 0;
	if (meta_sparse(st)) {
		/* Data extents are read, holes hashed as zeros; what lies past SIZE is read
		 * below as for any file (it grew). */
		while (pos < size) {
			off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
			if (data < 0 && errno != ENXIO)
				break; /* no SEEK_DATA here: read it all */
			uint64_t start = data < 0 || (uint64_t)data > size ? size : (uint64_t)data;
			off_t hole =
			    start < size ? lseek(fd, (off_t)start, SEEK_HOLE) : (off_t)size;
			uint64_t end = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
			hash_update_zeros(w->hs, start - pos);
			int64_t n = hash_range(w, fd, start, end, 0);
			if (n < 0)
				return -1;
			pos = start + (uint64_t)n;
			if (pos < end) /* shorter than it was: the hash will tell */
				break;
		}
	}
	int64_t n = hash_range(w, fd, pos, 0, 1);
	if (n < 0)
		return -1;
	d->bytes = pos + (uint64_t)n; /* holes included */
	d->hash = hash_digest(w->hs);
	return 0;
}

/* One task for pool_serve. */
static void serve_one(void *ctx, const void *task, void *done)
{
	struct vworker *w = ctx;
	const struct verify_task *t = task;
	struct verify_done *d = done;
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	if (w->delay.tv_nsec > 0)
		nanosleep(&w->delay, NULL);
	const char *name = names_get(w->share->names, t->name);
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
			d->verdict = VERIFY_MISSING;
		else if (e == ELOOP ||
		         (dir >= 0 && fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		          !S_ISREG(st.st_mode)))
			d->verdict = VERIFY_NOT_REGULAR;
		else
			d->verdict = VERIFY_UNREADABLE, d->err = e;
		return;
	}
	if (fstat(fd, &st) != 0) {
		d->verdict = VERIFY_UNREADABLE, d->err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		d->verdict = VERIFY_NOT_REGULAR;
	} else if (hash_file(w, fd, &st, d) != 0) {
		d->verdict = errno == EINTR && worker_stop ? 0 : VERIFY_UNREADABLE;
		d->err = errno;
		d->reading = 1;
	} else {
		d->verdict = VERIFY_OK;
	}
	close(fd);
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
