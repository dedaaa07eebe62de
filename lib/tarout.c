/* tarout: pax archives through libarchive (see tarout.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "manifest.h"
#include "path.h"
#include "tarout.h"
#include "tree.h"

#define TAR_BUF (1u << 20)

/* First archive path of each multiply linked file, by (dev, ino). */
struct tar_link {
	dev_t dev;
	ino_t ino;
	char *path;
};

/* Everything about one archive being written. */
struct tar {
	const struct tarout_opts *o;
	const struct tarout_hooks *h;
	struct archive *a;    /* the archive being written */
	struct archive *disk; /* libarchive's disk reader, for xattrs, ACLs, sparse maps, names */
	struct hash_state *hs;
	unsigned char *buf;
	struct tar_link *links;
	size_t nlinks, links_cap;
	struct manifest_line *lines; /* for --manifest */
	size_t nlines, lines_cap;
	int failed; /* some entry could not be archived */
	int fatal;  /* the archive itself failed */
	char *err;
	size_t errlen;
};

const char *tarout_compression_for(const char *name)
{
	static const struct {
		const char *suffix, *filter;
	} map[] = {{".tar.gz", "gzip"}, {".tgz", "gzip"},     {".tar.bz2", "bzip2"},
	           {".tar.xz", "xz"},   {".tar.zst", "zstd"}, {".tar.lz4", "lz4"}};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t k = strlen(map[i].suffix);
		if (n >= k && strcmp(name + n - k, map[i].suffix) == 0)
			return map[i].filter;
	}
	return "none";
}

int tarout_compression_valid(const char *c)
{
	static const char *const names[] = {"none", "gzip", "bzip2", "xz", "zstd", "lz4"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(c, names[i]) == 0)
			return 1;
	return 0;
}

static int set_filter(struct tar *t, const char *c)
{
	int rc;
	if (strcmp(c, "none") == 0)
		return ARCHIVE_OK;
	if (strcmp(c, "gzip") == 0)
		rc = archive_write_add_filter_gzip(t->a);
	else if (strcmp(c, "bzip2") == 0)
		rc = archive_write_add_filter_bzip2(t->a);
	else if (strcmp(c, "xz") == 0)
		rc = archive_write_add_filter_xz(t->a);
	else if (strcmp(c, "zstd") == 0)
		rc = archive_write_add_filter_zstd(t->a);
	else if (strcmp(c, "lz4") == 0)
		rc = archive_write_add_filter_lz4(t->a);
	else
		return ARCHIVE_FATAL;
	/* Multi-threaded xz and zstd where this libarchive offers it; fine if not. */
	if (rc == ARCHIVE_OK && (strcmp(c, "xz") == 0 || strcmp(c, "zstd") == 0)) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		char threads[24];
		snprintf(threads, sizeof(threads), "%ld", n > 0 ? n : 1);
		(void)archive_write_set_filter_option(t->a, NULL, "threads", threads);
	}
	return rc;
}

/* The first path recorded for (DEV, INO), recording PATH when there is none. */
static const char *link_target(struct tar *t, dev_t dev, ino_t ino, const char *path)
{
	for (size_t i = 0; i < t->nlinks; i++)
		if (t->links[i].dev == dev && t->links[i].ino == ino)
			return t->links[i].path;
	if (array_grow(&t->links, &t->links_cap, t->nlinks + 1, sizeof(*t->links)) != 0)
		return NULL;
	t->links[t->nlinks].dev = dev;
	t->links[t->nlinks].ino = ino;
	t->links[t->nlinks].path = strdup(path);
	t->nlinks++;
	return NULL;
}

static void add_line(struct tar *t, const char *path, struct hash128 h)
{
	if (t->o->manifest == NULL)
		return;
	if (array_grow(&t->lines, &t->lines_cap, t->nlines + 1, sizeof(*t->lines)) != 0)
		return;
	t->lines[t->nlines].prefix = "";
	t->lines[t->nlines].path = strdup(path);
	t->lines[t->nlines++].hash = h;
}

static void entry_failed(struct tar *t, const char *path, const char *reason, int err)
{
	t->failed = 1;
	if (t->h->failed != NULL)
		t->h->failed(t->h->ctx, path, reason, err);
}

static int archive_fatal(struct tar *t)
{
	snprintf(t->err, t->errlen, "%s", archive_error_string(t->a));
	t->fatal = 1;
	return -1;
}

