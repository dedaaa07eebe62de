/* SPDX-License-Identifier: BSD-2-Clause */
/* mpi/lead.c: rank 0's side of pcopy-mpi, the struct run_remote over MPI (see mpiwork.h). */
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

/* Rank 0's view of one agent. */
struct agent {
	struct box out;
	size_t tasks;   /* outstanding */
	uint64_t bytes; /* data of the outstanding tasks */
	int lists;      /* listings asked and not yet back */
	uint64_t *ids;  /* ids and costs of the outstanding tasks (TASKS of them) */
	uint64_t *costs;
};

/* A REC_LISTED payload received, malloc'd. */
struct listed {
	unsigned char *p;
	size_t len;
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
	struct listed *lists; /* REC_LISTED payloads received and not yet used */
	size_t nlists, lists_cap;
	unsigned char *shown;     /* the payload whose names the last listed() batch uses */
	struct listdir_view view; /* that listing read back (pointing into SHOWN) */
	int byes;                 /* agents that said REC_BYE */
};

/* ---- rank 0: the remote ------------------------------------------------------------------- */

static int lead_take(void *ctx, const struct copy_task *t, const char *src, const char *dst)
{
	struct mpiwork *m = ctx;
	uint64_t cost = copy_task_cost(t);
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
	if (wire_box_put(&best->out, REC_TASK, t, sizeof(*t), lens, sizeof(lens)) != 0 ||
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
		wire_box_flush(&m->agents[i].out);
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
	while ((p = wire_rec_next(m->in, n, &pos, &h)) != NULL) {
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
			m->lists[m->nlists++] = (struct listed){copy, h.len};
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
	while ((n = wire_inbox(&m->in, &m->in_cap, MPI_ANY_SOURCE, &from)) != 0) {
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
	if (wire_box_put(&best->out, REC_LIST, &head, sizeof(head), dir, strlen(dir) + 1) != 0)
		return -1;
	best->lists++;
	wire_box_flush(&best->out);
	return 1;
}

static int lead_listed(void *ctx, struct scan *s, struct tree_list *dst)
{
	struct mpiwork *m = ctx;
	if (m->nlists == 0 && lead_pump(m) != 0)
		return -1;
	if (m->nlists == 0)
		return 0;
	struct listed found = m->lists[--m->nlists];
	free(m->shown);
	m->shown = found.p;
	struct listed_head h;
	if (found.len < sizeof(h)) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&h, found.p, sizeof(h));
	if (listdir_unpack(&m->view, found.p + sizeof(h), found.len - sizeof(h)) != 0)
		return -1;
	if (m->view.dst_listed)
		*dst = (struct tree_list){m->view.dst, m->view.ndst, NULL};
	return scan_set(s, h.token, m->view.items, m->view.nitems, m->view.err) != 0 ? -1 : 1;
}

/* The plan, as the agents read it: copy options, -j, rank 0's pid, the roots. */
static int plan_message(const struct run_share *sh, unsigned char **buf, size_t *len)
{
	size_t cap = 0;
	int32_t jobs = sh->jobs;
	int64_t pid = (int64_t)getpid();
	uint32_t nroots = (uint32_t)sh->nroots;
	*buf = NULL;
	*len = sizeof(*sh->copy) + sizeof(jobs) + sizeof(pid) + sizeof(nroots);
	if (array_grow(buf, &cap, *len, 1) != 0)
		return -1;
	unsigned char *p = *buf;
	memcpy(p, sh->copy, sizeof(*sh->copy));
	memcpy(p += sizeof(*sh->copy), &jobs, sizeof(jobs));
	memcpy(p += sizeof(jobs), &pid, sizeof(pid));
	memcpy(p + sizeof(pid), &nroots, sizeof(nroots));
	for (size_t i = 0; i < sh->nroots; i++) {
		const struct run_root *rt = &sh->roots[i];
		/* Absolute paths: other ranks may start elsewhere. */
		char *src = rt->src_dir ? realpath(rt->src_dir, NULL) : NULL;
		char *dst =
		    rt->dst_dir && sh->croots[i].dst_fd >= 0 ? realpath(rt->dst_dir, NULL) : NULL;
		char dev[32];
		snprintf(dev, sizeof(dev), "%llu", (unsigned long long)rt->st.st_dev);
		int rc = wire_put_str(buf, len, &cap, dev) | wire_put_str(buf, len, &cap, src) |
		         wire_put_str(buf, len, &cap, dst);
		free(src);
		free(dst);
		if (rc != 0)
			return -1;
	}
	/* --exclude, --filter: the agents make destination directories, and not excluded ones;
	 * the rules go as "+ PATTERN" / "- PATTERN" (dir-merge is refused in mpiwork_lead). */
	const struct select_list *rules = sh->select != NULL ? &sh->select->top : NULL;
	size_t nrules = rules != NULL ? rules->n : 0;
	char count[32];
	snprintf(count, sizeof(count), "%zu", nrules);
	if (wire_put_str(buf, len, &cap, count) != 0)
		return -1;
	for (size_t i = 0; i < nrules; i++) {
		const struct select_rule *rule = &rules->v[i];
		size_t lp = strlen(rule->pattern);
		char *text = malloc(lp + 4);
		if (text == NULL)
			return -1;
		snprintf(text, lp + 4, "%c%s %s", rule->kind == SELECT_INCLUDE ? '+' : '-',
		         rule->negate ? "!" : "", rule->pattern);
		int rc = wire_put_str(buf, len, &cap, text);
		free(text);
		if (rc != 0)
			return -1;
	}
	/* ... matched with each root's prefix ("name/" for a source copied by its name). */
	for (size_t i = 0; i < sh->nroots; i++)
		if (wire_put_str(buf, len, &cap, sh->roots[i].prefix) != 0)
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
		wire_box_free(&m->agents[i].out);
		free(m->agents[i].ids);
		free(m->agents[i].costs);
	}
	for (size_t i = 0; i < m->nlists; i++)
		free(m->lists[i].p);
	free(m->lists);
	free(m->agents);
	free(m->in);
	free(m->done);
	free(m->shown);
	listdir_view_free(&m->view);
	free(m);
}

/* The agents' answers to the plan: 0 when all opened the roots, else ERR says who could not. */
static int gather_ready(const struct run_share *sh, int nranks, char *err, size_t errlen)
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
		const struct run_root *rt = &sh->roots[all[2 * i + 1] / 2];
		snprintf(err, errlen, "rank %d cannot open '%s': %s", i,
		         all[2 * i + 1] % 2 ? rt->dst_dir : rt->src_dir, strerror(all[2 * i]));
		rc = -1;
	}
	free(all);
	return rc;
}

