#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Bad requests exit 2 with one clear message and create nothing; a file that cannot be read
# is reported as "pcopy: PATH: reason", the rest is copied, and the exit status is 1.
. "$(dirname "$0")/../../lib.sh"

# expect_fatal DESCRIPTION PATTERN COMMAND...: exit 2, message matching PATTERN, nothing new.
expect_fatal() {
	local d=$1 pat=$2; shift 2
	local before after rc
	before=$(find . | sort)
	"$@" >out.txt 2>err.txt
	rc=$?
	after=$(find . | sort)
	if [ $rc -eq 2 ] && grep -q -- "$pat" err.txt && [ "$before" = "$after" ]; then
		pass "$d"
	else
		fail "$d (exit $rc: $(cat err.txt))"
	fi
}

: >out.txt && : >err.txt
mkdir -p src/sub && echo x >src/f && echo y >src/sub/g && echo file >plainfile
expect_fatal "nonexistent source" "cannot stat 'nope': No such file or directory" "$PCOPY" nope dst
expect_fatal "nonexistent source, no DEST" "cannot stat 'nope'" "$PCOPY" nope
expect_fatal "directory into itself" "into itself" "$PCOPY" src src/inside
expect_fatal "directory into itself, deeper" "into itself" "$PCOPY" src src/sub/x
expect_fatal "directory onto itself" "into itself" "$PCOPY" src src
expect_fatal "directory onto a regular file" "cannot overwrite non-directory 'plainfile'" "$PCOPY" src plainfile
expect_fatal "several sources, target not a directory" "is not a directory" "$PCOPY" src plainfile other
expect_fatal "several sources, target missing" "is not a directory" "$PCOPY" src plainfile newdir
expect_fatal "destination parent missing" "cannot create 'no/such/dir'" "$PCOPY" src no/such/dir
expect_fatal "file onto itself" "are the same file" "$PCOPY" plainfile plainfile
mkdir -p target/f
expect_fatal "file over a directory in the target" "cannot overwrite directory" "$PCOPY" src/f target
mkdir -p x/a y/a && echo 1 >x/a/one && echo 2 >y/a/two && mkdir D
expect_fatal "two sources with one target name" "would both be copied to 'D/a'" "$PCOPY" x/a y/a D
expect_fatal "--delete into a DEST that holds the source" "refusing --delete" "$PCOPY" --delete src/sub src
check "... and the source is intact" [ -f src/sub/g ] && [ -f src/f ]
expect_fatal "file onto a DEST/ that is not a directory" "target 'nodir/' is not a directory" "$PCOPY" plainfile nodir/
expect_fatal "no operands" "missing source operand" "$PCOPY"
expect_fatal "unknown option" "Try 'pcopy --help'" "$PCOPY" --bogus src dst
expect_fatal "bad -j" "invalid number of jobs" "$PCOPY" -j 0 src dst
expect_fatal "non-numeric -j" "invalid number of jobs" "$PCOPY" -j lots src dst
expect_fatal "root has no backup name" "name a destination" "$PCOPY" /
expect_fatal "--manifest - with --json" "both want stdout" "$PCOPY" --json --manifest - src dst

"$PCOPY" --help >help.txt
check "--help exits 0 and shows usage" grep -q '^usage: pcopy' help.txt
check "--version" bash -c '"$0" --version | grep -q "^pcopy [0-9]"' "$PCOPY"

# Unreadable file and directory, as an unprivileged user: reported, rest copied, exit 1.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	mkdir -p u/src/ok u/src/locked && echo fine >u/src/ok/a && echo secret >u/src/secret
	echo hidden >u/src/locked/h
	chmod 000 u/src/secret u/src/locked
	chown -R nobody u && chmod 777 u
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q u/src u/dst 2>err.txt
	rc=$?
	check "unreadable entries: exit 1" [ $rc -eq 1 ]
	check "unreadable file reported as 'pcopy: PATH: reason'" grep -q "^pcopy: u/src/secret: cannot open: Permission denied" err.txt
	check "unreadable directory reported" grep -q "^pcopy: u/src/locked: cannot read directory: Permission denied" err.txt
	check "the rest was copied" cmp -s u/src/ok/a u/dst/ok/a
	check "no final name for the unreadable file" [ ! -e u/dst/secret ]
	check "no temporary files" no_tmp u/dst
elif [ "$(id -u)" != 0 ]; then
	mkdir -p u/src && echo fine >u/src/a && echo secret >u/src/secret && chmod 000 u/src/secret
	"$PCOPY" -q u/src u/dst 2>err.txt
	check "unreadable file: exit 1" [ $? -eq 1 ]
	check "unreadable file reported" grep -q "^pcopy: u/src/secret: cannot open: Permission denied" err.txt
else
	skip "setpriv not available for the unprivileged-user case"
fi

# A destination directory that cannot be written: each file fails, exit 1, no crash.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p w/src w/dst && echo a >w/src/a && chown -R nobody w/src && chmod 555 w/dst
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PCOPY" -q w/src w/dst 2>err.txt
	check "unwritable destination: exit 1" [ $? -eq 1 ]
	check "unwritable destination: message names the destination file" grep -q "^pcopy: w/dst/a: cannot create in destination: Permission denied" err.txt
fi
finish
