/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run/internal.h: what the phase files of lib/run share (not part of run.h's interface).
 *
 * A run goes through phases, each in its own file: plan.c (check the request, open the roots),
 * walk.c (read the sources into the tables of entries.c; lister.c: directories read by the
 * pool's workers), prune.c (the destination's extras),
 * dispatch.c (hand tasks out, collect completions), split.c (big files in parts),
 * complete.c (completions into counts and events), finish.c (links, directory metadata,
 * manifest), snapshot.c (--link-dest's directories and the completion marker), previous.c
 * (--previous-manifest: its table in, the stat sidecar out); run.c
 * sequences them, moving struct run's phase (enum run_phase, run.h) with
 * run_set_phase(). Each non-directory entry's life is an enum entry_state below, moved by
 * entry_set_state() alone. All of it runs in the parent process (lister.c's listings are
 * read by the workers).
 */
#ifndef PCOPY_RUN_INTERNAL_H
#define PCOPY_RUN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/stamp.h"
#include "fs/scan.h"
#include "fs/tree.h"
#include "report/manifest.h"
#include "run/run.h"

/* Tasks queued ahead of the workers, and entries scanned ahead of the queue. */
#define RUN_QUEUE_CAP 1024
#define RUN_BACKLOG 8192
#define RUN_MAX_TRIES 3
/* Files this big are copied in parts by several workers at once (see copy.h, TASK_SPLIT). */
#define RUN_SPLIT_MIN (UINT64_C(256) << 20)
#define RUN_PART_MIN (UINT64_C(64) << 20)
#define RUN_MAX_PARTS 64

/*
 * Where a non-directory entry is in its life (entry_set_state() is the one place that moves
 * it; entry_state_legal() lists the moves):
 *
 *   PLANNED --hand out--> QUEUED --COPY_SPLIT--> SPLIT --all parts in--> SEALING
 *                           ^  |                   |                        |
 *                           |  +-------------------+------------------------+--> DONE
 *                           +-- queued again whole (a directory was in the way, or no
 *                               memory for the split record) from QUEUED, SPLIT or SEALING
 */
enum entry_state {
	ENTRY_PLANNED, /* in the table; its task not handed out yet */
	ENTRY_QUEUED,  /* its whole-file task is handed out (or queued first to be, again) */
	ENTRY_SPLIT,   /* a worker answered COPY_SPLIT: its parts (struct split) stand for it */
	ENTRY_SEALING, /* every part is in; its TASK_SEAL is queued */
	ENTRY_DONE,    /* a completion was accepted (later duplicates are ignored) */
};

/* A non-directory entry. Parent only; 128 bytes (about a million per 128 MiB). */
struct entry {
	struct copy_task task; /* as queued; task.id = index + 1 */
	struct hash128 hash;   /* content hash, when HASHED */
	uint8_t state;         /* enum entry_state; changed by entry_set_state() only */
	uint8_t status;        /* enum copy_status of the accepted completion (DONE) */
	uint8_t hashed;        /* HASH holds the content hash of the file in place */
	uint8_t made_way;      /* a directory in the way of its destination name was removed once */
	uint16_t items;        /* hooks.itemize: what the accepted completion changed (copy_item) */
};

/* 1 when an entry may go from state FROM to state TO. */
int entry_state_legal(enum entry_state from, enum entry_state to);
/* Move E to state TO (asserts that the move is legal). */
void entry_set_state(struct entry *e, enum entry_state to);
/* 1 when E's parts stand for it (SPLIT or SEALING): a whole-file completion is stale. */
int entry_is_split(const struct entry *e);

/* A directory whose metadata is set after its contents. */
struct dirrec {
	uint64_t path; /* arena offset, relative to the root's fds */
	uint32_t root;
	uint8_t failed; /* could not be created: leave it alone */
	/* DEST itself under --files-from without ".": rsync does not send it, so it takes none
	 * of SOURCE's attributes and keeps its mode (OWN_MODE), or 0777 less the umask when
	 * run_plan made it (0700, while the run works inside) */
	uint8_t bare;
	mode_t own_mode;
	struct stat st;
};

/* A hard link to make once its first name has been copied. */
struct linkrec {
	uint64_t path; /* arena offset of this name, relative to ROOT's destination */
	uint32_t root; /* root this name belongs to (may differ from the first name's) */
	size_t target; /* index of the entry holding the first name */
};

/* A file with other names, met in a walk whose listings are planned as they come back (a
 * remote walk): set aside until the walk is over, see defer_link() in entries.c. Parent
 * only. */
struct deferred {
	const char *key; /* its source path, in the arena: the walk order (path_walk_cmp) */
	uint64_t src, dst;
	uint32_t root;
	int fresh;
	struct stat st;
};

/* A file being copied in parts. Parent only. */
struct split {
	size_t entry;    /* index in entries */
	uint32_t nparts; /* parts of PART_LEN bytes (the last one shorter) */
	uint64_t part_len;
	uint64_t seen;     /* bit per part: its completion arrived */
	uint64_t bytes;    /* bytes of the parts copied so far (progress) */
	uint32_t handed;   /* parts 0 .. HANDED-1 were handed out (run_next_task) */
	uint32_t inflight; /* parts handed to the pool and not yet completed */
	int dead;          /* a part failed: the entry is failed, the temporary removed */
};

/* Walk state across roots. */
struct walk {
	uint32_t root;  /* root being walked */
	int active;     /* a scan of ROOT is open */
	int finished;   /* every root has been walked */
	size_t listing; /* directories of ROOT whose listing was asked of the remote */
	struct scan scan;
};

/* run.c */
/* Move R to phase TO (asserts that phases only go forward). */
void run_set_phase(struct run *r, enum run_phase to);
/* Set R->err from FMT; returns -1. */
int run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* entries.c: the tables and the events */
/* With an st_mode in the events' MODE argument: the name was made as a hard link. */
#define RUN_MODE_LINK 0x80000000u
/* Report an event about REL of ROOT, an entry of st_mode MODE (0: unknown; may carry
 * RUN_MODE_LINK); ON_DEST: its message names the destination path. */
void run_emit_at(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                 unsigned mode, uint64_t bytes, const struct hash128 *hash, const char *reason,
                 int err, int on_dest);
/* -i: what an event says besides its outcome (run_event's fields of the same names). */
struct run_item {
	uint32_t items;
	uint32_t mode;
	const char *link;
};
/* Report an event TYPE about REL of ROOT that changes it as IT says. */
void run_emit_item(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
                   uint64_t bytes, const struct hash128 *hash, const struct run_item *it);
/* REL of ROOT as events name it: relative to the copy root, with the root's prefix. NULL
 * when out of memory. */
char *run_rel_path(const struct run *r, uint32_t root, const char *rel);
/* An event whose message names the source path. */
void run_emit(struct run *r, enum run_event_type type, uint32_t root, const char *rel,
              unsigned mode, uint64_t bytes, const struct hash128 *hash, const char *reason,
              int err);
/* A failure on the destination's side: its message names the destination path. */
void run_emit_dst(struct run *r, uint32_t root, const char *rel, unsigned mode, const char *reason,
                  int err);
/* One RUN_EV_DIFFERENT event per difference in DIFF (enum copy_diff bits). */
void run_emit_diffs(struct run *r, uint32_t root, const char *rel, unsigned mode, uint64_t bytes,
                    uint32_t diff);
/* 1 when --exclude, --filter ... leave out REL of ROOT (a directory when IS_DIR). */
int run_excluded(const struct run *r, uint32_t root, const char *rel, int is_dir);
/* Record a non-directory entry (or a hard link to an earlier one). Returns 0 or -1. */
int run_add_entry(struct run *r, uint32_t root, uint64_t src, uint64_t dst, const struct stat *st,
                  int fresh);
/* A regular file the worker that listed it found up to date (LISTDIR_CURRENT, copy_current):
 * counted and reported as its task's COPY_SKIPPED would be, with no entry. */
void run_add_current(struct run *r, uint32_t root, uint64_t src, const struct stat *st);
/* The walk is over: plan the files a remote walk set aside, in walk order. Returns 0 or -1. */
int run_defer_flush(struct run *r);
/* Record a directory and create it in the destination (MADE: see struct scan_item).
 * Returns 1 to descend, 0 not to. */
int run_add_dir(struct run *r, uint32_t root, uint64_t path, const struct stat *st, int made,
                int *existed);

/* prune.c */
/* Compare the destination's listing of the batch's directory (DST: as listdir_read or the
 * remote listed it, or NULL: list it here) with the source batch S and clean up (or with
 * --check report) the extras. */
void run_prune_dest(struct run *r, uint32_t root, struct scan *s, const struct tree_list *dst);

/* A directory holds REL of ROOT, where a file is to go: remove it, only when empty without
 * --delete; with --delete its tree, as --delete would (leaving what the rules exclude below
 * it; with --backup backing up what goes; under --max-delete as far as the limit allows).
 * Returns 0 when the name is free, else an errno value (ENOTEMPTY: something stayed). */
int run_make_way(struct run *r, uint32_t root, const char *rel);

/* snapshot.c: --link-dest, --copy-dest */
/* The completion marker a snapshot gets in DEST's top when its run succeeded. */
#define RUN_SNAPSHOT_MARKER ".pcopy-complete"
/* After the roots are open: open the directories for each root, warn about those missing or
 * incomplete, prove --link-manifest, remove DEST's marker. Returns 0, or -1 with R->err. */
int run_snapshot_plan(struct run *r, const char *dest);
/* The run succeeded: write DEST's marker. Returns 0, or -1 (a warning was given). */
int run_snapshot_mark(struct run *r);
/* 1 when REL of ROOT is DEST's marker, which is neither copied nor deleted. */
int run_is_marker(const struct run *r, uint32_t root, const char *rel);
/* Free what run_snapshot_plan made. */
void run_snapshot_free(struct run *r);

/* lister.c: directories read by the pool's workers */
/* scan.err of a directory whose listing workers died over RUN_MAX_TRIES times (above every
 * errno value, below RUN_DIR_LEFT). */
#define RUN_LIST_LOST 4094
/* Before the pool starts: when the walk can take listings in any order, let the pool's
 * workers read the directories (R->lists, R->worker.lists). Returns 0 (also when it cannot),
 * or -1 with errno. */
int run_lister_start(struct run *r);
/* 1 when completion D is a listing's (taken in), 0 when it is a copy's. */
int run_lister_done(struct run *r, const struct copy_done *d);
/* 1 when task CLAIM, whose worker died, was a listing (given again or given up), else 0. */
int run_lister_lost(struct run *r, uint64_t claim);
/* Free what run_lister_start made (after the pool stopped). */
void run_lister_free(struct run *r);

/* walk.c */
/* 1 while a walk that plans listings in any order (R->lists: the remote's or the pool's)
 * is in progress: files with other names are set aside (see run_add_entry,
 * run_defer_flush). */
int run_walk_deferring(const struct run *r);
/* Read the next directory (or file root) into the tables: 1 moved, 0 waiting, -1 fatal. */
int run_walk_step(struct run *r, struct walk *w);

/* split.c */
/* Length of the parts of a split copy of SIZE bytes: at most RUN_MAX_PARTS parts, whole MiB,
 * never under PART_MIN. */
uint64_t run_part_len(uint64_t size, uint64_t part_min);
/* Index in SPLITS of the split copy to take the next part from (parts left, the fewest in
 * flight, the first such), or N when none has parts left. */
size_t run_split_pick(const struct split *splits, size_t n);
/* The split copy of entry index IDX, or NULL. */
struct split *run_split_find(const struct run *r, size_t idx);
/* 1 when task ID is a part of a split copy whose completion is still awaited. */
int run_part_awaited(const struct run *r, uint64_t id);
/* The task with id ID (a whole entry, one part of a split copy, or its seal) into *T. */
void run_task_for(const struct run *r, uint64_t id, struct copy_task *t);
/* Queue task ID ahead of new entries. Returns 0, or -1 when out of memory. */
int run_queue_first(struct run *r, uint64_t id);
/* Remove the shared temporary file of entry E's split copy. */
void run_split_unlink(struct run *r, const struct entry *e);
/* Record the split copy of entry E a worker answered COPY_SPLIT for. Returns 0 or -1. */
int run_split_begin(struct run *r, struct entry *e);
/* The completion D of a part: 1 when it ends the entry, 0 when absorbed (or a duplicate). */
int run_split_part_done(struct run *r, const struct copy_done *d);

/* dispatch.c */
/* Scan, dispatch and collect until everything is done or interrupted. Returns 0 or -1. */
int run_dispatch(struct run *r);
/* The next task to hand out before new entries, into *T: a seal or an entry queued again (1),
 * a part of the split copy *SPLIT (2), or none (0). Changes nothing (see run_handed). */
int run_next_task(struct run *r, struct copy_task *t, struct split **split);
/* The task run_next_task() gave (KIND, SPLIT) was taken. */
void run_handed(struct run *r, int kind, struct split *split);
/* Interrupted: stop the workers, take in their last completions, remove the temporaries of
 * split copies. */
void run_abandon(struct run *r);
/* Update the elapsed time and call the tick hook. */
void run_tick(struct run *r);

/* complete.c */
/* Account for a finished task (WHY: the failure's reason, or NULL for D's own). */
void run_complete(struct run *r, const struct copy_done *d, const char *why);
/* pool_reap's callback: a worker died holding task CLAIM; retry it or fail it. */
void run_lost_task(void *arg, uint64_t claim, pid_t pid, int wstatus);
/* --check, once every entry is compared: report names linked differently. */
void run_check_links(struct run *r);

/* previous.c: --previous-manifest */
/* An entry's stamp, from its completion (COPY_NOTE_STAMP), for the stat sidecar. */
struct run_stamp {
	struct stamp stamp;
	int set;
};
/* Before the workers start: load the previous manifest into the copy options (a warning when
 * it cannot be used) and decide whether this run writes a sidecar. Returns 0, or -1 with
 * R->err set (out of memory). */
int run_previous_load(struct run *r);
/* Keep S, the stamp of entry index IDX's skipped file, for the sidecar. */
void run_previous_keep(struct run *r, size_t idx, const struct stamp *s);
/* After the manifest was saved from LINES (sorted; tag: entry index + 1, or 0) with the
 * XXH3-128 DIGEST: save its stat sidecar when this run writes one (a failure: a warning). */
void run_previous_save(struct run *r, const struct manifest_line *lines, size_t n,
                       struct hash128 digest);

/* finish.c */
/* Make the hard links recorded during the walk. */
void run_make_links(struct run *r);
/* Set directory metadata deepest first (after their contents). */
void run_finish_dirs(struct run *r);
/* Write the manifest. Returns 0, or -1 with R->err set. */
int run_write_manifest(struct run *r);

#endif
