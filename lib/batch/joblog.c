/* SPDX-License-Identifier: BSD-2-Clause */
/* joblog: reading and writing GNU parallel format joblogs (see joblog.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "batch/joblog.h"

/* The fields before Command; Command is whatever follows the eighth tab. */
#define JOBLOG_FIELDS 8

/* A whole field that strtol reads as a number; 0, or -1 when it is not one. */
static int parse_long(const char *field, long *out)
{
	char *end;
	*out = strtol(field, &end, 10);
	return end == field || *end != '\0' ? -1 : 0;
}

int joblog_parse_line(char *line, struct joblog_entry *e)
{
	char *field[JOBLOG_FIELDS];
	char *p = line;
	for (int i = 0; i < JOBLOG_FIELDS; i++) {
		field[i] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			return -1;
		*p++ = '\0';
	}
	long seq;
	memset(e, 0, sizeof(*e));
	if (parse_long(field[0], &seq) != 0 || seq < 1 || parse_long(field[6], &e->exitval) != 0 ||
	    parse_long(field[7], &e->signal) != 0)
		return -1;
	e->seq = (size_t)seq;
	e->command = p;
	return 0;
}

int joblog_succeeded(const struct joblog_entry *e)
{
	return e->exitval == 0 && e->signal == 0;
}

long joblog_read(FILE *f, void (*done)(void *ctx, size_t seq), void *ctx, size_t *bad_line)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	long result = 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1 && strncmp(line, "Seq\t", 4) == 0)
			continue;
		struct joblog_entry e;
		if (joblog_parse_line(line, &e) != 0) {
			*bad_line = lineno;
			result = -1;
			break;
		}
		if (joblog_succeeded(&e))
			done(ctx, e.seq);
	}
	free(line);
	return result < 0 ? -1 : (long)lineno;
}

int joblog_write(FILE *out, const struct joblog_entry *e)
{
	int n = fprintf(out, "%zu\t:\t%.3f\t%10.3f\t0\t%lld\t%ld\t%ld\t%s\n", e->seq, e->start,
	                e->runtime, e->receive, e->exitval, e->signal, e->command);
	return n < 0 ? -1 : 0;
}

size_t joblog_seq_index(const size_t *seqs, size_t n, size_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seqs[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && seqs[lo] == seq ? lo : n;
}
