/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batchcli: pbatch's command line, parsed and checked into a struct batchcli.
 *
 * Like cli.h for pcopy: batchcli_parse() never prints and never exits, so cmd/pbatch.c
 * decides what to say and the fuzz target in tests/fuzz/ can call it over and over. A
 * rejected command line leaves its reason in why (exit status 2 for the caller).
 */
#ifndef PCOPY_BATCHCLI_H
#define PCOPY_BATCHCLI_H

#include "cli/cli.h"

struct batchcli {
	enum cli_action action;
	int jobs;                            /* -j N: slots, 1 to CLI_MAX_JOBS */
	int halt_on_error, json, keep_order; /* --halt-on-error, --json, --keep-order */
	int resume, tag;                     /* --resume, --tag */
	int quiet, force_progress;           /* -q, --progress */
	double timeout;                      /* --timeout SECONDS; 0 for none */
	const char *joblog;                  /* --joblog FILE (points into argv), or NULL */
	const char *file;                    /* FILE operand, or NULL for standard input or "-" */
	struct cli_reason why;               /* CLI_USAGE: what is wrong */
};

/* The usage synopsis and the --help text (pbatch(1)'s SYNOPSIS and OPTIONS, in short). */
extern const char batchcli_usage_text[];
extern const char batchcli_help_text[];

/*
 * Parse ARGC/ARGV into BC (jobs default to NCPU, kept within 1 to CLI_MAX_JOBS). Returns
 * BC->action; on CLI_USAGE, BC->why says why. getopt state is reset, so it may be called
 * again. Nothing is allocated.
 */
enum cli_action batchcli_parse(struct batchcli *bc, int argc, char **argv, int ncpu);

#endif
