/* SPDX-License-Identifier: BSD-2-Clause */
/* shm: shared anonymous mappings and the append-only name arena (see shm.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/shm.h"

void *shm_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void shm_unmap(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, size);
}

int names_init(struct names *n, size_t capacity)
{
	/* Try the requested reservation, then smaller ones where the kernel refuses it. */
	for (; capacity >= ((size_t)1 << 24); capacity /= 2) {
		n->base = shm_map(capacity);
		if (n->base != NULL) {
			n->capacity = capacity;
			n->used = 0;
			return 0;
		}
	}
	errno = ENOMEM;
	return -1;
}

void names_free(struct names *n)
{
	shm_unmap(n->base, n->capacity);
	n->base = NULL;
	n->capacity = n->used = 0;
}

uint64_t names_add(struct names *n, const char *s, size_t len)
{
	if (len + 1 > n->capacity - n->used) {
		errno = ENOMEM;
		return UINT64_MAX;
	}
	uint64_t off = n->used;
	memcpy(n->base + off, s, len);
	n->base[off + len] = '\0';
	n->used += len + 1;
	return off;
}
