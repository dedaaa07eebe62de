/* SPDX-License-Identifier: BSD-2-Clause */
/* inotab: (dev, ino) -> first entry, open addressing (see inotab.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "fs/inotab.h"

static size_t ino_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Double the table. Returns 0, or -1 when out of memory (the table is unchanged). */
static int grow(struct inotab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct inotab_slot *ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].entry == 0)
			continue;
		size_t j = ino_hash(t->slots[i].dev, t->slots[i].ino, ncap);
		while (ns[j].entry != 0)
			j = (j + 1) & (ncap - 1);
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

size_t inotab_find_or_add(struct inotab *t, dev_t dev, ino_t ino, size_t entry)
{
	if ((t->used + 1) * 2 > t->cap && grow(t) != 0)
		return 0;
	size_t j = ino_hash(dev, ino, t->cap);
	for (; t->slots[j].entry != 0; j = (j + 1) & (t->cap - 1))
		if (t->slots[j].dev == dev && t->slots[j].ino == ino)
			return t->slots[j].entry;
	t->slots[j].dev = dev;
	t->slots[j].ino = ino;
	t->slots[j].entry = entry + 1;
	t->used++;
	return 0;
}

void inotab_free(struct inotab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}
