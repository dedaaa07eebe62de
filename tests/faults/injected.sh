#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Disk errors injected with an LD_PRELOAD library (tests/faults/inject.c): a quota that runs
# out (EDQUOT), a source with a bad sector (EIO on read), a copy that cannot be read back,
# and a destination that silently corrupts what is written. Each time: a clear message naming
# the file, exit 1, the other files copied, nothing wrong under a final name, no temporary
# file left, and a later run without the fault finishes the job.
. "$(dirname "$0")/../lib.sh"

use_inject

mkdir src
for i in 1 2 3 4 5 6 7 8; do head -c $((1 << 20)) /dev/urandom >src/f$i; done
mkdir src/sub && echo small >src/sub/s

# finals_complete DST: every regular file under DST equals its source twin.
finals_complete() {
	(cd "$1" && find . -type f -print0) | while IFS= read -r -d '' f; do
		cmp -s "src/$f" "$1/$f" || { echo "wrong under its final name: $f"; exit 1; }
	done
}

# faulty NAME EXPECTED-MESSAGE VAR=VALUE...: copy src to dst-NAME with the fault, check, re-run.
faulty() {
	local name=$1 msg=$2 dst=dst-$1
	shift 2
	env "$@" LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src "$dst" 2>"$name.err"
	local rc=$?
	check "$name: exit 1 (got $rc)" [ $rc -eq 1 ]
	# A read error names the source file, a failure in the destination the destination's.
	local side=$dst
	case $msg in "read error"*) side=src ;; esac
	check "$name: '$msg' names the file ($side/...)" grep -q "^pcopy: $side/[a-z0-9/]*: $msg" "$name.err"
	check "$name: nothing wrong under a final name" finals_complete "$dst"
	check "$name: no temporary files" no_tmp "$dst"
	local n
	n=$(grep -c "^pcopy: \(src\|$dst\)/" "$name.err")
	check "$name: every file is copied or reported" [ $(($(find "$dst" -type f | wc -l) + n)) -ge 9 ]
	"$PCOPY" -q src "$dst"
	check "$name: a run without the fault finishes the job" same_tree src "$dst"
}

faulty quota "write error in destination: Disk quota exceeded" FAULT_WRITE_ERRNO=EDQUOT FAULT_WRITE_AFTER=$((3 << 20))
faulty full "write error in destination: No space left on device" FAULT_WRITE_ERRNO=ENOSPC FAULT_WRITE_AFTER=$((2 << 20))
faulty bad-sector "read error: Input/output error" FAULT_READ_MATCH=/src/f3
check "bad-sector: only the bad file failed" [ "$(grep -c '^pcopy:' bad-sector.err)" -eq 1 ]
# The copy is a named temporary file or, for small files, an unnamed one (O_TMPFILE).
faulty unreadable-copy "cannot re-read the copy: Input/output error" "FAULT_READ_MATCH=.pcopy-tmp.|(deleted)"
faulty corrupting-disk "verification failed" FAULT_WRITE_CORRUPT=1

# Nothing can be written at all: every file is reported, and none is under a final name.
env FAULT_WRITE_ERRNO=EDQUOT LD_PRELOAD="$INJECT" "$PCOPY" -q src dst-none 2>none.err
check "no space at all: exit 1" [ $? -eq 1 ]
check "no space at all: all 9 files reported" [ "$(grep -c 'Disk quota exceeded' none.err)" -eq 9 ]
check "no space at all: no regular file under a final name" [ -z "$(find dst-none -type f | head -1)" ]

# A big file copied in parts (256 MiB and more) whose parts hit a full disk: one message,
# the shared temporary file removed, nothing under the final name.
mkdir src-split
head -c $((300 << 20)) /dev/urandom >src-split/big
env FAULT_WRITE_ERRNO=ENOSPC FAULT_WRITE_AFTER=$((40 << 20)) LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-split dst-split 2>split.err
check "split copy, disk full: exit 1" [ $? -eq 1 ]
check "split copy, disk full: one message naming the file" [ "$(grep -c '^pcopy: dst-split/big: write error in destination: No space left on device' split.err)" -eq 1 ]
check "split copy, disk full: no temporary file" no_tmp dst-split
check "split copy, disk full: nothing under the final name" [ ! -e dst-split/big ]

# Copies of 16 MiB and more are re-read through mmap, not read(): corruption is still caught,
# in a whole file and in the first part of a split copy.
mkdir src-mapped
head -c $((24 << 20)) /dev/urandom >src-mapped/mid
env FAULT_WRITE_CORRUPT=1 LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-mapped dst-mapped 2>mapped.err
check "mapped re-read, corrupting disk: exit 1" [ $? -eq 1 ]
check "mapped re-read: the corruption is reported" grep -q '^pcopy: dst-mapped/mid: verification failed' mapped.err
check "mapped re-read: nothing under the final name" [ ! -e dst-mapped/mid ]
check "mapped re-read: no temporary file" no_tmp dst-mapped
env FAULT_MMAP_SHRINK=1 LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-mapped dst-shrunk 2>shrunk.err
check "mapped re-read, a page that cannot be read: exit 1" [ $? -eq 1 ]
check "mapped re-read fault: 'cannot re-read the copy: Input/output error'" grep -q '^pcopy: dst-shrunk/mid: cannot re-read the copy: Input/output error' shrunk.err
check "mapped re-read fault: no worker died for it" bash -c '! grep -q "worker died" shrunk.err'
check "mapped re-read fault: nothing under the final name" [ ! -e dst-shrunk/mid ]
check "mapped re-read fault: no temporary file" no_tmp dst-shrunk
"$PCOPY" -q src-mapped dst-shrunk
check "mapped re-read fault: a run without it finishes the job" cmp -s src-mapped/mid dst-shrunk/mid
# A source of 16 MiB and more is read through mmap too: a page that cannot be read is a read
# error, in a whole file and in a split copy's part, never a worker killed by SIGBUS.
env FAULT_READ_MATCH=src-mapped/mid LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-mapped dst-unread 2>unread.err
check "mapped source, a page that cannot be read: exit 1" [ $? -eq 1 ]
check "mapped source fault: 'read error: Input/output error' ($(head -c 300 unread.err))" grep -q '^pcopy: src-mapped/mid: read error: Input/output error' unread.err
check "mapped source fault: no worker died for it" bash -c '! grep -q "worker died" unread.err'
check "mapped source fault: nothing under the final name" [ ! -e dst-unread/mid ]
check "mapped source fault: no temporary file" no_tmp dst-unread
env FAULT_READ_MATCH=src-split/big LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-split dst-unread2 2>unread2.err
check "split source, a page that cannot be read: exit 1" [ $? -eq 1 ]
check "split source fault: one read error ($(head -c 300 unread2.err))" [ "$(grep -c '^pcopy: src-split/big: read error: Input/output error' unread2.err)" -eq 1 ]
check "split source fault: no worker died for it" bash -c '! grep -q "worker died" unread2.err'
check "split source fault: nothing under the final name" [ ! -e dst-unread2/big ]
check "split source fault: no temporary file" no_tmp dst-unread2
env FAULT_WRITE_CORRUPT=1 LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src-split dst-split2 2>split2.err
check "split copy, corrupting disk: exit 1" [ $? -eq 1 ]
check "split copy, corrupting disk: reported" grep -q '^pcopy: dst-split2/big: verification failed' split2.err
check "split copy, corrupting disk: nothing under the final name" [ ! -e dst-split2/big ]
check "split copy, corrupting disk: no temporary file" no_tmp dst-split2
finish
