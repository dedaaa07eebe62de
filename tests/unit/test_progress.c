/* Unit tests for lib/report/progress.c: the progress line, byte units, JSON escaping, summaries. */
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

/* Run FN into a memory stream and return what it wrote (caller frees). */
static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f, arg);
	fclose(f);
	return buf;
}

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

static void json_str(FILE *f, const void *arg)
{
	progress_json_string(f, arg);
}

static void test_json_escaping(void **state)
{
	(void)state;
	char *s = capture(json_str, "a\"b\\c\nd\te\x01");
	assert_string_equal(s, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
	free(s);
	s = capture(json_str, "caf\xc3\xa9");
	assert_string_equal(s, "\"caf\xc3\xa9\"");
	free(s);
	s = capture(json_str, "bad\xff\xc3");
	assert_string_equal(s, "\"bad\\u00ff\\u00c3\"");
	free(s);
	s = capture(json_str, "\xed\xa0\x80"); /* a UTF-16 surrogate is not valid UTF-8 */
	assert_string_equal(s, "\"\\u00ed\\u00a0\\u0080\"");
	free(s);
}

static void event(FILE *f, const void *arg)
{
	(void)arg;
	progress_json_event(f, "copied", "d/f", 12, "00112233445566778899aabbccddeeff", NULL, NULL);
	progress_json_event(f, "failed", "x", 0, NULL, NULL, "cannot open: Permission denied");
	progress_json_event(f, "different", "y", 3, NULL, "content", NULL);
}

static void test_json_event(void **state)
{
	(void)state;
	char *s = capture(event, NULL);
	assert_string_equal(
	    s, "{\"event\":\"copied\",\"path\":\"d/f\",\"bytes\":12,"
	       "\"hash\":\"00112233445566778899aabbccddeeff\"}\n"
	       "{\"event\":\"failed\",\"path\":\"x\",\"bytes\":0,"
	       "\"error\":\"cannot open: Permission denied\"}\n"
	       "{\"event\":\"different\",\"path\":\"y\",\"bytes\":3,\"what\":\"content\"}\n");
	free(s);
}

static void summary(FILE *f, const void *arg)
{
	progress_stats(f, arg);
	progress_json_summary(f, arg, 1);
}

static void test_summaries(void **state)
{
	(void)state;
	struct stats st = {0};
	st.files = 9;
	st.copied = 7;
	st.skipped = 1;
	st.failed = 1;
	st.bytes_total = 100;
	st.bytes_copied = 90;
	st.seconds = 1;
	char *s = capture(summary, &st);
	assert_non_null(strstr(s, "\ncopied: 7\n"));
	assert_non_null(strstr(s, "\nskipped: 1\n"));
	assert_non_null(strstr(s, "\nfailed: 1\n"));
	assert_non_null(strstr(s, "throughput: 90 B/s\n"));
	assert_non_null(strstr(s, "{\"event\":\"summary\",\"files\":9,"));
	assert_non_null(strstr(s, "\"copied\":7,\"skipped\":1,\"failed\":1,"));
	assert_non_null(strstr(s, "\"exit\":1}\n"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line),       cmocka_unit_test(test_line_edges),
	    cmocka_unit_test(test_bytes),      cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_json_event), cmocka_unit_test(test_summaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
