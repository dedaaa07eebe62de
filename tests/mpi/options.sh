#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# pcopy-mpi -np 2 and pcopy, run on twin setups, agree: exit status, messages on stderr,
# -v / --json / --check output (sorted: its order follows completions, in pcopy too) and the
# resulting trees, through a first copy, incremental re-runs, --checksum, --delete, --check,
# --dry-run, several sources, --exclude, --one-file-system and bad requests. --tar and
# --extract are refused with exit 2.
. "$(dirname "$0")/../lib.sh"
use_mpi

mkdir p
make_tree p/src
mkdir -p p/src/more/deep
for f in $(seq 1 40); do echo "$f" >"p/src/more/deep/f$f"; done
cp -a p m

# in_both COMMAND: run the shell COMMAND in both setups.
in_both() { (cd p && eval "$1") && (cd m && eval "$1"); }
# messages FILE: FILE's lines sorted, without the usage synopsis after a usage error (each
# program names itself there, and pcopy-mpi leaves out the modes it refuses).
messages() { grep -v -e '^usage: ' -e '^       pcopy' -e "^Try '" "$1" | sort; }
# same_run DESCRIPTION ARG...: pcopy ARG... in p, pcopy-mpi -np 2 ARG... in m; compare.
same_run() {
	local d=$1
	shift
	(cd p && "$PCOPY" "$@" >../p.out 2>../p.err; echo $? >../p.rc)
	(cd m && mpi 2 "$@" >../m.out 2>../m.err; echo $? >../m.rc)
	check "$d: same exit status ($(cat p.rc))" [ "$(cat p.rc)" = "$(cat m.rc)" ]
	check "$d: same messages" [ "$(messages p.err)" = "$(messages m.err)" ]
	if ! [ "$(messages p.err)" = "$(messages m.err)" ]; then diff <(messages p.err) <(messages m.err) | head -5; fi
	check "$d: same output" [ "$(json_events p.out)" = "$(json_events m.out)" -a \
		"$(json_summary p.out)" = "$(json_summary m.out)" ]
}

same_run "first copy, --json" -q --json src dst
check "first copy: same trees" same_tree p/dst m/dst
check "first copy: exact" same_tree m/src m/dst
same_run "no-change re-run, --json" -q --json src dst
check "no-change re-run copies nothing" grep -q '"copied":0,' m.out

# A directory that cannot be made (its parent is immutable, which stops root too): the same
# message and exit status, whichever rank tried to make it. Not every file system has chattr.
if in_both 'mkdir -p src/more/newdir/in; echo x >src/more/newdir/in/f; chattr +i dst/more' 2>/dev/null; then
	same_run "a directory that cannot be made" -q src dst
	check "cannot make a directory: exit 1" [ "$(cat m.rc)" = 1 ]
	check "cannot make a directory: pcopy's message" \
		grep -qx 'pcopy: dst/more/newdir: cannot create directory: Operation not permitted' m.err
	in_both 'chattr -i dst/more; rm -rf src/more/newdir'
	same_run "after the immutable directory" -q src dst
else
	in_both 'chattr -i dst/more; rm -rf src/more/newdir' 2>/dev/null
	skip "chattr +i is not supported here"
fi

in_both 'echo changed >src/plain.txt; echo new >src/more/new-file'
same_run "incremental re-run, -v" -q -v src dst
check "incremental: the changed file, its hard link and the new file only" \
	[ "$(sort m.out | tr '\n' ' ')" = "more/new-file plain.txt sub/hardlink " ]
check "incremental: exact" same_tree m/src m/dst

# Same size and mtime, other content: only --checksum sees it.
in_both 'printf "CHANGED\n" >src/plain.txt; touch -d "2001-01-01 00:00:00" src/plain.txt dst/plain.txt'
same_run "size+mtime re-run" -q --json src dst
check "size+mtime re-run leaves the file" [ "$(cat m/dst/plain.txt)" = "changed" ]
same_run "--checksum re-run" -q --json --checksum src dst
check "--checksum copies it" [ "$(cat m/dst/plain.txt)" = "CHANGED" ]

in_both 'echo extra >dst/extra; mkdir -p dst/extra-dir/in; echo x >dst/extra-dir/in/x; rm src/more/deep/f7; touch -d 2001-01-01 src/more/deep'
same_run "--delete -v" -q --delete -v src dst
check "--delete: extra entries gone" [ ! -e m/dst/extra -a ! -e m/dst/extra-dir -a ! -e m/dst/more/deep/f7 ]
check "--delete: exact" same_tree m/src m/dst
check "--delete: same trees" same_tree p/dst m/dst

