#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Where things land: SOURCE-backup, new DEST, existing DEST (sync), several sources into a
# directory, single files, and -- ending the options.
. "$(dirname "$0")/../../lib.sh"

make_tree data
"$PCOPY" -q data
check "no DEST: data-backup made beside it" same_tree data data-backup
"$PCOPY" -q data/ 
check "trailing slash: still data-backup" same_tree data data-backup

mkdir existing && echo old >existing/keep
"$PCOPY" -q data existing
check "existing DEST: contents synchronised into it" [ -f existing/plain.txt ] && [ ! -e existing/data ]
check "existing DEST: other files untouched without --delete" [ "$(cat existing/keep)" = old ]

mkdir into && echo one >a.txt && mkdir b
echo two >b/inside
"$PCOPY" -q a.txt b data into
check "several sources land by base name" [ -f into/a.txt ] && [ -f into/b/inside ] && [ -f into/data/plain.txt ]
check "... exactly" same_tree data into/data

"$PCOPY" -q a.txt single.txt
check "file to new file" cmp -s a.txt single.txt
echo changed-content >single2.txt
touch -d 2000-01-01 single2.txt
"$PCOPY" -q a.txt single2.txt
check "file over existing file" cmp -s a.txt single2.txt
"$PCOPY" -q a.txt b
check "file into existing directory" cmp -s a.txt b/a.txt
"$PCOPY" -q a.txt
check "file with no DEST: a.txt-backup" cmp -s a.txt a.txt-backup

echo dash >-- 2>/dev/null || true
echo minus >-minus
"$PCOPY" -q -- -minus minus-copy
check "-- ends the options" cmp -s -- -minus minus-copy

"$PCOPY" -q data/link-rel copied-link
check "a symlink SOURCE is copied as a link" [ "$(readlink copied-link)" = plain.txt ]

"$PCOPY" -q data/sub "with space dest"
check "destination with spaces" same_tree data/sub "with space dest"
# Hard links between two sources copied into one directory stay links, each under its own name.
mkdir -p hl/a hl/b hl/D && echo hi >hl/a/x && ln hl/a/x hl/b/y && echo solo >hl/f && ln hl/f hl/a/f2
"$PCOPY" -q --manifest hl/m.txt hl/a hl/b hl/f hl/D
check "cross-source hard link: both names exist" [ -f hl/D/a/x ] && [ -f hl/D/b/y ] && [ ! -e hl/D/a/y ]
check "cross-source hard link: one inode" [ "$(stat -c %i hl/D/a/x)" = "$(stat -c %i hl/D/b/y)" ]
check "file source linked into a directory source" [ "$(stat -c %i hl/D/f)" = "$(stat -c %i hl/D/a/f2)" ]
check "manifest names each link under its own source" grep -q '  b/y$' hl/m.txt && grep -q '  f$' hl/m.txt
finish
