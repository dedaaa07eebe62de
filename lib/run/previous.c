/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/previous: --previous-manifest. Before the workers start, the previous manifest and its
 * stat sidecar (proven.h) are loaded into the copy options, where the workers look up the
 * hashes of skipped files instead of reading them; completions bring back the stat data each
 * hash was read under, and after the manifest is saved they become its new sidecar.
 *
 * A run writes a sidecar beside its --manifest FILE (not "-") when --previous-manifest is
 * given, or when FILE already has one: then FILE itself is the previous manifest (read here,
 * before it is replaced), so a sidecar, once there, is kept up to date and used. -c reads
 * every file and still writes the sidecar. A previous manifest that cannot be used is a
 * warning: every file is hashed as without it. pcopy-mpi (a run with a struct run_remote)
 * neither reads nor writes a sidecar: its ranks' workers could not see the table.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "report/manifest.h"
#include "report/proven.h"
#include "run/internal.h"

/* A warning about FILE (not an entry of the run): "FILE: warning: WHY". */
static void warn_file(struct run *r, const char *file, const char *why)
{
	char reason[1200];
	snprintf(reason, sizeof(reason), "warning: %s", why);
	r->stats.warnings++;
	if (r->hooks.event == NULL)
		return;
	struct run_event ev = {RUN_EV_WARNING, file, file, file, file, 0, NULL, reason, 0};
	r->hooks.event(r->hooks.ctx, &ev);
}

/* The previous manifest this run reads (NULL: none), and whether it writes a sidecar. */
static const char *previous_path(struct run *r)
{
	const char *m = r->opts.manifest;
	if (r->remote != NULL) /* other ranks would not see the table: pcopy-mpi refuses it */
		return NULL;
	if (m == NULL || strcmp(m, "-") == 0)
		return r->opts.previous_manifest;
	if (r->opts.previous_manifest != NULL) {
		r->stamping = 1;
		return r->opts.previous_manifest;
	}
	char *side = proven_sidecar(m);
	r->stamping = side != NULL && access(side, F_OK) == 0;
	free(side);
	return r->stamping ? m : NULL;
}

int run_previous_load(struct run *r)
{
	const char *path = previous_path(r);
	r->opts.copy.stamp = r->stamping;
	if (path == NULL || r->opts.copy.checksum)
		return 0; /* -c: every file is read */
	r->prefixes = calloc(r->nroots + 1, sizeof(*r->prefixes));
	r->previous = calloc(1, sizeof(*r->previous));
	if (r->prefixes == NULL || r->previous == NULL)
		return run_fail(r, "out of memory");
	for (size_t i = 0; i < r->nroots; i++)
		r->prefixes[i] = r->roots[i].prefix;
	char why[1024];
	enum proven_result rc = proven_load(r->previous, path, why, sizeof(why));
	if (rc == PROVEN_FAILED)
		return run_fail(r, "cannot read previous manifest '%s': %s", path, strerror(errno));
	if (rc == PROVEN_UNUSABLE) {
		size_t n = strlen(why);
		snprintf(why + n, sizeof(why) - n, "; every file is hashed");
		warn_file(r, path, why);
		return 0;
	}
	r->stats.reusing = 1;
	r->opts.copy.previous = r->previous;
	r->opts.copy.prefix = r->prefixes;
	return 0;
}

void run_previous_keep(struct run *r, size_t idx, const struct stamp *s)
{
	if (idx >= r->stamps_cap) {
		size_t old = r->stamps_cap;
		if (array_grow(&r->stamps, &r->stamps_cap, idx + 1, sizeof(*r->stamps)) != 0)
			return; /* no record: the next run reads the file */
		memset(r->stamps + old, 0, (r->stamps_cap - old) * sizeof(*r->stamps));
	}
	r->stamps[idx].stamp = *s;
	r->stamps[idx].set = 1;
}

void run_previous_save(struct run *r, const struct manifest_line *lines, size_t n,
                       struct hash128 digest)
{
	const char *path = r->opts.manifest;
	if (!r->stamping)
		return;
	struct proven_record *recs = malloc((n + 1) * sizeof(*recs));
	size_t k = 0;
	int rc = recs != NULL ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t idx = lines[i].tag;
		if (idx > 0 && idx - 1 < r->stamps_cap && r->stamps[idx - 1].set)
			recs[k++] = (struct proven_record){i + 1, r->stamps[idx - 1].stamp};
	}
	if (rc == 0)
		rc = proven_save(path, digest, recs, k, r->opts.copy.fsync);
	free(recs);
	if (rc != 0) {
		char why[512];
		snprintf(why, sizeof(why),
		         "cannot write its stat sidecar: %s (the next run reads every file)",
		         strerror(errno));
		warn_file(r, path, why);
	}
}
