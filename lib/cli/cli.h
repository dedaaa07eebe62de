/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli: pcopy's command line, parsed and checked into a struct cli.
 *
 * cli_parse() never prints and never exits, so the command (cmd/) decides what to say and the
 * fuzz target in tests/fuzz/ can call it millions of times. Every rejected combination
 * leaves its reason in cli->why, one line (exit status 2 for the caller).
 */
#ifndef PCOPY_CLI_H
#define PCOPY_CLI_H

#include <stddef.h>

#include "run/run.h"
#include "tar/tarout.h"

/* The most worker processes (pcopy) or slots (pbatch) -j takes. */
#define CLI_MAX_JOBS 1024

enum cli_action {
	CLI_RUN,     /* copy, check, archive, extract or verify the operands */
	CLI_HELP,    /* --help */
	CLI_VERSION, /* --version */
	CLI_USAGE,   /* bad command line: msg says why */
};

/* Why a command line was rejected, in two parts that make one line: "MSG" "ARG". */
struct cli_reason {
	const char *msg; /* a fixed text: "unknown option: ", "missing source operand" */
	const char *arg; /* what it is about: "", an argument whole, or opt */
	char opt[3];     /* a short option that arg names: "-x" */
	char text[512];  /* msg when it is built: an ambiguous long option and its candidates */
};

struct cli {
	enum cli_action action;
	struct run_opts opts;        /* copy options (opts.select points to select) */
	struct select_rules select;  /* --exclude, --include, --filter, --max-size ... */
	struct select_from from;     /* --files-from's names (opts.from points to it), -r */
	const char *files_from;      /* --files-from FILE, or NULL */
	int from0;                   /* -0, --from0: FILE's names are NUL-separated */
	struct tarout_opts tar;      /* --tar, --compress (archive == NULL: not archiving) */
	int extract;                 /* --extract: operands are ARCHIVE... DEST */
	int jobs_set;                /* -j was given (else the default depends on the mode) */
	const char *verify_manifest; /* --verify-manifest FILE, or NULL */
	int unlisted;                /* --unlisted: with --verify-manifest FILE DIR */
	int quiet, verbose, json, stats;
	int force_progress;   /* --progress */
	int json_progress;    /* --json-progress (sets JSON too) */
	int itemize;          /* -i, --itemize-changes */
	const char *log_file; /* --log-file FILE, or NULL */
	char **operands;      /* SOURCE... [DEST], pointing into argv */
	size_t noperands;
	struct cli_reason why; /* CLI_USAGE: what is wrong */
};

/* The usage synopsis and the --help text (the man page's SYNOPSIS and OPTIONS, in short). */
extern const char cli_usage_text[];
extern const char cli_help_text[];

/*
 * Parse ARGC/ARGV into CLI (jobs default to NCPU, NCPU - 1 with --tar). Returns CLI->action;
 * on CLI_USAGE, CLI->why says why. getopt state is reset, so it may be called again. Free
 * with cli_free() whatever it returns.
 */
enum cli_action cli_parse(struct cli *cli, int argc, char **argv, int ncpu);

/* -j N (pcopy and pbatch): N when S is a whole number from 1 to CLI_MAX_JOBS, else 0. */
int cli_parse_jobs(const char *s);

struct option;

/*
 * What getopt_long(..., OPTSTRING, NAMES, ...) rejected when it returned C ('?' or ':',
 * with opterr 0), worded into WHY: "unknown option: ", "option needs an argument: " or
 * "option takes no argument: ", then the option as the user wrote it, the whole argument for
 * a long option ("--bogus", "--quiet=1") or "-x" for a short one, even in the middle of a
 * cluster ("-qx"); or, for an abbreviation of several long options, GNU getopt's words:
 * "option '--ex' is ambiguous; possibilities: '--exclude' '--exclude-from' '--extract'".
 */
void cli_rejected_option(struct cli_reason *why, int c, char **argv, const char *optstring,
                         const struct option *names);

/*
 * --chown S (rsync's USER:GROUP, USER, USER: or :GROUP; names or numbers) into P. Returns 0,
 * or -1 when S names no such user or group or is empty (P then unchanged).
 */
int cli_parse_chown(const char *s, struct meta_policy *p);

/*
 * What pcopy-mpi refuses (exit 2): the long names of the options it does not take, the one
 * list its --help leaves out and its completions are checked against (NULL-terminated);
 * cli_mpi_refused() says which of them a command line uses. Rules it refuses inside
 * --filter (dir-merge) are checked where the rules travel (lib/mpi).
 */
extern const char *const cli_mpi_refused_options[];

/* The option of cli_mpi_refused_options that CLI uses first ("--tar"), or NULL. An option
 * that only modifies another (--suffix, --backup-dir: --backup) is named by that one. */
const char *cli_mpi_refused(const struct cli *cli);

/* Release what cli_parse() allocated. */
void cli_free(struct cli *cli);

#endif
