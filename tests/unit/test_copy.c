/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/copy/copy.c: one task at a time, in this process, against a scratch tree. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/tmpname.h"
#include "copy/copy.h"

static char root[] = "/tmp/pcopy-copy-XXXXXX";
static struct names names;
static struct copy_root croot;
static struct copy_opts opts;
static volatile sig_atomic_t stop;

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	char p[256];
	snprintf(p, sizeof(p), "%s/src", root);
	mkdir(p, 0755);
	croot.src_fd = open(p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/dst", root);
	mkdir(p, 0755);
	croot.dst_fd = open(p, O_RDONLY | O_DIRECTORY);
	return names_init(&names, (size_t)1 << 24);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	names_free(&names);
	return system(cmd);
}

static void write_src(const char *name, const void *data, size_t len)
{
	int fd = openat(croot.src_fd, name, O_CREAT | O_TRUNC | O_WRONLY, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static struct copy_task task_for(const char *name, uint64_t id)
{
	struct stat st;
	assert_int_equal(fstatat(croot.src_fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	struct copy_task t = {0};
	t.id = id;
	t.src = t.dst = names_add(&names, name, strlen(name));
	t.size = (uint64_t)st.st_size;
	t.mode = st.st_mode;
	t.uid = st.st_uid;
	t.gid = st.st_gid;
	t.atime_sec = st.st_atim.tv_sec;
	t.atime_nsec = (int32_t)st.st_atim.tv_nsec;
	t.mtime_sec = st.st_mtim.tv_sec;
	t.mtime_nsec = (int32_t)st.st_mtim.tv_nsec;
	return t;
}

static void run_task(const struct copy_task *t, struct copy_done *d)
{
	struct copy_ctx c;
	assert_int_equal(copy_ctx_init(&c, &opts, &croot, &names, &stop, 4096), 0);
	copy_run(&c, t, d);
	copy_ctx_free(&c);
}

static void test_copy_then_skip(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.verify = 1;
	write_src("f", "hello\n", 6);
	struct copy_task t = task_for("f", 1);
	struct copy_done d;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_COPIED);
	assert_int_equal(d.bytes, 6);
	assert_int_equal(d.hashed, 1);
	char hex[HASH_HEX_LEN + 1];
	hash_hex(d.hash, hex);
	assert_string_equal(hex, "6bba86c7e069f56d5a10b435f1c8e49c");
	struct stat a, b;
	fstatat(croot.src_fd, "f", &a, 0);
	fstatat(croot.dst_fd, "f", &b, 0);
	assert_int_equal(a.st_mode, b.st_mode);
	assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_SKIPPED);
	opts.force = 1;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_COPIED);
}

static void test_large_multi_buffer(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.verify = 1;
	size_t n = 100000; /* many 4 KiB buffers */
	unsigned char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7);
	write_src("big", data, n);
	struct copy_task t = task_for("big", 2);
	struct copy_done d;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_COPIED);
	assert_true(hash_equal(d.hash, hash_buffer(data, n)));
	free(data);
}

static void test_missing_source(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	write_src("gone", "x", 1);
	struct copy_task t = task_for("gone", 3);
	unlinkat(croot.src_fd, "gone", 0);
	struct copy_done d;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_FAILED);
	assert_int_equal(d.stage, STAGE_OPEN_SOURCE);
	assert_int_equal(d.err, ENOENT);
}

