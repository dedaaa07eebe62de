/* Unit tests for lib/run's decisions: part sizing of split copies, which split copy the next
 * part comes from, and the cost a task counts for in the local/remote balance. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "run/internal.h"

#define MIB (UINT64_C(1) << 20)

static void test_part_len(void **state)
{
	(void)state;
	/* Small enough for the part minimum: 256 MiB in parts of 64 MiB. */
	assert_int_equal(run_part_len(256 * MIB, RUN_PART_MIN), 64 * MIB);
	/* A 64th of the size, when that is a whole number of MiB. */
	assert_int_equal(run_part_len(10240 * MIB, RUN_PART_MIN), 160 * MIB);
	/* Rounded up to whole MiB. */
	assert_int_equal(run_part_len(10240 * MIB + 1, RUN_PART_MIN), 161 * MIB);
	/* The test hook's small minimum (a quarter of PCOPY_TEST_SPLIT_MIN). */
	assert_int_equal(run_part_len(5000, 1024), 1024);
	/* Never more than RUN_MAX_PARTS parts, never a part under the minimum. */
	for (uint64_t size = 256 * MIB; size < (UINT64_C(1) << 40); size = size * 3 + 12345) {
		uint64_t len = run_part_len(size, RUN_PART_MIN);
		assert_true(len >= RUN_PART_MIN);
		assert_true(len % MIB == 0);
		assert_true((size + len - 1) / len <= RUN_MAX_PARTS);
	}
}

static void test_split_pick(void **state)
{
	(void)state;
	struct split s[4];
	memset(s, 0, sizeof(s));
	/* None with parts left. */
	assert_int_equal(run_split_pick(s, 0), 0);
	for (int i = 0; i < 4; i++)
		s[i].nparts = s[i].handed = 8;
	assert_int_equal(run_split_pick(s, 4), 4);
	/* The fewest parts in flight among those with parts left; the first on ties. */
	s[1].handed = 5;
	s[1].inflight = 3;
	s[2].handed = 4;
	s[2].inflight = 2;
	s[3].handed = 2;
	s[3].inflight = 2;
	assert_int_equal(run_split_pick(s, 4), 2);
	/* One with nothing in flight is taken at once. */
	s[3].inflight = 0;
	assert_int_equal(run_split_pick(s, 4), 3);
	/* A split copy whose parts were all handed out is passed over, however idle. */
	s[0].inflight = 0;
	assert_int_equal(run_split_pick(s, 4), 3);
}

static void test_task_cost(void **state)
{
	(void)state;
	struct copy_task t;
	memset(&t, 0, sizeof(t));
	t.size = 1000;
	assert_int_equal(copy_task_cost(&t), 1000);
	t.flags = TASK_PART;
	t.part_len = 300;
	assert_int_equal(copy_task_cost(&t), 300);
	t.flags = TASK_SEAL;
	assert_int_equal(copy_task_cost(&t), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part_len),
	    cmocka_unit_test(test_split_pick),
	    cmocka_unit_test(test_task_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
