/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ui_pcopy: pcopy's and pcopy-mpi's setting up and rendering of a run, --tar and --extract
 * (see ui.h).
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <xxhash.h>

#include "common/exit.h"
#include "common/hash.h"
#include "report/itemize.h"
#include "report/json.h"
#include "report/manifest.h"
#include "report/progress.h"
#include "report/stats.h"
#include "ui.h"

/* ---- setting up ------------------------------------------------------------------------- */

volatile sig_atomic_t ui_interrupted;

static void on_signal(int sig)
{
	ui_interrupted = sig;
}

void ui_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * Member names in zip, rar, lha and pax archives are converted by libarchive to the locale's
 * character set, so it must be set (LC_CTYPE only: numbers in --json stay C). In the C or
 * POSIX locale (no LANG, as in most scripts and CI) no non-ASCII name could be converted, and
 * file names are bytes to the kernel anyway: take them as UTF-8 then.
 */
void ui_set_ctype(void)
{
	setlocale(LC_CTYPE, ""); /* when it fails (an unknown LANG), it stays "C" */
	if (strcmp(nl_langinfo(CODESET), "ANSI_X3.4-1968") == 0)
		setlocale(LC_CTYPE, "C.UTF-8"); /* when that fails too, names stay ASCII only */
}

/* Whether LINE (of the help or usage text) is about an option pcopy-mpi refuses. */
static int refused_by_mpi(const char *line, size_t len)
{
	for (const char *const *o = cli_mpi_refused_options; *o != NULL; o++) {
		size_t n = strlen(*o);
		for (const char *p = line; p + n <= line + len; p++)
			if (memcmp(p, *o, n) == 0 && (p[n] == ' ' || p[n] == '\n'))
				return 1;
	}
	return 0;
}

/* The usage lines as PROG's ("pcopy" in them is PROG), to OUT; for MPI without those of
 * the modes it refuses. Returns 0, or -1 with errno. */
static int print_usage(FILE *out, const char *prog, int mpi)
{
	for (const char *p = cli_usage_text; *p != '\0';) {
		size_t len = strcspn(p, "\n") + 1;
		const char *name = strstr(p, "pcopy ");
		if (!(mpi && refused_by_mpi(p, len)) &&
		    fprintf(out, "%.*s%s%.*s", (int)(name - p), p, prog,
		            (int)(len - (size_t)(name - p) - 5), name + 5) < 0)
			return -1;
		p += len;
	}
	return 0;
}

/*
 * Print the usage and help text as PROG's: "pcopy" in the usage lines is PROG, and for MPI
 * the options it refuses (an option's line with those continuing it) are left out. Returns 0
 * or an errno value.
 */
static int print_help(const char *prog, int mpi)
{
	if (print_usage(stdout, prog, mpi) != 0)
		return errno;
	int skipping = 0;
	for (const char *p = cli_help_text; *p != '\0';) {
		size_t len = strcspn(p, "\n") + 1;
		/* An option's first line starts "  -"; its continuation lines, with 25 spaces. */
		if (strncmp(p, "  -", 3) == 0 || strncmp(p, "      --", 8) == 0)
			skipping = mpi && refused_by_mpi(p, strcspn(p + 6, " \n") + 6);
		else if (strspn(p, " ") < 25)
			skipping = 0;
		if (!skipping && fwrite(p, 1, len, stdout) != len)
			return errno;
		p += len;
	}
	return 0;
}

/* --version: PROG's version, then what it was built with, one line each. */
static void print_version(const char *prog, const char *mpi)
{
	unsigned x = XXH_versionNumber();
	printf("%s %s\n", prog, PACKAGE_VERSION);
	printf("libarchive: %s\n", archive_version_details());
	printf("xxHash: %u.%u.%u (XXH3-128: %s)\n", x / 10000, x / 100 % 100, x % 100,
	       hash_code_path());
	printf("MPI: %s\n", mpi != NULL ? mpi : "none (pcopy-mpi is the MPI build)");
}

