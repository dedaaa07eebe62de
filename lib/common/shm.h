/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shm: memory shared between the parent and its forked worker processes.
 *
 * Everything the workers need to read after fork(), and everything they write back, lives in
 * anonymous MAP_SHARED mappings made here before the pool starts. The name arena is an
 * append-only string store: the scanning parent appends each relative path once, and tasks,
 * completions, the manifest and error messages all refer to the path by its offset.
 */
#ifndef PCOPY_SHM_H
#define PCOPY_SHM_H

#include <stddef.h>
#include <stdint.h>

/* Map SIZE bytes of zeroed memory shared across fork(). Returns NULL with errno on failure. */
void *shm_map(size_t size);

/* Unmap memory returned by shm_map(). */
void shm_unmap(void *p, size_t size);

/*
 * Append-only store of NUL-terminated names. The parent is the only writer (it owns `used`);
 * workers read names at offsets they received through a queue, whose lock orders the write
 * before the read. The mapping is reserved up front (MAP_NORESERVE) and only touched pages
 * cost memory.
 */
struct names {
	char *base;      /* start of the shared mapping */
	size_t capacity; /* bytes reserved */
	size_t used;     /* bytes written; parent only */
};

/* Reserve an arena of CAPACITY bytes. Returns 0, or -1 with errno. */
int names_init(struct names *n, size_t capacity);

/* Release the arena. */
void names_free(struct names *n);

/* Append the LEN bytes at S plus a NUL. Returns the offset, or UINT64_MAX (ENOMEM) when full. */
uint64_t names_add(struct names *n, const char *s, size_t len);

/* The name stored at OFF. */
static inline const char *names_get(const struct names *n, uint64_t off)
{
	return n->base + off;
}

#endif
