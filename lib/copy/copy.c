/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy: one task in a worker: the one-file copy flow (copy_run and the paths per type: the
 * regular file's attempt, symlinks, special files), metadata, rename into place (see
 * copy.h). The data path is in data.c, split parts in part.c, --check in check.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_XATTR_H
#include <sys/xattr.h>
#endif

#include "fs/at.h"
#include "common/compat.h"
#include "copy/internal.h"

/* at_cache's CLOSING hook: a parent directory the meta context may sit in is closed. */
static void dir_closing(void *meta, int fd)
{
	meta_ctx_forget(meta, fd);
}

int copy_ctx_init(struct copy_ctx *c, const struct copy_opts *opts, const struct copy_root *roots,
                  const struct names *names, volatile sig_atomic_t *stop, size_t bufsize)
{
	memset(c, 0, sizeof(*c));
	c->opts = opts;
	c->roots = roots;
	c->names = names;
	c->stop = stop;
	c->bufsize = bufsize;
	c->pid = (long)getpid();
	c->ppid = (long)getppid();
	c->euid = geteuid();
	c->egid = getegid();
	at_cache_init(&c->src_dirs);
	at_cache_init(&c->dst_dirs);
	at_cache_init(&c->basis_dirs);
	/* Node DIRs come from these caches (or are roots, open for the worker's life). */
	struct at_cache *caches[] = {&c->src_dirs, &c->dst_dirs, &c->basis_dirs};
	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
		caches[i]->closing = dir_closing;
		caches[i]->closing_arg = &c->meta;
	}
	c->backup_fd = -1;
	meta_ctx_init(&c->meta, opts->keep_owner);
	c->meta.policy = &opts->policy;
	meta_ctx_home(&c->meta); /* without it, names are reached through /proc */
	/* Copies are created with their final permission bits (see meta_apply: META_MODE_SET). */
	umask(0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = copy_on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	/* Aligned for O_DIRECT reads (--fsync: rehash_direct). */
	void *buf = NULL;
	c->buf = posix_memalign(&buf, DIRECT_ALIGN, bufsize) == 0 ? buf : NULL;
	c->hs = hash_new();
	if (c->buf == NULL || c->hs == NULL) {
		copy_ctx_free(c);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void copy_ctx_free(struct copy_ctx *c)
{
	free(c->buf);
	hash_free(c->hs);
	meta_ctx_free(&c->meta);
	if (c->backup_fd >= 0)
		close(c->backup_fd);
	c->backup_fd = -1;
	at_cache_free(&c->src_dirs);
	at_cache_free(&c->dst_dirs);
	at_cache_free(&c->basis_dirs);
	c->buf = NULL;
	c->hs = NULL;
}

const char *copy_stage_text(enum copy_stage stage)
{
	switch (stage) {
	case STAGE_OPEN_SOURCE: return "cannot open";
	case STAGE_READ_SOURCE: return "read error";
	case STAGE_READ_LINK: return "cannot read symbolic link";
	case STAGE_CREATE: return "cannot create in destination";
	case STAGE_WRITE: return "write error in destination";
	case STAGE_VERIFY_READ: return "cannot re-read the copy";
	case STAGE_VERIFY: return "verification failed: the copy's hash differs from the source's";
	case STAGE_METADATA: return "cannot set attributes of the copy";
	case STAGE_SYNC: return "cannot sync the copy";
	case STAGE_RENAME: return "cannot rename the copy into place";
	case STAGE_LINK: return "cannot link the copy into place";
	case STAGE_BACKUP: return "cannot back up the old file";
	case STAGE_DEST_DIR: return "cannot overwrite directory with non-directory";
	case STAGE_NONE: break;
	}
	return "error";
}

const char *copy_tmp_name(struct copy_ctx *c)
{
	return tmpname_counter(c->tmp, sizeof(c->tmp), c->pid, ++c->counter);
}

/*
 * Owner, xattrs, mode and times from ST and SRC onto the new copy FD (meta_apply's order).
 * It was created with ST's permission bits; a FRESH directory's new file already has the
 * owner when it is ours.
 */
static int apply_meta_fd(struct copy_ctx *c, int src, int fd, const struct stat *st, int fresh)
{
	unsigned flags = META_MODE_SET;
	if (c->opts->keep_owner && fresh && st->st_uid == c->euid && st->st_gid == c->egid)
		flags |= META_OWNED;
	struct meta_node s = src_node(c, src), d = dst_node(c, fd, NULL);
	return meta_apply(&c->meta, &s, &d, st, flags);
}

enum copy_stage copy_install_stage(int err, enum copy_stage other)
{
	return err == EISDIR || err == ENOTEMPTY || err == EEXIST ? STAGE_DEST_DIR : other;
}

/* The --backup-dir of the task's root, open (made if missing), or -1 with errno. */
static int backup_dir(struct copy_ctx *c)
{
	const struct copy_place *r = &c->at;
	if (c->backup_fd >= 0 && c->backup_root == r->root)
		return c->backup_fd;
	if (c->backup_fd >= 0)
		close(c->backup_fd);
	c->backup_fd = tree_open_backup_dir(c->roots[r->root].dst_fd, c->opts->backup_dir);
	c->backup_root = r->root;
	return c->backup_fd;
}

int copy_backup_old(struct copy_ctx *c)
{
	const struct copy_place *r = &c->at;
	struct stat st;
	if (!c->opts->backup)
		return 0;
	if (fstatat(r->dst_fd, r->dst, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode))
		return 0; /* not a backup's business: see run_make_way in lib/run/prune.c */
	struct tree_backup b = {c->opts->backup_suffix, -1, c->roots[r->root].dst_fd};
	if (c->opts->backup_dir != NULL && (b.dir_fd = backup_dir(c)) < 0)
		return -1;
	return tree_backup(&b, r->dst_fd, r->dst, r->dst_path);
}

int copy_install(struct copy_ctx *c, int src, int fd, const char *tmp, const struct stat *sst,
                 unsigned flags, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	struct meta_node sn = src_node(c, src), dn = dst_node(c, fd, fd >= 0 ? NULL : tmp);
	enum copy_stage stage = STAGE_NONE;
	if (meta_apply(&c->meta, &sn, &dn, sst, flags) != 0)
		stage = STAGE_METADATA;
	else if (fd >= 0 && c->opts->fsync && fsync(fd) != 0)
		stage = STAGE_SYNC;
	else if (copy_backup_old(c) != 0)
		stage = STAGE_BACKUP;
	else if (renameat(r->dst_fd, tmp, r->dst_fd, r->dst) != 0)
		stage = copy_install_stage(errno, STAGE_RENAME);
	if (stage == STAGE_NONE)
		return 0;
	fail(d, stage, errno);
	unlinkat(r->dst_fd, tmp, 0);
	return -1;
}

/*
 * Open the file the copy of T is written to: unnamed when ABSENT says the destination name is
 * free and the file is small (*TMP = NULL), else under a fresh temporary name (*TMP). Returns
 * the descriptor, or -1 with errno.
 */
static int create_copy(struct copy_ctx *c, const struct copy_task *t, mode_t mode, uint64_t size,
                       int absent, const char **tmp)
{
	const struct copy_place *r = &c->at;
	uint64_t root_bit = t->root < 64 ? UINT64_C(1) << t->root : 0;
	*tmp = NULL;
	if (absent && size <= COPY_UNNAMED_MAX && !(c->no_unnamed & root_bit)) {
		int fd = compat_open_unnamed(r->dst_fd, mode);
		if (fd >= 0)
			return fd;
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
			c->no_unnamed |= root_bit;
	}
	*tmp = copy_tmp_name(c);
	return openat(r->dst_fd, *tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

/*
 * Put the verified copy OUT under the final name: rename the temporary name *TMP, or link an
 * unnamed file (*TMP NULL); should the name have been taken since, the unnamed file gets a
 * temporary name (*TMP, for the caller to remove on failure) that is renamed over it, after
 * the old file went to its backup name with --backup. Returns 0, or -1 with errno and
 * *STAGE set (STAGE_LINK, STAGE_BACKUP or STAGE_RENAME).
 */
static int place_copy(struct copy_ctx *c, int out, const char **tmp, enum copy_stage *stage)
{
	*stage = STAGE_LINK;
	const struct copy_place *r = &c->at;
	if (*tmp == NULL) {
		if (compat_link_unnamed(out, r->dst_fd, r->dst, &c->link_by_proc) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
		*tmp = copy_tmp_name(c);
		if (compat_link_unnamed(out, r->dst_fd, *tmp, &c->link_by_proc) != 0) {
			*tmp = NULL;
			return -1;
		}
	}
	/* --backup: the old file moves only now, the new one verified and complete. */
	*stage = STAGE_BACKUP;
	if (copy_backup_old(c) != 0)
		return -1;
	*stage = STAGE_RENAME;
	return renameat(r->dst_fd, *tmp, r->dst_fd, r->dst);
}

/* copy_data (internal.h): D filled on DATA_ERROR also when the copy changed during its
 * verification. */
enum data_result copy_data(struct copy_ctx *c, const struct copy_task *t, int src,
                           const struct stat *sst, int absent, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	uint64_t size = (uint64_t)sst->st_size;
	const char *tmp;
	int out = create_copy(c, t, meta_create_mode(sst), size, absent, &tmp);
	if (out < 0) {
		fail(d, STAGE_CREATE, errno);
		return DATA_ERROR;
	}
	int sparse = meta_sparse(sst);
	int hashing = c->opts->verify || c->opts->need_hash;
	int in_fault = 0;
	enum data_result res = DATA_UNSUPPORTED; /* no kernel copy (yet) */
	struct hash128 h = {0, 0};
	enum copy_stage stage = STAGE_NONE;

	/* copy_file_range refused once between this root's file systems: do not ask again. */
	uint64_t root_bit = t->root < 64 ? UINT64_C(1) << t->root : 0;
	if (!hashing && !sparse && !(c->no_kernel_copy & root_bit)) {
		res = copy_kernel(c, src, out, 0, size, &in_fault);
		if (res == DATA_UNSUPPORTED)
			c->no_kernel_copy |= root_bit;
	}
	if (res == DATA_UNSUPPORTED) {
		hash_reset(c->hs);
		res = copy_stream(c, src, out, 0, size, sparse, hashing ? c->hs : NULL, &in_fault);
		if (hashing)
			h = hash_digest(c->hs);
	}
	if (res != DATA_OK) {
		stage = in_fault ? STAGE_READ_SOURCE : STAGE_WRITE;
		goto failed;
	}
	if (sparse && ftruncate(out, (off_t)size) != 0) {
		stage = STAGE_WRITE;
		goto failed;
	}
	/* The source must not have changed while we read it. */
	struct stat after;
	if (fstat(src, &after) != 0) {
		stage = STAGE_READ_SOURCE;
		goto failed;
	}
	if (after.st_size != sst->st_size || after.st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != sst->st_mtim.tv_nsec) {
		res = DATA_CHANGED;
		stage = STAGE_READ_SOURCE;
		goto failed;
	}
	/* Without --fsync the copy is re-read from the page cache now; with it, once it is on
	 * the storage, from there (copy_reread), so the metadata comes first. */
	if (c->opts->verify && !c->opts->fsync &&
	    (res = copy_verify(c, out, 0, size, sparse, h, d, &stage)) != DATA_OK)
		goto failed;
	if (apply_meta_fd(c, src, out, sst, (t->flags & TASK_FRESH) != 0) != 0) {
		stage = STAGE_METADATA;
		goto failed;
	}
	if (c->opts->fsync && fsync(out) != 0) {
		stage = STAGE_SYNC;
		goto failed;
	}
	if (c->opts->verify && c->opts->fsync &&
	    (res = copy_verify(c, out, 0, size, sparse, h, d, &stage)) != DATA_OK)
		goto failed;
	int unnamed = tmp == NULL;
	if (place_copy(c, out, &tmp, &stage) != 0) {
		if (unnamed && tmp == NULL && errno == EOPNOTSUPP) {
			/* Unnamed files cannot be linked by this process: named ones from now on.
			 */
			c->no_unnamed = ~UINT64_C(0);
			close(out);
			return copy_data(c, t, src, sst, 0, d);
		}
		if (stage != STAGE_BACKUP)
			stage = copy_install_stage(errno, stage);
		goto failed;
	}
	close(out);
	d->status = COPY_COPIED;
	d->bytes = size;
	d->hash = h;
	d->hashed = hashing;
	return DATA_OK;
failed:;
	/* RES is DATA_CHANGED when a file changed under us; else STAGE failed with errno. */
	int e = errno;
	close(out);
	if (tmp != NULL)
		unlinkat(r->dst_fd, tmp, 0);
	if (res != DATA_CHANGED)
		fail(d, stage, e);
	else if (stage != STAGE_VERIFY)
		return DATA_CHANGED; /* the source: another attempt may do */
	else
		changed(d, stage); /* the copy, while it was verified */
	return DATA_ERROR;
}

/*
 * A skipped file's hash, when one is wanted, for --json and the manifest: of what the
 * destination holds (DST_ST), read from there. A manifest line is a fact about DEST, and the
 * source may have changed since the quick check looked at it (with the same size and mtime,
 * or during the run); with -c both sides were hashed and found equal already.
 */
static void hash_skipped(struct copy_ctx *c, const struct stat *dst_st, struct copy_done *d)
{
	const struct proven_file *proven = NULL;
	if (!c->opts->need_hash || d->hashed ||
	    ((proven = copy_proven(c, dst_st)) != NULL && copy_reuse(c, proven, d)))
		return;
	struct timespec before;
	copy_stamp_before(c, &before);
	int dfd = openat(c->at.dst_fd, c->at.dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	copy_stamp_note(c, dfd, &before, d);
	enum data_result res = dfd < 0 ? DATA_ERROR
	                               : copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size,
	                                              meta_sparse(dst_st), &d->hash);
	if (res == DATA_OK)
		d->hashed = 1;
	else
		fail_data(d, STAGE_VERIFY_READ, res);
	if (dfd >= 0)
		close(dfd);
}

/* Whether fix_metadata (same arguments) would change anything: 1, 0, or -1 with errno. */
static int metadata_differs(struct copy_ctx *c, int src, int fd, const struct stat *sst,
                            const struct stat *dst_st, int times, unsigned flags)
{
	int owner_same = dst_st->st_uid == sst->st_uid && dst_st->st_gid == sst->st_gid;
	int owner_kept = c->opts->keep_owner ? 1 : 0;
	struct meta_node s = src_node(c, src), n = dst_node(c, fd, c->at.dst);
	if ((c->opts->keep_owner && !owner_same) ||
	    (!(flags & META_LINK) &&
	     meta_perm(dst_st->st_mode) != meta_mode(&c->meta, sst, owner_kept)) ||
	    (times && (dst_st->st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	               dst_st->st_mtim.tv_nsec != sst->st_mtim.tv_nsec)))
		return 1;
	return meta_xattrs(&c->meta, &s, &n, 0, NULL);
}

/*
 * The destination entry DST_ST (open as FD, or -1: by name) holds the source's data: bring
 * its owner, xattrs, mode and, with TIMES, times in line with the source's (SST, the open
 * SRC or -1: by name) in meta_apply's order, which re-applies whatever a chown clears.
 * Leaves D as it is when nothing differs, else sets COPY_METADATA (or a failure).
 */
static void fix_metadata(struct copy_ctx *c, int src, int fd, const struct stat *sst,
                         const struct stat *dst_st, int times, unsigned flags, struct copy_done *d)
{
	int owner_same = dst_st->st_uid == sst->st_uid && dst_st->st_gid == sst->st_gid;
	struct meta_node s = src_node(c, src), n = dst_node(c, fd, c->at.dst);
	int differs = metadata_differs(c, src, fd, sst, dst_st, times, flags);
	if (differs < 0) {
		fail(d, STAGE_METADATA, errno);
		return;
	}
	if (!differs)
		return;
	d->status = COPY_METADATA;
	if (c->opts->dry_run)
		return;
	/* The owner is set only where it differs: chown clears what it would then have to put
	 * back. The rest is set in full after it. */
	if (!c->opts->keep_owner || owner_same)
		flags |= META_OWNED;
	if (meta_apply(&c->meta, &s, &n, sst, flags) != 0)
		fail(d, STAGE_METADATA, errno);
}

/*
 * Decide whether the existing destination DST_ST is up to date with the open source.
 * Returns 1 (skip: D filled, metadata fixed), 0 (copy it).
 */
static int up_to_date(struct copy_ctx *c, int src, const struct stat *sst,
                      const struct stat *dst_st, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	if (!S_ISREG(dst_st->st_mode) || dst_st->st_size != sst->st_size)
		return 0;
	if (c->opts->checksum) {
		struct timespec before;
		copy_stamp_before(c, &before);
		int dfd = openat(r->dst_fd, dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return 0;
		copy_stamp_note(c, dfd, &before, d);
		struct hash128 hs, hd;
		int ok = copy_hash_fd(c, src, (uint64_t)sst->st_size, meta_sparse(sst), &hs) ==
		             DATA_OK &&
		         copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size, meta_sparse(dst_st),
		                      &hd) == DATA_OK;
		close(dfd);
		if (!ok || !hash_equal(hs, hd))
			return 0;
		d->hash = hs;
		d->hashed = 1;
	} else if (!c->opts->size_only && (dst_st->st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	                                   dst_st->st_mtim.tv_nsec != sst->st_mtim.tv_nsec)) {
		return 0;
	}
	d->status = COPY_SKIPPED;
	d->bytes = (uint64_t)sst->st_size;
	/* Metadata-only differences are applied without copying data: on the file open when
	 * we may open it, else by name (a user's file without read permission). */
	int fd =
	    c->opts->dry_run
	        ? -1
	        : openat(r->dst_fd, dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int times =
	    (c->opts->checksum || c->opts->size_only) && meta_keeps(&c->meta, META_KEEP_TIMES);
	fix_metadata(c, src, fd, sst, dst_st, times, 0, d);
	if (fd >= 0)
		close(fd);
	return 1;
}

/* The scan's view of a task's source, as a struct stat. */
static struct stat task_stat(const struct copy_task *t)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = (mode_t)t->mode;
	st.st_uid = t->uid;
	st.st_gid = t->gid;
	st.st_size = (off_t)t->size;
	st.st_blocks = (t->flags & TASK_SPARSE) ? 0 : (blkcnt_t)((t->size + 511) / 512);
	st.st_atim.tv_sec = t->atime_sec;
	st.st_atim.tv_nsec = t->atime_nsec;
	st.st_mtim.tv_sec = t->mtime_sec;
	st.st_mtim.tv_nsec = t->mtime_nsec;
	return st;
}

struct stat copy_task_stat(const struct copy_task *t)
{
	return task_stat(t);
}

/*
 * -u, --ignore-existing, --existing: 1 when the destination's entry is to be left as it is,
 * whatever the source has: it is ABSENT (the name is free), or has lstat data DST (NULL: it
 * could not be read). SRC: the source's; REGULAR: it is a regular file (-u is for those).
 */
static int left_alone(const struct copy_opts *o, uint32_t flags, int absent, const struct stat *dst,
                      const struct stat *src, int regular)
{
	if (flags & TASK_MADE_WAY)
		return 0; /* a directory held the name: it was existing, and is gone */
	if (absent)
		return o->existing;
	if (o->ignore_existing)
		return 1;
	/* Newer in whole seconds, as rsync -u compares them. */
	return o->update && regular && dst != NULL && S_ISREG(dst->st_mode) &&
	       dst->st_mtim.tv_sec > src->st_mtim.tv_sec;
}

/* Whether an existing destination must be looked at even with --force: it decides whether
 * the file is copied, or what metadata the copy gets. */
static int policy_looks(const struct copy_opts *o)
{
	return o->update || o->ignore_existing || o->existing ||
	       (o->policy.drop & (META_KEEP_PERMS | META_KEEP_OWNER | META_KEEP_GROUP));
}

/* A task left alone by left_alone(): skipped, with the hash of what DEST holds if wanted. */
static void leave_alone(struct copy_ctx *c, const struct copy_task *t, int absent,
                        const struct stat *dst_st, struct copy_done *d)
{
	d->status = COPY_SKIPPED;
	d->bytes = absent ? 0 : t->size;
	if (!absent && dst_st != NULL && S_ISREG(dst_st->st_mode))
		hash_skipped(c, dst_st, d);
}

/* 1 when DEST's entry DST has more names than the source of the task at hand: some are not
 * this copy's (a snapshot's that --link-dest linked, say). */
static int links_elsewhere(struct copy_ctx *c, const struct stat *dst)
{
	struct stat st;
	return fstatat(c->at.src_fd, c->at.src, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       dst->st_nlink > st.st_nlink;
}

/* The quick check of a re-run: the regular file of task T at hand has the size, mtime,
 * metadata and xattrs of its destination twin DST_ST as the copy would leave them (OLD:
 * what the copy keeps of the twin), so its data is taken as the same without reading it. */
static int quick_same(struct copy_ctx *c, const struct copy_task *t, const struct stat *dst_st,
                      const struct stat *old)
{
	struct stat scanned = task_stat(t);
	meta_want(&c->meta, &scanned, old);
	struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, c->at.dst);
	return copy_quick_same(&scanned, dst_st, c->opts->keep_owner) &&
	       meta_xattrs(&c->meta, &sn, &dn, 0, NULL) == 0;
}

static void copy_regular(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *srcname = r->src;
	const char *dst = r->dst;
	struct stat dst_st;
	int have_dst = 0, absent = (t->flags & TASK_FRESH) != 0;
	if ((!c->opts->force || policy_looks(c->opts)) && !absent) {
		have_dst = fstatat(r->dst_fd, dst, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
		absent = !have_dst && errno == ENOENT;
	}
	/* The entry the copy updates or replaces: what --no-perms ... keep from it. */
	const struct stat *old = have_dst ? &dst_st : NULL;
	if (policy_looks(c->opts)) {
		struct stat scanned = task_stat(t);
		if (left_alone(c->opts, t->flags, absent, have_dst ? &dst_st : NULL, &scanned, 1)) {
			leave_alone(c, t, absent, have_dst ? &dst_st : NULL, d);
			return;
		}
	}
	if (c->opts->nbasis > 0 && !c->opts->force) {
		struct stat scanned = task_stat(t);
		meta_want(&c->meta, &scanned, old);
		if (copy_from_basis(c, t, &scanned, have_dst ? &dst_st : NULL, absent, d))
			return;
	}
	/* A link the source broke, or one into another tree (an older snapshot): a fresh copy
	 * under a temporary name, renamed over this name only, parts it from the other names
	 * (see TASK_ALONE), which a change in place would change too. */
	if (c->opts->force || (have_dst && S_ISREG(dst_st.st_mode) && dst_st.st_nlink > 1 &&
	                       ((t->flags & TASK_ALONE) || links_elsewhere(c, &dst_st))))
		have_dst = 0;
	/* The cheap case first: same size, mtime and metadata as scanned, no hash wanted or
	 * one the previous manifest proves (--previous-manifest). */
	const struct proven_file *proven =
	    have_dst && c->opts->need_hash ? copy_proven(c, &dst_st) : NULL;
	if (have_dst && !c->opts->checksum && (!c->opts->need_hash || proven != NULL) &&
	    quick_same(c, t, &dst_st, old)) {
		d->status = COPY_SKIPPED;
		d->bytes = t->size;
		if (proven != NULL)
			copy_reuse(c, proven, d);
		return;
	}
	int src =
	    openat(r->src_fd, srcname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (src < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return;
	}
	/* The first attempt trusts the scan's stat: copy_data() checks it against an fstat of
	 * the source after reading, and a file that changed since is tried again with its own. */
	struct stat sst = task_stat(t);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0 && fstat(src, &sst) != 0) {
			fail(d, STAGE_OPEN_SOURCE, errno);
			break;
		}
		meta_want(&c->meta, &sst, old);
		if (!S_ISREG(sst.st_mode)) {
			changed(d, STAGE_OPEN_SOURCE);
			break;
		}
		if (have_dst && up_to_date(c, src, &sst, &dst_st, d)) {
			if (d->status != COPY_FAILED)
				hash_skipped(c, &dst_st, d);
			break;
		}
		if (c->opts->dry_run) {
			d->status = COPY_COPIED;
			d->bytes = (uint64_t)sst.st_size;
			break;
		}
		if (t->flags & TASK_SPLIT) {
			copy_split_start(c, t, d);
			break;
		}
		if (sst.st_size > (off_t)c->bufsize)
			compat_sequential(src);
		if (copy_data(c, t, src, &sst, absent, d) != DATA_CHANGED)
			break;
		changed(d, STAGE_READ_SOURCE);
	}
	close(src);
}

/* left_alone() for a symbolic link or special file T (SST: its source), which is then
 * skipped (D filled). Returns 1 when it is. */
static int other_left_alone(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                            struct copy_done *d)
{
	if (!policy_looks(c->opts))
		return 0;
	struct stat st;
	int have = fstatat(c->at.dst_fd, c->at.dst, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int absent = (t->flags & TASK_FRESH) || (!have && errno == ENOENT);
	if (!left_alone(c->opts, t->flags, absent, have ? &st : NULL, sst, 0))
		return 0;
	d->status = COPY_SKIPPED;
	return 1;
}

static void copy_symlink(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	char target[PATH_MAX + 1], old[PATH_MAX + 1];
	ssize_t n = readlinkat(r->src_fd, r->src, target, sizeof(target) - 1);
	if (n < 0 || n >= (ssize_t)sizeof(target) - 1) {
		fail(d, STAGE_READ_LINK, n < 0 ? errno : ENAMETOOLONG);
		return;
	}
	target[n] = '\0';
	d->bytes = 0;
	struct stat st, sst = task_stat(t);
	if (other_left_alone(c, t, &sst, d))
		return;
	int have = fstatat(r->dst_fd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0;
	meta_want(&c->meta, &sst, have ? &st : NULL);
	/* As rsync: a link DEST lacks may be an earlier snapshot's (--link-dest). */
	if (!have && c->opts->nbasis > 0 && !c->opts->force &&
	    copy_symlink_from_basis(c, t, &sst, target, (size_t)n, d))
		return;
	/* A link with other names (an older snapshot's) is replaced, not changed (its time
	 * neither). */
	if (have && S_ISLNK(st.st_mode) && st.st_nlink > 1 &&
	    metadata_differs(c, -1, -1, &sst, &st, meta_keeps(&c->meta, META_KEEP_TIMES),
	                     META_LINK) != 0)
		have = 0;
	if (!c->opts->force && have && S_ISLNK(st.st_mode)) {
		ssize_t m = readlinkat(r->dst_fd, dst, old, sizeof(old) - 1);
		if (m == n && memcmp(old, target, (size_t)n) == 0) {
			/* The same link, up to date as rsync has it (and not backed up): its owner,
			 * xattrs and time may still differ. */
			d->status = COPY_SKIPPED;
			fix_metadata(c, -1, -1, &sst, &st, meta_keeps(&c->meta, META_KEEP_TIMES),
			             META_LINK, d);
			return;
		}
	}
	d->status = COPY_COPIED;
	if (c->opts->dry_run)
		return;
	const char *tmp = copy_tmp_name(c);
	if (symlinkat(target, r->dst_fd, tmp) != 0) {
		fail(d, STAGE_CREATE, errno);
		return;
	}
	/* A link's owner is kept where it can be; its xattrs (trusted.*, security.*: Linux
	 * allows no user.* on links) and times as for any entry. */
	copy_install(c, -1, -1, tmp, &sst, META_LINK, d);
}

/* FIFOs and device nodes. */
static void copy_special(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	mode_t type = (mode_t)t->mode & S_IFMT;
	if ((S_ISCHR(type) || S_ISBLK(type)) && c->euid != 0) {
		d->status = COPY_UNSUPPORTED;
		return;
	}
	struct stat st, sst = task_stat(t);
	sst.st_rdev = (dev_t)t->rdev;
	if (other_left_alone(c, t, &sst, d))
		return;
	int have = fstatat(r->dst_fd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0;
	meta_want(&c->meta, &sst, have ? &st : NULL);
	if (!c->opts->force && have && (st.st_mode & S_IFMT) == type &&
	    st.st_rdev == (dev_t)t->rdev) {
		/* The same node, up to date as rsync has it (and not backed up): its owner,
		 * mode, xattrs and time may still differ. */
		d->status = COPY_SKIPPED;
		fix_metadata(c, -1, -1, &sst, &st, meta_keeps(&c->meta, META_KEEP_TIMES), 0, d);
		return;
	}
	d->status = COPY_COPIED;
	if (c->opts->dry_run)
		return;
	const char *tmp = copy_tmp_name(c);
	if (mknodat(r->dst_fd, tmp, type | 0600, (dev_t)t->rdev) != 0) {
		fail(d, STAGE_CREATE, errno);
		return;
	}
	copy_install(c, -1, -1, tmp, &sst, 0, d);
}

/* Open the parent directories of SRC and DST of root ROOT (see at.h) into c->at, for task
 * T. */
static int find_place_at(struct copy_ctx *c, const struct copy_task *t, const char *src,
                         const char *dst, struct copy_done *d)
{
	const struct copy_root *root = &c->roots[t->root];
	struct copy_place *p = &c->at;
	p->src_fd = at_parent(&c->src_dirs, root->src_fd, src, &p->src);
	if (p->src_fd < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return -1;
	}
	p->dst_path = dst;
	p->root = t->root;
	p->dst_fd = at_parent(&c->dst_dirs, root->dst_fd, p->dst_path, &p->dst);
	if (p->dst_fd < 0 && c->opts->check && errno == ENOENT) {
		d->status = COPY_DIFFERENT;
		d->diff = DIFF_MISSING;
		return -1;
	}
	/* A dry run does not make directories: below one that is missing, all would be new. */
	if (p->dst_fd < 0 && c->opts->dry_run &&
	    (root->dst_fd < 0 || errno == ENOENT || errno == EBADF)) {
		d->status = S_ISSOCK((mode_t)t->mode) ? COPY_UNSUPPORTED : COPY_COPIED;
		d->bytes = S_ISREG((mode_t)t->mode) ? t->size : 0;
		return -1;
	}
	if (p->dst_fd < 0) {
		fail(d, STAGE_CREATE, errno);
		return -1;
	}
	return 0;
}

/* Open the parent directories of T's source and destination into c->at. */
static int find_place(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	return find_place_at(c, t, names_get(c->names, t->src), names_get(c->names, t->dst), d);
}

void copy_task_set_stat(struct copy_task *t, const struct stat *st)
{
	t->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	t->atime_sec = st->st_atim.tv_sec;
	t->atime_nsec = (int32_t)st->st_atim.tv_nsec;
	t->mtime_sec = st->st_mtim.tv_sec;
	t->mtime_nsec = (int32_t)st->st_mtim.tv_nsec;
	t->rdev = st->st_rdev;
	t->mode = st->st_mode;
	t->uid = st->st_uid;
	t->gid = st->st_gid;
	t->flags |= (S_ISREG(st->st_mode) && st->st_nlink == 1 ? TASK_ALONE : 0) |
	            (meta_sparse(st) ? TASK_SPARSE : 0);
}

int copy_current_allowed(const struct copy_opts *o)
{
	/* What else would look at the file, or at more than the two entries: -u and the like,
	 * --no-perms ... (policy_looks), --link-dest, -c, a hash for the manifest or --json,
	 * --check, -i; and the test hook that slows each file's task. */
	return !o->force && !policy_looks(o) && o->nbasis == 0 && !o->checksum && !o->need_hash &&
	       !o->check && !o->itemize && o->test_slow_ms == 0;
}

int copy_current(struct copy_ctx *c, uint32_t root, const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 || !copy_current_allowed(c->opts))
		return 0;
	struct copy_task t;
	struct copy_done d;
	struct stat dst_st;
	memset(&t, 0, sizeof(t));
	copy_task_set_stat(&t, st);
	t.root = root;
	if (find_place_at(c, &t, path, path, &d) != 0 ||
	    fstatat(c->at.dst_fd, c->at.dst, &dst_st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	/* A twin with other names is copied anew (TASK_ALONE, copy_regular). */
	if (!S_ISREG(dst_st.st_mode) || dst_st.st_nlink > 1)
		return 0;
	return quick_same(c, &t, &dst_st, &dst_st);
}

void copy_run(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	mode_t type = (mode_t)t->mode & S_IFMT;
	int itemize = c->opts->itemize && !c->opts->check && !(t->flags & TASK_PART);
	if (find_place(c, t, d) != 0) {
		if (itemize && d->status == COPY_COPIED) /* a dry run below a missing directory */
			d->diff = ITEM_NEW;
		return;
	}
	uint32_t items = itemize ? copy_task_items(c, t) : 0;
	if (c->opts->check)
		copy_compare(c, d);
	else if (t->flags & TASK_PART)
		copy_part(c, t, d);
	else if (t->flags & TASK_SEAL)
		copy_seal(c, t, d);
	else if (S_ISREG(type))
		copy_regular(c, t, d);
	else if (S_ISLNK(type))
		copy_symlink(c, t, d);
	else if (S_ISFIFO(type) || S_ISCHR(type) || S_ISBLK(type))
		copy_special(c, t, d);
	else
		d->status = COPY_UNSUPPORTED;
	if (itemize &&
	    (d->status == COPY_COPIED || d->status == COPY_METADATA || d->status == COPY_SKIPPED))
		d->diff = items;
	if (*c->stop && d->status == COPY_FAILED && d->err == EINTR)
		d->status = COPY_INTERRUPTED;
}
