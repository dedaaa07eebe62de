/* progress: progress line, JSON events and the statistics summary (see progress.h). */
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

/* Length of the valid UTF-8 sequence at S, or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n;
	unsigned int cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const unsigned int min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void progress_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	putc('"', out);
	while (*s) {
		unsigned char ch = *s;
		if (ch == '"' || ch == '\\') {
			putc('\\', out);
			putc(ch, out);
			s++;
		} else if (ch == '\n') {
			fputs("\\n", out);
			s++;
		} else if (ch == '\t') {
			fputs("\\t", out);
			s++;
		} else if (ch == '\r') {
			fputs("\\r", out);
			s++;
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(out, "\\u%04x", ch);
			s++;
		} else {
			int n = utf8_len(s);
			if (n == 0) {
				fprintf(out, "\\u%04x", ch); /* a raw byte that is not UTF-8 */
				s++;
			} else {
				fwrite(s, 1, (size_t)n, out);
				s += n;
			}
		}
	}
	putc('"', out);
}

void progress_json_event(FILE *out, const char *event, const char *path, uint64_t bytes,
                         const char *hash, const char *what, const char *error)
{
	fputs("{\"event\":", out);
	progress_json_string(out, event);
	fputs(",\"path\":", out);
	progress_json_string(out, path);
	fprintf(out, ",\"bytes\":%llu", (unsigned long long)bytes);
	if (hash != NULL) {
		fputs(",\"hash\":", out);
		progress_json_string(out, hash);
	}
	if (what != NULL) {
		fputs(",\"what\":", out);
		progress_json_string(out, what);
	}
	if (error != NULL) {
		fputs(",\"error\":", out);
		progress_json_string(out, error);
	}
	fputs("}\n", out);
}

void progress_json_summary(FILE *out, const struct stats *st, int exit_status)
{
	fprintf(out,
	        "{\"event\":\"summary\",\"files\":%llu,\"directories\":%llu,\"bytes\":%llu,"
	        "\"copied\":%llu,\"skipped\":%llu,\"failed\":%llu,\"deleted\":%llu,"
	        "\"warnings\":%llu,\"different\":%llu,\"bytes_copied\":%llu,\"seconds\":%.3f,"
	        "\"exit\":%d}\n",
	        (unsigned long long)st->files, (unsigned long long)st->dirs,
	        (unsigned long long)st->bytes_total, (unsigned long long)st->copied,
	        (unsigned long long)st->skipped, (unsigned long long)st->failed,
	        (unsigned long long)st->deleted, (unsigned long long)st->warnings,
	        (unsigned long long)st->different, (unsigned long long)st->bytes_copied,
	        st->seconds, exit_status);
}

void progress_stats(FILE *out, const struct stats *st)
{
	char rate[32];
	double secs = st->seconds > 0 ? st->seconds : 0;
	progress_bytes(rate, sizeof(rate), secs > 0 ? (double)st->bytes_copied / secs : 0);
	fprintf(out,
	        "files: %llu\ndirectories: %llu\ncopied: %llu\nskipped: %llu\nfailed: %llu\n"
	        "deleted: %llu\ndifferent: %llu\nbytes: %llu\nbytes copied: %llu\nseconds: %.3f\n"
	        "throughput: %s/s\n",
	        (unsigned long long)st->files, (unsigned long long)st->dirs,
	        (unsigned long long)st->copied, (unsigned long long)st->skipped,
	        (unsigned long long)st->failed, (unsigned long long)st->deleted,
	        (unsigned long long)st->different, (unsigned long long)st->bytes_total,
	        (unsigned long long)st->bytes_copied, secs, rate);
}
