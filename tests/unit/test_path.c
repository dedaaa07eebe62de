/* Unit tests for lib/path.c: trimming, base/dir names, joins, canonical forms, containment. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "path.h"

static void check(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_trim_base_dir(void **state)
{
	(void)state;
	check(path_trim("a/b///"), "a/b");
	check(path_trim("/"), "/");
	check(path_trim("///"), "/");
	check(path_base("a/b/"), "b");
	check(path_base("b"), "b");
	check(path_base("/"), "/");
	check(path_base("/x"), "x");
	check(path_dir("a/b"), "a");
	check(path_dir("a//b"), "a");
	check(path_dir("b"), ".");
	check(path_dir("/b"), "/");
	check(path_dir("a/b/c/"), "a/b");
}

static void test_join(void **state)
{
	(void)state;
	check(path_join("a", "b"), "a/b");
	check(path_join("a/", "b"), "a/b");
	check(path_join("/", "b"), "/b");
	check(path_join("a", ""), "a/");
	check(path_join("sp ace", "new\nline"), "sp ace/new\nline");
}

static void test_within(void **state)
{
	(void)state;
	assert_true(path_within("/a/b", "/a"));
	assert_true(path_within("/a", "/a"));
	assert_false(path_within("/ab", "/a"));
	assert_false(path_within("/a", "/a/b"));
	assert_true(path_within("/x", "/"));
}

static void test_canonical(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/pcopy-path-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *dir = realpath(tmpl, NULL);
	char *p = path_join(tmpl, "not-yet");
	char *want = path_join(dir, "not-yet");
	check(path_canonical(p), want);
	char *missing = path_join(tmpl, "no/such/thing");
	assert_null(path_canonical(missing));
	rmdir(tmpl);
	free(dir);
	free(p);
	free(want);
	free(missing);
}

/* The walk's order: entries of a directory by name, then subdirectories' contents. */
static void test_walk_cmp(void **state)
{
	(void)state;
	assert_true(path_walk_cmp("z", "a/b") < 0);
	assert_true(path_walk_cmp("a/b", "z") > 0);
	assert_true(path_walk_cmp("a", "b") < 0);
	assert_true(path_walk_cmp("d/z", "d/a/x") < 0);
	assert_true(path_walk_cmp("d/a/x", "d/b/a") < 0);
	assert_true(path_walk_cmp("d/ab/x", "d/a/y") > 0);
	assert_true(path_walk_cmp("d/a", "d/ab") < 0);
	assert_int_equal(path_walk_cmp("d/a/x", "d/a/x"), 0);
	assert_true(path_walk_cmp("\xe9", "e") > 0); /* bytewise, unsigned */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim_base_dir), cmocka_unit_test(test_join),
	    cmocka_unit_test(test_within),        cmocka_unit_test(test_walk_cmp),
	    cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
