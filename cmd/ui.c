/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ui: what all three commands share (see ui.h): the progress line and stdout's closing.
 * pcopy's and pcopy-mpi's rendering is in ui_pcopy.c, so that pbatch links none of it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/exit.h"
#include "ui.h"

void ui_line_draw(struct ui_line *l, const char *text)
{
	fprintf(stderr, "\r%s\033[K", text);
	fflush(stderr);
	l->shown = 1;
}

void ui_line_clear(struct ui_line *l)
{
	if (l->shown) {
		fputs("\r\033[K", stderr);
		l->shown = 0;
	}
}

void ui_line_end(struct ui_line *l)
{
	fputs("\n", stderr);
	l->shown = 0;
}

int ui_exit(const char *prog, int status, int err)
{
	if (fflush(stdout) != 0 && err == 0)
		err = errno;
	if (ferror(stdout) && err == 0)
		err = EIO; /* an earlier write failed; its errno is gone */
	if (fclose(stdout) != 0 && err == 0 && errno != EBADF)
		err = errno;
	if (err == 0)
		return status;
	fprintf(stderr, "%s: write error: %s\n", prog, strerror(err));
	return status == PCOPY_EXIT_OK ? PCOPY_EXIT_PARTIAL : status;
}
