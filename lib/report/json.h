/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json: the --json lines of pcopy and pbatch, one JSON object a line.
 *
 * Strings are escaped for JSON and kept as UTF-8 where they are UTF-8; a byte that is not
 * part of a valid UTF-8 sequence (file names are bytes to the kernel) becomes "\u00XX", so
 * the output is always valid JSON. Formatting only: each function writes one whole line to
 * the FILE the caller gives and says nothing about write errors (the caller checks OUT).
 */
#ifndef PCOPY_JSON_H
#define PCOPY_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hash.h"
#include "report/stats.h"

/* Write S as a JSON string (quotes included); bytes that are not valid UTF-8 become \u00XX. */
void json_string(FILE *out, const char *s);

/*
 * Write one event line of a run, --tar or --extract:
 * {"event":EVENT,"path":PATH[,"type":T],"bytes":N[,"hash":H][,"what":W][,"error":E]}.
 * TYPE (json_type()), HASH (written in hex), WHAT (the kind of difference, for --check) and
 * ERROR may be NULL; ERROR is followed by ": " and strerror(ERR) when ERR is not 0.
 */
void json_event(FILE *out, const char *event, const char *path, const char *type, uint64_t bytes,
                const struct hash128 *hash, const char *what, const char *error, int err);

/* The "type" of an entry whose st_mode is MODE: "file", "dir", "symlink", "fifo", "device"
 * (block or character), "socket"; "hardlink" when HARDLINK (a name made as a link to another
 * entry's file); NULL when MODE is 0 (unknown). */
const char *json_type(unsigned mode, int hardlink);

/*
 * Write a progress line: {"event":"progress","files_done":N,"files_total":N,"bytes_done":N,
 * "bytes_total":N,"rate":BYTES_A_SECOND,"eta":SECONDS,"seconds":S,"scanning":BOOL}; RATE
 * and ETA are null when negative (not known yet).
 */
void json_progress(FILE *out, const struct stats *st, double rate, double eta);

/* Write the summary line that ends pcopy's --json output: ST's counts and EXIT_STATUS. */
void json_summary(FILE *out, const struct stats *st, int exit_status);

/* Write the summary line that ends --verify-manifest's --json output: C's counts, SECONDS and
 * EXIT_STATUS. */
void json_verify_summary(FILE *out, const struct verify_counts *c, double seconds,
                         int exit_status);

/*
 * Write pbatch's line for a finished command:
 * {"event":"job","seq":SEQ,"command":COMMAND,"exit":EXITVAL,"signal":SIG,"runtime":SECONDS}.
 */
void json_job(FILE *out, size_t seq, const char *command, int exitval, int sig, double runtime);

/* Write the summary line that ends pbatch's --json output. */
void json_batch_summary(FILE *out, size_t jobs, size_t failed, size_t skipped);

#endif
