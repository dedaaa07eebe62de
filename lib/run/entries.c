/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/entries: the entry tables of a run (non-directory entries, directories, hard links,
 * files set aside by a remote walk) and the events that name their paths.
 */
#include "config.h"

#include <assert.h>
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
#include "select/select.h"
#include "fs/at.h"
#include "fs/inotab.h"
#include "fs/meta.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/internal.h"

/* ---- events ---------------------------------------------------------------------------- */

/* Build "SRC_DISPLAY/REL" (or just SRC_DISPLAY for the root) for messages. */
static char *src_path(const struct run *r, uint32_t root, const char *rel)
{
	const struct run_root *rt = &r->roots[root];
	if (!rt->is_dir || strcmp(rel, ".") == 0)
		return strdup(rt->src_display);
	return path_join(rt->src_display, rel);
}

/* Build "DST_DISPLAY/REL" (or just DST_DISPLAY for the root or a file root) for messages. */
static char *dst_path(const struct run *r, uint32_t root, const char *rel)
{
	const struct run_root *rt = &r->roots[root];
	if (!rt->is_dir || strcmp(rel, ".") == 0)
		return strdup(rt->dst_display);
	return path_join(rt->dst_display, rel);
}

/* Path relative to the copy root: prefix + REL (the destination name for file roots). */
char *run_rel_path(const struct run *r, uint32_t root, const char *rel)
{
	const struct run_root *rt = &r->roots[root];
	if (!rt->is_dir)
		return strdup(rt->dst_name);
	if (strcmp(rel, ".") == 0)
		return strdup(rt->prefix[0] ? rt->prefix : ".");
	size_t a = strlen(rt->prefix), b = strlen(rel);
	char *s = malloc(a + b + 1);
	if (s != NULL) {
		memcpy(s, rt->prefix, a);
		memcpy(s + a, rel, b + 1);
	}
	return s;
}

/* Report an event about REL of ROOT; ON_DEST: a failure on the destination's side, whose
 * message names the destination path (as cp's "cannot create regular file 'DEST/x'"), an
 * entry of st_mode MODE (0: unknown; may carry RUN_MODE_LINK); IT: what -i says of it, or
 * NULL. */
static void emit(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                 unsigned mode, uint64_t bytes, const struct hash128 *hash, const char *reason,
                 int err, int on_dest, const struct run_item *it)
{
	if (r->hooks.event == NULL)
		return;
	if (!r->hooks.all_events && (type == RUN_EV_COPIED || type == RUN_EV_SKIPPED ||
	                             type == RUN_EV_UPDATED || type == RUN_EV_DELETED))
		return;
	char *path = run_rel_path(r, root, rel), *src = src_path(r, root, rel),
	     *dst = dst_path(r, root, rel);
	const char *s = src ? src : rel, *d = dst ? dst : rel;
	struct run_event ev = {
	    type, path ? path : rel, s, d, on_dest ? d : s, bytes, hash, reason, err, 0, 0, NULL};
	ev.mode = mode & ~RUN_MODE_LINK;
	ev.hardlink = (mode & RUN_MODE_LINK) != 0;
	if (it != NULL) {
		ev.items = it->items;
		if (it->mode != 0)
			ev.mode = it->mode;
		ev.link = it->link;
	}
	r->hooks.event(r->hooks.ctx, &ev);
	free(path);
	free(src);
	free(dst);
}

void run_emit_at(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                 unsigned mode, uint64_t bytes, const struct hash128 *hash, const char *reason,
                 int err, int on_dest)
{
	emit(r, type, root, rel, mode, bytes, hash, reason, err, on_dest, NULL);
}

void run_emit_item(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                   uint64_t bytes, const struct hash128 *hash, const struct run_item *it)
{
	unsigned mode = it->mode | (it->items & RUN_ITEM_HARDLINK ? RUN_MODE_LINK : 0);
	emit(r, type, root, rel, mode, bytes, hash, NULL, 0, 0, r->hooks.itemize ? it : NULL);
}

/* An event whose message names the source path. */
void run_emit(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
              unsigned mode, uint64_t bytes, const struct hash128 *hash, const char *reason,
              int err)
{
	run_emit_at(r, type, root, rel, mode, bytes, hash, reason, err, 0);
}

