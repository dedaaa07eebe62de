/* tarout: pax archives through libarchive (see tarout.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/hash.h"
#include "fs/inotab.h"
#include "report/manifest.h"
#include "run/run.h"
#include "common/path.h"
#include "tar/tarjob.h"
#include "tar/tarout.h"
#include "fs/tree.h"

#define TAR_BUF (1u << 20)
#define TAR_RING ((uint64_t)64 << 20) /* shared data ring: files read ahead by the workers */
#define TAR_BIG (TAR_RING / 4)        /* larger files are streamed by the writer itself */
#define TAR_BATCH 32                  /* members per task */
#define TAR_BLOCK (1 << 20)           /* bytes per write(2) of the archive */

/* First archive path of each multiply linked file (found through struct inotab), and its
 * content hash. */
struct tar_link {
	uint64_t path; /* arena offset */
	struct hash128 hash;
	int hashed;   /* HASH is set */
	int archived; /* its header is in the archive: later names can link to it */
};

/* The writer's own record of a window slot (the shared part is struct tarjob_item). */
struct tar_slot {
	size_t link; /* 1 + index in links of the member this one is a hard link to, or 0 */
	size_t owns; /* 1 + index in links of the record this member is the first of, or 0 */
	uint64_t
	    ring_end;   /* ring position after its room: the ring is free up to here once written */
	uint32_t batch; /* at the first member of a task: how many members the task has */
	uint32_t tries; /* at the first member of a task: workers that died holding it */
	int unread;     /* a directory the walk could not read (reported then, not again) */
	int ready;      /* its task is complete */
};

/* One open directory of the walk. */
struct tar_dir {
	int fd;
	struct tree_list l; /* its names, sorted */
	size_t next;        /* index in L of the next name */
	uint64_t path;      /* arena offset of its member path */
	uint32_t root;
};

