/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * batch: the engine of pbatch (see batch.h). Slots, spools, spawning, timeouts, reaping,
 * the joblog and the state of each command live here (a command's output in spool.c);
 * cmd/pbatch.c renders.
 */
#include "config.h"

#include "batch/batch.h"
#include "batch/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batch/joblog.h"
#include "common/clock.h"
#include "report/progress.h"

extern char **environ;

#define KILL_GRACE 2.0 /* seconds between SIGTERM and SIGKILL */

/* Where each input command stands; the order matters only for --keep-order printing. */
enum batch_cmd_state {
	CMD_PENDING, /* not started yet */
	CMD_SKIPPED, /* --resume found it done; prints nothing */
	CMD_RUNNING, /* in a slot */
	CMD_HELD,    /* finished, spool waiting for its turn (--keep-order) */
	CMD_PRINTED, /* finished and its output handed over */
};

/* The handlers can only reach globals: the self-pipe's write end and the signal seen. */
static int wake_fd = -1;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	int saved = errno;
	if (sig != SIGCHLD)
		got_signal = sig;
	if (wake_fd >= 0)
		(void)!write(wake_fd, "x", 1);
	errno = saved;
}

static double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

void batch_init(struct batch *b, const struct batch_opts *opts, const struct batch_hooks *hooks)
{
	memset(b, 0, sizeof(*b));
	b->opts = *opts;
	b->hooks = *hooks;
	b->devnull = -1;
	b->wake[0] = b->wake[1] = -1;
}

/* All of the input is read before the first command starts, so Seq numbers are known and
 * --keep-order has a fixed order. */
int batch_read(struct batch *b, FILE *in)
{
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	while ((len = getline(&line, &linecap, in)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (blank(line))
			continue;
		if (b->ncmds == cap) {
			cap = cap ? cap * 2 : 64;
			char **cmds = realloc(b->cmds, cap * sizeof(*b->cmds));
			if (cmds != NULL)
				b->cmds = cmds;
			size_t *seq = realloc(b->seq, cap * sizeof(*b->seq));
			if (seq != NULL)
				b->seq = seq;
			if (cmds == NULL || seq == NULL)
				goto fail;
		}
		b->seq[b->ncmds] = lineno;
		b->cmds[b->ncmds] = strdup(line);
		if (b->cmds[b->ncmds] == NULL)
			goto fail;
		b->ncmds++;
	}
	if (ferror(in))
		goto fail;
	free(line);
	b->state = calloc(b->ncmds + 1, 1);
	b->held = calloc(b->ncmds + 1, sizeof(int));
	if (b->state == NULL || b->held == NULL)
		return -1;
	return 0;
fail:;
	int e = errno;
	free(line);
	errno = e;
	return -1;
}

/* joblog_read's callback for --resume: the command on input line SEQ is done. */
static void mark_done(void *ctx, size_t seq)
{
	struct batch *b = ctx;
	size_t i = joblog_seq_index(b->seq, b->ncmds, seq);
	if (i < b->ncmds && b->state[i] != CMD_SKIPPED) {
		b->state[i] = CMD_SKIPPED;
		b->skipped++;
	}
}

/* The header is written only when the file is new or empty. */
int batch_joblog_open(struct batch *b, size_t *bad_line)
{
	size_t lines = 0;
	*bad_line = 0;
	if (b->opts.resume) {
		FILE *f = fopen(b->opts.joblog, "r");
		if (f == NULL && errno != ENOENT)
			return -1;
		if (f != NULL) {
			long n = joblog_read(f, mark_done, b, bad_line);
			fclose(f);
			if (n < 0) {
				errno = EINVAL;
				return -1;
			}
			lines = (size_t)n;
		}
	}
	b->joblog = fopen(b->opts.joblog, b->opts.resume ? "a" : "w");
	if (b->joblog == NULL)
		return -1;
	if (lines == 0)
		fputs(JOBLOG_HEADER, b->joblog);
	fflush(b->joblog);
	return 0;
}

/*
 * Start `/bin/sh -c CMD` with stdin from /dev/null, stdout into pipe end OUT and stderr into
 * ERR, in a process group of its own, with default signal handling and nothing blocked.
 * posix_spawn rather than fork+exec: glibc starts the child without copying our page
 * tables, which is a measurable part of a job that is only a `true`.
 * Returns the pid, or -1 with errno.
 */
static pid_t child_spawn(const struct batch *b, const char *cmd, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGCHLD);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, b->devnull, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}

