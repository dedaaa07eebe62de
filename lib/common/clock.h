/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock: the monotonic clock pcopy times its runs, progress ticks and timeouts with.
 */
#ifndef PCOPY_CLOCK_H
#define PCOPY_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (never goes back; its zero is arbitrary). */
double clock_now(void);

#endif
