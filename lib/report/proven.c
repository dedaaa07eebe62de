/* SPDX-License-Identifier: BSD-2-Clause */
/* proven: a manifest's stat sidecar, read and saved (see proven.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/slurp.h"
#include "report/manifest.h"
#include "report/proven.h"

/* Parse "S.NNNNNNNNN" at *P into SEC and NSEC, moving *P past it. 0, or -1. */
static int parse_time(char **p, int64_t *sec, int32_t *nsec)
{
	char *end;
	errno = 0;
	long long s = strtoll(*p, &end, 10);
	if (errno != 0 || end == *p || *end != '.')
		return -1;
	char *ns = end + 1;
	unsigned long n = strtoul(ns, &end, 10);
	if (errno != 0 || end - ns != 9 || n > 999999999)
		return -1;
	*sec = s;
	*nsec = (int32_t)n;
	*p = end;
	return 0;
}

/* Parse one record line ("LINE DEV INO SIZE MTIME CTIME") into *R. 0, or -1. */
static int parse_record(char *s, struct proven_record *r)
{
	uint64_t v[4];
	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		if (*s < '0' || *s > '9')
			return -1;
		unsigned long long x = strtoull(s, &end, 10);
		if (errno != 0 || *end != ' ')
			return -1;
		v[i] = x;
		s = end + 1;
	}
	r->line = v[0];
	r->stamp.dev = v[1];
	r->stamp.ino = v[2];
	r->stamp.size = v[3];
	if (parse_time(&s, &r->stamp.mtime_sec, &r->stamp.mtime_nsec) != 0 || *s++ != ' ' ||
	    parse_time(&s, &r->stamp.ctime_sec, &r->stamp.ctime_nsec) != 0 || *s != '\0')
		return -1;
	return 0;
}

/* Split TEXT (LEN bytes) into its lines, NUL-terminated in place: *LINES (malloc'd) gets the
 * start of each, *N their count. A last line without its newline is malformed: -1; out of
 * memory: -2; else 0. */
static int split_lines(char *text, size_t len, char ***lines, size_t *n)
{
	size_t cap = 0;
	*lines = NULL;
	*n = 0;
	for (char *s = text, *end = text + len; s < end;) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			return -1;
		*nl = '\0';
		if (array_grow(lines, &cap, *n + 1, sizeof(**lines)) != 0)
			return -2;
		(*lines)[(*n)++] = s;
		s = nl + 1;
	}
	return 0;
}

/*
 * The manifest line LINE (NUL-terminated, in the table's memory) into *HASH and *PATH: its
 * path, unescaped over the line itself (never longer). Returns 0, -1 when malformed, -2 when
 * out of memory.
 */
static int unescape_line(char *line, struct hash128 *hash, const char **path)
{
	if (line[0] != '\\') { /* the common line: "HEX  PATH", nothing to unescape */
		if (strlen(line) < HASH_HEX_LEN + 3 || line[HASH_HEX_LEN] != ' ' ||
		    (line[HASH_HEX_LEN + 1] != ' ' && line[HASH_HEX_LEN + 1] != '*'))
			return -1;
		line[HASH_HEX_LEN] = '\0';
		*path = line + HASH_HEX_LEN + 2;
		return hash_parse(line, hash);
	}
	size_t room = strlen(line) + 1;
	char *buf = malloc(room);
	if (buf == NULL)
		return -2;
	int rc = manifest_parse_line(line, hash, buf, room);
	if (rc == 0)
		memcpy(line, buf, strlen(buf) + 1);
	free(buf);
	*path = line;
	return rc;
}

/*
 * Join the manifest's lines ML (NML of them) with the sidecar's record lines SL (NSL) into
 * P's table, each path unescaped in place over its own manifest line. Returns
 * PROVEN_LOADED, PROVEN_UNUSABLE (WHY set) or PROVEN_FAILED.
 */
