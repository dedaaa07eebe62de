#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A failure in the destination names the destination path (as cp's "cannot create regular
# file 'DEST/x'"); a failure in the source names the source path.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/ro src/ok && echo a >src/ro/a && echo b >src/ok/b && echo c >src/c
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# As a user who cannot write into dst/ro (it is not theirs and not writable).
	"$PCOPY" -q src dst
	echo a2 >src/ro/a
	touch -d '2000-01-01' src/ro/a
	chown -R nobody src dst && chown root dst/ro && chmod 755 dst/ro
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q src dst 2>err.txt || rc=$?
	check "read-only destination directory: exit 1" [ "$rc" = 1 ]
	check "read-only destination directory: the message names the destination file" \
		grep -q "^pcopy: dst/ro/a: cannot create in destination: Permission denied" err.txt
	check "... and not the source file" bash -c '! grep -q "^pcopy: src/" err.txt'
	# A directory that cannot be made is named by its destination path too.
	mkdir src/ro/newdir
	rc=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q src dst 2>err.txt || rc=$?
	check "directory that cannot be made: the message names the destination" \
		grep -q "^pcopy: dst/ro/newdir: cannot create directory: Permission denied" err.txt
	rmdir src/ro/newdir
	chown -R root src dst
else
	skip "the read-only destination case needs root and setpriv"
fi

# An injected write error: the destination file is named.
use_inject
rm -rf dst2
rc=0
env FAULT_WRITE_ERRNO=EIO LD_PRELOAD="$INJECT" "$PCOPY" -q -j 1 src dst2 2>err.txt || rc=$?
check "write error: exit 1" [ "$rc" = 1 ]
check "write error: the message names the destination file" \
	grep -q "^pcopy: dst2/c: write error in destination: Input/output error" err.txt
check "write error: no message names a source file" bash -c '! grep -q "^pcopy: src/" err.txt'
# A read error still names the source file.
rm -rf dst3
rc=0
env FAULT_READ_MATCH=/src/c LD_PRELOAD="$INJECT" "$PCOPY" -q -j 1 src dst3 2>err.txt || rc=$?
check "read error: exit 1" [ "$rc" = 1 ]
check "read error: the message names the source file" grep -q "^pcopy: src/c: read error: Input/output error" err.txt
# A single file copied to another name: the destination name is the one given.
rc=0
env FAULT_WRITE_ERRNO=EIO LD_PRELOAD="$INJECT" "$PCOPY" -q src/c single-copy 2>err.txt || rc=$?
check "file root, write error: the message names the destination name" \
	grep -q "^pcopy: single-copy: write error in destination" err.txt
finish