int ui_parse(struct cli *cli, int argc, char **argv, int *status, const char *prog, const char *mpi)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	switch (cli_parse(cli, argc, argv, ncpu > 0 ? (int)ncpu : 1)) {
	case CLI_RUN: return 1;
	case CLI_HELP: {
		/* The help is longer than stdio's buffer: a write may fail before ui_exit. */
		int err = print_help(prog, mpi != NULL);
		*status = ui_exit(prog, PCOPY_EXIT_OK, err);
		break;
	}
	case CLI_VERSION:
		print_version(prog, mpi);
		*status = ui_exit(prog, PCOPY_EXIT_OK, 0);
		break;
	case CLI_USAGE:
		fprintf(stderr, "pcopy: %s%s\n", cli->why.msg, cli->why.arg);
		print_usage(stderr, prog, mpi != NULL);
		fprintf(stderr, "Try '%s --help' for more information.\n", prog);
		*status = PCOPY_EXIT_FATAL;
		break;
	}
	cli_free(cli);
	return 0;
}

void ui_options(struct cli *cli)
{
	struct run_opts *opts = &cli->opts;
	opts->copy.need_hash = opts->manifest != NULL || cli->json;
	opts->copy.keep_owner = geteuid() == 0;
	opts->copy.itemize = cli->itemize || cli->log_file != NULL;
	/* Test hook: copy workers, here and on MPI ranks, sleep before each task. */
	const char *slow = getenv("PCOPY_TEST_SLOW_MS");
	opts->copy.test_slow_ms = slow != NULL ? atol(slow) : 0;
	const char *list_slot = getenv("PCOPY_TEST_LIST_SLOT"); /* test hook */
	opts->test_list_slot = list_slot != NULL ? strtoull(list_slot, NULL, 10) : 0;
	const char *split_min = getenv("PCOPY_TEST_SPLIT_MIN"); /* test hook */
	opts->test_split_min = split_min != NULL ? strtoull(split_min, NULL, 10) : 0;
}

void ui_init(struct ui *ui, const struct cli *cli)
{
	memset(ui, 0, sizeof(*ui));
	ui->verbose = cli->verbose;
	ui->json = cli->json;
	ui->stats = cli->stats;
	const struct run_opts *opts = &cli->opts;
	int manifest_stdout = opts->manifest != NULL && strcmp(opts->manifest, "-") == 0;
	int tar_stdout = cli->tar.archive != NULL && strcmp(cli->tar.archive, "-") == 0;
	ui->stdout_taken = manifest_stdout || tar_stdout;
	ui->out = ui->stdout_taken ? stderr : stdout;
	ui->out_shared = ui->out == stderr || isatty(STDOUT_FILENO);
	ui->dry_run = opts->copy.dry_run;
	ui->progress = !cli->quiet && (cli->force_progress || isatty(STDERR_FILENO));
	ui->json_progress = cli->json_progress;
	progress_init(&ui->meter);
	if (ui->progress)
		ui_line_init(&ui->line);
	ui->itemize = cli->itemize;
}

int ui_open_log(struct ui *ui, const struct cli *cli)
{
	if (cli->log_file == NULL)
		return 0;
	ui->log_name = cli->log_file;
	ui->log = fopen(cli->log_file, "ae");
	if (ui->log != NULL)
		return 0;
	fprintf(stderr, "pcopy: %s: %s\n", cli->log_file, strerror(errno));
	return -1;
}

/* ---- the screen ------------------------------------------------------------------------- */

/* Draw the progress line for ST (kept in UI->last to draw it again). */
static void draw(struct ui *ui, const struct stats *st)
{
	if (st != &ui->last)
		ui->last = *st;
	char line[256];
	progress_line(line, sizeof(line), &ui->meter, st, ui_line_width(&ui->line));
	ui_line_draw(&ui->line, line);
}

/*
 * Print a line on UI->out. On the terminal that shows the progress line, the line is cleared
 * first and drawn again after, so the text never runs on from the progress text.
 */