/* A failure on the destination's side: its message names the destination path. */
void run_emit_dst(struct run *r, uint32_t root, const char *rel, unsigned mode, const char *reason,
                  int err)
{
	run_emit_at(r, RUN_EV_FAILED, root, rel, mode, 0, NULL, reason, err, 1);
}

/* ---- entry states ---------------------------------------------------------------------- */

int entry_state_legal(enum entry_state from, enum entry_state to)
{
	switch (to) {
	case ENTRY_PLANNED: return 0; /* only where an entry starts */
	case ENTRY_QUEUED:
		return from == ENTRY_PLANNED || from == ENTRY_QUEUED || from == ENTRY_SPLIT ||
		       from == ENTRY_SEALING;
	case ENTRY_SPLIT: return from == ENTRY_QUEUED;
	case ENTRY_SEALING: return from == ENTRY_SPLIT;
	case ENTRY_DONE:
		return from == ENTRY_QUEUED || from == ENTRY_SPLIT || from == ENTRY_SEALING;
	}
	return 0;
}

void entry_set_state(struct entry *e, enum entry_state to)
{
	assert(entry_state_legal((enum entry_state)e->state, to));
	e->state = (uint8_t)to;
}

int entry_is_split(const struct entry *e)
{
	return e->state == ENTRY_SPLIT || e->state == ENTRY_SEALING;
}

/* ---- the walk (parent) ------------------------------------------------------------------- */

/* --exclude, --filter: REL of ROOT, matched from the transfer root as rsync does. */
int run_excluded(const struct run *r, uint32_t root, const char *rel, int is_dir)
{
	return run_is_marker(r, root, rel) ||
	       select_excluded(r->opts.select, r->roots[root].prefix, rel, is_dir);
}

/*
 * A remote walk plans directories in the order their listings come back, but which name of a
 * set of hard links is copied (the others being linked to it) follows the walk order. So a
 * file with other names waits until the walk is over and is then planned in the local walk's
 * order (run_defer_flush): the same first names as pcopy, the same events. Returns 0 or -1.
 */
static int defer_link(struct run *r, uint32_t root, uint64_t src, uint64_t dst,
                      const struct stat *st, int fresh)
{
	if (array_grow(&r->deferred, &r->deferred_cap, r->ndeferred + 1, sizeof(*r->deferred)) != 0)
		return -1;
	r->deferred[r->ndeferred++] =
	    (struct deferred){names_get(&r->names, src), src, dst, root, fresh, *st};
	return 0;
}

static int deferred_cmp(const void *pa, const void *pb)
{
	const struct deferred *a = pa, *b = pb;
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	return path_walk_cmp(a->key, b->key);
}

/* The walk is over: plan the files set aside by defer_link(), in the walk's order. */
int run_defer_flush(struct run *r)
{
	if (r->ndeferred > 1)
		qsort(r->deferred, r->ndeferred, sizeof(*r->deferred), deferred_cmp);
	for (size_t i = 0; i < r->ndeferred; i++) {
		struct deferred *d = &r->deferred[i];
		if (run_add_entry(r, d->root, d->src, d->dst, &d->st, d->fresh) != 0)
			return -1;
	}
	r->ndeferred = 0;
	return 0;
}

void run_add_current(struct run *r, uint32_t root, uint64_t src, const struct stat *st)
{
	uint64_t size = (uint64_t)st->st_size;
	r->stats.files++;
	r->stats.done++;
	r->stats.skipped++;
	r->stats.bytes_total += size;
	r->stats.bytes_done += size;
	struct run_item it = {0, S_IFREG, NULL};
	run_emit_item(r, RUN_EV_SKIPPED, root, names_get(&r->names, src), size, NULL, &it);
}

