/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batch spool: a command's output, from its two pipes into an unlinked spool file as
 * records (a byte for the stream, 4 for the length, the data) and back out to the output
 * hooks in one piece when the command is done. See batch.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "batch/internal.h"

/* An unlinked temporary file: output is spooled on disk, not in memory. Close-on-exec so
 * that only the command it belongs to inherits it (through dup2). */
int batch_spool_create(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/pbatch.XXXXXX", dir);
	/* An unnamed file where the file system allows it: no name to make and remove. */
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Two pipes for a command's stdout and stderr: read ends non-blocking (we drain them
 * without waiting), write ends as the child gets them. Returns 0, or -1 with errno. */
int batch_pipes_open(int rd[2], int wr[2])
{
	int p[2][2];
	if (pipe2(p[0], O_CLOEXEC) != 0)
		return -1;
	if (pipe2(p[1], O_CLOEXEC) != 0) {
		int e = errno;
		close(p[0][0]);
		close(p[0][1]);
		errno = e;
		return -1;
	}
	for (int k = 0; k < 2; k++) {
		rd[k] = p[k][0];
		wr[k] = p[k][1];
		fcntl(rd[k], F_SETFL, fcntl(rd[k], F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

/* Append N bytes of stream K (0 stdout, 1 stderr) to the spool as one record: a byte for the
 * stream, 4 for the length, the data. A write that fails or falls short is remembered. */
static void spool_put(struct batch_slot *s, int k, const char *data, size_t n)
{
	s->received += (long long)n;
	if (s->spool_err != 0)
		return; /* the spool is already incomplete: do not add a later piece */
	unsigned char hdr[5];
	uint32_t len = (uint32_t)n;
	hdr[0] = (unsigned char)k;
	memcpy(hdr + 1, &len, sizeof(len));
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, n}};
	size_t left = sizeof(hdr) + n;
	while (left > 0) {
		ssize_t w = writev(s->spool, iov, 2);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->spool_err = w < 0 ? errno : ENOSPC;
			return;
		}
		left -= (size_t)w;
		for (int j = 0; j < 2; j++) {
			size_t t = (size_t)w < iov[j].iov_len ? (size_t)w : iov[j].iov_len;
			iov[j].iov_base = (char *)iov[j].iov_base + t;
			iov[j].iov_len -= t;
			w -= (ssize_t)t;
		}
	}
}

/* Read what pipe K of slot S holds into its spool: 1 when more may come now, 0 when it would
 * block, -1 when it is closed (end of file or error). */
int batch_pipe_read(struct batch_slot *s, int k)
{
	char buf[PIPE_CHUNK];
	ssize_t n = read(s->pipes[k], buf, sizeof(buf));
	if (n > 0) {
		spool_put(s, k, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	close(s->pipes[k]);
	s->pipes[k] = -1;
	return -1;
}

/* The command has exited: take what its pipes still hold, then close them (a background
 * process it left behind gets EPIPE/SIGPIPE, as its output has nowhere to go). */
void batch_pipes_drain(struct batch_slot *s)
{
	for (int k = 0; k < 2; k++) {
		while (s->pipes[k] >= 0 && batch_pipe_read(s, k) > 0)
			continue;
		if (s->pipes[k] >= 0) {
			close(s->pipes[k]);
			s->pipes[k] = -1;
		}
	}
}

/* Each record goes to h->output with the stream it came from; a short or oversized record
 * ends the replay (the spool was cut short). */
void batch_spool_replay(int fd, const struct batch_hooks *h, const char *cmd)
{
	FILE *f = NULL;
	if (lseek(fd, 0, SEEK_SET) == 0)
		f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return;
	}
	if (h->output_begin != NULL)
		h->output_begin(h->ctx);
	static char buf[PIPE_CHUNK];
	unsigned char hdr[5];
	while (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr)) {
		uint32_t len;
		memcpy(&len, hdr + 1, sizeof(len));
		int k = hdr[0] != 0;
		if (len > sizeof(buf) || fread(buf, 1, len, f) != len)
			break;
		if (h->output != NULL)
			h->output(h->ctx, cmd, k, buf, len);
	}
	fclose(f);
	if (h->output_end != NULL)
		h->output_end(h->ctx);
}
