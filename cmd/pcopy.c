/*
 * pcopy: verified parallel copy and backup.
 *
 * This file turns the command line into a struct run_opts, hands the work to lib/run.c and
 * renders what comes back: the progress line, -v lines, --json events, error messages, the
 * --stats summary and the exit status. It is the only part of pcopy that prints.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "tarout.h"

/* Long-only options. */
enum {
	OPT_CHECK = 256,
	OPT_COMPRESS,
	OPT_DELETE,
	OPT_EXCLUDE,
	OPT_FORCE,
	OPT_FSYNC,
	OPT_HELP,
	OPT_JSON,
	OPT_MANIFEST,
	OPT_NO_VERIFY,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_TAR,
	OPT_VERSION,
};

/* Sorted by long name. */
static const struct option longopts[] = {
    {"check", no_argument, NULL, OPT_CHECK},
    {"checksum", no_argument, NULL, 'c'},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"dry-run", no_argument, NULL, 'n'},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"fsync", no_argument, NULL, OPT_FSYNC},
    {"help", no_argument, NULL, OPT_HELP},
    {"jobs", required_argument, NULL, 'j'},
    {"json", no_argument, NULL, OPT_JSON},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"one-file-system", no_argument, NULL, 'x'},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"stats", no_argument, NULL, OPT_STATS},
    {"tar", required_argument, NULL, OPT_TAR},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] = "usage: pcopy [OPTION]... SOURCE [DEST]\n"
                                 "       pcopy [OPTION]... SOURCE... DIRECTORY\n"
                                 "       pcopy [OPTION]... --tar ARCHIVE SOURCE...\n"
                                 "       pcopy [OPTION]... --check SOURCE DEST\n";

static const char help_text[] =
    "Copy SOURCE to DEST (default: SOURCE-backup), or several SOURCEs into DIRECTORY,\n"
    "with a pool of worker processes that hash (XXH3-128) and verify every file.\n"
    "\n"
    "      --tar ARCHIVE      write the SOURCEs into a pax archive ('-': tar on stdout);\n"
    "                         compression by suffix (.tar.gz .tgz .tar.bz2 .tar.xz .tar.zst\n"
    "                         .tar.lz4)\n"
    "      --compress NAME    with --tar: gzip, bzip2, xz, zstd, lz4 or none, whatever the suffix\n"
    "      --check            compare SOURCE and DEST (content and metadata), copy nothing;\n"
    "                         print one line per difference, exit 1 when they differ\n"
    "  -c, --checksum         re-runs compare content hashes, not size and mtime\n"
    "      --delete           remove from DEST what SOURCE no longer has\n"
    "  -n, --dry-run          list what would be copied or deleted; change nothing\n"
    "      --exclude PATTERN  skip paths matching PATTERN (fnmatch; repeatable)\n"
    "      --force            copy every file, even those that look up to date\n"
    "      --fsync            sync each file to disk before renaming it into place\n"
    "  -j, --jobs N           use N worker processes (default: online CPUs)\n"
    "      --json             print one JSON object per event, and a summary, on stdout\n"
    "      --manifest FILE    write an xxh128sum-format manifest to FILE ('-': stdout)\n"
    "      --no-verify        do not re-read and hash what was written\n"
    "  -x, --one-file-system  do not descend into other file systems\n"
    "      --progress         show the progress line even when stderr is not a terminal\n"
    "  -q, --quiet            no progress line\n"
    "      --stats            print a summary at the end\n"
    "  -v, --verbose          list each file copied\n"
    "      --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Exit status: 0 done, 1 some files failed, 2 usage or fatal error, 130/143 interrupted.\n";

/* Everything the command keeps about the run it renders. */
struct ui {
	int quiet, verbose, json, stats, progress, dry_run;
	int line_shown; /* a progress line is on the screen */
	FILE *out;      /* -v, dry-run and --check lines: stdout, or stderr when the manifest is */
	double last_draw;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "pcopy: %s%s\n", msg, arg);
	fputs(usage_text, stderr);
	fputs("Try 'pcopy --help' for more information.\n", stderr);
	exit(RUN_FATAL);
}

