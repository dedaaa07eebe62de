/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/item: -i, --itemize-changes and --log-file: what a copy changes in the destination,
 * as the letters of rsync's itemized lines (enum copy_item), found before the copy from the
 * lstat data of both sides, their symlink targets and their xattrs and ACLs.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "copy/internal.h"

uint32_t copy_items(struct meta_ctx *m, const struct stat *src, const struct stat *dst, int owner,
                    const struct meta_node nodes[2])
{
	if (dst == NULL || (src->st_mode & S_IFMT) != (dst->st_mode & S_IFMT))
		return ITEM_NEW;
	uint32_t items = 0;
	if (S_ISREG(src->st_mode) && src->st_size != dst->st_size)
		items |= ITEM_SIZE;
	if ((S_ISCHR(src->st_mode) || S_ISBLK(src->st_mode)) && src->st_rdev != dst->st_rdev)
		items |= ITEM_CHANGE;
	/* In whole seconds, as rsync's letter compares them. */
	if (meta_keeps(m, META_KEEP_TIMES) && src->st_mtim.tv_sec != dst->st_mtim.tv_sec)
		items |= ITEM_TIME;
	if (owner && src->st_uid != dst->st_uid)
		items |= ITEM_OWNER;
	if (owner && src->st_gid != dst->st_gid)
		items |= ITEM_GROUP;
	if (nodes != NULL) {
		uint32_t x = copy_compare_xattrs(m, &nodes[0], &nodes[1]);
		items |= (x & DIFF_XATTR ? ITEM_XATTR : 0) | (x & DIFF_ACL ? ITEM_ACL : 0);
	}
	/* Where the ACLs differ, the group bits are the ACL's mask: rsync's 'a', not 'p'. */
	mode_t bits = items & ITEM_ACL ? (mode_t)~(mode_t)S_IRWXG : (mode_t)~(mode_t)0;
	if (!S_ISLNK(src->st_mode) &&
	    (meta_mode(m, src, owner) & bits) != (meta_perm(dst->st_mode) & bits))
		items |= ITEM_PERMS;
	return items;
}

/* ITEM_CHANGE when the symlinks of the task at hand have different targets. */
static uint32_t link_change(const struct copy_ctx *c)
{
	char a[PATH_MAX + 1], b[PATH_MAX + 1];
	ssize_t na = readlinkat(c->at.src_fd, c->at.src, a, sizeof(a));
	ssize_t nb = readlinkat(c->at.dst_fd, c->at.dst, b, sizeof(b));
	return na != nb || (na > 0 && memcmp(a, b, (size_t)na) != 0) ? ITEM_CHANGE : 0;
}

uint32_t copy_task_items(struct copy_ctx *c, const struct copy_task *t)
{
	struct stat dst, src = copy_task_stat(t);
	src.st_rdev = (dev_t)t->rdev;
	if ((t->flags & TASK_FRESH) ||
	    fstatat(c->at.dst_fd, c->at.dst, &dst, AT_SYMLINK_NOFOLLOW) != 0)
		return ITEM_NEW;
	meta_want(&c->meta, &src, &dst);
	struct meta_node nodes[2] = {src_node(c, -1), dst_node(c, -1, c->at.dst)};
	uint32_t items = copy_items(&c->meta, &src, &dst, c->opts->keep_owner, nodes);
	if (!(items & ITEM_NEW) && S_ISLNK(src.st_mode))
		items |= link_change(c);
	return items;
}