static void start_failed(struct batch *b, const char *what, int err)
{
	if (b->hooks.start_failed != NULL)
		b->hooks.start_failed(b->hooks.ctx, what, err);
}

static int job_start(struct batch *b, struct batch_slot *s, size_t i)
{
	int spool = batch_spool_create(b->opts.tmp_dir);
	if (spool < 0) {
		start_failed(b, "temporary file", errno);
		return -1;
	}
	int rd[2], wr[2];
	if (batch_pipes_open(rd, wr) != 0) {
		start_failed(b, "pipe", errno);
		close(spool);
		return -1;
	}
	pid_t pid = child_spawn(b, b->cmds[i], wr[0], wr[1]);
	int e = errno;
	close(wr[0]);
	close(wr[1]);
	if (pid < 0) {
		start_failed(b, "cannot start /bin/sh", e);
		close(rd[0]);
		close(rd[1]);
		close(spool);
		return -1;
	}
	s->pid = pid;
	s->cmd = i;
	s->spool = spool;
	s->pipes[0] = rd[0];
	s->pipes[1] = rd[1];
	s->spool_err = 0;
	s->received = 0;
	s->start_wall = now_wall();
	s->start_mono = clock_now();
	s->kill_stage = 0;
	b->state[i] = CMD_RUNNING;
	b->running++;
	return 0;
}

struct batch_counts batch_counts(const struct batch *b)
{
	return (struct batch_counts){.ncmds = b->ncmds,
	                             .finished = b->finished,
	                             .skipped = b->skipped,
	                             .running = b->running,
	                             .failed = b->failed};
}

static void tick(struct batch *b, int final)
{
	struct batch_counts c = batch_counts(b);
	if (b->hooks.tick != NULL)
		b->hooks.tick(b->hooks.ctx, &c, final);
	b->last_tick = clock_now();
}

/* --keep-order: hand over every held output whose predecessors are all done or skipped.
 * With ALL, hand over what is held regardless of gaps (the run is ending early). */
static void flush_held(struct batch *b, int all)
{
	for (; b->next_print < b->ncmds; b->next_print++) {
		size_t i = b->next_print;
		if (b->state[i] == CMD_HELD) {
			batch_spool_replay(b->held[i], &b->hooks, b->cmds[i]);
			b->state[i] = CMD_PRINTED;
		} else if (b->state[i] != CMD_SKIPPED && b->state[i] != CMD_PRINTED && !all) {
			break;
		}
	}
}

/* Record a finished job: joblog line, then the finished hook. Exitval/Signal follow GNU
 * parallel: a job we killed (timeout, interrupt) has Exitval -1. */
static void job_record(struct batch *b, const struct batch_slot *s, int status)
{
	struct batch_result r = {.seq = b->seq[s->cmd],
	                         .command = b->cmds[s->cmd],
	                         .runtime = clock_now() - s->start_mono,
	                         .signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
	                         .exitval = WIFEXITED(status) ? WEXITSTATUS(status) : 0,
	                         .spool_err = s->spool_err};
	if (r.signal != 0 && (s->kill_stage > 0 || b->stop_sig))
		r.exitval = -1;
	r.timed_out = s->kill_stage > 0 && !b->stop_sig;
	if (b->joblog != NULL) {
		struct joblog_entry e = {.seq = r.seq,
		                         .start = s->start_wall,
		                         .runtime = r.runtime,
		                         .receive = s->received,
		                         .exitval = r.exitval,
		                         .signal = r.signal,
		                         .command = r.command};
		joblog_write(b->joblog, &e);
		fflush(b->joblog); /* so --resume after a crash sees every finished job */
	}
	if (b->hooks.finished != NULL)
		b->hooks.finished(b->hooks.ctx, &r);
}

