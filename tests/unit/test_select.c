/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/select/rules.c: rule syntax, filter files, first match wins, dir-merge
 * inheritance and anchoring, size limits and rsync's size units. (The pattern matcher
 * itself: test_path.c.) */
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

#include "select/select.h"

static char scratch[] = "/tmp/test_select.XXXXXX";

/* Write LINES (NULL-terminated) into scratch/NAME, one a line. */
static void write_lines(const char *name, const char *const *lines)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (; *lines != NULL; lines++)
		fprintf(f, "%s\n", *lines);
	fclose(f);
}

static void test_rule_syntax(void **state)
{
	(void)state;
	struct select_rules s;
	select_init(&s);
	static const char *const good[] = {"- *.o",       "+ keep.o",     "exclude tmp/",
	                                   "include a/",  "-! */",        "+_x y",
	                                   "exclude,! b", "dir-merge .f", ": /.rsync-filter"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(select_add(&s, good[i], SELECT_FILTER), 0);
	assert_int_equal(s.top.n, 9);
	assert_int_equal(s.nmerge, 2);
	assert_int_equal(s.top.v[0].kind, SELECT_EXCLUDE);
	assert_string_equal(s.top.v[0].pattern, "*.o");
	assert_int_equal(s.top.v[1].kind, SELECT_INCLUDE);
	assert_string_equal(s.top.v[2].pattern, "tmp/");
	assert_true(s.top.v[4].negate);
	assert_string_equal(s.top.v[5].pattern, "x y");
	assert_true(s.top.v[6].negate && s.top.v[6].kind == SELECT_EXCLUDE);
	assert_string_equal(s.top.v[7].pattern, ".f");
	assert_string_equal(s.top.v[8].pattern, ".rsync-filter");
	static const char *const bad[] = {"bogus", "-",         "- ",      "+x y",   "hide *.o",
	                                  "!x",    "",          ": a/b",   ". ",     ": ..",
	                                  "-!! x", "merge,! f", "clear x", "exclude"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(select_add(&s, bad[i], SELECT_FILTER), -1);
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(select_error(&s), "bad filter rule '"));
	}
	assert_int_equal(s.top.n, 9); /* nothing added by a rejected rule */
	/* --exclude and --include: "- " and "+ " prefixes, "!" clears, anything else a pattern. */
	assert_int_equal(select_add(&s, "!", SELECT_AS_EXCLUDE), 0);
	assert_int_equal(s.top.n, 0);
	assert_int_equal(s.nmerge, 0);
	assert_int_equal(select_add(&s, "+ a", SELECT_AS_EXCLUDE), 0);
	assert_int_equal(select_add(&s, "- b", SELECT_AS_INCLUDE), 0);
	assert_int_equal(select_add(&s, "bogus rule", SELECT_AS_INCLUDE), 0);
	assert_int_equal(s.top.v[0].kind, SELECT_INCLUDE);
	assert_int_equal(s.top.v[1].kind, SELECT_EXCLUDE);
	assert_int_equal(s.top.v[2].kind, SELECT_INCLUDE);
	assert_string_equal(s.top.v[2].pattern, "bogus rule");
	select_free(&s);
}

static void test_first_match_wins(void **state)
{
	(void)state;
	struct select_rules s;
	select_init(&s);
	assert_false(select_any(&s));
	assert_false(select_excluded(&s, NULL, "x.o", 0));
	assert_int_equal(select_add(&s, "keep.o", SELECT_AS_INCLUDE), 0);
	assert_int_equal(select_add(&s, "*.o", SELECT_AS_EXCLUDE), 0);
	assert_int_equal(select_add(&s, "*.o", SELECT_AS_INCLUDE), 0);
	assert_int_equal(select_add(&s, "-! */", SELECT_FILTER), 0);
	assert_true(select_any(&s));
	assert_false(select_excluded(&s, NULL, "d/keep.o", 0));
	assert_true(select_excluded(&s, NULL, "d/x.o", 0));
	assert_true(select_excluded(&s, NULL, "d/x.c", 0)); /* the negated rule: not a directory */
	assert_false(select_excluded(&s, NULL, "d/x.c", 1));
	assert_false(select_excluded(&s, "src/", "d", 1));
	select_free(&s);
}

static void test_files(void **state)
{
	(void)state;
	char path[512], cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(scratch), 0);
	write_lines("ex.list",
	            (const char *const[]){"# comment", "; comment", "", "*.o", "+ keep.o", NULL});
	write_lines("m.rules", (const char *const[]){"- *.tmp", ". m2.rules", NULL});
	write_lines("m2.rules", (const char *const[]){"+ *.c", "- *", NULL});
	write_lines("loop.rules", (const char *const[]){"merge loop.rules", NULL});
	write_lines("bad.rules", (const char *const[]){"- ok", "nonsense", NULL});
	struct select_rules s;
	select_init(&s);
	assert_int_equal(select_add_file(&s, "ex.list", SELECT_AS_EXCLUDE), 0);
	assert_int_equal(s.top.n, 2);
	assert_int_equal(s.top.v[1].kind, SELECT_INCLUDE);
	assert_string_equal(s.top.v[1].pattern, "keep.o");
	assert_int_equal(select_add(&s, "merge m.rules", SELECT_FILTER), 0);
	assert_int_equal(s.top.n, 5);
	assert_true(select_excluded(&s, NULL, "a.tmp", 0));
	assert_false(select_excluded(&s, NULL, "a.c", 0));
	assert_true(select_excluded(&s, NULL, "a.h", 0));
	assert_int_equal(select_add(&s, "merge loop.rules", SELECT_FILTER), -1);
	assert_int_equal(select_add(&s, ". bad.rules", SELECT_FILTER), -1);
	assert_string_equal(select_error(&s), "bad filter rule 'nonsense'");
	assert_int_equal(select_add_file(&s, "missing", SELECT_AS_INCLUDE), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(select_error(&s), "missing: No such file or directory");
	select_free(&s);
	snprintf(path, sizeof(path), "%s", cwd);
	assert_int_equal(chdir(path), 0);
}

