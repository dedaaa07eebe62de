#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --files-from FILE means what it means to rsync 3.5: for several lists (files in nested
# directories, "dir" against "dir/" and -r, ".", comments and CRs, a leading "/", -0 from
# stdin), pcopy --files-from=F SRC DEST makes the tree of rsync -aHAX --files-from=F SRC/
# DEST/: the same names, contents and modes, and the same mtimes, directories included
# (implied parents take their source's; the top's only when "." is listed: else rsync sets
# it or not depending on the list, where pcopy always gives it SOURCE's). A missing name is said, exit 1, the rest copied.
# What it does not go with is refused (exit 2).
. "$(dirname "$0")/../../lib.sh"
command -v rsync >/dev/null || { echo "SKIP: no rsync to compare with"; exit 77; }

mkdir -p src/a/b/c src/d/e/f src/g src/"h i"
for f in a/b/c/x a/b/y a/z d/e/f/w d/e/v d/u top g/t "h i/s"; do
	printf '%s\n' "$f" >"src/$f"
done
chmod 750 src/a src/d/e
chmod 640 src/a/z
chmod 700 src/g
# Past mtimes: rsync leaves a directory's time alone when it is the same to the second.
find src -exec touch -h -d '2021-02-03 04:05:06' {} +
touch -d '2019-01-01 00:00:01' src/a/b src/d

# The tree of DIR: name, type, mode, size, mtime (the root's too, unless NOROOT), content.
tree_of() {
	(cd "$1" && find . ${2:+-mindepth 1} -printf '%p %y %m %s %T@\n' | LC_ALL=C sort &&
		find . -type f -exec md5sum {} + | LC_ALL=C sort)
}
# same WHAT LIST [OPTION...]: pcopy and rsync make the same tree from LIST.
same() {
	local what=$1 list=$2
	shift 2
	rm -rf r p
	rsync -aHAX "$@" --files-from="$list" src/ r/ 2>/dev/null
	"$PCOPY" -q "$@" --files-from="$list" src p
	local rc=$?
	if [ $rc -eq 0 ] && [ "$(tree_of r noroot)" = "$(tree_of p noroot)" ]; then
		pass "$what"
	else
		fail "$what (exit $rc)"
		diff <(tree_of r noroot) <(tree_of p noroot) | head -10
	fi
}

printf '%s\n' a/b/c/x d/e/v >l.nested
same "files in nested directories, with their parents" l.nested
same "the same with -r" l.nested -r
printf '%s\n' d >l.dir
same "a plain dir: itself, not its contents" l.dir
same "a plain dir with -r: everything below it" l.dir -r
printf '%s\n' d/ >l.dirslash
same "dir/: its direct contents, not further" l.dirslash
same "dir/ with -r: everything below it" l.dirslash -r
printf '%s\n' d/e/. >l.dirdot
same "dir/.: as dir/" l.dirdot
printf '%s\n' . >l.dot
same ".: the top's direct contents" l.dot
check ".: the top's mtime is SOURCE's" [ "$(stat -c %Y r)" = "$(stat -c %Y p)" ]
same ".: with -r, everything" l.dot -r
printf '# a comment\n; another\n\n/a/z\r\n./d//e/../u\n../top\nh i/s\n' >l.comments
same "comments, blank lines, CRs, a leading / and .., cleaned names" l.comments

printf 'a/b/y\0d/\0h i/s\0' >l.nul
rm -rf r p
rsync -aHAX --from0 --files-from=- src/ r/ <l.nul
"$PCOPY" -q -0 --files-from=- src p <l.nul
check "-0 --files-from=- (stdin): exit 0" [ $? -eq 0 ]
check "-0 --files-from=- (stdin): rsync's tree" [ "$(tree_of r noroot)" = "$(tree_of p noroot)" ]
rm -rf p
"$PCOPY" -q --from0 --files-from=l.nul src p
check "--from0 --files-from=FILE: rsync's tree" [ "$(tree_of r noroot)" = "$(tree_of p noroot)" ]

printf '%s\n' a/z nope/x g/t >l.missing
rm -rf r p
rsync -aHAX --files-from=l.missing src/ r/ 2>/dev/null
"$PCOPY" -q --files-from=l.missing src p 2>err
check "a missing name: exit 1" [ $? -eq 1 ]
check "a missing name: said" grep -qx "pcopy: src/nope/x: listed in --files-from: No such file or directory" err
rm -rf p && "$PCOPY" --json --files-from=l.missing src p >out.json 2>/dev/null
check "a missing name: a --json failed event" \
	grep -q '^{"event":"failed","path":"nope/x",.*"error":"listed in --files-from: No such file or directory"}$' out.json
check "a missing name: counted in the summary" grep -q '"failed":1,' out.json
# rsync leaves the top's mtime alone after an error: compare below it.
check "a missing name: the rest copied as rsync does" \
	[ "$(tree_of r noroot)" = "$(tree_of p noroot)" ]

mkdir p2
"$PCOPY" -q --files-from=l.nested src p2
rm -rf r && rsync -aHAX --files-from=l.nested src/ r/
check "an existing DEST: the names go into it" [ "$(tree_of r noroot)" = "$(tree_of p2 noroot)" ]

# refused ARGS...: exit 2, a "pcopy: " line, nothing made.
refused() {
	rm -rf out
	"$PCOPY" -q "$@" >/dev/null 2>err
	[ $? -eq 2 ] && grep -q "^pcopy: .*" err && [ ! -e out ]
}
check "--files-from with --delete: refused" refused --delete --files-from=l.dir src out
check "--files-from with two SOURCEs: refused" refused --files-from=l.dir src src out
check "--files-from with a file SOURCE: refused" refused --files-from=l.dir src/top out
check "--files-from with --tar: refused" refused --files-from=l.dir --tar out src
check "--files-from with a missing FILE: refused" refused --files-from=nosuch src out
rm -rf p
"$PCOPY" -q -r src p
check "-r without --files-from: the whole tree, as always" same_tree src p
finish
