/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for lib/report/itemize.c: rsync's itemized codes and lines (-i, --log-file).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "copy/copy.h"
#include "report/itemize.h"

static void check_code(enum itemize_kind kind, uint32_t mode, uint32_t items, const char *want)
{
	char code[12];
	itemize_code(code, kind, mode, items);
	assert_string_equal(code, want);
}

static void test_codes(void **state)
{
	(void)state;
	check_code(ITEMIZE_COPIED, S_IFREG, ITEM_NEW, ">f+++++++++");
	check_code(ITEMIZE_COPIED, S_IFREG, ITEM_SIZE | ITEM_TIME, ">f.st......");
	check_code(ITEMIZE_COPIED, S_IFREG, ITEM_TIME, ">f..t......");
	check_code(ITEMIZE_UPDATED, S_IFREG, ITEM_PERMS, ".f...p.....");
	check_code(ITEMIZE_UPDATED, S_IFREG, ITEM_OWNER | ITEM_GROUP, ".f....og...");
	check_code(ITEMIZE_UPDATED, S_IFREG, ITEM_ACL | ITEM_XATTR, ".f.......ax");
	check_code(ITEMIZE_COPIED, S_IFDIR, ITEM_NEW, "cd+++++++++");
	check_code(ITEMIZE_UPDATED, S_IFDIR, ITEM_TIME, ".d..t......");
	check_code(ITEMIZE_COPIED, S_IFLNK, ITEM_NEW, "cL+++++++++");
	check_code(ITEMIZE_COPIED, S_IFLNK, ITEM_CHANGE | ITEM_TIME, "cLc.t......");
	check_code(ITEMIZE_COPIED, S_IFLNK, ITEM_TIME, ".L..t......");
	check_code(ITEMIZE_COPIED, S_IFIFO, ITEM_NEW, "cS+++++++++");
	check_code(ITEMIZE_COPIED, S_IFCHR, ITEM_NEW, "cD+++++++++");
	check_code(ITEMIZE_HARDLINK, S_IFREG, ITEM_NEW, "hf+++++++++");
	check_code(ITEMIZE_HARDLINK, S_IFREG, ITEM_SIZE | ITEM_TIME, "hf.st......");
	check_code(ITEMIZE_DELETED, S_IFDIR, 0, "*deleting  ");
}

/* What itemize_line() writes (caller frees). */
static char *line(const char *stamp, enum itemize_kind kind, uint32_t mode, uint32_t items,
                  const char *path, const char *link)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	itemize_line(f, stamp, kind, mode, items, path, link);
	fclose(f);
	return buf;
}

static void check_line(const char *want, const char *stamp, enum itemize_kind kind, uint32_t mode,
                       uint32_t items, const char *path, const char *link)
{
	char *got = line(stamp, kind, mode, items, path, link);
	assert_string_equal(got, want);
	free(got);
}

static void test_lines(void **state)
{
	(void)state;
	check_line(">f+++++++++ a\n", NULL, ITEMIZE_COPIED, S_IFREG, ITEM_NEW, "a", NULL);
	check_line("cd+++++++++ ./\n", NULL, ITEMIZE_COPIED, S_IFDIR, ITEM_NEW, ".", NULL);
	check_line("cd+++++++++ src/\n", NULL, ITEMIZE_COPIED, S_IFDIR, ITEM_NEW, "src/", NULL);
	check_line(".d..t...... d/e/\n", NULL, ITEMIZE_UPDATED, S_IFDIR, ITEM_TIME, "d/e", NULL);
	check_line("cL+++++++++ l -> a b\n", NULL, ITEMIZE_COPIED, S_IFLNK, ITEM_NEW, "l", "a b");
	check_line("hf+++++++++ d/h => d/b\n", NULL, ITEMIZE_HARDLINK, S_IFREG, ITEM_NEW, "d/h",
	           "d/b");
	check_line("hf.st...... d/h\n", NULL, ITEMIZE_HARDLINK, S_IFREG, ITEM_SIZE | ITEM_TIME,
	           "d/h", NULL);
	check_line("*deleting   x\n", NULL, ITEMIZE_DELETED, 0, 0, "x", NULL);
	check_line("*deleting   d/\n", NULL, ITEMIZE_DELETED, S_IFDIR, 0, "d", NULL);
	check_line("2026/12/06 02:28:35 [42] >f..t...... a\n", "2026/12/06 02:28:35 [42] ",
	           ITEMIZE_COPIED, S_IFREG, ITEM_TIME, "a", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
