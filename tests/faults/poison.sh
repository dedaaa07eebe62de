#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A file that kills every worker that touches it (here: a watcher SIGKILLs any worker that
# has it open; the fault library makes its reads slow, so the watcher always sees it) must
# not make the run loop forever: after a few tries it is failed with a message, the workers
# are replaced each time, and everything else is copied.
. "$(dirname "$0")/../lib.sh"

use_inject

mkdir src
head -c $((4 << 20)) /dev/urandom >src/poison
for i in $(seq 1 20); do echo $i >src/f$i; done
FAULT_SLOW_MATCH=/src/poison FAULT_SLOW_MS=200 LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src dst 2>err.txt &
pid=$!
kills=0
while kill -0 $pid 2>/dev/null; do
	for w in $(pgrep -P $pid); do
		if ls -l "/proc/$w/fd" 2>/dev/null | grep -q '/src/poison$'; then
			kill -KILL "$w" 2>/dev/null && kills=$((kills + 1))
		fi
	done
	sleep 0.005
done
wait $pid
rc=$?
check "poison: exit 1 (got $rc) after $kills worker kills" [ $rc -eq 1 ]
check "poison: tried a few times, then failed with a message" grep -q '^pcopy: src/poison: a worker died 3 times copying this file (last: signal 9)' err.txt
check "poison: no final name for it" [ ! -e dst/poison ]
check "poison: no temporary files" no_tmp dst
check "poison: everything else copied" bash -c 'for i in $(seq 1 20); do cmp -s src/f$i dst/f$i || exit 1; done'
finish
