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

#include "array.h"
#include "copy.h"
#include "manifest.h"
#include "run.h"
#include "untar.h"

/* One line of the manifest being verified against. */
struct untar_want {
	char *path;
	struct hash128 hash;
	int seen; /* 1: a member with this path was extracted and matched; -1: it mismatched */
};

/* Everything about one extraction. */
struct untar {
	const struct untar_opts *o;
	const struct untar_hooks *h;
	struct archive *w; /* libarchive's disk writer, relative to DEST (the working directory) */
	struct hash_state *hs;
	struct untar_want *want; /* the manifest, sorted by path */
	size_t nwant, want_cap;
	unsigned long counter; /* for temporary names */
	char *tmp;             /* the temporary file being written, for removal on interrupt */
	long pid;              /* for temporary names */
	char *safe_dir;        /* the last directory found to hold no symlink on its way, or NULL */
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

static void member_failed(struct untar *u, const char *path, const char *reason, int err)
{
	u->failed = 1;
	u->stats.failed++;
	if (u->h->failed != NULL)
		u->h->failed(u->h->ctx, path, reason, err);
}

const char *untar_safe_path(const char *path)
{
	while (*path == '/' || (path[0] == '.' && path[1] == '/'))
		path += path[0] == '/' ? 1 : 2;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p += n;
		p += *p == '/';
	}
	return *path != '\0' && strcmp(path, ".") != 0 ? path : NULL;
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
		           (safe = untar_safe_path(path)) == NULL) {
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

/* ---- members ---------------------------------------------------------------------------- */

/*
 * Copy the data of the current member from R to the disk writer, hashing it (holes as
 * zeros). Returns 0; -1 when the archive cannot be read (fatal); 1 when writing failed (the
 * rest of the member's data is skipped).
 */
static int copy_data(struct untar *u, struct archive *r, int64_t size, struct hash128 *out)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	int64_t pos = 0;
	hash_reset(u->hs);
	for (;;) {
		if (*u->o->interrupted)
			return -1;
		int rc = archive_read_data_block(r, &buf, &n, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN)
			return snprintf(u->err, u->errlen, "%s", archive_error_string(r)), -1;
		if (off > pos)
			hash_update_zeros(u->hs, (uint64_t)(off - pos));
		hash_update(u->hs, buf, n);
		if (archive_write_data_block(u->w, buf, n, off) < ARCHIVE_WARN)
			return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 1;
		pos = off + (int64_t)n;
	}
	if (pos < size)
		hash_update_zeros(u->hs, (uint64_t)(size - pos));
	u->stats.bytes_copied += (uint64_t)(size > 0 ? size : 0);
	*out = hash_digest(u->hs);
	return 0;
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
		unlink(u->tmp);
	free(u->tmp);
	u->tmp = NULL;
}

/*
 * 1 when the directory part of PATH (DEST-relative) holds no symlink and no non-directory:
 * every component that exists is a real directory (missing ones are made by the disk
 * writer, which does not follow symlinks when creating). The last such directory is
 * remembered, so a run of members in one directory costs one string compare; components
 * below it are the only ones checked. Reported when not.
 */
static int safe_parent(struct untar *u, const char *path, const char *member)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return 1; /* directly in DEST */
	size_t len = (size_t)(slash - path), from = 0;
	if (u->safe_dir != NULL) {
		size_t k = strlen(u->safe_dir);
		if (k == len && strncmp(path, u->safe_dir, len) == 0)
			return 1;
		if (k < len && path[k] == '/' && strncmp(path, u->safe_dir, k) == 0)
			from = k + 1;
	}
	char *dir = strndup(path, len);
	if (dir == NULL)
		return 0;
	int ok = 1;
	for (size_t i = from; ok && i <= len; i++) {
		if (i < len && dir[i] != '/')
			continue;
		dir[i] = '\0';
		struct stat st;
		if (fstatat(AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			dir[i] = i < len ? '/' : '\0';
			break; /* missing from here on: the disk writer makes real directories */
		}
		if (!S_ISDIR(st.st_mode)) {
			member_failed(u, member,
			              S_ISLNK(st.st_mode)
			                  ? "would be written through a symbolic link"
			                  : "a path component is not a directory",
			              0);
			ok = 0;
		}
		if (i < len)
			dir[i] = '/';
	}
	free(u->safe_dir);
	u->safe_dir = ok ? dir : NULL;
	if (!ok)
		free(dir);
	return ok;
}