static void out_line(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(struct ui *ui, const char *fmt, ...)
{
	int redraw = ui->line.shown && ui->out_shared;
	if (redraw)
		ui_line_clear(&ui->line);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(ui->out, fmt, ap);
	va_end(ap);
	if (redraw) {
		fflush(ui->out);
		draw(ui, &ui->last);
	}
}

/* "pcopy: WHERE: REASON[: strerror(ERR)]" on stderr, the progress line out of the way. */
static void message(struct ui *ui, const char *where, const char *reason, int err)
{
	ui_line_clear(&ui->line);
	if (err != 0)
		fprintf(stderr, "pcopy: %s: %s: %s\n", where, reason, strerror(err));
	else
		fprintf(stderr, "pcopy: %s: %s\n", where, reason);
}

static void on_tick(void *ctx, const struct stats *st)
{
	struct ui *ui = ctx;
	progress_update(&ui->meter, st);
	if (ui->progress && st->seconds - ui->last_draw >= PROGRESS_TICK) {
		ui->last_draw = st->seconds;
		draw(ui, st);
	}
	/* --json-progress: once a second, from the first second on */
	if (ui->json_progress && st->seconds - ui->last_json >= 1.0) {
		ui->last_json = st->seconds;
		json_progress(stdout, st, progress_rate(&ui->meter), progress_eta(&ui->meter, st));
		fflush(stdout);
	}
}

/*
 * Once the run is over, the progress line gives way to a summary line (1 returned: the
 * caller draws it); after a fatal error or an interruption (their messages say what was
 * done) it is only cleared.
 */
static int line_over(struct ui *ui, int status)
{
	if (!ui->progress)
		return 0;
	if (status == PCOPY_EXIT_FATAL || status >= PCOPY_EXIT_SIGNALLED) {
		ui_line_clear(&ui->line);
		return 0;
	}
	return 1;
}

/* The summary line of a run, --tar or --extract that ended with STATUS (see line_over). */
static void end_line(struct ui *ui, const struct stats *st, int status)
{
	if (!line_over(ui, status))
		return;
	char text[512];
	progress_summary(text, sizeof(text), st, ui_line_width(&ui->line));
	ui_line_finish(&ui->line, text);
}

/* ---- a run ------------------------------------------------------------------------------ */

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
	case RUN_EV_DIR: return "directory";
	}
	return "event";
}

/* -i, --log-file: EV as rsync's itemized line, when it changed something. */
static void itemize(struct ui *ui, const struct run_event *ev)
{
	enum itemize_kind kind;
	if (ev->type == RUN_EV_DELETED)
		kind = ITEMIZE_DELETED;
	else if (ev->items & RUN_ITEM_HARDLINK)
		kind = ITEMIZE_HARDLINK;
	else if (ev->type == RUN_EV_COPIED || (ev->type == RUN_EV_DIR && (ev->items & ITEM_NEW)))
		kind = ITEMIZE_COPIED;
	else if (ev->type == RUN_EV_UPDATED || ev->type == RUN_EV_DIR)
		kind = ITEMIZE_UPDATED;
	else
		return;
	if (ui->itemize && (ev->items & RUN_ITEM_ROOT_MADE)) /* as rsync says it */
		out_line(ui, "created directory %s\n", ev->dst);
	if (ev->items == RUN_ITEM_ROOT_MADE)
		return; /* only that: DEST itself, not sent (--files-from without ".") */
	if (ui->itemize) {
		int redraw = ui->line.shown && ui->out_shared;
		if (redraw)
			ui_line_clear(&ui->line);
		itemize_line(ui->out, NULL, kind, ev->mode, ev->items, ev->path, ev->link);
		if (redraw) {
			fflush(ui->out);
			draw(ui, &ui->last);
		}
	}
	if (ui->log != NULL) {
		/* rsync's default log format: "YYYY/MM/DD HH:MM:SS [PID] " before the line */
		char stamp[64];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		size_t n = strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - n, " [%ld] ", (long)getpid());
		itemize_line(ui->log, stamp, kind, ev->mode, ev->items, ev->path, ev->link);
	}
}

