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

int manifest_write(FILE *out, struct manifest_line *lines, size_t n)
{
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

char *manifest_tmp_name(const char *name)
{
	return tmpname_beside(name, (long)getpid());
}

void manifest_tmp_clean(const char *name)
{
	char *dir = path_dir(name), *base = path_base(name);
	DIR *d = dir != NULL && base != NULL ? opendir(dir) : NULL;
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
	free(dir);
	free(base);
}

int manifest_sync_dir(const char *name)
{
	char *dir = path_dir(name);
	int fd = dir != NULL ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	errno = e;
	return rc;
}

int manifest_save(const char *path, struct manifest_line *lines, size_t n, int sync)
{
	if (strcmp(path, "-") == 0)
		return manifest_write(stdout, lines, n);
	manifest_tmp_clean(path);
	char *tmp = manifest_tmp_name(path);
	if (tmp == NULL)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = f == NULL ? -1 : manifest_write(f, lines, n);
	if (rc == 0 && sync && fsync(fileno(f)) != 0)
		rc = -1;
	if (f != NULL ? fclose(f) != 0 : fd >= 0 && close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc == 0 && sync && manifest_sync_dir(path) != 0)
		rc = -1;
	int e = errno;
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	errno = e;
	return rc;
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
