/* SPDX-License-Identifier: BSD-2-Clause */
/* tarout: pax archives through libarchive (see tarout.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit.h"
#include "common/clock.h"
#include "tar/internal.h"

#define TAR_RING ((uint64_t)64 << 20) /* shared data ring: files read ahead by the workers */
#define TAR_BIG (TAR_RING / 4)        /* larger files are streamed by the writer itself */
#define TAR_BATCH 32                  /* members per task */
#define TAR_BLOCK (1 << 20)           /* bytes per write(2) of the archive */

void tar_entry_failed(struct tar *t, const char *path, const char *reason, int err)
{
	t->failed = 1;
	t->stats.failed++;
	if (t->h->failed != NULL)
		t->h->failed(t->h->ctx, path, reason, err);
}

int tar_archive_fatal(struct tar *t)
{
	snprintf(t->err, t->errlen, "%s", archive_error_string(t->a));
	t->fatal = 1;
	return -1;
}

int tar_fatal(struct tar *t, const char *what, const char *path, int err)
{
	snprintf(t->err, t->errlen, "%s: %s%s%s", path, what, err ? ": " : "",
	         err ? strerror(err) : "");
	t->fatal = 1;
	return -1;
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
	it->room = (uint64_t)it->st.st_size;
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
		return tar_fatal(t, "cannot queue work", "pcopy", errno);
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
			int r = tarwalk_next(t);
			if (r < 0)
				return tar_fatal(t, "out of memory", "pcopy", ENOMEM);
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
	if (t->scanned > t->submitted && (t->walked || pool_queued(&t->pool) == 0)) {
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

/* The task at FIRST was not finished: queue it again, or after three tries give up on it. */
static void retry(struct tar *t, uint64_t first)
{
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

/* A worker died holding task CLAIM. */
static void lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	(void)pid;
	(void)wstatus;
	retry(ctx, claim - 1);
}

/* Take completions, waiting up to TIMEOUT_MS for the first. Returns 1 when any came. */
static int collect(struct tar *t, int timeout_ms)
{
	int did = 0;
	struct tarjob_done d;
	while (pool_next(&t->pool, &d, did ? 0 : timeout_ms) == 0) {
		if (!d.interrupted)
			mark_ready(t, d.id - 1);
		else if (!*t->o->interrupted)
			retry(t, d.id - 1); /* a worker was stopped, not the run */
		did = 1;
	}
	if (pool_reap(&t->pool, lost, t) < 0)
		return tar_fatal(t, "cannot start a worker process", "pcopy", errno);
	return did;
}

/* Write every member whose task is complete, in order, releasing their ring room. */
static int drain(struct tar *t)
{
	int did = 0;
	while (t->written < t->submitted && t->slots[t->written % TARJOB_WINDOW].ready) {
		if (*t->o->interrupted || tar_write_member(t, t->written) != 0)
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
	t->stats.seconds = clock_now() - t->start;
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
		if (clock_now() - t->start - t->last_tick >= PROGRESS_TICK)
			tick(t);
	}
	return -1;
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
	if (tar_set_filter(t, c) != ARCHIVE_OK) {
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
	if (file_manifest && manifest_save(o->manifest, t->lines, t->nlines, o->fsync, NULL) != 0) {
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
	    manifest_save(o->manifest, t->lines, t->nlines, 0, NULL) != 0) {
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
	    tarjob_init(&t->job, TAR_RING) != 0 || tarwalk_open_roots(t) != 0)
		return snprintf(t->err, t->errlen, "out of memory"), -1;
	t->job.slow_ms = t->o->test_slow_ms;
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
		tarwalk_leave(t);
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
	t.start = clock_now();
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
		status = PCOPY_EXIT_SIGNALLED + *o->interrupted;
		/* Close (not archive_write_fail(), after which libarchive frees no filter state);
		 * the temporary archive is removed below. */
		if (t.a != NULL)
			(void)archive_write_close(t.a);
	} else if (rc != 0 || t.fatal || archive_write_close(t.a) != ARCHIVE_OK) {
		if (!t.fatal && err[0] == '\0')
			snprintf(err, errlen, "%s",
			         t.a ? archive_error_string(t.a) : "cannot write");
		status = PCOPY_EXIT_FATAL;
	} else {
		status = commit(&t, tmp) != 0 ? PCOPY_EXIT_FATAL
		         : t.failed           ? PCOPY_EXIT_PARTIAL
		                              : PCOPY_EXIT_OK;
	}
	if (status != PCOPY_EXIT_OK && status != PCOPY_EXIT_PARTIAL && !to_stdout && tmp != NULL)
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
