/* SPDX-License-Identifier: BSD-2-Clause */
/* compress: the compression --tar uses, by name or by the archive's suffix (see tarout.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tar/internal.h"

const char *tarout_compression_for(const char *name)
{
	static const struct {
		const char *suffix, *filter;
	} map[] = {{".tar.gz", "gzip"}, {".tgz", "gzip"},     {".tar.bz2", "bzip2"},
	           {".tar.xz", "xz"},   {".tar.zst", "zstd"}, {".tar.lz4", "lz4"}};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t k = strlen(map[i].suffix);
		/* Whatever the case, as GNU tar's -a: "BACKUP.TAR.GZ" is gzipped too. */
		if (n >= k && strcasecmp(name + n - k, map[i].suffix) == 0)
			return map[i].filter;
	}
	return "none";
}

int tarout_compression_valid(const char *c)
{
	static const char *const names[] = {"none", "gzip", "bzip2", "xz", "zstd", "lz4"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(c, names[i]) == 0)
			return 1;
	return 0;
}

int tar_set_filter(struct tar *t, const char *c)
{
	int rc;
	if (strcmp(c, "none") == 0)
		return ARCHIVE_OK;
	if (strcmp(c, "gzip") == 0)
		rc = archive_write_add_filter_gzip(t->a);
	else if (strcmp(c, "bzip2") == 0)
		rc = archive_write_add_filter_bzip2(t->a);
	else if (strcmp(c, "xz") == 0)
		rc = archive_write_add_filter_xz(t->a);
	else if (strcmp(c, "zstd") == 0)
		rc = archive_write_add_filter_zstd(t->a);
	else if (strcmp(c, "lz4") == 0)
		rc = archive_write_add_filter_lz4(t->a);
	else
		return ARCHIVE_FATAL;
	/* Multi-threaded xz and zstd where this libarchive offers it; fine if not. */
	if (rc == ARCHIVE_OK && (strcmp(c, "xz") == 0 || strcmp(c, "zstd") == 0)) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		char threads[24];
		snprintf(threads, sizeof(threads), "%ld", n > 0 ? n : 1);
		(void)archive_write_set_filter_option(t->a, NULL, "threads", threads);
	}
	return rc;
}
