/* SPDX-License-Identifier: BSD-2-Clause */
/* untar: verified extraction of tar archives (see untar.h). */
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
#include "common/exit.h"
#include "common/clock.h"
#include "fs/meta.h"
#include "tar/internal.h"

static void tick(struct untar *u)
{
	u->stats.seconds = clock_now() - u->start;
	u->last_tick = u->stats.seconds;
	if (u->h->tick != NULL)
		u->h->tick(u->h->ctx, &u->stats);
}

/* Report PATH (NULL: the archive itself) of the current archive as failed and count it. */
void untar_member_failed(struct untar *u, const char *path, const char *reason, int err)
{
	u->failed = 1;
	if (path == NULL || !u->counted)
		u->stats.failed++; /* a member once, however many things are wrong with it */
	u->counted = path != NULL;
	if (u->h->failed != NULL)
		u->h->failed(u->h->ctx, u->archive, path, reason, err);
}

/* libarchive's message about A, never empty, without the newline some formats end it with. */
const char *untar_why_msg(struct untar *u, struct archive *a)
{
	const char *s = archive_error_string(a);
	snprintf(u->msg, sizeof(u->msg), "%s", s != NULL && *s ? s : "unknown libarchive error");
	for (size_t n = strlen(u->msg); n > 0 && (u->msg[n - 1] == '\n' || u->msg[n - 1] == ' ');)
		u->msg[--n] = '\0';
	return u->msg;
}

/* The errno value behind A's last error, when it is one (libarchive also uses -1). */
int untar_why_errno(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? e : 0;
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
	if (rc == 0 && u->nwant > 1)
		qsort(u->want, u->nwant, sizeof(*u->want), want_cmp);
	return rc;
}

struct untar_want *untar_find_want(struct untar *u, const char *path)
{
	struct untar_want key = {(char *)path, {0, 0}, 0};
	return u->nwant ? bsearch(&key, u->want, u->nwant, sizeof(*u->want), want_cmp) : NULL;
}

/* With a manifest: 1 when PATH is listed with hash H (and mark it seen), else 0 (reported). */
int untar_verified(struct untar *u, const char *path, struct hash128 h)
{
	if (u->o->manifest == NULL)
		return 1;
	struct untar_want *w = untar_find_want(u, path);
	if (w == NULL) {
		untar_member_failed(u, path, "not in the manifest; not extracted", 0);
		return 0;
	}
	if (!hash_equal(w->hash, h)) {
		untar_member_failed(u, path, "content does not match the manifest; not extracted",
		                    0);
		w->seen = -1; /* reported already */
		return 0;
	}
	w->seen = 1;
	return 1;
}

/* A warning about the current member (its data or its metadata): reported, extracted. */
void untar_member_warned(struct untar *u, const char *path, const char *reason, int err)
{
	u->damaged = 1;
	untar_member_failed(u, path, reason, err);
}

/* A "." member: DEST itself, whose mode and times are set at the very end. */
static enum step extract_dot(struct untar *u, struct archive_entry *e, const char *name)
{
	if (archive_entry_filetype(e) != AE_IFDIR) {
		untar_member_failed(
		    u, name, "names the destination itself but is not a directory; skipped", 0);
		return STEP_OK;
	}
	archive_entry_free(u->dot);
	if ((u->dot = archive_entry_clone(e)) == NULL)
		return snprintf(u->err, u->errlen, "out of memory"), STEP_STOP;
	u->stats.dirs++;
	return STEP_OK;
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
		untar_member_failed(u, shown, untar_why_msg(u, r), 0);
		return STEP_OK;
	}
	if (hrc == ARCHIVE_WARN) /* extracted as bsdtar does, but reported and not vouched for */
		untar_member_warned(u, shown, untar_why_msg(u, r), 0);
	const char *safe = name ? untar_safe_path(name) : NULL;
	if (safe == NULL) {
		untar_member_failed(u, shown, "member path has '..' or is empty; skipped", 0);
		return STEP_OK;
	}
	if (strcmp(safe, ".") == 0)
		return extract_dot(u, e, shown);
	if (untar_has_tmp_name(safe)) {
		untar_member_failed(u, shown, "name is kept for pcopy's temporary files; skipped",
		                    0);
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
		rc = untar_extract_file(u, r, e, path);
	} else {
		if (archive_entry_filetype(e) == AE_IFDIR)
			u->stats.dirs++;
		else
			u->stats.files++;
		rc = untar_extract_other(u, r, e, path);
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
				untar_member_failed(u, NULL, untar_why_msg(u, r), 0);
			else if (at == retry_at) {
				untar_member_failed(u, NULL,
				                    "no next header found; the rest is skipped", 0);
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
				                untar_why_msg(u, r)),
				       STEP_END;
			untar_member_failed(u, NULL, untar_why_msg(u, r), 0);
			return STEP_OK;
		}
		members++;
		enum step s = extract_member(u, r, e, h);
		u->stats.bytes_done = (uint64_t)archive_filter_bytes(r, -1);
		if (clock_now() - u->start - u->last_tick >= PROGRESS_TICK)
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
		snprintf(u->err, u->errlen, "%s: %s", name, untar_why_msg(u, r));
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
	if (fchmod(fd, meta_perm(archive_entry_perm(e))) != 0 && err == 0)
		err = errno;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	if (archive_entry_atime_is_set(e))
		ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
	if (archive_entry_mtime_is_set(e))
		ts[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
	if (futimens(fd, ts) != 0 && err == 0)
		err = errno;
	if (err != 0)
		untar_member_failed(u, path, "cannot set the directory's owner, mode or times",
		                    err);
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
			untar_member_failed(u, u->deep[i].path, "cannot open directory", errno);
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
		if (u->want[i].seen == 0 && untar_find_want(u, u->want[i].path) == &u->want[i])
			untar_member_failed(u, u->want[i].path, "in the manifest but not extracted",
			                    0);
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
	u.start = clock_now();
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
	untar_drop_tmp(&u);
	at_cache_drop(&u.at);
	/* Closing sets the directories' modes and times, after their contents. */
	u.archive = o->dest;
	if (u.w != NULL && archive_write_close(u.w) != ARCHIVE_OK && u.stats.done > 0)
		untar_member_failed(&u, NULL, untar_why_msg(&u, u.w), untar_why_errno(u.w));
	int status;
	if (*o->interrupted)
		status = PCOPY_EXIT_SIGNALLED + *o->interrupted;
	else if (rc != 0)
		status = PCOPY_EXIT_FATAL;
	else {
		apply_deep(&u);
		apply_dot(&u);
		report_unseen(&u);
		status = u.failed ? PCOPY_EXIT_PARTIAL : PCOPY_EXIT_OK;
	}
	/* The summary's bytes are the file data extracted, not the archives' sizes. */
	u.stats.bytes_total = u.stats.bytes_done = u.stats.bytes_copied;
	tick(&u);
	untar_free(&u, fds, narchives);
	return status;
}
