/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for lib/fs/meta.c: the mode rule (which permission bits a copy is created with
 * and ends with), the sparse test, and the order meta_apply sets metadata in (owner, then
 * xattrs with capabilities and ACLs among them, then mode, then times) and what that order
 * keeps.
 *
 * The calls that set metadata are wrapped at link time (-Wl,--wrap, see Makefile.am): while
 * `recording` is on, each call is noted as a step and succeeds without touching the file, so
 * the order shows whatever the user running the test may do. Otherwise the wrappers pass the
 * call through, and the real-file tests check what the order is for: the set-user-ID bit and
 * a file capability survive an owner change (root only), and the times are the source's after
 * everything else was set.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_XATTR_H
#include <sys/xattr.h>
#endif

#include <cmocka.h>

#include "fs/meta.h"

enum step { STEP_OWNER = 1, STEP_XATTR, STEP_MODE, STEP_TIMES };

static int recording;       /* 1: note each setting call and fake its success */
static enum step steps[64]; /* the calls noted, in order */
static size_t nsteps;

static int note(enum step s)
{
	if (nsteps < sizeof(steps) / sizeof(steps[0]))
		steps[nsteps++] = s;
	return 0;
}

/* The wrapped calls (-Wl,--wrap=NAME makes meta.c's NAME calls these). */
int __real_fchown(int fd, uid_t uid, gid_t gid);
int __real_fchownat(int dir, const char *name, uid_t uid, gid_t gid, int flags);
int __real_fchmod(int fd, mode_t mode);
int __real_fchmodat(int dir, const char *name, mode_t mode, int flags);
int __real_futimens(int fd, const struct timespec ts[2]);
int __real_utimensat(int dir, const char *name, const struct timespec ts[2], int flags);
int __real_fsetxattr(int fd, const char *name, const void *val, size_t size, int flags);
int __real_lsetxattr(const char *path, const char *name, const void *val, size_t size, int flags);
int __real_fremovexattr(int fd, const char *name);
int __real_lremovexattr(const char *path, const char *name);
int __wrap_fchown(int fd, uid_t uid, gid_t gid);
int __wrap_fchownat(int dir, const char *name, uid_t uid, gid_t gid, int flags);
int __wrap_fchmod(int fd, mode_t mode);
int __wrap_fchmodat(int dir, const char *name, mode_t mode, int flags);
int __wrap_futimens(int fd, const struct timespec ts[2]);
int __wrap_utimensat(int dir, const char *name, const struct timespec ts[2], int flags);
int __wrap_fsetxattr(int fd, const char *name, const void *val, size_t size, int flags);
int __wrap_lsetxattr(const char *path, const char *name, const void *val, size_t size, int flags);
int __wrap_fremovexattr(int fd, const char *name);
int __wrap_lremovexattr(const char *path, const char *name);

int __wrap_fchown(int fd, uid_t uid, gid_t gid)
{
	return recording ? note(STEP_OWNER) : __real_fchown(fd, uid, gid);
}

int __wrap_fchownat(int dir, const char *name, uid_t uid, gid_t gid, int flags)
{
	return recording ? note(STEP_OWNER) : __real_fchownat(dir, name, uid, gid, flags);
}

int __wrap_fchmod(int fd, mode_t mode)
{
	return recording ? note(STEP_MODE) : __real_fchmod(fd, mode);
}

int __wrap_fchmodat(int dir, const char *name, mode_t mode, int flags)
{
	return recording ? note(STEP_MODE) : __real_fchmodat(dir, name, mode, flags);
}

int __wrap_futimens(int fd, const struct timespec ts[2])
{
	return recording ? note(STEP_TIMES) : __real_futimens(fd, ts);
}

int __wrap_utimensat(int dir, const char *name, const struct timespec ts[2], int flags)
{
	return recording ? note(STEP_TIMES) : __real_utimensat(dir, name, ts, flags);
}

int __wrap_fsetxattr(int fd, const char *name, const void *val, size_t size, int flags)
{
	return recording ? note(STEP_XATTR) : __real_fsetxattr(fd, name, val, size, flags);
}

int __wrap_lsetxattr(const char *path, const char *name, const void *val, size_t size, int flags)
{
	return recording ? note(STEP_XATTR) : __real_lsetxattr(path, name, val, size, flags);
}

