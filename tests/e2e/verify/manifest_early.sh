#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --manifest FILE that cannot be written is refused before anything is copied (exit 2 means
# nothing was created); one that can is written at the end, also inside a destination the run
# creates, and a run that fails or is interrupted leaves no half-written manifest.
. "$(dirname "$0")/../../lib.sh"

make_tree src
# refused WHAT ARGS...: exit 2, a message naming the manifest, no destination.
refused() {
	local what=$1; shift
	local rc=0
	rm -rf dst
	"$@" 2>err.txt || rc=$?
	check "$what: exit 2 (got $rc)" [ "$rc" = 2 ]
	check "$what: the message names the manifest" grep -q "^pcopy: cannot write manifest '" err.txt
	check "$what: nothing created" [ ! -e dst ]
}
refused "manifest in a directory that does not exist" "$PCOPY" -q --manifest nodir/m src dst
mkdir adir
refused "manifest that is a directory" "$PCOPY" -q --manifest adir src dst
echo x >afile
refused "manifest below a file" "$PCOPY" -q --manifest afile/m src dst
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir ro && chmod 555 ro && chown nobody "$T"
	refused "manifest in a read-only directory (as nobody)" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q --manifest ro/m src dst
	check "... no temporary manifest left" [ -z "$(ls -A ro)" ]
	chown root "$T"
else
	skip "the read-only directory case needs root and setpriv"
fi

# A manifest beside the destination, and one inside the destination the run creates.
rm -rf dst
"$PCOPY" -q --manifest m.txt src dst
check "manifest beside the destination: written" [ -s m.txt ]
check "... and true" bash -c 'cd dst && xxh128sum --quiet -c ../m.txt 2>/dev/null'
rm -rf dst2
"$PCOPY" -q --manifest dst2/MANIFEST src dst2
check "manifest inside the destination the run creates: written" [ -s dst2/MANIFEST ]
cp dst2/MANIFEST m2.txt
check "... and true" bash -c 'cd dst2 && xxh128sum --quiet -c ../m2.txt 2>/dev/null'
# --delete does not remove the manifest being written into the destination.
"$PCOPY" -q --delete --manifest dst2/MANIFEST src dst2
check "--delete with the manifest inside the destination: it is there" [ -s dst2/MANIFEST ]
check "... nothing else of ours left" bash -c '[ -z "$(ls -A dst2 | grep -e "MANIFEST." -e "^.pcopy-tmp")" ]'
# Interrupted: no manifest, no temporary one.
rm -f m3.txt
PCOPY_TEST_SLOW_MS=200 "$PCOPY" -q -j 1 --manifest m3.txt src dst3 2>/dev/null &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
check "interrupted: no manifest" [ ! -e m3.txt ]
check "interrupted: no temporary manifest" [ -z "$(ls -A | grep '^m3\.txt')" ]
# Without unnamed files (or a way to name them), the same guarantees by other means.
use_inject
refused "no unnamed files: manifest in a directory that does not exist" \
	env FAULT_NO_TMPFILE=1 LD_PRELOAD="$INJECT" "$PCOPY" -q --manifest nodir/m src dst
rm -rf dst4 m4.txt
env FAULT_NO_TMPFILE=1 LD_PRELOAD="$INJECT" "$PCOPY" -q --manifest m4.txt src dst4
check "no unnamed files: the manifest is written" cmp -s m.txt m4.txt
rm -rf dst4 m4.txt
env FAULT_NO_FLINK=1 LD_PRELOAD="$INJECT" "$PCOPY" -q --manifest m4.txt src dst4
check "unnamed files named through /proc: the manifest is written" cmp -s m.txt m4.txt
check "... no temporary names left" [ -z "$(ls -A | grep -e '^.pcopy-tmp' -e '^m4.txt.')" ]
finish
