/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/tar/untar.c: which member paths are extracted, and under what name. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
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

#include "tar/untar.h"

/* What the hooks saw. */
struct seen {
	int members, failed, efbig; /* efbig: a report with EFBIG */
	char last_reason[256];
	struct stats st;
};

static void on_member(void *ctx, const char *path, unsigned mode, int hardlink, uint64_t bytes,
                      const struct hash128 *h)
{
	(void)path, (void)mode, (void)hardlink, (void)bytes, (void)h;
	((struct seen *)ctx)->members++;
}

static void on_failed(void *ctx, const char *archive, const char *path, const char *reason, int err)
{
	struct seen *s = ctx;
	(void)archive, (void)path;
	s->failed++;
	s->efbig |= err == EFBIG;
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
}

static void on_tick(void *ctx, const struct stats *st)
{
	((struct seen *)ctx)->st = *st;
}

/* A pax archive at PATH: "./" (mode 0750, mtime 1000000000), "f" (5 bytes), and, when
 * HUGE, "h" declaring 2^62 bytes of which the archive holds only the first few blocks (it
 * is made in a 64 KiB buffer, which the writer's padding fills and stops at). */
static void write_archive(const char *path, int huge)
{
	static char buf[64 << 10];
	size_t used = 0;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf), &used), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "./");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0750);
	archive_entry_set_mtime(e, 1000000000, 0);
	archive_write_header(a, e);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, "f");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 5);
	archive_write_header(a, e);
	archive_write_data(a, "hello", 5);
	if (huge) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, "h");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (int64_t)1 << 62);
		archive_write_header(a, e);
	}
	archive_entry_free(e);
	archive_write_close(a); /* fails with HUGE: the buffer is full */
	archive_write_free(a);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, used, f), used);
	assert_int_equal(fclose(f), 0);
}

/* Extract a fresh archive into a fresh directory; returns the status, fills SEEN. */
static int extract(int huge, struct seen *seen, char *dir, size_t len)
{
	char tmpl[] = "/tmp/test_untar.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char archive[64];
	snprintf(archive, sizeof(archive), "%s/a.tar", tmpl);
	snprintf(dir, len, "%s/d", tmpl);
	write_archive(archive, huge);
	static volatile sig_atomic_t never;
	struct untar_opts o = {dir, NULL, 0, 0, &never};
	struct untar_hooks h = {on_member, on_failed, on_tick, seen};
	char *archives[] = {archive};
	char err[256] = "";
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	memset(seen, 0, sizeof(*seen));
	int status = untar_extract(&o, archives, 1, &h, err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	return status;
}

/* "./" is DEST itself: accepted, its mode and time applied at the end (#13). */
static void test_dot_member(void **state)
{
	(void)state;
	struct seen s;
	char dir[128];
	assert_int_equal(extract(0, &s, dir, sizeof(dir)), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtime, 1000000000);
	assert_int_equal(s.failed, 0);
	/* The summary's bytes are the file data, not the archive's size (#13). */
	assert_int_equal(s.st.bytes_total, 5);
	assert_int_equal(s.st.bytes_copied, 5);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 2), dir);
	assert_int_equal(system(cmd), 0);
}

/* A member declaring 2^62 bytes is refused with EFBIG, not hashed as zeros (#13). */
static void test_absurd_size(void **state)
{
	(void)state;
	struct seen s;
	char dir[128];
	assert_int_equal(extract(1, &s, dir, sizeof(dir)), 1);
	assert_true(s.efbig);
	assert_int_equal(s.failed, 2);  /* "h", then the archive that ends short of its data */
	assert_int_equal(s.members, 1); /* "f" */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 2), dir);
	assert_int_equal(system(cmd), 0);
}

static void test_safe_path(void **state)
{
	(void)state;
	assert_string_equal(untar_safe_path("a/b"), "a/b");
	assert_string_equal(untar_safe_path("/abs/x"), "abs/x");
	assert_string_equal(untar_safe_path("///abs"), "abs");
	assert_string_equal(untar_safe_path("./a"), "a");
	assert_string_equal(untar_safe_path("a..b/..c"), "a..b/..c");
	assert_null(untar_safe_path("../x"));
	assert_null(untar_safe_path("a/../../x"));
	assert_null(untar_safe_path("a/.."));
	assert_null(untar_safe_path(""));
	/* DEST itself: every "tar -C dir -cf a.tar ." archive starts with "./" (#13). */
	assert_string_equal(untar_safe_path("."), ".");
	assert_string_equal(untar_safe_path("./"), ".");
	assert_string_equal(untar_safe_path("/"), ".");
	assert_string_equal(untar_safe_path("./."), ".");
	assert_string_equal(untar_safe_path(".//./"), ".");
	assert_string_equal(untar_safe_path("./.hidden"), ".hidden");
	assert_string_equal(untar_safe_path("..a"), "..a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_safe_path),
	    cmocka_unit_test(test_dot_member),
	    cmocka_unit_test(test_absurd_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