int __wrap_fremovexattr(int fd, const char *name)
{
	return recording ? note(STEP_XATTR) : __real_fremovexattr(fd, name);
}

int __wrap_lremovexattr(const char *path, const char *name)
{
	return recording ? note(STEP_XATTR) : __real_lremovexattr(path, name);
}

static struct stat file(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

static void test_mode_rule(void **state)
{
	(void)state;
	struct meta_ctx m;
	meta_ctx_init(&m, 0);
	assert_int_equal(meta_perm(S_IFREG | 06755), 06755);
	assert_int_equal(meta_perm(S_IFDIR | 01777), 01777);

	struct stat own = file(06755, m.euid, m.egid);
	struct stat other = file(06755, m.euid + 1, m.egid);
	struct stat sticky = file(01644, m.euid + 1, m.egid);
	/* Created without set-id and sticky bits: those come after the owner. */
	assert_int_equal(meta_create_mode(&own), 0755);
	assert_int_equal(meta_create_mode(&sticky), 0644);
	/* The set-id bits stay for the caller's own files or when the owner is kept. */
	assert_int_equal(meta_mode(&m, &own, 0), 06755);
	assert_int_equal(meta_mode(&m, &other, 1), 06755);
	assert_int_equal(meta_mode(&m, &other, 0), 0755);
	assert_int_equal(meta_mode(&m, &sticky, 0), 01644);
	meta_ctx_free(&m);
}

static void test_sparse(void **state)
{
	(void)state;
	struct stat st = file(0644, 0, 0);
	st.st_size = 1 << 20;
	st.st_blocks = (1 << 20) / 512;
	assert_false(meta_sparse(&st));
	st.st_blocks = 8;
	assert_true(meta_sparse(&st));
	st.st_size = 0; /* empty: nothing to skip */
	st.st_blocks = 0;
	assert_false(meta_sparse(&st));
	st = file(0755, 0, 0);
	st.st_mode = S_IFDIR | 0755; /* only regular files */
	st.st_size = 4096;
	assert_false(meta_sparse(&st));
}

static char scratch[] = "/tmp/test_meta.XXXXXX";
static int dirfd_ = -1;

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(scratch) == NULL)
		return -1;
	dirfd_ = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dirfd_ >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

/* Create NAME in the scratch directory (mode 0644, "data"), open for reading and writing. */
static int make_file(const char *name)
{
	unlinkat(dirfd_, name, 0);
	int fd = openat(dirfd_, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	assert_int_equal(fchmod(fd, 0644), 0); /* whatever the umask */
	return fd;
}

/* Give FD the xattr user.pcopy-test. Returns 0, or -1 when the file system has none. */
static int give_user_xattr(int fd)
{
#ifdef HAVE_FSETXATTR
	return fsetxattr(fd, "user.pcopy-test", "v", 1, 0);
#else
	(void)fd;
	errno = ENOTSUP;
	return -1;
#endif
}

/* The source's lstat data for meta_apply: another owner, set-user-ID, old times. */
static struct stat source_stat(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	st.st_uid += 1000;
	st.st_gid += 1000;
	st.st_mode = S_IFREG | 04755;
	st.st_atim = (struct timespec){1000000000, 123456789};
	st.st_mtim = (struct timespec){1000000001, 987654321};
	return st;
}

/* Run meta_apply with the setting calls recorded instead of made. */
static int apply_recorded(struct meta_ctx *m, const struct meta_node *src,
                          const struct meta_node *dst, const struct stat *st, unsigned flags)
{
	nsteps = 0;
	recording = 1;
	int rc = meta_apply(m, src, dst, st, flags);
	recording = 0;
	return rc;
}

/* The steps noted are owner (when WITH_OWNER), at least one xattr, mode (when WITH_MODE),
 * times: in that order, times once and last. */
static void check_order(int with_owner, int with_mode)
{
	size_t i = 0;
	if (with_owner) {
		assert_true(nsteps > i);
		assert_int_equal(steps[i], STEP_OWNER);
		i++;
	}
	assert_true(nsteps > i);
	assert_int_equal(steps[i], STEP_XATTR);
	while (i < nsteps && steps[i] == STEP_XATTR)
		i++;
	if (with_mode) {
		assert_true(nsteps > i);
		assert_int_equal(steps[i], STEP_MODE);
		i++;
	}
	assert_int_equal(nsteps, i + 1);
	assert_int_equal(steps[i], STEP_TIMES);
}

/* Through descriptors: owner, xattrs, mode, times. */
static void test_order_fd(void **state)
{
	(void)state;
	int s = make_file("src"), d = make_file("dst");
	if (give_user_xattr(s) != 0) {
		close(s);
		close(d);
		skip(); /* no user xattrs here: nothing to put between owner and mode */
	}
	struct stat st = source_stat(s);
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node src = {s, dirfd_, "src"}, dst = {d, dirfd_, "dst"};
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, 0), 0);
	check_order(1, 1);
	close(s);
	close(d);
}

