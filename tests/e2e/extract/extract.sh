#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --extract: archives from pcopy --tar, GNU tar and bsdtar come back exactly (rsync -c -H -X);
# --verify-manifest puts only matching files in place; hostile member paths write nothing
# outside DEST; an interrupted extraction leaves no temporary file.
. "$(dirname "$0")/../../lib.sh"

make_tree src
rm src/fifo # bsdtar and GNU tar agree on FIFOs, but keep the comparisons about files
setfattr -n user.colour -v blue src/plain.txt 2>/dev/null
"$PCOPY" -q --tar a.tar --manifest man.txt src
"$PCOPY" -q --extract a.tar out
check "pcopy --tar then --extract: exit 0" [ $? -eq 0 ]
check "round trip: the same tree (rsync -c -H -X)" bash -c 'out=$(rsync -a -n -c -i -H -X src/ out/src/ 2>&1); [ -z "$out" ]'
check "round trip: times to the nanosecond" bash -c '[ "$(cd src && find . -printf "%p %T@\n" | sort)" = "$(cd out/src && find . -printf "%p %T@\n" | sort)" ]'
check "sparse file still sparse" [ "$(du -k out/src/sparse.img | cut -f1)" -lt 1024 ]
check "hard link kept" [ "$(stat -c %i out/src/plain.txt)" = "$(stat -c %i out/src/sub/hardlink)" ]
check "no temporary files" no_tmp out

tar --xattrs --xattrs-include='*' --format=posix -cf gnu.tar src 2>/dev/null
bsdtar -cf bsd.tar.gz src 2>/dev/null
# GNU tar puts the latin1 name in a pax path record that is not UTF-8 (POSIX wants UTF-8
# there): libarchive warns, and pcopy, like bsdtar, extracts it under its bytes and exits 1.
"$PCOPY" -q --extract gnu.tar from-gnu 2>gnu-err.txt
check "GNU tar's non-UTF-8 pax name: exit 1, as bsdtar" [ $? -eq 1 ]
check "GNU tar's non-UTF-8 pax name reported with archive and member" env LC_ALL=C grep -aq "^pcopy: gnu.tar: src/caf.: Pathname can't be converted" gnu-err.txt
"$PCOPY" -q --extract bsd.tar.gz from-bsd
check "GNU tar's archive extracted exactly" bash -c 'out=$(rsync -a -n -c -i -H src/ from-gnu/src/ 2>&1); [ -z "$out" ]'
check "bsdtar's .tar.gz extracted exactly" bash -c 'out=$(rsync -a -n -c -i -H src/ from-bsd/src/ 2>&1); [ -z "$out" ]'
"$PCOPY" -q --tar - src | "$PCOPY" -q --extract - from-pipe
check "an archive on stdin" bash -c 'out=$(rsync -a -n -c -i -H src/ from-pipe/src/ 2>&1); [ -z "$out" ]'

"$PCOPY" -q --extract --verify-manifest man.txt a.tar verified
check "--verify-manifest: exit 0 when everything matches" [ $? -eq 0 ]
check "--verify-manifest: the same tree" bash -c 'out=$(rsync -a -n -c -i -H src/ verified/src/ 2>&1); [ -z "$out" ]'
# Corrupt the line of one file (first hex digit changed) and drop the file from the archive.
awk '/  src\/sub\/random.bin$/ { c = substr($0, 1, 1); $0 = (c == "0" ? "1" : "0") substr($0, 2) } { print }' man.txt >bad.txt
printf '%032x  src/not-archived\n' 7 >>bad.txt
"$PCOPY" -q --extract --verify-manifest bad.txt a.tar bad 2>err.txt
check "--verify-manifest mismatch: exit 1" [ $? -eq 1 ]
check "mismatched file is not under its final name" [ ! -e bad/src/sub/random.bin ]
check "mismatch reported" grep -q '^pcopy: a.tar: src/sub/random.bin: content does not match the manifest' err.txt
check "manifest entry missing from the archive reported" grep -q '^pcopy: src/not-archived: in the manifest but not extracted' err.txt
check "the other files are in place" cmp -s src/plain.txt bad/src/plain.txt
check "no temporary files after a mismatch" no_tmp bad
"$PCOPY" -q --verify-manifest man.txt src dst 2>err.txt
check "--verify-manifest without --extract: exit 2" [ $? -eq 2 ]

# Hostile members: .., absolute paths, writing through a symlink member.
mkdir outside
chmod 700 outside
python3 - <<'PY'
import io, tarfile
with tarfile.open('evil.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b'x'):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    def link(name, target):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
    add('../escape.txt')
    add('/abs.txt', b'abs')
    link('evil', '../outside')
    add('evil/pwn.txt')
    link('up', '..')
    add('up/pwn2.txt')
    link('d2', '../outside')
    d = tarfile.TarInfo('d2'); d.type = tarfile.DIRTYPE; d.mode = 0o777; d.mtime = 12345; t.addfile(d)
    add('ok.txt', b'fine')
PY
mkdir jail
"$PCOPY" -q --extract evil.tar jail/dest 2>err.txt
check "hostile archive: exit 1" [ $? -eq 1 ]
check "nothing written outside DEST" bash -c '[ -z "$(ls -A outside)" ] && [ ! -e escape.txt ] && [ ! -e jail/escape.txt ] && [ ! -e jail/pwn2.txt ]'
check "a directory member replaces a symlink, the target keeps its mode and time" bash -c '[ -d jail/dest/d2 ] && [ ! -L jail/dest/d2 ] && [ "$(stat -c %a outside)" = 700 ] && [ "$(stat -c %Y outside)" != 12345 ]'
check "leading / stripped" [ "$(cat jail/dest/abs.txt)" = abs ]
check "'..' refused" grep -q "^pcopy: evil.tar: ../escape.txt: member path has '..'" err.txt
check "the harmless member extracted" [ "$(cat jail/dest/ok.txt)" = fine ]

# Interrupted while a file is half written (the archive arrives slowly on stdin).
mkdir big && head -c $((20 << 20)) /dev/urandom >big/data
"$PCOPY" -q --tar big.tar big
{ head -c $((5 << 20)) big.tar; sleep 3; tail -c +$(((5 << 20) + 1)) big.tar; } |
	"$PCOPY" -q --extract - bigout 2>/dev/null &
pid=$!
for _ in $(seq 50); do [ -n "$(find bigout -name '.pcopy-tmp.*' 2>/dev/null)" ] && break; sleep 0.1; done
kill -TERM $pid
wait $pid
rc=$?
check "interrupted --extract: exit 143 (got $rc)" [ $rc -eq 143 ]
check "interrupted --extract: no temporary file" no_tmp bigout
check "interrupted --extract: nothing under the final name" [ ! -e bigout/big/data ]
finish
