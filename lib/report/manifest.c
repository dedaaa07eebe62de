/* SPDX-License-Identifier: BSD-2-Clause */
/* manifest: writing and reading xxh128sum-format manifests (see manifest.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/manifest.h"
#include "common/compat.h"
#include "common/path.h"
#include "common/tmpname.h"

/* Compare PREFIX+PATH of two lines bytewise without building the strings. */
static int line_cmp(const void *a, const void *b)
{
	const struct manifest_line *x = a, *y = b;
	const unsigned char *p[2][2] = {
	    {(const unsigned char *)x->prefix, (const unsigned char *)x->path},
	    {(const unsigned char *)y->prefix, (const unsigned char *)y->path}};
	int px = 0, py = 0;
	const unsigned char *sx = p[0][0], *sy = p[1][0];
	for (;;) {
		while (*sx == '\0' && px == 0) {
			sx = p[0][1];
			px = 1;
		}
		while (*sy == '\0' && py == 0) {
			sy = p[1][1];
			py = 1;
		}
		if (*sx != *sy || *sx == '\0')
			return (int)*sx - (int)*sy;
		sx++;
		sy++;
	}
}

static int needs_escape(const char *s)
{
	return strpbrk(s, "\\\n\r") != NULL;
}

static void write_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\r')
			fputs("\\r", out);
		else
			putc(*s, out);
	}
}

