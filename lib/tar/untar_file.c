/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * untar_file: writing one member of an --extract: a regular file under a temporary name,
 * hashed as written, read back and verified before it is renamed into place; anything else
 * in place; directories past PATH_MAX through descriptors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/meta.h"
#include "tar/internal.h"

/* Holes are hashed this many zeros at a time, so that a signal stops a long run of them. */
#define ZERO_CHUNK ((uint64_t)1 << 30)
/* Members larger than this have their size tried on the file system before any hashing. */
#define PROBE_SIZE ((int64_t)1 << 30)

/* ---- data ------------------------------------------------------------------------------ */

/* The largest member extracted. */
static int64_t max_size(const struct untar *u)
{
	return u->o->max_size > 0 ? u->o->max_size : UNTAR_MAX_SIZE;
}

/* Hash N zeros into H a chunk at a time. 0, or -1 when interrupted. */
static int hash_zeros(struct untar *u, struct hash_state *h, uint64_t n)
{
	while (n > 0) {
		if (*u->o->interrupted)
			return -1;
		uint64_t k = n < ZERO_CHUNK ? n : ZERO_CHUNK;
		hash_update_zeros(h, k);
		n -= k;
	}
	return 0;
}

/* Remember that LEN bytes were written at OFF. 0, or -1 out of memory. */
static int add_extent(struct untar *u, int64_t off, int64_t len)
{
	if (len == 0)
		return 0;
	if (u->next > 0 && u->ext[u->next - 1].off + u->ext[u->next - 1].len == off) {
		u->ext[u->next - 1].len += len;
		return 0;
	}
	if (array_grow(&u->ext, &u->ext_cap, u->next + 1, sizeof(*u->ext)) != 0)
		return -1;
	u->ext[u->next++] = (struct untar_extent){off, len};
	return 0;
}

/*
 * Copy the data of the current member (PATH) from R to the disk writer, hashing it whole
 * (holes as zeros) into u->hs and, as written, into u->data. *WROTE says whether it all went
 * to the disk (else the member failed, reported). Returns STEP_OK (read to its end or
 * failed, reported), STEP_END (the archive is unreadable from here, reported) or STEP_STOP.
 */
static enum step copy_data(struct untar *u, struct archive *r, const char *path, int64_t size,
                           int *wrote, struct hash128 *out)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	int64_t pos = 0;
	*wrote = 0;
	hash_reset(u->hs);
	hash_reset(u->data);
	u->next = 0;
	/* Like archive_read_extract(): no data is read for a member that declares none (RAR5
	 * fails reading a directory's). */
	for (; size != 0;) {
		if (*u->o->interrupted)
			return STEP_STOP;
		int rc = archive_read_data_block(r, &buf, &n, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc == ARCHIVE_WARN) {
			untar_member_warned(u, path, untar_why_msg(u, r),
			                    0); /* a bad CRC: the data is delivered */
		} else if (rc < ARCHIVE_WARN) {
			untar_member_failed(u, path, untar_why_msg(u, r), 0);
			return rc == ARCHIVE_FATAL ? STEP_END : STEP_OK;
		}
		if (off < pos) {
			untar_member_failed(u, path, "data blocks out of order in the archive", 0);
			return STEP_OK;
		}
		if (off > (size >= 0 ? size : max_size(u))) { /* never hash a hole past the end */
			untar_member_failed(u, path, "data past its declared size", EFBIG);
			return STEP_OK;
		}
		if (off > pos && hash_zeros(u, u->hs, (uint64_t)(off - pos)) != 0)
			return STEP_STOP;
		hash_update(u->hs, buf, n);
		if (archive_write_data_block(u->w, buf, n, off) < ARCHIVE_OK) {
			untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
			return STEP_OK; /* the rest is skipped with the next header */
		}
		if (add_extent(u, off, (int64_t)n) != 0)
			return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
		hash_update(u->data, buf, n);
		pos = off + (int64_t)n;
	}
	if (pos < size && hash_zeros(u, u->hs, (uint64_t)(size - pos)) != 0)
		return STEP_STOP;
	*out = hash_digest(u->hs);
	*wrote = 1;
	return STEP_OK;
}

/*
 * Read back the runs written to u->tmp (SIZE bytes long): 1 when they hold what was written
 * and the file has its size, 0 when not (reported), -1 when interrupted.
 */