/* A symlink member may have replaced a directory remembered as safe: forget it. */
static void forget_safe(struct untar *u)
{
	free(u->safe_dir);
	u->safe_dir = NULL;
}

/* A regular file: under a temporary name, hashed, verified, then renamed into PATH. */
static int extract_file(struct untar *u, struct archive *r, struct archive_entry *e,
                        const char *path)
{
	if (!safe_parent(u, path, path))
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	if (tmp_name(u, path) != 0)
		return snprintf(u->err, u->errlen, "out of memory"), -1;
	archive_entry_copy_pathname(e, u->tmp);
	if (archive_write_header(u->w, e) < ARCHIVE_WARN) {
		member_failed(u, path, archive_error_string(u->w), 0);
		free(u->tmp);
		u->tmp = NULL; /* nothing was created under it */
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	}
	struct hash128 h;
	int rc = copy_data(u, r, archive_entry_size(e), &h);
	if (rc == 0 && archive_write_finish_entry(u->w) < ARCHIVE_WARN)
		rc = 1;
	if (rc != 0) {
		if (rc > 0)
			member_failed(u, path, archive_error_string(u->w), 0);
		drop_tmp(u);
		return rc < 0 ? -1 : 0;
	}
	if (!verified(u, path, h)) {
		drop_tmp(u);
		return 0;
	}
	if (rename(u->tmp, path) != 0) {
		member_failed(u, path, "cannot rename into place", errno);
		drop_tmp(u);
		return 0;
	}
	free(u->tmp);
	u->tmp = NULL;
	u->stats.copied++;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, (uint64_t)archive_entry_size(e), &h);
	return 0;
}

/* Anything else: directory, symlink, hard link, FIFO, device; written in place. */
static int extract_other(struct untar *u, struct archive *r, struct archive_entry *e,
                         const char *path)
{
	const char *target = archive_entry_hardlink(e);
	if (target != NULL) {
		const char *safe = untar_safe_path(target);
		if (safe == NULL) {
			member_failed(u, path, "hard link target has '..' or is empty; skipped", 0);
			return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
		}
		archive_entry_copy_hardlink(e, safe);
		/* A link to a file that was verified is verified, if the manifest lists it so. */
		struct untar_want *to = find_want(u, safe);
		if (u->o->manifest != NULL &&
		    (to == NULL || to->seen != 1 || !verified(u, path, to->hash))) {
			if (to == NULL || to->seen != 1)
				member_failed(u, path, "hard link to a file that was not extracted",
				              0);
			return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
		}
	}
	struct stat st;
	if (!safe_parent(u, path, path) ||
	    (target != NULL && !safe_parent(u, archive_entry_hardlink(e), path)))
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	/* A symlink in DEST where a directory goes is replaced, not followed. */
	if (archive_entry_filetype(e) == AE_IFDIR &&
	    fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
	    unlink(path) != 0) {
		member_failed(u, path, "cannot replace symbolic link", errno);
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	}
	if (archive_entry_filetype(e) == AE_IFLNK)
		forget_safe(u);
	if (archive_write_header(u->w, e) < ARCHIVE_WARN) {
		member_failed(u, path, archive_error_string(u->w), 0);
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	}
	struct hash128 h;
	int rc = copy_data(u, r, archive_entry_size(e), &h);
	if (rc < 0)
		return -1;
	if (rc > 0 || archive_write_finish_entry(u->w) < ARCHIVE_WARN) {
		member_failed(u, path, archive_error_string(u->w), 0);
		return 0;
	}
	u->stats.copied++;
	if (u->h->member != NULL)
		u->h->member(u->h->ctx, path, 0, NULL);
	return 0;
}

