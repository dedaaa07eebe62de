/* SPDX-License-Identifier: BSD-2-Clause */
/* tarjob: the members of a --tar run as workers prepare them (see tarjob.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_XATTR_H
#include <sys/xattr.h>
#endif
#if defined(HAVE_SYS_IOCTL_H) && defined(HAVE_LINUX_FS_H)
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif

#include "fs/meta.h"
#include "tar/tarjob.h"

int tarjob_init(struct tarjob *j, uint64_t ring_size)
{
	memset(j, 0, sizeof(*j));
	at_cache_init(&j->dirs);
	j->ring_size = ring_size;
	j->items = shm_map(sizeof(*j->items) * TARJOB_WINDOW);
	j->ring = shm_map(ring_size);
	if (j->items == NULL || j->ring == NULL || names_init(&j->names, (size_t)1 << 36) != 0) {
		int e = errno;
		tarjob_free(j);
		errno = e;
		return -1;
	}
	return 0;
}

void tarjob_free(struct tarjob *j)
{
	if (j->items != NULL)
		shm_unmap(j->items, sizeof(*j->items) * TARJOB_WINDOW);
	if (j->ring != NULL)
		shm_unmap(j->ring, j->ring_size);
	if (j->names.base != NULL)
		names_free(&j->names);
	j->items = NULL;
	j->ring = NULL;
	at_cache_free(&j->dirs);
}

/*
 * 1 when libarchive's disk reader would add something to the bare stat data of open file FD:
 * extended attributes (POSIX ACLs are among them), file flags it has a name for, or holes.
 */
static int is_rich(int fd, const struct stat *st)
{
#ifdef HAVE_FLISTXATTR
	char one[1];
	ssize_t n = flistxattr(fd, one, 0);
	if (n != 0)
		return 1; /* some, or cannot tell */
	(void)one;
#endif
#if defined(FS_IOC_GETFLAGS)
	/* Flags ext4 sets by itself that libarchive has no name for, so does not store. */
	const unsigned long quiet =
	    FS_EXTENT_FL | FS_INDEX_FL | FS_HUGE_FILE_FL | FS_INLINE_DATA_FL;
	int flags = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && ((unsigned long)flags & ~quiet) != 0)
		return 1;
#endif
	return meta_sparse(st);
}

/* What read_all came to. */
enum read_result {
	READ_OK,      /* all of it read and hashed */
	READ_CHANGED, /* the file ended early: it is shorter than when it was found */
	READ_ERROR,   /* errno says why */
};

/* Read SIZE bytes of FD into OUT and hash them into IT. */
static enum read_result read_all(struct tarjob_item *it, int fd, unsigned char *out, uint64_t size,
                                 volatile sig_atomic_t *stop)
{
	struct hash_state *h = hash_new();
	if (h == NULL)
		return READ_ERROR;
	uint64_t pos = 0;
	enum read_result res = READ_OK;
	while (pos < size) {
		if (stop != NULL && *stop) {
			errno = EINTR;
			res = READ_ERROR;
			break;
		}
		size_t want = size - pos < (1u << 20) ? (size_t)(size - pos) : (1u << 20);
		ssize_t n = pread(fd, out + pos, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			res = n == 0 ? READ_CHANGED : READ_ERROR;
			break;
		}
		hash_update(h, out + pos, (size_t)n);
		pos += (uint64_t)n;
	}
	if (res == READ_OK)
		it->hash = hash_digest(h);
	int e = errno;
	hash_free(h);
	errno = e;
	return res;
}

static int same_version(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Read the regular file FD (whose fstat is in IT) into its ROOM bytes in the ring, twice if it
 * changed meanwhile. A file that grew beyond its room since the walk is left out as changed.
 */
static void read_member(struct tarjob *j, struct tarjob_item *it, int fd, uint64_t room,
                        volatile sig_atomic_t *stop)
{
	it->status = TARJOB_CHANGED;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct stat before = it->st;
		if ((uint64_t)before.st_size > room)
			return; /* no longer fits the room it was given */
		enum read_result res =
		    read_all(it, fd, j->ring + it->data, (uint64_t)before.st_size, stop);
		if (res == READ_ERROR || fstat(fd, &it->st) != 0) {
			it->status = TARJOB_FAILED;
			it->err = errno;
			return;
		}
		if (res == READ_OK && same_version(&before, &it->st)) {
			it->status = TARJOB_OK;
			return;
		}
	}
}

void tarjob_run(struct tarjob *j, struct tarjob_item *it, volatile sig_atomic_t *stop)
{
	it->rich = 0;
	it->err = 0;
	mode_t type = it->st.st_mode & S_IFMT;
	if (type != S_IFREG && type != S_IFDIR) {
		it->rich = 1; /* symlinks, FIFOs, devices: few; the writer asks libarchive */
		it->status = TARJOB_OK;
		return;
	}
	const char *path = names_get(&j->names, it->path);
	int fd = at_open(&j->dirs, j->roots[it->root], path,
	                 O_RDONLY | O_CLOEXEC | (type == S_IFDIR ? O_DIRECTORY : 0));
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		it->status = TARJOB_FAILED;
		it->err = errno;
		if (fd >= 0)
			close(fd);
		return;
	}
	if (st.st_ino != it->st.st_ino || st.st_dev != it->st.st_dev) {
		it->status = TARJOB_CHANGED; /* replaced since the walk found it */
		close(fd);
		return;
	}
	it->st = st;
	it->rich = is_rich(fd, &st);
	it->status = TARJOB_OK;
	if (type == S_IFREG && it->data != TARJOB_NO_DATA)
		read_member(j, it, fd, it->room, stop);
#ifdef HAVE_POSIX_FADVISE
	else if (type == S_IFREG)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED); /* the writer reads it next */
#endif
	close(fd);
}

static volatile sig_atomic_t worker_stop;

static void worker_signal(int sig)
{
	worker_stop = sig;
}

/* A worker's state for serve_batch. */
struct worker {
	struct tarjob *job;
	struct timespec delay; /* test hook: slept before each member */
};

/* One task for pool_serve: prepare its members in order, or as many as a stop leaves time for. */
static void serve_batch(void *arg, const void *task, void *done)
{
	struct worker *w = arg;
	const struct tarjob_task *t = task;
	for (uint32_t i = 0; i < t->count && !worker_stop; i++) {
		if (w->delay.tv_nsec > 0)
			nanosleep(&w->delay, NULL);
		tarjob_run(w->job, tarjob_item(w->job, t->first + i), &worker_stop);
	}
	*(struct tarjob_done *)done = (struct tarjob_done){t->id, worker_stop != 0};
}

int tarjob_worker(struct pool *p, void *arg, int index)
{
	/* Signals: the stop handler for SIGTERM, SIGINT, SIGHUP; SIGPIPE ignored. */
	pool_worker_signals(worker_signal);
	/* Test hook, as for copies: slow every member down so tests can interrupt a run. */
	struct worker w = {arg, {0, (((struct tarjob *)arg)->slow_ms % 1000) * 1000000L}};
	struct tarjob_task t;
	struct tarjob_done d;
	pool_serve(p, index, &worker_stop, &t, &d, serve_batch, &w);
	/* Stopped by a signal while the parent goes on: exit so that it starts a replacement. */
	return worker_stop && !pool_orphaned(p) ? 1 : 0;
}
