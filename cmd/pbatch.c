/*
 * pbatch: run a batch of shell commands on a fixed pool of process slots.
 *
 * Commands are read one per line (blank lines skipped) and each runs as `/bin/sh -c LINE` in
 * its own process group, so that a timeout or an interrupt can kill everything it started.
 * A command's stdout and stderr go to one unlinked spool file; when it finishes the spool is
 * copied to our output in one piece, so outputs never interleave. The parent sleeps in
 * poll(2) on a self-pipe that the SIGCHLD/SIGINT/SIGTERM handlers write to, and wakes early
 * only for timeouts and the progress line: there is no busy loop.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batchcli.h"
#include "joblog.h"
#include "progress.h"

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
	pid_t pid;         /* process (and process group) id of the sh running the command */
	size_t cmd;        /* index into batch.cmds */
	int spool;         /* unlinked file holding the command's stdout and stderr */
	double start_wall; /* epoch seconds, for the joblog */
	double start_mono; /* monotonic seconds, for runtime and the timeout */
	int kill_stage;    /* 0 running, 1 sent SIGTERM, 2 sent SIGKILL */
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

	struct slot *slots; /* jobs entries */
	FILE *joblog;
	FILE *out;   /* where command output goes: stdout, or stderr with --json */
	int devnull; /* children's stdin, so they never eat our command list */
	int wake[2]; /* self-pipe written by the signal handlers */

	int stop_sig;   /* SIGINT/SIGTERM received: we are killing everything */
	double kill_at; /* when to escalate the interrupt to SIGKILL */
	int line_shown; /* a progress line is on the screen */
	double last_draw;
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

/* An unlinked temporary file: output is spooled on disk, not in memory. Close-on-exec so
 * that only the command it belongs to inherits it (through dup2). */
static int spool_create(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/pbatch.XXXXXX", dir && *dir ? dir : "/tmp");
	/* An unnamed file where the file system allows it: no name to make and remove. */
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * Start `/bin/sh -c CMD` with stdin from /dev/null and stdout+stderr into SPOOL, in a
 * process group of its own, with default signal handling and nothing blocked.
 * posix_spawn rather than fork+exec: glibc starts the child without copying our page
 * tables, which is a measurable part of a job that is only a `true`.
 * Returns the pid, or -1 with errno.
 */
static pid_t child_spawn(const struct batch *b, const char *cmd, int spool)
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
	posix_spawn_file_actions_adddup2(&fa, spool, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, spool, STDERR_FILENO);
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

static int job_start(struct batch *b, struct slot *s, size_t i)
{
	int spool = spool_create();
	if (spool < 0) {
		fprintf(stderr, "pbatch: temporary file: %s\n", strerror(errno));
		return -1;
	}
	pid_t pid = child_spawn(b, b->cmds[i], spool);
	if (pid < 0) {
		fprintf(stderr, "pbatch: cannot start /bin/sh: %s\n", strerror(errno));
		close(spool);
		return -1;
	}
	s->pid = pid;
	s->cmd = i;
	s->spool = spool;
	s->start_wall = now_wall();
	s->start_mono = now_mono();
	s->kill_stage = 0;
	b->state[i] = CMD_RUNNING;
	b->running++;
	return 0;
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

/* Copy a finished spool to our output in one piece, then close it. */
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
	if (b->tag) {
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) != -1)
			fprintf(b->out, "%s\t%s", cmd, line);
		free(line);
	} else {
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, b->out);
	}
	fclose(f);
	fflush(b->out);
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
		fflush(stdout);
	}
}

/* A slot's process has been reaped with STATUS: record it, print or hold its output. */
static void job_finish(struct batch *b, struct slot *s, int status)
{
	struct stat st;
	long long bytes = fstat(s->spool, &st) == 0 ? (long long)st.st_size : 0;
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
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

/* The main loop: start, sleep until a child or signal or deadline, reap, repeat. */
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
		struct pollfd pfd = {b->wake[0], POLLIN, 0};
		int n = poll(&pfd, 1, poll_wait_ms(b, now_mono()));
		if (n > 0) {
			char buf[256];
			while (read(b->wake[0], buf, sizeof(buf)) > 0)
				continue;
		}
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
	if (b->joblog != NULL)
		fclose(b->joblog);
	close(b->devnull);
	close(b->wake[0]);
	close(b->wake[1]);
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
		return PB_OK;
	case CLI_VERSION: printf("pbatch %s\n", PACKAGE_VERSION); return PB_OK;
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
	b.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b.slots == NULL || b.devnull < 0)
		fatal("setup", strerror(errno));
	setup_signals(&b);

	run(&b);

	if (b.json)
		printf("{\"event\":\"summary\",\"jobs\":%zu,\"failed\":%zu,\"skipped\":%zu}\n",
		       b.finished, b.failed, b.ncmds - b.finished);
	int status = b.stop_sig                                         ? PB_SIGBASE + b.stop_sig
	             : b.failed > 0 || b.finished + b.skipped < b.ncmds ? PB_FAILED
	                                                                : PB_OK;
	if (fflush(stdout) != 0 && status == PB_OK)
		status = PB_FAILED;
	batch_free(&b);
	return status;
}
