/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run: one pcopy run, from the command's sources and destination to the final counts.
 *
 * run_plan() checks the request and opens the roots (nothing is created when it fails);
 * run_execute() starts the worker pool, walks the sources in the parent, feeds one task per
 * non-directory entry to the pool, collects completions, then links hard links, sets
 * directory metadata deepest first and writes the manifest. Everything the user sees goes
 * through the hooks: run never prints.
 */
#ifndef PCOPY_RUN_H
#define PCOPY_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/exit.h"
#include "fs/at.h"
#include "common/clock.h"
#include "copy/copy.h"
#include "copy/worker.h"
#include "proc/pool.h"
#include "report/stats.h"
#include "fs/scan.h"
#include "common/shm.h"
#include "select/fromlist.h"
#include "select/select.h"

/* Exit statuses: the commands' one set (common/exit.h). The RUN_* names are kept for run.c
 * only; new code names PCOPY_EXIT_*. */
#define RUN_OK PCOPY_EXIT_OK               /* everything copied or up to date */
#define RUN_PARTIAL PCOPY_EXIT_PARTIAL     /* some entries failed (the rest was done) */
#define RUN_FATAL PCOPY_EXIT_FATAL         /* usage error or nothing could be done */
#define RUN_SIGNALLED PCOPY_EXIT_SIGNALLED /* + signal number: interrupted */

struct run_opts {
	int jobs;              /* worker processes */
	struct copy_opts copy; /* what workers do per file */
	int delete_extra;      /* --delete */
	int one_fs;            /* --one-file-system */
	/* --exclude, --filter, --max-size ...: what is taken (NULL: everything); the walk
	 * stacks dir-merge rules in it. */
	struct select_rules *select;
	/* --files-from: the names taken, with their parents (NULL or not active: all). */
	const struct select_from *from;
	int delete_excluded;     /* --delete-excluded: --delete removes excluded entries too */
	int max_delete_set;      /* --max-delete N was given: at most MAX_DELETE removals, each
	                            entry below a removed directory counted too */
	uint64_t max_delete;
	/* --link-manifest FILE: the Nth belongs to the Nth --link-dest (copy.basis) */
	const char *link_manifest[COPY_BASIS_MAX];
	size_t nlink_manifest;
	const char *manifest;    /* --manifest path, "-" for stdout, NULL for none */
	const char *previous_manifest; /* --previous-manifest FILE, or NULL */
	uint64_t test_list_slot; /* PCOPY_TEST_LIST_SLOT test hook: bytes of a worker's listing
	                            slot (run/lister.c; a bigger listing is read by the parent);
	                            under 64: default */
	uint64_t test_split_min; /* PCOPY_TEST_SPLIT_MIN test hook (split files from this size on,
	                            in parts of a quarter of it at least); under 4: default */
};

enum run_event_type {
	RUN_EV_COPIED,    /* written (or would be, in a dry run) */
	RUN_EV_SKIPPED,   /* already up to date */
	RUN_EV_UPDATED,   /* data up to date, metadata fixed */
	RUN_EV_DELETED,   /* removed from the destination by --delete */
	RUN_EV_FAILED,    /* could not be copied */
	RUN_EV_WARNING,   /* not copied by design (socket ...) or a minor problem */
	RUN_EV_DIFFERENT, /* --check: REASON names the difference (missing, extra, content ...) */
	RUN_EV_DIR,       /* hooks.itemize: a directory made, or whose metadata differs (ITEMS) */
};

/* run_event.items besides the enum copy_item bits (copy.h). */
#define RUN_ITEM_HARDLINK (1u << 16)  /* a name linked to LINK, the copy of its first name */
/* RUN_ITEM_ROOT_MADE alone: DEST made but not sent (--files-from without "."), no line. */
#define RUN_ITEM_ROOT_MADE (1u << 17) /* RUN_EV_DIR: the destination DST was created */

struct run_event {
	enum run_event_type type;
	const char *path;  /* relative to the copy root (-v, --json) */
	const char *src;   /* the source path as the user would name it */
	const char *dst;   /* the destination path as the user would name it */
	const char *where; /* what a message names: DST when the failure is on the destination's
	                      side (create, write, rename, attributes, delete), else SRC */
	uint64_t bytes;
	const struct hash128 *hash; /* NULL when not computed */
	const char *reason;         /* FAILED / WARNING: what went wrong */
	int err;                    /* errno for FAILED, 0 if none */
	/* hooks.itemize, for COPIED, UPDATED, DELETED and DIR: what changed (enum copy_item
	 * and RUN_ITEM_* bits) and LINK, a symlink's target or the path of the name a hard link
	 * shares its data with. MODE, in every event: the entry's type (S_IFMT bits, 0: not
	 * known); HARDLINK: the name was made as a hard link to another's file. */
	uint32_t items;
	uint32_t mode;
	const char *link;
	int hardlink;
};

