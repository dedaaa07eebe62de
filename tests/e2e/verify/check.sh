#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --check compares two trees by content (XXH3-128) and metadata without copying: one line
# per difference, exit 0 when identical, 1 when they differ.
. "$(dirname "$0")/../../lib.sh"

make_tree src
"$PCOPY" -q src dst
"$PCOPY" --check src dst >out.txt
check "identical trees: exit 0" [ $? -eq 0 ]
check "identical trees: no output" [ ! -s out.txt ]

before=$(times_of dst)
printf 'HELLO\n' >tmp && touch -r dst/sub/deeper/file tmp && cp tmp dst/sub/deeper/file && touch -r tmp dst/sub/deeper/file
rm dst/sub/zero-length
echo extra >dst/extra-file
chmod 600 dst/-dash
ln -sfn elsewhere dst/link-rel
rm dst/fifo && echo notafifo >dst/fifo
touch -d 2005-05-05 dst/name\ with\ spaces
"$PCOPY" --check src dst >out.txt
check "different trees: exit 1" [ $? -eq 1 ]
check "same size and mtime, other content: 'content'" grep -qx 'content sub/deeper/file' out.txt
check "missing file" grep -qx 'missing sub/zero-length' out.txt
check "extra file" grep -qx 'extra extra-file' out.txt
check "mode" grep -qx 'mode -dash' out.txt
check "link target" grep -qx 'link link-rel' out.txt
check "type" grep -qx 'type fifo' out.txt
check "times" grep -qx 'times name with spaces' out.txt
check "directory times changed by the edits" grep -qx 'times sub' out.txt && grep -qx 'times .' out.txt
# The 9 above, and link-rel's own times.
check "nothing else" [ "$(wc -l <out.txt)" -eq 10 ]
check "--check copied nothing" [ ! -e dst/sub/zero-length ] && [ -e dst/extra-file ]

"$PCOPY" --check --json src dst >out.json
check "--json: different events with what" grep -q '^{"event":"different","path":"extra-file","type":"file","bytes":0,"what":"extra"}$' out.json
check "--json: summary counts the differences" grep -q '"different":9,' out.json

"$PCOPY" --check src/plain.txt dst/plain.txt
check "two files, identical: exit 0" [ $? -eq 0 ]
"$PCOPY" --check src/plain.txt dst/-dash >out.txt
check "two files, different: exit 1" [ $? -eq 1 ]

"$PCOPY" --check src missing-dir 2>err.txt
check "missing DEST: exit 2" [ $? -eq 2 ]
"$PCOPY" --check src 2>err.txt
check "--check with one operand: exit 2" [ $? -eq 2 ]
"$PCOPY" --check --delete src dst 2>err.txt
check "--check --delete: exit 2" [ $? -eq 2 ]
"$PCOPY" --check src src/plain.txt 2>err.txt
check "--check directory against file: exit 2" [ $? -eq 2 ]
finish