static void test_symlink_and_fifo(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	assert_int_equal(symlinkat("some/target", croot.src_fd, "ln"), 0);
	assert_int_equal(mkfifoat(croot.src_fd, "fifo", 0600), 0);
	struct copy_task t = task_for("ln", 4);
	struct copy_done d;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_COPIED);
	char buf[64];
	ssize_t n = readlinkat(croot.dst_fd, "ln", buf, sizeof(buf));
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "some/target", 11);
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_SKIPPED);
	t = task_for("fifo", 5);
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_COPIED);
	struct stat st;
	assert_int_equal(fstatat(croot.dst_fd, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void test_dest_is_directory(void **state)
{
	(void)state;
	memset(&opts, 0, sizeof(opts));
	opts.verify = 1;
	write_src("d", "x", 1);
	mkdirat(croot.dst_fd, "d", 0755);
	mkdirat(croot.dst_fd, "d/sub", 0755);
	struct copy_task t = task_for("d", 6);
	struct copy_done d;
	run_task(&t, &d);
	assert_int_equal(d.status, COPY_FAILED);
	assert_int_equal(d.stage, STAGE_DEST_DIR);
	/* A symlink and a FIFO meet a directory in their way the same way (copy_install). */
	assert_int_equal(symlinkat("t", croot.src_fd, "dl"), 0);
	assert_int_equal(mkfifoat(croot.src_fd, "df", 0600), 0);
	const char *in_way[] = {"dl", "df"};
	for (int i = 0; i < 2; i++) {
		char sub[16];
		snprintf(sub, sizeof(sub), "%s/sub", in_way[i]);
		mkdirat(croot.dst_fd, in_way[i], 0755);
		mkdirat(croot.dst_fd, sub, 0755);
		t = task_for(in_way[i], (uint64_t)(7 + i));
		run_task(&t, &d);
		assert_int_equal(d.status, COPY_FAILED);
		assert_int_equal(d.stage, STAGE_DEST_DIR);
	}
	/* No temporary is left behind. */
	DIR *dir = fdopendir(dup(croot.dst_fd));
	assert_non_null(dir);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		assert_false(tmpname_is(de->d_name));
	closedir(dir);
}

static void test_stage_text(void **state)
{
	(void)state;
	assert_string_equal(copy_stage_text(STAGE_VERIFY),
	                    "verification failed: the copy's hash differs from the source's");
}

/* The re-run quick check and --check's metadata comparison. */
static void test_compare_logic(void **state)
{
	(void)state;
	struct stat a, b;
	memset(&a, 0, sizeof(a));
	a.st_mode = S_IFREG | 0644;
	a.st_size = 10;
	a.st_uid = 1;
	a.st_gid = 2;
	a.st_mtim.tv_sec = 100;
	a.st_mtim.tv_nsec = 5;
	b = a;
	assert_true(copy_quick_same(&a, &b, 1));
	assert_int_equal(copy_compare_stat(&a, &b, 1), 0);
	b.st_mtim.tv_nsec = 6; /* one nanosecond is a difference */
	assert_false(copy_quick_same(&a, &b, 0));
	assert_int_equal(copy_compare_stat(&a, &b, 0), DIFF_TIMES);
	b = a;
	b.st_size = 11;
	assert_false(copy_quick_same(&a, &b, 0));
	assert_int_equal(copy_compare_stat(&a, &b, 0), DIFF_CONTENT);
	b = a;
	b.st_mode = S_IFREG | 0600;
	assert_false(copy_quick_same(&a, &b, 0));
	assert_int_equal(copy_compare_stat(&a, &b, 0), DIFF_MODE);
	b = a;
	b.st_uid = 9;
	assert_true(copy_quick_same(&a, &b, 0)); /* owner ignored when not kept */
	assert_false(copy_quick_same(&a, &b, 1));
	assert_int_equal(copy_compare_stat(&a, &b, 0), 0);
	assert_int_equal(copy_compare_stat(&a, &b, 1), DIFF_OWNER);
	b = a;
	b.st_mode = S_IFLNK | 0777;
	assert_false(copy_quick_same(&a, &b, 0));
	assert_int_equal(copy_compare_stat(&a, &b, 0), DIFF_TYPE);
	a.st_mode = S_IFCHR | 0600;
	b = a;
	b.st_rdev = 7;
	assert_int_equal(copy_compare_stat(&a, &b, 0), DIFF_DEVICE);
	assert_false(copy_quick_same(&a, &a, 0)); /* only regular files are quick-checked */
}

/* --check's hard links: names grouped by inode must group the same way on both sides. */
static void test_link_diffs(void **state)
{
	(void)state;
	/* a,b linked in both; c,d linked in SOURCE only; e,f linked in DEST only; g alone. */
	struct copy_linkname p[] = {
	    {0, 1, 10, 1, 100, 0}, {1, 1, 10, 1, 100, 0}, {2, 1, 20, 1, 200, 0},
	    {3, 1, 20, 1, 201, 0}, {4, 1, 30, 1, 300, 0}, {5, 1, 31, 1, 300, 0},
	    {6, 1, 40, 1, 400, 0},
	};
	size_t n = sizeof(p) / sizeof(p[0]);
	copy_link_diffs(p, n);
	int differs[7] = {0};
	for (size_t i = 0; i < n; i++)
		differs[p[i].entry] = p[i].differs;
	assert_int_equal(differs[0] + differs[1] + differs[2] + differs[4] + differs[6], 0);
	assert_int_equal(differs[3], 1); /* the later name of the broken link */
	assert_int_equal(differs[5], 1); /* the later name of the extra link */
	/* The same inode number on another device is another file. */
	struct copy_linkname q[] = {{0, 1, 10, 1, 100, 0}, {1, 2, 10, 1, 101, 0}};
	copy_link_diffs(q, 2);
	assert_int_equal(q[0].differs + q[1].differs, 0);
	copy_link_diffs(q, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_then_skip),    cmocka_unit_test(test_large_multi_buffer),
	    cmocka_unit_test(test_missing_source),    cmocka_unit_test(test_symlink_and_fifo),
	    cmocka_unit_test(test_dest_is_directory), cmocka_unit_test(test_stage_text),
	    cmocka_unit_test(test_compare_logic),     cmocka_unit_test(test_link_diffs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
