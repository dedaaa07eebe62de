#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --max-size and --min-size as rsync reads them (K/M/G in 1024s, KB/MB in 1000s, KiB, a
# fraction, "+1"/"-1"), for regular files only: pcopy copies the tree rsync -a copies, and a
# file the limits skip is neither copied nor deleted from DEST (--delete, --delete-excluded).
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/d/e src/empty
for n in 0 1 999 1000 1001 1023 1024 1025 1500 1536 1537 2048 1048575 1048576 1048577; do
	head -c "$n" /dev/zero >"src/f$n"
done
head -c 5000 /dev/zero >src/d/big
head -c 10 /dev/zero >src/d/e/small
ln -s f1048577 src/link
mkfifo src/fifo

LIMITS=(
	"--max-size 0" "--max-size 1" "--max-size 1000" "--max-size 1k" "--max-size 1K"
	"--max-size 1kb" "--max-size 1KB" "--max-size 1KiB" "--max-size 1.5k" "--max-size 1k+1"
	"--max-size 1k-1" "--max-size 1m" "--max-size 1M-1" "--max-size 1000b" "--max-size 2g"
	"--min-size 1" "--min-size 1k" "--min-size 1kb" "--min-size 1.5K" "--min-size 1M"
	"--min-size 1M+1" "--min-size 1000 --max-size 1536" "--min-size 2k --max-size 1k"
	"--max-size=1500 --exclude 'f1*'" "--min-size=1024 --include 'd/***' --exclude '*'"
)

for limits in "${LIMITS[@]}"; do
	eval "set -- $limits"
	rm -rf r1 p1 r2 p2
	rsync -a "$@" src/ r1/
	"$PCOPY" -q "$@" src p1
	same_list "$limits: the tree rsync copies" r1 p1
	# A destination that has every file, some changed: skipped ones stay as they are.
	for d in r2 p2; do
		cp -a src "$d"
		echo changed >"$d/f1024"
		echo changed >"$d/d/big"
		echo extra >"$d/extra"
	done
	rsync -a --delete-excluded "$@" src/ r2/
	"$PCOPY" -q --delete-excluded "$@" src p2
	same_list "$limits --delete-excluded: what rsync deletes and keeps" r2 p2
	check "$limits --delete-excluded: a skipped file is left as it was" \
		cmp -s <(cat r2/f1024 r2/d/big 2>/dev/null) <(cat p2/f1024 p2/d/big 2>/dev/null)
	rm -rf r5 ex.tar
	mkdir r5
	rsync -a "$@" src r5/
	"$PCOPY" -q --tar ex.tar "$@" src
	want=$(cd r5 && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)
	got=$(tar --quoting-style=literal -tf ex.tar | sed 's|/$||' | LC_ALL=C sort)
	same_text "$limits --tar: the members rsync would send" "$want" "$got"
done

# A single file source over the limit is not copied.
rm -rf p3 r3
mkdir p3 r3
rsync -a --max-size 1k src/f1025 r3/
"$PCOPY" -q --max-size 1k src/f1025 p3
same_list "a file source over --max-size: not copied, as by rsync" r3 p3

for bad in '1x' 'abc' '' '-1' '1kk' 'k' '1.5.5'; do
	"$PCOPY" -q --max-size "$bad" src p4 2>err.out
	check "--max-size '$bad': exit 2" [ $? -eq 2 ]
	check "--max-size '$bad': says so" grep -q "^pcopy: --max-size=$bad is invalid$" err.out
done
"$PCOPY" -q --min-size 1q src p4 2>err.out
check "--min-size 1q: exit 2" [ $? -eq 2 ]

finish
