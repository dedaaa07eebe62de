#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar keeps what bsdtar keeps, in a form both GNU tar and bsdtar read silently:
# - the access and default ACLs of directories (SCHILY.acl.access / SCHILY.acl.default),
#   as of files;
# - extended attributes as SCHILY.xattr records, which GNU tar knows (no "Ignoring unknown
#   extended header keyword" for every file) and bsdtar restores too.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/dir/inner
echo hi >src/dir/file
echo x >src/plain

# ---- ACLs of directories
if setfacl -m u:nobody:rx src/dir 2>/dev/null && setfacl -d -m u:nobody:r,g:nogroup:rw src/dir &&
	setfacl -m u:nobody:r src/dir/file; then
	acls() { (cd "$1" && getfacl -R -p . 2>/dev/null | grep -v '^# owner\|^# group'); }
	export -f acls
	"$PCOPY" -q --tar acl.tar src
	check "ACLs: exit 0" [ $? -eq 0 ]
	bsdtar -cf ref.tar src
	mkdir bsd gnu ref
	bsdtar -C bsd -xpf acl.tar
	tar --acls -C gnu -xpf acl.tar 2>gnu-acl.err
	bsdtar -C ref -xpf ref.tar
	check "ACLs: the directory's access ACL after bsdtar" bash -c 'getfacl -p bsd/src/dir 2>/dev/null | grep -qx "user:nobody:r-x"'
	check "ACLs: the directory's default ACL after bsdtar" bash -c 'getfacl -p bsd/src/dir 2>/dev/null | grep -qx "default:user:nobody:r--"'
	check "ACLs: bsdtar restores them exactly as from its own archive" bash -c 'cmp -s <(acls bsd) <(acls ref)'
	check "ACLs: exactly as the source (bsdtar)" bash -c 'cmp -s <(acls bsd/src) <(acls src)'
	check "ACLs: exactly as the source (GNU tar --acls)" bash -c 'cmp -s <(acls gnu/src) <(acls src)'
	check "ACLs: GNU tar has nothing to say" [ ! -s gnu-acl.err ]
	check "ACLs: bsdtar lists them as its own" bash -c '[ "$(bsdtar -tvf acl.tar | grep dir/$ | cut -c1-11)" = "$(bsdtar -tvf ref.tar | grep dir/$ | cut -c1-11)" ]'
	setfacl -b -k src/dir src/dir/file
else
	skip "ACLs cannot be set here"
fi

# ---- xattrs, read by GNU tar without a word
if setfattr -n user.colour -v blue src/plain 2>/dev/null && setfattr -n user.shade -v dark src/dir; then
	setfattr -n user.bin -v 0x00ff00 src/dir/file
	"$PCOPY" -q --tar x.tar src
	check "xattrs: exit 0" [ $? -eq 0 ]
	mkdir gx gx2 bx
	tar --xattrs --xattrs-include='*' -C gx -xpf x.tar 2>gx.err
	check "xattrs: GNU tar --xattrs prints nothing" [ ! -s gx.err ]
	tar -C gx2 -xf x.tar 2>gx2.err
	check "xattrs: GNU tar without --xattrs prints nothing" [ ! -s gx2.err ]
	tar -tvf x.tar >/dev/null 2>gl.err
	check "xattrs: GNU tar -tv prints nothing" [ ! -s gl.err ]
	check "xattrs: GNU tar restores a file's" [ "$(getfattr --only-values -n user.colour gx/src/plain 2>/dev/null)" = blue ]
	check "xattrs: GNU tar restores a directory's" [ "$(getfattr --only-values -n user.shade gx/src/dir 2>/dev/null)" = dark ]
	check "xattrs: GNU tar restores binary values" bash -c 'getfattr -e hex -n user.bin gx/src/dir/file 2>/dev/null | grep -qx user.bin=0x00ff00'
	bsdtar -C bx -xpf x.tar 2>bx.err
	check "xattrs: bsdtar prints nothing" [ ! -s bx.err ]
	check "xattrs: bsdtar restores a file's" [ "$(getfattr --only-values -n user.colour bx/src/plain 2>/dev/null)" = blue ]
	check "xattrs: bsdtar restores a directory's" [ "$(getfattr --only-values -n user.shade bx/src/dir 2>/dev/null)" = dark ]
	check "xattrs: bsdtar restores binary values" bash -c 'getfattr -e hex -n user.bin bx/src/dir/file 2>/dev/null | grep -qx user.bin=0x00ff00'
	mkdir px
	"$PCOPY" -q --extract x.tar px
	check "xattrs: pcopy --extract restores them" bash -c 'out=$(rsync -a -n -c -i -X src/ px/src/ 2>&1); [ -z "$out" ]'
	check "xattrs: no LIBARCHIVE.xattr records" bash -c '! grep -aq LIBARCHIVE.xattr x.tar'
else
	skip "user xattrs cannot be set here"
fi

# ---- UTF-8 names, in the C locale too
mkdir names
printf x >"names/$(printf 'caf\303\251')"
printf y >"names/$(printf '\346\227\245\346\234\254')"
for loc in C C.UTF-8; do
	LC_ALL=$loc "$PCOPY" -q --tar "names-$loc.tar" names
	check "UTF-8 names, LC_ALL=$loc: GNU tar lists them without a word" bash -c "tar -tf names-$loc.tar 2>&1 >/dev/null | grep -c . | grep -qx 0"
	check "UTF-8 names, LC_ALL=$loc: no hdrcharset record" bash -c "! grep -aq hdrcharset names-$loc.tar"
	mkdir "nx-$loc"
	tar -C "nx-$loc" -xf "names-$loc.tar" 2>/dev/null
	check "UTF-8 names, LC_ALL=$loc: extracted byte for byte" same_tree names "nx-$loc/names"
done
finish
