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

static void test_line(void **state)
{
	(void)state;
	struct stats st = {0};
	st.files = 200;
	st.done = 50;
	st.bytes_total = 4000000;
	st.bytes_done = 1000000;
	st.seconds = 2.0;
	char line[256];
	progress_line(line, sizeof(line), &st, NULL);
	assert_string_equal(line, " 25.0%  50/200 files  500.0 kB/s  ETA 0:06");
	st.scanning = 1;
	progress_line(line, sizeof(line), &st, NULL);
	assert_string_equal(line, " 25.0%  50/200+ files  500.0 kB/s  ETA -:--");
	/* The walk finds more bytes: the ratio dips, the line holds what it showed. */
	double shown = 0;
	progress_line(line, sizeof(line), &st, &shown);
	st.bytes_total *= 2;
	progress_line(line, sizeof(line), &st, &shown);
	assert_true(strncmp(line, " 25.0%", 6) == 0);
	st.bytes_done = 3000000;
	progress_line(line, sizeof(line), &st, &shown);
	assert_true(strncmp(line, " 37.5%", 6) == 0);
}

static void test_line_edges(void **state)
{
	(void)state;
	struct stats st = {0};
	char line[256];
	progress_line(line, sizeof(line), &st, NULL);
	assert_string_equal(line, "100.0%  0/0 files  0 B/s  ETA -:--");
	st.files = 4;
	st.done = 1;
	st.seconds = 1;
	progress_line(line, sizeof(line), &st, NULL);
	assert_string_equal(line, " 25.0%  1/4 files  0 B/s  ETA -:--");
	st.bytes_total = 100;
	st.bytes_done = 150; /* a file grew: never above 100% */
	progress_line(line, sizeof(line), &st, NULL);
	assert_true(strncmp(line, "100.0%", 6) == 0);
	char tiny[8];
	progress_line(tiny, sizeof(tiny), &st, NULL);
	assert_int_equal(strlen(tiny), 7);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_line_edges),
	    cmocka_unit_test(test_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
