/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/common/path.c and lib/select/select.c: trimming, base/dir names, joins, canonical forms, containment,
 * --exclude patterns. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/path.h"
#include "select/select.h"

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

/*
 * --exclude patterns mean what they mean to rsync: each row was checked against rsync 3.5
 * (rsync -a --exclude PATTERN on a tree holding PATH; rows where rsync leaves PATH out only
 * because a parent matched keep the matcher's own answer for PATH).
 */
static const struct {
	const char *pattern, *path;
	int is_dir, match;
} match_table[] = {
    {"cache/", "cache", 1, 1},
    {"cache/", "cache", 0, 0},
    {"cache/", "a/b/cache", 1, 1},
    {"cache/", "a/cache/x", 0, 0},
    {"cache", "a/cache", 0, 1},
    {"cache", "a/cache", 1, 1},
    {"/top", "top", 1, 1},
    {"/top", "top", 0, 1},
    {"/top", "a/top", 1, 0},
    {"/top/", "top", 0, 0},
    {"/a/top", "a/top", 0, 1},
    {"/a/top", "x/a/top", 0, 0},
    {"sub/foo", "top/sub/foo", 0, 1},
    {"sub/foo", "sub/foo", 0, 1},
    {"sub/foo", "top/xsub/foo", 0, 0},
    {"sub/foo", "top/sub/foo/bar", 0, 0},
    {"sub/*", "top/sub/foo", 0, 1},
    {"sub/*", "sub/foo", 0, 1},
    {"sub/*", "top/sub/a/b", 0, 0},
    {"*.o", "a/b/c.o", 0, 1},
    {"*.o", "c.o", 1, 1},
    {"*.o", "a.o/c", 0, 0},
    {"a*c", "a/bc", 0, 0},
    {"a*c", "abbc", 0, 1},
    {"a/*c", "a/b/c", 0, 0},
    {"/a/**/c", "a/b/c", 0, 1},
    {"/a/**/c", "a/b/d/c", 0, 1},
    {"/a/**/c", "a/c", 0, 0},
    {"**/c", "c", 0, 1},
    {"**/c", "x/y/c", 0, 1},
    {"**c", "x/y/c", 0, 1},
    {"a**", "x/ab/c", 0, 1},
    {"a/**", "x/a/b/c", 0, 1},
    {"a/**", "a", 1, 0},
    {"dir/***", "dir", 1, 1},
    {"dir/***", "dir", 0, 0},
    {"dir/***", "x/dir", 1, 1},
    {"dir/***", "x/dir/y/z", 0, 1},
    {"/dir/***", "x/dir", 1, 0},
    {"?", "a", 0, 1},
    {"?", "ab", 0, 0},
    {"a?c", "a/c", 0, 0},
    {"[ab]x", "bx", 0, 1},
    {"[ab]x", "cx", 0, 0},
    {"[!ab]x", "cx", 0, 1},
    {"[^ab]x", "ax", 0, 0},
    {"[a-c]", "b", 0, 1},
    {"[a-c]", "d", 0, 0},
    {"[[:digit:]]*", "9lives", 0, 1},
    {"[[:digit:]]*", "lives", 0, 0},
    {"[]]", "]", 0, 1},
    {"[!]]", "]", 0, 0},
    {"x[/]y", "x/y", 0, 0},
    {"\\*", "*", 0, 1},
    {"\\*", "a", 0, 0},
    {"a\\*", "a*", 0, 1},
    {"a\\b", "a\\b", 0, 1},
    {"a\\b*", "ab", 0, 1},
    {"a\\\\b*", "a\\b", 0, 1},
    {"f[", "f[", 0, 0},
    {"f\\[x", "f[x", 0, 1},
    {"sp ace", "d/sp ace", 0, 1},
    {".*", ".hidden", 0, 1},
    {".*", "a/.h", 0, 1},
    {"*", "anything/at/all", 0, 1},
    {"/*", "top", 0, 1},
    {"/*", "top/x", 0, 0},
    {"*/", "d", 1, 1},
    {"*/", "f", 0, 0},
    {"/a/b/", "a/b", 1, 1},
    {"/a/b/", "a/b", 0, 0},
    {"a*/b", "ax/b", 0, 1},
    {"a*/b", "y/ax/b", 0, 1},
    {"a*/b", "y/ax/c/b", 0, 0},
    {"*/*/bar", "x/foo/q/bar", 0, 1},
    {"*/*/bar", "foo/bar", 0, 0},
    {"foo/*/bar", "foo/q/bar", 0, 1},
    {"foo/*/bar", "x/foo/q/bar", 0, 1},
    {"foo/*/bar", "foo/bar", 0, 0},
    {"**", "a/b", 0, 1},
    {"/**", "a/b", 0, 1},
    {"a**b", "a/x/b", 0, 1},
    {"a**b", "ya/x/b", 0, 0},
    {"*a**b", "x/a/y/b", 0, 1},
};

static void test_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_table) / sizeof(match_table[0]); i++) {
		int got =
		    select_match(match_table[i].pattern, match_table[i].path, match_table[i].is_dir);
		if (got != match_table[i].match)
			fail_msg("pattern '%s' path '%s' dir %d: got %d", match_table[i].pattern,
			         match_table[i].path, match_table[i].is_dir, got);
	}
}

/* A source copied by its name is the first component: "/src/x" anchors there. */
static void test_excluded_prefix(void **state)
{
	(void)state;
	struct select_rules pats, none;
	select_init(&pats);
	select_init(&none);
	assert_int_equal(select_add(&pats, "/src/x", SELECT_AS_EXCLUDE), 0);
	assert_int_equal(select_add(&pats, "*.o", SELECT_AS_EXCLUDE), 0);
	assert_true(select_excluded(&pats, "src/", "x", 0));
	assert_false(select_excluded(&pats, "", "x", 0));
	assert_false(select_excluded(&pats, NULL, "src/y", 0));
	assert_true(select_excluded(&pats, NULL, "d/y.o", 0));
	assert_false(select_excluded(&none, NULL, "d/y.o", 0));
	assert_false(select_excluded(NULL, NULL, "d/y.o", 0));
	char long_name[2000];
	memset(long_name, 'a', sizeof(long_name) - 3);
	memcpy(long_name + sizeof(long_name) - 3, ".o", 3);
	assert_true(select_excluded(&pats, "src/", long_name, 0));
	select_free(&pats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim_base_dir),   cmocka_unit_test(test_join),
	    cmocka_unit_test(test_within),          cmocka_unit_test(test_walk_cmp),
	    cmocka_unit_test(test_canonical),       cmocka_unit_test(test_match),
	    cmocka_unit_test(test_excluded_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