/* Everything about one archive being written. */
struct tar {
	const struct tarout_opts *o;
	const struct tarout_hooks *h;
	char **sources;
	size_t nsources, next_source;
	struct archive *a;    /* the archive being written */
	struct archive *disk; /* libarchive's disk reader, for xattrs, ACLs, sparse maps, names */
	struct hash_state *hs;
	unsigned char *buf;
	struct tarjob job; /* shared with the workers */
	struct pool pool;
	int pooled;
	struct tar_dir *stack; /* the walk: open directories, innermost last */
	size_t depth, stack_cap;
	int walked;             /* the walk is over */
	dev_t root_dev;         /* its file system (--one-file-system) */
	struct stat self;       /* the archive being written, when a file: never a member */
	int staged;             /* slot SCANNED holds a member still waiting for ring room */
	uint64_t scanned;       /* members put into the window so far */
	uint64_t submitted;     /* members handed to workers so far */
	uint64_t written;       /* members the writer is done with */
	uint64_t ring_head;     /* ring bytes handed out, ever */
	uint64_t ring_tail;     /* ring bytes released, ever */
	struct tar_slot *slots; /* TARJOB_WINDOW */
	struct tar_link *links;
	size_t nlinks, links_cap;
	struct inotab inodes;        /* (dev, ino) -> index in LINKS */
	struct manifest_line *lines; /* for --manifest */
	size_t nlines, lines_cap;
	struct stats stats;
	double start, last_tick;
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
		/* Whatever the case, as GNU tar's -a: "BACKUP.TAR.GZ" is gzipped too. */
		if (n >= k && strcasecmp(name + n - k, map[i].suffix) == 0)
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

/*
 * 1 + index of the first member recorded for (DEV, INO); 0 after recording member PATH (an
 * arena offset) as that first member, or when out of memory (it is then a file of its own).
 */
static size_t link_first(struct tar *t, dev_t dev, ino_t ino, uint64_t path)
{
	if (array_grow(&t->links, &t->links_cap, t->nlinks + 1, sizeof(*t->links)) != 0)
		return 0;
	size_t first = inotab_find_or_add(&t->inodes, dev, ino, t->nlinks);
	if (first != 0 || t->inodes.used == t->nlinks) /* found, or could not be recorded */
		return first;
	t->links[t->nlinks].path = path;
	t->links[t->nlinks].archived = 0;
	t->links[t->nlinks++].hashed = 0;
	return 0;
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
	t->stats.failed++;
	if (t->h->failed != NULL)
		t->h->failed(t->h->ctx, path, reason, err);
}

static int archive_fatal(struct tar *t)
{
	snprintf(t->err, t->errlen, "%s", archive_error_string(t->a));
	t->fatal = 1;
	return -1;
}

static int fatal(struct tar *t, const char *what, const char *path, int err)
{
	snprintf(t->err, t->errlen, "%s: %s%s%s", path, what, err ? ": " : "",
	         err ? strerror(err) : "");
	t->fatal = 1;
	return -1;
}

/* ---- the walk: members in archive order ------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The member name of SOURCE itself: its base name, "." for ".." (see open_roots). */
static char *member_base(const char *source)
{
	char *base = path_base(source);
	if (base != NULL && strcmp(base, "..") == 0) {
		free(base);
		return strdup(".");
	}
	return base;
}

/*
 * Open directory NAME in DIRFD (member PATH) and make it the innermost of the walk. Returns
 * 0, or -1 when it cannot be read (reported: its contents are missing from the archive).
 */
static int walk_enter(struct tar *t, int dirfd, const char *name, uint64_t path, uint32_t root)
{
	const char *apath = names_get(&t->job.names, path);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct tar_dir d = {fd, {NULL, 0, NULL}, 0, path, root};
	if (fd < 0 || tree_list_at(fd, &d.l) != 0 ||
	    array_grow(&t->stack, &t->stack_cap, t->depth + 1, sizeof(*t->stack)) != 0) {
		entry_failed(t, apath, "cannot read directory", errno);
		if (fd >= 0)
			close(fd);
		tree_list_free(&d.l);
		return -1;
	}
	if (d.l.n > 1)
		qsort(d.l.names, d.l.n, sizeof(*d.l.names), name_cmp);
	t->stack[t->depth++] = d;
	return 0;
}

static void walk_leave(struct tar *t)
{
	struct tar_dir *d = &t->stack[--t->depth];
	close(d->fd);
	tree_list_free(&d->l);
}

/*
 * --exclude: member APATH ("src/sub/file") as rsync matches it for rsync -a src dest/; a
 * source without a name of its own (".", "..", "/") is its contents there, as for rsync.
 */
static int excluded(const struct tar *t, const char *apath, int is_dir)
{
	const char *rel = apath;
	if (strcmp(rel, ".") == 0 || strcmp(rel, "..") == 0)
		return 0; /* the transfer root itself */
	if (strncmp(rel, "./", 2) == 0)
		rel += 2;
	else if (strncmp(rel, "../", 3) == 0)
		rel += 3;
	else if (rel[0] == '/')
		rel++;
	return path_excluded(t->o->excludes, t->o->nexcludes, NULL, rel, is_dir);
}

/*
 * Put the next member into slot t->scanned (path, root, lstat, hard-link record), entering
 * directories as they come. Returns 1, 0 when the walk is over, -1 out of memory.
 */
static int walk_next(struct tar *t)
{
	struct tarjob_item *it = tarjob_item(&t->job, t->scanned);
	struct tar_slot *s = &t->slots[t->scanned % TARJOB_WINDOW];
	for (;;) {
		int dirfd;
		const char *name;
		char *apath;
		uint32_t root;
		if (t->depth == 0) {
			if (t->next_source == t->nsources)
				return 0;
			root = (uint32_t)t->next_source++;
			dirfd = t->job.roots[root];
			if (dirfd < 0)
				continue; /* reported when it was opened */
			apath = member_base(t->sources[root]);
			name = apath;
		} else {
			struct tar_dir *d = &t->stack[t->depth - 1];
			if (d->next == d->l.n) {
				walk_leave(t);
				continue;
			}
			name = d->l.names[d->next++];
			dirfd = d->fd;
			root = d->root;
			apath = path_join(names_get(&t->job.names, d->path), name);
		}
		if (apath == NULL)
			return -1;
		if (fstatat(dirfd, name, &it->st, AT_SYMLINK_NOFOLLOW) != 0) {
			entry_failed(t, apath, "cannot stat", errno);
			free(apath);
			continue;
		}
		if (it->st.st_ino == t->self.st_ino && it->st.st_dev == t->self.st_dev &&
		    t->self.st_ino != 0) {
			free(apath); /* the archive itself, inside a source (GNU tar: "not dumped")
			              */
			continue;
		}
		/* The source itself too: rsync -a --exclude src src d/ leaves src out. */
		if (excluded(t, apath, S_ISDIR(it->st.st_mode))) {
			free(apath);
			continue;
		}
		if (t->depth == 0)
			t->root_dev = it->st.st_dev;
		if (S_ISSOCK(it->st.st_mode)) {
			entry_failed(t, apath, "socket skipped", 0);
			free(apath);
			continue;
		}
		it->path = names_add(&t->job.names, apath, strlen(apath));
		it->root = root;
		it->status = 0;
		it->data = TARJOB_NO_DATA;
		s->link = s->owns = 0;
		s->unread = 0;
		if (it->path != UINT64_MAX && it->st.st_nlink > 1 && !S_ISDIR(it->st.st_mode)) {
			size_t before = t->nlinks;
			s->link = link_first(t, it->st.st_dev, it->st.st_ino, it->path);
			if (t->nlinks > before)
				s->owns = t->nlinks;
		}
		if (it->path != UINT64_MAX && S_ISDIR(it->st.st_mode) &&
		    !(t->o->one_fs && it->st.st_dev != t->root_dev))
			s->unread = walk_enter(t, dirfd, name, it->path, root) != 0;
		free(apath); /* NAME may be it */
		return it->path == UINT64_MAX ? -1 : 1;
	}
}

/* ---- the window: ring room, tasks, completions ------------------------------------------ */

/* Give member IT room for its data in the ring. Returns 0, or -1 when the ring is full now. */
static int ring_reserve(struct tar *t, struct tarjob_item *it, struct tar_slot *s)
{
	uint64_t n = ((uint64_t)it->st.st_size + 63) & ~(uint64_t)63;
	uint64_t pos = t->ring_head % TAR_RING;
	uint64_t skip = pos + n > TAR_RING ? TAR_RING - pos : 0; /* no room wraps around */
	if (t->ring_head + skip + n - t->ring_tail > TAR_RING)
		return -1;
	t->ring_head += skip;
	it->data = t->ring_head % TAR_RING;
	t->ring_head += n;
	s->ring_end = t->ring_head;
	return 0;
}

static int submit(struct tar *t, uint64_t first, uint32_t count)
{
	struct tarjob_task task = {first + 1, first, count, 0};
	struct tar_slot *s = &t->slots[first % TARJOB_WINDOW];
	s->batch = count;
	task.tries = s->tries;
	if (pool_submit(&t->pool, &task, -1) != 0)
		return fatal(t, "cannot queue work", "pcopy", errno);
	return 0;
}

/* Hand the members scanned but not submitted to the workers. */
static int submit_pending(struct tar *t)
{
	while (t->submitted < t->scanned) {
		uint64_t n = t->scanned - t->submitted;
		uint32_t count = n < TAR_BATCH ? (uint32_t)n : TAR_BATCH;
		if (submit(t, t->submitted, count) != 0)
			return -1;
		t->submitted += count;
	}
	return 0;
}

/*
 * Walk on while the window and the ring have room, queueing full batches. The rest goes
 * out when the walk is over or the workers have nothing queued. Returns 1 when it did
 * something, 0 when not, -1 on a fatal error.
 */
static int fill(struct tar *t)
{
	int did = 0;
	while (!t->walked && t->scanned - t->written < TARJOB_WINDOW && !*t->o->interrupted) {
		struct tarjob_item *it = tarjob_item(&t->job, t->scanned);
		struct tar_slot *s = &t->slots[t->scanned % TARJOB_WINDOW];
		if (!t->staged) {
			int r = walk_next(t);
			if (r < 0)
				return fatal(t, "out of memory", "pcopy", ENOMEM);
			if (r == 0) {
				t->walked = 1;
				break;
			}
			t->staged = 1;
		}
		if (S_ISREG(it->st.st_mode) && s->link == 0 &&
		    (uint64_t)it->st.st_size <= TAR_BIG && ring_reserve(t, it, s) != 0)
			break;
		t->staged = 0;
		s->ready = 0;
		s->batch = 0;
		s->tries = 0;
		t->scanned++;
		did = 1;
		if (S_ISDIR(it->st.st_mode)) {
			t->stats.dirs++;
		} else {
			t->stats.files++;
			if (S_ISREG(it->st.st_mode) && s->link == 0)
				t->stats.bytes_total += (uint64_t)it->st.st_size;
		}
		if (t->scanned - t->submitted >= TAR_BATCH && submit_pending(t) != 0)
			return -1;
	}
	t->stats.scanning = !t->walked;
	if (t->scanned > t->submitted && (t->walked || queue_count(t->pool.tasks) == 0)) {
		if (submit_pending(t) != 0)
			return -1;
		did = 1;
	}
	return did;
}

static void mark_ready(struct tar *t, uint64_t first)
{
	struct tar_slot *s = &t->slots[first % TARJOB_WINDOW];
	for (uint32_t i = 0; i < s->batch; i++)
		t->slots[(first + i) % TARJOB_WINDOW].ready = 1;
}

/* A worker died holding task CLAIM: queue it again, or after three deaths give up on it. */
static void lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	struct tar *t = ctx;
	(void)pid;
	(void)wstatus;
	uint64_t first = claim - 1;
	struct tar_slot *s = &t->slots[first % TARJOB_WINDOW];
	if (++s->tries < 3 && submit(t, first, s->batch) == 0)
		return;
	for (uint32_t i = 0; i < s->batch; i++) {
		struct tarjob_item *it = tarjob_item(&t->job, first + i);
		if (it->status == 0) {
			it->status = TARJOB_FAILED;
			it->err = EIO; /* it kills the workers that read it */
		}
	}
	mark_ready(t, first);
}

