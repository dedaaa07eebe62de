/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compat: the few things that differ between systems, chosen by configure probes.
 */
#ifndef PCOPY_COMPAT_H
#define PCOPY_COMPAT_H

#include <sys/types.h>

/* Ask the kernel to send SIG to this process when its parent dies. Returns 0, or -1 where
 * unsupported. */
int compat_parent_death_signal(int sig);

/*
 * Copy up to LEN bytes from IN to OUT in the kernel (copy_file_range), at the current offsets.
 * Returns bytes copied, 0 at end of input, or -1 with errno (ENOSYS/EXDEV/EINVAL where the
 * caller should fall back to read/write).
 */
ssize_t compat_copy_range(int in, int out, size_t len);

/* Tell the kernel FD will be read sequentially (a hint; errors ignored). */
void compat_sequential(int fd);

/*
 * Map LEN bytes of FD from OFF (a multiple of the page size) read-only and shared, with the
 * page tables filled in one call where the system can (MAP_POPULATE) rather than one fault
 * per page later. Pages that cannot be read are left out, as without it: reading them raises
 * SIGBUS. Returns the address, or MAP_FAILED with errno.
 */
void *compat_map_read(int fd, off_t off, size_t len);

/*
 * Open PATH below DIRFD with FLAGS without following any symlink on the way (not even in the
 * middle of PATH) and without leaving DIRFD's tree. Returns the descriptor, or -1 with errno
 * (ELOOP for a symlink on the path). PATH must be shorter than PATH_MAX.
 */
int compat_open_beneath(int dirfd, const char *path, int flags);

/*
 * Create a regular file with no name in the directory DIRFD (O_TMPFILE), open for reading
 * and writing with MODE. Returns the descriptor, or -1 with errno (EOPNOTSUPP, EISDIR or
 * EINVAL where the system or the file system cannot: the caller creates a named file).
 */
int compat_open_unnamed(int dirfd, mode_t mode);

/*
 * Give the unnamed file FD the name NAME in DIRFD; fails with EEXIST when NAME exists.
 * *BY_PROC starts at 0 and is set once linking by descriptor needs a capability this
 * process lacks, after which /proc/self/fd is used. Returns 0, or -1 with errno (EOPNOTSUPP
 * when neither way is open to this process: the caller uses named temporary files).
 */
int compat_link_unnamed(int fd, int dirfd, const char *name, int *by_proc);

/*
 * Call ADD(ARG, NAME) for each name in the open directory DFD from its offset (0 when just
 * opened) on, "." and ".." left out, DFD's offset ending at its end: getdents64 straight on
 * DFD where there is one (no second descriptor, no fdopendir), else readdir on a duplicate.
 * Stops at the first ADD that returns nonzero. Returns 0, or -1 with errno (ADD's, or
 * reading's).
 */
int compat_dir_names(int dfd, int (*add)(void *arg, const char *name), void *arg);

/*
 * llistxattr(2) of NAME in directory DIRFD, not following a final symlink, without a path
 * through /proc or a change of the working directory (listxattrat, Linux 6.13). Returns the
 * list's length, or -1 with errno (ENOSYS where the kernel or this build lacks the call, EPERM
 * where a filter refuses it: the caller goes another way).
 */
ssize_t compat_listxattr_at(int dirfd, const char *name, char *list, size_t size);

#endif
