/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpi/wire.c: MPI start and end, and the wire format of pcopy-mpi (see mpiwork.h). Rank 0's
 * side is lead.c, the agents' agent.c; the record kinds below say who writes and who reads
 * each one, so that the two ends stay in step.
 *
 * Every message is one MPI_BYTE buffer on MPIWORK_TAG holding records: a struct rec header
 * and LEN bytes. Rank 0 -> agent: REC_TASK (struct copy_task, then the source and
 * destination paths), REC_LIST (root, token, directory path), REC_STOP. Agent -> rank 0:
 * REC_DONE (struct copy_done), REC_LISTED (token, errno, count, then per entry its struct
 * stat, what making its destination twin gave if it is a directory (scan_item.made), and
 * name; then the count and names of the destination directory, UINT32_MAX when not
 * listed), REC_BYE (the last record an agent sends). Structures travel as bytes: every rank
 * must run on the same kind of machine. Sends are MPI_Isend from an outbox with two buffers,
 * so that two ranks sending to each other at once never wait on each other; receives are
 * MPI_Iprobe + MPI_Recv in the loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/path.h"
#include "copy/worker.h"
#include "mpi/internal.h"
#include "select/select.h"

int mpiwork_init(int *argc, char ***argv, int *rank, int *nranks)
{
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return -1;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, nranks);
	return 0;
}

void mpiwork_finalize(void)
{
	MPI_Finalize();
}

/* ---- messages --------------------------------------------------------------------------- */

int wire_box_put(struct box *b, enum rec_kind kind, const void *a, size_t alen, const void *c,
                 size_t clen)
{
	struct rec h = {(uint32_t)kind, (uint32_t)(alen + clen)};
	if (array_grow(&b->buf, &b->cap, b->len + sizeof(h) + alen + clen, 1) != 0)
		return -1;
	memcpy(b->buf + b->len, &h, sizeof(h));
	if (alen > 0)
		memcpy(b->buf + b->len + sizeof(h), a, alen);
	if (clen > 0)
		memcpy(b->buf + b->len + sizeof(h) + alen, c, clen);
	b->len += sizeof(h) + alen + clen;
	return 0;
}

/* The record at *POS of the N bytes at BUF: its payload with *H set, or NULL at the end. */
const unsigned char *wire_rec_next(const unsigned char *buf, size_t n, size_t *pos, struct rec *h)
{
	if (*pos + sizeof(*h) > n)
		return NULL;
	memcpy(h, buf + *pos, sizeof(*h));
	if (h->len > n - *pos - sizeof(*h))
		return NULL;
	*pos += sizeof(*h) + h->len;
	return buf + *pos - h->len;
}

/* Start sending what was gathered if the previous send is over. Never waits. */
void wire_box_flush(struct box *b)
{
	if (b->req != MPI_REQUEST_NULL) {
		int over = 0;
		MPI_Test(&b->req, &over, MPI_STATUS_IGNORE);
		if (!over)
			return;
	}
	if (b->len == 0)
		return;
	unsigned char *p = b->flight;
	size_t cap = b->flight_cap;
	b->flight = b->buf;
	b->flight_cap = b->cap;
	b->buf = p;
	b->cap = cap;
	MPI_Isend(b->flight, (int)b->len, MPI_BYTE, b->to, MPIWORK_TAG, MPI_COMM_WORLD, &b->req);
	b->len = 0;
}

/* Send everything and wait until it has left (the receiver must be reading). */
void wire_box_drain(struct box *b)
{
	wire_box_flush(b);
	MPI_Wait(&b->req, MPI_STATUS_IGNORE);
	wire_box_flush(b);
	MPI_Wait(&b->req, MPI_STATUS_IGNORE);
}

void wire_box_free(struct box *b)
{
	free(b->buf);
	free(b->flight);
}

/* Receive one message from SRC (MPI_ANY_SOURCE: anyone) if one is waiting. Returns its
 * length with *FROM set, 0 when none, -1 when out of memory. */
long wire_inbox(unsigned char **in, size_t *cap, int src, int *from)
{
	int flag = 0, n = 0;
	MPI_Status st;
	MPI_Iprobe(src, MPIWORK_TAG, MPI_COMM_WORLD, &flag, &st);
	if (!flag)
		return 0;
	MPI_Get_count(&st, MPI_BYTE, &n);
	if (array_grow(in, cap, (size_t)n + 1, 1) != 0)
		return -1;
	MPI_Recv(*in, n, MPI_BYTE, st.MPI_SOURCE, MPIWORK_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	*from = st.MPI_SOURCE;
	return n;
}

/* Append a length-prefixed string (UINT32_MAX: none) to the setup buffer. */
int wire_put_str(unsigned char **buf, size_t *len, size_t *cap, const char *s)
{
	uint32_t n = s != NULL ? (uint32_t)strlen(s) : UINT32_MAX;
	size_t need = *len + sizeof(n) + (s != NULL ? n : 0);
	if (array_grow(buf, cap, need, 1) != 0)
		return -1;
	memcpy(*buf + *len, &n, sizeof(n));
	if (s != NULL)
		memcpy(*buf + *len + sizeof(n), s, n);
	*len = need;
	return 0;
}

/* Read what wire_put_str wrote at *POS into a new string (NULL for none). -1 when short. */
int wire_get_str(const unsigned char *buf, size_t len, size_t *pos, char **out)
{
	uint32_t n;
	*out = NULL;
	if (*pos + sizeof(n) > len)
		return -1;
	memcpy(&n, buf + *pos, sizeof(n));
	*pos += sizeof(n);
	if (n == UINT32_MAX)
		return 0;
	if (*pos + n > len || (*out = malloc((size_t)n + 1)) == NULL)
		return -1;
	memcpy(*out, buf + *pos, n);
	(*out)[n] = '\0';
	*pos += n;
	return 0;
}
