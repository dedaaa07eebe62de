/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/select/fromlist.c: --files-from's names cleaned as rsync does, comments
 * and separators, and what the list says of each path of a walk. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "select/fromlist.h"

/* clean NAME => WANT (CONTENTS: its contents flag). */
static void cleaned(const char *name, const char *want, int contents)
{
	char out[256];
	int c = -1;
	select_from_clean(name, out, &c);
	assert_string_equal(out, want);
	assert_int_equal(c, contents);
}

static void test_clean(void **state)
{
	(void)state;
	cleaned("a/b", "a/b", 0);
	cleaned("/a/b", "a/b", 0);
	cleaned("./a//b", "a/b", 0);
	cleaned("a/../b", "b", 0);
	cleaned("../../x", "x", 0);
	cleaned("dir/", "dir", 1);
	cleaned("dir/.", "dir", 1);
	cleaned(".", "", 1);
	cleaned("/", "", 1);
	cleaned("a/./b/", "a/b", 1);
	/* rsync reads "dir/sub/.." as "dir/": the directory and its contents. */
	cleaned("a/b/..", "a", 1);
	cleaned("a/b/..//", "a", 1);
	cleaned("a/b/../c", "a/c", 0);
}

/* The list of one NAME: is its root (DEST itself) sent, and how? */
static enum select_from_root root_of(const char *name)
{
	struct select_from l;
	select_from_init(&l);
	assert_int_equal(select_from_parse(&l, name, strlen(name), 0), 0);
	enum select_from_root root = select_from_root(&l);
	select_from_free(&l);
	return root;
}