/* A slot's process has been reaped with STATUS: record it, hand over or hold its output. */
static void job_finish(struct batch *b, struct batch_slot *s, int status)
{
	batch_pipes_drain(s);
	/* A spool with part of its output lost makes the command's run no success for us. */
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && s->spool_err == 0;
	b->running--;
	b->finished++;
	if (!ok) {
		b->failed++;
		if (b->opts.halt_on_error)
			b->halted = 1;
	}
	job_record(b, s, status);
	if (b->opts.keep_order) {
		b->held[s->cmd] = s->spool;
		b->state[s->cmd] = CMD_HELD;
		flush_held(b, 0);
	} else {
		batch_spool_replay(s->spool, &b->hooks, b->cmds[s->cmd]);
		b->state[s->cmd] = CMD_PRINTED;
	}
	s->pid = 0;
}

static struct batch_slot *slot_of(struct batch *b, pid_t pid)
{
	for (int i = 0; i < b->opts.jobs; i++)
		if (b->slots[i].pid == pid)
			return &b->slots[i];
	return NULL;
}

/* Reap every child that has exited. A child is first seen with WNOWAIT: while it is an
 * unreaped zombie its pid cannot be reused, so killing its process group is still safe. A
 * group we were killing gets SIGKILL now, so nothing it started outlives it. */
static void reap(struct batch *b)
{
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			return;
		pid_t pid = si.si_pid;
		struct batch_slot *s = slot_of(b, pid);
		if (s != NULL && (s->kill_stage > 0 || b->stop_sig))
			kill(-pid, SIGKILL);
		int status;
		if (waitpid(pid, &status, 0) != pid)
			return;
		if (s != NULL)
			job_finish(b, s, status);
	}
}

static void kill_all(struct batch *b, int sig)
{
	for (int i = 0; i < b->opts.jobs; i++)
		if (b->slots[i].pid > 0)
			kill(-b->slots[i].pid, sig);
}

/* --timeout: SIGTERM the group when its time is up, SIGKILL after the grace period. */
static void check_timeouts(struct batch *b, double now)
{
	if (b->opts.timeout <= 0)
		return;
	for (int i = 0; i < b->opts.jobs; i++) {
		struct batch_slot *s = &b->slots[i];
		double due = s->start_mono + b->opts.timeout;
		if (s->pid <= 0 || s->kill_stage >= 2)
			continue;
		if (s->kill_stage == 0 && now >= due) {
			kill(-s->pid, SIGTERM);
			s->kill_stage = 1;
		} else if (s->kill_stage == 1 && now >= due + KILL_GRACE) {
			kill(-s->pid, SIGKILL);
			s->kill_stage = 2;
		}
	}
}

/* SIGINT/SIGTERM/SIGHUP: stop starting, TERM every group, KILL them after the grace period. */
static void check_interrupt(struct batch *b, double now)
{
	if (got_signal && !b->stop_sig) {
		b->stop_sig = got_signal;
		b->kill_at = now + KILL_GRACE;
		kill_all(b, SIGTERM);
	} else if (b->stop_sig && b->kill_at > 0 && now >= b->kill_at) {
		kill_all(b, SIGKILL);
		b->kill_at = 0;
	}
}

static double earlier(double a, double b)
{
	return a < b ? a : b;
}

