/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli: pcopy's command line (see cli.h). The option table is the one place options are
 * named; the checks after getopt_long are the combinations the man page rules out.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Long-only options. */
enum {
	OPT_BACKUP_DIR = 256,
	OPT_BWLIMIT,
	OPT_CHECK,
	OPT_CHMOD,
	OPT_CHOWN,
	OPT_COPY_DEST,
	OPT_COMPRESS,
	OPT_DELETE,
	OPT_DELETE_EXCLUDED,
	OPT_EXCLUDE,
	OPT_EXISTING,
	OPT_EXCLUDE_FROM,
	OPT_EXTRACT,
	OPT_FILES_FROM,
	OPT_FILTER,
	OPT_FORCE,
	OPT_FSYNC,
	OPT_INCLUDE,
	OPT_IGNORE_EXISTING,
	OPT_INCLUDE_FROM,
	OPT_JSON,
	OPT_JSON_PROGRESS,
	OPT_LINK_DEST,
	OPT_LINK_MANIFEST,
	OPT_LOG_FILE,
	OPT_MANIFEST,
	OPT_MAX_DELETE,
	OPT_MAX_SIZE,
	OPT_MIN_SIZE,
	OPT_NO_ACLS,
	OPT_NO_GROUP,
	OPT_NO_OWNER,
	OPT_NO_PERMS,
	OPT_NO_TIMES,
	OPT_NO_VERIFY,
	OPT_NO_XATTRS,
	OPT_NUMERIC_IDS,
	OPT_PREVIOUS_MANIFEST,
	OPT_PROGRESS,
	OPT_SIZE_ONLY,
	OPT_STATS,
	OPT_SUFFIX,
	OPT_TAR,
	OPT_UNLISTED,
	OPT_VERIFY_MANIFEST,
	OPT_VERSION,
};

/* ':' first: a missing argument is told apart from an unknown option. */
/* -a and rsync's -rlptgoDHAX: what pcopy always does, accepted from habit (HABIT). */
static const char shortopts[] = ":0ADHPXabcghij:lnopqrtuvx";
static const char habit_opts[] = "ADHXagloprt";

/* Sorted by long name. */
static const struct option longopts[] = {
    {"backup", no_argument, NULL, 'b'},
    {"backup-dir", required_argument, NULL, OPT_BACKUP_DIR},
    {"bwlimit", required_argument, NULL, OPT_BWLIMIT},
    {"check", no_argument, NULL, OPT_CHECK},
    {"checksum", no_argument, NULL, 'c'},
    {"chmod", required_argument, NULL, OPT_CHMOD},
    {"chown", required_argument, NULL, OPT_CHOWN},
    {"compress", required_argument, NULL, OPT_COMPRESS},
    {"copy-dest", required_argument, NULL, OPT_COPY_DEST},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"delete-excluded", no_argument, NULL, OPT_DELETE_EXCLUDED},
    {"dry-run", no_argument, NULL, 'n'},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM},
    {"existing", no_argument, NULL, OPT_EXISTING},
    {"extract", no_argument, NULL, OPT_EXTRACT},
    {"files-from", required_argument, NULL, OPT_FILES_FROM},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"force", no_argument, NULL, OPT_FORCE},
    {"from0", no_argument, NULL, '0'},
    {"fsync", no_argument, NULL, OPT_FSYNC},
    {"help", no_argument, NULL, 'h'},
    {"ignore-existing", no_argument, NULL, OPT_IGNORE_EXISTING},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"include-from", required_argument, NULL, OPT_INCLUDE_FROM},
    {"itemize-changes", no_argument, NULL, 'i'},
    {"jobs", required_argument, NULL, 'j'},
    {"json", no_argument, NULL, OPT_JSON},
    {"json-progress", no_argument, NULL, OPT_JSON_PROGRESS},
    {"link-dest", required_argument, NULL, OPT_LINK_DEST},
    {"link-manifest", required_argument, NULL, OPT_LINK_MANIFEST},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"max-delete", required_argument, NULL, OPT_MAX_DELETE},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"min-size", required_argument, NULL, OPT_MIN_SIZE},
    {"no-acls", no_argument, NULL, OPT_NO_ACLS},
    {"no-group", no_argument, NULL, OPT_NO_GROUP},
    {"no-owner", no_argument, NULL, OPT_NO_OWNER},
    {"no-perms", no_argument, NULL, OPT_NO_PERMS},
    {"no-times", no_argument, NULL, OPT_NO_TIMES},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"no-xattrs", no_argument, NULL, OPT_NO_XATTRS},
    {"numeric-ids", no_argument, NULL, OPT_NUMERIC_IDS},
    {"one-file-system", no_argument, NULL, 'x'},
    {"previous-manifest", required_argument, NULL, OPT_PREVIOUS_MANIFEST},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"recursive", no_argument, NULL, 'r'},
    {"size-only", no_argument, NULL, OPT_SIZE_ONLY},
    {"stats", no_argument, NULL, OPT_STATS},
    {"suffix", required_argument, NULL, OPT_SUFFIX},
    {"tar", required_argument, NULL, OPT_TAR},
    {"unlisted", no_argument, NULL, OPT_UNLISTED},
    {"update", no_argument, NULL, 'u'},
    {"verbose", no_argument, NULL, 'v'},
    {"verify-manifest", required_argument, NULL, OPT_VERIFY_MANIFEST},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