/* Remove the progress line before printing something else to stderr. */
static void clear_line(struct ui *ui)
{
	if (ui->line_shown) {
		fputs("\r\033[K", stderr);
		ui->line_shown = 0;
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
			fprintf(stderr, "pcopy: %s: %s: %s\n", ev->src, ev->reason,
			        strerror(ev->err));
		else
			fprintf(stderr, "pcopy: %s: %s\n", ev->src, ev->reason);
	}
	if (ui->json) {
		char hex[HASH_HEX_LEN + 1];
		if (ev->hash != NULL)
			hash_hex(*ev->hash, hex);
		char err[256] = "";
		if (ev->reason != NULL)
			snprintf(err, sizeof(err), "%s%s%s", ev->reason, ev->err ? ": " : "",
			         ev->err ? strerror(ev->err) : "");
		int diff = ev->type == RUN_EV_DIFFERENT;
		progress_json_event(stdout, event_name(ev->type), ev->path, ev->bytes,
		                    ev->hash ? hex : NULL, diff ? ev->reason : NULL,
		                    ev->reason && !diff ? err : NULL);
		return;
	}
	if (ev->type == RUN_EV_DIFFERENT) {
		clear_line(ui);
		fprintf(ui->out, "%s %s\n", ev->reason, ev->path);
		return;
	}
	if (!(ui->verbose || ui->dry_run))
		return;
	if (ev->type == RUN_EV_COPIED)
		fprintf(ui->out, "%s\n", ev->path);
	else if (ev->type == RUN_EV_DELETED)
		fprintf(ui->out, "deleting %s\n", ev->path);
	else if (ev->type == RUN_EV_UPDATED && ui->verbose)
		fprintf(ui->out, "%s (attributes)\n", ev->path);
}

static void draw(struct ui *ui, const struct stats *st)
{
	char line[256];
	progress_line(line, sizeof(line), st);
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

static void on_member(void *ctx, const char *path, uint64_t bytes, const struct hash128 *hash)
{
	struct ui *ui = ctx;
	if (ui->json) {
		char hex[HASH_HEX_LEN + 1];
		if (hash != NULL)
			hash_hex(*hash, hex);
		progress_json_event(stdout, "archived", path, bytes, hash ? hex : NULL, NULL, NULL);
	} else if (ui->verbose) {
		printf("%s\n", path);
	}
}

static void on_tar_failed(void *ctx, const char *path, const char *reason, int err)
{
	(void)ctx;
	if (err != 0)
		fprintf(stderr, "pcopy: %s: %s: %s\n", path, reason, strerror(err));
	else
		fprintf(stderr, "pcopy: %s: %s\n", path, reason);
}

/* pcopy --tar ARCHIVE SOURCE...: write an archive instead of a directory. */
static int tar_main(struct tarout_opts *tar, struct ui *ui, const char *manifest, char **sources,
                    size_t n)
{
	if (strcmp(tar->archive, "-") == 0 &&
	    (ui->json || (manifest && strcmp(manifest, "-") == 0)))
		usage_error(
		    "--tar - writes the archive to stdout: no --json or --manifest - with it", "");
	tar->manifest = manifest;
	tar->interrupted = &interrupted;
	struct tarout_hooks hooks = {on_member, on_tar_failed, ui};
	char err[1024] = "";
	int status = tarout_write(tar, sources, n, &hooks, err, sizeof(err));
	if (status == RUN_FATAL)
		fprintf(stderr, "pcopy: %s\n", err[0] ? err : "cannot write the archive");
	if (status >= RUN_SIGNALLED)
		fprintf(stderr, "pcopy: interrupted; no archive was written\n");
	if (ui->json)
		printf("{\"event\":\"summary\",\"exit\":%d}\n", status);
	return status;
}

static int parse_jobs(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 1024)
		usage_error("invalid number of jobs (1 to 1024): ", s);
	return (int)v;
}

