/* SPDX-License-Identifier: BSD-2-Clause */
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
 *
 * Where the kernel has listxattrat (6.13), a name's list of xattrs is read in one call, with
 * no change of directory (most names have no xattrs: the list is all that is read). Otherwise,
 * and for values,
 * with meta_ctx_home the process stays in the directory of the last name it reached, so the
 * names of one directory cost one fchdir, not two each. That directory is known by its
 * descriptor's number, which a close frees for reuse: whoever closes a descriptor that may
 * have been a node's DIR calls meta_ctx_forget first (lib/copy does it through its at_cache
 * hook), and no caller of such a context may use a relative path on its own.
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

/* What of the source's metadata a copy takes (meta_policy.keep): rsync -a's parts that its
 * --no-perms, --no-owner, --no-group, --no-times, --no-xattrs and --no-acls turn off. */
#define META_KEEP_PERMS 1u
#define META_KEEP_OWNER 2u /* the user (as root) */
#define META_KEEP_GROUP 4u /* the group (as root) */
#define META_KEEP_TIMES 8u
#define META_KEEP_XATTRS 16u /* extended attributes other than ACLs */
#define META_KEEP_ACLS 32u
#define META_KEEP_ALL 63u

/* --chmod: rules applied in order to the source's permission bits (rsync's syntax). */
#define META_CHMOD_MAX 32
#define META_CHMOD_FILES 1u /* the rule is for non-directories ("F" or no prefix) */
#define META_CHMOD_DIRS 2u  /* ... for directories ("D" or no prefix) */
struct meta_chmod_rule {
	uint8_t kinds;  /* META_CHMOD_* */
	char op;        /* '+', '-', '=' (an octal mode is '=' with WHO 07777) */
	uint8_t cond_x; /* 'X': the x bits only for a directory or a mode with some x bit */
	uint16_t who;   /* the bits the rule may touch: u 04700, g 02070, o 01007, a 07777 */
	uint16_t bits;  /* the bits it names (r 0444, w 0222, x 0111, s 06000, t 01000) */
};

/* What a copy takes from its source and how it is changed on the way: plain data (it travels
 * to pcopy-mpi's ranks inside struct copy_opts). All zero: everything, as it is. */
struct meta_policy {
	unsigned drop;  /* META_KEEP_* bits of what is not taken (--no-perms ...) */
	unsigned chown; /* --chown: 1 every copy gets UID, 2 GID (as root) */
	uid_t uid;
	gid_t gid;
	unsigned nchmod; /* --chmod rules in CHMOD */
	struct meta_chmod_rule chmod[META_CHMOD_MAX];
};

/* Who sets the metadata, and what they may set. */
struct meta_ctx {
	uid_t euid; /* this process's ids: set-id bits are kept when they own the copy */
	gid_t egid;
	int keep_owner; /* set uid/gid (root): and with it every xattr namespace */
	int refused;    /* set when the destination refused an xattr (no support, EPERM) */
	int home;       /* the working directory at meta_ctx_home, come back to by
	                 * meta_ctx_free, or -1: names go through /proc */
	int cwd;        /* the node DIR that is the working directory now (meta_ctx_home),
	                 * or -1: none known (meta_ctx_forget) */
	int no_at;      /* 1: no listxattrat here (compat_listxattr_at): names are listed as
	                 * they are read, through the working directory or /proc */
	const struct meta_policy *policy; /* what is taken (NULL: everything, unchanged) */
	mode_t umask;                     /* the process's umask at meta_ctx_init (--no-perms) */
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

/* Let M reach names by making their directory the working directory, which stays until the
 * next name in another one (cheaper than /proc): for a process that no other thread shares
 * and that uses no relative path of its own. Returns 0, or -1. */
int meta_ctx_home(struct meta_ctx *m);

/* Descriptor FD is about to be closed: M no longer takes its number for the working
 * directory (a new descriptor may get the number). Call it for every node DIR closed. */
void meta_ctx_forget(struct meta_ctx *m, int fd);

/* Go back to the working directory meta_ctx_home found and close what it opened. */
void meta_ctx_free(struct meta_ctx *m);

/*
 * Set ST's metadata (the source's lstat data) on DST, taking xattrs from SRC (NULL: none),
 * in the order owner, xattrs (extras that SRC lacks removed), mode, times. Returns 0, or -1
 * with errno. An xattr the destination refuses sets m->refused and is not an error.
 */
int meta_apply(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
               const struct stat *st, unsigned flags);

/*
 * 1 when DST, whose lstat CUR is taken right before, has all that meta_apply would give it:
 * owner, mode, mtime, and the xattrs compared with SRC's (NULL: not compared); 0 when some
 * part differs or the xattrs could not be read. The atime is not compared (reading a
 * directory moves it; rsync keeps none).
 */
int meta_current(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                 const struct stat *st, const struct stat *cur, unsigned flags);

/*
 * meta_apply, unless DST (fstat CUR, taken right before) has all of it already
 * (meta_current): then nothing at all is set and DST's ctime stays. Returns 0, or -1 with
 * errno, as meta_apply.
 */
int meta_update(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                const struct stat *st, const struct stat *cur, unsigned flags);

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

/* 1 when M keeps the metadata of kind KEEP (META_KEEP_* bit). */
int meta_keeps(const struct meta_ctx *m, unsigned keep);
/* 1 when M keeps xattrs or ACLs (which are xattrs too): only then are lists worth reading. */
int meta_keeps_xattrs(const struct meta_ctx *m);

/*
 * Add the --chmod rules of TEXT (rsync's syntax: comma-separated items, each an optional D
 * or F, then an octal mode or [ugoa]*[-+=][rwxXst]*) to P. Returns 0, or -1 (EINVAL: bad
 * syntax, E2BIG: more than META_CHMOD_MAX rules in all), P then unchanged.
 */
int meta_chmod_parse(struct meta_policy *p, const char *text);

/* The permission bits of a file of MODE (type and bits) after P's --chmod rules. */
mode_t meta_chmod_apply(const struct meta_policy *p, mode_t mode);

/*
 * Turn the source's lstat data ST into what its copy is to end with under M's policy, where
 * OLD (NULL: none) is the destination entry the copy updates or replaces: --chmod, --chown,
 * and without META_KEEP_PERMS OLD's permission bits (a new entry: the source's, less the
 * umask and the set-id and sticky bits), without META_KEEP_OWNER / _GROUP OLD's owner (a
 * new entry: this process's), as rsync does. Times are left to meta_apply.
 */
void meta_want(const struct meta_ctx *m, struct stat *st, const struct stat *old);

/* 1 when ST (lstat data) is a regular file with fewer blocks than its size: it has holes,
 * worth finding with SEEK_DATA and keeping in a copy or an archive. */
int meta_sparse(const struct stat *st);

#endif
