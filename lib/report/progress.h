/*
 * progress: the text pcopy shows about a run: the redrawn progress line, --json events,
 * and the --stats summary. Formatting only: the caller decides where and when to write.
 */
#ifndef PCOPY_PROGRESS_H
#define PCOPY_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Seconds between two progress hooks (run, --tar, --extract, pbatch): at most 10 a second. */
#define PROGRESS_TICK 0.1

/* Counters of a run, kept by the parent (run.c) and read by the caller. */
struct stats {
	uint64_t files;        /* non-directory entries found so far */
	uint64_t dirs;         /* directories found so far */
	uint64_t done;         /* entries finished (any outcome) */
	uint64_t copied;       /* entries written (or that would be, in a dry run) */
	uint64_t skipped;      /* entries already up to date (incl. metadata-only fixes) */
	uint64_t failed;       /* entries that could not be copied */
	uint64_t deleted;      /* entries removed from the destination (--delete) */
	uint64_t warnings;     /* entries skipped by design (sockets, ...) */
	uint64_t different;    /* --check: entries that differ */
	uint64_t bytes_total;  /* bytes of regular files found so far */
	uint64_t bytes_done;   /* bytes of regular files finished (copied or skipped) */
	uint64_t bytes_copied; /* bytes actually written */
	double seconds;        /* wall time since the run started */
	int scanning;          /* 1 while the walk is still finding entries */
};

/*
 * Format the one-line progress display into BUF (LEN bytes, NUL-terminated, no newline):
 * percentage of bytes, entries done/total, throughput and ETA. Returns the length. SHOWN,
 * when not NULL, is the percentage shown last (updated): while the walk still finds bytes
 * the ratio can dip, and the line holds the highest value shown instead of going back.
 */
size_t progress_line(char *buf, size_t len, const struct stats *st, double *shown);

/* Format BYTES as "12.3 MB" style text (decimal units, like the throughput). */
void progress_bytes(char *buf, size_t len, double bytes);

/* Write S as a JSON string (quotes included); bytes that are not valid UTF-8 become \u00XX. */
void progress_json_string(FILE *out, const char *s);

/*
 * Write one --json event line:
 * {"event":EVENT,"path":PATH,"bytes":N[,"hash":H][,"what":W][,"error":E]}.
 * HASH, WHAT (the kind of difference, for --check) and ERROR may be NULL.
 */
void progress_json_event(FILE *out, const char *event, const char *path, uint64_t bytes,
                         const char *hash, const char *what, const char *error);

/* Write the final --json summary object line. */
void progress_json_summary(FILE *out, const struct stats *st, int exit_status);

/* Write the --stats summary ("copied: 7" ... one per line). */
void progress_stats(FILE *out, const struct stats *st);

#endif
