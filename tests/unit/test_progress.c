/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/report/progress.c: the progress line and byte units. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/progress.h"

static int near(double a, double b, double eps)
{
	return a - b < eps && b - a < eps;
}

/* Feed P the counts of ST growing at BPS bytes and FPS files a second for SECS seconds, in
 * ticks of a tenth of a second, from ST's time on. */
static void run_for(struct progress *p, struct stats *st, double secs, double bps, double fps)
{
	for (int i = 0; i < (int)(secs * 10 + 0.5); i++) {
		st->seconds += 0.1;
		st->bytes_done += (uint64_t)(bps / 10);
		st->done += (uint64_t)(fps / 10);
		progress_update(p, st);
	}
}

static void test_rate_window(void **state)
{
	(void)state;
	struct progress_rate r;
	progress_rate_init(&r, 5.0);
	assert_true(progress_rate_get(&r) < 0);
	for (int i = 0; i <= 9; i++)
		progress_rate_add(&r, i * 0.1, i * 10.0);
	assert_true(progress_rate_get(&r) < 0); /* less than a second of samples */
	for (int i = 10; i <= 100; i++)
		progress_rate_add(&r, i * 0.1, i * 10.0);
	assert_true(near(progress_rate_get(&r), 100.0, 1e-6));
	/* Ten times faster for six seconds: the window sees only the new pace. */
	for (int i = 1; i <= 60; i++)
		progress_rate_add(&r, 10.0 + i * 0.1, 1000.0 + i * 100.0);
	assert_true(near(progress_rate_get(&r), 1000.0, 30.0));
	/* Stalled for six seconds: zero. */
	progress_rate_add(&r, 22.0, 7000.0);
	assert_true(progress_rate_get(&r) == 0);
}

static void test_line(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	struct stats st = {.files = 200, .bytes_total = 4 << 20};
	char line[256];
	progress_update(&p, &st);
	progress_line(line, sizeof(line), &p, &st, 0);
	/* no rate in the first second: no rate, no ETA */
	assert_string_equal(line, "  0.0%  0 B / 4.0 MiB  0/200 files");
	run_for(&p, &st, 2.0, 512 * 1024, 25);
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_string_equal(line, " 25.0%  1.0 MiB / 4.0 MiB  40/200 files  512.0 KiB/s  ETA 0:06");
	/* Short of width the files go first, then the bytes, the rate, the ETA. */
	size_t n = progress_line(line, sizeof(line), &p, &st, 48);
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, " 25.0%  1.0 MiB / 4.0 MiB  512.0 KiB/s  ETA 0:06");
	progress_line(line, sizeof(line), &p, &st, 39);
	assert_string_equal(line, " 25.0%  512.0 KiB/s  ETA 0:06");
	progress_line(line, sizeof(line), &p, &st, 20);
	assert_string_equal(line, " 25.0%  ETA 0:06");
	progress_line(line, sizeof(line), &p, &st, 10);
	assert_string_equal(line, " 25.0%");
	progress_line(line, sizeof(line), &p, &st, 3); /* the percentage, cut */
	assert_string_equal(line, " 25");
	/* While the walk still finds entries, the totals say so. */
	st.scanning = 1;
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_string_equal(line,
	                    " 25.0%  1.0 MiB / 4.0+ MiB  40/200+ files  512.0 KiB/s  ETA 0:06");
}

static void test_line_edges(void **state)
{
	(void)state;
	struct progress p;
	progress_init(&p);
	struct stats st = {0};
	char line[256];
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_string_equal(line, "100.0%  0 B / 0 B  0/0 files");
	progress_init(&p);
	st.files = 4;
	st.done = 1;
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_true(strncmp(line, " 25.0%", 6) == 0);
	/* The walk finds more bytes: the ratio is of what has been found, beside its totals. */
	st.bytes_total = 100;
	st.bytes_done = 50;
	st.scanning = 1;
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_true(strncmp(line, " 50.0%", 6) == 0);
	st.bytes_total = 200;
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_true(strncmp(line, " 25.0%  50 B / 200+ B", 21) == 0);
	st.bytes_done = 250; /* a file grew: never above 100% */
	progress_line(line, sizeof(line), &p, &st, 0);
	assert_true(strncmp(line, "100.0%", 6) == 0);
	char tiny[8];
	progress_line(tiny, sizeof(tiny), &p, &st, 0);
	assert_int_equal(strlen(tiny), 7);
	/* Only empty files: the ETA comes from the entries' rate. */
	progress_init(&p);
	struct stats e = {.files = 100};
	run_for(&p, &e, 2.0, 0, 20);
	progress_line(line, sizeof(line), &p, &e, 0);
	assert_string_equal(line, " 40.0%  0 B / 0 B  40/100 files  0 B/s  ETA 0:03");
}

