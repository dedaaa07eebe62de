/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/batch/joblog.c: parsing lines, reading a joblog, writing lines, Seq lookup. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch/joblog.h"

/* Parse a copy of LINE; returns joblog_parse_line's result, E as parsed, BUF holding it. */
static int parse(const char *line, struct joblog_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", line);
	return joblog_parse_line(buf, e);
}

static void test_parse_line(void **state)
{
	(void)state;
	struct joblog_entry e;
	char buf[256];
	assert_int_equal(
	    parse("3\t:\t1700000000.123\t 0.500\t0\t12\t0\t0\techo a\tb", &e, buf, sizeof(buf)), 0);
	assert_int_equal(e.seq, 3);
	assert_int_equal(e.exitval, 0);
	assert_int_equal(e.signal, 0);
	assert_string_equal(e.command, "echo a\tb");
	assert_true(joblog_succeeded(&e));

	assert_int_equal(parse("7\thost\tx\ty\t0\t0\t-1\t15\tsleep 9", &e, buf, sizeof(buf)), 0);
	assert_int_equal(e.seq, 7);
	assert_int_equal(e.exitval, -1);
	assert_int_equal(e.signal, 15);
	assert_false(joblog_succeeded(&e));
	assert_int_equal(parse("2\t:\t0\t0\t0\t0\t3\t0\t", &e, buf, sizeof(buf)), 0);
	assert_string_equal(e.command, "");
	assert_false(joblog_succeeded(&e));
}

static void test_parse_malformed(void **state)
{
	(void)state;
	struct joblog_entry e;
	char buf[256];
	const char *bad[] = {
	    "",
	    "1\t:\tjunk",
	    "1\t:\t0\t0\t0\t0\t0\t0",    /* no tab before Command */
	    "0\t:\t0\t0\t0\t0\t0\t0\tx", /* Seq counts from 1 */
	    "-2\t:\t0\t0\t0\t0\t0\t0\tx",
	    "x\t:\t0\t0\t0\t0\t0\t0\tx",
	    "1x\t:\t0\t0\t0\t0\t0\t0\tx",
	    "1\t:\t0\t0\t0\t0\t\t0\tx", /* empty Exitval */
	    "1\t:\t0\t0\t0\t0\t0\ts\tx",
	    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &e, buf, sizeof(buf)), -1);
}

/* joblog_read callback: append SEQ to the list in CTX. */
struct seqs {
	size_t seq[16];
	size_t n;
};

static void collect(void *ctx, size_t seq)
{
	struct seqs *s = ctx;
	if (s->n < 16)
		s->seq[s->n++] = seq;
}

/* joblog_read over TEXT: the result, the successes in S, the bad line in *BAD. */
static long read_text(const char *text, struct seqs *s, size_t *bad)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	memset(s, 0, sizeof(*s));
	*bad = 0;
	long n = joblog_read(f, collect, s, bad);
	fclose(f);
	return n;
}

static void test_read(void **state)
{
	(void)state;
	struct seqs s;
	size_t bad;
	assert_int_equal(read_text(JOBLOG_HEADER "1\t:\t0\t0\t0\t0\t0\t0\ta\n"
	                                         "2\t:\t0\t0\t0\t0\t1\t0\tb\n"
	                                         "4\t:\t0\t0\t0\t0\t0\t0\tc",
	                           &s, &bad),
	                 4);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 1);
	assert_int_equal(s.seq[1], 4);
	/* No header: the first line is data too. */
	assert_int_equal(read_text("5\t:\t0\t0\t0\t0\t0\t0\te\n", &s, &bad), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(read_text("", &s, &bad), 0);
	/* A header anywhere but the first line is malformed. */
	assert_int_equal(read_text("1\t:\t0\t0\t0\t0\t0\t0\ta\n" JOBLOG_HEADER, &s, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(read_text(JOBLOG_HEADER "1\t:\tjunk\n", &s, &bad), -1);
	assert_int_equal(bad, 2);
}

static void test_write(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct joblog_entry e = {.seq = 12,
	                         .start = 1700000000.5,
	                         .runtime = 0.25,
	                         .receive = 42,
	                         .exitval = -1,
	                         .signal = 9,
	                         .command = "sleep 1\tx"};
	assert_int_equal(joblog_write(f, &e), 0);
	fclose(f);
	assert_string_equal(buf, "12\t:\t1700000000.500\t     0.250\t0\t42\t-1\t9\tsleep 1\tx\n");
	/* What is written reads back. */
	buf[strlen(buf) - 1] = '\0';
	struct joblog_entry back;
	assert_int_equal(joblog_parse_line(buf, &back), 0);
	assert_int_equal(back.seq, 12);
	assert_int_equal(back.exitval, -1);
	assert_int_equal(back.signal, 9);
	assert_string_equal(back.command, "sleep 1\tx");
	free(buf);
}

static void test_seq_index(void **state)
{
	(void)state;
	const size_t seqs[] = {1, 2, 4, 7, 8};
	assert_int_equal(joblog_seq_index(seqs, 5, 1), 0);
	assert_int_equal(joblog_seq_index(seqs, 5, 4), 2);
	assert_int_equal(joblog_seq_index(seqs, 5, 8), 4);
	assert_int_equal(joblog_seq_index(seqs, 5, 3), 5);
	assert_int_equal(joblog_seq_index(seqs, 5, 9), 5);
	assert_int_equal(joblog_seq_index(seqs, 0, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_line), cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_read),       cmocka_unit_test(test_write),
	    cmocka_unit_test(test_seq_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
