#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile paths: a tree deeper than PATH_MAX with 255-byte names, and destinations holding
# symlinks that point outside them, placed before the run or swapped in during it. Nothing
# may be written outside DEST, and deep trees copy exactly (GNU tar is the oracle there:
# rsync and diff stop at PATH_MAX).
. "$(dirname "$0")/../lib.sh"

# A chain of 30 directories with 250-byte names (7,500 bytes of path), a file with a
# 255-byte name at each level, a symlink, a hard link and a FIFO at the bottom.
long=$(printf 'd%.0s' $(seq 1 250))
leaf=$(printf 'f%.0s' $(seq 1 255))
mkdir deep-src
(
	cd deep-src || exit 1
	for i in $(seq 1 30); do
		mkdir "$long" && cd "$long" || exit 1
		echo "level $i" >"$leaf"
	done
	ln -s "$leaf" link && ln "$leaf" hard && mkfifo fifo
	touch -d '2002-03-04 05:06:07.891' "$leaf"
)
# tar_view DIR: GNU tar's listing (modes, owners, sizes, times, link targets) and content.
tar_view() { tar --sort=name --format=gnu -C "$1" -cf - . | md5sum; }
"$PCOPY" -q --manifest deep.sum deep-src deep-dst 2>deep.err
rc=$?
check "deep tree: exit 0 (got $rc: $(head -c 300 deep.err))" [ $rc -eq 0 ]
check "deep tree: GNU tar sees the same tree" [ "$(tar_view deep-src)" = "$(tar_view deep-dst)" ]
check "deep tree: the manifest has all 31 files" [ "$(wc -l <deep.sum)" -eq 31 ]
"$PCOPY" --stats deep-src deep-dst >deep.stats 2>&1
check "deep tree: a re-run copies nothing" grep -qx 'copied: 0' deep.stats
"$PCOPY" -q --check deep-src deep-dst
check "deep tree: --check finds them identical" [ $? -eq 0 ]
# at_bottom CMD...: run CMD in the deepest directory of deep-src (too deep for one path).
at_bottom() { (cd deep-src && for _ in $(seq 1 30); do cd "$long" || exit 1; done && "$@"); }
at_bottom bash -c 'echo changed >>"$0"' "$leaf"
"$PCOPY" -q --delete deep-src deep-dst
check "deep tree: an incremental run picks up the change at the bottom" [ "$(tar_view deep-src)" = "$(tar_view deep-dst)" ]
"$PCOPY" -q --tar deep.tar --manifest deep-tar.sum deep-src
check "deep tree: --tar exits 0" [ $? -eq 0 ]
# GNU tar cannot extract past PATH_MAX either, so it lists and streams both archives instead.
tar --sort=name --format=posix -cf gnu.tar deep-src
listing() { tar --full-time -tvf "$1" | awk '{print $1, $2, $3, $4, $5, $6}' | sort; }
check "deep tree: GNU tar lists the archive as it lists its own" [ "$(listing deep.tar)" = "$(listing gnu.tar)" ]
check "deep tree: the archive's contents are GNU tar's" [ "$(tar -xOf deep.tar | md5sum)" = "$(tar -xOf gnu.tar | md5sum)" ]
check "deep tree: the archive's manifest has all 31 files" [ "$(wc -l <deep-tar.sum)" -eq 31 ]
rm -rf deep-src/"$long"/"$long"
"$PCOPY" -q --delete deep-src deep-dst
check "deep tree: --delete removes a deep subtree" [ "$(tar_view deep-src)" = "$(tar_view deep-dst)" ]
# Symlinks in DEST pointing outside it are replaced, never written through.
mkdir -p src-ln/sub outside
echo new >src-ln/sub/file && echo top >src-ln/file
echo precious >outside/file
mkdir dst-ln && ln -s "$T/outside" dst-ln/sub && ln -s "$T/outside/file" dst-ln/file
"$PCOPY" -q src-ln dst-ln
check "hostile DEST: exit 0" [ $? -eq 0 ]
check "hostile DEST: outside file untouched" [ "$(cat outside/file)" = precious ]
check "hostile DEST: nothing written outside" [ "$(ls outside)" = file ]
check "hostile DEST: links replaced by the real copy" same_tree src-ln dst-ln

# A destination directory swapped for a symlink to the outside while the run goes on: the
# files bound for it fail or land inside DEST, never outside.
mkdir -p src-race/sub outside-race
for i in $(seq 1 20); do echo $i >src-race/sub/f$i; done
PCOPY_TEST_SLOW_MS=50 "$PCOPY" -q -j 2 src-race dst-race 2>race.err &
pid=$!
t=0
until [ -e dst-race/sub/f2 ] || [ $t -ge 1000 ]; do sleep 0.01; t=$((t + 1)); done
mv dst-race/sub dst-race/sub.moved && ln -s "$T/outside-race" dst-race/sub
wait $pid
check "swapped-in symlink: nothing written outside DEST" [ -z "$(ls -A outside-race)" ]
check "swapped-in symlink: no temporary files" no_tmp dst-race
rm dst-race/sub && "$PCOPY" -q --delete src-race dst-race
check "swapped-in symlink: a re-run copies exactly" same_tree src-race dst-race
finish
