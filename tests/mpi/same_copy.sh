#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# pcopy-mpi on 1, 2 and 4 ranks makes the same exact copy, the same manifest and the same
# --json events as pcopy on the same tree: odd names, hard links (also across directories),
# sparse files, FIFOs, symlinks, times, modes, owners, many files in many directories (listed
# by the ranks), and a big file split into parts that several ranks copy at once.
. "$(dirname "$0")/../lib.sh"
use_mpi

mkdir src
make_tree src
for d in $(seq 1 12); do
	mkdir -p "src/many/d$d/e"
	for f in $(seq 1 25); do
		printf '%s %s\n' "$d" "$f" >"src/many/d$d/f$f"
	done
	head -c $((d * 7000)) /dev/urandom >"src/many/d$d/e/blob"
done
ln src/many/d1/f1 "src/many/d2/link to d1 f1"
ln src/sub/random.bin src/many/d3/e/hard3
# A 5 MiB file, split from 1 MiB on (test hook), so into 1 MiB parts spread over the ranks.
head -c $((5 << 20)) /dev/urandom >src/big.bin
truncate -s 8M src/sparse-big.img
printf 'x' | dd of=src/sparse-big.img bs=1 seek=$((6 << 20)) conv=notrunc status=none
export PCOPY_TEST_SPLIT_MIN=$((1 << 20))

"$PCOPY" -q -j 2 --json --manifest ref.m src ref >ref.json
check "pcopy makes the reference copy" same_tree src ref
for np in 1 2 4; do
	mpi "$np" -q --json --manifest "m$np" src "d$np" >"j$np.json"
	check "np $np: exit 0" [ $? -eq 0 ]
	# Before anything reads the copy (reading it moves its atimes).
	check "np $np: times and modes to the nanosecond" [ "$(times_of src)" = "$(times_of "d$np")" ]
	check "np $np: exact copy (rsync -c -H, diff)" same_tree src "d$np"
	check "np $np: owners" [ "$(owners_of src)" = "$(owners_of "d$np")" ]
	check "np $np: hard links are links, as in pcopy's copy" \
		[ "$(link_groups "d$np")" = "$(link_groups ref)" -a -n "$(link_groups ref)" ]
	check "np $np: manifest byte-identical to pcopy's" cmp -s ref.m "m$np"
	# Files with other names are planned in the local walk's order: the same first names,
	# so the same events, bytes and hashes per path.
	check "np $np: --json events as pcopy's (sorted)" [ "$(json_events ref.json)" = "$(json_events "j$np.json")" ]
	check "np $np: --json summary as pcopy's" [ "$(json_summary ref.json)" = "$(json_summary "j$np.json")" ]
	check "np $np: sparse files stay sparse" \
		[ "$(stat -c %b "d$np/sparse.img")" -lt 1000 -a "$(stat -c %b "d$np/sparse-big.img")" -lt 1000 ]
	check "np $np: FIFO is a FIFO" [ -p "d$np/fifo" ]
	check "np $np: odd names" [ -f "d$np/new
line" -a -f "d$np/back\\slash" -a -f "d$np/-dash" -a -f "d$np/$(printf 'caf\303\251')" ]
	check "np $np: no temporary files" no_tmp "d$np"
done

# The parts of the split file are written by more than one rank: with -j 1 each rank has
# one worker, so two processes opening the shared temporary file are two ranks.
if command -v strace >/dev/null 2>&1; then
	# (LeakSanitizer cannot run under ptrace: off for this run in the sanitizer pass.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=openat -o trace mpirun -q --oversubscribe -np 4 "$PCOPY_MPI" -q src d5
	check "traced run: exit 0" [ $? -eq 0 ]
	writers=$(grep -a 'pcopy-tmp\.[0-9]*\.s[0-9]*"' trace | grep -a -v O_CREAT | grep -a 'O_WRONLY\|O_RDWR' |
		awk '{print $1}' | sort -u | wc -l)
	check "split file: parts written by $writers processes on 4 ranks (more than one)" [ "$writers" -gt 1 ]
	check "split copy identical" cmp -s src/big.bin d5/big.bin
else
	skip "strace not installed: cannot see which ranks wrote the parts"
fi

# A second run changes nothing, on 2 ranks as on one machine.
mpi 2 -q --json src d2 >again.json
check "re-run: exit 0" [ $? -eq 0 ]
check "re-run: nothing copied" grep -q '"copied":0,' again.json
finish
