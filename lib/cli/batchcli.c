/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batchcli: pbatch's command line (see batchcli.h). The option table is the one place
 * options are named; the checks after getopt_long are the combinations pbatch(1) rules out.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batchcli.h"

/* Long-only options. */
enum {
	OPT_HALT_ON_ERROR = 256,
	OPT_JOBLOG,
	OPT_JSON,
	OPT_KEEP_ORDER,
	OPT_PROGRESS,
	OPT_RESUME,
	OPT_TAG,
	OPT_TIMEOUT,
	OPT_VERSION,
};

/* ':' first: a missing argument is told apart from an unknown option. */
static const char shortopts[] = ":hj:q";

/* Sorted by long name. */
static const struct option longopts[] = {
    {"halt-on-error", no_argument, NULL, OPT_HALT_ON_ERROR},
    {"help", no_argument, NULL, 'h'},
    {"joblog", required_argument, NULL, OPT_JOBLOG},
    {"jobs", required_argument, NULL, 'j'},
    {"json", no_argument, NULL, OPT_JSON},
    {"keep-order", no_argument, NULL, OPT_KEEP_ORDER},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"tag", no_argument, NULL, OPT_TAG},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

const char batchcli_usage_text[] = "usage: pbatch [OPTION]... [FILE]\n";

const char batchcli_help_text[] =
    "Run the shell commands in FILE (default: standard input), one per line, on a\n"
    "fixed pool of slots; print each command's output in one piece when it finishes.\n"
    "\n"
    "      --halt-on-error    start no new command after the first one fails\n"
    "  -j, --jobs N           run up to N commands at once, 1 to 1024 (default:\n"
    "                         online CPUs)\n"
    "      --joblog FILE      write a GNU parallel format joblog to FILE\n"
    "      --json             one JSON object per finished command and a summary on\n"
    "                         stdout; command output goes to stderr\n"
    "      --keep-order       print outputs in input order\n"
    "      --progress         show the progress line even when stderr is not a\n"
    "                         terminal\n"
    "  -q, --quiet            no progress line\n"
    "      --resume           skip commands the joblog records as succeeded; append\n"
    "                         to it\n"
    "      --tag              prefix each output line with the command and a tab\n"
    "      --timeout SECONDS  kill a command's process group after SECONDS\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Exit status: 0 all succeeded, 1 some failed, 2 usage error, 130/143 interrupted.\n";

/* Record a usage error: MSG followed by ARG. Returns CLI_USAGE. */
static enum cli_action usage(struct batchcli *bc, const char *msg, const char *arg)
{
	bc->why.msg = msg;
	bc->why.arg = arg;
	bc->action = CLI_USAGE;
	return CLI_USAGE;
}

/* --timeout SECONDS: a positive finite number; 0 when S is not one. */
static double parse_timeout(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || !isfinite(v))
		return 0;
	return v;
}

/* Set one option from getopt_long's C and OPTARG; returns CLI_RUN or what stops parsing. */
static enum cli_action take_option(struct batchcli *bc, int c, char **argv)
{
	switch (c) {
	case 'j':
		bc->jobs = cli_parse_jobs(optarg);
		if (bc->jobs == 0)
			return usage(bc, "invalid number of jobs (1 to 1024): ", optarg);
		break;
	case 'q': bc->quiet = 1; break;
	case OPT_HALT_ON_ERROR: bc->halt_on_error = 1; break;
	case OPT_JOBLOG: bc->joblog = optarg; break;
	case OPT_JSON: bc->json = 1; break;
	case OPT_KEEP_ORDER: bc->keep_order = 1; break;
	case OPT_PROGRESS: bc->force_progress = 1; break;
	case OPT_RESUME: bc->resume = 1; break;
	case OPT_TAG: bc->tag = 1; break;
	case OPT_TIMEOUT:
		bc->timeout = parse_timeout(optarg);
		if (bc->timeout == 0)
			return usage(bc,
			             "invalid timeout (a positive number of seconds): ", optarg);
		break;
	case 'h': return bc->action = CLI_HELP;
	case OPT_VERSION: return bc->action = CLI_VERSION;
	default:
		cli_rejected_option(&bc->why, c, argv, shortopts, longopts);
		return bc->action = CLI_USAGE;
	}
	return CLI_RUN;
}

enum cli_action batchcli_parse(struct batchcli *bc, int argc, char **argv, int ncpu)
{
	memset(bc, 0, sizeof(*bc));
	bc->jobs = ncpu < 1 ? 1 : ncpu > CLI_MAX_JOBS ? CLI_MAX_JOBS : ncpu;
	optind = 0; /* glibc: a full reset, so parsing may run again */
	opterr = 0; /* pbatch words the messages itself */
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		enum cli_action a = take_option(bc, c, argv);
		if (a != CLI_RUN)
			return a;
	}
	if (argc - optind > 1)
		return usage(bc, "too many operands: ", argv[optind + 1]);
	if (bc->resume && bc->joblog == NULL)
		return usage(bc, "--resume needs --joblog FILE", "");
	if (bc->joblog != NULL && bc->joblog[0] == '\0')
		return usage(bc, "--joblog needs a file name", "");
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		bc->file = argv[optind];
	return CLI_RUN;
}
