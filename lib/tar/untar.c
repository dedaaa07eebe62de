/* untar: verified extraction of tar archives (see untar.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "fs/at.h"
#include "copy/copy.h"
#include "report/manifest.h"
#include "run/run.h"
#include "tar/untar.h"

/* Holes are hashed this many zeros at a time, so that a signal stops a long run of them. */
#define ZERO_CHUNK ((uint64_t)1 << 30)
/* Members larger than this have their size tried on the file system before any hashing. */
#define PROBE_SIZE ((int64_t)1 << 30)
/* The read-back buffer. */
#define READ_BACK_BUF (1 << 20)

/* One line of the manifest being verified against. */
struct untar_want {
	char *path;
	struct hash128 hash;
	int seen; /* 1: a member with this path was extracted and matched; -1: it mismatched */
};

/* A run of data written to the member being extracted (holes between runs are not). */
struct untar_extent {
	int64_t off, len;
};

/*
 * A directory member whose path is PATH_MAX or longer: libarchive's disk writer makes it but
 * cannot set its owner, mode or times (it loses its way below PATH_MAX), so it is made
 * here, and those are set at the end, deepest first, through descriptors (at.h).
 */
struct untar_deep {
	char *path;
	struct archive_entry *e; /* owner, mode and times */
};

/* What the next step of the reading loop is. */
enum step {
	STEP_OK,   /* the member is done (extracted, or failed and reported) */
	STEP_END,  /* this archive cannot be read further (reported); go to the next */
	STEP_STOP, /* interrupted, or out of memory (u->err): the run stops */
};

/* Everything about one extraction. */
struct untar {
	const struct untar_opts *o;
	const struct untar_hooks *h;
	struct archive *w;  /* libarchive's disk writer, relative to DEST (the working directory) */
	int root;           /* DEST, open */
	struct at_cache at; /* the last parent directory below DEST used */
	struct hash_state *hs;    /* the member's whole content, holes as zeros */
	struct hash_state *data;  /* the data written, runs concatenated (no holes) */
	struct hash_state *back;  /* the same runs read back */
	struct untar_extent *ext; /* the runs written to the current member */
	size_t next, ext_cap;
	unsigned char *buf;      /* READ_BACK_BUF bytes */
	struct untar_want *want; /* the manifest, sorted by path */
	size_t nwant, want_cap;
	unsigned long counter;     /* for temporary names */
	char *tmp;                 /* the temporary file being written, for removal on interrupt */
	long pid;                  /* for temporary names */
	const char *archive;       /* the archive being read, for messages */
	struct archive_entry *dot; /* the last "." member: DEST's own mode and times, or NULL */
	struct untar_deep *deep;   /* directories past PATH_MAX, set up at the end */
	size_t ndeep, deep_cap;
	int damaged;    /* the current member had a warning (reported) */
	int counted;    /* the current member is counted as failed already */
	char msg[1024]; /* libarchive's last message, cleaned (why_msg) */
	struct stats stats;
	double start, last_tick;
	int failed;
	char *err;
	size_t errlen;
};

static void tick(struct untar *u)
{
	u->stats.seconds = run_now() - u->start;
	u->last_tick = u->stats.seconds;
	if (u->h->tick != NULL)
		u->h->tick(u->h->ctx, &u->stats);
}

/* Report PATH (NULL: the archive itself) of the current archive as failed and count it. */
static void member_failed(struct untar *u, const char *path, const char *reason, int err)
{
	u->failed = 1;
	if (path == NULL || !u->counted)
		u->stats.failed++; /* a member once, however many things are wrong with it */
	u->counted = path != NULL;
	if (u->h->failed != NULL)
		u->h->failed(u->h->ctx, u->archive, path, reason, err);
}

/* libarchive's message about A, never empty, without the newline some formats end it with. */
static const char *why_msg(struct untar *u, struct archive *a)
{
	const char *s = archive_error_string(a);
	snprintf(u->msg, sizeof(u->msg), "%s", s != NULL && *s ? s : "unknown libarchive error");
	for (size_t n = strlen(u->msg); n > 0 && (u->msg[n - 1] == '\n' || u->msg[n - 1] == ' ');)
		u->msg[--n] = '\0';
	return u->msg;
}

/* The errno value behind A's last error, when it is one (libarchive also uses -1). */
static int why_errno(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? e : 0;
}

