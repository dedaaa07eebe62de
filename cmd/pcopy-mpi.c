/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcopy-mpi: pcopy over the ranks of an MPI job (./configure --with-mpi; run under mpirun).
 *
 * Rank 0 is pcopy: the same command line, the same rendering (cmd/ui.c) and exit status,
 * with the other ranks' help in the run (lib/mpi/mpiwork.h). The other ranks parse the same
 * command line, so that every rank takes the same road, then serve and say nothing. --tar
 * and --extract are pcopy's alone.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "cli/cli.h"
#include "common/exit.h"
#include "mpi/mpiwork.h"
#include "run/run.h"
#include "ui.h"

/* Rank 0: the run CLI asks for, with the agents; returns the exit status. */
static int lead_run(struct cli *cli)
{
	struct ui ui;
	ui_init(&ui, cli);
	ui_options(cli);
	ui_catch_signals();
	const char *refused = cli_mpi_refused(cli);
	if (refused != NULL) {
		mpiwork_refuse();
		fprintf(stderr, "pcopy: %s is not supported by pcopy-mpi; use pcopy\n", refused);
		return PCOPY_EXIT_FATAL;
	}
	struct run r;
	if (ui_run_start(&r, &ui, cli) != 0) {
		mpiwork_refuse();
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		return PCOPY_EXIT_FATAL;
	}
	struct run_share share;
	run_share(&r, &share);
	struct mpiwork *mw = mpiwork_lead(&share, r.err, sizeof(r.err));
	if (mw == NULL) {
		fprintf(stderr, "pcopy: %s\n", r.err);
		run_free(&r);
		return PCOPY_EXIT_FATAL;
	}
	run_set_remote(&r, mpiwork_remote(mw));
	int status = run_execute(&r);
	/* Interrupted: mpirun is tearing every rank down; nobody is left to say goodbye. */
	if (status < PCOPY_EXIT_SIGNALLED)
		mpiwork_end(mw, status == PCOPY_EXIT_FATAL);
	else
		mpiwork_drop(mw);
	status = ui_run_end(&ui, &r, status);
	run_free(&r);
	return status;
}

/* Rank 0: pcopy's command line. */
static int lead_main(int argc, char **argv)
{
	struct cli cli;
	int status;
	/* The MPI library's name and version, up to its first comma ("Open MPI v4.1.6"). */
	char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;
	if (MPI_Get_library_version(mpi, &len) != MPI_SUCCESS)
		mpi[0] = '\0';
	mpi[strcspn(mpi, ",\n")] = '\0';
	if (!ui_parse(&cli, argc, argv, &status, "pcopy-mpi", mpi[0] != '\0' ? mpi : "unknown"))
		return status;
	/* -j is per rank; one worker each unless told otherwise (ranks usually fill the CPUs). */
	if (!cli.jobs_set)
		cli.opts.jobs = 1;
	status = ui_exit("pcopy", lead_run(&cli), 0);
	cli_free(&cli);
	return status;
}

/* Ranks 1..: the same command line, parsed the same way, so that every rank takes the same
 * road; only rank 0 says anything. */
static int agent_main(int argc, char **argv)
{
	struct cli cli;
	enum cli_action act = cli_parse(&cli, argc, argv, 1);
	int status = act == CLI_USAGE ? PCOPY_EXIT_FATAL : PCOPY_EXIT_OK;
	if (act == CLI_RUN && (cli.extract || cli.tar.archive != NULL || cli.files_from != NULL ||
	                       cli.verify_manifest != NULL)) {
		mpiwork_serve(&ui_interrupted); /* rank 0 refuses; this returns at once */
		status = PCOPY_EXIT_FATAL;
	} else if (act == CLI_RUN) {
		ui_catch_signals();
		status = mpiwork_serve(&ui_interrupted);
	}
	cli_free(&cli);
	return status;
}

int main(int argc, char **argv)
{
	ui_set_ctype();
	int rank = 0, nranks = 1;
	if (mpiwork_init(&argc, &argv, &rank, &nranks) != 0) {
		fprintf(stderr, "pcopy: cannot start MPI\n");
		return PCOPY_EXIT_FATAL;
	}
	int status = rank == 0 ? lead_main(argc, argv) : agent_main(argc, argv);
	if (status >= PCOPY_EXIT_SIGNALLED)
		return status; /* the job is being torn down: no goodbyes */
	mpiwork_finalize();
	return status;
}
