#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --previous-manifest (#15): a re-run takes the hashes of files DEST still has unchanged from
# the previous manifest, proven by the stat data its sidecar (FILE.pcopy-stat) recorded, and
# reads only what changed; the manifest is the same as one made from scratch.
. "$(dirname "$0")/../../lib.sh"

# reused: the "hashes reused" count of a --stats summary in file $1 ("" when not in use).
reused() { sed -n 's/^hashes reused: //p' "$1"; }
# opened_files LOG: how many openat calls in an strace log name a file of the tree (f*, g*).
opened_files() { grep -cE 'openat\([^"]*"([^"]*/)?(f[0-9]+|g|a b|back\\\\slash)"' "$1"; }
# fresh_manifest: the manifest a run without --previous-manifest makes of dst.
fresh_manifest() { "$PCOPY" -q --manifest fresh.xxh src dst && cat fresh.xxh; }

mkdir -p src/sub
for i in 1 2 3 4 5 6 7 8; do head -c $((i * 1000)) /dev/urandom >src/f$i; done
echo g >src/sub/g
echo spaced >"src/a b"
echo back >'src/back\slash'
ln src/f1 src/sub/hard
nfiles=11 # regular files in the manifest: 8 + g + "a b" + back\slash (the hard link's line
          # comes from its first name's entry)

# First run: no previous manifest yet: a warning, every file hashed, exit 0, a sidecar.
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s1 2>e1
check "first run: exit 0" [ $? -eq 0 ]
check "first run: warns that m.xxh cannot be read ($(cat e1))" \
	grep -q "^pcopy: m.xxh: warning: cannot read the previous manifest" e1
check "first run: nothing reused" [ "$(reused s1)" = "" ]
check "first run: the sidecar is written" [ -f m.xxh.pcopy-stat ]
check "first run: the sidecar names its format" grep -q '^pcopy-stat 1 [0-9a-f]\{32\}$' m.xxh.pcopy-stat
check "first run: the manifest equals one made from scratch" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"
# Files copied a moment ago are not settled (stamp.h): their records wait for a later run.
sleep 4
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s2 2>e2
check "second run: no warning ($(cat e2))" [ ! -s e2 ]
check "second run: the just-copied files were read, not trusted" [ "$(reused s2)" = 0 ]
check "second run: one record per file" [ "$(($(wc -l <m.xxh.pcopy-stat) - 1))" -eq $nfiles ]

# Third run: every hash reused, no file opened, the manifest as one made from scratch.
if strace -f -e trace=openat -o /dev/null true 2>/dev/null; then
	strace -f -e trace=openat -o trace3 "$PCOPY" -q --stats --manifest m.xxh \
		--previous-manifest m.xxh src dst >s3 2>e3
	check "third run: no file of the tree opened ($(opened_files trace3))" [ "$(opened_files trace3)" = 0 ]
	strace -f -e trace=openat -o trace0 "$PCOPY" -q --manifest m0.xxh src dst
	check "without it, the files are opened ($(opened_files trace0))" [ "$(opened_files trace0)" -ge $nfiles ]
else
	"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s3 2>e3
	skip "strace cannot trace here"
fi
check "third run: every hash reused ($(reused s3))" [ "$(reused s3)" = $nfiles ]
check "third run: the manifest equals one made from scratch" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"
cp m.xxh.pcopy-stat side.good

# DEST's content changed with size and mtime put back: the ctime moved, so it is read again.
t=$(stat -c %y dst/f3)
head -c 3000 /dev/urandom >dst/f3 && touch -d "$t" dst/f3
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s4
check "content changed in DEST: read again ($(reused s4))" [ "$(reused s4)" = $((nfiles - 1)) ]
check "content changed in DEST: its line is DEST's data" \
	grep -q "^$(xxh128sum dst/f3 2>/dev/null | cut -c1-32)  f3$" m.xxh
check "content changed: the manifest equals one made from scratch" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"

# A chmod alone (mode put back) moves the ctime too.
chmod 600 dst/f4 && chmod "$(stat -c %a src/f4)" dst/f4
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s5
check "chmod in DEST: read again (not reused: $(reused s5))" [ "$(reused s5)" -lt $nfiles ]
check "chmod: the manifest equals one made from scratch" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"

# The same for a file whose source changed the same way: the quick check skips it (size and
# mtime as DEST's), and its line stays DEST's data, read or proven.
sleep 4 # let the files read again settle
"$PCOPY" -q --manifest m.xxh --previous-manifest m.xxh src dst
t=$(stat -c %y src/f5)
head -c 5000 /dev/urandom >src/f5 && touch -d "$t" src/f5
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s6
check "source changed unseen: DEST unchanged, every hash reused ($(reused s6))" [ "$(reused s6)" = $nfiles ]
check "source changed unseen: the manifest is DEST's" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"

# A plain --manifest FILE whose sidecar exists uses it, and keeps it up to date.
"$PCOPY" -q --stats --manifest m.xxh src dst >s7
check "plain --manifest with a sidecar: reused ($(reused s7))" [ "$(reused s7)" = $nfiles ]
"$PCOPY" -q --stats --manifest other.xxh src dst >s8
check "plain --manifest without one: none made" [ ! -e other.xxh.pcopy-stat ]
check "plain --manifest without one: nothing reused" [ "$(reused s8)" = "" ]
# Another file as the previous manifest: read from it, the sidecar written beside the new one.
"$PCOPY" -q --stats --manifest new.xxh --previous-manifest m.xxh src dst >s9
check "--previous-manifest OTHER: reused ($(reused s9))" [ "$(reused s9)" = $nfiles ]
check "--previous-manifest OTHER: new.xxh gets its sidecar" [ -f new.xxh.pcopy-stat ]
check "--previous-manifest OTHER: the manifests agree" cmp -s m.xxh new.xxh

