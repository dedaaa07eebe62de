/*
 * run: the parent's side of a pcopy run (see run.h). The parent walks the sources, creates
 * destination directories, queues one task per non-directory entry, and turns completions
 * into counts and events; workers (run_worker) carry out the tasks with copy_run().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "common/compat.h"
#include "fs/inotab.h"
#include "report/manifest.h"
#include "common/path.h"
#include "select/select.h"
#include "run/run.h"
#include "fs/tree.h"

/* Tasks queued ahead of the workers, and entries scanned ahead of the queue. */
#define RUN_QUEUE_CAP 1024
#define RUN_BACKLOG 8192
#define RUN_MAX_TRIES 3
/* Files this big are copied in parts by several workers at once (see copy.h, TASK_SPLIT). */
#define RUN_SPLIT_MIN (UINT64_C(256) << 20)
#define RUN_PART_MIN (UINT64_C(64) << 20)
#define RUN_MAX_PARTS 64

/* A non-directory entry. Parent only. */
struct entry {
	struct copy_task task; /* as queued; task.id = index + 1 */
	struct hash128 hash;   /* content hash, when HASHED */
	uint8_t done;          /* a completion was accepted (duplicates are ignored) */
	uint8_t split;         /* its COPY_SPLIT answer was accepted: its parts stand for it */
	uint8_t hashed;
	uint8_t status;   /* enum copy_status of the accepted completion */
	uint8_t made_way; /* a directory in the way of its destination name was removed once */
};

/* A directory whose metadata is set after its contents. */
struct dirrec {
	uint64_t path; /* arena offset, relative to the root's fds */
	uint32_t root;
	uint8_t failed; /* could not be created: leave it alone */
	struct stat st;
};

/* A hard link to make once its first name has been copied. */
struct linkrec {
	uint64_t path; /* arena offset of this name, relative to ROOT's destination */
	uint32_t root; /* root this name belongs to (may differ from the first name's) */
	size_t target; /* index of the entry holding the first name */
};

/* A file with other names, met in a walk whose listings are planned as they come back (a
 * remote walk): set aside until the walk is over, see defer_link(). Parent only. */
struct deferred {
	const char *key; /* its source path, in the arena: the walk order (path_walk_cmp) */
	uint64_t src, dst;
	uint32_t root;
	int fresh;
	struct stat st;
};

/* A file being copied in parts. Parent only. */
struct split {
	size_t entry;    /* index in entries */
	uint32_t nparts; /* parts of PART_LEN bytes (the last one shorter) */
	uint64_t part_len;
	uint64_t seen;     /* bit per part: its completion arrived */
	uint64_t bytes;    /* bytes of the parts copied so far (progress) */
	uint32_t handed;   /* parts 0 .. HANDED-1 were handed out (next_task) */
	uint32_t inflight; /* parts handed to the pool and not yet completed */
	int dead;          /* a part failed: the entry is failed, the temporary removed */
};

double run_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

int run_init(struct run *r, const struct run_opts *opts, const struct run_hooks *hooks,
             volatile sig_atomic_t *interrupted)
{
	memset(r, 0, sizeof(*r));
	r->opts = *opts;
	r->hooks = *hooks;
	r->interrupted = interrupted;
	at_cache_init(&r->dst_dirs);
	at_cache_init(&r->link_dirs);
	r->manifest_fd = r->manifest_dir = -1;
	r->inodes = calloc(1, sizeof(*r->inodes));
	if (r->inodes == NULL || names_init(&r->names, (size_t)1 << 36) != 0)
		return run_fail(r, "cannot reserve memory: %s", strerror(errno));
	r->split_min = RUN_SPLIT_MIN;
	r->part_min = RUN_PART_MIN;
	/* Test hook: split files from this size on, in parts of a quarter of it at least. */
	const char *split = getenv("PCOPY_TEST_SPLIT_MIN");
	if (split != NULL && strtoull(split, NULL, 10) >= 4) {
		r->split_min = strtoull(split, NULL, 10);
		r->part_min = r->split_min / 4;
	}
	return 0;
}