int main(int argc, char **argv)
{
	struct run_opts opts;
	struct ui ui;
	int force_progress = 0;
	struct tarout_opts tar = {0};
	memset(&opts, 0, sizeof(opts));
	memset(&ui, 0, sizeof(ui));
	opts.copy.verify = 1;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	opts.jobs = ncpu > 0 ? (int)ncpu : 1;
	opts.excludes = calloc((size_t)argc, sizeof(char *));
	if (opts.excludes == NULL)
		return RUN_FATAL;
	int c;
	while ((c = getopt_long(argc, argv, "cj:nqvx", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opts.copy.checksum = 1; break;
		case OPT_CHECK: opts.copy.check = 1; break;
		case 'j': opts.jobs = parse_jobs(optarg); break;
		case 'n': opts.copy.dry_run = 1; break;
		case 'q': ui.quiet = 1; break;
		case 'v': ui.verbose = 1; break;
		case 'x': opts.one_fs = 1; break;
		case OPT_DELETE: opts.delete_extra = 1; break;
		case OPT_EXCLUDE: opts.excludes[opts.nexcludes++] = optarg; break;
		case OPT_FORCE: opts.copy.force = 1; break;
		case OPT_FSYNC: opts.copy.fsync = 1; break;
		case OPT_JSON: ui.json = 1; break;
		case OPT_MANIFEST:
			if (optarg[0] == '\0')
				usage_error("--manifest needs a file name", "");
			opts.manifest = optarg;
			break;
		case OPT_NO_VERIFY: opts.copy.verify = 0; break;
		case OPT_PROGRESS: force_progress = 1; break;
		case OPT_STATS: ui.stats = 1; break;
		case OPT_TAR: tar.archive = optarg; break;
		case OPT_COMPRESS: tar.compress = optarg; break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			free(opts.excludes);
			return RUN_OK;
		case OPT_VERSION:
			printf("pcopy %s\n", PACKAGE_VERSION);
			free(opts.excludes);
			return RUN_OK;
		default:
			fputs(usage_text, stderr);
			fputs("Try 'pcopy --help' for more information.\n", stderr);
			free(opts.excludes);
			return RUN_FATAL;
		}
	}
	int nargs = argc - optind;
	if (nargs < 1)
		usage_error("missing source operand", "");
	if (opts.manifest != NULL && strcmp(opts.manifest, "-") == 0 && ui.json)
		usage_error("--manifest - and --json both want stdout", "");
	if (opts.copy.dry_run && opts.manifest != NULL)
		usage_error("--manifest cannot be written by a dry run", "");
	if (opts.copy.check && (nargs != 2 || opts.manifest != NULL || opts.delete_extra ||
	                        opts.copy.dry_run || opts.copy.force))
		usage_error(nargs != 2 ? "--check compares exactly two trees: SOURCE DEST"
		                       : "--check copies nothing: it does not go with --manifest, "
		                         "--delete, --dry-run or --force",
		            "");
	if (tar.compress != NULL && tar.archive == NULL)
		usage_error("--compress goes with --tar", "");
	if (tar.compress != NULL && !tarout_compression_valid(tar.compress))
		usage_error("--compress takes gzip, bzip2, xz, zstd, lz4 or none, not ",
		            tar.compress);
	if (tar.archive != NULL && (opts.copy.check || opts.delete_extra || opts.copy.dry_run))
		usage_error("--tar does not go with --check, --delete or --dry-run", "");
	if (tar.archive != NULL && tar.archive[0] == '\0')
		usage_error("--tar needs an archive name", "");
	int manifest_stdout = opts.manifest != NULL && strcmp(opts.manifest, "-") == 0;
	ui.out = manifest_stdout ? stderr : stdout;
	ui.dry_run = opts.copy.dry_run;
	ui.progress = !ui.quiet && (force_progress || isatty(STDERR_FILENO));
	opts.copy.need_hash = opts.manifest != NULL || ui.json;
	opts.copy.keep_owner = geteuid() == 0;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (tar.archive != NULL) {
		free(opts.excludes);
		return tar_main(&tar, &ui, opts.manifest, argv + optind, (size_t)nargs);
	}

	struct run r;
	struct run_hooks hooks = {on_event, on_tick, &ui, ui.verbose || ui.json || ui.dry_run};
	const char *dest = nargs >= 2 ? argv[argc - 1] : NULL;
	size_t nsources = nargs >= 2 ? (size_t)nargs - 1 : 1;
	if (run_init(&r, &opts, &hooks, &interrupted) != 0 ||
	    run_plan(&r, argv + optind, nsources, dest) != 0) {
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		free(opts.excludes);
		return RUN_FATAL;
	}
	int status = run_execute(&r);
	if (ui.progress) {
		draw(&ui, &r.stats);
		fputs("\n", stderr);
		ui.line_shown = 0;
	}
	if (status == RUN_FATAL)
		fprintf(stderr, "pcopy: %s\n", r.err);
	if (status >= RUN_SIGNALLED)
		fprintf(stderr,
		        "pcopy: interrupted after %llu of %llu entries (copied %llu, skipped %llu, "
		        "failed %llu); run the same command again to finish\n",
		        (unsigned long long)r.stats.done, (unsigned long long)r.stats.files,
		        (unsigned long long)r.stats.copied, (unsigned long long)r.stats.skipped,
		        (unsigned long long)r.stats.failed);
	if (ui.stats)
		progress_stats(ui.json || manifest_stdout ? stderr : stdout, &r.stats);
	if (ui.json)
		progress_json_summary(stdout, &r.stats, status);
	run_free(&r);
	free(opts.excludes);
	if (fflush(stdout) != 0 && status == RUN_OK)
		status = RUN_PARTIAL;
	return status;
}
