#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --extract when things go wrong around it: a full file system (every write counts; nothing
# half written or full of zeros reaches its final name, with or without --verify-manifest),
# signals while a huge sparse member's holes are hashed (exit 130/143, no temporary file),
# and a tree deeper than PATH_MAX.
. "$(dirname "$0")/../../lib.sh"

DATA=${SRCDIR:-$TOP}/tests/data/extract

# ---- a full file system ----------------------------------------------------------------
mkdir -p src/d full
for i in 1 2 3; do head -c $((3 << 20)) /dev/urandom >src/d/big$i; done
for i in $(seq 1 20); do echo "small $i" >src/d/small$i; done
"$PCOPY" -q --tar full.tar --manifest full-man.txt src
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=4m tmpfs full 2>/dev/null; then
	trap 'umount "$T/full" 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
	# Every file under its final name must be the archived one: xxh128sum -c on those there.
	intact() {
		(cd "$1" && awk '{ p = substr($0, 35) } system("test -e \"" p "\"") == 0' "$T/full-man.txt" |
			xxh128sum -c --quiet -)
	}
	"$PCOPY" -q --extract full.tar full/a 2>err.txt
	rc=$?
	check "full file system: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "full file system: the write error is reported with archive and member" \
		grep -q '^pcopy: full.tar: src/d/big[0-9]: .*No space left on device' err.txt
	check "full file system: every file in place is the archived one" intact full/a
	check "full file system: no temporary file" no_tmp full/a
	check "full file system: something was extracted" [ -e full/a/src/d/small1 ]
	rm -rf full/a
	"$PCOPY" -q --extract --verify-manifest full-man.txt full.tar full/v 2>err.txt
	rc=$?
	check "full file system, --verify-manifest: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "full file system, --verify-manifest: every file in place is the archived one" intact full/v
	check "full file system, --verify-manifest: no temporary file" no_tmp full/v
	umount full
else
	skip "full file system: needs root and a tmpfs mount"
fi

# ---- signals while hashing the holes of an 8 TiB sparse member -----------------------------
# interrupt SIGNAL EXPECTED-STATUS
interrupt() {
	local sig=$1 want=$2 d=holes-$1
	"$PCOPY" -q --extract "$DATA/sparse-8tib.tar" "$d" 2>err.txt &
	local pid=$!
	sleep 1
	kill -"$sig" $pid 2>/dev/null
	local t0=$SECONDS
	wait $pid
	local rc=$?
	if [ $rc -eq 1 ] && grep -q 'File too large' err.txt; then
		skip "SIG$sig during holes: this file system takes no 8 TiB file"
		return
	fi
	check "SIG$sig while hashing holes: exit $want (got $rc)" [ $rc -eq "$want" ]
	check "SIG$sig while hashing holes: stops at once" [ $((SECONDS - t0)) -le 3 ]
	check "SIG$sig while hashing holes: no temporary file" no_tmp "$d"
	check "SIG$sig while hashing holes: nothing under the final name" [ ! -e "$d/slow.img" ]
}
interrupt TERM 143
interrupt INT 130

# ---- members the extracting user cannot read back (mode 0200, 0000) ------------------------
mkdir wo && echo 'write only' >wo/w && : >wo/z && chmod 200 wo/w && chmod 000 wo/z
bsdtar -cf wo.tar wo 2>/dev/null
mkdir nb && chmod 777 nb
as_user=
[ "$(id -u)" -eq 0 ] && as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups"
$as_user "$PCOPY" -q --extract wo.tar nb/out 2>err.txt
rc=$?
check "unreadable modes, not root: exit 0 (got $rc)" [ $rc -eq 0 ]
check "unreadable modes: read back and in place with their modes" \
	bash -c '[ "$(stat -c %a nb/out/wo/w nb/out/wo/z | tr "\n" " ")" = "200 0 " ]'

# ---- a member named like pcopy's temporary files (later runs would remove it) ---------------
mkdir tn && echo x >tn/.pcopy-tmp.1.1 && echo y >tn/ok
bsdtar -cf tn.tar tn 2>/dev/null
"$PCOPY" -q --extract tn.tar tn-out 2>err.txt
rc=$?
check "a member with a temporary name: exit 1 (got $rc)" [ $rc -eq 1 ]
check "a member with a temporary name: reported, skipped" bash -c \
	'grep -q "^pcopy: tn.tar: tn/.pcopy-tmp.1.1: name is kept for pcopy" err.txt && [ ! -e tn-out/tn/.pcopy-tmp.1.1 ] && [ -e tn-out/tn/ok ]'

# ---- deeper than PATH_MAX --------------------------------------------------------------
# 120 directories of 45 bytes: 5.5 kB of path, made a directory at a time, with modes and
# times on the directory members that libarchive's disk writer cannot set that deep.
mkdir deep
(
	cd deep || exit 1
	for i in $(seq -w 1 120); do
		mkdir "d${i}_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" && cd "d${i}_"* || exit 1
	done
	echo bottom >f.txt
)
find deep -name 'd1[01]?_*' -execdir chmod 750 {} +
find deep -depth -execdir touch -d '2011-02-03 04:05:06' {} +
bsdtar -cf deep.tar deep 2>/dev/null
"$PCOPY" -q --extract deep.tar deep-out 2>err.txt
rc=$?
check "deeper than PATH_MAX: exit 0 (got $rc)" [ $rc -eq 0 ]
check "deeper than PATH_MAX: the same names, modes and times" \
	bash -c '[ "$(cd deep && find . -printf "%P %y %m %Ts\n" | sort)" = "$(cd deep-out/deep && find . -printf "%P %y %m %Ts\n" | sort)" ]'
check "deeper than PATH_MAX: the file's contents" \
	bash -c '[ "$(cd deep-out && find . -name f.txt -execdir cat f.txt \;)" = bottom ]'
check "deeper than PATH_MAX: no temporary file" no_tmp deep-out
finish
