/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for lib/report/json.c: JSON escaping of the names files really have (newlines,
 * backslashes, control characters, bytes that are not UTF-8) and the --json lines of pcopy
 * and pbatch.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "report/json.h"

/* What json_string() makes of S (caller frees). */
static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_string(f, s);
	fclose(f);
	return buf;
}

/* Assert that json_string(S) writes WANT. */
static void check_string(const char *s, const char *want)
{
	char *got = escaped(s);
	assert_string_equal(got, want);
	free(got);
}

static void test_plain(void **state)
{
	(void)state;
	check_string("", "\"\"");
	check_string("dir/plain.txt", "\"dir/plain.txt\"");
	check_string("name with spaces", "\"name with spaces\"");
	check_string("st*r?-dash", "\"st*r?-dash\"");
}

static void test_quotes_and_backslashes(void **state)
{
	(void)state;
	check_string("say \"hi\"", "\"say \\\"hi\\\"\"");
	check_string("back\\slash", "\"back\\\\slash\"");
	check_string("\\\\", "\"\\\\\\\\\"");
	check_string("a\"b\\c", "\"a\\\"b\\\\c\"");
}

static void test_control_characters(void **state)
{
	(void)state;
	check_string("new\nline", "\"new\\nline\"");
	check_string("tab\there", "\"tab\\there\"");
	check_string("cr\rlf\n", "\"cr\\rlf\\n\"");
	/* The others as \u00XX, also those JSON has short forms for (\b, \f). */
	check_string("\x01", "\"\\u0001\"");
	check_string("\b\f", "\"\\u0008\\u000c\"");
	check_string("esc\x1b[0m", "\"esc\\u001b[0m\"");
	check_string("\x1f", "\"\\u001f\"");
	check_string("del\x7f", "\"del\\u007f\"");
	check_string(" ~", "\" ~\""); /* the printable range's ends stay */
}