/*
 * Write the data of the regular file FD for entry E and hash it. The whole content goes in,
 * holes included: for a sparse entry libarchive's pax writer drops the bytes that fall in
 * the holes of the entry's sparse map. Returns 0, or -1 (read error: errno; archive error:
 * t->fatal).
 */
static int write_data(struct tar *t, struct archive_entry *e, int fd, struct hash128 *out)
{
	int64_t size = archive_entry_size(e), pos = 0;
	hash_reset(t->hs);
	while (pos < size) {
		if (*t->o->interrupted) {
			errno = EINTR;
			return -1;
		}
		size_t want = (uint64_t)(size - pos) < TAR_BUF ? (size_t)(size - pos) : TAR_BUF;
		ssize_t n = pread(fd, t->buf, want, pos);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				errno = ESTALE; /* shorter than when it was stat'ed */
			return -1;
		}
		hash_update(t->hs, t->buf, (size_t)n);
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return archive_fatal(t);
		pos += n;
	}
	*out = hash_digest(t->hs);
	return 0;
}

static int write_tree(struct tar *t, int fd, const char *apath);

/* Archive the entry NAME in DIRFD as member APATH. Returns -1 only when the archive failed. */
static int write_entry(struct tar *t, int dirfd, const char *name, const char *apath)
{
	struct stat st;
	if (*t->o->interrupted)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		entry_failed(t, apath, "cannot stat", errno);
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		entry_failed(t, apath, "socket skipped", 0);
		return 0;
	}
	int fd = -1;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name,
		            O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		                (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0) {
			entry_failed(t, apath,
			             S_ISDIR(st.st_mode) ? "cannot read directory" : "cannot open",
			             errno);
			return 0;
		}
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, apath);
	int rc = 0;
	/* A symlink's target and xattrs are read by path; give libarchive one that works. */
	char *linkpath = NULL;
	if (fd < 0) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
		linkpath = path_join(proc, name);
		archive_entry_copy_sourcepath(e, linkpath);
	}
	if (archive_read_disk_entry_from_file(t->disk, e, fd, &st) < ARCHIVE_WARN) {
		entry_failed(t, apath, archive_error_string(t->disk), 0);
		goto out;
	}
	archive_entry_copy_pathname(e, apath);
	const char *first = NULL;
	if (st.st_nlink > 1 && !S_ISDIR(st.st_mode))
		first = link_target(t, st.st_dev, st.st_ino, apath);
	if (first != NULL) {
		archive_entry_copy_hardlink(e, first);
		archive_entry_set_size(e, 0);
		archive_entry_sparse_clear(e);
	}
	if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
		rc = archive_fatal(t);
		goto out;
	}
	struct hash128 h;
	uint64_t bytes = 0;
	if (S_ISREG(st.st_mode) && first == NULL) {
		if (write_data(t, e, fd, &h) != 0) {
			if (t->fatal || *t->o->interrupted) {
				rc = -1;
				goto out;
			}
			/* The header promised SIZE bytes: the archive cannot be completed honestly.
			 */
			snprintf(t->err, t->errlen, "%s: %s while archiving it", apath,
			         errno == ESTALE ? "file shrank" : strerror(errno));
			t->fatal = 1;
			rc = -1;
			goto out;
		}
		bytes = (uint64_t)st.st_size;
		add_line(t, apath, h);
	} else if (first != NULL && S_ISREG(st.st_mode)) {
		for (size_t i = 0; i < t->nlines; i++)
			if (strcmp(t->lines[i].path, first) == 0) {
				add_line(t, apath, t->lines[i].hash);
				break;
			}
	}
	if (t->h->member != NULL)
		t->h->member(t->h->ctx, apath, bytes,
		             S_ISREG(st.st_mode) && first == NULL ? &h : NULL);
	if (S_ISDIR(st.st_mode)) {
		rc = write_tree(t, fd, apath);
		fd = -1; /* write_tree closed it */
	}
out:
	free(linkpath);
	archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Archive the contents of directory FD (closed here), members under APATH/. */
static int write_tree(struct tar *t, int fd, const char *apath)
{
	struct tree_list l;
	if (tree_list_at(fd, &l) != 0) {
		entry_failed(t, apath, "cannot read directory", errno);
		close(fd);
		return 0;
	}
	if (l.n > 1)
		qsort(l.names, l.n, sizeof(*l.names), name_cmp);
	int rc = 0;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		char *child = path_join(apath, l.names[i]);
		rc = child ? write_entry(t, fd, l.names[i], child) : -1;
		free(child);
	}
	tree_list_free(&l);
	close(fd);
	return rc;
}

