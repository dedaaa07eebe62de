#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# SIGINT / SIGTERM stop the run: temporary files removed, exit 130 / 143, and running the
# same command again finishes the job. A worker killed mid-run is replaced and its file
# copied; a parent killed with SIGKILL leaves no workers behind and a re-run completes.
. "$(dirname "$0")/../lib.sh"

mkdir src && for i in $(seq 1 400); do head -c 50000 /dev/urandom >src/f$i; done
mkdir src/sub && for i in $(seq 1 100); do echo $i >src/sub/g$i; done

# interrupt SIGNAL EXPECTED-STATUS
interrupt() {
	local sig=$1 want=$2 dst=dst-$1
	PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 src "$dst" 2>err.txt &
	local pid=$!
	sleep 0.5
	kill -"$sig" $pid
	wait $pid
	local rc=$?
	check "SIG$sig: exit $want (got $rc)" [ $rc -eq "$want" ]
	check "SIG$sig: says it was interrupted, with a summary" grep -q 'interrupted after [0-9]* of [0-9]* entries (copied [0-9]*' err.txt
	check "SIG$sig: no temporary files" no_tmp "$dst"
	check "SIG$sig: the copy was partial" [ "$(find "$dst" -type f | wc -l)" -lt 500 ]
	check "SIG$sig: every file present is complete" bash -c 'cd "$0" && for f in $(find . -type f); do cmp -s "$f" "../src/$f" || exit 1; done' "$dst"
	"$PCOPY" -q src "$dst"
	check "SIG$sig: re-run exits 0" [ $? -eq 0 ]
	check "SIG$sig: re-run finishes the copy" same_tree src "$dst"
}
interrupt INT 130
interrupt TERM 143

# Kill one worker process mid-run: replaced, task re-queued, exact copy, exit 0.
PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 src dst-worker 2>err.txt &
pid=$!
sleep 0.5
worker=$(pgrep -P $pid | head -1)
kill -KILL "$worker"
wait $pid
rc=$?
check "worker killed: run exits 0 (got $rc)" [ $rc -eq 0 ]
check "worker killed: exact copy" same_tree src dst-worker
check "worker killed: no temporary files" no_tmp dst-worker

# SIGTERM to one worker only: its file is handed to another worker, nothing is lost.
PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 --stats src dst-wterm >wterm.txt 2>err.txt &
pid=$!
sleep 0.5
kill -TERM "$(pgrep -P $pid | head -1)"
wait $pid
rc=$?
check "worker SIGTERMed: run exits 0 (got $rc)" [ $rc -eq 0 ]
check "worker SIGTERMed: exact copy" same_tree src dst-wterm
check "worker SIGTERMed: every file counted as copied" grep -qx 'copied: 500' wterm.txt

# SIGKILL the parent: workers leave on their own; the next run completes and cleans up.
PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 src dst-kill &
pid=$!
sleep 0.5
workers=$(pgrep -P $pid | tr '\n' ' ')
kill -KILL $pid
wait $pid 2>/dev/null
gone=1
for i in $(seq 1 50); do
	gone=1
	for w in $workers; do
		state=$(awk '{print $3}' /proc/$w/stat 2>/dev/null)
		[ -n "$state" ] && [ "$state" != Z ] && gone=0
	done
	[ $gone = 1 ] && break
	sleep 0.1
done
check "parent SIGKILLed: workers exit on their own" [ $gone = 1 ]
"$PCOPY" -q src dst-kill
check "parent SIGKILLed: re-run exits 0" [ $? -eq 0 ]
check "parent SIGKILLed: re-run gives an exact copy" same_tree src dst-kill
check "parent SIGKILLed: no temporary files after the re-run" no_tmp dst-kill
finish