struct run_hooks {
	void (*event)(void *ctx, const struct run_event *ev);
	void (*tick)(void *ctx, const struct stats *st); /* about every 100 ms while running */
	void *ctx;
	int all_events; /* also report copied/skipped/updated/deleted (else failures, warnings,
	                   differences only) */
	int itemize;    /* -i, --log-file: events say what changed (run_event.items), and
	                   directories made or changed are reported too (RUN_EV_DIR) */
};

/* A source and where it goes. */
struct run_root {
	char *src_display; /* the source as named by the user, trailing slashes removed */
	char *dst_display; /* where it goes, as the user would name it (messages) */
	char *prefix;      /* what the manifest puts before paths of this root: "" or "name/" */
	char *src_name;    /* file roots: source name relative to src_fd */
	char *dst_name;    /* file roots: destination name relative to dst_fd */
	int is_dir;        /* directory tree (else a single non-directory entry) */
	int created;       /* run_plan created the destination directory (nothing in it yet) */
	struct stat st;    /* lstat of the source */
	char *src_dir;     /* the path run_plan opened as the source descriptor (croots) */
	char *dst_dir;     /* the same for the destination descriptor; NULL when none */
};

/*
 * Somewhere else to run tasks besides the local pool: pcopy-mpi's other ranks (mpiwork.h).
 * run_execute() offers it tasks (parts of split copies among them) and feeds its completions
 * into the same accounting as the pool's, and with LIST set it asks it to read the source
 * directories instead of reading them in this process. NULL in struct run: local only.
 * Every hook returns -1 with errno on a failure that ends the run.
 */
struct run_remote {
	void *ctx;
	int workers;          /* worker processes behind it (more than one: big files are split) */
	size_t local_cap;     /* the most tasks to keep in the local pool while it is in use */
	uint64_t local_bytes; /* ... and the most data (one task however big) */
	/* Take task T (SRC and DST: its paths) if there is room: 1 taken, 0 no room. */
	int (*take)(void *ctx, const struct copy_task *t, const char *src, const char *dst);
	/* Send what take() gathered. */
	int (*flush)(void *ctx);
	/* A completion into *D: 1, or 0 when none is waiting. */
	int (*poll)(void *ctx, struct copy_done *d);
	/* Ask for the listing of directory DIR of root ROOT; TOKEN comes back with it. 1 asked,
	 * 0 no room now. NULL: directories are read here. */
	int (*list)(void *ctx, uint32_t root, uint64_t token, const char *dir);
	/* A listing that came back (any of those asked for), loaded into S with scan_set():
	 * 1, or 0 when none. For a directory that existed in the destination (SCAN_FLAG in
	 * TOKEN) DST may get the destination directory's names too (else DST->names stays
	 * NULL and run lists it); they stay valid until the next call. */
	int (*listed)(void *ctx, struct scan *s, struct tree_list *dst);
};

/* The phases of a run, in order (run_set_phase() only moves forward). */
enum run_phase {
	RUN_PHASE_NEW,     /* run_init done */
	RUN_PHASE_PLANNED, /* run_plan succeeded: roots open */
	RUN_PHASE_WALK,    /* run_execute: walking the sources while tasks are copied */
	RUN_PHASE_DRAIN,   /* the walk is over: completing the tasks handed out */
	RUN_PHASE_STOP,    /* interrupted: the workers abandon their tasks */
	RUN_PHASE_FINISH,  /* hard links, directory metadata, manifest */
	RUN_PHASE_OVER,    /* run_execute returned */
};

struct entry;
struct dirrec;
struct linkrec;
struct deferred;
struct inotab;
struct split;
struct proven;
struct run_stamp;
struct lister;

