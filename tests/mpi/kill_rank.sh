#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A rank killed with SIGKILL in the middle of a copy: mpirun ends the whole job with a
# message naming the rank and a non-zero status (MPI_ERRORS_ARE_FATAL, the default), and the
# same command run again completes the copy exactly and leaves no temporary file, as after a
# killed single-node pcopy. SIGTERM to rank 0 takes pcopy's interrupted path (its message,
# exit 143); SIGINT to mpirun ends every rank; either way a re-run completes the copy.
. "$(dirname "$0")/../lib.sh"
use_mpi

mkdir src
for d in $(seq 1 20); do
	mkdir "src/d$d"
	for f in $(seq 1 100); do echo "$d $f" >"src/d$d/f$f"; done
done
head -c $((3 << 20)) /dev/urandom >src/big.bin

# Slow every task down (test hook) so that the kill lands in the middle; split big.bin too.
PCOPY_TEST_SLOW_MS=10 PCOPY_TEST_SPLIT_MIN=$((1 << 20)) \
	mpirun --oversubscribe -np 3 "$PCOPY_MPI" -q src dst >out.txt 2>err.txt &
job=$!
# This test's live pcopy-mpi processes (other tests may run their own at the same time).
ours() {
	local p
	for p in $(pgrep -x pcopy-mpi); do
		[ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$T" ] || continue
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
		echo "$p"
	done
}
# Rank 1 is the pcopy-mpi whose environment says so and whose parent is not a pcopy-mpi
# (its own workers inherit the environment).
victim=""
for _ in $(seq 1 100); do
	for p in $(ours); do
		pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = pcopy-mpi ] && continue
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
	done
	[ -n "$victim" ] && [ "$(find dst -type f 2>/dev/null | wc -l)" -gt 100 ] && break
	sleep 0.1
done
check "rank 1 found while copying" [ -n "$victim" ]
kill -9 "$victim"
wait $job
rc=$?
check "the job fails (exit $rc)" [ $rc -ne 0 ]
check "mpirun names the dead rank" grep -q 'rank 1 .*exited on signal 9' err.txt
check "the copy was not complete" [ "$(find dst -type f | wc -l)" -lt 2001 ]
sleep 0.5 # the killed rank's workers notice and leave

mpi 3 -q src dst
check "re-run: exit 0" [ $? -eq 0 ]
check "re-run: exact copy" same_tree src dst
check "re-run: no temporary files" no_tmp dst
check "no pcopy-mpi process left" [ -z "$(ours)" ]

# rank_pid N: the pid of rank N of this test's job (not one of its workers).
rank_pid() {
	local p pp
	for p in $(ours); do
		pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = pcopy-mpi ] && continue
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && echo "$p"
	done
}
# start_slow: a slow copy of src to dst on 3 ranks in the background ($job), well under way.
start_slow() {
	rm -rf dst
	PCOPY_TEST_SLOW_MS=10 mpirun --oversubscribe -np 3 "$PCOPY_MPI" -q src dst >out.txt 2>err.txt &
	job=$!
	for _ in $(seq 1 100); do
		[ "$(find dst -type f 2>/dev/null | wc -l)" -gt 100 ] && break
		sleep 0.1
	done
}

# rerun_completes WHAT: the same command again finishes the copy exactly, leaving no
# temporary file behind.
rerun_completes() {
	sleep 0.5 # the ended job's workers notice and leave
	mpi 3 -q src dst
	check "$1: re-run: exit 0" [ $? -eq 0 ]
	check "$1: re-run: exact copy" same_tree src dst
	check "$1: re-run: no temporary files" no_tmp dst
}

# SIGTERM to rank 0: pcopy's own interrupted path, message and status, through mpirun.
start_slow
kill -TERM "$(rank_pid 0)"
wait $job
rc=$?
check "SIGTERM to rank 0: exit 143 (got $rc)" [ $rc -eq 143 ]
check "SIGTERM to rank 0: pcopy's interrupted message" \
	grep -q '^pcopy: interrupted after .* run the same command again to finish$' err.txt
check "SIGTERM to rank 0: the copy was not complete" [ "$(find dst -type f | wc -l)" -lt 2001 ]
rerun_completes "SIGTERM to rank 0"

# SIGINT to mpirun (Ctrl-C): mpirun ends every rank a second later (SIGTERM, then SIGKILL).
start_slow
kill -INT $job
wait $job
rc=$?
check "SIGINT to mpirun: the job fails (exit $rc)" [ $rc -ne 0 ]
check "SIGINT to mpirun: the copy was not complete" [ "$(find dst -type f | wc -l)" -lt 2001 ]
rerun_completes "SIGINT to mpirun"
finish
