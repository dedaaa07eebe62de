#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A user who is not root re-runs a copy of a tree with r-x directories: pcopy makes such a
# destination directory writable while it works inside it and gives it back its mode at the
# end, as rsync -a does. Before, every re-run failed inside it with "Permission denied".
. "$(dirname "$0")/../../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip "needs root (to become nobody with setpriv)"
	finish
fi
chown nobody "$T"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody sh -c '
	mkdir -p src/ro/inner src/rw && echo a >src/ro/a && echo b >src/ro/inner/b && echo c >src/rw/c
	chmod 555 src/ro/inner && chmod 500 src/ro'
rc=0
as_nobody "$PCOPY" -q src dst 2>err.txt || rc=$?
check "first copy: exit 0" [ "$rc" = 0 ]
as_nobody rsync -a src/ oracle/
check "first copy: the same as rsync -a" same_tree oracle dst

# Change files inside the read-only directories, then copy again.
as_nobody sh -c '
	chmod u+w src/ro src/ro/inner && echo a2 >src/ro/a && echo new >src/ro/new &&
	echo b2 >src/ro/inner/b && chmod 555 src/ro/inner && chmod 500 src/ro'
rc=0
as_nobody "$PCOPY" -q src dst 2>err.txt || rc=$?
check "re-run into r-x directories: exit 0 (got $rc)" [ "$rc" = 0 ]
check "re-run: no message" [ ! -s err.txt ]
rc=0
as_nobody rsync -a src/ oracle/ || rc=$?
check "rsync -a as the same user succeeds too" [ "$rc" = 0 ]
check "re-run: the same tree as rsync -a" same_tree oracle dst
check "re-run: the directories have their modes back" \
	[ "$(stat -c %a dst/ro dst/ro/inner)" = "$(printf '500\n555')" ]
# --delete inside a read-only directory works as well.
as_nobody sh -c 'chmod u+w src/ro && rm src/ro/new && chmod 500 src/ro'
rc=0
as_nobody "$PCOPY" -q --delete src dst 2>err.txt || rc=$?
check "--delete in an r-x directory: exit 0" [ "$rc" = 0 ]
check "--delete in an r-x directory: removed" [ ! -e dst/ro/new ]
check "--delete: modes back" [ "$(stat -c %a dst/ro)" = 500 ]
# A no-change re-run copies nothing and leaves the modes alone.
as_nobody "$PCOPY" -q --json src dst >run.json 2>&1
check "no-change re-run copies nothing" grep -q '"event":"summary".*"copied":0,' run.json
check "no-change re-run: exact" same_tree src dst
finish
