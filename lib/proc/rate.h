/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate: one bandwidth limit shared by every worker of a pool (--bwlimit).
 *
 * A token bucket in shared memory, kept as the time at which the bucket is next full
 * enough (the "virtual scheduling" form of a token bucket with no burst): a worker that is
 * about to write LEN bytes moves that time on by LEN / RATE seconds with one atomic
 * compare-and-swap and sleeps until its share has accrued. However many workers write,
 * together they write no more than RATE bytes in any second past the first chunk. The
 * mapping is made by the pool's parent before fork (rate_create) and only touched through
 * rate_take; the clock is CLOCK_MONOTONIC, the same in every process of the machine.
 */
#ifndef PCOPY_RATE_H
#define PCOPY_RATE_H

#include <signal.h>
#include <stdint.h>

struct rate;

/* A bucket of BYTES_PER_SEC (> 0) in shared memory. Returns NULL with errno on failure. */
struct rate *rate_create(uint64_t bytes_per_sec);

/* Unmap R (NULL: nothing). */
void rate_free(struct rate *r);

/* The most bytes to write between two rate_take calls: about a tenth of a second's worth,
 * never under 4 KiB nor over MAX. */
uint64_t rate_chunk(const struct rate *r, uint64_t max);

/* Take LEN bytes' worth of R's tokens, sleeping until they have accrued, or until *STOP is
 * set: then -1 with errno EINTR, else 0. */
int rate_take(struct rate *r, uint64_t len, volatile sig_atomic_t *stop);

#endif
