/* SPDX-License-Identifier: BSD-2-Clause */
/* compat: portability fallbacks behind configure's HAVE_* probes (see compat.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#if defined(HAVE_LINUX_OPENAT2_H) && defined(HAVE_SYS_SYSCALL_H)
#include <linux/openat2.h>
#endif
#ifdef HAVE_SYS_SYSCALL_H
#include <sys/syscall.h>
#endif

#include "common/compat.h"

/* listxattrat's number (Linux 6.13) where the system headers predate it: one number on these
 * architectures, which share the table of new calls (x32 and the older ports do not). */
#if defined(HAVE_SYS_SYSCALL_H) && !defined(SYS_listxattrat) &&                                    \
    ((defined(__x86_64__) && !defined(__ILP32__)) || defined(__i386__) || defined(__aarch64__) ||  \
     defined(__riscv))
#define SYS_listxattrat 465
#endif

int compat_parent_death_signal(int sig)
{
#if defined(HAVE_PRCTL) && defined(PR_SET_PDEATHSIG)
	return prctl(PR_SET_PDEATHSIG, sig);
#else
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

ssize_t compat_copy_range(int in, int out, size_t len)
{
#ifdef HAVE_COPY_FILE_RANGE
	return copy_file_range(in, NULL, out, NULL, len, 0);
#else
	(void)in;
	(void)out;
	(void)len;
	errno = ENOSYS;
	return -1;
#endif
}

void compat_sequential(int fd)
{
#ifdef HAVE_POSIX_FADVISE
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#else
	(void)fd;
#endif
}

void *compat_map_read(int fd, off_t off, size_t len)
{
#ifdef MAP_POPULATE
	int flags = MAP_SHARED | MAP_POPULATE;
#else
	int flags = MAP_SHARED;
#endif
	return mmap(NULL, len, PROT_READ, flags, fd, off);
}

/* openat2(2) with RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH: one call for a whole path. Returns
 * the descriptor, or -1 with errno (ENOSYS when the kernel or libc headers lack it). */
static int open_beneath_openat2(int dirfd, const char *path, int flags)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(HAVE_SYS_SYSCALL_H) && defined(SYS_openat2)
	struct open_how how = {0};
	how.flags = (unsigned long long)flags;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
#else
	(void)dirfd, (void)path, (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

/* The same, one component at a time with O_NOFOLLOW (kernels without openat2). */
static int open_beneath_walk(int dirfd, const char *path, int flags)
{
	int fd = dirfd;
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		const char *next = p + n;
		while (*next == '/')
			next++;
		int last = *next == '\0';
		char name[NAME_MAX + 1];
		if (n > NAME_MAX || (n == 2 && p[0] == '.' && p[1] == '.')) {
			if (fd != dirfd)
				close(fd);
			errno = n > NAME_MAX ? ENAMETOOLONG : EXDEV;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		int nfd = openat(fd, n > 0 ? name : ".",
		                 last ? flags | O_NOFOLLOW
		                      : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (fd != dirfd)
			close(fd);
		if (nfd < 0) {
			errno = e == ENOTDIR && !last ? ELOOP : e;
			return -1;
		}
		if (last)
			return nfd;
		fd = nfd;
		p = next;
	}
}

int compat_open_beneath(int dirfd, const char *path, int flags)
{
	static int no_openat2;
	if (!no_openat2) {
		int fd = open_beneath_openat2(dirfd, path, flags);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		no_openat2 = 1; /* not here, or filtered by seccomp */
	}
	return open_beneath_walk(dirfd, path, flags);
}

int compat_open_unnamed(int dirfd, mode_t mode)
{
#ifdef O_TMPFILE
	return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
#else
	(void)dirfd;
	(void)mode;
	errno = EOPNOTSUPP;
	return -1;
#endif
}

int compat_link_unnamed(int fd, int dirfd, const char *name, int *by_proc)
{
#ifdef AT_EMPTY_PATH
	if (!*by_proc) {
		if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
			return 0;
		/* Without CAP_DAC_READ_SEARCH (kernels before 6.10) the answer is ENOENT. */
		if (errno != ENOENT)
			return -1;
		*by_proc = 1;
	}
#endif
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	/* No /proc (a chroot, a sandbox): unnamed files cannot be given a name here. */
	if (errno == ENOENT && access("/proc/self/fd", X_OK) != 0)
		errno = EOPNOTSUPP;
	return -1;
}

/* "." or "..". */
static int dot_or_dotdot(const char *nm)
{
	return nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'));
}

/* compat_dir_names by readdir, on a duplicate of DFD (closedir closes that one). */
static int dir_names_readdir(int dfd, int (*add)(void *arg, const char *name), void *arg)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *de;
	int err = 0;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!dot_or_dotdot(de->d_name) && add(arg, de->d_name) != 0)
			break;
		errno = 0;
	}
	err = errno; /* set by readdir or ADD when the listing stopped early */
	closedir(d);
	errno = err;
	return err != 0 ? -1 : 0;
}

int compat_dir_names(int dfd, int (*add)(void *arg, const char *name), void *arg)
{
#if defined(HAVE_SYS_SYSCALL_H) && defined(SYS_getdents64)
	/* The kernel's records: linux_dirent64 (d_ino, d_off, d_reclen, d_type, d_name). */
	struct rec {
		uint64_t ino;
		int64_t off;
		unsigned short reclen;
		unsigned char type;
		char name[];
	};
	_Alignas(struct rec) char buf[32768]; /* as much as one glibc readdir buffer */
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n < 0 && errno == ENOSYS)
			return dir_names_readdir(dfd, add, arg);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (long at = 0; at < n;) {
			unsigned short reclen;
			const char *name = buf + at + offsetof(struct rec, name);
			memcpy(&reclen, buf + at + offsetof(struct rec, reclen), sizeof(reclen));
			if (!dot_or_dotdot(name) && add(arg, name) != 0)
				return -1;
			at += reclen;
		}
	}
#else
	return dir_names_readdir(dfd, add, arg);
#endif
}

ssize_t compat_listxattr_at(int dirfd, const char *name, char *list, size_t size)
{
#if defined(HAVE_SYS_SYSCALL_H) && defined(SYS_listxattrat)
	return (ssize_t)syscall(SYS_listxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, list, size);
#else
	(void)dirfd, (void)name, (void)list, (void)size;
	errno = ENOSYS;
	return -1;
#endif
}
