#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --exclude patterns mean what they mean to rsync (rsync(1) PATTERN MATCHING RULES): for each
# pattern, pcopy and rsync -a copy the same tree the same way, leave the same entries of a
# populated destination alone under --delete, and --tar archives what rsync would send.
. "$(dirname "$0")/../../lib.sh"

# Names of many shapes: same names as files and directories at several depths, dotfiles,
# wildcard characters, spaces, a backslash, a symlink to a directory.
mkdir -p src/cache src/top/cache src/top/sub/foo src/sub src/a/b/c src/build/cache \
	src/dir/inner src/x/dir "src/sp ace" src/.git/objects src/top/top src/9lives
for f in cache/f top/f top/cache/f top/sub/foo/f top/sub/bar sub/foo sub/x.o a/x.o a/b/c/d \
	a/b/c.o a/c build/cache/f build/out dir/inner/f dir/g x/dir/f x/dirfile "sp ace/f" \
	.git/objects/f .hidden top/top/f "st*r" "q?" "back\\slash" "br[k]" 9lives/f abc a.c \
	top/a.c x/cache; do
	printf '%s\n' "$f" >"src/$f"
done
: >src/foo
ln -s top src/toplink
: >src/top/cachefile

PATTERNS=(
	'cache/' 'cache' '/cache' '/top' '/top/' 'top/' '/top/cache' 'sub/foo' 'top/sub/foo'
	'sub/*' '*.o' '*.c' 'a*c' '/a/**/c' '**/c' '**/f' 'dir/***' '/dir/***' 'b/**' 'a/**'
	'?' '??' '[ab]*' '[!a-s]*' '[[:digit:]]*' '\*' 'st\*r' 'q\?' 'back\slash' 'br\[k]'
	'.*' '*/' '/*/' 'sp ace' '/x/dir' 'x/dir' 'top/*/foo' '*/*/f' 'toplink' 'toplink/'
	'f' '/foo' 'cachefile' 'nothing' '*' '/'
)

# A destination with what the source has and more: extra files and directories named like
# the patterns, so --delete has something to delete or to leave alone.
populate() {
	mkdir -p "$1"
	cp -a src/. "$1"/
	mkdir -p "$1/extra/cache" "$1/cache/more" "$1/old dir" "$1/top/gone"
	for f in extra/f extra/cache/f cache/more/f "old dir/f" top/gone/f stale.o top/stale.c \
		top/cache/extra sub/foo.old; do
		printf 'x\n' >"$1/$f"
	done
	printf 'x\n' >"$1/top/sub/foo/extra"
}

for p in "${PATTERNS[@]}"; do
	rm -rf r1 p1 r2 p2
	rsync -a --exclude "$p" src/ r1/
	"$PCOPY" -q --exclude "$p" src p1
	same_list "--exclude '$p': the tree rsync copies" r1 p1
	populate r2
	populate p2
	rsync -a --delete --exclude "$p" src/ r2/ >/dev/null 2>&1 # "cannot delete non-empty directory: extra"
	"$PCOPY" -q --delete --exclude "$p" src p2
	same_list "--exclude '$p' --delete: what rsync deletes and keeps" r2 p2
done

# --delete matches a destination entry by its own type: where the source has a file and
# the destination a directory (or the other way round), "dir/" patterns see what the
# destination has, as rsync's do.
rm -rf tsrc
mkdir -p tsrc/asdir tsrc/d2 && echo f >tsrc/asfile && echo f >tsrc/.hidden && echo c >tsrc/k.c
ln -s d2 tsrc/link
tpop() {
	rm -rf "$1" && mkdir -p "$1/asfile" "$1/.hidden" "$1/link" "$1/d2" && echo x >"$1/asdir"
}
for rules in "--filter '-! */'" "--filter '- */'" "--filter '- /*/'" \
	"--include '*/' --include '*.c' --exclude '*'" "--exclude 'asdir/' --exclude '.hidden'"; do
	eval "set -- $rules"
	tpop tr && tpop tp
	rsync -a --delete "$@" tsrc/ tr/ >/dev/null 2>&1
	"$PCOPY" -q --delete "$@" tsrc tp 2>/dev/null
	same_list "type changes, --delete $rules: what rsync deletes and keeps" tr tp
done

# Several sources: each lands in DIR by its name, which is part of the transfer path, as for
# rsync -a a b DIR/: "/top/cache" anchors inside the source top.
mkdir -p many
for p in '/top/cache' '/sub/foo' 'cache/' '/top/sub/' 'sub/foo' '/cache'; do
	rm -rf r3 p3
	mkdir r3 p3
	(cd src && rsync -a --exclude "$p" top sub ../r3/)
	(cd src && "$PCOPY" -q --exclude "$p" top sub ../p3)
	same_list "several sources, --exclude '$p': the tree rsync copies" r3 p3
done

# A source copied by its name is that name in the transfer: rsync leaves it out when it
# matches, and so does pcopy (several sources, a file into a directory).
for p in 'top' '/sub' 'sub/' 'foo' '/foo' 's*'; do
	rm -rf r5 p5
	mkdir r5 p5
	(cd src && rsync -a --exclude "$p" top sub foo ../r5/)
	(cd src && "$PCOPY" -q --exclude "$p" top sub foo ../p5)
	same_list "a source named by --exclude '$p': left out as rsync leaves it" r5 p5
done

# --tar: a member "src/top/f" is matched like rsync -a src dest/ matches it.
for p in '/src/top' 'cache/' '/src/cache' 'sub/foo' '*.o' 'dir/***' '/top' 'src' '/src/'; do
	rm -rf r4 ex.tar
	mkdir r4
	rsync -a --exclude "$p" src r4/
	"$PCOPY" -q --tar ex.tar --exclude "$p" src
	want=$(cd r4 && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)
	got=$(tar --quoting-style=literal -tf ex.tar | sed 's|/$||' | LC_ALL=C sort)
	same_text "--tar --exclude '$p': the members rsync would send" "$want" "$got"
done

# --check does not report an excluded directory of DEST as extra.
rm -rf c1
"$PCOPY" -q src c1
mkdir -p c1/top/cache/new c1/newcache
: >c1/cachefile2
"$PCOPY" --check --exclude 'cache/' --exclude 'newcache/' --exclude 'cachefile2/' src c1 >check.out
check "--check: an excluded directory is not a difference, a file that a dir/ pattern does not cover is" \
	grep -q cachefile2 check.out
check "--check: the excluded directory is not reported" bash -c '! grep -q newcache check.out'

finish