struct run {
	enum run_phase phase; /* set by run_set_phase() (run.c, and walk.c at the walk's end) */
	struct run_opts opts;
	struct run_hooks hooks;
	volatile sig_atomic_t *interrupted; /* set to a signal number by the caller's handler */
	struct names names;                 /* shared arena of relative paths */
	struct run_root *roots;
	struct copy_root *croots; /* descriptors, inherited by the workers */
	size_t nroots;
	struct entry *entries; /* one per non-directory entry, id = index + 1 */
	size_t nentries, entries_cap;
	struct dirrec *dirs; /* directories, in walk order */
	size_t ndirs, dirs_cap;
	struct linkrec *links; /* hard links to make at the end */
	size_t nlinks, links_cap;
	struct deferred *deferred; /* remote walk: files with other names, planned at its end */
	size_t ndeferred, deferred_cap;
	struct split *splits; /* files being copied in parts */
	size_t nsplits, splits_cap;
	struct copy_task *pending; /* seals to queue before new entries (FIFO) */
	size_t pending_head, npending, pending_cap;
	size_t outstanding;        /* tasks handed to the pool and not yet completed */
	size_t parts_busy;         /* parts of split copies among them */
	struct inotab *inodes;     /* (dev, ino) -> entry for multiply linked files */
	struct at_cache dst_dirs;  /* the parent's open destination directories (at.h) */
	struct at_cache link_dirs; /* the same for the first names of hard links */
	struct pool pool;
	struct copy_worker_args worker;  /* the pool's workers' ARG, filled by run_execute */
	const struct run_remote *remote; /* set by run_set_remote before run_execute, or NULL */
	/* who reads the directories of a walk that plans them in any order: REMOTE, or the
	 * pool's workers (LISTER, run/lister.c); NULL: the parent, in walk order */
	const struct run_remote *lists;
	struct lister *lister;
	size_t remote_out;               /* tasks handed to REMOTE and not yet completed */
	uint64_t local_bytes;            /* data of the tasks in the local pool (copy_task_cost) */
	uint64_t split_min, part_min;    /* files split into parts, and the smallest part */
	struct copy_linkname *lnames;    /* --check: names with other links, compared at the end */
	size_t nlnames, lnames_cap;
	uint64_t removed;        /* --max-delete: entries removed (or that would be) so far */
	uint64_t delete_skipped; /* --max-delete: entries left for the limit */
	int noted_direct;    /* the warning that O_DIRECT was refused has been given */
	int manifest_fd;     /* --manifest FILE: an unnamed file in its directory, opened by
	                        run_plan to prove it can be written; -1: written by name */
	int manifest_dir;    /* that directory (O_PATH), or -1 */
	char *manifest_name; /* FILE's last component, named there at the end */
	int *basis_fds;                /* --link-dest: opts.copy.basis_fds (snapshot.c) */
	struct copy_sums *basis_sums;  /* opts.copy.basis_sums */
	const char **basis_prefix;     /* [root]: the roots' prefixes, for basis_sums */
	int snap_fd;                   /* DEST's top when it is a snapshot in the making, or -1 */
	/* --previous-manifest (previous.c): the table the workers look hashes up in, or NULL;
	 * each root's manifest prefix for them; whether this run writes a stat sidecar, and the
	 * stamps of its entries (index as in ENTRIES) for it. */
	struct proven *previous;
	const char **prefixes;
	int stamping;
	struct run_stamp *stamps;
	size_t stamps_cap;
	/* --files-from: the names of opts.from that are sent (SOURCE has them, no rule leaves
	 * them out), set by run_plan; the walk asks it, so a name left out makes no parents */
	struct select_from from_sent;
	int from_root; /* --files-from: "." is sent, DEST itself takes SOURCE's attributes */
	struct stats stats;
	double start;   /* monotonic seconds at run_execute */
	char err[1024]; /* message for a fatal failure */
};

/* Initialise R with options and hooks. Returns 0, or -1 (R->err says why). */
int run_init(struct run *r, const struct run_opts *opts, const struct run_hooks *hooks,
             volatile sig_atomic_t *interrupted);

/*
 * Check the request (sources, destination; DEST NULL means SOURCE-backup) and prepare the
 * roots, creating the destination directory only once every check has passed. Returns 0, or
 * -1 with R->err set (the caller exits PCOPY_EXIT_FATAL).
 */
int run_plan(struct run *r, char **sources, size_t nsources, const char *dest);

/* What another process needs to take part in a run (pcopy-mpi's agents, mpiwork.h): the
 * copy options, -j, the roots and --exclude. It points into the run. */
struct run_share {
	const struct copy_opts *copy;
	int jobs;
	size_t nroots;
	const struct run_root *roots;   /* src_dir, dst_dir, st.st_dev, prefix */
	const struct copy_root *croots; /* dst_fd < 0: no destination directory is open */
	const struct select_rules *select; /* --exclude, --filter, size limits (NULL: none) */
};

/* After run_plan: what R shares with other processes, into *OUT. */
void run_share(const struct run *r, struct run_share *out);

/* Before run_execute: let REMOTE take part in R's run (NULL: local only). */
void run_set_remote(struct run *r, const struct run_remote *remote);

/* Do the copy. Returns the exit status (PCOPY_EXIT_*, common/exit.h). */
int run_execute(struct run *r);

/* Free everything. */
void run_free(struct run *r);

/* What run_dir_policy() returns for a directory --existing or --ignore-existing leaves out
 * (above every errno value, so that it travels like one in scan_item.made). */
#define RUN_DIR_LEFT 4095
/*
 * --existing (the name is free) or --ignore-existing (it is not a directory) for the
 * destination twin LEAF in FD of a source directory: RUN_DIR_LEFT when it is neither made nor
 * entered, else 0. Shared by the walk here and pcopy-mpi's ranks.
 */
int run_dir_policy(const struct copy_opts *o, int fd, const char *leaf);

#endif
