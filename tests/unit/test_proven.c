/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/report/proven.c: a manifest's stat sidecar saved and read back (escaped
 * names, times before 1970), looked up by prefix and path, and refused when it is missing,
 * stale (the manifest changed), of another format or corrupt; and stamp.h's settle rule. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/stamp.h"
#include "report/manifest.h"
#include "report/proven.h"

static char dir[] = "/tmp/test_proven.XXXXXX";
static char manifest[64], side[80];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(manifest, sizeof(manifest), "%s/m.xxh", dir);
	snprintf(side, sizeof(side), "%s/m.xxh.pcopy-stat", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(manifest);
	unlink(side);
	rmdir(dir);
	return 0;
}

static struct stamp stamp_n(uint64_t n)
{
	return (struct stamp){n,          1000 + n, 10 * n, (int64_t)n - 2, 1700000000 + (int64_t)n,
	                      (int32_t)n, 999999999};
}

/* Save a manifest of three files (one with a newline in its name) and a sidecar with
 * records for lines 1 and 3 (after the sort: "a\nb", "c", "d/b"). */
static void save_three(void)
{
	struct manifest_line lines[] = {
	    {"", "c", {3, 3}, 0}, {"", "a\nb", {1, 1}, 0}, {"d/", "b", {2, 2}, 0}};
	struct hash128 digest;
	assert_int_equal(manifest_save(manifest, lines, 3, 0, &digest), 0);
	struct proven_record recs[] = {{1, stamp_n(1)}, {3, stamp_n(3)}};
	assert_int_equal(proven_save(manifest, digest, recs, 2, 1), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	save_three();
	struct proven p;
	char why[256];
	assert_int_equal(proven_load(&p, manifest, why, sizeof(why)), PROVEN_LOADED);
	assert_int_equal(p.n, 2);
	const struct proven_file *f = proven_find(&p, "", "a\nb");
	assert_non_null(f);
	assert_true(hash_equal(f->hash, (struct hash128){1, 1}));
	struct stamp s1 = stamp_n(1), s3 = stamp_n(3);
	assert_true(stamp_equal(&f->stamp, &s1));
	assert_int_equal(f->stamp.mtime_sec, -1); /* before 1970 */
	f = proven_find(&p, "d/", "b");
	assert_non_null(f);
	assert_true(hash_equal(f->hash, (struct hash128){2, 2}));
	assert_true(stamp_equal(&f->stamp, &s3));
	assert_null(proven_find(&p, "", "c")); /* listed, without a record */
	assert_null(proven_find(&p, "", "d"));
	proven_free(&p);
}

static void test_prefix_lookup(void **state)
{
	(void)state;
	struct manifest_line lines[] = {{"", "x/y", {7, 7}, 0}, {"", "x/z", {8, 8}, 0}};
	struct hash128 digest;
	assert_int_equal(manifest_save(manifest, lines, 2, 0, &digest), 0);
	struct proven_record recs[] = {{1, stamp_n(1)}, {2, stamp_n(2)}};
	assert_int_equal(proven_save(manifest, digest, recs, 2, 0), 0);
	struct proven p;
	char why[256];
	assert_int_equal(proven_load(&p, manifest, why, sizeof(why)), PROVEN_LOADED);
	assert_non_null(proven_find(&p, "x/", "z"));
	assert_non_null(proven_find(&p, "x/y", ""));
	assert_null(proven_find(&p, "x", "z"));
	proven_free(&p);
}

/* Replace the sidecar's text with TEXT. */
static void put_side(const char *text)
{
	FILE *f = fopen(side, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void unusable(const char *want)
{
	struct proven p;
	char why[256] = "";
	assert_int_equal(proven_load(&p, manifest, why, sizeof(why)), PROVEN_UNUSABLE);
	if (strstr(why, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, want);
	assert_int_equal(p.n, 0);
	assert_null(p.files);
}

static void test_refused(void **state)
{
	(void)state;
	save_three();
	FILE *f = fopen(manifest, "a"); /* the manifest changed since */
	fputs("00000000000000000000000000000004  e\n", f);
	fclose(f);
	unusable("is stale");
	save_three();
	FILE *s = fopen(side, "r");
	char head[128], rest[512];
	assert_non_null(fgets(head, sizeof(head), s));
	size_t n = fread(rest, 1, sizeof(rest) - 1, s);
	rest[n] = '\0';
	fclose(s);
	char text[700];
	snprintf(text, sizeof(text), "pcopy-stat 2%s%s", head + strlen("pcopy-stat 1"), rest);
	put_side(text);
	unusable("has format 2");
	snprintf(text, sizeof(text), "%s3 1 2 3 4.000000000 5.000000000\n1 1 2 3 4.0 5.0\n", head);
	put_side(text);
	unusable("corrupt (record 2)"); /* 3 then 1: out of order; and "4.0" */
	snprintf(text, sizeof(text), "%s4 1 2 3 4.000000000 5.000000000\n", head);
	put_side(text);
	unusable("corrupt (record 1)"); /* no line 4 */
	snprintf(text, sizeof(text), "%s1 1 2 3 4.000000000 5.000000000", head);
	put_side(text);
	unusable("a line without its end");
	put_side("not a sidecar\n");
	unusable("not one pcopy wrote");
	unlink(side);
	unusable("cannot read its stat sidecar");
	unlink(manifest);
	unusable("cannot read the previous manifest");
}

static void test_settled(void **state)
{
	(void)state;
	struct stamp s = stamp_n(0);
	s.ctime_sec = 100;
	s.ctime_nsec = 500;
	struct timespec t = {100 + STAMP_SETTLE_SEC, 500};
	assert_false(stamp_settled(&s, &t));
	t.tv_nsec = 501;
	assert_true(stamp_settled(&s, &t));
	t = (struct timespec){101, 0};
	assert_false(stamp_settled(&s, &t));
	t = (struct timespec){100 + STAMP_SETTLE_SEC + 1, 0};
	assert_true(stamp_settled(&s, &t));
	/* FAT, exFAT: the "change time" is the modification time, which touch -d sets back. */
	s.mtime_sec = 100;
	s.mtime_nsec = 500;
	assert_false(stamp_ctime_own(&s));
	assert_false(stamp_settled(&s, &t));
	s.mtime_nsec = 499;
	assert_true(stamp_ctime_own(&s));
	assert_true(stamp_ctime_before(100, 500, &t));
	assert_false(stamp_ctime_before(100 + 1, 0, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_prefix_lookup),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_settled),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
