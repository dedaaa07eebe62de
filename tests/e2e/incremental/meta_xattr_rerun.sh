#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Re-runs bring xattrs and ACLs in line on files whose size and mtime did not change, as
# rsync -aAX does (#13 §2), removing those the source no longer has; --check reports
# xattr, ACL and hard-link differences. Mode and owner changes alone are applied too.
. "$(dirname "$0")/../../lib.sh"

mkdir src
if ! setfattr -n user.probe -v 1 src 2>/dev/null || ! setfacl -m u:nobody:r src 2>/dev/null; then
	skip "no user xattrs or ACLs in $T"
	finish
fi
setfattr -x user.probe src && setfacl -b src
echo data >src/f && setfattr -n user.a -v one src/f && setfattr -n user.b -v gone src/f
echo acl >src/g && setfacl -m u:nobody:rw,g:nogroup:r src/g
mkdir src/d && setfattr -n user.d -v one src/d && setfacl -d -m u:nobody:rx src/d
touch -d '2020-02-02 02:02:02.5' src/d src
"$PCOPY" -q src dst
check "first copy: rsync -aAX agrees" [ -z "$(rsync -a -n -i -A -X src/ dst/)" ]

# Changes that leave size and mtime alone.
setfattr -n user.a -v two src/f && setfattr -x user.b src/f
setfacl -x u:nobody src/g
setfattr -n user.d -v two src/d && setfacl -k src/d
"$PCOPY" --check src dst >chk.txt
check "--check: exit 1 on xattr and ACL changes" [ $? -eq 1 ]
check "--check: file xattr" grep -qx 'xattr f' chk.txt
check "--check: file ACL" grep -qx 'acl g' chk.txt
check "--check: directory xattr" grep -qx 'xattr d' chk.txt
check "--check: directory default ACL" grep -qx 'acl d' chk.txt
# Removing a named entry recomputes the ACL mask, which is g's group permission bits.
check "--check: nothing else ($(tr '\n' ' ' <chk.txt))" [ -z "$(grep -vx -e 'xattr f' -e 'acl g' -e 'mode g' -e 'xattr d' -e 'acl d' chk.txt)" ]

"$PCOPY" -q --json src dst >j.json
check "re-run: changed xattr value copied" [ "$(getfattr --only-values -n user.a dst/f 2>/dev/null)" = two ]
check "re-run: xattr the source lost is removed" not getfattr -n user.b dst/f
check "re-run: revoked ACL entry revoked in the copy" [ "$(getfacl -cp dst/g 2>/dev/null)" = "$(getfacl -cp src/g 2>/dev/null)" ]
check "re-run: directory xattr and default ACL" [ "$(getfattr --only-values -n user.d dst/d 2>/dev/null)" = two ] && [ -z "$(getfacl -cpd dst/d 2>/dev/null)" ]
check "re-run: updated, not copied" grep -q '"event":"updated","path":"f"' j.json && grep -q '"copied":0,' j.json
check "rsync -aAX agrees after the re-run" [ -z "$(rsync -a -n -i -A -X src/ dst/)" ]
"$PCOPY" --check src dst >chk.txt
check "--check: identical after the re-run ($(tr '\n' ' ' <chk.txt))" [ ! -s chk.txt ]

# The same with -c, which compares contents instead of size and mtime.
setfattr -n user.a -v three src/f && setfacl -m u:nobody:r src/g
"$PCOPY" -q -c src dst
check "-c: xattr and ACL changes reach the copy" [ "$(getfattr --only-values -n user.a dst/f 2>/dev/null)" = three ] && [ "$(getfacl -cp dst/g 2>/dev/null)" = "$(getfacl -cp src/g 2>/dev/null)" ]

# Mode and owner alone.
chmod 604 src/f
"$PCOPY" -q src dst
check "mode-only change applied" [ "$(stat -c %a dst/f)" = 604 ]
if [ "$(id -u)" = 0 ]; then
	chown 4242:4343 src/f
	"$PCOPY" -q src dst
	check "owner-only change applied, xattrs still there" [ "$(stat -c %u:%g dst/f)" = 4242:4343 ] && [ "$(getfattr --only-values -n user.a dst/f 2>/dev/null)" = three ]
	# A user's read-only file with a user xattr: the owner may set it once the file is writable.
	mkdir -p u/src && echo ro >u/src/ro && setfattr -n user.k -v v u/src/ro && chmod 444 u/src/ro
	chown -R nobody:nogroup u
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q u/src u/dst 2>err.txt
	check "non-root: read-only file with a user xattr copied ($(head -c 200 err.txt))" [ "$(getfattr --only-values -n user.k u/dst/ro 2>/dev/null)" = v ] && [ "$(stat -c %a u/dst/ro)" = 444 ]
	setfattr -n user.k -v w u/src/ro
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q u/src u/dst 2>err.txt
	check "non-root: its xattr change reaches the read-only copy" [ "$(getfattr --only-values -n user.k u/dst/ro 2>/dev/null)" = w ] && [ "$(stat -c %a u/dst/ro)" = 444 ]
else
	skip "owner changes need root"
fi

# --no-xattrs --no-acls: nothing of them is compared, so a re-run lists none (each listing is
# a path walk per name on both sides, a quarter of a no-change re-run's CPU on tmpfs).
setfattr -n user.a -v four src/f
if command -v strace >/dev/null; then
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o lx.txt "$PCOPY" -q --no-xattrs --no-acls src dst
	check "--no-xattrs --no-acls: a re-run lists no xattrs ($(grep -c -E 'listxattr|syscall_0x1d1' lx.txt) calls)" not grep -q -E 'listxattr|syscall_0x1d1' lx.txt
else
	skip "strace not available"
	"$PCOPY" -q --no-xattrs --no-acls src dst
fi
check "--no-xattrs --no-acls: the changed xattr stays out of the copy" [ "$(getfattr --only-values -n user.a dst/f 2>/dev/null)" = three ]

# Hard links: two names linked in one tree and not in the other.
mkdir h && echo one >h/a && ln h/a h/b && echo two >h/c && echo two >h/d
touch -d 2021-01-01 h/a h/c h/d
"$PCOPY" -q h hd
cp -p hd/b hd/b.new && mv hd/b.new hd/b
ln -f hd/c hd/d
touch -r h hd
"$PCOPY" --check h hd >chk.txt
check "--check: exit 1 on hard-link differences" [ $? -eq 1 ]
check "--check: a link broken in DEST ($(tr '\n' ' ' <chk.txt))" grep -qx 'hardlink b' chk.txt
check "--check: a link DEST has and SOURCE not" grep -qx 'hardlink d' chk.txt
check "--check: the first names are not blamed" not grep -qx -e 'hardlink a' -e 'hardlink c' chk.txt
"$PCOPY" --check --json h hd >chk.json
check "--check --json: what is hardlink" grep -q '"what":"hardlink"' chk.json && grep -q '"different":2,' chk.json
rsync -aHI --delete h/ hd/ && touch -r h hd # -I: without it rsync keeps the extra link
"$PCOPY" --check h hd >chk.txt
check "--check after rsync -aH fixed them: identical ($(tr '\n' ' ' <chk.txt))" [ ! -s chk.txt ]
finish
