/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * driver: a main() for the fuzz targets, so that they build with any C compiler.
 *
 *   fuzz_NAME [-m N] FILE|DIRECTORY...
 *
 * Each FILE, and each file directly in each DIRECTORY, is read and passed to
 * LLVMFuzzerTestOneInput; with -m N, so are N variants of it made by a fixed sequence of
 * small mutations (bytes flipped, inserted, removed, repeated), the same on every run. This
 * is the smoke run of make check; make fuzz links the targets with libFuzzer instead.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Bytes the parsers treat specially, favoured by the mutations. */
static const char special[] = "\n\t\\ -=0:*";

/* The input being run, so that a failure can show it. */
static const uint8_t *current;
static size_t current_size;

/* SIGABRT (a failed check, or a sanitizer's abort_on_error): print the input as a C string,
 * so that it can be saved to a file and replayed. Only write(2): we are in a handler. */
static void show_input(int sig)
{
	static const char hex[] = "0123456789abcdef";
	static const char head[] = "fuzz driver: the failing input: \"";
	(void)!write(STDERR_FILENO, head, sizeof(head) - 1);
	for (size_t i = 0; i < current_size; i++) {
		uint8_t b = current[i];
		char esc[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
		if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\')
			(void)!write(STDERR_FILENO, &current[i], 1);
		else
			(void)!write(STDERR_FILENO, esc, 4);
	}
	(void)!write(STDERR_FILENO, "\"\n", 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run the target on one input. */
static void run_one(const uint8_t *data, size_t size)
{
	current = data;
	current_size = size;
	LLVMFuzzerTestOneInput(data, size);
}

/* A fixed pseudo-random sequence (xorshift64). */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* One small change to BUF (*LEN bytes, room for CAP). */
static void mutate(uint8_t *buf, size_t *len, size_t cap, uint64_t *rng)
{
	uint64_t r = next_random(rng);
	size_t at = *len > 0 ? (size_t)(next_random(rng) % *len) : 0;
	uint8_t byte =
	    r & 0x100 ? (uint8_t)special[(r >> 9) % (sizeof(special) - 1)] : (uint8_t)(r >> 9);
	switch (r % 4) {
	case 0: /* replace a byte */
		if (*len > 0)
			buf[at] = byte;
		break;
	case 1: /* insert a byte */
		if (*len < cap) {
			memmove(buf + at + 1, buf + at, *len - at);
			buf[at] = byte;
			(*len)++;
		}
		break;
	case 2: /* remove a byte */
		if (*len > 0) {
			memmove(buf + at, buf + at + 1, *len - at - 1);
			(*len)--;
		}
		break;
	default: { /* repeat a piece at its end */
		size_t piece = (size_t)(r >> 20) % 16 + 1;
		if (piece > *len - at)
			piece = *len - at;
		if (*len + piece <= cap) {
			memmove(buf + at + 2 * piece, buf + at + piece, *len - at - piece);
			memcpy(buf + at + piece, buf + at, piece);
			*len += piece;
		}
	}
	}
}

/* Run one input and, with MUTATIONS > 0, that many variants of it. Returns the runs. */
static unsigned long run_input(const uint8_t *data, size_t size, unsigned long mutations)
{
	run_one(data, size);
	if (mutations == 0)
		return 1;
	size_t cap = size * 2 + 64;
	uint8_t *buf = malloc(cap);
	FUZZ_CHECK(buf != NULL);
	uint64_t rng = 0x9e3779b97f4a7c15u ^ size;
	for (size_t i = 0; i < size; i++)
		rng = (rng ^ data[i]) * 0x100000001b3u;
	rng |= 1;
	size_t len = size;
	memcpy(buf, data, size);
	for (unsigned long m = 0; m < mutations; m++) {
		if (m % 8 == 0) { /* start again from the input now and then */
			len = size;
			memcpy(buf, data, size);
		}
		mutate(buf, &len, cap, &rng);
		run_one(buf, len);
	}
	free(buf);
	return mutations + 1;
}

/* Read PATH whole. Returns its bytes (and *SIZE), or NULL with errno. */
static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *grown = realloc(data, cap);
			FUZZ_CHECK(grown != NULL);
			data = grown;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		free(data);
		errno = EIO;
		return NULL;
	}
	*size = len;
	return data;
}

/* Run the file PATH. Returns the runs, or 0 when it cannot be read. */
static unsigned long run_file(const char *path, unsigned long mutations)
{
	size_t size;
	uint8_t *data = read_file(path, &size);
	if (data == NULL) {
		fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
		return 0;
	}
	unsigned long runs = run_input(data, size, mutations);
	free(data);
	return runs;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Run every regular file in DIR, in name order. Returns the runs, or 0 on an error or when
 * there is none. */
static unsigned long run_dir(const char *dir, unsigned long mutations, unsigned long *files)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "fuzz driver: %s: %s\n", dir, strerror(errno));
		return 0;
	}
	unsigned long runs = 0;
	int ok = 1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			unsigned long r = run_file(path, mutations);
			ok = ok && r > 0;
			runs += r;
			(*files)++;
		}
		free(names[i]);
	}
	free(names);
	if (ok && runs == 0)
		fprintf(stderr, "fuzz driver: %s: no input files\n", dir);
	return ok ? runs : 0;
}

int main(int argc, char **argv)
{
	unsigned long mutations = 0, runs = 0, files = 0;
	int first = 1;
	signal(SIGABRT, show_input);
	if (argc > 2 && strcmp(argv[1], "-m") == 0) {
		mutations = strtoul(argv[2], NULL, 10);
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-m N] FILE|DIRECTORY...\n", argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++) {
		struct stat st;
		unsigned long r;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			r = run_dir(argv[i], mutations, &files);
		} else {
			r = run_file(argv[i], mutations);
			files++;
		}
		if (r == 0)
			return 1;
		runs += r;
	}
	printf("%s: %lu inputs from %lu files, no failure\n", argv[0], runs, files);
	return 0;
}
