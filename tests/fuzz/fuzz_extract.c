/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: pcopy --extract (lib/tar/untar.c) on arbitrary archive bytes.
 *
 * Each input is written to a file of its own and extracted, with every format and filter
 * libarchive reads, into D, a subdirectory of a fresh scratch directory S. Whatever the
 * bytes, the extraction must return a documented status (0, 1 or 2), leave no temporary file
 * in D, and write nothing outside D: afterwards S holds D and nothing else. Then S is removed
 * and the working directory restored (untar_extract enters D). Members declaring more than
 * MAX_SIZE bytes are refused, so that a mutated size field costs no minutes of hashing holes.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tmpname.h"
#include "fuzz.h"
#include "tar/untar.h"

#define MAX_SIZE ((int64_t)1 << 20)

static volatile sig_atomic_t never;

/* nftw: make every directory enterable and removable (archives set modes like 000). */
static int open_up(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

/* nftw, depth first: remove everything. */
static int remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)f;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* nftw: a temporary file left behind? */
static int tmp_found;
static int find_tmp(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)type;
	if (tmpname_is(path + f->base))
		tmp_found = 1;
	return 0;
}

/* The names in directory S other than "." and "..": exactly one, "d". */
static int only_dest(const char *s)
{
	DIR *d = opendir(s);
	FUZZ_CHECK(d != NULL);
	int n = 0, other = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		other |= strcmp(de->d_name, "d") != 0;
	}
	closedir(d);
	return n == 1 && !other;
}

static void no_hook(void *ctx, const char *archive, const char *path, const char *reason, int err)
{
	(void)ctx, (void)archive, (void)path, (void)reason, (void)err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmpdir = getenv("TMPDIR");
	char scratch[4096], archive[4096], dest[4200];
	snprintf(scratch, sizeof(scratch), "%s/pcopy-fuzz-extract.XXXXXX",
	         tmpdir ? tmpdir : "/tmp");
	snprintf(archive, sizeof(archive), "%s/pcopy-fuzz-archive.XXXXXX",
	         tmpdir ? tmpdir : "/tmp");
	FUZZ_CHECK(mkdtemp(scratch) != NULL);
	int fd = mkstemp(archive);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(close(fd) == 0);
	snprintf(dest, sizeof(dest), "%s/d", scratch);

	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(cwd >= 0);
	struct untar_opts o = {dest, NULL, 0, MAX_SIZE, &never};
	struct untar_hooks hooks = {NULL, no_hook, NULL, NULL};
	char *archives[] = {archive};
	char err[1024] = "";
	int status = untar_extract(&o, archives, 1, &hooks, err, sizeof(err));
	FUZZ_CHECK(fchdir(cwd) == 0);
	close(cwd);

	FUZZ_CHECK(status == 0 || status == 1 || status == 2);
	FUZZ_CHECK(only_dest(scratch));
	nftw(scratch, open_up, 16, FTW_PHYS);
	tmp_found = 0;
	nftw(dest, find_tmp, 16, FTW_PHYS);
	FUZZ_CHECK(!tmp_found);
	nftw(scratch, remove_one, 16, FTW_PHYS | FTW_DEPTH);
	rmdir(scratch);
	unlink(archive);
	return 0;
}