static void test_root(void **state)
{
	(void)state;
	/* Listed: ".", or any name that cleans to it. */
	assert_int_equal(root_of("."), SELECT_FROM_ROOT_LISTED);
	assert_int_equal(root_of("./"), SELECT_FROM_ROOT_LISTED);
	assert_int_equal(root_of("/"), SELECT_FROM_ROOT_LISTED);
	assert_int_equal(root_of("a/.."), SELECT_FROM_ROOT_LISTED);
	assert_int_equal(root_of(".."), SELECT_FROM_ROOT_LISTED);
	assert_int_equal(root_of("x\n.\n"), SELECT_FROM_ROOT_LISTED);
	/* Implied by a leading "./" (rsync's sanitizing first), as rsync 3.5 does. */
	assert_int_equal(root_of("./top"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of("/./top"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of(".//top"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of("./a/b/"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of("./././top"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of("a/../../x/.././/top"), SELECT_FROM_ROOT_IMPLIED);
	assert_int_equal(root_of("a\n./b\n"), SELECT_FROM_ROOT_IMPLIED);
	/* Not sent. */
	assert_int_equal(root_of("top"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("/top"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("././top"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("a/../top"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("a/./b"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of(".x"), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("sub/."), SELECT_FROM_ROOT_NO);
	assert_int_equal(root_of("# ./x\n"), SELECT_FROM_ROOT_NO);
}

/* KEEP for test_keep: leave out the names with an 'x' (counting the calls in CTX). */
static int keep_no_x(void *ctx, const char *path)
{
	(*(int *)ctx)++;
	return strchr(path, 'x') == NULL;
}

static void test_keep(void **state)
{
	(void)state;
	struct select_from l, k;
	select_from_init(&l);
	select_from_init(&k);
	const char text[] = "a/b/x\nd/e/v\nd/x\nq/\n";
	assert_int_equal(select_from_parse(&l, text, sizeof(text) - 1, 0), 0);
	l.recursive = 1;
	int calls = 0;
	assert_int_equal(select_from_keep(&k, &l, keep_no_x, &calls), 0);
	assert_int_equal(calls, 4);
	assert_true(k.active);
	assert_true(k.recursive);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.v[0].path, "d/e/v");
	assert_string_equal(k.v[1].path, "q");
	assert_int_equal(k.v[1].contents, 1);
	/* A name left out implies no parents. */
	assert_int_equal(select_from_decide(&k, "a", 1), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&k, "d", 1), SELECT_FROM_IMPLIED);
	assert_int_equal(select_from_decide(&k, "d/x", 0), SELECT_FROM_SKIP);
	select_from_free(&k);
	select_from_free(&l);
}

static void test_parse(void **state)
{
	(void)state;
	struct select_from l;
	select_from_init(&l);
	const char text[] = "# comment\n; too\n\nb/c\r\n/a\na/\nlast";
	assert_int_equal(select_from_parse(&l, text, sizeof(text) - 1, 0), 0);
	assert_true(l.active);
	/* Sorted, "a" and "a/" one entry with its contents. */
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].path, "a");
	assert_int_equal(l.v[0].contents, 1);
	assert_string_equal(l.v[1].path, "b/c");
	assert_int_equal(l.v[1].contents, 0);
	assert_string_equal(l.v[2].path, "last");
	select_from_free(&l);

	select_from_init(&l);
	const char nul[] = "x y\0#z\0d/e\n";
	assert_int_equal(select_from_parse(&l, nul, sizeof(nul) - 1, 1), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].path, "d/e\n");
	assert_string_equal(l.v[1].path, "x y");
	select_from_free(&l);
}

static void test_decide(void **state)
{
	(void)state;
	struct select_from l;
	select_from_init(&l);
	const char text[] = "a/b/f\nd\ne/\n";
	assert_int_equal(select_from_parse(&l, text, sizeof(text) - 1, 0), 0);
	/* Parents are implied: taken and gone down into, whatever the rules say. */
	assert_int_equal(select_from_decide(&l, "a", 1), SELECT_FROM_IMPLIED);
	assert_int_equal(select_from_decide(&l, "a/b", 1), SELECT_FROM_IMPLIED);
	assert_int_equal(select_from_decide(&l, "a/b/f", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "a/b/g", 0), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&l, "a/bb", 1), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&l, "top", 0), SELECT_FROM_SKIP);
	/* A plain directory alone; "e/" its direct contents, not further. */
	assert_int_equal(select_from_decide(&l, "d", 1), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "d/x", 0), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&l, "e", 1), SELECT_FROM_DESCEND);
	assert_int_equal(select_from_decide(&l, "e/x", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "e/sub", 1), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "e/sub/x", 0), SELECT_FROM_SKIP);
	/* -r: everything below each name. */
	l.recursive = 1;
	assert_int_equal(select_from_decide(&l, "d", 1), SELECT_FROM_DESCEND);
	assert_int_equal(select_from_decide(&l, "d/x/y", 1), SELECT_FROM_DESCEND);
	assert_int_equal(select_from_decide(&l, "e/sub/x", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "top", 0), SELECT_FROM_SKIP);
	select_from_free(&l);

	/* A directory listed alone and with a name below it: gone down into as a parent. */
	select_from_init(&l);
	const char both[] = "d\nd/e/v\nd-x\nd.y\n";
	assert_int_equal(select_from_parse(&l, both, sizeof(both) - 1, 0), 0);
	assert_int_equal(select_from_decide(&l, "d", 1), SELECT_FROM_IMPLIED);
	assert_int_equal(select_from_decide(&l, "d/e", 1), SELECT_FROM_IMPLIED);
	assert_int_equal(select_from_decide(&l, "d/e/v", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "d/e/w", 0), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&l, "d/u", 0), SELECT_FROM_SKIP);
	assert_int_equal(select_from_decide(&l, "d-x", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "d.y", 1), SELECT_FROM_TAKE);
	select_from_free(&l);

	/* "." takes the root's direct contents; no list takes everything. */
	select_from_init(&l);
	assert_int_equal(select_from_parse(&l, ".\n", 2, 0), 0);
	assert_int_equal(select_from_decide(&l, "top", 0), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "dir", 1), SELECT_FROM_TAKE);
	assert_int_equal(select_from_decide(&l, "dir/x", 0), SELECT_FROM_SKIP);
	select_from_free(&l);
	assert_int_equal(select_from_decide(NULL, "x", 0), SELECT_FROM_DESCEND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),  cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_decide), cmocka_unit_test(test_root),
	    cmocka_unit_test(test_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
