/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/check.c: --check's comparison of one entry with its copy (type, mode, owner, times,
 * size, device, xattrs, ACLs, contents, link target) and of hard-link groups (see copy.h).
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "copy/internal.h"

int copy_quick_same(const struct stat *src, const struct stat *dst, int owner)
{
	return S_ISREG(src->st_mode) && S_ISREG(dst->st_mode) && src->st_size == dst->st_size &&
	       src->st_mtim.tv_sec == dst->st_mtim.tv_sec &&
	       src->st_mtim.tv_nsec == dst->st_mtim.tv_nsec &&
	       meta_perm(src->st_mode) == meta_perm(dst->st_mode) &&
	       (!owner || (src->st_uid == dst->st_uid && src->st_gid == dst->st_gid));
}

uint32_t copy_compare_stat(const struct stat *a, const struct stat *b, int owner)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT))
		return DIFF_TYPE;
	uint32_t diff = 0;
	if (!S_ISLNK(a->st_mode) && meta_perm(a->st_mode) != meta_perm(b->st_mode))
		diff |= DIFF_MODE;
	if (owner && (a->st_uid != b->st_uid || a->st_gid != b->st_gid))
		diff |= DIFF_OWNER;
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec)
		diff |= DIFF_TIMES;
	if (S_ISREG(a->st_mode) && a->st_size != b->st_size)
		diff |= DIFF_CONTENT;
	if ((S_ISCHR(a->st_mode) || S_ISBLK(a->st_mode)) && a->st_rdev != b->st_rdev)
		diff |= DIFF_DEVICE;
	return diff;
}

uint32_t copy_compare_want(const struct meta_ctx *m, const struct stat *src, const struct stat *dst,
                           int owner)
{
	struct stat want = *src;
	meta_want(m, &want, dst);
	uint32_t diff = copy_compare_stat(&want, dst, owner);
	return meta_keeps(m, META_KEEP_TIMES) ? diff : diff & ~(uint32_t)DIFF_TIMES;
}

uint32_t copy_compare_xattrs(struct meta_ctx *m, const struct meta_node *src,
                             const struct meta_node *dst)
{
	unsigned what = 0;
	if (meta_xattrs(m, src, dst, 0, &what) < 0)
		return 0;
	return (what & META_DIFF_XATTR ? DIFF_XATTR : 0) | (what & META_DIFF_ACL ? DIFF_ACL : 0);
}

/* 1 when A and B are names of the same inode in the destination tree (DST) or the source. */
static int same_inode(const struct copy_linkname *a, const struct copy_linkname *b, int dst)
{
	return dst ? a->dst_dev == b->dst_dev && a->dst_ino == b->dst_ino
	           : a->src_dev == b->src_dev && a->src_ino == b->src_ino;
}

/* Order names by their inode in one tree, then by ENTRY. */
static int by_inode(const struct copy_linkname *a, const struct copy_linkname *b, int dst)
{
	uint64_t ad = dst ? a->dst_dev : a->src_dev, bd = dst ? b->dst_dev : b->src_dev;
	uint64_t ai = dst ? a->dst_ino : a->src_ino, bi = dst ? b->dst_ino : b->src_ino;
	if (ad != bd)
		return ad < bd ? -1 : 1;
	if (ai != bi)
		return ai < bi ? -1 : 1;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

static int by_src(const void *a, const void *b)
{
	return by_inode(a, b, 0);
}

static int by_dst(const void *a, const void *b)
{
	return by_inode(a, b, 1);
}

/* Sorted by their inode in tree SIDE, mark each name that is not on the same inode in the
 * other tree as the first name of its group. */
static void mark_split(struct copy_linkname *p, size_t n, int side)
{
	for (size_t i = 1, first = 0; i < n; i++) {
		if (!same_inode(&p[i], &p[first], side))
			first = i;
		else if (!same_inode(&p[i], &p[first], !side))
			p[i].differs = 1;
	}
}

void copy_link_diffs(struct copy_linkname *p, size_t n)
{
	if (n < 2) /* nothing to group (and qsort wants a real array) */
		return;
	/* Names of one source inode must share one destination inode ... */
	qsort(p, n, sizeof(*p), by_src);
	mark_split(p, n, 0);
	/* ... and names of one destination inode one source inode. */
	qsort(p, n, sizeof(*p), by_dst);
	mark_split(p, n, 1);
}

/* Compare regular file contents of the open SRC and the destination name DST. */
static int contents_differ(struct copy_ctx *c, int src, const struct stat *sst,
                           const struct stat *dst_st, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	int dfd = openat(r->dst_fd, r->dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 1;
	struct hash128 hs, hd;
	int ok = copy_hash_fd(c, src, (uint64_t)sst->st_size, meta_sparse(sst), &hs) == DATA_OK;
	if (ok) {
		d->hash = hs;
		d->hashed = 1;
	}
	ok = ok &&
	     copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size, meta_sparse(dst_st), &hd) == DATA_OK;
	close(dfd);
	return !ok || !hash_equal(hs, hd);
}

/* --check for one entry. */
void copy_compare(struct copy_ctx *c, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *srcname = r->src;
	struct stat sst, dst;
	if (fstatat(r->src_fd, srcname, &sst, AT_SYMLINK_NOFOLLOW) != 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return;
	}
	d->bytes = S_ISREG(sst.st_mode) ? (uint64_t)sst.st_size : 0;
	if (fstatat(r->dst_fd, r->dst, &dst, AT_SYMLINK_NOFOLLOW) != 0) {
		d->diff = DIFF_MISSING;
	} else {
		d->diff = copy_compare_want(&c->meta, &sst, &dst, c->opts->keep_owner);
	}
	if (d->diff & (DIFF_MISSING | DIFF_TYPE)) {
		d->status = COPY_DIFFERENT;
		return;
	}
	if (sst.st_nlink > 1 || dst.st_nlink > 1) { /* which names share it: see complete() */
		d->notes |= COPY_NOTE_LINKS;
		d->src_dev = sst.st_dev, d->src_ino = sst.st_ino;
		d->dst_dev = dst.st_dev, d->dst_ino = dst.st_ino;
	}
	struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, r->dst);
	d->diff |= copy_compare_xattrs(&c->meta, &sn, &dn);
	if (S_ISREG(sst.st_mode) && !(d->diff & DIFF_CONTENT)) {
		int src = openat(r->src_fd, srcname,
		                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (src < 0) {
			fail(d, STAGE_OPEN_SOURCE, errno);
			return;
		}
		if (contents_differ(c, src, &sst, &dst, d))
			d->diff |= DIFF_CONTENT;
		close(src);
	} else if (S_ISLNK(sst.st_mode)) {
		char a[PATH_MAX + 1], b[PATH_MAX + 1];
		ssize_t na = readlinkat(r->src_fd, srcname, a, sizeof(a));
		ssize_t nb = readlinkat(r->dst_fd, r->dst, b, sizeof(b));
		if (na < 0) {
			fail(d, STAGE_READ_LINK, errno);
			return;
		}
		if (na != nb || memcmp(a, b, (size_t)na) != 0)
			d->diff |= DIFF_LINK;
	}
	d->status = d->diff ? COPY_DIFFERENT : COPY_SKIPPED;
}