static int open_archive(struct tar *t, const char *tmp)
{
	const struct tarout_opts *o = t->o;
	int to_stdout = strcmp(o->archive, "-") == 0;
	const char *c =
	    o->compress ? o->compress : (to_stdout ? "none" : tarout_compression_for(o->archive));
	t->a = archive_write_new();
	t->disk = archive_read_disk_new();
	if (t->a == NULL || t->disk == NULL)
		return snprintf(t->err, t->errlen, "out of memory"), -1;
	archive_read_disk_set_standard_lookup(t->disk);
	archive_write_set_format_pax(t->a);
	if (set_filter(t, c) != ARCHIVE_OK) {
		snprintf(t->err, t->errlen, "compression '%s' is not available: %s", c,
		         archive_error_string(t->a) ? archive_error_string(t->a) : "unknown");
		return -1;
	}
	archive_write_set_bytes_in_last_block(t->a, 1);
	int rc = to_stdout ? archive_write_open_fd(t->a, STDOUT_FILENO)
	                   : archive_write_open_filename(t->a, tmp);
	if (rc != ARCHIVE_OK) {
		snprintf(t->err, t->errlen, "cannot create '%s': %s",
		         to_stdout ? "stdout" : o->archive, archive_error_string(t->a));
		return -1;
	}
	return 0;
}

static int write_manifest(struct tar *t)
{
	FILE *f = strcmp(t->o->manifest, "-") == 0 ? stdout : fopen(t->o->manifest, "w");
	int rc = f == NULL ? -1 : manifest_write(f, t->lines, t->nlines);
	if (f != NULL && f != stdout && fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		snprintf(t->err, t->errlen, "cannot write manifest '%s': %s", t->o->manifest,
		         strerror(errno));
	return rc;
}

int tarout_write(const struct tarout_opts *o, char **sources, size_t nsources,
                 const struct tarout_hooks *hooks, char *err, size_t errlen)
{
	struct tar t;
	memset(&t, 0, sizeof(t));
	t.o = o;
	t.h = hooks;
	t.err = err;
	t.errlen = errlen;
	t.hs = hash_new();
	t.buf = malloc(TAR_BUF);
	int to_stdout = strcmp(o->archive, "-") == 0;
	char *tmp = malloc(strlen(o->archive) + 32);
	if (tmp != NULL)
		sprintf(tmp, "%s.pcopy-tmp.%ld", o->archive, (long)getpid());
	int rc = (t.hs && t.buf && tmp) ? open_archive(&t, tmp) : -1;
	for (size_t i = 0; rc == 0 && i < nsources; i++) {
		char *base = path_base(sources[i]), *dir = path_dir(sources[i]);
		int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		char *name = base ? path_base(sources[i]) : NULL;
		if (dfd < 0 || name == NULL)
			entry_failed(&t, sources[i], "cannot open", errno);
		else
			rc = write_entry(&t, dfd, name, base);
		if (dfd >= 0)
			close(dfd);
		free(base);
		free(dir);
		free(name);
	}
	int status;
	if (*o->interrupted) {
		status = 128 + *o->interrupted;
		/* Close (not archive_write_fail, after which libarchive frees no filter state);
		 * the temporary archive is removed below. */
		if (t.a != NULL)
			(void)archive_write_close(t.a);
	} else if (rc != 0 || t.fatal || archive_write_close(t.a) != ARCHIVE_OK) {
		if (!t.fatal && err[0] == '\0')
			snprintf(err, errlen, "%s",
			         t.a ? archive_error_string(t.a) : "cannot write");
		status = 2;
	} else if (!to_stdout && rename(tmp, o->archive) != 0) {
		snprintf(err, errlen, "cannot rename into '%s': %s", o->archive, strerror(errno));
		status = 2;
	} else {
		status = t.failed ? 1 : 0;
		if (o->manifest != NULL && write_manifest(&t) != 0)
			status = 2;
	}
	if (status != 0 && status != 1 && !to_stdout && tmp != NULL)
		unlink(tmp);
	if (t.a != NULL)
		archive_write_free(t.a);
	if (t.disk != NULL)
		archive_read_free(t.disk);
	for (size_t i = 0; i < t.nlinks; i++)
		free(t.links[i].path);
	for (size_t i = 0; i < t.nlines; i++)
		free((char *)t.lines[i].path);
	free(t.links);
	free(t.lines);
	free(t.buf);
	free(tmp);
	hash_free(t.hs);
	return status;
}