/* How long poll may sleep: until the next timeout step, interrupt escalation or tick. */
static int poll_wait_ms(const struct batch *b, double now)
{
	double wake = INFINITY;
	for (int i = 0; b->opts.timeout > 0 && i < b->opts.jobs; i++) {
		const struct batch_slot *s = &b->slots[i];
		if (s->pid > 0 && s->kill_stage < 2)
			wake = earlier(wake, s->start_mono + b->opts.timeout +
			                         s->kill_stage * KILL_GRACE);
	}
	if (b->stop_sig && b->kill_at > 0)
		wake = earlier(wake, b->kill_at);
	if (b->opts.progress)
		wake = earlier(wake, b->last_tick + PROGRESS_TICK);
	if (isinf(wake))
		return -1;
	double ms = (wake - now) * 1000 + 1; /* round up: waking early would spin */
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* Fill free slots with the next commands, unless we are stopping. */
static void start_jobs(struct batch *b)
{
	for (int i = 0; i < b->opts.jobs && !b->halted && !b->stop_sig && !got_signal; i++) {
		if (b->slots[i].pid > 0)
			continue;
		while (b->next < b->ncmds && b->state[b->next] == CMD_SKIPPED)
			b->next++;
		if (b->next >= b->ncmds)
			return;
		size_t c = b->next++;
		if (job_start(b, &b->slots[i], c) != 0) {
			b->finished++;
			b->failed++;
			b->state[c] = CMD_PRINTED;
			if (b->opts.halt_on_error)
				b->halted = 1;
		}
	}
}

/* Pipe FD of some running slot is readable or closed: take one piece of it. */
static void pipes_ready(struct batch *b, int fd)
{
	for (int i = 0; i < b->opts.jobs; i++)
		for (int k = 0; k < 2; k++)
			if (b->slots[i].pid > 0 && b->slots[i].pipes[k] == fd) {
				batch_pipe_read(&b->slots[i], k);
				return;
			}
}

/* The main loop: start, sleep until a child, output, signal or deadline, reap, repeat. */
void batch_run(struct batch *b)
{
	if (b->opts.progress)
		tick(b, 0);
	for (;;) {
		start_jobs(b);
		if (b->opts.keep_order)
			flush_held(b, 0);
		if (b->running == 0)
			break;
		nfds_t nfds = 1;
		b->pfds[0] = (struct pollfd){b->wake[0], POLLIN, 0};
		for (int i = 0; i < b->opts.jobs; i++)
			for (int k = 0; k < 2; k++)
				if (b->slots[i].pid > 0 && b->slots[i].pipes[k] >= 0)
					b->pfds[nfds++] =
					    (struct pollfd){b->slots[i].pipes[k], POLLIN, 0};
		int n = poll(b->pfds, nfds, poll_wait_ms(b, clock_now()));
		if (n > 0 && b->pfds[0].revents != 0) {
			char buf[256];
			while (read(b->wake[0], buf, sizeof(buf)) > 0)
				continue;
		}
		for (nfds_t j = 1; n > 0 && j < nfds; j++)
			if (b->pfds[j].revents != 0)
				pipes_ready(b, b->pfds[j].fd);
		double now = clock_now();
		check_interrupt(b, now);
		reap(b);
		check_timeouts(b, now);
		if (b->opts.progress && now - b->last_tick >= PROGRESS_TICK)
			tick(b, 0);
	}
	if (got_signal && !b->stop_sig)
		b->stop_sig = got_signal;
	flush_held(b, 1);
	if (b->opts.progress)
		tick(b, 1);
}

/* The handlers write to the self-pipe so that poll wakes; SA_RESTART keeps our own reads
 * and writes from failing with EINTR. Installed once per process, kept until it exits. */
static int signals_install(struct batch *b)
{
	if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	wake_fd = b->wake[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

/* Each running command holds three descriptors here (two pipes, a spool): raise the soft
 * limit towards the hard one when -j needs more than it allows. */
static void files_limit(int jobs)
{
	struct rlimit rl;
	rlim_t need = 3 * (rlim_t)jobs + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int batch_setup(struct batch *b, const char **what)
{
	b->slots = calloc((size_t)b->opts.jobs, sizeof(*b->slots));
	b->pfds = calloc(1 + 2 * (size_t)b->opts.jobs, sizeof(*b->pfds));
	b->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b->slots == NULL || b->pfds == NULL || b->devnull < 0) {
		*what = "setup";
		return -1;
	}
	files_limit(b->opts.jobs);
	if (signals_install(b) != 0) {
		*what = "pipe";
		return -1;
	}
	return 0;
}

void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->ncmds; i++)
		free(b->cmds[i]);
	free(b->cmds);
	free(b->seq);
	free(b->state);
	free(b->held);
	free(b->slots);
	free(b->pfds);
	if (b->joblog != NULL)
		fclose(b->joblog);
	if (b->devnull >= 0)
		close(b->devnull);
	if (b->wake[0] >= 0) {
		if (wake_fd == b->wake[1])
			wake_fd = -1;
		close(b->wake[0]);
		close(b->wake[1]);
	}
}
