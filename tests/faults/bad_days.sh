#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Bad days: a full destination (a real small tmpfs), a source file that keeps changing while
# it is copied, a file swapped for a FIFO, sources that vanish mid-run. No final name may
# ever hold partial or unverified data, and no temporary file may stay behind.
. "$(dirname "$0")/../lib.sh"

# every_final_name_complete SRC DST: each regular file in DST equals its source.
every_final_name_complete() {
	(cd "$2" && find . -type f -print0) | while IFS= read -r -d '' f; do
		cmp -s "$1/$f" "$2/$f" || { echo "partial or wrong: $f"; exit 1; }
	done
}

# Full destination (ENOSPC): a 4 MiB tmpfs, 8 MiB of files.
mkdir src-full
for i in 1 2 3 4; do head -c $((2 << 20)) /dev/urandom >src-full/big$i; done
for i in $(seq 1 20); do echo $i >src-full/small$i; done
mkdir full
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=4m tmpfs full 2>/dev/null; then
	"$PCOPY" -q src-full full/dst 2>err.txt
	rc=$?
	check "ENOSPC: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "ENOSPC: the message names the file and the reason" grep -q '^pcopy: full/dst/big[0-9]: write error in destination: No space left on device' err.txt
	check "ENOSPC: no temporary files left" no_tmp full/dst
	check "ENOSPC: every final name holds a complete file" every_final_name_complete src-full full/dst
	accounted=1
	for f in src-full/*; do
		b=${f#src-full/}
		[ -f "full/dst/$b" ] || grep -q "^pcopy: full/dst/$b: " err.txt || accounted=0
	done
	check "ENOSPC: every file is either copied or reported" [ $accounted = 1 ]
	check "ENOSPC: some files still made it" [ "$(find full/dst -type f | wc -l)" -ge 1 ]
	umount full
	mount -t tmpfs -o size=16m tmpfs full
	"$PCOPY" -q src-full full/dst
	check "ENOSPC: with room again, a re-run copies everything (exit $?)" same_tree src-full full/dst
	umount full
else
	skip "cannot mount a small tmpfs here for the ENOSPC case"
fi

# A source that changes during the copy is retried once, then reported; never recorded as
# copied with mixed content.
mkdir src-grow
head -c $((64 << 20)) /dev/zero >src-grow/growing
echo stable >src-grow/stable
( end=$((SECONDS + 30)); while [ $SECONDS -lt $end ] && [ ! -e stop-writer ]; do echo more >>src-grow/growing; done ) &
writer=$!
sleep 0.2
"$PCOPY" -q --json src-grow dst-grow >grow.json 2>err.txt
rc=$?
touch stop-writer
wait $writer
check "changing source: exit 1 (got $rc)" [ $rc -eq 1 ]
check "changing source: reported as changed" grep -q "^pcopy: src-grow/growing: the file changed while it was being copied" err.txt
check "changing source: not under its final name" [ ! -e dst-grow/growing ]
check "changing source: not reported as copied" bash -c '! grep -q "\"copied\",\"path\":\"growing\"" grow.json'
check "changing source: the rest copied" cmp -s src-grow/stable dst-grow/stable
check "changing source: no temporary files" no_tmp dst-grow

# A regular file replaced by a FIFO after the scan must not hang the run.
mkdir src-fifo && echo 1 >src-fifo/a && echo 2 >src-fifo/b
PCOPY_TEST_SLOW_MS=400 timeout 20 "$PCOPY" -q -j 1 src-fifo dst-fifo 2>err.txt &
pid=$!
sleep 0.2
rm src-fifo/b && mkfifo src-fifo/b
wait $pid
rc=$?
check "file swapped for a FIFO: no hang, exit 1 (got $rc)" [ $rc -eq 1 ]
check "file swapped for a FIFO: reported" grep -q '^pcopy: src-fifo/b: ' err.txt
check "file swapped for a FIFO: no temporary files" no_tmp dst-fifo

# Sources that vanish during the run are reported, not fatal; the rest is copied.
mkdir -p src-gone/dir src-gone/later
for i in 1 2 3 4 5 6; do echo $i >src-gone/f$i; done
echo x >src-gone/dir/x && echo y >src-gone/later/y
PCOPY_TEST_SLOW_MS=200 "$PCOPY" -q -j 1 src-gone dst-gone 2>gone.err &
pid=$!
sleep 0.3
rm -f src-gone/f5
rm -rf src-gone/later
wait $pid
rc=$?
check "vanishing source: exit 1 (got $rc)" [ $rc -eq 1 ]
check "vanishing source: the vanished file is reported" grep -q '^pcopy: src-gone/f5: cannot open: No such file or directory' gone.err
check "vanishing source: the rest is copied" bash -c 'for i in 1 2 3 4 6; do cmp -s src-gone/f$i dst-gone/f$i || exit 1; done && cmp -s src-gone/dir/x dst-gone/dir/x'
check "vanishing source: no temporary files" no_tmp dst-gone
finish
