#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --max-delete N: at most N entries removed by --delete (each entry below a removed directory
# counts), the same tree rsync -aHAX --delete --max-delete=N leaves; the rest is kept, a
# warning says so and the exit status is 1 (rsync: 25).
. "$(dirname "$0")/../../lib.sh"

mkdir -p src d0/x/y
echo keep >src/keep
for f in e1 e2 e3; do echo >"d0/$f"; done
echo >d0/x/y/1
echo >d0/x/2
for n in 0 1 2 4 7 10; do
	rm -rf p r
	cp -a d0 p
	cp -a d0 r
	"$PCOPY" -q --delete --max-delete=$n src p 2>err
	rc=$?
	rsync -aHAX --delete --max-delete=$n src/ r/ 2>/dev/null
	check "--max-delete=$n: rsync's tree" [ "$(cd p && find . | sort)" = "$(cd r && find . | sort)" ]
	if [ "$n" -lt 7 ]; then
		check "--max-delete=$n: exit 1" [ "$rc" = 1 ]
		check "--max-delete=$n: a warning" grep -q "^pcopy: p: deletions stopped by --max-delete=$n" err
	else
		check "--max-delete=$n: exit 0, no warning" [ "$rc" = 0 -a ! -s err ]
	fi
done
# Which entries the limit takes, as rsync: in each directory the subdirectories (their
# contents first) before the other entries, each group in reverse of rsync's order (names
# bytewise, a directory's as if it ended in '/': 'a b/' < 'a.b/' < 'a/' < 'a0/'); the
# extras of a directory before those of its subdirectories.
mkdir -p src/sub d1/sub "d1/stale dir/inner" "d1/a b" d1/a d1/a.b d1/a0 "d1/sub/x y"
echo >src/sub/keep
for f in stale.txt z.txt A "stale dir/inner/f" "stale dir/g" "a b/1" a/1 a.b/1 a0/1 sub/e \
	"sub/x y/1" sub/zz; do echo >"d1/$f"; done
ln -s x d1/lnk
for n in $(seq 0 20); do
	rm -rf p r
	cp -a d1 p
	cp -a d1 r
	"$PCOPY" -q --delete --max-delete=$n src p 2>/dev/null
	rsync -aHAX --delete --max-delete=$n src/ r/ >/dev/null 2>&1
	same_text "--max-delete=$n, a subdirectory beside files: rsync's tree" \
		"$(cd r && find . | sort)" "$(cd p && find . | sort)"
done
# Directories the source has are visited in rsync's order too: 'a b/' before 'a/'.
rm -rf src4 d4 && mkdir -p src4/a "src4/a b" src4/a0
echo >src4/a/k && echo >"src4/a b/k" && echo >src4/a0/k && cp -a src4 d4
echo >d4/a/x && echo >"d4/a b/x" && echo >d4/a0/x
for n in 1 2; do
	rm -rf p r
	cp -a d4 p
	cp -a d4 r
	"$PCOPY" -q --delete --max-delete=$n src4 p 2>/dev/null
	rsync -aHAX --delete --max-delete=$n src4/ r/ >/dev/null 2>&1
	same_text "--max-delete=$n, sibling directories 'a' and 'a b': rsync's tree" \
		"$(cd r && find . | sort)" "$(cd p && find . | sort)"
done
"$PCOPY" -q --delete --max-delete=-1 src p 2>err
check "--max-delete=-1: usage error" [ $? = 2 ]
finish
