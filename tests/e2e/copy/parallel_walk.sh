#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The walk spread over the workers (-j2 and more: the pool's workers list the directories,
# run/lister.c): deep trees, a directory of 100 000 entries (also read by the parent when it
# does not fit a worker's slot), hard links across directories listed by different workers,
# --delete, a worker killed while listing (given again; or the directory fails with a clear
# message), a directory removed or unreadable while the copy runs. rsync is the oracle.
. "$(dirname "$0")/../../lib.sh"

# A tree: 40 directories of 50 files, a chain 60 deep, one directory of 100 000 entries, hard
# links whose names sit in different directories.
mkdir src
for d in $(seq -w 0 39); do
	mkdir -p "src/d$d/sub"
	for f in $(seq 1 50); do echo "$d $f" >"src/d$d/f$f"; done
	echo "$d" >"src/d$d/sub/s"
done
deep=src/deep
for i in $(seq 1 60); do deep=$deep/l$i; done
mkdir -p "$deep"
echo bottom >"$deep/file"
mkdir src/huge
(cd src/huge && seq -f 'entry%06g' 1 100000 | xargs touch)
for i in $(seq -w 0 19); do ln "src/d$i/f1" "src/d$((39 - 10#$i))/link$i"; done
ln src/d00/f2 src/huge/linked
ln src/d00/f2 "$deep/linked"

check "first copy -j2" "$PCOPY" -q -j2 src dst
check "the copy is the source (rsync)" same_tree src dst
same_text "hard links as in the source" "$(link_groups src)" "$(link_groups dst)"

check "a re-run changes nothing" "$PCOPY" -q -j2 src dst
out=$(rsync -a -n -i -H --delete src/ dst/)
same_text "rsync finds nothing to do after the re-run" "" "$out"

# Files the listing worker finds up to date need no task; every other change is still seen:
# mode, mtime, content of another size, an xattr, the copy linked elsewhere, a type change;
# and counted as the serial walk (-j1) counts them.
chmod 600 src/d01/f1
touch -d '2002-02-02' src/d02/f1
echo longer-than-before >src/d03/f1
setfattr -n user.walk -v x src/d04/f1 2>/dev/null && xattr=1 || xattr=0
rm src/d06/f2 && ln -s f3 src/d06/f2
cp -a dst dst-j1
for d in dst dst-j1; do
	ln "$d/d05/f3" "$d/d05/other-name"
	echo "XX X" >"$d/d07/f3" && touch -r src/d07/f3 "$d/d07/f3" # same size and mtime
done
"$PCOPY" -q -j2 --stats src dst >stats2.out
"$PCOPY" -q -j1 --stats src dst-j1 >stats1.out
check "changes after the walk's quick check: mode" test "$(stat -c %a dst/d01/f1)" = 600
same_text "... mtime" "$(stat -c %Y src/d02/f1)" "$(stat -c %Y dst/d02/f1)"
check "... content" cmp -s src/d03/f1 dst/d03/f1
[ $xattr = 1 ] && same_text "... xattr" x "$(getfattr --only-values -n user.walk dst/d04/f1 2>&1)"
same_text "... the copy linked elsewhere is copied anew" 1 "$(stat -c %h dst/d05/f3)"
check "... type change" test -L dst/d06/f2
same_text "... same size and mtime: left, as rsync -a leaves it" "XX X" "$(cat dst/d07/f3)"
same_text "... counted as -j1 counts" "$(grep -v -e seconds -e throughput stats1.out)" \
	"$(grep -v -e seconds -e throughput stats2.out)"
for d in dst dst-j1; do
	rm "$d/d05/other-name" && touch -r src/d05 "$d/d05"
	cp -p src/d07/f3 "$d/d07/f3"
done
check "and the rest is the source" same_tree src dst
check "as with -j1" same_tree dst-j1 dst
rm -rf dst-j1
"$PCOPY" -q -j1 --stats src dst >stats1.out
"$PCOPY" -q -j2 --stats src dst >stats2.out
same_text "no-change re-run: -j2 counts as -j1" "$(grep -v -e seconds -e throughput stats1.out)" \
	"$(grep -v -e seconds -e throughput stats2.out)"
"$PCOPY" -j2 -vv src dst 2>&1 | LC_ALL=C sort >v2.out
"$PCOPY" -j1 -vv src dst 2>&1 | LC_ALL=C sort >v1.out
check "no-change re-run: -vv says what -j1 says" cmp -s v1.out v2.out

