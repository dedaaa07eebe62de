/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpi/internal.h: what the files of lib/mpi share: the wire format (records gathered into
 * one MPI_BYTE message per send, see wire.c) and its helpers. lead.c is rank 0's side (the
 * struct run_remote), agent.c the other ranks' service loop; the writer and the reader of
 * each record are named in the comment on enum rec_kind so that they stay in step.
 */
#ifndef PCOPY_MPI_INTERNAL_H
#define PCOPY_MPI_INTERNAL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi/mpiwork.h"

#define MPIWORK_TAG 7
#define MPIWORK_NAP_NS 200000L /* an idle agent's pause between looks at its inbox */

enum rec_kind { REC_TASK = 1, REC_LIST, REC_STOP, REC_DONE, REC_LISTED, REC_BYE };

struct rec {
	uint32_t kind; /* enum rec_kind */
	uint32_t len;  /* bytes that follow */
};

/* Messages to one rank, gathered in BUF while the previous one (FLIGHT) is being sent. */
struct box {
	int to;                      /* destination rank */
	unsigned char *buf, *flight; /* gathering, and handed to MPI_Isend */
	size_t len, cap, flight_cap;
	MPI_Request req; /* the send of FLIGHT, or MPI_REQUEST_NULL */
};

/* The layout of a REC_LISTED payload's start. */
struct listed_head {
	uint64_t token; /* followed by the listing, packed (listdir_pack) */
};

/* Add a record of KIND with payload A (ALEN bytes) then C (CLEN bytes) to B's gathering
 * buffer. 0, or -1 when out of memory. */
int wire_box_put(struct box *b, enum rec_kind kind, const void *a, size_t alen, const void *c,
                 size_t clen);
/* The record at *POS of the N bytes at BUF: its payload with *H set, or NULL at the end. */
const unsigned char *wire_rec_next(const unsigned char *buf, size_t n, size_t *pos, struct rec *h);
/* Start sending what was gathered if the previous send is over. Never waits. */
void wire_box_flush(struct box *b);
/* Send everything and wait until it has left (the receiver must be reading). */
void wire_box_drain(struct box *b);
/* Free B's buffers (its sends must be over). */
void wire_box_free(struct box *b);
/* Receive one message from SRC (MPI_ANY_SOURCE: anyone) if one is waiting into *IN (grown as
 * needed). Its length with *FROM set, 0 when none, -1 when out of memory. */
long wire_inbox(unsigned char **in, size_t *cap, int src, int *from);
/* Append a length-prefixed string (NULL: none) to the plan buffer. 0, or -1 (memory). */
int wire_put_str(unsigned char **buf, size_t *len, size_t *cap, const char *s);
/* Read what wire_put_str wrote at *POS into a new string (NULL for none). -1 when short. */
int wire_get_str(const unsigned char *buf, size_t len, size_t *pos, char **out);

#endif
