#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Directory metadata at the end of a run: a no-change re-run sets none of it, so no
# directory's ctime moves (rsync -a makes no call either), yet a directory whose contents
# changed gets its mtime back, and a directory's own changes (mode, mtime, xattr, default ACL,
# owner) reach the copy, each moving only that directory's ctime (#17). --no-times, --chmod
# and --files-from's bare DEST keep their meaning.
. "$(dirname "$0")/../../lib.sh"

# Name, ctime, mtime and mode of every directory below $1, to the nanosecond.
dirs_of() { (cd "$1" && find . -type d -printf '%p %C@ %T@ %m\n' | LC_ALL=C sort); }
# The lines of dirs_of that differ between $1 and $2 (names only).
moved() { diff <(echo "$1") <(echo "$2") | sed -n 's/^> \([^ ]*\) .*/\1/p' | tr '\n' ' '; }
# Coarse timestamps (one jiffy): let a change be seen as one.
tick() { sleep 0.05; }

mkdir -p src/a/b src/c src/e
echo 1 >src/a/f && echo 2 >src/a/b/g && echo 3 >src/c/h && echo 4 >src/e/i
chmod 750 src/c && chmod 2775 src/e
touch -d '2021-03-04 05:06:07.123456789' src/a/b src/a src/c src/e src
"$PCOPY" -q src dst
check "first copy: exit 0" [ $? -eq 0 ]
check "first copy: rsync -a agrees" [ -z "$(rsync -a -n -i src/ dst/)" ]

before=$(dirs_of dst)
tick
"$PCOPY" -q src dst
check "no-change re-run: exit 0" [ $? -eq 0 ]
after=$(dirs_of dst)
check "no-change re-run: no directory's ctime moved ($(moved "$before" "$after"))" [ "$before" = "$after" ]
tick
"$PCOPY" -q -j 1 --delete src dst
check "no-change re-run with --delete: no ctime moved ($(moved "$before" "$(dirs_of dst)"))" [ "$before" = "$(dirs_of dst)" ]

# Contents changed: the directory's mtime moved when the file was added or removed, and it
# gets the source's back.
echo new >src/a/new && rm src/c/h
touch -d '2021-03-04 05:06:07.123456789' src/a src/c
tick
"$PCOPY" -q --delete src dst
check "file added: the directory's mtime restored" [ "$(stat -c %y dst/a)" = "$(stat -c %y src/a)" ] && [ -f dst/a/new ]
check "file deleted: the directory's mtime restored" [ "$(stat -c %y dst/c)" = "$(stat -c %y src/c)" ] && [ ! -e dst/c/h ]
check "rsync -a agrees after contents changed" [ -z "$(rsync -a -n -i --delete src/ dst/)" ]

# The directory's own metadata alone.
before=$(dirs_of dst)
chmod 700 src/a/b
touch -d '2022-01-01 00:00:00.5' src/c
tick
"$PCOPY" -q src dst
after=$(dirs_of dst)
check "mode-only change reaches the copy" [ "$(stat -c %a dst/a/b)" = 700 ]
check "mtime-only change reaches the copy" [ "$(stat -c %y dst/c)" = "$(stat -c %y src/c)" ]
check "only those two moved ($(moved "$before" "$after"))" [ "$(moved "$before" "$after")" = "./a/b ./c " ]
check "set-group-ID directory keeps its mode" [ "$(stat -c %a dst/e)" = 2775 ]
if setfattr -n user.x -v 1 src/e 2>/dev/null; then
	tick
	"$PCOPY" -q src dst
	check "xattr-only change reaches the copy" [ "$(getfattr --only-values -n user.x dst/e 2>/dev/null)" = 1 ]
	before=$(dirs_of dst)
	tick
	"$PCOPY" -q src dst
	check "xattr kept: the next re-run moves nothing" [ "$before" = "$(dirs_of dst)" ]
	setfattr -n user.x -v 2 src/e
	"$PCOPY" -q src dst
	check "xattr value changed (same names): reaches the copy" [ "$(getfattr --only-values -n user.x dst/e 2>/dev/null)" = 2 ]
	setfattr -x user.x src/e
	"$PCOPY" -q src dst
	check "xattr removed from the source: removed from the copy" not getfattr -n user.x dst/e
else
	skip "no user xattrs here"
