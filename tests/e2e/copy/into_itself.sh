#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A destination inside its own source is refused (exit 2, nothing created) however it is
# reached: by path, through a symlink, or through a bind mount of the source (which no path
# comparison can see: the ancestors' device and inode numbers give it away), as GNU cp does.
. "$(dirname "$0")/../../lib.sh"

# refused WHAT SRCROOT ARGS...: exit 2, a message naming the copy into itself, and nothing
# created below SRCROOT. A run that is not refused copies itself forever: the timeout and the
# small file system below bound that.
refused() {
	local what=$1 root=$2; shift 2
	local before after rc=0
	before=$(cd "$root" && find . | sort)
	timeout 5 "$PCOPY" -q "$@" 2>err.txt || rc=$?
	after=$(cd "$root" && find . | sort)
	check "$what: exit 2" [ "$rc" = 2 ]
	check "$what: says it is a copy into itself" grep -q "into itself" err.txt
	check "$what: nothing created in the source" [ "$before" = "$after" ]
}

mkdir -p s/inner && echo x >s/f
refused "by path" s s s/sub
refused "by path, below a subdirectory" s s s/inner/sub
ln -s s via-link
refused "through a symlink to the source" s s via-link/sub
ln -s ../.. s/inner/back
refused "through a symlink inside the source" s s s/inner/back/s/inner/x
rm s/inner/back

if [ "$(id -u)" != 0 ] || ! mkdir m || ! mount -t tmpfs -o size=4m tmpfs m 2>/dev/null; then
	skip "bind mount cases need root, tmpfs and mount --bind"
	finish
fi
trap 'cd /; umount "$T/m/b" "$T/m/b2" 2>/dev/null; umount "$T/m"; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd m || exit 99
mkdir -p s/inner b && echo x >s/f
if ! mount --bind s b; then
	skip "mount --bind failed"
	finish
fi
refused "through a bind mount of the source" s s b/sub
refused "through a bind mount, deeper" s s b/inner/sub
refused "through a bind mount, into an existing directory" s s b/inner
refused "two sources, one copied into itself through a bind mount" s "$T/via-link/f" s b/inner
# --delete where the destination holds the source through a bind mount would delete it.
mkdir -p s2/x b2 && echo y >s2/x/g && mount --bind s2 b2
rc=0
timeout 5 "$PCOPY" -q --delete b2/x s2 2>err.txt || rc=$?
check "--delete into a destination that holds the source (bind mount): exit 2" [ "$rc" = 2 ]
check "... the source is still there" [ -f s2/x/g ]
umount b2
# The bind mount copied somewhere else is fine.
mkdir out && "$PCOPY" -q b out/copy
check "copying a bind mount elsewhere works" same_tree s out/copy
umount b
finish
