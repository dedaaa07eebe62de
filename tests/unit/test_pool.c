/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/proc/pool.c: a fixed pool does every task once, and replaces dead workers. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/pool.h"
#include "common/shm.h"

struct job {
	uint64_t id;
	uint64_t crash; /* 1: the worker that takes it kills itself (first time only) */
};

struct result {
	uint64_t id;
	uint64_t pid;
};

/* The first worker to see a crash task dies; the flag lives in shared memory. */
static volatile int *crashed_once;

static volatile int *mmap_shared_int(void)
{
	static volatile int *p;
	if (p == NULL)
		p = shm_map(sizeof(int));
	*p = 0;
	return p;
}

static int worker(struct pool *p, void *arg, int index)
{
	(void)arg;
	struct job j;
	while (queue_pop(p->tasks, &j, 1000, &p->slots[index].claim) == 0) {
		if (j.crash && __sync_bool_compare_and_swap(crashed_once, 0, 1))
			raise(SIGKILL);
		struct result r = {j.id, (uint64_t)getpid()};
		queue_push(p->done, &r, -1);
		p->slots[index].claim = 0;
	}
	return 0;
}

/* The same as worker, through pool_serve. */
static void serve_one(void *ctx, const void *task, void *done)
{
	(void)ctx;
	const struct job *j = task;
	if (j->crash && __sync_bool_compare_and_swap(crashed_once, 0, 1))
		raise(SIGKILL);
	struct result r = {j->id, (uint64_t)getpid()};
	memcpy(done, &r, sizeof(r));
}

static int serve_worker(struct pool *p, void *arg, int index)
{
	(void)arg;
	static volatile sig_atomic_t stop;
	struct job j;
	struct result r;
	pool_serve(p, index, &stop, &j, &r, serve_one, NULL);
	return 0;
}

struct lost {
	struct pool *p;
	int count;
};

static void on_lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	assert_true(pid > 0);
	struct lost *l = ctx;
	assert_true(WIFSIGNALED(wstatus));
	struct job j = {claim, 0};
	l->count++;
	assert_int_equal(pool_submit(l->p, &j, 1000), 0);
}

static void run_pool(int crash_at, pool_worker_fn fn)
{
	struct pool p;
	crashed_once = mmap_shared_int();
	assert_int_equal(pool_start(&p, 3, 8, sizeof(struct job), sizeof(struct result), fn, NULL),
	                 0);
	assert_int_equal(pool_alive(&p), 3);
	enum { N = 500 };
	unsigned char seen[N + 1] = {0};
	struct lost l = {&p, 0};
	uint64_t next = 1, got = 0;
	pid_t pids[8];
	int npids = 0;
	while (got < N) {
		while (next <= N) {
			struct job j = {next, next == (uint64_t)crash_at};
			if (pool_submit(&p, &j, 0) != 0)
				break;
			next++;
		}
		struct result r;
		if (pool_next(&p, &r, 50) == 0) {
			assert_true(r.id >= 1 && r.id <= N);
			assert_int_equal(seen[r.id], 0);
			seen[r.id] = 1;
			got++;
			int known = 0;
			for (int i = 0; i < npids; i++)
				known |= pids[i] == (pid_t)r.pid;
			if (!known && npids < 8)
				pids[npids++] = (pid_t)r.pid;
		}
		assert_true(pool_reap(&p, on_lost, &l) >= 0);
	}
	assert_int_equal(l.count, crash_at ? 1 : 0);
	assert_true(npids <= (crash_at ? 4 : 3)); /* a fixed pool, not a process per task */
	assert_int_equal(pool_stop(&p, 5000), 0);
}

static void test_every_task_once(void **state)
{
	(void)state;
	run_pool(0, worker);
}

static void test_dead_worker_replaced(void **state)
{
	(void)state;
	run_pool(77, worker);
}

/* pool_serve does the same: every task once, a task lost with its worker given again. */
static void test_serve(void **state)
{
	(void)state;
	run_pool(0, serve_worker);
	run_pool(77, serve_worker);
}

/* 1 while PID is a live process (not gone, not a zombie). */
static int alive(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp != NULL && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static int idle_worker(struct pool *p, void *arg, int index)
{
	(void)arg;
	(void)index;
	struct job j;
	for (;;) {
		if (queue_pop(p->tasks, &j, 200, NULL) != 0 && (errno == EPIPE || pool_orphaned(p)))
			return 0;
	}
}

/* Workers go away on their own when the parent is killed with SIGKILL. */
static void test_workers_leave_with_parent(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t parent = fork();
	if (parent == 0) {
		struct pool p;
		if (pool_start(&p, 2, 4, sizeof(struct job), sizeof(struct result), idle_worker,
		               NULL) != 0)
			_exit(1);
		pid_t w[2] = {p.slots[0].pid, p.slots[1].pid};
		(void)!write(fds[1], w, sizeof(w));
		pause();
		_exit(0);
	}
	pid_t w[2];
	assert_int_equal(read(fds[0], w, sizeof(w)), (ssize_t)sizeof(w));
	assert_true(alive(w[0]) && alive(w[1]));
	kill(parent, SIGKILL);
	waitpid(parent, NULL, 0);
	int gone = 0;
	for (int i = 0; i < 300 && !gone; i++) {
		gone = !alive(w[0]) && !alive(w[1]);
		usleep(10000);
	}
	assert_true(gone);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_task_once),
	    cmocka_unit_test(test_dead_worker_replaced),
	    cmocka_unit_test(test_serve),
	    cmocka_unit_test(test_workers_leave_with_parent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
