/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uring_probe: does io_uring make a pcopy worker's per-file work for many small files
 * cheaper? A standalone experiment (issue #17 item 3), not part of the build:
 *
 *   gcc -O2 -Wall -o /tmp/uring_probe tests/bench/uring_probe.c -luring -lxxhash
 *   /tmp/uring_probe [-m plain|uring] [-b N] [-j P] [-D] [-Q] [-F] [-X] SRC DST
 *
 * It walks SRC once (regular files up to 1 MiB, pcopy's unnamed-file size), makes DST's
 * directories and opens both trees' directories, all untimed; then P processes (-j, 2) each
 * copy a contiguous share of the files, and only that is timed: wall clock from the first
 * fork to the last wait, user and system CPU of the children (getrusage RUSAGE_CHILDREN,
 * which counts io_uring's io-wq and SQPOLL threads, threads of the child).
 *
 * Per file, both modes do what a verified `pcopy` worker does for a small, new file (its
 * calls as strace shows them at 52b7e0c):
 *   openat(src dir, name, O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC)
 *   openat(dst dir, ".", O_TMPFILE|O_RDWR|O_CLOEXEC, mode)
 *   pread(src) of the scanned size; XXH3-128 of it; pwrite(dst)
 *   fstat(src): size and mtime as scanned, or the file changed
 *   pread(dst) and XXH3-128 again: the verification
 *   flistxattr(src), flistxattr(dst)        (-X leaves both out, in both modes)
 *   futimens(dst, atime, mtime)
 *   linkat(dst, "", dst dir, name, AT_EMPTY_PATH); close(dst); close(src)
 *
 * -m plain: those twelve system calls per file, one after the other.
 * -m uring: files in batches of N (-b, 64), three submissions per batch:
 *   1. both opens of every file;
 *   2. per file a linked chain: read(src) -> write(dst) -> read(dst) -> statx(src)
 *      (a short read breaks the chain: the file is reported, never linked);
 *   then, in user space, the two hashes, the comparisons, flistxattr x2 and futimens
 *   (io_uring has no operation for these), and
 *   3. per file linkat(dst) -> close(dst), and close(src).
 * -m plain -A: the same calls, but the sources of the next N files (-b) are opened first,
 *   each with a readahead(2) of its size: the cold reads' queue depth without io_uring.
 * -D: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN; -Q: IORING_SETUP_SQPOLL;
 * -F: read and write through one registered buffer (READ_FIXED, WRITE_FIXED).
 * Prints one line: mode, options, files, bytes, failures, wall, user, sys (seconds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define SMALL_MAX (1u << 20)  /* pcopy's COPY_UNNAMED_MAX */
#define ARENA_MAX (64u << 20) /* both copies of a batch's files: a batch ends before it */

struct file {
	int dir;          /* index into dirs */
	const char *name; /* in that directory */
	uint32_t size;
	mode_t mode;
	struct timespec times[2]; /* atime, mtime: as scanned */
};

static char **dirs;
static int ndirs, capdirs;
static struct file *files;
static long nfiles, capfiles;
static int *sdir, *ddir; /* open directories, by index */
static size_t root_len;

/* Options. */
static int use_uring, batch = 64, nproc = 2, defer, sqpoll, fixed, no_xattr, ahead;

static int add_dir(const char *rel)
{
	if (ndirs == capdirs) {
		capdirs = capdirs ? 2 * capdirs : 1024;
		dirs = realloc(dirs, (size_t)capdirs * sizeof(*dirs));
	}
	dirs[ndirs] = strdup(rel);
	return ndirs++;
}

static int find_dir(const char *rel, size_t len)
{
	/* nftw visits a directory's files right after it: search from the end. */
	for (int i = ndirs - 1; i >= 0; i--)
		if (strlen(dirs[i]) == len && memcmp(dirs[i], rel, len) == 0)
			return i;
	return -1;
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char *rel = path + root_len;
	while (*rel == '/')
		rel++;
	if (type == FTW_D) {
		add_dir(*rel ? rel : ".");
		return 0;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_size > SMALL_MAX)
		return 0;
	size_t dlen = (size_t)(f->base - (int)(rel - path));
	if (dlen > 0)
		dlen--; /* the slash */
	int d = dlen == 0 ? find_dir(".", 1) : find_dir(rel, dlen);
	if (d < 0)
		return -1;
	if (nfiles == capfiles) {
		capfiles = capfiles ? 2 * capfiles : 65536;
		files = realloc(files, (size_t)capfiles * sizeof(*files));
	}
	files[nfiles++] = (struct file){d,
	                                strdup(path + f->base),
	                                (uint32_t)st->st_size,
	                                st->st_mode & 07777,
	                                {st->st_atim, st->st_mtim}};
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int changed(const struct file *f, const struct statx *x)
{
	return x->stx_size != f->size || x->stx_mtime.tv_sec != f->times[1].tv_sec ||
	       x->stx_mtime.tv_nsec != (uint32_t)f->times[1].tv_nsec;
}

/* pcopy hashes through a streaming state (hash_reset, hash_update, hash_digest). */
static XXH128_hash_t hash_buf(XXH3_state_t *s, const void *p, size_t n)
{
	XXH3_128bits_reset(s);
	XXH3_128bits_update(s, p, n);
	return XXH3_128bits_digest(s);
}

static int xattrs_none(int src, int dst)
{
	char list[4096];
	if (no_xattr)
		return 0;
	if (flistxattr(src, list, sizeof(list)) < 0 || flistxattr(dst, list, sizeof(list)) < 0)
		return -1;
	return 0;
}

static int open_src(const struct file *f)
{
	return openat(sdir[f->dir], f->name,
	              O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

/* Plain system calls: one file, its source open as SRC (or -1: opened here). Returns 0, or
 * -1 (failed or changed). */
static int copy_plain(const struct file *f, int src, unsigned char *buf, XXH3_state_t *hs)
{
	int rc = -1;
	if (src < 0 && (src = open_src(f)) < 0)
		return -1;
	int out = openat(ddir[f->dir], ".", O_TMPFILE | O_RDWR | O_CLOEXEC, f->mode);
	if (out < 0)
		goto close_src;
	if (pread(src, buf, f->size, 0) != (ssize_t)f->size)
		goto close_out;
	XXH128_hash_t h = hash_buf(hs, buf, f->size);
	if (pwrite(out, buf, f->size, 0) != (ssize_t)f->size)
		goto close_out;
	struct stat after;
	if (fstat(src, &after) != 0 || after.st_size != (off_t)f->size ||
	    after.st_mtim.tv_sec != f->times[1].tv_sec ||
	    after.st_mtim.tv_nsec != f->times[1].tv_nsec)
		goto close_out;
	if (pread(out, buf, f->size, 0) != (ssize_t)f->size)
		goto close_out;
	if (!XXH128_isEqual(h, hash_buf(hs, buf, f->size)))
		goto close_out;
	if (xattrs_none(src, out) != 0 || futimens(out, f->times) != 0)
		goto close_out;
	if (linkat(out, "", ddir[f->dir], f->name, AT_EMPTY_PATH) != 0)
		goto close_out;
	rc = 0;
close_out:
	close(out);
close_src:
	close(src);
	return rc;
}

/* One file's slot in an io_uring batch. */
struct slot {
	const struct file *f;
	int src, out; /* descriptors, or -errno */
	int ok;       /* still on its way to a copy */
	unsigned char *buf, *vbuf;
	struct statx after;
};

enum { OP_OPEN_SRC, OP_OPEN_OUT, OP_READ, OP_WRITE, OP_REREAD, OP_STATX, OP_LINK, OP_CLOSE };

static struct io_uring_sqe *sqe_get(struct io_uring *r)
{
	struct io_uring_sqe *s = io_uring_get_sqe(r);
	if (s == NULL) {
		fprintf(stderr, "uring_probe: submission queue full\n");
		exit(2);
	}
	return s;
}

static void sqe_tag(struct io_uring_sqe *s, int i, int op, unsigned flags)
{
	io_uring_sqe_set_data64(s, (uint64_t)i << 8 | (uint64_t)op);
	s->flags |= flags;
}

/* Submit what is queued, wait for N completions, and hand each to the slots. */
static void run_stage(struct io_uring *r, struct slot *sl, unsigned n)
{
	unsigned seen = 0;
	if (n == 0)
		return;
	int rc = io_uring_submit_and_wait(r, n);
	if (rc < 0) {
		fprintf(stderr, "uring_probe: submit: %s\n", strerror(-rc));
		exit(2);
	}
	while (seen < n) {
		struct io_uring_cqe *cqe;
		unsigned head, got = 0;
		io_uring_for_each_cqe(r, head, cqe)
		{
			struct slot *s = &sl[cqe->user_data >> 8];
			int op = (int)(cqe->user_data & 0xff), res = cqe->res;
			got++;
			if (op == OP_OPEN_SRC)
				s->src = res;
			else if (op == OP_OPEN_OUT)
				s->out = res;
			else if (op == OP_CLOSE || op == OP_LINK) {
				if (res < 0 && op == OP_LINK)
					s->ok = 0;
			} else if (op == OP_STATX) {
				if (res < 0 || changed(s->f, &s->after))
					s->ok = 0;
			} else if (res != (int)s->f->size) {
				s->ok = 0; /* a short or failed read or write */
			}
		}
		io_uring_cq_advance(r, got);
		seen += got;
		if (seen < n && io_uring_wait_cqe(r, &(struct io_uring_cqe *){NULL}) < 0)
			exit(2);
	}
}

static int copy_batch(struct io_uring *r, const struct file *f, int n, struct slot *sl,
                      unsigned char *arena, XXH3_state_t *hs)
{
	unsigned q = 0;
	int failed = 0;
	unsigned char *p = arena;
	for (int i = 0; i < n; i++) {
		sl[i] = (struct slot){&f[i], -1, -1, 1, p, p + f[i].size, {0}};
		p += 2 * (size_t)f[i].size;
		struct io_uring_sqe *s = sqe_get(r);
		io_uring_prep_openat(s, sdir[f[i].dir], f[i].name,
		                     O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
		sqe_tag(s, i, OP_OPEN_SRC, 0);
		s = sqe_get(r);
		io_uring_prep_openat(s, ddir[f[i].dir], ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		                     f[i].mode);
		sqe_tag(s, i, OP_OPEN_OUT, 0);
		q += 2;
	}
	run_stage(r, sl, q);
	q = 0;
	for (int i = 0; i < n; i++) {
		struct slot *s = &sl[i];
		if (s->src < 0 || s->out < 0) {
			s->ok = 0;
			continue;
		}
		unsigned sz = s->f->size;
		struct io_uring_sqe *e = sqe_get(r);
		if (fixed)
			io_uring_prep_read_fixed(e, s->src, s->buf, sz, 0, 0);
		else
			io_uring_prep_read(e, s->src, s->buf, sz, 0);
		sqe_tag(e, i, OP_READ, IOSQE_IO_LINK);
		e = sqe_get(r);
		if (fixed)
			io_uring_prep_write_fixed(e, s->out, s->buf, sz, 0, 0);
		else
			io_uring_prep_write(e, s->out, s->buf, sz, 0);
		sqe_tag(e, i, OP_WRITE, IOSQE_IO_LINK);
		e = sqe_get(r);
		if (fixed)
			io_uring_prep_read_fixed(e, s->out, s->vbuf, sz, 0, 0);
		else
			io_uring_prep_read(e, s->out, s->vbuf, sz, 0);
		sqe_tag(e, i, OP_REREAD, IOSQE_IO_LINK);
		e = sqe_get(r);
		io_uring_prep_statx(e, s->src, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &s->after);
		sqe_tag(e, i, OP_STATX, 0);
		q += 4;
	}
	run_stage(r, sl, q);
	q = 0;
	for (int i = 0; i < n; i++) {
		struct slot *s = &sl[i];
		unsigned sz = s->f->size;
		if (s->ok &&
		    (!XXH128_isEqual(hash_buf(hs, s->buf, sz), hash_buf(hs, s->vbuf, sz)) ||
		     xattrs_none(s->src, s->out) != 0 || futimens(s->out, s->f->times) != 0))
			s->ok = 0;
		struct io_uring_sqe *e;
		if (s->out >= 0) {
			if (s->ok) {
				e = sqe_get(r);
				io_uring_prep_linkat(e, s->out, "", ddir[s->f->dir], s->f->name,
				                     AT_EMPTY_PATH);
				sqe_tag(e, i, OP_LINK, IOSQE_IO_LINK | IOSQE_IO_HARDLINK);
				q++;
			}
			e = sqe_get(r);
			io_uring_prep_close(e, s->out);
			sqe_tag(e, i, OP_CLOSE, 0);
			q++;
		}
		if (s->src >= 0) {
			e = sqe_get(r);
			io_uring_prep_close(e, s->src);
			sqe_tag(e, i, OP_CLOSE, 0);
			q++;
		}
	}
	run_stage(r, sl, q);
	for (int i = 0; i < n; i++)
		failed += !sl[i].ok;
	return failed;
}

static int child(long from, long to)
{
	XXH3_state_t *hs = XXH3_createState();
	unsigned char *buf = NULL;
	long failed = 0;
	if (!use_uring) {
		buf = aligned_alloc(4096, SMALL_MAX);
		if (!ahead) {
			for (long i = from; i < to; i++)
				failed += copy_plain(&files[i], -1, buf, hs) != 0;
			return failed > 0;
		}
		/* -A: open the next BATCH sources and readahead() each, then copy them. */
		int *fds = calloc((size_t)batch, sizeof(int));
		for (long i = from; i < to; i += batch) {
			long n = to - i < batch ? to - i : batch;
			for (long k = 0; k < n; k++)
				if ((fds[k] = open_src(&files[i + k])) >= 0)
					readahead(fds[k], 0, files[i + k].size);
			for (long k = 0; k < n; k++)
				failed +=
				    fds[k] < 0 || copy_plain(&files[i + k], fds[k], buf, hs) != 0;
		}
		return failed > 0;
	}
	struct io_uring r;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	if (defer)
		p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if (sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 100;
	}
	int rc = io_uring_queue_init_params((unsigned)(4 * batch), &r, &p);
	if (rc < 0) {
		fprintf(stderr, "uring_probe: io_uring_queue_init: %s\n", strerror(-rc));
		return 2;
	}
	io_uring_register_ring_fd(&r);
	/* The arena: as large as the largest batch needs (plain's buffer is 1 MiB, touched
	 * as far as the largest file; the arena likewise is faulted in once and reused). */
	size_t arena_len = 4096;
	for (long i = from; i < to;) {
		long n = 0;
		size_t bytes = 0;
		while (i + n < to && n < batch &&
		       bytes + 2 * (size_t)files[i + n].size <= ARENA_MAX)
			bytes += 2 * (size_t)files[i + n++].size;
		arena_len = bytes > arena_len ? bytes : arena_len;
		i += n;
	}
	arena_len = (arena_len + 4095) & ~(size_t)4095;
	unsigned char *arena = aligned_alloc(4096, arena_len);
	if (fixed) {
		struct iovec iov = {arena, arena_len};
		if ((rc = io_uring_register_buffers(&r, &iov, 1)) < 0) {
			fprintf(stderr, "uring_probe: register buffers: %s\n", strerror(-rc));
			return 2;
		}
	}
	struct slot *sl = calloc((size_t)batch, sizeof(*sl));
	for (long i = from; i < to;) {
		/* Up to BATCH files whose two copies fit the arena. */
		long n = 0;
		size_t bytes = 0;
		while (i + n < to && n < batch &&
		       bytes + 2 * (size_t)files[i + n].size <= ARENA_MAX)
			bytes += 2 * (size_t)files[i + n++].size;
		failed += copy_batch(&r, &files[i], (int)n, sl, arena, hs);
		i += n;
	}
	io_uring_queue_exit(&r);
	return failed > 0;
}

static int open_dirs(const char *root, int **fds)
{
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	*fds = calloc((size_t)ndirs, sizeof(int));
	for (int i = 0; i < ndirs; i++)
		if (((*fds)[i] = openat(rootfd, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "m:b:j:DQFXA")) != -1) {
		switch (opt) {
		case 'm': use_uring = strcmp(optarg, "uring") == 0; break;
		case 'b': batch = atoi(optarg); break;
		case 'j': nproc = atoi(optarg); break;
		case 'D': defer = 1; break;
		case 'Q': sqpoll = 1; break;
		case 'F': fixed = 1; break;
		case 'X': no_xattr = 1; break;
		case 'A': ahead = 1; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || batch < 1 || nproc < 1)
		return 2;
	const char *src = argv[optind], *dst = argv[optind + 1];
	root_len = strlen(src);
	if (nftw(src, walk_one, 64, FTW_PHYS) != 0) {
		perror("uring_probe: walk");
		return 2;
	}
	if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
		perror(dst);
		return 2;
	}
	for (int i = 1; i < ndirs; i++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dst, dirs[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			perror(path);
			return 2;
		}
	}
	if (open_dirs(src, &sdir) != 0 || open_dirs(dst, &ddir) != 0) {
		perror("uring_probe: open directories");
		return 2;
	}
	uint64_t bytes = 0;
	for (long i = 0; i < nfiles; i++)
		bytes += files[i].size;
	fflush(NULL);
	double t0 = now();
	for (int k = 0; k < nproc; k++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child(nfiles * k / nproc, nfiles * (k + 1) / nproc));
	}
	int bad = 0, st;
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	double wall = now() - t0;
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%s b=%d j=%d%s%s%s%s files=%ld bytes=%llu bad=%d wall=%.3f user=%.3f sys=%.3f\n",
	       use_uring ? "uring"
	       : ahead   ? "plain-ahead"
	                 : "plain",
	       use_uring || ahead ? batch : 1, nproc, defer ? " D" : "", sqpoll ? " Q" : "",
	       fixed ? " F" : "", no_xattr ? " X" : "", nfiles, (unsigned long long)bytes, bad,
	       wall, (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	return bad != 0;
}