static enum proven_result join(struct proven *p, char **ml, size_t nml, char **sl, size_t nsl,
                               const char *side, char *why, size_t len)
{
	p->files = nsl > 0 ? malloc(nsl * sizeof(*p->files)) : NULL;
	if (nsl > 0 && p->files == NULL)
		return PROVEN_FAILED;
	uint64_t last = 0;
	for (size_t i = 0; i < nsl; i++) {
		struct proven_record r;
		struct proven_file *f = &p->files[p->n];
		if (parse_record(sl[i], &r) != 0 || r.line <= last || r.line > nml) {
			snprintf(why, len, "its stat sidecar '%s' is corrupt (record %zu)", side,
			         i + 1);
			return PROVEN_UNUSABLE;
		}
		last = r.line;
		char *line = ml[r.line - 1];
		int bad = unescape_line(line, &f->hash, &f->path);
		if (bad == -2)
			return PROVEN_FAILED;
		if (bad != 0 || (p->n > 0 && strcmp(p->files[p->n - 1].path, f->path) >= 0)) {
			snprintf(why, len, "line %" PRIu64 " is not a sorted manifest line",
			         r.line);
			return PROVEN_UNUSABLE;
		}
		f->stamp = r.stamp;
		p->n++;
	}
	return PROVEN_LOADED;
}

/* proven_load once both files are read: MTEXT (MLEN bytes) and the sidecar STEXT. */
static enum proven_result load_texts(struct proven *p, char *mtext, size_t mlen, char *stext,
                                     size_t slen, const char *side, char *why, size_t len)
{
	char **ml = NULL, **sl = NULL;
	size_t nml = 0, nsl = 0;
	enum proven_result rc = PROVEN_UNUSABLE;
	char hex[HASH_HEX_LEN + 1];
	struct hash128 want;
	int version = 0, end = 0, bad = 0;
	if (sscanf(stext, PROVEN_MAGIC " %d %32[0-9a-f]%n", &version, hex, &end) != 2 ||
	    stext[end] != '\n' || hash_parse(hex, &want) != 0) {
		snprintf(why, len, "its stat sidecar '%s' is not one pcopy wrote", side);
	} else if (version != PROVEN_VERSION) {
		snprintf(why, len, "its stat sidecar '%s' has format %d, not %d", side, version,
		         PROVEN_VERSION);
	} else if (!hash_equal(want, hash_buffer(mtext, mlen))) {
		snprintf(why, len, "its stat sidecar '%s' is stale (the manifest changed since)",
		         side);
	} else if ((bad = split_lines(mtext, mlen, &ml, &nml)) != 0 ||
	           (bad = split_lines(stext + end + 1, slen - (size_t)end - 1, &sl, &nsl)) != 0) {
		if (bad == -2)
			rc = PROVEN_FAILED;
		else
			snprintf(why, len,
			         "its stat sidecar '%s' is corrupt (a line without its end)", side);
	} else {
		rc = join(p, ml, nml, sl, nsl, side, why, len);
	}
	free(ml);
	free(sl);
	return rc;
}

enum proven_result proven_load(struct proven *p, const char *manifest, char *why, size_t len)
{
	*p = (struct proven){NULL, 0, NULL};
	char *side = proven_sidecar(manifest), *stext = NULL;
	size_t mlen = 0, slen = 0;
	if (side == NULL)
		return PROVEN_FAILED;
	enum proven_result rc = PROVEN_UNUSABLE;
	if (slurp(AT_FDCWD, manifest, 0, &p->text, &mlen) != 0) {
		rc = errno == ENOMEM ? PROVEN_FAILED : PROVEN_UNUSABLE;
		snprintf(why, len, "cannot read the previous manifest: %s", strerror(errno));
	} else if (slurp(AT_FDCWD, side, 0, &stext, &slen) != 0) {
		rc = errno == ENOMEM ? PROVEN_FAILED : PROVEN_UNUSABLE;
		snprintf(why, len, "cannot read its stat sidecar '%s': %s", side, strerror(errno));
	} else {
		rc = load_texts(p, p->text, mlen, stext, slen, side, why, len);
	}
	int e = errno;
	free(stext);
	free(side);
	if (rc != PROVEN_LOADED)
		proven_free(p);
	errno = e;
	return rc;
}

