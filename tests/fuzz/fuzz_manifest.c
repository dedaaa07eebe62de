/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: xxh128sum manifest lines (lib/report/manifest.c).
 *
 * The input is split into lines, and each goes to manifest_parse_line. A path it accepts
 * must fit a buffer of exactly its length plus one and not one byte less, and must come
 * back unchanged, with the same hash, after manifest_write writes it as a line and
 * manifest_parse_line reads that line again. Then all accepted paths, each split into a
 * directory prefix and a rest as pcopy does, are written together: the output must be one
 * line per path, in bytewise order, holding exactly the paths that went in.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "report/manifest.h"

#define PATH_BUF 4096

/* manifest_write of LINES into a string of its own. */
static char *write_lines(struct manifest_line *lines, size_t n, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(manifest_write(f, lines, n) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	return out;
}

/* The buffer size a parse needs is the path's length plus one, exactly. */
static void check_sizes(const char *line, const char *path, struct hash128 hash)
{
	size_t len = strlen(path);
	char *exact = malloc(len + 1);
	FUZZ_CHECK(exact != NULL);
	struct hash128 h;
	FUZZ_CHECK(manifest_parse_line(line, &h, exact, len + 1) == 0);
	FUZZ_CHECK(strcmp(exact, path) == 0 && h.high == hash.high && h.low == hash.low);
	FUZZ_CHECK(manifest_parse_line(line, &h, exact, len) == -1);
	free(exact);
}

/* Write PATH and HASH as one manifest line; it must parse back to the same. */
static void check_round_trip(const char *path, struct hash128 hash)
{
	struct manifest_line ml = {"", path, hash};
	size_t len;
	char *out = write_lines(&ml, 1, &len);
	FUZZ_CHECK(len > 0 && out[len - 1] == '\n' && memchr(out, '\n', len) == out + len - 1);
	out[len - 1] = '\0';
	char *back = malloc(PATH_BUF);
	FUZZ_CHECK(back != NULL);
	struct hash128 h;
	FUZZ_CHECK(manifest_parse_line(out, &h, back, PATH_BUF) == 0);
	FUZZ_CHECK(strcmp(back, path) == 0 && h.high == hash.high && h.low == hash.low);
	free(back);
	free(out);
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write the N PATHS (each split at its last '/' into prefix and rest) with HASHES as one
 * manifest: it must hold the same paths, sorted bytewise. */
static void check_sorted(char **paths, const struct hash128 *hashes, size_t n)
{
	struct manifest_line *lines = calloc(n + 1, sizeof(*lines));
	char **prefixes = calloc(n + 1, sizeof(*prefixes));
	FUZZ_CHECK(lines != NULL && prefixes != NULL);
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/');
		size_t k = slash != NULL ? (size_t)(slash - paths[i]) + 1 : 0;
		prefixes[i] = strndup(paths[i], k);
		FUZZ_CHECK(prefixes[i] != NULL);
		lines[i] = (struct manifest_line){prefixes[i], paths[i] + k, hashes[i]};
	}
	size_t len;
	char *out = write_lines(lines, n, &len);
	qsort(paths, n, sizeof(*paths), cmp_strings);
	char *back = malloc(PATH_BUF);
	FUZZ_CHECK(back != NULL);
	char *line = out;
	for (size_t i = 0; i < n; i++) {
		char *nl = memchr(line, '\n', len - (size_t)(line - out));
		FUZZ_CHECK(nl != NULL);
		*nl = '\0';
		struct hash128 h;
		FUZZ_CHECK(manifest_parse_line(line, &h, back, PATH_BUF) == 0);
		FUZZ_CHECK(strcmp(back, paths[i]) == 0);
		line = nl + 1;
	}
	FUZZ_CHECK(line == out + len);
	free(back);
	free(out);
	for (size_t i = 0; i < n; i++)
		free(prefixes[i]);
	free(prefixes);
	free(lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size);
	size_t cap = 1;
	for (size_t i = 0; i < size; i++)
		cap += data[i] == '\n';
	char **paths = calloc(cap, sizeof(*paths));
	struct hash128 *hashes = calloc(cap, sizeof(*hashes));
	char *path = malloc(PATH_BUF);
	FUZZ_CHECK(paths != NULL && hashes != NULL && path != NULL);
	size_t n = 0;
	/* Lines end at '\n'; a NUL byte ends the line's text early, as it would for a reader
	 * that handles C strings. */
	for (char *line = text; line != NULL;) {
		char *nl = memchr(line, '\n', size - (size_t)(line - text));
		if (nl != NULL)
			*nl = '\0';
		struct hash128 h;
		if (manifest_parse_line(line, &h, path, PATH_BUF) == 0) {
			FUZZ_CHECK(path[0] != '\0' && strlen(path) < PATH_BUF);
			check_sizes(line, path, h);
			check_round_trip(path, h);
			paths[n] = strdup(path);
			FUZZ_CHECK(paths[n] != NULL);
			hashes[n++] = h;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (n > 0)
		check_sorted(paths, hashes, n);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(hashes);
	free(path);
	free(text);
	return 0;
}
