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

/* Drop what L held. */
static void listdir_reset(struct listdir *l)
{
	l->nitems = 0;
	l->err = 0;
	l->dst_listed = 0;
	tree_list_free(&l->src);
	tree_list_free(&l->dst);
}

int listdir_read_open(struct listdir *l, int sfd, int dfd)
{
	listdir_reset(l);
	if (read_source(l, sfd) != 0) {
		l->err = errno;
		return -1;
	}
	if (dfd >= 0 && tree_list_at(dfd, &l->dst) == 0)
		l->dst_listed = 1;
	return 0;
}

int listdir_read(struct listdir *l, int src_fd, int dst_fd, const char *dir)
{
	listdir_reset(l);
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

/* ---- packed listings ---------------------------------------------------------------------- */

/* Bytes of one packed item named NAME. */
static size_t item_size(const char *name)
{
	return sizeof(struct stat) + sizeof(int32_t) + sizeof(uint32_t) + strlen(name) + 1;
}

size_t listdir_pack_size(const struct listdir *l, int err)
{
	size_t total = sizeof(struct listdir_head);
	if (err != 0)
		return total;
	for (size_t i = 0; i < l->nitems; i++)
		total += item_size(l->items[i].name);
	for (size_t i = 0; l->dst_listed && i < l->dst.n; i++)
		total += strlen(l->dst.names[i]) + 1;
	return total;
}

void listdir_pack(const struct listdir *l, int err, unsigned char *out)
{
	struct listdir_head h = {0, err, UINT32_MAX, 0};
	if (err == 0) {
		h.n = (uint32_t)l->nitems;
		h.ndst = l->dst_listed ? (uint32_t)l->dst.n : UINT32_MAX;
	}
	memcpy(out, &h, sizeof(h));
	unsigned char *q = out + sizeof(h);
	for (uint32_t i = 0; i < h.n; i++) {
		const struct scan_item *it = &l->items[i];
		int32_t made = it->made;
		uint32_t len = (uint32_t)strlen(it->name) + 1;
		memcpy(q, &it->st, sizeof(it->st));
		memcpy(q += sizeof(it->st), &made, sizeof(made));
		memcpy(q += sizeof(made), &len, sizeof(len));
		memcpy(q += sizeof(len), it->name, len);
		q += len;
	}
	for (uint32_t i = 0; h.ndst != UINT32_MAX && i < h.ndst; i++) {
		size_t len = strlen(l->dst.names[i]) + 1;
		memcpy(q, l->dst.names[i], len);
		q += len;
	}
}

/* The NUL-terminated string at P + *POS within LEN bytes: its start, *POS moved past it;
 * NULL when it runs off the end. */
static const char *take_name(const unsigned char *p, size_t len, size_t *pos, size_t n)
{
	if (n == 0 || n > len - *pos || p[*pos + n - 1] != '\0')
		return NULL;
	const char *s = (const char *)p + *pos;
	*pos += n;
	return s;
}

int listdir_unpack(struct listdir_view *v, const unsigned char *p, size_t len)
{
	struct listdir_head h;
	v->nitems = v->ndst = 0;
	v->dst_listed = 0;
	if (len < sizeof(h)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&h, p, sizeof(h));
	v->err = h.err;
	size_t pos = sizeof(h);
	if (array_grow(&v->items, &v->items_cap, h.n, sizeof(*v->items)) != 0)
		return -1;
	for (uint32_t i = 0; i < h.n; i++) {
		struct scan_item *it = &v->items[i];
		int32_t made;
		uint32_t n;
		if (len - pos < sizeof(it->st) + sizeof(made) + sizeof(n)) {
			errno = EBADMSG;
			return -1;
		}
		memcpy(&it->st, p + pos, sizeof(it->st));
		memcpy(&made, p + pos + sizeof(it->st), sizeof(made));
		memcpy(&n, p + pos + sizeof(it->st) + sizeof(made), sizeof(n));
		pos += sizeof(it->st) + sizeof(made) + sizeof(n);
		it->made = made;
		if ((it->name = take_name(p, len, &pos, n)) == NULL) {
			errno = EBADMSG;
			return -1;
		}
	}
	v->nitems = h.n;
	if (h.ndst == UINT32_MAX)
		return 0;
	if (array_grow(&v->dst, &v->dst_cap, (size_t)h.ndst + 1, sizeof(*v->dst)) != 0)
		return -1;
	for (uint32_t i = 0; i < h.ndst; i++) {
		const char *s = (const char *)p + pos;
		size_t n = pos < len ? strnlen(s, len - pos) + 1 : 0;
		if ((v->dst[i] = (char *)take_name(p, len, &pos, n)) == NULL) {
			errno = EBADMSG;
			return -1;
		}
	}
	v->ndst = h.ndst;
	v->dst_listed = 1;
	return 0;
}

void listdir_view_free(struct listdir_view *v)
{
	free(v->items);
	free(v->dst);
	memset(v, 0, sizeof(*v));
}
