/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/common/array.c: growth keeps contents and never shrinks. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/array.h"

static void test_grow(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	for (size_t n = 1; n <= 1000; n++) {
		assert_int_equal(array_grow(&a, &cap, n, sizeof(*a)), 0);
		assert_true(cap >= n);
		a[n - 1] = (int)n;
	}
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(a[i], (int)i + 1);
	size_t before = cap;
	assert_int_equal(array_grow(&a, &cap, 3, sizeof(*a)), 0);
	assert_int_equal(cap, before);
	/* A size that cannot be allocated fails and leaves the array alone. */
	assert_int_equal(array_grow(&a, &cap, SIZE_MAX / 2, sizeof(*a)), -1);
	assert_int_equal(cap, before);
	assert_int_equal(a[999], 1000);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