const char *untar_safe_path(const char *path)
{
	const char *start = path;
	while (*path == '/' || (path[0] == '.' && (path[1] == '/' || path[1] == '\0')))
		path += path[0] == '/' || path[1] == '\0' ? 1 : 2;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p += n;
		p += *p == '/';
	}
	if (*path == '\0')
		return *start != '\0' ? "." : NULL; /* ".", "./", "/", "./.": DEST itself */
	return path;
}

/* ---- the manifest ----------------------------------------------------------------------- */

static int want_cmp(const void *a, const void *b)
{
	return strcmp(((const struct untar_want *)a)->path, ((const struct untar_want *)b)->path);
}

static int load_manifest(struct untar *u)
{
	FILE *f = fopen(u->o->manifest, "r");
	if (f == NULL)
		return snprintf(u->err, u->errlen, "%s: cannot open manifest: %s", u->o->manifest,
		                strerror(errno)),
		       -1;
	char *line = NULL, *path = NULL;
	size_t cap = 0, path_cap = 0;
	ssize_t n;
	int rc = 0;
	for (size_t lineno = 1; rc == 0 && (n = getline(&line, &cap, f)) >= 0; lineno++) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		struct hash128 h;
		const char *safe;
		/* The unescaped path is never longer than the line. */
		if (array_grow(&path, &path_cap, (size_t)n + 1, 1) != 0) {
			snprintf(u->err, u->errlen, "out of memory");
			rc = -1;
		} else if (manifest_parse_line(line, &h, path, path_cap) != 0 ||
		           (safe = untar_safe_path(path)) == NULL || strcmp(safe, ".") == 0) {
			snprintf(u->err, u->errlen, "%s:%zu: not a manifest line", u->o->manifest,
			         lineno);
			rc = -1;
		} else if (array_grow(&u->want, &u->want_cap, u->nwant + 1, sizeof(*u->want)) !=
		               0 ||
		           (u->want[u->nwant].path = strdup(safe)) == NULL) {
			snprintf(u->err, u->errlen, "out of memory");
			rc = -1;
		} else {
			u->want[u->nwant].hash = h;
			u->want[u->nwant++].seen = 0;
		}
	}
	free(line);
	free(path);
	fclose(f);
	if (rc == 0)
		qsort(u->want, u->nwant, sizeof(*u->want), want_cmp);
	return rc;
}

static struct untar_want *find_want(struct untar *u, const char *path)
{
	struct untar_want key = {(char *)path, {0, 0}, 0};
	return u->nwant ? bsearch(&key, u->want, u->nwant, sizeof(*u->want), want_cmp) : NULL;
}

/* With a manifest: 1 when PATH is listed with hash H (and mark it seen), else 0 (reported). */
static int verified(struct untar *u, const char *path, struct hash128 h)
{
	if (u->o->manifest == NULL)
		return 1;
	struct untar_want *w = find_want(u, path);
	if (w == NULL) {
		member_failed(u, path, "not in the manifest; not extracted", 0);
		return 0;
	}
	if (!hash_equal(w->hash, h)) {
		member_failed(u, path, "content does not match the manifest; not extracted", 0);
		w->seen = -1; /* reported already */
		return 0;
	}
	w->seen = 1;
	return 1;
}

/* ---- DEST-relative paths of any length ------------------------------------------------ */

/* The directory holding PATH (below DEST) and, in *LEAF, its last component; -1 with errno. */
static int parent_of(struct untar *u, const char *path, const char **leaf)
{
	return at_parent(&u->at, u->root, path, leaf);
}

/* lstat of PATH below DEST. */
static int stat_at(struct untar *u, const char *path, struct stat *st)
{
	const char *leaf;
	int dfd = parent_of(u, path, &leaf);
	return dfd < 0 ? -1 : fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW);
}

static int unlink_at(struct untar *u, const char *path)
{
	const char *leaf;
	int dfd = parent_of(u, path, &leaf);
	return dfd < 0 ? -1 : unlinkat(dfd, leaf, 0);
}

/* "<dir of PATH>/.pcopy-tmp.<pid>.<n>" into u->tmp. */
static int tmp_name(struct untar *u, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) + 1 : 0;
	free(u->tmp);
	u->tmp = malloc((size_t)dirlen + sizeof(COPY_TMP_PREFIX) + 48);
	if (u->tmp == NULL)
		return -1;
	sprintf(u->tmp, "%.*s%s%ld.%lu", dirlen, path, COPY_TMP_PREFIX, u->pid, ++u->counter);
	return 0;
}