static void test_summary(void **state)
{
	(void)state;
	struct stats st = {.files = 5373,
	                   .done = 5373,
	                   .bytes_total = 1288490189,
	                   .bytes_done = 1288490189,
	                   .seconds = 41.2};
	char buf[256];
	progress_summary(buf, sizeof(buf), &st, 0);
	assert_string_equal(buf, "done: 5373 files, 1.2 GiB in 0:41 (29.8 MiB/s), 0 failed");
	st.skipped = 12;
	st.failed = 2;
	st.deleted = 3;
	progress_summary(buf, sizeof(buf), &st, 0);
	assert_string_equal(buf, "done: 5373 files, 1.2 GiB in 0:41 (29.8 MiB/s), 12 up to date, "
	                         "3 deleted, 2 failed");
	/* Within 39 columns: a newline after a comma where the line would pass them. */
	progress_summary(buf, sizeof(buf), &st, 39);
	assert_string_equal(buf, "done: 5373 files,\n1.2 GiB in 0:41 (29.8 MiB/s),\n"
	                         "12 up to date, 3 deleted, 2 failed");
	struct stats zero = {0};
	progress_summary(buf, sizeof(buf), &zero, 0);
	assert_string_equal(buf, "done: 0 files, 0 B in 0:00 (0 B/s), 0 failed");
}

static void test_verify_summary(void **state)
{
	(void)state;
	struct verify_counts c = {
	    .names = 12, .verified = 9, .changed = 1, .missing = 2, .bytes = 3 << 20};
	char buf[256];
	progress_verify_summary(buf, sizeof(buf), &c, 2.0, 0);
	assert_string_equal(buf, "done: 12 names, 3.0 MiB in 0:02 (1.5 MiB/s), 9 verified, "
	                         "1 changed, 2 missing");
	progress_verify_summary(buf, sizeof(buf), &c, 2.0, 30);
	assert_string_equal(buf, "done: 12 names,\n3.0 MiB in 0:02 (1.5 MiB/s),\n"
	                         "9 verified, 1 changed,\n2 missing");
}

static void test_batch(void **state)
{
	(void)state;
	struct progress_rate jobs;
	progress_rate_init(&jobs, 30.0);
	char line[256];
	progress_batch_line(line, sizeof(line), &jobs, 0, 40, 4, 0, 0.0, 0);
	assert_string_equal(line, "0%  0/40 done  4 running  0 failed");
	for (int i = 1; i <= 20; i++)
		progress_batch_line(line, sizeof(line), &jobs, (size_t)i, 40, 4, 1, i * 0.5, 0);
	assert_string_equal(line, "50%  20/40 done  4 running  1 failed  2.00 jobs/s  ETA 0:10");
	progress_batch_line(line, sizeof(line), &jobs, 20, 40, 4, 1, 10.0, 39);
	assert_true(strlen(line) <= 39);
	assert_non_null(strstr(line, "ETA 0:10"));
	assert_null(strstr(line, "running"));
	progress_batch_line(line, sizeof(line), &jobs, 20, 40, 4, 1, 10.0, 13);
	assert_string_equal(line, "50%  ETA 0:10");
	char buf[256];
	progress_batch_summary(buf, sizeof(buf), 40, 0, 1, 20.0, 0);
	assert_string_equal(buf, "done: 40 jobs in 0:20 (2.00 jobs/s), 1 failed");
	progress_batch_summary(buf, sizeof(buf), 38, 2, 0, 20.0, 0);
	assert_string_equal(buf, "done: 38 jobs in 0:20 (1.90 jobs/s), 2 skipped, 0 failed");
}

static void test_bytes(void **state)
{
	(void)state;
	char b[32];
	progress_bytes(b, sizeof(b), 999);
	assert_string_equal(b, "999 B");
	progress_bytes(b, sizeof(b), 1500);
	assert_string_equal(b, "1.5 kB");
	progress_bytes(b, sizeof(b), 2.5e9);
	assert_string_equal(b, "2.5 GB");
	progress_iec(b, sizeof(b), 1023);
	assert_string_equal(b, "1023 B");
	progress_iec(b, sizeof(b), 1536);
	assert_string_equal(b, "1.5 KiB");
	progress_iec(b, sizeof(b), 1048560); /* 1023.98 KiB: shown as 1.0 MiB, not 1024.0 KiB */
	assert_string_equal(b, "1.0 MiB");
	progress_iec(b, sizeof(b), 3.4 * 1024 * 1024 * 1024);
	assert_string_equal(b, "3.4 GiB");
	progress_time(b, sizeof(b), 41);
	assert_string_equal(b, "0:41");
	progress_time(b, sizeof(b), 3725);
	assert_string_equal(b, "1:02:05");
	progress_time(b, sizeof(b), -1);
	assert_string_equal(b, "-:--");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_window),    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_line_edges),     cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_verify_summary), cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
