/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/common/tmpname.c: the exact bytes of every temporary name (earlier and
 * later runs depend on them), and telling temporaries and their pids from other names. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/tmpname.h"

static void test_names_in_tree(void **state)
{
	(void)state;
	char buf[TMPNAME_SIZE];
	assert_string_equal(tmpname_counter(buf, sizeof(buf), 4242, 7), ".pcopy-tmp.4242.7");
	assert_string_equal(tmpname_split(buf, sizeof(buf), 17, UINT64_C(123456789012)),
	                    ".pcopy-tmp.17.s123456789012");
	assert_string_equal(tmpname_tag(buf, sizeof(buf), 99, "link%zu", (size_t)3),
	                    ".pcopy-tmp.99.link3");
	assert_string_equal(tmpname_tag(buf, sizeof(buf), 99, "manifest"),
	                    ".pcopy-tmp.99.manifest");
	/* The largest values still fit the buffer. */
	tmpname_split(buf, sizeof(buf), 4194304, UINT64_MAX);
	assert_string_equal(buf, ".pcopy-tmp.4194304.s18446744073709551615");
	tmpname_counter(buf, sizeof(buf), 4194304, (unsigned long)-1);
	assert_int_equal(tmpname_pid(buf), 4194304);
	/* A short buffer is cut, never overrun. */
	char small[8];
	assert_string_equal(tmpname_counter(small, sizeof(small), 1, 1), ".pcopy-");
}

static void test_is_and_pid(void **state)
{
	(void)state;
	assert_true(tmpname_is(".pcopy-tmp.123.4"));
	assert_true(tmpname_is(".pcopy-tmp."));
	assert_false(tmpname_is("pcopy-tmp.123.4"));
	assert_false(tmpname_is(".pcopy"));
	assert_false(tmpname_is("a.pcopy-tmp.1"));

	assert_int_equal(tmpname_pid(".pcopy-tmp.123.4"), 123);
	assert_int_equal(tmpname_pid(".pcopy-tmp.123.s5"), 123);
	assert_int_equal(tmpname_pid(".pcopy-tmp.9.manifest"), 9);
	assert_int_equal(tmpname_pid(".pcopy-tmp.123"), 0);    /* no tag */
	assert_int_equal(tmpname_pid(".pcopy-tmp.0123.4"), 0); /* not how a pid is written */
	assert_int_equal(tmpname_pid(".pcopy-tmp..4"), 0);
	assert_int_equal(tmpname_pid(".pcopy-tmp.12a.4"), 0);
	assert_int_equal(tmpname_pid(".pcopy-tmp.1234567890.4"), 0); /* too long for a pid */
	assert_int_equal(tmpname_pid("x.pcopy-tmp.12.4"), 0);
}

static void test_beside(void **state)
{
	(void)state;
	char *t = tmpname_beside("/some/dir/m.txt", 4711);
	assert_non_null(t);
	assert_string_equal(t, "/some/dir/m.txt.pcopy-tmp.4711");
	free(t);

	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.4711", "m.txt"), 4711);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.999999999", "m.txt"), 999999999);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.1000000000", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.0123", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.12x", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.12.3", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("mm.txt.pcopy-tmp.12", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt", "m.txt"), 0);
	assert_int_equal(tmpname_beside_pid("m.txt.pcopy-tmp.12", "m"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_in_tree),
	    cmocka_unit_test(test_is_and_pid),
	    cmocka_unit_test(test_beside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
