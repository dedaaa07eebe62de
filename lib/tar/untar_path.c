/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * untar_path: member names (untar_safe_path, pcopy's temporary names) and DEST-relative paths
 * of any length, resolved through directory descriptors (at.h), never through a symlink.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tmpname.h"
#include "tar/internal.h"

const char *untar_safe_path(const char *path)
{
	const char *start = path;
	while (*path == '/' || (path[0] == '.' && (path[1] == '/' || path[1] == '\0')))
		path += path[0] == '/' || path[1] == '\0' ? 1 : 2;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p += n;
		p += *p == '/';
	}
	if (*path == '\0')
		return *start != '\0' ? "." : NULL; /* ".", "./", "/", "./.": DEST itself */
	return path;
}

/* ---- DEST-relative paths of any length ------------------------------------------------ */

/* The directory holding PATH (below DEST) and, in *LEAF, its last component; -1 with errno. */
int untar_parent_of(struct untar *u, const char *path, const char **leaf)
{
	return at_parent(&u->at, u->root, path, leaf);
}

/* lstat of PATH below DEST. */
int untar_stat_at(struct untar *u, const char *path, struct stat *st)
{
	const char *leaf;
	int dfd = untar_parent_of(u, path, &leaf);
	return dfd < 0 ? -1 : fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW);
}

int untar_unlink_at(struct untar *u, const char *path)
{
	const char *leaf;
	int dfd = untar_parent_of(u, path, &leaf);
	return dfd < 0 ? -1 : unlinkat(dfd, leaf, 0);
}

/* "<dir of PATH>/" and this process's next temporary name (tmpname.h) into u->tmp. */
int untar_tmp_name(struct untar *u, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	char name[TMPNAME_SIZE];
	tmpname_counter(name, sizeof(name), u->pid, ++u->counter);
	free(u->tmp);
	u->tmp = malloc(dirlen + strlen(name) + 1);
	if (u->tmp == NULL)
		return -1;
	memcpy(u->tmp, path, dirlen);
	strcpy(u->tmp + dirlen, name);
	return 0;
}

void untar_drop_tmp(struct untar *u)
{
	if (u->tmp != NULL)
		untar_unlink_at(u, u->tmp);
	free(u->tmp);
	u->tmp = NULL;
}

/*
 * 1 when the directory part of PATH (DEST-relative) holds no symlink and no non-directory:
 * every component that exists is a real directory (missing ones are made by the disk
 * writer). The parent is opened a component at a time refusing symlinks (at.h), and kept
 * open, so a run of members in one directory costs one string compare. Reported when not.
 */
int untar_safe_parent(struct untar *u, const char *path, const char *member)
{
	const char *leaf;
	if (untar_parent_of(u, path, &leaf) >= 0 || errno == ENOENT)
		return 1; /* missing from some point on: the disk writer makes real directories */
	if (errno == ELOOP)
		untar_member_failed(u, member, "would be written through a symbolic link", 0);
	else if (errno == ENOTDIR)
		untar_member_failed(u, member, "a path component is not a directory", 0);
	else
		untar_member_failed(u, member, "cannot open its directory", errno);
	return 0;
}

/* Make the missing directories on the way to PATH (below DEST), never through a symlink. */
int untar_make_parents(struct untar *u, const char *path)
{
	int fd = dup(u->root);
	for (const char *p = path, *slash; fd >= 0 && (slash = strchr(p, '/')) != NULL;
	     p = slash + 1) {
		char name[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n == 0)
			continue;
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (mkdirat(fd, name, 0777) != 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * 1 when a component of PATH is one of pcopy's temporary names: such a member could be taken
 * for (or collide with) a temporary file, and later runs remove those.
 */
int untar_has_tmp_name(const char *path)
{
	for (const char *p = path; p != NULL; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (tmpname_is(p))
			return 1;
	return 0;
}
