/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for lib/tar/tarwalk.c and compress.c: the order --tar puts members in (depth-first,
 * names sorted bytewise within a directory, each directory followed by its contents), what it
 * leaves out, its hard-link records, and the compression an archive's name asks for.
 */
#include "config.h"

#include <fcntl.h>
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

#include "tar/internal.h"

#define MAX_MEMBERS 64

static char scratch[] = "/tmp/test_tarwalk.XXXXXX";

static void make_dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void make_file(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(scratch) == NULL)
		return -1;
	make_dir("src");
	make_file("src/b");
	make_file("src/c");
	make_file("src/C");
	make_file("src/.hidden");
	make_dir("src/a");
	make_file("src/a/z");
	make_dir("src/a/y");
	make_file("src/a/y/x");
	make_dir("src/a/empty");
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/src/a/z", scratch);
	snprintf(to, sizeof(to), "%s/src/hl", scratch);
	return link(from, to);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

/* The walk's members of SOURCE (below the scratch directory) with EXCLUDES, in order. */
struct walked {
	char *path[MAX_MEMBERS];
	size_t link[MAX_MEMBERS], owns[MAX_MEMBERS];
	size_t n;
	int failed;
};

static void walk_sources(const char *const *rel, size_t nsources, const char *const *excludes,
                         size_t nexcludes, struct walked *w)
{
	struct select_rules rules;
	select_init(&rules);
	for (size_t i = 0; i < nexcludes; i++)
		assert_int_equal(select_add(&rules, excludes[i], SELECT_AS_EXCLUDE), 0);
	static volatile sig_atomic_t interrupted;
	char src[4][512];
	char *sources[4];
	assert_true(nsources <= 4);
	for (size_t i = 0; i < nsources; i++) {
		snprintf(src[i], sizeof(src[i]), "%s/%s", scratch, rel[i]);
		sources[i] = src[i];
	}
	struct tarout_opts o;
	memset(&o, 0, sizeof(o));
	o.select = &rules;
	o.interrupted = &interrupted;
	struct tarout_hooks h;
	memset(&h, 0, sizeof(h));
	char err[256] = "";
	struct tar t;
	memset(&t, 0, sizeof(t));
	t.o = &o;
	t.h = &h;
	t.sources = sources;
	t.nsources = nsources;
	t.err = err;
	t.errlen = sizeof(err);
	t.slots = calloc(TARJOB_WINDOW, sizeof(*t.slots));
	assert_non_null(t.slots);
	assert_int_equal(tarjob_init(&t.job, 4096), 0);
	assert_int_equal(tarwalk_open_roots(&t), 0);
	memset(w, 0, sizeof(*w));
	int r;
	while ((r = tarwalk_next(&t)) == 1) {
		assert_true(w->n < MAX_MEMBERS);
		struct tarjob_item *it = tarjob_item(&t.job, t.scanned);
		struct tar_slot *s = &t.slots[t.scanned % TARJOB_WINDOW];
		w->path[w->n] = strdup(names_get(&t.job.names, it->path));
		w->link[w->n] = s->link;
		w->owns[w->n++] = s->owns;
		t.scanned++;
	}
	assert_int_equal(r, 0);
	w->failed = t.failed;
	while (t.depth > 0)
		tarwalk_leave(&t);
	for (size_t i = 0; i < t.job.nroots; i++)
		if (t.job.roots[i] >= 0)
			close(t.job.roots[i]);
	free(t.job.roots);
	tarjob_free(&t.job);
	free(t.stack);
	free(t.slots);
	free(t.links);
	inotab_free(&t.inodes);
	select_free(&rules);
}

static void walk(const char *source, const char *const *excludes, size_t nexcludes,
                 struct walked *w)
{
	walk_sources(&source, 1, excludes, nexcludes, w);
}

static void walked_free(struct walked *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->path[i]);
}

static void check_order(const struct walked *w, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < w->n; i++)
		assert_string_equal(w->path[i], want[i]);
	assert_int_equal(w->n, n);
}

/* Depth-first, bytewise sorted ("C" before "a"), each directory right before its contents. */
static void test_order(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "src",       "src/.hidden", "src/C", "src/a", "src/a/empty", "src/a/y",
	    "src/a/y/x", "src/a/z",     "src/b", "src/c", "src/hl",
	};
	struct walked w;
	walk("src", NULL, 0, &w);
	check_order(&w, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(w.failed, 0);
	walked_free(&w);
}

