/*
 * mpiwork: rank 0's struct run_remote over MPI, and the agents' service loop (see
 * mpiwork.h). Both ends of the protocol live in this one file (a little over 800 lines) so
 * that the writer and the reader of each record sit side by side and cannot drift apart.
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
#include "copy/worker.h"
#include "mpi/mpiwork.h"
#include "common/path.h"
#include "select/select.h"

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

/* Rank 0's view of one agent. */
struct agent {
	struct box out;
	size_t tasks;   /* outstanding */
	uint64_t bytes; /* data of the outstanding tasks */
	int lists;      /* listings asked and not yet back */
	uint64_t *ids;  /* ids and costs of the outstanding tasks (TASKS of them) */
	uint64_t *costs;
};

struct mpiwork {
	struct agent *agents; /* ranks 1 .. nagents */
	int nagents;
	size_t credit;  /* tasks per agent */
	uint64_t bytes; /* bytes per agent */
	struct run_remote remote;
	unsigned char *in; /* receive buffer */
	size_t in_cap;
	struct copy_done *done; /* completions received, not yet polled (FIFO) */
	size_t done_head, ndone, done_cap;
	unsigned char **lists; /* REC_LISTED payloads received and not yet used, each malloc'd */
	size_t nlists, lists_cap;
	unsigned char *shown;    /* the payload whose names the last listed() batch uses */
	struct scan_item *items; /* that batch before scan_set sorts it */
	size_t items_cap;
	char **dnames; /* the destination names that came with it (pointing into SHOWN) */
	size_t dnames_cap;
	int byes; /* agents that said REC_BYE */
};

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

