/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * progress: the redrawn progress line pcopy and pbatch show about a run, the summary line
 * that replaces it at the end, and how often it is drawn.
 *
 * The line is made of fields, each dropped whole when the width is short, least important
 * first; the percentage always stays. The rate is the current one: the counts' change over
 * the last PROGRESS_WINDOW seconds (a ring of samples, struct progress_rate), and the ETA
 * comes from it; both stay hidden until the samples span a second. Formatting only: the
 * caller decides where and when to write, and the width (0: no limit). The counts shown are
 * struct stats (stats.h); --json lines are json.h's, the --stats summary stats.h's.
 */
#ifndef PCOPY_PROGRESS_H
#define PCOPY_PROGRESS_H

#include <stddef.h>

#include "report/stats.h"

/* Seconds between two progress hooks (run, --tar, --extract, pbatch): at most 10 a second. */
#define PROGRESS_TICK 0.1

/* Seconds of recent history the rate of pcopy's line is measured over. */
#define PROGRESS_WINDOW 5.0

/* Samples a struct progress_rate keeps (spread over its window). */
#define PROGRESS_SAMPLES 64

/* A count's recent history: the rate over the last SPAN seconds. */
struct progress_rate {
	double span;                /* seconds of history kept */
	double t[PROGRESS_SAMPLES]; /* ring of (seconds, count) samples, oldest at FIRST */
	double v[PROGRESS_SAMPLES];
	size_t first, n;
	double last_t, last_v; /* the newest sample (not always in the ring) */
	double start_t;        /* the first sample ever; -1 before any */
};

/* Empty R, to measure over SPAN seconds. */
void progress_rate_init(struct progress_rate *r, double span);

/* Add the sample VALUE at SECONDS (seconds do not go back). */
void progress_rate_add(struct progress_rate *r, double seconds, double value);

/* The count's change a second over the window, or -1 while the samples span less than a
 * second. */
double progress_rate_get(const struct progress_rate *r);

/* What pcopy's line keeps between two draws: the recent history of the counts. */
struct progress {
	struct progress_rate bytes; /* bytes_done */
	struct progress_rate files; /* done (entries) */
};

/* Start P for a new run. */
void progress_init(struct progress *p);

/* Take ST's counts into P's history (on every tick). */
void progress_update(struct progress *p, const struct stats *st);

/* The current rate in bytes a second, or -1 while unknown. */
double progress_rate(const struct progress *p);

/* Seconds left at the current rate for what has been found so far (the walk may find more),
 * or -1 while unknown. */
double progress_eta(const struct progress *p, const struct stats *st);

/*
 * Format the progress line into BUF (LEN bytes, NUL-terminated, no newline), at most WIDTH
 * columns (0: no limit): percentage of bytes, bytes done / total (IEC units), entries
 * done/total, the current rate and the ETA, in that order; "+" after a total while the walk
 * still finds entries (the percentage is of what has been found, and may go back as the walk
 * finds more: a true ratio next to the totals it is of). Short of width, the entries go first, then
 * the bytes, the rate and the ETA. Returns the length.
 */
size_t progress_line(char *buf, size_t len, const struct progress *p, const struct stats *st,
                     size_t width);

/*
 * Format the line that ends a run into BUF: "done: N files, B in T (R/s), K failed" (with
 * up to date, deleted and different counts when there are any; the rate is the run's
 * average). With WIDTH (not 0), a newline instead of the space after a comma keeps each
 * line within WIDTH columns. Returns the length.
 */
size_t progress_summary(char *buf, size_t len, const struct stats *st, size_t width);

/*
 * --verify-manifest's line at the end: "done: N names, B in T (R/s), K verified" and the
 * other counts of C that are not 0 (changed, missing, not regular, unreadable, unlisted),
 * within WIDTH columns as progress_summary(). Returns the length.
 */
size_t progress_verify_summary(char *buf, size_t len, const struct verify_counts *c, double seconds,
                               size_t width);

/*
 * pbatch's line: percentage, jobs done/total, running, failed, jobs a second (over P's
 * window, or the whole run's average when no job ended in it) and the ETA, at most WIDTH
 * columns; short of width, running goes first, then failed, the rate and the ETA. JOBS is
 * fed the jobs done at SECONDS. Returns the length.
 */
size_t progress_batch_line(char *buf, size_t len, struct progress_rate *jobs, size_t done,
                           size_t total, size_t running, size_t failed, double seconds,
                           size_t width);

/*
 * pbatch's line at the end: "done: N jobs in T (R jobs/s), K failed" (with the jobs --resume
 * skipped when there are any), within WIDTH columns as progress_summary(). Returns the length.
 */
size_t progress_batch_summary(char *buf, size_t len, size_t finished, size_t skipped, size_t failed,
                              double seconds, size_t width);

/* Format BYTES as "12.3 MB" style text (decimal units, as --stats' throughput). */
void progress_bytes(char *buf, size_t len, double bytes);

/* Format BYTES as "12.3 MiB" style text (IEC units, as the progress line). */
void progress_iec(char *buf, size_t len, double bytes);

/* Format SECONDS as "M:SS" or "H:MM:SS" ("-:--" when negative or over 99 hours). */
void progress_time(char *buf, size_t len, double seconds);

#endif