static void drop_tmp(struct untar *u)
{
	if (u->tmp != NULL)
		unlink_at(u, u->tmp);
	free(u->tmp);
	u->tmp = NULL;
}

/*
 * 1 when the directory part of PATH (DEST-relative) holds no symlink and no non-directory:
 * every component that exists is a real directory (missing ones are made by the disk
 * writer). The parent is opened a component at a time refusing symlinks (at.h), and kept
 * open, so a run of members in one directory costs one string compare. Reported when not.
 */
static int safe_parent(struct untar *u, const char *path, const char *member)
{
	const char *leaf;
	if (parent_of(u, path, &leaf) >= 0 || errno == ENOENT)
		return 1; /* missing from some point on: the disk writer makes real directories */
	if (errno == ELOOP)
		member_failed(u, member, "would be written through a symbolic link", 0);
	else if (errno == ENOTDIR)
		member_failed(u, member, "a path component is not a directory", 0);
	else
		member_failed(u, member, "cannot open its directory", errno);
	return 0;
}

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

/* A warning about the current member (its data or its metadata): reported, extracted. */
static void member_warned(struct untar *u, const char *path, const char *reason, int err)
{
	u->damaged = 1;
	member_failed(u, path, reason, err);
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
			member_warned(u, path, why_msg(u, r),
			              0); /* a bad CRC: the data is delivered */
		} else if (rc < ARCHIVE_WARN) {
			member_failed(u, path, why_msg(u, r), 0);
			return rc == ARCHIVE_FATAL ? STEP_END : STEP_OK;
		}
		if (off < pos) {
			member_failed(u, path, "data blocks out of order in the archive", 0);
			return STEP_OK;
		}
		if (off > (size >= 0 ? size : max_size(u))) { /* never hash a hole past the end */
			member_failed(u, path, "data past its declared size", EFBIG);
			return STEP_OK;
		}
		if (off > pos && hash_zeros(u, u->hs, (uint64_t)(off - pos)) != 0)
			return STEP_STOP;
		hash_update(u->hs, buf, n);
		if (archive_write_data_block(u->w, buf, n, off) < ARCHIVE_OK) {
			member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
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
	int dfd = parent_of(u, u->tmp, &leaf);
	int fd = dfd < 0 ? -1 : openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int unreadable = 0; /* a member of mode 0200 or 0: made readable for a moment, as owner */
	if (fd < 0 && errno == EACCES && fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && fchmodat(dfd, leaf, (st.st_mode & 07777) | S_IRUSR, 0) == 0) {
		unreadable = 1;
		fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, st.st_mode & 07777) != 0) {
			member_failed(u, path, "cannot read back what was written", errno);
			if (fd >= 0)
				close(fd);
			return 0;
		}
	}
	if (fd < 0 || (!unreadable && fstat(fd, &st) != 0)) {
		member_failed(u, path, "cannot read back what was written", errno);
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
					member_failed(u, path, "cannot read back what was written",
					              errno);
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
		member_failed(u, path, "what was written does not read back as the archive's data",
		              0);
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
	int dfd = parent_of(u, u->tmp, &leaf), e = 0;
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
	int dfd = parent_of(u, path, &leaf);
	tmp_leaf = tmp_leaf ? tmp_leaf + 1 : u->tmp;
	if (dfd < 0 || renameat(dfd, tmp_leaf, dfd, leaf) != 0) {
		member_failed(u, path, "cannot rename into place", errno);
		return -1;
	}
	free(u->tmp);
	u->tmp = NULL;
	return 0;
}

