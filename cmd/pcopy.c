/*
 * pcopy: verified parallel copy and backup.
 *
 * This file turns the command line into a struct run_opts, hands the work to lib/run/run.c and
 * renders what comes back: the progress line, -v lines, --json events, error messages, the
 * --stats summary and the exit status. It is the only part of pcopy that prints.
 *
 * Built with PCOPY_MPI defined, the same file is pcopy-mpi (./configure --with-mpi): rank 0
 * is pcopy with the other ranks' help (lib/mpi/mpiwork.h); the other ranks serve and say nothing.
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/exit.h"
#include "report/json.h"
#include "report/progress.h"
#include "report/stats.h"
#ifdef PCOPY_MPI
#include "mpi/mpiwork.h"
#endif
#include "run/run.h"
#include "tar/tarout.h"
#include "tar/untar.h"

/* Everything the command keeps about the run it renders. */
struct ui {
	int quiet, verbose, json, stats, progress, dry_run;
	int line_shown; /* a progress line is on the screen */
	FILE *out;      /* -v, dry-run and --check lines: stdout, or stderr when the manifest is */
	int out_shared; /* OUT shows on the progress line's terminal (stderr, or a tty stdout) */
	double last_draw;
	double pct_shown;  /* the progress line's percentage never goes back */
	struct stats last; /* the counts drawn last, to draw them again after an OUT line */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* SIGINT, SIGTERM and SIGHUP set INTERRUPTED: the run stops, cleans up and says so. */
static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Remove the progress line before printing something else to stderr. */
static void clear_line(struct ui *ui)
{
	if (ui->line_shown) {
		fputs("\r\033[K", stderr);
		ui->line_shown = 0;
	}
}

static void draw(struct ui *ui, const struct stats *st);

/*
 * Print a line on UI->out. On the terminal that shows the progress line, the line is cleared
 * first and drawn again after, so the text never runs on from the progress text.
 */
static void out_line(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(struct ui *ui, const char *fmt, ...)
{
	int redraw = ui->line_shown && ui->out_shared;
	if (redraw)
		clear_line(ui);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(ui->out, fmt, ap);
	va_end(ap);
	if (redraw) {
		fflush(ui->out);
		draw(ui, &ui->last);
	}
}

static const char *event_name(enum run_event_type t)
{
	switch (t) {
	case RUN_EV_COPIED: return "copied";
	case RUN_EV_SKIPPED: return "skipped";
	case RUN_EV_UPDATED: return "updated";
	case RUN_EV_DELETED: return "deleted";
	case RUN_EV_FAILED: return "failed";
	case RUN_EV_WARNING: return "warning";
	case RUN_EV_DIFFERENT: return "different";
	}
	return "event";
}

static void on_event(void *ctx, const struct run_event *ev)
{
	struct ui *ui = ctx;
	if (ev->type == RUN_EV_FAILED || ev->type == RUN_EV_WARNING) {
		clear_line(ui);
		if (ev->err != 0)
			fprintf(stderr, "pcopy: %s: %s: %s\n", ev->where, ev->reason,
			        strerror(ev->err));
		else
			fprintf(stderr, "pcopy: %s: %s\n", ev->where, ev->reason);
	}
	if (ui->json) {
		int diff = ev->type == RUN_EV_DIFFERENT;
		json_event(stdout, event_name(ev->type), ev->path, ev->bytes, ev->hash,
		           diff ? ev->reason : NULL, diff ? NULL : ev->reason, ev->err);
		return;
	}
	if (ev->type == RUN_EV_DIFFERENT) {
		out_line(ui, "%s %s\n", ev->reason, ev->path);
		return;
	}
	if (!(ui->verbose || ui->dry_run))
		return;
	if (ev->type == RUN_EV_COPIED)
		out_line(ui, "%s\n", ev->path);
	else if (ev->type == RUN_EV_DELETED)
		out_line(ui, "deleting %s\n", ev->path);
	else if (ev->type == RUN_EV_UPDATED && ui->verbose)
		out_line(ui, "%s (attributes)\n", ev->path);
}

static void draw(struct ui *ui, const struct stats *st)
{
	if (st != &ui->last)
		ui->last = *st;
	char line[256];
	progress_line(line, sizeof(line), st, &ui->pct_shown);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	ui->line_shown = 1;
}

static void on_tick(void *ctx, const struct stats *st)
{
	struct ui *ui = ctx;
	if (ui->progress && st->seconds - ui->last_draw >= 0.1) {
		ui->last_draw = st->seconds;
		draw(ui, st);
	}
}

/* What the --tar hooks need: the display and the last counts (for the summary). */
struct tar_ui {
	struct ui *ui;
	struct stats *last;
	const char *event; /* --json event name per member: "archived" or "extracted" */
};

static void on_member(void *ctx, const char *path, uint64_t bytes, const struct hash128 *hash)
{
	struct tar_ui *tu = ctx;
	struct ui *ui = tu->ui;
	if (ui->json)
		json_event(stdout, tu->event, path, bytes, hash, NULL, NULL, 0);
	else if (ui->verbose)
		out_line(ui, "%s\n", path);
}

static void on_tar_failed(void *ctx, const char *path, const char *reason, int err)
{
	struct ui *ui = ((struct tar_ui *)ctx)->ui;
	clear_line(ui);
	if (err != 0)
		fprintf(stderr, "pcopy: %s: %s: %s\n", path, reason, strerror(err));
	else
		fprintf(stderr, "pcopy: %s: %s\n", path, reason);
	if (ui->json) /* the reason alone: --tar's events never had ERR's text */
		json_event(stdout, "failed", path, 0, NULL, NULL, reason, 0);
}

static void on_tar_note(void *ctx, const char *path, const char *text)
{
	clear_line(((struct tar_ui *)ctx)->ui);
	fprintf(stderr, "pcopy: %s: %s\n", path, text);
}

static void on_tar_tick(void *ctx, const struct stats *st)
{
	struct tar_ui *tu = ctx;
	*tu->last = *st;
	on_tick(tu->ui, st);
}

/* The progress line's last state and a newline after it, once the run is over. */
static void end_line(struct ui *ui, const struct stats *st)
{
	if (ui->progress) {
		draw(ui, st);
		fputs("\n", stderr);
		ui->line_shown = 0;
	}
}

static int tar_end(struct ui *ui, const struct stats *last, int status, const char *err,
                   const char *interrupted_note, int stdout_taken);

/* pcopy --tar ARCHIVE SOURCE...: write an archive instead of a directory. */
static int tar_main(struct tarout_opts *tar, struct ui *ui, const struct run_opts *opts,
                    char **sources, size_t n)
{
	if (strcmp(tar->archive, "-") == 0 && isatty(STDOUT_FILENO)) {
		/* As GNU tar: binary on a terminal helps nobody and can upset it. */
		fprintf(stderr, "pcopy: refusing to write archive contents to a terminal\n");
		return PCOPY_EXIT_FATAL;
	}
	tar->manifest = opts->manifest;
	tar->jobs = opts->jobs;
	tar->excludes = opts->excludes;
	tar->nexcludes = opts->nexcludes;
	tar->one_fs = opts->one_fs;
	tar->fsync = opts->copy.fsync;
	tar->interrupted = &interrupted;
	tar->test_slow_ms = getenv("PCOPY_TEST_SLOW_MS") ? atol(getenv("PCOPY_TEST_SLOW_MS")) : 0;
	struct stats last;
	memset(&last, 0, sizeof(last));
	struct tar_ui tu = {ui, &last, "archived"};
	struct tarout_hooks hooks = {on_member, on_tar_failed, on_tar_note, on_tar_tick, &tu};
	char err[1024] = "";
	int status = tarout_write(tar, sources, n, &hooks, err, sizeof(err));
	return tar_end(ui, &last, status, err, "no archive was written",
	               (opts->manifest != NULL && strcmp(opts->manifest, "-") == 0) ||
	                   strcmp(tar->archive, "-") == 0);
}

/* A member of an --extract archive failed: "pcopy: ARCHIVE: MEMBER: reason[: error]". */
static void on_extract_failed(void *ctx, const char *archive, const char *path, const char *reason,
                              int err)
{
	struct ui *ui = ((struct tar_ui *)ctx)->ui;
	clear_line(ui);
	fputs("pcopy: ", stderr);
	if (archive != NULL)
		fprintf(stderr, "%s: ", archive);
	if (path != NULL)
		fprintf(stderr, "%s: ", path);
	if (err != 0)
		fprintf(stderr, "%s: %s\n", reason, strerror(err));
	else
		fprintf(stderr, "%s\n", reason);
	if (ui->json)
		json_event(stdout, "failed", path != NULL ? path : archive, 0, NULL, NULL, reason,
		           err);
}

/* pcopy --extract ARCHIVE... DEST: extract archives, verifying against a manifest if given. */
static int extract_main(struct cli *cli, struct ui *ui)
{
	struct untar_opts o = {cli->operands[cli->noperands - 1], cli->verify_manifest,
	                       geteuid() == 0, 0, &interrupted};
	struct stats last;
	memset(&last, 0, sizeof(last));
	struct tar_ui tu = {ui, &last, "extracted"};
	struct untar_hooks hooks = {on_member, on_extract_failed, on_tar_tick, &tu};
	char err[1024] = "";
	int status = untar_extract(&o, cli->operands, cli->noperands - 1, &hooks, err, sizeof(err));
	return tar_end(ui, &last, status, err,
	               "files already in place stay; run the same command again to finish", 0);
}

/* The end of --tar and --extract: messages, --stats, the --json summary. */
static int tar_end(struct ui *ui, const struct stats *last, int status, const char *err,
                   const char *interrupted_note, int stdout_taken)
{
	end_line(ui, last);
	if (status == PCOPY_EXIT_FATAL)
		fprintf(stderr, "pcopy: %s\n", err[0] ? err : "fatal error");
	if (status >= PCOPY_EXIT_SIGNALLED)
		fprintf(stderr, "pcopy: interrupted; %s\n", interrupted_note);
	if (ui->stats)
		stats_write(ui->json || stdout_taken ? stderr : stdout, last);
	if (ui->json)
		json_summary(stdout, last, status);
	return status;
}

/* Run what CLI asks for; returns the exit status. */
static int pcopy_main(struct cli *cli)
{
	struct run_opts *opts = &cli->opts;
	struct ui ui;
	memset(&ui, 0, sizeof(ui));
	ui.quiet = cli->quiet;
	ui.verbose = cli->verbose;
	ui.json = cli->json;
	ui.stats = cli->stats;
	int manifest_stdout = opts->manifest != NULL && strcmp(opts->manifest, "-") == 0;
	int tar_stdout = cli->tar.archive != NULL && strcmp(cli->tar.archive, "-") == 0;
	ui.out = manifest_stdout || tar_stdout ? stderr : stdout;
	ui.out_shared = ui.out == stderr || isatty(STDOUT_FILENO);
	ui.dry_run = opts->copy.dry_run;
	ui.progress = !ui.quiet && (cli->force_progress || isatty(STDERR_FILENO));
	opts->copy.need_hash = opts->manifest != NULL || ui.json;
	opts->copy.keep_owner = geteuid() == 0;
	/* Test hook: copy workers, here and on MPI ranks, sleep before each task. */
	const char *slow = getenv("PCOPY_TEST_SLOW_MS");
	opts->copy.test_slow_ms = slow != NULL ? atol(slow) : 0;
	const char *split_min = getenv("PCOPY_TEST_SPLIT_MIN"); /* test hook */
	opts->test_split_min = split_min != NULL ? strtoull(split_min, NULL, 10) : 0;

	catch_signals();

#ifdef PCOPY_MPI
	if (cli->extract || cli->tar.archive != NULL) {
		mpiwork_refuse();
		fprintf(stderr, "pcopy: --tar and --extract are not supported by pcopy-mpi; use "
		                "pcopy\n");
		return PCOPY_EXIT_FATAL;
	}
#endif
	if (cli->extract)
		return extract_main(cli, &ui);
	if (cli->tar.archive != NULL)
		return tar_main(&cli->tar, &ui, opts, cli->operands, cli->noperands);

	struct run r;
	struct run_hooks hooks = {on_event, on_tick, &ui, ui.verbose || ui.json || ui.dry_run};
	size_t nargs = cli->noperands;
	const char *dest = nargs >= 2 ? cli->operands[nargs - 1] : NULL;
	size_t nsources = nargs >= 2 ? nargs - 1 : 1;
	if (run_init(&r, opts, &hooks, &interrupted) != 0 ||
	    run_plan(&r, cli->operands, nsources, dest) != 0) {
#ifdef PCOPY_MPI
		mpiwork_refuse();
#endif
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		return PCOPY_EXIT_FATAL;
	}
#ifdef PCOPY_MPI
	struct mpiwork *mw = mpiwork_lead(&r, r.err, sizeof(r.err));
	if (mw == NULL) {
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		return PCOPY_EXIT_FATAL;
	}
#endif
	int status = run_execute(&r);
#ifdef PCOPY_MPI
	/* Interrupted: mpirun is tearing every rank down; nobody is left to say goodbye. */
	if (status < PCOPY_EXIT_SIGNALLED)
		mpiwork_end(mw, status == PCOPY_EXIT_FATAL);
	else
		mpiwork_drop(mw);
#endif
	end_line(&ui, &r.stats);
	if (status == PCOPY_EXIT_FATAL)
		fprintf(stderr, "pcopy: %s\n", r.err);
	if (status == PCOPY_EXIT_PARTIAL && r.err[0] != '\0') {
		fprintf(stderr, "pcopy: %s\n", r.err); /* --manifest - could not be written */
		clearerr(stdout);                      /* said once, not again at exit */
	}
	if (status >= PCOPY_EXIT_SIGNALLED)
		fprintf(stderr,
		        "pcopy: interrupted after %llu of %llu entries (copied %llu, skipped %llu, "
		        "failed %llu); run the same command again to finish\n",
		        (unsigned long long)r.stats.done, (unsigned long long)r.stats.files,
		        (unsigned long long)r.stats.copied, (unsigned long long)r.stats.skipped,
		        (unsigned long long)r.stats.failed);
	if (ui.stats)
		stats_write(ui.json || manifest_stdout ? stderr : stdout, &r.stats);
	if (ui.json)
		json_summary(stdout, &r.stats, status);
	run_free(&r);
	return status;
}

#ifdef PCOPY_MPI
/* Ranks 1..: the same command line, parsed the same way, so that every rank takes the same
 * road; only rank 0 says anything. */
static int agent_main(int argc, char **argv)
{
	struct cli cli;
	enum cli_action act = cli_parse(&cli, argc, argv, 1);
	int status = act == CLI_USAGE ? PCOPY_EXIT_FATAL : PCOPY_EXIT_OK;
	if (act == CLI_RUN && (cli.extract || cli.tar.archive != NULL)) {
		mpiwork_serve(&interrupted); /* rank 0 refuses; this returns at once */
		status = PCOPY_EXIT_FATAL;
	} else if (act == CLI_RUN) {
		catch_signals();
		status = mpiwork_serve(&interrupted);
	}
	cli_free(&cli);
	return status;
}
#endif

/*
 * Flush and close stdout at exit, as GNU coreutils' close_stdout does: a write error there
 * (a full disk, --json into /dev/full) is said on stderr. Returns 0, or -1 after the message.
 */
static int stdout_close(void)
{
	int err = 0;
	if (fflush(stdout) != 0)
		err = errno;
	if (ferror(stdout) && err == 0)
		err = EIO; /* an earlier write failed; its errno is gone */
	if (fclose(stdout) != 0 && err == 0 && errno != EBADF)
		err = errno;
	if (err == 0)
		return 0;
	fprintf(stderr, "pcopy: write error: %s\n", strerror(err));
	return -1;
}

/*
 * The exit status once STATUS's run has also closed stdout: a write error there is a failure
 * (1, not 2: files may already be in place); a fatal error or a signal keeps its status.
 */
static int with_stdout(int status)
{
	if (stdout_close() != 0 && status == PCOPY_EXIT_OK)
		status = PCOPY_EXIT_PARTIAL;
	return status;
}

/* pcopy's (or rank 0's) command. */
static int command(int argc, char **argv)
{
	struct cli cli;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	switch (cli_parse(&cli, argc, argv, ncpu > 0 ? (int)ncpu : 1)) {
	case CLI_RUN: break;
	case CLI_HELP:
		fputs(cli_usage_text, stdout);
		fputs(cli_help_text, stdout);
		cli_free(&cli);
		return with_stdout(PCOPY_EXIT_OK);
	case CLI_VERSION:
		printf("pcopy %s\n", PACKAGE_VERSION);
		cli_free(&cli);
		return with_stdout(PCOPY_EXIT_OK);
	case CLI_USAGE:
		fprintf(stderr, "pcopy: %s%s\n", cli.why.msg, cli.why.arg);
		fputs(cli_usage_text, stderr);
		fputs("Try 'pcopy --help' for more information.\n", stderr);
		cli_free(&cli);
		return PCOPY_EXIT_FATAL;
	}
#ifdef PCOPY_MPI
	/* -j is per rank; one worker each unless told otherwise (ranks usually fill the CPUs). */
	if (!cli.jobs_set)
		cli.opts.jobs = 1;
#endif
	int status = with_stdout(pcopy_main(&cli));
	cli_free(&cli);
	return status;
}

/*
 * Member names in zip, rar, lha and pax archives are converted by libarchive to the locale's
 * character set, so it must be set (LC_CTYPE only: numbers in --json stay C). In the C or
 * POSIX locale (no LANG, as in most scripts and CI) no non-ASCII name could be converted, and
 * file names are bytes to the kernel anyway: take them as UTF-8 then.
 */
static void set_ctype(void)
{
	setlocale(LC_CTYPE, ""); /* when it fails (an unknown LANG), it stays "C" */
	if (strcmp(nl_langinfo(CODESET), "ANSI_X3.4-1968") == 0)
		setlocale(LC_CTYPE, "C.UTF-8"); /* when that fails too, names stay ASCII only */
}

int main(int argc, char **argv)
{
	set_ctype();
#ifdef PCOPY_MPI
	int rank = 0, nranks = 1;
	if (mpiwork_init(&argc, &argv, &rank, &nranks) != 0) {
		fprintf(stderr, "pcopy: cannot start MPI\n");
		return PCOPY_EXIT_FATAL;
	}
	int status = rank == 0 ? command(argc, argv) : agent_main(argc, argv);
	if (status >= PCOPY_EXIT_SIGNALLED)
		return status; /* the job is being torn down: no goodbyes */
	mpiwork_finalize();
	return status;
#else
	return command(argc, argv);
#endif
}
