#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Snapshots (#15): --link-dest, --copy-dest, --link-manifest and the completion marker, with
# rsync as the oracle. A snapshot equals its source; the files and symbolic links it shares
# inodes with the earlier snapshot are the ones `rsync -aHAX --link-dest` shares; an older
# snapshot is never changed through a link; .pcopy-complete marks a run that succeeded.
. "$(dirname "$0")/../../lib.sh"

M=.pcopy-complete

# same_snap A B: the same tree, DEST's marker left out.
same_snap() {
	local out
	out=$(rsync -a -n -c -i -H --exclude="/$M" "$1/" "$2/" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "rsync sees differences:"; echo "$out" | head; return 1; }
	diff -r --no-dereference -x "$M" "$1" "$2" >/dev/null
}

# shared DIR OLD: the files and symlinks of DIR that are the same inode as OLD's of that name.
shared() {
	(cd "$1" && find . \( -type f -o -type l \) ! -name "$M" -printf '%P %i\n' | sort) |
		while read -r p i; do
			[ -e "$2/$p" ] || [ -L "$2/$p" ] || continue
			[ "$(stat -c %i "$2/$p")" = "$i" ] && echo "$p"
		done
}

mode_of() { stat -c %a "$1"; }

mkdir -p src/sub/deep
for f in a b c d sub/e sub/deep/f; do echo "content of $f" >"src/$f"; done
head -c 200000 /dev/urandom >src/sub/big
ln src/a src/sub/a-link
ln -s a src/sym && ln -s b src/sym2 && touch -h -d 2020-01-01 src/sym
setfattr -n user.tag -v one src/d 2>/dev/null && xattrs=1 || xattrs=0
touch -d '2020-01-01 00:00:00' src/a src/b src/c src/d src/sub/e src/sub/deep/f src/sub/big

# ---- the first snapshot: no earlier one yet --------------------------------------------------
rc=0
"$PCOPY" -q --link-dest ../none src s1 2>err.txt || rc=$?
check "first snapshot: exit 0 with a missing --link-dest" [ "$rc" = 0 ]
check "first snapshot: a missing --link-dest is a warning naming it" \
	grep -q "^pcopy: s1/../none: warning: cannot open --link-dest directory" err.txt
check "first snapshot: marked complete" [ -f "s1/$M" ]
check "first snapshot equals its source" same_snap src s1
rsync -aHAX src/ r1/

# ---- the second: some files changed ----------------------------------------------------------
echo changed >src/b && touch -d '2021-01-01 00:00:00' src/b
chmod 600 src/c # only its mode
echo new >src/new
rm src/sub/e
ln -sfn c src/sym2 # another target
ln -sfn c src/sym2 # another target
[ "$xattrs" = 1 ] && setfattr -n user.tag -v two src/d
rc=0
"$PCOPY" -q --delete --link-dest ../s1 src s2 2>err.txt || rc=$?
check "second snapshot: exit 0, nothing on stderr" [ "$rc" = 0 ] && [ ! -s err.txt ]
check "second snapshot equals its source" same_snap src s2
rsync -aHAX --delete --link-dest=../r1 src/ r2/
check "second snapshot: the tree rsync --link-dest makes" same_snap r2 s2
same_text "second snapshot: the files linked to the first are rsync's" \
	"$(shared r2 r1)" "$(shared s2 s1)"
check "an unchanged file shares its inode (stat %i)" \
	[ "$(stat -c %i s1/sub/big)" = "$(stat -c %i s2/sub/big)" ]
check "a changed file does not" [ "$(stat -c %i s1/b)" != "$(stat -c %i s2/b)" ]
check "a file whose mode changed does not, and the first snapshot keeps its mode" \
	[ "$(stat -c %i s1/c)" != "$(stat -c %i s2/c)" ] && [ "$(mode_of s1/c)" = 644 ]
check "hard links of the source stay linked in the snapshot" \
	[ "$(stat -c %i s2/a)" = "$(stat -c %i s2/sub/a-link)" ]
check "the first snapshot is unchanged" same_snap r1 s1