/* A regular file: under a temporary name, hashed, read back, verified, renamed into PATH. */
static enum step extract_file(struct untar *u, struct archive *r, struct archive_entry *e,
                              const char *path)
{
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	if (size > max_size(u)) {
		member_failed(u, path, "declared size is larger than pcopy extracts", EFBIG);
		return STEP_OK;
	}
	if (!safe_parent(u, path, path))
		return STEP_OK;
	if (tmp_name(u, path) != 0)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	archive_entry_copy_pathname(e, u->tmp);
	int hrc = archive_write_header(u->w, e);
	if (hrc < ARCHIVE_WARN) {
		member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
		free(u->tmp);
		u->tmp = NULL; /* nothing was created under it */
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) { /* nothing opened to write to, as archive_read_extract() */
		member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
		archive_write_finish_entry(u->w);
		drop_tmp(u);
		return STEP_OK;
	}
	int e2 = size_fits(u, size);
	if (e2 != 0) {
		member_failed(u, path, "declared size is larger than the file system takes", e2);
		drop_tmp(u);
		return STEP_OK;
	}
	struct hash128 h;
	int wrote;
	enum step st = copy_data(u, r, path, size, &wrote, &h);
	if (st != STEP_OK || !wrote) {
		drop_tmp(u);
		return st;
	}
	int frc = archive_write_finish_entry(u->w);
	if (frc < ARCHIVE_WARN) {
		member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
		drop_tmp(u);
		return STEP_OK;
	}
	if (frc == ARCHIVE_WARN) /* metadata (an ACL, an xattr) not set: the data is good */
		member_warned(u, path, why_msg(u, u->w), why_errno(u->w));
	int64_t end = u->next > 0 ? u->ext[u->next - 1].off + u->ext[u->next - 1].len : 0;
	int back = read_back(u, path, size >= 0 ? size : end);
	if (back <= 0 || !verified(u, path, h)) {
		drop_tmp(u);
		return back < 0 ? STEP_STOP : STEP_OK;
	}
	if (rename_tmp(u, path) != 0) {
		drop_tmp(u);
		return STEP_OK;
	}
	if (u->damaged)
		return STEP_OK; /* in place, as bsdtar leaves it, but never vouched for */
	uint64_t bytes = (uint64_t)(size >= 0 ? size : end);
	u->stats.copied++;
	u->stats.bytes_copied += bytes;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, bytes, &h);
	return STEP_OK;
}

/* With a manifest, a hard link PATH to SAFE is extracted only when SAFE was verified. */
static int link_verified(struct untar *u, const char *path, const char *safe)
{
	if (u->o->manifest == NULL)
		return 1;
	struct untar_want *to = find_want(u, safe);
	if (to == NULL || to->seen != 1) {
		member_failed(u, path, "hard link to a file that was not extracted", 0);
		return 0;
	}
	return verified(u, path, to->hash); /* listed under its own name too */
}

