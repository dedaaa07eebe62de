#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# dir-merge (": NAME"): per-directory rule files as rsync reads them. A directory's file
# applies to everything below it, its rules go in front of those inherited from its parents,
# all of them at the place of the dir-merge rule among the others, and a leading '/' in a
# file anchors at the file's own directory. pcopy and rsync -a copy the same tree, keep and
# delete the same entries under --delete, and --tar archives what rsync would send.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/a/b/c src/a/keep src/top/sub src/other/b src/deep/x/y/z
for f in f.o f.c f.log a/f.o a/f.c a/f.log a/b/f.o a/b/f.c a/b/f.tmp a/b/c/f.o a/b/c/f.c \
	a/b/c/f.tmp a/keep/f.o a/keep/f.log top/f.o top/sub/f.o top/sub/f.c top/sub/f.log \
	other/f.o other/b/f.c other/b/f.tmp deep/x/y/z/f.o deep/x/y/f.c deep/x/f.tmp; do
	printf '%s\n' "$f" >"src/$f"
done
# The root: no .o files, no logs.
printf '%s\n' '- *.o' '- *.log' >src/.rsync-filter
# a/: keep .o files here and below (in front of the root's rule), and its own anchored rule.
printf '%s\n' '# a comment' '+ *.o' '- /b/c/' '- f.tmp' >src/a/.rsync-filter
# a/b/: the nearest file wins: .o excluded again below a/b.
printf '%s\n' '- *.o' '+ f.tmp' >src/a/b/.rsync-filter
# a/keep: logs are welcome here; an anchored rule here does not reach other/b.
printf '%s\n' '+ *.log' '- /b' >src/a/keep/.rsync-filter
# top/sub: an empty file and a comment only.
printf '%s\n' '; nothing' >src/top/sub/.rsync-filter
# deep/x: inherited all the way down.
printf '%s\n' '- z/' '+ f.tmp' '- *.c' >src/deep/x/.rsync-filter
printf '%s\n' '- *.c' '- *.tmp' >src/.pcopy-filter
printf '%s\n' '+ *.c' >src/other/.pcopy-filter

populate() {
	mkdir -p "$1"
	cp -a src/. "$1"/
	mkdir -p "$1/a/b/c/old" "$1/gone"
	for f in a/x.o a/b/x.o a/b/c/old/f stale.o stale.log gone/f top/sub/x.log a/keep/x.log; do
		printf 'x\n' >"$1/$f"
	done
}

RULESETS=(
	"--filter ': .rsync-filter'"
	"--filter 'dir-merge .rsync-filter' --filter '- .rsync-filter'"
	"--filter 'dir-merge /.rsync-filter' --exclude '*.c'"
	"--exclude '*.c' --filter ': .rsync-filter'"
	"--include 'f.o' --filter ': .rsync-filter' --exclude 'f.c'"
	"--filter ': .rsync-filter' --filter ': .pcopy-filter'"
	"--filter ': .pcopy-filter' --filter ': .rsync-filter' --include '*/' --exclude 'f.log'"
	"--filter ': .none-here' --exclude '*.o'"
)

for rules in "${RULESETS[@]}"; do
	eval "set -- $rules"
	rm -rf r1 p1 r2 p2
	rsync -a "$@" src/ r1/
	"$PCOPY" -q "$@" src p1
	same_list "$rules: the tree rsync copies" r1 p1
	populate r2
	populate p2
	rsync -a --delete "$@" src/ r2/ >/dev/null 2>&1
	"$PCOPY" -q --delete "$@" src p2
	same_list "$rules --delete: what rsync deletes and keeps" r2 p2
	rm -rf r5 ex.tar
	mkdir r5
	rsync -a "$@" src r5/
	"$PCOPY" -q --tar ex.tar "$@" src
	want=$(cd r5 && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)
	got=$(tar --quoting-style=literal -tf ex.tar | sed 's|/$||' | LC_ALL=C sort)
	same_text "$rules --tar: the members rsync would send" "$want" "$got"
done

# Sources copied by their names: each one's files apply below it, anchored there.
for rules in "--filter ': .rsync-filter'" "--filter ': .pcopy-filter' --exclude 'f.tmp'"; do
	eval "set -- $rules"
	rm -rf r6 p6
	mkdir r6 p6
	(cd src && rsync -a "$@" a other deep ../r6/)
	(cd src && "$PCOPY" -q "$@" a other deep ../p6)
	same_list "several sources, $rules: the tree rsync copies" r6 p6
done

# A bad rule in a directory's file stops the run (exit 2) and names the file.
mkdir -p bad/d
printf 'x\n' >bad/d/f
printf '%s\n' '- *.o' 'what is this' >bad/d/.rsync-filter
"$PCOPY" -q --filter ': .rsync-filter' bad pb 2>err.out
check "bad rule in a per-directory file: exit 2" [ $? -eq 2 ]
check "bad rule in a per-directory file: names file and rule" \
	grep -q "^pcopy: d/.rsync-filter: bad filter rule 'what is this'$" err.out
printf '%s\n' 'merge x' >bad/d/.rsync-filter
"$PCOPY" -q --filter ': .rsync-filter' bad pb2 2>err.out
check "merge in a per-directory file: refused, exit 2" [ $? -eq 2 ]
"$PCOPY" -q --tar bad.tar --filter ': .rsync-filter' bad 2>err.out
check "--tar, bad rule in a per-directory file: the directory fails, exit 1" [ $? -eq 1 ]
check "--tar, bad rule in a per-directory file: names it" grep -q "bad/d/.rsync-filter" err.out
if [ "$(id -u)" != 0 ]; then
	printf '%s\n' '- *.o' >bad/d/.rsync-filter
	chmod 000 bad/d/.rsync-filter
	"$PCOPY" -q --filter ': .rsync-filter' bad pb3 2>err.out
	check "unreadable per-directory file: exit 2" [ $? -eq 2 ]
	check "unreadable per-directory file: names it" grep -q "^pcopy: d/.rsync-filter: Permission denied$" err.out
	chmod 644 bad/d/.rsync-filter
else
	skip "unreadable per-directory file (running as root)"
fi

finish
