/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stamp: the stat data that proves a file unchanged since its hash was read (--previous-
 * manifest). Any write, truncation, chmod, chown, xattr change, link or rename of a file
 * moves its ctime, which no one can set back (where the file system keeps one: not on FAT or
 * exFAT, where it is the mtime: stamp_ctime_own), so a file whose device, inode, size, mtime
 * and ctime (nanoseconds) are what they were when its hash was read still holds those bytes.
 *
 * One race is left: a change within the same tick of the file system's clock as the ctime
 * recorded leaves the ctime as it was. Like git's "racily clean" entries, a stamp counts only
 * when it was taken STAMP_SETTLE_SEC after its ctime (stamp_settled): any later change then
 * gets a later ctime. This assumes the file system's clock is not behind this machine's by
 * more than a second (whole-second and two-second timestamps, coarse kernel clocks).
 */
#ifndef PCOPY_STAMP_H
#define PCOPY_STAMP_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* How long after its ctime a file's stat data may stand for its content. */
#define STAMP_SETTLE_SEC 3

struct stamp {
	uint64_t dev, ino, size;
	int64_t mtime_sec, ctime_sec;
	int32_t mtime_nsec, ctime_nsec;
};

/* The stamp of ST into *S. */
static inline void stamp_of(struct stamp *s, const struct stat *st)
{
	*s = (struct stamp){(uint64_t)st->st_dev,        (uint64_t)st->st_ino,
	                    (uint64_t)st->st_size,       (int64_t)st->st_mtim.tv_sec,
	                    (int64_t)st->st_ctim.tv_sec, (int32_t)st->st_mtim.tv_nsec,
	                    (int32_t)st->st_ctim.tv_nsec};
}

/* 1 when A and B are the same stamp. */
static inline int stamp_equal(const struct stamp *a, const struct stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/*
 * 1 when the ctime of S is one the file system keeps apart from its mtime. On FAT and exFAT
 * the "change time" is the modification time, which touch -d sets back: a ctime equal to the
 * mtime to the nanosecond proves nothing (it costs a read on the rare file of another file
 * system that was never changed after it was written).
 */
static inline int stamp_ctime_own(const struct stamp *s)
{
	return s->ctime_sec != s->mtime_sec || s->ctime_nsec != s->mtime_nsec;
}

/* 1 when the ctime SEC.NSEC is STAMP_SETTLE_SEC older than LATER. */
static inline int stamp_ctime_before(int64_t sec, int32_t nsec, const struct timespec *later)
{
	return sec + STAMP_SETTLE_SEC < (int64_t)later->tv_sec ||
	       (sec + STAMP_SETTLE_SEC == (int64_t)later->tv_sec && nsec < later->tv_nsec);
}

/* 1 when S, read from a file at (CLOCK_REALTIME) BEFORE or later, may stand for the bytes
 * read after it: its ctime is its own (stamp_ctime_own) and STAMP_SETTLE_SEC older than
 * BEFORE. */
static inline int stamp_settled(const struct stamp *s, const struct timespec *before)
{
	return stamp_ctime_own(s) && stamp_ctime_before(s->ctime_sec, s->ctime_nsec, before);
}

#endif
