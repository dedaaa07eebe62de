#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --fsync re-reads each copy from the storage (#13 §5): the data is synced, then read back
# with O_DIRECT, so the verification covers the disk and not only the page cache. Odd
# sizes, sparse files, files past the 16 MiB mapping threshold and split copies still come
# out exact; where a file system refuses O_DIRECT, pcopy says so once and re-reads the
# page cache.
. "$(dirname "$0")/../../lib.sh"
not_in() { ! grep -q "$1" "$2"; }

mkdir src
for n in 1 511 4095 4096 4097 65537 1048579; do head -c $n /dev/urandom >src/f$n; done
head -c $((17 * 1048576 + 5)) /dev/urandom >src/big  # re-read through mmap without --fsync
truncate -s 40000001 src/sparse                      # holes, and a size that is no block multiple
printf 'middle' | dd of=src/sparse bs=1 seek=$((20 << 20)) conv=notrunc status=none
printf 'end' | dd of=src/sparse bs=1 seek=39999990 conv=notrunc status=none
: >src/empty

"$PCOPY" -q --fsync --manifest m.xxh src dst
check "--fsync: exit 0" [ $? -eq 0 ]
check "--fsync: the tree is exact" same_tree src dst
check "--fsync: the manifest checks out" sh -c 'cd dst && xxh128sum --quiet -c ../m.xxh'
check "--fsync: the sparse file stays sparse" [ "$(stat -c %b dst/sparse)" -lt 1000 ]

# Split copies: each part is synced and read back from the storage as well.
PCOPY_TEST_SPLIT_MIN=$((4 << 20)) "$PCOPY" -q -j3 --fsync src split
check "--fsync, split copies: exact" same_tree src split

if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
	strace -f -e trace=openat,fcntl -o with.txt "$PCOPY" -q --fsync --force src dst
	check "--fsync: the re-read uses O_DIRECT" grep -q "O_DIRECT[|)]" with.txt
	strace -f -e trace=openat,fcntl -o without.txt "$PCOPY" -q --force src dst
	check "without --fsync: no O_DIRECT" not_in "O_DIRECT[|)]" without.txt
	check "the copy is still exact" same_tree src dst
else
	skip "strace cannot trace here"
fi

# A file system that refuses O_DIRECT: the page cache is re-read, and pcopy says so once.
use_inject
LD_PRELOAD=$INJECT FAULT_NO_DIRECT=1 "$PCOPY" -q --fsync src nodirect 2>err.txt
check "O_DIRECT refused: exit 0" [ $? -eq 0 ]
check "O_DIRECT refused: exact copy" same_tree src nodirect
check "O_DIRECT refused: one note that says so ($(head -c 300 err.txt))" [ "$(grep -c 'O_DIRECT' err.txt)" -eq 1 ]
finish
