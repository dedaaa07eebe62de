/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/snapshot: --link-dest and --copy-dest in the parent. run_snapshot_plan opens each
 * directory for each root (DIR/prefix: a relative DIR is relative to DEST, as rsync), warns
 * about one that is missing or not marked complete, proves the --link-manifest files and
 * removes DEST's own completion marker: from here until run_snapshot_mark, DEST is a snapshot
 * in the making. run_snapshot_mark writes the marker at the end of a run that succeeded.
 *
 * The marker (RUN_SNAPSHOT_MARKER in DEST's top) says "complete" and, when the run wrote a
 * manifest to a file, that manifest's XXH3-128. A --link-manifest FILE is trusted only when
 * its hash is the one DIR's marker records (it is the manifest of that successful run, not
 * edited since), and its line for a file only while that file's inode is unchanged since the
 * marker was written (ctime not newer than the marker's): see struct copy_sums.
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

#include "common/path.h"
#include "common/slurp.h"
#include "report/manifest.h"
#include "run/internal.h"

#define MARKER_TITLE "pcopy snapshot complete\n"
#define MARKER_MANIFEST "manifest "
#define MARKER_COMPLETE "complete "

/* A warning about PATH (not a file of the copy). */
static void warn(struct run *r, const char *path, const char *reason, int err)
{
	if (r->hooks.event == NULL)
		return;
	struct run_event ev = {RUN_EV_WARNING, path, path, path, path, 0, NULL, reason, err};
	r->hooks.event(r->hooks.ctx, &ev);
}

/* The completion time DIR's marker (MARK, its text) records into *T: 1, or 0 when none.
 * Not the marker's ctime now, which a later chmod -R or touch moves forward. */
static int marker_complete(const char *mark, struct timespec *t)
{
	const char *p = strstr(mark, "\n" MARKER_COMPLETE);
	long long sec;
	long nsec;
	int used = 0;
	if (p == NULL ||
	    sscanf(p + 1 + strlen(MARKER_COMPLETE), "%lld.%9ld%n", &sec, &nsec, &used) != 2 ||
	    used == 0 || nsec < 0 || nsec > 999999999)
		return 0;
	t->tv_sec = (time_t)sec;
	t->tv_nsec = nsec;
	return 1;
}

/* The manifest hash DIR's marker (MARK, its text) records into *H: 1, or 0 when none. */
static int marker_manifest(const char *mark, struct hash128 *h)
{
	const char *p = strstr(mark, "\n" MARKER_MANIFEST);
	char hex[HASH_HEX_LEN + 1];
	if (p == NULL)
		return 0;
	p += 1 + strlen(MARKER_MANIFEST);
	size_t n = strcspn(p, "\n");
	if (n != HASH_HEX_LEN)
		return 0;
	memcpy(hex, p, n);
	hex[n] = '\0';
	return hash_parse(hex, h) == 0;
}

struct sum_line {
	char *path;
	struct hash128 hash;
};

static int sum_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sum_line *)a)->path, ((const struct sum_line *)b)->path);
}

/* Parse the manifest TEXT into S. 0, or -1 (a malformed line, or out of memory). */
static int sums_parse(struct copy_sums *s, char *text)
{
	size_t cap = 0, n = 0;
	struct sum_line *v = NULL;
	char *path = malloc(PATH_MAX * 4);
	int rc = path == NULL ? -1 : 0;
	for (char *line = text, *end; rc == 0 && *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line) - 1; /* the last line, without its newline */
		else
			*end = '\0';
		struct sum_line l;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			void *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = -1;
				break;
			}
			v = nv;
		}
		if (manifest_parse_line(line, &l.hash, path, PATH_MAX * 4) != 0 ||
		    (l.path = strdup(path)) == NULL)
			rc = -1;
		else
			v[n++] = l;
	}
	free(path);
	if (rc == 0 && n > 0) {
		qsort(v, n, sizeof(*v), sum_cmp);
		s->paths = malloc(n * sizeof(*s->paths));
		s->hashes = malloc(n * sizeof(*s->hashes));
		rc = s->paths == NULL || s->hashes == NULL ? -1 : 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			s->paths[i] = v[i].path;
			s->hashes[i] = v[i].hash;
		} else {
			free(v[i].path);
		}
	}
	s->n = rc == 0 ? n : 0;
	free(v);
	return rc;
}

