/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tarmember: writing one member of a --tar archive: its header (from the worker's fstat, or
 * libarchive's disk reader for rich ones), its data (from the ring, or streamed by the writer
 * itself), its manifest line and its event.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "common/path.h"
#include "tar/internal.h"

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

/* ---- the writer ------------------------------------------------------------------------- */

/* Describe a member with xattrs, ACLs, flags or holes through libarchive's disk reader. */
static int describe_rich(struct tar *t, struct archive_entry *e, struct tarjob_item *it, int fd)
{
	const char *path = names_get(&t->job.names, it->path);
	char *source = NULL;
	if (fd < 0) { /* a symlink's target and xattrs are read by path: a short one */
		const char *leaf;
		int dfd = path[0] == '/'
		              ? -1
		              : at_parent(&t->job.dirs, t->job.roots[it->root], path, &leaf);
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
		source = path[0] == '/' ? strdup(path) : dfd < 0 ? NULL : path_join(proc, leaf);
		if (source == NULL) {
			tar_entry_failed(t, path, "cannot open", errno);
			return -1;
		}
		archive_entry_copy_sourcepath(e, source);
	} else if (S_ISDIR(it->st.st_mode)) {
		/* libarchive reads a directory's default ACL by path only, and without a path
		 * drops its ACLs altogether ("Couldn't determine path", a mere warning): give it
		 * the open directory's own name. */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		archive_entry_copy_sourcepath(e, proc);
	}
	int rc = archive_read_disk_entry_from_file(t->disk, e, fd, &it->st) < ARCHIVE_WARN;
	free(source);
	if (rc)
		tar_entry_failed(t, path, archive_error_string(t->disk), 0);
	return rc ? -1 : 0;
}

