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
	/* Parents are implied: taken and gone down into. */
	assert_int_equal(select_from_decide(&l, "a", 1), SELECT_FROM_DESCEND);
	assert_int_equal(select_from_decide(&l, "a/b", 1), SELECT_FROM_DESCEND);
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

	/* A directory listed alone and with a name below it: gone down into. */
	select_from_init(&l);
	const char both[] = "d\nd/e/v\nd-x\nd.y\n";
	assert_int_equal(select_from_parse(&l, both, sizeof(both) - 1, 0), 0);
	assert_int_equal(select_from_decide(&l, "d", 1), SELECT_FROM_DESCEND);
	assert_int_equal(select_from_decide(&l, "d/e", 1), SELECT_FROM_DESCEND);
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
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_decide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
