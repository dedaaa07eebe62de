/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/fs/listdir.c: one directory, source and destination side together. */
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

#include "fs/listdir.h"

static char root[] = "/tmp/pcopy-listdir-XXXXXX";
static int src_fd = -1, dst_fd = -1;

static void make(const char *rel, int dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir)
		assert_int_equal(mkdir(p, 0755), 0);
	else
		close(open(p, O_CREAT | O_WRONLY, 0644));
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	make("src", 1);
	make("src/d", 1);
	make("src/d/c", 0);
	make("src/d/a", 1);
	make("src/d/b", 0);
	make("src/empty", 1);
	make("dst", 1);
	make("dst/d", 1);
	make("dst/d/b", 0);
	make("dst/d/extra", 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/src", root);
	src_fd = open(p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/dst", root);
	dst_fd = open(p, O_RDONLY | O_DIRECTORY);
	return src_fd < 0 || dst_fd < 0;
}

static int teardown(void **state)
{
	(void)state;
	close(src_fd);
	close(dst_fd);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static int has(const struct tree_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return 1;
	return 0;
}

static void test_both_sides(void **state)
{
	(void)state;
	struct listdir l;
	memset(&l, 0, sizeof(l));
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "d"), 0);
	/* The source side sorted by name, with lstat data. */
	assert_int_equal(l.nitems, 3);
	assert_string_equal(l.items[0].name, "a");
	assert_string_equal(l.items[1].name, "b");
	assert_string_equal(l.items[2].name, "c");
	assert_true(S_ISDIR(l.items[0].st.st_mode));
	assert_true(S_ISREG(l.items[1].st.st_mode));
	assert_int_equal(l.items[0].made, -1);
	/* The destination twin's names, extras included. */
	assert_true(l.dst_listed);
	assert_int_equal(l.dst.n, 2);
	assert_true(has(&l.dst, "b"));
	assert_true(has(&l.dst, "extra"));

	/* Without a destination: the source side only. */
	assert_int_equal(listdir_read(&l, src_fd, -1, "d"), 0);
	assert_int_equal(l.nitems, 3);
	assert_false(l.dst_listed);
	/* A twin that does not exist: not listed, not an error. */
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "empty"), 0);
	assert_int_equal(l.nitems, 0);
	assert_false(l.dst_listed);
	assert_int_equal(l.err, 0);
	/* The root. */
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "."), 0);
	assert_int_equal(l.nitems, 2);
	assert_string_equal(l.items[0].name, "d");
	assert_string_equal(l.items[1].name, "empty");
	assert_true(l.dst_listed);
	assert_int_equal(l.dst.n, 1);
	listdir_free(&l);
}

/* A listing packed (as a worker or an MPI rank sends it) reads back the same. */
static void test_pack(void **state)
{
	(void)state;
	struct listdir l;
	struct listdir_view v;
	memset(&l, 0, sizeof(l));
	memset(&v, 0, sizeof(v));
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "d"), 0);
	l.items[0].made = 5;
	size_t n = listdir_pack_size(&l, 0);
	unsigned char *buf = malloc(n);
	assert_non_null(buf);
	listdir_pack(&l, 0, buf);
	assert_int_equal(listdir_unpack(&v, buf, n), 0);
	assert_int_equal(v.err, 0);
	assert_int_equal(v.nitems, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(v.items[i].name, l.items[i].name);
		assert_memory_equal(&v.items[i].st, &l.items[i].st, sizeof(struct stat));
	}
	assert_int_equal(v.items[0].made, 5);
	assert_int_equal(v.items[1].made, -1);
	assert_true(v.dst_listed);
	assert_int_equal(v.ndst, 2);
	struct tree_list got = {v.dst, v.ndst, NULL};
	assert_true(has(&got, "b") && has(&got, "extra"));
	/* Cut short anywhere: refused, never read past the end. */
	for (size_t cut = 0; cut < n; cut++) {
		unsigned char *part = malloc(cut + 1);
		memcpy(part, buf, cut);
		assert_int_equal(listdir_unpack(&v, part, cut), -1);
		assert_int_equal(errno, EBADMSG);
		free(part);
	}
	free(buf);
	/* A failed listing: its errno, no items, no destination side. */
	n = listdir_pack_size(&l, EACCES);
	buf = malloc(n);
	listdir_pack(&l, EACCES, buf);
	assert_int_equal(listdir_unpack(&v, buf, n), 0);
	assert_int_equal(v.err, EACCES);
	assert_int_equal(v.nitems, 0);
	assert_false(v.dst_listed);
	free(buf);
	/* Without a destination side. */
	assert_int_equal(listdir_read(&l, src_fd, -1, "d"), 0);
	n = listdir_pack_size(&l, 0);
	buf = malloc(n);
	listdir_pack(&l, 0, buf);
	assert_int_equal(listdir_unpack(&v, buf, n), 0);
	assert_int_equal(v.nitems, 3);
	assert_false(v.dst_listed);
	free(buf);
	listdir_view_free(&v);
	listdir_free(&l);
}

static void test_unreadable(void **state)
{
	(void)state;
	struct listdir l;
	memset(&l, 0, sizeof(l));
	/* A source that cannot be read: err says why, the destination is not listed. */
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "nope"), -1);
	assert_int_equal(l.err, ENOENT);
	assert_int_equal(l.nitems, 0);
	assert_false(l.dst_listed);
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "d/c"), -1);
	assert_int_equal(l.err, ENOTDIR);
	/* L can be read into again. */
	assert_int_equal(listdir_read(&l, src_fd, dst_fd, "d"), 0);
	assert_int_equal(l.err, 0);
	assert_int_equal(l.nitems, 3);
	listdir_free(&l);
	listdir_free(&l); /* twice is fine */
}

static void test_sort(void **state)
{
	(void)state;
	struct scan_item it[3];
	memset(it, 0, sizeof(it));
	it[0].name = "zz";
	it[1].name = "Z";
	it[2].name = "a";
	listdir_sort(it, 3);
	assert_string_equal(it[0].name, "Z"); /* bytewise */
	assert_string_equal(it[1].name, "a");
	assert_string_equal(it[2].name, "zz");
	listdir_sort(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_both_sides),
	    cmocka_unit_test(test_pack),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_sort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
