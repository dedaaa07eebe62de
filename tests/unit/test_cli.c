/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/cli/cli.c: pcopy's options, operands, defaults and usage errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

#define MAX_ARGS 32

/* Parse "pcopy" followed by the space-separated words of LINE ("" for none), with 4 CPUs.
 * The words stay in a static buffer until the next call, as CLI points into them. */
static enum cli_action parse(struct cli *cli, const char *line)
{
	static char buf[1024];
	static char *argv[MAX_ARGS + 1];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "pcopy";
	for (char *w = strtok(buf, " "); w != NULL && argc < MAX_ARGS; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	return cli_parse(cli, argc, argv, 4);
}

/* The usage message CLI holds, as pcopy prints it after "pcopy: ". */
static const char *message(const struct cli *cli)
{
	static char msg[1024];
	snprintf(msg, sizeof(msg), "%s%s", cli->why.msg, cli->why.arg);
	return msg;
}

static void test_defaults(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "src"), CLI_RUN);
	assert_int_equal(cli.noperands, 1);
	assert_string_equal(cli.operands[0], "src");
	assert_int_equal(cli.opts.jobs, 4);
	assert_true(cli.opts.copy.verify);
	assert_false(cli.opts.copy.checksum || cli.opts.copy.dry_run || cli.opts.copy.check ||
	             cli.opts.copy.force || cli.opts.copy.fsync);
	assert_false(cli.opts.delete_extra || cli.opts.one_fs);
	assert_false(select_any(cli.opts.select));
	assert_null(cli.opts.manifest);
	assert_null(cli.tar.archive);
	assert_false(cli.quiet || cli.verbose || cli.json || cli.stats || cli.force_progress);
	cli_free(&cli);
	char *argv[] = {"pcopy", "src", NULL};
	assert_int_equal(cli_parse(&cli, 2, argv, 0), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 1);
	cli_free(&cli);
}

static void test_options(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-j 2 -c -n -x -q -v --delete --exclude *.o --exclude tmp "
	                             "--force --fsync --no-verify --stats --progress --json a b c"),
	                 CLI_RUN);
	const struct run_opts *o = &cli.opts;
	assert_int_equal(o->jobs, 2);
	assert_true(o->copy.checksum && o->copy.dry_run && o->one_fs && o->delete_extra &&
	            o->copy.force && o->copy.fsync && !o->copy.verify);
	assert_true(cli.quiet && cli.verbose && cli.stats && cli.force_progress && cli.json);
	assert_int_equal(o->select->top.n, 2);
	assert_string_equal(o->select->top.v[0].pattern, "*.o");
	assert_string_equal(o->select->top.v[1].pattern, "tmp");
	assert_int_equal(o->select->top.v[1].kind, SELECT_EXCLUDE);
	assert_int_equal(cli.noperands, 3);
	assert_string_equal(cli.operands[2], "c");
	cli_free(&cli);

	/* Options after operands, clustered short options, --opt=value. */
	assert_int_equal(parse(&cli, "a -qvj3 b --manifest=m.xxh128"), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 3);
	assert_true(cli.quiet && cli.verbose);
	assert_string_equal(cli.opts.manifest, "m.xxh128");
	assert_int_equal(cli.noperands, 2);
	assert_string_equal(cli.operands[0], "a");
	assert_string_equal(cli.operands[1], "b");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "a b --manifest m --previous-manifest=p"), CLI_RUN);
	assert_string_equal(cli.opts.previous_manifest, "p");
	cli_free(&cli);

	assert_int_equal(parse(&cli, "--tar a.tar --compress zstd --manifest - x y"), CLI_RUN);
	assert_string_equal(cli.tar.archive, "a.tar");
	assert_string_equal(cli.tar.compress, "zstd");
	assert_int_equal(cli.noperands, 2);
	cli_free(&cli);

	assert_int_equal(parse(&cli, "--check -c a b"), CLI_RUN);
	assert_true(cli.opts.copy.check && cli.opts.copy.checksum);
	cli_free(&cli);

	assert_int_equal(parse(&cli, "-- -n"), CLI_RUN);
	assert_false(cli.opts.copy.dry_run);
	assert_string_equal(cli.operands[0], "-n");
	cli_free(&cli);
}