/* Open member IT's file again (regular files the writer streams, rich ones). */
static int reopen(struct tar *t, struct tarjob_item *it)
{
	const char *path = names_get(&t->job.names, it->path);
	int dir = S_ISDIR(it->st.st_mode);
	int fd = at_open(&t->job.dirs, t->job.roots[it->root], path,
	                 O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == it->st.st_ino &&
	    st.st_dev == it->st.st_dev) {
		if (!dir && it->data == TARJOB_NO_DATA)
			it->st =
			    st; /* the writer reads it now: the header says what it will read */
		return fd;
	}
	tar_entry_failed(t, path, fd < 0 ? "cannot open" : "changed while being archived",
	                 fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Stream the regular file FD's SIZE bytes into the archive, hashing them. */
static int stream_data(struct tar *t, const char *path, int fd, int64_t size, struct hash128 *out)
{
	int64_t pos = 0;
	hash_reset(t->hs);
	while (pos < size) {
		if (*t->o->interrupted)
			return -1;
		size_t want = (uint64_t)(size - pos) < TAR_BUF ? (size_t)(size - pos) : TAR_BUF;
		ssize_t n = pread(fd, t->buf, want, pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* the header promised SIZE bytes: the archive cannot be completed */
			return tar_fatal(t,
			                 n == 0 ? "file shrank while archiving it" : "read error",
			                 path, n == 0 ? 0 : errno);
		hash_update(t->hs, t->buf, (size_t)n);
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return tar_archive_fatal(t);
		pos += n;
	}
	*out = hash_digest(t->hs);
	return 0;
}

/* Write the data a worker read into the ring, checking it still hashes as the worker saw. */
static int ring_data(struct tar *t, const char *path, struct tarjob_item *it)
{
	const unsigned char *p = t->job.ring + it->data;
	size_t size = (size_t)it->st.st_size;
	for (size_t pos = 0; pos < size;) {
		size_t n = size - pos < TAR_BUF ? size - pos : TAR_BUF;
		if (archive_write_data(t->a, p + pos, n) < 0)
			return tar_archive_fatal(t);
		pos += n;
	}
	if (!hash_equal(hash_buffer(p, size), it->hash))
		return tar_fatal(t, "data changed in memory between reading and writing", path, 0);
	return 0;
}

/* The header of member IT, or NULL (reported) when it cannot be described. */
static struct archive_entry *describe(struct tar *t, struct tarjob_item *it, int fd)
{
	struct archive_entry *e = archive_entry_new();
	if (e == NULL)
		return NULL;
	if (it->rich) {
		if (describe_rich(t, e, it, fd) != 0) {
			archive_entry_free(e);
			return NULL;
		}
	} else {
		archive_entry_copy_stat(e, &it->st);
		const char *u = archive_read_disk_uname(t->disk, it->st.st_uid);
		const char *g = archive_read_disk_gname(t->disk, it->st.st_gid);
		if (u != NULL)
			archive_entry_copy_uname(e, u);
		if (g != NULL)
			archive_entry_copy_gname(e, g);
	}
	archive_entry_copy_pathname(e, names_get(&t->job.names, it->path));
	return e;
}

/*
 * Write the data of regular member IT: from the ring, or read from FD by the writer itself
 * (hash into *H), checking then that the file did not change while it was read. Returns 0,
 * 1 when the file changed while the writer streamed it (reported: its data in the archive
 * may be torn), or -1 when the archive failed.
 */
static int write_body(struct tar *t, const char *path, struct tarjob_item *it, int fd,
                      struct hash128 *h)
{
	if (it->data != TARJOB_NO_DATA)
		return ring_data(t, path, it);
	if (stream_data(t, path, fd, it->st.st_size, h) != 0)
		return -1;
	struct stat after;
	if (fstat(fd, &after) != 0 || after.st_size != it->st.st_size ||
	    after.st_mtim.tv_sec != it->st.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != it->st.st_mtim.tv_nsec ||
	    after.st_ctim.tv_sec != it->st.st_ctim.tv_sec ||
	    after.st_ctim.tv_nsec != it->st.st_ctim.tv_nsec) {
		tar_entry_failed(
		    t, path, "changed while being archived; its data in the archive may be torn",
		    0);
		return 1;
	}
	return 0;
}

/* Write member SEQ: header, data, manifest line, event. -1 only when the archive failed. */
int tar_write_member(struct tar *t, uint64_t seq)
{
	struct tarjob_item *it = tarjob_item(&t->job, seq);
	struct tar_slot *s = &t->slots[seq % TARJOB_WINDOW];
	const char *path = names_get(&t->job.names, it->path);
	t->stats.done++;
	if (it->status == TARJOB_FAILED && s->unread && S_ISDIR(it->st.st_mode)) {
		/* The walk reported it; the header still goes in, from the walk's lstat, so the
		 * directory is there after an extraction, as with GNU tar and copy mode. */
		it->rich = 0;
	} else if (it->status == TARJOB_FAILED) {
		tar_entry_failed(t, path,
		                 S_ISDIR(it->st.st_mode) ? "cannot read directory" : "cannot open",
		                 it->err);
		return 0;
	}
	if (it->status == TARJOB_CHANGED) {
		tar_entry_failed(t, path, "changed while being archived (read twice); left out", 0);
		return 0;
	}
	if (s->link != 0 && !t->links[s->link - 1].archived) {
		tar_entry_failed(t, path, "hard link to a member that failed; left out too", 0);
		return 0;
	}
	int reg = S_ISREG(it->st.st_mode) && s->link == 0;
	int fd = -1;
	if ((reg && it->data == TARJOB_NO_DATA) ||
	    (it->rich && (S_ISREG(it->st.st_mode) || S_ISDIR(it->st.st_mode)))) {
		if ((fd = reopen(t, it)) < 0)
			return 0;
	}
	struct archive_entry *e = describe(t, it, fd);
	int rc = 0;
	if (e == NULL)
		goto out;
	if (s->link != 0) {
		archive_entry_copy_hardlink(e,
		                            names_get(&t->job.names, t->links[s->link - 1].path));
		archive_entry_set_size(e, 0);
		archive_entry_sparse_clear(e);
	}
	if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
		rc = tar_archive_fatal(t);
		goto out;
	}
	if (s->owns != 0)
		t->links[s->owns - 1].archived = 1;
	struct hash128 h = it->hash;
	if (reg) {
		int torn = write_body(t, path, it, fd, &h);
		if (torn < 0) {
			rc = -1;
			goto out;
		}
		t->stats.bytes_done += (uint64_t)it->st.st_size;
		if (torn) {
			/* Its header and data are in the archive already and cannot be taken back
			 * (the archive is a stream, perhaps compressed): nothing may vouch for
			 * them. No manifest line, no event, and its later hard links are left out.
			 */
			if (s->owns != 0)
				t->links[s->owns - 1].archived = 0;
			goto out;
		}
		if (s->owns != 0) {
			t->links[s->owns - 1].hash = h;
			t->links[s->owns - 1].hashed = 1;
		}
		add_line(t, path, h);
		t->stats.bytes_copied += (uint64_t)it->st.st_size;
	} else if (s->link != 0 && t->links[s->link - 1].hashed) {
		add_line(t, path, t->links[s->link - 1].hash);
	}
	if (!S_ISDIR(it->st.st_mode))
		t->stats.copied++; /* as in copy mode: entries other than directories */
	if (t->h->member != NULL && !s->unread)
		t->h->member(t->h->ctx, path, it->st.st_mode, s->link != 0,
		             reg ? (uint64_t)it->st.st_size : 0, reg ? &h : NULL);
out:
	if (e != NULL)
		archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	return rc;
}
