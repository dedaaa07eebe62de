/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/walk: the parent's walk of the sources, one directory batch at a time, read here (in
 * walk order) or listed by others in any order (the remote's ranks, or the pool's workers:
 * lister.c), into the entry tables.
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
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/internal.h"

/* Handle the directory batch the walker just read for ROOT (DST: see run_prune_dest). */
static int walk_batch(struct run *r, uint32_t root, struct scan *s, int dir_existed,
                      const struct tree_list *dst)
{
	const char *dir = names_get(&r->names, s->dir);
	/* dir-merge: this directory's filter files, before its entries are matched. */
	if (select_enter_dir(r->opts.select, r->croots[root].src_fd, dir, r->roots[root].prefix))
		return run_fail(r, "%s", select_error(r->opts.select));
	if (dir_existed)
		run_prune_dest(r, root, s, dst);
	for (size_t i = 0; i < s->batch.nitems; i++) {
		const struct scan_item *it = &s->batch.items[i];
		uint64_t off = scan_join(&r->names, dir, it->name);
		if (off == UINT64_MAX)
			return run_fail(r, "out of memory for path names");
		const char *rel = names_get(&r->names, off);
		enum select_from_verdict from =
		    select_from_decide(&r->from_sent, rel, S_ISDIR(it->st.st_mode));
		if (from == SELECT_FROM_SKIP)
			continue;
		/* A parent of a name sent is made whatever the rules say, as rsync's implied
		 * directories. */
		if (from != SELECT_FROM_IMPLIED && select_any(r->opts.select) &&
		    (run_excluded(r, root, rel, S_ISDIR(it->st.st_mode)) ||
		     select_size_skipped(r->opts.select, it->st.st_mode, it->st.st_size)))
			continue;
		if (S_ISDIR(it->st.st_mode)) {
			int existed = 0;
			int other_fs = r->opts.one_fs && it->st.st_dev != r->roots[root].st.st_dev;
			if (run_add_dir(r, root, off, &it->st, it->made, &existed) && !other_fs &&
			    from != SELECT_FROM_TAKE) {
				/* Remember whether it existed: the walker visits it later. */
				if (scan_descend(s, off | (existed ? SCAN_FLAG : 0)) != 0)
					return run_fail(r, "out of memory");
			}
		} else if (it->made == LISTDIR_CURRENT) {
			run_add_current(r, root, off, &it->st);
		} else if (run_add_entry(r, root, off, off, &it->st,
		                         !dir_existed && !r->opts.copy.dry_run) != 0) {
			return run_fail(r, "out of memory for the file table");
		}
	}
	return 0;
}

/* A directory batch is in w->scan (read here or listed remotely, DST: see run_prune_dest):
 * account for it. */
static int walk_loaded(struct run *r, struct walk *w, int rc, const struct tree_list *dst)
{
	if (rc < 0) {
		int lost = w->scan.err == RUN_LIST_LOST;
		r->stats.failed++;
		run_emit(r, RUN_EV_FAILED, w->root, names_get(&r->names, w->scan.dir), S_IFDIR, 0,
		         NULL,
		         lost ? "cannot read directory: worker processes died listing it"
		              : "cannot read directory",
		         lost ? 0 : w->scan.err);
		return 1;
	}
	return walk_batch(r, w->root, &w->scan, w->scan.dir_flag, dst) != 0 ? -1 : 1;
}

/* The walk of a directory root whose directories others read (R->lists: the remote's ranks
 * or the pool's workers): ask for the listings of the directories known, plan from one that
 * came back. Returns 1 (progress), 0 (waiting) or -1. Listings are planned as they come, in
 * any order: see defer_link() in entries.c. */