/* Make the missing directories on the way to PATH (below DEST), never through a symlink. */
static int make_parents(struct untar *u, const char *path)
{
	int fd = dup(u->root);
	for (const char *p = path, *slash; fd >= 0 && (slash = strchr(p, '/')) != NULL;
	     p = slash + 1) {
		char name[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n == 0)
			continue;
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (mkdirat(fd, name, 0777) != 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A directory member past PATH_MAX (see struct untar_deep). */
static enum step extract_deep_dir(struct untar *u, struct archive_entry *e, const char *path)
{
	const char *leaf;
	int dfd = parent_of(u, path, &leaf);
	if (dfd < 0 && errno == ENOENT && make_parents(u, path) == 0)
		dfd = parent_of(u, path, &leaf);
	struct stat st;
	if (dfd < 0 ||
	    (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
	     unlinkat(dfd, leaf, 0) != 0) ||
	    (mkdirat(dfd, leaf, 0700) != 0 && errno != EEXIST)) {
		member_failed(u, path, "cannot make directory", errno);
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
		u->h->member(u->h->ctx, path, 0, NULL);
	return STEP_OK;
}

/* Anything else: directory, symlink, hard link, FIFO, device; written in place. */
static enum step extract_other(struct untar *u, struct archive *r, struct archive_entry *e,
                               const char *path)
{
	const char *target = archive_entry_hardlink(e);
	if (target != NULL) {
		const char *safe = untar_safe_path(target);
		if (safe == NULL || strcmp(safe, ".") == 0) {
			member_failed(u, path, "hard link target has '..' or is empty; skipped", 0);
			return STEP_OK;
		}
		archive_entry_copy_hardlink(e, safe);
		if (!link_verified(u, path, safe))
			return STEP_OK;
	}
	struct stat st;
	if (!safe_parent(u, path, path) ||
	    (target != NULL && !safe_parent(u, archive_entry_hardlink(e), path)))
		return STEP_OK;
	int dir = archive_entry_filetype(e) == AE_IFDIR;
	/* A symlink in DEST where a directory goes is replaced, not followed. */
	if (dir && stat_at(u, path, &st) == 0 && S_ISLNK(st.st_mode) && unlink_at(u, path) != 0) {
		member_failed(u, path, "cannot replace symbolic link", errno);
		return STEP_OK;
	}
	if (dir && strlen(path) >= PATH_MAX)
		return extract_deep_dir(u, e, path);
	/* A directory kept open may be replaced by this member: open the next one afresh. */
	if (!dir)
		at_cache_drop(&u->at);
	int hrc = archive_write_header(u->w, e);
	if (hrc < ARCHIVE_WARN) {
		member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) { /* as archive_read_extract(): no data (a link to itself) */
		member_warned(u, path, why_msg(u, u->w), why_errno(u->w));
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
		member_failed(u, path, why_msg(u, u->w), why_errno(u->w));
		return STEP_OK;
	}
	if (frc == ARCHIVE_WARN)
		member_warned(u, path, why_msg(u, u->w), why_errno(u->w));
	if (u->damaged)
		return STEP_OK;
	u->stats.copied++;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, 0, NULL);
	return STEP_OK;
}

/* A "." member: DEST itself, whose mode and times are set at the very end. */
static enum step extract_dot(struct untar *u, struct archive_entry *e, const char *name)
{
	if (archive_entry_filetype(e) != AE_IFDIR) {
		member_failed(u, name,
		              "names the destination itself but is not a directory; skipped", 0);
		return STEP_OK;
	}
	archive_entry_free(u->dot);
	if ((u->dot = archive_entry_clone(e)) == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	u->stats.dirs++;
	return STEP_OK;
}

/*
 * 1 when a component of PATH is one of pcopy's temporary names: such a member could be taken
 * for (or collide with) a temporary file, and later runs remove those.
 */
static int has_tmp_name(const char *path)
{
	for (const char *p = path; p != NULL; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (copy_is_tmp_name(p))
			return 1;
	return 0;
}

/*
 * Extract the member E, whose header libarchive read with status HRC (ARCHIVE_OK, _WARN or
 * _FAILED). Returns what the reading loop does next.
 */
static enum step extract_member(struct untar *u, struct archive *r, struct archive_entry *e,
                                int hrc)
{
	const char *name = archive_entry_pathname(e);
	const char *shown = name != NULL && *name != '\0' ? name : "(unnamed)";
	u->stats.done++;
	u->damaged = u->counted = 0;
	if (hrc == ARCHIVE_FAILED) { /* this member only: an unsupported kind, encrypted, ... */
		member_failed(u, shown, why_msg(u, r), 0);
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) /* extracted as bsdtar does, but reported and not vouched for */
		member_warned(u, shown, why_msg(u, r), 0);
	const char *safe = name ? untar_safe_path(name) : NULL;
	if (safe == NULL) {
		member_failed(u, shown, "member path has '..' or is empty; skipped", 0);
		return STEP_OK;
	}
	if (strcmp(safe, ".") == 0)
		return extract_dot(u, e, shown);
	if (has_tmp_name(safe)) {
		member_failed(u, shown, "name is kept for pcopy's temporary files; skipped", 0);
		return STEP_OK;
	}
	char *path = strdup(safe);
	if (path == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0'; /* "dir/": the name is "dir" */
	archive_entry_copy_pathname(e, path);
	enum step rc;
	if (archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL) {
		u->stats.files++;
		rc = extract_file(u, r, e, path);
	} else {
		if (archive_entry_filetype(e) == AE_IFDIR)
			u->stats.dirs++;
		else
			u->stats.files++;
		rc = extract_other(u, r, e, path);
	}
	free(path);
	return rc;
}

/*
 * Read headers from R until the end. Returns STEP_OK (the archive was read to its end, or
 * cut short after its first member, reported), STEP_END (unreadable from its start: u->err)
 * or STEP_STOP.
 */
static enum step read_members(struct untar *u, struct archive *r)
{
	struct archive_entry *e;
	int retrying = 0, members = 0;
	int64_t retry_at = -1;
	while (!*u->o->interrupted) {
		int h = archive_read_next_header(r, &e);
		if (h == ARCHIVE_EOF)
			return STEP_OK;
		if (h == ARCHIVE_RETRY) { /* damage: libarchive looks for the next header */
			int64_t at = archive_filter_bytes(r, -1);
			if (!retrying)
				member_failed(u, NULL, why_msg(u, r), 0);
			else if (at == retry_at) {
				member_failed(u, NULL, "no next header found; the rest is skipped",
				              0);
				return STEP_OK;
			}
			retrying = 1;
			retry_at = at;
			continue;
		}
		retrying = 0;
		if (h == ARCHIVE_FATAL) {
			if (members == 0 && u->stats.done == 0)
				return snprintf(u->err, u->errlen, "%s: %s", u->archive,
				                why_msg(u, r)),
				       STEP_END;
			member_failed(u, NULL, why_msg(u, r), 0);
			return STEP_OK;
		}
		members++;
		enum step s = extract_member(u, r, e, h);
		u->stats.bytes_done = (uint64_t)archive_filter_bytes(r, -1);
		if (run_now() - u->start - u->last_tick >= 0.1)
			tick(u);
		if (s == STEP_STOP)
			return s;
		if (s == STEP_END)
			return STEP_OK; /* reported */
	}
	return STEP_STOP;
}

/* Extract archive NAME, open at FD. Returns 0, or -1 (u->err says why, or interrupted). */
static int extract_archive(struct untar *u, const char *name, int fd)
{
	struct archive *r = archive_read_new();
	if (r == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), -1;
	u->archive = name;
	archive_read_support_filter_all(r);
	archive_read_support_format_all(r);
	if (archive_read_open_fd(r, fd, 1 << 20) != ARCHIVE_OK) {
		snprintf(u->err, u->errlen, "%s: %s", name, why_msg(u, r));
		archive_read_free(r);
		return -1;
	}
	enum step s = read_members(u, r);
	archive_read_free(r);
	return s == STEP_OK ? 0 : -1;
}

/* Make DEST (not its parents) when missing, open it, and make it the working directory. */
static int enter_dest(struct untar *u)
{
	const char *d = u->o->dest;
	if (mkdir(d, 0777) != 0 && errno != EEXIST)
		return snprintf(u->err, u->errlen, "%s: cannot create directory: %s", d,
		                strerror(errno)),
		       -1;
	if (chdir(d) != 0 || (u->root = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return snprintf(u->err, u->errlen, "%s: %s", d, strerror(errno)), -1;
	return 0;
}

/* Give directory FD (PATH, for messages) the owner (as root), mode and times of E. */
static void set_dir_meta(struct untar *u, int fd, struct archive_entry *e, const char *path)
{
	int err = 0;
	if (u->o->keep_owner &&
	    fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) != 0)
		err = errno;
	if (fchmod(fd, archive_entry_perm(e) & 07777) != 0 && err == 0)
		err = errno;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	if (archive_entry_atime_is_set(e))
		ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
	if (archive_entry_mtime_is_set(e))
		ts[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
	if (futimens(fd, ts) != 0 && err == 0)
		err = errno;
	if (err != 0)
		member_failed(u, path, "cannot set the directory's owner, mode or times", err);
}

static int deep_cmp(const void *a, const void *b)
{
	return -strcmp(((const struct untar_deep *)a)->path, ((const struct untar_deep *)b)->path);
}

/* The directories past PATH_MAX get their owners, modes and times, deepest first. */
static void apply_deep(struct untar *u)
{
	if (u->ndeep > 1)
		qsort(u->deep, u->ndeep, sizeof(*u->deep), deep_cmp);
	for (size_t i = 0; i < u->ndeep; i++) {
		u->counted = 0;
		int fd = at_open_dir(u->root, u->deep[i].path, strlen(u->deep[i].path));
		if (fd < 0) {
			member_failed(u, u->deep[i].path, "cannot open directory", errno);
			continue;
		}
		set_dir_meta(u, fd, u->deep[i].e, u->deep[i].path);
		close(fd);
	}
}

/* DEST gets the owner (as root), mode and times of the archive's "." member, if any. */
static void apply_dot(struct untar *u)
{
	if (u->dot != NULL) {
		u->counted = 0;
		set_dir_meta(u, u->root, u->dot, ".");
	}
}

/*
 * Open the N ARCHIVES into FDS before DEST becomes the working directory, adding their sizes
 * up for the progress line. Returns 0, or -1 (u->err says why).
 */
static int open_archives(struct untar *u, char **archives, size_t n, int *fds)
{
	struct stat st;
	for (size_t i = 0; i < n; i++) {
		int std = strcmp(archives[i], "-") == 0;
		fds[i] = std ? STDIN_FILENO : open(archives[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return snprintf(u->err, u->errlen, "%s: cannot open: %s", archives[i],
			                strerror(errno)),
			       -1;
		if (!std && fstat(fds[i], &st) == 0)
			u->stats.bytes_total += (uint64_t)st.st_size;
	}
	return 0;
}

/* Report manifest lines no member matched. */
static void report_unseen(struct untar *u)
{
	u->archive = NULL;
	for (size_t i = 0; i < u->nwant; i++) {
		u->counted = 0;
		if (u->want[i].seen == 0 && find_want(u, u->want[i].path) == &u->want[i])
			member_failed(u, u->want[i].path, "in the manifest but not extracted", 0);
	}
}

/* Allocate what an extraction needs. 0, or -1. */
static int untar_init(struct untar *u, size_t narchives, int **fds)
{
	u->root = -1;
	at_cache_init(&u->at);
	u->pid = (long)getpid();
	u->hs = hash_new();
	u->data = hash_new();
	u->back = hash_new();
	u->buf = malloc(READ_BACK_BUF);
	*fds = calloc(narchives + 1, sizeof(int));
	for (size_t i = 0; *fds != NULL && i < narchives; i++)
		(*fds)[i] = -1;
	if (u->hs == NULL || u->data == NULL || u->back == NULL || u->buf == NULL || *fds == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), -1;
	return 0;
}

static void untar_free(struct untar *u, int *fds, size_t narchives)
{
	if (u->w != NULL)
		archive_write_free(u->w);
	for (size_t i = 0; fds != NULL && i < narchives; i++)
		if (fds[i] > STDIN_FILENO)
			close(fds[i]);
	free(fds);
	for (size_t i = 0; i < u->nwant; i++)
		free(u->want[i].path);
	free(u->want);
	free(u->ext);
	free(u->buf);
	archive_entry_free(u->dot);
	for (size_t i = 0; i < u->ndeep; i++) {
		free(u->deep[i].path);
		archive_entry_free(u->deep[i].e);
	}
	free(u->deep);
	at_cache_free(&u->at);
	if (u->root >= 0)
		close(u->root);
	hash_free(u->hs);
	hash_free(u->data);
	hash_free(u->back);
}

int untar_extract(const struct untar_opts *o, char **archives, size_t narchives,
                  const struct untar_hooks *hooks, char *err, size_t errlen)
{
	struct untar u;
	memset(&u, 0, sizeof(u));
	u.o = o;
	u.h = hooks;
	u.err = err;
	u.errlen = errlen;
	u.start = run_now();
	int *fds = NULL;
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |
	            ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
	            (o->keep_owner ? ARCHIVE_EXTRACT_OWNER : 0);
	int rc = untar_init(&u, narchives, &fds);
	if (rc == 0)
		rc = open_archives(&u, archives, narchives, fds);
	if (rc == 0 && o->manifest != NULL)
		rc = load_manifest(&u);
	if (rc == 0)
		rc = enter_dest(&u);
	if (rc == 0 && (u.w = archive_write_disk_new()) == NULL)
		rc = (snprintf(err, errlen, "out of memory"), -1);
	if (rc == 0) {
		archive_write_disk_set_options(u.w, flags);
		archive_write_disk_set_standard_lookup(u.w);
	}
	for (size_t i = 0; rc == 0 && i < narchives && !*o->interrupted; i++)
		rc = extract_archive(&u, archives[i], fds[i]);
	drop_tmp(&u);
	at_cache_drop(&u.at);
	/* Closing sets the directories' modes and times, after their contents. */
	u.archive = o->dest;
	if (u.w != NULL && archive_write_close(u.w) != ARCHIVE_OK && u.stats.done > 0)
		member_failed(&u, NULL, why_msg(&u, u.w), why_errno(u.w));
	int status;
	if (*o->interrupted)
		status = 128 + *o->interrupted;
	else if (rc != 0)
		status = 2;
	else {
		apply_deep(&u);
		apply_dot(&u);
		report_unseen(&u);
		status = u.failed ? 1 : 0;
	}
	/* The summary's bytes are the file data extracted, not the archives' sizes. */
	u.stats.bytes_total = u.stats.bytes_done = u.stats.bytes_copied;
	tick(&u);
	untar_free(&u, fds, narchives);
	return status;
}