# ---- a DEST whose files are links into an older snapshot: replaced, never changed ------------
"$PCOPY" -q --link-dest ../s2 src s3
check "third snapshot: everything linked to the second" \
	[ "$(stat -c %i s2/d)" = "$(stat -c %i s3/d)" ]
chmod 640 src/d
"$PCOPY" -q --link-dest ../s2 src s3
check "a mode changed in the source: DEST's file gets it" [ "$(mode_of s3/d)" = 640 ]
check "... through a new inode: the older snapshot keeps its old mode" \
	[ "$(mode_of s2/d)" = 644 ] && [ "$(stat -c %i s2/d)" != "$(stat -c %i s3/d)" ]
chmod 604 src/sub/deep/f
"$PCOPY" -q src s3 # without --link-dest, too
check "without --link-dest: the older snapshot keeps its old mode" \
	[ "$(mode_of s2/sub/deep/f)" = 644 ] && [ "$(mode_of s3/sub/deep/f)" = 604 ]
chmod 644 src/sub/a-link # a file with two names in the source, linked into s2 too
touch -d '2020-01-01 00:00:00' src/a
chmod 660 src/a
"$PCOPY" -q src s3
check "two names in the source, more in DEST: the older snapshot keeps its mode" \
	[ "$(mode_of s2/a)" = 644 ] && [ "$(mode_of s3/a)" = 660 ] &&
	[ "$(stat -c %i s3/a)" = "$(stat -c %i s3/sub/a-link)" ]
check "... and DEST equals the source" same_snap src s3
check "a symbolic link is linked too, as rsync does" [ "$(stat -c %i s2/sym)" = "$(stat -c %i s3/sym)" ]
if [ "$(id -u)" = 0 ]; then
	chown -h nobody src/sym
	"$PCOPY" -q --link-dest ../s2 src s3
	check "a link's owner changed in the source: the older snapshot's link keeps its owner" \
		[ "$(stat -c %U s2/sym)" = root ] && [ "$(stat -c %U s3/sym)" = nobody ]
	chown -h root src/sym
else
	skip "changing a symbolic link's owner needs root"
fi
"$PCOPY" -q --link-dest ../s2 src s5 2>/dev/null
check "a fifth snapshot links the symbolic link" [ "$(stat -c %i s2/sym)" = "$(stat -c %i s5/sym)" ]
touch -h -d '2022-02-02 00:00:00' src/sym # the same target: up to date, its time corrected
"$PCOPY" -q --link-dest ../s2 src s5 2>/dev/null
check "a link's mtime changed in the source: the older snapshot's link keeps its time" \
	[ "$(stat -c %Y s2/sym)" != "$(stat -c %Y src/sym)" ] &&
	[ "$(stat -c %Y s5/sym)" = "$(stat -c %Y src/sym)" ]
touch -h -d 2020-01-01 src/sym

# ---- several --link-dest, absolute and relative -----------------------------------------------
rc=0
"$PCOPY" -q --link-dest "$T/s1" --link-dest ../s2 src s4 2>err.txt || rc=$?
check "two --link-dest: exit 0" [ "$rc" = 0 ]
rsync -aHAX --link-dest="$T/r1" --link-dest=../r2 src/ r4/
check "two --link-dest: the tree rsync makes" same_snap r4 s4
same_text "two --link-dest: linked to the first as rsync does" "$(shared r4 r1)" "$(shared s4 s1)"
same_text "two --link-dest: linked to the second as rsync does" "$(shared r4 r2)" "$(shared s4 s2)"

# ---- -c: a twin with the same size and mtime but other content --------------------------------
# (c1 is made without --link-dest, so has no marker: the warnings about it are not looked at)
mkdir -p cs && echo aaaa >cs/x && touch -d '2020-01-01' cs/x
"$PCOPY" -q cs c1
echo bbbb >cs/x && touch -d '2020-01-01' cs/x # same size, same mtime
"$PCOPY" -q --link-dest ../c1 cs c2 2>/dev/null
rsync -aHAX --link-dest=../c1 cs/ rc2/
check "without -c: linked by size and mtime, as rsync" \
	[ "$(stat -c %i c1/x)" = "$(stat -c %i c2/x)" ] && [ "$(stat -c %i c1/x)" = "$(stat -c %i rc2/x)" ]
