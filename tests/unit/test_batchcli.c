/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/cli/batchcli.c: pbatch's options, operands, defaults and usage errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/batchcli.h"

#define MAX_ARGS 16

/* Parse "pbatch" followed by the space-separated words of LINE ("" for none), with 4 CPUs.
 * The words are kept in a static buffer, so what BC points at stays valid until the next
 * call. */
static enum cli_action parse(struct batchcli *bc, const char *line)
{
	static char buf[1024];
	static char *argv[MAX_ARGS + 1];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "pbatch";
	for (char *w = strtok(buf, " "); w != NULL && argc < MAX_ARGS; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	return batchcli_parse(bc, argc, argv, 4);
}

/* The usage message BC holds, as pbatch prints it after "pbatch: ". */
static const char *message(const struct batchcli *bc)
{
	static char msg[1024];
	snprintf(msg, sizeof(msg), "%s%s", bc->why.msg, bc->why.arg);
	return msg;
}

static void test_defaults(void **state)
{
	(void)state;
	struct batchcli bc;
	assert_int_equal(parse(&bc, ""), CLI_RUN);
	assert_int_equal(bc.jobs, 4);
	assert_null(bc.file);
	assert_null(bc.joblog);
	assert_true(bc.timeout == 0);
	assert_false(bc.tag || bc.keep_order || bc.resume || bc.halt_on_error || bc.json);
	assert_int_equal(parse(&bc, "-"), CLI_RUN);
	assert_null(bc.file);
	char *argv[] = {"pbatch", NULL};
	assert_int_equal(batchcli_parse(&bc, 1, argv, 0), CLI_RUN);
	assert_int_equal(bc.jobs, 1);
	assert_int_equal(batchcli_parse(&bc, 1, argv, 5000), CLI_RUN);
	assert_int_equal(bc.jobs, CLI_MAX_JOBS);
}

static void test_options(void **state)
{
	(void)state;
	struct batchcli bc;
	assert_int_equal(parse(&bc, "-j 3 --tag --keep-order --halt-on-error --json -q "
	                            "--progress --timeout 1.5 --joblog jl --resume cmds"),
	                 CLI_RUN);
	assert_int_equal(bc.jobs, 3);
	assert_true(bc.tag && bc.keep_order && bc.halt_on_error && bc.json && bc.quiet &&
	            bc.force_progress && bc.resume);
	assert_true(bc.timeout == 1.5);
	assert_string_equal(bc.joblog, "jl");
	assert_string_equal(bc.file, "cmds");
	/* Options may follow the operand, and -j may be joined to its number. */
	assert_int_equal(parse(&bc, "cmds -j1024 --jobs=2"), CLI_RUN);
	assert_int_equal(bc.jobs, 2);
	assert_string_equal(bc.file, "cmds");
	assert_int_equal(parse(&bc, "-- -j"), CLI_RUN);
	assert_string_equal(bc.file, "-j");
}

static void test_help_version(void **state)
{
	(void)state;
	struct batchcli bc;
	assert_int_equal(parse(&bc, "--help"), CLI_HELP);
	assert_int_equal(parse(&bc, "a b c --version"), CLI_VERSION);
	/* Options are taken in order: the first that stops parsing wins. */
	assert_int_equal(parse(&bc, "--help -j 0"), CLI_HELP);
	assert_int_equal(parse(&bc, "-j 0 --help"), CLI_USAGE);
	assert_int_equal(strncmp(batchcli_usage_text, "usage: pbatch ", 14), 0);
	assert_non_null(strstr(batchcli_help_text, "--joblog FILE"));
}

static void test_usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *msg;
	} cases[] = {
	    {"-j 0", "invalid number of jobs (1 to 1024): 0"},
	    {"-j 1025", "invalid number of jobs (1 to 1024): 1025"},
	    {"--jobs x", "invalid number of jobs (1 to 1024): x"},
	    {"-j", "option needs an argument: -j"},
	    {"--jobs", "option needs an argument: --jobs"},
	    {"--timeout 0", "invalid timeout (a positive number of seconds): 0"},
	    {"--timeout -1", "invalid timeout (a positive number of seconds): -1"},
	    {"--timeout inf", "invalid timeout (a positive number of seconds): inf"},
	    {"--timeout nan", "invalid timeout (a positive number of seconds): nan"},
	    {"--timeout 1e999", "invalid timeout (a positive number of seconds): 1e999"},
	    {"--timeout 2s", "invalid timeout (a positive number of seconds): 2s"},
	    {"--bogus", "unknown option: --bogus"},
	    /* An option is named as written, wherever it stands in a cluster. */
	    {"-zq", "unknown option: -z"},
	    {"-q -zq", "unknown option: -z"},
	    {"--json -qzq", "unknown option: -z"},
	    {"-qj", "option needs an argument: -j"},
	    {"--quiet=1", "option takes no argument: --quiet=1"},
	    {"--tag=1", "option takes no argument: --tag=1"},
	    {"--j", "option '--j' is ambiguous; possibilities: '--joblog' '--jobs' '--json'"},
	    {"--jo=2", "option '--jo' is ambiguous; possibilities: '--joblog' '--jobs'"},
	    {"a b", "too many operands: b"},
	    {"a b c", "too many operands: b"},
	    {"--resume", "--resume needs --joblog FILE"},
	    {"--resume --joblog=", "--joblog needs a file name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct batchcli bc;
		assert_int_equal(parse(&bc, cases[i].line), CLI_USAGE);
		assert_string_equal(message(&bc), cases[i].msg);
	}
}

/* A usage message names a long argument whole. */
static void test_long_argument(void **state)
{
	(void)state;
	char arg[600];
	memset(arg, 'x', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	char *argv[] = {"pbatch", "a", arg, NULL};
	struct batchcli bc;
	assert_int_equal(batchcli_parse(&bc, 3, argv, 1), CLI_USAGE);
	assert_string_equal(bc.why.arg, arg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),      cmocka_unit_test(test_options),
	    cmocka_unit_test(test_help_version),  cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_long_argument),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
