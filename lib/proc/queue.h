/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * queue: a bounded FIFO of fixed-size messages in shared memory, used across processes.
 *
 * The parent pushes tasks into one queue and the workers push completions into another.
 * Synchronisation is a robust, process-shared mutex around the ring indices and two
 * process-shared counting semaphores (filled slots, free slots). Semaphores rather than
 * condition variables because a process killed while waiting on a glibc condition variable
 * can leave it wedged for everyone else; a semaphore is a plain counter and a robust mutex
 * tells the next locker when its owner died.
 *
 * A consumer that dies between taking a "filled" count and locking the ring leaves the
 * count one short; queue_kick() lets the owner of the queue restore it after reaping such
 * a process (a spurious wake-up is harmless: pop finds the ring empty and waits again).
 */
#ifndef PCOPY_QUEUE_H
#define PCOPY_QUEUE_H

#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

struct queue {
	pthread_mutex_t lock;  /* robust + process-shared; protects head, tail, closed and slots */
	sem_t filled;          /* posted by push, waited on by pop */
	sem_t space;           /* posted by pop, waited on by push */
	uint32_t capacity;     /* slots; set at creation, read-only after */
	uint32_t msg_size;     /* bytes per message; read-only after creation */
	uint64_t head;         /* next slot to pop; under lock */
	uint64_t tail;         /* next slot to push; under lock */
	int closed;            /* set by queue_close(); under lock */
	unsigned char slots[]; /* capacity * msg_size bytes */
};

/* Create a queue of CAPACITY messages of MSG_SIZE bytes in shared memory. NULL with errno. */
struct queue *queue_create(uint32_t capacity, uint32_t msg_size);

/* Unmap a queue. No process may use it afterwards. */
void queue_destroy(struct queue *q);

/*
 * Append MSG, waiting up to TIMEOUT_MS (-1: forever) for room. Returns 0, or -1 with errno
 * ETIMEDOUT, EINTR (a signal arrived while waiting) or EPIPE (the queue is closed).
 */
int queue_push(struct queue *q, const void *msg, int timeout_ms);

/* queue_push, but MSG goes ahead of every message waiting: the next pop takes it. */
int queue_push_first(struct queue *q, const void *msg, int timeout_ms);

/*
 * Take the oldest message into MSG, waiting up to TIMEOUT_MS (-1: forever, 0: do not wait).
 * When CLAIM is not NULL, *CLAIM = *(uint64_t *)MSG is stored while the lock is held, before
 * the message leaves the ring, so a process that dies mid-pop is never holding a task nobody
 * knows about. Returns 0, or -1 with errno ETIMEDOUT, EINTR or EPIPE (closed and empty).
 */
int queue_pop(struct queue *q, void *msg, int timeout_ms, volatile uint64_t *claim);

/* Mark the queue closed: pushes fail, pops drain what is left and then fail with EPIPE. */
void queue_close(struct queue *q);

/* Number of messages waiting now (a snapshot). */
uint32_t queue_count(struct queue *q);

/* Post one spurious "filled" wake-up (see the comment at the top). */
void queue_kick(struct queue *q);

#endif
