/*
 * pbatch: run a batch of shell commands on a fixed pool of process slots.
 *
 * Commands are read one per line (blank lines skipped) and each runs as `/bin/sh -c LINE` in
 * its own process group, so that a timeout or an interrupt can kill everything it started.
 * A command's stdout and stderr are two pipes that we drain into one unlinked spool file, as
 * records that say which stream each piece came from; when it finishes the spool is copied
 * in one piece, each piece to our stream of the same kind (as GNU parallel does), so
 * outputs never interleave, and a spool that cannot be written (a full TMPDIR) is seen here
 * and reported rather than silently cut short. The parent sleeps in poll(2) on the pipes and
 * a self-pipe that the SIGCHLD/SIGINT/SIGTERM handlers write to, and wakes early only for
 * timeouts and the progress line: there is no busy loop.
 *
 * Everything about a run lives in struct batch; the only globals are the two the signal
 * handlers need.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/batchcli.h"
#include "batch/joblog.h"
#include "report/progress.h"

extern char **environ;

/* Exit statuses, listed under EXIT STATUS in pbatch(1). 128 + signal when interrupted. */
enum {
	PB_OK = 0,     /* every command exited 0 */
	PB_FAILED = 1, /* some command failed, timed out or was not run (--halt-on-error) */
	PB_USAGE = 2,  /* bad command line, unreadable FILE or joblog */
	PB_SIGBASE = 128,
};

#define KILL_GRACE 2.0    /* seconds between SIGTERM and SIGKILL */
#define DRAW_INTERVAL 0.1 /* the progress line is redrawn at most 10 times a second */
#define PIPE_CHUNK 65536  /* the most one read from a command's pipe takes, and one record */

/* Where each input command stands; the order matters only for --keep-order printing. */
enum cmd_state {
	CMD_PENDING, /* not started yet */
	CMD_SKIPPED, /* --resume found it done; prints nothing */
	CMD_RUNNING, /* in a slot */
	CMD_HELD,    /* finished, spool waiting for its turn (--keep-order) */
	CMD_PRINTED, /* finished and its output written */
};

/* One pool slot; pid 0 means free. */
struct slot {
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

/* All run state: options, commands, the pool and counters. */
struct batch {
	/* options */
	int jobs, tag, keep_order, resume, halt_on_error, json, progress;
	double timeout; /* seconds; 0 means none */
	const char *joblog_path;

	/* input */
	char **cmds; /* the non-blank lines */
	size_t *seq; /* each command's input line number: GNU parallel's Seq, which
	                counts blank lines too, so joblogs stay interchangeable */
	size_t ncmds;
	unsigned char *state; /* enum cmd_state per command */
	int *held;            /* spool fd per command while CMD_HELD */

	/* progress through the input */
	size_t next;       /* next command to consider starting */
	size_t next_print; /* --keep-order: next command whose output may be printed */
	size_t running, finished, failed, skipped;
	int halted; /* a job failed under --halt-on-error: start nothing new */

	struct slot *slots;  /* jobs entries */
	struct pollfd *pfds; /* 1 + 2 * jobs: the self-pipe, then the slots' pipes */
	FILE *joblog;
	FILE *out;   /* where command output goes: stdout, or stderr with --json */
	int devnull; /* children's stdin, so they never eat our command list */
	int wake[2]; /* self-pipe written by the signal handlers */

