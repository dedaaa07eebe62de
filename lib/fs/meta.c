/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * meta: owner, xattrs, mode and times of one entry, compared and set in order (see meta.h).
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
#ifdef HAVE_SYS_XATTR_H
#include <sys/xattr.h>
#endif

#include "common/compat.h"
#include "fs/meta.h"

/* The largest value Linux allows for one xattr (XATTR_SIZE_MAX). */
#define META_VALUE_MAX 65536
/* Lists and values up to this size are read into buffers on the stack. */
#define META_SMALL 4096

void meta_ctx_init(struct meta_ctx *m, int keep_owner)
{
	memset(m, 0, sizeof(*m));
	m->euid = geteuid();
	m->egid = getegid();
	m->keep_owner = keep_owner;
	m->home = -1;
	m->cwd = -1;
	m->umask = umask(0); /* read it: there is no other way */
	umask(m->umask);
}

int meta_keeps(const struct meta_ctx *m, unsigned keep)
{
	return m->policy == NULL || (m->policy->drop & keep) == 0;
}

int meta_keeps_xattrs(const struct meta_ctx *m)
{
	return meta_keeps(m, META_KEEP_XATTRS) || meta_keeps(m, META_KEEP_ACLS);
}

/* One --chmod item AT (up to a comma or the end) into *R. Returns the end, or NULL. */
static const char *chmod_item(const char *at, struct meta_chmod_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->kinds = META_CHMOD_FILES | META_CHMOD_DIRS;
	if (*at == 'D' || *at == 'F')
		r->kinds = *at++ == 'D' ? META_CHMOD_DIRS : META_CHMOD_FILES;
	if (*at >= '0' && *at <= '7') {
		unsigned v = 0;
		for (; *at >= '0' && *at <= '7'; at++)
			if ((v = v * 8 + (unsigned)(*at - '0')) > 07777)
				return NULL;
		r->op = '=';
		r->who = 07777;
		r->bits = (uint16_t)v;
		return *at == ',' || *at == '\0' ? at : NULL;
	}
	for (; strchr("ugoa", *at) != NULL && *at != '\0'; at++)
		r->who |= *at == 'u' ? 04700 : *at == 'g' ? 02070 : *at == 'o' ? 01007 : 07777;
	if (r->who == 0)
		r->who = 07777; /* as rsync: no umask is consulted */
	if (*at != '+' && *at != '-' && *at != '=')
		return NULL;
	r->op = *at++;
	for (; *at != ',' && *at != '\0'; at++) {
		switch (*at) {
		case 'r': r->bits |= 0444; break;
		case 'w': r->bits |= 0222; break;
		case 'x': r->bits |= 0111; break;
		case 'X': r->cond_x = 1; break;
		case 's': r->bits |= 06000; break;
		case 't': r->bits |= 01000; break;
		default: return NULL;
		}
	}
	return at;
}

int meta_chmod_parse(struct meta_policy *p, const char *text)
{
	unsigned n = p->nchmod;
	const char *at = text;
	do {
		if (n == META_CHMOD_MAX) {
			errno = E2BIG;
			return -1;
		}
		at = chmod_item(at, &p->chmod[n]);
		if (at == NULL) {
			errno = EINVAL;
			return -1;
		}
		n++;
	} while (*at++ == ',');
	p->nchmod = n;
	return 0;
}

mode_t meta_chmod_apply(const struct meta_policy *p, mode_t mode)
{
	mode_t perm = meta_perm(mode);
	unsigned kind = S_ISDIR(mode) ? META_CHMOD_DIRS : META_CHMOD_FILES;
	for (unsigned i = 0; i < p->nchmod; i++) {
		const struct meta_chmod_rule *r = &p->chmod[i];
		if (!(r->kinds & kind))
			continue;
		mode_t bits = r->bits;
		/* X looks at the mode the rules started from, as rsync's does */
		if (r->cond_x && (S_ISDIR(mode) || (mode & 0111)))
			bits |= 0111;
		bits &= r->who;
		if (r->op == '+')
			perm |= bits;
		else if (r->op == '-')
			perm &= ~bits;
		else
			perm = (perm & ~(mode_t)r->who) | bits;
	}
	return perm;
}