fi
if setfacl -d -m u:nobody:rx src/a 2>/dev/null; then
	"$PCOPY" -q src dst
	check "default ACL reaches the copy" [ "$(getfacl -cpd dst/a 2>/dev/null)" = "$(getfacl -cpd src/a 2>/dev/null)" ]
	check "mode still the source's after the ACL" [ "$(stat -c %a dst/a)" = "$(stat -c %a src/a)" ]
	before=$(dirs_of dst)
	tick
	"$PCOPY" -q src dst
	check "ACL kept: the next re-run moves nothing" [ "$before" = "$(dirs_of dst)" ]
else
	skip "no ACLs here"
fi
if [ "$(id -u)" = 0 ]; then
	chown 4242:4343 src/c
	"$PCOPY" -q src dst
	check "owner-only change reaches the copy" [ "$(stat -c %u:%g dst/c)" = 4242:4343 ] && [ "$(stat -c %a dst/c)" = 750 ]
	before=$(dirs_of dst)
	tick
	"$PCOPY" -q src dst
	check "owner kept: the next re-run moves nothing" [ "$before" = "$(dirs_of dst)" ]
fi
# A change in the copy is put right too.
chmod 777 dst/a/b && touch dst/c
"$PCOPY" -q src dst
check "a directory changed in the copy is put back" [ "$(stat -c %a dst/a/b)" = 700 ] && [ "$(stat -c %y dst/c)" = "$(stat -c %y src/c)" ]
check "rsync -aAX agrees at the end" [ -z "$(rsync -a -A -X -n -i src/ dst/ 2>/dev/null)" ]

# --no-times: a directory whose contents changed keeps the time of the change.
echo more >src/a/more
touch -d '2021-03-04 05:06:07.123456789' src/a
"$PCOPY" -q --no-times src dst
check "--no-times: the directory's mtime is not set" [ "$(stat -c %y dst/a)" != "$(stat -c %y src/a)" ]

# --chmod: applied once, then nothing moves.
"$PCOPY" -q --chmod=D711 src dst
check "--chmod=D711 applied to the directories" [ "$(stat -c %a dst/a)" = 711 ] && [ "$(stat -c %a dst/c)" = 711 ]
before=$(dirs_of dst)
tick
"$PCOPY" -q --chmod=D711 src dst
check "--chmod: the next re-run moves nothing ($(moved "$before" "$(dirs_of dst)"))" [ "$before" = "$(dirs_of dst)" ]

# --files-from without ".": DEST keeps its own mode and takes nothing of SOURCE's.
mkdir bare && chmod 701 bare && echo a/f >list
"$PCOPY" -q --files-from=list src bare
check "--files-from: bare DEST keeps its mode" [ "$(stat -c %a bare)" = 701 ]
check "--files-from: the implied directory takes the source's" [ "$(stat -c %y bare/a)" = "$(stat -c %y src/a)" ]
before=$(dirs_of bare)
tick
"$PCOPY" -q --files-from=list src bare
check "--files-from: the re-run moves nothing ($(moved "$before" "$(dirs_of bare)"))" [ "$before" = "$(dirs_of bare)" ]
chmod 705 bare
"$PCOPY" -q --files-from=list src bare
check "--files-from: bare DEST's own new mode stays" [ "$(stat -c %a bare)" = 705 ]

# A user who is not root: the same, and a read-only directory ends read-only.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p u/src/w/x u/src/ro && echo 1 >u/src/w/x/f && echo 2 >u/src/ro/f && chmod 555 u/src/ro
	chown -R nobody:nogroup u
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	as_nobody "$PCOPY" -q u/src u/dst
	before=$(dirs_of u/dst | grep -v '^./ro ')
	tick
	as_nobody "$PCOPY" -q u/src u/dst
	check "not root: re-run exit 0" [ $? -eq 0 ]
	check "not root: no writable directory's ctime moved" [ "$before" = "$(dirs_of u/dst | grep -v '^./ro ')" ]
	check "not root: the read-only directory ends read-only" [ "$(stat -c %a u/dst/ro)" = 555 ]
	echo 3 >u/src/w/x/g 2>/dev/null || as_nobody sh -c 'echo 3 >u/src/w/x/g'
	touch -d '2021-03-04 05:06:07.5' u/src/w/x
	as_nobody "$PCOPY" -q u/src u/dst
	check "not root: contents changed, the mtime restored" [ "$(stat -c %y u/dst/w/x)" = "$(stat -c %y u/src/w/x)" ]
else
	skip "not root, or no setpriv: no other user to run as"
fi

finish
