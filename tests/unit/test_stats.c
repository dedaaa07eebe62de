/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/report/stats.c: the --stats summary. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/stats.h"

/* What stats_write() makes of ST (caller frees). */
static char *written(const struct stats *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	stats_write(f, st);
	fclose(f);
	return buf;
}

static void test_summary(void **state)
{
	(void)state;
	struct stats st = {.files = 9,
	                   .dirs = 2,
	                   .done = 9,
	                   .copied = 7,
	                   .skipped = 1,
	                   .failed = 1,
	                   .deleted = 3,
	                   .warnings = 4,
	                   .different = 5,
	                   .bytes_total = 3000000,
	                   .bytes_done = 3000000,
	                   .bytes_copied = 3000000,
	                   .seconds = 2.0};
	char *s = written(&st);
	assert_string_equal(s, "files: 9\n"
	                       "directories: 2\n"
	                       "copied: 7\n"
	                       "skipped: 1\n"
	                       "failed: 1\n"
	                       "deleted: 3\n"
	                       "different: 5\n"
	                       "bytes: 3000000\n"
	                       "bytes copied: 3000000\n"
	                       "seconds: 2.000\n"
	                       "throughput: 1.5 MB/s\n");
	free(s);
}

static void test_no_time(void **state)
{
	(void)state;
	/* An empty run, and a clock that went back: no time, no throughput, no division. */
	struct stats st = {0};
	char *s = written(&st);
	assert_string_equal(s, "files: 0\ndirectories: 0\ncopied: 0\nskipped: 0\nfailed: 0\n"
	                       "deleted: 0\ndifferent: 0\nbytes: 0\nbytes copied: 0\n"
	                       "seconds: 0.000\nthroughput: 0 B/s\n");
	free(s);
	st.seconds = -1;
	st.bytes_copied = 100;
	s = written(&st);
	assert_non_null(strstr(s, "\nbytes copied: 100\nseconds: 0.000\nthroughput: 0 B/s\n"));
	free(s);
}

static void test_reused(void **state)
{
	(void)state;
	/* "hashes reused" only when a previous manifest was in use (--previous-manifest). */
	struct stats st = {.reused = 3};
	char *s = written(&st);
	assert_null(strstr(s, "reused"));
	free(s);
	st.reusing = 1;
	s = written(&st);
	assert_non_null(strstr(s, "\nthroughput: 0 B/s\nhashes reused: 3\n"));
	free(s);
}

static void test_large(void **state)
{
	(void)state;
	struct stats st = {
	    .copied = UINT64_MAX, .bytes_copied = UINT64_C(5000000000000), .seconds = 10};
	char *s = written(&st);
	assert_non_null(strstr(s, "\ncopied: 18446744073709551615\n"));
	assert_non_null(strstr(s, "\nbytes copied: 5000000000000\nseconds: 10.000\n"
	                          "throughput: 500.0 GB/s\n"));
	free(s);
}

/* --verify-manifest's --stats: one count a line, then time and throughput. */
static void test_verify(void **state)
{
	(void)state;
	struct verify_counts c = {12, 7, 1, 2, 1, 1, 3, 4000000};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	stats_verify_write(f, &c, 2.0);
	fclose(f);
	assert_string_equal(buf, "names: 12\nverified: 7\nchanged: 1\nmissing: 2\n"
	                         "not regular: 1\nunreadable: 1\nunlisted: 3\nbytes: 4000000\n"
	                         "seconds: 2.000\nthroughput: 2.0 MB/s\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_no_time),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
