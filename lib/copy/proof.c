/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/proof: a worker's side of --previous-manifest: the hash of a file an earlier run
 * proved (taken instead of reading the file), and the stat data a hash is read under
 * (proven.h, stamp.h).
 */
#include "config.h"

#include <time.h>

#include "copy/internal.h"
#include "report/proven.h"

const struct proven_file *copy_proven(const struct copy_ctx *c, const struct stat *dst_st)
{
	const struct copy_opts *o = c->opts;
	if (o->previous == NULL || o->checksum || !S_ISREG(dst_st->st_mode))
		return NULL;
	const struct proven_file *f =
	    proven_find(o->previous, o->prefix[c->at.root], c->at.dst_path);
	struct stamp now;
	stamp_of(&now, dst_st);
	return f != NULL && stamp_ctime_own(&now) && stamp_equal(&f->stamp, &now) ? f : NULL;
}

int copy_reuse(const struct copy_ctx *c, const struct proven_file *f, struct copy_done *d)
{
	d->hash = f->hash;
	d->hashed = 1;
	d->notes |= COPY_NOTE_REUSED;
	if (c->opts->stamp) {
		d->stamp = f->stamp;
		d->notes |= COPY_NOTE_STAMP;
	}
	return 1;
}

void copy_stamp_before(const struct copy_ctx *c, struct timespec *before)
{
	if (!c->opts->stamp || clock_gettime(CLOCK_REALTIME, before) != 0)
		before->tv_sec = 0;
}

void copy_stamp_note(const struct copy_ctx *c, int fd, const struct timespec *before,
                     struct copy_done *d)
{
	struct stat st;
	if (!c->opts->stamp || before->tv_sec == 0 || fd < 0 || fstat(fd, &st) != 0)
		return;
	stamp_of(&d->stamp, &st);
	if (stamp_settled(&d->stamp, before))
		d->notes |= COPY_NOTE_STAMP;
}
