/* SPDX-License-Identifier: BSD-2-Clause */
/* slurp: a small regular file read whole (see slurp.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/slurp.h"

int slurp(int at, const char *path, int flags, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO named by mistake is refused, not waited on. */
	int fd = openat(at, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
	struct stat st;
	if (fd < 0)
		return -1;
	int ok = fstat(fd, &st) == 0;
	if (!ok || !S_ISREG(st.st_mode)) {
		int e = !ok ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		errno = e;
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1;
	char *b = malloc(cap);
	size_t n = 0;
	ssize_t got = 1;
	while (b != NULL && got > 0) {
		if (n + 1 >= cap && array_grow(&b, &cap, cap * 2, 1) != 0)
			break;
		got = read(fd, b + n, cap - 1 - n);
		if (got > 0)
			n += (size_t)got;
	}
	int e = errno;
	close(fd);
	if (b == NULL || got != 0) {
		free(b);
		errno = b == NULL ? ENOMEM : e;
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