/* Record a non-directory entry (or a hard link to an earlier one). */
int run_add_entry(struct run *r, uint32_t root, uint64_t src, uint64_t dst, const struct stat *st,
                  int fresh)
{
	if (run_walk_deferring(r) && st->st_nlink > 1 && !S_ISDIR(st->st_mode) &&
	    !S_ISSOCK(st->st_mode) && !r->opts.copy.check)
		return defer_link(r, root, src, dst, st, fresh);
	r->stats.files++;
	if (S_ISSOCK(st->st_mode)) {
		r->stats.done++;
		r->stats.warnings++;
		run_emit(r, RUN_EV_WARNING, root, names_get(&r->names, src), S_IFSOCK, 0, NULL,
		         "socket skipped", 0);
		return 0;
	}
	if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) && !r->opts.copy.check) {
		size_t first = inotab_find_or_add(r->inodes, st->st_dev, st->st_ino, r->nentries);
		if (first != 0) {
			if (array_grow(&r->links, &r->links_cap, r->nlinks + 1,
			               sizeof(*r->links)) != 0)
				return -1;
			r->links[r->nlinks].path = dst;
			r->links[r->nlinks].root = root;
			r->links[r->nlinks].target = first - 1;
			r->nlinks++;
			return 0;
		}
	}
	if (array_grow(&r->entries, &r->entries_cap, r->nentries + 1, sizeof(*r->entries)) != 0)
		return -1;
	struct entry *e = &r->entries[r->nentries];
	memset(e, 0, sizeof(*e)); /* ENTRY_PLANNED */
	struct copy_task *t = &e->task;
	t->id = r->nentries + 1;
	t->src = src;
	t->dst = dst;
	t->root = root;
	t->flags = fresh ? TASK_FRESH : 0;
	copy_task_set_stat(t, st);
	int workers = r->opts.jobs + (r->remote != NULL ? r->remote->workers : 0);
	if (S_ISREG(st->st_mode) && t->size >= r->split_min && workers > 1 &&
	    !r->opts.copy.dry_run && !r->opts.copy.check)
		t->flags |= TASK_SPLIT;
	r->nentries++;
	r->stats.bytes_total += t->size;
	return 0;
}

/* Names of the enum copy_diff bits, in bit order, as --check prints them. */
static const char *const diff_names[] = {"missing", "type",   "content", "mode", "owner",   "times",
                                         "link",    "device", "xattr",   "acl",  "hardlink"};

/* One RUN_EV_DIFFERENT event per difference in DIFF. */
void run_emit_diffs(struct run *r, uint32_t root, const char *rel, unsigned mode, uint64_t bytes,
                    uint32_t diff)
{
	r->stats.different++;
	for (unsigned i = 0; i < sizeof(diff_names) / sizeof(diff_names[0]); i++)
		if (diff & (1u << i))
			run_emit(r, RUN_EV_DIFFERENT, root, rel, mode, bytes, NULL, diff_names[i],
			         0);
}

/* --check: compare directory REL with its destination twin. Returns 1 to descend. */
static int check_dir(struct run *r, uint32_t root, const char *rel, const struct stat *st,
                     int *existed)
{
	struct stat dst;
	uint32_t diff;
	const char *leaf;
	struct meta_ctx m;
	meta_ctx_init(&m, r->opts.copy.keep_owner);
	m.policy = &r->opts.copy.policy;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	if (fd < 0 || fstatat(fd, leaf, &dst, AT_SYMLINK_NOFOLLOW) != 0)
		diff = DIFF_MISSING;
	else
		diff = copy_compare_want(&m, st, &dst, r->opts.copy.keep_owner);
	*existed = !(diff & (DIFF_MISSING | DIFF_TYPE));
	int s = *existed ? at_open_dir(r->croots[root].src_fd, rel, strlen(rel)) : -1;
	if (s >= 0) {
		struct meta_node sn = {s, -1, NULL}, dn = {-1, fd, leaf};
		diff |= copy_compare_xattrs(&m, &sn, &dn);
		close(s);
	}
	if (diff != 0)
		run_emit_diffs(r, root, rel, S_IFDIR, 0, diff);
	return *existed;
}

/* --no-perms, --no-owner, --no-group: an existing directory keeps its own. */
static int dir_wants_old(const struct run *r)
{
	return (r->opts.copy.policy.drop & (META_KEEP_PERMS | META_KEEP_OWNER | META_KEEP_GROUP)) !=
	       0;
}

int run_dir_policy(const struct copy_opts *o, int fd, const char *leaf)
{
	struct stat st;
	if (!o->existing && !o->ignore_existing)
		return 0;
	if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT && o->existing ? RUN_DIR_LEFT : 0;
	return o->ignore_existing && !S_ISDIR(st.st_mode) ? RUN_DIR_LEFT : 0;
}

/* -i: the RUN_EV_DIR event of directory D (REL) of ROOT: made (OLD NULL), or as OLD was
 * before the run (nothing when its metadata is the source's already). */