const char cli_usage_text[] = "usage: pcopy [OPTION]... SOURCE [DEST]\n"
                              "       pcopy [OPTION]... SOURCE... DIRECTORY\n"
                              "       pcopy [OPTION]... --tar ARCHIVE SOURCE...\n"
                              "       pcopy [OPTION]... --extract ARCHIVE... DEST\n"
                              "       pcopy [OPTION]... --check SOURCE DEST\n"
                              "       pcopy [OPTION]... --verify-manifest FILE DIR\n";

const char cli_help_text[] =
    "Copy SOURCE to DEST (default: SOURCE-backup), or several SOURCEs into DIRECTORY,\n"
    "with a pool of worker processes that hash (XXH3-128) and verify every file.\n"
    "\n"
    "      --tar ARCHIVE      write the SOURCEs into a pax archive ('-': tar on\n"
    "                         stdout); compression by suffix (.tar.gz .tgz .tar.bz2\n"
    "                         .tar.xz .tar.zst .tar.lz4); -j's default: one fewer\n"
    "      --compress NAME    with --tar: gzip, bzip2, xz, zstd, lz4 or none,\n"
    "                         whatever the suffix\n"
    "      --extract          extract the ARCHIVEs ('-': stdin) into DEST (created\n"
    "                         if missing)\n"
    "      --verify-manifest FILE  with --extract: put a file in place only when its\n"
    "                         XXH3-128 matches FILE's line for it; report what is\n"
    "                         missing. Without: check DIR against FILE ('-': stdin),\n"
    "                         one line per file that differs, exit 1 if any\n"
    "      --unlisted         with --verify-manifest DIR: also report the files\n"
    "                         that FILE does not list\n"
    "      --check            compare SOURCE and DEST (content and metadata), copy\n"
    "                         nothing; print one line per difference, exit 1 when\n"
    "                         they differ\n"
    "  -c, --checksum         re-runs compare content hashes, not size and mtime\n"
    "      --delete           remove from DEST what SOURCE no longer has\n"
    "      --delete-excluded  --delete, and remove excluded entries from DEST too\n"
    "      --max-delete N     delete at most N entries (the rest: a warning, exit 1)\n"
    "  -n, --dry-run          list what would be copied or deleted; change nothing\n"
    "      --exclude PATTERN  skip paths matching PATTERN (rsync rules; repeatable)\n"
    "      --include PATTERN  take paths matching PATTERN (first matching rule wins)\n"
    "      --exclude-from FILE  --exclude each line of FILE ('-': stdin)\n"
    "      --include-from FILE  --include each line of FILE ('-': stdin)\n"
    "      --files-from FILE  copy only the names in FILE ('-': stdin), with their\n"
    "                         parent directories; 'dir/' also its contents\n"
    "  -0, --from0            --files-from's names end with a NUL, not a newline\n"
    "  -r, --recursive        with --files-from: copy everything below each name\n"
    "      --filter RULE      an rsync filter rule: '- PATTERN', '+ PATTERN',\n"
    "                         'merge FILE', 'dir-merge NAME' (per-directory rules)\n"
    "      --max-size SIZE    skip files larger than SIZE (K M G suffixes, as rsync)\n"
    "      --min-size SIZE    skip files smaller than SIZE\n"
    "      --force            copy every file, even those that look up to date;\n"
    "                         with --delete, let an empty SOURCE empty DEST\n"
    "  -u, --update           keep files that are newer in DEST (mtime)\n"
    "      --ignore-existing  leave every file DEST already has as it is\n"
    "      --existing         create nothing new in DEST: only update what it has\n"
    "      --size-only        same size means up to date, whatever the mtime\n"
    "      --bwlimit RATE     write at most RATE KiB/s, all workers together (K M G\n"
    "                         suffixes, as rsync; 0: no limit)\n"
    "      --fsync            sync each file to disk before renaming it into place,\n"
    "                         and each directory once its contents are in place\n"
    "  -j, --jobs N           use N worker processes (default: online CPUs)\n"
    "      --json             print one JSON object per event, and a summary, on\n"
    "                         stdout\n"
    "      --json-progress    --json, and a progress event every second\n"
    "      --manifest FILE    write an xxh128sum-format manifest to FILE ('-':\n"
    "                         stdout)\n"
    "      --previous-manifest FILE  take the hashes of files DEST still has\n"
    "                         unchanged (stat data) from FILE, an earlier --manifest\n"
    "      --no-verify        do not re-read and hash what was written\n"
    "  -x, --one-file-system  do not descend into other file systems\n"
    "      --progress         show the progress line even when stderr is not a\n"
    "                         terminal\n"
    "  -q, --quiet            no progress line\n"
    "      --stats            print a summary at the end\n"
    "  -v, --verbose          list each file copied\n"
    "  -i, --itemize-changes  print rsync's line for each change ('>f.st...... NAME')\n"
    "      --log-file FILE    append those lines to FILE, each with a timestamp\n"
    "      --no-perms         keep the modes DEST has; new files: SOURCE's less umask\n"
    "      --no-owner         keep the owners DEST has; new files: pcopy's (as root)\n"
    "      --no-group         keep the groups DEST has; new files: pcopy's\n"
    "      --no-times         do not copy modification times\n"
    "      --no-xattrs        do not copy extended attributes (other than ACLs)\n"
    "      --no-acls          do not copy POSIX ACLs\n"
    "      --numeric-ids      accepted: owners are always kept by number\n"
    "      --chmod CHMOD      change modes on the way (rsync's: D755,F644, u+w, Dg+s)\n"
    "      --chown USER:GROUP  copies owned by USER and GROUP (as root)\n"
    "  -b, --backup           move what a copy replaces or --delete removes to NAME~\n"
    "      --suffix SUFFIX    --backup's suffix (default: ~; none with --backup-dir)\n"
    "      --backup-dir DIR   --backup into DIR (relative: to DEST), on DEST's disk\n"
    "      --link-dest DIR    hard-link files unchanged since snapshot DIR (relative:\n"
    "                         to DEST; up to 20); a run that succeeds marks DEST done\n"
    "      --copy-dest DIR    the same, but copy them from DIR\n"
    "      --link-manifest FILE  DIR's manifest: its proven hashes spare re-reading\n"
    "  -P                     --progress (pcopy never keeps partial files)\n"
    "  -a, -rlptgoDHAX        rsync's: accepted, as pcopy always does what they ask\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Exit status: 0 done, 1 some files failed, 2 usage or fatal error, 130/143\n"
    "interrupted.\n";