/* What to do with what DEST has (#15), and rsync's letters typed from habit. */
static void test_policy(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-u --existing --ignore-existing --size-only a b"), CLI_RUN);
	const struct copy_opts *c = &cli.opts.copy;
	assert_true(c->update && c->existing && c->ignore_existing && c->size_only);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--update a b"), CLI_RUN);
	assert_true(cli.opts.copy.update && !cli.opts.copy.existing);
	cli_free(&cli);
	/* -a and -rlptgoDHAX change nothing; -P is --progress; -c, -n, -x keep their meaning. */
	struct cli plain;
	assert_int_equal(parse(&plain, "a b"), CLI_RUN);
	assert_int_equal(parse(&cli, "-a -rlptgoDHAX -avHAX a b"), CLI_RUN);
	assert_memory_equal(&cli.opts.copy, &plain.opts.copy, sizeof(plain.opts.copy));
	assert_true(cli.verbose && !cli.force_progress);
	cli_free(&cli);
	cli_free(&plain);
	assert_int_equal(parse(&cli, "-aPcnx a b"), CLI_RUN);
	assert_true(cli.force_progress && cli.opts.copy.checksum && cli.opts.copy.dry_run &&
	            cli.opts.one_fs);
	cli_free(&cli);
	/* What copies take: --no-*, --chmod, --chown; the letters undo a --no-* before them. */
	assert_int_equal(parse(&cli, "--no-perms --no-owner --no-group --no-times --no-xattrs "
	                             "--no-acls --numeric-ids --chmod D755,F644 --chown 0:0 a b"),
	                 CLI_RUN);
	const struct meta_policy *p = &cli.opts.copy.policy;
	assert_int_equal(p->drop, META_KEEP_ALL);
	assert_int_equal(p->nchmod, 2);
	assert_true(p->chown == 3 && p->uid == 0 && p->gid == 0);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--no-perms --no-times --no-acls -pA a b"), CLI_RUN);
	assert_int_equal(cli.opts.copy.policy.drop, META_KEEP_TIMES);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--no-perms --no-times -a a b"), CLI_RUN);
	assert_int_equal(cli.opts.copy.policy.drop, 0);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--chown root a b"), CLI_RUN);
	assert_true(cli.opts.copy.policy.chown == 1 && cli.opts.copy.policy.uid == 0);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--chown :0 a b"), CLI_RUN);
	assert_true(cli.opts.copy.policy.chown == 2);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--chmod u*x a b"), CLI_USAGE);
	assert_string_equal(message(&cli), "invalid --chmod: u*x");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--chown no-such-user-at-all a b"), CLI_USAGE);
	assert_string_equal(message(&cli),
	                    "--chown: no such user or group (USER:GROUP): no-such-user-at-all");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--chown : a b"), CLI_USAGE);
	cli_free(&cli);
	/* --backup: rsync's default suffixes; --backup-dir implies --backup. */
	assert_int_equal(parse(&cli, "-b a b"), CLI_RUN);
	assert_true(cli.opts.copy.backup && cli.opts.copy.backup_dir == NULL);
	assert_string_equal(cli.opts.copy.backup_suffix, "~");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--backup-dir old a b"), CLI_RUN);
	assert_true(cli.opts.copy.backup);
	assert_string_equal(cli.opts.copy.backup_dir, "old");
	assert_string_equal(cli.opts.copy.backup_suffix, "");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--backup --suffix .bak a b"), CLI_RUN);
	assert_string_equal(cli.opts.copy.backup_suffix, ".bak");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--backup --suffix= a b"), CLI_USAGE);
	assert_string_equal(message(&cli), "--suffix cannot be empty without --backup-dir");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--backup --suffix=x/y a b"), CLI_USAGE);
	assert_string_equal(message(&cli), "--suffix cannot contain slashes: x/y");
	cli_free(&cli);
	/* -h is not rsync's --human-readable but --help. */
	assert_int_equal(parse(&cli, "-h a b"), CLI_HELP);
	cli_free(&cli);
}

static void test_help_version(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--help"), CLI_HELP);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--check a --version"), CLI_VERSION);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--help -j 0"), CLI_HELP);
	cli_free(&cli);
	assert_int_equal(strncmp(cli_usage_text, "usage: pcopy ", 13), 0);
	assert_non_null(strstr(cli_help_text, "--manifest FILE"));
}