/* Through names (symbolic links and files not opened): the same order. */
static void test_order_name(void **state)
{
	(void)state;
	int s = make_file("src"), d = make_file("dst");
	if (give_user_xattr(s) != 0) {
		close(s);
		close(d);
		skip();
	}
	struct stat st = source_stat(s);
	close(s);
	close(d);
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node src = {-1, dirfd_, "src"}, dst = {-1, dirfd_, "dst"};
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, 0), 0);
	check_order(1, 1);
	/* The same with the working directory as the way to names (meta_ctx_home). */
	assert_int_equal(meta_ctx_home(&m), 0);
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, 0), 0);
	check_order(1, 1);
	/* ... and lists read that way too, as where listxattrat is missing */
	m.no_at = 1;
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, 0), 0);
	check_order(1, 1);
	meta_ctx_free(&m);
	/* The list by name (listxattrat, or its fallback): the same answer either way. */
	struct meta_node self = {-1, dirfd_, "src"};
	for (int no_at = 0; no_at < 2; no_at++) {
		meta_ctx_init(&m, 1);
		m.no_at = no_at;
		assert_int_equal(meta_xattrs(&m, &src, &self, 0, NULL), 0);
		assert_int_equal(meta_xattrs(&m, &src, &dst, 0, NULL), 1); /* dst has none */
		meta_ctx_free(&m);
	}
}

/* Names through the working directory (meta_ctx_home): the names of one directory take one
 * fchdir in all; a directory closed (meta_ctx_forget) and another one opened under the same
 * descriptor number is entered, not mistaken for the first; meta_ctx_free goes back. */
