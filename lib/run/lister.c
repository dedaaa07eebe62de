/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/lister: the local pool's workers as readers of directories, so that the parent is not
 * the one process that lists every directory of the tree. It gives the walk the same two
 * hooks pcopy-mpi's ranks give it (struct run_remote's list and listed): a directory asked
 * for becomes a TASK_LIST in the pool's task queue, the worker that takes it packs the listing
 * (listdir_pack) into a shared slot of its own, and its completion says how long it is. The
 * walk plans listings as they come back, in any order (walk.c, walk_remote).
 *
 * The slots are one shared mapping made before the pool forks, LISTER_SLOT bytes each
 * (reserved, touched only as far as a listing goes). A slot is written only by the worker
 * holding the task whose sequence number the slot expects, and read by the parent only after
 * that task's completion: a task given again after its worker died gets a new sequence
 * number, and a late completion of the old one is ignored. Parent side only, but for the
 * workers' writes into the slots.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/shm.h"
#include "fs/listdir.h"
#include "run/internal.h"

/* Bytes reserved per slot: a listing of about 300 000 entries. A bigger one is read by the
 * parent (E2BIG). */
#define LISTER_SLOT (UINT64_C(64) << 20)
/* Listings asked ahead per worker. */
#define LISTER_PER_WORKER 8
#define LISTER_MAX_SLOTS 32

enum slot_state {
	SLOT_FREE,
	SLOT_ASKED,   /* its TASK_LIST is in the pool */
	SLOT_ARRIVED, /* its completion came in (or it was given up) */
	SLOT_SHOWN,   /* the walk is planning from it: freed by the next listed() */
};

struct lister_slot {
	uint64_t seq;   /* sequence number of the task it waits for (its id's entry bits) */
	uint64_t token; /* as given to list() */
	uint64_t dir;   /* arena offset of the directory's path */
	uint32_t root;
	uint8_t state; /* enum slot_state */
	uint8_t tries; /* times a worker died holding its task */
	int err;       /* ARRIVED: 0 (packed, LEN bytes), E2BIG (too big for the slot: the parent
	                  reads it) or RUN_LIST_LOST (workers died listing it) */
	size_t len;
};

struct lister {
	struct run_remote hooks; /* list and listed (walk_remote) */
	struct run *r;
	unsigned char *mem; /* the shared slots, NSLOTS * SLOT bytes */
	size_t slot, nslots;
	struct lister_slot *slots;
	uint64_t seq; /* the last sequence number given */
	struct listdir_view view;
};

/* Queue the TASK_LIST of slot S under a new sequence number. Returns 0, or -1 with errno. */
static int lister_submit(struct lister *l, struct lister_slot *s, int timeout_ms)
{
	struct copy_task t;
	memset(&t, 0, sizeof(t));
	uint64_t seq = l->seq + 1;
	t.id = COPY_ID(seq, COPY_ID_LIST);
	t.src = s->dir;
	t.root = s->root;
	t.flags = TASK_LIST | (s->token & SCAN_FLAG ? TASK_LIST_DST : 0);
	t.part_off = (uint64_t)(s - l->slots);
	/* Ahead of the copies queued: the walk, and so the copies to come, wait for it. */
	if (pool_submit_first(&l->r->pool, &t, timeout_ms) != 0)
		return -1;
	l->seq = seq;
	s->seq = seq;
	s->state = SLOT_ASKED;
	return 0;
}

static int lister_list(void *ctx, uint32_t root, uint64_t token, const char *dir)
{
	struct lister *l = ctx;
	(void)dir;
	for (size_t i = 0; i < l->nslots; i++) {
		struct lister_slot *s = &l->slots[i];
		if (s->state != SLOT_FREE)
			continue;
		*s = (struct lister_slot){0, token, token & ~SCAN_FLAG, root, SLOT_FREE, 0, 0, 0};
		if (lister_submit(l, s, 0) == 0)
			return 1;
		return errno == ETIMEDOUT || errno == EINTR ? 0 : -1;
	}
	return 0;
}

/* The slot waiting for sequence number SEQ, or NULL. */
static struct lister_slot *slot_of(struct lister *l, uint64_t seq)
{
	for (size_t i = 0; i < l->nslots; i++)
		if (l->slots[i].state == SLOT_ASKED && l->slots[i].seq == seq)
			return &l->slots[i];
	return NULL;
}

