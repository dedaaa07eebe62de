#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar with a read-ahead worker stopped or killed in the middle: the task it held is handed
# to another worker and the archive is whole, as in copy mode (tests/faults/signals.sh).
. "$(dirname "$0")/../../lib.sh"

mkdir src
for i in $(seq 300); do echo "file $i" >"src/f$i"; done

for sig in TERM KILL; do
	PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 --tar "$sig.tar" --manifest "$sig.txt" src 2>"$sig.err" &
	pid=$!
	for i in $(seq 100); do worker=$(pgrep -P $pid | head -1) && [ -n "$worker" ] && break; sleep 0.05; done
	sleep 0.3 # 300 members at 5 ms each on two workers: under way
	kill -$sig "$worker"
	wait $pid
	rc=$?
	check "worker SIG$sig: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "worker SIG$sig: nothing reported" [ ! -s "$sig.err" ]
	mkdir "x-$sig"
	check "worker SIG$sig: the archive extracts to the source" \
		bash -c "tar -C x-$sig -xf $sig.tar && diff -r src x-$sig/src"
	check "worker SIG$sig: every file in the manifest" [ "$(wc -l <"$sig.txt")" -eq 300 ]
done

# A file that grew after the walk, in the task of a worker that dies after reading it: the
# next worker must read it into the room the walk gave it, not the grown size (which would
# spill into the next members' room), so it is left out as changed and the rest is intact.
mkdir grow
for i in $(seq 0 7); do echo "member $i" >"grow/a$i"; done
PCOPY_TEST_SLOW_MS=500 "$PCOPY" -q -j 1 --tar grow.tar --manifest grow.txt grow 2>grow.err &
pid=$!
# The walk is done as soon as the workers run; the worker takes a member every 0.5 s: the
# directory at 0.5 s, a0 at 1, a1 at 1.5. Grow a1 before that, kill the worker after it.
for i in $(seq 100); do worker=$(pgrep -P $pid | head -1) && [ -n "$worker" ] && break; sleep 0.05; done
sleep 0.3
head -c 1000 /dev/urandom >>grow/a1
sleep 1.9
kill -KILL "$worker"
wait $pid
rc=$?
check "grown, then its worker killed: exit 1 (got $rc)" [ $rc -eq 1 ]
check "grown, then its worker killed: reported as changed" grep -q "^pcopy: grow/a1: changed" grow.err
mkdir x-grow
check "grown, then its worker killed: the other members intact" \
	bash -c "tar -C x-grow -xf grow.tar && rm grow/a1 && diff -r grow x-grow/grow"
finish