void meta_want(const struct meta_ctx *m, struct stat *st, const struct stat *old)
{
	const struct meta_policy *p = m->policy;
	if (p == NULL)
		return;
	mode_t perm = meta_chmod_apply(p, st->st_mode);
	if (p->drop & META_KEEP_PERMS)
		perm = old != NULL ? meta_perm(old->st_mode) : perm & 0777 & ~m->umask;
	st->st_mode = (st->st_mode & S_IFMT) | perm;
	if (p->chown & 1)
		st->st_uid = p->uid;
	if (p->chown & 2)
		st->st_gid = p->gid;
	if (p->drop & META_KEEP_OWNER)
		st->st_uid = old != NULL ? old->st_uid : m->euid;
	if (p->drop & META_KEEP_GROUP)
		st->st_gid = old != NULL ? old->st_gid : m->egid;
}

int meta_ctx_home(struct meta_ctx *m)
{
	m->home = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return m->home >= 0 ? 0 : -1;
}

void meta_ctx_forget(struct meta_ctx *m, int fd)
{
	if (fd == m->cwd)
		m->cwd = -1;
}

void meta_ctx_free(struct meta_ctx *m)
{
	if (m->home >= 0) {
		(void)!fchdir(m->home); /* back where meta_ctx_home found it */
		close(m->home);
	}
	m->home = -1;
	m->cwd = -1;
}

mode_t meta_perm(mode_t mode)
{
	return mode & 07777;
}

mode_t meta_create_mode(const struct stat *st)
{
	return st->st_mode & 0777;
}

mode_t meta_mode(const struct meta_ctx *m, const struct stat *st, int owner_kept)
{
	if (owner_kept || (st->st_uid == m->euid && st->st_gid == m->egid))
		return meta_perm(st->st_mode);
	return meta_perm(st->st_mode) & ~(mode_t)(S_ISUID | S_ISGID);
}

