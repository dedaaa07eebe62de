/* SPDX-License-Identifier: BSD-2-Clause */
/* pool: fixed pool of forked workers over shared-memory queues (see pool.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/compat.h"
#include "proc/pool.h"
#include "common/shm.h"

/* Fork the worker for slot I. Returns 0, or -1 with errno. */
static int pool_spawn(struct pool *p, int i)
{
	p->slots[i].claim = 0;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* The parent's handlers must not run here before the worker installs its own. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		compat_parent_death_signal(SIGTERM);
		if (getppid() != p->parent)
			_exit(0);
		_exit(p->worker(p, p->arg, i));
	}
	p->slots[i].pid = pid;
	return 0;
}

int pool_start(struct pool *p, int n, uint32_t task_cap, uint32_t task_size, uint32_t done_size,
               pool_worker_fn worker, void *arg)
{
	p->size = n;
	p->worker = worker;
	p->arg = arg;
	p->parent = getpid();
	p->stopping = 0;
	p->slots = shm_map(sizeof(struct pool_slot) * (size_t)n);
	p->tasks = queue_create(task_cap, task_size);
	/* Room for every task that can be outstanding, plus slack for slots lost to deaths. */
	p->done = queue_create(task_cap + 2 * (uint32_t)n + 64, done_size);
	if (p->slots == NULL || p->tasks == NULL || p->done == NULL)
		goto fail;
	for (int i = 0; i < n; i++) {
		if (pool_spawn(p, i) != 0) {
			int e = errno;
			p->stopping = 1;
			pool_signal(p, SIGKILL);
			while (wait(NULL) > 0 || errno == EINTR)
				;
			errno = e;
			goto fail;
		}
	}
	return 0;
fail:;
	int e = errno;
	queue_destroy(p->tasks);
	queue_destroy(p->done);
	shm_unmap(p->slots, sizeof(struct pool_slot) * (size_t)n);
	p->slots = NULL;
	p->tasks = p->done = NULL;
	errno = e;
	return -1;
}

int pool_submit(struct pool *p, const void *task, int timeout_ms)
{
	return queue_push(p->tasks, task, timeout_ms);
}

int pool_submit_first(struct pool *p, const void *task, int timeout_ms)
{
	return queue_push_first(p->tasks, task, timeout_ms);
}

int pool_next(struct pool *p, void *done, int timeout_ms)
{
	return queue_pop(p->done, done, timeout_ms, NULL);
}

/* Slot index of PID, or -1. */
static int pool_find(const struct pool *p, pid_t pid)
{
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].pid == pid)
			return i;
	return -1;
}

int pool_reap(struct pool *p, void (*lost)(void *ctx, uint64_t claim, pid_t pid, int wstatus),
              void *ctx)
{
	int deaths = 0;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		int i = pool_find(p, pid);
		if (i < 0)
			continue;
		p->slots[i].pid = 0;
		int abnormal = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		uint64_t claim = p->slots[i].claim;
		p->slots[i].claim = 0;
		if (abnormal)
			deaths++;
		if (claim != 0 && lost != NULL)
			lost(ctx, claim, pid, status);
		/* The dead process may have taken a "filled" count without the message. */
		queue_kick(p->tasks);
		if (!p->stopping && abnormal) {
			p->slots[i].respawns++;
			if (pool_spawn(p, i) != 0)
				return -1;
		}
	}
	return deaths;
}

uint32_t pool_queued(struct pool *p)
{
	return queue_count(p->tasks);
}

int pool_alive(const struct pool *p)
{
	int n = 0;
	for (int i = 0; i < p->size; i++)
		n += p->slots[i].pid != 0;
	return n;
}

void pool_signal(struct pool *p, int sig)
{
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].pid > 0)
			kill(p->slots[i].pid, sig);
}

/* Reap every exited worker without replacing it. */
static void pool_collect(struct pool *p)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int i = pool_find(p, pid);
		if (i >= 0)
			p->slots[i].pid = 0;
	}
}

void pool_hold(struct pool *p)
{
	p->stopping = 1;
}

int pool_stop(struct pool *p, int grace_ms)
{
	int rc = 0;
	if (p->slots == NULL)
		return 0;
	p->stopping = 1;
	queue_close(p->tasks);
	struct timespec tick = {0, 5 * 1000000L};
	for (int waited = 0; pool_alive(p) > 0; waited += 5) {
		pool_collect(p);
		if (pool_alive(p) == 0)
			break;
		if (waited >= grace_ms) {
			pool_signal(p, SIGKILL);
			rc = -1;
			grace_ms = waited + 1000; /* SIGKILL cannot be ignored */
		}
		nanosleep(&tick, NULL);
	}
	queue_destroy(p->tasks);
	queue_destroy(p->done);
	shm_unmap(p->slots, sizeof(struct pool_slot) * (size_t)p->size);
	p->slots = NULL;
	p->tasks = p->done = NULL;
	return rc;
}

void pool_worker_signals(void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void pool_serve(struct pool *p, int index, volatile sig_atomic_t *stop, void *task, void *done,
                void (*fn)(void *ctx, const void *task, void *done), void *ctx)
{
	volatile uint64_t *claim = &p->slots[index].claim;
	while (!*stop) {
		if (queue_pop(p->tasks, task, 1000, claim) != 0) {
			if (errno == EPIPE || pool_orphaned(p))
				return;
			continue;
		}
		fn(ctx, task, done);
		while (queue_push(p->done, done, 1000) != 0) {
			if (errno == EPIPE || pool_orphaned(p))
				return;
		}
		*claim = 0;
	}
}

int pool_orphaned(const struct pool *p)
{
	return getppid() != p->parent;
}
