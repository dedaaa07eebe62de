/* SPDX-License-Identifier: BSD-2-Clause */
/* queue: bounded shared-memory FIFO for tasks and completions (see queue.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "proc/queue.h"
#include "common/shm.h"

static size_t queue_bytes(uint32_t capacity, uint32_t msg_size)
{
	return sizeof(struct queue) + (size_t)capacity * msg_size;
}

struct queue *queue_create(uint32_t capacity, uint32_t msg_size)
{
	if (capacity == 0 || msg_size == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct queue *q = shm_map(queue_bytes(capacity, msg_size));
	if (q == NULL)
		return NULL;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	int rc = pthread_mutex_init(&q->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (rc != 0 || sem_init(&q->filled, 1, 0) != 0 || sem_init(&q->space, 1, capacity) != 0) {
		shm_unmap(q, queue_bytes(capacity, msg_size));
		errno = rc != 0 ? rc : errno;
		return NULL;
	}
	q->capacity = capacity;
	q->msg_size = msg_size;
	/* Room below for queue_push_first: 2^32 of them before HEAD could wrap. */
	q->head = q->tail = (uint64_t)capacity << 32;
	return q;
}

void queue_destroy(struct queue *q)
{
	if (q != NULL)
		shm_unmap(q, queue_bytes(q->capacity, q->msg_size));
}

/* Lock, recovering the mutex when its previous owner died holding it. */
static void queue_lock(struct queue *q)
{
	if (pthread_mutex_lock(&q->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&q->lock);
}

/* Wait on S for up to TIMEOUT_MS (-1 forever, 0 try). Returns 0 or -1 with errno. */
static int sem_wait_ms(sem_t *s, int timeout_ms)
{
	if (timeout_ms < 0)
		return sem_wait(s);
	if (timeout_ms == 0) {
		if (sem_trywait(s) == 0)
			return 0;
		if (errno == EAGAIN)
			errno = ETIMEDOUT;
		return -1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return sem_timedwait(s, &ts);
}

/* Put MSG at the tail, or with FIRST at the head. */
static int queue_put(struct queue *q, const void *msg, int timeout_ms, int first)
{
	if (sem_wait_ms(&q->space, timeout_ms) != 0)
		return -1;
	queue_lock(q);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		sem_post(&q->space);
		errno = EPIPE;
		return -1;
	}
	/* HEAD starts at a multiple of the capacity far from 0 (queue_create): one before it is
	 * the slot before the head's. */
	uint64_t at = first ? --q->head : q->tail++;
	memcpy(q->slots + (at % q->capacity) * q->msg_size, msg, q->msg_size);
	pthread_mutex_unlock(&q->lock);
	sem_post(&q->filled);
	return 0;
}

int queue_push(struct queue *q, const void *msg, int timeout_ms)
{
	return queue_put(q, msg, timeout_ms, 0);
}

int queue_push_first(struct queue *q, const void *msg, int timeout_ms)
{
	return queue_put(q, msg, timeout_ms, 1);
}

int queue_pop(struct queue *q, void *msg, int timeout_ms, volatile uint64_t *claim)
{
	for (;;) {
		if (sem_wait_ms(&q->filled, timeout_ms) != 0)
			return -1;
		queue_lock(q);
		if (q->head != q->tail) {
			const unsigned char *slot =
			    q->slots + (q->head % q->capacity) * q->msg_size;
			memcpy(msg, slot, q->msg_size);
			if (claim != NULL) {
				uint64_t id;
				memcpy(&id, slot, sizeof(id));
				*claim = id;
			}
			q->head++;
			pthread_mutex_unlock(&q->lock);
			sem_post(&q->space);
			return 0;
		}
		int closed = q->closed;
		pthread_mutex_unlock(&q->lock);
		if (closed) {
			sem_post(&q->filled); /* let the next waiter see the end too */
			errno = EPIPE;
			return -1;
		}
		/* A spurious wake-up from queue_kick(): wait again. */
	}
}

void queue_close(struct queue *q)
{
	queue_lock(q);
	q->closed = 1;
	pthread_mutex_unlock(&q->lock);
	sem_post(&q->filled);
}

uint32_t queue_count(struct queue *q)
{
	queue_lock(q);
	uint32_t n = (uint32_t)(q->tail - q->head);
	pthread_mutex_unlock(&q->lock);
	return n;
}

void queue_kick(struct queue *q)
{
	sem_post(&q->filled);
}
