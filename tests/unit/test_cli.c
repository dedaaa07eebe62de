/* Unit tests for lib/cli.c: the --tar/--extract combinations and their one-line reasons. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* Parse the NULL-terminated words as pcopy's argv; returns the action, leaves CLI filled. */
static enum cli_action parse(struct cli *cli, const char **words)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = "pcopy";
	for (; *words != NULL; words++)
		argv[argc++] = (char *)*words;
	argv[argc] = NULL;
	return cli_parse(cli, argc, argv, 2);
}

static void usage_says(const char **words, const char *msg)
{
	struct cli cli;
	assert_int_equal(parse(&cli, words), CLI_USAGE);
	assert_string_equal(cli.msg, msg);
	cli_free(&cli);
}

static void test_extract_ok(void **state)
{
	(void)state;
	struct cli cli;
	const char *w[] = {"--extract", "--verify-manifest", "m", "a.tar", "b.tar", "dest", NULL};
	assert_int_equal(parse(&cli, w), CLI_RUN);
	assert_int_equal(cli.extract, 1);
	assert_string_equal(cli.verify_manifest, "m");
	assert_int_equal(cli.noperands, 3);
	cli_free(&cli);
}

static void test_extract_combinations(void **state)
{
	(void)state;
	const char *a[] = {"--verify-manifest", "m", "src", "dst", NULL};
	usage_says(a, "--verify-manifest goes with --extract");
	const char *b[] = {"--extract", "a.tar", NULL};
	usage_says(b, "--extract needs ARCHIVE... DEST");
	const char *c[] = {"--extract", "--tar", "x.tar", "a.tar", "d", NULL};
	usage_says(c, "--extract does not go with --tar, --check, --manifest, --delete, --dry-run "
	              "or --compress");
	const char *d[] = {"--extract", "--manifest", "m", "a.tar", "d", NULL};
	usage_says(d, "--extract does not go with --tar, --check, --manifest, --delete, --dry-run "
	              "or --compress");
	const char *e[] = {"--extract", "--verify-manifest", "", "a.tar", "d", NULL};
	usage_says(e, "--verify-manifest needs a file name");
}

static void test_tar_jobs(void **state)
{
	(void)state;
	struct cli cli;
	const char *a[] = {"--tar", "a.tar", "src", NULL};
	assert_int_equal(parse(&cli, a), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 1); /* 2 CPUs: one for the writer */
	cli_free(&cli);
	const char *b[] = {"-j", "2", "--tar", "a.tar", "src", NULL};
	assert_int_equal(parse(&cli, b), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 2);
	cli_free(&cli);
	const char *c[] = {"src", "dst", NULL};
	assert_int_equal(parse(&cli, c), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 2);
	cli_free(&cli);
}

static void test_tar_combinations(void **state)
{
	(void)state;
	const char *a[] = {"--compress", "gzip", "src", NULL};
	usage_says(a, "--compress goes with --tar");
	const char *b[] = {"--tar", "-", "--json", "src", NULL};
	usage_says(b, "--tar - writes the archive to stdout: no --json or --manifest - with it");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extract_ok),
	    cmocka_unit_test(test_extract_combinations),
	    cmocka_unit_test(test_tar_jobs),
	    cmocka_unit_test(test_tar_combinations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
