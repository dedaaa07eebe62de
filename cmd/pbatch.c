/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pbatch: run a batch of shell commands on a fixed pool of process slots.
 *
 * The engine is lib/batch/batch.h (slots, spools, timeouts, the joblog); this file parses
 * the command line (lib/cli/batchcli.h), renders what the engine reports through its hooks
 * (commands' kept output, --tag, --json events, the progress line, messages) and picks the
 * exit status. The progress line and stdout's closing are cmd/ui.c's, shared with pcopy.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/batchcli.h"
#include "common/clock.h"
#include "common/exit.h"
#include "report/json.h"
#include "report/progress.h"
#include "ui.h"

/* Seconds of recent history the jobs' rate is measured over: jobs come in steps, so a
 * longer window than pcopy's bytes. */
#define PBATCH_WINDOW 30.0

/* What the hooks need: the options that shape rendering and the screen's state. */
struct pbatch_ui {
	int tag, json, progress;
	const char *tmp_dir;       /* named in the message for a spool that cannot be written */
	FILE *out;                 /* where command output goes: stdout, or stderr with --json */
	int at_start[2];           /* the last piece of each stream ended a line (--tag) */
	struct ui_line line;       /* the progress line, on stderr */
	struct progress_rate jobs; /* jobs done lately, for the rate and the ETA */
	double start;              /* clock_now() when the batch started */
	int out_err;               /* errno of the first failed write to our stdout, 0 if none */
};

static void fatal(const char *what, const char *why)
{
	fprintf(stderr, "pbatch: %s: %s\n", what, why);
	exit(PCOPY_EXIT_FATAL);
}

/* Our stdout's first write error, kept for the exit status (GNU close_stdout's rule). */
static void out_check(struct pbatch_ui *u)
{
	if (fflush(stdout) != 0 && u->out_err == 0)
		u->out_err = errno;
	if (ferror(stdout) && u->out_err == 0)
		u->out_err = EIO;
}

/* The progress line; at the FINAL tick main() puts the summary line in its place. */
static void on_tick(void *ctx, const struct batch_counts *c, int final)
{
	struct pbatch_ui *u = ctx;
	if (final)
		return;
	char text[256];
	progress_batch_line(text, sizeof(text), &u->jobs, c->finished + c->skipped, c->ncmds,
	                    c->running, c->failed, clock_now() - u->start, ui_line_width(&u->line));
	ui_line_draw(&u->line, text);
}

static void on_output_begin(void *ctx)
{
	struct pbatch_ui *u = ctx;
	if (u->progress)
		ui_line_clear(&u->line);
	u->at_start[0] = u->at_start[1] = 1;
}

/* A piece of a command's output to our stream of the same kind; with --tag, the command and
 * a tab start every line. */
static void on_output(void *ctx, const char *command, int stream, const char *data, size_t n)
{
	struct pbatch_ui *u = ctx;
	FILE *to[2] = {u->out, stderr};
	FILE *f = to[stream];
	if (to[stream] != to[!stream])
		fflush(to[!stream]); /* a terminal showing both gets them in the order written */
	int *at_start = &u->at_start[stream];
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - data) + 1 : n;
		if (u->tag && *at_start)
			fprintf(f, "%s\t", command);
		fwrite(data, 1, len, f);
		*at_start = nl != NULL;
		data += len;
		n -= len;
	}
}

static void on_output_end(void *ctx)
{
	struct pbatch_ui *u = ctx;
	fflush(stderr);
	out_check(u);
}

/* A finished command: say when its output was lost, and the --json event. */
static void on_finished(void *ctx, const struct batch_result *r)
{
	struct pbatch_ui *u = ctx;
	if (r->spool_err != 0) {
		ui_line_clear(&u->line);
		fprintf(stderr, "pbatch: %s: cannot keep the output of '%s': %s\n", u->tmp_dir,
		        r->command, strerror(r->spool_err));
	}
	if (r->timed_out) {
		ui_line_clear(&u->line);
		fprintf(stderr, "pbatch: '%s': killed: it ran longer than --timeout\n", r->command);
	}
	if (u->json) {
		ui_line_clear(&u->line);
		json_job(stdout, r->seq, r->command, r->exitval, r->signal, r->runtime);
		out_check(u);
	}
}

