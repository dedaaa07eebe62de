#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A fresh copy of an awkward tree is exact: content, names, links, hard links, FIFOs,
# holes, modes and nanosecond times (rsync -c -H and diff as oracles).
. "$(dirname "$0")/../../lib.sh"

make_tree src
before=$(times_of src)
"$PCOPY" -q src dst
check "exit status 0" [ $? -eq 0 ]
check "mtime, atime and mode to the nanosecond" diff <(echo "$before") <(times_of dst)
check "rsync -c -H and diff see the same tree" same_tree src dst
# atime too: the copy keeps the times the source had before pcopy read it (as cp -a does).
check "top directory mtime kept" [ "$(stat -c %y src)" = "$(stat -c %y dst)" ]
check "hard link kept as a link" [ "$(stat -c %i dst/plain.txt)" = "$(stat -c %i dst/sub/hardlink)" ]
check "link count 2" [ "$(stat -c %h dst/plain.txt)" = 2 ]
check "symlink copied as a link" [ "$(readlink dst/link-dangling)" = /nonexistent/target ]
check "FIFO is a FIFO" [ -p dst/fifo ]
check "empty directories exist" [ -d dst/empty ] && [ -d "dst/also empty/inner" ]
check "sparse file stays sparse" [ "$(du -k dst/sparse.img | cut -f1)" -lt 1024 ]
check "sparse file same size" [ "$(stat -c %s dst/sparse.img)" = "$(stat -c %s src/sparse.img)" ]
check "non-UTF-8 name copied" [ -f "dst/$(printf 'caf\351')" ]
check "no temporary files left" no_tmp dst

# The same with a single worker and with many: identical results.
"$PCOPY" -q -j 1 src dst1 && "$PCOPY" -q -j 8 src dst8
check "-j 1 copy exact" same_tree src dst1
check "-j 8 copy exact" same_tree src dst8

# Only the worker pool copies: -j 3 means three worker processes, not one per file.
mkdir many && for i in $(seq 1 300); do echo $i >many/f$i; done
# (LeakSanitizer cannot run under ptrace: leave it out here in the sanitizer build.)
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=fork,vfork,clone,clone3 -o trace.txt "$PCOPY" -q -j 3 many many-copy 2>/dev/null
if [ -s trace.txt ]; then
	n=$(grep -acE 'clone|fork' trace.txt)
	check "-j 3 forks exactly 3 workers for 300 files (saw $n)" [ "$n" -eq 3 ]
else
	skip "strace not available"
fi

# --fsync syncs every file before its rename and every directory once its contents are in.
mkdir -p synced/a/b && echo 1 >synced/f && echo 2 >synced/a/g && echo 3 >synced/a/b/h
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=fsync -o fsync.txt "$PCOPY" -q --fsync synced synced-copy 2>/dev/null
if [ -s fsync.txt ]; then
	n=$(grep -ac 'fsync(' fsync.txt)
	check "--fsync: 3 files and 3 directories synced (saw $n fsync calls)" [ "$n" -eq 6 ]
	check "--fsync: the copy is exact" same_tree synced synced-copy
else
	skip "strace not available"
fi
finish
