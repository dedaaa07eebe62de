/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/run's decisions: part sizing of split copies, which split copy the next
 * part comes from, the cost a task counts for in the local/remote balance, the moves of an
 * entry's state and what dispatch hands out next. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

static void test_entry_states(void **state)
{
	(void)state;
	/* The moves a run makes. */
	assert_true(entry_state_legal(ENTRY_PLANNED, ENTRY_QUEUED));
	assert_true(entry_state_legal(ENTRY_QUEUED, ENTRY_SPLIT));
	assert_true(entry_state_legal(ENTRY_SPLIT, ENTRY_SEALING));
	assert_true(entry_state_legal(ENTRY_SEALING, ENTRY_DONE));
	assert_true(entry_state_legal(ENTRY_QUEUED, ENTRY_DONE));
	assert_true(entry_state_legal(ENTRY_SPLIT, ENTRY_DONE)); /* a part failed */
	/* Queued again whole: a directory was in the way, or no memory for the split record. */
	assert_true(entry_state_legal(ENTRY_QUEUED, ENTRY_QUEUED));
	assert_true(entry_state_legal(ENTRY_SPLIT, ENTRY_QUEUED));
	assert_true(entry_state_legal(ENTRY_SEALING, ENTRY_QUEUED));
	/* Never: done twice, done before handed out, back to planned, parts skipped. */
	for (int s = ENTRY_PLANNED; s <= ENTRY_DONE; s++) {
		assert_false(entry_state_legal((enum entry_state)s, ENTRY_PLANNED));
		assert_false(entry_state_legal(ENTRY_DONE, (enum entry_state)s));
	}
	assert_false(entry_state_legal(ENTRY_PLANNED, ENTRY_DONE));
	assert_false(entry_state_legal(ENTRY_PLANNED, ENTRY_SPLIT));
	assert_false(entry_state_legal(ENTRY_QUEUED, ENTRY_SEALING));
	assert_false(entry_state_legal(ENTRY_SEALING, ENTRY_SPLIT));

	struct entry e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(e.state, ENTRY_PLANNED); /* a zeroed entry, as run_add_entry makes it */
	entry_set_state(&e, ENTRY_QUEUED);
	assert_false(entry_is_split(&e));
	entry_set_state(&e, ENTRY_SPLIT);
	assert_true(entry_is_split(&e));
	entry_set_state(&e, ENTRY_SEALING);
	assert_true(entry_is_split(&e));
	entry_set_state(&e, ENTRY_DONE);
	assert_false(entry_is_split(&e));
	assert_int_equal(e.state, ENTRY_DONE);
	/* The memory target (about 150 bytes a file) counts on this. */
	assert_true(sizeof(struct entry) <= 128);
}

/* A run with entries 1 and 2 split (PARTS parts of 100 bytes each, the last 50 bytes). */
static void setup_splits(struct run *r, struct entry *e, struct split *s, uint32_t parts)
{
	memset(r, 0, sizeof(*r));
	memset(e, 0, 2 * sizeof(*e));
	memset(s, 0, 2 * sizeof(*s));
	for (size_t i = 0; i < 2; i++) {
		e[i].task.id = i + 1;
		e[i].task.size = 100 * (uint64_t)parts - 50;
		e[i].task.flags = TASK_SPLIT;
		e[i].state = ENTRY_SPLIT;
		s[i].entry = i;
		s[i].nparts = parts;
		s[i].part_len = 100;
	}
	r->entries = e;
	r->nentries = r->entries_cap = 2;
	r->splits = s;
	r->nsplits = r->splits_cap = 2;
	r->pool.size = 2;
}

static void test_next_task(void **state)
{
	(void)state;
	struct run r;
	struct entry e[2];
	struct split s[2];
	struct copy_task t;
	struct split *sp = NULL;
	setup_splits(&r, e, s, 3);

	/* A part of the first split copy with nothing in flight, and nothing changes yet. */
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	assert_ptr_equal(sp, &s[0]);
	assert_int_equal(t.id, COPY_ID(1, 1));
	assert_true(t.flags & TASK_PART);
	assert_int_equal(t.part_off, 0);
	assert_int_equal(t.part_len, 100);
	assert_int_equal(s[0].handed, 0);
	run_handed(&r, 2, sp);
	assert_int_equal(s[0].handed, 1);
	assert_int_equal(s[0].inflight, 1);
	assert_int_equal(r.parts_busy, 1);

	/* The next part comes from the other file: each worker in a file of its own. */
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	assert_ptr_equal(sp, &s[1]);
	assert_int_equal(t.id, COPY_ID(2, 1));
	run_handed(&r, 2, sp);

	/* Every worker busy with a part: nothing more until one comes back ... */
	assert_int_equal(run_next_task(&r, &t, &sp), 0);
	/* ... unless the remote brings workers of its own. */
	struct run_remote rm;
	memset(&rm, 0, sizeof(rm));
	rm.workers = 4;
	r.remote = &rm;
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	assert_ptr_equal(sp, &s[0]);
	assert_int_equal(t.part_off, 100);
	run_handed(&r, 2, sp);
	/* The last part is what is left of the file. */
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	run_handed(&r, 2, sp);
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	assert_int_equal(t.id, COPY_ID(s[sp - s].entry + 1, 3));
	assert_int_equal(t.part_off, 200);
	assert_int_equal(t.part_len, 50);
	run_handed(&r, 2, sp);

	/* A task queued first (a seal) goes before any part. */
	assert_int_equal(run_queue_first(&r, COPY_ID(1, COPY_ID_SEAL)), 0);
	assert_int_equal(run_next_task(&r, &t, &sp), 1);
	assert_int_equal(t.id, COPY_ID(1, COPY_ID_SEAL));
	assert_true(t.flags & TASK_SEAL);
	assert_int_equal(r.pending_head, 0);
	run_handed(&r, 1, NULL);
	assert_int_equal(r.pending_head, 1);
	/* The last part left, then nothing. */
	assert_int_equal(run_next_task(&r, &t, &sp), 2);
	run_handed(&r, 2, sp);
	assert_int_equal(run_next_task(&r, &t, &sp), 0);
	free(r.pending);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part_len),  cmocka_unit_test(test_split_pick),
	    cmocka_unit_test(test_task_cost), cmocka_unit_test(test_entry_states),
	    cmocka_unit_test(test_next_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