static void test_cwd_reuse(void **state)
{
	(void)state;
	int s = make_file("src");
	if (give_user_xattr(s) != 0) {
		close(s);
		skip();
	}
	assert_int_equal(mkdirat(dirfd_, "x", 0755), 0);
	assert_int_equal(mkdirat(dirfd_, "y", 0755), 0);
	int x = openat(dirfd_, "x", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(x >= 0);
	int f = openat(x, "f", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(f >= 0);
	assert_int_equal(give_user_xattr(f), 0); /* x/f has src's xattr, y/f has none */
	close(f);
	close(openat(dirfd_, "y/f", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
	char before[4096], after[4096];
	assert_non_null(getcwd(before, sizeof(before)));
	struct meta_ctx m;
	meta_ctx_init(&m, 0);
	assert_int_equal(meta_ctx_home(&m), 0);
	m.no_at = 1; /* lists too through the working directory, as without listxattrat */
	struct meta_node src = {s, -1, NULL}, dst = {-1, x, "f"};
	assert_int_equal(meta_xattrs(&m, &src, &dst, 0, NULL), 0);
	assert_int_equal(m.cwd, x);
	assert_int_equal(meta_xattrs(&m, &src, &dst, 0, NULL), 0);
	/* x closed, y opened: the lowest free number is x's again */
	meta_ctx_forget(&m, x);
	close(x);
	int y = openat(dirfd_, "y", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(y, x);
	dst.dir = y;
	assert_int_equal(meta_xattrs(&m, &src, &dst, 0, NULL), 1); /* y/f's, not x/f's */
	assert_int_equal(meta_xattrs(&m, &src, &dst, 1, NULL), 1);
	assert_int_equal(meta_xattrs(&m, &src, &dst, 0, NULL), 0);
	meta_ctx_free(&m);
	assert_non_null(getcwd(after, sizeof(after)));
	assert_string_equal(before, after);
	close(y);
	close(s);
}

/* meta_update: nothing set when the entry has it all (owner, mode, mtime, xattrs); the whole
 * order when any one part differs, the atime aside. */
static void test_update(void **state)
{
	(void)state;
	int s = make_file("src"), d = make_file("dst");
	int xattrs = give_user_xattr(s) == 0 && give_user_xattr(d) == 0;
	struct stat cur, st;
	assert_int_equal(fstat(d, &cur), 0);
	st = cur;
	st.st_atim.tv_sec -= 1000; /* not compared */
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node src = {s, -1, NULL}, dst = {d, -1, NULL};
	assert_int_equal(meta_current(&m, &src, &dst, &st, &cur, 0), 1);
	nsteps = 0;
	recording = 1;
	assert_int_equal(meta_update(&m, &src, &dst, &st, &cur, 0), 0);
	assert_int_equal(nsteps, 0);
	st.st_mtim.tv_nsec = (st.st_mtim.tv_nsec + 1) % 1000000000;
	assert_int_equal(meta_current(&m, &src, &dst, &st, &cur, 0), 0);
	assert_int_equal(meta_update(&m, &src, &dst, &st, &cur, 0), 0);
	assert_int_equal(nsteps, 3); /* owner, mode, times */
	assert_int_equal(steps[0], STEP_OWNER);
	assert_int_equal(steps[2], STEP_TIMES);
	st = cur;
	st.st_mode ^= 0001;
	nsteps = 0;
	assert_int_equal(meta_update(&m, &src, &dst, &st, &cur, 0), 0);
	assert_int_equal(nsteps, 3);
	st = cur;
	st.st_gid += 1;
	nsteps = 0;
	assert_int_equal(meta_update(&m, &src, &dst, &st, &cur, 0), 0);
	assert_int_equal(nsteps, 3);
	recording = 0;
	if (xattrs) { /* a differing value: set, with everything after it */
		assert_int_equal(fsetxattr(s, "user.pcopy-test", "w", 1, 0), 0);
		st = cur;
		nsteps = 0;
		recording = 1;
		assert_int_equal(meta_update(&m, &src, &dst, &st, &cur, 0), 0);
		recording = 0;
		check_order(1, 1);
	}
	meta_ctx_free(&m);
	close(s);
	close(d);
}

/* A new copy that has the owner and the plain mode already: only what is missing is set,
 * still in order; a set-id bit is set again after the xattrs; a link gets no mode. */
static void test_order_flags(void **state)
{
	(void)state;
	int s = make_file("src"), d = make_file("dst");
	if (give_user_xattr(s) != 0) {
		close(s);
		close(d);
		skip();
	}
	struct stat st = source_stat(s);
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node src = {s, dirfd_, "src"}, dst = {d, dirfd_, "dst"};
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, META_OWNED | META_MODE_SET), 0);
	check_order(0, 1); /* 04755: the set-user-ID bit comes after the xattrs */
	st.st_mode = S_IFREG | 0755;
	assert_int_equal(apply_recorded(&m, &src, &dst, &st, META_OWNED | META_MODE_SET), 0);
	check_order(0, 0);
	struct meta_node byname = {-1, dirfd_, "dst"};
	assert_int_equal(apply_recorded(&m, &src, &byname, &st, META_LINK), 0);
	check_order(1, 0);
	close(s);
	close(d);
}

/* Without xattrs to copy the order is owner, mode, times; with keep_owner off, no owner. */
static void test_order_plain(void **state)
{
	(void)state;
	int d = make_file("dst");
	struct stat st = source_stat(d);
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node dst = {d, dirfd_, "dst"};
	assert_int_equal(apply_recorded(&m, NULL, &dst, &st, 0), 0);
	assert_int_equal(nsteps, 3);
	assert_int_equal(steps[0], STEP_OWNER);
	assert_int_equal(steps[1], STEP_MODE);
	assert_int_equal(steps[2], STEP_TIMES);
	meta_ctx_init(&m, 0);
	assert_int_equal(apply_recorded(&m, NULL, &dst, &st, 0), 0);
	assert_int_equal(nsteps, 2);
	assert_int_equal(steps[0], STEP_MODE);
	assert_int_equal(steps[1], STEP_TIMES);
	close(d);
}

/* Real files: the set-user-ID and set-group-ID bits survive the owner change (chown clears
 * them, so the mode must come after it). Root only. */
static void test_setid_survives_owner(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	int d = make_file("dst");
	struct stat st = source_stat(d);
	st.st_mode = S_IFREG | 06755;
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node dst = {d, dirfd_, "dst"};
	assert_int_equal(meta_apply(&m, NULL, &dst, &st, 0), 0);
	struct stat got;
	assert_int_equal(fstat(d, &got), 0);
	assert_int_equal(got.st_uid, st.st_uid);
	assert_int_equal(got.st_gid, st.st_gid);
	assert_int_equal(got.st_mode & 07777, 06755);
	close(d);
}

/* Real files: a file capability survives the owner change (chown removes security.capability,
 * so the xattrs must come after it). Root only, where the file system keeps capabilities. */
static void test_capability_survives_owner(void **state)
{
	(void)state;
#ifdef HAVE_FSETXATTR
	if (geteuid() != 0)
		skip();
	int s = make_file("src"), d = make_file("dst");
	/* struct vfs_cap_data, revision 2: cap_net_raw (13) permitted and effective. */
	uint32_t cap[5] = {0x02000000u | 1u, 1u << 13, 0, 0, 0};
	if (fsetxattr(s, "security.capability", cap, sizeof(cap), 0) != 0) {
		close(s);
		close(d);
		skip();
	}
	struct stat st = source_stat(s);
	st.st_mode = S_IFREG | 0755;
	struct meta_ctx m;
	meta_ctx_init(&m, 1);
	struct meta_node src = {s, dirfd_, "src"}, dst = {d, dirfd_, "dst"};
	assert_int_equal(meta_apply(&m, &src, &dst, &st, 0), 0);
	uint32_t got[5] = {0};
	assert_int_equal(fgetxattr(d, "security.capability", got, sizeof(got)), sizeof(cap));
	assert_memory_equal(got, cap, sizeof(cap));
	struct stat now;
	assert_int_equal(fstat(d, &now), 0);
	assert_int_equal(now.st_uid, st.st_uid);
	close(s);
	close(d);
#else
	(void)state;
	skip();
#endif
}

/* Real files: after xattrs and mode were set, the times are still the source's, to the
 * nanosecond, for a file and for a name reached through its directory. */
static void test_times_last(void **state)
{
	(void)state;
	int s = make_file("src"), d = make_file("dst");
	(void)give_user_xattr(s); /* if it can: one more thing set before the times */
	struct stat st = source_stat(s);
	struct meta_ctx m;
	meta_ctx_init(&m, 0);
	for (int byname = 0; byname < 2; byname++) {
		struct meta_node src = {s, dirfd_, "src"};
		struct meta_node dst = {byname ? -1 : d, dirfd_, "dst"};
		assert_int_equal(meta_apply(&m, &src, &dst, &st, 0), 0);
		struct stat got;
		assert_int_equal(fstat(d, &got), 0);
		assert_int_equal(got.st_mtim.tv_sec, st.st_mtim.tv_sec);
		assert_int_equal(got.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
		assert_int_equal(got.st_atim.tv_sec, st.st_atim.tv_sec);
		assert_int_equal(got.st_atim.tv_nsec, st.st_atim.tv_nsec);
		assert_int_equal(got.st_mode & 07777, meta_mode(&m, &st, 0));
	}
	close(s);
	close(d);
}

/* chmod_of TEXT MODE: the permission bits --chmod TEXT gives a file of MODE. */
static mode_t chmod_of(const char *text, mode_t mode)
{
	struct meta_policy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(meta_chmod_parse(&p, text), 0);
	return meta_chmod_apply(&p, mode);
}

/* --chmod in rsync's syntax, checked against what rsync 3.x does with it. */
static void test_chmod(void **state)
{
	(void)state;
	assert_int_equal(chmod_of("D755,F644", S_IFDIR | 0700), 0755);
	assert_int_equal(chmod_of("D755,F644", S_IFREG | 0700), 0644);
	assert_int_equal(chmod_of("u+w", S_IFREG | 0444), 0644);
	assert_int_equal(chmod_of("Dg+s", S_IFDIR | 0755), 02755);
	assert_int_equal(chmod_of("Dg+s", S_IFREG | 0755), 0755);
	assert_int_equal(chmod_of("o-rwx", S_IFREG | 0777), 0770);
	assert_int_equal(chmod_of("go=", S_IFREG | 0777), 0700);
	assert_int_equal(chmod_of("ug=rw,o=r", S_IFREG | 0), 0664);
	assert_int_equal(chmod_of("+x", S_IFREG | 0600), 0711); /* no umask, as rsync */
	/* X: x where the mode the rules started from had one, or for a directory. */
	assert_int_equal(chmod_of("a-x,u+X", S_IFREG | 0751), 0740);
	assert_int_equal(chmod_of("a-x,u+X", S_IFREG | 0640), 0640);
	assert_int_equal(chmod_of("a+X", S_IFDIR | 0600), 0711);
	assert_int_equal(chmod_of("u+s,+t", S_IFREG | 0755), 05755);
	assert_int_equal(chmod_of("4750", S_IFREG | 0644), 04750);
	assert_int_equal(chmod_of("F0", S_IFREG | 0644), 0);
	/* Rules add up, over several --chmod. */
	struct meta_policy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(meta_chmod_parse(&p, "F600"), 0);
	assert_int_equal(meta_chmod_parse(&p, "g+r"), 0);
	assert_int_equal(p.nchmod, 2);
	assert_int_equal(meta_chmod_apply(&p, S_IFREG | 0777), 0640);
	/* Bad ones leave the rules as they were. */
	static const char *const bad[] = {"",   "D",      "u",    "u*w", "u+q", "Du+w,",
	                                  "88", "077777", "D7x9", "x+r", ",u+w"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(meta_chmod_parse(&p, bad[i]), -1);
		assert_int_equal(p.nchmod, 2);
	}
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < META_CHMOD_MAX; i++)
		assert_int_equal(meta_chmod_parse(&p, "u+r"), 0);
	assert_int_equal(meta_chmod_parse(&p, "u+r"), -1);
}

/* meta_want: what --no-perms, --no-owner, --no-group and --chown leave a copy with. */
static void test_want(void **state)
{
	(void)state;
	struct meta_ctx m;
	struct meta_policy p;
	meta_ctx_init(&m, 1);
	memset(&p, 0, sizeof(p));
	m.policy = &p;
	m.umask = 022;
	m.euid = 0;
	m.egid = 0;
	struct stat src, old, st;
	memset(&src, 0, sizeof(src));
	memset(&old, 0, sizeof(old));
	src.st_mode = S_IFREG | 04777;
	src.st_uid = 10;
	src.st_gid = 20;
	old.st_mode = S_IFREG | 0600;
	old.st_uid = 30;
	old.st_gid = 40;
	st = src;
	meta_want(&m, &st, &old); /* nothing asked: as the source */
	assert_int_equal(st.st_mode, S_IFREG | 04777);
	assert_int_equal(st.st_uid, 10);
	p.drop = META_KEEP_PERMS | META_KEEP_OWNER;
	st = src;
	meta_want(&m, &st, &old);
	assert_int_equal(st.st_mode, S_IFREG | 0600); /* the old entry's */
	assert_int_equal(st.st_uid, 30);
	assert_int_equal(st.st_gid, 20);
	st = src;
	meta_want(&m, &st, NULL);
	assert_int_equal(st.st_mode, S_IFREG | 0755); /* new: less umask and set-id bits */
	assert_int_equal(st.st_uid, 0);
	p.drop = 0;
	p.chown = 2;
	p.gid = 7;
	st = src;
	meta_want(&m, &st, &old);
	assert_int_equal(st.st_uid, 10);
	assert_int_equal(st.st_gid, 7);
	assert_true(meta_keeps(&m, META_KEEP_TIMES));
	p.drop = META_KEEP_TIMES;
	assert_false(meta_keeps(&m, META_KEEP_TIMES));
	meta_ctx_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode_rule),
	    cmocka_unit_test(test_sparse),
	    cmocka_unit_test(test_order_fd),
	    cmocka_unit_test(test_order_name),
	    cmocka_unit_test(test_cwd_reuse),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_order_flags),
	    cmocka_unit_test(test_order_plain),
	    cmocka_unit_test(test_setid_survives_owner),
	    cmocka_unit_test(test_capability_survives_owner),
	    cmocka_unit_test(test_times_last),
	    cmocka_unit_test(test_chmod),
	    cmocka_unit_test(test_want),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
