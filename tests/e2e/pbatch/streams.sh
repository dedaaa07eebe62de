#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# pbatch keeps each command's stdout and stderr apart, as GNU parallel does: grouped per
# command, each on the stream it was written to (--tag on both); output larger than a pipe
# holds and background processes do not stall it; a spool that cannot be written (a full
# TMPDIR) is reported and counted as a failure, never cut short in silence.
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}

# Commands whose stdout and stderr lines alternate, and that run at the same time.
for k in 1 2 3 4; do
	echo "for i in \$(seq 50); do echo out$k \$i; echo err$k \$i >&2; [ \$i = 25 ] && sleep 0.0$k; done"
done >mixed.cmds
"$PBATCH" -j 4 mixed.cmds >pb.out 2>pb.err
check "stdout has only stdout lines (200)" [ "$(grep -c '^out' pb.out)" = 200 -a "$(grep -vc '^out' pb.out)" = 0 ]
check "stderr has only stderr lines (200)" [ "$(grep -c '^err' pb.err)" = 200 -a "$(grep -vc '^err' pb.err)" = 0 ]
check "each command's stdout is in one piece" [ "$(awk '{ print $1 }' pb.out | uniq | wc -l)" = 4 ]
check "each command's stderr is in one piece" [ "$(awk '{ print $1 }' pb.err | uniq | wc -l)" = 4 ]
check "lines of a stream keep their order" [ "$(grep '^out3' pb.out | awk '{ print $2 }' | tr '\n' ' ')" = "$(seq 50 | tr '\n' ' ')" ]

# The same as GNU parallel (its grouping, one command at a time so the order is fixed).
printf '%s\n' 'echo a1; echo e1 >&2; printf partial; printf perr >&2' 'echo b1 >&2; echo b2' 'true' >two.cmds
if command -v parallel >/dev/null 2>&1; then
	parallel --will-cite -j 1 <two.cmds >par.out 2>par.err
	"$PBATCH" -j 1 two.cmds >pb2.out 2>pb2.err
	check "stdout as GNU parallel's" cmp -s par.out pb2.out
	check "stderr as GNU parallel's" cmp -s par.err pb2.err
	parallel --will-cite -j 1 --tag <two.cmds >par.out 2>par.err
	"$PBATCH" -j 1 --tag two.cmds >pb2.out 2>pb2.err
	check "--tag: stdout as GNU parallel's" cmp -s par.out pb2.out
	check "--tag: stderr as GNU parallel's" cmp -s par.err pb2.err
else
	skip "GNU parallel is not installed"
fi

# More than a pipe holds, on both streams at once: nothing lost, nothing stalls.
echo 'head -c 3000000 /dev/zero | tr "\0" o; head -c 2000000 /dev/zero | tr "\0" e >&2' >big.cmds
timeout 60 "$PBATCH" big.cmds >big.out 2>big.err
check "big output: exit 0" [ $? = 0 ]
check "big output: 3 MB on stdout, 2 MB on stderr" [ "$(wc -c <big.out)" = 3000000 -a "$(wc -c <big.err)" = 2000000 ]
check "--joblog Receive counts both streams" sh -c '"$1" --joblog jl "$2" >/dev/null 2>&1 && [ "$(tail -1 jl | cut -f6)" = 5000000 ]' sh "$PBATCH" big.cmds

# A command that leaves a process behind still holding its output does not hold pbatch up.
start=$(date +%s)
echo "(sleep 5; echo late) & echo now" | "$PBATCH" >bg.out 2>&1
check "a background process does not hold pbatch up" [ $(($(date +%s) - start)) -lt 4 ]
check "... and what the command wrote is there" grep -qx now bg.out

# A full TMPDIR: the spool cannot take the output.
if [ "$(id -u)" = 0 ] && mkdir full && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
	trap 'umount "$T/full" 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
	dd if=/dev/zero of=full/fill bs=4k status=none 2>/dev/null
	printf '%s\n' 'echo hello; echo oops >&2; true' >full.cmds
	TMPDIR=$T/full "$PBATCH" full.cmds >full.out 2>full.err
	rc=$?
	check "full TMPDIR: exit 1 ($rc)" [ "$rc" = 1 ]
	check "full TMPDIR: says so" grep -q "^pbatch: .*: No space left on device$" full.err
	TMPDIR=$T/full "$PBATCH" --json full.cmds >full.json 2>/dev/null
	check "full TMPDIR: --json counts the command failed" grep -q '"event":"summary".*"failed":1' full.json
	rm full/fill
	TMPDIR=$T/full "$PBATCH" full.cmds >full.out 2>full.err
	check "room again: exit 0, output whole" [ $? = 0 -a "$(cat full.out)" = hello -a "$(cat full.err)" = oops ]
	umount full
else
	skip "cannot mount a small tmpfs (not root?)"
fi

finish
