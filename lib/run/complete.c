/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/complete: completions into counts and events: retries, workers that died, directories
 * in the way, --check's hard-link differences.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
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

/* ---- completions ---------------------------------------------------------------------- */

static const char *status_reason(const struct copy_done *d, const struct copy_task *t)
{
	if (d->status == COPY_CHANGED)
		return "the file changed while it was being copied; not recorded as copied";
	if (d->status == COPY_UNSUPPORTED)
		return S_ISSOCK(t->mode) ? "socket skipped"
		                         : "device node skipped (only root can create one)";
	return copy_stage_text((enum copy_stage)d->stage);
}

/* 1 when a failure at STAGE happened in the destination (its message names that path). */
static int stage_on_dest(int stage)
{
	switch ((enum copy_stage)stage) {
	case STAGE_CREATE:
	case STAGE_WRITE:
	case STAGE_VERIFY_READ:
	case STAGE_VERIFY:
	case STAGE_METADATA:
	case STAGE_SYNC:
	case STAGE_RENAME:
	case STAGE_DEST_DIR:
	case STAGE_LINK:
	case STAGE_BACKUP: return 1;
	case STAGE_NONE:
	case STAGE_OPEN_SOURCE:
	case STAGE_READ_SOURCE:
	case STAGE_READ_LINK: break;
	}
	return 0;
}

/* What a completion D of entry E notes besides its outcome (COPY_NOTE_*). */
static void take_notes(struct run *r, struct entry *e, const struct copy_done *d)
{
	if ((d->notes & COPY_NOTE_NO_DIRECT) && !r->noted_direct) {
		r->noted_direct = 1;
		r->stats.warnings++;
		run_emit(
		    r, RUN_EV_WARNING, e->task.root, names_get(&r->names, e->task.src),
		    e->task.mode, 0, NULL,
		    "--fsync: the destination file system refuses O_DIRECT, so copies there are "
		    "re-read from the page cache after fsync, not from the storage",
		    0);
	}
	/* --previous-manifest: the stat data the hash was read under, and hashes not read. */
	if ((d->notes & COPY_NOTE_STAMP) && d->status == COPY_SKIPPED && d->hashed)
		run_previous_keep(r, (size_t)(e - r->entries), &d->stamp);
	if (d->notes & COPY_NOTE_REUSED)
		r->stats.reused++;
	if ((d->notes & COPY_NOTE_LINKS) &&
	    array_grow(&r->lnames, &r->lnames_cap, r->nlnames + 1, sizeof(*r->lnames)) == 0)
		r->lnames[r->nlnames++] = (struct copy_linkname){
		    (uint64_t)(e - r->entries), d->src_dev, d->src_ino, d->dst_dev, d->dst_ino, 0};
}

