/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tmpname: every temporary name pcopy puts on disk, built and recognised in one place.
 *
 * Nothing is written under its final name until it is complete: it is written under a
 * temporary name and renamed. Those names take two forms, both around TMPNAME_PREFIX:
 *
 *   ".pcopy-tmp.PID.TAG" inside a destination tree, by process PID. TAG is
 *       N          the N-th temporary of a worker (a copy) or of --extract (a member)
 *       sID        the file the parts of entry ID's split copy share (PID: the parent's)
 *       linkI      the parent's I-th hard link, renamed over the name it links
 *       manifest   the parent's --manifest, when it is written into the tree
 *     A later run removes every such name it finds in a destination (and --extract refuses
 *     a member that has one); the parent removes those of a worker that died.
 *   "NAME.pcopy-tmp.PID" beside a file the user named (--manifest, --tar's archive): removed
 *     by a later run only when process PID no longer runs.
 *
 * Those bytes are a contract with earlier and later runs: they must not change.
 */
#ifndef PCOPY_TMPNAME_H
#define PCOPY_TMPNAME_H

#include <stddef.h>
#include <stdint.h>

#define TMPNAME_PREFIX ".pcopy-tmp."
/* A buffer this large holds any name of the first form. */
#define TMPNAME_SIZE (sizeof(TMPNAME_PREFIX) + 48)

/* ".pcopy-tmp.PID.N" into BUF (LEN bytes): process PID's N-th temporary. Returns BUF. */
char *tmpname_counter(char *buf, size_t len, long pid, unsigned long n);

/* ".pcopy-tmp.PID.sID" into BUF: the shared file of entry ID's split copy, named after the
 * parent process PID. Returns BUF. */
char *tmpname_split(char *buf, size_t len, long pid, uint64_t id);

/* ".pcopy-tmp.PID.TAG" into BUF, TAG a printf format ("manifest", "link%zu"). Returns BUF. */
char *tmpname_tag(char *buf, size_t len, long pid, const char *tag, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 when NAME (a final path component) is a temporary name of the first form. */
int tmpname_is(const char *name);

/* The PID of the first form's ".pcopy-tmp.PID.TAG" NAME, or 0 when NAME is not one. */
long tmpname_pid(const char *name);

/* "NAME.pcopy-tmp.PID" (malloc'd; NULL when out of memory): the temporary beside NAME. */
char *tmpname_beside(const char *name, long pid);

/* The PID when ENTRY (a name in the directory of BASE) is "BASE.pcopy-tmp.PID", else 0. */
long tmpname_beside_pid(const char *entry, const char *base);

#endif