/* Record a usage error: MSG and ARG make the one line. Returns CLI_USAGE. */
static enum cli_action usage(struct cli *cli, const char *msg, const char *arg)
{
	cli->why.msg = msg;
	cli->why.arg = arg;
	cli->action = CLI_USAGE;
	return CLI_USAGE;
}

const char *const cli_mpi_refused_options[] = {"--tar",
                                               "--compress",
                                               "--extract",
                                               "--verify-manifest",
                                               "--unlisted",
                                               "--files-from",
                                               "--backup",
                                               "--suffix",
                                               "--backup-dir",
                                               "--link-dest",
                                               "--copy-dest",
                                               "--link-manifest",
                                               "--bwlimit",
                                               "--log-file",
                                               "--itemize-changes",
                                               "--previous-manifest",
                                               NULL};

const char *cli_mpi_refused(const struct cli *cli)
{
	const struct run_opts *o = &cli->opts;
	if (cli->tar.archive != NULL)
		return "--tar";
	if (cli->extract)
		return "--extract";
	if (cli->verify_manifest != NULL)
		return "--verify-manifest";
	if (cli->files_from != NULL)
		return "--files-from";
	if (o->copy.backup)
		return "--backup";
	if (o->copy.nbasis > 0)
		return o->copy.basis_copy ? "--copy-dest" : "--link-dest";
	if (o->nlink_manifest > 0)
		return "--link-manifest";
	if (o->copy.bwlimit > 0)
		return "--bwlimit";
	if (cli->itemize)
		return "--itemize-changes";
	if (cli->log_file != NULL)
		return "--log-file";
	if (o->previous_manifest != NULL)
		return "--previous-manifest";
	return NULL;
}

