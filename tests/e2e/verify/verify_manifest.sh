#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# pcopy --verify-manifest FILE DIR (without --extract) checks DIR against a manifest on the
# worker pool: every name, the escaped ones too (which xxh128sum -c skips), one line per
# problem, exit 0 / 1, 2 for a malformed manifest; --unlisted, --json, -j1 = -j4; and its
# verdicts agree with xxh128sum -c for the names xxh128sum can check.
. "$(dirname "$0")/../../lib.sh"

# A tree of regular files with awkward names and a big file.
mkdir -p src/sub/deeper "src/dir with spaces"
printf 'hello\n' >src/plain.txt
printf 'spaces\n' >"src/dir with spaces/name with spaces"
printf 'newline\n' >"src/new
line"
printf 'back\n' >"src/back\\slash"
printf 'both\n' >"src/sub/a\\b
c"
printf 'dash\n' >src/-dash
printf 'latin1\n' >"src/$(printf 'caf\351')"
printf 'colon\n' >"src/sub/x: FAILED"
head -c 200000 /dev/urandom >src/sub/random.bin
: >src/sub/zero-length
printf 'deep\n' >src/sub/deeper/file
truncate -s 64M src/big.img
head -c 1000000 /dev/urandom | dd of=src/big.img bs=1M seek=20 conv=notrunc status=none
printf 'tail' | dd of=src/big.img bs=1 seek=$((40 << 20)) conv=notrunc status=none

"$PCOPY" -q --manifest man.txt src tree
check "the manifest has an escaped line" grep -q '^\\' man.txt
nnames=$(grep -c '' man.txt)

