/* SPDX-License-Identifier: BSD-2-Clause */
/* json: --json lines (see json.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "report/json.h"

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

/* The characters of STR escaped for a JSON string, without the quotes. */
static void escape(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
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
}

void json_string(FILE *out, const char *s)
{
	putc('"', out);
	escape(out, s);
	putc('"', out);
}

const char *json_type(unsigned mode, int hardlink)
{
	if (hardlink)
		return "hardlink";
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFIFO: return "fifo";
	case S_IFBLK:
	case S_IFCHR: return "device";
	case S_IFSOCK: return "socket";
	}
	return NULL;
}

void json_event(FILE *out, const char *event, const char *path, const char *type, uint64_t bytes,
                const struct hash128 *hash, const char *what, const char *error, int err)
{
	fputs("{\"event\":", out);
	json_string(out, event);
	fputs(",\"path\":", out);
	json_string(out, path);
	if (type != NULL) {
		fputs(",\"type\":", out);
		json_string(out, type);
	}
	fprintf(out, ",\"bytes\":%llu", (unsigned long long)bytes);
	if (hash != NULL) {
		char hex[HASH_HEX_LEN + 1];
		hash_hex(*hash, hex);
		fputs(",\"hash\":", out);
		json_string(out, hex);
	}
	if (what != NULL) {
		fputs(",\"what\":", out);
		json_string(out, what);
	}
	if (error != NULL) {
		fputs(",\"error\":\"", out);
		escape(out, error);
		if (err != 0) {
			fputs(": ", out);
			escape(out, strerror(err));
		}
		putc('"', out);
	}
	fputs("}\n", out);
}

void json_summary(FILE *out, const struct stats *st, int exit_status)
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

/* A number, or null when negative. */
static void number_or_null(FILE *out, const char *name, double v, int decimals)
{
	fprintf(out, ",\"%s\":", name);
	if (v < 0)
		fputs("null", out);
	else
		fprintf(out, "%.*f", decimals, v);
}

void json_progress(FILE *out, const struct stats *st, double rate, double eta)
{
	fprintf(out,
	        "{\"event\":\"progress\",\"files_done\":%llu,\"files_total\":%llu,"
	        "\"bytes_done\":%llu,\"bytes_total\":%llu",
	        (unsigned long long)st->done, (unsigned long long)st->files,
	        (unsigned long long)st->bytes_done, (unsigned long long)st->bytes_total);
	number_or_null(out, "rate", rate, 0);
	number_or_null(out, "eta", eta, 1);
	fprintf(out, ",\"seconds\":%.3f,\"scanning\":%s}\n", st->seconds,
	        st->scanning ? "true" : "false");
}

void json_verify_summary(FILE *out, const struct verify_counts *c, double seconds, int exit_status)
{
	fprintf(out,
	        "{\"event\":\"summary\",\"names\":%llu,\"verified\":%llu,\"changed\":%llu,"
	        "\"missing\":%llu,\"not_regular\":%llu,\"unreadable\":%llu,\"unlisted\":%llu,"
	        "\"bytes\":%llu,\"seconds\":%.3f,\"exit\":%d}\n",
	        (unsigned long long)c->names, (unsigned long long)c->verified,
	        (unsigned long long)c->changed, (unsigned long long)c->missing,
	        (unsigned long long)c->not_regular, (unsigned long long)c->unreadable,
	        (unsigned long long)c->unlisted, (unsigned long long)c->bytes, seconds,
	        exit_status);
}

void json_job(FILE *out, size_t seq, const char *command, int exitval, int sig, double runtime)
{
	fprintf(out, "{\"event\":\"job\",\"seq\":%zu,\"command\":", seq);
	json_string(out, command);
	fprintf(out, ",\"exit\":%d,\"signal\":%d,\"runtime\":%.3f}\n", exitval, sig, runtime);
}

void json_batch_summary(FILE *out, size_t jobs, size_t failed, size_t skipped)
{
	fprintf(out, "{\"event\":\"summary\",\"jobs\":%zu,\"failed\":%zu,\"skipped\":%zu}\n", jobs,
	        failed, skipped);
}
