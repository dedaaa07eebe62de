#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# What to do with what DEST already has (#15), with rsync as the oracle: for each option,
# `pcopy OPTS src dst` and `rsync -aHAX OPTS src/ dst/` run on twin copies of the same
# half-stale destination, and the two trees must agree by content, type, mode, size, mtime
# and owner. Options: -u, --ignore-existing, --existing, --size-only, and the short options
# people type from habit (-a, -rlptgoDHAX, -P), which change nothing.
. "$(dirname "$0")/../../lib.sh"

# state_of DIR [notimes|todir]: one line per entry: path, type, mode, size, owner, mtime,
# content; notimes leaves mtimes out, todir the mtime of todir (see --ignore-existing below).
state_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %s %U:%G %T@ %l\n' | sort |
		case "${2:-}" in
		notimes) awk '{$6=""; print}' ;;
		todir) awk '$1 == "todir" {$6=""} {print}' ;;
		*) cat ;;
		esac
	 find . -type f | sort | xargs -r -d '\n' md5sum)
}

# A source, and a destination that is partly older, partly newer, partly missing, with a
# file where the source has a directory and the other way round.
mkdir -p src/d src/newd/deep src/both src/todir
echo one >src/same && touch -d '2020-01-01 00:00:00' src/same
echo two >src/older-in-dst && touch -d '2020-01-01 00:00:00' src/older-in-dst
echo three >src/newer-in-dst && touch -d '2020-01-01 00:00:00' src/newer-in-dst
echo four >src/samesize && touch -d '2020-01-01 00:00:00' src/samesize
echo fivefive >src/othersize && touch -d '2020-01-01 00:00:00' src/othersize
echo new >src/newfile && echo deep >src/newd/deep/f && echo in >src/d/in
echo b >src/both/b && echo x >src/todir/x
ln -s same src/link && touch -h -d '2020-01-01 00:00:00' src/link
echo tofile >src/tofile
chmod 640 src/same src/samesize
touch -d '2020-02-02 00:00:00' src/d src/both src/newd src/newd/deep src/todir src

mkdir -p seed/d seed/both seed/tofile
echo one >seed/same && touch -d '2020-01-01 00:00:00' seed/same && chmod 600 seed/same
echo TWO >seed/older-in-dst && touch -d '2019-01-01 00:00:00' seed/older-in-dst
echo THREE >seed/newer-in-dst && touch -d '2021-01-01 00:00:00' seed/newer-in-dst
echo FOUR >seed/samesize && touch -d '2022-01-01 00:00:00' seed/samesize
echo five >seed/othersize && touch -d '2020-01-01 00:00:00' seed/othersize
echo dst-only >seed/d/dst-only && echo old-b >seed/both/b
ln -s elsewhere seed/link
echo file >seed/todir

# agree DESCRIPTION [notimes] -- OPTION...: pcopy and rsync with OPTION... from seed agree.
agree() {
	local d=$1 how=
	shift
	[ "$1" != -- ] && { how=$1; shift; }
	shift
	rm -rf p r && cp -a seed p && cp -a seed r
	"$PCOPY" -q "$@" src p >out.txt 2>&1
	local rc=$?
	rsync -aHAX "$@" src/ r/ >/dev/null 2>&1
	check "$d: exit 0 ($rc $(head -c 200 out.txt))" [ $rc -eq 0 ]
	same_text "$d: the tree rsync makes" "$(state_of r $how)" "$(state_of p $how)"
}

agree "no option" -- 
agree "-u" -- -u
agree "--update" -- --update
# rsync --ignore-existing leaves the file todir (a directory in the source) alone but gives
# it the source directory's mtime; pcopy leaves it wholly alone.
agree "--ignore-existing" todir -- --ignore-existing
agree "--existing" -- --existing
agree "--size-only" -- --size-only
agree "--existing --ignore-existing" todir -- --existing --ignore-existing
agree "-u --size-only" -- -u --size-only
agree "-a -rlptgoDHAX" -- -a -rlptgoDHAX
agree "--delete --existing" -- --delete --existing
agree "-u -c" -- -u -c

# Hard links: the second name is linked by the parent, under the same rules.
mkdir -p hs ht && echo data >hs/a && ln hs/a hs/b && echo old >ht/b
rm -rf p r && cp -a ht p && cp -a ht r
"$PCOPY" -q --ignore-existing hs p && rsync -aHAX --ignore-existing hs/ r/
check "--ignore-existing: a hard link's existing name is left, as rsync leaves it" \
	[ "$(state_of p)" = "$(state_of r)" ]
rm -rf p && cp -a ht p
"$PCOPY" -q --existing hs p
check "--existing: a hard link's missing first name is not made, and no error" \
	[ $? -eq 0 ] && [ ! -e p/a ] && [ "$(cat p/b)" = old ]

# What each option keeps, said plainly too.
rm -rf p && cp -a seed p && "$PCOPY" -q -u src p
check "-u keeps the newer file" [ "$(cat p/newer-in-dst)" = THREE ]
check "-u replaces the older one" [ "$(cat p/older-in-dst)" = two ]
rm -rf p && cp -a seed p && "$PCOPY" -q --existing src p
check "--existing creates no file" [ ! -e p/newfile ] && [ ! -e p/d/in ]
check "--existing creates no directory" [ ! -e p/newd ]
check "--existing updates what is there" [ "$(cat p/older-in-dst)" = two ]
rm -rf p && cp -a seed p && "$PCOPY" -q --ignore-existing src p
check "--ignore-existing leaves existing files" [ "$(cat p/older-in-dst)" = TWO ] && [ "$(cat p/samesize)" = FOUR ]
check "--ignore-existing creates new ones" [ "$(cat p/newd/deep/f)" = deep ]
rm -rf p && cp -a seed p && "$PCOPY" -q --size-only src p
check "--size-only keeps same-size data" [ "$(cat p/samesize)" = FOUR ]
check "--size-only takes the source's mtime" [ "$(stat -c %Y p/samesize)" = "$(stat -c %Y src/samesize)" ]

# A dry run says what a real run would do.
rm -rf p && cp -a seed p
"$PCOPY" -n -u src p >dry.txt 2>&1
check "-n -u: the newer file is not listed" not grep -qx 'newer-in-dst' dry.txt
check "-n -u: the older one is" grep -qx 'older-in-dst' dry.txt

# The habit letters are accepted; -P is --progress.
"$PCOPY" -P src pp 2>prog.txt
check "-P: exit 0 and a progress line" [ $? -eq 0 ] && [ -s prog.txt ]
"$PCOPY" -z src pz 2>z.txt
check "an unknown letter is still refused" [ $? -eq 2 ] && grep -q 'unknown option: -z' z.txt
finish