/* Extract the member E. Returns 0 (done or reported), or -1 when the run must stop. */
static int extract_member(struct untar *u, struct archive *r, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	const char *safe = name ? untar_safe_path(name) : NULL;
	u->stats.done++;
	if (safe == NULL) {
		member_failed(u, name ? name : "(unnamed)",
		              "member path has '..' or is empty; skipped", 0);
		return archive_read_data_skip(r) < ARCHIVE_WARN ? -1 : 0;
	}
	char *path = strdup(safe);
	if (path == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), -1;
	for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0'; /* "dir/": the name is "dir" */
	archive_entry_copy_pathname(e, path);
	int rc;
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

/* Extract archive NAME, open at FD. Returns 0, or -1 (fatal, u->err says why). */
static int extract_archive(struct untar *u, const char *name, int fd)
{
	struct archive *r = archive_read_new();
	if (r == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), -1;
	archive_read_support_filter_all(r);
	archive_read_support_format_all(r);
	int rc = archive_read_open_fd(r, fd, 1 << 20);
	if (rc != ARCHIVE_OK) {
		snprintf(u->err, u->errlen, "%s: %s", name, archive_error_string(r));
		archive_read_free(r);
		return -1;
	}
	struct archive_entry *e;
	rc = 0;
	while (rc == 0 && !*u->o->interrupted) {
		int h = archive_read_next_header(r, &e);
		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			snprintf(u->err, u->errlen, "%s: %s", name, archive_error_string(r));
			rc = -1;
			break;
		}
		rc = extract_member(u, r, e);
		u->stats.bytes_done = (uint64_t)archive_filter_bytes(r, -1);
		if (run_now() - u->start - u->last_tick >= 0.1)
			tick(u);
	}
	if (rc != 0 && u->err[0] == '\0')
		snprintf(u->err, u->errlen, "%s: %s", name, archive_error_string(r));
	archive_read_free(r);
	return rc;
}

/* Make DEST (not its parents) when missing and make it the working directory. */
static int enter_dest(struct untar *u)
{
	const char *d = u->o->dest;
	if (mkdir(d, 0777) != 0 && errno != EEXIST)
		return snprintf(u->err, u->errlen, "%s: cannot create directory: %s", d,
		                strerror(errno)),
		       -1;
	if (chdir(d) != 0)
		return snprintf(u->err, u->errlen, "%s: %s", d, strerror(errno)), -1;
	return 0;
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
	for (size_t i = 0; i < u->nwant; i++)
		if (u->want[i].seen == 0 && find_want(u, u->want[i].path) == &u->want[i])
			member_failed(u, u->want[i].path, "in the manifest but not extracted", 0);
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
	u.pid = (long)getpid();
	u.hs = hash_new();
	int *fds = calloc(narchives + 1, sizeof(int));
	for (size_t i = 0; fds != NULL && i < narchives; i++)
		fds[i] = -1;
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |
	            ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
	            (o->keep_owner ? ARCHIVE_EXTRACT_OWNER : 0);
	int rc = u.hs == NULL || fds == NULL ? (snprintf(err, errlen, "out of memory"), -1) : 0;
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
	forget_safe(&u);
	/* Closing sets the directories' modes and times, after their contents. */
	if (u.w != NULL && archive_write_close(u.w) < ARCHIVE_WARN && rc == 0)
		rc = (snprintf(err, errlen, "%s", archive_error_string(u.w)), -1);
	int status;
	if (*o->interrupted)
		status = 128 + *o->interrupted;
	else if (rc != 0)
		status = 2;
	else {
		report_unseen(&u);
		status = u.failed ? 1 : 0;
	}
	tick(&u);
	if (u.w != NULL)
		archive_write_free(u.w);
	for (size_t i = 0; fds != NULL && i < narchives; i++)
		if (fds[i] > STDIN_FILENO)
			close(fds[i]);
	free(fds);
	for (size_t i = 0; i < u.nwant; i++)
		free(u.want[i].path);
	free(u.want);
	hash_free(u.hs);
	return status;
}
