/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcopy: verified parallel copy and backup.
 *
 * This file turns the command line into options (lib/cli/cli.h), hands the work to
 * lib/run/run.h, or to lib/tar/ for --tar and --extract, or to lib/verify/ for
 * --verify-manifest FILE DIR, and returns the exit status; what
 * comes back is rendered by cmd/ui.c (progress line, -v lines, --json events, messages,
 * --stats), which pcopy-mpi (cmd/pcopy-mpi.c) shares.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/exit.h"
#include "run/run.h"
#include "tar/tarout.h"
#include "tar/untar.h"
#include "ui.h"
#include "verify/verify.h"

/* pcopy --tar ARCHIVE SOURCE...: write an archive instead of a directory. */
static int tar_main(struct cli *cli, struct ui *ui)
{
	struct tarout_opts *tar = &cli->tar;
	const struct run_opts *opts = &cli->opts;
	if (strcmp(tar->archive, "-") == 0 && isatty(STDOUT_FILENO)) {
		/* As GNU tar: binary on a terminal helps nobody and can upset it. */
		fprintf(stderr, "pcopy: refusing to write archive contents to a terminal\n");
		return PCOPY_EXIT_FATAL;
	}
	tar->manifest = opts->manifest;
	tar->jobs = opts->jobs;
	tar->select = opts->select;
	tar->one_fs = opts->one_fs;
	tar->fsync = opts->copy.fsync;
	tar->interrupted = &ui_interrupted;
	tar->test_slow_ms = opts->copy.test_slow_ms;
	struct tarout_hooks hooks = ui_tar_hooks(ui);
	char err[1024] = "";
	int status = tarout_write(tar, cli->operands, cli->noperands, &hooks, err, sizeof(err));
	return ui_tar_end(ui, status, err, "no archive was written");
}

/* pcopy --extract ARCHIVE... DEST: extract archives, verifying against a manifest if given. */
static int extract_main(struct cli *cli, struct ui *ui)
{
	struct untar_opts o = {cli->operands[cli->noperands - 1], cli->verify_manifest,
	                       cli->opts.copy.keep_owner, 0, &ui_interrupted};
	struct untar_hooks hooks = ui_untar_hooks(ui);
	char err[1024] = "";
	int status = untar_extract(&o, cli->operands, cli->noperands - 1, &hooks, err, sizeof(err));
	return ui_tar_end(ui, status, err,
	                  "files already in place stay; run the same command again to finish");
}

/* pcopy --verify-manifest FILE DIR: check DIR against the manifest, change nothing. */
static int verify_main(struct cli *cli, struct ui *ui)
{
	struct verify_opts o = {
	    cli->verify_manifest,        cli->operands[0], cli->opts.jobs, cli->unlisted,
	    cli->opts.copy.test_slow_ms, &ui_interrupted};
	struct verify_hooks hooks = ui_verify_hooks(ui);
	struct verify_counts counts;
	struct stats st;
	char err[1024] = "";
	int status = verify_run(&o, &hooks, &counts, &st, err, sizeof(err));
	return ui_verify_end(ui, status, err, &counts, &st);
}

/* pcopy SOURCE... DEST, or SOURCE alone (SOURCE-backup): copy, or --check. */
static int copy_main(struct cli *cli, struct ui *ui)
{
	struct run r;
	if (ui_open_log(ui, cli) != 0)
		return PCOPY_EXIT_FATAL;
	if (ui_run_start(&r, ui, cli) != 0) {
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		return PCOPY_EXIT_FATAL;
	}
	int status = ui_run_end(ui, &r, run_execute(&r));
	run_free(&r);
	return status;
}

/* Run what CLI asks for; returns the exit status. */
static int pcopy_main(struct cli *cli)
{
	struct ui ui;
	ui_init(&ui, cli);
	ui_options(cli);
	ui_catch_signals();
	if (cli->extract)
		return extract_main(cli, &ui);
	if (cli->verify_manifest != NULL)
		return verify_main(cli, &ui);
	if (cli->tar.archive != NULL)
		return tar_main(cli, &ui);
	return copy_main(cli, &ui);
}

int main(int argc, char **argv)
{
	ui_set_ctype();
	struct cli cli;
	int status;
	if (!ui_parse(&cli, argc, argv, &status, "pcopy", NULL))
		return status;
	status = ui_exit("pcopy", pcopy_main(&cli), 0);
	cli_free(&cli);
	return status;
}
