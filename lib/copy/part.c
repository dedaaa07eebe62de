/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/part.c: a big file copied in parts by several workers (see copy.h: TASK_SPLIT): the
 * shared temporary file, one part's copy and verification, and the seal that renames it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compat.h"
#include "copy/internal.h"

/* TASK_SPLIT: create the shared temporary file at full size for the parts to fill. */
void copy_split_start(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	char name[sizeof(c->tmp)];
	tmpname_split(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
	unlinkat(r->dst_fd, name, 0); /* left by an attempt whose worker died */
	int fd =
	    openat(r->dst_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail(d, STAGE_CREATE, errno);
		return;
	}
	if (ftruncate(fd, (off_t)t->size) != 0) {
		int e = errno;
		close(fd);
		unlinkat(r->dst_fd, name, 0);
		fail(d, STAGE_WRITE, e);
		return;
	}
	close(fd);
	d->status = COPY_SPLIT;
}

/* 1 when the open source no longer has the size and mtime the scan saw. */
static int source_changed(int src, const struct copy_task *t)
{
	struct stat st;
	return fstat(src, &st) != 0 || (uint64_t)st.st_size != t->size || !same_mtime(&st, t);
}

/* Open T's source and the shared temporary file of its split copy (NAME). 0 or -1 (D set). */
static int open_split(struct copy_ctx *c, const struct copy_task *t, const char *name, int *src,
                      int *out, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	*src = openat(r->src_fd, r->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*src < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return -1;
	}
	*out = openat(r->dst_fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*out < 0) {
		fail(d, STAGE_CREATE, errno);
		close(*src);
		return -1;
	}
	if (!S_ISREG(t->mode) || source_changed(*src, t)) {
		close(*src);
		close(*out);
		changed(d, STAGE_READ_SOURCE);
		return -1;
	}
	return 0;
}

/* TASK_PART: copy one range of a split file, hash it, re-read and compare. */
void copy_part(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	char name[sizeof(c->tmp)];
	tmpname_split(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
	int src, out;
	if (open_split(c, t, name, &src, &out, d) != 0)
		return;
	uint64_t from = t->part_off, to = t->part_off + t->part_len;
	int sparse = (t->flags & TASK_SPARSE) != 0;
	int in_fault = 0;
	enum data_result res = DATA_UNSUPPORTED; /* no kernel copy (yet) */
	enum copy_stage stage = STAGE_NONE;
	compat_sequential(src);
	if (!c->opts->verify && !sparse)
		res = copy_kernel(c, src, out, from, to, &in_fault);
	if (res == DATA_UNSUPPORTED) {
		hash_reset(c->hs);
		res = copy_stream(c, src, out, from, to, sparse, c->opts->verify ? c->hs : NULL,
		                  &in_fault);
	}
	if (res != DATA_OK)
		stage = in_fault ? STAGE_READ_SOURCE : STAGE_WRITE;
	else if (c->opts->fsync && fdatasync(out) != 0)
		stage = STAGE_SYNC; /* --fsync: the part is re-read from the storage */
	else if (c->opts->verify)
		res = copy_verify(c, out, from, to, sparse, hash_digest(c->hs), d, &stage);
	/* A source changed under the part explains a copy that differs from its hash too. */
	if ((stage == STAGE_NONE || stage == STAGE_VERIFY) && source_changed(src, t)) {
		res = DATA_CHANGED;
		stage = STAGE_READ_SOURCE;
	}
	if (stage != STAGE_NONE) {
		fail_data(d, stage, res);
	} else {
		d->status = COPY_PART;
		d->bytes = t->part_len;
	}
	close(src);
	close(out);
}

/* A seal whose worker died after the rename: the copy is in place if it looks like it. */
static int sealed_before(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	struct stat st;
	if (fstatat(r->dst_fd, r->dst, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != t->size || !same_mtime(&st, t))
		return 0;
	int fd = openat(r->dst_fd, r->dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int ok = !c->opts->need_hash ||
	         copy_hash_fd(c, fd, t->size, (t->flags & TASK_SPARSE) != 0, &d->hash) == DATA_OK;
	close(fd);
	if (!ok)
		return 0;
	d->hashed = c->opts->need_hash;
	d->status = COPY_COPIED;
	d->bytes = t->size;
	return 1;
}

/* The metadata the sealed copy of SST is to get (meta_want), from the entry it replaces. */
static void seal_want(struct copy_ctx *c, struct stat *sst)
{
	struct stat old;
	int have = fstatat(c->at.dst_fd, c->at.dst, &old, AT_SYMLINK_NOFOLLOW) == 0;
	meta_want(&c->meta, sst, have ? &old : NULL);
}

/* TASK_SEAL: the parts are in; check the source, hash, metadata, rename into place. */
void copy_seal(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	char name[sizeof(c->tmp)];
	tmpname_split(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
	int src, out;
	if (open_split(c, t, name, &src, &out, d) != 0) {
		if (d->stage == STAGE_CREATE && d->err == ENOENT && sealed_before(c, t, d))
			d->stage = STAGE_NONE, d->err = 0;
		else if (d->stage != STAGE_CREATE)
			unlinkat(r->dst_fd, name, 0);
		return;
	}
	struct stat sst;
	int sparse = (t->flags & TASK_SPARSE) != 0;
	enum data_result res = DATA_OK;
	/* Created 0600 (copy_split_start): copy_install's flags 0 set the mode in full. */
	int got = fstat(src, &sst) == 0;
	if (got)
		seal_want(c, &sst);
	if (!got) {
		fail(d, STAGE_READ_SOURCE, errno);
		unlinkat(r->dst_fd, name, 0);
	} else if (c->opts->need_hash &&
	           (res = copy_hash_fd(c, out, t->size, sparse, &d->hash)) != DATA_OK) {
		fail_data(d, STAGE_VERIFY_READ, res);
		unlinkat(r->dst_fd, name, 0);
	} else if (copy_install(c, src, out, name, &sst, 0, d) == 0) {
		d->status = COPY_COPIED;
		d->bytes = t->size;
		d->hashed = c->opts->need_hash;
	}
	close(src);
	close(out);
}