same_run "--check, identical trees" --check src dst
check "--check identical: exit 0" [ "$(cat m.rc)" = 0 ]
in_both 'echo other >dst/more/deep/f3; touch -r src/more/deep/f3 dst/more/deep/f3; chmod 600 dst/-dash; rm dst/sub/zero-length; echo e >dst/extra'
same_run "--check, different trees" --check src dst
check "--check different: exit 1" [ "$(cat m.rc)" = 1 ]
check "--check sees the content, mode, missing and extra" grep -qx 'content more/deep/f3' m.out &&
	grep -qx 'extra extra' m.out && grep -qx 'missing sub/zero-length' m.out && grep -qx 'mode -dash' m.out
same_run "--check --json" --check --json src dst

in_both 'echo new >src/dry-new'
same_run "--dry-run" -n src dst
check "--dry-run creates nothing" [ ! -e m/dst/dry-new ]
same_run "--manifest -" -q --manifest - src dst
same_run "single file" -q src/plain.txt one-file
check "single file copied" cmp -s m/src/plain.txt m/one-file

in_both 'mkdir multi'
same_run "several sources into a directory" -q -v src/sub src/more src/plain.txt multi
check "several sources: each by its base name" same_tree m/src/sub m/multi/sub
same_run "--exclude" -q -v --exclude 'deep' --exclude '*.bin' src excl
check "--exclude: left out" [ ! -e m/excl/more/deep -a ! -e m/excl/sub/random.bin -a -e m/excl/sub/hardlink ]
in_both 'mkdir multi2'
same_run "--exclude anchored below several sources" -q --exclude '/more/deep/' --exclude 'deeper/' src/sub src/more multi2
check "--exclude: '/more/deep/' and 'deeper/' left out" [ ! -e m/multi2/more/deep -a ! -e m/multi2/sub/deeper -a -e m/multi2/sub/hardlink ]
# Filter rules and size limits: the agents make the directories the rules take, only those.
same_run "--filter, --include, --max-size" -q -v --include 'more/' --include 'deep/' \
	--filter '- /more/deep/f1*' --filter '+ */' --filter '-! *[0-9]' --max-size 2 src filt
check "--filter: what the rules take" [ -e m/filt/more/deep/f2 -a ! -e m/filt/more/deep/f10 \
	-a ! -e m/filt/more/deep/f1 -a ! -e m/filt/plain.txt -a -d m/filt/empty ]
in_both 'mkdir -p del/gone && : >del/gone/x.bin && : >del/keep.bin'
same_run "--delete-excluded" -q --delete-excluded --exclude '*.bin' --exclude 'gone/' src del
check "--delete-excluded: excluded entries removed" [ ! -e m/del/keep.bin -a ! -e m/del/gone ]
printf '%s\n' '- *.bin' >m/rules
(cd m && mpi 2 --filter ': rules' src dm >../m.out 2>../m.err)
check "dir-merge: exit 2" [ $? -eq 2 ]
check "dir-merge: says it is not supported" \
	grep -q "^pcopy: dir-merge filter rules are not supported by pcopy-mpi; use pcopy$" m.err
same_run "--one-file-system" -q --one-file-system src onefs
check "--one-file-system: same file system, all copied" same_tree m/src m/onefs

# What DEST already has (#15): the ranks decide like pcopy, directories among it.
in_both 'mkdir -p pol/more && echo newer >pol/plain.txt && touch -d 2037-01-01 pol/plain.txt'
same_run "-u --existing" -q -v -u --existing src pol
check "-u --existing: the newer file kept, nothing new made" \
	[ "$(cat m/pol/plain.txt)" = newer -a ! -e m/pol/sub -a -d m/pol/more -a ! -e m/pol/more/deep -a ! -e m/pol/empty ]
same_run "--ignore-existing --size-only" -q -v --ignore-existing --size-only src pol
check "--ignore-existing: the rest made, plain.txt kept" \
	[ "$(cat m/pol/plain.txt)" = newer -a -d m/pol/sub -a -d m/pol/empty ]
in_both 'cp -a src polm && chmod 600 polm/plain.txt'
same_run "--no-perms --chmod --no-times" -q -v --no-perms --chmod Dg+s,F+r --no-times src polm
check "--no-perms: the mode DEST had is kept" [ "$(stat -c %a m/polm/plain.txt)" = 600 ]
check "--chmod: not where --no-perms keeps the mode DEST has" [ ! -g m/polm/more/deep ]
same_run "--chmod" -q --chmod Dg+s,F+r src polm
check "--chmod: directories g+s" [ -g m/polm/more/deep ]

