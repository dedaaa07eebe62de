/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * itemize: the lines of -i, --itemize-changes and --log-file, in rsync's format, so that
 * what reads rsync's output reads pcopy's.
 *
 * A line is an 11-letter code, a space and the name: "YXcstpoguax NAME". Y says what
 * happened (">" data copied, "c" made here: a directory, symlink or special file, "h" a
 * hard link, "." metadata only, "*" a message such as "*deleting"), X the kind of entry
 * ("f" file, "d" directory, "L" symlink, "D" device, "S" FIFO or socket), then one letter
 * per attribute that changed (checksum or target, size, time, perms, owner, group, atime,
 * ACL, xattrs) or "." where none did; "+" in all of them for a new entry. A directory's
 * name ends with "/", a symlink's is followed by " -> TARGET", a hard link's by " => NAME".
 * Formatting only: the caller gives the FILE and checks it for write errors.
 */
#ifndef PCOPY_ITEMIZE_H
#define PCOPY_ITEMIZE_H

#include <stdint.h>
#include <stdio.h>

/* What happened to the entry a line is about. */
enum itemize_kind {
	ITEMIZE_COPIED,   /* made or written anew (Y: ">" for data, "c" for the rest) */
	ITEMIZE_UPDATED,  /* its metadata was set (Y: ".") */
	ITEMIZE_HARDLINK, /* linked to LINK (Y: "h") */
	ITEMIZE_DELETED,  /* removed by --delete ("*deleting") */
};

/* The code of an entry of type MODE (S_IFMT bits; 0: not known, taken as a file) whose
 * attributes ITEMS (enum copy_item bits, copy.h) changed, into CODE (12 bytes, NUL ended). */
void itemize_code(char code[12], enum itemize_kind kind, uint32_t mode, uint32_t items);

/* Write "[STAMP]CODE PATH[/][ -> LINK| => LINK]\n" to OUT: the line for PATH (STAMP NULL:
 * none; LINK NULL: none, else a symlink's target or, for ITEMIZE_HARDLINK, the name). */
void itemize_line(FILE *out, const char *stamp, enum itemize_kind kind, uint32_t mode,
                  uint32_t items, const char *path, const char *link);

#endif