"$PCOPY" -q -c --link-dest ../c1 cs c3 2>/dev/null
check "with -c: not linked, the source's content" \
	[ "$(stat -c %i c1/x)" != "$(stat -c %i c3/x)" ] && [ "$(cat c3/x)" = bbbb ]
cp -a cs/x cs/y && cp -a cs/x c1/y && "$PCOPY" -q -c --link-dest ../c1 cs c4 2>/dev/null
check "with -c: the same content is linked" [ "$(stat -c %i c1/y)" = "$(stat -c %i c4/y)" ]

# ---- --copy-dest: copied from the twin, nothing shared ----------------------------------------
"$PCOPY" -q --copy-dest ../s1 src k1
rsync -aHAX --copy-dest=../r1 src/ rk1/
check "--copy-dest: the snapshot equals its source" same_snap src k1
check "--copy-dest: the tree rsync makes" same_snap rk1 k1
same_text "--copy-dest: no inode shared" "" "$(shared k1 s1)"
ino=$(stat -c %i k1/sub/big)
"$PCOPY" -q --copy-dest ../s1 src k1
check "--copy-dest: a file DEST has up to date is left as it is, as rsync" \
	[ "$(stat -c %i k1/sub/big)" = "$ino" ]

# ---- a dry run into a DEST not made yet: DIR relative to where DEST will be ----------------
rc=0
"$PCOPY" -n --link-dest ../s1 src s-dry >/dev/null 2>err.txt || rc=$?
check "a dry run: exit 0, no warning, nothing made" [ "$rc" = 0 ] && [ ! -s err.txt ] && [ ! -e s-dry ]

# ---- the completion marker -------------------------------------------------------------------
check "the marker is pcopy's" grep -q "^pcopy snapshot complete" s2/$M
"$PCOPY" -v --delete --link-dest ../s1 src s2 >out.txt
check "--delete does not remove the marker" [ -f s2/$M ] && ! grep -q "$M" out.txt
echo user-data >src/$M
"$PCOPY" -q --link-dest ../s1 src s5
check "a source's own top-level $M is not copied over the marker" \
	grep -q "^pcopy snapshot complete" s5/$M
rm src/$M
use_inject
rc=0
env FAULT_READ_MATCH=/src/sub/big LD_PRELOAD="$INJECT" "$PCOPY" -q --copy-dest ../s1 src k2 \
	2>/dev/null || rc=$?
check "--copy-dest reads an unchanged file from the twin, not the source" \
	[ "$rc" = 0 ] && cmp -s src/sub/big k2/sub/big
rc=0
echo newer >src/new
env FAULT_READ_MATCH=/src/new LD_PRELOAD="$INJECT" "$PCOPY" -q --link-dest ../s1 src s5 \
	2>/dev/null || rc=$?
check "a run that fails: exit 1, and no marker (the old one removed)" [ "$rc" = 1 ] && [ ! -e s5/$M ]
rc=0
"$PCOPY" -q --link-dest ../s5 src s6 2>err.txt || rc=$?
check "--link-dest to an incomplete snapshot: a warning, the run goes on" \
	[ "$rc" = 0 ] && grep -q "^pcopy: s6/../s5: warning: not marked complete" err.txt
check "... and its files are used" [ "$(stat -c %i s5/sub/big)" = "$(stat -c %i s6/sub/big)" ]

