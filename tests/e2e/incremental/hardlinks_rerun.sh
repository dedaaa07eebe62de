#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Hard links that the source breaks or makes between runs. A name that the source gave a file
# of its own must get one in the destination too: before, a metadata fix on the inode both
# destination names shared changed the other name as well, and each run "fixed" one name,
# then the other, forever. The reverse: names the source linked end up linked (rsync -aH).
. "$(dirname "$0")/../../lib.sh"

mkdir src && echo hello >src/a && ln src/a src/b && echo other >src/c && ln src/c src/d
"$PCOPY" -q src dst
check "first copy: a and b linked" [ "$(stat -c %i dst/a)" = "$(stat -c %i dst/b)" ]

# The source's b becomes a file of its own: same content, size and mtime, another mode.
rm src/b && cp -p src/a src/b && chmod 600 src/b
# And d becomes a file of its own with other content of the same size and mtime.
rm src/d && printf 'OTHER\n' >src/d && touch -r src/c src/d
"$PCOPY" -q -c src dst 2>err.txt
check "broken in the source: the names are apart in the destination" \
	[ "$(stat -c %i dst/a)" != "$(stat -c %i dst/b)" ]
check "... each with the source's mode" [ "$(stat -c %a dst/a dst/b)" = "$(printf '644\n600')" ]
check "... and content" bash -c 'cmp -s src/d dst/d && cmp -s src/c dst/c'
rc=0
"$PCOPY" --json src dst >run2.json 2>&1 || rc=$?
check "second run: exit 0" [ "$rc" = 0 ]
check "second run: nothing copied" grep -q '"event":"summary".*"copied":0,' run2.json
check "second run: nothing updated" bash -c '! grep -q "\"event\":\"updated\"" run2.json'
"$PCOPY" --json src dst >run3.json 2>&1
check "third run: nothing updated either" bash -c '! grep -q "\"event\":\"updated\"" run3.json'
rc=0
"$PCOPY" --check src dst >check.txt 2>&1 || rc=$?
check "--check: identical" [ "$rc" = 0 ]
check "the same tree as the source (rsync -H)" same_tree src dst

# The reverse: two separate files become hard links in the source.
rm src/b && ln src/a src/b
touch src
"$PCOPY" -q src dst
check "linked in the source: linked in the destination" [ "$(stat -c %i dst/a)" = "$(stat -c %i dst/b)" ]
check "... with the source's mode" [ "$(stat -c %a dst/b)" = 644 ]
"$PCOPY" --json src dst >run4.json 2>&1
check "next run: nothing copied" grep -q '"event":"summary".*"copied":0,' run4.json
rsync -aH src/ oracle/
check "the same as rsync -aH" same_tree oracle dst
finish
