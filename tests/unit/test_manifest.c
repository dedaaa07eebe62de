/* Unit tests for lib/manifest.c: sorting, the xxh128sum format, escaping and parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"

static char *write_lines(struct manifest_line *lines, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(manifest_write(f, lines, n), 0);
	fclose(f);
	return buf;
}

static void test_sorted_bytewise(void **state)
{
	(void)state;
	struct hash128 h = {1, 2};
	struct manifest_line lines[] = {
	    {"", "b", h},        {"d/", "a", h}, {"", "B", h},
	    {"", "\xc3\xa9", h}, {"", "a b", h}, {"d", "-x", h},
	};
	char *s = write_lines(lines, 6);
	const char *hex = "00000000000000010000000000000002";
	char want[1024];
	snprintf(want, sizeof(want), "%s  B\n%s  a b\n%s  b\n%s  d-x\n%s  d/a\n%s  \xc3\xa9\n", hex,
	         hex, hex, hex, hex, hex);
	assert_string_equal(s, want);
	free(s);
}

static void test_escaped_names(void **state)
{
	(void)state;
	struct hash128 h = {0, 0xff};
	struct manifest_line lines[] = {
	    {"", "new\nline", h}, {"", "back\\slash", h}, {"", "carriage\rreturn", h}};
	char *s = write_lines(lines, 3);
	assert_string_equal(s, "\\000000000000000000000000000000ff  back\\\\slash\n"
	                       "\\000000000000000000000000000000ff  carriage\\rreturn\n"
	                       "\\000000000000000000000000000000ff  new\\nline\n");
	free(s);
}

static void test_parse(void **state)
{
	(void)state;
	struct hash128 h;
	char path[64];
	assert_int_equal(
	    manifest_parse_line("000000000000000000000000000000ff  a/b c", &h, path, sizeof(path)),
	    0);
	assert_string_equal(path, "a/b c");
	assert_true(h.high == 0 && h.low == 0xff);
	assert_int_equal(manifest_parse_line("\\000000000000000000000000000000ff  new\\nl\\\\", &h,
	                                     path, sizeof(path)),
	                 0);
	assert_string_equal(path, "new\nl\\");
	assert_int_equal(manifest_parse_line("\\000000000000000000000000000000ff  cr\\rx", &h, path,
	                                     sizeof(path)),
	                 0);
	assert_string_equal(path, "cr\rx");
	assert_int_equal(manifest_parse_line("xyz", &h, path, sizeof(path)), -1);
	assert_int_equal(
	    manifest_parse_line("000000000000000000000000000000ff a", &h, path, sizeof(path)), -1);
	assert_int_equal(
	    manifest_parse_line("000000000000000000000000000000ff  ", &h, path, sizeof(path)), -1);
	assert_int_equal(
	    manifest_parse_line("\\000000000000000000000000000000ff  a\\q", &h, path, sizeof(path)),
	    -1);
	assert_int_equal(
	    manifest_parse_line("000000000000000000000000000000ff  0123456789", &h, path, 5), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_bytewise),
	    cmocka_unit_test(test_escaped_names),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