static void test_usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *msg;
	} cases[] = {
	    {"", "missing source operand"},
	    {"-q", "missing source operand"},
	    {"-j 0 a", "invalid number of jobs (1 to 1024): 0"},
	    {"-j 1025 a", "invalid number of jobs (1 to 1024): 1025"},
	    {"--jobs=2x a", "invalid number of jobs (1 to 1024): 2x"},
	    {"a -j", "option needs an argument: -j"},
	    {"a --tar", "option needs an argument: --tar"},
	    {"--bogus a", "unknown option: --bogus"},
	    /* An abbreviation of several long options is called ambiguous, with them all. */
	    {"--che a b", "option '--che' is ambiguous; possibilities: '--check' '--checksum'"},
	    {"--ex x a b", "option '--ex' is ambiguous; possibilities: '--exclude' "
	                   "'--exclude-from' '--existing' '--extract'"},
	    {"--inc=x a b", "option '--inc' is ambiguous; possibilities: '--include' "
	                    "'--include-from'"},
	    {"-z a", "unknown option: -z"},
	    {"-qz a", "unknown option: -z"},
	    /* An option is named as written, wherever it stands in a cluster. */
	    {"-zq a", "unknown option: -z"},
	    {"-x -zq a", "unknown option: -z"},
	    {"-\xc3\xa9 a", "unknown option: -\xc3"},
	    {"a -qj", "option needs an argument: -j"},
	    {"a --jobs", "option needs an argument: --jobs"},
	    {"--verbose=1 a", "option takes no argument: --verbose=1"},
	    {"--delete=1 a", "option takes no argument: --delete=1"},
	    {"--manifest= a", "--manifest needs a file name"},
	    {"--tar= a", "--tar needs an archive name"},
	    {"--manifest - --json a", "--manifest - and --json both want stdout"},
	    {"-n --manifest m a", "--manifest cannot be written by a dry run"},
	    {"--check a", "--check compares exactly two trees: SOURCE DEST"},
	    {"--check a b c", "--check compares exactly two trees: SOURCE DEST"},
	    {"--check --force a b", "--check copies nothing: it does not go with --manifest, "
	                            "--delete, --dry-run or --force"},
	    {"--compress gzip a", "--compress goes with --tar"},
	    {"--tar t --compress rar a",
	     "--compress takes gzip, bzip2, xz, zstd, lz4 or none, not rar"},
	    {"--tar t --delete a", "--tar does not go with --check, --delete or --dry-run"},
	    {"--tar - --json a",
	     "--tar - writes the archive to stdout: no --json or --manifest - with it"},
	    {"--tar - --manifest - a",
	     "--tar - writes the archive to stdout: no --json or --manifest - with it"},
	    {"--previous-manifest m a b", "--previous-manifest goes with --manifest, not --tar or "
	                                  "--extract"},
	    {"--previous-manifest m --manifest n --tar t a",
	     "--previous-manifest goes with --manifest, not --tar or --extract"},
	    {"--manifest m --previous-manifest - a b", "--previous-manifest needs a file name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli cli;
		assert_int_equal(parse(&cli, cases[i].line), CLI_USAGE);
		assert_string_equal(message(&cli), cases[i].msg);
		cli_free(&cli);
	}
}

/* Parsing starts afresh each time, even after an error in the middle of "-qz". */
static void test_parse_again(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "-qzv a"), CLI_USAGE);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-v a"), CLI_RUN);
	assert_false(cli.quiet);
	assert_true(cli.verbose);
	assert_int_equal(cli.noperands, 1);
	cli_free(&cli);
}

/* A usage message names a long argument whole, however long. */
/* An exact name wins over the longer names it abbreviates; a unique abbreviation works. */
static void test_abbreviations(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--check a b"), CLI_RUN);
	assert_true(cli.opts.copy.check && !cli.opts.copy.checksum);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--exclude x --include y a b"), CLI_RUN);
	assert_int_equal(cli.select.top.n, 2);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--checks --extrac a b"), CLI_RUN);
	assert_true(cli.opts.copy.checksum && cli.extract);
	cli_free(&cli);
	/* Many candidates, all on the one line. */
	assert_int_equal(parse(&cli, "--n a b"), CLI_USAGE);
	assert_true(
	    strncmp(cli.why.msg, "option '--n' is ambiguous; possibilities: '--no-acls'", 53) == 0);
	assert_true(strlen(cli.why.msg) < sizeof(cli.why.text));
	cli_free(&cli);
}