# -c reads every file (the previous manifest is not used) and still writes the sidecar.
"$PCOPY" -q -c --stats --manifest m.xxh --previous-manifest m.xxh src dst >s10 2>e10
check "-c: nothing reused" [ "$(reused s10)" = "" ]
check "-c: no warning ($(cat e10))" [ ! -s e10 ]
sleep 4 # f3 and f5 differ in content: -c copied them, and their records wait
"$PCOPY" -q --stats --manifest m.xxh src dst >s11
check "after -c: the sidecar it wrote is used ($(reused s11))" [ "$(reused s11)" = $((nfiles - 2)) ]

# A manifest line changed by hand: the sidecar no longer matches it (its digest), so it is
# not used: a warning, every file read, and the manifest right again.
sed -i "s/^[0-9a-f]\{32\}  f2\$/00000000000000000000000000000002  f2/" m.xxh
"$PCOPY" -q --stats --manifest m.xxh src dst >s12 2>e12
check "edited manifest: exit 0" [ $? -eq 0 ]
check "edited manifest: a stale warning ($(cat e12))" grep -q "^pcopy: m.xxh: warning: its stat sidecar 'm.xxh.pcopy-stat' is stale" e12
check "edited manifest: nothing reused" [ "$(reused s12)" = "" ]
check "edited manifest: the manifest is right again" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"

# A sidecar that is not one: a warning, every file read, exit 0, and a good one written.
echo garbage >m.xxh.pcopy-stat
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s13 2>e13
check "corrupt sidecar: exit 0 and a warning ($(cat e13))" grep -q "^pcopy: m.xxh: warning: its stat sidecar .* is not one pcopy wrote" e13
check "corrupt sidecar: nothing reused" [ "$(reused s13)" = "" ]
check "corrupt sidecar: replaced by a good one" grep -q '^pcopy-stat 1 ' m.xxh.pcopy-stat
"$PCOPY" -q --stats --manifest m.xxh src dst >s14
check "corrupt sidecar: the next run reuses again ($(reused s14))" [ "$(reused s14)" = $nfiles ]
# A record that is not one, or out of order: corrupt.
{ head -1 m.xxh.pcopy-stat; echo "1 2 3"; } >m.xxh.pcopy-stat.bad
cp m.xxh.pcopy-stat m.xxh.pcopy-stat.keep && mv m.xxh.pcopy-stat.bad m.xxh.pcopy-stat
"$PCOPY" -q --stats --manifest m.xxh src dst >s15 2>e15
check "bad record: a warning ($(cat e15))" grep -q "is corrupt (record 1)" e15

# A missing sidecar with --previous-manifest: a warning, every file hashed.
rm m.xxh.pcopy-stat
"$PCOPY" -q --stats --manifest m.xxh --previous-manifest m.xxh src dst >s16 2>e16
check "missing sidecar: exit 0" [ $? -eq 0 ]
check "missing sidecar: a warning ($(cat e16))" grep -q "^pcopy: m.xxh: warning: cannot read its stat sidecar 'm.xxh.pcopy-stat'" e16
check "missing sidecar: nothing reused" [ "$(reused s16)" = "" ]

# The contract: a sidecar is trusted for the files whose stat data it matches. One made to
# vouch for a wrong hash (sidecar and manifest edited together) is believed, as a manifest
# edited by hand would be; -c reads every file and puts it right.
"$PCOPY" -q --manifest m.xxh src dst
wrong=00000000000000000000000000000000
sed -i "s/^[0-9a-f]\{32\}  f6\$/$wrong  f6/" m.xxh
{ echo "pcopy-stat 1 $(xxh128sum m.xxh 2>/dev/null | cut -c1-32)"; tail -n +2 m.xxh.pcopy-stat; } >side.new
mv side.new m.xxh.pcopy-stat
"$PCOPY" -q --manifest m.xxh src dst 2>e17
check "forged sidecar: believed, as documented" grep -q "^$wrong  f6\$" m.xxh
"$PCOPY" -q -c --manifest m.xxh src dst
check "forged sidecar: -c puts it right" same_text manifest "$(fresh_manifest)" "$(cat m.xxh)"

# Several sources (manifest paths with their prefixes).
mkdir two
"$PCOPY" -q --manifest mm.xxh --previous-manifest mm.xxh src dst two 2>/dev/null
sleep 4
"$PCOPY" -q --manifest mm.xxh src dst two
"$PCOPY" -q --stats --manifest mm.xxh src dst two >s18
check "two sources: every hash reused ($(reused s18))" [ "$(reused s18)" = $((2 * nfiles)) ]
"$PCOPY" -q --manifest fresh2.xxh src dst two
check "two sources: the manifest equals one made from scratch" cmp -s fresh2.xxh mm.xxh

# Not a regular file: a warning, never a wait on a FIFO.
mkfifo fifo
timeout 20 "$PCOPY" -q --manifest m.xxh --previous-manifest fifo src dst 2>e19
check "a FIFO: exit 0" [ $? -eq 0 ]
check "a FIFO: a warning ($(cat e19))" grep -q "^pcopy: fifo: warning: cannot read the previous manifest" e19

# Usage errors (exit 2).
"$PCOPY" -q --previous-manifest m.xxh src dst 2>u1
check "--previous-manifest without --manifest: exit 2" [ $? -eq 2 ]
"$PCOPY" -q --manifest m.xxh --previous-manifest - src dst 2>u2
check "--previous-manifest -: exit 2" [ $? -eq 2 ]
"$PCOPY" -q --manifest m.xxh --previous-manifest m.xxh --tar a.tar src 2>u3
check "--previous-manifest with --tar: exit 2" [ $? -eq 2 ]
finish
