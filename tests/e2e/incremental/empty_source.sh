#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --delete from an empty or unreadable source directory into a backup that has files is
# refused (an unmounted disk looks just like that): exit 2, the message names both, nothing
# is removed. --force empties it as asked; an empty source into an empty or new target,
# and --delete from a source with files, go on as before.
. "$(dirname "$0")/../../lib.sh"

mkdir -p empty full backup/sub
echo a >full/a
echo old >backup/old
echo deep >backup/sub/deep

"$PCOPY" -q --delete empty/ backup 2>err
check "empty source: exit 2" [ $? = 2 ]
check "empty source: the message" \
	grep -q "^pcopy: refusing --delete: the source 'empty' is empty and 'backup' is not" err
check "empty source: nothing removed" [ -f backup/old ] && [ -f backup/sub/deep ]

mkdir -p into/empty
echo x >into/empty/x
"$PCOPY" -q --delete empty full into 2>err
check "by name into a directory: exit 2" [ $? = 2 ]
check "by name into a directory: nothing removed or copied" [ -f into/empty/x ] && [ ! -e into/full ]

"$PCOPY" -q -n --delete empty/ backup 2>err
check "--dry-run is refused too" [ $? = 2 ]

"$PCOPY" -q --delete --force empty/ backup 2>err
check "--force: exit 0" [ $? = 0 ]
check "--force: emptied, as rsync --delete does" [ -z "$(ls -A backup)" ]

"$PCOPY" -q --delete empty/ new 2>err
check "empty source into a new target: exit 0" [ $? = 0 ] && [ -d new ]
"$PCOPY" -q --delete empty/ backup 2>err
check "empty source into an empty target: exit 0" [ $? = 0 ]

mkdir -p backup2
echo old >backup2/old
"$PCOPY" -q --delete full/ backup2 2>err
check "a source with files: --delete works" [ $? = 0 ] && [ -f backup2/a ] && [ ! -e backup2/old ]

if [ "$(id -u)" != 0 ]; then
	mkdir -p locked backup3
	echo old >backup3/old
	chmod 000 locked
	"$PCOPY" -q --delete locked/ backup3 2>err
	rc=$?
	chmod 755 locked
	check "unreadable source: exit 2" [ "$rc" = 2 ]
	check "unreadable source: the message" grep -q "refusing --delete: cannot read the source 'locked'" err
	check "unreadable source: nothing removed" [ -f backup3/old ]
else
	skip "unreadable source (running as root)"
fi
finish
