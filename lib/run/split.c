/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/split: big files copied in parts by several workers at once (TASK_SPLIT): the split
 * records, the tasks of their parts and seals, and their completions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/compat.h"
#include "common/path.h"
#include "common/tmpname.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/internal.h"

uint64_t run_part_len(uint64_t size, uint64_t part_min)
{
	uint64_t len = (size + RUN_MAX_PARTS - 1) / RUN_MAX_PARTS;
	return len < part_min ? part_min : (len + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
}

/* Parts go one worker's worth at a time, each from the split copy with the fewest parts being
 * copied (see run_next_task in dispatch.c). */
size_t run_split_pick(const struct split *splits, size_t n)
{
	size_t best = n;
	for (size_t i = 0; i < n; i++) {
		const struct split *sp = &splits[i];
		if (sp->handed < sp->nparts &&
		    (best == n || sp->inflight < splits[best].inflight)) {
			best = i;
			if (sp->inflight == 0)
				break;
		}
	}
	return best;
}

/* The split copy of entry index IDX, or NULL. */
struct split *run_split_find(const struct run *r, size_t idx)
{
	for (size_t i = 0; i < r->nsplits; i++)
		if (r->splits[i].entry == idx)
			return &r->splits[i];
	return NULL;
}

/* 1 when task ID is a part of a split copy whose completion is still awaited. */
int run_part_awaited(const struct run *r, uint64_t id)
{
	const struct split *s = run_split_find(r, (size_t)COPY_ID_ENTRY(id) - 1);
	return s != NULL && !(s->seen & (UINT64_C(1) << (COPY_ID_KIND(id) - 1)));
}

/* The task with id ID (a whole entry, one part of a split copy, or its seal) into *T. */
void run_task_for(const struct run *r, uint64_t id, struct copy_task *t)
{
	const struct entry *e = &r->entries[COPY_ID_ENTRY(id) - 1];
	uint32_t kind = COPY_ID_KIND(id);
	*t = e->task;
	t->id = id;
	if (kind == COPY_ID_SEAL) {
		t->flags |= TASK_SEAL;
	} else if (kind > 0) {
		const struct split *s = run_split_find(r, (size_t)COPY_ID_ENTRY(id) - 1);
		t->flags |= TASK_PART;
		t->part_off = (uint64_t)(kind - 1) * s->part_len;
		t->part_len =
		    t->size - t->part_off < s->part_len ? t->size - t->part_off : s->part_len;
	}
}

/* Queue task ID ahead of new entries. Returns 0, or -1 when out of memory. */
int run_queue_first(struct run *r, uint64_t id)
{
	if (r->pending_head == r->npending)
		r->pending_head = r->npending = 0;
	if (array_grow(&r->pending, &r->pending_cap, r->npending + 1, sizeof(*r->pending)) != 0)
		return -1;
	run_task_for(r, id, &r->pending[r->npending++]);
	return 0;
}

/* Remove the shared temporary file of entry E's split copy. */
void run_split_unlink(struct run *r, const struct entry *e)
{
	char name[TMPNAME_SIZE];
	const char *leaf;
	tmpname_split(name, sizeof(name), (long)getpid(), e->task.id);
	int fd = at_parent(&r->dst_dirs, r->croots[e->task.root].dst_fd,
	                   names_get(&r->names, e->task.dst), &leaf);
	if (fd >= 0)
		unlinkat(fd, name, 0);
}

/* A worker answered COPY_SPLIT for entry E: record the split copy whose parts are to be
 * handed out. Returns 0, or -1 when out of memory (the temporary file is removed; the entry
 * is to be failed). */
int run_split_begin(struct run *r, struct entry *e)
{
	uint64_t size = e->task.size;
	uint64_t len = run_part_len(size, r->part_min);
	uint64_t nparts = (size + len - 1) / len;
	/* The parts are handed out from the record as workers become free (run_next_task). */
	if (array_grow(&r->splits, &r->splits_cap, r->nsplits + 1, sizeof(*r->splits)) != 0) {
		run_split_unlink(r, e);
		e->task.flags &= ~TASK_SPLIT; /* copy it whole instead */
		entry_set_state(e, ENTRY_QUEUED);
		return run_queue_first(r, e->task.id);
	}
	struct split *s = &r->splits[r->nsplits++];
	memset(s, 0, sizeof(*s));
	s->entry = e->task.id - 1;
	s->part_len = len;
	s->nparts = (uint32_t)nparts;
	return 0;
}

/*
 * The completion D of a part of a split copy. Returns 1 when it ends the entry (D is then
 * its outcome), 0 when it was absorbed (or a duplicate).
 */
int run_split_part_done(struct run *r, const struct copy_done *d)
{
	if (!run_part_awaited(r, d->id))
		return 0; /* finished twice: a worker died after reporting it */
	size_t idx = (size_t)COPY_ID_ENTRY(d->id) - 1;
	uint32_t k = COPY_ID_KIND(d->id) - 1;
	struct split *s = run_split_find(r, idx);
	struct entry *e = &r->entries[idx];
	s->seen |= UINT64_C(1) << k;
	s->inflight--;
	r->parts_busy--;
	r->outstanding--;
	int ends = 0;
	if (d->status == COPY_PART) {
		s->bytes += d->bytes;
		r->stats.bytes_done += d->bytes;
	} else if (!s->dead && !*r->interrupted) {
		s->dead = 1;
		/* The parts not handed out yet are not worth doing any more. */
		for (uint32_t j = s->handed; j < s->nparts; j++)
			s->seen |= UINT64_C(1) << j;
		s->handed = s->nparts;
		run_split_unlink(r, e);
		r->stats.bytes_done += e->task.size - s->bytes;
		ends = 1;
	}
	int all = s->seen == (s->nparts == 64 ? ~UINT64_C(0) : (UINT64_C(1) << s->nparts) - 1);
	if (all && !s->dead) {
		if (run_queue_first(r, COPY_ID(e->task.id, COPY_ID_SEAL)) == 0) {
			entry_set_state(e, ENTRY_SEALING);
		} else {
			run_split_unlink(r, e);
			ends = 1;
		}
	}
	if (all)
		*s = r->splits[--r->nsplits];
	return ends;
}
