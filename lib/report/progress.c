/* SPDX-License-Identifier: BSD-2-Clause */
/* progress: the progress line and the summary line (see progress.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "report/progress.h"

/* ---- units ------------------------------------------------------------------------------ */

static void scaled(char *buf, size_t len, double bytes, double base, const char *const *units)
{
	int u = 0;
	/* past the first unit, what would round up to BASE goes to the next one */
	while (bytes >= (u == 0 ? base : base - 0.05) && u < 5) {
		bytes /= base;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", bytes, units[u]);
	else
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

void progress_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	scaled(buf, len, bytes, 1000.0, units);
}

void progress_iec(char *buf, size_t len, double bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	scaled(buf, len, bytes, 1024.0, units);
}

void progress_time(char *buf, size_t len, double seconds)
{
	if (!(seconds >= 0) || seconds > 99 * 3600.0) {
		snprintf(buf, len, "-:--");
		return;
	}
	unsigned long s = (unsigned long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

/* ---- the rate over a window ------------------------------------------------------------- */

void progress_rate_init(struct progress_rate *r, double span)
{
	memset(r, 0, sizeof(*r));
	r->span = span;
	r->start_t = -1;
}

void progress_rate_add(struct progress_rate *r, double seconds, double value)
{
	if (r->start_t < 0)
		r->start_t = seconds;
	r->last_t = seconds;
	r->last_v = value;
	/* Samples are kept at least a fraction of the window apart, so the ring covers it. */
	size_t newest = (r->first + r->n - 1) % PROGRESS_SAMPLES;
	if (r->n == 0 || seconds - r->t[newest] >= r->span / (PROGRESS_SAMPLES - 4)) {
		if (r->n == PROGRESS_SAMPLES) {
			r->first = (r->first + 1) % PROGRESS_SAMPLES;
			r->n--;
		}
		size_t at = (r->first + r->n) % PROGRESS_SAMPLES;
		r->t[at] = seconds;
		r->v[at] = value;
		r->n++;
	}
	/* Drop what is older than the window, keeping one sample at or before its start. */
	while (r->n >= 2 && r->t[(r->first + 1) % PROGRESS_SAMPLES] <= seconds - r->span) {
		r->first = (r->first + 1) % PROGRESS_SAMPLES;
		r->n--;
	}
}

double progress_rate_get(const struct progress_rate *r)
{
	if (r->n == 0 || r->last_t - r->start_t < 1.0)
		return -1;
	double dt = r->last_t - r->t[r->first];
	if (dt <= 0)
		return -1;
	double dv = r->last_v - r->v[r->first];
	return dv > 0 ? dv / dt : 0;
}

/* ---- fields that fit a width ------------------------------------------------------------ */

#define FIELD_MAX 112

/*
 * Join the NF non-empty FIELDS with two spaces into BUF, dropping them whole in DROP's order
 * (NF indexes) while the text is wider than WIDTH (0: no limit); what still does not fit is
 * cut at WIDTH. Returns the length.
 */
static size_t fit(char *buf, size_t len, char fields[][FIELD_MAX], size_t nf, const int *drop,
                  size_t width)
{
	int present[8];
	size_t total = 0, count = 0;
	for (size_t i = 0; i < nf; i++) {
		present[i] = fields[i][0] != '\0';
		if (present[i]) {
			total += strlen(fields[i]) + (count ? 2 : 0);
			count++;
		}
	}
	for (size_t k = 0; width > 0 && total > width && k + 1 < nf; k++) {
		int d = drop[k];
		if (!present[d])
			continue;
		present[d] = 0;
		count--;
		total -= strlen(fields[d]) + (count ? 2 : 0);
	}
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0, shown = 0; i < nf; i++) {
		if (!present[i])
			continue;
		int n = snprintf(buf + at, len - at, "%s%s", shown++ ? "  " : "", fields[i]);
		if (n < 0)
			break;
		at += (size_t)n < len - at ? (size_t)n : len - at - 1;
	}
	if (width > 0 && at > width)
		at = width;
	buf[at] = '\0';
	return at;
}

/* ---- pcopy's line ----------------------------------------------------------------------- */

void progress_init(struct progress *p)
{
	progress_rate_init(&p->bytes, PROGRESS_WINDOW);
	progress_rate_init(&p->files, PROGRESS_WINDOW);
}

void progress_update(struct progress *p, const struct stats *st)
{
	progress_rate_add(&p->bytes, st->seconds, (double)st->bytes_done);
	progress_rate_add(&p->files, st->seconds, (double)st->done);
}

double progress_rate(const struct progress *p)
{
	return progress_rate_get(&p->bytes);
}

double progress_eta(const struct progress *p, const struct stats *st)
{
	double bytes = progress_rate_get(&p->bytes), files = progress_rate_get(&p->files);
	if (st->bytes_total > st->bytes_done && bytes > 0)
		return (double)(st->bytes_total - st->bytes_done) / bytes;
	if (st->files > st->done && files > 0)
		return (double)(st->files - st->done) / files;
	if (st->files <= st->done && bytes >= 0)
		return 0;
	return -1;
}

size_t progress_line(char *buf, size_t len, const struct progress *p, const struct stats *st,
                     size_t width)
{
	double pct;
	if (st->bytes_total > 0)
		pct = 100.0 * (double)st->bytes_done / (double)st->bytes_total;
	else
		pct = st->files ? 100.0 * (double)st->done / (double)st->files
		                : (st->scanning ? 0 : 100);
	if (pct > 100.0)
		pct = 100.0;

	enum { PCT, BYTES, FILES, RATE, ETA, NFIELDS };
	char f[NFIELDS][FIELD_MAX];
	const char *more = st->scanning ? "+" : "";
	char done[32], total[32];
	progress_iec(done, sizeof(done), (double)st->bytes_done);
	progress_iec(total, sizeof(total), (double)st->bytes_total);
	char *space = strchr(total, ' '); /* the "+" goes after the number: "3.4+ GiB" */
	snprintf(f[PCT], FIELD_MAX, "%5.1f%%", pct);
	snprintf(f[BYTES], FIELD_MAX, "%s / %.*s%s%s", done, (int)(space - total), total, more,
	         space);
	snprintf(f[FILES], FIELD_MAX, "%llu/%llu%s files", (unsigned long long)st->done,
	         (unsigned long long)st->files, more);
	f[RATE][0] = f[ETA][0] = '\0';
	double rate = progress_rate(p);
	if (rate >= 0) {
		char r[32];
		progress_iec(r, sizeof(r), rate);
		snprintf(f[RATE], FIELD_MAX, "%s/s", r);
	}
	double eta = progress_eta(p, st);
	if (eta >= 0) {
		char t[32];
		progress_time(t, sizeof(t), eta);
		snprintf(f[ETA], FIELD_MAX, "ETA %s", t);
	}
	static const int drop[] = {FILES, BYTES, RATE, ETA};
	return fit(buf, len, f, NFIELDS, drop, width);
}

/* ---- the summary ------------------------------------------------------------------------ */

/* Append PART to BUF (AT its length) after ", ", or ",\n" when the line would pass WIDTH;
 * *COL is the current line's length. */
static void append(char *buf, size_t len, size_t *at, size_t *col, const char *part, size_t width)
{
	size_t n = strlen(part);
	const char *sep = "";
	if (*at > 0) {
		sep = width > 0 && *col + 2 + n > width ? ",\n" : ", ";
		if (sep[1] == '\n')
			*col = 0;
		else
			*col += 2;
	}
	int w = snprintf(buf + *at, len - *at, "%s%s", sep, part);
	if (w > 0)
		*at += (size_t)w < len - *at ? (size_t)w : len - *at - 1;
	*col += n;
}

/* A summary line being built in BUF (LEN bytes) for WIDTH columns: AT bytes, COL columns. */
struct summary {
	char *buf;
	size_t len, at, col, width;
};

/* One count of a summary line: "N WHAT", left out when N is 0 (unless KEEP). */
struct summary_count {
	uint64_t n;
	const char *what;
	int keep;
};

/* A summary's start: "done: N NOUNs", then "BYTES in TIME (RATE/s)". */
static void summary_head(struct summary *m, uint64_t n, const char *noun, uint64_t bytes,
                         double seconds)
{
	char part[FIELD_MAX], size[32], rate[32], time[32];
	m->buf[0] = '\0';
	snprintf(part, sizeof(part), "done: %llu %s%s", (unsigned long long)n, noun,
	         n == 1 ? "" : "s");
	append(m->buf, m->len, &m->at, &m->col, part, m->width);
	double secs = seconds > 0 ? seconds : 0;
	progress_iec(size, sizeof(size), (double)bytes);
	progress_iec(rate, sizeof(rate), secs > 0 ? (double)bytes / secs : 0);
	progress_time(time, sizeof(time), secs);
	snprintf(part, sizeof(part), "%s in %s (%s/s)", size, time, rate);
	append(m->buf, m->len, &m->at, &m->col, part, m->width);
}

/* The N COUNTS of a summary, in order. Returns the line's length. */
static size_t summary_counts(struct summary *m, const struct summary_count *counts, size_t n)
{
	char part[FIELD_MAX];
	for (size_t i = 0; i < n; i++) {
		if (counts[i].n == 0 && !counts[i].keep)
			continue;
		snprintf(part, sizeof(part), "%llu %s", (unsigned long long)counts[i].n,
		         counts[i].what);
		append(m->buf, m->len, &m->at, &m->col, part, m->width);
	}
	return m->at;
}

size_t progress_summary(char *buf, size_t len, const struct stats *st, size_t width)
{
	struct summary m = {buf, len, 0, 0, width};
	summary_head(&m, st->files, "file", st->bytes_done, st->seconds);
	const struct summary_count counts[] = {{st->skipped, "up to date", 0},
	                                       {st->deleted, "deleted", 0},
	                                       {st->different, "different", 0},
	                                       {st->failed, "failed", 1}};
	return summary_counts(&m, counts, sizeof(counts) / sizeof(counts[0]));
}

size_t progress_verify_summary(char *buf, size_t len, const struct verify_counts *c, double seconds,
                               size_t width)
{
	struct summary m = {buf, len, 0, 0, width};
	summary_head(&m, c->names, "name", c->bytes, seconds);
	const struct summary_count counts[] = {
	    {c->verified, "verified", 1},     {c->changed, "changed", 0},
	    {c->missing, "missing", 0},       {c->not_regular, "not regular", 0},
	    {c->unreadable, "unreadable", 0}, {c->unlisted, "unlisted", 0}};
	return summary_counts(&m, counts, sizeof(counts) / sizeof(counts[0]));
}

/* ---- pbatch's line ---------------------------------------------------------------------- */

size_t progress_batch_line(char *buf, size_t len, struct progress_rate *jobs, size_t done,
                           size_t total, size_t running, size_t failed, double seconds,
                           size_t width)
{
	progress_rate_add(jobs, seconds, (double)done);
	enum { PCT, DONE, RUNNING, FAILED, RATE, ETA, NFIELDS };
	char f[NFIELDS][FIELD_MAX];
	snprintf(f[PCT], FIELD_MAX, "%u%%", total ? (unsigned)(done * 100 / total) : 100);
	snprintf(f[DONE], FIELD_MAX, "%zu/%zu done", done, total);
	snprintf(f[RUNNING], FIELD_MAX, "%zu running", running);
	snprintf(f[FAILED], FIELD_MAX, "%zu failed", failed);
	f[RATE][0] = f[ETA][0] = '\0';
	double rate = progress_rate_get(jobs);
	if (rate == 0 && done > 0 && seconds > 0)
		rate = (double)done / seconds; /* no job ended in the window: the run's average */
	if (rate >= 0) {
		snprintf(f[RATE], FIELD_MAX, rate < 10 ? "%.2f jobs/s" : "%.1f jobs/s", rate);
		if (rate > 0 || done >= total) {
			char t[32];
			progress_time(t, sizeof(t), rate > 0 ? (double)(total - done) / rate : 0);
			snprintf(f[ETA], FIELD_MAX, "ETA %s", t);
		}
	}
	static const int drop[] = {RUNNING, FAILED, RATE, DONE, ETA};
	return fit(buf, len, f, NFIELDS, drop, width);
}

size_t progress_batch_summary(char *buf, size_t len, size_t finished, size_t skipped, size_t failed,
                              double seconds, size_t width)
{
	char part[FIELD_MAX], time[32];
	size_t at = 0, col = 0;
	buf[0] = '\0';
	snprintf(part, sizeof(part), "done: %zu job%s", finished, finished == 1 ? "" : "s");
	append(buf, len, &at, &col, part, width);
	progress_time(time, sizeof(time), seconds);
	double rate = seconds > 0 ? (double)finished / seconds : 0;
	snprintf(part, sizeof(part), rate < 10 ? "in %s (%.2f jobs/s)" : "in %s (%.1f jobs/s)",
	         time, rate);
	/* "done: N jobs in T (R jobs/s)": one part, joined by a space */
	size_t n = strlen(part);
	if (width > 0 && col + 1 + n > width) {
		snprintf(buf + at, len - at, "\n%s", part);
		col = n;
	} else {
		snprintf(buf + at, len - at, " %s", part);
		col += 1 + n;
	}
	at = strlen(buf);
	if (skipped > 0) {
		snprintf(part, sizeof(part), "%zu skipped", skipped);
		append(buf, len, &at, &col, part, width);
	}
	snprintf(part, sizeof(part), "%zu failed", failed);
	append(buf, len, &at, &col, part, width);
	return at;
}
