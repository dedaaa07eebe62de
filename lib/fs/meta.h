/*
 * meta: the metadata of one entry besides its data (owner, extended attributes and with them
 * POSIX ACLs and file capabilities, permission bits, times): compared, and set in the one
 * order that leaves them as the source has them.
 *
 * The order matters because the kernel undoes some of it: chown(2) clears the set-user-ID
 * and set-group-ID bits and removes security.capability; setting an access ACL rewrites the
 * group permission bits. So the owner comes first, then the xattrs, then the mode, then the
 * times, and whenever the owner is set everything after it is set again (meta_apply). Every
 * caller that sets metadata (new copies, re-runs, symbolic links, device nodes, directories)
 * goes through meta_apply, so that rule has one owner.
 *
 * An entry is reached through an open descriptor when there is one, else by its name in its
 * parent directory: symbolic links cannot be opened, and a re-run may not be allowed to open
 * a file it can still chown. Extended attributes of a name are read and written through
 * NAME from DIR as the working directory (meta_ctx_home), or through /proc/self/fd/DIR/NAME,
 * with the l*xattr calls, which do not follow a final symlink; where /proc is missing and
 * needed, such a name is treated as having none.
 */
#ifndef PCOPY_META_H
#define PCOPY_META_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* An entry whose metadata is read or set. */
struct meta_node {
	int fd;           /* the entry open (a file or directory), or -1: use DIR and NAME */
	int dir;          /* its parent directory (used when FD < 0) */
	const char *name; /* its name in DIR */
};

/* Who sets the metadata, and what they may set. */
struct meta_ctx {
	uid_t euid; /* this process's ids: set-id bits are kept when they own the copy */
	gid_t egid;
	int keep_owner; /* set uid/gid (root): and with it every xattr namespace */
	int refused;    /* set when the destination refused an xattr (no support, EPERM) */
	int home;       /* the working directory, to come back to after reaching a name from
	                 * its directory (meta_ctx_home), or -1: names go through /proc */
};

/* meta_apply FLAGS */
#define META_OWNED 1u    /* DST was just created and already has ST's owner: no chown */
#define META_MODE_SET 2u /* DST was just created with meta_create_mode(ST) */
#define META_LINK 4u     /* DST is a symbolic link: no mode */

/* meta_xattrs *WHAT bits */
#define META_DIFF_XATTR 1u /* an extended attribute other than an ACL differs */
#define META_DIFF_ACL 2u   /* a POSIX ACL (system.posix_acl_access/default) differs */

/* Fill M for this process; KEEP_OWNER: owners are kept (running as root). Needs no
 * meta_ctx_free unless meta_ctx_home was called. */
void meta_ctx_init(struct meta_ctx *m, int keep_owner);

/* Let M reach names by changing the working directory for the length of a call and back
 * (cheaper than /proc): for a process that no other thread shares. Returns 0, or -1. */
int meta_ctx_home(struct meta_ctx *m);

/* Close what meta_ctx_home opened. */
void meta_ctx_free(struct meta_ctx *m);

/*
 * Set ST's metadata (the source's lstat data) on DST, taking xattrs from SRC (NULL: none),
 * in the order owner, xattrs (extras that SRC lacks removed), mode, times. Returns 0, or -1
 * with errno. An xattr the destination refuses sets m->refused and is not an error.
 */
int meta_apply(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
               const struct stat *st, unsigned flags);

/*
 * Compare the xattrs of SRC and DST (names this process copies: every namespace as root, else
 * user.* and ACLs, as rsync -X does) and, with APPLY, make DST's like SRC's. *WHAT (may be
 * NULL) gets META_DIFF_* bits. Returns 0 (the same), 1 (they differed), or -1 with errno.
 */
int meta_xattrs(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                int apply, unsigned *what);

/*
 * The mode rule, in three parts. meta_perm: the permission bits of MODE (rwx for all three,
 * set-id and sticky), what modes are compared and set by. meta_create_mode: the bits a new
 * copy of ST is created with, rwx only: the others wait for meta_apply, after the owner.
 * meta_mode: the permission bits a copy of ST ends with, the set-id bits only when the copy
 * keeps the owner (OWNER_KEPT) or the source is the caller's own, as cp does.
 */
mode_t meta_perm(mode_t mode);
mode_t meta_create_mode(const struct stat *st);
mode_t meta_mode(const struct meta_ctx *m, const struct stat *st, int owner_kept);

/* 1 when ST (lstat data) is a regular file with fewer blocks than its size: it has holes,
 * worth finding with SEEK_DATA and keeping in a copy or an archive. */
int meta_sparse(const struct stat *st);

#endif
