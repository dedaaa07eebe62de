/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/report/manifest.c: sorting, the xxh128sum format, escaping and parsing, the
 * all-or-nothing save (by name, for --tar and copy mode, and into an unnamed file, copy mode's
 * usual way) and the cleanup of temporaries that killed runs left. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/compat.h"
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

/* A report line's name: as the manifest writes it, and it parses back. */
static void test_escape_name(void **state)
{
	(void)state;
	char *s = manifest_escape_name("plain name");
	assert_string_equal(s, "plain name");
	free(s);
	s = manifest_escape_name("a\\b\nc\rd");
	assert_string_equal(s, "\\a\\\\b\\nc\\rd");
	char line[128], path[64];
	snprintf(line, sizeof(line), "\\%032d  %s", 0, s + 1);
	struct hash128 h;
	assert_int_equal(manifest_parse_line(line, &h, path, sizeof(path)), 0);
	assert_string_equal(path, "a\\b\nc\rd");
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
	assert_int_equal(manifest_save(path, lines, 2, 1, NULL), 0);
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
	assert_int_equal(manifest_save(bad, lines, 2, 0, NULL), -1);

	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A scratch directory with an old manifest m.txt ("old\n") and a hard link to it, keep. */
static void old_manifest(char *dir)
{
	assert_non_null(mkdtemp(dir));
	char p[4096], q[4096];
	snprintf(p, sizeof(p), "%s/m.txt", dir);
	snprintf(q, sizeof(q), "%s/keep", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("old\n", f);
	fclose(f);
	assert_int_equal(link(p, q), 0);
}

/* The first line of DIR/NAME, or "" when it cannot be read. */
static const char *first_line(const char *dir, const char *name)
{
	static char line[256];
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	line[0] = '\0';
	FILE *f = fopen(p, "r");
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	return line;
}

static ino_t inode_of(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

/* Nothing named *.pcopy-tmp.* in DIR. */
static int no_temporary(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q 'pcopy-tmp'", dir);
	return system(cmd) != 0;
}

static void remove_dir(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct manifest_line two[] = {{"", "b", {1, 2}}, {"", "a", {1, 2}}};

/* Save TWO as DIR/m.txt in a child process that may write no more than LIMIT bytes to a
 * file (RLIMIT_FSIZE; 0: no limit), by name or (UNNAMED) into an unnamed file. Returns what
 * the save returned (manifest_save's 0 / -1, or enum manifest_saved), or 99 when an unnamed
 * file cannot be had here. */
static int save_in_child(const char *dir, rlim_t limit, int unnamed)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
		struct rlimit rl = {limit, limit};
		if (limit != 0 && setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(98);
		char p[4096];
		snprintf(p, sizeof(p), "%s/m.txt", dir);
		if (!unnamed)
			_exit(manifest_save(p, two, 2, 1, NULL) == 0 ? 0 : 1);
		int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int fd = dfd >= 0 ? compat_open_unnamed(dfd, 0666) : -1;
		if (fd < 0)
			_exit(99);
		_exit((int)manifest_save_unnamed(fd, dfd, "m.txt", two, 2, 1, NULL));
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A save writes a new file and renames it over the manifest: a hard link to the old manifest
 * keeps the old text, and no temporary is left, not even a killed run's. By name and into an
 * unnamed file alike. */
static void test_save_renames_over(void **state)
{
	(void)state;
	for (int unnamed = 0; unnamed < 2; unnamed++) {
		char dir[] = "/tmp/pcopy-unit-manifest.XXXXXX";
		old_manifest(dir);
		ino_t old = inode_of(dir, "m.txt");
		char stale[256];
		snprintf(stale, sizeof(stale), "m.txt.pcopy-tmp.%ld", (long)dead_pid());
		touch(dir, stale); /* a killed run's: removed by either save */
		int rc = save_in_child(dir, 0, unnamed);
		if (rc == 99) {
			remove_dir(dir);
			continue; /* no unnamed files on this file system */
		}
		assert_int_equal(rc, unnamed ? MANIFEST_SAVED : 0);
		assert_string_equal(first_line(dir, "m.txt"),
		                    "00000000000000010000000000000002  a\n");
		assert_string_equal(first_line(dir, "keep"), "old\n");
		assert_true(inode_of(dir, "m.txt") != old);
		assert_true(no_temporary(dir));
		remove_dir(dir);
	}
}

/* The save writes under NAME.pcopy-tmp.PID: with that name taken (here by a directory) it
 * fails, and leaves both the old manifest and what holds the name alone. */
static void test_save_uses_its_temporary(void **state)
{
	(void)state;
	char dir[] = "/tmp/pcopy-unit-manifest.XXXXXX";
	old_manifest(dir);
	char p[4096];
	snprintf(p, sizeof(p), "%s/m.txt", dir);
	char *tmp = manifest_tmp_name(p);
	assert_non_null(tmp);
	char want[4200];
	snprintf(want, sizeof(want), "%s.pcopy-tmp.%ld", p, (long)getpid());
	assert_string_equal(tmp, want);
	assert_int_equal(mkdir(tmp, 0755), 0);
	errno = 0;
	assert_int_equal(manifest_save(p, two, 2, 0, NULL), -1);
	assert_int_equal(errno, EISDIR);
	assert_string_equal(first_line(dir, "m.txt"), "old\n");
	struct stat st;
	assert_int_equal(stat(tmp, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(tmp);
	remove_dir(dir);
}

/* A save that fails while writing (the file size limit) leaves the old manifest as it was and
 * no temporary. By name and into an unnamed file alike. */
static void test_failed_save_keeps_old(void **state)
{
	(void)state;
	for (int unnamed = 0; unnamed < 2; unnamed++) {
		char dir[] = "/tmp/pcopy-unit-manifest.XXXXXX";
		old_manifest(dir);
		int rc = save_in_child(dir, 10, unnamed);
		if (rc == 99) {
			remove_dir(dir);
			continue;
		}
		assert_int_equal(rc, unnamed ? MANIFEST_FAILED : 1);
		assert_string_equal(first_line(dir, "m.txt"), "old\n");
		assert_true(no_temporary(dir));
		remove_dir(dir);
	}
}

/* The cleanup removes only regular files: a dead run's name on a directory or a symbolic
 * link stays. */
static void test_clean_regular_only(void **state)
{
	(void)state;
	char dir[] = "/tmp/pcopy-unit-manifest.XXXXXX";
	assert_non_null(mkdtemp(dir));
	pid_t dead = dead_pid();
	char p[4096], d[4200], l[4200];
	snprintf(p, sizeof(p), "%s/m.txt", dir);
	snprintf(d, sizeof(d), "%s.pcopy-tmp.%ld", p, (long)dead);
	assert_int_equal(mkdir(d, 0755), 0);
	pid_t dead2 = dead_pid();
	snprintf(l, sizeof(l), "%s.pcopy-tmp.%ld", p, (long)dead2);
	assert_int_equal(symlink("m.txt", l), 0);
	manifest_tmp_clean(p);
	struct stat st;
	assert_int_equal(lstat(d, &st), 0);
	assert_int_equal(lstat(l, &st), 0);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_bytewise),
	    cmocka_unit_test(test_escaped_names),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_escape_name),
	    cmocka_unit_test(test_save_and_clean),
	    cmocka_unit_test(test_save_renames_over),
	    cmocka_unit_test(test_save_uses_its_temporary),
	    cmocka_unit_test(test_failed_save_keeps_old),
	    cmocka_unit_test(test_clean_regular_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
