/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the command lines of pcopy (lib/cli/cli.c) and pbatch (lib/cli/batchcli.c).
 *
 * The input's first byte picks the parser (even: pcopy, odd: pbatch); the rest, split at
 * NUL bytes, is the argument list after argv[0]. Each parser runs twice on the same
 * arguments and must give the same answer (getopt's hidden state is reset), and what it
 * returns must hold together: a usage error has a reason, a run has operands taken from the
 * arguments and options within their ranges, and the combinations the man pages rule out do
 * not come through.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/batchcli.h"
#include "cli/cli.h"
#include "fuzz.h"

/* Whether S is one of the N strings of ARGS (the very pointer, as getopt hands them out). */
static int is_arg(const char *s, char *const *args, int n)
{
	for (int i = 0; i < n; i++)
		if (s == args[i])
			return 1;
	return 0;
}

/* Whether S points into one of the N strings of ARGS: an option's value may be a whole
 * argument or the part after "--option=" or "-j". */
static int in_args(const char *s, char *const *args, int n)
{
	for (int i = 0; i < n; i++)
		if (s >= args[i] && s <= args[i] + strlen(args[i]))
			return 1;
	return 0;
}

static int same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A usage message MSG about a rejected option names it as the user wrote it: a whole "--long"
 * argument, or "-x" where x is a letter (or '-') of an argument that is a cluster of short
 * options. */
static void check_named_option(const char *msg, char **argv, int argc)
{
	static const char *const why[] = {
	    "unknown option: ", "option needs an argument: ", "option takes no argument: "};
	for (size_t w = 0; w < sizeof(why) / sizeof(why[0]); w++) {
		size_t n = strlen(why[w]);
		if (strncmp(msg, why[w], n) != 0)
			continue;
		const char *x = msg + n;
		int found = 0;
		for (int i = 1; i < argc && !found; i++) {
			const char *a = argv[i];
			int is_long = x[0] == '-' && x[1] == '-' && strcmp(a, x) == 0;
			int is_short = x[0] == '-' && x[1] != '\0' && x[2] == '\0' && a[0] == '-' &&
			               a[1] != '-' && strchr(a + 1, x[1]) != NULL;
			found = is_long || is_short;
		}
		FUZZ_CHECK(found);
	}
}

/* The usage message of both parses, A and B: there is one, it is the same twice, and an
 * option it names is one ARGV holds. */
static void check_usage(const struct cli_reason *a, const struct cli_reason *b, char **argv,
                        int argc)
{
	FUZZ_CHECK(a->msg != NULL && a->arg != NULL && a->msg[0] != '\0');
	FUZZ_CHECK(strcmp(a->msg, b->msg) == 0 && strcmp(a->arg, b->arg) == 0);
	size_t len = strlen(a->msg) + strlen(a->arg) + 1;
	char *line = malloc(len);
	FUZZ_CHECK(line != NULL);
	snprintf(line, len, "%s%s", a->msg, a->arg);
	check_named_option(line, argv, argc);
	free(line);
}

/* cli_parse on a fresh copy of ARGV (getopt permutes the pointers). */
static enum cli_action pcopy_parse(struct cli *cli, char **argv, int argc, char **work)
{
	memcpy(work, argv, ((size_t)argc + 1) * sizeof(*argv));
	return cli_parse(cli, argc, work, 3);
}

static void check_pcopy(char **argv, int argc)
{
	char **w1 = calloc((size_t)argc + 1, sizeof(*w1));
	char **w2 = calloc((size_t)argc + 1, sizeof(*w2));
	FUZZ_CHECK(w1 != NULL && w2 != NULL);
	struct cli a, b;
	/* --exclude-from - reads standard input: empty, and the same for both parses. */
	static int stdin_closed;
	if (!stdin_closed)
		stdin_closed = freopen("/dev/null", "r", stdin) != NULL;
	enum cli_action act = pcopy_parse(&a, argv, argc, w1);
	FUZZ_CHECK(pcopy_parse(&b, argv, argc, w2) == act && a.action == act);
	if (act == CLI_USAGE)
		check_usage(&a.why, &b.why, argv, argc);
	if (act == CLI_RUN) {
		const struct run_opts *o = &a.opts;
		FUZZ_CHECK(a.noperands >= 1 && a.noperands == b.noperands);
		for (size_t i = 0; i < a.noperands; i++)
			FUZZ_CHECK(is_arg(a.operands[i], argv + 1, argc - 1) &&
			           a.operands[i] == b.operands[i]);
		FUZZ_CHECK(o->jobs >= 1 && o->jobs <= CLI_MAX_JOBS);
		FUZZ_CHECK(memcmp(&o->copy, &b.opts.copy, sizeof(o->copy)) == 0);
		FUZZ_CHECK(o->select == &a.select && a.select.top.n == b.select.top.n);
		for (size_t i = 0; i < a.select.top.n; i++)
			FUZZ_CHECK(strcmp(a.select.top.v[i].pattern, b.select.top.v[i].pattern) ==
			           0);
		FUZZ_CHECK(o->manifest == NULL || in_args(o->manifest, argv + 1, argc - 1));
		FUZZ_CHECK(same_string(o->manifest, b.opts.manifest));
		FUZZ_CHECK(same_string(a.tar.archive, b.tar.archive));
		FUZZ_CHECK(o->manifest == NULL || o->manifest[0] != '\0');
		FUZZ_CHECK(!(o->copy.dry_run && o->manifest != NULL));
		FUZZ_CHECK(!o->copy.check || a.noperands == 2);
		FUZZ_CHECK(a.tar.compress == NULL || a.tar.archive != NULL);
		FUZZ_CHECK(a.tar.archive == NULL || a.tar.archive[0] != '\0');
	}
	cli_free(&a);
	cli_free(&b);
	free(w1);
	free(w2);
}

/* batchcli_parse on a fresh copy of ARGV. */
static enum cli_action pbatch_parse(struct batchcli *bc, char **argv, int argc, char **work)
{
	memcpy(work, argv, ((size_t)argc + 1) * sizeof(*argv));
	return batchcli_parse(bc, argc, work, 3);
}

static void check_pbatch(char **argv, int argc)
{
	char **w1 = calloc((size_t)argc + 1, sizeof(*w1));
	char **w2 = calloc((size_t)argc + 1, sizeof(*w2));
	FUZZ_CHECK(w1 != NULL && w2 != NULL);
	struct batchcli a, b;
	enum cli_action act = pbatch_parse(&a, argv, argc, w1);
	FUZZ_CHECK(pbatch_parse(&b, argv, argc, w2) == act && a.action == act);
	if (act == CLI_USAGE)
		check_usage(&a.why, &b.why, argv, argc);
	if (act == CLI_RUN) {
		FUZZ_CHECK(a.jobs >= 1 && a.jobs <= CLI_MAX_JOBS && a.jobs == b.jobs);
		FUZZ_CHECK(a.timeout >= 0 && isfinite(a.timeout) && a.timeout == b.timeout);
		FUZZ_CHECK(a.file == NULL || (is_arg(a.file, argv + 1, argc - 1) &&
		                              strcmp(a.file, "-") != 0 && a.file == b.file));
		FUZZ_CHECK(a.joblog == NULL || in_args(a.joblog, argv + 1, argc - 1));
		FUZZ_CHECK(same_string(a.joblog, b.joblog));
		FUZZ_CHECK(!a.resume || (a.joblog != NULL && a.joblog[0] != '\0'));
		FUZZ_CHECK(a.tag == b.tag && a.keep_order == b.keep_order && a.json == b.json &&
		           a.resume == b.resume && a.halt_on_error == b.halt_on_error &&
		           a.quiet == b.quiet && a.force_progress == b.force_progress);
	}
	free(w1);
	free(w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int pbatch = data[0] & 1;
	/* Each argument ends at a NUL byte or at the end of the input. */
	char *buf = fuzz_copy(data + 1, size - 1);
	size_t n = size - 1;
	int argc = 1;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0' || i == n - 1)
			argc++;
	char **argv = calloc((size_t)argc + 1, sizeof(*argv));
	FUZZ_CHECK(argv != NULL);
	argv[0] = pbatch ? "pbatch" : "pcopy";
	char *p = buf;
	for (int i = 1; i < argc; i++) {
		argv[i] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	if (pbatch)
		check_pbatch(argv, argc);
	else
		check_pcopy(argv, argc);
	free(argv);
	free(buf);
	return 0;
}
