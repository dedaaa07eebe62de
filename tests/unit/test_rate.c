/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for lib/proc/rate.c: --bwlimit's shared token bucket. Times are checked from
 * below only (a throttle cannot be faster than its rate), never from above.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/rate.h"

static volatile sig_atomic_t no_stop;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_chunk(void **state)
{
	(void)state;
	struct rate *r = rate_create(1 << 20);
	assert_non_null(r);
	assert_int_equal(rate_chunk(r, 1 << 20), (1 << 20) / 10);
	assert_int_equal(rate_chunk(r, 1000), 1000);
	rate_free(r);
	r = rate_create(512);
	assert_int_equal(rate_chunk(r, 1 << 20), 4096);
	rate_free(r);
}

/* One process: 1 MiB at 4 MiB/s takes at least a quarter of a second. */
static void test_one(void **state)
{
	(void)state;
	struct rate *r = rate_create(4 << 20);
	double t0 = now();
	for (int i = 0; i < 16; i++)
		assert_int_equal(rate_take(r, 64 << 10, &no_stop), 0);
	assert_true(now() - t0 >= 0.24);
	rate_free(r);
}

/* Four processes share the bucket: 4 x 256 KiB at 4 MiB/s take a quarter of a second
 * together, where a bucket each would let them through at once. */
static void test_shared(void **state)
{
	(void)state;
	struct rate *r = rate_create(4 << 20);
	double t0 = now();
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int k = 0; k < 4; k++)
				if (rate_take(r, 64 << 10, &no_stop) != 0)
					_exit(1);
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_true(now() - t0 >= 0.24);
	rate_free(r);
}

/* A stop ends the wait: EINTR. */
static void test_stop(void **state)
{
	(void)state;
	static volatile sig_atomic_t stop = 1;
	struct rate *r = rate_create(512);
	assert_int_equal(rate_take(r, 1 << 20, &stop), -1);
	assert_int_equal(errno, EINTR);
	rate_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunk),
	    cmocka_unit_test(test_one),
	    cmocka_unit_test(test_shared),
	    cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
