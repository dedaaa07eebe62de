/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * copy/data.c: the data path of a copy: streaming read, hash and write (holes skipped),
 * for big ranges hashed and written from a populated mapping of the source, the re-hash of
 * a copy through such a mapping, the kernel copy (copy_file_range, only when nothing is
 * hashed), and the O_DIRECT re-read that --fsync verifies against (see copy.h, internal.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compat.h"
#include "copy/internal.h"

/*
 * Where a worker lands when a page of a mapped copy cannot be brought in (an I/O error, or
 * the file shrank): SIGBUS during rehash_copy() becomes EIO there. NULL outside it, and then
 * SIGBUS does what it always does. Process-wide because signal handlers are.
 */
static sigjmp_buf *volatile bus_landing;

void copy_on_sigbus(int sig)
{
	if (bus_landing != NULL)
		siglongjmp(*bus_landing, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int write_all(int fd, const unsigned char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* write_all, in pieces that each first take their share of --bwlimit's tokens. */
static int write_limited(struct copy_ctx *c, int fd, const unsigned char *p, size_t n, off_t off)
{
	struct rate *rate = c->opts->rate;
	if (rate == NULL)
		return write_all(fd, p, n, off);
	while (n > 0) {
		size_t piece = (size_t)rate_chunk(rate, n);
		if (rate_take(rate, piece, c->stop) != 0 || write_all(fd, p, piece, off) != 0)
			return -1;
		p += piece;
		n -= piece;
		off += (off_t)piece;
	}
	return 0;
}

/* Next data extent at or after OFF in a sparse-aware walk; sets *END. 0, 1 (no more data), -1. */
static int next_extent(int fd, off_t off, off_t size, off_t *start, off_t *end)
{
	off_t d = lseek(fd, off, SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? 1 : -1;
	if (d >= size)
		return 1;
	off_t h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return -1;
	*start = d;
	*end = h < size ? h : size;
	return 0;
}

/*
 * Read [FROM, TO) of IN; hash it into H (when not NULL) and write it to OUT at the same
 * offsets (when OUT >= 0). With SPARSE, holes are skipped (hashed as zeros, not written).
 * Every read starts at a multiple of ALIGN and asks for a multiple of it (1: any; O_DIRECT
 * wants DIRECT_ALIGN, and then the bytes outside the range are read and left).
 * Returns DATA_OK, DATA_CHANGED (IN ends before TO), or DATA_ERROR with errno and
 * *IN_FAULT = 1 when reading failed (0: writing failed).
 */
static enum data_result stream_aligned(struct copy_ctx *c, int in, int out, uint64_t from,
                                       uint64_t to, int sparse, struct hash_state *h, int *in_fault,
                                       uint64_t align)
{
	off_t pos = (off_t)from, fsize = (off_t)to;
	*in_fault = 1;
	while (pos < fsize) {
		off_t start = pos, end = fsize;
		if (sparse) {
			int r = next_extent(in, pos, fsize, &start, &end);
			if (r < 0) {
				if (errno != EINVAL && errno != ENOTSUP)
					return DATA_ERROR;
				sparse = 0; /* no SEEK_DATA here: plain reads */
				start = pos;
				end = fsize;
			} else if (r == 1) {
				start = end = fsize;
			}
		}
		if (h != NULL && start > pos)
			hash_update_zeros(h, (uint64_t)(start - pos));
		pos = start;
		while (pos < end) {
			if (*c->stop) {
				errno = EINTR;
				return DATA_ERROR;
			}
			off_t base = pos & ~(off_t)(align - 1);
			off_t want =
			    end - base < (off_t)c->bufsize ? end : base + (off_t)c->bufsize;
			size_t len =
			    (size_t)(want - base + (off_t)align - 1) & ~(size_t)(align - 1);
			ssize_t n = pread(in, c->buf, len, base);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return DATA_ERROR;
			}
			if (n <= pos - base)
				return DATA_CHANGED;
			off_t got = base + n < want ? base + n : want;
			const unsigned char *data = c->buf + (pos - base);
			if (h != NULL)
				hash_update(h, data, (size_t)(got - pos));
			if (out >= 0 &&
			    write_limited(c, out, data, (size_t)(got - pos), pos) != 0) {
				*in_fault = 0;
				return DATA_ERROR;
			}
			pos = got;
		}
	}
	return DATA_OK;
}

/* Hash LEN mapped bytes at P into H. Returns 0, or -1 with EIO when a page faulted. */
static int hash_mapped(struct hash_state *h, const unsigned char *p, size_t len)
{
	sigjmp_buf landing;
	if (sigsetjmp(landing, 1) != 0) {
		bus_landing = NULL;
		errno = EIO;
		return -1;
	}
	bus_landing = &landing;
	hash_update(h, p, len);
	bus_landing = NULL;
	return 0;
}

/*
 * Hash [FROM, TO) of IN, which has no holes to skip, into H through read-only mappings of
 * the page cache populated in bulk (compat_map_read), COPY_MAP_WINDOW bytes at a time, and
 * when OUT >= 0 write each piece to OUT from the same pages right after it was hashed (while
 * it is in the CPU's cache): the data never goes through a buffer of ours, which saves the
 * kernel a copy per byte (read()'s) and keeps the copy a plain write, which cannot end up
 * sharing the source's blocks (a clone) the way a kernel copy can. A page that cannot be read
 * (SIGBUS: an I/O error, or IN shrank under us) ends it with EIO, as a failed read() would;
 * so does a write that faults on the mapping (EFAULT: IN shrank between hash and write).
 * The bytes hashed and the bytes written are the same pages but not one snapshot: a writer
 * changing IN in between makes the copy differ from the hash, which its re-read then finds,
 * and moves IN's mtime, which the caller checks. Returns as stream_aligned().
 */
static enum data_result stream_mapped(struct copy_ctx *c, int in, int out, uint64_t from,
                                      uint64_t to, struct hash_state *h, int *in_fault)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	*in_fault = 1;
	for (uint64_t pos = from; pos < to;) {
		if (*c->stop) {
			errno = EINTR;
			return DATA_ERROR;
		}
		uint64_t base = pos & ~(page - 1);
		uint64_t end = base + COPY_MAP_WINDOW < to ? base + COPY_MAP_WINDOW : to;
		unsigned char *map = compat_map_read(in, (off_t)base, (size_t)(end - base));
		if (map == MAP_FAILED) /* no mapping here: read the rest */
			return stream_aligned(c, in, out, pos, to, 0, h, in_fault, 1);
		int rc = 0;
		while (rc == 0 && pos < end) {
			size_t n = end - pos < c->bufsize ? (size_t)(end - pos) : c->bufsize;
			const unsigned char *data = map + (pos - base);
			/* --bwlimit waits before the hash, not between it and the write. */
			if (out >= 0 && c->opts->rate != NULL)
				n = (size_t)rate_chunk(c->opts->rate, n);
			if (*c->stop) {
				errno = EINTR;
				rc = -1;
			} else if (out >= 0 && c->opts->rate != NULL &&
			           rate_take(c->opts->rate, n, c->stop) != 0) {
				rc = -1;
			} else if (hash_mapped(h, data, n) != 0) {
				rc = -1;
			} else if (out >= 0 && write_all(out, data, n, (off_t)pos) != 0) {
				if (errno == EFAULT)
					errno = EIO;
				else
					*in_fault = 0;
				rc = -1;
			}
			pos += n;
		}
		int e = errno;
		munmap(map, (size_t)(end - base));
		if (rc != 0) {
			errno = e;
			return DATA_ERROR;
		}
	}
	return DATA_OK;
}

/*
 * stream_aligned with reads of any alignment: what every copy and plain re-read uses. A long
 * range without holes that is hashed goes through mappings instead (stream_mapped); a
 * fault there because IN shrank is DATA_CHANGED, as a short read would be.
 */
enum data_result copy_stream(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t to,
                             int sparse, struct hash_state *h, int *in_fault)
{
	if (sparse || h == NULL || to - from < COPY_MAP_MIN)
		return stream_aligned(c, in, out, from, to, sparse, h, in_fault, 1);
	enum data_result res = stream_mapped(c, in, out, from, to, h, in_fault);
	struct stat st;
	if (res == DATA_ERROR && *in_fault && errno == EIO && fstat(in, &st) == 0 &&
	    (uint64_t)st.st_size < to)
		res = DATA_CHANGED;
	return res;
}

/*
 * Hash [FROM, TO) of OUT, a copy this worker wrote, into H: what copy_stream() does for a
 * re-read, through mappings (stream_mapped) for a long range without holes. A page that
 * cannot be read (SIGBUS: an I/O error, or the copy shrank under us) ends it with EIO.
 * Returns DATA_OK, DATA_CHANGED (the copy is shorter than TO), or DATA_ERROR with errno.
 */
static enum data_result rehash_copy(struct copy_ctx *c, int out, uint64_t from, uint64_t to,
                                    int sparse, struct hash_state *h)
{
	int in_fault;
	struct stat st;
	if (sparse || to - from < COPY_MAP_MIN)
		return stream_aligned(c, out, -1, from, to, sparse, h, &in_fault, 1);
	if (fstat(out, &st) != 0)
		return DATA_ERROR;
	if ((uint64_t)st.st_size < to)
		return DATA_CHANGED;
	return stream_mapped(c, out, -1, from, to, h, &in_fault);
}

/*
 * --fsync: hash [FROM, TO) of OUT, whose data the caller has synced, as the storage holds it.
 * A plain re-read (rehash_copy) is served from the page cache and so only proves what was
 * written to memory; with O_DIRECT the kernel reads the device. Returns DATA_OK,
 * DATA_UNSUPPORTED when the file system refuses O_DIRECT (nothing hashed: the caller re-reads
 * through the cache and says so), DATA_CHANGED, or DATA_ERROR with errno.
 */
static enum data_result rehash_direct(struct copy_ctx *c, int out, uint64_t from, uint64_t to,
                                      int sparse, struct hash_state *h)
{
	if (c->bufsize < DIRECT_ALIGN || c->bufsize % DIRECT_ALIGN != 0)
		return DATA_UNSUPPORTED;
	int fl = fcntl(out, F_GETFL);
	if (fl < 0)
		return DATA_ERROR;
	if (fcntl(out, F_SETFL, fl | O_DIRECT) != 0)
		return errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP ? DATA_UNSUPPORTED
		                                                                  : DATA_ERROR;
	int in_fault;
	enum data_result res =
	    stream_aligned(c, out, -1, from, to, sparse, h, &in_fault, DIRECT_ALIGN);
	int e = errno;
	/* A file system may take the flag and still refuse the reads. */
	if (res == DATA_ERROR && e == EINVAL)
		res = DATA_UNSUPPORTED;
	fcntl(out, F_SETFL, fl);
	errno = e;
	return res;
}

/*
 * Re-read [FROM, TO) of the copy OUT into H to verify it: from the storage with --fsync (the
 * caller synced it first) where the file system allows O_DIRECT, else from the page cache
 * (noting COPY_NOTE_NO_DIRECT in D when --fsync asked for more).
 */
enum data_result copy_reread(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                             struct hash_state *h, struct copy_done *d)
{
	hash_reset(h);
	if (c->opts->fsync) {
		enum data_result res = rehash_direct(c, out, from, to, sparse, h);
		if (res != DATA_UNSUPPORTED)
			return res;
		d->notes |= COPY_NOTE_NO_DIRECT;
		hash_reset(h);
	}
	return rehash_copy(c, out, from, to, sparse, h);
}

enum data_result copy_verify(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                             struct hash128 h, struct copy_done *d, enum copy_stage *stage)
{
	enum data_result res = copy_reread(c, out, from, to, sparse, c->hs, d);
	if (res != DATA_OK) {
		*stage = res == DATA_CHANGED ? STAGE_VERIFY : STAGE_VERIFY_READ;
		return res;
	}
	if (!hash_equal(h, hash_digest(c->hs))) {
		errno = EIO;
		*stage = STAGE_VERIFY;
		return DATA_ERROR;
	}
	return DATA_OK;
}

enum data_result copy_hash_fd(struct copy_ctx *c, int fd, uint64_t size, int sparse,
                              struct hash128 *out)
{
	int in_fault;
	hash_reset(c->hs);
	enum data_result res = copy_stream(c, fd, -1, 0, size, sparse, c->hs, &in_fault);
	if (res == DATA_OK)
		*out = hash_digest(c->hs);
	return res;
}

enum data_result copy_kernel(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t size,
                             int *in_fault)
{
	uint64_t done = from;
	*in_fault = 0;
	if (c->opts->rate != NULL)
		return DATA_UNSUPPORTED; /* --bwlimit: the data goes through write_limited */
	if (from > 0 &&
	    (lseek(in, (off_t)from, SEEK_SET) < 0 || lseek(out, (off_t)from, SEEK_SET) < 0))
		return DATA_ERROR;
	while (done < size) {
		if (*c->stop) {
			errno = EINTR;
			return DATA_ERROR;
		}
		ssize_t n = compat_copy_range(
		    in, out,
		    (size_t)(size - done) < (1u << 30) ? (size_t)(size - done) : (1u << 30));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done == from && (errno == ENOSYS || errno == EXDEV || errno == EINVAL ||
			                     errno == EOPNOTSUPP))
				return DATA_UNSUPPORTED;
			return DATA_ERROR;
		}
		if (n == 0) {
			*in_fault = 1;
			return DATA_CHANGED;
		}
		done += (uint64_t)n;
	}
	return DATA_OK;
}