static int walk_remote(struct run *r, struct walk *w)
{
	const struct run_remote *rm = r->lists;
	int moved = 0;
	uint64_t dir;
	while (scan_peek(&w->scan, &dir)) {
		int rc = rm->list(rm->ctx, w->root, dir, names_get(&r->names, dir & ~SCAN_FLAG));
		if (rc < 0)
			return run_fail(r, "cannot ask for a directory listing: %s",
			                strerror(errno));
		if (rc == 0)
			break;
		scan_drop(&w->scan);
		w->listing++;
		moved = 1;
	}
	struct tree_list dst = {NULL, 0, NULL};
	int rc = rm->listed(rm->ctx, &w->scan, &dst);
	if (rc < 0)
		return run_fail(r, "cannot take in a directory listing: %s", strerror(errno));
	if (rc > 0) {
		w->listing--;
		return walk_loaded(r, w, w->scan.err != 0 ? -1 : 1, dst.names ? &dst : NULL);
	}
	if (w->listing == 0 && !scan_peek(&w->scan, &dir)) {
		scan_end(&w->scan);
		w->active = 0;
		w->root++;
		return 1;
	}
	return moved;
}

int run_walk_deferring(const struct run *r)
{
	return r->phase == RUN_PHASE_WALK && r->lists != NULL;
}

/* Read the next directory (or the next file root) into the tables. Returns 1 when it moved,
 * 0 when it waits for the remote, -1 on a fatal error. */
int run_walk_step(struct run *r, struct walk *w)
{
	while (!w->active) {
		if (w->root >= r->nroots) {
			w->finished = 1;
			r->stats.scanning = 0;
			run_set_phase(r, RUN_PHASE_DRAIN);
			if (run_defer_flush(r) != 0)
				return run_fail(r, "out of memory for the file table");
			return 1;
		}
		struct run_root *rt = &r->roots[w->root];
		if (!rt->is_dir) {
			uint64_t s = names_add(&r->names, rt->src_name, strlen(rt->src_name));
			uint64_t d = names_add(&r->names, rt->dst_name, strlen(rt->dst_name));
			if (s == UINT64_MAX || d == UINT64_MAX ||
			    run_add_entry(r, w->root, s, d, &rt->st, 0) != 0)
				return run_fail(r, "out of memory");
			w->root++;
			return 1;
		}
		uint64_t top = names_add(&r->names, ".", 1);
		int existed = 0;
		if (top == UINT64_MAX)
			return run_fail(r, "out of memory");
		/* --files-from without ".": DEST keeps its own attributes (dirrec.bare). */
		struct stat own = rt->st; /* a dry run into a DEST that does not exist yet */
		int bare = r->from_sent.active && !r->from_root;
		if (bare && !rt->created && r->croots[w->root].dst_fd >= 0 &&
		    fstat(r->croots[w->root].dst_fd, &own) != 0)
			own = rt->st;
		if (!run_add_dir(r, w->root, top, &rt->st, -1, &existed)) {
			w->root++;
			continue;
		}
		if (bare) {
			r->dirs[r->ndirs - 1].bare = 1;
			r->dirs[r->ndirs - 1].own_mode = rt->created ? 0 : own.st_mode & 07777;
		}
		existed = existed && !rt->created;
		if (scan_start(&w->scan, r->croots[w->root].src_fd, r->croots[w->root].dst_fd,
		               &r->names, top | (existed ? SCAN_FLAG : 0)) != 0)
			return run_fail(r, "out of memory");
		if (r->opts.max_delete_set)
			scan_rsync_order(&w->scan); /* which entries the limit leaves: rsync's */
		w->active = 1;
		w->listing = 0;
	}
	if (r->lists != NULL)
		return walk_remote(r, w);
	int rc = scan_next(&w->scan);
	if (rc == 0) {
		scan_end(&w->scan);
		w->active = 0;
		w->root++;
		return 1;
	}
	/* listdir_read listed the destination side too (of a directory that existed there). */
	return walk_loaded(r, w, rc, w->scan.batch.dst_listed ? &w->scan.batch.dst : NULL);
}