/* --link-manifest FILE for directory K (open as DIR, named NAME): proven into
 * r->basis_sums[K], or a warning and nothing (its files are read again). */
static void load_sums(struct run *r, size_t k, int dir, const char *name, const char *file)
{
	struct copy_sums *s = &r->basis_sums[k];
	s->prefix = (const char *const *)r->basis_prefix;
	size_t len, mlen;
	char *text = NULL;
	slurp(AT_FDCWD, file, 0, &text, &len);
	if (text == NULL) {
		warn(r, file, "warning: cannot read --link-manifest; linked files are read again",
		     errno);
		return;
	}
	struct timespec done;
	struct hash128 want, have = hash_buffer(text, len);
	char *mark = NULL;
	slurp(dir, RUN_SNAPSHOT_MARKER, O_NOFOLLOW, &mark, &mlen);
	char why[PATH_MAX + 128];
	if (mark == NULL || !marker_manifest(mark, &want) || !hash_equal(want, have) ||
	    !marker_complete(mark, &done)) {
		snprintf(why, sizeof(why),
		         "warning: not the manifest %s/%s records; linked files are read again",
		         name, RUN_SNAPSHOT_MARKER);
		warn(r, file, why, 0);
	} else if (sums_parse(s, text) != 0) {
		warn(r, file, "warning: malformed manifest; linked files are read again", 0);
	} else {
		s->complete = done;
	}
	free(mark);
	free(text);
}

/* Open directory K for every root into r->basis_fds, warning when it is missing or not
 * marked complete. */
static int open_basis(struct run *r, size_t k, const char *top)
{
	const char *arg = r->opts.copy.basis[k];
	/* A dry run into a DEST not made yet: "../x" is read as the kernel will read it then. */
	char *up = NULL;
	struct stat st;
	if (arg[0] != '/' && stat(top, &st) != 0) {
		up = strdup(top);
		while (up != NULL && strncmp(arg, "../", 3) == 0) {
			char *d = path_dir(up);
			free(up);
			up = d;
			arg += 3;
		}
		top = up != NULL ? up : top;
	}
	char *path = arg[0] == '/' ? strdup(arg) : path_join(top, arg);
	free(up);
	if (path == NULL)
		return run_fail(r, "out of memory");
	size_t n = r->opts.copy.nbasis;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		warn(r, path, "warning: cannot open --link-dest directory; ignored", errno);
		free(path);
		return 0;
	}
	if (fstatat(fd, RUN_SNAPSHOT_MARKER, &st, AT_SYMLINK_NOFOLLOW) != 0)
		warn(r, path,
		     "warning: not marked complete (no " RUN_SNAPSHOT_MARKER
		     "): an interrupted snapshot? its files are used all the same",
		     0);
	for (size_t i = 0; i < r->nroots; i++) {
		const struct run_root *rt = &r->roots[i];
		size_t plen = strlen(rt->prefix);
		char *sub = plen > 0 ? strndup(rt->prefix, plen - 1) : NULL;
		r->basis_fds[i * n + k] =
		    sub != NULL ? at_open_dir(fd, sub, plen - 1) : fcntl(fd, F_DUPFD_CLOEXEC, 0);
		free(sub);
	}
	if (k < r->opts.nlink_manifest)
		load_sums(r, k, fd, path, r->opts.link_manifest[k]);
	close(fd);
	free(path);
	return 0;
}