int cli_parse_jobs(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > CLI_MAX_JOBS)
		return 0;
	return (int)v;
}

/* Word into WHY an ambiguous abbreviation ARG ("--ex", "--ex=x") of NAMES', as GNU
   getopt does. Returns 0, or -1 when ARG abbreviates fewer than two of them. */
static int ambiguous_option(struct cli_reason *why, const char *arg, const struct option *names)
{
	if (names == NULL || strncmp(arg, "--", 2) != 0)
		return -1;
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	if (n == 0)
		return -1;
	size_t size = sizeof(why->text), len = 0;
	int matches = 0;
	int w =
	    snprintf(why->text, size, "option '--%.*s' is ambiguous; possibilities:", (int)n, name);
	len = w < 0 ? 0 : (size_t)w < size ? (size_t)w : size - 1;
	for (const struct option *o = names; o->name != NULL; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (strlen(o->name) == n) /* an exact match wins: not ambiguous */
			return -1;
		matches++;
		w = snprintf(why->text + len, size - len, " '--%s'", o->name);
		len = w < 0 ? len : len + (size_t)w < size ? len + (size_t)w : size - 1;
	}
	if (matches < 2)
		return -1;
	why->msg = why->text;
	why->arg = "";
	return 0;
}

void cli_rejected_option(struct cli_reason *why, int c, char **argv, const char *optstring,
                         const struct option *names)
{
	const char *arg = argv[optind - 1];
	if (c == '?' && optopt == 0 && ambiguous_option(why, arg, names) == 0)
		return;
	/* optopt is 0 for an unknown or ambiguous long option, the option's value for a known
	   one (a long-only option's enum, or the letter of its short form), and the letter
	   for a short option. A letter that is not in OPTSTRING came from a short option, which
	   may be in the middle of a cluster (so not ARG); a letter that is came from a long
	   option if ARG is one, as a short option fails on a known letter only for its missing
	   argument at the very end of ARGV, and then ARG is that cluster. */
	int is_long = optopt == 0 || optopt >= 256 ||
	              (strchr(optstring, optopt) != NULL && strncmp(arg, "--", 2) == 0);
	if (c == ':')
		why->msg = "option needs an argument: ";
	else if (is_long && optopt != 0)
		why->msg = "option takes no argument: ";
	else
		why->msg = "unknown option: ";
	why->arg = arg;
	if (!is_long) {
		why->opt[0] = '-';
		why->opt[1] = (char)optopt;
		why->opt[2] = '\0';
		why->arg = why->opt;
	}
}

/* A selection option C with OPTARG: a rule, a file of them, a size limit. */
/* --link-dest DIR, --copy-dest DIR (C): one more snapshot to take unchanged files from; the
 * two do not mix (rsync's). */
static enum cli_action take_basis(struct cli *cli, int c)
{
	struct copy_opts *o = &cli->opts.copy;
	int copy = c == OPT_COPY_DEST;
	if (optarg[0] == '\0')
		return usage(cli, copy ? "--copy-dest" : "--link-dest", " needs a directory name");
	if (o->nbasis > 0 && o->basis_copy != copy)
		return usage(cli, "--link-dest and --copy-dest do not go together", "");
	if (o->nbasis == COPY_BASIS_MAX)
		return usage(
		    cli, "too many --link-dest or --copy-dest directories (at most 20): ", optarg);
	o->basis_copy = copy;
	o->basis[o->nbasis++] = optarg;
	return CLI_RUN;
}

