/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batch internal: what batch.c and spool.c share, and nobody else: the slot record and the
 * spool functions. Not part of the engine's interface (batch.h).
 */
#ifndef PCOPY_BATCH_INTERNAL_H
#define PCOPY_BATCH_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "batch/batch.h"

#define PIPE_CHUNK 65536 /* the most one read from a command's pipe takes, and one record */

/* One pool slot; pid 0 means free. */
struct batch_slot {
	pid_t pid;          /* process (and process group) id of the sh running the command */
	size_t cmd;         /* index into batch.cmds */
	int spool;          /* unlinked file holding the command's stdout and stderr records */
	int pipes[2];       /* read ends of the command's stdout and stderr; -1 once closed */
	int spool_err;      /* errno of the first failed write to the spool, 0 if none */
	long long received; /* bytes the command wrote, both streams (joblog Receive) */
	double start_wall;  /* epoch seconds, for the joblog */
	double start_mono;  /* monotonic seconds, for runtime and the timeout */
	int kill_stage;     /* 0 running, 1 sent SIGTERM, 2 sent SIGKILL */
};

/* A new unlinked, close-on-exec spool file in DIR. Returns its descriptor, or -1 with errno. */
int batch_spool_create(const char *dir);

/* Two pipes for a command's stdout and stderr: read ends RD non-blocking, write ends WR for
 * the child. Returns 0, or -1 with errno (nothing left open). */
int batch_pipes_open(int rd[2], int wr[2]);

/* Read what pipe K of S holds into its spool: 1 more may come now, 0 would block, -1 closed. */
int batch_pipe_read(struct batch_slot *s, int k);

/* Take what S's pipes still hold into its spool, then close them. */
void batch_pipes_drain(struct batch_slot *s);

/* Hand spool FD (of command CMD) to H's output hooks from its start, then close FD. */
void batch_spool_replay(int fd, const struct batch_hooks *h, const char *cmd);

#endif
