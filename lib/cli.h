/*
 * cli: pcopy's command line, parsed and checked into a struct cli.
 *
 * cli_parse() never prints and never exits, so cmd/pcopy.c decides what to say and the
 * fuzz target in tests/fuzz/ can call it millions of times. Every rejected combination
 * leaves one line in cli->msg (exit status 2 for the caller).
 */
#ifndef PCOPY_CLI_H
#define PCOPY_CLI_H

#include <stddef.h>

#include "run.h"
#include "tarout.h"

enum cli_action {
	CLI_RUN,     /* copy, check, archive or extract the operands */
	CLI_HELP,    /* --help */
	CLI_VERSION, /* --version */
	CLI_USAGE,   /* bad command line: msg says why */
};

struct cli {
	enum cli_action action;
	struct run_opts opts;        /* copy options (excludes point into argv) */
	struct tarout_opts tar;      /* --tar, --compress (archive == NULL: not archiving) */
	int extract;                 /* --extract: operands are ARCHIVE... DEST */
	int jobs_set;                /* -j was given (else the default depends on the mode) */
	const char *verify_manifest; /* --verify-manifest FILE, or NULL */
	int quiet, verbose, json, stats;
	int force_progress; /* --progress */
	char **operands;    /* SOURCE... [DEST], pointing into argv */
	size_t noperands;
	char msg[256]; /* CLI_USAGE: the one-line reason */
};

/* The usage synopsis and the --help text (the man page's SYNOPSIS and OPTIONS, in short). */
extern const char cli_usage_text[];
extern const char cli_help_text[];

/*
 * Parse ARGC/ARGV into CLI (jobs default to NCPU, NCPU - 1 with --tar). Returns CLI->action; on
 * CLI_USAGE, CLI->msg holds the reason. getopt state is reset, so it may be called again. Free with
 * cli_free() whatever it returns.
 */
enum cli_action cli_parse(struct cli *cli, int argc, char **argv, int ncpu);

/* Release what cli_parse() allocated. */
void cli_free(struct cli *cli);

#endif
