/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ui: what all three commands share (see ui.h): the progress line and stdout's closing.
 * pcopy's and pcopy-mpi's rendering is in ui_pcopy.c, so that pbatch links none of it.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/exit.h"
#include "ui.h"

/* Set by the SIGWINCH handler: the terminal's size is to be read again. */
static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* Columns of the terminal on stderr, or 0 when it does not say. */
static size_t term_columns(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0)
		return 0;
	return ws.ws_col;
}

void ui_line_init(struct ui_line *l)
{
	memset(l, 0, sizeof(*l));
	l->tty = isatty(STDERR_FILENO);
	if (!l->tty)
		return;
	resized = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sa.sa_flags = SA_RESTART; /* our reads and writes go on; waits see EINTR as before */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
}

size_t ui_line_width(struct ui_line *l)
{
	if (!l->tty)
		return 0;
	if (resized) {
		resized = 0;
		size_t cols = term_columns();
		/* A terminal that does not say (0 columns): the usual 80. The last column is left
		   free: writing there makes some terminals wrap. */
		l->width = (cols > 0 ? cols : 80) - 1;
		if (l->width == 0)
			l->width = 1;
	}
	return l->width;
}

void ui_line_draw(struct ui_line *l, const char *text)
{
	size_t n = strlen(text);
	if (l->tty)
		fprintf(stderr, "\r%s\033[K", text);
	else
		fprintf(stderr, "\r%s%*s", text, l->shown && l->len > n ? (int)(l->len - n) : 0,
		        "");
	fflush(stderr);
	l->shown = 1;
	l->len = n;
}

void ui_line_clear(struct ui_line *l)
{
	if (!l->shown)
		return;
	if (l->tty)
		fputs("\r\033[K", stderr);
	else
		fprintf(stderr, "\r%*s\r", (int)l->len, "");
	l->shown = 0;
	l->len = 0;
}

void ui_line_finish(struct ui_line *l, const char *text)
{
	ui_line_clear(l);
	fprintf(stderr, "%s\n", text);
	fflush(stderr);
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