same_run "nonexistent source" nope dst2
check "nonexistent source: exit 2" [ "$(cat m.rc)" = 2 ]
same_run "directory into itself" src src/inside
same_run "unknown option" --bogus src dst
same_run "bad -j" -j 0 src dst
check "bad -j: pcopy-mpi's usage names pcopy-mpi" \
	grep -qx "Try 'pcopy-mpi --help' for more information." m.err && grep -q '^usage: pcopy-mpi ' m.err
check "bad -j: pcopy-mpi's usage leaves out --tar" eval '! grep -q -- --tar m.err'
# --help: pcopy's, once (rank 0's), under pcopy-mpi's name and without what it refuses.
(cd m && mpi 2 --help >../m.out 2>../m.err; echo $? >../m.rc)
check "--help: exit 0, nothing on stderr" [ "$(cat m.rc)" = 0 -a ! -s m.err ]
check "--help: printed once, as pcopy-mpi's" [ "$(grep -c '^usage: pcopy-mpi ' m.out)" = 1 ]
check "--help: no --tar" not grep -q -- '--tar ' m.out
check "--help: the rest is pcopy's" \
	bash -c 'diff <("$0" --help | grep -v -e "^usage" -e "^ " ) <(grep -v -e "^usage" -e "^ " m.out)' \
	"$PCOPY"
(cd m && mpi 2 --tar a.tar src >../m.out 2>../m.err)
check "--tar: exit 2" [ $? -eq 2 ]
check "--tar: says it is not supported" grep -q "not supported by pcopy-mpi" m.err
check "--tar: nothing written" [ ! -e m/a.tar ]
(cd m && mpi 2 --extract a.tar x >../m.out 2>../m.err)
check "--extract: exit 2" [ $? -eq 2 ]
(cd m && mpi 2 --backup-dir bk src bkdst >../m.out 2>../m.err)
check "--backup-dir: exit 2" [ $? -eq 2 ]
check "--backup-dir: says it is not supported" \
	grep -qx "pcopy: --backup is not supported by pcopy-mpi; use pcopy" m.err
check "--backup-dir: nothing made" [ ! -e m/bkdst -a ! -e m/bk ]
printf 'a\n' >m/list
(cd m && mpi 2 --files-from list src fdst >../m.out 2>../m.err)
check "--files-from: exit 2" [ $? -eq 2 ]
check "--files-from: says it is not supported" \
	grep -qx "pcopy: --files-from is not supported by pcopy-mpi; use pcopy" m.err
check "--files-from: nothing made" [ ! -e m/fdst ]
(cd m && "$PCOPY" -q --manifest man.txt src vdst >/dev/null 2>&1)
(cd m && mpi 2 --verify-manifest man.txt vdst >../m.out 2>../m.err)
check "--verify-manifest DIR: exit 2" [ $? -eq 2 ]
check "--verify-manifest DIR: says it is not supported" \
	grep -qx "pcopy: --verify-manifest is not supported by pcopy-mpi; use pcopy" m.err
check "--verify-manifest DIR: nothing made" [ ! -e m/vdst-backup ]
for opt in -i "--log-file log" "--bwlimit 1M"; do
	(cd m && mpi 2 $opt src odst >../m.out 2>../m.err)
	check "$opt: exit 2" [ $? -eq 2 ]
	check "$opt: says it is not supported" grep -q "not supported by pcopy-mpi; use pcopy" m.err
	check "$opt: nothing made" [ ! -e m/odst ]
	check "--help: no ${opt% *}" not grep -q -- "${opt% *} " <(cd m && mpi 2 --help 2>/dev/null)
done
(cd m && mpi 2 --manifest pm --previous-manifest pm src pdst >../m.out 2>../m.err)
check "--previous-manifest: exit 2" [ $? -eq 2 ]
check "--previous-manifest: says it is not supported" \
	grep -qx "pcopy: --previous-manifest is not supported by pcopy-mpi; use pcopy" m.err
check "--previous-manifest: nothing made" [ ! -e m/pdst -a ! -e m/pm ]
# A plain --manifest whose stat sidecar exists: pcopy-mpi neither uses nor updates it (it goes
# stale, and pcopy says so and reads every file); the manifest is right.
(cd m && "$PCOPY" -q --manifest pm --previous-manifest pm src pdst 2>/dev/null)
echo new >m/src/new-for-pm
(cd m && mpi 2 --manifest pm src pdst >../m.out 2>../m.err)
check "plain --manifest with a sidecar: exit 0" [ $? -eq 0 ]
check "plain --manifest with a sidecar: the manifest checks out" \
	sh -c 'cd m/pdst && xxh128sum --quiet -c ../pm >/dev/null 2>&1'
(cd m && "$PCOPY" -q --manifest pm src pdst 2>../m.err)
check "then pcopy finds the sidecar stale" grep -q "^pcopy: pm: warning: .* is stale" m.err
rm m/src/new-for-pm
finish