	int stop_sig;   /* SIGINT/SIGTERM received: we are killing everything */
	double kill_at; /* when to escalate the interrupt to SIGKILL */
	int line_shown; /* a progress line is on the screen */
	double last_draw;
	int out_err; /* errno of the first failed write to our stdout, 0 if none */
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

static void fatal(const char *what, const char *why)
{
	fprintf(stderr, "pbatch: %s: %s\n", what, why);
	exit(PB_USAGE);
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* Read every non-blank line of IN as a command. All of the input is read before the first
 * command starts, so Seq numbers are known and --keep-order has a fixed order. */
static void read_commands(struct batch *b, FILE *in, const char *name)
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
			b->cmds = realloc(b->cmds, cap * sizeof(*b->cmds));
			b->seq = realloc(b->seq, cap * sizeof(*b->seq));
			if (b->cmds == NULL || b->seq == NULL)
				fatal(name, strerror(errno));
		}
		b->seq[b->ncmds] = lineno;
		b->cmds[b->ncmds] = strdup(line);
		if (b->cmds[b->ncmds++] == NULL)
			fatal(name, strerror(errno));
	}
	if (ferror(in))
		fatal(name, strerror(errno));
	free(line);
	b->state = calloc(b->ncmds + 1, 1);
	b->held = calloc(b->ncmds + 1, sizeof(int));
	if (b->state == NULL || b->held == NULL)
		fatal(name, strerror(errno));
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

/* Open the joblog: truncate and write the header, or with --resume read it and append,
 * writing the header only when the file is new or empty. */
static void joblog_open(struct batch *b)
{
	size_t lines = 0;
	if (b->resume) {
		FILE *f = fopen(b->joblog_path, "r");
		if (f == NULL && errno != ENOENT)
			fatal(b->joblog_path, strerror(errno));
		if (f != NULL) {
			size_t bad_line = 0;
			long n = joblog_read(f, mark_done, b, &bad_line);
			fclose(f);
			if (n < 0) {
				fprintf(stderr, "pbatch: %s:%zu: malformed joblog line\n",
				        b->joblog_path, bad_line);
				exit(PB_USAGE);
			}
			lines = (size_t)n;
		}
	}
	b->joblog = fopen(b->joblog_path, b->resume ? "a" : "w");
	if (b->joblog == NULL)
		fatal(b->joblog_path, strerror(errno));
	if (lines == 0)
		fputs(JOBLOG_HEADER, b->joblog);
	fflush(b->joblog);
}

/* Where spools are made: $TMPDIR, or /tmp when it is unset or empty. */
static const char *spool_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

/* An unlinked temporary file: output is spooled on disk, not in memory. Close-on-exec so
 * that only the command it belongs to inherits it (through dup2). */
static int spool_create(void)
{
	const char *dir = spool_dir();
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

/* Two pipes for a command's stdout and stderr: read ends non-blocking (we drain them
 * without waiting), write ends as the child gets them. Returns 0, or -1 with errno. */
static int pipes_open(int rd[2], int wr[2])
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

static int job_start(struct batch *b, struct slot *s, size_t i)
{
	int spool = spool_create();
	if (spool < 0) {
		fprintf(stderr, "pbatch: temporary file: %s\n", strerror(errno));
		return -1;
	}
	int rd[2], wr[2];
	if (pipes_open(rd, wr) != 0) {
		fprintf(stderr, "pbatch: pipe: %s\n", strerror(errno));
		close(spool);
		return -1;
	}
	pid_t pid = child_spawn(b, b->cmds[i], wr[0], wr[1]);
	int e = errno;
	close(wr[0]);
	close(wr[1]);
	if (pid < 0) {
		fprintf(stderr, "pbatch: cannot start /bin/sh: %s\n", strerror(e));
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
	s->start_mono = now_mono();
	s->kill_stage = 0;
	b->state[i] = CMD_RUNNING;
	b->running++;
	return 0;
}

/* Append N bytes of stream K (0 stdout, 1 stderr) to the spool as one record: a byte for the
 * stream, 4 for the length, the data. A write that fails or falls short is remembered. */
static void spool_put(struct slot *s, int k, const char *data, size_t n)
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
static int pipe_read(struct slot *s, int k)
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
static void pipes_drain(struct slot *s)
{
	for (int k = 0; k < 2; k++) {
		while (s->pipes[k] >= 0 && pipe_read(s, k) > 0)
			continue;
		if (s->pipes[k] >= 0) {
			close(s->pipes[k]);
			s->pipes[k] = -1;
		}
	}
}

static void clear_line(struct batch *b)
{
	if (b->line_shown) {
		fputs("\r\033[K", stderr);
		b->line_shown = 0;
	}
}

static void draw(struct batch *b)
{
	size_t done = b->finished + b->skipped;
	unsigned pct = b->ncmds ? (unsigned)(done * 100 / b->ncmds) : 100;
	fprintf(stderr, "\r%u%% %zu/%zu done, %zu running, %zu failed\033[K", pct, done, b->ncmds,
	        b->running, b->failed);
	fflush(stderr);
	b->line_shown = 1;
	b->last_draw = now_mono();
}

/* Write N bytes of DATA to F; with TAG, CMD and a tab start every line (*AT_START: the
 * last piece ended a line). */
static void put_piece(FILE *f, const char *data, size_t n, const char *tag, int *at_start)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - data) + 1 : n;
		if (tag != NULL && *at_start)
			fprintf(f, "%s\t", tag);
		fwrite(data, 1, len, f);
		*at_start = nl != NULL;
		data += len;
		n -= len;
	}
}