struct mpiwork *mpiwork_lead(const struct run_share *share, char *err, size_t errlen)
{
	int nranks = 1;
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	const struct run_share sh = *share;
	if (select_has_dir_merge(sh.select)) {
		/* The agents make directories from listings read in any order: no place for
		 * per-directory rules. */
		snprintf(err, errlen,
		         "dir-merge filter rules are not supported by pcopy-mpi; use "
		         "pcopy");
		mpiwork_refuse();
		return NULL;
	}
	struct mpiwork *m = calloc(1, sizeof(*m));
	unsigned char *plan = NULL;
	size_t len = 0;
	if (m == NULL || plan_message(&sh, &plan, &len) != 0) {
		snprintf(err, errlen, "out of memory");
		free(plan);
		free(m);
		mpiwork_refuse();
		return NULL;
	}
	send_plan(plan, len);
	free(plan);
	m->nagents = nranks - 1;
	int jobs = sh.jobs > 0 ? sh.jobs : 1;
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
	int rc = gather_ready(&sh, nranks, err, errlen);
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
	}
	return m;
}

const struct run_remote *mpiwork_remote(const struct mpiwork *m)
{
	return m->nagents > 0 ? &m->remote : NULL;
}

void mpiwork_end(struct mpiwork *m, int abandon)
{
	if (m == NULL)
		return;
	int32_t how = abandon;
	for (int i = 0; m->agents != NULL && i < m->nagents; i++)
		wire_box_put(&m->agents[i].out, REC_STOP, &how, sizeof(how), NULL, 0);
	/* Take in (and drop) what the agents still send until each has said goodbye, so that
	 * no send is left waiting for a receiver. */
	while (m->agents != NULL && m->byes < m->nagents) {
		if (lead_pump(m) != 0)
			break;
		struct timespec nap = {0, MPIWORK_NAP_NS};
		nanosleep(&nap, NULL);
	}
	for (int i = 0; m->agents != NULL && i < m->nagents; i++)
		wire_box_drain(&m->agents[i].out);
	lead_free(m);
}

void mpiwork_drop(struct mpiwork *m)
{
	if (m != NULL)
		lead_free(m);
}
