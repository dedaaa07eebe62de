/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/batch/batch.c: commands run on slots, reported through the hooks, and
 * recorded in the joblog; --keep-order and --resume. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "batch/joblog.h"

/* What the hooks saw. */
struct seen {
	char out[4096]; /* every output piece, as "STREAM:COMMAND:DATA" */
	size_t outlen;
	int begins, ends, ticks, finals;
	struct batch_result results[8];
	char commands[8][64];
	size_t nresults;
};

static void on_begin(void *ctx)
{
	((struct seen *)ctx)->begins++;
}

static void on_output(void *ctx, const char *command, int stream, const char *data, size_t n)
{
	struct seen *s = ctx;
	s->outlen += (size_t)snprintf(s->out + s->outlen, sizeof(s->out) - s->outlen, "%d:%s:%.*s",
	                              stream, command, (int)n, data);
}

static void on_end(void *ctx)
{
	((struct seen *)ctx)->ends++;
}

static void on_finished(void *ctx, const struct batch_result *r)
{
	struct seen *s = ctx;
	assert_true(s->nresults < 8);
	snprintf(s->commands[s->nresults], sizeof(s->commands[0]), "%s", r->command);
	s->results[s->nresults++] = *r;
}

static void on_tick(void *ctx, const struct batch_counts *c, int final)
{
	struct seen *s = ctx;
	s->ticks++;
	s->finals += final;
	if (final) {
		assert_int_equal(c->running, 0);
		assert_int_equal(c->finished + c->skipped, c->ncmds);
	}
}

/* Run the commands of INPUT on JOBS slots with OPTS' other fields, seeing it in S. */
static void run_batch(const char *input, struct batch_opts *opts, struct seen *s, struct batch *b)
{
	struct batch_hooks hooks = {.ctx = s,
	                            .output_begin = on_begin,
	                            .output = on_output,
	                            .output_end = on_end,
	                            .finished = on_finished,
	                            .tick = on_tick};
	memset(s, 0, sizeof(*s));
	opts->tmp_dir = "/tmp";
	batch_init(b, opts, &hooks);
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	assert_non_null(in);
	assert_int_equal(batch_read(b, in), 0);
	fclose(in);
	size_t bad = 0;
	if (opts->joblog != NULL)
		assert_int_equal(batch_joblog_open(b, &bad), 0);
	const char *what = NULL;
	assert_int_equal(batch_setup(b, &what), 0);
	batch_run(b);
}

/* The result for the command on input line SEQ. */
static const struct batch_result *result_of(const struct seen *s, size_t seq)
{
	for (size_t i = 0; i < s->nresults; i++)
		if (s->results[i].seq == seq)
			return &s->results[i];
	fail_msg("no result for seq %zu", seq);
	return NULL;
}

static void test_three_on_two_slots(void **state)
{
	(void)state;
	char joblog[] = "/tmp/test_batch.XXXXXX";
	int fd = mkstemp(joblog);
	assert_true(fd >= 0);
	close(fd);
	struct batch_opts opts = {.jobs = 2, .progress = 1, .joblog = joblog};
	struct seen s;
	struct batch b;
	run_batch("true\n\nfalse\necho hi; echo oops >&2\n", &opts, &s, &b);

	assert_int_equal(b.ncmds, 3);
	assert_int_equal(b.finished, 3);
	assert_int_equal(b.failed, 1);
	assert_int_equal(b.skipped, 0);
	assert_int_equal(b.stop_sig, 0);
	assert_int_equal(s.nresults, 3);
	assert_int_equal(result_of(&s, 1)->exitval, 0);
	assert_int_equal(result_of(&s, 3)->exitval, 1); /* Seq counts the blank line */
	assert_int_equal(result_of(&s, 4)->exitval, 0);
	assert_int_equal(result_of(&s, 4)->signal, 0);
	assert_int_equal(s.begins, 3);
	assert_int_equal(s.ends, 3);
	assert_non_null(strstr(s.out, "0:echo hi; echo oops >&2:hi\n"));
	assert_non_null(strstr(s.out, "1:echo hi; echo oops >&2:oops\n"));
	assert_true(s.ticks >= 2);
	assert_int_equal(s.finals, 1);
	batch_free(&b);

	/* The joblog: the header, then one line per command with its Seq and Exitval. */
	FILE *f = fopen(joblog, "r");
	assert_non_null(f);
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, JOBLOG_HEADER);
	int seen_seq[5] = {0};
	for (int i = 0; i < 3; i++) {
		assert_non_null(fgets(line, sizeof(line), f));
		line[strcspn(line, "\n")] = '\0';
		struct joblog_entry e;
		assert_int_equal(joblog_parse_line(line, &e), 0);
		assert_true(e.seq == 1 || e.seq == 3 || e.seq == 4);
		seen_seq[e.seq]++;
		assert_int_equal(e.exitval, e.seq == 3 ? 1 : 0);
		assert_string_equal(e.command, e.seq == 1   ? "true"
		                               : e.seq == 3 ? "false"
		                                            : "echo hi; echo oops >&2");
	}
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(seen_seq[1] + seen_seq[3] + seen_seq[4], 3);

	/* --resume runs only what failed, and appends without a second header. */
	opts = (struct batch_opts){.jobs = 2, .resume = 1, .joblog = joblog};
	run_batch("true\n\nfalse\necho hi; echo oops >&2\n", &opts, &s, &b);
	assert_int_equal(b.skipped, 2);
	assert_int_equal(b.finished, 1);
	assert_int_equal(s.nresults, 1);
	assert_string_equal(s.commands[0], "false");
	assert_int_equal(s.ticks, 0); /* no progress asked */
	batch_free(&b);
	f = fopen(joblog, "r");
	int lines = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	fclose(f);
	assert_int_equal(lines, 5);
	unlink(joblog);
}

static void test_keep_order(void **state)
{
	(void)state;
	struct batch_opts opts = {.jobs = 2, .keep_order = 1};
	struct seen s;
	struct batch b;
	run_batch("sleep 0.3; echo a\necho b\n", &opts, &s, &b);
	assert_int_equal(b.failed, 0);
	assert_string_equal(s.out, "0:sleep 0.3; echo a:a\n0:echo b:b\n");
	/* without --keep-order the fast one comes first */
	opts = (struct batch_opts){.jobs = 2};
	batch_free(&b);
	run_batch("sleep 0.3; echo a\necho b\n", &opts, &s, &b);
	assert_string_equal(s.out, "0:echo b:b\n0:sleep 0.3; echo a:a\n");
	batch_free(&b);
}

static void test_timeout(void **state)
{
	(void)state;
	struct batch_opts opts = {.jobs = 1, .timeout = 0.2};
	struct seen s;
	struct batch b;
	run_batch("sleep 5\n", &opts, &s, &b);
	assert_int_equal(b.failed, 1);
	assert_int_equal(s.nresults, 1);
	assert_int_equal(s.results[0].exitval, -1);
	assert_int_equal(s.results[0].signal, 15);
	assert_true(s.results[0].runtime < 2.0);
	batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_on_two_slots),
	    cmocka_unit_test(test_keep_order),
	    cmocka_unit_test(test_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
