/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpiwork: the ranks of pcopy-mpi (built with ./configure --with-mpi only).
 *
 * Rank 0 runs the ordinary run (run.h): plan, walk, progress, events, hard links, directory
 * metadata, manifest, summary and exit status. mpiwork_lead() gives it a struct run_remote
 * through which the other ranks ("agents") take part of the work: each agent opens the same
 * roots (the file system is seen at the same paths on every node), runs a pool of -j worker
 * processes (copy_worker, the single-node workers' code) on the tasks it is handed, reads the
 * directories it is asked to list, and sends the completions and listings back. Agents decide
 * nothing, count nothing and print nothing.
 *
 * Balance is dynamic, by credit: an agent holds at most MPIWORK_CREDIT tasks and
 * MPIWORK_BYTES bytes of data per worker; rank 0 gives the next task to the agent with the
 * fewest bytes outstanding, so ranks that finish sooner get more. The parts of a split big
 * file are ordinary tasks and so spread over the ranks. Directory listings: at most
 * MPIWORK_LISTS asked of an agent at a time; the agents do all the reading of directories,
 * and rank 0 plans from the listings as they come (walk_remote in run/walk.c, defer_link in
 * run/entries.c). The agent that lists a directory also makes its subdirectories in the
 * destination and, for one that existed, lists its destination twin, so that rank 0 does
 * neither for the whole tree.
 *
 * The seam with lib/run is run.h's, two structs wide: struct run_share (what rank 0's run tells
 * the agents: copy options, -j, roots, rules) and struct run_remote (what the run asks of
 * them); lib/mpi never sees a struct run. An agent keeps the copy options, the roots'
 * descriptors, the name arena and its pool (copy_pool_start) itself.
 *
 * A rank that dies ends the job (MPI_ERRORS_ARE_FATAL, mpirun's default): what was copied is
 * in place, temporary files are removed by the next run, as after a killed pcopy.
 */
#ifndef PCOPY_MPIWORK_H
#define PCOPY_MPIWORK_H

#include <signal.h>

#include "run/run.h"

#define MPIWORK_CREDIT 256                  /* tasks outstanding per agent worker */
#define MPIWORK_BYTES (UINT64_C(256) << 20) /* bytes outstanding per agent worker */
#define MPIWORK_LISTS 16                    /* directory listings asked of an agent */

struct mpiwork;

/* MPI_Init. Sets *RANK and *NRANKS. Returns 0, or -1 when MPI could not start. */
int mpiwork_init(int *argc, char ***argv, int *rank, int *nranks);

/* MPI_Finalize. */
void mpiwork_finalize(void);

/*
 * Rank 0, after run_plan() succeeded: send the plan SHARE (run_share: roots, copy options,
 * -j, rules) to the other ranks and wait until each has opened the roots.
 * Returns the state to pass to mpiwork_end(), or NULL with ERR set (the run is fatal; the
 * agents have been told to stop).
 */
struct mpiwork *mpiwork_lead(const struct run_share *share, char *err, size_t errlen);

/* The remote to give the run (run_set_remote) before run_execute; NULL with no other ranks. */
const struct run_remote *mpiwork_remote(const struct mpiwork *m);

/* Rank 0, when there is no plan to send (run_init or run_plan failed): let the agents go. */
void mpiwork_refuse(void);

/*
 * Rank 0, after run_execute(): tell the agents the run is over (ABANDON: stop the tasks
 * they hold, as when interrupted), wait until they have taken the message, free M.
 */
void mpiwork_end(struct mpiwork *m, int abandon);

/* Rank 0, interrupted: free M without a word to the agents (mpirun is tearing the job down). */
void mpiwork_drop(struct mpiwork *m);

/*
 * Ranks 1..: take the plan from rank 0, then serve copies and listings until rank 0 says
 * the run is over or *INTERRUPTED is set. Returns an exit status: PCOPY_EXIT_OK,
 * PCOPY_EXIT_FATAL when this rank could not take part (rank 0 reports it),
 * PCOPY_EXIT_SIGNALLED + signal.
 */
int mpiwork_serve(volatile sig_atomic_t *interrupted);

#endif