static void dir_item(struct run *r, uint32_t root, const char *rel, const struct dirrec *d,
                     const struct stat *old)
{
	struct run_item it = {ITEM_NEW, S_IFDIR, NULL};
	if (strcmp(rel, ".") == 0) {
		if (r->roots[root].created)
			old = NULL; /* run_plan made it */
		if (old == NULL && r->roots[root].prefix[0] == '\0')
			it.items |= RUN_ITEM_ROOT_MADE; /* DEST itself (or would be, -n) */
		if (r->from_sent.active && !r->from_root) {
			/* --files-from without ".": DEST is not sent, rsync only says it made it */
			it.items &= RUN_ITEM_ROOT_MADE;
			old = NULL;
		}
	}
	if (old != NULL) {
		struct meta_ctx m;
		meta_ctx_init(&m, r->opts.copy.keep_owner);
		m.policy = &r->opts.copy.policy;
		struct stat want = d->st;
		meta_want(&m, &want, old);
		const char *leaf;
		int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
		int s = at_open_dir(r->croots[root].src_fd, rel, strlen(rel));
		struct meta_node nodes[2] = {{s, -1, NULL}, {-1, fd, leaf}};
		it.items = copy_items(&m, &want, old, r->opts.copy.keep_owner,
		                      s >= 0 && fd >= 0 ? nodes : NULL);
		if (s >= 0)
			close(s);
	}
	if (it.items != 0)
		run_emit_item(r, RUN_EV_DIR, root, rel, 0, NULL, &it);
}

/* Record a directory and create it in the destination, unless a remote rank did (MADE: see
 * struct scan_item). Returns 1 to descend, 0 not to. */
int run_add_dir(struct run *r, uint32_t root, uint64_t path, const struct stat *st, int made,
                int *existed)
{
	if (array_grow(&r->dirs, &r->dirs_cap, r->ndirs + 1, sizeof(*r->dirs)) != 0)
		return 0;
	struct dirrec *d = &r->dirs[r->ndirs++];
	d->path = path;
	d->root = root;
	d->st = *st;
	d->failed = 0;
	d->bare = 0;
	d->own_mode = 0;
	r->stats.dirs++;
	const char *rel = names_get(&r->names, path);
	if (r->opts.copy.check)
		return check_dir(r, root, rel, st, existed);
	const char *leaf;
	int err;
	struct stat old, seen; /* SEEN: -i's view of the destination before the run */
	int have_old = 0, have_seen = 0;
	if (made >= 0) {
		err = made >> 1;
		*existed = made & 1;
		if (*existed && dir_wants_old(r)) {
			int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
			have_old = fd >= 0 && fstatat(fd, leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
		}
	} else {
		int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
		err = fd < 0 ? errno : run_dir_policy(&r->opts.copy, fd, leaf);
		/* What --no-perms ... keep of it, before tree_make_dir opens it up */
		if (err == 0 && dir_wants_old(r))
			have_old = fstatat(fd, leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
		if (err == 0 && r->hooks.itemize)
			have_seen = fstatat(fd, leaf, &seen, AT_SYMLINK_NOFOLLOW) == 0 &&
			            S_ISDIR(seen.st_mode);
		if (err == 0)
			err = tree_make_dir(fd, leaf, r->opts.copy.dry_run, existed);
		/* A dry run makes no directories: below a missing one, everything is new. */
		if (fd < 0 && r->opts.copy.dry_run &&
		    (r->croots[root].dst_fd < 0 || err == ENOENT || err == EBADF)) {
			err = 0;
			*existed = 0;
		}
	}
	if (err == RUN_DIR_LEFT) {
		/* --existing, --ignore-existing: not made, not entered, not counted */
		r->ndirs--;
		r->stats.dirs--;
		return 0;
	}
	if (err != 0) {
		d->failed = 1;
		r->stats.failed++;
		run_emit_dst(r, root, rel, S_IFDIR, "cannot create directory", err);
		return 0;
	}
	const struct meta_policy *p = &r->opts.copy.policy;
	if (p->drop != 0 || p->chown != 0 || p->nchmod != 0) {
		struct meta_ctx m;
		meta_ctx_init(&m, r->opts.copy.keep_owner);
		m.policy = p;
		/* a root run_plan made is as new as the rest */
		if (r->roots[root].created && strcmp(rel, ".") == 0)
			have_old = 0;
		meta_want(&m, &d->st, have_old && S_ISDIR(old.st_mode) ? &old : NULL);
	}
	if (r->hooks.itemize)
		dir_item(r, root, rel, d, *existed && have_seen ? &seen : NULL);
	return 1;
}
