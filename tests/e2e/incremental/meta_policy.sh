#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# What metadata a copy takes (#15), with rsync as the oracle: --no-perms, --no-owner,
# --no-group, --no-times, --no-xattrs, --no-acls, --numeric-ids, --chmod and --chown. For each,
# `pcopy OPTS src dst` and `rsync -aHAX OPTS src/ dst/` run on twin copies of a destination
# that has some of the files already (with other modes and owners) and the two trees must
# agree by content, type, mode, size, owner, mtime (but where a time is "now"), xattrs and
# ACLs. Owners need root; without it those cases are skipped.
. "$(dirname "$0")/../../lib.sh"

root=0
[ "$(id -u)" = 0 ] && root=1
xattrs=1
mkdir probe
setfattr -n user.probe -v 1 probe 2>/dev/null && setfacl -m u:nobody:r probe 2>/dev/null || xattrs=0

# state_of DIR [notimes]: one line per entry (path, type, mode, size, owner, mtime, link
# target), the content's checksums, and the xattrs and ACLs.
state_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %s %U:%G %T@ %l\n' | sort |
		if [ "${2:-}" = notimes ]; then awk '{$6=""; print}'; else cat; fi
	 find . -type f | sort | xargs -r -d '\n' md5sum
	 [ $xattrs = 1 ] && getfattr -R -P -d -m - . 2>/dev/null | grep -v '^$' | paste - - - - - - - - | sort)
}

umask 022
mkdir -p src/dir/sub src/newdir
echo one >src/f-exists && chmod 751 src/f-exists
echo two >src/f-new && chmod 604 src/f-new
echo three >src/dir/g && chmod 640 src/dir/g
echo same >src/samedata && chmod 664 src/samedata
echo four >src/newdir/h && chmod 700 src/newdir/h
ln -s f-exists src/link
chmod 750 src/dir && chmod 775 src/newdir && chmod 711 src/dir/sub
touch -d '2020-01-01 00:00:00' src/f-exists src/f-new src/dir/g src/samedata src/newdir/h
touch -h -d '2020-01-01 00:00:00' src/link
if [ $xattrs = 1 ]; then
	setfattr -n user.a -v 1 src/f-exists && setfacl -m u:nobody:rw src/dir/g
	setfattr -n user.d -v 2 src/dir && setfacl -d -m u:nobody:rx src/newdir
fi
touch -d '2020-02-02 00:00:00' src/dir/sub src/dir src/newdir src

mkdir -p seed/dir
echo ONE >seed/f-exists && chmod 600 seed/f-exists
echo same >seed/samedata && chmod 600 seed/samedata && touch -d '2020-01-01 00:00:00' seed/samedata
chmod 700 seed/dir
if [ $root = 1 ]; then
	chown 1234:2345 src/f-exists src/f-new src/dir src/newdir src/samedata
	chown -h 1234:2345 src/link
	chown 999:998 seed/f-exists seed/dir seed/samedata
fi
[ $xattrs = 1 ] && setfattr -n user.old -v 1 seed/samedata

# rsync -X --no-perms gives an existing entry the source's mode after all when it changes
# its xattrs (pcopy keeps the mode, as --no-perms says): for those cases the seed's xattrs
# are the source's already.
cp -a seed seed-x
if [ $xattrs = 1 ]; then
	setfattr -x user.old seed-x/samedata && setfattr -n user.d -v 2 seed-x/dir
fi

# agree DESCRIPTION [notimes] -- OPTION...: pcopy and rsync with OPTION... from $SEED agree.
SEED=seed
agree() {
	local d=$1 how=
	shift
	[ "$1" != -- ] && { how=$1; shift; }
	shift
	rm -rf p r && cp -a $SEED p && cp -a $SEED r
	"$PCOPY" -q "$@" src p >out.txt 2>&1
	local rc=$?
	rsync -aHAX "$@" src/ r/ >/dev/null 2>&1
	check "$d: exit 0 ($rc $(head -c 200 out.txt))" [ $rc -eq 0 ]
	same_text "$d: the tree rsync makes" "$(state_of r $how)" "$(state_of p $how)"
	# A re-run changes nothing more, as rsync's does not.
	"$PCOPY" -q "$@" src p >/dev/null 2>&1
	rsync -aHAX "$@" src/ r/ >/dev/null 2>&1
	check "$d: re-run, still the tree rsync makes" [ "$(state_of p $how)" = "$(state_of r $how)" ]
}

agree "no option" --
SEED=seed-x
agree "--no-perms" -- --no-perms
agree "--no-perms --chmod F600" -- --no-perms --chmod F600
[ $root = 1 ] && agree "--chown root:root --no-perms" -- --chown root:root --no-perms
SEED=seed
agree "--no-times" notimes -- --no-times
agree "--no-times --no-perms -pt (the letters undo them)" -- --no-times --no-perms -pt
agree "--chmod D700,F640" -- --chmod D700,F640
agree "--chmod u+w,Dg+s,o-rwx" -- --chmod u+w,Dg+s,o-rwx
agree "--chmod=a-x,u+X --chmod go=" -- --chmod=a-x,u+X --chmod go=
if [ $xattrs = 1 ]; then
	agree "--no-xattrs" -- --no-xattrs
	agree "--no-acls" -- --no-acls
	agree "--no-xattrs --no-acls" -- --no-xattrs --no-acls
else
	skip "no user xattrs or ACLs in $T"
fi
if [ $root = 1 ]; then
	agree "--no-owner" -- --no-owner
	agree "--no-group" -- --no-group
	agree "--no-owner --no-group" -- --no-owner --no-group
	agree "--chown 5:6" -- --chown 5:6
	agree "--chown :7" -- --chown :7
	agree "--chown nobody" -- --chown nobody
	# Owners by name and by number: a user with a name, and an id with none.
	user=pcopy-t$$
	if useradd -M -u 4242 "$user" 2>/dev/null; then
		chown "$user" src/dir/g && chown 4321:4321 src/newdir/h
		agree "owners by name" --
		agree "--numeric-ids" -- --numeric-ids
		check "the named owner kept" [ "$(stat -c %U p/dir/g)" = "$user" ]
		check "the unnamed id kept" [ "$(stat -c %u:%g p/newdir/h)" = 4321:4321 ]
		userdel "$user" 2>/dev/null
	else
		skip "useradd failed: owners by name untried"
	fi
else
	skip "not root: owners untried"
fi

# Bad input: one line, exit 2, nothing copied.
"$PCOPY" --chmod 'D7x9' src bad1 2>err.txt
check "bad --chmod: exit 2" [ $? -eq 2 ] && [ ! -e bad1 ]
check "bad --chmod: pcopy: says so" grep -qx 'pcopy: invalid --chmod: D7x9' err.txt
"$PCOPY" --chmod 'u*w' src bad1 2>err.txt
check "bad --chmod operator: exit 2" [ $? -eq 2 ]
"$PCOPY" --chown 'no-such-user-here:' src bad2 2>err.txt
check "unknown --chown user: exit 2" [ $? -eq 2 ] && [ ! -e bad2 ]
check "unknown --chown user: pcopy: says so" \
	grep -qx 'pcopy: --chown: no such user or group (USER:GROUP): no-such-user-here:' err.txt
"$PCOPY" --chown ':no-such-group-here' src bad2 2>err.txt
check "unknown --chown group: exit 2" [ $? -eq 2 ]
finish