static void on_start_failed(void *ctx, const char *what, int err)
{
	(void)ctx;
	fprintf(stderr, "pbatch: %s: %s\n", what, strerror(err));
}

/* Where spools are made: $TMPDIR, or /tmp when it is unset or empty. */
static const char *spool_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

int main(int argc, char **argv)
{
	struct batchcli cli;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	switch (batchcli_parse(&cli, argc, argv, ncpu > CLI_MAX_JOBS ? CLI_MAX_JOBS : (int)ncpu)) {
	case CLI_RUN: break;
	case CLI_HELP:
		fputs(batchcli_usage_text, stdout);
		fputs(batchcli_help_text, stdout);
		return ui_exit("pbatch", PCOPY_EXIT_OK, 0);
	case CLI_VERSION:
		printf("pbatch %s\n", PACKAGE_VERSION);
		return ui_exit("pbatch", PCOPY_EXIT_OK, 0);
	case CLI_USAGE:
		fprintf(stderr, "pbatch: %s%s\n", cli.why.msg, cli.why.arg);
		fputs(batchcli_usage_text, stderr);
		fputs("Try 'pbatch --help' for more information.\n", stderr);
		return PCOPY_EXIT_FATAL;
	}
	struct pbatch_ui u = {.tag = cli.tag,
	                      .json = cli.json,
	                      .progress =
	                          !cli.quiet && (cli.force_progress || isatty(STDERR_FILENO)),
	                      .tmp_dir = spool_dir(),
	                      .out = cli.json ? stderr : stdout};
	struct batch_opts opts = {.jobs = cli.jobs,
	                          .keep_order = cli.keep_order,
	                          .resume = cli.resume,
	                          .halt_on_error = cli.halt_on_error,
	                          .progress = u.progress,
	                          .timeout = cli.timeout,
	                          .joblog = cli.joblog,
	                          .tmp_dir = u.tmp_dir};
	struct batch_hooks hooks = {.ctx = &u,
	                            .output_begin = on_output_begin,
	                            .output = on_output,
	                            .output_end = on_output_end,
	                            .finished = on_finished,
	                            .start_failed = on_start_failed,
	                            .tick = on_tick};
	progress_rate_init(&u.jobs, PBATCH_WINDOW);
	if (u.progress)
		ui_line_init(&u.line);
	struct batch b;
	batch_init(&b, &opts, &hooks);
	const char *file = cli.file;

	FILE *in = file ? fopen(file, "r") : stdin;
	if (in == NULL)
		fatal(file, strerror(errno));
	if (batch_read(&b, in) != 0)
		fatal(file ? file : "standard input", strerror(errno));
	if (in != stdin)
		fclose(in);
	size_t bad_line;
	if (cli.joblog != NULL && batch_joblog_open(&b, &bad_line) != 0) {
		if (bad_line == 0)
			fatal(cli.joblog, strerror(errno));
		fprintf(stderr, "pbatch: %s:%zu: malformed joblog line\n", cli.joblog, bad_line);
		exit(PCOPY_EXIT_FATAL);
	}
	const char *what;
	if (batch_setup(&b, &what) != 0)
		fatal(what, strerror(errno));

	u.start = clock_now();
	batch_run(&b);
	if (u.progress && b.stop_sig == 0) {
		char text[256];
		progress_batch_summary(text, sizeof(text), b.finished, b.skipped, b.failed,
		                       clock_now() - u.start, ui_line_width(&u.line));
		ui_line_finish(&u.line, text);
	} else if (u.progress) {
		ui_line_clear(&u.line);
	}

	if (u.json)
		json_batch_summary(stdout, b.finished, b.failed, b.ncmds - b.finished);
	int status = b.stop_sig ? PCOPY_EXIT_SIGNALLED + b.stop_sig
	             : b.failed > 0 || b.finished + b.skipped < b.ncmds ? PCOPY_EXIT_PARTIAL
	                                                                : PCOPY_EXIT_OK;
	out_check(&u);
	status = ui_exit("pbatch", status, u.out_err);
	batch_free(&b);
	return status;
}