static enum cli_action take_select(struct cli *cli, int c)
{
	struct select_rules *s = &cli->select;
	int rc;
	switch (c) {
	case OPT_EXCLUDE: rc = select_add(s, optarg, SELECT_AS_EXCLUDE); break;
	case OPT_INCLUDE: rc = select_add(s, optarg, SELECT_AS_INCLUDE); break;
	case OPT_FILTER: rc = select_add(s, optarg, SELECT_FILTER); break;
	case OPT_EXCLUDE_FROM: rc = select_add_file(s, optarg, SELECT_AS_EXCLUDE); break;
	case OPT_INCLUDE_FROM: rc = select_add_file(s, optarg, SELECT_AS_INCLUDE); break;
	default: rc = select_set_size(s, c == OPT_MAX_SIZE, optarg); break;
	}
	return rc == 0 ? CLI_RUN : usage(cli, select_error(s), "");
}

int cli_parse_chown(const char *s, struct meta_policy *p)
{
	const char *colon = strchr(s, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	char user[256];
	if (ulen >= sizeof(user) || (ulen == 0 && (colon == NULL || colon[1] == '\0')))
		return -1;
	memcpy(user, s, ulen);
	user[ulen] = '\0';
	char *end;
	unsigned chown = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	if (ulen > 0) {
		struct passwd *pw = getpwnam(user);
		unsigned long v = strtoul(user, &end, 10);
		if (pw != NULL)
			uid = pw->pw_uid;
		else if (*end == '\0' && user[0] >= '0' && user[0] <= '9' && v < (uid_t)-1)
			uid = (uid_t)v;
		else
			return -1;
		chown |= 1;
	}
	if (colon != NULL && colon[1] != '\0') {
		struct group *gr = getgrnam(colon + 1);
		unsigned long v = strtoul(colon + 1, &end, 10);
		if (gr != NULL)
			gid = gr->gr_gid;
		else if (*end == '\0' && colon[1] >= '0' && colon[1] <= '9' && v < (gid_t)-1)
			gid = (gid_t)v;
		else
			return -1;
		chown |= 2;
	}
	p->chown = chown;
	p->uid = uid;
	p->gid = gid;
	return 0;
}

/* --no-perms ..., --chmod, --chown: what copies take of their source's metadata. */
static enum cli_action take_meta(struct cli *cli, int c)
{
	struct meta_policy *p = &cli->opts.copy.policy;
	switch (c) {
	case OPT_NO_ACLS: p->drop |= META_KEEP_ACLS; break;
	case OPT_NO_GROUP: p->drop |= META_KEEP_GROUP; break;
	case OPT_NO_OWNER: p->drop |= META_KEEP_OWNER; break;
	case OPT_NO_PERMS: p->drop |= META_KEEP_PERMS; break;
	case OPT_NO_TIMES: p->drop |= META_KEEP_TIMES; break;
	case OPT_NO_XATTRS: p->drop |= META_KEEP_XATTRS; break;
	case OPT_NUMERIC_IDS: break; /* owners are kept by number: see the man page */
	case OPT_CHMOD:
		if (meta_chmod_parse(p, optarg) != 0)
			return usage(
			    cli, errno == E2BIG ? "too many --chmod rules: " : "invalid --chmod: ",
			    optarg);
		break;
	default:
		if (cli_parse_chown(optarg, p) != 0)
			return usage(cli, "--chown: no such user or group (USER:GROUP): ", optarg);
		break;
	}
	return CLI_RUN;
}

/* The META_KEEP_* bits that rsync's letter C asks to keep. */
static unsigned habit_keeps(int c)
{
	switch (c) {
	case 'a': return META_KEEP_PERMS | META_KEEP_OWNER | META_KEEP_GROUP | META_KEEP_TIMES;
	case 'p': return META_KEEP_PERMS;
	case 'o': return META_KEEP_OWNER;
	case 'g': return META_KEEP_GROUP;
	case 't': return META_KEEP_TIMES;
	case 'X': return META_KEEP_XATTRS;
	case 'A': return META_KEEP_ACLS;
	default: return 0;
	}
}

/* --bwlimit S, rsync's way: a size (select_parse_size) per second, in KiB when it has no
 * unit; 0 or at least 512 bytes. Returns 0 with *BYTES set, or -1. */
static int parse_bwlimit(const char *s, uint64_t *bytes)
{
	char text[64];
	size_t n = strlen(s);
	if (n == 0 || n + 2 > sizeof(text))
		return -1;
	memcpy(text, s, n + 1);
	if ((s[n - 1] >= '0' && s[n - 1] <= '9') || s[n - 1] == '.') {
		const char *sign = strpbrk(text, "+-");
		/* "1.5" is "1.5K"; "1k+1" keeps its unit */
		if (sign == NULL) {
			text[n] = 'K';
			text[n + 1] = '\0';
		}
	}
	int64_t v;
	if (select_parse_size(text, &v) != 0 || v < 0 || (v > 0 && v < 512))
		return -1;
	*bytes = (uint64_t)v;
	return 0;
}

/* Set one option from getopt_long's C and OPTARG; returns CLI_RUN or what stops parsing. */
static enum cli_action take_option(struct cli *cli, int c, char **argv)
{
	struct run_opts *o = &cli->opts;
	switch (c) {
	case 'c': o->copy.checksum = 1; break;
	case OPT_CHECK: o->copy.check = 1; break;
	case 'j':
		o->jobs = cli_parse_jobs(optarg);
		cli->jobs_set = 1;
		if (o->jobs == 0)
			return usage(cli, "invalid number of jobs (1 to 1024): ", optarg);
		break;
	case 'n': o->copy.dry_run = 1; break;
	case 'q': cli->quiet = 1; break;
	case 'v': cli->verbose = 1; break;
	case 'x': o->one_fs = 1; break;
	case 'u': o->copy.update = 1; break;
	case 'b': o->copy.backup = 1; break;
	case OPT_BACKUP_DIR:
		if (optarg[0] == '\0')
			return usage(cli, "--backup-dir needs a directory name", "");
		o->copy.backup = 1; /* as rsync: --backup-dir implies --backup */
		o->copy.backup_dir = optarg;
		break;
	case OPT_SUFFIX: o->copy.backup_suffix = optarg; break;
	case OPT_LINK_DEST:
	case OPT_COPY_DEST: return take_basis(cli, c);
	case OPT_LINK_MANIFEST:
		if (o->nlink_manifest == COPY_BASIS_MAX)
			return usage(cli, "too many --link-manifest files (at most 20): ", optarg);
		o->link_manifest[o->nlink_manifest++] = optarg;
		break;
	case 'P': cli->force_progress = 1; break;
	case OPT_EXISTING: o->copy.existing = 1; break;
	case OPT_IGNORE_EXISTING: o->copy.ignore_existing = 1; break;
	case OPT_SIZE_ONLY: o->copy.size_only = 1; break;
	case OPT_DELETE: o->delete_extra = 1; break;
	case OPT_DELETE_EXCLUDED: o->delete_extra = o->delete_excluded = 1; break;
	case OPT_EXCLUDE:
	case OPT_EXCLUDE_FROM:
	case OPT_FILTER:
	case OPT_INCLUDE:
	case OPT_INCLUDE_FROM:
	case OPT_MAX_SIZE:
	case OPT_MIN_SIZE: return take_select(cli, c);
	case OPT_CHMOD:
	case OPT_CHOWN:
	case OPT_NO_ACLS:
	case OPT_NO_GROUP:
	case OPT_NO_OWNER:
	case OPT_NO_PERMS:
	case OPT_NO_TIMES:
	case OPT_NO_XATTRS:
	case OPT_NUMERIC_IDS: return take_meta(cli, c);
	case OPT_FILES_FROM:
		if (optarg[0] == '\0')
			return usage(cli, "--files-from needs a file name", "");
		cli->files_from = optarg;
		break;
	case '0': cli->from0 = 1; break;
	case OPT_FORCE: o->copy.force = 1; break;
	case OPT_FSYNC: o->copy.fsync = 1; break;
	case OPT_JSON: cli->json = 1; break;
	case OPT_JSON_PROGRESS: cli->json = cli->json_progress = 1; break;
	case OPT_BWLIMIT:
		if (parse_bwlimit(optarg, &o->copy.bwlimit) != 0)
			return usage(cli,
			             "--bwlimit takes a rate of 512 bytes/s or more, or 0, not ",
			             optarg);
		break;
	case 'i': cli->itemize = 1; break;
	case OPT_LOG_FILE:
		if (optarg[0] == '\0')
			return usage(cli, "--log-file needs a file name", "");
		cli->log_file = optarg;
		break;
	case OPT_MANIFEST:
		if (optarg[0] == '\0')
			return usage(cli, "--manifest needs a file name", "");
		o->manifest = optarg;
		break;
	case OPT_PREVIOUS_MANIFEST:
		if (optarg[0] == '\0' || strcmp(optarg, "-") == 0)
			return usage(cli, "--previous-manifest needs a file name", "");
		o->previous_manifest = optarg;
		break;
	case OPT_MAX_DELETE: {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(optarg, &end, 10);
		if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-')
			return usage(cli, "--max-delete takes a number of entries, not ", optarg);
		o->max_delete_set = 1;
		o->max_delete = v;
		break;
	}
	case OPT_NO_VERIFY: o->copy.verify = 0; break;
	case OPT_PROGRESS: cli->force_progress = 1; break;
	case OPT_STATS: cli->stats = 1; break;
	case OPT_TAR:
		if (optarg[0] == '\0')
			return usage(cli, "--tar needs an archive name", "");
		cli->tar.archive = optarg;
		break;
	case OPT_COMPRESS: cli->tar.compress = optarg; break;
	case OPT_EXTRACT: cli->extract = 1; break;
	case OPT_UNLISTED: cli->unlisted = 1; break;
	case OPT_VERIFY_MANIFEST:
		if (optarg[0] == '\0')
			return usage(cli, "--verify-manifest needs a file name", "");
		cli->verify_manifest = optarg;
		break;
	case 'h': return cli->action = CLI_HELP;
	case OPT_VERSION: return cli->action = CLI_VERSION;
	default:
		if (c > 0 && c < 256 && strchr(habit_opts, c) != NULL) {
			/* -a, -r, -l ...: what pcopy does anyway, and as rsync's, they undo
			 * a --no-perms ... given before them */
			o->copy.policy.drop &= ~habit_keeps(c);
			if (c == 'r') /* with --files-from: everything below each name */
				cli->from.recursive = 1;
			break;
		}
		cli_rejected_option(&cli->why, c, argv, shortopts, longopts);
		return cli->action = CLI_USAGE;
	}
	return CLI_RUN;
}

/* The combinations --extract and --verify-manifest rule out. */
static enum cli_action check_extract(struct cli *cli)
{
	const struct run_opts *o = &cli->opts;
	if (cli->unlisted)
		return usage(cli, "--unlisted goes with --verify-manifest FILE DIR", "");
	if (!cli->extract)
		return CLI_RUN;
	if (cli->tar.archive != NULL || o->copy.check || o->manifest != NULL || o->delete_extra ||
	    o->copy.dry_run || cli->tar.compress != NULL)
		return usage(cli,
		             "--extract does not go with --tar, --check, --manifest, --delete, "
		             "--dry-run or --compress",
		             "");
	if (cli->noperands < 2)
		return usage(cli, "--extract needs ARCHIVE... DEST", "");
	return CLI_RUN;
}

/* --backup's suffix, rsync's default when none was given ("~", or none with --backup-dir),
 * and what rsync refuses of it. */
static enum cli_action check_backup(struct cli *cli)
{
	struct copy_opts *c = &cli->opts.copy;
	if (c->backup_suffix == NULL)
		c->backup_suffix = c->backup_dir != NULL ? "" : "~";
	if (strchr(c->backup_suffix, '/') != NULL)
		return usage(cli, "--suffix cannot contain slashes: ", c->backup_suffix);
	if (c->backup && c->backup_dir == NULL && c->backup_suffix[0] == '\0')
		return usage(cli, "--suffix cannot be empty without --backup-dir", "");
	return CLI_RUN;
}

/* --verify-manifest FILE DIR without --extract: check DIR against FILE, change nothing. */
static enum cli_action check_verify(struct cli *cli)
{
	const struct run_opts *o = &cli->opts;
	if (cli->noperands != 1)
		return usage(cli, "--verify-manifest FILE without --extract checks one DIR", "");
	if (cli->tar.archive != NULL || cli->tar.compress != NULL || o->copy.check ||
	    o->manifest != NULL || o->delete_extra || o->copy.dry_run || cli->files_from != NULL)
		return usage(
		    cli,
		    "--verify-manifest FILE DIR does not go with --tar, --compress, --check, "
		    "--manifest, --delete, --dry-run or --files-from",
		    "");
	return CLI_RUN;
}

/* The combinations of options and operands the man page rules out. */
static enum cli_action check_combinations(struct cli *cli)
{
	const struct run_opts *o = &cli->opts;
	const struct tarout_opts *t = &cli->tar;
	if (cli->verify_manifest != NULL && !cli->extract)
		return check_verify(cli);
	if (cli->noperands < 1)
		return usage(cli, "missing source operand", "");
	if (check_backup(cli) != CLI_RUN)
		return CLI_USAGE;
	if (o->manifest != NULL && strcmp(o->manifest, "-") == 0 && cli->json)
		return usage(cli, "--manifest - and --json both want stdout", "");
	if (o->nlink_manifest > 0 && (o->copy.basis_copy || o->nlink_manifest > o->copy.nbasis))
		return usage(cli, "each --link-manifest needs its --link-dest", "");
	if (o->copy.nbasis > 0 && (o->copy.check || t->archive != NULL || cli->extract))
		return usage(
		    cli, "--link-dest and --copy-dest do not go with --check, --tar or --extract",
		    "");
	if (o->copy.dry_run && o->manifest != NULL)
		return usage(cli, "--manifest cannot be written by a dry run", "");
	if (o->previous_manifest != NULL &&
	    (o->manifest == NULL || cli->tar.archive != NULL || cli->extract))
		return usage(
		    cli, "--previous-manifest goes with --manifest, not --tar or --extract", "");
	if (o->copy.check && cli->noperands != 2)
		return usage(cli, "--check compares exactly two trees: SOURCE DEST", "");
	if (o->copy.check &&
	    (o->manifest != NULL || o->delete_extra || o->copy.dry_run || o->copy.force))
		return usage(cli,
		             "--check copies nothing: it does not go with --manifest, --delete, "
		             "--dry-run or --force",
		             "");
	if (t->compress != NULL && t->archive == NULL)
		return usage(cli, "--compress goes with --tar", "");
	if (t->compress != NULL && !tarout_compression_valid(t->compress))
		return usage(cli, "--compress takes gzip, bzip2, xz, zstd, lz4 or none, not ",
		             t->compress);
	if (t->archive != NULL && (o->copy.check || o->delete_extra || o->copy.dry_run))
		return usage(cli, "--tar does not go with --check, --delete or --dry-run", "");
	if (t->archive != NULL && strcmp(t->archive, "-") == 0 &&
	    (cli->json || (o->manifest != NULL && strcmp(o->manifest, "-") == 0)))
		return usage(
		    cli, "--tar - writes the archive to stdout: no --json or --manifest - with it",
		    "");
	if (cli->files_from != NULL &&
	    (o->delete_extra || t->archive != NULL || cli->extract || o->copy.check))
		return usage(
		    cli, "--files-from does not go with --delete, --tar, --extract or --check", "");
	if (cli->files_from != NULL && cli->noperands > 2)
		return usage(cli, "--files-from takes one SOURCE directory", "");
	if (o->copy.bwlimit > 0 && (t->archive != NULL || cli->extract))
		return usage(cli, "--bwlimit does not go with --tar or --extract", "");
	if (cli->itemize && cli->json)
		return usage(cli, "-i and --json both want stdout", "");
	if ((cli->itemize || cli->log_file != NULL) &&
	    (t->archive != NULL || cli->extract || o->copy.check))
		return usage(cli, "-i and --log-file do not go with --tar, --extract or --check",
		             "");
	return check_extract(cli);
}

enum cli_action cli_parse(struct cli *cli, int argc, char **argv, int ncpu)
{
	memset(cli, 0, sizeof(*cli));
	cli->opts.copy.verify = 1;
	cli->opts.jobs = ncpu > 0 ? ncpu : 1;
	select_init(&cli->select);
	select_from_init(&cli->from);
	cli->opts.select = &cli->select;
	optind = 0; /* glibc: a full reset, so parsing may run again */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		enum cli_action a = take_option(cli, c, argv);
		if (a != CLI_RUN)
			return a;
	}
	if (cli->files_from != NULL) {
		if (select_from_read(&cli->from, cli->files_from, cli->from0) != 0)
			return usage(cli, cli->from.err, "");
		cli->opts.from = &cli->from;
	}
	cli->operands = argv + optind;
	cli->noperands = (size_t)(argc - optind);
	/* --tar: the writer is busy all the time, so by default it gets a CPU of its own. */
	if (cli->tar.archive != NULL && !cli->jobs_set && ncpu > 1)
		cli->opts.jobs = ncpu - 1;
	return check_combinations(cli);
}

void cli_free(struct cli *cli)
{
	select_free(&cli->select);
	select_from_free(&cli->from);
	cli->opts.select = NULL;
	cli->opts.from = NULL;
}