/* Our stdout's first write error, kept for the exit status (GNU close_stdout's rule). */
static void out_check(struct batch *b)
{
	if (fflush(stdout) != 0 && b->out_err == 0)
		b->out_err = errno;
	if (ferror(stdout) && b->out_err == 0)
		b->out_err = EIO;
}

/*
 * Copy a finished spool to our output in one piece, then close it: each record to the stream
 * of its kind (stdout records to B->out, stderr records to stderr), in the order written.
 */
static void output_emit(struct batch *b, int fd, const char *cmd)
{
	FILE *f = NULL;
	if (lseek(fd, 0, SEEK_SET) == 0)
		f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return;
	}
	if (b->progress)
		clear_line(b);
	FILE *to[2] = {b->out, stderr};
	int at_start[2] = {1, 1};
	static char buf[PIPE_CHUNK];
	unsigned char hdr[5];
	while (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr)) {
		uint32_t len;
		memcpy(&len, hdr + 1, sizeof(len));
		int k = hdr[0] != 0;
		if (len > sizeof(buf) || fread(buf, 1, len, f) != len)
			break;
		if (to[k] != to[!k])
			fflush(to[!k]); /* a terminal showing both gets them in the order written */
		put_piece(to[k], buf, len, b->tag ? cmd : NULL, &at_start[k]);
	}
	fclose(f);
	fflush(stderr);
	out_check(b);
}

/* --keep-order: print every held output whose predecessors are all printed or skipped.
 * With ALL, print what is held regardless of gaps (the run is ending early). */
static void flush_held(struct batch *b, int all)
{
	for (; b->next_print < b->ncmds; b->next_print++) {
		size_t i = b->next_print;
		if (b->state[i] == CMD_HELD) {
			output_emit(b, b->held[i], b->cmds[i]);
			b->state[i] = CMD_PRINTED;
		} else if (b->state[i] != CMD_SKIPPED && b->state[i] != CMD_PRINTED && !all) {
			break;
		}
	}
}

/* Record a finished job: joblog line, --json event. Exitval/Signal follow GNU parallel:
 * a job we killed (timeout, interrupt) has Exitval -1. */
static void job_record(struct batch *b, const struct slot *s, int status, long long bytes)
{
	double runtime = now_mono() - s->start_mono;
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	int exitval = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	if (sig != 0 && (s->kill_stage > 0 || b->stop_sig))
		exitval = -1;
	const char *cmd = b->cmds[s->cmd];
	if (b->joblog != NULL) {
		struct joblog_entry e = {.seq = b->seq[s->cmd],
		                         .start = s->start_wall,
		                         .runtime = runtime,
		                         .receive = bytes,
		                         .exitval = exitval,
		                         .signal = sig,
		                         .command = cmd};
		joblog_write(b->joblog, &e);
		fflush(b->joblog); /* so --resume after a crash sees every finished job */
	}
	if (b->json) {
		clear_line(b);
		printf("{\"event\":\"job\",\"seq\":%zu,\"command\":", b->seq[s->cmd]);
		progress_json_string(stdout, cmd);
		printf(",\"exit\":%d,\"signal\":%d,\"runtime\":%.3f}\n", exitval, sig, runtime);
		out_check(b);
	}
}

