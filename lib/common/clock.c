/* SPDX-License-Identifier: BSD-2-Clause */
/* clock: the monotonic clock (see clock.h). */
#include "config.h"

#include <time.h>

#include "common/clock.h"

double clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
