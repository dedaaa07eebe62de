/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/basis: --link-dest and --copy-dest in a worker (copy_from_basis, copy.h). A regular
 * file whose twin in an earlier snapshot is the same as the source is hard-linked from there
 * (rsync's --link-dest) or copied from there (--copy-dest) instead of copied from the source.
 * "The same" is rsync's: size, mtime, permission bits, owner when owners are kept, xattrs and
 * ACLs, with -c the content too; the first directory with such a twin wins.
 *
 * The link is made under a temporary name renamed over DEST's name, so what DEST had there
 * (perhaps a link into another snapshot) is replaced, never changed. A linked file's hash,
 * when one is wanted, comes from --link-manifest when that proves it (struct copy_sums), or
 * from reading the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy/internal.h"

/* A twin in snapshot K: its directory, name and lstat data. */
struct twin {
	size_t k;
	int dir;
	const char *leaf;
	struct stat st;
};

/* Look up the twin of the task's destination path in snapshot K into *W. 0, or -1. */
static int twin_find(struct copy_ctx *c, const struct copy_task *t, size_t k, struct twin *w)
{
	int root = c->opts->basis_fds[(size_t)t->root * c->opts->nbasis + k];
	if (root < 0)
		return -1;
	w->k = k;
	w->dir = at_parent(&c->basis_dirs, root, c->at.dst_path, &w->leaf);
	if (w->dir < 0 || fstatat(w->dir, w->leaf, &w->st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	return 0;
}

/* Hash the regular file LEAF in DIR (lstat ST) into *H. 0, or -1 with errno. */
static int hash_at(struct copy_ctx *c, int dir, const char *leaf, const struct stat *st,
                   struct hash128 *h)
{
	int fd = openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	enum data_result res = copy_hash_fd(c, fd, (uint64_t)st->st_size, meta_sparse(st), h);
	int e = errno;
	close(fd);
	errno = e;
	return res == DATA_OK ? 0 : -1;
}

/* 1 when the twin W is the same as the source SST (its hash in *SH once read, *HAVE_SH). */
static int twin_same(struct copy_ctx *c, const struct stat *sst, const struct twin *w,
                     struct hash128 *sh, int *have_sh)
{
	if (!copy_quick_same(sst, &w->st, c->opts->keep_owner))
		return 0;
	struct meta_node sn = src_node(c, -1), tn = {-1, w->dir, w->leaf};
	if (meta_xattrs(&c->meta, &sn, &tn, 0, NULL) != 0)
		return 0;
	if (!c->opts->checksum)
		return 1;
	if (*have_sh == 0)
		*have_sh = hash_at(c, c->at.src_fd, c->at.src, sst, sh) == 0 ? 1 : -1;
	struct hash128 th;
	return *have_sh == 1 && hash_at(c, w->dir, w->leaf, &w->st, &th) == 0 &&
	       hash_equal(*sh, th);
}

static int sums_cmp(const char *prefix, const char *path, const char *line)
{
	size_t n = strlen(prefix);
	int r = strncmp(prefix, line, n);
	return r != 0 ? r : strcmp(path, line + n);
}

/*
 * The hash --link-manifest gives twin W, into *H, when it is proven: the manifest has its path
 * and the twin's inode has not changed since its snapshot was completed. Returns 1, or 0.
 */
static int sums_hash(const struct copy_ctx *c, const struct copy_task *t, const struct twin *w,
                     struct hash128 *h)
{
	const struct copy_sums *s = c->opts->basis_sums ? &c->opts->basis_sums[w->k] : NULL;
	if (s == NULL || s->n == 0)
		return 0;
	/* The twin's ctime is its own (not FAT's mtime) and STAMP_SETTLE_SEC older than the
	 * completion its marker records: a change in the same tick as the marker is not missed. */
	struct stamp ws;
	stamp_of(&ws, &w->st);
	if (!stamp_ctime_own(&ws) || !stamp_ctime_before(ws.ctime_sec, ws.ctime_nsec, &s->complete))
		return 0;
	const char *prefix = s->prefix[t->root], *path = c->at.dst_path;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = sums_cmp(prefix, path, s->paths[mid]);
		if (r == 0) {
			*h = s->hashes[mid];
			return 1;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Hard-link twin W under DEST's name (DST: what is there, or NULL). Returns 0 (D filled), or
 * -1 with errno when the link cannot be made (the caller copies instead). */
static int link_twin(struct copy_ctx *c, const struct twin *w, const struct stat *dst,
                     struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	d->bytes = 0;
	if (dst != NULL && dst->st_ino == w->st.st_ino && dst->st_dev == w->st.st_dev) {
		d->status = COPY_SKIPPED;
		return 0;
	}
	d->status = COPY_COPIED;
	if (c->opts->dry_run)
		return 0;
	const char *tmp = copy_tmp_name(c);
	if (linkat(w->dir, w->leaf, r->dst_fd, tmp, 0) != 0)
		return -1;
	enum copy_stage stage = STAGE_NONE;
	if (copy_backup_old(c) != 0)
		stage = STAGE_BACKUP;
	else if (renameat(r->dst_fd, tmp, r->dst_fd, r->dst) != 0)
		stage = copy_install_stage(errno, STAGE_RENAME);
	if (stage != STAGE_NONE) {
		fail(d, stage, errno);
		unlinkat(r->dst_fd, tmp, 0);
	}
	return 0;
}

/* --copy-dest: copy twin W to DEST's name as if it were the source. */
static void copy_twin(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                      const struct twin *w, int absent, struct copy_done *d)
{
	int fd = openat(w->dir, w->leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return;
	}
	if (c->opts->dry_run) {
		d->status = COPY_COPIED;
		d->bytes = (uint64_t)sst->st_size;
	} else if (copy_data(c, t, fd, sst, absent, d) == DATA_CHANGED) {
		changed(d, STAGE_READ_SOURCE);
	}
	close(fd);
}

/* 1 when the twin W is the same symbolic link as the source SST to TARGET (LEN bytes). */
static int twin_same_link(struct copy_ctx *c, const struct stat *sst, const struct twin *w,
                          const char *target, size_t len)
{
	char old[PATH_MAX + 1];
	if (!S_ISLNK(w->st.st_mode) || w->st.st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	    w->st.st_mtim.tv_nsec != sst->st_mtim.tv_nsec ||
	    (c->opts->keep_owner && (w->st.st_uid != sst->st_uid || w->st.st_gid != sst->st_gid)))
		return 0;
	ssize_t n = readlinkat(w->dir, w->leaf, old, sizeof(old) - 1);
	if (n < 0 || (size_t)n != len || memcmp(old, target, len) != 0)
		return 0;
	struct meta_node sn = src_node(c, -1), tn = {-1, w->dir, w->leaf};
	return meta_xattrs(&c->meta, &sn, &tn, 0, NULL) == 0;
}

int copy_symlink_from_basis(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                            const char *target, size_t len, struct copy_done *d)
{
	struct twin w;
	int found = 0;
	for (size_t k = 0; k < c->opts->nbasis && !found; k++)
		found = twin_find(c, t, k, &w) == 0 && twin_same_link(c, sst, &w, target, len);
	/* --copy-dest: a link is made from its target, the same either way. */
	if (!found || c->opts->basis_copy)
		return 0;
	return link_twin(c, &w, NULL, d) == 0;
}

int copy_from_basis(struct copy_ctx *c, const struct copy_task *t, const struct stat *sst,
                    const struct stat *dst, int absent, struct copy_done *d)
{
	struct twin w;
	struct hash128 sh = {0, 0};
	int have_sh = 0, found = 0;
	/* rsync's --copy-dest leaves a file DEST has to the usual check; --link-dest links over
	 * it, even over an identical copy. */
	if (c->opts->basis_copy && dst != NULL)
		return 0;
	for (size_t k = 0; k < c->opts->nbasis && !found; k++)
		found = twin_find(c, t, k, &w) == 0 && twin_same(c, sst, &w, &sh, &have_sh);
	if (!found)
		return 0;
	if (c->opts->basis_copy) {
		copy_twin(c, t, sst, &w, absent, d);
		return 1;
	}
	/* The hash first: linking changes the twin's ctime, which proves the manifest's. */
	int hashed =
	    have_sh == 1 || !c->opts->need_hash || sums_hash(c, t, &w, &sh) || c->opts->dry_run;
	if (!hashed && hash_at(c, w.dir, w.leaf, &w.st, &sh) != 0) {
		fail(d, STAGE_READ_SOURCE, errno);
		return 1;
	}
	if (link_twin(c, &w, dst, d) != 0)
		return 0; /* no link here (another file system, too many links): copy */
	if (d->status != COPY_FAILED && c->opts->need_hash && !c->opts->dry_run) {
		d->hash = sh;
		d->hashed = 1;
	}
	return 1;
}
