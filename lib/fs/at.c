/* SPDX-License-Identifier: BSD-2-Clause */
/* at: parent directory descriptors for long relative paths (see at.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "common/compat.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

void at_cache_init(struct at_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void at_cache_drop(struct at_cache *c)
{
	if (c->fd >= 0 && c->closing != NULL)
		c->closing(c->closing_arg, c->fd);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void at_cache_free(struct at_cache *c)
{
	at_cache_drop(c);
	free(c->dir);
	at_cache_init(c);
}

/* Open REL (LEN bytes, LEN < PATH_MAX) below FD. */
static int open_piece(int fd, const char *rel, size_t len)
{
	char buf[PATH_MAX];
	memcpy(buf, rel, len);
	buf[len] = '\0';
	return compat_open_beneath(fd, buf, DIR_FLAGS);
}

int at_open_dir(int root, const char *rel, size_t len)
{
	int fd = root;
	while (len > 0) {
		/* The longest piece that ends at a '/' and fits in PATH_MAX. */
		size_t n = len;
		if (n >= PATH_MAX) {
			n = PATH_MAX - 1;
			while (n > 0 && rel[n] != '/')
				n--;
			if (n == 0) {
				errno = ENAMETOOLONG;
				n = (size_t)-1;
			}
		}
		int nfd = n == (size_t)-1 ? -1 : open_piece(fd, rel, n);
		int e = errno;
		if (fd != root)
			close(fd);
		if (nfd < 0) {
			errno = e;
			return -1;
		}
		fd = nfd;
		rel += n;
		len -= n;
		while (len > 0 && *rel == '/')
			rel++, len--;
	}
	return fd == root ? fcntl(root, F_DUPFD_CLOEXEC, 0) : fd;
}

int at_parent(struct at_cache *c, int root, const char *rel, const char **leaf)
{
	const char *slash = strrchr(rel, '/');
	if (slash == NULL) {
		*leaf = rel;
		return root;
	}
	*leaf = slash + 1;
	size_t len = (size_t)(slash - rel);
	if (c->fd >= 0 && c->root == root && c->len == len && memcmp(c->dir, rel, len) == 0)
		return c->fd;
	/* A subdirectory of the cached one is opened from it. */
	int fd;
	if (c->fd >= 0 && c->root == root && c->len < len && rel[c->len] == '/' &&
	    memcmp(c->dir, rel, c->len) == 0)
		fd = at_open_dir(c->fd, rel + c->len + 1, len - c->len - 1);
	else
		fd = at_open_dir(root, rel, len);
	if (fd < 0 || array_grow(&c->dir, &c->cap, len + 1, 1) != 0) {
		int e = fd < 0 ? errno : ENOMEM;
		if (fd >= 0)
			close(fd);
		at_cache_drop(c);
		errno = e;
		return -1;
	}
	at_cache_drop(c);
	memcpy(c->dir, rel, len);
	c->dir[len] = '\0';
	c->len = len;
	c->root = root;
	c->fd = fd;
	return fd;
}

int at_open(struct at_cache *c, int root, const char *rel, int flags)
{
	const char *leaf;
	int dfd = at_parent(c, root, rel, &leaf);
	return dfd < 0 ? -1 : openat(dfd, leaf, flags | O_NOFOLLOW);
}
