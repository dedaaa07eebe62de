/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: GNU parallel joblogs as pbatch --resume reads them (lib/batch/joblog.c).
 *
 * The input is a joblog. joblog_read must agree with a plain model of it (the header is
 * skipped on the first line only, reading stops at the first malformed line, each line
 * recording a success is reported, in order). Each line that joblog_parse_line accepts must
 * read back the same after joblog_write writes it, and every Seq reported must be found by
 * joblog_seq_index among the others.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "batch/joblog.h"

/* The Seqs joblog_read reported. */
struct seqs {
	size_t *seq;
	size_t n, cap;
};

static void collect(void *ctx, size_t seq)
{
	struct seqs *s = ctx;
	FUZZ_CHECK(seq >= 1 && s->n < s->cap);
	s->seq[s->n++] = seq;
}

/* joblog_write E, then parse what was written: the same line must come back. */
static void check_round_trip(const struct joblog_entry *e)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	FUZZ_CHECK(f != NULL);
	struct joblog_entry w = *e;
	w.start = (double)e->seq * 1.5; /* any values: they are written, never read */
	w.runtime = (double)e->exitval / 8;
	w.receive = e->signal;
	FUZZ_CHECK(joblog_write(f, &w) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(len > 0 && out[len - 1] == '\n' && memchr(out, '\n', len) == out + len - 1);
	out[len - 1] = '\0';
	struct joblog_entry back;
	FUZZ_CHECK(joblog_parse_line(out, &back) == 0);
	FUZZ_CHECK(back.seq == e->seq && back.exitval == e->exitval && back.signal == e->signal);
	FUZZ_CHECK(strcmp(back.command, e->command) == 0);
	FUZZ_CHECK(joblog_succeeded(&back) == joblog_succeeded(e));
	free(out);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* joblog_seq_index finds each of the N SEQS (sorted here, duplicates dropped). */
static void check_seq_index(size_t *seqs, size_t n)
{
	qsort(seqs, n, sizeof(*seqs), cmp_size);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || seqs[u - 1] != seqs[i])
			seqs[u++] = seqs[i];
	for (size_t i = 0; i < u; i++) {
		FUZZ_CHECK(joblog_seq_index(seqs, u, seqs[i]) == i);
		if (seqs[i] + 1 != 0 && (i + 1 == u || seqs[i + 1] != seqs[i] + 1))
			FUZZ_CHECK(joblog_seq_index(seqs, u, seqs[i] + 1) == u);
	}
	FUZZ_CHECK(joblog_seq_index(seqs, u, 0) == u);
}

/* The model: what joblog_read should report for TEXT (SIZE bytes; it is cut up). */
static long model_read(char *text, size_t size, struct seqs *done, size_t *bad_line)
{
	size_t lineno = 0;
	for (size_t at = 0; at < size;) {
		char *line = text + at;
		char *nl = memchr(line, '\n', size - at);
		size_t len = nl != NULL ? (size_t)(nl - line) + 1 : size - at;
		at += len;
		lineno++;
		if (nl != NULL)
			*nl = '\0';
		if (lineno == 1 && strncmp(line, "Seq\t", 4) == 0)
			continue;
		char *copy = strdup(line);
		FUZZ_CHECK(copy != NULL);
		struct joblog_entry e;
		int rc = joblog_parse_line(copy, &e);
		if (rc == 0)
			check_round_trip(&e);
		free(copy);
		if (rc != 0) {
			*bad_line = lineno;
			return -1;
		}
		if (joblog_succeeded(&e))
			collect(done, e.seq);
	}
	return (long)lineno;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct seqs got = {calloc(size, sizeof(size_t)), 0, size};
	struct seqs want = {calloc(size, sizeof(size_t)), 0, size};
	FUZZ_CHECK(got.seq != NULL && want.seq != NULL);

	FILE *f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f != NULL);
	size_t bad = 0, want_bad = 0;
	long n = joblog_read(f, collect, &got, &bad);
	fclose(f);

	char *text = fuzz_copy(data, size);
	long want_n = model_read(text, size, &want, &want_bad);
	FUZZ_CHECK(n == want_n && bad == want_bad && got.n == want.n);
	FUZZ_CHECK(memcmp(got.seq, want.seq, got.n * sizeof(size_t)) == 0);
	check_seq_index(got.seq, got.n);
	free(text);
	free(got.seq);
	free(want.seq);
	return 0;
}