# A manifest made by xxh128sum in the tree: "./name" lines; names with a newline are left
# out (xxh128sum 0.8.1 writes them unescaped, which no reader can take back).
(cd src && find . -type f ! -name '*
*' -print0 | LC_ALL=C sort -z | xargs -0 xxh128sum) >xman.txt 2>/dev/null
nx=$(grep -c '' xman.txt)

"$PCOPY" -q --verify-manifest man.txt tree >out.txt 2>err.txt
check "clean tree: exit 0" [ $? -eq 0 ]
check "clean tree: nothing said" [ ! -s out.txt ] && [ ! -s err.txt ]
"$PCOPY" -q --verify-manifest xman.txt tree >out.txt 2>err.txt
check "xxh128sum's manifest, clean tree: exit 0" [ $? -eq 0 ]
check "xxh128sum's manifest, clean tree: nothing said" [ ! -s out.txt ] && [ ! -s err.txt ]
(cd tree && xxh128sum -c --quiet ../xman.txt >/dev/null 2>&1)
check "xxh128sum -c agrees: clean" [ $? -eq 0 ]

"$PCOPY" -q -v --verify-manifest man.txt tree >out.txt
check "-v: a line per name" [ "$(grep -c ': OK$' out.txt)" -eq "$nnames" ]
check "-v: escaped names as the manifest writes them" grep -qx '\\new\\nline: OK' out.txt
check "-v: a backslash and a newline" grep -qx '\\sub/a\\\\b\\nc: OK' out.txt
"$PCOPY" -q -v --verify-manifest xman.txt tree >out.txt
check "-v, xxh128sum's manifest: names as it writes them" grep -qx './plain.txt: OK' out.txt

# Changes: other content (same size and mtime), a missing file, an extra file, a symlink and
# a directory where files were, and the escaped names.
cp -a tree t2
printf 'HELLO\n' >x && touch -r t2/plain.txt x && cp x t2/plain.txt && touch -r x t2/plain.txt
printf 'BACK\n' >"t2/back\\slash"
printf 'BOTH\n' >"t2/sub/a\\b
c"
rm "t2/new
line" "t2/dir with spaces/name with spaces"
echo extra >t2/extra-file
echo extra >"t2/sub/extra
two"
rm t2/-dash && ln -s plain.txt t2/-dash
rm t2/sub/zero-length && mkdir t2/sub/zero-length
printf 'ZOLON\n' >"t2/sub/x: FAILED"
printf 'X' | dd of=t2/big.img bs=1 seek=$((50 << 20)) conv=notrunc status=none
"$PCOPY" -q --verify-manifest man.txt t2 >out.txt 2>err.txt
check "changed tree: exit 1" [ $? -eq 1 ]
check "changed tree: nothing on stderr" [ ! -s err.txt ]
check "same size and mtime, other content: FAILED" grep -qx 'plain.txt: FAILED' out.txt
check "a changed name with a backslash: FAILED, escaped" grep -qx '\\back\\\\slash: FAILED' out.txt
check "a changed name with a backslash and a newline" grep -qx '\\sub/a\\\\b\\nc: FAILED' out.txt
check "a missing name with a newline" grep -qx '\\new\\nline: missing' out.txt
check "a missing name with spaces" grep -qx 'dir with spaces/name with spaces: missing' out.txt
check "a symlink: not a regular file" grep -qx -- '-dash: not a regular file' out.txt
check "a directory: not a regular file" grep -qx 'sub/zero-length: not a regular file' out.txt
check "a name that looks like a verdict" grep -qx 'sub/x: FAILED: FAILED' out.txt
check "the big file" grep -qx 'big.img: FAILED' out.txt
check "no unlisted file without --unlisted" not grep -q 'unlisted' out.txt
want=$(printf '%s\n' '-dash: not a regular file' '\back\\slash: FAILED' 'big.img: FAILED' \
	'dir with spaces/name with spaces: missing' '\new\nline: missing' 'plain.txt: FAILED' \
	'\sub/a\\b\nc: FAILED' 'sub/x: FAILED: FAILED' 'sub/zero-length: not a regular file')
same_text "in manifest order, nothing else" "$want" "$(cat out.txt)"
check "nine problems" [ "$(wc -l <out.txt)" -eq 9 ]

"$PCOPY" -q --unlisted --verify-manifest man.txt t2 >out2.txt
check "--unlisted: exit 1" [ $? -eq 1 ]
check "--unlisted: the extra file" grep -qx 'extra-file: unlisted' out2.txt
check "--unlisted: an extra name with a newline, escaped" grep -qx '\\sub/extra\\ntwo: unlisted' out2.txt
check "--unlisted: the rest as without it" [ "$(grep -v ': unlisted$' out2.txt)" = "$(cat out.txt)" ]
check "--unlisted: after the manifest's names" [ "$(tail -2 out2.txt | grep -c unlisted)" -eq 2 ]
"$PCOPY" -q --unlisted --verify-manifest man.txt tree >out3.txt
check "--unlisted, clean tree: exit 0" [ $? -eq 0 ]
check "--unlisted, clean tree: nothing" [ ! -s out3.txt ]
cp man.txt tree/MANIFEST
"$PCOPY" -q --unlisted --verify-manifest tree/MANIFEST tree >out3.txt
check "--unlisted: the manifest itself, in the tree, is not unlisted" [ $? -eq 0 ]
rm tree/MANIFEST
echo more >tree/extra
"$PCOPY" -q --verify-manifest man.txt tree >out3.txt
check "an extra file without --unlisted: exit 0" [ $? -eq 0 ]
"$PCOPY" -q --unlisted --verify-manifest xman.txt tree >out3.txt
check "--unlisted with ./ names: only the extra one" \
	[ "$(grep -v '\\' out3.txt)" = "extra: unlisted" ]
rm tree/extra

# -j1 and -j4 say the same, in the same order.
"$PCOPY" -q -j1 --unlisted --verify-manifest man.txt t2 >j1.txt
"$PCOPY" -q -j4 --unlisted --verify-manifest man.txt t2 >j4.txt
check "-j1 and -j4: the same output" cmp -s j1.txt j4.txt
PCOPY_TEST_SLOW_MS=30 "$PCOPY" -q -j3 --unlisted --verify-manifest man.txt t2 >j3.txt
check "slow workers finishing out of order: the same output" cmp -s j1.txt j3.txt

# xxh128sum -c's verdict on the names it can check (its own manifest) is pcopy's. Only
# changed and missing files: xxh128sum follows symlinks and stops at a directory.
cp -a tree t5
cp t2/plain.txt t5/plain.txt && touch -r tree/plain.txt t5/plain.txt
cp "t2/back\\slash" "t5/back\\slash"
cp t2/big.img t5/big.img
cp "t2/sub/x: FAILED" "t5/sub/x: FAILED"
rm "t5/dir with spaces/name with spaces" t5/sub/random.bin
(cd t5 && xxh128sum -c ../xman.txt 2>/dev/null) |
	sed -n -e 's/^\(.*\): FAILED$/content \1/p' \
		-e "s/^.*:[0-9]*: Could not open or read '\\(.*\\)': No such file.*$/missing \\1/p" |
	LC_ALL=C sort >x-bad.txt
"$PCOPY" -q --json --verify-manifest xman.txt t5 |
	python3 -c 'import json, sys
for l in sys.stdin:
	e = json.loads(l)
	if e["event"] == "different":
		print(e["what"], e["path"])' | LC_ALL=C sort >p-bad.txt
same_text "xxh128sum -c and pcopy find the same files changed and missing" \
	"$(cat x-bad.txt)" "$(cat p-bad.txt)"
check "... six of them" [ "$(wc -l <p-bad.txt)" -eq 6 ]

# What xxh128sum -c cannot see: only an escaped name changed.
cp -a tree t6
printf 'NEWLINE\n' >"t6/new
line"
(cd t6 && xxh128sum -c ../man.txt >/dev/null 2>&1)
check "xxh128sum -c skips the escaped lines: exit 0" [ $? -eq 0 ]
"$PCOPY" -q --verify-manifest man.txt t6 >out.txt
check "pcopy checks them: exit 1" [ $? -eq 1 ]
same_text "pcopy checks them: the one line" '\new\nline: FAILED' "$(cat out.txt)"

# --json: one object per problem and a summary, valid JSON.
"$PCOPY" -q --json --unlisted --verify-manifest man.txt t2 >out.json
check "--json: exit 1" [ $? -eq 1 ]
check "--json: parses, the events and the summary" python3 - out.json "$nnames" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ev = {(e["event"], e.get("what"), e["path"]) for e in lines[:-1]}
s = lines[-1]
assert ("different", "content", "plain.txt") in ev, ev
assert ("different", "missing", "new\nline") in ev, ev
assert ("different", "type", "-dash") in ev, ev
assert ("different", "unlisted", "sub/extra\ntwo") in ev, ev
assert ("different", "content", "sub/a\\b\nc") in ev, ev
assert s["event"] == "summary" and s["exit"] == 1, s
assert s["names"] == int(sys.argv[2]), s
assert (s["changed"], s["missing"], s["not_regular"], s["unlisted"]) == (5, 2, 2, 2), s
assert len(lines) == 12, len(lines)
EOF
"$PCOPY" -q --json --verify-manifest man.txt tree >out.json
check "--json, clean: just the summary" python3 -c '
import json, sys
l = [json.loads(x) for x in open(sys.argv[1])]
assert len(l) == 1 and l[0]["exit"] == 0 and l[0]["verified"] == int(sys.argv[2]), l
assert l[0]["bytes"] > 64 << 20, l' out.json "$nnames"

# --stats and the progress line, as the other modes.
"$PCOPY" -q --stats --verify-manifest man.txt t2 >out.txt
check "--stats: the counts" grep -qx 'changed: 5' out.txt && grep -qx "names: $nnames" out.txt
"$PCOPY" --progress --verify-manifest man.txt tree >/dev/null 2>err.txt
check "--progress: its summary line on stderr" grep -aq 'done: [0-9]* names, .*, [0-9]* verified' err.txt

# A worker killed mid-run is replaced and its file checked again; SIGINT stops the check.
PCOPY_TEST_SLOW_MS=200 "$PCOPY" -q -j2 --unlisted --verify-manifest man.txt t2 >k.txt &
pid=$!
sleep 0.5
kill -9 $(pgrep -P $pid | head -1) 2>/dev/null
wait $pid
check "a worker killed: exit 1" [ $? -eq 1 ]
check "a worker killed: the same output" cmp -s j1.txt k.txt
PCOPY_TEST_SLOW_MS=200 "$PCOPY" -q -j2 --verify-manifest man.txt tree >/dev/null 2>err.txt &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
check "SIGINT: exit 130" [ $? -eq 130 ]
check "SIGINT: said" grep -q '^pcopy: interrupted' err.txt

# The manifest from stdin.
"$PCOPY" -q --verify-manifest - tree <man.txt
check "manifest on stdin: exit 0" [ $? -eq 0 ]

# Unreadable files: said on stderr and on stdout, exit 1.
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 t2/sub/random.bin
	"$PCOPY" -q --verify-manifest man.txt t2 >out.txt 2>err.txt
	check "unreadable: exit 1" [ $? -eq 1 ]
	check "unreadable: the line" grep -qx 'sub/random.bin: unreadable' out.txt
	check "unreadable: the reason on stderr" grep -q '^pcopy: t2/sub/random.bin: cannot open: Permission denied$' err.txt
	chmod 644 t2/sub/random.bin
else
	skip "unreadable files (running as root)"
fi

# A read error (the fault injection library): the same, and the others are still checked.
if have_inject; then
	LD_PRELOAD=$INJECT FAULT_READ_MATCH=random.bin \
		"$PCOPY" -q --verify-manifest man.txt tree >out.txt 2>err.txt
	check "read error: exit 1" [ $? -eq 1 ]
	same_text "read error: the one line" 'sub/random.bin: unreadable' "$(cat out.txt)"
	check "read error: the reason on stderr" \
		grep -qx 'pcopy: tree/sub/random.bin: cannot read: Input/output error' err.txt
else
	skip "read errors: the fault injection library is not built"
fi

# A symlink on the way is not followed.
mkdir t3 && ln -s ../tree/sub t3/sub
grep '  sub/deeper/file$' man.txt >one.txt
"$PCOPY" -q --verify-manifest one.txt t3 >out.txt
check "through a symlinked directory: exit 1" [ $? -eq 1 ]
check "through a symlinked directory: not a regular file" grep -qx 'sub/deeper/file: not a regular file' out.txt

# Malformed manifests: exit 2 with the line.
{ head -2 man.txt; echo 'not a manifest line'; } >bad.txt
"$PCOPY" -q --verify-manifest bad.txt tree >out.txt 2>err.txt
check "malformed: exit 2" [ $? -eq 2 ]
check "malformed: file and line named" grep -qx 'pcopy: bad.txt:3: malformed manifest line' err.txt
check "malformed: no verdicts" [ ! -s out.txt ]
printf '%s  ../escape\n' 00000000000000000000000000000000 >bad.txt
"$PCOPY" -q --verify-manifest bad.txt tree 2>err.txt
check "a name with ..: exit 2" [ $? -eq 2 ] && grep -q '^pcopy: bad.txt:1: ' err.txt
printf '\\%s  a\\qb\n' 00000000000000000000000000000000 >bad.txt
"$PCOPY" -q --verify-manifest bad.txt tree 2>err.txt
check "a bad escape: exit 2" [ $? -eq 2 ] && grep -qx 'pcopy: bad.txt:1: malformed manifest line' err.txt
"$PCOPY" -q --verify-manifest no-such.txt tree 2>err.txt
check "no manifest: exit 2" [ $? -eq 2 ] && grep -q '^pcopy: no-such.txt: cannot open manifest: ' err.txt
"$PCOPY" -q --verify-manifest man.txt no-such-dir 2>err.txt
check "no DIR: exit 2" [ $? -eq 2 ] && grep -q '^pcopy: no-such-dir: ' err.txt
: >empty.txt
"$PCOPY" -q --verify-manifest empty.txt tree
check "an empty manifest: exit 0" [ $? -eq 0 ]
"$PCOPY" -q --unlisted --verify-manifest empty.txt tree >out.txt
check "an empty manifest, --unlisted: every file" [ $? -eq 1 ] && [ "$(wc -l <out.txt)" -eq "$((nnames + 1))" ]

# Usage errors.
"$PCOPY" -q --verify-manifest man.txt tree t2 2>err.txt
check "two DIRs: exit 2" [ $? -eq 2 ]
"$PCOPY" -q --unlisted tree t4 2>err.txt
check "--unlisted without --verify-manifest: exit 2" [ $? -eq 2 ] && [ ! -e t4 ]
finish