/* The first name of a multiply linked file owns its record; later names link to it. */
static void test_hard_links(void **state)
{
	(void)state;
	struct walked w;
	walk("src", NULL, 0, &w);
	size_t z = 0, hl = 0;
	for (size_t i = 0; i < w.n; i++) {
		if (strcmp(w.path[i], "src/a/z") == 0)
			z = i;
		if (strcmp(w.path[i], "src/hl") == 0)
			hl = i;
	}
	assert_true(z != 0 && hl != 0);
	assert_int_equal(w.link[z], 0);
	assert_int_not_equal(w.owns[z], 0);
	assert_int_equal(w.link[hl], w.owns[z]);
	assert_int_equal(w.owns[hl], 0);
	for (size_t i = 0; i < w.n; i++)
		if (i != z && i != hl)
			assert_true(w.link[i] == 0 && w.owns[i] == 0);
	walked_free(&w);
}

/* Excluded entries, and a directory's whole contents with it, are left out of the order. */
static void test_excluded(void **state)
{
	(void)state;
	const char *const excludes[] = {"a", "c"};
	static const char *const want[] = {"src", "src/.hidden", "src/C", "src/b", "src/hl"};
	struct walked w;
	walk("src", excludes, 2, &w);
	check_order(&w, want, sizeof(want) / sizeof(want[0]));
	walked_free(&w);
}

/* A source ending in ".." is named "." and its members "./NAME". */
static void test_dotdot_source(void **state)
{
	(void)state;
	static const char *const want[] = {
	    ".",       "./.hidden", "./C", "./a", "./a/empty", "./a/y",
	    "./a/y/x", "./a/z",     "./b", "./c", "./hl",
	};
	struct walked w;
	walk("src/a/..", NULL, 0, &w);
	check_order(&w, want, sizeof(want) / sizeof(want[0]));
	walked_free(&w);
}

/* Several sources: each whole, in the order given (not sorted); names compare as unsigned
 * bytes, so a UTF-8 name comes after every ASCII one. */
static void test_order_sources(void **state)
{
	(void)state;
	make_dir("s2");
	make_file("s2/\xc3\xa9");
	make_file("s2/z");
	make_file("s2/Z");
	make_file("s2/~");
	static const char *const sources[] = {"src/a/y", "s2", "src/b"};
	static const char *const want[] = {
	    "y", "y/x", "s2", "s2/Z", "s2/z", "s2/~", "s2/\xc3\xa9", "b",
	};
	struct walked w;
	walk_sources(sources, 3, NULL, 0, &w);
	check_order(&w, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(w.failed, 0);
	walked_free(&w);
}

static void test_compression_for(void **state)
{
	(void)state;
	assert_string_equal(tarout_compression_for("x.tar.gz"), "gzip");
	assert_string_equal(tarout_compression_for("BACKUP.TAR.GZ"), "gzip");
	assert_string_equal(tarout_compression_for("x.tgz"), "gzip");
	assert_string_equal(tarout_compression_for("x.tar.bz2"), "bzip2");
	assert_string_equal(tarout_compression_for("x.tar.xz"), "xz");
	assert_string_equal(tarout_compression_for("x.tar.zst"), "zstd");
	assert_string_equal(tarout_compression_for("x.tar.lz4"), "lz4");
	assert_string_equal(tarout_compression_for("x.tar"), "none");
	assert_string_equal(tarout_compression_for("x.gz"), "none");
	assert_string_equal(tarout_compression_for(""), "none");
}

static void test_compression_valid(void **state)
{
	(void)state;
	static const char *const ok[] = {"none", "gzip", "bzip2", "xz", "zstd", "lz4"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(tarout_compression_valid(ok[i]));
	assert_false(tarout_compression_valid("GZIP"));
	assert_false(tarout_compression_valid("lzma"));
	assert_false(tarout_compression_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_hard_links),
	    cmocka_unit_test(test_excluded),
	    cmocka_unit_test(test_dotdot_source),
	    cmocka_unit_test(test_order_sources),
	    cmocka_unit_test(test_compression_for),
	    cmocka_unit_test(test_compression_valid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
