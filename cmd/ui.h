/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ui: what the commands show and how they end, written once for pcopy, pcopy-mpi and pbatch.
 *
 * lib/ reports through hooks and never prints; the hooks here do. All three commands draw
 * their progress line with struct ui_line and close stdout at exit with ui_exit() (ui.c).
 * For pcopy and pcopy-mpi, struct ui renders a run, --tar and --extract (ui_pcopy.c): the
 * progress line, -v and --check lines, messages, --json events (report/json.h), and at the
 * end the --stats summary (report/stats.h) and the --json summary; ui_parse() and
 * ui_options() are the command-line glue both share. Each command's own file keeps its
 * argv, its calls into lib/ and its exit status.
 */
#ifndef PCOPY_UI_H
#define PCOPY_UI_H

#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "report/progress.h"
#include "report/stats.h"
#include "run/run.h"
#include "tar/tarout.h"
#include "tar/untar.h"
#include "verify/verify.h"

/* ---- pcopy, pcopy-mpi and pbatch (ui.c) ------------------------------------------------- */

/*
 * The progress line: the last line of stderr, drawn again in place. On a terminal it is
 * kept within the terminal's width less one column (read with TIOCGWINSZ, again after a
 * SIGWINCH) so that it never wraps, and cleared to the line's end with ESC [ K; elsewhere
 * (--progress into a file or pipe) each draw starts with a carriage return and is padded
 * with spaces over the one before, without escape sequences.
 */
struct ui_line {
	int shown;    /* a progress line is on the screen */
	int tty;      /* stderr is a terminal */
	size_t width; /* columns the line may take; 0: no limit (not a terminal) */
	size_t len;   /* length of the line drawn last */
};

/* Set L up for stderr; on a terminal, SIGWINCH (its handler only sets a flag) makes the
 * next ui_line_width() read the size again. */
void ui_line_init(struct ui_line *l);

/* The columns the progress line may take now (0: no limit). */
size_t ui_line_width(struct ui_line *l);

/* Draw TEXT (no newline) as the progress line, over the one shown. */
void ui_line_draw(struct ui_line *l, const char *text);

/* Remove the progress line before something else goes to stderr. */
void ui_line_clear(struct ui_line *l);

/* Replace the progress line with TEXT (its lines within ui_line_width()) and a newline. */
void ui_line_finish(struct ui_line *l, const char *text);

/*
 * Flush and close stdout at exit, as GNU coreutils' close_stdout does: a write error there (a
 * full disk, --json into /dev/full), or ERR (the errno of one seen earlier, 0 if none), is
 * said on stderr as "PROG: write error: ...". Returns STATUS, or PCOPY_EXIT_PARTIAL instead
 * of PCOPY_EXIT_OK when stdout failed (1, not 2: files may already be in place; a fatal error
 * or a signal keeps its status).
 */
int ui_exit(const char *prog, int status, int err);

/* ---- pcopy and pcopy-mpi (ui_pcopy.c) --------------------------------------------------- */

/* The signal that interrupted the run, 0 while none has: set by ui_catch_signals()'s
 * handler, polled by lib/ (run, --tar, --extract, the MPI agents). */
extern volatile sig_atomic_t ui_interrupted;

/* SIGINT, SIGTERM and SIGHUP set ui_interrupted: the run stops, cleans up and says so. */
void ui_catch_signals(void);

/*
 * Set LC_CTYPE from the environment (libarchive converts member names to it), or to C.UTF-8
 * when that is the C or POSIX locale; numbers in --json stay C.
 */
void ui_set_ctype(void);

/*
 * Parse pcopy's command line into CLI (-j defaults to the CPUs online). Returns 1 when there
 * is something to run (free CLI with cli_free()); else --help, --version or the usage error
 * has been answered, CLI freed, and it returns 0 with *STATUS the exit status. PROG names
 * the command in --version's first line ("PROG VERSION"); MPI, when not NULL, is the MPI
 * library it was built with, for --version.
 */
int ui_parse(struct cli *cli, int argc, char **argv, int *status, const char *prog,
             const char *mpi);

/*
 * Fill in the options the command line leaves to the command: hashes when something shows
 * them (--manifest, --json), owners kept when run by root, and the test hooks
 * PCOPY_TEST_SLOW_MS and PCOPY_TEST_SPLIT_MIN from the environment.
 */
void ui_options(struct cli *cli);

/* What pcopy keeps about the run it renders. */
struct ui {
	int verbose, json, stats, dry_run;
	int progress;          /* draw the progress line (a terminal, or --progress; not -q) */
	struct ui_line line;   /* on stderr */
	FILE *out;             /* -v, dry-run and --check lines: stdout, or stderr when the
	                          manifest or the archive goes to stdout */
	int out_shared;        /* OUT shows on the progress line's terminal (stderr, or a tty) */
	int stdout_taken;      /* the manifest or the archive goes to stdout: --stats to stderr */
	int json_progress;     /* --json-progress: a "progress" event every second */
	double last_draw;      /* the run's seconds when the progress line was drawn last */
	double last_json;      /* ... and when the last "progress" event was written */
	struct progress meter; /* the rate's recent history */
	struct stats last;     /* the counts drawn last, to draw them again after an OUT line */
	struct stats final;    /* --tar, --extract: the counts of the last tick, for the summary */
	const char *member;    /* --tar, --extract: the --json event for a member */
	int itemize;           /* -i: rsync's itemized lines on OUT */
	FILE *log;             /* --log-file: the same lines with a timestamp, or NULL */
	const char *log_name;
};

/* Set UI up to render the run CLI asks for. */
void ui_init(struct ui *ui, const struct cli *cli);

/* --log-file: open CLI's log file for appending into UI. Returns 0, or -1 when it cannot
 * be opened (said on stderr: "pcopy: FILE: reason"). */
int ui_open_log(struct ui *ui, const struct cli *cli);

/*
 * run_init() and run_plan() R for CLI's operands (SOURCE... DEST, or one SOURCE:
 * SOURCE-backup) with hooks that render into UI. Returns 0, or -1 with R->err set (free R
 * with run_free() either way).
 */
int ui_run_start(struct run *r, struct ui *ui, const struct cli *cli);

/*
 * The end of R's run, which returned STATUS: the progress line's last state, the messages
 * (fatal error, lost manifest, interrupted), --stats and the --json summary. Returns STATUS.
 */
int ui_run_end(struct ui *ui, const struct run *r, int status);

/* The hooks that render --tar into UI (the --json event per member is "archived"). */
struct tarout_hooks ui_tar_hooks(struct ui *ui);

/* The hooks that render --extract into UI (the --json event per member is "extracted"). */
struct untar_hooks ui_untar_hooks(struct ui *ui);

/*
 * The end of --tar or --extract, which returned STATUS with ERR its fatal message: the
 * progress line's last state, messages (INTERRUPTED_NOTE says what an interruption leaves),
 * --stats and the --json summary. Returns STATUS.
 */
int ui_tar_end(struct ui *ui, int status, const char *err, const char *interrupted_note);

/* The hooks that render --verify-manifest FILE DIR into UI: a line per problem ("NAME:
 * FAILED", "NAME: missing" ...; with -v "NAME: OK" too), or --json events. */
struct verify_hooks ui_verify_hooks(struct ui *ui);

/*
 * The end of --verify-manifest FILE DIR, which returned STATUS with ERR its fatal message:
 * the progress line's last state (ST), messages, --stats and the --json summary of C.
 * Returns STATUS.
 */
int ui_verify_end(struct ui *ui, int status, const char *err, const struct verify_counts *c,
                  const struct stats *st);

#endif
