#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A manifest line is a fact about DEST (#13 §2): the hash of a file skipped as up to date is
# that of the data DEST holds under its name, even when the source changed in a way the
# quick check does not see (same size and mtime) or while the run went on.
. "$(dirname "$0")/../../lib.sh"

mkdir src
echo hello >src/f
echo other >src/g
"$PCOPY" -q src dst
# New content, same size and mtime: the quick check keeps DEST's old data, as documented.
t=$(stat -c %y src/f)
printf 'HELLO\n' >src/f && touch -d "$t" src/f
"$PCOPY" -q --manifest m.xxh --json src dst >j.json
check "the quick check kept DEST's data" [ "$(cat dst/f)" = hello ]
check "manifest checks out in DEST ($(cd dst && xxh128sum -c ../m.xxh 2>&1 | grep -v ': OK$' | head -c 200))" \
	sh -c 'cd dst && xxh128sum --quiet -c ../m.xxh'
want=$(xxh128sum dst/f | cut -d' ' -f1)
check "--json: the skipped file's hash is DEST's" grep -q "\"event\":\"skipped\",\"path\":\"f\",.*\"hash\":\"$want\"" j.json
# With -c the contents are compared: now it is copied, and the line is the new data's.
"$PCOPY" -q -c --manifest m2.xxh src dst
check "-c: copied and the manifest checks out" [ "$(cat dst/f)" = HELLO ] && sh -c 'cd dst && xxh128sum --quiet -c ../m2.xxh'

# A source that changes while the run goes on, after the scan saw it: its copy is skipped
# (DEST matches what the scan saw) and its line must still be DEST's. One worker, held up
# by a slow first file, reaches the file after the change.
use_inject
mkdir s2 && head -c 3000000 /dev/urandom >s2/a-slow && echo before >s2/b
"$PCOPY" -q s2 d2
(sleep 1; echo after! >s2/b) &
LD_PRELOAD=$INJECT FAULT_SLOW_MATCH=a-slow FAULT_SLOW_MS=900 "$PCOPY" -q -j1 --manifest m3.xxh s2 d2
rc=$?
wait
check "changed during the run: exit 0" [ $rc -eq 0 ]
check "changed during the run: DEST kept what the scan saw" [ "$(cat d2/b)" = before ]
check "changed during the run: the manifest checks out in DEST" sh -c 'cd d2 && xxh128sum --quiet -c ../m3.xxh'
finish
