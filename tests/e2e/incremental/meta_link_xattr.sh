#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# xattrs on symbolic links (trusted.*, as root: Linux refuses user.* there) are copied, kept
# up to date by re-runs and compared by --check, as cp -a and rsync -aX do (#13 §2); so is a
# link's owner.
. "$(dirname "$0")/../../lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "trusted.* xattrs need root"
	finish
fi
mkdir src && ln -s target src/l && ln -s target src/plain
if ! setfattr -h -n trusted.t -v one src/l 2>/dev/null; then
	skip "no trusted.* xattrs on symbolic links in $T"
	finish
fi
lval() { getfattr -h --only-values -n "$2" "$1" 2>/dev/null; }
"$PCOPY" -q src dst
check "symlink xattr copied" [ "$(lval dst/l trusted.t)" = one ]
check "it is on the link, not on its target" [ ! -e dst/target ]
check "rsync -aX agrees" [ -z "$(rsync -a -n -i -X src/ dst/)" ]

setfattr -h -n trusted.t -v two src/l && setfattr -h -n trusted.u -v new src/plain
"$PCOPY" --check src dst >chk.txt
check "--check: symlink xattr changes ($(tr '\n' ' ' <chk.txt))" grep -qx 'xattr l' chk.txt && grep -qx 'xattr plain' chk.txt
"$PCOPY" -q src dst
check "re-run: changed and new symlink xattrs" [ "$(lval dst/l trusted.t)" = two ] && [ "$(lval dst/plain trusted.u)" = new ]
setfattr -h -x trusted.t src/l
"$PCOPY" -q src dst
check "re-run: removed symlink xattr removed" not getfattr -h -n trusted.t dst/l
check "rsync -aX agrees after the re-runs" [ -z "$(rsync -a -n -i -X src/ dst/)" ]

chown -h 777:888 src/plain
"$PCOPY" -q src dst
check "re-run: a symlink's owner-only change applied" [ "$(stat -c %u:%g dst/plain)" = 777:888 ]
"$PCOPY" --check src dst >chk.txt
check "--check: identical at the end ($(tr '\n' ' ' <chk.txt))" [ ! -s chk.txt ]

# FIFOs keep theirs too, and their owner-only changes.
mkfifo src/p && setfattr -n trusted.p -v 1 src/p
"$PCOPY" -q src dst
chown 55:66 src/p && setfattr -n trusted.p -v 2 src/p
"$PCOPY" -q src dst
check "FIFO: owner and xattr brought in line" [ "$(stat -c %u:%g dst/p)" = 55:66 ] && [ "$(getfattr --only-values -n trusted.p dst/p 2>/dev/null)" = 2 ]
finish
