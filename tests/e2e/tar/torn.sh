#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar: a file over 16 MiB is streamed into the archive by the writer itself, so when it is
# rewritten while it is read, its torn data is already in the archive. Nothing may vouch for
# it: it is reported and counted as failed, gets no "archived" event and no manifest line,
# and `pcopy --extract --verify-manifest` does not put it in place. The other members are
# archived, listed and extracted as usual.
. "$(dirname "$0")/../../lib.sh"
use_inject

mkdir src
head -c $((24 << 20)) /dev/urandom >src/big
echo small >src/small
ln src/big src/big-link
# Every 1 MiB read of src/big waits 150 ms, so streaming it takes about 3.6 s; meanwhile the
# whole file is rewritten in place again and again (same size, new data, new mtime).
LD_PRELOAD=$INJECT FAULT_SLOW_MATCH=src/big FAULT_SLOW_MS=150 \
	"$PCOPY" -q --json --tar a.tar --manifest man.txt src >events.txt 2>err.txt &
pid=$!
while kill -0 $pid 2>/dev/null; do
	sleep 0.3
	head -c $((24 << 20)) /dev/urandom | dd of=src/big bs=1M conv=notrunc status=none
done
wait $pid
rc=$?
check "torn member: exit 1 (got $rc)" [ $rc -eq 1 ]
check "torn member: reported as changed" grep -q '^pcopy: src/big: changed while being archived' err.txt
check "torn member: a failed event" grep -q '"event":"failed","path":"src/big"' events.txt
check "torn member: no archived event" bash -c '! grep -q "\"event\":\"archived\",\"path\":\"src/big\"" events.txt'
check "torn member: no manifest line" bash -c '! grep -q "  src/big$" man.txt'
check "its hard link: no manifest line either" bash -c '! grep -q "  src/big-link$" man.txt'
check "its hard link: no archived event either" bash -c '! grep -q "\"event\":\"archived\",\"path\":\"src/big-link\"" events.txt'
check "the other file: archived and listed" bash -c 'grep -q "  src/small$" man.txt && grep -q "\"event\":\"archived\",\"path\":\"src/small\"" events.txt'
check "summary: failed counted" grep -q '"failed":2,' events.txt
mkdir out
"$PCOPY" -q --extract --verify-manifest man.txt a.tar out 2>x-err.txt
rc=$?
check "--extract --verify-manifest: exit 1 (got $rc)" [ $rc -eq 1 ]
check "--extract --verify-manifest: the torn member is not put in place" [ ! -e out/src/big ]
check "--extract --verify-manifest: it says so" grep -q 'src/big' x-err.txt
check "--extract --verify-manifest: the rest is extracted" bash -c '[ "$(cat out/src/small)" = small ]'
finish
