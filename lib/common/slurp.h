/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slurp: a small regular file read whole into memory (manifests, sidecars, markers).
 */
#ifndef PCOPY_SLURP_H
#define PCOPY_SLURP_H

#include <stddef.h>

/*
 * The whole regular file PATH (AT: its directory, or AT_FDCWD; FLAGS: more open flags, such
 * as O_NOFOLLOW) into *BUF, malloc'd and NUL-terminated, *LEN bytes before the NUL; a file
 * that grows while it is read is read to its end. Anything but a regular file is refused
 * without waiting on it (a FIFO: EINVAL, a directory: EISDIR). 0, or -1 with errno (*BUF
 * then NULL).
 */
int slurp(int at, const char *path, int flags, char **buf, size_t *len);

#endif
