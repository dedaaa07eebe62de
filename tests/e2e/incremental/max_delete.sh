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
"$PCOPY" -q --delete --max-delete=-1 src p 2>err
check "--max-delete=-1: usage error" [ $? = 2 ]
finish
