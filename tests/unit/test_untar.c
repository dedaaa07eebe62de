/* Unit tests for lib/untar.c: which member paths are extracted, and under what name. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "untar.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