int meta_sparse(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_size > 0 &&
	       (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
}

#if defined(HAVE_FLISTXATTR) && defined(HAVE_FGETXATTR) && defined(HAVE_FSETXATTR)

/*
 * The path by which to reach N by name without following it, for the l*xattr calls: NAME
 * itself once N's directory is the working directory (when M has a home: one fchdir when
 * the directory differs from the last name's, none for the next names in it, see m->cwd),
 * else /proc/self/fd/DIR/NAME, a walk through /proc that costs several times the call itself.
 */
static const char *enter(struct meta_ctx *m, const struct meta_node *n, char *buf, size_t len)
{
	if (m->home >= 0 && n->dir == m->cwd)
		return n->name;
	if (m->home >= 0 && fchdir(n->dir) == 0) {
		m->cwd = n->dir;
		return n->name;
	}
	snprintf(buf, len, "/proc/self/fd/%d/%s", n->dir, n->name);
	return buf;
}

static ssize_t node_list(struct meta_ctx *m, const struct meta_node *n, char *list, size_t size)
{
	char buf[NAME_MAX + 64];
	if (n->fd >= 0)
		return flistxattr(n->fd, list, size);
	if (!m->no_at) { /* one call, where the kernel has it: most names have only a list */
		ssize_t rc = compat_listxattr_at(n->dir, n->name, list, size);
		if (rc >= 0 || (errno != ENOSYS && errno != EPERM))
			return rc;
		m->no_at = 1;
	}
	const char *path = enter(m, n, buf, sizeof(buf));
	return llistxattr(path, list, size);
}

static ssize_t node_get(struct meta_ctx *m, const struct meta_node *n, const char *name, void *val,
                        size_t size)
{
	char buf[NAME_MAX + 64];
	if (n->fd >= 0)
		return fgetxattr(n->fd, name, val, size);
	const char *path = enter(m, n, buf, sizeof(buf));
	return lgetxattr(path, name, val, size);
}

static int node_set(struct meta_ctx *m, const struct meta_node *n, const char *name,
                    const void *val, size_t size)
{
	char buf[NAME_MAX + 64];
	if (n->fd >= 0)
		return fsetxattr(n->fd, name, val, size, 0);
	const char *path = enter(m, n, buf, sizeof(buf));
	return lsetxattr(path, name, val, size, 0);
}

static int node_remove(struct meta_ctx *m, const struct meta_node *n, const char *name)
{
	char buf[NAME_MAX + 64];
	if (n->fd >= 0)
		return fremovexattr(n->fd, name);
	const char *path = enter(m, n, buf, sizeof(buf));
	return lremovexattr(path, name);
}

static int is_acl(const char *name)
{
	return strcmp(name, "system.posix_acl_access") == 0 ||
	       strcmp(name, "system.posix_acl_default") == 0;
}

/* The names this process compares and copies: all of them as root; otherwise only those a
 * file's owner can set (user.* and ACLs), as rsync -X does, so that a name a user may read
 * but never set (security.*) does not make every re-run "update" the file. */
static int wanted(const struct meta_ctx *m, const char *name)
{
	if (is_acl(name))
		return meta_keeps(m, META_KEEP_ACLS);
	return meta_keeps(m, META_KEEP_XATTRS) && (m->euid == 0 || strncmp(name, "user.", 5) == 0);
}

static int unsupported(int err)
{
	return err == ENOTSUP || err == EOPNOTSUPP;
}

/*
 * The xattr names of N into *LIST (SMALL, of META_SMALL bytes, or a malloc'd buffer the
 * caller frees). Returns the list's length (0 with *NONE set where N's file system has no
 * xattrs), or -1 with errno.
 */
static ssize_t list_names(struct meta_ctx *m, const struct meta_node *n, char *small, char **list,
                          int *none)
{
	char *big = NULL;
	*list = small;
	*none = 0;
	ssize_t len = node_list(m, n, small, META_SMALL);
	while (len < 0 && errno == ERANGE) {
		/* A long list: ask for its size and read it whole (it may grow meanwhile). */
		free(big);
		big = NULL;
		ssize_t want = node_list(m, n, NULL, 0);
		if (want < 0)
			break;
		if ((big = malloc((size_t)want + 1)) == NULL)
			break;
		len = node_list(m, n, big, (size_t)want + 1);
	}
	if (len < 0) {
		int e = errno;
		free(big);
		/* Without /proc (a chroot, a sandbox) names cannot be reached this way: there are
		 * no xattrs to be had for them, as on a file system without any. */
		if (unsupported(e) ||
		    (n->fd < 0 && e == ENOENT && access("/proc/self/fd", X_OK) != 0)) {
			*none = 1;
			return 0;
		}
		errno = e;
		return -1;
	}
	if (big != NULL)
		*list = big;
	return len;
}

/* 1 when NAME is in the LEN bytes of names at LIST. */
static int listed(const char *list, ssize_t len, const char *name)
{
	for (const char *p = list; p < list + len; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

/*
 * The value of NAME on N into *VAL (SMALL, of META_SMALL bytes, or BIG, of META_VALUE_MAX,
 * allocated on first need). Returns its length, or -1 with errno (ENODATA: no such name).
 */
static ssize_t get_value(struct meta_ctx *m, const struct meta_node *n, const char *name,
                         char *small, char **big, char **val)
{
	*val = small;
	ssize_t len = node_get(m, n, name, small, META_SMALL);
	if (len >= 0 || errno != ERANGE)
		return len;
	if (*big == NULL && (*big = malloc(META_VALUE_MAX)) == NULL)
		return -1;
	*val = *big;
	return node_get(m, n, name, *big, META_VALUE_MAX);
}

/*
 * --chown: in the POSIX ACL xattr value VAL of LEN bytes (a 4-byte header, then 8-byte entries
 * of tag, permissions and id, little-endian), give the named users and groups the owner and
 * group P gives every copy, as rsync's --chown (a --usermap of every id) does.
 */
static void chown_acl(const struct meta_policy *p, char *val, ssize_t len)
{
	for (ssize_t at = 4; at + 8 <= len; at += 8) {
		unsigned char *e = (unsigned char *)val + at;
		unsigned tag = e[0] | (unsigned)e[1] << 8;
		uint32_t id;
		if (tag == 2 && (p->chown & 1)) /* ACL_USER */
			id = (uint32_t)p->uid;
		else if (tag == 8 && (p->chown & 2)) /* ACL_GROUP */
			id = (uint32_t)p->gid;
		else
			continue;
		for (int i = 0; i < 4; i++)
			e[4 + i] = (unsigned char)(id >> (8 * i));
	}
}

/* One name of SRC against DST: compare, and with APPLY set it. 0, 1 (differed) or -1. */
static int sync_one(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                    const char *name, int apply, char *bufs[4])
{
	char *sv, *dv;
	ssize_t slen = get_value(m, src, name, bufs[0], &bufs[1], &sv);
	if (slen < 0)
		return errno == ENODATA ? 0 : -1; /* gone since it was listed */
	if (m->policy != NULL && m->policy->chown != 0 && is_acl(name))
		chown_acl(m->policy, sv, slen);
	ssize_t dlen = get_value(m, dst, name, bufs[2], &bufs[3], &dv);
	if (dlen < 0 && errno != ENODATA && !unsupported(errno))
		return -1;
	if (dlen == slen && memcmp(sv, dv, (size_t)slen) == 0)
		return 0;
	if (apply && node_set(m, dst, name, sv, (size_t)slen) != 0) {
		if (!unsupported(errno) && errno != EPERM)
			return -1;
		m->refused = 1;
	}
	return 1;
}

int meta_xattrs(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                int apply, unsigned *what)
{
	char ssmall[META_SMALL], dsmall[META_SMALL], vsmall[2][META_SMALL];
	char *slist, *dlist, *bufs[4] = {vsmall[0], NULL, vsmall[1], NULL};
	int snone, dnone, rc = 0;
	unsigned diff = 0;
	if (!meta_keeps_xattrs(m)) { /* nothing of them is kept: no list to read on either side */
		if (what != NULL)
			*what = 0;
		return 0;
	}
	ssize_t slen = list_names(m, src, ssmall, &slist, &snone);
	ssize_t dlen = slen < 0 ? -1 : list_names(m, dst, dsmall, &dlist, &dnone);
	if (slen < 0 || dlen < 0) {
		rc = -1;
		goto out;
	}
	if (dnone) { /* nothing can be kept there: not a difference worth a re-run */
		m->refused |= apply && slen > 0;
		goto out;
	}
	for (const char *p = slist; p < slist + slen && rc >= 0; p += strlen(p) + 1) {
		if (!wanted(m, p))
			continue;
		int r = sync_one(m, src, dst, p, apply, bufs);
		if (r > 0)
			diff |= is_acl(p) ? META_DIFF_ACL : META_DIFF_XATTR;
		if (r < 0)
			rc = -1;
	}
	for (const char *p = dlist; p < dlist + dlen && rc >= 0; p += strlen(p) + 1) {
		if (!wanted(m, p) || listed(slist, slen, p))
			continue;
		diff |= is_acl(p) ? META_DIFF_ACL : META_DIFF_XATTR;
		if (apply && node_remove(m, dst, p) != 0 && errno != ENODATA) {
			if (unsupported(errno) || errno == EPERM)
				m->refused = 1;
			else
				rc = -1;
		}
	}
out:;
	int e = errno;
	if (slen >= 0 && slist != ssmall)
		free(slist);
	if (dlen >= 0 && dlist != dsmall)
		free(dlist);
	free(bufs[1]);
	free(bufs[3]);
	errno = e;
	if (what != NULL)
		*what = diff;
	return rc < 0 ? -1 : diff != 0;
}

#else /* no xattr calls: nothing to compare or copy */

int meta_xattrs(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                int apply, unsigned *what)
{
	(void)m;
	(void)src;
	(void)dst;
	(void)apply;
	if (what != NULL)
		*what = 0;
	return 0;
}

#endif

static int node_chown(const struct meta_node *n, uid_t uid, gid_t gid)
{
	if (n->fd >= 0)
		return fchown(n->fd, uid, gid);
	return fchownat(n->dir, n->name, uid, gid, AT_SYMLINK_NOFOLLOW);
}

static int node_chmod(const struct meta_node *n, mode_t mode)
{
	if (n->fd >= 0)
		return fchmod(n->fd, mode);
	return fchmodat(n->dir, n->name, mode, 0);
}

/* The owner meta_apply gives a copy of ST: *UID and *GID, -1 for a part left as it is
 * (without --owner or --group, rsync's --no-owner, --no-group: this process's on a new
 * entry, the old one's on an entry fixed in place). Returns 1 when nothing is to be set. */
static int want_owner(const struct meta_ctx *m, const struct stat *st, uid_t *uid, gid_t *gid)
{
	*uid = meta_keeps(m, META_KEEP_OWNER) ? st->st_uid : (uid_t)-1;
	*gid = meta_keeps(m, META_KEEP_GROUP) ? st->st_gid : (gid_t)-1;
	return *uid == (uid_t)-1 && *gid == (gid_t)-1;
}

int meta_apply(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
               const struct stat *st, unsigned flags)
{
	int link = (flags & META_LINK) != 0;
	/* 1. The owner: chown clears set-id bits and security.capability, so it goes first. A
	 * refused chown is not an error: the copy then loses its set-id bits, as with cp. */
	int owner_kept = (flags & META_OWNED) != 0;
	uid_t uid;
	gid_t gid;
	if (want_owner(m, st, &uid, &gid))
		owner_kept = 1;
	if (!owner_kept && m->keep_owner)
		owner_kept = node_chown(dst, uid, gid) == 0;
	/* 2. The xattrs, capabilities and ACLs among them, now that chown cannot remove them. */
	unsigned what = 0;
	int forced = 0;
	if (src != NULL && meta_xattrs(m, src, dst, 1, &what) < 0) {
		/* A user's read-only file takes no user.* xattr: open it to its owner for the
		 * time being; the mode below is set in any case. */
		if (errno != EACCES || m->euid == 0 || link ||
		    node_chmod(dst, meta_create_mode(st) | S_IRUSR | S_IWUSR) != 0 ||
		    meta_xattrs(m, src, dst, 1, &what) < 0)
			return -1;
		forced = 1;
	}
	/* 3. The mode: set-id bits after chown, group bits after an ACL rewrote them. */
	if (!link) {
		mode_t mode = meta_mode(m, st, owner_kept);
		if ((!(flags & META_MODE_SET) || mode != meta_create_mode(st) ||
		     (what & META_DIFF_ACL) || forced) &&
		    node_chmod(dst, mode) != 0)
			return -1;
	}
	/* 4. The times last: nothing after them may touch the entry. */
	if (!meta_keeps(m, META_KEEP_TIMES))
		return 0;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (dst->fd >= 0)
		return futimens(dst->fd, ts);
	if (utimensat(dst->dir, dst->name, ts, AT_SYMLINK_NOFOLLOW) != 0 &&
	    !(link && errno == EOPNOTSUPP))
		return -1;
	return 0;
}

int meta_current(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                 const struct stat *st, const struct stat *cur, unsigned flags)
{
	uid_t uid;
	gid_t gid;
	int owner_kept = want_owner(m, st, &uid, &gid) || (flags & META_OWNED) != 0;
	if (!owner_kept && m->keep_owner) {
		if ((uid != (uid_t)-1 && cur->st_uid != uid) ||
		    (gid != (gid_t)-1 && cur->st_gid != gid))
			return 0;
		owner_kept = 1; /* meta_apply's chown would leave it as it is */
	}
	if (!(flags & META_LINK) && meta_perm(cur->st_mode) != meta_mode(m, st, owner_kept))
		return 0;
	if (meta_keeps(m, META_KEEP_TIMES) && (cur->st_mtim.tv_sec != st->st_mtim.tv_sec ||
	                                       cur->st_mtim.tv_nsec != st->st_mtim.tv_nsec))
		return 0;
	/* the xattrs last: the only part that costs calls */
	return src == NULL || meta_xattrs(m, src, dst, 0, NULL) == 0;
}

int meta_update(struct meta_ctx *m, const struct meta_node *src, const struct meta_node *dst,
                const struct stat *st, const struct stat *cur, unsigned flags)
{
	if (meta_current(m, src, dst, st, cur, flags))
		return 0;
	return meta_apply(m, src, dst, st, flags); /* something differs, or could not be read */
}