static int read_back(struct untar *u, const char *path, int64_t size)
{
	const char *leaf;
	int dfd = untar_parent_of(u, u->tmp, &leaf);
	int fd = dfd < 0 ? -1 : openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int unreadable = 0; /* a member of mode 0200 or 0: made readable for a moment, as owner */
	if (fd < 0 && errno == EACCES && fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && fchmodat(dfd, leaf, meta_perm(st.st_mode) | S_IRUSR, 0) == 0) {
		unreadable = 1;
		fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, meta_perm(st.st_mode)) != 0) {
			untar_member_failed(u, path, "cannot read back what was written", errno);
			if (fd >= 0)
				close(fd);
			return 0;
		}
	}
	if (fd < 0 || (!unreadable && fstat(fd, &st) != 0)) {
		untar_member_failed(u, path, "cannot read back what was written", errno);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int ok = (int64_t)st.st_size == size, rc = 1;
	hash_reset(u->back);
	for (size_t i = 0; ok && rc > 0 && i < u->next; i++) {
		for (int64_t at = u->ext[i].off, end = at + u->ext[i].len; at < end;) {
			if (*u->o->interrupted) {
				rc = -1;
				break;
			}
			size_t want = end - at < READ_BACK_BUF ? (size_t)(end - at) : READ_BACK_BUF;
			ssize_t got = pread(fd, u->buf, want, (off_t)at);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				if (got < 0) {
					untar_member_failed(
					    u, path, "cannot read back what was written", errno);
					rc = 0;
				}
				ok = 0;
				break;
			}
			hash_update(u->back, u->buf, (size_t)got);
			at += got;
		}
	}
	close(fd);
	if (rc <= 0)
		return rc;
	if (!ok || !hash_equal(hash_digest(u->back), hash_digest(u->data))) {
		untar_member_failed(u, path,
		                    "what was written does not read back as the archive's data", 0);
		return 0;
	}
	return 1;
}

/*
 * Whether SIZE, declared by the member being written to u->tmp, is taken by the file system:
 * when large, the temporary file is set to that size first (ext4 stops at 16 TiB), before
 * its holes are hashed. 0 when it is, else the errno value (EFBIG).
 */
