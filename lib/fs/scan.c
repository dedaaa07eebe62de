/* SPDX-License-Identifier: BSD-2-Clause */
/* scan: depth-first, name-sorted directory walker for the parent process (see scan.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "fs/scan.h"

int scan_start(struct scan *s, int root_fd, int dst_fd, struct names *names, uint64_t root_path)
{
	memset(s, 0, sizeof(*s));
	s->root_fd = root_fd;
	s->dst_fd = dst_fd;
	s->names = names;
	if (array_grow(&s->stack, &s->stack_cap, 1, sizeof(*s->stack)) != 0)
		return -1;
	s->stack[s->depth++] = root_path;
	return 0;
}

int scan_descend(struct scan *s, uint64_t path)
{
	if (array_grow(&s->pending, &s->pending_cap, s->npending + 1, sizeof(*s->pending)) != 0)
		return -1;
	s->pending[s->npending++] = path;
	return 0;
}

void scan_rsync_order(struct scan *s)
{
	s->rsync_order = 1;
}

/* A subdirectory to visit: its path and its value for the stack. */
struct sibling {
	const char *path;
	uint64_t value;
};

/* rsync's order of sibling directories: bytewise, a name's end taken as '/'. */
static int sibling_cmp(const void *a, const void *b)
{
	const unsigned char *p = (const unsigned char *)((const struct sibling *)a)->path;
	const unsigned char *q = (const unsigned char *)((const struct sibling *)b)->path;
	while (*p != '\0' && *p == *q)
		p++, q++;
	return (*p != '\0' ? *p : '/') - (*q != '\0' ? *q : '/');
}

/* Put the pending subdirectories in rsync's order. Returns 0, or -1 (ENOMEM). */
static int pending_rsync_order(struct scan *s)
{
	struct sibling *v = malloc(s->npending * sizeof(*v));
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < s->npending; i++) {
		v[i].path = names_get(s->names, s->pending[i] & ~SCAN_FLAG);
		v[i].value = s->pending[i];
	}
	if (s->npending > 1)
		qsort(v, s->npending, sizeof(*v), sibling_cmp);
	for (size_t i = 0; i < s->npending; i++)
		s->pending[i] = v[i].value;
	free(v);
	return 0;
}

int scan_next(struct scan *s)
{
	/* Subdirectories chosen for the previous batch go on the stack in reverse, so the first
	 * in name order is visited next. */
	if (array_grow(&s->stack, &s->stack_cap, s->depth + s->npending, sizeof(*s->stack)) != 0)
		return -1;
	if (s->rsync_order && s->npending > 1 && pending_rsync_order(s) != 0)
		return -1;
	while (s->npending > 0)
		s->stack[s->depth++] = s->pending[--s->npending];
	s->batch.nitems = 0;
	if (s->depth == 0)
		return 0;
	return scan_read_dir(s, s->stack[--s->depth]);
}

int scan_peek(const struct scan *s, uint64_t *dir)
{
	if (s->npending > 0)
		*dir = s->pending[s->npending - 1];
	else if (s->depth > 0)
		*dir = s->stack[s->depth - 1];
	else
		return 0;
	return 1;
}

void scan_drop(struct scan *s)
{
	if (s->npending > 0)
		s->npending--;
	else if (s->depth > 0)
		s->depth--;
}

int scan_set(struct scan *s, uint64_t dir, const struct scan_item *items, size_t n, int err)
{
	s->dir = dir & ~SCAN_FLAG;
	s->dir_flag = (dir & SCAN_FLAG) != 0;
	s->err = err;
	struct listdir *l = &s->batch;
	l->nitems = 0;
	l->err = err;
	l->dst_listed = 0;
	if (array_grow(&l->items, &l->items_cap, n, sizeof(*l->items)) != 0)
		return -1;
	if (n == 0)
		return 0;
	memcpy(l->items, items, n * sizeof(*items));
	l->nitems = n;
	listdir_sort(l->items, l->nitems);
	return 0;
}

int scan_read_dir(struct scan *s, uint64_t dir)
{
	s->dir = dir & ~SCAN_FLAG;
	s->dir_flag = (dir & SCAN_FLAG) != 0;
	int rc = listdir_read(&s->batch, s->root_fd, s->dir_flag ? s->dst_fd : -1,
	                      names_get(s->names, s->dir));
	s->err = s->batch.err;
	return rc != 0 ? -1 : 1;
}

void scan_end(struct scan *s)
{
	free(s->stack);
	free(s->pending);
	listdir_free(&s->batch);
	memset(s, 0, sizeof(*s));
}

uint64_t scan_join(struct names *names, const char *dir, const char *name)
{
	size_t nlen = strlen(name);
	if (dir[0] == '.' && dir[1] == '\0')
		return names_add(names, name, nlen);
	size_t dlen = strlen(dir);
	char *tmp = malloc(dlen + 1 + nlen);
	if (tmp == NULL)
		return UINT64_MAX;
	memcpy(tmp, dir, dlen);
	tmp[dlen] = '/';
	memcpy(tmp + dlen + 1, name, nlen);
	uint64_t off = names_add(names, tmp, dlen + 1 + nlen);
	free(tmp);
	return off;
}