void run_free(struct run *r)
{
	at_cache_free(&r->dst_dirs);
	at_cache_free(&r->link_dirs);
	for (size_t i = 0; i < r->nroots; i++) {
		free(r->roots[i].src_display);
		free(r->roots[i].dst_display);
		free(r->roots[i].prefix);
		free(r->roots[i].src_name);
		free(r->roots[i].dst_name);
		free(r->roots[i].src_dir);
		free(r->roots[i].dst_dir);
		if (r->croots[i].src_fd >= 0)
			close(r->croots[i].src_fd);
		if (r->croots[i].dst_fd >= 0)
			close(r->croots[i].dst_fd);
	}
	free(r->roots);
	free(r->croots);
	/* An unnamed manifest never named (a failed or interrupted run) vanishes here. */
	if (r->manifest_fd >= 0)
		close(r->manifest_fd);
	if (r->manifest_dir >= 0)
		close(r->manifest_dir);
	free(r->manifest_name);
	free(r->entries);
	free(r->splits);
	free(r->pending);
	free(r->dirs);
	free(r->links);
	free(r->lnames);
	free(r->deferred);
	if (r->inodes != NULL)
		inotab_free(r->inodes);
	free(r->inodes);
	names_free(&r->names);
}

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
static char *rel_path(const struct run *r, uint32_t root, const char *rel)
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
 * message names the destination path (as cp's "cannot create regular file 'DEST/x'"). */
static void emit_at(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                    uint64_t bytes, const struct hash128 *hash, const char *reason, int err,
                    int on_dest)
{
	if (r->hooks.event == NULL)
		return;
	if (!r->hooks.all_events && (type == RUN_EV_COPIED || type == RUN_EV_SKIPPED ||
	                             type == RUN_EV_UPDATED || type == RUN_EV_DELETED))
		return;
	char *path = rel_path(r, root, rel), *src = src_path(r, root, rel),
	     *dst = dst_path(r, root, rel);
	const char *s = src ? src : rel, *d = dst ? dst : rel;
	struct run_event ev = {type, path ? path : rel, s, d, on_dest ? d : s, bytes, hash, reason,
	                       err};
	r->hooks.event(r->hooks.ctx, &ev);
	free(path);
	free(src);
	free(dst);
}

/* An event whose message names the source path. */
static void emit(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                 uint64_t bytes, const struct hash128 *hash, const char *reason, int err)
{
	emit_at(r, type, root, rel, bytes, hash, reason, err, 0);
}

/* A failure on the destination's side: its message names the destination path. */
static void emit_dst(struct run *r, uint32_t root, const char *rel, const char *reason, int err)
{
	emit_at(r, RUN_EV_FAILED, root, rel, 0, NULL, reason, err, 1);
}

/* ---- the walk (parent) ------------------------------------------------------------------- */

/* --exclude: REL of ROOT, matched from the transfer root as rsync does (path.h). */
static int excluded(const struct run *r, uint32_t root, const char *rel, int is_dir)
{
	return select_excluded(r->opts.excludes, r->opts.nexcludes, r->roots[root].prefix, rel,
	                     is_dir);
}

/* --delete inside an extra directory leaves excluded entries (and their parents) alone. */
struct keep_ctx {
	const struct run *r;
	uint32_t root;
};

static int keep_excluded(void *ctx, const char *path, int is_dir)
{
	const struct keep_ctx *k = ctx;
	return excluded(k->r, k->root, path, is_dir);
}

/*
 * A remote walk plans directories in the order their listings come back, but which name of a
 * set of hard links is copied (the others being linked to it) follows the walk order. So a
 * file with other names waits until the walk is over and is then planned in the local walk's
 * order (defer_flush): the same first names as pcopy, the same events. Returns 0 or -1.
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

static int add_entry(struct run *r, uint32_t root, uint64_t src, uint64_t dst,
                     const struct stat *st, int fresh);

/* The walk is over: plan the files set aside by defer_link(), in the walk's order. */
static int defer_flush(struct run *r)
{
	if (r->ndeferred > 1)
		qsort(r->deferred, r->ndeferred, sizeof(*r->deferred), deferred_cmp);
	r->deferring = 0;
	for (size_t i = 0; i < r->ndeferred; i++) {
		struct deferred *d = &r->deferred[i];
		if (add_entry(r, d->root, d->src, d->dst, &d->st, d->fresh) != 0)
			return -1;
	}
	r->ndeferred = 0;
	return 0;
}

/* Record a non-directory entry (or a hard link to an earlier one). */
static int add_entry(struct run *r, uint32_t root, uint64_t src, uint64_t dst,
                     const struct stat *st, int fresh)
{
	if (r->deferring && st->st_nlink > 1 && !S_ISDIR(st->st_mode) && !S_ISSOCK(st->st_mode) &&
	    !r->opts.copy.check)
		return defer_link(r, root, src, dst, st, fresh);
	r->stats.files++;
	if (S_ISSOCK(st->st_mode)) {
		r->stats.done++;
		r->stats.warnings++;
		emit(r, RUN_EV_WARNING, root, names_get(&r->names, src), 0, NULL, "socket skipped",
		     0);
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
	memset(e, 0, sizeof(*e));
	struct copy_task *t = &e->task;
	t->id = r->nentries + 1;
	t->src = src;
	t->dst = dst;
	t->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	t->atime_sec = st->st_atim.tv_sec;
	t->atime_nsec = (int32_t)st->st_atim.tv_nsec;
	t->mtime_sec = st->st_mtim.tv_sec;
	t->mtime_nsec = (int32_t)st->st_mtim.tv_nsec;
	t->rdev = st->st_rdev;
	t->mode = st->st_mode;
	t->uid = st->st_uid;
	t->gid = st->st_gid;
	t->root = root;
	t->flags = (fresh ? TASK_FRESH : 0) |
	           (S_ISREG(st->st_mode) && st->st_nlink == 1 ? TASK_ALONE : 0) |
	           (S_ISREG(st->st_mode) && st->st_size > 0 &&
	                    (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size
	                ? TASK_SPARSE
	                : 0);
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
static void emit_diffs(struct run *r, uint32_t root, const char *rel, uint64_t bytes, uint32_t diff)
{
	r->stats.different++;
	for (unsigned i = 0; i < sizeof(diff_names) / sizeof(diff_names[0]); i++)
		if (diff & (1u << i))
			emit(r, RUN_EV_DIFFERENT, root, rel, bytes, NULL, diff_names[i], 0);
}

/* --check: compare directory REL with its destination twin. Returns 1 to descend. */
static int check_dir(struct run *r, uint32_t root, const char *rel, const struct stat *st,
                     int *existed)
{
	struct stat dst;
	uint32_t diff;
	const char *leaf;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	if (fd < 0 || fstatat(fd, leaf, &dst, AT_SYMLINK_NOFOLLOW) != 0)
		diff = DIFF_MISSING;
	else
		diff = copy_compare_stat(st, &dst, r->opts.copy.keep_owner);
	*existed = !(diff & (DIFF_MISSING | DIFF_TYPE));
	int s = *existed ? at_open_dir(r->croots[root].src_fd, rel, strlen(rel)) : -1;
	if (s >= 0) {
		struct meta_ctx m;
		meta_ctx_init(&m, r->opts.copy.keep_owner);
		struct meta_node sn = {s, -1, NULL}, dn = {-1, fd, leaf};
		diff |= copy_compare_xattrs(&m, &sn, &dn);
		close(s);
	}
	if (diff != 0)
		emit_diffs(r, root, rel, 0, diff);
	return *existed;
}

/* Record a directory and create it in the destination, unless a remote rank did (MADE: see
 * struct scan_item). Returns 1 to descend, 0 not to. */
static int add_dir(struct run *r, uint32_t root, uint64_t path, const struct stat *st, int made,
                   int *existed)
{
	if (array_grow(&r->dirs, &r->dirs_cap, r->ndirs + 1, sizeof(*r->dirs)) != 0)
		return 0;
	struct dirrec *d = &r->dirs[r->ndirs++];
	d->path = path;
	d->root = root;
	d->st = *st;
	d->failed = 0;
	r->stats.dirs++;
	const char *rel = names_get(&r->names, path);
	if (r->opts.copy.check)
		return check_dir(r, root, rel, st, existed);
	const char *leaf;
	int err;
	if (made >= 0) {
		err = made >> 1;
		*existed = made & 1;
	} else {
		int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
		err = fd < 0 ? errno : tree_make_dir(fd, leaf, r->opts.copy.dry_run, existed);
		/* A dry run makes no directories: below a missing one, everything is new. */
		if (fd < 0 && r->opts.copy.dry_run &&
		    (r->croots[root].dst_fd < 0 || err == ENOENT || err == EBADF)) {
			err = 0;
			*existed = 0;
		}
	}
	if (err != 0) {
		d->failed = 1;
		r->stats.failed++;
		emit_dst(r, root, rel, "cannot create directory", err);
		return 0;
	}
	return 1;
}

/* The destination has NAME in directory DIR that the source has not: clean it up. */
static void extra_entry(struct run *r, uint32_t root, const char *dir, const char *name)
{
	uint64_t off = scan_join(&r->names, dir, name);
	if (off == UINT64_MAX)
		return;
	const char *rel = names_get(&r->names, off);
	const char *leaf;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	struct stat st; /* "dir/" patterns protect only directories */
	int kept = r->opts.nexcludes && (r->opts.copy.check || r->opts.delete_extra) &&
	           excluded(r, root, rel,
	                    fd >= 0 && fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	                        S_ISDIR(st.st_mode));
	if (r->opts.copy.check) {
		if (!kept) {
			r->stats.different++;
			emit(r, RUN_EV_DIFFERENT, root, rel, 0, NULL, "extra", 0);
		}
		return;
	}
	if (copy_is_tmp_name(name)) {
		if (!r->opts.copy.dry_run && fd >= 0)
			unlinkat(fd, leaf, 0); /* left by an interrupted run */
		return;
	}
	if (!r->opts.delete_extra || kept)
		return;
	r->stats.deleted++;
	emit(r, RUN_EV_DELETED, root, rel, 0, NULL, NULL, 0);
	if (!r->opts.copy.dry_run) {
		struct keep_ctx kc = {r, root};
		struct tree_keep keep = {keep_excluded, &kc};
		int err = fd < 0
		              ? errno
		              : tree_remove_keep(fd, leaf, rel, r->opts.nexcludes ? &keep : NULL);
		at_cache_drop(&r->dst_dirs); /* it may have been below what was removed */
		if (err != 0) {
			r->stats.failed++;
			emit_dst(r, root, rel, "cannot delete", err);
		}
	}
}

/* Compare the destination directory's listing (DST, made by a remote rank, or NULL: list it
 * here) with the source batch. */
static void prune_dest(struct run *r, uint32_t root, struct scan *s, const struct tree_list *dst)
{
	const char *dir = names_get(&r->names, s->dir);
	struct tree_list list;
	if (dst == NULL && tree_list(r->croots[root].dst_fd, dir, &list) != 0)
		return;
	const struct tree_list *l = dst != NULL ? dst : &list;
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names[i];
		size_t lo = 0, hi = s->nitems;
		int found = 0;
		while (lo < hi && !found) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(name, s->items[mid].name);
			if (c == 0)
				found = 1;
			else if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (!found)
			extra_entry(r, root, dir, name);
	}
	if (dst == NULL)
		tree_list_free(&list);
}

/* Handle the directory batch the walker just read for ROOT (DST: see prune_dest). */
static int walk_batch(struct run *r, uint32_t root, struct scan *s, int dir_existed,
                      const struct tree_list *dst)
{
	const char *dir = names_get(&r->names, s->dir);
	if (dir_existed)
		prune_dest(r, root, s, dst);
	for (size_t i = 0; i < s->nitems; i++) {
		const struct scan_item *it = &s->items[i];
		uint64_t off = scan_join(&r->names, dir, it->name);
		if (off == UINT64_MAX)
			return run_fail(r, "out of memory for path names");
		const char *rel = names_get(&r->names, off);
		if (r->opts.nexcludes && excluded(r, root, rel, S_ISDIR(it->st.st_mode)))
			continue;
		if (S_ISDIR(it->st.st_mode)) {
			int existed = 0;
			int other_fs = r->opts.one_fs && it->st.st_dev != r->roots[root].st.st_dev;
			if (add_dir(r, root, off, &it->st, it->made, &existed) && !other_fs) {
				/* Remember whether it existed: the walker visits it later. */
				if (scan_descend(s, off | (existed ? SCAN_FLAG : 0)) != 0)
					return run_fail(r, "out of memory");
			}
		} else if (add_entry(r, root, off, off, &it->st,
		                     !dir_existed && !r->opts.copy.dry_run) != 0) {
			return run_fail(r, "out of memory for the file table");
		}
	}
	return 0;
}

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
	case STAGE_LINK: return 1;
	case STAGE_NONE:
	case STAGE_OPEN_SOURCE:
	case STAGE_READ_SOURCE:
	case STAGE_READ_LINK: break;
	}
	return 0;
}

/* The split copy of entry index IDX, or NULL. */
static struct split *split_find(const struct run *r, size_t idx)
{
	for (size_t i = 0; i < r->nsplits; i++)
		if (r->splits[i].entry == idx)
			return &r->splits[i];
	return NULL;
}

/* 1 when task ID is a part of a split copy whose completion is still awaited. */
static int part_awaited(const struct run *r, uint64_t id)
{
	const struct split *s = split_find(r, (size_t)COPY_ID_ENTRY(id) - 1);
	return s != NULL && !(s->seen & (UINT64_C(1) << (COPY_ID_KIND(id) - 1)));
}

/* The task with id ID (a whole entry, one part of a split copy, or its seal) into *T. */
static void task_for(const struct run *r, uint64_t id, struct copy_task *t)
{
	const struct entry *e = &r->entries[COPY_ID_ENTRY(id) - 1];
	uint32_t kind = COPY_ID_KIND(id);
	*t = e->task;
	t->id = id;
	if (kind == COPY_ID_SEAL) {
		t->flags |= TASK_SEAL;
	} else if (kind > 0) {
		const struct split *s = split_find(r, (size_t)COPY_ID_ENTRY(id) - 1);
		t->flags |= TASK_PART;
		t->part_off = (uint64_t)(kind - 1) * s->part_len;
		t->part_len =
		    t->size - t->part_off < s->part_len ? t->size - t->part_off : s->part_len;
	}
}

/* Queue task ID ahead of new entries. Returns 0, or -1 when out of memory. */
static int queue_first(struct run *r, uint64_t id)
{
	if (r->pending_head == r->npending)
		r->pending_head = r->npending = 0;
	if (array_grow(&r->pending, &r->pending_cap, r->npending + 1, sizeof(*r->pending)) != 0)
		return -1;
	task_for(r, id, &r->pending[r->npending++]);
	return 0;
}

/* Remove the shared temporary file of entry E's split copy. */
static void split_unlink(struct run *r, const struct entry *e)
{
	char name[64];
	const char *leaf;
	copy_split_name(name, sizeof(name), (long)getpid(), e->task.id);
	int fd = at_parent(&r->dst_dirs, r->croots[e->task.root].dst_fd,
	                   names_get(&r->names, e->task.dst), &leaf);
	if (fd >= 0)
		unlinkat(fd, name, 0);
}

/* A worker answered COPY_SPLIT for entry E: record the split copy whose parts are to be
 * handed out. Returns 0, or -1 when out of memory (the temporary file is removed; the entry
 * is to be failed). */
static int split_begin(struct run *r, struct entry *e)
{
	uint64_t size = e->task.size;
	uint64_t len = (size + RUN_MAX_PARTS - 1) / RUN_MAX_PARTS;
	len =
	    len < r->part_min ? r->part_min : (len + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	uint64_t nparts = (size + len - 1) / len;
	/* The parts are handed out from the record as workers become free (next_task). */
	if (array_grow(&r->splits, &r->splits_cap, r->nsplits + 1, sizeof(*r->splits)) != 0) {
		split_unlink(r, e);
		e->task.flags &= ~TASK_SPLIT; /* copy it whole instead */
		e->split = 0;
		return queue_first(r, e->task.id);
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
static int split_part_done(struct run *r, const struct copy_done *d)
{
	if (!part_awaited(r, d->id))
		return 0; /* finished twice: a worker died after reporting it */
	size_t idx = (size_t)COPY_ID_ENTRY(d->id) - 1;
	uint32_t k = COPY_ID_KIND(d->id) - 1;
	struct split *s = split_find(r, idx);
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
		split_unlink(r, e);
		r->stats.bytes_done += e->task.size - s->bytes;
		ends = 1;
	}
	int all = s->seen == (s->nparts == 64 ? ~UINT64_C(0) : (UINT64_C(1) << s->nparts) - 1);
	if (all && !s->dead && queue_first(r, COPY_ID(e->task.id, COPY_ID_SEAL)) != 0) {
		split_unlink(r, e);
		ends = 1;
	}
	if (all)
		*s = r->splits[--r->nsplits];
	return ends;
}

/* What a completion D of entry E notes besides its outcome (COPY_NOTE_*). */
static void take_notes(struct run *r, struct entry *e, const struct copy_done *d)
{
	if ((d->notes & COPY_NOTE_NO_DIRECT) && !r->noted_direct) {
		r->noted_direct = 1;
		r->stats.warnings++;
		emit(r, RUN_EV_WARNING, e->task.root, names_get(&r->names, e->task.src), 0, NULL,
		     "--fsync: the destination file system refuses O_DIRECT, so copies there are "
		     "re-read from the page cache after fsync, not from the storage",
		     0);
	}
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
static void check_links(struct run *r)
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
		emit(r, RUN_EV_DIFFERENT, e->task.root, names_get(&r->names, e->task.src),
		     e->task.size, NULL, "hardlink", 0);
	}
}

/*
 * Entry E could not be put in place because a directory holds its destination name (the
 * source turned a directory into a file or symlink): remove that directory, the whole tree
 * with --delete (as rsync --delete does), else only when it is empty (as rsync does without
 * --delete, which keeps the data and reports it). Returns 0 when the name is free, else an
 * errno value (ENOTEMPTY: not empty, without --delete).
 */
static int make_way(struct run *r, const struct entry *e)
{
	const char *rel = names_get(&r->names, e->task.dst), *leaf;
	int fd = at_parent(&r->dst_dirs, r->croots[e->task.root].dst_fd, rel, &leaf);
	if (fd < 0)
		return errno;
	if (!r->opts.delete_extra) {
		if (unlinkat(fd, leaf, AT_REMOVEDIR) == 0)
			return 0;
		return errno == EEXIST ? ENOTEMPTY : errno;
	}
	int err = tree_remove(fd, leaf);
	at_cache_drop(&r->dst_dirs); /* it may have been below what was removed */
	if (err == 0) {
		r->stats.deleted++;
		emit(r, RUN_EV_DELETED, e->task.root, rel, 0, NULL, NULL, 0);
	}
	return err;
}

/* Account for a finished task. */
static void complete(struct run *r, const struct copy_done *d, const char *why)
{
	uint64_t idx = COPY_ID_ENTRY(d->id);
	uint32_t kind = COPY_ID_KIND(d->id);
	if (idx == 0 || idx > r->nentries)
		return;
	struct entry *e = &r->entries[idx - 1];
	int part = kind > 0 && kind != COPY_ID_SEAL;
	if ((e->done || (kind == 0 && e->split)) && !part)
		return; /* a task re-queued after a worker death finished twice */
	/* A worker stopped by a signal of its own (not our interrupt): give the task to another. */
	if (d->status == COPY_INTERRUPTED && !*r->interrupted && ++e->task.tries < RUN_MAX_TRIES) {
		struct copy_task t;
		task_for(r, d->id, &t);
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
		if (!split_part_done(r, d) || e->done)
			return;
	} else {
		r->outstanding--;
	}
	if (d->status == COPY_INTERRUPTED)
		return;
	struct copy_done no_room;
	if (d->status == COPY_SPLIT) {
		e->split = 1;
		if (split_begin(r, e) == 0)
			return;
		no_room = (struct copy_done){
		    .id = d->id, .status = COPY_FAILED, .stage = STAGE_CREATE, .err = ENOMEM};
		d = &no_room;
	}
	int on_dest = d->status == COPY_FAILED && stage_on_dest(d->stage) && why == NULL;
	struct copy_done in_way;
	if (d->status == COPY_FAILED && d->stage == STAGE_DEST_DIR && !e->made_way) {
		e->made_way = 1;
		int err = make_way(r, e);
		if (err == 0) {
			/* Try again from the start; a split copy's parts had counted their bytes.
			 */
			if (e->split)
				r->stats.bytes_done -= e->task.size < r->stats.bytes_done
				                           ? e->task.size
				                           : r->stats.bytes_done;
			e->split = 0;
			if (queue_first(r, e->task.id) == 0)
				return;
			err = ENOMEM;
		}
		in_way = (struct copy_done){
		    .id = d->id, .status = COPY_FAILED, .stage = STAGE_DEST_DIR, .err = err};
		if (err == ENOTEMPTY) {
			in_way.err = 0;
			why = "a non-empty directory is in the way (--delete replaces it)";
		}
		d = &in_way;
	}
	e->done = 1;
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
	switch (d->status) {
	case COPY_COPIED:
		r->stats.copied++;
		r->stats.bytes_done += progress;
		r->stats.bytes_copied += d->bytes;
		emit(r, RUN_EV_COPIED, e->task.root, rel, d->bytes, h, NULL, 0);
		break;
	case COPY_SKIPPED:
	case COPY_METADATA:
		r->stats.skipped++;
		r->stats.bytes_done += progress;
		emit(r, d->status == COPY_SKIPPED ? RUN_EV_SKIPPED : RUN_EV_UPDATED, e->task.root,
		     rel, e->task.size, h, NULL, 0);
		break;
	case COPY_DIFFERENT:
		r->stats.bytes_done += progress;
		emit_diffs(r, e->task.root, rel, d->bytes, d->diff);
		break;
	case COPY_UNSUPPORTED:
		r->stats.warnings++;
		emit(r, RUN_EV_WARNING, e->task.root, rel, 0, NULL, status_reason(d, &e->task), 0);
		break;
	default:
		r->stats.failed++;
		r->stats.bytes_done += progress;
		emit_at(r, RUN_EV_FAILED, e->task.root, rel, 0, NULL,
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
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s%ld.", COPY_TMP_PREFIX, (long)pid);
	int dfd = at_open_dir(r->croots[t->root].dst_fd, dst, slash ? (size_t)(slash - dst) : 0);
	struct tree_list list;
	if (dfd >= 0 && tree_list_at(dfd, &list) == 0) {
		for (size_t i = 0; i < list.n; i++)
			if (strncmp(list.names[i], prefix, strlen(prefix)) == 0)
				unlinkat(dfd, list.names[i], 0);
		tree_list_free(&list);
	}
	if (dfd >= 0)
		close(dfd);
}

/* A worker died holding task CLAIM: clean up after it, then try again or give up. */
static void lost_task(void *arg, uint64_t claim, pid_t pid, int wstatus)
{
	struct run *r = arg;
	uint64_t idx = COPY_ID_ENTRY(claim);
	if (idx == 0 || idx > r->nentries)
		return;
	struct entry *e = &r->entries[idx - 1];
	if (!r->opts.copy.dry_run && !r->opts.copy.check)
		remove_worker_tmp(r, &e->task, pid);
	uint32_t kind = COPY_ID_KIND(claim);
	int part = kind > 0 && kind != COPY_ID_SEAL;
	if (part ? !part_awaited(r, claim) : e->done || (kind == 0 && e->split))
		return; /* its completion arrived before the worker died */
	if (!e->done && ++e->task.tries < RUN_MAX_TRIES && !*r->interrupted) {
		struct copy_task t;
		task_for(r, claim, &t);
		if (pool_submit(&r->pool, &t, 1000) == 0)
			return;
	}
	char why[128];
	snprintf(why, sizeof(why), "a worker died %u times copying this file (last: %s %d)",
	         e->task.tries, WIFSIGNALED(wstatus) ? "signal" : "exit status",
	         WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
	struct copy_done d = {.id = claim, .status = COPY_FAILED};
	e->task.tries = RUN_MAX_TRIES;
	complete(r, &d, why);
}

/* ---- the main loop ------------------------------------------------------------------------ */

/* Walk state across roots. */
struct walk {
	uint32_t root;  /* root being walked */
	int active;     /* a scan of ROOT is open */
	int finished;   /* every root has been walked */
	size_t listing; /* directories of ROOT whose listing was asked of the remote */
	struct scan scan;
};

/* A directory batch is in w->scan (read here or listed remotely, DST: see prune_dest):
 * account for it. */
static int walk_loaded(struct run *r, struct walk *w, int rc, const struct tree_list *dst)
{
	if (rc < 0) {
		r->stats.failed++;
		emit(r, RUN_EV_FAILED, w->root, names_get(&r->names, w->scan.dir), 0, NULL,
		     "cannot read directory", w->scan.err);
		return 1;
	}
	return walk_batch(r, w->root, &w->scan, w->scan.dir_flag, dst) != 0 ? -1 : 1;
}

/* The walk of a directory root whose directories the remote reads: ask for the listings of
 * the directories known, plan from one that came back. Returns 1 (progress), 0 (waiting)
 * or -1. Listings are planned as they come, in any order: see defer_link(). */
static int walk_remote(struct run *r, struct walk *w)
{
	const struct run_remote *rm = r->remote;
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

/* Read the next directory (or the next file root) into the tables. Returns 1 when it moved,
 * 0 when it waits for the remote, -1 on a fatal error. */
static int walk_step(struct run *r, struct walk *w)
{
	while (!w->active) {
		if (w->root >= r->nroots) {
			w->finished = 1;
			r->stats.scanning = 0;
			if (defer_flush(r) != 0)
				return run_fail(r, "out of memory for the file table");
			return 1;
		}
		struct run_root *rt = &r->roots[w->root];
		if (!rt->is_dir) {
			uint64_t s = names_add(&r->names, rt->src_name, strlen(rt->src_name));
			uint64_t d = names_add(&r->names, rt->dst_name, strlen(rt->dst_name));
			if (s == UINT64_MAX || d == UINT64_MAX ||
			    add_entry(r, w->root, s, d, &rt->st, 0) != 0)
				return run_fail(r, "out of memory");
			w->root++;
			return 1;
		}
		uint64_t top = names_add(&r->names, ".", 1);
		int existed = 0;
		if (top == UINT64_MAX)
			return run_fail(r, "out of memory");
		if (!add_dir(r, w->root, top, &rt->st, -1, &existed)) {
			w->root++;
			continue;
		}
		existed = existed && !rt->created;
		if (scan_start(&w->scan, r->croots[w->root].src_fd, &r->names,
		               top | (existed ? SCAN_FLAG : 0)) != 0)
			return run_fail(r, "out of memory");
		w->active = 1;
		w->listing = 0;
	}
	if (r->remote != NULL && r->remote->list != NULL)
		return walk_remote(r, w);
	int rc = scan_next(&w->scan);
	if (rc == 0) {
		scan_end(&w->scan);
		w->active = 0;
		w->root++;
		return 1;
	}
	return walk_loaded(r, w, rc, NULL);
}

static void tick(struct run *r)
{
	r->stats.seconds = run_now() - r->start;
	if (r->hooks.tick != NULL)
		r->hooks.tick(r->hooks.ctx, &r->stats);
}

/* The data a task moves (the range of a part), for the balance between here and remote. */
static uint64_t task_cost(const struct copy_task *t)
{
	return (t->flags & TASK_PART) ? t->part_len : t->size;
}

/* Hand the next task to the remote if it has room, else to the local pool. Returns 1 when
 * it was taken, 0 when neither has room, -1 when the remote failed. */
static int hand_out(struct run *r, const struct copy_task *t)
{
	const struct run_remote *rm = r->remote;
	uint64_t cost = task_cost(t);
	if (rm != NULL) {
		int rc = rm->take(rm->ctx, t, names_get(&r->names, t->src),
		                  names_get(&r->names, t->dst));
		if (rc != 0) {
			r->remote_out += rc > 0;
			return rc;
		}
		size_t local = r->outstanding - r->remote_out;
		if (local >= rm->local_cap ||
		    (local > 0 && r->local_bytes + cost > rm->local_bytes))
			return 0;
	}
	if (pool_submit(&r->pool, t, 0) != 0)
		return 0;
	r->local_bytes += cost;
	return 1;
}

/* A completion from the local pool: its data no longer counts as queued here. */
static void local_done(struct run *r, const struct copy_done *d)
{
	uint64_t idx = COPY_ID_ENTRY(d->id);
	if (idx >= 1 && idx <= r->nentries) {
		struct copy_task t;
		uint32_t kind = COPY_ID_KIND(d->id);
		int part = kind > 0 && kind != COPY_ID_SEAL;
		if (!part || part_awaited(r, d->id)) {
			task_for(r, d->id, &t);
			uint64_t cost = task_cost(&t);
			r->local_bytes -= cost < r->local_bytes ? cost : r->local_bytes;
		}
	}
	complete(r, d, NULL);
}

/*
 * The next task to hand out, into *T: a seal or a re-queued entry (returns 1), a part of a
 * split copy (returns 2, *SPLIT its record), or nothing (0). Parts go one worker's worth at a
 * time, each from the split copy with the fewest parts being copied: two workers writing
 * into the same file take turns on its inode lock, so with several big files each worker is
 * better off in a file of its own (a single big file still gets every worker). Nothing
 * changes until handed() says the task was taken.
 */
static int next_task(struct run *r, struct copy_task *t, struct split **split)
{
	if (r->pending_head < r->npending) {
		*t = r->pending[r->pending_head];
		return 1;
	}
	size_t workers =
	    (size_t)r->pool.size + (r->remote != NULL ? (size_t)r->remote->workers : 0);
	if (r->parts_busy >= workers)
		return 0;
	struct split *best = NULL;
	for (size_t i = 0; i < r->nsplits; i++) {
		struct split *sp = &r->splits[i];
		if (sp->handed < sp->nparts && (best == NULL || sp->inflight < best->inflight)) {
			best = sp;
			if (best->inflight == 0)
				break;
		}
	}
	if (best == NULL)
		return 0;
	task_for(r, COPY_ID(r->entries[best->entry].task.id, best->handed + 1), t);
	*split = best;
	return 2;
}

/* The task next_task() gave (KIND, SPLIT) was taken by the pool. */
static void handed(struct run *r, int kind, struct split *split)
{
	if (kind == 1) {
		r->pending_head++;
	} else if (kind == 2) {
		split->handed++;
		split->inflight++;
		r->parts_busy++;
	}
}

/* 1 when parts of split copies are still to be handed out. */
static int parts_left(const struct run *r)
{
	for (size_t i = 0; i < r->nsplits; i++)
		if (r->splits[i].handed < r->splits[i].nparts)
			return 1;
	return 0;
}

/* Queue what can be queued: parts and seals of split copies first, then new entries. */
static int feed(struct run *r, size_t *next)
{
	while (r->outstanding < RUN_QUEUE_CAP) {
		struct copy_task first;
		struct split *split = NULL;
		int kind = next_task(r, &first, &split);
		if (kind == 0 && *next == r->nentries)
			break;
		const struct copy_task *t = kind ? &first : &r->entries[*next].task;
		int rc = hand_out(r, t);
		if (rc < 0)
			return run_fail(r, "cannot hand tasks out: %s", strerror(errno));
		if (rc == 0)
			break;
		if (kind)
			handed(r, kind, split);
		else
			(*next)++;
		r->outstanding++;
	}
	if (r->remote != NULL && r->remote->flush(r->remote->ctx) != 0)
		return run_fail(r, "cannot hand tasks out: %s", strerror(errno));
	return 0;
}

/* Take in the remote's completions. Returns how many, or -1. */
static int collect_remote(struct run *r)
{
	const struct run_remote *rm = r->remote;
	struct copy_done d;
	int got = 0, rc;
	while (rm != NULL && (rc = rm->poll(rm->ctx, &d)) != 0) {
		if (rc < 0)
			return run_fail(r, "cannot take in completions: %s", strerror(errno));
		r->remote_out--;
		complete(r, &d, NULL);
		got++;
	}
	return got;
}

/* Scan, dispatch and collect until everything is done or the run is interrupted. */
static int dispatch(struct run *r)
{
	struct walk w;
	memset(&w, 0, sizeof(w));
	size_t next = 0;
	double last_tick = 0, last_reap = 0;
	r->stats.scanning = 1;
	r->deferring = r->remote != NULL && r->remote->list != NULL;
	while (!*r->interrupted) {
		int walked = 0;
		if (feed(r, &next) != 0)
			walked = -1;
		int want_scan = !w.finished && r->nentries - next < RUN_BACKLOG;
		if (walked == 0 && want_scan)
			walked = walk_step(r, &w);
		if (walked < 0) {
			if (w.active)
				scan_end(&w.scan);
			return -1;
		}
		if (w.finished && next == r->nentries && r->outstanding == 0 &&
		    r->pending_head == r->npending && !parts_left(r))
			break;
		/* Collect what is there without sleeping in the semaphore: a parent asleep there
		 * costs every completion a wake-up. When the workers have plenty queued, nap
		 * briefly instead; block only when they are close to running dry. */
		struct copy_done d;
		int got = collect_remote(r);
		if (got < 0) {
			if (w.active)
				scan_end(&w.scan);
			return -1;
		}
		while (pool_next(&r->pool, &d, 0) == 0) {
			local_done(r, &d);
			got++;
		}
		if (!got && !walked) {
			/* The remote's completions do not wake a wait on the local queue: nap,
			 * briefly when the walk waits for a listing (every directory planned waits
			 * for its). */
			if (r->outstanding > 2 * (size_t)r->pool.size || r->remote != NULL) {
				long ns = r->remote == NULL ? 2000000L
				          : want_scan       ? 50000L
				                            : 300000L;
				struct timespec nap = {0, ns};
				nanosleep(&nap, NULL);
			} else if (pool_next(&r->pool, &d, 50) == 0) {
				local_done(r, &d);
			}
		}
		double now = run_now();
		if (now - last_reap >= 0.05) {
			last_reap = now;
			if (pool_reap(&r->pool, lost_task, r) < 0)
				return run_fail(r, "cannot start a worker process: %s",
				                strerror(errno));
			if (pool_alive(&r->pool) == 0)
				return run_fail(r, "every worker process has exited");
		}
		if (now - last_tick >= 0.1) {
			last_tick = now;
			tick(r);
		}
	}
	if (w.active)
		scan_end(&w.scan);
	if (!*r->interrupted)
		return 0;
	/* Interrupted: workers abandon their files (removing their temporary files). */
	r->pool.stopping = 1;
	pool_signal(&r->pool, SIGTERM);
	struct copy_done d;
	double deadline = run_now() + 10;
	while (pool_alive(&r->pool) > 0) {
		while (pool_next(&r->pool, &d, 20) == 0)
			complete(r, &d, NULL);
		pool_reap(&r->pool, NULL, NULL);
		if (run_now() > deadline)
			pool_signal(&r->pool, SIGKILL);
	}
	while (pool_next(&r->pool, &d, 0) == 0)
		complete(r, &d, NULL);
	/* The shared temporary files of split copies are the parent's to remove. */
	for (size_t i = 0; i < r->nentries; i++)
		if ((r->entries[i].task.flags & TASK_SPLIT) && !r->entries[i].done)
			split_unlink(r, &r->entries[i]);
	return 0;
}

/* ---- finishing ------------------------------------------------------------------------------ */

/* Link L's name to the copy of its first name, under a temporary name renamed over it. */
static int link_one(struct run *r, const struct linkrec *l, const struct entry *t, size_t i)
{
	const char *first, *leaf;
	int first_fd = at_parent(&r->link_dirs, r->croots[t->task.root].dst_fd,
	                         names_get(&r->names, t->task.dst), &first);
	int fd = first_fd < 0 ? -1
	                      : at_parent(&r->dst_dirs, r->croots[l->root].dst_fd,
	                                  names_get(&r->names, l->path), &leaf);
	if (fd < 0)
		return r->opts.copy.dry_run ? 0 : errno; /* a dry run: below a missing directory */
	struct stat a, b;
	if (fstatat(fd, leaf, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fstatat(first_fd, first, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		return -1; /* already linked */
	if (r->opts.copy.dry_run)
		return 0;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s%ld.link%zu", COPY_TMP_PREFIX, (long)getpid(), i);
	if (linkat(first_fd, first, fd, tmp, 0) != 0)
		return errno;
	if (renameat(fd, tmp, fd, leaf) != 0) {
		int err = errno;
		unlinkat(fd, tmp, 0);
		return err;
	}
	return 0;
}

/* Make the hard links recorded during the walk. */
static void make_links(struct run *r)
{
	for (size_t i = 0; i < r->nlinks; i++) {
		struct linkrec *l = &r->links[i];
		struct entry *t = &r->entries[l->target];
		const char *rel = names_get(&r->names, l->path);
		const struct hash128 *hash = t->hashed ? &t->hash : NULL;
		r->stats.done++;
		if (!t->done || (t->status != COPY_COPIED && t->status != COPY_SKIPPED &&
		                 t->status != COPY_METADATA)) {
			r->stats.failed++;
			emit_dst(r, l->root, rel, "not linked: its first name was not copied", 0);
			continue;
		}
		int err = link_one(r, l, t, i);
		if (err < 0) {
			r->stats.skipped++;
			emit(r, RUN_EV_SKIPPED, l->root, rel, 0, hash, NULL, 0);
		} else if (err > 0) {
			r->stats.failed++;
			emit_dst(r, l->root, rel, "cannot create hard link", err);
		} else {
			r->stats.copied++;
			emit(r, RUN_EV_COPIED, l->root, rel, 0, hash, NULL, 0);
		}
	}
}

/* Set one directory's owner, xattrs (default ACLs among them), mode and times on its open
 * descriptor DFD, in meta_apply's order. */
static int dir_metadata(struct run *r, const struct dirrec *d, int dfd, struct meta_ctx *m)
{
	const char *rel = names_get(&r->names, d->path);
	int s = at_open_dir(r->croots[d->root].src_fd, rel, strlen(rel));
	struct meta_node sn = {s, -1, NULL}, dn = {dfd, -1, NULL};
	int rc = meta_apply(m, s >= 0 ? &sn : NULL, &dn, &d->st, 0);
	int e = errno;
	if (s >= 0)
		close(s);
	errno = e;
	return rc;
}

/* Set directory xattrs, owner, mode and times, deepest first (after their contents). */
static void finish_dirs(struct run *r)
{
	struct meta_ctx m;
	meta_ctx_init(&m, r->opts.copy.keep_owner);
	for (size_t i = r->ndirs; i-- > 0;) {
		struct dirrec *d = &r->dirs[i];
		if (d->failed)
			continue;
		const char *rel = names_get(&r->names, d->path);
		int dfd = at_open_dir(r->croots[d->root].dst_fd, rel, strlen(rel));
		if (dfd < 0 || dir_metadata(r, d, dfd, &m) != 0) {
			r->stats.failed++;
			emit_dst(r, d->root, rel, "cannot set directory attributes", errno);
		} else if (r->opts.copy.fsync && fsync(dfd) != 0) {
			/* --fsync: the renames into this directory are on disk too */
			r->stats.failed++;
			emit_dst(r, d->root, rel, "cannot sync directory", errno);
		}
		if (dfd >= 0)
			close(dfd);
	}
}

/*
 * Write LINES into the unnamed file run_plan opened, then name it: linked under a temporary
 * name and renamed over the manifest's name, so that the name never holds a partial
 * manifest. Returns 0, -1 with errno, or 1 when unnamed files cannot be named here (no
 * /proc): the caller writes the manifest by name instead.
 */
static int write_unnamed_manifest(struct run *r, struct manifest_line *lines, size_t n)
{
	int fd = r->manifest_fd, by_proc = 0;
	r->manifest_fd = -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	int rc = manifest_write(f, lines, n);
	/* Complete (and with --fsync, on the storage) before it has any name. */
	if (rc == 0 && (fflush(f) != 0 || ferror(f) || (r->opts.copy.fsync && fsync(fd) != 0)))
		rc = -1;
	char tmp[64];
	/* pcopy's temporary prefix: a later run into this directory removes it if a kill
	 * leaves it behind (extra_entry). */
	snprintf(tmp, sizeof(tmp), "%s%ld.manifest", COPY_TMP_PREFIX, (long)getpid());
	if (rc == 0 && compat_link_unnamed(fileno(f), r->manifest_dir, tmp, &by_proc) != 0)
		rc = errno == EOPNOTSUPP ? 1 : -1;
	if (rc == 0 && renameat(r->manifest_dir, tmp, r->manifest_dir, r->manifest_name) != 0) {
		int e = errno;
		unlinkat(r->manifest_dir, tmp, 0);
		errno = e;
		rc = -1;
	}
	int e = errno;
	if (fclose(f) != 0 && rc == 0) {
		e = errno;
		rc = -1;
	}
	errno = e;
	return rc;
}

/* Write the manifest of every regular file that is in place with a known hash. */
static int write_manifest(struct run *r)
{
	const char *path = r->opts.manifest;
	size_t n = 0;
	struct manifest_line *lines = malloc((r->nentries + r->nlinks + 1) * sizeof(*lines));
	if (lines == NULL)
		return run_fail(r, "out of memory for the manifest");
	for (size_t i = 0; i < r->nentries; i++) {
		struct entry *e = &r->entries[i];
		if (!S_ISREG(e->task.mode) || !e->done || !e->hashed)
			continue;
		const struct run_root *rt = &r->roots[e->task.root];
		lines[n].prefix = rt->prefix;
		lines[n].path = names_get(&r->names, e->task.dst);
		lines[n++].hash = e->hash;
	}
	for (size_t i = 0; i < r->nlinks; i++) {
		struct entry *e = &r->entries[r->links[i].target];
		if (!S_ISREG(e->task.mode) || !e->done || !e->hashed)
			continue;
		lines[n].prefix = r->roots[r->links[i].root].prefix;
		lines[n].path = names_get(&r->names, r->links[i].path);
		lines[n++].hash = e->hash;
	}
	int rc;
	if (r->manifest_fd >= 0 && (rc = write_unnamed_manifest(r, lines, n)) != 1) {
		/* written into the file run_plan opened (or failed: RC -1, errno) */
	} else {
		rc = manifest_save(path, lines, n, r->opts.copy.fsync); /* "-": stdout */
	}
	free(lines);
	if (rc != 0)
		return run_fail(r, "cannot write manifest '%s': %s", path, strerror(errno));
	return 0;
}

int run_execute(struct run *r)
{
	r->start = run_now();
	int jobs = r->opts.jobs > 0 ? r->opts.jobs : 1;
	r->worker.opts = &r->opts.copy;
	r->worker.roots = r->croots;
	r->worker.names = &r->names;
	r->worker.bufsize = COPY_WORKER_BUF; /* pid_tag, split_parent: 0, the pool's own */
	if (pool_start(&r->pool, jobs, RUN_QUEUE_CAP, sizeof(struct copy_task),
	               sizeof(struct copy_done), copy_worker, &r->worker) != 0) {
		run_fail(r, "cannot start %d worker processes: %s", jobs, strerror(errno));
		return RUN_FATAL;
	}
	int rc = dispatch(r);
	if (rc != 0)
		pool_signal(&r->pool,
		            SIGTERM); /* fatal: abandon what is queued, not work through it */
	pool_stop(&r->pool, 5000);
	if (rc != 0)
		return RUN_FATAL;
	if (*r->interrupted) {
		tick(r);
		return RUN_SIGNALLED + *r->interrupted;
	}
	if (!r->opts.copy.check)
		make_links(r);
	else
		check_links(r);
	if (!r->opts.copy.dry_run && !r->opts.copy.check)
		finish_dirs(r);
	if (r->opts.manifest != NULL && write_manifest(r) != 0)
		/* on stdout (--manifest -): the files are in place; cmd/ reports the write error */
		return strcmp(r->opts.manifest, "-") == 0 ? RUN_PARTIAL : RUN_FATAL;
	tick(r);
	if (*r->interrupted) /* arrived while links, directories or the manifest were done */
		return RUN_SIGNALLED + *r->interrupted;
	return r->stats.failed > 0 || r->stats.different > 0 ? RUN_PARTIAL : RUN_OK;
}
