/* Unit tests for lib/report/manifest.c: sorting, the xxh128sum format, escaping and parsing, the
 * all-or-nothing save and the cleanup of temporaries that killed runs left. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/manifest.h"

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

static int exists(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

static void touch(const char *dir, const char *name)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("junk\n", f);
	fclose(f);
}

/* A pid that was just used and is gone. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void test_save_and_clean(void **state)
{
	(void)state;
	char dir[] = "/tmp/pcopy-unit-manifest.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[4096], name[256];
	snprintf(path, sizeof(path), "%s/m.txt", dir);
	pid_t dead = dead_pid();
	snprintf(name, sizeof(name), "m.txt.pcopy-tmp.%ld", (long)dead);
	touch(dir, name);
	char live[256], other[256];
	snprintf(live, sizeof(live), "m.txt.pcopy-tmp.%ld", (long)getppid());
	touch(dir, live);
	snprintf(other, sizeof(other), "mm.txt.pcopy-tmp.%ld", (long)dead);
	touch(dir, other);
	touch(dir, "m.txt.pcopy-tmp.0123");

	struct hash128 h = {1, 2};
	struct manifest_line lines[] = {{"", "b", h}, {"", "a", h}};
	assert_int_equal(manifest_save(path, lines, 2, 1), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "00000000000000010000000000000002  a\n");
	fclose(f);
	assert_false(exists(dir, name));                  /* a dead process's: removed */
	assert_true(exists(dir, live));                   /* a live one's: kept */
	assert_true(exists(dir, other));                  /* another name's: kept */
	assert_true(exists(dir, "m.txt.pcopy-tmp.0123")); /* not a pid: kept */
	char *mine = manifest_tmp_name(path);
	assert_non_null(mine);
	assert_false(exists("/", mine)); /* its own temporary was renamed */
	free(mine);

	/* Into a directory that does not exist: -1, nothing left behind. */
	char bad[4096];
	snprintf(bad, sizeof(bad), "%s/no/m.txt", dir);
	assert_int_equal(manifest_save(bad, lines, 2, 0), -1);

	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_bytewise),
	    cmocka_unit_test(test_escaped_names),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_save_and_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