static int box_put(struct box *b, enum rec_kind kind, const void *a, size_t alen, const void *c,
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
static const unsigned char *rec_next(const unsigned char *buf, size_t n, size_t *pos, struct rec *h)
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
static void box_flush(struct box *b)
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
static void box_drain(struct box *b)
{
	box_flush(b);
	MPI_Wait(&b->req, MPI_STATUS_IGNORE);
	box_flush(b);
	MPI_Wait(&b->req, MPI_STATUS_IGNORE);
}

static void box_free(struct box *b)
{
	free(b->buf);
	free(b->flight);
}

/* Receive one message from SRC (MPI_ANY_SOURCE: anyone) if one is waiting. Returns its
 * length with *FROM set, 0 when none, -1 when out of memory. */
static long inbox(unsigned char **in, size_t *cap, int src, int *from)
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
static int put_str(unsigned char **buf, size_t *len, size_t *cap, const char *s)
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

/* Read what put_str wrote at *POS into a new string (NULL for none). -1 when short. */
static int get_str(const unsigned char *buf, size_t len, size_t *pos, char **out)
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

/* ---- rank 0: the remote ------------------------------------------------------------------- */

/* The data a task moves, for the byte credit. */
static uint64_t task_cost(const struct copy_task *t)
{
	return (t->flags & TASK_PART) ? t->part_len : t->size;
}

static int lead_take(void *ctx, const struct copy_task *t, const char *src, const char *dst)
{
	struct mpiwork *m = ctx;
	uint64_t cost = task_cost(t);
	struct agent *best = NULL;
	for (int i = 0; i < m->nagents; i++) {
		struct agent *a = &m->agents[i];
		if (a->tasks >= m->credit || (a->tasks > 0 && a->bytes + cost > m->bytes))
			continue;
		if (best == NULL || a->bytes < best->bytes ||
		    (a->bytes == best->bytes && a->tasks < best->tasks))
			best = a;
	}
	if (best == NULL)
		return 0;
	uint32_t lens[2] = {(uint32_t)strlen(src), (uint32_t)strlen(dst)};
	size_t at = best->out.len;
	if (box_put(&best->out, REC_TASK, t, sizeof(*t), lens, sizeof(lens)) != 0 ||
	    array_grow(&best->out.buf, &best->out.cap, best->out.len + lens[0] + lens[1], 1) != 0)
		return -1;
	memcpy(best->out.buf + best->out.len, src, lens[0]);
	memcpy(best->out.buf + best->out.len + lens[0], dst, lens[1]);
	best->out.len += lens[0] + lens[1];
	struct rec h;
	memcpy(&h, best->out.buf + at, sizeof(h));
	h.len += lens[0] + lens[1];
	memcpy(best->out.buf + at, &h, sizeof(h));
	best->ids[best->tasks] = t->id;
	best->costs[best->tasks++] = cost;
	best->bytes += cost;
	return 1;
}

static int lead_flush(void *ctx)
{
	struct mpiwork *m = ctx;
	for (int i = 0; i < m->nagents; i++)
		box_flush(&m->agents[i].out);
	return 0;
}

/* Agent A finished task ID: give its credit back. */
static void credit_back(struct agent *a, uint64_t id)
{
	for (size_t i = 0; i < a->tasks; i++) {
		if (a->ids[i] != id)
			continue;
		a->bytes -= a->costs[i];
		a->tasks--;
		a->ids[i] = a->ids[a->tasks];
		a->costs[i] = a->costs[a->tasks];
		return;
	}
}

/* Take in one agent message: completions and listings into their queues. */
static int lead_absorb(struct mpiwork *m, struct agent *a, size_t n)
{
	size_t pos = 0;
	struct rec h;
	const unsigned char *p;
	while ((p = rec_next(m->in, n, &pos, &h)) != NULL) {
		if (h.kind == REC_DONE && h.len == sizeof(struct copy_done)) {
			if (m->done_head == m->ndone)
				m->done_head = m->ndone = 0;
			if (array_grow(&m->done, &m->done_cap, m->ndone + 1, sizeof(*m->done)) != 0)
				return -1;
			memcpy(&m->done[m->ndone], p, sizeof(*m->done));
			credit_back(a, m->done[m->ndone++].id);
		} else if (h.kind == REC_LISTED) {
			unsigned char *copy = malloc(h.len);
			if (copy == NULL || array_grow(&m->lists, &m->lists_cap, m->nlists + 1,
			                               sizeof(*m->lists)) != 0) {
				free(copy);
				return -1;
			}
			memcpy(copy, p, h.len);
			m->lists[m->nlists++] = copy;
			a->lists--;
		} else if (h.kind == REC_BYE) {
			m->byes++;
		}
	}
	return 0;
}

/* Receive every message waiting, and move the outboxes along. */
static int lead_pump(struct mpiwork *m)
{
	long n;
	int from = 0;
	while ((n = inbox(&m->in, &m->in_cap, MPI_ANY_SOURCE, &from)) != 0) {
		if (n < 0 || from < 1 || from > m->nagents ||
		    lead_absorb(m, &m->agents[from - 1], (size_t)n) != 0)
			return -1;
	}
	return lead_flush(m);
}

static int lead_poll(void *ctx, struct copy_done *d)
{
	struct mpiwork *m = ctx;
	if (m->done_head == m->ndone && lead_pump(m) != 0)
		return -1;
	if (m->done_head == m->ndone)
		return 0;
	*d = m->done[m->done_head++];
	return 1;
}

static int lead_list(void *ctx, uint32_t root, uint64_t token, const char *dir)
{
	struct mpiwork *m = ctx;
	struct agent *best = NULL;
	for (int i = 0; i < m->nagents; i++)
		if (m->agents[i].lists < MPIWORK_LISTS &&
		    (best == NULL || m->agents[i].lists < best->lists))
			best = &m->agents[i];
	if (best == NULL)
		return 0;
	struct {
		uint64_t token;
		uint32_t root, pad;
	} head = {token, root, 0};
	if (box_put(&best->out, REC_LIST, &head, sizeof(head), dir, strlen(dir) + 1) != 0)
		return -1;
	best->lists++;
	box_flush(&best->out);
	return 1;
}

/* The layout of a REC_LISTED payload's start. */
struct listed_head {
	uint64_t token;
	int32_t err;
	uint32_t n;
};

static int lead_listed(void *ctx, struct scan *s, struct tree_list *dst)
{
	struct mpiwork *m = ctx;
	if (m->nlists == 0 && lead_pump(m) != 0)
		return -1;
	if (m->nlists == 0)
		return 0;
	unsigned char *found = m->lists[--m->nlists];
	free(m->shown);
	m->shown = found;
	struct listed_head h;
	memcpy(&h, m->shown, sizeof(h));
	if (array_grow(&m->items, &m->items_cap, h.n, sizeof(*m->items)) != 0)
		return -1;
	unsigned char *p = m->shown + sizeof(h);
	for (uint32_t i = 0; i < h.n; i++) {
		uint32_t len;
		int32_t made;
		memcpy(&m->items[i].st, p, sizeof(struct stat));
		memcpy(&made, p + sizeof(struct stat), sizeof(made));
		memcpy(&len, p + sizeof(struct stat) + sizeof(made), sizeof(len));
		m->items[i].made = made;
		m->items[i].name =
		    (const char *)p + sizeof(struct stat) + sizeof(made) + sizeof(len);
		p += sizeof(struct stat) + sizeof(made) + sizeof(len) + len;
	}
	uint32_t ndst;
	memcpy(&ndst, p, sizeof(ndst));
	p += sizeof(ndst);
	if (ndst != UINT32_MAX) {
		if (array_grow(&m->dnames, &m->dnames_cap, (size_t)ndst + 1, sizeof(*m->dnames)) !=
		    0)
			return -1;
		for (uint32_t i = 0; i < ndst; i++) {
			m->dnames[i] = (char *)p;
			p += strlen((char *)p) + 1;
		}
		dst->names = m->dnames;
		dst->n = ndst;
		dst->buf = NULL;
	}
	return scan_set(s, h.token, m->items, h.n, h.err) != 0 ? -1 : 1;
}

/* The plan, as the agents read it: copy options, -j, rank 0's pid, the roots. */
static int plan_message(const struct run *r, unsigned char **buf, size_t *len)
{
	size_t cap = 0;
	int32_t jobs = r->opts.jobs;
	int64_t pid = (int64_t)getpid();
	uint32_t nroots = (uint32_t)r->nroots;
	*buf = NULL;
	*len = sizeof(r->opts.copy) + sizeof(jobs) + sizeof(pid) + sizeof(nroots);
	if (array_grow(buf, &cap, *len, 1) != 0)
		return -1;
	unsigned char *p = *buf;
	memcpy(p, &r->opts.copy, sizeof(r->opts.copy));
	memcpy(p += sizeof(r->opts.copy), &jobs, sizeof(jobs));
	memcpy(p += sizeof(jobs), &pid, sizeof(pid));
	memcpy(p + sizeof(pid), &nroots, sizeof(nroots));
	for (size_t i = 0; i < r->nroots; i++) {
		const struct run_root *rt = &r->roots[i];
		/* Absolute paths: other ranks may start elsewhere. */
		char *src = rt->src_dir ? realpath(rt->src_dir, NULL) : NULL;
		char *dst =
		    rt->dst_dir && r->croots[i].dst_fd >= 0 ? realpath(rt->dst_dir, NULL) : NULL;
		char dev[32];
		snprintf(dev, sizeof(dev), "%llu", (unsigned long long)rt->st.st_dev);
		int rc = put_str(buf, len, &cap, dev) | put_str(buf, len, &cap, src) |
		         put_str(buf, len, &cap, dst);
		free(src);
		free(dst);
		if (rc != 0)
			return -1;
	}
	/* --exclude: the agents make destination directories, and not excluded ones. */
	char count[32];
	snprintf(count, sizeof(count), "%zu", r->opts.nexcludes);
	if (put_str(buf, len, &cap, count) != 0)
		return -1;
	for (size_t i = 0; i < r->opts.nexcludes; i++)
		if (put_str(buf, len, &cap, r->opts.excludes[i]) != 0)
			return -1;
	/* ... matched with each root's prefix ("name/" for a source copied by its name). */
	for (size_t i = 0; i < r->nroots; i++)
		if (put_str(buf, len, &cap, r->roots[i].prefix) != 0)
			return -1;
	return 0;
}

/* Broadcast the plan (LEN 0: none). */
static void send_plan(unsigned char *buf, size_t len)
{
	uint64_t n = len;
	MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (n > 0)
		MPI_Bcast(buf, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
}

void mpiwork_refuse(void)
{
	send_plan(NULL, 0);
}

static void lead_free(struct mpiwork *m)
{
	for (int i = 0; i < m->nagents; i++) {
		box_free(&m->agents[i].out);
		free(m->agents[i].ids);
		free(m->agents[i].costs);
	}
	for (size_t i = 0; i < m->nlists; i++)
		free(m->lists[i]);
	free(m->lists);
	free(m->agents);
	free(m->in);
	free(m->done);
	free(m->shown);
	free(m->items);
	free(m->dnames);
	free(m);
}

/* The agents' answers to the plan: 0 when all opened the roots, else ERR says who could not. */
static int gather_ready(const struct run *r, int nranks, char *err, size_t errlen)
{
	int32_t mine[2] = {0, 0};
	int32_t *all = calloc((size_t)nranks * 2, sizeof(*all));
	if (all == NULL)
		return -1;
	MPI_Gather(mine, 2, MPI_INT32_T, all, 2, MPI_INT32_T, 0, MPI_COMM_WORLD);
	int rc = 0;
	for (int i = 1; i < nranks && rc == 0; i++) {
		if (all[2 * i] == 0)
			continue;
		const struct run_root *rt = &r->roots[all[2 * i + 1] / 2];
		snprintf(err, errlen, "rank %d cannot open '%s': %s", i,
		         all[2 * i + 1] % 2 ? rt->dst_dir : rt->src_dir, strerror(all[2 * i]));
		rc = -1;
	}
	free(all);
	return rc;
}

struct mpiwork *mpiwork_lead(struct run *r, char *err, size_t errlen)
{
	int nranks = 1;
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	struct mpiwork *m = calloc(1, sizeof(*m));
	unsigned char *plan = NULL;
	size_t len = 0;
	if (m == NULL || plan_message(r, &plan, &len) != 0) {
		snprintf(err, errlen, "out of memory");
		free(plan);
		free(m);
		mpiwork_refuse();
		return NULL;
	}
	send_plan(plan, len);
	free(plan);
	m->nagents = nranks - 1;
	int jobs = r->opts.jobs > 0 ? r->opts.jobs : 1;
	m->credit = (size_t)MPIWORK_CREDIT * (size_t)jobs;
	m->bytes = MPIWORK_BYTES * (uint64_t)jobs;
	m->agents = calloc((size_t)nranks, sizeof(*m->agents));
	int oom = m->agents == NULL;
	for (int i = 0; !oom && i < m->nagents; i++) {
		struct agent *a = &m->agents[i];
		a->out.to = i + 1;
		a->out.req = MPI_REQUEST_NULL;
		a->ids = calloc(m->credit, sizeof(*a->ids));
		a->costs = calloc(m->credit, sizeof(*a->costs));
		oom = a->ids == NULL || a->costs == NULL;
	}
	int rc = gather_ready(r, nranks, err, errlen);
	if (oom && rc == 0)
		snprintf(err, errlen, "out of memory");
	if (oom || rc != 0) {
		mpiwork_end(m, 1);
		return NULL;
	}
	if (m->nagents > 0) {
		m->remote = (struct run_remote){.ctx = m,
		                                .workers = m->nagents * jobs,
		                                .local_cap = m->credit,
		                                .local_bytes = m->bytes,
		                                .take = lead_take,
		                                .flush = lead_flush,
		                                .poll = lead_poll,
		                                .list = lead_list,
		                                .listed = lead_listed};
		r->remote = &m->remote;
	}
	return m;
}

void mpiwork_end(struct mpiwork *m, int abandon)
{
	if (m == NULL)
		return;
	int32_t how = abandon;
	for (int i = 0; m->agents != NULL && i < m->nagents; i++)
		box_put(&m->agents[i].out, REC_STOP, &how, sizeof(how), NULL, 0);
	/* Take in (and drop) what the agents still send until each has said goodbye, so that
	 * no send is left waiting for a receiver. */
	while (m->agents != NULL && m->byes < m->nagents) {
		if (lead_pump(m) != 0)
			break;
		struct timespec nap = {0, MPIWORK_NAP_NS};
		nanosleep(&nap, NULL);
	}
	for (int i = 0; m->agents != NULL && i < m->nagents; i++)
		box_drain(&m->agents[i].out);
	lead_free(m);
}

void mpiwork_drop(struct mpiwork *m)
{
	if (m != NULL)
		lead_free(m);
}

/* ---- agents -------------------------------------------------------------------------------- */

/* An agent's state. */
struct serve {
	struct run run;                 /* opts.copy, croots, names and pool */
	struct copy_worker_args worker; /* the pool's workers' ARG (points into RUN) */
	dev_t *devs;       /* per root: this rank's st_dev of the source directory ... */
	dev_t *lead_devs;  /* ... and rank 0's, reported in its place */
	struct scan scan;  /* reads the directories asked for */
	char **excludes;   /* --exclude patterns (run.opts points here) */
	struct box out;    /* to rank 0 */
	unsigned char *in; /* receive buffer */
	size_t in_cap;
	int stop, abandon; /* REC_STOP arrived; it said to abandon the tasks held */
	int pool_up;       /* the pool was started */
};

/* Read the plan from rank 0 into S and open the roots. Returns 0, 1 when there is no plan
 * (rank 0 refused the run), -1 when out of memory; a root that cannot be opened goes in
 * FAILED (errno, 2 * root + 0 for source, 1 for destination). */
static int serve_setup(struct serve *s, volatile sig_atomic_t *interrupted, int32_t failed[2])
{
	uint64_t n = 0;
	MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (n == 0)
		return 1;
	unsigned char *buf = malloc(n);
	if (buf == NULL)
		return -1;
	MPI_Bcast(buf, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
	struct run_opts o;
	memset(&o, 0, sizeof(o));
	int32_t jobs;
	int64_t pid;
	uint32_t nroots;
	size_t pos = sizeof(o.copy) + sizeof(jobs) + sizeof(pid) + sizeof(nroots);
	memcpy(&o.copy, buf, sizeof(o.copy));
	memcpy(&jobs, buf + sizeof(o.copy), sizeof(jobs));
	memcpy(&pid, buf + sizeof(o.copy) + sizeof(jobs), sizeof(pid));
	memcpy(&nroots, buf + sizeof(o.copy) + sizeof(jobs) + sizeof(pid), sizeof(nroots));
	o.jobs = jobs;
	struct run_hooks hooks;
	memset(&hooks, 0, sizeof(hooks));
	struct run *r = &s->run;
	int rank = 0;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (run_init(r, &o, &hooks, interrupted) != 0 ||
	    (r->roots = calloc(nroots, sizeof(*r->roots))) == NULL ||
	    (r->croots = calloc(nroots, sizeof(*r->croots))) == NULL ||
	    (s->devs = calloc(nroots, sizeof(*s->devs))) == NULL ||
	    (s->lead_devs = calloc(nroots, sizeof(*s->lead_devs))) == NULL) {
		free(buf);
		return -1;
	}
	s->worker.opts = &r->opts.copy;
	s->worker.roots = r->croots;
	s->worker.names = &r->names;
	s->worker.bufsize = COPY_WORKER_BUF;
	s->worker.pid_tag = (long)rank << 22; /* above every Linux pid: never another rank's */
	s->worker.split_parent = (long)pid;
	for (uint32_t i = 0; i < nroots; i++) {
		char *dev, *src, *dst;
		r->croots[i].src_fd = r->croots[i].dst_fd = -1;
		r->nroots = i + 1;
		if (get_str(buf, n, &pos, &dev) | get_str(buf, n, &pos, &src) |
		    get_str(buf, n, &pos, &dst)) {
			free(dev), free(src), free(dst), free(buf);
			return -1;
		}
		s->lead_devs[i] = dev ? (dev_t)strtoull(dev, NULL, 10) : 0;
		struct stat st;
		if (src != NULL &&
		    (r->croots[i].src_fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
		    failed[0] == 0)
			failed[0] = errno, failed[1] = (int32_t)(2 * i);
		if (dst != NULL &&
		    (r->croots[i].dst_fd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
		    failed[0] == 0)
			failed[0] = errno, failed[1] = (int32_t)(2 * i + 1);
		if (r->croots[i].src_fd >= 0 && fstat(r->croots[i].src_fd, &st) == 0)
			s->devs[i] = st.st_dev;
		free(dev), free(src), free(dst);
	}
	char *count = NULL;
	size_t nex = 0;
	if (get_str(buf, n, &pos, &count) == 0 && count != NULL)
		nex = (size_t)strtoull(count, NULL, 10);
	free(count);
	if (nex > 0 && (s->excludes = calloc(nex, sizeof(*s->excludes))) == NULL) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < nex; i++) {
		if (get_str(buf, n, &pos, &s->excludes[i]) != 0 || s->excludes[i] == NULL)
			break;
		r->opts.excludes = s->excludes;
		r->opts.nexcludes = i + 1;
	}
	for (uint32_t i = 0; i < nroots; i++)
		if (get_str(buf, n, &pos, &r->roots[i].prefix) != 0)
			break;
	free(buf);
	return 0;
}

/* Task T arrived with its paths at P (LENS[0] + LENS[1] bytes): hand it to the pool. */
static int serve_task(struct serve *s, const unsigned char *p, size_t len)
{
	struct copy_task t;
	uint32_t lens[2];
	if (len < sizeof(t) + sizeof(lens))
		return 0;
	memcpy(&t, p, sizeof(t));
	memcpy(lens, p + sizeof(t), sizeof(lens));
	const char *names = (const char *)p + sizeof(t) + sizeof(lens);
	if (t.root >= s->run.nroots || sizeof(t) + sizeof(lens) + lens[0] + lens[1] > len)
		return 0;
	t.src = names_add(&s->run.names, names, lens[0]);
	t.dst = names_add(&s->run.names, names + lens[0], lens[1]);
	if (t.src == UINT64_MAX || t.dst == UINT64_MAX)
		return -1;
	/* Rank 0 never gives more than the pool's queue holds. */
	while (pool_submit(&s->run.pool, &t, 1000) != 0)
		if (errno != ETIMEDOUT && errno != EINTR)
			return -1;
	return 0;
}

/* Make the destination twin of subdirectory NAME of DIR, as rank 0 would when planning DIR
 * (walk_batch, add_dir): its outcome for scan_item.made, or -1 when rank 0 is to decide. */
static int32_t serve_mkdir(struct serve *s, uint32_t root, const char *dir, const char *name)
{
	struct run *r = &s->run;
	if (r->opts.copy.check || r->croots[root].dst_fd < 0)
		return -1;
	uint64_t off = scan_join(&r->names, dir, name);
	if (off == UINT64_MAX)
		return -1;
	const char *rel = names_get(&r->names, off), *leaf;
	if (select_excluded(r->opts.excludes, r->opts.nexcludes, r->roots[root].prefix, rel, 1))
		return -1;
	int existed = 0;
	int fd = at_parent(&r->dst_dirs, r->croots[root].dst_fd, rel, &leaf);
	int err = fd < 0 ? errno : tree_make_dir(fd, leaf, r->opts.copy.dry_run, &existed);
	return (int32_t)(err << 1 | (existed != 0));
}

/* Read the directory asked for and queue its listing for rank 0. */
static int serve_list(struct serve *s, const unsigned char *p, size_t len)
{
	struct {
		uint64_t token;
		uint32_t root, pad;
	} head;
	if (len < sizeof(head) + 1)
		return 0;
	memcpy(&head, p, sizeof(head));
	const char *dir = (const char *)p + sizeof(head);
	struct listed_head h = {head.token, 0, 0};
	uint64_t off = names_add(&s->run.names, dir, strlen(dir));
	if (off == UINT64_MAX)
		return -1;
	if (head.root >= s->run.nroots) {
		h.err = EINVAL;
	} else {
		s->scan.root_fd = s->run.croots[head.root].src_fd;
		s->scan.names = &s->run.names;
		if (scan_read_dir(&s->scan, off) < 0)
			h.err = s->scan.err;
		else
			h.n = (uint32_t)s->scan.nitems;
	}
	/* A directory that existed in the destination: rank 0 compares the two listings (for
	 * --delete and stale temporary files); list the destination side here as well. */
	struct tree_list dl = {NULL, 0, NULL};
	uint32_t ndst = UINT32_MAX;
	if (h.err == 0 && (head.token & SCAN_FLAG) && s->run.croots[head.root].dst_fd >= 0 &&
	    tree_list(s->run.croots[head.root].dst_fd, dir, &dl) == 0)
		ndst = (uint32_t)dl.n;
	size_t total = sizeof(h) + sizeof(ndst);
	for (uint32_t i = 0; i < h.n; i++)
		total +=
		    sizeof(struct stat) + 2 * sizeof(uint32_t) + strlen(s->scan.items[i].name) + 1;
	for (size_t i = 0; i < dl.n; i++)
		total += strlen(dl.names[i]) + 1;
	size_t at = s->out.len + sizeof(struct rec);
	if (box_put(&s->out, REC_LISTED, &h, sizeof(h), NULL, 0) != 0 ||
	    array_grow(&s->out.buf, &s->out.cap, at + total, 1) != 0) {
		tree_list_free(&dl);
		return -1;
	}
	unsigned char *q = s->out.buf + at + sizeof(h);
	for (uint32_t i = 0; i < h.n; i++) {
		struct scan_item *it = &s->scan.items[i];
		uint32_t nlen = (uint32_t)strlen(it->name) + 1;
		/* The same file system may have another device number here than on rank 0. */
		if (it->st.st_dev == s->devs[head.root])
			it->st.st_dev = s->lead_devs[head.root];
		/* Subdirectories are made here: on a big tree, rank 0 would be the one process
		 * making every directory. */
		int32_t made =
		    S_ISDIR(it->st.st_mode) ? serve_mkdir(s, head.root, dir, it->name) : -1;
		memcpy(q, &it->st, sizeof(it->st));
		memcpy(q + sizeof(it->st), &made, sizeof(made));
		memcpy(q + sizeof(it->st) + sizeof(made), &nlen, sizeof(nlen));
		memcpy(q + sizeof(it->st) + sizeof(made) + sizeof(nlen), it->name, nlen);
		q += sizeof(it->st) + sizeof(made) + sizeof(nlen) + nlen;
	}
	memcpy(q, &ndst, sizeof(ndst));
	q += sizeof(ndst);
	for (size_t i = 0; i < dl.n; i++) {
		size_t nlen = strlen(dl.names[i]) + 1;
		memcpy(q, dl.names[i], nlen);
		q += nlen;
	}
	tree_list_free(&dl);
	struct rec r = {REC_LISTED, (uint32_t)total};
	memcpy(s->out.buf + at - sizeof(r), &r, sizeof(r));
	s->out.len = at + total;
	return 0;
}

/* Handle one message from rank 0. */
static int serve_message(struct serve *s, size_t n)
{
	size_t pos = 0;
	struct rec h;
	const unsigned char *p;
	while ((p = rec_next(s->in, n, &pos, &h)) != NULL) {
		int rc = 0;
		if (h.kind == REC_TASK)
			rc = serve_task(s, p, h.len);
		else if (h.kind == REC_LIST)
			rc = serve_list(s, p, h.len);
		else if (h.kind == REC_STOP && h.len == sizeof(int32_t)) {
			int32_t how;
			memcpy(&how, p, sizeof(how));
			s->stop = 1;
			s->abandon = how != 0;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* A worker died holding task CLAIM: rank 0 gives the task to another worker (its own). */
static void serve_lost(void *ctx, uint64_t claim, pid_t pid, int wstatus)
{
	struct serve *s = ctx;
	(void)pid;
	(void)wstatus;
	struct copy_done d = {.id = claim, .status = COPY_INTERRUPTED};
	box_put(&s->out, REC_DONE, &d, sizeof(d), NULL, 0);
}

/* The service loop: tasks in, completions and listings out, until told to stop. */
static int serve_loop(struct serve *s, volatile sig_atomic_t *interrupted)
{
	double last_reap = 0;
	int idle = 0; /* loops since the last that did something */
	while (!s->stop && !*interrupted) {
		int busy = 0, from = 0;
		long n;
		while (!s->stop && (n = inbox(&s->in, &s->in_cap, 0, &from)) != 0) {
			if (n < 0 || serve_message(s, (size_t)n) != 0)
				return -1;
			busy = 1;
		}
		struct copy_done d;
		while (pool_next(&s->run.pool, &d, 0) == 0) {
			if (box_put(&s->out, REC_DONE, &d, sizeof(d), NULL, 0) != 0)
				return -1;
			busy = 1;
		}
		box_flush(&s->out);
		double now = run_now();
		if (now - last_reap >= 0.05) {
			last_reap = now;
			if (pool_reap(&s->run.pool, serve_lost, s) < 0)
				return -1;
		}
		/* Briefly right after work (rank 0 is likely to ask again at once), longer when
		 * idle for a while. */
		idle = busy ? 0 : idle + 1;
		if (!busy) {
			struct timespec nap = {0, idle < 50 ? MPIWORK_NAP_NS / 10 : MPIWORK_NAP_NS};
			nanosleep(&nap, NULL);
		}
	}
	return 0;
}

int mpiwork_serve(volatile sig_atomic_t *interrupted)
{
	struct serve s;
	memset(&s, 0, sizeof(s));
	s.out.req = MPI_REQUEST_NULL;
	int32_t failed[2] = {0, 0};
	int rc = serve_setup(&s, interrupted, failed);
	if (rc == 1)
		return PCOPY_EXIT_OK; /* rank 0 refused the run and says why */
	if (rc < 0 && failed[0] == 0)
		failed[0] = ENOMEM;
	MPI_Gather(failed, 2, MPI_INT32_T, NULL, 0, MPI_INT32_T, 0, MPI_COMM_WORLD);
	int jobs = s.run.opts.jobs > 0 ? s.run.opts.jobs : 1;
	uint32_t cap = (uint32_t)(MPIWORK_CREDIT * jobs + 1);
	if (failed[0] == 0 && pool_start(&s.run.pool, jobs, cap, sizeof(struct copy_task),
	                                 sizeof(struct copy_done), copy_worker, &s.worker) == 0)
		s.pool_up = 1;
	int status = PCOPY_EXIT_OK;
	if (s.pool_up) {
		if (serve_loop(&s, interrupted) != 0)
			status = PCOPY_EXIT_FATAL;
	} else {
		/* Nothing to offer: wait for rank 0 to end the run. */
		status = PCOPY_EXIT_FATAL;
		while (!s.stop && !*interrupted) {
			int from;
			long n = inbox(&s.in, &s.in_cap, 0, &from);
			if (n > 0)
				serve_message(&s, (size_t)n);
			else {
				struct timespec nap = {0, 1000000L};
				nanosleep(&nap, NULL);
			}
		}
	}
	if (s.pool_up) {
		if (s.abandon || *interrupted || status != PCOPY_EXIT_OK)
			pool_signal(&s.run.pool, SIGTERM);
		pool_stop(&s.run.pool, 5000);
	}
	if (*interrupted) {
		status = PCOPY_EXIT_SIGNALLED + *interrupted; /* the job is being torn down */
	} else {
		box_put(&s.out, REC_BYE, NULL, 0, NULL, 0);
		box_drain(&s.out);
	}
	box_free(&s.out);
	scan_end(&s.scan);
	free(s.in);
	free(s.devs);
	free(s.lead_devs);
	for (size_t i = 0; i < s.run.opts.nexcludes; i++)
		free(s.excludes[i]);
	free(s.excludes);
	run_free(&s.run);
	return status;
}
