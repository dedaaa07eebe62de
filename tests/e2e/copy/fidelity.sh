#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Everything cp -a keeps: extended attributes and ACLs, ownership and set-id bits (as root),
# device nodes (as root), sockets skipped with a warning, --one-file-system.
. "$(dirname "$0")/../../lib.sh"

mkdir src
echo data >src/f
if setfattr -n user.colour -v blue src/f 2>/dev/null; then
	"$PCOPY" -q src x1
	check "user xattr copied" [ "$(getfattr --only-values -n user.colour x1/f 2>/dev/null)" = blue ]
	if setfacl -m u:nobody:r src/f 2>/dev/null; then
		"$PCOPY" -q --force src x2
		check "POSIX ACL copied" [ "$(getfacl -cp x2/f 2>/dev/null)" = "$(getfacl -cp src/f 2>/dev/null)" ]
		check "rsync -X -A sees the same" [ -z "$(rsync -a -n -c -i -X -A src/ x2/)" ]
		mkdir -p dsrc/sub && setfattr -n user.tag -v dir dsrc/sub && setfacl -d -m u:nobody:rx dsrc/sub
		"$PCOPY" -q dsrc ddst
		check "directory xattr copied" [ "$(getfattr --only-values -n user.tag ddst/sub 2>/dev/null)" = dir ]
		check "directory default ACL copied" [ "$(getfacl -cp ddst/sub 2>/dev/null)" = "$(getfacl -cp dsrc/sub 2>/dev/null)" ]
	else
		skip "no ACL support here"
	fi
else
	skip "no user xattr support in $T"
fi

python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' src/sock
"$PCOPY" -q src s1 2>err.txt
check "socket: exit 0" [ $? -eq 0 ]
check "socket: skipped with a warning" grep -q '^pcopy: src/sock: socket skipped' err.txt
check "socket: not created" [ ! -e s1/sock ]
rm src/sock

if [ "$(id -u)" = 0 ]; then
	echo owned >src/owned && chown 1234:2345 src/owned
	echo suid >src/suid && chown 1234:2345 src/suid && chmod 4755 src/suid
	mkdir src/odir && chown 4321:5432 src/odir && chmod 2775 src/odir
	mknod src/null c 1 3
	ln -s f src/link && chown -h 777:888 src/link
	"$PCOPY" -q src r1
	check "root: file owner kept" [ "$(stat -c %u:%g r1/owned)" = 1234:2345 ]
	check "root: set-uid bit kept with the owner" [ "$(stat -c %a r1/suid)" = 4755 ]
	check "root: directory owner and set-gid kept" [ "$(stat -c %u:%g:%a r1/odir)" = 4321:5432:2775 ]
	check "root: symlink owner kept" [ "$(stat -c %u:%g r1/link)" = 777:888 ]
	check "root: device node copied" [ -c r1/null ] && [ "$(stat -c %t:%T r1/null)" = 1:3 ]
	check "root: rsync agrees" same_tree src r1
	# As a user who cannot keep the owner, set-id bits are dropped (as cp does).
	mkdir -p u && chmod 777 u
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q src/suid u/suid 2>/dev/null
	check "non-root: set-uid bit dropped with the owner" [ "$(stat -c %a u/suid)" = 755 ]
	chown 1234 r1/owned
	"$PCOPY" -q src r1
	chown 999 r1/owned
	"$PCOPY" -q --stats src r1 >st.txt
	check "root: owner-only change applied without copying data" [ "$(stat -c %u r1/owned)" = 1234 ] && grep -qx 'copied: 0' st.txt
else
	skip "ownership, set-id and device tests need root"
fi

# --one-file-system: a mount point below the source is created but not descended.
if [ "$(id -u)" = 0 ] && mkdir -p src/mnt && mount -t tmpfs -o size=1m tmpfs src/mnt 2>/dev/null; then
	echo inside >src/mnt/file
	"$PCOPY" -q -x src o1
	check "-x: mount point directory created" [ -d o1/mnt ]
	check "-x: other file system not copied" [ ! -e o1/mnt/file ]
	"$PCOPY" -q src o2
	check "without -x it is copied" [ -e o2/mnt/file ]
	umount src/mnt
else
	skip "cannot mount a tmpfs here for --one-file-system"
fi
finish