/* A slot's process has been reaped with STATUS: record it, print or hold its output. */
static void job_finish(struct batch *b, struct slot *s, int status)
{
	pipes_drain(s);
	long long bytes = s->received;
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (s->spool_err != 0) {
		/* Part of its output is lost: the command's run is not a success for us. */
		clear_line(b);
		fprintf(stderr, "pbatch: %s: cannot keep the output of '%s': %s\n", spool_dir(),
		        b->cmds[s->cmd], strerror(s->spool_err));
		ok = 0;
	}
	b->running--;
	b->finished++;
	if (!ok) {
		b->failed++;
		if (b->halt_on_error)
			b->halted = 1;
	}
	job_record(b, s, status, bytes);
	if (b->keep_order) {
		b->held[s->cmd] = s->spool;
		b->state[s->cmd] = CMD_HELD;
		flush_held(b, 0);
	} else {
		output_emit(b, s->spool, b->cmds[s->cmd]);
		b->state[s->cmd] = CMD_PRINTED;
	}
	s->pid = 0;
}

static struct slot *slot_of(struct batch *b, pid_t pid)
{
	for (int i = 0; i < b->jobs; i++)
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
		struct slot *s = slot_of(b, pid);
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
	for (int i = 0; i < b->jobs; i++)
		if (b->slots[i].pid > 0)
			kill(-b->slots[i].pid, sig);
}

