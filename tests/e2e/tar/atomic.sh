#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar --manifest: the archive and its manifest appear together or not at all. Both are
# written under temporary names (NAME.pcopy-tmp.PID) and renamed at the end, the manifest
# first; when anything fails before that, the previous pair stays as it was. A run that was
# killed leaves its temporaries behind; the next run for the same names removes those whose
# process is gone, and leaves those of a process that still runs.
. "$(dirname "$0")/../../lib.sh"

mkdir src src/sub
for i in $(seq 50); do echo "file $i" >"src/sub/f$i"; done
head -c 3000000 /dev/urandom >src/data
"$PCOPY" -q --tar a.tar --manifest man.txt src
check "first run: exit 0" [ $? -eq 0 ]
cp a.tar old.tar && cp man.txt old.man

# Temporaries of a run that is gone (its pid is dead) and of one that still runs ($$).
sh -c 'exit 0' &
dead=$!
wait $dead
echo junk >"a.tar.pcopy-tmp.$dead"
echo junk >"man.txt.pcopy-tmp.$dead"
echo junk >"a.tar.pcopy-tmp.$$"
echo junk >"a.tar.pcopy-tmp.12x"
echo junk >"other.tar.pcopy-tmp.$dead"
"$PCOPY" -q --tar a.tar --manifest man.txt src
check "stale run: exit 0" [ $? -eq 0 ]
check "the dead run's temporary archive is removed" [ ! -e "a.tar.pcopy-tmp.$dead" ]
check "the dead run's temporary manifest is removed" [ ! -e "man.txt.pcopy-tmp.$dead" ]
check "a live process's temporary stays" [ -e "a.tar.pcopy-tmp.$$" ]
check "a name that is not a temporary of ours stays" [ -e a.tar.pcopy-tmp.12x ]
check "another archive's temporary stays" [ -e "other.tar.pcopy-tmp.$dead" ]
rm -f "a.tar.pcopy-tmp.$$" a.tar.pcopy-tmp.12x "other.tar.pcopy-tmp.$dead"

# A real SIGKILL in the middle: the temporary stays; the next run removes it.
PCOPY_TEST_SLOW_MS=20 "$PCOPY" -q -j 1 --tar k.tar --manifest k.txt src 2>/dev/null &
pid=$!
for i in $(seq 100); do [ -e "k.tar.pcopy-tmp.$pid" ] && break; sleep 0.05; done
sleep 0.2
kill -KILL $pid
wait $pid 2>/dev/null
check "killed: its temporary archive is left" [ -e "k.tar.pcopy-tmp.$pid" ]
check "killed: no archive, no manifest" [ ! -e k.tar ] && [ ! -e k.txt ]
sleep 0.3 # its workers notice they are orphaned and leave
"$PCOPY" -q --tar k.tar --manifest k.txt src
check "the next run: exit 0" [ $? -eq 0 ]
check "the next run removed the killed run's temporary" [ -z "$(ls | grep '^k\..*pcopy-tmp')" ]
check "the next run wrote both" [ -s k.tar ] && [ -s k.txt ]

# The final name of the archive cannot be taken (a directory is there): no manifest either.
mkdir d.tar
"$PCOPY" -q --tar d.tar --manifest d.txt src 2>err.txt
check "archive cannot be renamed: exit 2" [ $? -eq 2 ]
check "archive cannot be renamed: no manifest appears" [ ! -e d.txt ]
check "archive cannot be renamed: no temporaries" [ -z "$(ls | grep 'pcopy-tmp')" ]

# The manifest cannot be written (its file system is full): the previous archive and manifest
# both stay, unchanged.
if [ "$(id -u)" = 0 ] && mkdir full && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
	trap 'umount "$T/full" 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
	cp old.man full/man.txt
	dd if=/dev/zero of=full/filler bs=4k status=none 2>/dev/null
	echo new >src/new-file
	"$PCOPY" -q --tar a.tar --manifest full/man.txt src 2>full.txt
	rc=$?
	check "manifest cannot be written: exit 2 (got $rc)" [ $rc -eq 2 ]
	check "manifest cannot be written: it says so" grep -q "full/man.txt" full.txt
	check "manifest cannot be written: the previous archive stays" cmp -s a.tar old.tar
	check "manifest cannot be written: the previous manifest stays" cmp -s full/man.txt old.man
	check "manifest cannot be written: no temporaries" [ -z "$(ls . full | grep 'pcopy-tmp')" ]
	umount full
else
	skip "cannot mount a small tmpfs here (not root?)"
fi
finish
