#!/bin/bash
# --tar with a read-ahead worker stopped or killed in the middle: the task it held is handed
# to another worker and the archive is whole, as in copy mode (tests/faults/signals.sh).
. "$(dirname "$0")/../../lib.sh"

mkdir src
for i in $(seq 300); do echo "file $i" >"src/f$i"; done

for sig in TERM KILL; do
	PCOPY_TEST_SLOW_MS=5 "$PCOPY" -q -j 2 --tar "$sig.tar" --manifest "$sig.txt" src 2>"$sig.err" &
	pid=$!
	sleep 0.5
	kill -$sig "$(pgrep -P $pid | head -1)"
	wait $pid
	rc=$?
	check "worker SIG$sig: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "worker SIG$sig: nothing reported" [ ! -s "$sig.err" ]
	mkdir "x-$sig"
	check "worker SIG$sig: the archive extracts to the source" \
		bash -c "tar -C x-$sig -xf $sig.tar && diff -r src x-$sig/src"
	check "worker SIG$sig: every file in the manifest" [ "$(wc -l <"$sig.txt")" -eq 300 ]
done
finish
