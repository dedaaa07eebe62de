#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A write error on standard output is never silent: pcopy and pbatch say
# "write error: No space left on device" (or what went wrong) on stderr and exit 1, as GNU
# coreutils do (1, not 2: the files may be in place already). /dev/full fails every write.
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}

if ! [ -c /dev/full ]; then
	skip "no /dev/full"
	finish
fi
mkdir -p src/sub
for i in $(seq 1 50); do echo "$i" >"src/sub/f$i"; done

# full DESCRIPTION PATTERN COMMAND...: COMMAND with stdout on /dev/full exits 1, and its
# stderr matches PATTERN.
full() {
	local d=$1 pat=$2
	shift 2
	"$@" >/dev/full 2>err.txt
	local rc=$?
	check "$d: exit 1 ($rc)" [ "$rc" = 1 ]
	check "$d: says so" grep -q "$pat" err.txt
	[ "$rc" = 1 ] && grep -q "$pat" err.txt || cat err.txt
}

WE='^pcopy: write error: No space left on device$'
full "pcopy --help" "$WE" "$PCOPY" --help
full "pcopy --version" "$WE" "$PCOPY" --version
full "pcopy --json" "$WE" "$PCOPY" -q --json src d1
check "pcopy --json: the files were copied all the same" same_tree src d1
full "pcopy -v" "$WE" "$PCOPY" -q -v src d2
full "pcopy --stats" "$WE" "$PCOPY" -q --stats src d3
full "pcopy --manifest -" "^pcopy: .*No space left on device$" "$PCOPY" -q --manifest - src d4
check "pcopy --manifest -: one message" [ "$(wc -l <err.txt)" = 1 ]
full "pcopy -n" "$WE" "$PCOPY" -q -n src d5
full "pcopy --tar --json" "$WE" "$PCOPY" -q --tar a.tar --json src
full "pcopy --tar -v" "$WE" "$PCOPY" -q -v --tar b.tar src
full "pcopy --extract --json" "$WE" "$PCOPY" -q --json --extract a.tar x1
echo changed >d1/sub/f1
full "pcopy --check" "$WE" "$PCOPY" -q --check src d1
check "nothing written, nothing to say: pcopy --check on identical trees exits 0" \
	sh -c '"$1" -q --check src d2 >/dev/full' sh "$PCOPY"

PE='^pbatch: write error: No space left on device$'
full "pbatch --help" "$PE" "$PBATCH" --help
full "pbatch --version" "$PE" "$PBATCH" --version
echo 'echo hello' >cmds
full "pbatch output" "$PE" "$PBATCH" cmds
full "pbatch --json" "$PE" "$PBATCH" --json cmds
echo 'true' >quiet.cmds
check "pbatch with nothing to print exits 0" sh -c '"$1" quiet.cmds >/dev/full' sh "$PBATCH"

finish