static int lister_listed(void *ctx, struct scan *sc, struct tree_list *dst)
{
	struct lister *l = ctx;
	struct lister_slot *s = NULL;
	for (size_t i = 0; i < l->nslots; i++) {
		if (l->slots[i].state == SLOT_SHOWN)
			l->slots[i].state = SLOT_FREE; /* the walk is done with it */
		else if (l->slots[i].state == SLOT_ARRIVED && s == NULL)
			s = &l->slots[i];
	}
	if (s == NULL)
		return 0;
	s->state = SLOT_SHOWN;
	if (s->err == E2BIG) {
		/* Too big for a slot: read here, as the serial walk would. */
		scan_read_dir(sc, s->token);
		if (sc->batch.dst_listed)
			*dst = sc->batch.dst;
		return 1;
	}
	if (s->err != 0)
		return scan_set(sc, s->token, NULL, 0, s->err) != 0 ? -1 : 1;
	if (listdir_unpack(&l->view, l->mem + (size_t)(s - l->slots) * l->slot, s->len) != 0)
		return -1;
	if (l->view.dst_listed)
		*dst = (struct tree_list){l->view.dst, l->view.ndst, NULL};
	return scan_set(sc, s->token, l->view.items, l->view.nitems, l->view.err) != 0 ? -1 : 1;
}

/* 1 when the walk of R can plan listings in any order, read by the pool's workers: what it
 * cannot honour keeps the parent's serial walk, listed in walk order (scan_next). */
static int lister_fits(const struct run *r)
{
	/* One worker: events keep the walk's order, as with rsync. */
	return r->opts.jobs >= 2 &&
	       /* dir-merge rules are stacked as the walk enters each directory, in walk order */
	       !select_has_dir_merge(r->opts.select) &&
	       /* which entries --max-delete leaves is rsync's walk order */
	       !r->opts.max_delete_set &&
	       /* --check names the first name of a hard-link group in walk order */
	       !r->opts.copy.check &&
	       /* -i's directory lines come in walk order */
	       !r->hooks.itemize &&
	       /* --files-from: a name left out makes no parents, decided in walk order */
	       !r->from_sent.active;
}

int run_lister_start(struct run *r)
{
	if (!lister_fits(r))
		return 0;
	struct lister *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -1;
	l->r = r;
	l->slot = r->opts.test_list_slot >= 64 ? (size_t)r->opts.test_list_slot : LISTER_SLOT;
	l->nslots = (size_t)r->opts.jobs * LISTER_PER_WORKER;
	if (l->nslots > LISTER_MAX_SLOTS)
		l->nslots = LISTER_MAX_SLOTS;
	l->slots = calloc(l->nslots, sizeof(*l->slots));
	l->mem = l->slots != NULL ? shm_map(l->nslots * l->slot) : NULL;
	if (l->mem == NULL) {
		free(l->slots);
		free(l);
		return -1;
	}
	l->hooks = (struct run_remote){.ctx = l, .list = lister_list, .listed = lister_listed};
	r->lister = l;
	r->lists = &l->hooks;
	r->worker.lists = l->mem;
	r->worker.list_slot = l->slot;
	return 0;
}

int run_lister_done(struct run *r, const struct copy_done *d)
{
	if (COPY_ID_KIND(d->id) != COPY_ID_LIST)
		return 0;
	struct lister *l = r->lister;
	struct lister_slot *s = l != NULL ? slot_of(l, COPY_ID_ENTRY(d->id)) : NULL;
	if (s == NULL)
		return 1; /* given again after its worker died: the new task's answer counts */
	s->state = SLOT_ARRIVED;
	s->err = d->status == COPY_COPIED ? 0 : d->err != 0 ? d->err : EIO;
	s->len = (size_t)d->bytes;
	if (s->err == 0 && s->len > l->slot)
		s->err = E2BIG;
	return 1;
}

int run_lister_lost(struct run *r, uint64_t claim)
{
	if (COPY_ID_KIND(claim) != COPY_ID_LIST)
		return 0;
	struct lister *l = r->lister;
	struct lister_slot *s = l != NULL ? slot_of(l, COPY_ID_ENTRY(claim)) : NULL;
	if (s == NULL)
		return 1; /* its completion came in before the worker died */
	if (++s->tries < RUN_MAX_TRIES && !*r->interrupted && lister_submit(l, s, 1000) == 0)
		return 1;
	s->state = SLOT_ARRIVED;
	s->err = RUN_LIST_LOST;
	return 1;
}

void run_lister_free(struct run *r)
{
	struct lister *l = r->lister;
	if (l == NULL)
		return;
	shm_unmap(l->mem, l->nslots * l->slot);
	listdir_view_free(&l->view);
	free(l->slots);
	free(l);
	r->lister = NULL;
	r->lists = NULL;
}
