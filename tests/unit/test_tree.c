/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/fs/tree.c: making, listing and removing destination entries. */
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

#include <cmocka.h>

#include "fs/tree.h"

static char root[] = "/tmp/pcopy-tree-XXXXXX";
static int rfd = -1;

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(root) == NULL)
		return -1;
	rfd = open(root, O_RDONLY | O_DIRECTORY);
	return rfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	close(rfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_make_dir(void **state)
{
	(void)state;
	int existed = -1;
	assert_int_equal(tree_make_dir(rfd, "d", 0, &existed), 0);
	assert_int_equal(existed, 0);
	assert_int_equal(tree_make_dir(rfd, "d", 0, &existed), 0);
	assert_int_equal(existed, 1);
	/* A file where a directory belongs is replaced. */
	close(openat(rfd, "f", O_CREAT | O_WRONLY, 0644));
	assert_int_equal(tree_make_dir(rfd, "f", 0, &existed), 0);
	struct stat st;
	assert_int_equal(fstatat(rfd, "f", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* So is a symlink, which is never followed. */
	assert_int_equal(symlinkat("/etc", rfd, "ln"), 0);
	assert_int_equal(tree_make_dir(rfd, "ln", 0, &existed), 0);
	assert_int_equal(fstatat(rfd, "ln", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A dry run changes nothing. */
	assert_int_equal(tree_make_dir(rfd, "dry", 1, &existed), 0);
	assert_int_equal(fstatat(rfd, "dry", &st, 0), -1);
	assert_int_equal(tree_make_dir(rfd, "missing/parent", 0, &existed), ENOENT);
}

static void test_make_dir_below(void **state)
{
	(void)state;
	struct at_cache c;
	at_cache_init(&c);
	int existed = -1;
	assert_int_equal(tree_make_dir_below(&c, rfd, "b", 0, &existed), 0);
	assert_int_equal(existed, 0);
	/* Deeper names: the parent is opened through the cache. */
	assert_int_equal(tree_make_dir_below(&c, rfd, "b/c", 0, &existed), 0);
	assert_int_equal(tree_make_dir_below(&c, rfd, "b/c/d", 0, &existed), 0);
	assert_int_equal(existed, 0);
	assert_int_equal(tree_make_dir_below(&c, rfd, "b/c", 0, &existed), 0);
	assert_int_equal(existed, 1);
	struct stat st;
	assert_int_equal(fstatat(rfd, "b/c/d", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A parent that is missing is its errno; one that is a symlink is never followed. */
	assert_int_equal(tree_make_dir_below(&c, rfd, "nope/x", 0, &existed), ENOENT);
	assert_int_equal(symlinkat("b", rfd, "via"), 0);
	assert_int_not_equal(tree_make_dir_below(&c, rfd, "via/x", 0, &existed), 0);
	assert_int_equal(fstatat(rfd, "b/x", &st, AT_SYMLINK_NOFOLLOW), -1);
	at_cache_free(&c);
}

/* The descriptors the CLOSING hook is told about, in order. */
static int closed[8];
static size_t nclosed;

static void note_closing(void *arg, int fd)
{
	assert_ptr_equal(arg, &nclosed);
	assert_int_not_equal(fcntl(fd, F_GETFD), -1); /* told before the close */
	if (nclosed < sizeof(closed) / sizeof(closed[0]))
		closed[nclosed++] = fd;
}

/* An at_cache tells its CLOSING hook about every descriptor it closes, before it does. */
static void test_cache_closing(void **state)
{
	(void)state;
	struct at_cache c;
	at_cache_init(&c);
	c.closing = note_closing;
	c.closing_arg = &nclosed;
	nclosed = 0;
	const char *leaf;
	assert_int_equal(mkdirat(rfd, "h", 0755), 0);
	assert_int_equal(mkdirat(rfd, "h/i", 0755), 0);
	int a = at_parent(&c, rfd, "h/x", &leaf);
	assert_true(a >= 0);
	assert_int_equal(at_parent(&c, rfd, "h/y", &leaf), a); /* the same: kept */
	assert_int_equal(nclosed, 0);
	int b = at_parent(&c, rfd, "h/i/x", &leaf);
	assert_true(b >= 0);
	assert_int_equal(nclosed, 1);
	assert_int_equal(closed[0], a);
	assert_int_equal(at_parent(&c, rfd, "top", &leaf), rfd); /* the root: nothing closed */
	assert_int_equal(nclosed, 1);
	assert_int_equal(at_parent(&c, rfd, "missing/x", &leaf), -1);
	assert_int_equal(nclosed, 2);
	assert_int_equal(closed[1], b);
	at_parent(&c, rfd, "h/x", &leaf);
	at_cache_free(&c);
	assert_int_equal(nclosed, 3);
}

/* A listing longer than one read of the kernel's records, of a descriptor already read to
 * its end, has every name once, and none of "." and "..". */
static void test_list_long(void **state)
{
	(void)state;
	assert_int_equal(mkdirat(rfd, "long", 0755), 0);
	int dfd = openat(rfd, "long", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	char name[200];
	enum { N = 1500 }; /* 1500 records of some 200 bytes: several 32 KiB reads */
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%0180d", i);
		close(openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	}
	struct tree_list l;
	for (int round = 0; round < 2; round++) { /* the second starts at the end */
		assert_int_equal(tree_list_at(dfd, &l), 0);
		assert_int_equal(l.n, N);
		char *seen = calloc(N, 1);
		assert_non_null(seen);
		for (size_t i = 0; i < l.n; i++) {
			int k = atoi(l.names[i]);
			assert_true(k >= 0 && k < N && strlen(l.names[i]) == 180 && !seen[k]);
			seen[k] = 1;
		}
		free(seen);
		tree_list_free(&l);
	}
	close(dfd);
	assert_int_equal(tree_list(rfd, "long", &l), 0);
	assert_int_equal(l.n, N);
	tree_list_free(&l);
	/* The root itself, after a listing left its offset at the end: still every name. */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(round == 0 ? tree_list_at(rfd, &l) : tree_list(rfd, "", &l), 0);
		int found = 0;
		for (size_t i = 0; i < l.n; i++)
			found |= strcmp(l.names[i], "long") == 0;
		assert_true(found);
		tree_list_free(&l);
	}
	assert_int_equal(tree_remove(rfd, "long"), 0);
}

static void test_list_and_remove(void **state)
{
	(void)state;
	int existed;
	assert_int_equal(tree_make_dir(rfd, "t", 0, &existed), 0);
	assert_int_equal(tree_make_dir(rfd, "t/sub", 0, &existed), 0);
	close(openat(rfd, "t/a", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "t/sub/b", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "outside", O_CREAT | O_WRONLY, 0644));
	assert_int_equal(symlinkat("../outside", rfd, "t/sub/ln"), 0);
	struct tree_list l;
	assert_int_equal(tree_list(rfd, "t", &l), 0);
	assert_int_equal(l.n, 2);
	int seen_a = 0, seen_sub = 0;
	for (size_t i = 0; i < l.n; i++) {
		seen_a |= strcmp(l.names[i], "a") == 0;
		seen_sub |= strcmp(l.names[i], "sub") == 0;
	}
	assert_true(seen_a && seen_sub);
	tree_list_free(&l);
	assert_int_equal(tree_remove(rfd, "t"), 0);
	struct stat st;
	assert_int_equal(fstatat(rfd, "t", &st, 0), -1);
	/* The link's target, outside the removed tree, is still there. */
	assert_int_equal(fstatat(rfd, "outside", &st, 0), 0);
	assert_int_equal(tree_remove(rfd, "never-was"), 0);
	assert_int_equal(tree_list(rfd, "never-was", &l), -1);
}

/* Keeps every name ending in ".o", and directory "k/cache" (a "cache/" pattern). */
static int keep_some(void *ctx, const char *path, int is_dir)
{
	size_t n = strlen(path);
	*(int *)ctx += 1;
	return (n > 2 && strcmp(path + n - 2, ".o") == 0) ||
	       (is_dir && strcmp(path, "k/cache") == 0);
}

/* --delete inside an extra directory leaves excluded entries and the directories above them. */
static void test_remove_keep(void **state)
{
	(void)state;
	int existed, calls = 0;
	assert_int_equal(tree_make_dir(rfd, "k", 0, &existed), 0);
	assert_int_equal(tree_make_dir(rfd, "k/sub", 0, &existed), 0);
	assert_int_equal(tree_make_dir(rfd, "k/gone", 0, &existed), 0);
	assert_int_equal(tree_make_dir(rfd, "k/cache", 0, &existed), 0);
	close(openat(rfd, "k/sub/x.o", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "k/sub/x.c", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "k/gone/y.c", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "k/cache/z", O_CREAT | O_WRONLY, 0644));
	struct tree_keep keep = {keep_some, &calls};
	assert_int_equal(tree_remove_keep(rfd, "k", "k", &keep), 0);
	struct stat st;
	assert_int_equal(fstatat(rfd, "k/sub/x.o", &st, 0), 0);
	assert_int_equal(fstatat(rfd, "k/cache/z", &st, 0), 0);
	assert_int_equal(fstatat(rfd, "k/sub/x.c", &st, 0), -1);
	assert_int_equal(fstatat(rfd, "k/gone", &st, 0), -1);
	assert_true(calls >= 6);
	/* Nothing kept: all of it goes. */
	assert_int_equal(tree_remove_keep(rfd, "k", "k", NULL), 0);
	assert_int_equal(fstatat(rfd, "k", &st, 0), -1);
}

/* --backup: beside the entry with a suffix, or below a backup directory at its path. */
static void test_backup(void **state)
{
	(void)state;
	int existed;
	struct stat st;
	assert_int_equal(tree_make_dir(rfd, "b", 0, &existed), 0);
	assert_int_equal(tree_make_dir(rfd, "b/d", 0, &existed), 0);
	close(openat(rfd, "b/d/f", O_CREAT | O_WRONLY, 0644));
	int dfd = openat(rfd, "b/d", O_RDONLY | O_DIRECTORY);
	struct tree_backup beside = {"~", -1, -1};
	assert_int_equal(tree_backup(&beside, dfd, "f", "d/f"), 0);
	assert_int_equal(fstatat(dfd, "f~", &st, 0), 0);
	assert_int_equal(fstatat(dfd, "f", &st, 0), -1);
	/* Into a backup directory made with its parents, at the entry's path; a directory made
	 * there has the mode of the destination's directory it stands for. */
	int bfd = tree_open_backup_dir(rfd, "b/deep/er");
	assert_true(bfd >= 0);
	int top = openat(rfd, "b", O_RDONLY | O_DIRECTORY);
	assert_int_equal(fchmodat(rfd, "b/d", 0710, 0), 0);
	struct tree_backup below = {".old", bfd, top};
	assert_int_equal(tree_backup(&below, dfd, "f~", "d/f~"), 0);
	assert_int_equal(fstatat(rfd, "b/deep/er/d/f~.old", &st, 0), 0);
	assert_int_equal(fstatat(rfd, "b/deep/er/d", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0710);
	/* Deleting with backups: the files move, the emptied directories go. */
	close(openat(rfd, "b/d/g", O_CREAT | O_WRONLY, 0644));
	struct tree_keep keep = {NULL, NULL, &below};
	assert_int_equal(tree_remove_keep(rfd, "b/d", "d", &keep), 0);
	assert_int_equal(fstatat(rfd, "b/deep/er/d/g.old", &st, 0), 0);
	assert_int_equal(fstatat(rfd, "b/d", &st, 0), -1);
	/* ... or stay renamed beside, and so does their directory. */
	assert_int_equal(tree_make_dir(rfd, "b/e", 0, &existed), 0);
	close(openat(rfd, "b/e/h", O_CREAT | O_WRONLY, 0644));
	keep.backup = &beside;
	assert_int_equal(tree_remove_keep(rfd, "b/e", "e", &keep), 0);
	assert_int_equal(fstatat(rfd, "b/e/h~", &st, 0), 0);
	close(top);
	close(bfd);
	close(dfd);
}

/* --max-delete's order, rsync's: subdirectories first (a name as if it ended in '/'), then
 * the rest (a symlink to a directory among them), each in reverse order. */
static void test_sort_for_delete(void **state)
{
	(void)state;
	int existed;
	const char *dirs[] = {"o", "o/a b", "o/a", "o/a0", "o/a.b"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(tree_make_dir(rfd, dirs[i], 0, &existed), 0);
	close(openat(rfd, "o/A", O_CREAT | O_WRONLY, 0644));
	close(openat(rfd, "o/z", O_CREAT | O_WRONLY, 0644));
	assert_int_equal(symlinkat("a0", rfd, "o/lnk"), 0);
	char *names[] = {"A", "a b", "a", "lnk", "z", "a.b", "a0"};
	const char *want[] = {"a0", "a", "a.b", "a b", "z", "lnk", "A"};
	int dfd = openat(rfd, "o", O_RDONLY | O_DIRECTORY);
	assert_int_equal(tree_sort_for_delete(dfd, names, 7), 0);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(names[i], want[i]);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_make_dir),        cmocka_unit_test(test_make_dir_below),
	    cmocka_unit_test(test_list_and_remove), cmocka_unit_test(test_remove_keep),
	    cmocka_unit_test(test_backup),          cmocka_unit_test(test_sort_for_delete),
	    cmocka_unit_test(test_cache_closing),   cmocka_unit_test(test_list_long),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
