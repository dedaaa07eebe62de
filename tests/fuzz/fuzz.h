/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz: what the fuzz targets in tests/fuzz/ share.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and nothing else public. Linked with
 * driver.c it is a plain program that runs inputs from files (the smoke run of make check);
 * linked with clang's -fsanitize=fuzzer it is a libFuzzer target (make fuzz).
 */
#ifndef PCOPY_FUZZ_H
#define PCOPY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Run the code under test on one input. Returns 0; a broken property aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: name it and abort, so that the fuzzer
 * keeps the input as a crash and the smoke run fails. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* SIZE bytes of DATA and a NUL after them, in memory of their own. Aborts when out of
 * memory. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
