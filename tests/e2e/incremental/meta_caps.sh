#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A re-run where only the owner changed (#13 §2): chown(2) clears the set-user-ID bit and
# removes security.capability, so pcopy sets the owner first and then the xattrs, the mode
# and the times again; --check sees a capability the copy lost. Needs root and setcap
# (libcap2-bin); says SKIP otherwise.
. "$(dirname "$0")/../../lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "file capabilities and owners need root"
	finish
fi
if ! command -v setcap >/dev/null || ! command -v getcap >/dev/null; then
	skip "no setcap/getcap (libcap2-bin)"
	finish
fi
mkdir src
echo tool >src/ping
chown 1234:2345 src/ping && chmod 4755 src/ping
if ! setcap cap_net_raw+ep src/ping 2>/dev/null || [ -z "$(getcap src/ping)" ]; then
	skip "cannot set file capabilities in $T"
	finish
fi
caps() { getcap "$1" | sed 's/^[^ ]* //'; }
want=$(caps src/ping)

"$PCOPY" -q src dst
check "first copy: capability kept ($(caps dst/ping))" [ "$(caps dst/ping)" = "$want" ]
check "first copy: owner and set-uid bit kept" [ "$(stat -c %u:%a dst/ping)" = 1234:4755 ]

# The source changes owner; its admin puts the set-uid bit and the capability back, which
# leaves size and mtime alone. The re-run chowns the copy and must put both back too.
chown 1235 src/ping && chmod 4755 src/ping && setcap cap_net_raw+ep src/ping
"$PCOPY" -q --stats src dst >st.txt
check "owner-only change: new owner" [ "$(stat -c %u dst/ping)" = 1235 ]
check "owner-only change: set-uid bit kept after the chown ($(stat -c %a dst/ping))" \
	[ "$(stat -c %a dst/ping)" = 4755 ]
check "owner-only change: capability kept after the chown ($(caps dst/ping))" \
	[ "$(caps dst/ping)" = "$want" ]
check "owner-only change: no data copied" grep -qx 'copied: 0' st.txt
"$PCOPY" --check src dst >chk.txt
check "--check: identical after the re-run ($(tr '\n' ' ' <chk.txt))" [ ! -s chk.txt ]
check "rsync -aX agrees" [ -z "$(rsync -a -n -i -X src/ dst/)" ]

# Someone chowns the copy: the kernel drops its capability and set-uid bit.
chown 999 dst/ping
"$PCOPY" --check src dst >chk.txt
check "--check: the lost capability is a difference" grep -qx 'xattr ping' chk.txt
"$PCOPY" -q src dst
check "re-run: owner, set-uid bit and capability back" \
	[ "$(stat -c %u:%a dst/ping)" = 1235:4755 ] && [ "$(caps dst/ping)" = "$want" ]

# Only the capability is taken from the copy: nothing in its stat data shows it.
setcap -r dst/ping
"$PCOPY" --check src dst >chk.txt
check "--check: removed capability reported ($(tr '\n' ' ' <chk.txt))" [ "$(cat chk.txt)" = 'xattr ping' ]
"$PCOPY" -q --json src dst >j.json
check "re-run puts the capability back" [ "$(caps dst/ping)" = "$want" ]
check "... as an update, not a copy" grep -q '"event":"updated","path":"ping"' j.json

# A set-gid directory whose owner changed: owner first, then the mode.
mkdir src/shared && chown 10:20 src/shared && chmod 2775 src/shared
"$PCOPY" -q src dst
chown 11:21 src/shared && chmod 2775 src/shared
"$PCOPY" -q src dst
check "directory: owner changed, set-gid bit kept" [ "$(stat -c %u:%g:%a dst/shared)" = 11:21:2775 ]
check "rsync -aX agrees at the end" [ -z "$(rsync -a -n -i -X src/ dst/)" ]
finish