/* Take completions, waiting up to TIMEOUT_MS for the first. Returns 1 when any came. */
static int collect(struct tar *t, int timeout_ms)
{
	int did = 0;
	struct tarjob_done d;
	while (pool_next(&t->pool, &d, did ? 0 : timeout_ms) == 0) {
		mark_ready(t, d.id - 1);
		did = 1;
	}
	if (pool_reap(&t->pool, lost, t) < 0)
		return fatal(t, "cannot start a worker process", "pcopy", errno);
	return did;
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
			entry_failed(t, path, "cannot open", errno);
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
		entry_failed(t, path, archive_error_string(t->disk), 0);
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
	entry_failed(t, path, fd < 0 ? "cannot open" : "changed while being archived",
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
			return fatal(t, n == 0 ? "file shrank while archiving it" : "read error",
			             path, n == 0 ? 0 : errno);
		hash_update(t->hs, t->buf, (size_t)n);
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return archive_fatal(t);
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
			return archive_fatal(t);
		pos += n;
	}
	if (!hash_equal(hash_buffer(p, size), it->hash))
		return fatal(t, "data changed in memory between reading and writing", path, 0);
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
		entry_failed(t, path,
		             "changed while being archived; its data in the archive may be torn",
		             0);
		return 1;
	}
	return 0;
}

