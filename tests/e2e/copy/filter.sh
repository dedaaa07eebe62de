#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Rule lists mean what they mean to rsync: --include, --exclude, --exclude-from,
# --include-from and --filter ("+", "-", "merge", ".", "!", "-!"), first matching rule wins,
# in the order given. For each rule set, pcopy and rsync -a copy the same tree, delete and
# keep the same entries of a populated destination under --delete and --delete-excluded,
# list the same files under -n -v, and --tar archives what rsync would send.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/a/b/c src/top/sub src/top/cache src/cache src/lib/x src/doc src/build/obj
for f in a.c a.o a/x.c a/b/y.o a/b/c/z.c a/b/c/keep top/f.c top/sub/g.h top/sub/h.o \
	top/cache/t cache/u lib/x/m.c lib/x/n.txt doc/readme doc/notes.txt build/obj/o.o \
	build/out README main.c Makefile .hidden; do
	printf '%s\n' "$f" >"src/$f"
done

# A destination with the source and more, so --delete has something to delete or keep.
populate() {
	mkdir -p "$1"
	cp -a src/. "$1"/
	mkdir -p "$1/extra/sub" "$1/top/old" "$1/cache/more"
	for f in extra/f.c extra/sub/g.o top/old/f.o stale.o stale.c top/gone.txt \
		cache/more/v a/b/c/zz.o; do
		printf 'x\n' >"$1/$f"
	done
}

printf '%s\n' '# comment' '; another' '' '*.o' '+ keep' 'c/' >ex.list
printf '%s\n' '# files to take' '*.c' '' '*/' >in.list
printf '%s\n' '# a merge file' '- *.o' '+ /top/**' '- top/' '' '. nested.rules' >main.rules
printf '%s\n' '; nested' '- cache/' >nested.rules

RULESETS=(
	"--include '*/' --include '*.c' --exclude '*'"
	"--include '*.c' --exclude '*'"
	"--exclude '*.o' --include '*.o'"
	"--include '*.o' --exclude '*.o'"
	"--filter '+ /a/' --filter '+ /a/**' --filter '- *'"
	"--filter '- /top/sub/' --filter '+ top/***' --filter '- /*'"
	"--include 'cache/' --exclude '*/'"
	"--filter '-! */' --include 'nothing'"
	"--filter '+ */' --filter '-! *.c'"
	"--include '/a/**/c' --include '/a/**/c/**' --include '*/' --exclude '*'"
	"--exclude '**/c/*' --exclude '/doc/*.txt'"
	"--exclude 'b/**' --exclude 'x/'"
	"--exclude '/sub' --exclude 'sub/g.h' --exclude '/cache/'"
	"--include 'dir/***' --include 'lib/***' --exclude '*'"
	"--exclude '+ *.o' --exclude '*.o' --exclude '- *.c'"
	"--exclude '*.c' --filter '!' --exclude '*.o'"
	"--exclude-from ex.list"
	"--include-from in.list --exclude '*'"
	"--filter 'merge main.rules'"
	"--filter '. main.rules' --include '*.c' --exclude '*.?'"
	"--filter 'exclude *.txt' --filter 'include a/' --filter 'exclude /*/'"
)

for rules in "${RULESETS[@]}"; do
	eval "set -- $rules"
	rm -rf r1 p1 r2 p2 r3 p3
	rsync -a "$@" src/ r1/
	"$PCOPY" -q "$@" src p1
	same_list "$rules: the tree rsync copies" r1 p1
	populate r2
	populate p2
	rsync -a --delete "$@" src/ r2/ >/dev/null 2>&1
	"$PCOPY" -q --delete "$@" src p2
	same_list "$rules --delete: what rsync deletes and keeps" r2 p2
	populate r3
	populate p3
	rsync -a --delete-excluded "$@" src/ r3/ >/dev/null 2>&1
	"$PCOPY" -q --delete-excluded "$@" src p3
	same_list "$rules --delete-excluded: what rsync deletes and keeps" r3 p3
	want=$(rsync -a -n -v "$@" src/ r4/ | grep -v -e '^sending ' -e '^created ' -e '^$' \
		-e '^sent ' -e '^total size' -e '/$' | LC_ALL=C sort)
	got=$("$PCOPY" -n -v "$@" src p4 | LC_ALL=C sort)
	same_text "$rules -n -v: the files rsync lists" "$want" "$got"
	rm -rf r5 ex.tar
	mkdir r5
	rsync -a "$@" src r5/
	"$PCOPY" -q --tar ex.tar "$@" src
	want=$(cd r5 && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)
	got=$(tar --quoting-style=literal -tf ex.tar | sed 's|/$||' | LC_ALL=C sort)
	same_text "$rules --tar: the members rsync would send" "$want" "$got"
done

# Several sources copied by name: a rule anchors at the transfer root, above them.
for rules in "--filter '- /top/sub/' --filter '+ /top/***' --filter '- *'" \
	"--include '/a/**' --include '/a/' --exclude '*'"; do
	eval "set -- $rules"
	rm -rf r6 p6
	mkdir r6 p6
	(cd src && rsync -a "$@" a top doc ../r6/)
	(cd src && "$PCOPY" -q "$@" a top doc ../p6)
	same_list "several sources, $rules: the tree rsync copies" r6 p6
done

# Bad input: a rule that is none, a file that cannot be read; exit 2, one line naming it.
for bad in "--filter 'bogus rule'" "--filter '-'" "--filter '- '" "--filter '+x *.c'" \
	"--filter 'clear x'" "--filter 'hide *.o'" "--filter ': a/b'"; do
	eval "set -- $bad"
	rm -rf p7
	"$PCOPY" -q "$@" src p7 2>err.out
	rc=$?
	check "$bad: exit 2" [ "$rc" -eq 2 ]
	check "$bad: says which rule" grep -q "^pcopy: bad filter rule '" err.out
	check "$bad: nothing copied" [ ! -e p7 ]
done
"$PCOPY" -q --exclude-from missing.list src p7 2>err.out
check "unreadable --exclude-from: exit 2" [ $? -eq 2 ]
check "unreadable --exclude-from: names it" grep -q '^pcopy: missing.list: No such file or directory$' err.out
printf '%s\n' '- *.o' 'junk line' >bad.rules
"$PCOPY" -q --filter 'merge bad.rules' src p7 2>err.out
check "a bad line in a merge file: exit 2" [ $? -eq 2 ]
check "a bad line in a merge file: says which" grep -q "^pcopy: bad filter rule 'junk line'$" err.out

# Options that take no rules do not go with them: --check with --delete-excluded.
check "--check does not go with --delete-excluded" not "$PCOPY" --check --delete-excluded src p1

finish
