/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * array: the growable arrays every parent-side table uses (entries, directories, names).
 */
#ifndef PCOPY_ARRAY_H
#define PCOPY_ARRAY_H

#include <stddef.h>

/*
 * Make the array at *ARR (elements of ELEM bytes, *CAP allocated) hold at least NEED
 * elements, doubling its capacity. Returns 0, or -1 (ENOMEM) leaving the array as it was.
 */
int array_grow(void *arr, size_t *cap, size_t need, size_t elem);

#endif
