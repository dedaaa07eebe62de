/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/verify: the names a manifest line may give, and a check of a small tree
 * on a pool of workers (verdicts in manifest order, --unlisted, a malformed line). */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/exit.h"
#include "verify/verify.h"

static void clean_is(const char *name, const char *want)
{
	char out[256];
	if (want == NULL) {
		assert_int_equal(verify_clean_name(name, out), -1);
		return;
	}
	assert_int_equal(verify_clean_name(name, out), 0);
	assert_string_equal(out, want);
}

static void test_clean_name(void **state)
{
	(void)state;
	clean_is("a", "a");
	clean_is("a/b/c", "a/b/c");
	clean_is("./a", "a");
	clean_is("././a//b/./c", "a/b/c");
	clean_is("a/", "a");
	clean_is("-dash", "-dash");
	clean_is("a b\\c\nd", "a b\\c\nd");
	clean_is("..a/b..", "..a/b..");
	clean_is("/etc/passwd", NULL);
	clean_is("../a", NULL);
	clean_is("a/../b", NULL);
	clean_is("a/..", NULL);
	clean_is(".", NULL);
	clean_is("./", NULL);
}

/* What the hooks saw: one line per verdict. */
struct seen {
	char text[4096];
	size_t len;
};

static void on_result(void *ctx, const struct verify_result *r)
{
	struct seen *s = ctx;
	int n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%d %s\n", (int)r->verdict,
	                 r->name);
	s->len += (size_t)n;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static volatile sig_atomic_t never;

/* Check DIR against MANIFEST with JOBS workers; the verdicts into *S. */
static int check(const char *manifest, const char *dir, int jobs, int unlisted, struct seen *s,
                 char *err)
{
	struct verify_opts o = {manifest, dir, jobs, unlisted, 0, &never};
	struct verify_hooks h = {on_result, NULL, s};
	struct verify_counts c;
	struct stats st;
	memset(s, 0, sizeof(*s));
	return verify_run(&o, &h, &c, &st, err, 256);
}

static void test_run(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/test_verify.XXXXXX";
	char *top = mkdtemp(tmpl);
	assert_non_null(top);
	assert_int_equal(chdir(top), 0);
	assert_int_equal(mkdir("d", 0755), 0);
	assert_int_equal(mkdir("d/sub", 0755), 0);
	put("d/a", "a\n");
	put("d/sub/b", "b\n");
	put("d/extra", "extra\n");
	assert_int_equal(symlink("a", "d/link"), 0);
	/* 5c73...: xxh128sum of "a\n". */
	put("m.txt", "5c73e7e3dcbb0395e841f27363849a18  ./a\n"
	             "00000000000000000000000000000000  sub/b\n"
	             "00000000000000000000000000000000  gone\n"
	             "00000000000000000000000000000000  link\n");
	struct seen s;
	char err[256] = "";
	int rc = check("m.txt", "d", 2, 0, &s, err);
	assert_int_equal(rc, PCOPY_EXIT_PARTIAL);
	char want[256];
	snprintf(want, sizeof(want), "%d ./a\n%d sub/b\n%d gone\n%d link\n", VERIFY_OK,
	         VERIFY_CHANGED, VERIFY_MISSING, VERIFY_NOT_REGULAR);
	assert_string_equal(s.text, want);
	rc = check("m.txt", "d", 1, 1, &s, err);
	assert_int_equal(rc, PCOPY_EXIT_PARTIAL);
	snprintf(want, sizeof(want), "%d ./a\n%d sub/b\n%d gone\n%d link\n%d extra\n", VERIFY_OK,
	         VERIFY_CHANGED, VERIFY_MISSING, VERIFY_NOT_REGULAR, VERIFY_UNLISTED);
	assert_string_equal(s.text, want);

	put("bad.txt", "00000000000000000000000000000000  a\nnonsense\n");
	rc = check("bad.txt", "d", 2, 0, &s, err);
	assert_int_equal(rc, PCOPY_EXIT_FATAL);
	assert_string_equal(err, "bad.txt:2: malformed manifest line");
	assert_string_equal(s.text, "");

	put("empty.txt", "");
	assert_int_equal(check("empty.txt", "d", 2, 0, &s, err), PCOPY_EXIT_OK);
	assert_int_equal(check("m.txt", "no-such-dir", 2, 0, &s, err), PCOPY_EXIT_FATAL);
	assert_int_equal(system("rm -rf d m.txt bad.txt empty.txt"), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(top), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_name),
	    cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