static void test_valid_utf8(void **state)
{
	(void)state;
	check_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");           /* 2 bytes */
	check_string("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\"");     /* 3 bytes: euro sign */
	check_string("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* 4 bytes: emoji */
	check_string("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF, the last */
	check_string("\xc2\x80\xc2\x85", "\"\xc2\x80\xc2\x85\""); /* C1 controls: kept */
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	check_string("caf\xe9", "\"caf\\u00e9\"");            /* Latin-1 */
	check_string("bad\xff\xc3", "\"bad\\u00ff\\u00c3\""); /* stray byte, sequence cut short */
	check_string("\xc3\x41", "\"\\u00c3A\"");             /* lead byte, then 'A' */
	check_string("\x80x", "\"\\u0080x\"");                /* continuation byte alone */
	check_string("\xc0\xaf", "\"\\u00c0\\u00af\"");       /* overlong '/' */
	check_string("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""); /* overlong, 3 bytes */
	check_string("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""); /* UTF-16 surrogate */
	check_string("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* past U+10FFFF */
	check_string("\xf8\x88\x80\x80\x80",
	             "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\""); /* 5-byte form */
	/* A bad byte does not swallow the valid sequence after it. */
	check_string("\xff\xc3\xa9", "\"\\u00ff\xc3\xa9\"");
}

/* What FN writes (caller frees). */
static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f);
	fclose(f);
	return buf;
}

static void events(FILE *f)
{
	struct hash128 h = {UINT64_C(0x0011223344556677), UINT64_C(0x8899aabbccddeeff)};
	json_event(f, "copied", "d/f", "file", 12, &h, NULL, NULL, 0);
	json_event(f, "failed", "x", NULL, 0, NULL, NULL, "cannot open", EACCES);
	json_event(f, "failed", "y", "socket", 0, NULL, NULL, "socket skipped", 0);
	json_event(f, "different", "z", NULL, 3, NULL, "content", NULL, 0);
	json_event(f, "copied", "new\nline\\caf\xe9", NULL, 1, NULL, NULL, NULL, 0);
	json_event(f, "failed", "q\"", NULL, 0, NULL, NULL, "bad \"name\"\t\xff", ENOENT);
}

static void test_event(void **state)
{
	(void)state;
	char *s = capture(events);
	assert_string_equal(
	    s, "{\"event\":\"copied\",\"path\":\"d/f\",\"type\":\"file\",\"bytes\":12,"
	       "\"hash\":\"00112233445566778899aabbccddeeff\"}\n"
	       "{\"event\":\"failed\",\"path\":\"x\",\"bytes\":0,"
	       "\"error\":\"cannot open: Permission denied\"}\n"
	       "{\"event\":\"failed\",\"path\":\"y\",\"type\":\"socket\",\"bytes\":0,"
	       "\"error\":\"socket skipped\"}\n"
	       "{\"event\":\"different\",\"path\":\"z\",\"bytes\":3,\"what\":\"content\"}\n"
	       "{\"event\":\"copied\",\"path\":\"new\\nline\\\\caf\\u00e9\",\"bytes\":1}\n"
	       "{\"event\":\"failed\",\"path\":\"q\\\"\",\"bytes\":0,"
	       "\"error\":\"bad \\\"name\\\"\\t\\u00ff: No such file or directory\"}\n");
	free(s);
}

static void summary(FILE *f)
{
	struct stats st = {.files = 9,
	                   .dirs = 2,
	                   .copied = 7,
	                   .skipped = 1,
	                   .failed = 1,
	                   .deleted = 3,
	                   .warnings = 4,
	                   .different = 5,
	                   .bytes_total = 100,
	                   .bytes_copied = 90,
	                   .seconds = 1.25};
	json_summary(f, &st, 1);
}

static void test_summary(void **state)
{
	(void)state;
	char *s = capture(summary);
	assert_string_equal(s, "{\"event\":\"summary\",\"files\":9,\"directories\":2,\"bytes\":100,"
	                       "\"copied\":7,\"skipped\":1,\"failed\":1,\"deleted\":3,"
	                       "\"warnings\":4,\"different\":5,\"bytes_copied\":90,"
	                       "\"seconds\":1.250,\"exit\":1}\n");
	free(s);
}

static void test_type(void **state)
{
	(void)state;
	assert_string_equal(json_type(S_IFREG | 0644, 0), "file");
	assert_string_equal(json_type(S_IFREG | 0644, 1), "hardlink");
	assert_string_equal(json_type(S_IFDIR | 0755, 0), "dir");
	assert_string_equal(json_type(S_IFLNK | 0777, 0), "symlink");
	assert_string_equal(json_type(S_IFIFO, 0), "fifo");
	assert_string_equal(json_type(S_IFCHR, 0), "device");
	assert_string_equal(json_type(S_IFBLK, 0), "device");
	assert_string_equal(json_type(S_IFSOCK, 0), "socket");
	assert_null(json_type(0, 0));
}

static void progress_lines(FILE *f)
{
	struct stats st = {.files = 10,
	                   .done = 4,
	                   .bytes_total = 2048,
	                   .bytes_done = 1024,
	                   .seconds = 2.5,
	                   .scanning = 1};
	json_progress(f, &st, 409.6, 2.5);
	st.scanning = 0;
	json_progress(f, &st, -1, -1);
}

static void test_progress(void **state)
{
	(void)state;
	char *s = capture(progress_lines);
	assert_string_equal(
	    s, "{\"event\":\"progress\",\"files_done\":4,\"files_total\":10,\"bytes_done\":1024,"
	       "\"bytes_total\":2048,\"rate\":410,\"eta\":2.5,\"seconds\":2.500,"
	       "\"scanning\":true}\n"
	       "{\"event\":\"progress\",\"files_done\":4,\"files_total\":10,\"bytes_done\":1024,"
	       "\"bytes_total\":2048,\"rate\":null,\"eta\":null,\"seconds\":2.500,"
	       "\"scanning\":false}\n");
	free(s);
}

static void verify_summary(FILE *f)
{
	struct verify_counts c = {12, 7, 1, 2, 1, 1, 3, 4096};
	json_verify_summary(f, &c, 0.5, 1);
}

/* --verify-manifest's summary: its own counts. */
static void test_verify_summary(void **state)
{
	(void)state;
	char *s = capture(verify_summary);
	assert_string_equal(s, "{\"event\":\"summary\",\"names\":12,\"verified\":7,\"changed\":1,"
	                       "\"missing\":2,\"not_regular\":1,\"unreadable\":1,\"unlisted\":3,"
	                       "\"bytes\":4096,\"seconds\":0.500,\"exit\":1}\n");
	free(s);
}

static void batch_lines(FILE *f)
{
	json_job(f, 3, "echo \"a\tb\"\nexit 1", 1, 0, 0.25);
	json_job(f, 4, "sleep 9", -1, 15, 2.0);
	json_batch_summary(f, 4, 2, 1);
}

static void test_batch(void **state)
{
	(void)state;
	char *s = capture(batch_lines);
	assert_string_equal(
	    s, "{\"event\":\"job\",\"seq\":3,\"command\":\"echo \\\"a\\tb\\\"\\nexit 1\","
	       "\"exit\":1,\"signal\":0,\"runtime\":0.250}\n"
	       "{\"event\":\"job\",\"seq\":4,\"command\":\"sleep 9\",\"exit\":-1,\"signal\":15,"
	       "\"runtime\":2.000}\n"
	       "{\"event\":\"summary\",\"jobs\":4,\"failed\":2,\"skipped\":1}\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_quotes_and_backslashes),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_valid_utf8),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_event),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_type),
	    cmocka_unit_test(test_progress),
	    cmocka_unit_test(test_verify_summary),
	    cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