/* dir-merge: a directory's rules go in front of its parents', at the dir-merge rule's place;
 * '/' anchors at the file's directory; leaving a directory forgets its rules. */
static void test_dir_merge(void **state)
{
	(void)state;
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/t/a/b", scratch);
	assert_int_equal(mkdir(dir, 0755) == 0 || errno == EEXIST, 1);
	write_lines("t/.f", (const char *const[]){"- *.o", "- *.log", NULL});
	write_lines("t/a/.f", (const char *const[]){"+ *.o", "- /b/x", NULL});
	write_lines("t/a/b/.f", (const char *const[]){"- *.o", NULL});
	char top[512];
	snprintf(top, sizeof(top), "%s/t", scratch);
	int fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct select_rules s;
	select_init(&s);
	assert_int_equal(select_add(&s, "+ keep.log", SELECT_FILTER), 0);
	assert_int_equal(select_add(&s, ": .f", SELECT_FILTER), 0);
	assert_int_equal(select_add(&s, "- *.c", SELECT_FILTER), 0);
	assert_true(select_has_dir_merge(&s));
	/* The transfer root is t (its contents copied): "" in the transfer. */
	assert_int_equal(select_enter_dir(&s, fd, ".", NULL), 0);
	assert_true(select_excluded(&s, NULL, "x.o", 0));
	assert_false(select_excluded(&s, NULL, "keep.log", 0)); /* before the dir-merge rule */
	assert_true(select_excluded(&s, NULL, "x.c", 0));
	assert_int_equal(select_enter_dir(&s, fd, "a", NULL), 0);
	assert_false(select_excluded(&s, NULL, "a/x.o", 0));  /* a's "+ *.o" first */
	assert_true(select_excluded(&s, NULL, "a/x.log", 0)); /* inherited from t */
	assert_true(select_excluded(&s, NULL, "a/b/x", 0));   /* "/b/x" anchored at a */
	assert_false(select_excluded(&s, NULL, "b/x", 0));
	assert_int_equal(select_enter_dir(&s, fd, "a/b", NULL), 0);
	assert_true(select_excluded(&s, NULL, "a/b/y.o", 0)); /* the nearest file wins */
	select_leave_dir(&s);
	assert_false(select_excluded(&s, NULL, "a/y.o", 0));
	/* A sibling of a: a's rules are forgotten when the walk enters it. */
	snprintf(dir, sizeof(dir), "%s/t/c", scratch);
	assert_int_equal(mkdir(dir, 0755) == 0 || errno == EEXIST, 1);
	assert_int_equal(select_enter_dir(&s, fd, "a/b", NULL), 0);
	assert_int_equal(select_enter_dir(&s, fd, "c", NULL), 0);
	assert_int_equal(s.nframes, 2);
	assert_true(select_excluded(&s, NULL, "c/y.o", 0));
	/* With a prefix (a source copied by its name) and a bad rule in a file. */
	write_lines("t/c/.f", (const char *const[]){"- ok", "what", NULL});
	assert_int_equal(select_enter_dir(&s, fd, "c", "t/"), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(select_error(&s), "t/c/.f: bad filter rule 'what'");
	select_free(&s);
	close(fd);
}

static void test_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t want;
	} good[] = {{"0", 0},         {"1", 1},           {"1000", 1000},        {"1b", 1},
	            {"1k", 1024},     {"1K", 1024},       {"1kb", 1000},         {"1KiB", 1024},
	            {"1.5k", 1536},   {"1k+1", 1025},     {"1k-1", 1023},        {"1m", 1048576},
	            {"1MB", 1000000}, {"2g", 2147483648}, {"1t", 1099511627776}, {".5k", 512}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t v = -7;
		assert_int_equal(select_parse_size(good[i].text, &v), 0);
		assert_int_equal(v, good[i].want);
	}
	static const char *const bad[] = {"", "x", "k", "1x", "1kk", "-1", "1k+2", "1.5.5", "1 k"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v;
		assert_int_equal(select_parse_size(bad[i], &v), -1);
	}
	struct select_rules s;
	select_init(&s);
	assert_false(select_size_skipped(&s, S_IFREG, 1 << 30));
	assert_int_equal(select_set_size(&s, 1, "1k"), 0);
	assert_int_equal(select_set_size(&s, 0, "10"), 0);
	assert_true(select_any(&s));
	assert_true(select_size_skipped(&s, S_IFREG, 1025));
	assert_false(select_size_skipped(&s, S_IFREG, 1024));
	assert_false(select_size_skipped(&s, S_IFREG, 10));
	assert_true(select_size_skipped(&s, S_IFREG, 9));
	assert_false(select_size_skipped(&s, S_IFDIR, 4096)); /* regular files only */
	assert_false(select_size_skipped(&s, S_IFLNK, 5));
	assert_int_equal(select_set_size(&s, 1, "1q"), -1);
	assert_string_equal(select_error(&s), "--max-size=1q is invalid");
	select_free(&s);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(scratch) == NULL)
		return -1;
	char t[600];
	snprintf(t, sizeof(t), "%s/t/a", scratch);
	char top[600];
	snprintf(top, sizeof(top), "%s/t", scratch);
	return mkdir(top, 0755) == 0 && mkdir(t, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_syntax), cmocka_unit_test(test_first_match_wins),
	    cmocka_unit_test(test_files),       cmocka_unit_test(test_dir_merge),
	    cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