const struct proven_file *proven_find(const struct proven *p, const char *prefix, const char *path)
{
	/* PREFIX + PATH against a table path, bytewise, without joining them: libc's
	 * comparisons are faster than a loop over both. */
	size_t plen = strlen(prefix), lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = p->files[mid].path;
		int c = strncmp(prefix, s, plen);
		if (c == 0)
			c = strcmp(path, s + plen);
		if (c == 0)
			return &p->files[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void proven_free(struct proven *p)
{
	free(p->files);
	free(p->text);
	*p = (struct proven){NULL, 0, NULL};
}

char *proven_sidecar(const char *manifest)
{
	size_t n = strlen(manifest);
	char *s = malloc(n + sizeof(PROVEN_SUFFIX));
	if (s != NULL) {
		memcpy(s, manifest, n);
		memcpy(s + n, PROVEN_SUFFIX, sizeof(PROVEN_SUFFIX));
	}
	return s;
}

/* Append the decimal V at P; returns the end. */
static char *put_dec(char *p, uint64_t v)
{
	char t[20];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = t[--n];
	return p;
}

/* Append "SEC.NNNNNNNNN" (the two fields as they are, SEC maybe negative) at P. */
static char *put_time(char *p, int64_t sec, int32_t nsec)
{
	if (sec < 0)
		*p++ = '-';
	p = put_dec(p, sec < 0 ? (uint64_t)(-(sec + 1)) + 1 : (uint64_t)sec);
	*p++ = '.';
	for (int32_t d = 100000000; d > 0; d /= 10)
		*p++ = (char)('0' + (nsec / d) % 10);
	return p;
}

/* Write the sidecar's text to F (fprintf would cost more than the rest of the save). 0, or -1
 * with errno. */
static int write_records(FILE *f, struct hash128 digest, const struct proven_record *recs, size_t n)
{
	char hex[HASH_HEX_LEN + 1];
	hash_hex(digest, hex);
	fprintf(f, "%s %d %s\n", PROVEN_MAGIC, PROVEN_VERSION, hex);
	for (size_t i = 0; i < n; i++) {
		const struct stamp *s = &recs[i].stamp;
		char line[4 * 21 + 2 * 32 + 8], *p = line;
		p = put_dec(p, recs[i].line);
		*p++ = ' ';
		p = put_dec(p, s->dev);
		*p++ = ' ';
		p = put_dec(p, s->ino);
		*p++ = ' ';
		p = put_dec(p, s->size);
		*p++ = ' ';
		p = put_time(p, s->mtime_sec, s->mtime_nsec);
		*p++ = ' ';
		p = put_time(p, s->ctime_sec, s->ctime_nsec);
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), f);
	}
	if (fflush(f) != 0 || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int proven_save(const char *manifest, struct hash128 digest, const struct proven_record *recs,
                size_t n, int sync)
{
	char *side = proven_sidecar(manifest);
	char *tmp = side != NULL ? manifest_tmp_name(side) : NULL;
	if (tmp == NULL) {
		free(side);
		errno = ENOMEM;
		return -1;
	}
	manifest_tmp_clean(side);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = f != NULL ? write_records(f, digest, recs, n) : -1;
	if (rc == 0 && sync && fsync(fileno(f)) != 0)
		rc = -1;
	if (f != NULL && fclose(f) != 0 && rc == 0)
		rc = -1;
	else if (f == NULL && fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, side) != 0)
		rc = -1;
	if (rc == 0 && sync && manifest_sync_dir(side) != 0)
		rc = -1;
	int e = errno;
	if (rc != 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(side);
	errno = e;
	return rc;
}
