/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batch: pbatch's engine, a batch of shell commands run on a fixed pool of process slots.
 *
 * Commands are read one per line (blank lines skipped) and each runs as `/bin/sh -c LINE` in
 * its own process group, so that a timeout or an interrupt can kill everything it started.
 * A command's stdout and stderr are two pipes drained into one unlinked spool file, as
 * records that say which stream each piece came from; when it finishes the spool is handed
 * to the output hooks in one piece (with --keep-order, in input order), so outputs never
 * interleave, and a spool that cannot be written (a full TMPDIR) is reported rather than
 * silently cut short. batch_run() sleeps in poll(2) on the pipes and a self-pipe written by
 * the signal handlers, and wakes early only for timeouts and progress ticks.
 *
 * Nothing here prints or exits: everything the user sees goes through struct batch_hooks,
 * and cmd/pbatch.c words the messages and picks the exit status. Process state changed here:
 * batch_setup() installs handlers for SIGCHLD, SIGINT, SIGTERM and SIGHUP (process-wide, for
 * the rest of the process's life) and may raise the soft RLIMIT_NOFILE; children get default
 * signal handling back.
 */
#ifndef PCOPY_BATCH_H
#define PCOPY_BATCH_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct batch_opts {
	int jobs;            /* slots, at least 1 */
	int keep_order;      /* --keep-order: outputs in input order */
	int resume;          /* --resume: skip what the joblog records as done */
	int halt_on_error;   /* --halt-on-error: start nothing after a failure */
	int progress;        /* call hooks.tick at start, about 10 times a second, and at end */
	double timeout;      /* seconds; 0 means none */
	const char *joblog;  /* --joblog FILE, or NULL */
	const char *tmp_dir; /* where spools are made (the caller reads $TMPDIR) */
};

/* A finished command, as handed to hooks.finished. */
struct batch_result {
	size_t seq;          /* its input line number (joblog Seq) */
	const char *command; /* the command line */
	int exitval;         /* exit status; -1 when we killed it (timeout, interrupt) */
	int signal;          /* the signal that ended it, 0 if none */
	double runtime;      /* seconds */
	int spool_err;       /* errno of a failed write to its spool (output lost), 0 if none */
	int timed_out;       /* killed by --timeout */
};

/* Where the run stands, as handed to hooks.tick. */
struct batch_counts {
	size_t ncmds;    /* commands read */
	size_t finished; /* run to their end (or failed to start) */
	size_t skipped;  /* --resume found them done */
	size_t running;  /* in a slot now */
	size_t failed;   /* among the finished */
};

struct batch_hooks {
	void *ctx;
	/* A command's kept output is about to be handed over, chunk by chunk. */
	void (*output_begin)(void *ctx);
	/* N bytes (N > 0) that COMMAND wrote to STREAM (0 stdout, 1 stderr), in written order. */
	void (*output)(void *ctx, const char *command, int stream, const char *data, size_t n);
	/* That command's output is all handed over. */
	void (*output_end)(void *ctx);
	/* A command has finished; called before its output is handed over. */
	void (*finished)(void *ctx, const struct batch_result *r);
	/* A command could not be started: WHAT ("temporary file", "pipe", "cannot start
	 * /bin/sh") failed with ERR. It counts as failed. */
	void (*start_failed)(void *ctx, const char *what, int err);
	/* Progress (opts.progress only); FINAL on the last call, after every output. */
	void (*tick)(void *ctx, const struct batch_counts *c, int final);
};

struct batch_slot;

/* The whole run. Fields after the options are the engine's; callers read the counters. */
struct batch {
	struct batch_opts opts;
	struct batch_hooks hooks;

	char **cmds; /* the non-blank lines */
	size_t *seq; /* each command's input line number: GNU parallel's Seq, which counts
	                blank lines too, so joblogs stay interchangeable */
	size_t ncmds;
	unsigned char *state; /* enum batch_cmd_state per command (batch.c) */
	int *held;            /* spool fd per command while held for --keep-order */

	size_t next;       /* next command to consider starting */
	size_t next_print; /* --keep-order: next command whose output may be handed over */
	size_t running, finished, failed, skipped;
	int halted; /* a job failed under --halt-on-error: start nothing new */

	struct batch_slot *slots; /* opts.jobs entries */
	struct pollfd *pfds;      /* 1 + 2 * jobs: the self-pipe, then the slots' pipes */
	FILE *joblog;
	int devnull; /* children's stdin, so they never eat our command list */
	int wake[2]; /* self-pipe written by the signal handlers */

	int stop_sig;   /* SIGINT/SIGTERM/SIGHUP received: we are killing everything */
	double kill_at; /* when to escalate the interrupt to SIGKILL */
	double last_tick;
};

/* Initialise B with OPTS and HOOKS (copied). Nothing is allocated. */
void batch_init(struct batch *b, const struct batch_opts *opts, const struct batch_hooks *hooks);

/* Read every non-blank line of IN as a command, before any starts. 0, or -1 with errno. */
int batch_read(struct batch *b, FILE *in);

/*
 * Open opts.joblog: truncate it and write the header, or with --resume read it (marking what
 * it records as done) and append. Returns 0; -1 with errno; or -1 with *BAD_LINE set to the
 * number of a malformed line (else *BAD_LINE is 0).
 */
int batch_joblog_open(struct batch *b, size_t *bad_line);

/*
 * Allocate the slots, open /dev/null, raise RLIMIT_NOFILE if -j needs it, make the self-pipe
 * and install the signal handlers. Returns 0, or -1 with errno and *WHAT naming the step
 * ("setup" or "pipe"). A SIGINT/SIGTERM/SIGHUP once seen stops every later run of the process.
 */
int batch_setup(struct batch *b, const char **what);

/* Run every command to its end (or until halted or interrupted), reporting through the
 * hooks. Afterwards B->stop_sig holds the signal that stopped the run, or 0. */
void batch_run(struct batch *b);

/* The counters now. */
struct batch_counts batch_counts(const struct batch *b);

/* Free everything, close the joblog and descriptors. */
void batch_free(struct batch *b);

#endif
