/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate: the shared bandwidth limit of --bwlimit (see rate.h).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "common/shm.h"
#include "proc/rate.h"

/* In shared memory. BYTES_PER_SEC is written once by rate_create, before fork; NEXT_NS by
 * every worker, with atomic compare-and-swap only. */
struct rate {
	uint64_t bytes_per_sec;
	_Atomic int64_t next_ns; /* CLOCK_MONOTONIC ns when the tokens taken so far have accrued */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct rate *rate_create(uint64_t bytes_per_sec)
{
	struct rate *r = shm_map(sizeof(*r));
	if (r == NULL)
		return NULL;
	r->bytes_per_sec = bytes_per_sec;
	atomic_init(&r->next_ns, 0);
	return r;
}

void rate_free(struct rate *r)
{
	if (r != NULL)
		shm_unmap(r, sizeof(*r));
}

uint64_t rate_chunk(const struct rate *r, uint64_t max)
{
	uint64_t n = r->bytes_per_sec / 10;
	if (n < 4096)
		n = 4096;
	return n < max ? n : max;
}

int rate_take(struct rate *r, uint64_t len, volatile sig_atomic_t *stop)
{
	int64_t cost = (int64_t)((double)len * 1e9 / (double)r->bytes_per_sec);
	int64_t now = now_ns(), old = atomic_load(&r->next_ns), until;
	do {
		/* An idle bucket fills no further than to what one chunk needs: no burst. */
		until = (old > now ? old : now) + cost;
	} while (!atomic_compare_exchange_weak(&r->next_ns, &old, until));
	/* Sleep in steps of at most 100 ms, so that a stop is noticed. */
	for (int64_t left = until - now; left > 0; left = until - now_ns()) {
		if (*stop) {
			errno = EINTR;
			return -1;
		}
		int64_t step = left < 100000000 ? left : 100000000;
		struct timespec ts = {0, (long)step};
		nanosleep(&ts, NULL);
	}
	return 0;
}