static int size_fits(struct untar *u, int64_t size)
{
	if (size < PROBE_SIZE)
		return 0;
	const char *leaf;
	int dfd = untar_parent_of(u, u->tmp, &leaf), e = 0;
	int fd = dfd < 0 ? -1 : openat(dfd, leaf, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	return e == EINVAL ? EFBIG : e;
}

/* ---- members ---------------------------------------------------------------------------- */

/* Put u->tmp in place as PATH. 0, or -1 (reported). */
static int rename_tmp(struct untar *u, const char *path)
{
	const char *leaf, *tmp_leaf = strrchr(u->tmp, '/');
	int dfd = untar_parent_of(u, path, &leaf);
	tmp_leaf = tmp_leaf ? tmp_leaf + 1 : u->tmp;
	if (dfd < 0 || renameat(dfd, tmp_leaf, dfd, leaf) != 0) {
		untar_member_failed(u, path, "cannot rename into place", errno);
		return -1;
	}
	free(u->tmp);
	u->tmp = NULL;
	return 0;
}

/* A regular file: under a temporary name, hashed, read back, verified, renamed into PATH. */
enum step untar_extract_file(struct untar *u, struct archive *r, struct archive_entry *e,
                             const char *path)
{
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	if (size > max_size(u)) {
		untar_member_failed(u, path, "declared size is larger than pcopy extracts", EFBIG);
		return STEP_OK;
	}
	if (!untar_safe_parent(u, path, path))
		return STEP_OK;
	if (untar_tmp_name(u, path) != 0)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	archive_entry_copy_pathname(e, u->tmp);
	int hrc = archive_write_header(u->w, e);
	if (hrc < ARCHIVE_WARN) {
		untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		free(u->tmp);
		u->tmp = NULL; /* nothing was created under it */
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) { /* nothing opened to write to, as archive_read_extract() */
		untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		archive_write_finish_entry(u->w);
		untar_drop_tmp(u);
		return STEP_OK;
	}
	int e2 = size_fits(u, size);
	if (e2 != 0) {
		untar_member_failed(u, path, "declared size is larger than the file system takes",
		                    e2);
		untar_drop_tmp(u);
		return STEP_OK;
	}
	struct hash128 h;
	int wrote;
	enum step st = copy_data(u, r, path, size, &wrote, &h);
	if (st != STEP_OK || !wrote) {
		untar_drop_tmp(u);
		return st;
	}
	int frc = archive_write_finish_entry(u->w);
	if (frc < ARCHIVE_WARN) {
		untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		untar_drop_tmp(u);
		return STEP_OK;
	}
	if (frc == ARCHIVE_WARN) /* metadata (an ACL, an xattr) not set: the data is good */
		untar_member_warned(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
	int64_t end = u->next > 0 ? u->ext[u->next - 1].off + u->ext[u->next - 1].len : 0;
	int back = read_back(u, path, size >= 0 ? size : end);
	if (back <= 0 || !untar_verified(u, path, h)) {
		untar_drop_tmp(u);
		return back < 0 ? STEP_STOP : STEP_OK;
	}
	if (rename_tmp(u, path) != 0) {
		untar_drop_tmp(u);
		return STEP_OK;
	}
	if (u->damaged)
		return STEP_OK; /* in place, as bsdtar leaves it, but never vouched for */
	uint64_t bytes = (uint64_t)(size >= 0 ? size : end);
	u->stats.copied++;
	u->stats.bytes_copied += bytes;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, S_IFREG, 0, bytes, &h);
	return STEP_OK;
}

/* With a manifest, a hard link PATH to SAFE is extracted only when SAFE was verified. */
static int link_verified(struct untar *u, const char *path, const char *safe)
{
	if (u->o->manifest == NULL)
		return 1;
	struct untar_want *to = untar_find_want(u, safe);
	if (to == NULL || to->seen != 1) {
		untar_member_failed(u, path, "hard link to a file that was not extracted", 0);
		return 0;
	}
	return untar_verified(u, path, to->hash); /* listed under its own name too */
}

/* A directory member past PATH_MAX (see struct untar_deep). */
static enum step extract_deep_dir(struct untar *u, struct archive_entry *e, const char *path)
{
	const char *leaf;
	int dfd = untar_parent_of(u, path, &leaf);
	if (dfd < 0 && errno == ENOENT && untar_make_parents(u, path) == 0)
		dfd = untar_parent_of(u, path, &leaf);
	struct stat st;
	if (dfd < 0 ||
	    (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
	     unlinkat(dfd, leaf, 0) != 0) ||
	    (mkdirat(dfd, leaf, 0700) != 0 && errno != EEXIST)) {
		untar_member_failed(u, path, "cannot make directory", errno);
		return STEP_OK;
	}
	if (array_grow(&u->deep, &u->deep_cap, u->ndeep + 1, sizeof(*u->deep)) != 0 ||
	    (u->deep[u->ndeep].path = strdup(path)) == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	if ((u->deep[u->ndeep].e = archive_entry_clone(e)) == NULL) {
		free(u->deep[u->ndeep].path);
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	}
	u->ndeep++;
	u->stats.copied++;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, S_IFDIR, 0, 0, NULL);
	return STEP_OK;
}

/* Anything else: directory, symlink, hard link, FIFO, device; written in place. */
enum step untar_extract_other(struct untar *u, struct archive *r, struct archive_entry *e,
                              const char *path)
{
	const char *target = archive_entry_hardlink(e);
	if (target != NULL) {
		const char *safe = untar_safe_path(target);
		if (safe == NULL || strcmp(safe, ".") == 0) {
			untar_member_failed(u, path,
			                    "hard link target has '..' or is empty; skipped", 0);
			return STEP_OK;
		}
		archive_entry_copy_hardlink(e, safe);
		if (!link_verified(u, path, safe))
			return STEP_OK;
	}
	struct stat st;
	if (!untar_safe_parent(u, path, path) ||
	    (target != NULL && !untar_safe_parent(u, archive_entry_hardlink(e), path)))
		return STEP_OK;
	int dir = archive_entry_filetype(e) == AE_IFDIR;
	/* A symlink in DEST where a directory goes is replaced, not followed. */
	if (dir && untar_stat_at(u, path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    untar_unlink_at(u, path) != 0) {
		untar_member_failed(u, path, "cannot replace symbolic link", errno);
		return STEP_OK;
	}
	if (dir && strlen(path) >= PATH_MAX)
		return extract_deep_dir(u, e, path);
	/* A directory kept open may be replaced by this member: open the next one afresh. */
	if (!dir)
		at_cache_drop(&u->at);
	int hrc = archive_write_header(u->w, e);
	if (hrc < ARCHIVE_WARN) {
		untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) { /* as archive_read_extract(): no data (a link to itself) */
		untar_member_warned(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		archive_write_finish_entry(u->w);
		return STEP_OK;
	}
	struct hash128 h;
	int wrote;
	int64_t size = dir ? 0 : archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	enum step s = copy_data(u, r, path, size, &wrote, &h);
	if (s != STEP_OK || !wrote)
		return s;
	int frc = archive_write_finish_entry(u->w);
	if (frc < ARCHIVE_WARN) {
		untar_member_failed(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
		return STEP_OK;
	}
	if (frc == ARCHIVE_WARN)
		untar_member_warned(u, path, untar_why_msg(u, u->w), untar_why_errno(u->w));
	if (u->damaged)
		return STEP_OK;
	u->stats.copied++;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, archive_entry_filetype(e),
		             archive_entry_hardlink(e) != NULL, 0, NULL);
	return STEP_OK;
}