/* --timeout: SIGTERM the group when its time is up, SIGKILL after the grace period. */
static void check_timeouts(struct batch *b, double now)
{
	if (b->timeout <= 0)
		return;
	for (int i = 0; i < b->jobs; i++) {
		struct slot *s = &b->slots[i];
		double due = s->start_mono + b->timeout;
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

/* How long poll may sleep: until the next timeout step, interrupt escalation or redraw. */
static int poll_wait_ms(const struct batch *b, double now)
{
	double wake = INFINITY;
	for (int i = 0; b->timeout > 0 && i < b->jobs; i++) {
		const struct slot *s = &b->slots[i];
		if (s->pid > 0 && s->kill_stage < 2)
			wake =
			    earlier(wake, s->start_mono + b->timeout + s->kill_stage * KILL_GRACE);
	}
	if (b->stop_sig && b->kill_at > 0)
		wake = earlier(wake, b->kill_at);
	if (b->progress)
		wake = earlier(wake, b->last_draw + DRAW_INTERVAL);
	if (isinf(wake))
		return -1;
	double ms = (wake - now) * 1000 + 1; /* round up: waking early would spin */
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* Fill free slots with the next commands, unless we are stopping. */
static void start_jobs(struct batch *b)
{
	for (int i = 0; i < b->jobs && !b->halted && !b->stop_sig && !got_signal; i++) {
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
			if (b->halt_on_error)
				b->halted = 1;
		}
	}
}

/* Pipe FD of some running slot is readable or closed: take one piece of it. */
static void pipes_ready(struct batch *b, int fd)
{
	for (int i = 0; i < b->jobs; i++)
		for (int k = 0; k < 2; k++)
			if (b->slots[i].pid > 0 && b->slots[i].pipes[k] == fd) {
				pipe_read(&b->slots[i], k);
				return;
			}
}

/* The main loop: start, sleep until a child, output, signal or deadline, reap, repeat. */
static void run(struct batch *b)
{
	if (b->progress)
		draw(b);
	for (;;) {
		start_jobs(b);
		if (b->keep_order)
			flush_held(b, 0);
		if (b->running == 0)
			break;
		nfds_t nfds = 1;
		b->pfds[0] = (struct pollfd){b->wake[0], POLLIN, 0};
		for (int i = 0; i < b->jobs; i++)
			for (int k = 0; k < 2; k++)
				if (b->slots[i].pid > 0 && b->slots[i].pipes[k] >= 0)
					b->pfds[nfds++] =
					    (struct pollfd){b->slots[i].pipes[k], POLLIN, 0};
		int n = poll(b->pfds, nfds, poll_wait_ms(b, now_mono()));
		if (n > 0 && b->pfds[0].revents != 0) {
			char buf[256];
			while (read(b->wake[0], buf, sizeof(buf)) > 0)
				continue;
		}
		for (nfds_t j = 1; n > 0 && j < nfds; j++)
			if (b->pfds[j].revents != 0)
				pipes_ready(b, b->pfds[j].fd);
		double now = now_mono();
		check_interrupt(b, now);
		reap(b);
		check_timeouts(b, now);
		if (b->progress && now - b->last_draw >= DRAW_INTERVAL)
			draw(b);
	}
	if (got_signal && !b->stop_sig)
		b->stop_sig = got_signal;
	flush_held(b, 1);
	if (b->progress) {
		draw(b);
		fputs("\n", stderr);
		b->line_shown = 0;
	}
}

static void setup_signals(struct batch *b)
{
	if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("pipe", strerror(errno));
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

/* The options of CLI into a fresh B. */
static void batch_init(struct batch *b, const struct batchcli *cli)
{
	memset(b, 0, sizeof(*b));
	b->jobs = cli->jobs;
	b->tag = cli->tag;
	b->keep_order = cli->keep_order;
	b->resume = cli->resume;
	b->halt_on_error = cli->halt_on_error;
	b->json = cli->json;
	b->timeout = cli->timeout;
	b->joblog_path = cli->joblog;
	b->progress = !cli->quiet && (cli->force_progress || isatty(STDERR_FILENO));
}

static void batch_free(struct batch *b)
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
	close(b->devnull);
	close(b->wake[0]);
	close(b->wake[1]);
}

/*
 * Flush and close stdout at exit, as GNU coreutils' close_stdout does: a write error there
 * (ERR: one seen earlier) is said on stderr and makes the exit status 1. Returns 0 or -1.
 */
static int stdout_close(int err)
{
	if (fflush(stdout) != 0 && err == 0)
		err = errno;
	if (ferror(stdout) && err == 0)
		err = EIO;
	if (fclose(stdout) != 0 && err == 0 && errno != EBADF)
		err = errno;
	if (err == 0)
		return 0;
	fprintf(stderr, "pbatch: write error: %s\n", strerror(err));
	return -1;
}

int main(int argc, char **argv)
{
	struct batchcli cli;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	switch (batchcli_parse(&cli, argc, argv, ncpu > CLI_MAX_JOBS ? CLI_MAX_JOBS : (int)ncpu)) {
	case CLI_RUN: break;
	case CLI_HELP:
		fputs(batchcli_usage_text, stdout);
		fputs(batchcli_help_text, stdout);
		return stdout_close(0) != 0 ? PB_FAILED : PB_OK;
	case CLI_VERSION:
		printf("pbatch %s\n", PACKAGE_VERSION);
		return stdout_close(0) != 0 ? PB_FAILED : PB_OK;
	case CLI_USAGE:
		fprintf(stderr, "pbatch: %s%s\n", cli.why.msg, cli.why.arg);
		fputs(batchcli_usage_text, stderr);
		fputs("Try 'pbatch --help' for more information.\n", stderr);
		return PB_USAGE;
	}
	struct batch b;
	batch_init(&b, &cli);
	const char *file = cli.file;

	FILE *in = file ? fopen(file, "r") : stdin;
	if (in == NULL)
		fatal(file, strerror(errno));
	read_commands(&b, in, file ? file : "standard input");
	if (in != stdin)
		fclose(in);
	if (b.joblog_path != NULL)
		joblog_open(&b);
	b.out = b.json ? stderr : stdout;
	b.slots = calloc((size_t)b.jobs, sizeof(*b.slots));
	b.pfds = calloc(1 + 2 * (size_t)b.jobs, sizeof(*b.pfds));
	b.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b.slots == NULL || b.pfds == NULL || b.devnull < 0)
		fatal("setup", strerror(errno));
	files_limit(b.jobs);
	setup_signals(&b);

	run(&b);

	if (b.json)
		printf("{\"event\":\"summary\",\"jobs\":%zu,\"failed\":%zu,\"skipped\":%zu}\n",
		       b.finished, b.failed, b.ncmds - b.finished);
	int status = b.stop_sig                                         ? PB_SIGBASE + b.stop_sig
	             : b.failed > 0 || b.finished + b.skipped < b.ncmds ? PB_FAILED
	                                                                : PB_OK;
	out_check(&b);
	if (stdout_close(b.out_err) != 0 && status == PB_OK)
		status = PB_FAILED;
	batch_free(&b);
	return status;
}
