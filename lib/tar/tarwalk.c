/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tarwalk: the sources' entries in archive order (see tarout.h): depth-first, names sorted
 * within a directory, each directory followed by its contents; excluded entries, sockets and
 * the archive itself left out; the first name of each multiply linked file recorded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "common/path.h"
#include "select/select.h"
#include "tar/internal.h"

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

/* ---- the walk: members in archive order ------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The member name of SOURCE itself: its base name, "." for ".." (see tarwalk_open_roots). */
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
 * --exclude: member APATH ("src/sub/file") as rsync matches it for rsync -a src dest/; a
 * source without a name of its own (".", "..", "/") is its contents there, as for rsync.
 */
static const char *transfer_path(const char *apath)
{
	if (strcmp(apath, ".") == 0 || strcmp(apath, "..") == 0)
		return ""; /* the transfer root itself */
	if (strncmp(apath, "./", 2) == 0)
		return apath + 2;
	if (strncmp(apath, "../", 3) == 0)
		return apath + 3;
	return apath + (apath[0] == '/');
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
		tar_entry_failed(t, apath, "cannot read directory", errno);
		if (fd >= 0)
			close(fd);
		tree_list_free(&d.l);
		return -1;
	}
	if (select_enter_dir(t->o->select, fd, ".", transfer_path(apath)) != 0) {
		/* A per-directory filter file that cannot be read or parsed. */
		tar_entry_failed(t, apath, select_error(t->o->select), 0);
		close(fd);
		tree_list_free(&d.l);
		return -1;
	}
	if (d.l.n > 1)
		qsort(d.l.names, d.l.n, sizeof(*d.l.names), name_cmp);
	t->stack[t->depth++] = d;
	return 0;
}

void tarwalk_leave(struct tar *t)
{
	struct tar_dir *d = &t->stack[--t->depth];
	select_leave_dir(t->o->select);
	close(d->fd);
	tree_list_free(&d->l);
}

/* --exclude, --filter, --max-size ... (the transfer root itself is never left out). */
static int excluded(const struct tar *t, const char *apath, const struct stat *st)
{
	const char *rel = transfer_path(apath);
	return rel[0] != '\0' && (select_excluded(t->o->select, NULL, rel, S_ISDIR(st->st_mode)) ||
	                          select_size_skipped(t->o->select, st->st_mode, st->st_size));
}

/*
 * Put the next member into slot t->scanned (path, root, lstat, hard-link record), entering
 * directories as they come. Returns 1, 0 when the walk is over, -1 out of memory.
 */
int tarwalk_next(struct tar *t)
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
				tarwalk_leave(t);
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
			tar_entry_failed(t, apath, "cannot stat", errno);
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
		if (excluded(t, apath, &it->st)) {
			free(apath);
			continue;
		}
		if (t->depth == 0)
			t->root_dev = it->st.st_dev;
		if (S_ISSOCK(it->st.st_mode)) {
			tar_entry_failed(t, apath, "socket skipped", 0);
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

/* Open the directory of each source: the workers inherit these, so before the pool starts. */
int tarwalk_open_roots(struct tar *t)
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
			tar_entry_failed(t, t->sources[i], "cannot open", errno);
		else if (up && t->h->note != NULL)
			t->h->note(t->h->ctx, t->sources[i],
			           "removing leading '..' from member names");
		free(dir);
		free(base);
	}
	return 0;
}
