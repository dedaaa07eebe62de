#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A big source (16 MiB and more: hashed through mmap and written from the mapping) that
# changes while it is copied: rewritten, rewritten with its mtime put back, truncated, in a
# whole file and in a split copy's parts. Whatever the timing, pcopy never leaves a copy
# that differs from the source under the final name with exit 0, and no worker dies of
# SIGBUS. --bwlimit slows the copy down so that the change lands in the middle of it. Also:
# a destination that fills up (a small tmpfs, when this runs as root).
. "$(dirname "$0")/../../lib.sh"

mkdir src
head -c $((32 << 20)) /dev/urandom >src/f

# after_copy NAME RC: exit 0 only with an exact copy; else the file reported, not in place.
after_copy() {
	if [ "$2" -eq 0 ]; then
		check "$1: exit 0 with an exact copy" cmp -s src/f "dst-$1/f"
	else
		check "$1: exit $2 with a message ($(head -c 200 "$1.err"))" grep -q '^pcopy: src/f: ' "$1.err"
		check "$1: nothing under the final name" [ ! -e "dst-$1/f" ]
	fi
	check "$1: no worker died ($(head -c 200 "$1.err"))" bash -c "! grep -q 'worker died' $1.err"
	check "$1: no temporary file" no_tmp "dst-$1"
}

# 32 MiB at 16 MiB/s: about 2 s; the change comes after 0.5 s.
"$PCOPY" -q --bwlimit 16M src dst-rewritten 2>rewritten.err &
pid=$!
sleep 0.5
dd if=/dev/urandom of=src/f bs=1M seek=24 count=4 conv=notrunc status=none
wait $pid
after_copy rewritten $?

# The same with the mtime put back: only the data shows the change.
touch -r src/f ref
"$PCOPY" -q --bwlimit 16M src dst-sametime 2>sametime.err &
pid=$!
sleep 0.5
dd if=/dev/urandom of=src/f bs=1M seek=28 count=4 conv=notrunc status=none
touch -r ref src/f
wait $pid
after_copy sametime $?

"$PCOPY" -q --bwlimit 16M src dst-truncated 2>truncated.err &
pid=$!
sleep 0.5
truncate -s $((20 << 20)) src/f
wait $pid
after_copy truncated $?

# A split copy (256 MiB and more): parts copied by two workers; the source shrinks while
# they are at it.
head -c $((300 << 20)) /dev/urandom >src/f
"$PCOPY" -q -j 2 --bwlimit 200M src dst-split 2>split.err &
pid=$!
sleep 0.5
truncate -s $((100 << 20)) src/f
wait $pid
after_copy split $?
head -c $((300 << 20)) /dev/urandom >src/f
"$PCOPY" -q -j 2 --bwlimit 200M src dst-split-rewritten 2>split-rewritten.err &
pid=$!
sleep 0.5
dd if=/dev/urandom of=src/f bs=1M seek=200 count=50 conv=notrunc status=none
wait $pid
after_copy split-rewritten $?

# A verified copy is never the kernel's (copy_file_range may share the source's blocks, a
# reflink, which a re-read cannot tell from a copy): whole, in parts, with a manifest. Only
# --no-verify without hashes asks the kernel.
if have_inject; then
	head -c $((300 << 20)) /dev/urandom >src/f
	head -c $((32 << 20)) /dev/urandom >src/g
	for how in "" "--manifest m.txt"; do
		rm -f kernel.log
		env FAULT_COPY_RANGE_LOG="$PWD/kernel.log" LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 $how src "dst-k$how"
		check "pcopy $how: exact" cmp -s src/f "dst-k$how/f"
		check "pcopy $how: no kernel copy" [ ! -s kernel.log ]
	done
	env FAULT_COPY_RANGE_LOG="$PWD/kernel.log" LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 --no-verify src dst-nv
	check "--no-verify: exact" cmp -s src/g dst-nv/g
	check "--no-verify: the kernel copies (the log works)" [ -s kernel.log ]
else
	skip "kernel copy: the fault injection library $INJECT is not built"
fi

# A destination with room for 8 MiB: the 32 MiB copy fails with ENOSPC, cleanly.
mkdir small
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=8m tmpfs small 2>/dev/null; then
	head -c $((32 << 20)) /dev/urandom >src/f
	"$PCOPY" -q src small/dst 2>full.err
	rc=$?
	check "full destination: exit 1" [ $rc -eq 1 ]
	check "full destination: ENOSPC named ($(head -c 200 full.err))" grep -q '^pcopy: small/dst/f: write error in destination: No space left on device' full.err
	check "full destination: nothing under the final name" [ ! -e small/dst/f ]
	check "full destination: no temporary file" no_tmp small/dst
	umount small
else
	skip "full destination: needs root to mount a small tmpfs"
fi
finish