char *manifest_escape_name(const char *name)
{
	if (!needs_escape(name))
		return strdup(name);
	char *out = malloc(2 * strlen(name) + 2), *o = out;
	if (out == NULL)
		return NULL;
	*o++ = '\\';
	for (const char *s = name; *s; s++) {
		char e = *s == '\\' ? '\\' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : 0;
		if (e != 0) {
			*o++ = '\\';
			*o++ = e;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

int manifest_write(FILE *out, struct manifest_line *lines, size_t n)
{
	if (n > 1) /* no array at all for an empty tree */
		qsort(lines, n, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < n; i++) {
		char hex[HASH_HEX_LEN + 1];
		hash_hex(lines[i].hash, hex);
		if (needs_escape(lines[i].prefix) || needs_escape(lines[i].path)) {
			fprintf(out, "\\%s  ", hex);
			write_escaped(out, lines[i].prefix);
			write_escaped(out, lines[i].path);
			putc('\n', out);
		} else {
			fprintf(out, "%s  %s%s\n", hex, lines[i].prefix, lines[i].path);
		}
	}
	if (fflush(out) != 0 || ferror(out)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* manifest_write, and with DIGEST the XXH3-128 of the bytes written into *DIGEST. */
static int write_digest(FILE *out, struct manifest_line *lines, size_t n, struct hash128 *digest)
{
	if (digest == NULL)
		return manifest_write(out, lines, n);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m == NULL)
		return -1;
	int rc = manifest_write(m, lines, n);
	if (fclose(m) != 0)
		rc = -1;
	if (rc == 0) {
		*digest = hash_buffer(buf, len);
		if (fwrite(buf, 1, len, out) != len || fflush(out) != 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

char *manifest_tmp_name(const char *name)
{
	return tmpname_beside(name, (long)getpid());
}

/* manifest_tmp_clean for NAME, a name in directory DIR (AT_FDCWD: a path). */
static void tmp_clean_at(int dir, const char *name)
{
	char *parent = path_dir(name), *base = path_base(name);
	int fd = parent != NULL && base != NULL
	             ? openat(dir, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	             : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL && fd >= 0)
		close(fd);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		pid_t pid = (pid_t)tmpname_beside_pid(de->d_name, base);
		struct stat st;
		/* Only a process that is gone (ESRCH; EPERM means it runs as someone else) and
		 * only a regular file: never what a running pcopy is still writing. */
		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			(void)unlinkat(dirfd(d), de->d_name, 0); /* best effort */
	}
	if (d != NULL)
		closedir(d);
	free(parent);
	free(base);
}

void manifest_tmp_clean(const char *name)
{
	tmp_clean_at(AT_FDCWD, name);
}

/* fsync the directory holding NAME, a name in DIR (AT_FDCWD: a path). 0, or -1 with errno. */
static int sync_dir_at(int dir, const char *name)
{
	char *parent = path_dir(name);
	int fd = parent != NULL ? openat(dir, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(parent);
	errno = e;
	return rc;
}

int manifest_sync_dir(const char *name)
{
	return sync_dir_at(AT_FDCWD, name);
}

/*
 * The one save: remove the temporaries killed runs left beside NAME in DIR, write LINES into
 * F, make it complete (and with SYNC on the storage), give it the temporary name TMP in DIR
 * when it is unnamed (FD_UNNAMED >= 0; else it was created under TMP), rename TMP over NAME,
 * and with SYNC sync DIR. F is closed; on failure TMP is removed. Returns 0, 1 when an
 * unnamed file cannot be named here, or -1 with errno.
 */
static int save(FILE *f, int fd_unnamed, int dir, const char *tmp, const char *name,
                struct manifest_line *lines, size_t n, int sync, struct hash128 *digest)
{
	tmp_clean_at(dir, name);
	int rc = write_digest(f, lines, n, digest);
	if (rc == 0 && sync && fsync(fileno(f)) != 0)
		rc = -1;
	int by_proc = 0;
	if (rc == 0 && fd_unnamed >= 0 && compat_link_unnamed(fd_unnamed, dir, tmp, &by_proc) != 0)
		rc = errno == EOPNOTSUPP ? 1 : -1;
	int named = fd_unnamed < 0 || rc == 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -1;
	if (rc == 0 && renameat(dir, tmp, dir, name) != 0)
		rc = -1;
	if (rc == 0 && sync && sync_dir_at(dir, name) != 0)
		rc = -1;
	int e = errno;
	if (rc != 0 && named)
		unlinkat(dir, tmp, 0);
	errno = e;
	return rc;
}

int manifest_save(const char *path, struct manifest_line *lines, size_t n, int sync,
                  struct hash128 *digest)
{
	if (strcmp(path, "-") == 0)
		return write_digest(stdout, lines, n, digest);
	char *tmp = manifest_tmp_name(path);
	if (tmp == NULL)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = -1;
	if (f != NULL) {
		rc = save(f, -1, AT_FDCWD, tmp, path, lines, n, sync, digest);
	} else if (fd >= 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

enum manifest_saved manifest_save_unnamed(int fd, int dir, const char *name,
                                          struct manifest_line *lines, size_t n, int sync,
                                          struct hash128 *digest)
{
	/* Named in the directory as pcopy's own temporaries are (tmpname.h), which a later run
	 * removes from a destination tree. */
	char tmp[TMPNAME_SIZE];
	tmpname_tag(tmp, sizeof(tmp), (long)getpid(), "manifest");
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return MANIFEST_FAILED;
	}
	int rc = save(f, fd, dir, tmp, name, lines, n, sync, digest);
	return rc == 0 ? MANIFEST_SAVED : rc > 0 ? MANIFEST_BY_NAME : MANIFEST_FAILED;
}

int manifest_parse_line(const char *line, struct hash128 *hash, char *path, size_t path_len)
{
	int escaped = line[0] == '\\';
	if (escaped)
		line++;
	char hex[HASH_HEX_LEN + 1];
	if (strlen(line) < HASH_HEX_LEN + 3 || line[HASH_HEX_LEN] != ' ' ||
	    (line[HASH_HEX_LEN + 1] != ' ' && line[HASH_HEX_LEN + 1] != '*'))
		return -1;
	memcpy(hex, line, HASH_HEX_LEN);
	hex[HASH_HEX_LEN] = '\0';
	if (hash_parse(hex, hash) != 0)
		return -1;
	const char *s = line + HASH_HEX_LEN + 2;
	size_t o = 0;
	for (; *s; s++) {
		char ch = *s;
		if (escaped && ch == '\\') {
			s++;
			if (*s == 'n')
				ch = '\n';
			else if (*s == 'r')
				ch = '\r';
			else if (*s == '\\')
				ch = '\\';
			else
				return -1;
		}
		if (o + 1 >= path_len)
			return -1;
		path[o++] = ch;
	}
	path[o] = '\0';
	return o > 0 ? 0 : -1;
}
