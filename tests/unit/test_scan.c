/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/fs/scan.c: depth-first, name-sorted order and chosen descents. */
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

#include "fs/scan.h"

static char root[] = "/tmp/pcopy-scan-XXXXXX";

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
	make("b", 1);
	make("a", 1);
	make("a/z", 0);
	make("a/y", 1);
	make("a/y/deep", 0);
	make("c", 0);
	make("skip", 1);
	make("skip/hidden", 0);
	make("sp ace\nnl", 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_order(void **state)
{
	(void)state;
	struct names n;
	assert_int_equal(names_init(&n, (size_t)1 << 24), 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct scan s;
	assert_int_equal(scan_start(&s, fd, -1, &n, names_add(&n, ".", 1) | SCAN_FLAG), 0);
	char seen[2048] = "";
	int batches = 0;
	while (scan_next(&s) == 1) {
		const char *dir = names_get(&n, s.dir);
		if (batches == 0)
			assert_int_equal(s.dir_flag, 1);
		batches++;
		for (size_t i = 0; i < s.batch.nitems; i++) {
			uint64_t off = scan_join(&n, dir, s.batch.items[i].name);
			strcat(seen, names_get(&n, off));
			strcat(seen, "|");
			if (S_ISDIR(s.batch.items[i].st.st_mode) &&
			    strcmp(s.batch.items[i].name, "skip") != 0)
				assert_int_equal(scan_descend(&s, off), 0);
		}
	}
	assert_string_equal(seen, "a|b|c|skip|sp ace\nnl|a/y|a/z|a/y/deep|");
	assert_int_equal(batches, 4); /* ., a, a/y, b */
	scan_end(&s);
	close(fd);
	names_free(&n);
}

static void test_missing_dir(void **state)
{
	(void)state;
	struct names n;
	assert_int_equal(names_init(&n, (size_t)1 << 24), 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct scan s;
	assert_int_equal(scan_start(&s, fd, -1, &n, names_add(&n, "nope", 4)), 0);
	assert_int_equal(scan_next(&s), -1);
	assert_int_equal(s.err, ENOENT);
	assert_int_equal(scan_next(&s), 0);
	scan_end(&s);
	close(fd);
	names_free(&n);
}

/* A walk whose directories are read elsewhere: peek/drop hand them out, read_dir reads one
 * (as another process would), set loads the batch back, sorted, with the flag it was given. */
static void test_remote_walk(void **state)
{
	(void)state;
	struct names n;
	assert_int_equal(names_init(&n, (size_t)1 << 24), 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct scan s, reader;
	memset(&reader, 0, sizeof(reader));
	reader.root_fd = fd;
	reader.names = &n;
	reader.dst_fd = -1;
	assert_int_equal(scan_start(&s, fd, -1, &n, names_add(&n, ".", 1) | SCAN_FLAG), 0);
	uint64_t dir;
	int batches = 0;
	char seen[2048] = "";
	while (scan_peek(&s, &dir)) {
		scan_drop(&s);
		assert_int_equal(scan_read_dir(&reader, dir), 1);
		assert_int_equal(reader.dir_flag, (dir & SCAN_FLAG) != 0);
		/* Loaded in reverse: scan_set sorts. */
		struct scan_item items[16];
		size_t k = reader.batch.nitems;
		assert_true(k <= 16);
		for (size_t i = 0; i < k; i++)
			items[i] = reader.batch.items[k - 1 - i];
		assert_int_equal(scan_set(&s, dir, items, k, 0), 0);
		assert_int_equal(s.dir_flag, batches == 0);
		batches++;
		const char *d = names_get(&n, s.dir);
		for (size_t i = 0; i < s.batch.nitems; i++) {
			uint64_t off = scan_join(&n, d, s.batch.items[i].name);
			strcat(seen, names_get(&n, off));
			strcat(seen, "|");
			if (S_ISDIR(s.batch.items[i].st.st_mode) &&
			    strcmp(s.batch.items[i].name, "skip") != 0)
				assert_int_equal(scan_descend(&s, off), 0);
		}
	}
	/* Each directory's entries in name order; the same set as scan_next's walk. */
	assert_string_equal(seen, "a|b|c|skip|sp ace\nnl|a/y|a/z|a/y/deep|");
	assert_int_equal(batches, 4);
	assert_int_equal(scan_read_dir(&reader, names_add(&n, "nope", 4)), -1);
	assert_int_equal(reader.err, ENOENT);
	scan_end(&reader);
	scan_end(&s);
	close(fd);
	names_free(&n);
}

/* scan_rsync_order: sibling directories as rsync sorts them, a name's end taken as '/'. */
static void test_rsync_order(void **state)
{
	(void)state;
	char top[] = "/tmp/pcopy-scan-rsync-XXXXXX", p[128];
	assert_non_null(mkdtemp(top));
	const char *dirs[] = {"a", "a b", "a.b", "a0", "a/in"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	struct names n;
	assert_int_equal(names_init(&n, (size_t)1 << 24), 0);
	int fd = open(top, O_RDONLY | O_DIRECTORY);
	struct scan s;
	assert_int_equal(scan_start(&s, fd, -1, &n, names_add(&n, ".", 1)), 0);
	scan_rsync_order(&s);
	char seen[256] = "";
	while (scan_next(&s) == 1) {
		const char *dir = names_get(&n, s.dir);
		strcat(seen, dir);
		strcat(seen, "|");
		for (size_t i = 0; i < s.batch.nitems; i++)
			assert_int_equal(
			    scan_descend(&s, scan_join(&n, dir, s.batch.items[i].name)), 0);
	}
	assert_string_equal(seen, ".|a b|a.b|a|a/in|a0|");
	scan_end(&s);
	close(fd);
	names_free(&n);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_missing_dir),
	    cmocka_unit_test(test_remote_walk),
	    cmocka_unit_test(test_rsync_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
