#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --backup, --suffix and --backup-dir (#15), with rsync as the oracle: what a copy replaces,
# and with --delete what it removes, is kept under its backup name, and the tree ends as
# `rsync -aHAX OPTS src/ dst/` leaves it (content, type, mode, size and mtime of every entry,
# the backups among them). The old file moves only once the new one is complete and verified.
. "$(dirname "$0")/../../lib.sh"

# state_of DIR: one line per entry (path, type, mode, size, mtime, link target) and the
# content's checksums. Directory mtimes are left out: rsync renames backups into a directory
# after it set the directory's time (which then says when the backup was made), pcopy
# before (the source's time, as without --backup).
state_of() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P %y %m\n' \) -o -printf '%P %y %m %s %T@ %l\n' | sort
	 find . -type f | sort | xargs -r -d '\n' md5sum)
}

mkdir -p src/keep src/big
echo new >src/changed && touch -d '2021-01-01 00:00:00' src/changed
echo same >src/same && touch -d '2020-01-01 00:00:00' src/same
echo new >src/keep/k && touch -d '2021-01-01 00:00:00' src/keep/k
echo brand-new >src/added
ln -s changed src/link && touch -h -d '2021-01-01 00:00:00' src/link
head -c 300000 /dev/urandom >src/big/file && touch -d '2021-01-01 00:00:00' src/big/file
touch -d '2020-02-02 00:00:00' src/keep src/big src

mkdir -p seed/keep seed/gone/sub seed/big
echo old >seed/changed && touch -d '2019-01-01 00:00:00' seed/changed
echo same >seed/same && touch -d '2020-01-01 00:00:00' seed/same
echo oldk >seed/keep/k && touch -d '2019-01-01 00:00:00' seed/keep/k
echo g >seed/gone/g && echo s >seed/gone/sub/s && echo x >seed/extra
echo y >seed/link
echo q >seed/old~
head -c 300000 /dev/urandom >seed/big/file && touch -d '2019-01-01 00:00:00' seed/big/file
find seed -exec touch -h -d '2019-06-06 00:00:00' {} +
touch -d '2019-01-01 00:00:00' seed/changed seed/keep/k seed/big/file

# agree DESCRIPTION -- OPTION...: pcopy and rsync with OPTION... from seed agree.
agree() {
	local d=$1
	shift 2
	rm -rf p r && cp -a seed p && cp -a seed r
	"$PCOPY" -q "$@" src p >out.txt 2>&1
	local rc=$?
	rsync -aHAX "$@" src/ r/ >/dev/null 2>&1
	check "$d: exit 0 ($rc $(head -c 300 out.txt))" [ $rc -eq 0 ]
	same_text "$d: the tree rsync makes" "$(state_of r)" "$(state_of p)"
	check "$d: no temporary file left" no_tmp p
}

agree "--backup" -- --backup
agree "-b" -- -b
agree "--backup --suffix .bak" -- --backup --suffix .bak
agree "--backup-dir BK" -- --backup-dir BK
agree "--backup-dir BK --suffix .s" -- --backup-dir BK --suffix .s
agree "-b --delete" -- -b --delete
agree "-b --suffix=.bak --delete" -- -b --suffix=.bak --delete
agree "--backup-dir BK --delete" -- --backup-dir BK --delete
agree "--backup-dir BK --suffix .s --delete" -- --backup-dir BK --suffix .s --delete
agree "--backup-dir deep/er/BK --delete" -- --backup-dir deep/er/BK --delete
agree "-b -c" -- -b -c
agree "-b --force" -- -b --force
# --backup-dir: a directory made inside it takes the mode, owner and xattrs of the DEST
# directory it stands for, as rsync's do: what a 700 directory protected stays protected
# ('keep' and 'gone' hold what is replaced and what is deleted).
owners_of() { (cd "$1" && find . -mindepth 1 -type d -printf '%P %m %u:%g\n' | sort); }
rm -rf seed2 src2 && cp -a seed seed2 && cp -a src src2
chmod 700 seed2/keep src2/keep && chmod 2770 seed2/gone && chmod 750 seed2/gone/sub
if [ "$(id -u)" = 0 ]; then
	chown 1234:5678 seed2/keep src2/keep && chown 4321:8765 seed2/gone seed2/gone/sub
