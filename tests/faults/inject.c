/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inject: an LD_PRELOAD library for the fault tests. It makes reads and writes of regular
 * files fail, or corrupts written data, the way a bad disk or a full quota would, so the
 * tests can watch pcopy handle errors that are hard to produce for real.
 *
 * Set in the environment (all optional; each process counts on its own):
 *   FAULT_WRITE_ERRNO=ENOSPC|EDQUOT|EIO  writes to regular files fail with it ...
 *   FAULT_WRITE_AFTER=BYTES              ... once this many bytes were written (default 0)
 *   FAULT_WRITE_CORRUPT=1                the first byte of every write at offset 0 is flipped
 *   FAULT_READ_MATCH=TEXT[|TEXT...]      reads of a regular file whose path contains a TEXT ...
 *   FAULT_READ_ERRNO=EIO|...             ... fail with it (default EIO); a shared mapping
 *                                        of such a file maps an empty file in its place,
 *                                        so reading it faults (SIGBUS), as a bad sector would
 *   FAULT_SLOW_MATCH=TEXT                reads of a regular file whose path contains TEXT ...
 *   FAULT_SLOW_MS=N                      ... each wait N ms first (a slow disk; default 100)
 *   FAULT_NO_TMPFILE=1                   openat(O_TMPFILE) fails with EOPNOTSUPP, as on a
 *                                        file system without unnamed files
 *   FAULT_NO_FLINK=1                     linkat(AT_EMPTY_PATH) fails with ENOENT, as for a
 *                                        process without CAP_DAC_READ_SEARCH before Linux 6.10
 *   FAULT_LINK_TAKEN=TEXT                a linkat to a name containing TEXT first creates a
 *                                        file of that name, as another program might
 *   FAULT_MMAP_SHRINK=1                  a shared read-only mapping of a regular file opened
 *                                        for writing is followed by a truncation to its start,
 *                                        so reading the mapping faults (SIGBUS), as a page
 *                                        that cannot be read back from a bad disk would
 *   FAULT_NO_DIRECT=1                    fcntl(F_SETFL) with O_DIRECT fails with EINVAL, as
 *                                        on a file system without direct I/O (tmpfs before
 *                                        Linux 6.6)
 *   FAULT_COPY_RANGE_LOG=FILE            each copy_file_range call appends a line to FILE,
 *                                        so a test can see which copies the kernel made
 *                                        (and might have made by sharing blocks: a reflink)
 *   FAULT_RENAME_KILL=TEXT               a renameat to a name containing TEXT, once done,
 *                                        kills the process (SIGKILL), as a crash right
 *                                        after it would
 *   FAULT_LIST_KILL=TEXT                 an fstatat(AT_SYMLINK_NOFOLLOW) of a name containing
 *                                        TEXT (as a listing's of each entry) kills the process
 *                                        (SIGKILL), as a crash while listing would ...
 *   FAULT_LIST_KILL_ONCE=FILE            ... only in the first process to create FILE
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long long written; /* bytes this process wrote to regular files */

static int errno_named(const char *name, int dflt)
{
	if (name == NULL)
		return dflt;
	if (strcmp(name, "ENOSPC") == 0)
		return ENOSPC;
	if (strcmp(name, "EDQUOT") == 0)
		return EDQUOT;
	if (strcmp(name, "EIO") == 0)
		return EIO;
	if (strcmp(name, "EACCES") == 0)
		return EACCES;
	return dflt;
}

static int is_regular(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* The errno a write of N bytes to FD should fail with, or 0 to let it through. */
static int write_fault(int fd, size_t n)
{
	const char *e = getenv("FAULT_WRITE_ERRNO");
	if (e == NULL || !is_regular(fd))
		return 0;
	const char *after = getenv("FAULT_WRITE_AFTER");
	if (written + n <= (after ? strtoull(after, NULL, 10) : 0))
		return 0;
	return errno_named(e, EIO);
}

/*
 * 1 when FD is a regular file whose path contains MATCH (an environment variable's value).
 * An unnamed file (O_TMPFILE) reads as "DIR/#INODE (deleted)" in /proc.
 */
static int fd_matches(int fd, const char *match)
{
	if (match == NULL || !is_regular(fd))
		return 0;
	char link[64], path[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t len = readlink(link, path, sizeof(path) - 1);
	if (len < 0)
		return 0;
	path[len] = '\0';
	/* MATCH may list alternatives separated by '|'. */
	for (const char *m = match;; m++) {
		const char *bar = strchr(m, '|');
		size_t n = bar ? (size_t)(bar - m) : strlen(m);
		if (n > 0 && memmem(path, (size_t)len, m, n) != NULL)
			return 1;
		if (bar == NULL)
			return 0;
		m = bar;
	}
}

/* The errno a read from FD should fail with, or 0; a slow file makes the read wait first. */
static int read_fault(int fd)
{
	if (fd_matches(fd, getenv("FAULT_SLOW_MATCH"))) {
		const char *ms = getenv("FAULT_SLOW_MS");
		struct timespec ts = {0, (ms ? atol(ms) % 1000 : 100) * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (!fd_matches(fd, getenv("FAULT_READ_MATCH")))
		return 0;
	return errno_named(getenv("FAULT_READ_ERRNO"), EIO);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*read_fn)(int, void *, size_t);

static ssize_t do_pwrite(const char *name, int fd, const void *buf, size_t n, off_t off)
{
	int e = write_fault(fd, n);
	if (e != 0) {
		errno = e;
		return -1;
	}
	ssize_t w;
	if (off == 0 && n > 0 && getenv("FAULT_WRITE_CORRUPT") != NULL && is_regular(fd)) {
		unsigned char *copy = malloc(n);
		if (copy == NULL)
			return -1;
		memcpy(copy, buf, n);
		copy[0] ^= 0xff;
		w = REAL(name, pwrite_fn)(fd, copy, n, off);
		free(copy);
	} else {
		w = REAL(name, pwrite_fn)(fd, buf, n, off);
	}
	if (w > 0)
		written += (unsigned long long)w;
	return w;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return do_pwrite("pwrite", fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return do_pwrite("pwrite64", fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	int e = write_fault(fd, n);
	if (e != 0) {
		errno = e;
		return -1;
	}
	ssize_t w = REAL("write", write_fn)(fd, buf, n);
	if (w > 0 && is_regular(fd))
		written += (unsigned long long)w;
	return w;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	int e = read_fault(fd);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return REAL("pread", pread_fn)(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	int e = read_fault(fd);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return REAL("pread64", pread_fn)(fd, buf, n, off);
}

ssize_t read(int fd, void *buf, size_t n)
{
	int e = read_fault(fd);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return REAL("read", read_fn)(fd, buf, n);
}

typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*linkat_fn)(int, const char *, int, const char *, int);

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if ((flags & O_TMPFILE) == O_TMPFILE && getenv("FAULT_NO_TMPFILE") != NULL) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return REAL("openat", openat_fn)(dirfd, path, flags, mode);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	if ((flags & AT_EMPTY_PATH) && getenv("FAULT_NO_FLINK") != NULL) {
		errno = ENOENT;
		return -1;
	}
	const char *taken = getenv("FAULT_LINK_TAKEN");
	if (taken != NULL && *taken != '\0' && strstr(newpath, taken) != NULL) {
		int fd =
		    REAL("openat", openat_fn)(newdirfd, newpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			(void)!REAL("write", write_fn)(fd, "intruder\n", 9);
			close(fd);
		}
	}
	return REAL("linkat", linkat_fn)(olddirfd, oldpath, newdirfd, newpath, flags);
}

typedef int (*renameat_fn)(int, const char *, int, const char *);

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int rc = REAL("renameat", renameat_fn)(olddirfd, oldpath, newdirfd, newpath);
	const char *kill_at = getenv("FAULT_RENAME_KILL");
	if (rc == 0 && kill_at != NULL && *kill_at != '\0' && strstr(newpath, kill_at) != NULL)
		raise(SIGKILL);
	return rc;
}

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static void *do_mmap(const char *name, void *addr, size_t len, int prot, int flags, int fd,
                     off_t off)
{
	if (fd >= 0 && (flags & MAP_SHARED) && fd_matches(fd, getenv("FAULT_READ_MATCH"))) {
		int empty = memfd_create("fault", MFD_CLOEXEC);
		if (empty < 0)
			return MAP_FAILED;
		void *bad = REAL(name, mmap_fn)(addr, len, prot, flags, empty, 0);
		close(empty);
		return bad;
	}
	void *p = REAL(name, mmap_fn)(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && fd >= 0 && (flags & MAP_SHARED) && prot == PROT_READ &&
	    getenv("FAULT_MMAP_SHRINK") != NULL && is_regular(fd) &&
	    (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		(void)!ftruncate(fd, off);
	return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap("mmap", addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap("mmap64", addr, len, prot, flags, fd, off);
}

typedef int (*fcntl_fn)(int, int, ...);

static int do_fcntl(const char *name, int fd, int cmd, long arg)
{
	if (cmd == F_SETFL && (arg & O_DIRECT) && getenv("FAULT_NO_DIRECT") != NULL) {
		errno = EINVAL;
		return -1;
	}
	return REAL(name, fcntl_fn)(fd, cmd, arg);
}

/* Every command's argument is an int, a long or a pointer: passed on as a long. */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl("fcntl", fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl("fcntl64", fd, cmd, arg);
}

/* FAULT_LIST_KILL: die listing a directory that holds an entry named like TEXT (a listing
 * reads each entry's lstat with fstatat(AT_SYMLINK_NOFOLLOW)). */
static void list_fault(const char *name, int flags)
{
	const char *text = getenv("FAULT_LIST_KILL");
	if (text == NULL || *text == '\0' || !(flags & AT_SYMLINK_NOFOLLOW) ||
	    strstr(name, text) == NULL)
		return;
	const char *once = getenv("FAULT_LIST_KILL_ONCE");
	if (once != NULL) {
		int fd = open(once, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return; /* another process died here already */
		close(fd);
	}
	raise(SIGKILL);
}

typedef int (*fstatat_fn)(int, const char *, struct stat *, int);

int fstatat(int dfd, const char *name, struct stat *st, int flags)
{
	list_fault(name, flags);
	return REAL("fstatat", fstatat_fn)(dfd, name, st, flags);
}

typedef ssize_t (*copy_range_fn)(int, off_t *, int, off_t *, size_t, unsigned);

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len, unsigned flags)
{
	const char *log = getenv("FAULT_COPY_RANGE_LOG");
	if (log != NULL && *log != '\0') {
		FILE *f = fopen(log, "a");
		if (f != NULL) {
			fprintf(f, "copy_file_range %zu\n", len);
			fclose(f);
		}
	}
	return REAL("copy_file_range", copy_range_fn)(in, in_off, out, out_off, len, flags);
}
