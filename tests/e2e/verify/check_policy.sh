#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --check with the options that say what a copy takes (--no-perms, --no-times, --no-owner,
# --no-group, --no-xattrs, --chmod, --chown): it compares DEST with what a copy with the
# same options makes, so a tree just copied with them checks clean, and the difference the
# option left is reported without it.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/sub
echo one >src/a
echo two >src/sub/b
chmod 640 src/a
chmod 750 src/sub

# --no-perms: DEST's files keep their own modes.
"$PCOPY" -q src dst1 && chmod 600 dst1/a dst1/sub/b && chmod 700 dst1/sub
"$PCOPY" -q --no-perms src dst1
check "--no-perms copy kept DEST's mode" [ "$(stat -c %a dst1/a)" = 600 ]
"$PCOPY" --check --no-perms src dst1 >out.txt
check "--check --no-perms: same (exit 0)" [ $? -eq 0 ]
check "--check --no-perms: no output" [ ! -s out.txt ]
"$PCOPY" --check src dst1 >out.txt
check "--check alone: modes differ (exit 1)" [ $? -eq 1 ]
check "--check alone: the file's mode" grep -qx 'mode a' out.txt
check "--check alone: the directory's mode" grep -qx 'mode sub' out.txt

# --chmod: modes as the rules make them.
"$PCOPY" -q --chmod F600,D700 src dst2
"$PCOPY" --check --chmod F600,D700 src dst2 >out.txt
check "--check --chmod: same (exit 0)" [ $? -eq 0 ]
"$PCOPY" --check --chmod F644 src dst2 >out.txt
check "--check with other --chmod rules: differ (exit 1)" [ $? -eq 1 ]
check "--check with other --chmod rules: the file's mode" grep -qx 'mode a' out.txt

# --no-times: the copies' mtimes are the copy's own.
"$PCOPY" -q --no-times src dst3
touch -d 2001-01-01 dst3/a dst3/sub/b
"$PCOPY" --check --no-times src dst3 >out.txt
check "--check --no-times: same (exit 0)" [ $? -eq 0 ]
"$PCOPY" --check src dst3 >out.txt
check "--check alone: times differ (exit 1)" [ $? -eq 1 ] && grep -qx 'times a' out.txt

# Content is compared whatever the options.
echo ONE >dst3/a && touch -d 2001-01-01 dst3/a
"$PCOPY" --check --no-times src dst3 >out.txt
check "--check --no-times: content still compared" [ $? -eq 1 ] && grep -qx 'content a' out.txt

# --no-xattrs: DEST's xattrs are not compared.
if setfattr -n user.pcopy -v 1 src/a 2>/dev/null; then
	"$PCOPY" -q --no-xattrs src dst4
	"$PCOPY" --check --no-xattrs src dst4 >out.txt
	check "--check --no-xattrs: same (exit 0)" [ $? -eq 0 ]
	"$PCOPY" --check src dst4 >out.txt
	check "--check alone: the xattr differs (exit 1)" [ $? -eq 1 ] && grep -qx 'xattr a' out.txt
	setfattr -x user.pcopy src/a
fi

# --chown, --no-owner, --no-group (as root).
if [ "$(id -u)" = 0 ]; then
	"$PCOPY" -q --chown 4321:4322 src dst5
	"$PCOPY" --check --chown 4321:4322 src dst5 >out.txt
	check "--check --chown: same (exit 0)" [ $? -eq 0 ]
	"$PCOPY" --check src dst5 >out.txt
	check "--check alone: the owner differs (exit 1)" [ $? -eq 1 ] && grep -qx 'owner a' out.txt
	"$PCOPY" --check --no-owner --no-group src dst5 >out.txt
	check "--check --no-owner --no-group: same (exit 0)" [ $? -eq 0 ]
fi
finish
