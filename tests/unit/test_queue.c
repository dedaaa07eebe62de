/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/proc/queue.c: FIFO order, bounds, timeouts, close, and many processes. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/queue.h"
#include "common/shm.h"

struct msg {
	uint64_t id;
	uint64_t payload;
};

static void test_fifo_and_bounds(void **state)
{
	(void)state;
	struct queue *q = queue_create(4, sizeof(struct msg));
	assert_non_null(q);
	for (uint64_t i = 1; i <= 4; i++) {
		struct msg m = {i, i * 10};
		assert_int_equal(queue_push(q, &m, 0), 0);
	}
	struct msg m = {5, 50};
	assert_int_equal(queue_push(q, &m, 0), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(queue_count(q), 4);
	for (uint64_t i = 1; i <= 4; i++) {
		uint64_t claim = 0;
		assert_int_equal(queue_pop(q, &m, 0, &claim), 0);
		assert_int_equal(m.id, i);
		assert_int_equal(m.payload, i * 10);
		assert_int_equal(claim, i);
	}
	assert_int_equal(queue_pop(q, &m, 10, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	queue_destroy(q);
}

/* queue_push_first: ahead of what waits, also across the ring's wrap, and bounded too. */
static void test_push_first(void **state)
{
	(void)state;
	struct queue *q = queue_create(3, sizeof(struct msg));
	assert_non_null(q);
	struct msg m;
	for (int round = 0; round < 5; round++) {
		struct msg a = {1, 0}, b = {2, 0}, c = {3, 0};
		assert_int_equal(queue_push(q, &a, 0), 0);
		assert_int_equal(queue_push(q, &b, 0), 0);
		assert_int_equal(queue_push_first(q, &c, 0), 0);
		assert_int_equal(queue_push_first(q, &c, 0), -1); /* full */
		assert_int_equal(errno, ETIMEDOUT);
		uint64_t want[] = {3, 1, 2};
		for (int i = 0; i < 3; i++) {
			assert_int_equal(queue_pop(q, &m, 0, NULL), 0);
			assert_int_equal(m.id, want[i]);
		}
		/* one message popped between, so the head moves both ways */
		assert_int_equal(queue_push(q, &a, 0), 0);
		assert_int_equal(queue_push_first(q, &b, 0), 0);
		assert_int_equal(queue_pop(q, &m, 0, NULL), 0);
		assert_int_equal(m.id, 2);
		assert_int_equal(queue_pop(q, &m, 0, NULL), 0);
		assert_int_equal(m.id, 1);
	}
	assert_int_equal(queue_count(q), 0);
	queue_destroy(q);
}

static void test_close_drains_then_epipe(void **state)
{
	(void)state;
	struct queue *q = queue_create(8, sizeof(struct msg));
	struct msg m = {1, 1};
	assert_int_equal(queue_push(q, &m, -1), 0);
	queue_close(q);
	assert_int_equal(queue_push(q, &m, 0), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(queue_pop(q, &m, -1, NULL), 0);
	assert_int_equal(queue_pop(q, &m, -1, NULL), -1);
	assert_int_equal(errno, EPIPE);
	/* Every later waiter sees the end too. */
	assert_int_equal(queue_pop(q, &m, -1, NULL), -1);
	assert_int_equal(errno, EPIPE);
	queue_destroy(q);
}

static void test_kick_is_harmless(void **state)
{
	(void)state;
	struct queue *q = queue_create(2, sizeof(struct msg));
	struct msg m;
	queue_kick(q);
	assert_int_equal(queue_pop(q, &m, 20, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	queue_destroy(q);
}

/*
 * Three producer processes and three consumer processes through a queue of 16: every
 * message arrives exactly once.
 */
#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER 20000

static void test_many_processes(void **state)
{
	(void)state;
	struct queue *q = queue_create(16, sizeof(struct msg));
	struct queue *back = queue_create(64, sizeof(struct msg));
	uint64_t total = (uint64_t)PRODUCERS * PER_PRODUCER;
	pid_t pids[PRODUCERS + CONSUMERS];
	for (int p = 0; p < PRODUCERS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			for (uint64_t i = 0; i < PER_PRODUCER; i++) {
				struct msg m = {(uint64_t)p * PER_PRODUCER + i + 1, 0};
				if (queue_push(q, &m, -1) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < CONSUMERS; c++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct msg m;
			while (queue_pop(q, &m, -1, NULL) == 0)
				if (queue_push(back, &m, -1) != 0)
					_exit(1);
			_exit(errno == EPIPE ? 0 : 1);
		}
		pids[PRODUCERS + c] = pid;
	}
	unsigned char *seen = calloc(total + 1, 1);
	for (uint64_t n = 0; n < total; n++) {
		struct msg m;
		assert_int_equal(queue_pop(back, &m, 10000, NULL), 0);
		assert_true(m.id >= 1 && m.id <= total);
		assert_int_equal(seen[m.id], 0);
		seen[m.id] = 1;
	}
	queue_close(q);
	for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	free(seen);
	queue_destroy(q);
	queue_destroy(back);
}

/* A process killed while holding the lock does not wedge the queue (robust mutex). */
static void test_owner_death_recovers(void **state)
{
	(void)state;
	struct queue *q = queue_create(4, sizeof(struct msg));
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(&q->lock);
		(void)!write(pipefd[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct msg m = {7, 7};
	assert_int_equal(queue_push(q, &m, 1000), 0);
	assert_int_equal(queue_pop(q, &m, 1000, NULL), 0);
	assert_int_equal(m.id, 7);
	close(pipefd[0]);
	close(pipefd[1]);
	queue_destroy(q);
}

static void test_names_arena(void **state)
{
	(void)state;
	struct names n;
	assert_int_equal(names_init(&n, (size_t)1 << 24), 0);
	uint64_t a = names_add(&n, "abc", 3);
	uint64_t b = names_add(&n, "de\nf", 4);
	assert_string_equal(names_get(&n, a), "abc");
	assert_string_equal(names_get(&n, b), "de\nf");
	pid_t pid = fork();
	if (pid == 0)
		_exit(strcmp(names_get(&n, b), "de\nf") == 0 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	names_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_and_bounds),
	    cmocka_unit_test(test_push_first),
	    cmocka_unit_test(test_close_drains_then_epipe),
	    cmocka_unit_test(test_kick_is_harmless),
	    cmocka_unit_test(test_many_processes),
	    cmocka_unit_test(test_owner_death_recovers),
	    cmocka_unit_test(test_names_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
