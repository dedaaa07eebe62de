/* SPDX-License-Identifier: BSD-2-Clause */
/* stats: the --stats summary (see stats.h). */
#include "config.h"

#include <stdio.h>

#include "report/progress.h"
#include "report/stats.h"

void stats_write(FILE *out, const struct stats *st)
{
	char rate[32];
	double secs = st->seconds > 0 ? st->seconds : 0;
	progress_bytes(rate, sizeof(rate), secs > 0 ? (double)st->bytes_copied / secs : 0);
	fprintf(out,
	        "files: %llu\ndirectories: %llu\ncopied: %llu\nskipped: %llu\nfailed: %llu\n"
	        "deleted: %llu\ndifferent: %llu\nbytes: %llu\nbytes copied: %llu\nseconds: %.3f\n"
	        "throughput: %s/s\n",
	        (unsigned long long)st->files, (unsigned long long)st->dirs,
	        (unsigned long long)st->copied, (unsigned long long)st->skipped,
	        (unsigned long long)st->failed, (unsigned long long)st->deleted,
	        (unsigned long long)st->different, (unsigned long long)st->bytes_total,
	        (unsigned long long)st->bytes_copied, secs, rate);
	if (st->reusing)
		fprintf(out, "hashes reused: %llu\n", (unsigned long long)st->reused);
}

void stats_verify_write(FILE *out, const struct verify_counts *c, double seconds)
{
	char rate[32];
	double secs = seconds > 0 ? seconds : 0;
	progress_bytes(rate, sizeof(rate), secs > 0 ? (double)c->bytes / secs : 0);
	fprintf(out,
	        "names: %llu\nverified: %llu\nchanged: %llu\nmissing: %llu\nnot regular: %llu\n"
	        "unreadable: %llu\nunlisted: %llu\nbytes: %llu\nseconds: %.3f\n"
	        "throughput: %s/s\n",
	        (unsigned long long)c->names, (unsigned long long)c->verified,
	        (unsigned long long)c->changed, (unsigned long long)c->missing,
	        (unsigned long long)c->not_regular, (unsigned long long)c->unreadable,
	        (unsigned long long)c->unlisted, (unsigned long long)c->bytes, secs, rate);
}