# A directory too big for a worker's listing slot is read by the parent.
PCOPY_TEST_LIST_SLOT=65536 "$PCOPY" -q -j2 src dst-small-slot
check "copy with small listing slots" same_tree src dst-small-slot
same_text "hard links with small listing slots" "$(link_groups src)" "$(link_groups dst-small-slot)"

# --delete: extras at several depths, a file turned into a directory and back, compared
# with rsync --delete from the same starting point.
cp -a dst dst-rsync
for d in dst dst-rsync; do
	mkdir -p "$d/d03/extra/inner" "$d/new-dir"
	echo x >"$d/d03/extra/inner/x"
	echo y >"$d/d07/extra-file"
	echo z >"$d/huge/entry999999"
	echo w >"$d/deep/l1/l2/extra"
done
rm -rf src/d09 src/huge/entry000001
mkdir src/d10/f5.d
rm src/d10/f5 && mkdir src/d10/f5 && echo now-a-dir >src/d10/f5/inside
"$PCOPY" -q -j2 --delete src dst
rc=$?
rsync -aH --delete src/ dst-rsync/
same_text "--delete exits 0" 0 "$rc"
check "--delete leaves what rsync --delete leaves" same_tree dst-rsync dst
check "and that is the source" same_tree src dst

# A worker killed while listing a directory: the listing is given to another worker.
use_inject
rm -rf src/huge # (not needed from here on)
touch src/d20/poison-entry
LD_PRELOAD=$INJECT FAULT_LIST_KILL=poison-entry FAULT_LIST_KILL_ONCE=$T/once \
	"$PCOPY" -q -j2 src dst-kill-once 2>kill-once.err
rc=$?
same_text "a listing lost once: exit 0" 0 "$rc"
check "the kill happened" test -e "$T/once"
check "the copy is whole" same_tree src dst-kill-once
same_text "and nothing said" "" "$(cat kill-once.err)"

# ... every time: that directory fails, with a message; the rest is copied.
LD_PRELOAD=$INJECT FAULT_LIST_KILL=poison-entry "$PCOPY" -q -j2 src dst-kill 2>kill.err
rc=$?
same_text "a listing lost every time: exit 1" 1 "$rc"
same_text "the message names the directory" \
	"pcopy: src/d20: cannot read directory: worker processes died listing it" "$(cat kill.err)"
rm -rf src-but-d20
cp -a src src-but-d20
rm -rf src-but-d20/d20
mkdir src-but-d20/d20
touch -r src/d20 src-but-d20/d20
touch -r src src-but-d20
check "everything else is copied" same_tree src-but-d20 dst-kill
rm src/d20/poison-entry

# Unreadable directory, as a user who cannot read it: the same message as the serial walk's.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p unread/src/open unread/src/shut
	echo a >unread/src/open/a
	echo b >unread/src/shut/b
	chmod 000 unread/src/shut
	chmod -R a+rwX unread/src/open
	chmod 777 unread unread/src
	as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
	as_nobody "$PCOPY" -q -j2 unread/src unread/par 2>unread/par.err
	rc=$?
	as_nobody "$PCOPY" -q -j1 unread/src unread/ser 2>unread/ser.err
	same_text "unreadable directory: exit 1" 1 "$rc"
	same_text "unreadable directory: the serial walk's message" \
		"$(sed 's/ser/X/' unread/ser.err)" "$(sed 's/par/X/' unread/par.err)"
	check "unreadable directory: the rest is copied" test -f unread/par/open/a
	chmod 755 unread/src/shut
else
	skip "unreadable directory: needs root and setpriv"
fi

# A directory removed while the copy runs (before or after it is listed): no crash, a
# clear outcome, and what is in DEST is right.
rm -rf moving
cp -a src moving
PCOPY_TEST_SLOW_MS=2 "$PCOPY" -q -j2 moving dst-moving 2>moving.err &
pid=$!
sleep 0.3
rm -rf moving/d30 moving/d31 moving/deep/l1/l2
wait $pid
rc=$?
check "removed while copying: exit 0 or 1 ($rc)" test "$rc" = 0 -o "$rc" = 1
bad=$(grep -v -e '^pcopy: moving/d3[01]\(/[^:]*\)\?: ' -e '^pcopy: moving/deep/l1/l2\(/[^:]*\)\?: ' moving.err)
same_text "removed while copying: messages only about what went" "" "$bad"
for f in dst-moving/d0*/f1; do
	cmp -s "$f" "src/${f#dst-moving/}" || fail "removed while copying: $f differs"
done
check "removed while copying: no temporaries" no_tmp dst-moving

finish
