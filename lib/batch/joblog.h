/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * joblog: pbatch's record of finished jobs, in GNU parallel's --joblog format.
 *
 * One header line, then one tab-separated line per job: Seq, Host, Starttime, JobRuntime,
 * Send, Receive, Exitval, Signal, Command. The Command is the rest of the line and may hold
 * tabs itself. `parallel --resume` and `pbatch --resume` read each other's joblogs; both
 * look only at Seq, Exitval and Signal. Nothing here prints, so cmd/pbatch.c words the
 * errors and the fuzz target in tests/fuzz/ can feed it any bytes.
 */
#ifndef PCOPY_JOBLOG_H
#define PCOPY_JOBLOG_H

#include <stddef.h>
#include <stdio.h>

#define JOBLOG_HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

/* One joblog line. */
struct joblog_entry {
	size_t seq;          /* the command's input line number, from 1 (blank lines count) */
	double start;        /* Starttime: epoch seconds (written, not parsed) */
	double runtime;      /* JobRuntime: seconds (written, not parsed) */
	long long receive;   /* Receive: bytes of output (written, not parsed) */
	long exitval;        /* exit status; -1 for a job killed by a timeout or interrupt */
	long signal;         /* the signal that ended the job, 0 if none */
	const char *command; /* the command as read; no newline */
};

/*
 * Parse LINE (one joblog line without its newline; split in place, so E->command points
 * into it) into E. Returns 0, or -1 when the line is malformed: fewer than nine fields, Seq
 * not a number from 1, or Exitval or Signal not a number. Starttime, JobRuntime and Receive
 * are left 0.
 */
int joblog_parse_line(char *line, struct joblog_entry *e);

/* Whether E records a success: Exitval 0 and no signal. */
int joblog_succeeded(const struct joblog_entry *e);

/*
 * Read the joblog F to its end: a header on the first line is skipped, and DONE(CTX, SEQ) is
 * called for each line that records a success. Returns the number of lines read (header
 * included), or -1 when a line is malformed, with *BAD_LINE set to its number.
 */
long joblog_read(FILE *f, void (*done)(void *ctx, size_t seq), void *ctx, size_t *bad_line);

/* Write E to OUT as one joblog line. Returns 0, or -1 when the write failed. */
int joblog_write(FILE *out, const struct joblog_entry *e);

/* The index of SEQ in SEQS (N numbers in ascending order), or N when it is not there. */
size_t joblog_seq_index(const size_t *seqs, size_t n, size_t seq);

#endif