static void test_long_argument(void **state)
{
	(void)state;
	char arg[600];
	memset(arg, 'x', sizeof(arg) - 1);
	memcpy(arg, "--", 2);
	arg[sizeof(arg) - 1] = '\0';
	char *argv[] = {"pcopy", "--tar", "t.tar", "--compress", arg + 2, "a", NULL};
	struct cli cli;
	assert_int_equal(cli_parse(&cli, 6, argv, 1), CLI_USAGE);
	assert_string_equal(cli.why.msg,
	                    "--compress takes gzip, bzip2, xz, zstd, lz4 or none, not ");
	assert_string_equal(cli.why.arg, arg + 2);
	cli_free(&cli);
	char *argv2[] = {"pcopy", arg, "a", NULL};
	assert_int_equal(cli_parse(&cli, 3, argv2, 1), CLI_USAGE);
	assert_string_equal(cli.why.msg, "unknown option: ");
	assert_string_equal(cli.why.arg, arg);
	cli_free(&cli);
}

/* The usage error the words of LINE give. */
static void usage_says(const char *line, const char *msg)
{
	struct cli cli;
	assert_int_equal(parse(&cli, line), CLI_USAGE);
	assert_string_equal(message(&cli), msg);
	cli_free(&cli);
}

static void test_extract(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--extract --verify-manifest m a.tar b.tar dest"), CLI_RUN);
	assert_int_equal(cli.extract, 1);
	assert_string_equal(cli.verify_manifest, "m");
	assert_int_equal(cli.noperands, 3);
	cli_free(&cli);
	const char *no_extract = "--extract does not go with --tar, --check, --manifest, --delete, "
	                         "--dry-run or --compress";
	usage_says("--extract a.tar", "--extract needs ARCHIVE... DEST");
	usage_says("--extract --tar x.tar a.tar d", no_extract);
	usage_says("--extract --manifest m a.tar d", no_extract);
	char *argv[] = {"pcopy", "--extract", "--verify-manifest", "", "a.tar", "d", NULL};
	assert_int_equal(cli_parse(&cli, 6, argv, 2), CLI_USAGE);
	assert_string_equal(message(&cli), "--verify-manifest needs a file name");
	cli_free(&cli);
}

/* --verify-manifest FILE DIR without --extract: one DIR, nothing that writes, --unlisted. */
static void test_verify_manifest(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--verify-manifest m --unlisted dir"), CLI_RUN);
	assert_string_equal(cli.verify_manifest, "m");
	assert_int_equal(cli.unlisted, 1);
	assert_int_equal(cli.extract, 0);
	assert_int_equal(cli.noperands, 1);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--verify-manifest - --json -j 3 dir"), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 3);
	cli_free(&cli);
	const char *one = "--verify-manifest FILE without --extract checks one DIR";
	usage_says("--verify-manifest m src dst", one);
	usage_says("--verify-manifest m", one);
	const char *nothing = "--verify-manifest FILE DIR does not go with --tar, --compress, "
	                      "--check, --manifest, --delete, --dry-run or --files-from";
	usage_says("--verify-manifest m --manifest x dir", nothing);
	usage_says("--verify-manifest m --delete dir", nothing);
	usage_says("--verify-manifest m --check dir", nothing);
	usage_says("--verify-manifest m -n dir", nothing);
	usage_says("--unlisted src dst", "--unlisted goes with --verify-manifest FILE DIR");
	usage_says("--extract --verify-manifest m --unlisted a.tar d",
	           "--unlisted goes with --verify-manifest FILE DIR");
}

static void test_tar(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--tar a.tar src"), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 3); /* 4 CPUs: one is left for the writer */
	cli_free(&cli);
	assert_int_equal(parse(&cli, "-j 2 --tar a.tar src"), CLI_RUN);
	assert_int_equal(cli.opts.jobs, 2);
	cli_free(&cli);
	usage_says("--compress gzip src", "--compress goes with --tar");
	usage_says("--tar - --json src",
	           "--tar - writes the archive to stdout: no --json or --manifest - with it");
}

/* --link-dest, --copy-dest, --link-manifest (#15). */
/* Every option pcopy-mpi refuses is one cli_mpi_refused() finds in a command line (the
 * list its help leaves out and the checks are one), named as the user would look for it. */
