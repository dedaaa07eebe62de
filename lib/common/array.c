/* SPDX-License-Identifier: BSD-2-Clause */
/* array: growable arrays (see array.h). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"

int array_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem) {
		errno = ENOMEM;
		return -1;
	}
	void *p = realloc(*(void **)arr, n * elem);
	if (p == NULL)
		return -1;
	*(void **)arr = p;
	*cap = n;
	return 0;
}
