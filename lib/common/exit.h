/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exit: the exit statuses of pcopy (copy, --tar, --extract, --check) and pbatch, in one place.
 *
 * The commands return these from main; the man pages list them under EXIT STATUS. The
 * values are part of the interface and never change.
 */
#ifndef PCOPY_EXIT_H
#define PCOPY_EXIT_H

enum pcopy_exit {
	PCOPY_EXIT_OK = 0,         /* everything done (pbatch: every command exited 0) */
	PCOPY_EXIT_PARTIAL = 1,    /* some entries or commands failed, or writing stdout did */
	PCOPY_EXIT_FATAL = 2,      /* usage error, or nothing could be done */
	PCOPY_EXIT_SIGNALLED = 128 /* + the signal number: interrupted */
};

#endif