static void test_mpi_refused(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *named;
	} uses[] = {
	    {"--tar a.tar src", "--tar"},
	    {"--tar a.tar --compress xz src", "--tar"},
	    {"--extract a.tar dst", "--extract"},
	    {"--verify-manifest m dir", "--verify-manifest"},
	    {"--verify-manifest m --unlisted dir", "--verify-manifest"},
	    {"--files-from /dev/null src dst", "--files-from"},
	    {"-b src dst", "--backup"},
	    {"--backup --suffix .old src dst", "--backup"},
	    {"--backup-dir bk src dst", "--backup"},
	    {"--link-dest ../a src dst", "--link-dest"},
	    {"--copy-dest ../a src dst", "--copy-dest"},
	    {"--link-dest ../a --link-manifest m src dst", "--link-dest"},
	    {"--bwlimit 1M src dst", "--bwlimit"},
	    {"--log-file log src dst", "--log-file"},
	    {"-i src dst", "--itemize-changes"},
	    {"--manifest m --previous-manifest m src dst", "--previous-manifest"},
	};
	struct cli cli;
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "%s", uses[i].line);
		assert_int_equal(parse(&cli, line), CLI_RUN);
		const char *named = cli_mpi_refused(&cli);
		assert_non_null(named);
		assert_string_equal(named, uses[i].named);
		int listed = 0;
		for (const char *const *o = cli_mpi_refused_options; *o != NULL; o++)
			listed |= strcmp(*o, named) == 0;
		assert_true(listed);
		cli_free(&cli);
	}
	assert_int_equal(parse(&cli, "--delete -c --manifest m src dst"), CLI_RUN);
	assert_null(cli_mpi_refused(&cli));
	cli_free(&cli);
}

static void test_snapshots(void **state)
{
	(void)state;
	struct cli cli;
	assert_int_equal(parse(&cli, "--link-dest ../a --link-dest=/b --link-manifest m src dst"),
	                 CLI_RUN);
	assert_int_equal(cli.opts.copy.nbasis, 2);
	assert_string_equal(cli.opts.copy.basis[0], "../a");
	assert_string_equal(cli.opts.copy.basis[1], "/b");
	assert_false(cli.opts.copy.basis_copy);
	assert_int_equal(cli.opts.nlink_manifest, 1);
	assert_string_equal(cli.opts.link_manifest[0], "m");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--copy-dest a src dst"), CLI_RUN);
	assert_true(cli.opts.copy.basis_copy && cli.opts.copy.nbasis == 1);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--link-dest a --copy-dest b src dst"), CLI_USAGE);
	assert_string_equal(message(&cli), "--link-dest and --copy-dest do not go together");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--link-dest= src dst"), CLI_USAGE);
	assert_string_equal(message(&cli), "--link-dest needs a directory name");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--link-manifest m src dst"), CLI_USAGE);
	assert_string_equal(message(&cli), "each --link-manifest needs its --link-dest");
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--copy-dest a --link-manifest m src dst"), CLI_USAGE);
	cli_free(&cli);
	assert_int_equal(parse(&cli, "--link-dest a --check src dst"), CLI_USAGE);
	cli_free(&cli);
	char line[1024] = "";
	for (int i = 0; i < COPY_BASIS_MAX; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "--link-dest=d%d ", i);
	assert_int_equal(parse(&cli, strcat(line, "src dst")), CLI_RUN);
	cli_free(&cli);
	line[0] = '\0';
	for (int i = 0; i <= COPY_BASIS_MAX; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "--link-dest=d%d ", i);
	assert_int_equal(parse(&cli, strcat(line, "src dst")), CLI_USAGE);
	assert_string_equal(message(&cli),
	                    "too many --link-dest or --copy-dest directories (at most 20): d20");
	cli_free(&cli);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),      cmocka_unit_test(test_options),
	    cmocka_unit_test(test_help_version),  cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_parse_again),   cmocka_unit_test(test_long_argument),
	    cmocka_unit_test(test_abbreviations), cmocka_unit_test(test_extract),
	    cmocka_unit_test(test_tar),           cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_verify_manifest),
	    cmocka_unit_test(test_snapshots),
	    cmocka_unit_test(test_mpi_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