/* Write member SEQ: header, data, manifest line, event. -1 only when the archive failed. */
static int write_member(struct tar *t, uint64_t seq)
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
		entry_failed(t, path,
		             S_ISDIR(it->st.st_mode) ? "cannot read directory" : "cannot open",
		             it->err);
		return 0;
	}
	if (it->status == TARJOB_CHANGED) {
		entry_failed(t, path, "changed while being archived (read twice); left out", 0);
		return 0;
	}
	if (s->link != 0 && !t->links[s->link - 1].archived) {
		entry_failed(t, path, "hard link to a member that failed; left out too", 0);
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
		rc = archive_fatal(t);
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
		t->h->member(t->h->ctx, path, reg ? (uint64_t)it->st.st_size : 0, reg ? &h : NULL);
out:
	if (e != NULL)
		archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write every member whose task is complete, in order, releasing their ring room. */
static int drain(struct tar *t)
{
	int did = 0;
	while (t->written < t->submitted && t->slots[t->written % TARJOB_WINDOW].ready) {
		if (*t->o->interrupted || write_member(t, t->written) != 0)
			return -1;
		struct tar_slot *s = &t->slots[t->written % TARJOB_WINDOW];
		if (tarjob_item(&t->job, t->written)->data != TARJOB_NO_DATA)
			t->ring_tail = s->ring_end;
		t->written++;
		did = 1;
	}
	return did;
}

static void tick(struct tar *t)
{
	t->stats.seconds = run_now() - t->start;
	t->last_tick = t->stats.seconds;
	if (t->h->tick != NULL)
		t->h->tick(t->h->ctx, &t->stats);
}

/* The parent's loop: walk, queue, collect, write, until every member is written. */
static int pump(struct tar *t)
{
	while (!*t->o->interrupted && !t->fatal) {
		int did = fill(t);
		if (did >= 0 && collect(t, 0) > 0)
			did = 1;
		if (did >= 0 && drain(t) > 0)
			did = 1;
		if (did < 0)
			return -1;
		if (t->walked && t->written == t->scanned)
			return 0;
		if (did == 0 && collect(t, 50) < 0)
			return -1;
		if (run_now() - t->start - t->last_tick >= 0.1)
			tick(t);
	}
	return -1;
}

/* Open the directory of each source: the workers inherit these, so before the pool starts. */
static int open_roots(struct tar *t)
{
	t->job.roots = malloc(sizeof(int) * (t->nsources ? t->nsources : 1));
	if (t->job.roots == NULL)
		return -1;
	t->job.nroots = t->nsources;
	for (size_t i = 0; i < t->nsources; i++) {
		char *base = path_base(t->sources[i]);
		int up = base != NULL && strcmp(base, "..") == 0;
		/* SOURCE is "..", or ends in it: its members are "./NAME" below the directory
		 * itself (the walk names its root "."), never "../NAME", which no extraction
		 * should write and which does not open below its root. GNU tar drops a
		 * leading ".." too. */
		char *dir = up ? strdup(t->sources[i]) : path_dir(t->sources[i]);
		t->job.roots[i] = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (t->job.roots[i] < 0)
			entry_failed(t, t->sources[i], "cannot open", errno);
		else if (up && t->h->note != NULL)
			t->h->note(t->h->ctx, t->sources[i],
			           "removing leading '..' from member names");
		free(dir);
		free(base);
	}
	return 0;
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
	/* xattrs as SCHILY.xattr records only: GNU tar reads those (and says "Ignoring unknown
	 * extended header keyword" for every LIBARCHIVE.xattr one), bsdtar reads both. A
	 * libarchive without the option (before 3.6) writes both, which still restores. */
	(void)archive_write_set_format_option(t->a, "pax", "xattrheader", "SCHILY");
	if (set_filter(t, c) != ARCHIVE_OK) {
		snprintf(t->err, t->errlen, "compression '%s' is not available: %s", c,
		         archive_error_string(t->a) ? archive_error_string(t->a) : "unknown");
		return -1;
	}
	/* Large writes (the block size is a tape notion; readers do not care) and no padding. */
	archive_write_set_bytes_per_block(t->a, TAR_BLOCK);
	archive_write_set_bytes_in_last_block(t->a, 1);
	int rc = to_stdout ? archive_write_open_fd(t->a, STDOUT_FILENO)
	                   : archive_write_open_filename(t->a, tmp);
	if (rc != ARCHIVE_OK) {
		snprintf(t->err, t->errlen, "cannot create '%s': %s",
		         to_stdout ? "stdout" : o->archive, archive_error_string(t->a));
		return -1;
	}
	struct stat st;
	if (fstat(STDOUT_FILENO, &st) == 0 && to_stdout && S_ISREG(st.st_mode))
		t->self = st; /* tar -cf - >src/x.tar */
	else if (!to_stdout && stat(tmp, &st) == 0)
		t->self = st;
	return 0;
}

/*
 * Put the complete archive TMP and its manifest in place, together or not at all. The
 * manifest is renamed first and the archive last, so the archive's rename is the commit: a
 * new archive under its final name always has its manifest beside it. A crash between the
 * two renames leaves the new manifest beside the previous archive (or none) and TMP behind
 * (removed by the next run); `--verify-manifest` then reports every member that changed
 * since, so the mismatch shows. The other order could leave a new archive beside an old
 * manifest that looks like its own. Returns 0, or -1 (T->err says why; TMP removed).
 */
static int commit(struct tar *t, const char *tmp)
{
	const struct tarout_opts *o = t->o;
	int file_manifest = o->manifest != NULL && strcmp(o->manifest, "-") != 0;
	int to_stdout = strcmp(o->archive, "-") == 0; /* then there is nothing to rename */
	if (o->fsync && !to_stdout) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0) {
			snprintf(t->err, t->errlen, "cannot sync '%s': %s", tmp, strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(tmp);
			return -1;
		}
		close(fd);
	}
	if (file_manifest && manifest_save(o->manifest, t->lines, t->nlines, o->fsync) != 0) {
		snprintf(t->err, t->errlen, "cannot write manifest '%s': %s", o->manifest,
		         strerror(errno));
		if (!to_stdout)
			unlink(tmp);
		return -1;
	}
	if (!to_stdout && rename(tmp, o->archive) != 0) {
		snprintf(t->err, t->errlen, "cannot rename into '%s': %s", o->archive,
		         strerror(errno));
		unlink(tmp);
		if (file_manifest)
			unlink(o->manifest); /* it would describe an archive that is not there */
		return -1;
	}
	if (o->fsync && !to_stdout && manifest_sync_dir(o->archive) != 0) {
		snprintf(t->err, t->errlen, "cannot sync the directory of '%s': %s", o->archive,
		         strerror(errno));
		return -1;
	}
	if (o->manifest != NULL && !file_manifest &&
	    manifest_save(o->manifest, t->lines, t->nlines, 0) != 0) {
		snprintf(t->err, t->errlen, "cannot write manifest to stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Set up T: buffers, shared window, source directories, the archive, the workers. */
static int start(struct tar *t, const char *tmp)
{
	t->hs = hash_new();
	t->buf = malloc(TAR_BUF);
	t->slots = calloc(TARJOB_WINDOW, sizeof(*t->slots));
	if (t->hs == NULL || t->buf == NULL || t->slots == NULL || tmp == NULL ||
	    tarjob_init(&t->job, TAR_RING) != 0 || open_roots(t) != 0)
		return snprintf(t->err, t->errlen, "out of memory"), -1;
	if (open_archive(t, tmp) != 0)
		return -1;
	int jobs = t->o->jobs > 0 ? t->o->jobs : 1;
	if (pool_start(&t->pool, jobs, TARJOB_WINDOW, sizeof(struct tarjob_task),
	               sizeof(struct tarjob_done), tarjob_worker, &t->job) != 0)
		return snprintf(t->err, t->errlen, "cannot start %d worker processes: %s", jobs,
		                strerror(errno)),
		       -1;
	t->pooled = 1;
	return 0;
}

static void finish(struct tar *t, char *tmp)
{
	if (t->pooled)
		pool_stop(&t->pool, 5000);
	while (t->depth > 0)
		walk_leave(t);
	if (t->a != NULL)
		archive_write_free(t->a);
	if (t->disk != NULL)
		archive_read_free(t->disk);
	for (size_t i = 0; i < t->nlines; i++)
		free((char *)t->lines[i].path);
	for (size_t i = 0; t->job.roots != NULL && i < t->job.nroots; i++)
		if (t->job.roots[i] >= 0)
			close(t->job.roots[i]);
	free(t->job.roots);
	tarjob_free(&t->job);
	free(t->stack);
	free(t->slots);
	free(t->links);
	inotab_free(&t->inodes);
	free(t->lines);
	free(t->buf);
	free(tmp);
	hash_free(t->hs);
}

static int write_archive(const struct tarout_opts *o, char **sources, size_t nsources,
                         const struct tarout_hooks *hooks, char *err, size_t errlen)
{
	struct tar t;
	memset(&t, 0, sizeof(t));
	t.o = o;
	t.h = hooks;
	t.sources = sources;
	t.nsources = nsources;
	t.err = err;
	t.errlen = errlen;
	t.start = run_now();
	int to_stdout = strcmp(o->archive, "-") == 0;
	char *tmp = manifest_tmp_name(o->archive);
	if (!to_stdout) /* what killed runs left: gigabytes, perhaps */
		manifest_tmp_clean(o->archive);
	if (o->manifest != NULL && strcmp(o->manifest, "-") != 0)
		manifest_tmp_clean(o->manifest);
	int rc = start(&t, tmp);
	if (rc == 0)
		rc = pump(&t);
	if (rc != 0 && t.pooled)
		pool_signal(&t.pool, SIGTERM); /* abandon what is queued */
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
	} else {
		status = commit(&t, tmp) != 0 ? 2 : t.failed ? 1 : 0;
	}
	if (status != 0 && status != 1 && !to_stdout && tmp != NULL)
		unlink(tmp);
	tick(&t);
	finish(&t, tmp);
	return status;
}

int tarout_write(const struct tarout_opts *o, char **sources, size_t nsources,
                 const struct tarout_hooks *hooks, char *err, size_t errlen)
{
#ifdef LC_CTYPE_MASK
	/*
	 * libarchive stores a name as UTF-8 when it can convert it from the current locale,
	 * and otherwise raw with "hdrcharset=BINARY", a keyword GNU tar warns about for every
	 * member. File names are bytes: in a UTF-8 character type, the valid UTF-8 ones go in
	 * as UTF-8 (what bsdtar writes in a UTF-8 locale) whatever locale pcopy runs in, and
	 * only names that are not UTF-8 are marked BINARY. Only this thread, only this call.
	 */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t before = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
	int status = write_archive(o, sources, nsources, hooks, err, errlen);
	if (utf8 != (locale_t)0) {
		uselocale(before);
		freelocale(utf8);
	}
	return status;
#else
	return write_archive(o, sources, nsources, hooks, err, errlen);
#endif
}