int run_snapshot_plan(struct run *r, const char *dest)
{
	size_t n = r->opts.copy.nbasis;
	if (n == 0 || r->opts.copy.check)
		return 0;
	struct stat st;
	/* DEST's top: DEST itself when it is (or, for a directory, becomes) a directory. */
	int dest_dir =
	    (stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) || (r->nroots > 0 && r->roots[0].is_dir);
	char *top = dest_dir ? strdup(dest) : path_dir(dest);
	r->basis_fds = malloc((r->nroots ? r->nroots : 1) * n * sizeof(*r->basis_fds));
	r->basis_sums = calloc(n, sizeof(*r->basis_sums));
	r->basis_prefix = calloc(r->nroots + 1, sizeof(*r->basis_prefix));
	if (top == NULL || r->basis_fds == NULL || r->basis_sums == NULL ||
	    r->basis_prefix == NULL) {
		free(top);
		return run_fail(r, "out of memory");
	}
	for (size_t i = 0; i < r->nroots * n; i++)
		r->basis_fds[i] = -1;
	for (size_t i = 0; i < r->nroots; i++)
		r->basis_prefix[i] = r->roots[i].prefix;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < n; k++)
		rc = open_basis(r, k, top);
	r->opts.copy.basis_fds = r->basis_fds;
	r->opts.copy.basis_sums = r->basis_sums;
	/* DEST is a snapshot in the making until run_snapshot_mark (a directory only: a file
	 * copied to a file name leaves its directory alone). */
	if (rc == 0 && !r->opts.copy.dry_run && dest_dir) {
		r->snap_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r->snap_fd >= 0 && unlinkat(r->snap_fd, RUN_SNAPSHOT_MARKER, 0) != 0 &&
		    errno != ENOENT)
			rc = run_fail(r, "cannot remove '%s/%s': %s", top, RUN_SNAPSHOT_MARKER,
			              strerror(errno));
	}
	free(top);
	return rc;
}

int run_snapshot_mark(struct run *r)
{
	if (r->snap_fd < 0)
		return 0;
	char text[256] = MARKER_TITLE;
	if (r->opts.copy.dry_run)
		return 0;
	const char *m = r->opts.manifest;
	size_t len;
	char *manifest = NULL;
	if (m != NULL && strcmp(m, "-") != 0)
		slurp(AT_FDCWD, m, 0, &manifest, &len);
	if (manifest != NULL) {
		char hex[33];
		hash_hex(hash_buffer(manifest, len), hex);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), MARKER_MANIFEST "%s\n",
		         hex);
		free(manifest);
	}
	/* DEST's top keeps the times run_finish_dirs gave it. */
	struct stat top;
	int have_top = fstat(r->snap_fd, &top) == 0;
	int fd = openat(r->snap_fd, RUN_SNAPSHOT_MARKER,
	                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	/* The completion time is the marker's ctime once its first lines are written: a clock
	 * of DEST's file system, which the twins' ctimes are compared with (copy_sums). */
	size_t n = strlen(text);
	struct stat mst;
	int ok = fd >= 0 && write(fd, text, n) == (ssize_t)n && fstat(fd, &mst) == 0;
	if (ok) {
		char line[64];
		int k = snprintf(line, sizeof(line), MARKER_COMPLETE "%lld.%09ld\n",
		                 (long long)mst.st_ctim.tv_sec, (long)mst.st_ctim.tv_nsec);
		ok = write(fd, line, (size_t)k) == (ssize_t)k &&
		     (!r->opts.copy.fsync || fsync(fd) == 0);
	}
	int e = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (have_top) {
		struct timespec times[2] = {top.st_atim, top.st_mtim};
		futimens(r->snap_fd, times);
	}
	if (!ok) {
		warn(r, RUN_SNAPSHOT_MARKER, "cannot write the snapshot's completion marker", e);
		return -1;
	}
	return 0;
}

int run_is_marker(const struct run *r, uint32_t root, const char *rel)
{
	return r->opts.copy.nbasis > 0 && r->roots[root].is_dir &&
	       r->roots[root].prefix[0] == '\0' && strcmp(rel, RUN_SNAPSHOT_MARKER) == 0;
}

void run_snapshot_free(struct run *r)
{
	for (size_t k = 0; r->basis_sums != NULL && k < r->opts.copy.nbasis; k++) {
		for (size_t i = 0; i < r->basis_sums[k].n; i++)
			free(r->basis_sums[k].paths[i]);
		free(r->basis_sums[k].paths);
		free(r->basis_sums[k].hashes);
	}
	free(r->basis_sums);
	for (size_t i = 0; r->basis_fds != NULL && i < r->nroots * r->opts.copy.nbasis; i++)
		if (r->basis_fds[i] >= 0)
			close(r->basis_fds[i]);
	free(r->basis_fds);
	free(r->basis_prefix);
	if (r->snap_fd >= 0)
		close(r->snap_fd);
}
