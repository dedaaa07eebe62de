#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --files-from FILE means what it means to rsync 3.5: for several lists (files in nested
# directories, "dir" against "dir/" and -r, ".", comments and CRs, a leading "/", -0 from
# stdin), pcopy --files-from=F SRC DEST makes the tree of rsync -aHAX --files-from=F SRC/
# DEST/: the same names, contents and modes, and the same mtimes, directories included
# (implied parents take their source's; DEST itself only when "." is sent, else it keeps its
# own). A name the rules leave out makes no parents. A missing name is said, exit 1, the rest
# copied. What it does not go with is refused (exit 2).
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
printf '%s\n' d/e/f/.. >l.dirdotdot
same "dir/sub/..: as dir/" l.dirdotdot
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
check "a missing name: the rest copied as rsync does" \
	[ "$(tree_of r noroot)" = "$(tree_of p noroot)" ]
check "a missing name, no '.': DEST keeps the mode it was made with, as with rsync" \
	[ "$(stat -c %a p)" = "$(stat -c %a r)" ]

# DEST itself takes SOURCE's mode and times only when "." is sent: listed (".", "./", a name
# that cleans to it), or implied by a name written "./name"; else it keeps what it was made
# with (0777 less the umask), or what it had.
chmod 751 src
touch -d '2018-05-06 07:08:09' src
rm -rf r p
"$PCOPY" -q --files-from=l.nested src p
rsync -aHAX --files-from=l.nested src/ r/
check "no '.' listed: a new DEST's mode is 0777 less the umask, as rsync's" \
	[ "$(stat -c %a p)" = 755 ] && [ "$(stat -c %a r)" = 755 ]
check "no '.' listed: a new DEST does not take SOURCE's mtime" [ "$(stat -c %Y p)" != "$(stat -c %Y src)" ]
mkdir -p p0 r0 && chmod 700 p0 r0
printf '%s\n' top >l.top
"$PCOPY" -q --files-from=l.top src p0 && rsync -aHAX --files-from=l.top src/ r0/
touch -d '2017-01-01' p0 r0
"$PCOPY" -q --files-from=l.top src p0 && rsync -aHAX --files-from=l.top src/ r0/
check "no '.' listed: an existing DEST keeps its mode and mtime, as with rsync" \
	[ "$(stat -c '%a %Y' p0)" = "$(stat -c '%a %Y' r0)" ] && [ "$(stat -c %a p0)" = 700 ]
for n in ./top /./top .//top ./nonexistent a/.. ..; do
	printf '%s\n' "$n" >l.implied
	rm -rf r p
	"$PCOPY" -q --files-from=l.implied src p 2>/dev/null
	rsync -aHAX --files-from=l.implied src/ r/ 2>/dev/null
	check "'$n' sends '.': DEST takes SOURCE's mode and mtime, as with rsync" \
		[ "$(stat -c '%a %Y' p)" = "$(stat -c '%a %Y' src)" ] && [ "$(stat -c '%a %Y' r)" = "$(stat -c '%a %Y' src)" ]
done
for n in a/../top ././top; do
	printf '%s\n' "$n" >l.implied
	rm -rf r p
	"$PCOPY" -q --files-from=l.implied src p
	rsync -aHAX --files-from=l.implied src/ r/
	check "'$n' does not send '.', as with rsync" [ "$(stat -c %a p)" = 755 ] && [ "$(stat -c %a r)" = 755 ]
done
chmod 755 src

# A name the rules leave out is not sent, and makes no parent directories; a parent the rules
# leave out is still made for a name below it that is sent (rsync does not filter implied
# directories); with -r, the rules apply below each name as in any walk.
printf '%s\n' a/b/c/x d/e/v >l.ex
same "an excluded name: no parents made" l.ex --exclude x
same "an excluded name with -r: no parents made" l.ex -r --exclude x
same "an excluded parent: made for a name below it" l.ex --exclude b --exclude e/
same "an excluded parent with -r: made for a name below it" l.ex -r --exclude b
printf '%s\n' a/b d >l.exr
same "-r: an excluded name's tree left out" l.exr -r --exclude b
same "-r: excluded entries below a name left out" l.exr -r --exclude e --exclude y
printf '%s\n' a/b/ d/e/ >l.exs
same "dir/ excluded: no parents made" l.exs --exclude b --exclude f
printf '%s\n' a/b/c/x a/b/y a/z >l.exsome
same "some names excluded: parents made for the others only" l.exsome --exclude x --exclude z

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
