/* SPDX-License-Identifier: BSD-2-Clause */
/* listdir: one directory of a walk, source and destination side together (see listdir.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "fs/listdir.h"

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scan_item *)a)->name, ((const struct scan_item *)b)->name);
}

void listdir_sort(struct scan_item *items, size_t n)
{
	if (n > 1) /* an empty directory may leave ITEMS NULL: no qsort(NULL) */
		qsort(items, n, sizeof(*items), item_cmp);
}

/* Read every entry of the open directory DFD, with its lstat, into L's items. */
static int read_source(struct listdir *l, int dfd)
{
	if (tree_list_at(dfd, &l->src) != 0 ||
	    array_grow(&l->items, &l->items_cap, l->src.n, sizeof(*l->items)) != 0)
		return -1;
	for (size_t i = 0; i < l->src.n; i++) {
		struct scan_item *it = &l->items[l->nitems];
		it->name = l->src.names[i];
		it->made = -1;
		if (fstatat(dfd, it->name, &it->st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue; /* vanished since readdir: nothing to copy */
			l->nitems = 0;
			return -1;
		}
		l->nitems++;
	}
	listdir_sort(l->items, l->nitems);
	return 0;
}

int listdir_read(struct listdir *l, int src_fd, int dst_fd, const char *dir)
{
	l->nitems = 0;
	l->err = 0;
	l->dst_listed = 0;
	tree_list_free(&l->src);
	tree_list_free(&l->dst);
	int fd = at_open_dir(src_fd, dir, strlen(dir));
	if (fd < 0) {
		l->err = errno;
		return -1;
	}
	int rc = read_source(l, fd);
	l->err = rc != 0 ? errno : 0;
	close(fd);
	if (rc != 0)
		return -1;
	if (dst_fd >= 0 && tree_list(dst_fd, dir, &l->dst) == 0)
		l->dst_listed = 1;
	return 0;
}

void listdir_free(struct listdir *l)
{
	free(l->items);
	tree_list_free(&l->src);
	tree_list_free(&l->dst);
	memset(l, 0, sizeof(*l));
}