fi
xa=no
command -v getfattr >/dev/null && command -v setfacl >/dev/null && setfattr -n user.k -v v seed2/gone \
	2>/dev/null && setfacl -m u:1234:rx seed2/gone 2>/dev/null && xa=yes
rm -rf p r && cp -a seed2 p && cp -a seed2 r
"$PCOPY" -q --backup-dir BK --delete src2 p
rsync -aHAX --backup-dir BK --delete src2/ r/ >/dev/null 2>&1
same_text "--backup-dir: its directories have the modes and owners rsync gives them" \
	"$(owners_of r/BK)" "$(owners_of p/BK)"
check "--backup-dir: BK/gone/sub is 750" [ "$(stat -c %a p/BK/gone/sub)" = 750 ]
# rsync 3.5 gives them the ACLs too, not the other xattrs.
if [ $xa = yes ]; then
	same_text "--backup-dir: BK/gone has the ACL of DEST's gone" "$(cd r && getfacl -p BK/gone)" \
		"$(cd p && getfacl -p BK/gone)"
	check "--backup-dir: the ACL is there" grep -q 'user:1234:r-x' <(getfacl -p p/BK/gone)
	same_text "--backup-dir: BK/gone's xattrs, rsync's" "$(cd r && getfattr -d BK/gone 2>&1)" \
		"$(cd p && getfattr -d BK/gone 2>&1)"
fi

# A symbolic link and a FIFO that differ from DEST's only in their mtime: their data is up
# to date, so they are not backed up, only given the time, as rsync -b does.
mkdir -p src3 seed3
ln -s same src3/link && ln -s same seed3/link && mkfifo src3/fifo seed3/fifo
touch -h -d '2021-01-01 00:00:00' src3/link src3/fifo
touch -h -d '2019-01-01 00:00:00' seed3/link seed3/fifo
rm -rf p r && cp -a seed3 p && cp -a seed3 r
"$PCOPY" -q -b src3 p
rsync -aHAX -b src3/ r/ >/dev/null 2>&1
same_text "-b, a link and a FIFO with another mtime: rsync's tree" "$(state_of r)" "$(state_of p)"
check "-b, a link and a FIFO with another mtime: no backup" [ ! -e p/link~ -a ! -e p/fifo~ ]
check "-b, a link and a FIFO with another mtime: the source's time" \
	[ "$(stat -c %Y p/link p/fifo)" = "$(stat -c %Y src3/link src3/fifo)" ]

# A big file copied in parts by several workers is backed up by the worker that seals it.
rm -rf p && cp -a seed p
PCOPY_TEST_SPLIT_MIN=65536 "$PCOPY" -q -j 4 -b src p
check "split copy: the old big file kept" cmp -s seed/big/file p/big/file~
check "split copy: the new one in place" cmp -s src/big/file p/big/file

# An absolute --backup-dir outside DEST.
rm -rf p abs && cp -a seed p
"$PCOPY" -q --backup-dir "$T/abs" --delete src p
check "absolute --backup-dir: the replaced file" [ "$(cat abs/changed)" = old ]
check "absolute --backup-dir: the deleted tree" [ "$(cat abs/gone/sub/s)" = s ]

# A second run backs up again, over the older backup.
rm -rf p && cp -a seed p
"$PCOPY" -q -b src p && echo newer >src/changed && "$PCOPY" -q -b src p
check "a second backup replaces the first" [ "$(cat p/changed~)" = new ]
echo new >src/changed && touch -d '2021-01-01 00:00:00' src/changed

# A dry run moves nothing.
rm -rf p && cp -a seed p
"$PCOPY" -n -b --delete src p >/dev/null
check "-n -b: nothing moved" [ "$(state_of p)" = "$(state_of seed)" ]

# Bad input: exit 2.
"$PCOPY" -b --suffix '' src p 2>err.txt
check "--suffix '' without --backup-dir: exit 2" [ $? -eq 2 ]
check "--suffix '': says so" grep -qx 'pcopy: --suffix cannot be empty without --backup-dir' err.txt
"$PCOPY" -b --suffix 'a/b' src p 2>err.txt
check "--suffix with a slash: exit 2" [ $? -eq 2 ]
finish
