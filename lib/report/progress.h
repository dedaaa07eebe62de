/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * progress: the redrawn progress line pcopy shows about a run, and how often it is drawn.
 * Formatting only: the caller decides where and when to write. The counts it shows are
 * struct stats (stats.h); --json lines are json.h's, the --stats summary stats.h's.
 */
#ifndef PCOPY_PROGRESS_H
#define PCOPY_PROGRESS_H

#include <stddef.h>

#include "report/stats.h"

/* Seconds between two progress hooks (run, --tar, --extract, pbatch): at most 10 a second. */
#define PROGRESS_TICK 0.1

/*
 * Format the one-line progress display into BUF (LEN bytes, NUL-terminated, no newline):
 * percentage of bytes, entries done/total, throughput and ETA. Returns the length. SHOWN,
 * when not NULL, is the percentage shown last (updated): while the walk still finds bytes
 * the ratio can dip, and the line holds the highest value shown instead of going back.
 */
size_t progress_line(char *buf, size_t len, const struct stats *st, double *shown);

/* Format BYTES as "12.3 MB" style text (decimal units, like the throughput). */
void progress_bytes(char *buf, size_t len, double bytes);

#endif