static void on_event(void *ctx, const struct run_event *ev)
{
	struct ui *ui = ctx;
	if (ui->itemize || ui->log != NULL)
		itemize(ui, ev);
	if (ev->type == RUN_EV_DIR)
		return;
	if (ev->type == RUN_EV_FAILED || ev->type == RUN_EV_WARNING)
		message(ui, ev->where, ev->reason, ev->err);
	if (ui->json) {
		int diff = ev->type == RUN_EV_DIFFERENT;
		json_event(stdout, event_name(ev->type), ev->path,
		           json_type(ev->mode, ev->hardlink), ev->bytes, ev->hash,
		           diff ? ev->reason : NULL, diff ? NULL : ev->reason, ev->err);
		return;
	}
	if (ev->type == RUN_EV_DIFFERENT) {
		out_line(ui, "%s %s\n", ev->reason, ev->path);
		return;
	}
	if (!(ui->verbose || ui->dry_run) || ui->itemize)
		return;
	if (ev->type == RUN_EV_COPIED)
		out_line(ui, "%s\n", ev->path);
	else if (ev->type == RUN_EV_DELETED)
		out_line(ui, "deleting %s\n", ev->path);
	else if (ev->type == RUN_EV_UPDATED && ui->verbose)
		out_line(ui, "%s (attributes)\n", ev->path);
}

int ui_run_start(struct run *r, struct ui *ui, const struct cli *cli)
{
	int itemize = ui->itemize || ui->log != NULL;
	struct run_hooks hooks = {on_event, on_tick, ui,
	                          ui->verbose || ui->json || ui->dry_run || itemize, itemize};
	size_t nargs = cli->noperands;
	const char *dest = nargs >= 2 ? cli->operands[nargs - 1] : NULL;
	size_t nsources = nargs >= 2 ? nargs - 1 : 1;
	if (run_init(r, &cli->opts, &hooks, &ui_interrupted) != 0 ||
	    run_plan(r, cli->operands, nsources, dest) != 0)
		return -1;
	return 0;
}

int ui_run_end(struct ui *ui, const struct run *r, int status)
{
	end_line(ui, &r->stats, status);
	if (ui->log != NULL && fclose(ui->log) != 0) {
		fprintf(stderr, "pcopy: %s: %s\n", ui->log_name, strerror(errno));
		if (status == PCOPY_EXIT_OK)
			status = PCOPY_EXIT_PARTIAL;
	}
	ui->log = NULL;
	if (status == PCOPY_EXIT_FATAL)
		fprintf(stderr, "pcopy: %s\n", r->err);
	if (status == PCOPY_EXIT_PARTIAL && r->err[0] != '\0') {
		fprintf(stderr, "pcopy: %s\n", r->err); /* --manifest - could not be written */
		clearerr(stdout);                       /* said once, not again at exit */
	}
	if (status >= PCOPY_EXIT_SIGNALLED)
		fprintf(stderr,
		        "pcopy: interrupted after %llu of %llu entries (copied %llu, skipped %llu, "
		        "failed %llu); run the same command again to finish\n",
		        (unsigned long long)r->stats.done, (unsigned long long)r->stats.files,
		        (unsigned long long)r->stats.copied, (unsigned long long)r->stats.skipped,
		        (unsigned long long)r->stats.failed);
	if (ui->stats)
		stats_write(ui->json || ui->stdout_taken ? stderr : stdout, &r->stats);
	if (ui->json)
		json_summary(stdout, &r->stats, status);
	return status;
}

/* ---- --tar and --extract ---------------------------------------------------------------- */

static void on_member(void *ctx, const char *path, unsigned mode, int hardlink, uint64_t bytes,
                      const struct hash128 *hash)
{
	struct ui *ui = ctx;
	if (ui->json)
		json_event(stdout, ui->member, path, json_type(mode, hardlink), bytes, hash, NULL,
		           NULL, 0);
	else if (ui->verbose)
		out_line(ui, "%s\n", path);
}

static void on_tar_failed(void *ctx, const char *path, const char *reason, int err)
{
	struct ui *ui = ctx;
	message(ui, path, reason, err);
	if (ui->json)
		json_event(stdout, "failed", path, NULL, 0, NULL, NULL, reason, err);
}

static void on_tar_note(void *ctx, const char *path, const char *text)
{
	message(ctx, path, text, 0);
}

static void on_tar_tick(void *ctx, const struct stats *st)
{
	struct ui *ui = ctx;
	ui->final = *st;
	on_tick(ui, st);
}

struct tarout_hooks ui_tar_hooks(struct ui *ui)
{
	ui->member = "archived";
	return (struct tarout_hooks){on_member, on_tar_failed, on_tar_note, on_tar_tick, ui};
}

