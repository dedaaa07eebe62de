#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Small files are written unnamed (O_TMPFILE) and linked under their name once verified; big
# ones under a temporary name. Each way must fall back cleanly: a file system without
# O_TMPFILE, a process that may not link by descriptor (linkat AT_EMPTY_PATH), and a name
# that another program takes between the check and the link. Each time the copy is exact and
# no temporary file stays behind.
. "$(dirname "$0")/../lib.sh"

use_inject

mkdir -p src/sub
for i in 1 2 3 4 5 6; do head -c $((i * 1000)) /dev/urandom >src/f$i; done
head -c $((1 << 20)) /dev/urandom >src/sub/edge          # exactly the unnamed limit
head -c $(((1 << 20) + 1)) /dev/urandom >src/sub/over    # one byte over it
: >src/empty
printf 'x' >src/sub/one

if command -v strace >/dev/null 2>&1; then
	strace -f -qq -o trace.txt -e trace=openat,linkat,renameat "$PCOPY" -q -j 2 src dst-trace
	check "traced copy is exact" same_tree src dst-trace
	check "small files are created unnamed (O_TMPFILE)" grep -q 'O_TMPFILE' trace.txt
	check "and linked under their name" grep -q 'linkat(.*"f3"' trace.txt
	check "a file of exactly 1 MiB is still unnamed" grep -q 'linkat(.*"edge"' trace.txt
	check "a bigger file goes through a temporary name" grep -q 'renameat(.*pcopy-tmp.*"over"' trace.txt
	check "no small file is renamed" bash -c '! grep -q "renameat(.*\"f[0-9]\"" trace.txt'
	check "no temporary files" no_tmp dst-trace
else
	skip "strace is not installed"
fi

# fallback NAME VAR=VALUE...: copy src to dst-NAME with the fault; it must not show.
fallback() {
	local name=$1 dst=dst-$1
	shift
	if [ "$name" = no-proc ]; then
		noproc env "$@" LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src "$dst" 2>"$name.err"
	else
		env "$@" LD_PRELOAD="$INJECT" "$PCOPY" -q -j 2 src "$dst" 2>"$name.err"
	fi
	local rc=$?
	check "$name: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "$name: nothing said" [ ! -s "$name.err" ]
	check "$name: exact copy" same_tree src "$dst"
	check "$name: no temporary files" no_tmp "$dst"
}

fallback no-tmpfile FAULT_NO_TMPFILE=1
fallback no-flink FAULT_NO_FLINK=1
fallback name-taken FAULT_LINK_TAKEN=f4
check "name-taken: the copy replaced the intruder" cmp -s src/f4 dst-name-taken/f4

# Neither way of linking an unnamed file open (an old kernel, not root, no /proc): every file
# still lands, under a temporary name, and nothing is said. Needs a mount namespace.
noproc() { unshare -m --propagation private sh -c 'umount -l /proc && exec "$@"' sh "$@"; }
if [ "$(id -u)" = 0 ] && noproc "$PCOPY" --version >/dev/null 2>&1; then
	fallback no-proc FAULT_NO_FLINK=1
else
	skip "no /proc: needs root, unshare, and a pcopy that starts without /proc (not under ASan)"
fi

# The same into an existing tree: new names are free (unnamed), changed ones are replaced.
cp -a dst-no-tmpfile dst-again
rm dst-again/f2
echo changed >src/f5
touch -d '2001-01-01' src/f5
"$PCOPY" -q src dst-again
check "re-run: exit 0" [ $? -eq 0 ]
check "re-run: exact copy" same_tree src dst-again
check "re-run: no temporary files" no_tmp dst-again

finish