static int by_entry(const void *pa, const void *pb)
{
	const struct copy_linkname *a = pa, *b = pb;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* --check, once every entry is compared: a "hardlink" difference for each name linked to
 * others in one tree but not in the other (copy_link_diffs), in walk order. */
void run_check_links(struct run *r)
{
	if (r->nlnames == 0)
		return;
	copy_link_diffs(r->lnames, r->nlnames);
	qsort(r->lnames, r->nlnames, sizeof(*r->lnames), by_entry);
	for (size_t i = 0; i < r->nlnames; i++) {
		if (!r->lnames[i].differs)
			continue;
		struct entry *e = &r->entries[r->lnames[i].entry];
		if (e->status != COPY_DIFFERENT) /* counted once per entry */
			r->stats.different++;
		run_emit(r, RUN_EV_DIFFERENT, e->task.root, names_get(&r->names, e->task.src),
		         e->task.mode, e->task.size, NULL, "hardlink", 0);
	}
}

/* -i: the target of entry E when it is a symlink (into BUF of LEN), else NULL. */
static const char *link_target(const struct run *r, const struct entry *e, char *buf, size_t len)
{
	if (!S_ISLNK(e->task.mode))
		return NULL;
	ssize_t n = readlinkat(r->croots[e->task.root].src_fd, names_get(&r->names, e->task.src),
	                       buf, len - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Account for a finished task. */
void run_complete(struct run *r, const struct copy_done *d, const char *why)
{
	uint64_t idx = COPY_ID_ENTRY(d->id);
	uint32_t kind = COPY_ID_KIND(d->id);
	if (idx == 0 || idx > r->nentries || kind == COPY_ID_LIST)
		return; /* a listing's (lister.c) */
	struct entry *e = &r->entries[idx - 1];
	int part = kind > 0 && kind != COPY_ID_SEAL;
	if ((e->state == ENTRY_DONE || (kind == 0 && entry_is_split(e))) && !part)
		return; /* a task re-queued after a worker death finished twice */
	/* A worker stopped by a signal of its own (not our interrupt): give the task to another. */
	if (d->status == COPY_INTERRUPTED && !*r->interrupted && ++e->task.tries < RUN_MAX_TRIES) {
		struct copy_task t;
		run_task_for(r, d->id, &t);
		if (pool_submit(&r->pool, &t, 1000) == 0)
			return;
	}
	struct copy_done gave_up;
	if (d->status == COPY_INTERRUPTED && !*r->interrupted) {
		gave_up = (struct copy_done){.id = d->id, .status = COPY_FAILED};
		d = &gave_up;
		why = "workers were stopped by signals while copying it";
	}
	if (part) {
		if (!run_split_part_done(r, d) || e->state == ENTRY_DONE)
			return;
	} else {
		r->outstanding--;
	}
	if (d->status == COPY_INTERRUPTED)
		return;
	struct copy_done no_room;
	if (d->status == COPY_SPLIT) {
		entry_set_state(e, ENTRY_SPLIT);
		if (run_split_begin(r, e) == 0)
			return;
		no_room = (struct copy_done){
		    .id = d->id, .status = COPY_FAILED, .stage = STAGE_CREATE, .err = ENOMEM};
		d = &no_room;
	}
	int on_dest = d->status == COPY_FAILED && stage_on_dest(d->stage) && why == NULL;
	struct copy_done in_way;
	if (d->status == COPY_FAILED && d->stage == STAGE_DEST_DIR && !e->made_way) {
		e->made_way = 1;
		/* a directory holds the name (the source turned it into a file) */
		int err = run_make_way(r, e->task.root, names_get(&r->names, e->task.dst));
		if (err == 0) {
			/* Try again from the start; a split copy's parts had counted their bytes.
			 */
			if (entry_is_split(e))
				r->stats.bytes_done -= e->task.size < r->stats.bytes_done
				                           ? e->task.size
				                           : r->stats.bytes_done;
			entry_set_state(e, ENTRY_QUEUED);
			e->task.flags |= TASK_MADE_WAY; /* the name was not free: --existing */
			if (run_queue_first(r, e->task.id) == 0)
				return;
			err = ENOMEM;
		}
		in_way = (struct copy_done){
		    .id = d->id, .status = COPY_FAILED, .stage = STAGE_DEST_DIR, .err = err};
		if (err == ENOTEMPTY) {
			in_way.err = 0;
			why = r->opts.delete_extra
			          ? "cannot delete non-empty directory (it holds excluded entries, "
			            "backups, or more than --max-delete allows)"
			          : "a non-empty directory is in the way (--delete replaces it)";
		}
		d = &in_way;
	}
	entry_set_state(e, ENTRY_DONE);
	e->status = (uint8_t)d->status;
	if (d->notes != 0)
		take_notes(r, e, d);
	/* Only a file that is in place gets into the manifest. */
	if (d->hashed &&
	    (d->status == COPY_COPIED || d->status == COPY_SKIPPED || d->status == COPY_METADATA)) {
		e->hash = d->hash;
		e->hashed = 1;
	}
	r->stats.done++;
	/* The parts of a split copy counted their bytes as they came in. */
	uint64_t progress = kind > 0 ? 0 : e->task.size;
	const char *rel = names_get(&r->names, e->task.src);
	const struct hash128 *h = d->hashed ? &d->hash : NULL;
	char target[PATH_MAX + 1];
	struct run_item it = {0, e->task.mode & S_IFMT, NULL};
	if (r->hooks.itemize && d->status != COPY_DIFFERENT) {
		it.items = e->items = d->status == COPY_SKIPPED ? 0 : (uint16_t)d->diff;
		it.link = link_target(r, e, target, sizeof(target));
	}
	switch (d->status) {
	case COPY_COPIED:
		r->stats.copied++;
		r->stats.bytes_done += progress;
		r->stats.bytes_copied += d->bytes;
		run_emit_item(r, RUN_EV_COPIED, e->task.root, rel, d->bytes, h, &it);
		break;
	case COPY_SKIPPED:
	case COPY_METADATA:
		r->stats.skipped++;
		r->stats.bytes_done += progress;
		run_emit_item(r, d->status == COPY_SKIPPED ? RUN_EV_SKIPPED : RUN_EV_UPDATED,
		              e->task.root, rel, e->task.size, h, &it);
		break;
	case COPY_DIFFERENT:
		r->stats.bytes_done += progress;
		run_emit_diffs(r, e->task.root, rel, e->task.mode, d->bytes, d->diff);
		break;
	case COPY_UNSUPPORTED:
		r->stats.warnings++;
		run_emit(r, RUN_EV_WARNING, e->task.root, rel, e->task.mode, 0, NULL,
		         status_reason(d, &e->task), 0);
		break;
	default:
		r->stats.failed++;
		r->stats.bytes_done += progress;
		run_emit_at(r, RUN_EV_FAILED, e->task.root, rel, e->task.mode, 0, NULL,
		            why ? why : status_reason(d, &e->task),
		            d->status == COPY_CHANGED ? 0 : d->err, on_dest || d == &in_way);
		break;
	}
}

/* Remove the temporary files that worker PID left in the directory of task T. */
static void remove_worker_tmp(struct run *r, const struct copy_task *t, pid_t pid)
{
	const char *dst = names_get(&r->names, t->dst);
	const char *slash = strrchr(dst, '/');
	int dfd = at_open_dir(r->croots[t->root].dst_fd, dst, slash ? (size_t)(slash - dst) : 0);
	struct tree_list list;
	if (dfd >= 0 && tree_list_at(dfd, &list) == 0) {
		for (size_t i = 0; i < list.n; i++)
			if (tmpname_pid(list.names[i]) == (long)pid)
				unlinkat(dfd, list.names[i], 0);
		tree_list_free(&list);
	}
	if (dfd >= 0)
		close(dfd);
}

/* A worker died holding task CLAIM: clean up after it, then try again or give up. */
void run_lost_task(void *arg, uint64_t claim, pid_t pid, int wstatus)
{
	struct run *r = arg;
	if (run_lister_lost(r, claim))
		return;
	uint64_t idx = COPY_ID_ENTRY(claim);
	if (idx == 0 || idx > r->nentries)
		return;
	struct entry *e = &r->entries[idx - 1];
	if (!r->opts.copy.dry_run && !r->opts.copy.check)
		remove_worker_tmp(r, &e->task, pid);
	uint32_t kind = COPY_ID_KIND(claim);
	int part = kind > 0 && kind != COPY_ID_SEAL;
	if (part ? !run_part_awaited(r, claim)
	         : e->state == ENTRY_DONE || (kind == 0 && entry_is_split(e)))
		return; /* its completion arrived before the worker died */
	if (e->state != ENTRY_DONE && ++e->task.tries < RUN_MAX_TRIES && !*r->interrupted) {
		struct copy_task t;
		run_task_for(r, claim, &t);
		if (pool_submit(&r->pool, &t, 1000) == 0)
			return;
	}
	char why[128];
	snprintf(why, sizeof(why), "a worker died %u times copying this file (last: %s %d)",
	         e->task.tries, WIFSIGNALED(wstatus) ? "signal" : "exit status",
	         WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
	struct copy_done d = {.id = claim, .status = COPY_FAILED};
	e->task.tries = RUN_MAX_TRIES;
	run_complete(r, &d, why);
}
