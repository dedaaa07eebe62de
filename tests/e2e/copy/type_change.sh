#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The source turns a directory into a file or symlink, or a file into a directory. With
# --delete the destination follows (rsync --delete replaces the directory tree, as far as
# the rules, -b and --max-delete let it: see the end); without it
# a non-empty directory stays, reported, exit 1 (rsync: "cannot delete non-empty directory",
# exit 23) and an empty one is replaced (as rsync does).
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/d/deep src/e src/l src/big src/keep && echo x >src/d/deep/x && echo y >src/l/y
echo f >src/f && echo g >src/keep/g && echo b >src/big/b
"$PCOPY" -q src dst
rsync -a src/ oracle/
rm -rf src/d src/e src/l src/big src/f
echo now-a-file >src/d
ln -s somewhere src/e
ln -s elsewhere src/l
head -c $((3 << 20)) /dev/urandom >src/big
mkdir -p src/f/inner && echo in >src/f/inner/z

rc=0
"$PCOPY" -q -j 2 src dst 2>err.txt || rc=$?
check "without --delete: exit 1" [ "$rc" = 1 ]
check "without --delete: the non-empty directory is reported by its destination path" \
	grep -q "^pcopy: dst/d: .*--delete" err.txt
check "... the other non-empty ones too" bash -c 'grep -q "^pcopy: dst/l: " err.txt && grep -q "^pcopy: dst/big: " err.txt'
check "without --delete: the directory's data stays" [ -f dst/d/deep/x ] && [ -f dst/l/y ]
check "without --delete: an empty directory is replaced" [ -L dst/e ] && [ "$(readlink dst/e)" = somewhere ]
check "a file that became a directory is replaced" [ -f dst/f/inner/z ]
check "the rest is copied" cmp -s src/keep/g dst/keep/g
rsync -a src/ oracle/ >/dev/null 2>&1
check "rsync without --delete keeps the same directories" \
	bash -c '[ -d oracle/d ] && [ -d oracle/l ] && [ -L oracle/e ]'

"$PCOPY" -n --delete src dst >dry.txt
check "--dry-run --delete changes nothing" [ -f dst/d/deep/x ]

rc=0
PCOPY_TEST_SPLIT_MIN=$((1 << 20)) "$PCOPY" -q -j 2 --json --delete src dst >run.json 2>err.txt || rc=$?
check "--delete: exit 0 (got $rc)" [ "$rc" = 0 ]
check "--delete: no message" [ ! -s err.txt ]
check "--delete: the directories were replaced" same_tree src dst
check "--delete: reported as deleted" grep -q '"event":"deleted","path":"d"' run.json
check "--delete: no temporary files" no_tmp dst
rc=0
"$PCOPY" -q --json --delete src dst >run2.json 2>&1 || rc=$?
check "the next run: exit 0" [ "$rc" = 0 ]
check "the next run copies nothing" grep -q '"event":"summary".*"copied":0,' run2.json
rsync -a --delete src/ oracle/
check "the same tree as rsync --delete" same_tree oracle dst

# --delete makes way for a file through what the rules and options let it remove, as rsync
# does: what the rules exclude inside the directory stays (the directory itself is not
# matched), -b backs up what goes (the backups keep it), --max-delete counts each removal;
# whatever stays keeps the directory: "cannot delete non-empty directory", exit 1 (rsync 23).
way() {
	rm -rf "$1" && mkdir -p "$1/x/in the way" "$1/x/sub" && echo f >"$1/x/in the way/f"
	echo g >"$1/x/g" && echo h >"$1/x/sub/h" && echo k >"$1/keep"
	# keep is up to date: its mtime SOURCE's to the nanosecond (rsync compares whole seconds,
	# pcopy nanoseconds: a keep made in the same second would be up to date for rsync only).
	touch -r wsrc/keep "$1/keep"
}
mkdir -p wsrc && echo new >wsrc/x && echo k >wsrc/keep
for opts in "" "--delete" "--delete --max-delete 0" "--delete --max-delete 1" \
	"--delete --max-delete 2" "--delete --max-delete 5" "-b --delete" "--delete --exclude f" \
	"--delete --exclude x/" "--delete --exclude g --exclude sub/" "--delete-excluded --exclude f" \
	"--delete --include '*/' --exclude '*'" "--delete -b --backup-dir bk"; do
	eval "set -- $opts"
	way wr && way wp
	rc=0 rrc=0
	rsync -a "$@" wsrc/ wr/ >/dev/null 2>&1 || rrc=$?
	"$PCOPY" -q "$@" wsrc wp 2>err.txt || rc=$?
	same_list "a directory in the way, ${opts:-(no options)}: what rsync removes and keeps" wr wp
	if [ "$rrc" = 0 ]; then
		check "... ${opts:-(no options)}: exit 0 as rsync's (got $rc)" [ "$rc" = 0 ]
	else
		check "... ${opts:-(no options)}: exit 1, rsync $rrc (got $rc)" [ "$rc" = 1 ]
		check "... ${opts:-(no options)}: the directory is named" grep -q "^pcopy: wp/x: " err.txt
	fi
	no_tmp wp || fail "... ${opts:-(no options)}: temporary files left"
done
way wp
"$PCOPY" -q --delete --exclude f wsrc wp 2>err.txt
check "the message says the directory cannot be deleted" \
	grep -q "^pcopy: wp/x: cannot delete non-empty directory" err.txt
finish
