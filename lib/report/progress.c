/* SPDX-License-Identifier: BSD-2-Clause */
/* progress: the progress line (see progress.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "report/progress.h"

void progress_bytes(char *buf, size_t len, double bytes)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	int u = 0;
	while (bytes >= 1000.0 && u < 5) {
		bytes /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", bytes, units[u]);
	else
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

/* "H:MM:SS" or "M:SS", or "-:--" when unknown. */
static void eta_text(char *buf, size_t len, double seconds)
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

size_t progress_line(char *buf, size_t len, const struct stats *st, double *shown)
{
	double pct;
	if (st->bytes_total > 0)
		pct = 100.0 * (double)st->bytes_done / (double)st->bytes_total;
	else
		pct = st->files ? 100.0 * (double)st->done / (double)st->files
		                : (st->scanning ? 0 : 100);
	if (pct > 100.0)
		pct = 100.0;
	if (shown != NULL) {
		if (pct < *shown)
			pct = *shown;
		*shown = pct;
	}
	double rate = st->seconds > 0 ? (double)st->bytes_done / st->seconds : 0;
	char rate_s[32], eta_s[32];
	progress_bytes(rate_s, sizeof(rate_s), rate);
	if (st->scanning || rate <= 0)
		eta_text(eta_s, sizeof(eta_s), -1);
	else
		eta_text(eta_s, sizeof(eta_s), (double)(st->bytes_total - st->bytes_done) / rate);
	int n = snprintf(buf, len, "%5.1f%%  %llu/%llu%s files  %s/s  ETA %s", pct,
	                 (unsigned long long)st->done, (unsigned long long)st->files,
	                 st->scanning ? "+" : "", rate_s, eta_s);
	if (n < 0)
		n = 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}
