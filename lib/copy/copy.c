/*
 * copy: one task in a worker: data, holes, hash, verification, metadata, rename (see copy.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYS_XATTR_H
#include <sys/xattr.h>
#endif

#include "fs/at.h"
#include "common/compat.h"
#include "copy/copy.h"

/* Marks a source that changed under us (distinct from real I/O errors). */
#define CHANGED_ERRNO ESTALE
/* O_DIRECT reads (--fsync) use offsets, lengths and a buffer aligned to this: a multiple of
 * every logical block size Linux block devices have. */
#define DIRECT_ALIGN 4096u

/*
 * Where a worker lands when a page of a mapped copy cannot be brought in (an I/O error, or
 * the file shrank): SIGBUS during rehash_copy() becomes EIO there. NULL outside it, and then
 * SIGBUS does what it always does. Process-wide because signal handlers are.
 */
static sigjmp_buf *volatile bus_landing;

static void on_sigbus(int sig)
{
	if (bus_landing != NULL)
		siglongjmp(*bus_landing, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

int copy_ctx_init(struct copy_ctx *c, const struct copy_opts *opts, const struct copy_root *roots,
                  const struct names *names, volatile sig_atomic_t *stop, size_t bufsize)
{
	memset(c, 0, sizeof(*c));
	c->opts = opts;
	c->roots = roots;
	c->names = names;
	c->stop = stop;
	c->bufsize = bufsize;
	c->pid = (long)getpid();
	c->ppid = (long)getppid();
	c->euid = geteuid();
	c->egid = getegid();
	at_cache_init(&c->src_dirs);
	at_cache_init(&c->dst_dirs);
	meta_ctx_init(&c->meta, opts->keep_owner);
	meta_ctx_home(&c->meta); /* without it, names are reached through /proc */
	/* Copies are created with their final permission bits (see meta_apply: META_MODE_SET). */
	umask(0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	/* Aligned for O_DIRECT reads (--fsync: rehash_direct). */
	void *buf = NULL;
	c->buf = posix_memalign(&buf, DIRECT_ALIGN, bufsize) == 0 ? buf : NULL;
	c->hs = hash_new();
	if (c->buf == NULL || c->hs == NULL) {
		copy_ctx_free(c);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void copy_ctx_free(struct copy_ctx *c)
{
	free(c->buf);
	hash_free(c->hs);
	meta_ctx_free(&c->meta);
	at_cache_free(&c->src_dirs);
	at_cache_free(&c->dst_dirs);
	c->buf = NULL;
	c->hs = NULL;
}

const char *copy_stage_text(enum copy_stage stage)
{
	switch (stage) {
	case STAGE_OPEN_SOURCE: return "cannot open";
	case STAGE_READ_SOURCE: return "read error";
	case STAGE_READ_LINK: return "cannot read symbolic link";
	case STAGE_CREATE: return "cannot create in destination";
	case STAGE_WRITE: return "write error in destination";
	case STAGE_VERIFY_READ: return "cannot re-read the copy";
	case STAGE_VERIFY: return "verification failed: the copy's hash differs from the source's";
	case STAGE_METADATA: return "cannot set attributes of the copy";
	case STAGE_SYNC: return "cannot sync the copy";
	case STAGE_RENAME: return "cannot rename the copy into place";
	case STAGE_LINK: return "cannot link the copy into place";
	case STAGE_DEST_DIR: return "cannot overwrite directory with non-directory";
	case STAGE_NONE: break;
	}
	return "error";
}

int copy_is_tmp_name(const char *name)
{
	return strncmp(name, COPY_TMP_PREFIX, sizeof(COPY_TMP_PREFIX) - 1) == 0;
}

/* Build ".pcopy-tmp.<pid>.<n>" in c->tmp (a name in the destination's directory). */
static const char *tmp_name(struct copy_ctx *c)
{
	snprintf(c->tmp, sizeof(c->tmp), "%s%ld.%lu", COPY_TMP_PREFIX, c->pid, ++c->counter);
	return c->tmp;
}

void copy_split_name(char *buf, size_t len, long parent, uint64_t id)
{
	snprintf(buf, len, "%s%ld.s%llu", COPY_TMP_PREFIX, parent, (unsigned long long)id);
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
 * Returns 0, or -1 with errno and *IN_FAULT = 1 when reading failed (0: writing failed).
 * A file shorter than TO gives CHANGED_ERRNO.
 */
static int stream_aligned(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t to,
                          int sparse, struct hash_state *h, int *in_fault, uint64_t align)
{
	off_t pos = (off_t)from, fsize = (off_t)to;
	*in_fault = 1;
	while (pos < fsize) {
		off_t start = pos, end = fsize;
		if (sparse) {
			int r = next_extent(in, pos, fsize, &start, &end);
			if (r < 0) {
				if (errno != EINVAL && errno != ENOTSUP)
					return -1;
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
				return -1;
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
				return -1;
			}
			if (n <= pos - base) {
				errno = CHANGED_ERRNO;
				return -1;
			}
			off_t got = base + n < want ? base + n : want;
			const unsigned char *data = c->buf + (pos - base);
			if (h != NULL)
				hash_update(h, data, (size_t)(got - pos));
			if (out >= 0 && write_all(out, data, (size_t)(got - pos), pos) != 0) {
				*in_fault = 0;
				return -1;
			}
			pos = got;
		}
	}
	return 0;
}

/* stream_aligned with reads of any alignment: what every copy and plain re-read uses. */
static int stream(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t to, int sparse,
                  struct hash_state *h, int *in_fault)
{
	return stream_aligned(c, in, out, from, to, sparse, h, in_fault, 1);
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
 * Hash [FROM, TO) of OUT, a copy this worker wrote, into H: what stream() does for a re-read,
 * but a long range without holes is hashed through a read-only mapping of the page cache,
 * which saves copying it into the buffer (a quarter less work per byte of a big file on
 * tmpfs). A page that cannot be read (SIGBUS: an I/O error, or the file shrank under us)
 * ends it with EIO, as a failed read() would. Returns 0, or -1 with errno (CHANGED_ERRNO:
 * the copy is shorter than TO).
 */
static int rehash_copy(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                       struct hash_state *h)
{
	int in_fault;
	struct stat st;
	if (sparse || to - from < COPY_MAP_MIN)
		return stream(c, out, -1, from, to, sparse, h, &in_fault);
	if (fstat(out, &st) != 0)
		return -1;
	if ((uint64_t)st.st_size < to) {
		errno = CHANGED_ERRNO;
		return -1;
	}
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	for (uint64_t pos = from; pos < to;) {
		if (*c->stop) {
			errno = EINTR;
			return -1;
		}
		uint64_t base = pos & ~(page - 1);
		uint64_t end = base + COPY_MAP_WINDOW < to ? base + COPY_MAP_WINDOW : to;
		void *map =
		    mmap(NULL, (size_t)(end - base), PROT_READ, MAP_SHARED, out, (off_t)base);
		if (map == MAP_FAILED) /* no mapping here: read the rest */
			return stream(c, out, -1, pos, to, 0, h, &in_fault);
		int rc =
		    hash_mapped(h, (const unsigned char *)map + (pos - base), (size_t)(end - pos));
		munmap(map, (size_t)(end - base));
		if (rc != 0)
			return -1;
		pos = end;
	}
	return 0;
}

/*
 * --fsync: hash [FROM, TO) of OUT, whose data the caller has synced, as the storage holds it.
 * A plain re-read (rehash_copy) is served from the page cache and so only proves what was
 * written to memory; with O_DIRECT the kernel reads the device. Returns 0, 1 when the file
 * system refuses O_DIRECT (nothing hashed: the caller re-reads through the cache and says
 * so), or -1 with errno.
 */
static int rehash_direct(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                         struct hash_state *h)
{
	if (c->bufsize < DIRECT_ALIGN || c->bufsize % DIRECT_ALIGN != 0)
		return 1;
	int fl = fcntl(out, F_GETFL);
	if (fl < 0)
		return -1;
	if (fcntl(out, F_SETFL, fl | O_DIRECT) != 0)
		return errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP ? 1 : -1;
	int in_fault;
	int rc = stream_aligned(c, out, -1, from, to, sparse, h, &in_fault, DIRECT_ALIGN);
	int e = errno;
	/* A file system may take the flag and still refuse the reads. */
	if (rc != 0 && e == EINVAL)
		rc = 1;
	fcntl(out, F_SETFL, fl);
	errno = e;
	return rc;
}

/*
 * Re-read [FROM, TO) of the copy OUT into H to verify it: from the storage with --fsync (the
 * caller synced it first) where the file system allows O_DIRECT, else from the page cache
 * (noting COPY_NOTE_NO_DIRECT in D when --fsync asked for more). Returns 0 or -1 with errno.
 */
static int reread_copy(struct copy_ctx *c, int out, uint64_t from, uint64_t to, int sparse,
                       struct hash_state *h, struct copy_done *d)
{
	hash_reset(h);
	if (c->opts->fsync) {
		int rc = rehash_direct(c, out, from, to, sparse, h);
		if (rc <= 0)
			return rc;
		d->notes |= COPY_NOTE_NO_DIRECT;
		hash_reset(h);
	}
	return rehash_copy(c, out, from, to, sparse, h);
}

int copy_hash_fd(struct copy_ctx *c, int fd, uint64_t size, int sparse, struct hash128 *out)
{
	int in_fault;
	hash_reset(c->hs);
	if (stream(c, fd, -1, 0, size, sparse, c->hs, &in_fault) != 0)
		return -1;
	*out = hash_digest(c->hs);
	return 0;
}

/* Kernel copy of [FROM, SIZE) (no hashing). 0, 1 (not supported here: fall back), -1. */
static int copy_kernel(struct copy_ctx *c, int in, int out, uint64_t from, uint64_t size,
                       int *in_fault)
{
	uint64_t done = from;
	*in_fault = 0;
	if (from > 0 &&
	    (lseek(in, (off_t)from, SEEK_SET) < 0 || lseek(out, (off_t)from, SEEK_SET) < 0))
		return -1;
	while (done < size) {
		if (*c->stop) {
			errno = EINTR;
			return -1;
		}
		ssize_t n = compat_copy_range(
		    in, out,
		    (size_t)(size - done) < (1u << 30) ? (size_t)(size - done) : (1u << 30));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done == from && (errno == ENOSYS || errno == EXDEV || errno == EINVAL ||
			                     errno == EOPNOTSUPP))
				return 1;
			return -1;
		}
		if (n == 0) {
			errno = CHANGED_ERRNO;
			*in_fault = 1;
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/* The source of the task at hand, for its xattrs: open (SRC >= 0) or by name. */
static struct meta_node src_node(const struct copy_ctx *c, int src)
{
	return (struct meta_node){src, c->at.src_fd, c->at.src};
}

/* The destination entry NAME in the task's destination directory, open (FD >= 0) or not. */
static struct meta_node dst_node(const struct copy_ctx *c, int fd, const char *name)
{
	return (struct meta_node){fd, c->at.dst_fd, name};
}

/*
 * Owner, xattrs, mode and times from ST and SRC onto the new copy FD (meta_apply's order).
 * It was created with ST's permission bits; a FRESH directory's new file already has the
 * owner when it is ours.
 */
static int apply_meta_fd(struct copy_ctx *c, int src, int fd, const struct stat *st, int fresh)
{
	unsigned flags = META_MODE_SET;
	if (c->opts->keep_owner && fresh && st->st_uid == c->euid && st->st_gid == c->egid)
		flags |= META_OWNED;
	struct meta_node s = src_node(c, src), d = dst_node(c, fd, NULL);
	return meta_apply(&c->meta, &s, &d, st, flags);
}

static int same_mtime(const struct stat *st, const struct copy_task *t)
{
	return st->st_mtim.tv_sec == t->mtime_sec && st->st_mtim.tv_nsec == t->mtime_nsec;
}

static int stat_sparse(const struct stat *st)
{
	return st->st_size > 0 && (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
}

static void fail(struct copy_done *d, enum copy_stage stage, int err)
{
	d->status = err == CHANGED_ERRNO ? COPY_CHANGED : COPY_FAILED;
	if (err == EINTR)
		d->status = COPY_INTERRUPTED;
	d->stage = stage;
	d->err = err;
}

/*
 * Open the file the copy of T is written to: unnamed when ABSENT says the destination name is
 * free and the file is small (*TMP = NULL), else under a fresh temporary name (*TMP). Returns
 * the descriptor, or -1 with errno.
 */
static int create_copy(struct copy_ctx *c, const struct copy_task *t, mode_t mode, uint64_t size,
                       int absent, const char **tmp)
{
	const struct copy_place *r = &c->at;
	uint64_t root_bit = t->root < 64 ? UINT64_C(1) << t->root : 0;
	*tmp = NULL;
	if (absent && size <= COPY_UNNAMED_MAX && !(c->no_unnamed & root_bit)) {
		int fd = compat_open_unnamed(r->dst_fd, mode);
		if (fd >= 0)
			return fd;
		if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
			c->no_unnamed |= root_bit;
	}
	*tmp = tmp_name(c);
	return openat(r->dst_fd, *tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

/*
 * Put the verified copy OUT under the final name: rename the temporary name *TMP, or link an
 * unnamed file (*TMP NULL); should the name have been taken since, the unnamed file gets a
 * temporary name (*TMP, for the caller to remove on failure) that is renamed over it.
 * Returns 0, or -1 with errno.
 */
static int place_copy(struct copy_ctx *c, int out, const char **tmp)
{
	const struct copy_place *r = &c->at;
	if (*tmp == NULL) {
		if (compat_link_unnamed(out, r->dst_fd, r->dst, &c->link_by_proc) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
		*tmp = tmp_name(c);
		if (compat_link_unnamed(out, r->dst_fd, *tmp, &c->link_by_proc) != 0) {
			*tmp = NULL;
			return -1;
		}
	}
	return renameat(r->dst_fd, *tmp, r->dst_fd, r->dst);
}

/* Re-read the whole copy OUT and compare its hash with H, the source's. Returns STAGE_NONE,
 * or the stage that failed with errno set. */
static enum copy_stage verify_copy(struct copy_ctx *c, int out, uint64_t size, int sparse,
                                   struct hash128 h, struct copy_done *d)
{
	if (reread_copy(c, out, 0, size, sparse, c->hs, d) != 0)
		return errno == CHANGED_ERRNO ? STAGE_VERIFY : STAGE_VERIFY_READ;
	if (!hash_equal(h, hash_digest(c->hs))) {
		errno = EIO;
		return STAGE_VERIFY;
	}
	return STAGE_NONE;
}

/*
 * One attempt at copying the open regular file SRC (fstat SST) to DST via a temporary or
 * unnamed file (ABSENT: the destination name is known to be free). Returns 0 (D filled:
 * copied), -1 (D filled: failed), or CHANGED_ERRNO's positive value when the source changed
 * during the copy and another attempt may succeed.
 */
static int copy_data(struct copy_ctx *c, const struct copy_task *t, int src, const struct stat *sst,
                     int absent, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	uint64_t size = (uint64_t)sst->st_size;
	const char *tmp;
	int out = create_copy(c, t, sst->st_mode & 0777, size, absent, &tmp);
	if (out < 0) {
		fail(d, STAGE_CREATE, errno);
		return -1;
	}
	int sparse = stat_sparse(sst);
	int hashing = c->opts->verify || c->opts->need_hash;
	int in_fault = 0, rc = 1;
	struct hash128 h = {0, 0};
	enum copy_stage stage = STAGE_NONE;

	/* copy_file_range refused once between this root's file systems: do not ask again. */
	uint64_t root_bit = t->root < 64 ? UINT64_C(1) << t->root : 0;
	if (!hashing && !sparse && !(c->no_kernel_copy & root_bit)) {
		rc = copy_kernel(c, src, out, 0, size, &in_fault);
		if (rc == 1)
			c->no_kernel_copy |= root_bit;
	}
	if (rc == 1) {
		hash_reset(c->hs);
		rc = stream(c, src, out, 0, size, sparse, hashing ? c->hs : NULL, &in_fault);
		if (hashing)
			h = hash_digest(c->hs);
	}
	if (rc != 0) {
		stage = in_fault ? STAGE_READ_SOURCE : STAGE_WRITE;
		goto failed;
	}
	if (sparse && ftruncate(out, (off_t)size) != 0) {
		stage = STAGE_WRITE;
		goto failed;
	}
	/* The source must not have changed while we read it. */
	struct stat after;
	if (fstat(src, &after) != 0) {
		stage = STAGE_READ_SOURCE;
		goto failed;
	}
	if (after.st_size != sst->st_size || after.st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != sst->st_mtim.tv_nsec) {
		errno = CHANGED_ERRNO;
		stage = STAGE_READ_SOURCE;
		goto failed;
	}
	/* Without --fsync the copy is re-read from the page cache now; with it, once it is on
	 * the storage, from there (reread_copy), so the metadata comes first. */
	if (c->opts->verify && !c->opts->fsync && (stage = verify_copy(c, out, size, sparse, h, d)))
		goto failed;
	if (apply_meta_fd(c, src, out, sst, (t->flags & TASK_FRESH) != 0) != 0) {
		stage = STAGE_METADATA;
		goto failed;
	}
	if (c->opts->fsync && fsync(out) != 0) {
		stage = STAGE_SYNC;
		goto failed;
	}
	if (c->opts->verify && c->opts->fsync && (stage = verify_copy(c, out, size, sparse, h, d)))
		goto failed;
	int unnamed = tmp == NULL;
	if (place_copy(c, out, &tmp) != 0) {
		if (unnamed && tmp == NULL && errno == EOPNOTSUPP) {
			/* Unnamed files cannot be linked by this process: named ones from now on.
			 */
			c->no_unnamed = ~UINT64_C(0);
			close(out);
			return copy_data(c, t, src, sst, 0, d);
		}
		stage = (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) ? STAGE_DEST_DIR
		        : unnamed && tmp == NULL                                   ? STAGE_LINK
		                                                                   : STAGE_RENAME;
		goto failed;
	}
	close(out);
	d->status = COPY_COPIED;
	d->bytes = size;
	d->hash = h;
	d->hashed = hashing;
	return 0;
failed:;
	int e = errno;
	close(out);
	if (tmp != NULL)
		unlinkat(r->dst_fd, tmp, 0);
	if (e == CHANGED_ERRNO && stage != STAGE_VERIFY)
		return CHANGED_ERRNO;
	fail(d, stage, e);
	return -1;
}

/*
 * A skipped file's hash, when one is wanted, for --json and the manifest: of what the
 * destination holds (DST_ST), read from there. A manifest line is a fact about DEST, and the
 * source may have changed since the quick check looked at it (with the same size and mtime,
 * or during the run); with -c both sides were hashed and found equal already.
 */
static void hash_skipped(struct copy_ctx *c, const struct stat *dst_st, struct copy_done *d)
{
	if (!c->opts->need_hash || d->hashed)
		return;
	int dfd = openat(c->at.dst_fd, c->at.dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (dfd >= 0 &&
	    copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size, stat_sparse(dst_st), &d->hash) == 0)
		d->hashed = 1;
	else
		fail(d, STAGE_VERIFY_READ, errno);
	if (dfd >= 0)
		close(dfd);
}

/*
 * The destination entry DST_ST (open as FD, or -1: by name) holds the source's data: bring
 * its owner, xattrs, mode and, with TIMES, times in line with the source's (SST, the open
 * SRC or -1: by name) in meta_apply's order, which re-applies whatever a chown clears.
 * Leaves D as it is when nothing differs, else sets COPY_METADATA (or a failure).
 */
static void fix_metadata(struct copy_ctx *c, int src, int fd, const struct stat *sst,
                         const struct stat *dst_st, int times, unsigned flags, struct copy_done *d)
{
	int owner_same = dst_st->st_uid == sst->st_uid && dst_st->st_gid == sst->st_gid;
	int owner_kept = c->opts->keep_owner ? 1 : 0;
	struct meta_node s = src_node(c, src), n = dst_node(c, fd, c->at.dst);
	int differs = (c->opts->keep_owner && !owner_same) ||
	              (!(flags & META_LINK) &&
	               (dst_st->st_mode & 07777) != meta_mode(&c->meta, sst, owner_kept)) ||
	              (times && (dst_st->st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	                         dst_st->st_mtim.tv_nsec != sst->st_mtim.tv_nsec));
	if (!differs) {
		int x = meta_xattrs(&c->meta, &s, &n, 0, NULL);
		if (x < 0) {
			fail(d, STAGE_METADATA, errno);
			return;
		}
		differs = x;
	}
	if (!differs)
		return;
	d->status = COPY_METADATA;
	if (c->opts->dry_run)
		return;
	/* The owner is set only where it differs: chown clears what it would then have to put
	 * back. The rest is set in full after it. */
	if (!c->opts->keep_owner || owner_same)
		flags |= META_OWNED;
	if (meta_apply(&c->meta, &s, &n, sst, flags) != 0)
		fail(d, STAGE_METADATA, errno);
}

/*
 * Decide whether the existing destination DST_ST is up to date with the open source.
 * Returns 1 (skip: D filled, metadata fixed), 0 (copy it).
 */
static int up_to_date(struct copy_ctx *c, int src, const struct stat *sst,
                      const struct stat *dst_st, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	if (!S_ISREG(dst_st->st_mode) || dst_st->st_size != sst->st_size)
		return 0;
	if (c->opts->checksum) {
		int dfd = openat(r->dst_fd, dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return 0;
		struct hash128 hs, hd;
		int ok =
		    copy_hash_fd(c, src, (uint64_t)sst->st_size, stat_sparse(sst), &hs) == 0 &&
		    copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size, stat_sparse(dst_st), &hd) == 0;
		close(dfd);
		if (!ok || !hash_equal(hs, hd))
			return 0;
		d->hash = hs;
		d->hashed = 1;
	} else if (dst_st->st_mtim.tv_sec != sst->st_mtim.tv_sec ||
	           dst_st->st_mtim.tv_nsec != sst->st_mtim.tv_nsec) {
		return 0;
	}
	d->status = COPY_SKIPPED;
	d->bytes = (uint64_t)sst->st_size;
	/* Metadata-only differences are applied without copying data: on the file open when
	 * we may open it, else by name (a user's file without read permission). */
	int fd =
	    c->opts->dry_run
	        ? -1
	        : openat(r->dst_fd, dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	fix_metadata(c, src, fd, sst, dst_st, c->opts->checksum, 0, d);
	if (fd >= 0)
		close(fd);
	return 1;
}

/* The scan's view of a task's source, as a struct stat. */
static struct stat task_stat(const struct copy_task *t)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = (mode_t)t->mode;
	st.st_uid = t->uid;
	st.st_gid = t->gid;
	st.st_size = (off_t)t->size;
	st.st_blocks = (t->flags & TASK_SPARSE) ? 0 : (blkcnt_t)((t->size + 511) / 512);
	st.st_atim.tv_sec = t->atime_sec;
	st.st_atim.tv_nsec = t->atime_nsec;
	st.st_mtim.tv_sec = t->mtime_sec;
	st.st_mtim.tv_nsec = t->mtime_nsec;
	return st;
}

/* TASK_SPLIT: create the shared temporary file at full size for the parts to fill. */
static void split_start(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	char name[sizeof(c->tmp)];
	copy_split_name(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
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
		fail(d, STAGE_READ_SOURCE, CHANGED_ERRNO);
		return -1;
	}
	return 0;
}

/* TASK_PART: copy one range of a split file, hash it, re-read and compare. */
static void copy_part(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	char name[sizeof(c->tmp)];
	copy_split_name(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
	int src, out;
	if (open_split(c, t, name, &src, &out, d) != 0)
		return;
	uint64_t from = t->part_off, to = t->part_off + t->part_len;
	int sparse = (t->flags & TASK_SPARSE) != 0;
	int in_fault = 0, rc = 1;
	enum copy_stage stage = STAGE_NONE;
	compat_sequential(src);
	if (!c->opts->verify && !sparse)
		rc = copy_kernel(c, src, out, from, to, &in_fault);
	if (rc == 1) {
		hash_reset(c->hs);
		rc = stream(c, src, out, from, to, sparse, c->opts->verify ? c->hs : NULL,
		            &in_fault);
	}
	if (rc != 0) {
		stage = in_fault ? STAGE_READ_SOURCE : STAGE_WRITE;
	} else if (c->opts->fsync && fdatasync(out) != 0) {
		stage = STAGE_SYNC; /* --fsync: the part is re-read from the storage */
	} else if (c->opts->verify) {
		struct hash128 h = hash_digest(c->hs);
		if (reread_copy(c, out, from, to, sparse, c->hs, d) != 0) {
			stage = errno == CHANGED_ERRNO ? STAGE_VERIFY : STAGE_VERIFY_READ;
		} else if (!hash_equal(h, hash_digest(c->hs))) {
			errno = EIO;
			stage = STAGE_VERIFY;
		}
	}
	if (stage == STAGE_NONE && source_changed(src, t)) {
		errno = CHANGED_ERRNO;
		stage = STAGE_READ_SOURCE;
	}
	if (stage != STAGE_NONE) {
		fail(d, stage, errno);
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
	         copy_hash_fd(c, fd, t->size, (t->flags & TASK_SPARSE) != 0, &d->hash) == 0;
	close(fd);
	if (!ok)
		return 0;
	d->hashed = c->opts->need_hash;
	d->status = COPY_COPIED;
	d->bytes = t->size;
	return 1;
}

/* TASK_SEAL: the parts are in; check the source, hash, metadata, rename into place. */
static void copy_seal(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	char name[sizeof(c->tmp)];
	copy_split_name(name, sizeof(name), c->ppid, COPY_ID_ENTRY(t->id));
	int src, out;
	if (open_split(c, t, name, &src, &out, d) != 0) {
		if (d->stage == STAGE_CREATE && d->err == ENOENT && sealed_before(c, t, d))
			d->stage = STAGE_NONE, d->err = 0;
		else if (d->stage != STAGE_CREATE)
			unlinkat(r->dst_fd, name, 0);
		return;
	}
	struct stat sst;
	enum copy_stage stage = STAGE_NONE;
	int sparse = (t->flags & TASK_SPARSE) != 0;
	struct meta_node sn = src_node(c, src), dn = dst_node(c, out, NULL);
	if (fstat(src, &sst) != 0)
		stage = STAGE_READ_SOURCE;
	else if (c->opts->need_hash && copy_hash_fd(c, out, t->size, sparse, &d->hash) != 0)
		stage = STAGE_VERIFY_READ;
	else if (meta_apply(&c->meta, &sn, &dn, &sst, 0) != 0) /* created 0600: mode in full */
		stage = STAGE_METADATA;
	else if (c->opts->fsync && fsync(out) != 0)
		stage = STAGE_SYNC;
	else if (renameat(r->dst_fd, name, r->dst_fd, r->dst) != 0)
		stage = errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST ? STAGE_DEST_DIR
		                                                                 : STAGE_RENAME;
	if (stage != STAGE_NONE) {
		fail(d, stage, errno);
		unlinkat(r->dst_fd, name, 0);
	} else {
		d->status = COPY_COPIED;
		d->bytes = t->size;
		d->hashed = c->opts->need_hash;
	}
	close(src);
	close(out);
}

static void copy_regular(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *srcname = r->src;
	const char *dst = r->dst;
	struct stat dst_st;
	int have_dst = 0, absent = (t->flags & TASK_FRESH) != 0;
	if (!c->opts->force && !absent) {
		have_dst = fstatat(r->dst_fd, dst, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
		absent = !have_dst && errno == ENOENT;
		/* A link the source broke: a fresh copy under a temporary name, renamed over
		 * this name only, parts it from the other names (see TASK_ALONE). */
		if (have_dst && (t->flags & TASK_ALONE) && S_ISREG(dst_st.st_mode) &&
		    dst_st.st_nlink > 1)
			have_dst = 0;
	}
	/* The cheap case first: same size, mtime and metadata as scanned, no hash wanted. */
	if (have_dst && !c->opts->checksum && !c->opts->need_hash) {
		struct stat scanned = task_stat(t);
		struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, dst);
		if (copy_quick_same(&scanned, &dst_st, c->opts->keep_owner) &&
		    meta_xattrs(&c->meta, &sn, &dn, 0, NULL) == 0) {
			d->status = COPY_SKIPPED;
			d->bytes = t->size;
			return;
		}
	}
	int src =
	    openat(r->src_fd, srcname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (src < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return;
	}
	/* The first attempt trusts the scan's stat: copy_data() checks it against an fstat of
	 * the source after reading, and a file that changed since is tried again with its own. */
	struct stat sst = task_stat(t);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0 && fstat(src, &sst) != 0) {
			fail(d, STAGE_OPEN_SOURCE, errno);
			break;
		}
		if (!S_ISREG(sst.st_mode)) {
			fail(d, STAGE_OPEN_SOURCE, CHANGED_ERRNO);
			break;
		}
		if (have_dst && up_to_date(c, src, &sst, &dst_st, d)) {
			if (d->status != COPY_FAILED)
				hash_skipped(c, &dst_st, d);
			break;
		}
		if (c->opts->dry_run) {
			d->status = COPY_COPIED;
			d->bytes = (uint64_t)sst.st_size;
			break;
		}
		if (t->flags & TASK_SPLIT) {
			split_start(c, t, d);
			break;
		}
		if (sst.st_size > (off_t)c->bufsize)
			compat_sequential(src);
		int rc = copy_data(c, t, src, &sst, absent, d);
		if (rc != CHANGED_ERRNO)
			break;
		fail(d, STAGE_READ_SOURCE, CHANGED_ERRNO);
	}
	close(src);
}

static void copy_symlink(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	char target[PATH_MAX + 1], old[PATH_MAX + 1];
	ssize_t n = readlinkat(r->src_fd, r->src, target, sizeof(target) - 1);
	if (n < 0 || n >= (ssize_t)sizeof(target) - 1) {
		fail(d, STAGE_READ_LINK, n < 0 ? errno : ENAMETOOLONG);
		return;
	}
	target[n] = '\0';
	d->bytes = 0;
	struct stat st, sst = task_stat(t);
	if (!c->opts->force && fstatat(r->dst_fd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode) && same_mtime(&st, t)) {
		ssize_t m = readlinkat(r->dst_fd, dst, old, sizeof(old) - 1);
		if (m == n && memcmp(old, target, (size_t)n) == 0) {
			/* The same link: its owner and xattrs may still differ. */
			d->status = COPY_SKIPPED;
			fix_metadata(c, -1, -1, &sst, &st, 0, META_LINK, d);
			return;
		}
	}
	d->status = COPY_COPIED;
	if (c->opts->dry_run)
		return;
	const char *tmp = tmp_name(c);
	if (symlinkat(target, r->dst_fd, tmp) != 0) {
		fail(d, STAGE_CREATE, errno);
		return;
	}
	/* A link's owner is kept where it can be; its xattrs (trusted.*, security.*: Linux
	 * allows no user.* on links) and times as for any entry. */
	struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, tmp);
	if (meta_apply(&c->meta, &sn, &dn, &sst, META_LINK) != 0) {
		fail(d, STAGE_METADATA, errno);
	} else if (renameat(r->dst_fd, tmp, r->dst_fd, dst) != 0) {
		fail(d, errno == EISDIR || errno == ENOTEMPTY ? STAGE_DEST_DIR : STAGE_RENAME,
		     errno);
	} else {
		return;
	}
	unlinkat(r->dst_fd, tmp, 0);
}

/* FIFOs and device nodes. */
static void copy_special(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *dst = r->dst;
	mode_t type = (mode_t)t->mode & S_IFMT;
	if ((S_ISCHR(type) || S_ISBLK(type)) && c->euid != 0) {
		d->status = COPY_UNSUPPORTED;
		return;
	}
	struct stat st, sst = task_stat(t);
	sst.st_rdev = (dev_t)t->rdev;
	if (!c->opts->force && fstatat(r->dst_fd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (st.st_mode & S_IFMT) == type && st.st_rdev == (dev_t)t->rdev && same_mtime(&st, t)) {
		/* The same node: its owner, mode and xattrs may still differ. */
		d->status = COPY_SKIPPED;
		fix_metadata(c, -1, -1, &sst, &st, 0, 0, d);
		return;
	}
	d->status = COPY_COPIED;
	if (c->opts->dry_run)
		return;
	const char *tmp = tmp_name(c);
	if (mknodat(r->dst_fd, tmp, type | 0600, (dev_t)t->rdev) != 0) {
		fail(d, STAGE_CREATE, errno);
		return;
	}
	struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, tmp);
	if (meta_apply(&c->meta, &sn, &dn, &sst, 0) != 0) {
		fail(d, STAGE_METADATA, errno);
	} else if (renameat(r->dst_fd, tmp, r->dst_fd, dst) != 0) {
		fail(d, errno == EISDIR || errno == ENOTEMPTY ? STAGE_DEST_DIR : STAGE_RENAME,
		     errno);
	} else {
		return;
	}
	unlinkat(r->dst_fd, tmp, 0);
}

int copy_quick_same(const struct stat *src, const struct stat *dst, int owner)
{
	return S_ISREG(src->st_mode) && S_ISREG(dst->st_mode) && src->st_size == dst->st_size &&
	       src->st_mtim.tv_sec == dst->st_mtim.tv_sec &&
	       src->st_mtim.tv_nsec == dst->st_mtim.tv_nsec &&
	       (src->st_mode & 07777) == (dst->st_mode & 07777) &&
	       (!owner || (src->st_uid == dst->st_uid && src->st_gid == dst->st_gid));
}

uint32_t copy_compare_stat(const struct stat *a, const struct stat *b, int owner)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT))
		return DIFF_TYPE;
	uint32_t diff = 0;
	if (!S_ISLNK(a->st_mode) && (a->st_mode & 07777) != (b->st_mode & 07777))
		diff |= DIFF_MODE;
	if (owner && (a->st_uid != b->st_uid || a->st_gid != b->st_gid))
		diff |= DIFF_OWNER;
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec)
		diff |= DIFF_TIMES;
	if (S_ISREG(a->st_mode) && a->st_size != b->st_size)
		diff |= DIFF_CONTENT;
	if ((S_ISCHR(a->st_mode) || S_ISBLK(a->st_mode)) && a->st_rdev != b->st_rdev)
		diff |= DIFF_DEVICE;
	return diff;
}

uint32_t copy_compare_xattrs(struct meta_ctx *m, const struct meta_node *src,
                             const struct meta_node *dst)
{
	unsigned what = 0;
	if (meta_xattrs(m, src, dst, 0, &what) < 0)
		return 0;
	return (what & META_DIFF_XATTR ? DIFF_XATTR : 0) | (what & META_DIFF_ACL ? DIFF_ACL : 0);
}

/* 1 when A and B are names of the same inode in the destination tree (DST) or the source. */
static int same_inode(const struct copy_linkname *a, const struct copy_linkname *b, int dst)
{
	return dst ? a->dst_dev == b->dst_dev && a->dst_ino == b->dst_ino
	           : a->src_dev == b->src_dev && a->src_ino == b->src_ino;
}

/* Order names by their inode in one tree, then by ENTRY. */
static int by_inode(const struct copy_linkname *a, const struct copy_linkname *b, int dst)
{
	uint64_t ad = dst ? a->dst_dev : a->src_dev, bd = dst ? b->dst_dev : b->src_dev;
	uint64_t ai = dst ? a->dst_ino : a->src_ino, bi = dst ? b->dst_ino : b->src_ino;
	if (ad != bd)
		return ad < bd ? -1 : 1;
	if (ai != bi)
		return ai < bi ? -1 : 1;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

static int by_src(const void *a, const void *b)
{
	return by_inode(a, b, 0);
}

static int by_dst(const void *a, const void *b)
{
	return by_inode(a, b, 1);
}

/* Sorted by their inode in tree SIDE, mark each name that is not on the same inode in the
 * other tree as the first name of its group. */
static void mark_split(struct copy_linkname *p, size_t n, int side)
{
	for (size_t i = 1, first = 0; i < n; i++) {
		if (!same_inode(&p[i], &p[first], side))
			first = i;
		else if (!same_inode(&p[i], &p[first], !side))
			p[i].differs = 1;
	}
}

void copy_link_diffs(struct copy_linkname *p, size_t n)
{
	if (n < 2) /* nothing to group (and qsort wants a real array) */
		return;
	/* Names of one source inode must share one destination inode ... */
	qsort(p, n, sizeof(*p), by_src);
	mark_split(p, n, 0);
	/* ... and names of one destination inode one source inode. */
	qsort(p, n, sizeof(*p), by_dst);
	mark_split(p, n, 1);
}

/* Compare regular file contents of the open SRC and the destination name DST. */
static int contents_differ(struct copy_ctx *c, int src, const struct stat *sst,
                           const struct stat *dst_st, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	int dfd = openat(r->dst_fd, r->dst, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 1;
	struct hash128 hs, hd;
	int ok = copy_hash_fd(c, src, (uint64_t)sst->st_size, stat_sparse(sst), &hs) == 0;
	if (ok) {
		d->hash = hs;
		d->hashed = 1;
	}
	ok = ok && copy_hash_fd(c, dfd, (uint64_t)dst_st->st_size, stat_sparse(dst_st), &hd) == 0;
	close(dfd);
	return !ok || !hash_equal(hs, hd);
}

/* --check for one entry. */
static void copy_compare(struct copy_ctx *c, struct copy_done *d)
{
	const struct copy_place *r = &c->at;
	const char *srcname = r->src;
	struct stat sst, dst;
	if (fstatat(r->src_fd, srcname, &sst, AT_SYMLINK_NOFOLLOW) != 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return;
	}
	d->bytes = S_ISREG(sst.st_mode) ? (uint64_t)sst.st_size : 0;
	if (fstatat(r->dst_fd, r->dst, &dst, AT_SYMLINK_NOFOLLOW) != 0) {
		d->diff = DIFF_MISSING;
	} else {
		d->diff = copy_compare_stat(&sst, &dst, c->opts->keep_owner);
	}
	if (d->diff & (DIFF_MISSING | DIFF_TYPE)) {
		d->status = COPY_DIFFERENT;
		return;
	}
	if (sst.st_nlink > 1 || dst.st_nlink > 1) { /* which names share it: see complete() */
		d->notes |= COPY_NOTE_LINKS;
		d->src_dev = sst.st_dev, d->src_ino = sst.st_ino;
		d->dst_dev = dst.st_dev, d->dst_ino = dst.st_ino;
	}
	struct meta_node sn = src_node(c, -1), dn = dst_node(c, -1, r->dst);
	d->diff |= copy_compare_xattrs(&c->meta, &sn, &dn);
	if (S_ISREG(sst.st_mode) && !(d->diff & DIFF_CONTENT)) {
		int src = openat(r->src_fd, srcname,
		                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (src < 0) {
			fail(d, STAGE_OPEN_SOURCE, errno);
			return;
		}
		if (contents_differ(c, src, &sst, &dst, d))
			d->diff |= DIFF_CONTENT;
		close(src);
	} else if (S_ISLNK(sst.st_mode)) {
		char a[PATH_MAX + 1], b[PATH_MAX + 1];
		ssize_t na = readlinkat(r->src_fd, srcname, a, sizeof(a));
		ssize_t nb = readlinkat(r->dst_fd, r->dst, b, sizeof(b));
		if (na < 0) {
			fail(d, STAGE_READ_LINK, errno);
			return;
		}
		if (na != nb || memcmp(a, b, (size_t)na) != 0)
			d->diff |= DIFF_LINK;
	}
	d->status = d->diff ? COPY_DIFFERENT : COPY_SKIPPED;
}

/* Open the parent directories of T's source and destination (see at.h) into c->at. */
static int find_place(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	const struct copy_root *root = &c->roots[t->root];
	struct copy_place *p = &c->at;
	p->src_fd = at_parent(&c->src_dirs, root->src_fd, names_get(c->names, t->src), &p->src);
	if (p->src_fd < 0) {
		fail(d, STAGE_OPEN_SOURCE, errno);
		return -1;
	}
	p->dst_fd = at_parent(&c->dst_dirs, root->dst_fd, names_get(c->names, t->dst), &p->dst);
	if (p->dst_fd < 0 && c->opts->check && errno == ENOENT) {
		d->status = COPY_DIFFERENT;
		d->diff = DIFF_MISSING;
		return -1;
	}
	/* A dry run does not make directories: below one that is missing, all would be new. */
	if (p->dst_fd < 0 && c->opts->dry_run &&
	    (root->dst_fd < 0 || errno == ENOENT || errno == EBADF)) {
		d->status = S_ISSOCK((mode_t)t->mode) ? COPY_UNSUPPORTED : COPY_COPIED;
		d->bytes = S_ISREG((mode_t)t->mode) ? t->size : 0;
		return -1;
	}
	if (p->dst_fd < 0) {
		fail(d, STAGE_CREATE, errno);
		return -1;
	}
	return 0;
}

void copy_run(struct copy_ctx *c, const struct copy_task *t, struct copy_done *d)
{
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	mode_t type = (mode_t)t->mode & S_IFMT;
	if (find_place(c, t, d) != 0)
		return;
	if (c->opts->check)
		copy_compare(c, d);
	else if (t->flags & TASK_PART)
		copy_part(c, t, d);
	else if (t->flags & TASK_SEAL)
		copy_seal(c, t, d);
	else if (S_ISREG(type))
		copy_regular(c, t, d);
	else if (S_ISLNK(type))
		copy_symlink(c, t, d);
	else if (S_ISFIFO(type) || S_ISCHR(type) || S_ISBLK(type))
		copy_special(c, t, d);
	else
		d->status = COPY_UNSUPPORTED;
	if (*c->stop && d->status == COPY_FAILED && d->err == EINTR)
		d->status = COPY_INTERRUPTED;
}
