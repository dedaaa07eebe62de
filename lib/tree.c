/* tree: destination directory operations for the parent (see tree.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "tree.h"

int tree_make_dir(int fd, const char *rel, int dry_run, int *existed)
{
	struct stat st;
	*existed = 0;
	if (fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			*existed = 1;
			return 0;
		}
		if (dry_run)
			return 0;
		if (unlinkat(fd, rel, 0) != 0)
			return errno;
	} else if (dry_run) {
		return 0; /* a dry run into a destination that does not exist yet */
	} else if (errno != ENOENT) {
		return errno;
	}
	if (mkdirat(fd, rel, 0700) != 0)
		return errno;
	return 0;
}

int tree_list_at(int dfd, struct tree_list *out)
{
	memset(out, 0, sizeof(*out));
	int fd = dup(dfd); /* closedir() below closes this one, the caller keeps DFD */
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	size_t used = 0, cap = 0, n = 0;
	size_t *offs = NULL, offs_cap = 0;
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
			continue;
		size_t len = strlen(nm) + 1;
		if (array_grow(&out->buf, &cap, used + len, 1) != 0 ||
		    array_grow(&offs, &offs_cap, n + 1, sizeof(*offs)) != 0)
			break;
		memcpy(out->buf + used, nm, len);
		offs[n++] = used;
		used += len;
		errno = 0;
	}
	int err = errno; /* set by readdir or array_grow when the listing is incomplete */
	closedir(d);
	if (err == 0 && n > 0) {
		out->names = malloc(n * sizeof(*out->names));
		if (out->names == NULL)
			err = ENOMEM;
		for (size_t i = 0; err == 0 && i < n; i++)
			out->names[i] = out->buf + offs[i];
	}
	free(offs);
	if (err != 0) {
		tree_list_free(out);
		errno = err;
		rc = -1;
	}
	out->n = rc == 0 ? n : 0;
	return rc;
}

int tree_list(int fd, const char *rel, struct tree_list *out)
{
	memset(out, 0, sizeof(*out));
	int dfd = openat(fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int rc = tree_list_at(dfd, out);
	int e = errno;
	close(dfd);
	errno = e;
	return rc;
}

void tree_list_free(struct tree_list *l)
{
	free(l->names);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Remove everything inside the open directory DFD. */
static int remove_contents(int dfd)
{
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int e = errno;
		close(dfd);
		return e;
	}
	int err = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
			continue;
		int e = tree_remove(dirfd(d), nm);
		if (e != 0 && err == 0)
			err = e;
	}
	closedir(d);
	return err;
}

int tree_remove(int fd, const char *rel)
{
	struct stat st;
	if (fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(fd, rel, 0) == 0 ? 0 : errno;
	int dfd = openat(fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno;
	int err = remove_contents(dfd);
	if (unlinkat(fd, rel, AT_REMOVEDIR) != 0 && err == 0)
		err = errno;
	return err;
}