# ---- manifests: every file, the linked ones with a proven or re-read hash ---------------------
rm -rf m && mkdir -p m/src/d && for f in p q r d/s; do echo "m $f" >"m/src/$f"; done
cd m
"$PCOPY" -q --manifest m1 --link-dest ../none src n1 2>/dev/null
# A linked file's hash is taken only when its ctime is STAMP_SETTLE_SEC (3 s) older than the
# completion its snapshot's marker records: finish n1 again later (a no-change run).
sleep 4
"$PCOPY" -q --manifest m1 --link-dest ../none src n1 2>/dev/null
check "the marker records the manifest" grep -q "^manifest $(xxh128sum m1 | cut -c1-32)" n1/$M
check "the marker records when the run completed" grep -q "^complete [0-9]*\.[0-9]\{9\}$" n1/$M
echo changed >src/q
rc=0
env FAULT_READ_MATCH="/n1/p|/n1/r|/n1/d/" LD_PRELOAD="$INJECT" \
	"$PCOPY" -q --manifest m2 --link-dest ../n1 --link-manifest m1 src n2 2>err.txt || rc=$?
check "--link-manifest: linked files' hashes are taken from it, not read (exit 0)" [ "$rc" = 0 ]
check "... the manifest checks with xxh128sum -c" bash -c 'cd n2 && xxh128sum -c --quiet ../m2'
check "... and lists no marker" not grep -q "$M" m2
"$PCOPY" -q --manifest m3 --link-dest ../n1 src n3
check "without --link-manifest: the linked files are read again, the same manifest" cmp -s m2 m3
rc=0
env FAULT_READ_MATCH="/n1/p|/n1/r|/n1/d/" LD_PRELOAD="$INJECT" \
	"$PCOPY" -q --manifest m4 --link-dest ../n1 src n4 2>/dev/null || rc=$?
check "... which is a read of the older snapshot (a read error there: exit 1)" [ "$rc" = 1 ]
sed 's/^[0-9a-f]\{32\}  p$/00000000000000000000000000000000  p/' m1 >m1.bad
"$PCOPY" -q --manifest m5 --link-dest ../n1 --link-manifest m1.bad src n5 2>err.txt
check "a wrong line in --link-manifest: a warning" grep -q "^pcopy: m1.bad: warning: not the manifest" err.txt
check "... and the hash is not vouched for: the manifest is the re-read one" cmp -s m2 m5
# A twin edited in place after its snapshot completed, its mtime put back, then a chmod -R
# (or chown -R, or touch) of the snapshot that moves the marker's ctime past the edit: the
# completion time the marker records still tells the edit, so the twin is read again.
mt=$(stat -c %y n1/p)
printf 'm P\n' >n1/p && touch -d "$mt" n1/p
sleep 0.1
chmod -R go-w n1
"$PCOPY" -q --manifest m6 --link-dest ../n1 --link-manifest m1 src n6 2>/dev/null
check "a twin edited after its snapshot completed (then chmod -R): not vouched for" \
	bash -c 'cd n6 && xxh128sum -c --quiet ../m6'
mkfifo m.fifo
rc=0
timeout 30 "$PCOPY" -q --manifest m7 --link-dest ../n1 --link-manifest m.fifo src n7 2>err.txt || rc=$?
check "a FIFO named by --link-manifest: a warning, not a wait (exit $rc)" \
	[ "$rc" = 0 ] && grep -q "^pcopy: m.fifo: warning: cannot read --link-manifest" err.txt
cd ..

# ---- bad command lines ------------------------------------------------------------------------
many=()
for i in $(seq 21); do many+=(--link-dest "d$i"); done
for args in "--link-dest= src x" "--link-dest a --copy-dest b src x" \
	"--link-manifest m src x" "--link-dest a --check src s1" "${many[*]} src x"; do
	rc=0
	# shellcheck disable=SC2086
	"$PCOPY" $args 2>err.txt || rc=$?
	check "usage error: $args: exit 2" [ "$rc" = 2 ] && grep -q '^pcopy: ' err.txt
done
MPI=${PCOPY_MPI:-$TOP/pcopy-mpi}
if [ -x "$MPI" ]; then
	mpi_env
	rc=0
	"$MPI" --link-dest ../s1 src m9 2>err.txt || rc=$?
	check "pcopy-mpi refuses --link-dest (exit 2)" [ "$rc" = 2 ] && grep -q "not supported by pcopy-mpi" err.txt
fi
check "no temporaries left" no_tmp .
finish