/* A member of an --extract archive failed: "pcopy: ARCHIVE: MEMBER: reason[: error]". */
static void on_extract_failed(void *ctx, const char *archive, const char *path, const char *reason,
                              int err)
{
	struct ui *ui = ctx;
	ui_line_clear(&ui->line);
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
		json_event(stdout, "failed", path != NULL ? path : archive, NULL, 0, NULL, NULL,
		           reason, err);
}

struct untar_hooks ui_untar_hooks(struct ui *ui)
{
	ui->member = "extracted";
	return (struct untar_hooks){on_member, on_extract_failed, on_tar_tick, ui};
}

int ui_tar_end(struct ui *ui, int status, const char *err, const char *interrupted_note)
{
	end_line(ui, &ui->final, status);
	if (status == PCOPY_EXIT_FATAL)
		fprintf(stderr, "pcopy: %s\n", err[0] ? err : "fatal error");
	if (status >= PCOPY_EXIT_SIGNALLED)
		fprintf(stderr, "pcopy: interrupted; %s\n", interrupted_note);
	if (ui->stats)
		stats_write(ui->json || ui->stdout_taken ? stderr : stdout, &ui->final);
	if (ui->json)
		json_summary(stdout, &ui->final, status);
	return status;
}

/* ---- --verify-manifest FILE DIR --------------------------------------------------------- */

/* What a problem line says after "NAME: ", and --json's "what" for it. */
static const char *verdict_text(enum verify_verdict v, int json)
{
	switch (v) {
	case VERIFY_OK: return "OK";
	case VERIFY_CHANGED: return json ? "content" : "FAILED";
	case VERIFY_MISSING: return "missing";
	case VERIFY_NOT_REGULAR: return json ? "type" : "not a regular file";
	case VERIFY_UNREADABLE: return "unreadable";
	case VERIFY_UNLISTED: return "unlisted";
	}
	return "?";
}

static void on_verified(void *ctx, const struct verify_result *r)
{
	struct ui *ui = ctx;
	if (r->verdict == VERIFY_UNREADABLE)
		message(ui, r->path, r->reason, r->err);
	if (r->verdict == VERIFY_OK && !ui->verbose)
		return;
	if (ui->json) {
		if (r->verdict == VERIFY_OK)
			json_event(stdout, "verified", r->name, "file", r->bytes, r->hash, NULL,
			           NULL, 0);
		else if (r->verdict == VERIFY_UNREADABLE)
			json_event(stdout, "failed", r->name, NULL, 0, NULL, NULL, r->reason,
			           r->err);
		else
			json_event(stdout, "different", r->name, NULL, r->bytes, r->hash,
			           verdict_text(r->verdict, 1), NULL, 0);
		return;
	}
	/* The name as a manifest line has it: escaped, and the line starts with a backslash,
	 * when it holds a backslash or a newline (as GNU coreutils' *sum -c print it). */
	char *name = manifest_escape_name(r->name);
	out_line(ui, "%s: %s\n", name != NULL ? name : r->name, verdict_text(r->verdict, 0));
	free(name);
}

static void on_verify_tick(void *ctx, const struct stats *st)
{
	struct ui *ui = ctx;
	ui->final = *st;
	on_tick(ui, st);
}

struct verify_hooks ui_verify_hooks(struct ui *ui)
{
	return (struct verify_hooks){on_verified, on_verify_tick, ui};
}

int ui_verify_end(struct ui *ui, int status, const char *err, const struct verify_counts *c,
                  const struct stats *st)
{
	if (line_over(ui, status)) {
		char text[512];
		progress_verify_summary(text, sizeof(text), c, st->seconds,
		                        ui_line_width(&ui->line));
		ui_line_finish(&ui->line, text);
	}
	if (status == PCOPY_EXIT_FATAL)
		fprintf(stderr, "pcopy: %s\n", err[0] ? err : "fatal error");
	if (status >= PCOPY_EXIT_SIGNALLED)
		fprintf(stderr,
		        "pcopy: interrupted after %llu of %llu names; nothing was changed\n",
		        (unsigned long long)st->done, (unsigned long long)st->files);
	if (ui->stats)
		stats_verify_write(ui->json ? stderr : stdout, c, st->seconds);
	if (ui->json)
		json_verify_summary(stdout, c, st->seconds, status);
	return status;
}
