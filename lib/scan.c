/* scan: depth-first, name-sorted directory walker for the parent process (see scan.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

/* Grow *ARR (of element size SIZE, capacity *CAP) to hold at least NEED elements. */
static int grow(void *arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *p = realloc(*(void **)arr, n * size);
	if (p == NULL)
		return -1;
	*(void **)arr = p;
	*cap = n;
	return 0;
}

int scan_start(struct scan *s, int root_fd, struct names *names, uint64_t root_path)
{
	memset(s, 0, sizeof(*s));
	s->root_fd = root_fd;
	s->names = names;
	if (grow(&s->stack, &s->stack_cap, 1, sizeof(*s->stack)) != 0)
		return -1;
	s->stack[s->depth++] = root_path;
	return 0;
}

int scan_descend(struct scan *s, uint64_t path)
{
	if (grow(&s->pending, &s->pending_cap, s->npending + 1, sizeof(*s->pending)) != 0)
		return -1;
	s->pending[s->npending++] = path;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scan_item *)a)->name, ((const struct scan_item *)b)->name);
}

/* Read every entry of the open directory D into the batch. */
static int scan_read(struct scan *s, DIR *d)
{
	int dfd = dirfd(d);
	struct dirent *de;
	s->nitems = 0;
	s->namebuf_used = 0;
	/* Names first (the name buffer may move while it grows), stat afterwards. */
	size_t *offs = NULL, noffs = 0, offs_cap = 0;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		size_t len = strlen(n) + 1;
		if (grow(&s->namebuf, &s->namebuf_cap, s->namebuf_used + len, 1) != 0 ||
		    grow(&offs, &offs_cap, noffs + 1, sizeof(*offs)) != 0)
			goto fail;
		memcpy(s->namebuf + s->namebuf_used, n, len);
		offs[noffs++] = s->namebuf_used;
		s->namebuf_used += len;
		errno = 0;
	}
	if (errno != 0)
		goto fail;
	if (grow(&s->items, &s->items_cap, noffs, sizeof(*s->items)) != 0)
		goto fail;
	for (size_t i = 0; i < noffs; i++) {
		struct scan_item *it = &s->items[s->nitems];
		it->name = s->namebuf + offs[i];
		if (fstatat(dfd, it->name, &it->st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue; /* vanished since readdir: nothing to copy */
			goto fail;
		}
		s->nitems++;
	}
	free(offs);
	qsort(s->items, s->nitems, sizeof(*s->items), item_cmp);
	return 0;
fail:;
	int e = errno;
	free(offs);
	s->nitems = 0;
	errno = e;
	return -1;
}

int scan_next(struct scan *s)
{
	/* Subdirectories chosen for the previous batch go on the stack in reverse, so the first
	 * in name order is visited next. */
	if (grow(&s->stack, &s->stack_cap, s->depth + s->npending, sizeof(*s->stack)) != 0)
		return -1;
	while (s->npending > 0)
		s->stack[s->depth++] = s->pending[--s->npending];
	s->nitems = 0;
	if (s->depth == 0)
		return 0;
	s->dir = s->stack[--s->depth];
	s->dir_flag = (s->dir & SCAN_FLAG) != 0;
	s->dir &= ~SCAN_FLAG;
	s->err = 0;
	const char *path = names_get(s->names, s->dir);
	int fd = openat(s->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		s->err = errno;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = scan_read(s, d);
	s->err = rc != 0 ? errno : 0;
	closedir(d);
	return rc != 0 ? -1 : 1;
}

void scan_end(struct scan *s)
{
	free(s->stack);
	free(s->pending);
	free(s->items);
	free(s->namebuf);
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
